/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * More than one queue per port (SPEC section 8: each Rx queue belongs to one
 * lcore): lcores polling their own Rx queues of one port and sending on
 * their own Tx queues, the per-queue counters, the checks of the bindings,
 * and RSS set up by port_configure() where the device has it.
 */
#include <array>
#include <cinttypes>
#include <cstdio>
#include <memory>

#include <rte_ethdev.h>

#include "bh_lcore.h"
#include "bh_netdev.h"
#include "bh_port.h"
#include "net_test.h"

namespace bh {
namespace {

using test::collect_n;
using test::forward_to;
using test::frames;
using test::inject_all;
using test::ring_port;
using test::test_lcore;

/* The fixture's lcore (CPU 1) and a second one (CPU 0), and ports on rings with several queues. */
class net_queues : public test::net_fixture {
protected:
	void SetUp() override
	{
		net_fixture::SetUp();
		lc2_ = std::make_unique<test_lcore>(0);
	}
	void TearDown() override
	{
		stop_both();
		lc2_.reset();
		net_fixture::TearDown();
	}
	/* Tx rings that hold what the tests send. */
	ring_port &port(const char *name, unsigned queues) { return started_ring(name, 1024, 8192, queues); }
	void go()
	{
		ASSERT_EQ(start(), 0);
		lc_->start_loop();
		lc2_->start_loop();
	}
	void stop_both()
	{
		lc_->stop_loop();
		if (lc2_)
			lc2_->stop_loop();
		if (started()) {
			EXPECT_EQ(stop(), 0);
		}
	}
	std::unique_ptr<test_lcore> lc2_;
};

std::vector<net::queue_stats> rxq_stats(uint16_t port)
{
	std::vector<net::queue_stats> qs(8);
	qs.resize(net::net_rxq_stats(port, qs.data(), unsigned(qs.size())));
	return qs;
}

std::vector<net::queue_stats> txq_stats(uint16_t port)
{
	std::vector<net::queue_stats> qs(8);
	qs.resize(net::net_txq_stats(port, qs.data(), unsigned(qs.size())));
	return qs;
}

/* {queue, lcore, packets, dropped}, for the failure messages to show. */
std::vector<std::array<uint64_t, 4>> rows(const std::vector<net::queue_stats> &qs)
{
	std::vector<std::array<uint64_t, 4>> r;
	for (const net::queue_stats &q : qs)
		r.push_back({q.queue, q.lcore, q.packets, q.dropped});
	return r;
}

/*
 * Port a's Rx queue 0 on one lcore, queues 1 and 2 on the other; each lcore
 * sends on its own Tx queue of port b. Runts on queue 2 are that queue's
 * drops, not queue 1's, though the same lcore polls both.
 */
TEST_F(net_queues, test_net_two_lcores_poll_their_own_queues_of_one_port)
{
	ASSERT_EQ(net::net_init(), 0);
	ring_port &a = port("mqa", 3);
	ring_port &b = port("mqb", 2);
	forward_to fwd(b.id, true);
	const uint64_t lcores[2] = {lcore(), lc2_->id()};
	constexpr unsigned queue_lcore[3] = {0, 1, 1};
	for (uint16_t q = 0; q < 3; q++)
		ASSERT_EQ(net::net_add_rxq({a.id, q, unsigned(lcores[queue_lcore[q]]), net::rx_mode::poll, &fwd}), 0);
	for (uint16_t q = 0; q < 2; q++)
		ASSERT_EQ(net::net_add_txq(b.id, q, unsigned(lcores[q])), 0);
	go();
	constexpr unsigned n = 4000, runts = 7;
	constexpr uint32_t first[3] = {0, 1000000, 2000000};
	/* All queues fed side by side, so that both lcores forward at once. */
	for (unsigned sent = 0; sent < n; sent += 500)
		for (unsigned q = 0; q < 3; q++)
			inject_all(a, frames(first[q] + sent, 500), q);
	inject_all(a, frames(0, runts, 10), 2);
	/* Tx queue 0 carries Rx queue 0's frames; Tx queue 1 those of Rx queues 1 and 2, each in order. */
	for (unsigned txq = 0; txq < 2; txq++) {
		auto out = collect_n(b, txq ? 2 * n : n, txq);
		ASSERT_EQ(out.size(), txq ? 2 * n : n) << "Tx queue " << txq;
		uint32_t next[3] = {first[0], first[1], first[2]};
		for (rte_mbuf *m : out) {
			const uint32_t seq = test::frame_seq(m);
			const unsigned rxq = seq / 1000000;
			ASSERT_EQ(queue_lcore[rxq], txq) << "frame " << seq << " of Rx queue " << rxq << " on Tx queue " << txq;
			ASSERT_EQ(seq, next[rxq]++) << "Rx queue " << rxq << "'s frames out of order";
		}
		test::free_all(out);
	}
	ASSERT_TRUE(test::wait_until([&] { return net::net_port_stats(a.id).rx_dropped == runts; }));
	using row = std::array<uint64_t, 4>;
	const std::vector<row> rx_expected = {
		{0, lcores[0], n, 0}, {1, lcores[1], n, 0}, {2, lcores[1], n + runts, runts}};
	const std::vector<row> tx_expected = {{0, lcores[0], n, 0}, {1, lcores[1], 2 * n, 0}};
	EXPECT_EQ(rows(rxq_stats(a.id)), rx_expected) << "Rx queues of the Rx port: queue, lcore, rx, dropped";
	EXPECT_EQ(rows(txq_stats(b.id)), tx_expected) << "Tx queues of the Tx port: queue, lcore, tx, dropped";
	EXPECT_TRUE(rxq_stats(b.id).empty() && txq_stats(a.id).empty()) << "queues nobody bound";
	const net::port_stats in = net::net_port_stats(a.id), out = net::net_port_stats(b.id);
	EXPECT_EQ(in.rx, 3 * n + runts);
	EXPECT_EQ(out.tx, 3 * n);
	EXPECT_EQ(in.rx, out.tx + in.rx_dropped) << "every packet forwarded or dropped with a reason";
	for (unsigned l = 0; l < 2; l++) {
		const net::lcore_net_stats st = net::net_lcore_stats(unsigned(lcores[l]));
		EXPECT_EQ(st.softnet.processed, l ? 2 * n + runts : n) << "lcore " << lcores[l];
		EXPECT_EQ(st.in_flight, 0u) << "lcore " << lcores[l];
	}
	printf("two lcores, three queues of one port: Rx queues %" PRIu64 "/%" PRIu64 "/%" PRIu64 ", Tx queues %" PRIu64
	       "/%" PRIu64 "\n", rxq_stats(a.id)[0].packets, rxq_stats(a.id)[1].packets, rxq_stats(a.id)[2].packets,
	       txq_stats(b.id)[0].packets, txq_stats(b.id)[1].packets);
	/* The counters outlive bh::stop(), for a summary written after the run. */
	stop_both();
	EXPECT_EQ(rows(rxq_stats(a.id)), rx_expected) << "after bh::stop()";
	EXPECT_EQ(rows(txq_stats(b.id)), tx_expected) << "after bh::stop()";
}

TEST_F(net_queues, test_net_queue_bindings_one_lcore_per_queue_and_only_configured_queues)
{
	ASSERT_EQ(net::net_init(), 0);
	ring_port &a = port("mbc", 2);
	forward_to fwd(a.id);
	const unsigned l1 = lcore(), l2 = lc2_->id();
	test::log_capture log;
	EXPECT_EQ(net::net_add_rxq({a.id, 2, l1, net::rx_mode::poll, &fwd}), -EINVAL);
	EXPECT_TRUE(log.contains("(net_ring) has 2 Rx queues configured, no queue 2")) << log.text();
	ASSERT_EQ(net::net_add_rxq({a.id, 0, l1, net::rx_mode::poll, &fwd}), 0);
	EXPECT_EQ(net::net_add_rxq({a.id, 0, l2, net::rx_mode::poll, &fwd}), -EEXIST);
	EXPECT_EQ(net::net_add_rxq({a.id, 0, l1, net::rx_mode::poll, &fwd}), -EEXIST) << "one queue polled twice";
	EXPECT_TRUE(log.contains("Rx queue 0 is lcore " + std::to_string(l1) + "'s already")) << log.text();
	EXPECT_EQ(net::net_add_rxq({a.id, 1, l1, net::rx_mode::poll, &fwd}), 0) << "two queues of a port on one lcore";

	EXPECT_EQ(net::net_add_txq(a.id, 2, l1), -EINVAL);
	EXPECT_TRUE(log.contains("(net_ring) has 2 Tx queues configured, no queue 2")) << log.text();
	ASSERT_EQ(net::net_add_txq(a.id, 0, l1), 0);
	EXPECT_EQ(net::net_add_txq(a.id, 0, l2), -EEXIST) << "a Tx queue shared by two lcores";
	EXPECT_TRUE(log.contains("Tx queue 0 is lcore " + std::to_string(l1) + "'s already")) << log.text();
	EXPECT_EQ(net::net_add_txq(a.id, 0, l1), 0) << "the same binding again";
	EXPECT_EQ(net::net_add_txq(a.id, 1, l2), 0);
	EXPECT_EQ(rows(txq_stats(a.id)), (std::vector<std::array<uint64_t, 4>>{{0, l1, 0, 0}, {1, l2, 0, 0}}));
}

TEST_F(net_queues, test_port_rss_on_devices_that_hash_and_refused_on_those_that_do_not)
{
	/* net_null takes an RSS configuration (it offers RTE_ETH_RSS_PROTO_MASK, not RTE_ETH_RSS_ETH). */
	ASSERT_EQ(rte_eal_hotplug_add("vdev", "net_null_rss", ""), 0);
	uint16_t null_port;
	ASSERT_EQ(rte_eth_dev_get_port_by_name("net_null_rss", &null_port), 0);
	net::port_conf c;
	c.rx_queues = 2;
	c.tx_queues = 2;
	c.rss_hf = RTE_ETH_RSS_IP | RTE_ETH_RSS_ETH;
	test::log_capture log;
	ASSERT_EQ(net::port_configure(null_port, c, test::test_pool()), 0);
	rte_eth_conf conf{};
	ASSERT_EQ(rte_eth_dev_conf_get(null_port, &conf), 0);
	EXPECT_EQ(conf.rxmode.mq_mode, RTE_ETH_MQ_RX_RSS);
	EXPECT_EQ(conf.rx_adv_conf.rss_conf.rss_hf, RTE_ETH_RSS_IP) << "the types the device hashes";
	EXPECT_TRUE(log.contains("(net_null): RSS flow types")) << log.text();
	rte_eth_dev_info info{};
	ASSERT_EQ(rte_eth_dev_info_get(null_port, &info), 0);
	EXPECT_EQ(info.nb_rx_queues, 2u);
	/* One Rx queue needs no spreading; rss_hf 0 asks for none. */
	for (const auto &[queues, hf] : {std::pair<uint16_t, uint64_t>{1, RTE_ETH_RSS_IP}, {2, 0}}) {
		c.rx_queues = queues;
		c.rss_hf = hf;
		ASSERT_EQ(net::port_configure(null_port, c, test::test_pool()), 0);
		ASSERT_EQ(rte_eth_dev_conf_get(null_port, &conf), 0);
		EXPECT_EQ(conf.rxmode.mq_mode, RTE_ETH_MQ_RX_NONE) << queues << " Rx queues, rss_hf " << hf;
	}
	rte_eth_dev_close(null_port);
	rte_eal_hotplug_remove("vdev", "net_null_rss");

	/* net_ring hashes nothing: the sender picks the queue. */
	ports_.push_back(std::make_unique<ring_port>("mrs", 1024, 1024, 2));
	const uint16_t ring = ports_.back()->id;
	c.rx_queues = 2;
	c.rss_hf = RTE_ETH_RSS_IP;
	EXPECT_EQ(net::port_configure(ring, c, test::test_pool()), -ENOTSUP);
	EXPECT_TRUE(log.contains("port " + std::to_string(ring) + " (net_ring): RSS over 2 Rx queues asked for flow "
				 "types 0xa38c, the device hashes none of them")) << log.text();
	c.rss_hf = 0;
	EXPECT_EQ(net::port_configure(ring, c, test::test_pool()), 0);
	c.rx_queues = 3;
	EXPECT_EQ(net::port_configure(ring, c, test::test_pool()), -EINVAL);
	EXPECT_TRUE(log.contains("(net_ring): 3 Rx / 2 Tx queues asked, device has 1..2 / 1..2")) << log.text();
}

} // namespace
} // namespace bh
