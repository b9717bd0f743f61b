/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bh-demo: softirqs being raised and run per lcore, live.
 *
 * Each worker lcore owns a net_null port. Its top half polls the port's Rx
 * queue, keeps the burst in per-lcore data and raises NET_RX; NET_RX hands
 * the packets to NET_TX, which transmits them on the same port. The main
 * lcore prints per-lcore counters every period and, with --storm, starts a
 * softirq that re-raises itself on every worker for a while, so that
 * ksoftirqd can be seen taking over and giving the lcore back.
 */
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <getopt.h>
#include <string>
#include <thread>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "bh_cli.h"
#include "bh_eal.h"
#include "bh_ksoftirqd.h"
#include "bh_lcore.h"
#include "bh_percpu.h"
#include "bh_softirq.h"

namespace {

constexpr unsigned burst = 32;

struct options {
	double duration_s = 5;
	unsigned period_ms = 1000;
	bool storm = false;
	bh::idle_mode idle = bh::idle_mode::poll;
};

/* Per-lcore state: touched only by its lcore (and its ksoftirqd, in softirqs). */
struct worker {
	uint16_t port = 0;
	bool active = false;
	rte_mbuf *rx[burst];
	unsigned nrx = 0;
	rte_mbuf *tx[burst];
	unsigned ntx = 0;
	bh::lcore_counter rx_pkts, tx_pkts, dropped;
};

bh::per_lcore<worker> workers;
std::atomic<bool> quit{false};
std::atomic<bool> storming{false};
int storm_nr = -1;

/* Top half: the minimum, like a NIC interrupt handler. */
class rx_top_half : public bh::pollfn {
public:
	bool poll() override
	{
		worker &w = workers.this_lcore();
		if (w.nrx)
			return false;
		w.nrx = rte_eth_rx_burst(w.port, 0, w.rx, burst);
		if (!w.nrx)
			return false;
		w.rx_pkts.add(w.nrx);
		bh::raise_softirq_irqoff(bh::NET_RX_SOFTIRQ);
		return true;
	}
};

void net_rx_action(const bh::softirq_action &)
{
	worker &w = workers.this_lcore();
	for (unsigned i = 0; i < w.nrx; i++) {
		if (w.ntx == burst) {
			rte_pktmbuf_free(w.rx[i]);
			w.dropped.add();
			continue;
		}
		w.tx[w.ntx++] = w.rx[i];
	}
	w.nrx = 0;
	bh::raise_softirq_irqoff(bh::NET_TX_SOFTIRQ);
}

void net_tx_action(const bh::softirq_action &)
{
	worker &w = workers.this_lcore();
	const uint16_t sent = rte_eth_tx_burst(w.port, 0, w.tx, uint16_t(w.ntx));
	w.tx_pkts.add(sent);
	for (unsigned i = sent; i < w.ntx; i++)
		rte_pktmbuf_free(w.tx[i]);
	w.dropped.add(w.ntx - sent);
	w.ntx = 0;
}

void storm_action(const bh::softirq_action &e)
{
	if (storming.load(std::memory_order_relaxed))
		bh::raise_softirq(e.nr);
}

int parse(int argc, char **argv, options &o)
{
	static const option longopts[] = {
		{"duration", required_argument, nullptr, 'd'},
		{"period", required_argument, nullptr, 'T'},
		{"storm", no_argument, nullptr, 's'},
		{"idle", required_argument, nullptr, 'i'},
		{"help", no_argument, nullptr, 'h'},
		{nullptr, 0, nullptr, 0},
	};
	optind = 1;
	for (int c; (c = getopt_long(argc, argv, "d:T:si:h", longopts, nullptr)) != -1;) {
		switch (c) {
		case 'd':
			if (!bh::cli::parse_number("bh-demo", "--duration (seconds)", optarg, 0.001, 1e9, o.duration_s))
				return -1;
			break;
		case 'T':
			if (!bh::cli::parse_unsigned("bh-demo", "--period (milliseconds)", optarg, 1, 3600000, o.period_ms))
				return -1;
			break;
		case 's':
			o.storm = true;
			break;
		case 'i':
			if (!strcmp(optarg, "poll"))
				o.idle = bh::idle_mode::poll;
			else if (!strcmp(optarg, "sleep"))
				o.idle = bh::idle_mode::sleep;
			else {
				fprintf(stderr, "bh-demo: bad --idle '%s': expected poll or sleep\n", optarg);
				return -1;
			}
			break;
		case 'h':
			printf("usage: bh-demo [EAL options] -- [--duration S] [--period MS] [--storm] "
			       "[--idle poll|sleep]\n");
			exit(0);
		default:
			fprintf(stderr, "bh-demo: unknown option (see --help)\n");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bh-demo: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

int setup_port(uint16_t port, rte_mempool *pool)
{
	rte_eth_conf conf{};
	if (rte_eth_dev_configure(port, 1, 1, &conf) < 0 ||
	    rte_eth_rx_queue_setup(port, 0, 512, rte_eth_dev_socket_id(port), nullptr, pool) < 0 ||
	    rte_eth_tx_queue_setup(port, 0, 512, rte_eth_dev_socket_id(port), nullptr) < 0 ||
	    rte_eth_dev_start(port) < 0) {
		fprintf(stderr, "bh-demo: cannot set up port %u\n", port);
		return -1;
	}
	return 0;
}

/* Counters of one worker at the previous print, for per-period rates. */
struct snapshot {
	uint64_t rx = 0, net_rx = 0, storm = 0, ksoftirqd = 0, busy = 0, idle = 0;
};
snapshot last[RTE_MAX_LCORE];

void print_stats(double t, double period_s)
{
	printf("\n[%5.1f s]%s\n", t, storming ? "  storm: a softirq re-raises itself on every worker" : "");
	printf("%-6s %9s %12s %10s %12s %12s %10s %9s %6s\n", "lcore", "rx Mpps", "rx total", "NET_RX/s",
	       "storm runs/s", "ksoftirqd/s", "ksirqd wk", "yields", "busy%");
	unsigned l;
	RTE_LCORE_FOREACH_WORKER(l)
	{
		const bh::ksoftirqd_stats k = bh::ksoftirqd_get_stats(l);
		const bh::lcore_stats ls = bh::lcore_get_stats(l);
		snapshot now;
		now.rx = workers[l].rx_pkts.read();
		now.net_rx = bh::softirq_get_stats(l, bh::NET_RX_SOFTIRQ).run;
		now.storm = bh::softirq_get_stats(l, unsigned(storm_nr)).run;
		now.ksoftirqd = k.softirqs;
		now.busy = ls.busy_cycles;
		now.idle = ls.idle_cycles;
		const snapshot &p = last[l];
		const double busy = 100.0 * double(now.busy - p.busy) /
				    double(std::max<uint64_t>(now.busy - p.busy + now.idle - p.idle, 1));
		printf("%-6u %9.2f %12" PRIu64 " %10.0f %12.0f %12.0f %10" PRIu64 " %9" PRIu64 " %5.1f%%\n", l,
		       double(now.rx - p.rx) / period_s / 1e6, now.rx, double(now.net_rx - p.net_rx) / period_s,
		       double(now.storm - p.storm) / period_s, double(now.ksoftirqd - p.ksoftirqd) / period_s,
		       k.wakeups, ls.yields, busy);
		last[l] = now;
	}
	fflush(stdout);
}

} // namespace

int main(int argc, char **argv)
{
	bh::eal_options eo;
	eo.lcores = "0-1";
	eo.vdevs = {"net_null0"};
	eo.extra = {"--log-level", "lib.eal:warning"};
	if (!bh::cli::init_eal("bh-demo", eo, argc, argv))
		return 1;
	options o;
	if (parse(argc, argv, o) < 0)
		return 2;
	if (rte_lcore_count() < 2) {
		fprintf(stderr, "bh-demo: needs at least one worker lcore (e.g. -l 0-1)\n");
		return 2;
	}
	signal(SIGINT, [](int) { quit = true; });
	signal(SIGTERM, [](int) { quit = true; });

	rte_mempool *pool = rte_pktmbuf_pool_create("demo_pool", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
						    int(rte_socket_id()));
	if (!pool) {
		fprintf(stderr, "bh-demo: cannot create the mbuf pool\n");
		return 1;
	}
	/* One port per worker: add net_null devices for the workers beyond the first. */
	unsigned n = 0, l;
	RTE_LCORE_FOREACH_WORKER(l)
	{
		if (n >= rte_eth_dev_count_avail()) {
			const std::string name = "net_null" + std::to_string(n);
			if (rte_eal_hotplug_add("vdev", name.c_str(), "") < 0) {
				fprintf(stderr, "bh-demo: cannot create %s\n", name.c_str());
				return 1;
			}
		}
		workers[l].port = uint16_t(n);
		workers[l].active = true;
		if (setup_port(uint16_t(n), pool) < 0)
			return 1;
		n++;
	}

	bh::open_softirq(bh::NET_RX_SOFTIRQ, net_rx_action);
	bh::open_softirq(bh::NET_TX_SOFTIRQ, net_tx_action);
	storm_nr = bh::alloc_softirq(storm_action, nullptr, "DEMO_STORM");
	if (storm_nr < 0 || bh::start() != 0) {
		fprintf(stderr, "bh-demo: cannot start the framework\n");
		return 1;
	}
	static rx_top_half top_halves[RTE_MAX_LCORE];
	RTE_LCORE_FOREACH_WORKER(l)
	{
		bh::lcore_add_top_half(l, top_halves[l]);
		bh::lcore_set_idle(l, o.idle);
		rte_eal_remote_launch(bh::lcore_main, nullptr, l);
	}

	printf("bh-demo: %u worker lcore(s), each polling its own net_null port; stats every %u ms for %.1f s%s\n",
	       n, o.period_ms, o.duration_s, o.storm ? "; a softirq storm from 1/3 to 2/3 of the run" : "");
	const auto t0 = std::chrono::steady_clock::now();
	auto next = t0;
	double printed_at = 0;
	for (;;) {
		next += std::chrono::milliseconds(o.period_ms);
		while (!quit && std::chrono::steady_clock::now() < next)
			std::this_thread::sleep_for(std::chrono::milliseconds(10));
		const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
		if (o.storm && !storming && t >= o.duration_s / 3 && t < 2 * o.duration_s / 3) {
			storming = true;
			RTE_LCORE_FOREACH_WORKER(l)
			bh::raise_softirq_on(l, unsigned(storm_nr));
		} else if (storming && t >= 2 * o.duration_s / 3) {
			storming = false;
		}
		print_stats(t, t - printed_at);
		printed_at = t;
		if (quit || t >= o.duration_s)
			break;
	}
	storming = false;
	bh::stop();
	rte_eal_mp_wait_lcore();
	printf("\nper-lcore softirq counts (like /proc/softirqs):\n");
	bh::softirq_dump(stdout);
	for (uint16_t p = 0; p < n; p++) {
		rte_eth_dev_stop(p);
		rte_eth_dev_close(p);
	}
	rte_mempool_free(pool);
	bh::eal_cleanup();
	return 0;
}
