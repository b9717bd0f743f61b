/* SPDX-License-Identifier: BSD-3-Clause */
/* SPEC section 8 on net_ring ports: NAPI, NET_RX/NET_TX, Tx backlog, drops, Rx modes. */
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <unistd.h>
#include <thread>
#include <utility>
#include <vector>

#include <rte_dev.h>
#include <rte_ethdev.h>

#include "bh_ksoftirqd.h"
#include "bh_context.h"
#include "bh_lcore.h"
#include "bh_napi.h"
#include "bh_netdev.h"
#include "bh_port.h"
#include "bh_workqueue.h"
#include "net_test.h"

/*
 * Driver-side ethdev entry points (ethdev_driver.h, not shipped by Debian's
 * libdpdk-dev): what a PMD calls to report a link change.
 */
extern "C" {
struct rte_eth_dev *rte_eth_dev_allocated(const char *name);
int rte_eth_dev_callback_process(struct rte_eth_dev *dev, enum rte_eth_event_type event, void *ret_param);
}

namespace bh {
namespace {

using namespace std::chrono_literals;
using test::collect_n;
using test::forward_to;
using test::frames;
using test::inject_all;
using test::make_frame;
using test::ring_port;
using test::test_lcore;
using test::wait_until;

/*
 * Brings up the net layer around one worker lcore: ports are added by the
 * test, then go() starts the framework and the loop. TearDown checks that
 * every mbuf went back to the pool.
 */
class net_test : public test::net_fixture {
protected:
	ring_port &port(const char *name, unsigned rx_size = 1024, unsigned tx_size = 1024)
	{
		return started_ring(std::string(name) + std::to_string(ports_.size()), rx_size, tx_size);
	}
	void go()
	{
		ASSERT_EQ(start(), 0);
		lc_->start_loop();
	}
	void check_tx_backlog(bool as_burst);
	void check_partial_burst(bool as_burst);
	/* Binds adaptive queue @p c, forwarding to @p tx, and starts the lcore, which may sleep. */
	void start_adaptive(const net::rxq_conf &c, uint16_t tx)
	{
		ASSERT_EQ(net::net_add_rxq(c), 0);
		ASSERT_EQ(net::net_add_txq(tx, 0, lcore()), 0);
		ASSERT_EQ(lcore_set_idle(lcore(), idle_mode::sleep, 100), 0);
		go();
	}
	/* The lcore's NET_RX polls over @p window. */
	uint64_t polls_over(std::chrono::milliseconds window)
	{
		const uint64_t before = net::softnet_get(lcore()).polls;
		std::this_thread::sleep_for(window);
		return net::softnet_get(lcore()).polls - before;
	}
	/* How many of @p n frames injected into @p a come out of @p b. */
	size_t forwarded(ring_port &a, ring_port &b, unsigned n);
};

TEST_F(net_test, test_net_forwards_bursts_in_order_and_loses_nothing)
{
	ASSERT_EQ(net::net_init(), 0);
	ring_port &a = port("fa");
	ring_port &b = port("fb");
	forward_to fwd(b.id);
	ASSERT_EQ(net::net_add_rxq({a.id, 0, lcore(), net::rx_mode::poll, &fwd}), 0);
	ASSERT_EQ(net::net_add_txq(b.id, 0, lcore()), 0);
	go();
	constexpr unsigned n = 5000;
	std::vector<rte_mbuf *> out;
	for (unsigned sent = 0; sent < n; sent += 500) {
		inject_all(a, frames(sent, 500));
		auto more = b.collect();
		out.insert(out.end(), more.begin(), more.end());
	}
	auto rest = collect_n(b, n - out.size());
	out.insert(out.end(), rest.begin(), rest.end());
	ASSERT_EQ(out.size(), n);
	for (unsigned i = 0; i < n; i++)
		ASSERT_EQ(test::frame_seq(out[i]), i) << "order within the queue";
	test::free_all(out);
	const net::port_stats in = net::net_port_stats(a.id), outs = net::net_port_stats(b.id);
	EXPECT_EQ(in.rx, n);
	EXPECT_EQ(outs.tx, n);
	EXPECT_EQ(in.rx_dropped + in.tx_dropped + outs.rx_dropped + outs.tx_dropped, 0u);
	EXPECT_EQ(net::net_lcore_stats(lcore()).in_flight, 0u);
	EXPECT_EQ(net::net_lcore_stats(lcore()).softnet.processed, n);
	char *buf = nullptr;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	net::net_dump(f);
	fclose(f);
	const std::string dump(buf, len);
	free(buf);
	EXPECT_NE(dump.find("time_squeeze"), std::string::npos) << dump;
	EXPECT_NE(dump.find(std::to_string(lcore()) + " "), std::string::npos) << dump;
}

size_t net_test::forwarded(ring_port &a, ring_port &b, unsigned n)
{
	inject_all(a, frames(0, n));
	auto out = collect_n(b, n);
	const size_t got = out.size();
	test::free_all(out);
	return got;
}

/*
 * Fewer frames than a Tx burst, sent one by one or as one burst, are
 * buffered and leave at the end of the poll that received them: nothing
 * else would send them (the drain timer is armed for a backlog only).
 */
void net_test::check_partial_burst(bool as_burst)
{
	ASSERT_EQ(net::net_init(), 0);
	ring_port &a = port(as_burst ? "pc" : "pa"), &b = port(as_burst ? "pd" : "pb");
	forward_to fwd(b.id, as_burst);
	ASSERT_EQ(net::net_add_rxq({a.id, 0, lcore(), net::rx_mode::poll, &fwd}), 0);
	ASSERT_EQ(net::net_add_txq(b.id, 0, lcore()), 0);
	go();
	for (unsigned round = 0; round < 3; round++) {
		inject_all(a, frames(round * 20, 20));
		auto got = collect_n(b, 20);
		EXPECT_EQ(got.size(), 20u) << "round " << round;
		test::free_all(got);
	}
	EXPECT_EQ(net::net_lcore_stats(lcore()).in_flight, 0u);
}

TEST_F(net_test, test_net_a_partial_burst_sent_frame_by_frame_leaves_with_its_poll)
{
	check_partial_burst(false);
}

TEST_F(net_test, test_net_a_partial_burst_sent_as_a_burst_leaves_with_its_poll)
{
	check_partial_burst(true);
}

/* What a full Tx ring refuses waits in the backlog, in order, whether the handler sends one by one or in bursts. */
void net_test::check_tx_backlog(bool as_burst)
{
	net::net_conf c;
	c.tx_backlog = 128;
	ASSERT_EQ(net::net_init(c), 0);
	ring_port &a = port(as_burst ? "bc" : "ba");
	ring_port &b = port(as_burst ? "bd" : "bb", 1024, 64); /* the Tx ring takes 63 */
	forward_to fwd(b.id, as_burst);
	ASSERT_EQ(net::net_add_rxq({a.id, 0, lcore(), net::rx_mode::poll, &fwd}), 0);
	ASSERT_EQ(net::net_add_txq(b.id, 0, lcore()), 0);
	go();
	inject_all(a, frames(0, 300));
	/* Rx is counted before the handler forwards the burst: wait for every packet to be placed. */
	ASSERT_TRUE(wait_until([&] {
		const net::lcore_net_stats s = net::net_lcore_stats(lcore());
		return s.tx + s.in_flight + s.dropped[unsigned(net::drop_reason::tx_full)] == 300;
	}));
	net::lcore_net_stats st = net::net_lcore_stats(lcore());
	const uint64_t full = st.dropped[unsigned(net::drop_reason::tx_full)];
	printf("300 packets into a 63-slot Tx ring with a 128-packet backlog: %" PRIu64 " sent, %" PRIu64
	       " waiting, %" PRIu64 " dropped tx_full\n", st.tx, st.in_flight, full);
	EXPECT_EQ(st.tx, 63u);
	EXPECT_EQ(st.in_flight, 128u);
	EXPECT_EQ(full, 300u - 63u - 128u) << "overflow beyond the backlog is dropped and counted";
	/* Make room: NET_TX (or the drain timer) sends the backlog, in order. */
	auto out = collect_n(b, 63 + 128);
	ASSERT_EQ(out.size(), 63u + 128u);
	for (size_t i = 1; i < out.size(); i++)
		EXPECT_LT(test::frame_seq(out[i - 1]), test::frame_seq(out[i])) << "the backlog kept the order";
	test::free_all(out);
	EXPECT_EQ(net::net_lcore_stats(lcore()).in_flight, 0u);
	EXPECT_EQ(net::net_port_stats(b.id).tx + full, 300u) << "every packet sent or counted";
	/* A Tx drop is the Tx port's, as l2fwd's "Packets dropped": not the port the packets came in on. */
	EXPECT_EQ(net::net_port_stats(b.id).tx_dropped, full);
	EXPECT_EQ(net::net_port_stats(b.id).rx_dropped, 0u);
	EXPECT_EQ(net::net_port_stats(a.id).rx_dropped + net::net_port_stats(a.id).tx_dropped, 0u);
}

TEST_F(net_test, test_net_tx_backlog_holds_what_a_full_tx_ring_refuses_and_retries_it)
{
	check_tx_backlog(false);
}

TEST_F(net_test, test_net_tx_backlog_keeps_whole_bursts_behind_it_in_order)
{
	check_tx_backlog(true);
}

/*
 * Without hugepages, DPDK's own pktmbuf pool puts each mbuf alone at the
 * start of a 4 KB page: all at one offset, so all in the same few L1 sets.
 * mempool_create() packs them across pages when IO addresses are virtual
 * ones, as they are here: mbufs at many offsets, and whole and usable.
 */
TEST_F(net_test, test_net_mempool_without_hugepages_packs_mbufs_across_pages)
{
	ASSERT_FALSE(rte_eal_has_hugepages()) << "the test suite runs with --no-huge";
	ASSERT_EQ(rte_eal_iova_mode(), RTE_IOVA_VA);
	rte_mempool *mp = net::mempool_create("packed_pool", 1023);
	ASSERT_NE(mp, nullptr);
	std::set<uintptr_t> lines;
	rte_mempool_obj_iter(
		mp, [](rte_mempool *, void *set, void *obj, unsigned) {
			static_cast<std::set<uintptr_t> *>(set)->insert(uintptr_t(obj) % 4096 / 64);
		}, &lines);
	EXPECT_GE(lines.size(), 60u) << "mbufs start at only " << lines.size() << " of a page's 64 lines";
	EXPECT_EQ(rte_pktmbuf_data_room_size(mp), RTE_MBUF_DEFAULT_BUF_SIZE);
	rte_mbuf *m = rte_pktmbuf_alloc(mp);
	ASSERT_NE(m, nullptr);
	EXPECT_EQ(rte_pktmbuf_tailroom(m) + rte_pktmbuf_headroom(m), RTE_MBUF_DEFAULT_BUF_SIZE);
	EXPECT_EQ(m->buf_iova, rte_mem_virt2iova(m->buf_addr)) << "IO address of the data is its virtual one";
	memset(rte_pktmbuf_mtod(m, char *), 0xa5, rte_pktmbuf_tailroom(m));
	rte_pktmbuf_free(m);
	EXPECT_EQ(rte_mempool_avail_count(mp), 1023u);
	rte_mempool_free(mp);
}

TEST_F(net_test, test_net_budget_weight_and_time_squeeze)
{
	net::net_conf c;
	c.napi.budget = 100;
	ASSERT_EQ(net::net_init(c), 0);
	ring_port &a = port("wa", 4096);
	ring_port &b = port("wb", 4096);
	ring_port &out = port("wo", 4096, 8192);
	forward_to fwd(out.id, true);
	ASSERT_EQ(net::net_add_rxq({a.id, 0, lcore(), net::rx_mode::poll, &fwd, 64}), 0);
	ASSERT_EQ(net::net_add_rxq({b.id, 0, lcore(), net::rx_mode::poll, &fwd, 64}), 0);
	ASSERT_EQ(net::net_add_txq(out.id, 0, lcore()), 0);
	/* Both queues full before the lcore starts: every pass runs out of budget. */
	inject_all(a, frames(0, 2000));
	inject_all(b, frames(100000, 2000));
	const net::softnet_stat before = net::net_lcore_stats(lcore()).softnet;
	go();
	auto got = collect_n(out, 4000);
	EXPECT_EQ(got.size(), 4000u);
	test::free_all(got);
	net::softnet_stat sn = net::net_lcore_stats(lcore()).softnet;
	sn.processed -= before.processed;
	sn.polls -= before.polls;
	sn.passes -= before.passes;
	sn.time_squeeze -= before.time_squeeze;
	printf("budget 100, weight 64, 2 x 2000 queued: %" PRIu64 " processed in %" PRIu64 " polls over %" PRIu64
	       " NET_RX passes, time_squeeze %" PRIu64 "\n", sn.processed, sn.polls, sn.passes, sn.time_squeeze);
	EXPECT_EQ(sn.processed, 4000u);
	EXPECT_GE(sn.polls, 4000u / 64) << "a poll takes at most its weight";
	EXPECT_LE(sn.time_squeeze, sn.passes);
	EXPECT_GE(sn.time_squeeze, 20u) << "budget 100 < 2 x 64: passes end with work left";
}

/*
 * The rte_eth_rx_burst() calls on a queue, as (asked, received): those that
 * received something and the one after each. An Rx callback runs in every
 * call, on the lcore.
 */
struct rx_calls {
	std::mutex m;
	std::vector<std::pair<uint16_t, uint16_t>> seen;
	bool after_work = false;
	static uint16_t record(uint16_t, uint16_t, rte_mbuf **, uint16_t nb, uint16_t max, void *self)
	{
		auto &c = *static_cast<rx_calls *>(self);
		std::lock_guard lock(c.m);
		if (nb || c.after_work)
			c.seen.emplace_back(max, nb);
		c.after_work = nb != 0;
		return nb;
	}
	size_t size()
	{
		std::lock_guard lock(m);
		return seen.size();
	}
	std::vector<std::pair<uint16_t, uint16_t>> take()
	{
		std::lock_guard lock(m);
		return std::exchange(seen, {});
	}
};

TEST_F(net_test, test_net_poll_takes_its_weight_in_one_burst_and_reads_on_after_a_burst_of_32)
{
	ASSERT_EQ(net::net_init(), 0);
	ring_port &a = port("pwa");
	ring_port &b = port("pwb");
	forward_to fwd(b.id, true);
	ASSERT_EQ(net::net_add_rxq({a.id, 0, lcore(), net::rx_mode::poll, &fwd, 64}), 0);
	ASSERT_EQ(net::net_add_txq(b.id, 0, lcore()), 0);
	/* Static: a failed assertion may leave the callback behind on the running lcore. */
	static rx_calls calls;
	calls.take();
	const rte_eth_rxtx_callback *cb = rte_eth_add_rx_callback(a.id, 0, rx_calls::record, &calls);
	ASSERT_NE(cb, nullptr);
	using call = std::pair<uint16_t, uint16_t>;
	/*
	 * 96 queued: the first poll takes its weight in one call. The next poll
	 * gets the 32 left, the most a vector PMD returns a call, so it asks
	 * for the rest of its weight (32) in the same poll; the empty answer
	 * ends it.
	 */
	inject_all(a, frames(0, 96));
	go();
	auto got = collect_n(b, 96);
	EXPECT_EQ(got.size(), 96u);
	test::free_all(got);
	ASSERT_TRUE(wait_until([&] { return calls.size() >= 3; }));
	EXPECT_EQ(calls.take(), (std::vector<call>{{64, 64}, {64, 32}, {32, 0}}));
	/* A burst short of 32 is the ring found empty: the poll ends, the next one asks for its weight. */
	inject_all(a, frames(96, 20));
	got = collect_n(b, 20);
	EXPECT_EQ(got.size(), 20u);
	test::free_all(got);
	ASSERT_TRUE(wait_until([&] { return calls.size() >= 2; }));
	EXPECT_EQ(calls.take(), (std::vector<call>{{64, 20}, {64, 0}}));
	lc_->stop_loop();
	EXPECT_EQ(rte_eth_remove_rx_callback(a.id, 0, cb), 0);
}

TEST_F(net_test, test_net_runt_oversize_and_chained_frames_are_dropped_with_a_reason)
{
	ASSERT_EQ(net::net_init(), 0);
	ring_port &a = port("da");
	ring_port &b = port("db");
	forward_to fwd(b.id);
	ASSERT_EQ(net::net_add_rxq({a.id, 0, lcore(), net::rx_mode::poll, &fwd}), 0);
	ASSERT_EQ(net::net_add_txq(b.id, 0, lcore()), 0);
	go();
	rte_mbuf *runt = make_frame(1, 10);
	rte_mbuf *big = make_frame(2, 1600);
	rte_mbuf *head = make_frame(3, 60), *tail = make_frame(4, 60);
	ASSERT_EQ(rte_pktmbuf_chain(head, tail), 0);
	inject_all(a, {runt, big, head, make_frame(5, 60)});
	auto out = collect_n(b, 1);
	ASSERT_EQ(out.size(), 1u);
	EXPECT_EQ(test::frame_seq(out[0]), 5u);
	test::free_all(out);
	const net::lcore_net_stats st = net::net_lcore_stats(lcore());
	EXPECT_EQ(st.dropped[unsigned(net::drop_reason::runt)], 1u);
	EXPECT_EQ(st.dropped[unsigned(net::drop_reason::oversize)], 1u);
	EXPECT_EQ(st.dropped[unsigned(net::drop_reason::chained)], 1u);
	/* Dropped before any Tx port was chosen: the Rx port's. */
	EXPECT_EQ(net::net_port_stats(a.id).rx_dropped, 3u);
	EXPECT_EQ(net::net_port_stats(a.id).tx_dropped, 0u);
	EXPECT_EQ(net::net_port_stats(b.id).rx_dropped + net::net_port_stats(b.id).tx_dropped, 0u);
}

/*
 * burst_check folds check() over a burst: at each edge of the checks
 * (runt, smallest and largest good frame, oversize, chained), a burst of
 * good frames with that one frame in it passes exactly when check() passes
 * the frame, wherever in the burst it sits.
 */
TEST(net_frames, test_net_burst_check_agrees_with_check_at_every_edge)
{
	constexpr uint32_t max_frame = 1518;
	const net::rx_context ctx(0, 0, 0, max_frame);
	struct shape {
		uint16_t len, segs;
	};
	const shape shapes[] = {{0, 1}, {13, 1}, {14, 1}, {60, 1}, {max_frame, 1}, {max_frame + 1, 1}, {65535, 1},
				{60, 2}, {60, 3}, {14, 4}};
	for (const shape &s : shapes) {
		for (unsigned at = 0; at < 4; at++) {
			alignas(RTE_CACHE_LINE_SIZE) rte_mbuf m[4] = {};
			net::burst_check checks(ctx);
			for (unsigned i = 0; i < 4; i++) {
				m[i].nb_segs = i == at ? s.segs : 1;
				m[i].data_len = i == at ? s.len : 60;
				checks.add(&m[i]);
			}
			const bool good = ctx.check(&m[at]) == net::drop_reason::count;
			EXPECT_EQ(checks.ok(), good) << "data_len " << s.len << ", " << s.segs << " segments, frame " << at;
			EXPECT_EQ(good, s.segs == 1 && s.len >= 14 && s.len <= max_frame) << "data_len " << s.len;
		}
	}
	EXPECT_TRUE(net::burst_check(ctx).ok()) << "an empty burst has no bad frame";
}

/*
 * check_each() folds check() eight frames to a vector (where SSE4.1 is
 * there) and the rest one by one: in bursts of every length up to 33 (no
 * group, groups, groups and a rest), with one frame at an edge of the checks
 * in each position, it agrees with check() and visits each frame once, in
 * order; and its vector limit, capped to 16 bits, stays exact for the
 * smallest and largest max_frame.
 */
TEST(net_frames, test_net_check_each_agrees_with_check_in_every_lane)
{
	struct shape {
		uint16_t len, segs;
	};
	for (const uint32_t max_frame : {1518u, 14u, 70000u}) {
		const net::rx_context ctx(0, 0, 0, max_frame);
		const shape shapes[] = {{0, 1},   {13, 1},  {14, 1},		   {15, 1},
					{60, 2},  {14, 4},  {uint16_t(max_frame), 1}, {uint16_t(max_frame + 1), 1},
					{65535, 1}};
		for (const shape &s : shapes) {
			for (unsigned n = 1; n <= 33; n++) {
				for (unsigned at = 0; at < n; at++) {
					alignas(RTE_CACHE_LINE_SIZE) rte_mbuf m[33] = {};
					rte_mbuf *pkts[33];
					for (unsigned i = 0; i < n; i++) {
						m[i].nb_segs = i == at ? s.segs : 1;
						m[i].data_len = i == at ? s.len : 14;
						pkts[i] = &m[i];
					}
					std::vector<rte_mbuf *> seen;
					const bool ok = net::check_each(ctx, pkts, uint16_t(n), [&](rte_mbuf *x) { seen.push_back(x); });
					const bool good = ctx.check(&m[at]) == net::drop_reason::count;
					ASSERT_EQ(ok, good) << "max_frame " << max_frame << ", data_len " << s.len << ", "
							    << s.segs << " segments, frame " << at << " of " << n;
					ASSERT_EQ(seen, std::vector<rte_mbuf *>(pkts, pkts + n)) << "frame " << at << " of " << n;
				}
			}
		}
		EXPECT_TRUE(net::check_each(ctx, nullptr, 0, [](rte_mbuf *) { FAIL() << "no frame to visit"; }));
	}
}

/* Drops every frame it is given, as a filtering application does. */
class drop_all : public net::packet_handler {
public:
	void on_burst(net::rx_context &ctx, rte_mbuf **pkts, uint16_t n) override
	{
		for (uint16_t i = 0; i < n; i++)
			ctx.drop(pkts[i]);
	}
};

TEST_F(net_test, test_net_handler_drops_are_charged_to_the_rx_port)
{
	ASSERT_EQ(net::net_init(), 0);
	ring_port &a = port("ha");
	ring_port &b = port("hb");
	drop_all handler;
	ASSERT_EQ(net::net_add_rxq({a.id, 0, lcore(), net::rx_mode::poll, &handler}), 0);
	ASSERT_EQ(net::net_add_txq(b.id, 0, lcore()), 0);
	go();
	inject_all(a, frames(0, 10));
	ASSERT_TRUE(wait_until([&] { return net::net_port_stats(a.id).rx_dropped == 10; }));
	EXPECT_EQ(net::net_lcore_stats(lcore()).dropped[unsigned(net::drop_reason::handler)], 10u);
	EXPECT_EQ(net::net_port_stats(a.id).tx_dropped, 0u);
	EXPECT_EQ(net::net_port_stats(b.id).rx_dropped + net::net_port_stats(b.id).tx_dropped, 0u);
}

TEST_F(net_test, test_net_interrupt_mode_refused_without_rx_interrupts)
{
	ASSERT_EQ(net::net_init(), 0);
	ASSERT_EQ(rte_eal_hotplug_add("vdev", "net_null_intr", "no-rx=1"), 0);
	uint16_t null_port;
	ASSERT_EQ(rte_eth_dev_get_port_by_name("net_null_intr", &null_port), 0);
	net::port_conf c;
	c.rx_interrupts = true;
	ASSERT_EQ(net::port_configure(null_port, c, test::test_pool()), 0);
	ASSERT_EQ(net::port_start(null_port), 0);
	forward_to fwd(null_port);
	test::log_capture log;
	EXPECT_EQ(net::net_add_rxq({null_port, 0, lcore(), net::rx_mode::interrupt, &fwd}), -ENOTSUP);
	EXPECT_TRUE(log.contains("(net_null): Rx queue 0 has no Rx interrupt, interrupt mode refused")) << log.text();
	ring_port &r = port("ir");
	EXPECT_EQ(net::net_add_rxq({r.id, 0, lcore(), net::rx_mode::interrupt, &fwd}), -ENOTSUP);
	EXPECT_TRUE(log.contains("(net_ring)")) << log.text();
	EXPECT_EQ(net::net_add_rxq({RTE_MAX_ETHPORTS - 1, 0, lcore(), net::rx_mode::poll, &fwd}), -ENODEV);
	EXPECT_EQ(net::port_configure(RTE_MAX_ETHPORTS - 1, c, test::test_pool()), -ENODEV);
	EXPECT_TRUE(log.contains("does not exist")) << log.text();
	rte_eth_dev_stop(null_port);
	rte_eth_dev_close(null_port);
	rte_eal_hotplug_remove("vdev", "net_null_intr");
}

TEST_F(net_test, test_net_adaptive_backs_off_without_interrupts_and_resumes_on_traffic)
{
	ASSERT_EQ(net::net_init(), 0);
	ring_port &a = port("aa");
	ring_port &b = port("ab");
	forward_to fwd(b.id);
	net::rxq_conf c{a.id, 0, lcore(), net::rx_mode::adaptive, &fwd};
	c.sw.max_backoff_ns = 1000000;
	start_adaptive(c, b.id);
	std::this_thread::sleep_for(200ms);
	const net::lcore_net_stats idle = net::net_lcore_stats(lcore());
	const lcore_stats ls = lcore_get_stats(lcore());
	EXPECT_GT(idle.softnet.backoffs, 0u) << "no back-off on an idle queue without interrupts";
	EXPECT_GT(ls.sleeps, 100u) << "the idle lcore did not sleep between polls";
	/* Backed off to its 1 ms ceiling, the queue is polled about once a millisecond. */
	const uint64_t idle_polls = polls_over(300ms);
	EXPECT_LT(idle_polls, 1000u) << "an idle queue in back-off is polled too often";
	EXPECT_EQ(forwarded(a, b, 1000), 1000u) << "traffic was not picked up after the back-off";
	printf("adaptive without interrupts: %" PRIu64 " back-offs, %" PRIu64 " sleeps in 200 ms idle, then %" PRIu64
	       " polls in 300 ms; 1000 packets forwarded after\n",
	       idle.softnet.backoffs, ls.sleeps, idle_polls);
}

TEST_F(net_test, test_net_adaptive_backoff_ceiling_is_the_queues_setting)
{
	ASSERT_EQ(net::net_init(), 0);
	ring_port &a = port("ca");
	ring_port &b = port("cb");
	forward_to fwd(b.id);
	net::rxq_conf c{a.id, 0, lcore(), net::rx_mode::adaptive, &fwd};
	c.sw.max_backoff_ns = 5000;
	EXPECT_EQ(net::net_add_rxq(c), -EINVAL) << "a ceiling under the 10 us first step";
	c.sw.max_backoff_ns = 2000000000;
	EXPECT_EQ(net::net_add_rxq(c), -EINVAL) << "a ceiling over 1 s";
	c.sw.max_backoff_ns = 20000000;
	start_adaptive(c, b.id);
	std::this_thread::sleep_for(300ms);
	/* At a 20 ms ceiling: about 15 polls in 300 ms, where the default 5 ms gives about 60. */
	const uint64_t idle_polls = polls_over(300ms);
	EXPECT_LT(idle_polls, 40u) << "the queue's ceiling was not used";
	EXPECT_GT(idle_polls, 5u) << "the queue is no longer polled while idle";
	EXPECT_EQ(forwarded(a, b, 100), 100u) << "traffic was not picked up after the back-off";
	printf("adaptive without interrupts, 20 ms ceiling: %" PRIu64 " polls in 300 ms idle\n", idle_polls);
}

/*
 * Two idle queues without interrupts on one lcore back off side by side:
 * when the lcore wakes for one, the other, due soon, is polled too, so
 * that the lcore wakes about once per ceiling, not once per queue.
 */
TEST_F(net_test, test_net_idle_queues_of_one_lcore_share_its_back_off_wake_ups)
{
	ASSERT_EQ(net::net_init(), 0);
	ring_port &a = port("sa");
	ring_port &b = port("sb");
	forward_to to_b(b.id), to_a(a.id);
	net::rxq_conf ca{a.id, 0, lcore(), net::rx_mode::adaptive, &to_b};
	ca.sw.max_backoff_ns = 20000000;
	net::rxq_conf cb = ca;
	cb.port = b.id;
	cb.handler = &to_a;
	ASSERT_EQ(net::net_add_rxq(cb), 0);
	ASSERT_EQ(net::net_add_txq(a.id, 0, lcore()), 0);
	start_adaptive(ca, b.id);
	std::this_thread::sleep_for(300ms);
	/* Traffic on one queue only restarts its back-off from 10 us: out of step with the other's. */
	EXPECT_EQ(forwarded(a, b, 10), 10u);
	std::this_thread::sleep_for(300ms);
	const uint64_t s0 = lcore_get_stats(lcore()).sleeps, p0 = net::softnet_get(lcore()).polls;
	std::this_thread::sleep_for(600ms);
	const uint64_t sleeps = lcore_get_stats(lcore()).sleeps - s0, polls = net::softnet_get(lcore()).polls - p0;
	printf("two idle queues, 20 ms ceiling: %" PRIu64 " wake-ups and %" PRIu64 " polls in 600 ms\n", sleeps, polls);
	EXPECT_GT(polls, 2 * sleeps - 4) << "the queues were not polled together";
	EXPECT_LT(sleeps, 45u) << "each queue woke the lcore on its own";
}

TEST_F(net_test, test_net_full_load_polling_never_hands_net_rx_to_ksoftirqd)
{
	/*
	 * net_null never runs dry: every NET_RX pass uses the whole weight. In
	 * poll mode the top half raises NET_RX again on every loop pass, so
	 * NET_RX must not re-raise itself: ten restarts of that would be a
	 * "flood" and move the lcore's polling to ksoftirqd.
	 */
	ASSERT_EQ(net::net_init(), 0);
	ASSERT_EQ(rte_eal_hotplug_add("vdev", "net_null_load", ""), 0);
	uint16_t port;
	ASSERT_EQ(rte_eth_dev_get_port_by_name("net_null_load", &port), 0);
	ASSERT_EQ(net::port_configure(port, net::port_conf{}, test::test_pool()), 0);
	ASSERT_EQ(net::port_start(port), 0);
	forward_to fwd(port);
	ASSERT_EQ(net::net_add_rxq({port, 0, lcore(), net::rx_mode::poll, &fwd}), 0);
	ASSERT_EQ(net::net_add_txq(port, 0, lcore()), 0);
	const uint64_t wakeups = ksoftirqd_get_stats(lcore()).wakeups;
	go();
	std::this_thread::sleep_for(300ms);
	lc_->stop_loop();
	const net::port_stats st = net::net_port_stats(port);
	printf("net_null at full load for 300 ms: %" PRIu64 " packets, ksoftirqd wake-ups %" PRIu64 "\n", st.rx,
	       ksoftirqd_get_stats(lcore()).wakeups - wakeups);
	EXPECT_GT(st.rx, 100000u);
	EXPECT_EQ(ksoftirqd_get_stats(lcore()).wakeups, wakeups);
	EXPECT_EQ(stop(), 0);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_eal_hotplug_remove("vdev", "net_null_load");
}

TEST_F(net_test, test_net_tx_to_a_port_without_txq_is_dropped_and_counted)
{
	ASSERT_EQ(net::net_init(), 0);
	ring_port &a = port("na");
	ring_port &b = port("nb");
	forward_to one_by_one(b.id), burst(b.id, true);
	ASSERT_EQ(net::net_add_rxq({a.id, 0, lcore(), net::rx_mode::poll, &one_by_one}), 0);
	ASSERT_EQ(net::net_add_rxq({b.id, 0, lcore(), net::rx_mode::poll, &burst}), 0);
	go();
	inject_all(a, frames(0, 10));
	inject_all(b, frames(10, 10));
	/* Both handlers sent to b, which has no Tx queue here: Tx drops of b, whatever port they came from. */
	ASSERT_TRUE(wait_until([&] { return net::net_port_stats(b.id).tx_dropped == 20; }));
	EXPECT_EQ(net::net_lcore_stats(lcore()).dropped[unsigned(net::drop_reason::no_txq)], 20u);
	EXPECT_EQ(net::net_port_stats(b.id).tx, 0u);
	EXPECT_EQ(net::net_port_stats(a.id).rx_dropped + net::net_port_stats(a.id).tx_dropped, 0u);
	EXPECT_EQ(net::net_port_stats(b.id).rx_dropped, 0u);
}

struct link_seen {
	std::atomic<int> calls{0};
	std::atomic<bool> in_task{false};
	std::atomic<uint16_t> port{0};
};

TEST_F(net_test, test_net_link_status_change_is_handled_in_a_work_queue)
{
	/*
	 * No virtual PMD here raises LSC (net_tap updates its link status but
	 * calls no callback), so the test plays DPDK's interrupt thread: it
	 * delivers the event through ethdev's driver-side entry point, from a
	 * thread that is not an lcore, as a PMD's interrupt handler would.
	 */
	ASSERT_EQ(net::net_init(), 0);
	ASSERT_EQ(rte_eal_hotplug_add("vdev", "net_tap_lsc", ("iface=bhl" + std::to_string(getpid())).c_str()), 0);
	uint16_t tap;
	ASSERT_EQ(rte_eth_dev_get_port_by_name("net_tap_lsc", &tap), 0);
	ASSERT_EQ(net::port_configure(tap, net::port_conf{}, test::test_pool()), 0);
	ASSERT_EQ(net::port_start(tap), 0);
	go();
	link_seen seen;
	ASSERT_EQ(net::port_watch_link(tap, system_wq(), [](uint16_t p, const rte_eth_link &, void *arg) {
		auto *s = static_cast<link_seen *>(arg);
		s->in_task = in_task() && !in_interrupt();
		s->port = p;
		s->calls.fetch_add(1);
	}, &seen), 0);
	std::thread irq_thread([&] {
		rte_eth_dev_callback_process(rte_eth_dev_allocated("net_tap_lsc"), RTE_ETH_EVENT_INTR_LSC, nullptr);
	});
	irq_thread.join();
	EXPECT_TRUE(wait_until([&] { return seen.calls.load() == 1; })) << "the event did not reach the work queue";
	EXPECT_TRUE(seen.in_task.load()) << "the handler must run in process context (a worker)";
	EXPECT_EQ(seen.port.load(), tap);
	EXPECT_EQ(net::port_link_events(tap), 1u);
	EXPECT_EQ(net::port_unwatch_link(tap), 0);
	ring_port &no_lsc = port("ls");
	test::log_capture log;
	EXPECT_EQ(net::port_watch_link(no_lsc.id, system_wq(), nullptr, nullptr), -ENOTSUP);
	EXPECT_TRUE(log.contains("(net_ring): no link-status interrupt")) << log.text();
	lc_->stop_loop();
	EXPECT_EQ(stop(), 0);
	rte_eth_dev_stop(tap);
	rte_eth_dev_close(tap);
	rte_eal_hotplug_remove("vdev", "net_tap_lsc");
}

} // namespace
} // namespace bh
