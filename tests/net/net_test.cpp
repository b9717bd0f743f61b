/* SPDX-License-Identifier: BSD-3-Clause */
#include <cstring>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>

#include "bh_lcore.h"
#include "bh_port.h"
#include "net_test.h"

namespace bh::test {

void net_fixture::SetUp()
{
	in_use_ = rte_mempool_in_use_count(test_pool());
	lc_ = std::make_unique<test_lcore>(1);
}

void net_fixture::TearDown()
{
	if (lc_)
		lc_->stop_loop();
	if (started()) {
		EXPECT_EQ(stop(), 0);
	}
	lc_.reset();
	release_ports();
	ports_.clear();
	EXPECT_EQ(rte_mempool_in_use_count(test_pool()), in_use_) << "mbufs leaked";
	core_test::TearDown();
}

ring_port &net_fixture::started_ring(const std::string &name, unsigned rx_size, unsigned tx_size, unsigned queues)
{
	ports_.push_back(std::make_unique<ring_port>(name, rx_size, tx_size, queues));
	ring_port &p = *ports_.back();
	net::port_conf c;
	c.rx_queues = c.tx_queues = uint16_t(queues);
	c.rx_desc = c.tx_desc = 512;
	EXPECT_EQ(net::port_configure(p.id, c, test_pool()), 0);
	EXPECT_EQ(net::port_start(p.id), 0);
	return p;
}

rte_mempool *test_pool()
{
	static rte_mempool *pool = rte_pktmbuf_pool_create("test_pool", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	return pool;
}

ring_port::ring_port(const std::string &name, unsigned rx_size, unsigned tx_size, unsigned queues)
{
	for (unsigned q = 0; q < queues; q++) {
		const std::string suffix = q ? std::to_string(q) : "";
		rx.push_back(rte_ring_create((name + "_rx" + suffix).c_str(), rx_size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ));
		tx.push_back(rte_ring_create((name + "_tx" + suffix).c_str(), tx_size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ));
		EXPECT_NE(rx.back(), nullptr);
		EXPECT_NE(tx.back(), nullptr);
	}
	const int p = rte_eth_from_rings(name.c_str(), rx.data(), queues, tx.data(), queues, 0);
	EXPECT_GE(p, 0) << "cannot create ring port " << name;
	id = uint16_t(p);
}

ring_port::~ring_port()
{
	for (unsigned q = 0; q < tx.size(); q++) {
		auto left = collect(q);
		free_all(left);
		rte_mbuf *m;
		while (rte_ring_dequeue(rx[q], reinterpret_cast<void **>(&m)) == 0)
			rte_pktmbuf_free(m);
	}
	rte_eth_dev_stop(id);
	rte_eth_dev_close(id);
	for (unsigned q = 0; q < tx.size(); q++) {
		rte_ring_free(rx[q]);
		rte_ring_free(tx[q]);
	}
}

unsigned ring_port::inject(const std::vector<rte_mbuf *> &pkts, unsigned queue)
{
	return rte_ring_enqueue_burst(rx[queue], reinterpret_cast<void *const *>(pkts.data()), unsigned(pkts.size()),
				      nullptr);
}

std::vector<rte_mbuf *> ring_port::collect(unsigned queue)
{
	std::vector<rte_mbuf *> out;
	rte_mbuf *m;
	while (rte_ring_dequeue(tx[queue], reinterpret_cast<void **>(&m)) == 0)
		out.push_back(m);
	return out;
}

rte_mbuf *make_frame(uint32_t seq, uint16_t len)
{
	rte_mbuf *m = rte_pktmbuf_alloc(test_pool());
	char *p = rte_pktmbuf_append(m, len);
	memset(p, 0, len);
	memcpy(p + 14, &seq, sizeof(seq));
	return m;
}

uint32_t frame_seq(const rte_mbuf *m)
{
	uint32_t seq;
	memcpy(&seq, rte_pktmbuf_mtod_offset(m, const char *, 14), sizeof(seq));
	return seq;
}

void free_all(std::vector<rte_mbuf *> &pkts)
{
	for (rte_mbuf *m : pkts)
		rte_pktmbuf_free(m);
	pkts.clear();
}

std::vector<rte_mbuf *> frames(uint32_t first, unsigned n, uint16_t len)
{
	std::vector<rte_mbuf *> v;
	for (unsigned i = 0; i < n; i++)
		v.push_back(make_frame(first + i, len));
	return v;
}

void inject_all(ring_port &p, std::vector<rte_mbuf *> pkts, unsigned queue)
{
	size_t done = 0;
	ASSERT_TRUE(wait_until([&] {
		std::vector<rte_mbuf *> rest(pkts.begin() + long(done), pkts.end());
		done += p.inject(rest, queue);
		return done == pkts.size();
	}));
}

std::vector<rte_mbuf *> collect_n(ring_port &p, size_t n, unsigned queue)
{
	std::vector<rte_mbuf *> out;
	wait_until([&] {
		auto more = p.collect(queue);
		out.insert(out.end(), more.begin(), more.end());
		return out.size() >= n;
	}, std::chrono::milliseconds(2000));
	return out;
}

} // namespace bh::test
