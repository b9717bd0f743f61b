/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * bh-bridge's forwarding: an 802.1D learning bridge as a NET_RX packet
 * handler. Per frame: the source address is learned on the Rx port (a
 * request to the FDB's owner when it is new or has moved; a refresh of its
 * last-seen time otherwise); known unicast goes to its port, unknown
 * unicast, broadcast and multicast are flooded to every other port of the
 * domain, as one mbuf with its reference count raised, never a copy; a frame
 * whose destination is on its Rx port is dropped. Frames are not changed.
 */

#include <cstdint>

#include "bh_netdev.h"
#include "bh_percpu.h"
#include "fdb.h"

namespace bridge {

/* What the forwarding did, summed over the lcores (or of one). */
struct forward_stats {
	uint64_t unicast = 0;         /* known unicast, sent to its port */
	uint64_t unknown_unicast = 0; /* flooded: destination not in the FDB */
	uint64_t broadcast = 0;       /* flooded */
	uint64_t multicast = 0;       /* flooded */
	uint64_t flood_tx = 0;        /* transmissions the floods made (one per port reached) */
	uint64_t same_port = 0;       /* dropped: destination on the Rx port (filtered) */
	uint64_t src_not_learned = 0; /* frames from a group or all-zero source: forwarded, not learned */
};

class forwarder : public bh::net::packet_handler {
public:
	explicit forwarder(fdb &f) : fdb_(f) {}
	void on_burst(bh::net::rx_context &ctx, rte_mbuf **pkts, uint16_t n) override;
	/* Every frame is read: the checks go in the same loop. */
	bool checks_frames() const noexcept override { return true; }
	/* Counters of @p lcore, or of all lcores; any thread. */
	forward_stats stats(unsigned lcore) const noexcept;
	forward_stats stats() const noexcept;

private:
	/* [R] one lcore's counters, written by its NET_RX. */
	struct counters {
		bh::lcore_counter unicast, unknown_unicast, broadcast, multicast, flood_tx, same_port, src_not_learned;
	};
	void flood(bh::net::rx_context &ctx, rte_mbuf *m, uint64_t to, counters &c) noexcept;
	/* on_burst() for at most lookup_frames frames. */
	void forward(bh::net::rx_context &ctx, rte_mbuf **pkts, uint16_t n);

	/* Frames per fdb lookup: two addresses each, within rte_hash's bulk limit of 64 keys. */
	static constexpr uint16_t lookup_frames = 32;

	fdb &fdb_;
	bh::per_lcore<counters> counters_;
};

} // namespace bridge
