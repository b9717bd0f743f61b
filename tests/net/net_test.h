/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* Support for the net-layer tests: ports on rings, packets with sequence numbers, a forwarding handler. */

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "bh_netdev.h"
#include "bh_test.h"

namespace bh::test {

/* An ethdev port on rings the test feeds and drains: one Rx and one Tx ring per queue. */
struct ring_port {
	std::vector<rte_ring *> rx, tx;
	uint16_t id = 0;
	ring_port(const std::string &name, unsigned rx_size, unsigned tx_size, unsigned queues = 1);
	~ring_port();
	/* Enqueues @p pkts on Rx queue @p queue's ring; returns how many fit. */
	unsigned inject(const std::vector<rte_mbuf *> &pkts, unsigned queue = 0);
	/* Dequeues everything the port transmitted on Tx queue @p queue. */
	std::vector<rte_mbuf *> collect(unsigned queue = 0);
};

/* The process-wide test mbuf pool. */
rte_mempool *test_pool();

/* A frame of @p len bytes whose payload starts with @p seq. */
rte_mbuf *make_frame(uint32_t seq, uint16_t len = 64);
uint32_t frame_seq(const rte_mbuf *m);
void free_all(std::vector<rte_mbuf *> &pkts);
/* @p n frames of @p len bytes numbered from @p first. */
std::vector<rte_mbuf *> frames(uint32_t first, unsigned n, uint16_t len = 64);
/* Feeds @p pkts to @p p's Rx queue @p queue, waiting for room as an lcore drains it. */
void inject_all(ring_port &p, std::vector<rte_mbuf *> pkts, unsigned queue = 0);
/* Collects from @p p's Tx queue @p queue until @p n packets came out or 2 s passed. */
std::vector<rte_mbuf *> collect_n(ring_port &p, size_t n, unsigned queue = 0);

/*
 * The net layer around one worker lcore (pinned to CPU 1): SetUp makes the
 * lcore, TearDown stops everything, lets the subclass release its ports,
 * frees the ring ports, and checks that every mbuf went back to the pool.
 */
class net_fixture : public core_test {
protected:
	void SetUp() override;
	void TearDown() override;
	virtual void release_ports() {}
	unsigned lcore() const { return lc_->id(); }
	/* A ring port with @p queues Rx and Tx queues (512 descriptors each), configured and started. */
	ring_port &started_ring(const std::string &name, unsigned rx_size, unsigned tx_size, unsigned queues = 1);
	std::unique_ptr<test_lcore> lc_;
	std::vector<std::unique_ptr<ring_port>> ports_;
	unsigned in_use_ = 0;
};

/* Forwards every packet of a burst to one port, as io-forwarding does: one by one, or as a burst. */
class forward_to : public net::packet_handler {
public:
	explicit forward_to(uint16_t out, bool as_burst = false) : out_(out), as_burst_(as_burst) {}
	void on_burst(net::rx_context &ctx, rte_mbuf **pkts, uint16_t n) override
	{
		if (as_burst_) {
			ctx.tx_burst(out_, pkts, n);
			return;
		}
		for (uint16_t i = 0; i < n; i++)
			ctx.tx(out_, pkts[i]);
	}

private:
	uint16_t out_;
	bool as_burst_;
};

} // namespace bh::test
