/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bh-l2fwd: DPDK's l2fwd on bottom halves. Each worker lcore's Rx queues are
 * polled (or woken by Rx interrupts) into NET_RX, whose handler rewrites the
 * MAC addresses as l2fwd does and transmits on the paired port through
 * NET_TX; the main lcore prints l2fwd's statistics plus the bottom-half
 * counters, and a JSON summary at exit.
 */
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "bh_cli.h"
#include "bh_eal.h"
#include "bh_ksoftirqd.h"
#include "bh_lcore.h"
#include "bh_netdev.h"
#include "bh_port.h"
#include "bh_softirq.h"
#include "options.h"

namespace {

std::atomic<bool> quit{false};

/* What l2fwd's l2fwd_simple_forward does, as a packet handler. */
class forwarder : public bh::net::packet_handler {
public:
	forwarder(const uint16_t *pair, bool mac_updating, bool frame_checks)
		: pair_(pair), mac_updating_(mac_updating), frame_checks_(frame_checks)
	{
		for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++)
			if (rte_eth_dev_is_valid_port(p))
				rte_eth_macaddr_get(p, &macs_[p]);
	}
	void on_burst(bh::net::rx_context &ctx, rte_mbuf **pkts, uint16_t n) override
	{
		const uint16_t out = pair_[ctx.port()];
		if (mac_updating_) {
			/* 02:00:00:00:00:<tx port>, and the Tx port's own address, as l2fwd writes them. */
			const uint64_t dst = 0x000000000002ull + (uint64_t(out) << 40);
			const rte_ether_addr src = macs_[out];
			uint16_t ok = 0;
			for (uint16_t i = 0; i < n; i++) {
				rte_mbuf *m = pkts[i];
				if (const auto why = ctx.check(m); unlikely(why != bh::net::drop_reason::count)) {
					ctx.drop(m, why);
					continue;
				}
				auto *eth = rte_pktmbuf_mtod(m, rte_ether_hdr *);
				memcpy(&eth->dst_addr, &dst, RTE_ETHER_ADDR_LEN);
				memcpy(&eth->src_addr, &src, RTE_ETHER_ADDR_LEN);
				pkts[ok++] = m;
			}
			n = ok;
		}
		ctx.tx_burst(out, pkts, n);
	}
	/*
	 * With MAC updating every frame is read anyway: checking it in that
	 * loop is cheaper. Without, nothing here reads a frame, so
	 * --no-frame-checks may skip the framework's pass.
	 */
	bool checks_frames() const noexcept override { return mac_updating_ || !frame_checks_; }

private:
	const uint16_t *pair_;
	bool mac_updating_, frame_checks_;
	rte_ether_addr macs_[RTE_MAX_ETHPORTS];
};

/*
 * The application's own work on a forwarding lcore (--app-task): it runs
 * once per loop iteration, after the softirqs, so its run rate shows
 * whether packet processing leaves the application any time (no receive
 * livelock). It has nothing to wait for, so it never keeps an lcore awake.
 */
class app_task : public bh::pollfn {
public:
	bool poll() override
	{
		const uint64_t until = rte_rdtsc() + cycles_;
		while (rte_rdtsc() < until)
			rte_pause();
		runs_.store(runs_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
		return false;
	}
	void set_work(unsigned ns) { cycles_ = uint64_t(double(ns) * double(rte_get_tsc_hz()) / 1e9); }
	uint64_t runs() const { return runs_.load(std::memory_order_relaxed); }

private:
	uint64_t cycles_ = 0;           /* set before the lcore starts */
	std::atomic<uint64_t> runs_{0}; /* written by its lcore only, read by the stats printer */
};

app_task app_tasks[RTE_MAX_LCORE];

struct port_snapshot {
	bh::net::port_stats st;
};

void print_stats(const l2fwd::options &o, double dt, port_snapshot *last)
{
	printf("\nPort statistics ====================================\n");
	uint64_t rx = 0, tx = 0, tx_dropped = 0, rx_dropped = 0;
	for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++) {
		if (!(o.portmask >> p & 1))
			continue;
		const bh::net::port_stats s = bh::net::net_port_stats(p);
		printf("Statistics for port %u ------------------------------\n"
		       "Packets sent: %24" PRIu64 "  (%.3f Mpps)\nPackets received: %20" PRIu64
		       "  (%.3f Mpps)\nPackets dropped: %21" PRIu64 "\nPackets dropped on Rx: %15" PRIu64 "\n",
		       p, s.tx, dt > 0 ? double(s.tx - last[p].st.tx) / dt / 1e6 : 0.0, s.rx,
		       dt > 0 ? double(s.rx - last[p].st.rx) / dt / 1e6 : 0.0, s.tx_dropped, s.rx_dropped);
		last[p].st = s;
		rx += s.rx;
		tx += s.tx;
		tx_dropped += s.tx_dropped;
		rx_dropped += s.rx_dropped;
	}
	printf("Aggregate statistics ===============================\n"
	       "Total packets sent: %18" PRIu64 "\nTotal packets received: %14" PRIu64
	       "\nTotal packets dropped: %15" PRIu64 "\nTotal packets dropped on Rx: %9" PRIu64 "\n",
	       tx, rx, tx_dropped, rx_dropped);
	printf("Bottom halves ======================================\n");
	bh::net::net_dump(stdout);
	if (o.app_task_ns) {
		unsigned l;
		RTE_LCORE_FOREACH_WORKER(l)
		printf("App task on lcore %u: %" PRIu64 " runs\n", l, app_tasks[l].runs());
	}
	printf("====================================================\n");
	fflush(stdout);
}

