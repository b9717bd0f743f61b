/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bh-l2fwd: DPDK's l2fwd on bottom halves. Every lcore, the main one
 * included, runs the framework's loop; the Rx ports are dealt out to the
 * lcores as l2fwd deals them (or their Rx queues placed as l3fwd's --config
 * places them, with --rx-queues), and each lcore's queues are polled (or
 * woken by Rx interrupts) into NET_RX, whose handler rewrites the MAC
 * addresses as l2fwd does and transmits on the paired port through NET_TX,
 * on the lcore's own Tx queue of that port. Nothing
 * else runs on the packet path: a timer on the main lcore queues the
 * statistics, which a work queue's worker prints in process context, and a
 * thread of its own takes SIGINT/SIGTERM and the end of --duration and
 * asks the loops to stop. The JSON summary is written at exit.
 */
#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <pthread.h>
#include <string>
#include <thread>
#include <vector>

#include <smmintrin.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "bh_capture.h"
#include "bh_cli.h"
#include "bh_eal.h"
#include "bh_ksoftirqd.h"
#include "bh_lcore.h"
#include "bh_netdev.h"
#include "bh_port.h"
#include "bh_softirq.h"
#include "bh_summary.h"
#include "bh_timer.h"
#include "bh_workqueue.h"
#include "options.h"

