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

/* An ethdev port on two rings the test feeds and drains. */
struct ring_port {
	rte_ring *rx = nullptr, *tx = nullptr;
	uint16_t id = 0;
	ring_port(const std::string &name, unsigned rx_size, unsigned tx_size);
	~ring_port();
	/* Enqueues @p pkts on the port's Rx ring; returns how many fit. */
	unsigned inject(const std::vector<rte_mbuf *> &pkts);
	/* Dequeues everything the port transmitted. */
	std::vector<rte_mbuf *> collect();
};

/* The process-wide test mbuf pool. */
rte_mempool *test_pool();

/* A frame of @p len bytes whose payload starts with @p seq. */
rte_mbuf *make_frame(uint32_t seq, uint16_t len = 64);
uint32_t frame_seq(const rte_mbuf *m);
void free_all(std::vector<rte_mbuf *> &pkts);

/*
 * The net layer around one worker lcore (pinned to CPU 1): SetUp makes the
 * lcore, TearDown stops everything, lets the subclass release its ports,
 * and checks that every mbuf went back to the pool.
 */
class net_fixture : public core_test {
protected:
	void SetUp() override;
	void TearDown() override;
	virtual void release_ports() {}
	unsigned lcore() const { return lc_->id(); }
	std::unique_ptr<test_lcore> lc_;
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