/* Read before the ports close, for the summary written after. */
struct port_info {
	char mac[RTE_ETHER_ADDR_FMT_SIZE] = "";
	const char *driver = "?";
};
port_info ports_info[RTE_MAX_ETHPORTS];

void write_json(const l2fwd::options &o, double seconds, unsigned in_use_start, unsigned in_use_end)
{
	FILE *f = o.json == "-" ? stdout : fopen(o.json.c_str(), "w");
	if (!f) {
		fprintf(stderr, "bh-l2fwd: cannot write the JSON summary to %s: %s\n", o.json.c_str(), strerror(errno));
		return;
	}
	uint64_t drops[unsigned(bh::net::drop_reason::count)] = {};
	uint64_t rx_total = 0;
	fprintf(f, "{\n  \"seconds\": %.3f,\n  \"ports\": {", seconds);
	const char *sep = "";
	for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++) {
		if (!(o.portmask >> p & 1))
			continue;
		const bh::net::port_stats s = bh::net::net_port_stats(p);
		fprintf(f, "%s\n    \"%u\": {\"rx\": %" PRIu64 ", \"tx\": %" PRIu64 ", \"rx_dropped\": %" PRIu64 ", \"tx_dropped\": %" PRIu64
			", \"mac\": \"%s\", \"driver\": \"%s\"}",
			sep, p, s.rx, s.tx, s.rx_dropped, s.tx_dropped, ports_info[p].mac, ports_info[p].driver);
		rx_total += s.rx;
		sep = ",";
	}
	fprintf(f, "\n  },\n  \"lcores\": {");
	sep = "";
	unsigned l;
	RTE_LCORE_FOREACH_WORKER(l)
	{
		const bh::net::lcore_net_stats s = bh::net::net_lcore_stats(l);
		const bh::lcore_stats ls = bh::lcore_get_stats(l);
		for (unsigned r = 0; r < unsigned(bh::net::drop_reason::count); r++)
			drops[r] += s.dropped[r];
		fprintf(f,
			"%s\n    \"%u\": {\"processed\": %" PRIu64 ", \"time_squeeze\": %" PRIu64 ", \"polls\": %" PRIu64
			", \"interrupts\": %" PRIu64 ", \"to_poll\": %" PRIu64 ", \"to_interrupt\": %" PRIu64
			", \"sleeps\": %" PRIu64 ", \"ksoftirqd_wakeups\": %" PRIu64 ", \"net_rx_softirqs\": %" PRIu64
			", \"net_tx_softirqs\": %" PRIu64 ", \"busy_cycles\": %" PRIu64 ", \"idle_cycles\": %" PRIu64
			", \"app_task_runs\": %" PRIu64 "}",
			sep, l, s.softnet.processed, s.softnet.time_squeeze, s.softnet.polls, s.interrupts, s.to_poll,
			s.to_interrupt, ls.sleeps, bh::ksoftirqd_get_stats(l).wakeups,
			bh::softirq_get_stats(l, bh::NET_RX_SOFTIRQ).run, bh::softirq_get_stats(l, bh::NET_TX_SOFTIRQ).run,
			ls.busy_cycles, ls.idle_cycles, app_tasks[l].runs());
		sep = ",";
	}
	fprintf(f, "\n  },\n  \"drops\": {");
	for (unsigned r = 0; r < unsigned(bh::net::drop_reason::count); r++)
		fprintf(f, "%s\"%s\": %" PRIu64, r ? ", " : "", bh::net::drop_reason_name(bh::net::drop_reason(r)), drops[r]);
	fprintf(f, "},\n  \"mpps\": %.4f,\n  \"mempool\": {\"in_use_start\": %u, \"in_use_end\": %u}\n}\n",
		seconds > 0 ? double(rx_total) / seconds / 1e6 : 0.0, in_use_start, in_use_end);
	if (f != stdout)
		fclose(f);
	else
		fflush(f);
}

int fatal(const char *what, int rc)
{
	fprintf(stderr, "bh-l2fwd: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
	return 1;
}

} // namespace

