/* SPDX-License-Identifier: BSD-3-Clause */
/* SPEC section 8 on net_ring ports: NAPI, NET_RX/NET_TX, Tx backlog, drops, Rx modes. */
#include <atomic>
#include <cinttypes>
#include <memory>

#include <rte_bus_vdev.h>
#include <rte_ethdev.h>

#include "bh_lcore.h"
#include "bh_napi.h"
#include "bh_netdev.h"
#include "bh_port.h"
#include "net_test.h"

namespace bh {
namespace {

using namespace std::chrono_literals;
using test::forward_to;
using test::make_frame;
using test::ring_port;
using test::test_lcore;
using test::wait_until;

/*
 * Brings up the net layer around one worker lcore: ports are added by the
 * test, then go() starts the framework and the loop. TearDown checks that
 * every mbuf went back to the pool.
 */
class net_test : public test::core_test {
protected:
	void SetUp() override
	{
		in_use_ = rte_mempool_in_use_count(test::test_pool());
		lc_ = std::make_unique<test_lcore>(1);
	}
	void TearDown() override
	{
		if (lc_)
			lc_->stop_loop();
		if (started()) {
			EXPECT_EQ(stop(), 0);
		}
		net::net_exit();
		lc_.reset();
		ports_.clear();
		EXPECT_EQ(rte_mempool_in_use_count(test::test_pool()), in_use_) << "mbufs leaked";
		core_test::TearDown();
	}
	ring_port &port(const char *name, unsigned rx_size = 1024, unsigned tx_size = 1024)
	{
		ports_.push_back(std::make_unique<ring_port>(std::string(name) + std::to_string(ports_.size()),
							     rx_size, tx_size));
		ring_port &p = *ports_.back();
		net::port_conf c;
		c.rx_desc = 512;
		c.tx_desc = 512;
		EXPECT_EQ(net::port_configure(p.id, c, test::test_pool()), 0);
		EXPECT_EQ(net::port_start(p.id), 0);
		return p;
	}
	void go()
	{
		ASSERT_EQ(start(), 0);
		lc_->start_loop();
	}
	unsigned lcore() const { return lc_->id(); }
	std::unique_ptr<test_lcore> lc_;
	std::vector<std::unique_ptr<ring_port>> ports_;
	unsigned in_use_ = 0;
};

std::vector<rte_mbuf *> frames(uint32_t first, unsigned n, uint16_t len = 64)
{
	std::vector<rte_mbuf *> v;
	for (unsigned i = 0; i < n; i++)
		v.push_back(make_frame(first + i, len));
	return v;
}

/* Feeds @p pkts to @p p's Rx ring, waiting for room as the lcore drains it. */
void inject_all(ring_port &p, std::vector<rte_mbuf *> pkts)
{
	size_t done = 0;
	ASSERT_TRUE(wait_until([&] {
		std::vector<rte_mbuf *> rest(pkts.begin() + long(done), pkts.end());
		done += p.inject(rest);
		return done == pkts.size();
	}));
}

/* Collects from @p p until @p n packets came out or 2 s passed. */
std::vector<rte_mbuf *> collect_n(ring_port &p, size_t n)
{
	std::vector<rte_mbuf *> out;
	wait_until([&] {
		auto more = p.collect();
		out.insert(out.end(), more.begin(), more.end());
		return out.size() >= n;
	}, 2000ms);
	return out;
}

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
	EXPECT_EQ(in.dropped + outs.dropped, 0u);
	EXPECT_EQ(net::net_lcore_stats(lcore()).in_flight, 0u);
	EXPECT_EQ(net::net_lcore_stats(lcore()).softnet.processed, n);
}

} // namespace
} // namespace bh