namespace {

/* What l2fwd's l2fwd_simple_forward does, as a packet handler. */
class forwarder : public bh::net::packet_handler {
public:
	forwarder(const uint16_t *pair, bool mac_updating, bool frame_checks)
		: pair_(pair), mac_updating_(mac_updating), frame_checks_(frame_checks)
	{
		for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++) {
			if (!rte_eth_dev_is_valid_port(p))
				continue;
			/* 02:00:00:00:00:<tx port>, then the Tx port's own address, as l2fwd writes them. */
			alignas(16) uint8_t hdr[16] = {0x02, 0, 0, 0, 0, uint8_t(p)};
			rte_eth_macaddr_get(p, reinterpret_cast<rte_ether_addr *>(&hdr[6]));
			rewrite_[p] = _mm_load_si128(reinterpret_cast<const __m128i *>(hdr));
		}
	}
	void on_burst(bh::net::rx_context &ctx, rte_mbuf **pkts, uint16_t n) override
	{
		const uint16_t out = pair_[ctx.port()];
		if (mac_updating_) {
			/*
			 * Both addresses in one 16-byte store of the frame's first 16
			 * bytes with the 12 of addresses blended in (one store a frame
			 * commits faster than two: measured in docs/benchmarks.md). The
			 * 16 bytes are inside the buffer even for a runt: frames come
			 * from mempool_create()'s pool, whose data room leaves 2 KB
			 * after the headroom. The checks are folded over the burst: a
			 * frame that fails them is rewritten too (harmless, it is
			 * freed) and dropped after.
			 */
			const __m128i addrs = rewrite_[out];
			const bool ok = bh::net::check_each(ctx, pkts, n, [addrs](rte_mbuf *m) {
				__m128i *eth = rte_pktmbuf_mtod(m, __m128i *);
				/* Words 0-5 (the addresses) from addrs, 6-7 (type and payload) kept. */
				_mm_storeu_si128(eth, _mm_blend_epi16(_mm_loadu_si128(eth), addrs, 0x3f));
			});
			if (unlikely(!ok))
				n = drop_bad(ctx, pkts, n);
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
	/* Out of line: inlined, its loop and call made the common path save more registers. */
	[[gnu::cold, gnu::noinline]] static uint16_t drop_bad(bh::net::rx_context &ctx, rte_mbuf **pkts, uint16_t n)
	{
		uint16_t kept = 0;
		for (uint16_t i = 0; i < n; i++) {
			if (const auto why = ctx.check(pkts[i]); why != bh::net::drop_reason::count)
				ctx.drop(pkts[i], why);
			else
				pkts[kept++] = pkts[i];
		}
		return kept;
	}

	const uint16_t *pair_;
	bool mac_updating_, frame_checks_;
	/* The 12 bytes of addresses a frame leaves each port with, then 4 unused. */
	__m128i rewrite_[RTE_MAX_ETHPORTS] = {};
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
	bool enabled() const { return cycles_ != 0; }
	uint64_t runs() const { return runs_.load(std::memory_order_relaxed); }

private:
	uint64_t cycles_ = 0;           /* set before the lcore starts */
	std::atomic<uint64_t> runs_{0}; /* written by its lcore only, read by the stats printer */
};

app_task app_tasks[RTE_MAX_LCORE];

/* The counters at the last report, for the rates of the next. */
struct snapshot {
	bh::net::port_stats port[RTE_MAX_ETHPORTS];
	std::chrono::steady_clock::time_point at;
};

/*
 * l2fwd's report, its per-port and aggregate lines as it prints them
 * ("Packets dropped" are the Tx drops, l2fwd's meaning) plus the Rx-side
 * drops and the rates since @p last, then the bottom-half counters.
 */
void print_stats(const l2fwd::plan &plan, snapshot &last)
{
	const auto now = std::chrono::steady_clock::now();
	const double dt = std::chrono::duration<double>(now - last.at).count();
	auto mpps = [dt](uint64_t now_n, uint64_t then_n) { return dt > 0 ? double(now_n - then_n) / dt / 1e6 : 0.0; };
	printf("\nPort statistics ====================================\n");
	bh::net::port_stats total;
	for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++) {
		if (!plan.forwards(p))
			continue;
		const bh::net::port_stats s = bh::net::net_port_stats(p);
		printf("Statistics for port %u ------------------------------\n"
		       "Packets sent: %24" PRIu64 "  (%.3f Mpps)\nPackets received: %20" PRIu64
		       "  (%.3f Mpps)\nPackets dropped: %21" PRIu64 "\nPackets dropped on Rx: %15" PRIu64 "\n",
		       p, s.tx, mpps(s.tx, last.port[p].tx), s.rx, mpps(s.rx, last.port[p].rx), s.tx_dropped,
		       s.rx_dropped);
		last.port[p] = s;
		total.rx += s.rx;
		total.tx += s.tx;
		total.tx_dropped += s.tx_dropped;
		total.rx_dropped += s.rx_dropped;
	}
	last.at = now;
	printf("Aggregate statistics ===============================\n"
	       "Total packets sent: %18" PRIu64 "\nTotal packets received: %14" PRIu64
	       "\nTotal packets dropped: %15" PRIu64 "\nTotal packets dropped on Rx: %9" PRIu64 "\n",
	       total.tx, total.rx, total.tx_dropped, total.rx_dropped);
	printf("Bottom halves ======================================\n");
	bh::net::net_dump(stdout);
	unsigned l;
	RTE_LCORE_FOREACH(l)
	{
		if (app_tasks[l].enabled())
			printf("App task on lcore %u: %" PRIu64 " runs\n", l, app_tasks[l].runs());
	}
	printf("====================================================\n");
	fflush(stdout);
}

/* -T: a periodic timer on the main lcore queues the report; a worker prints it. */
struct periodic_stats {
	const l2fwd::plan *plan;
	snapshot last;
	bh::work print{[](void *self) {
		auto &s = *static_cast<periodic_stats *>(self);
		print_stats(*s.plan, s.last);
	}, this};
	bh::timer tick{[](bh::timer &, void *self) { bh::schedule_work(static_cast<periodic_stats *>(self)->print); },
		       this};
};

/* Read before the ports close, for the summary written after. */
bh::cli::port_info ports_info[RTE_MAX_ETHPORTS];

/* , "<key>": [{"queue": Q, "lcore": L, "<packets>": N, "dropped": D}, ...] for @p port's queues. */
void write_json_queues(FILE *f, const char *key, const char *packets, uint16_t port,
		       unsigned (*stats)(uint16_t, bh::net::queue_stats *, unsigned) noexcept)
{
	std::vector<bh::net::queue_stats> qs(stats(port, nullptr, 0));
	qs.resize(std::min<size_t>(qs.size(), stats(port, qs.data(), unsigned(qs.size()))));
	fprintf(f, ", \"%s\": [", key);
	for (size_t i = 0; i < qs.size(); i++)
		fprintf(f, "%s{\"queue\": %u, \"lcore\": %u, \"%s\": %" PRIu64 ", \"dropped\": %" PRIu64 "}", i ? ", " : "",
			qs[i].queue, qs[i].lcore, packets, qs[i].packets, qs[i].dropped);
	fputc(']', f);
}

void write_json(FILE *f, const l2fwd::plan &plan, double seconds, unsigned in_use_start, unsigned in_use_end)
{
	bh::cli::json_summary sum(f, seconds);
	for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++) {
		if (!plan.forwards(p))
			continue;
		sum.port(p, ports_info[p], [&](FILE *out) {
			fprintf(out, ", \"tx_port\": %u, \"lcore\": %u", plan.tx[p], plan.lcore[p]);
			write_json_queues(out, "rx_queues", "rx", p, bh::net::net_rxq_stats);
			write_json_queues(out, "tx_queues", "tx", p, bh::net::net_txq_stats);
		});
	}
	unsigned l;
	RTE_LCORE_FOREACH(l)
	{
		sum.lcore(l, app_tasks[l].runs());
	}
	sum.finish(in_use_start, in_use_end);
	if (f != stdout)
		fclose(f);
	else
		fflush(f);
}