int main(int argc, char **argv)
{
	bh::eal_options eo;
	eo.lcores = "0-1";
	eo.memory_mb = 512;
	eo.extra = {"--log-level", "lib.eal:warning"};
	if (!bh::cli::init_eal("bh-l2fwd", eo, argc, argv))
		return 2;
	l2fwd::options o;
	if (const int rc = l2fwd::parse(argc, argv, o))
		return rc;
	static uint16_t pair[RTE_MAX_ETHPORTS];
	if (const int rc = l2fwd::resolve(o, pair))
		return rc;

	unsigned nports = 0;
	for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++)
		nports += o.portmask >> p & 1;
	bh::net::port_conf pc;
	pc.rx_interrupts = o.mode != bh::net::rx_mode::poll;
	rte_mempool *pool = bh::net::mempool_create("l2fwd_pool", bh::net::mempool_size(nports, pc, rte_lcore_count()));
	if (!pool)
		return 1;
	const unsigned in_use_start = rte_mempool_in_use_count(pool);
	if (const int rc = bh::net::net_init())
		return fatal("net_init", rc);

	static forwarder fwd(pair, o.mac_updating, o.frame_checks);
	unsigned lcore = rte_get_next_lcore(-1, 1, 0), on_lcore = 0;
	for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++) {
		if (!(o.portmask >> p & 1))
			continue;
		if (const int rc = bh::net::port_configure(p, pc, pool))
			return fatal(("port " + std::to_string(p) + " set-up").c_str(), rc);
		if (const int rc = bh::net::port_start(p))
			return fatal(("port " + std::to_string(p) + " start").c_str(), rc);
		rte_ether_addr mac;
		rte_eth_macaddr_get(p, &mac);
		rte_ether_format_addr(ports_info[p].mac, sizeof(ports_info[p].mac), &mac);
		ports_info[p].driver = bh::net::port_driver(p);
		if (on_lcore == o.queues) {
			lcore = rte_get_next_lcore(lcore, 1, 0);
			on_lcore = 0;
		}
		on_lcore++;
		bh::net::rxq_conf rxq{p, 0, lcore, o.mode, &fwd};
		rxq.max_backoff_ns = uint64_t(o.max_backoff_us) * 1000;
		const int rc = bh::net::net_add_rxq(rxq);
		if (rc == -ENOTSUP) {
			fprintf(stderr, "bh-l2fwd: --rx-mode interrupt: port %u (%s) has no Rx interrupt\n", p,
				bh::net::port_driver(p));
			return 1;
		}
		if (rc || bh::net::net_add_txq(pair[p], 0, lcore))
			return fatal("binding queues to lcores", rc ? rc : EINVAL);
		printf("bh-l2fwd: lcore %u: Rx port %u -> Tx port %u (%s, %s)\n", lcore, p, pair[p],
		       bh::net::port_driver(p),
		       o.mode == bh::net::rx_mode::poll ? "poll" : o.mode == bh::net::rx_mode::interrupt ? "interrupt" : "adaptive");
	}

	signal(SIGINT, [](int) { quit = true; });
	signal(SIGTERM, [](int) { quit = true; });
	if (o.app_task_ns) {
		unsigned l;
		RTE_LCORE_FOREACH_WORKER(l)
		{
			app_tasks[l].set_work(o.app_task_ns);
			if (const int rc = bh::lcore_add_task(l, app_tasks[l]))
				return fatal("adding the app task", rc);
		}
	}
	if (const int rc = bh::start())
		return fatal("bh::start", rc);
	unsigned w;
	RTE_LCORE_FOREACH_WORKER(w)
	{
		bh::lcore_set_idle(w, o.mode == bh::net::rx_mode::poll ? bh::idle_mode::poll : bh::idle_mode::sleep);
		rte_eal_remote_launch(bh::lcore_main, nullptr, w);
	}

	static port_snapshot last[RTE_MAX_ETHPORTS];
	const auto t0 = std::chrono::steady_clock::now();
	auto printed = t0;
	auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
	while (!quit && (o.duration_s <= 0 || elapsed() < o.duration_s)) {
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
		const double since = std::chrono::duration<double>(std::chrono::steady_clock::now() - printed).count();
		if (o.period_s && since >= o.period_s) {
			print_stats(o, since, last);
			printed = std::chrono::steady_clock::now();
		}
	}
	const double seconds = elapsed();

	/* Stop taking packets, let the loops drain, flush and free what is in flight. */
	bh::stop();
	rte_eal_mp_wait_lcore();
	bh::net::net_exit();
	/* The final rates are averages over the whole run. */
	static port_snapshot from_start[RTE_MAX_ETHPORTS];
	print_stats(o, seconds, from_start);
	for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++) {
		if (!(o.portmask >> p & 1))
			continue;
		rte_eth_dev_stop(p);
		rte_eth_dev_close(p);
	}
	const unsigned in_use_end = rte_mempool_in_use_count(pool);
	if (!o.json.empty())
		write_json(o, seconds, in_use_start, in_use_end);
	rte_mempool_free(pool);
	bh::eal_cleanup();
	return 0;
}
