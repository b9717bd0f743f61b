/* SPDX-License-Identifier: BSD-3-Clause */
#include <algorithm>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "bridge.h"

namespace bridge {

void forwarder::flood(bh::net::rx_context &ctx, rte_mbuf *m, uint64_t to, counters &c) noexcept
{
	const int k = __builtin_popcountll(to);
	/* A domain has two ports or more, so k >= 1. Each Tx queue frees one reference once the frame is out (or dropped). */
	if (k > 1)
		rte_mbuf_refcnt_update(m, int16_t(k - 1));
	c.flood_tx.add(unsigned(k));
	for (; to; to &= to - 1)
		ctx.tx(uint16_t(__builtin_ctzll(to)), m);
}

void forwarder::on_burst(bh::net::rx_context &ctx, rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t off = 0; off < n; off = uint16_t(off + lookup_frames))
		forward(ctx, pkts + off, std::min<uint16_t>(lookup_frames, uint16_t(n - off)));
}

void forwarder::forward(bh::net::rx_context &ctx, rte_mbuf **pkts, uint16_t n)
{
	const unsigned lc = ctx.lcore();
	const uint16_t in = ctx.port();
	counters &c = counters_[lc];
	/* Keys 2i and 2i+1: frame i's destination and source. */
	mac_t macs[2 * lookup_frames];
	fdb_entry *found[2 * lookup_frames];
	uint16_t ok = 0;
	for (uint16_t i = 0; i < n; i++) {
		rte_mbuf *m = pkts[i];
		if (const auto why = ctx.check(m); unlikely(why != bh::net::drop_reason::count)) {
			ctx.drop(m, why);
			continue;
		}
		/* 8-byte loads inside the 14-byte header the check guarantees. */
		const auto *h = rte_pktmbuf_mtod(m, const uint8_t *);
		macs[2 * ok] = mac_load(h);
		macs[2 * ok + 1] = mac_load(h + RTE_ETHER_ADDR_LEN);
		pkts[ok++] = m;
	}
	if (!ok)
		return;

	fdb_.reader_enter(lc);
	fdb_.lookup(lc, macs, 2u * ok, found);
	const uint64_t now = rte_rdtsc() >> seen_shift;
	const uint64_t others = fdb_.ports() & ~(1ull << in);
	mac_t last_request = 0;
	for (uint16_t i = 0; i < ok; i++) {
		rte_mbuf *m = pkts[i];
		const mac_t dst = macs[2 * i], src = macs[2 * i + 1];
		if (fdb_entry *s = found[2 * i + 1]) {
			if (likely(s->port.load(std::memory_order_relaxed) == in)) {
				if (s->seen.load(std::memory_order_relaxed) != now)
					s->seen.store(now, std::memory_order_relaxed);
			} else if (!(s->flags.load(std::memory_order_relaxed) & fdb_entry::is_static) && src != last_request) {
				fdb_.request(lc, src, in);
				last_request = src;
			}
		} else if (unlikely(mac_is_group(src) || src == 0)) {
			c.src_not_learned.add();
		} else if (src != last_request) {
			fdb_.request(lc, src, in);
			last_request = src;
		}

		if (mac_is_group(dst)) {
			(dst == mac_mask ? c.broadcast : c.multicast).add();
			flood(ctx, m, others, c);
		} else if (const fdb_entry *d = found[2 * i]) {
			const uint16_t out = d->port.load(std::memory_order_relaxed);
			if (unlikely(out == in)) {
				c.same_port.add();
				ctx.drop(m);
			} else {
				c.unicast.add();
				ctx.tx(out, m);
			}
		} else {
			c.unknown_unicast.add();
			flood(ctx, m, others, c);
		}
	}
	fdb_.reader_exit(lc);
	fdb_.commit(lc);
}

forward_stats forwarder::stats(unsigned lcore) const noexcept
{
	const counters &c = counters_[lcore];
	forward_stats s;
	s.unicast = c.unicast.read();
	s.unknown_unicast = c.unknown_unicast.read();
	s.broadcast = c.broadcast.read();
	s.multicast = c.multicast.read();
	s.flood_tx = c.flood_tx.read();
	s.same_port = c.same_port.read();
	s.src_not_learned = c.src_not_learned.read();
	return s;
}

forward_stats forwarder::stats() const noexcept
{
	forward_stats t;
	for (unsigned l = 0; l < bh::max_lcores; l++) {
		const forward_stats s = stats(l);
		t.unicast += s.unicast;
		t.unknown_unicast += s.unknown_unicast;
		t.broadcast += s.broadcast;
		t.multicast += s.multicast;
		t.flood_tx += s.flood_tx;
		t.same_port += s.same_port;
		t.src_not_learned += s.src_not_learned;
	}
	return t;
}

} // namespace bridge