/* A port with several Rx queues: how many, and how frames are spread over them, as configured. */
void print_queues(uint16_t port, uint16_t rxq, uint16_t txq)
{
	rte_eth_conf conf{};
	rte_eth_dev_conf_get(port, &conf);
	if (conf.rxmode.mq_mode & RTE_ETH_MQ_RX_RSS_FLAG)
		printf("Port %u: %u Rx queues, %u Tx queues, RSS on flow types 0x%" PRIx64 "\n", port, rxq, txq,
		       conf.rx_adv_conf.rss_conf.rss_hf);
	else
		printf("Port %u: %u Rx queues, %u Tx queues, no RSS: the sender picks each frame's Rx queue\n", port,
		       rxq, txq);
}

int fatal(const char *what, int rc)
{
	fprintf(stderr, "bh-l2fwd: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
	return 1;
}

/*
 * SIGINT and SIGTERM are blocked in every thread (from before the EAL makes
 * its own) and taken by the stopper's sigtimedwait: no handler runs in
 * the middle of an lcore's loop, and the stop is a plain call.
 */
sigset_t stop_signals()
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	return set;
}

/* Waits for a stop signal or the end of @p duration_s (0: none), then asks every lcore's loop to return. */
void stopper(double duration_s)
{
	const sigset_t set = stop_signals();
	const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(duration_s);
	for (;;) {
		int sig;
		if (duration_s <= 0) {
			if (sigwait(&set, &sig) == 0)
				break;
			continue;
		}
		const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(end - std::chrono::steady_clock::now());
		if (left.count() <= 0)
			break;
		const timespec ts{time_t(left.count() / 1000000000), long(left.count() % 1000000000)};
		if (sigtimedwait(&set, nullptr, &ts) >= 0 || errno == EAGAIN)
			break;
	}
	unsigned l;
	RTE_LCORE_FOREACH(l)
	bh::lcore_request_stop(l);
}


} // namespace

int main(int argc, char **argv)
{
	const sigset_t stops = stop_signals();
	pthread_sigmask(SIG_BLOCK, &stops, nullptr);
	bh::eal_options eo;
	eo.lcores = "0-1";
	eo.memory_mb = 512;
	eo.extra = {"--log-level", "lib.eal:warning"};
	if (!bh::cli::init_eal("bh-l2fwd", eo, argc, argv))
		return 2;
	l2fwd::options o;
	bool help;
	if (const int rc = l2fwd::parse(argc, argv, o, help); rc || help) {
		bh::eal_cleanup();
		return rc;
	}
	printf("MAC updating %s\n", o.mac_updating ? "enabled" : "disabled");
	static l2fwd::plan plan;
	if (const int rc = l2fwd::resolve(o, plan)) {
		bh::eal_cleanup();
		return rc;
	}
	/* Checked now, not after the run: a summary that cannot be written must not cost the run. */
	FILE *json = nullptr;
	if (!o.json.empty() && !(json = o.json == "-" ? stdout : fopen(o.json.c_str(), "w"))) {
		fprintf(stderr, "bh-l2fwd: cannot write the JSON summary to %s: %s\n", o.json.c_str(), strerror(errno));
		bh::eal_cleanup();
		return 2;
	}
	if (plan.odd)
		printf("Notice: odd number of ports in portmask.\n");
	/* l2fwd's line for a port -q placed; with its queues for one --rx-queues placed. */
	for (const l2fwd::binding &b : plan.rxqs)
		if (plan.by_tuples >> b.port & 1)
			printf("Lcore %u: RX port %u queue %u TX port %u queue %u\n", b.lcore, b.port, b.queue,
			       plan.tx[b.port], b.tx_queue);
		else
			printf("Lcore %u: RX port %u TX port %u\n", b.lcore, b.port, plan.tx[b.port]);

	bh::net::port_conf pc;
	pc.promiscuous = o.promiscuous;
	/* Sized for the port with the most queues: every port gets that much. */
	pc.rx_queues = *std::max_element(std::begin(plan.rx_queues), std::end(plan.rx_queues));
	pc.tx_queues = *std::max_element(std::begin(plan.tx_queues), std::end(plan.tx_queues));
	rte_mempool *pool = bh::net::mempool_create(
		"l2fwd_pool", bh::net::mempool_size(unsigned(std::popcount(plan.ports)), pc, rte_lcore_count()));
	if (!pool)
		return 1;
	const unsigned in_use_start = rte_mempool_in_use_count(pool);
	if (const int rc = bh::net::net_init())
		return fatal("net_init", rc);

	static forwarder fwd(plan.tx, o.mac_updating, o.frame_checks);
	uint16_t port;
	RTE_ETH_FOREACH_DEV(port)
	{
		if (!plan.forwards(port)) {
			printf("Skipping disabled port %u\n", port);
			continue;
		}
		printf("Initializing port %u... ", port);
		pc.rx_interrupts = o.rx.settings(port).mode != bh::net::rx_mode::poll;
		pc.rx_queues = plan.rx_queues[port];
		pc.tx_queues = plan.tx_queues[port];
		pc.rss_hf = plan.rss_hf[port];
		if (const int rc = bh::net::port_configure(port, pc, pool))
			return fatal(("port " + std::to_string(port) + " set-up").c_str(), rc);
		if (const int rc = bh::net::port_start(port))
			return fatal(("port " + std::to_string(port) + " start").c_str(), rc);
		ports_info[port] = bh::cli::read_port_info(port);
		printf("done: \nPort %u, MAC address: %s\n\n", port, ports_info[port].mac);
		if (pc.rx_queues > 1)
			print_queues(port, pc.rx_queues, pc.tx_queues);
	}
	for (const l2fwd::binding &b : plan.rxqs) {
		const uint16_t p = b.port;
		const bh::cli::rx_settings rx = o.rx.settings(p);
		bh::net::rxq_conf rxq{p, b.queue, b.lcore, rx.mode, &fwd};
		rxq.sw = rx.sw;
		const int rc = bh::net::net_add_rxq(rxq);
		if (rc == -ENOTSUP) {
			fprintf(stderr, "bh-l2fwd: --rx-mode interrupt: port %u (%s) has no Rx interrupt\n", p,
				bh::net::port_driver(p));
			return 1;
		}
		if (rc)
			return fatal("binding Rx queues to lcores", rc);
		if (const int trc = bh::net::net_add_txq(plan.tx[p], b.tx_queue, b.lcore))
			return fatal("binding Tx queues to lcores", trc);
		if (o.app_task_ns && !app_tasks[b.lcore].enabled()) {
			app_tasks[b.lcore].set_work(o.app_task_ns);
			if (const int rc2 = bh::lcore_add_task(b.lcore, app_tasks[b.lcore]))
				return fatal("adding the app task", rc2);
		}
		printf("bh-l2fwd: lcore %u: Rx port %u queue %u -> Tx port %u queue %u (%s, %s%s)\n", b.lcore, p, b.queue,
		       plan.tx[p], b.tx_queue, bh::net::port_driver(p), bh::cli::rx_mode_name(rx.mode),
		       rx.mode != bh::net::rx_mode::adaptive ? ""
		       : rx.sw.rule == bh::net::napi_rule::defer ? ", rule defer" : ", rule rate");
	}
	fflush(stdout);

	if (const int rc = bh::start())
		return fatal("bh::start", rc);
	/* dpdk-dumpcap can attach if the EAL has shared config and hugepages; else a logged no-op (bh_capture.h). */
	bh::net::capture_init();
	/* A polling lcore spins only if it has ports to poll; the others sleep until there is work. */
	bool polls[RTE_MAX_LCORE] = {};
	for (const l2fwd::binding &b : plan.rxqs)
		polls[b.lcore] |= o.rx.settings(b.port).mode == bh::net::rx_mode::poll;
	unsigned l;
	RTE_LCORE_FOREACH(l)
	{
		bh::lcore_set_idle(l, polls[l] ? bh::idle_mode::poll : bh::idle_mode::sleep);
		bh::lcore_set_bh_share(l, o.bh_share);
	}

	const auto t0 = std::chrono::steady_clock::now();
	int loop_rc;
	double seconds;
	{
		/* Gone before the EAL is: its timer belongs to rte_timer. */
		periodic_stats stats;
		stats.plan = &plan;
		stats.last.at = t0;
		if (o.period_s) {
			const uint64_t period_ns = uint64_t(o.period_s) * 1000000000;
			if (const int rc = bh::timer_mod_on(rte_get_main_lcore(), stats.tick, period_ns, period_ns); rc < 0)
				return fatal("arming the statistics timer", rc);
		}
		std::thread stop_thread(stopper, o.duration_s);
		RTE_LCORE_FOREACH_WORKER(l)
		rte_eal_remote_launch(bh::lcore_main, nullptr, l);
		loop_rc = bh::lcore_run();
		seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
		/* The stopper may still wait (the loop ended otherwise): wake it; it asks the other lcores to stop. */
		pthread_kill(stop_thread.native_handle(), SIGTERM);
		stop_thread.join();
		/* Stop taking packets, let the loops drain, flush and free what is in flight. */
		bh::timer_del_sync(stats.tick);
		bh::cancel_work_sync(stats.print);
	}
	/* bh::stop() also flushes and frees what the net layer still holds. */
	bh::stop();
	rte_eal_mp_wait_lcore();
	if (loop_rc)
		return fatal("the main lcore's loop", loop_rc);
	/* The final rates are averages over the whole run. */
	snapshot from_start;
	from_start.at = t0;
	print_stats(plan, from_start);
	RTE_ETH_FOREACH_DEV(port)
	{
		if (!plan.forwards(port))
			continue;
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
	const unsigned in_use_end = rte_mempool_in_use_count(pool);
	if (json)
		write_json(json, plan, seconds, in_use_start, in_use_end);
	rte_mempool_free(pool);
	bh::eal_cleanup();
	return 0;
}
