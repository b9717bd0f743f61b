/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/**
 * @file
 * The net layer's run-time: Rx queues bound to lcores as NAPI contexts in
 * poll, interrupt or adaptive mode, the packet-handler API applications
 * implement, NET_TX with per-lcore Tx buffers and a bounded backlog, and
 * the counters (SPEC section 8).
 *
 * Each Rx queue is a NAPI context (bh_napi.h) given to its lcore in the
 * queue's mode: NAPI decides when it is polled, when it sleeps on its Rx
 * interrupt and when it backs off (napi_rule, napi_switch). NET_RX polls the
 * queues and hands bursts to the handler; what the handler transmits goes
 * into the lcore's Tx buffer for that port, flushed when a burst is full
 * and where each poll ends; what the Tx ring refuses waits in a bounded
 * backlog that NET_TX retries, and a drain timer while the ring takes
 * nothing; what does not fit is dropped and counted. Every mbuf received is
 * transmitted or freed with a named reason.
 */

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <utility>
#ifdef __SSE4_1__
#include <smmintrin.h>
#endif

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "bh_napi.h"

namespace bh::net {

/** Why a packet was freed instead of transmitted. */
enum class drop_reason : unsigned {
	runt,     /**< shorter than an Ethernet header */
	oversize, /**< longer than the maximum frame */
	chained,  /**< several segments: not handled here */
	tx_full,  /**< Tx ring and backlog full */
	no_txq,   /**< no Tx queue on that port for this lcore */
	handler,  /**< the application dropped it */
	count
};

/**
 * The name of @p r as the counters and dumps print it ("?" out of range).
 * @context Any thread.
 * @cost An array read.
 */
const char *drop_reason_name(drop_reason r) noexcept;

/** What a handler may do with the packets of a burst. */
class rx_context {
public:
	/**
	 * The lcore running the handler.
	 * @context The handler's on_burst().
	 * @cost None.
	 */
	unsigned lcore() const noexcept { return lcore_; }
	/**
	 * The port the burst came from.
	 * @context The handler's on_burst().
	 * @cost None.
	 */
	uint16_t port() const noexcept { return port_; }
	/**
	 * The Rx queue the burst came from.
	 * @context The handler's on_burst().
	 * @cost None.
	 */
	uint16_t queue() const noexcept { return queue_; }

	/**
	 * Transmits @p m on @p port through this lcore's Tx buffer: when the
	 * buffer holds a burst it goes to the Tx ring, whose refusals wait in a
	 * bounded backlog that NET_TX retries; what does not fit is freed and
	 * counted as tx_full, and a port this lcore has no Tx queue on drops it
	 * as no_txq. Never blocks.
	 * @context The handler's on_burst(), in NET_RX (softirq context) on the
	 *   queue's lcore or its ksoftirqd.
	 * @cost A store into the buffer; every 32nd packet an rte_eth_tx_burst().
	 */
	void tx(uint16_t port, rte_mbuf *m) noexcept;
	/**
	 * Transmits @p n packets on @p port: tx() for a whole burst, one call.
	 * A whole burst may go to the PMD as it is, so @p pkts may be changed
	 * (as rte_eth_tx_burst() may change its array).
	 * @context As tx().
	 * @cost One rte_eth_tx_burst() for all @p n when they are 32 or more
	 *   and nothing is buffered; else copies into the buffer first.
	 */
	void tx_burst(uint16_t port, rte_mbuf **pkts, uint16_t n) noexcept;
	/**
	 * Frees @p m, counting it under @p why.
	 * @context As tx().
	 * @cost rte_pktmbuf_free() and two counters.
	 */
	void drop(rte_mbuf *m, drop_reason why = drop_reason::handler) noexcept;

	/**
	 * The check NET_RX makes before on_burst() (see
	 * packet_handler::checks_frames()): drop_reason::count for a frame a
	 * handler may read, else why it must be dropped.
	 * @context Any thread.
	 * @cost Inline, a few instructions; reads the mbuf's first cache line.
	 */
	drop_reason check(const rte_mbuf *m) const noexcept
	{
		if (m->nb_segs > 1)
			return drop_reason::chained;
		if (m->data_len < RTE_ETHER_HDR_LEN)
			return drop_reason::runt;
		return m->data_len > max_frame_ ? drop_reason::oversize : drop_reason::count;
	}

	/** Made by NET_RX for each burst. */
	rx_context(unsigned lcore, uint16_t port, uint16_t queue, uint32_t max_frame) noexcept
		: lcore_(lcore), port_(port), queue_(queue), max_frame_(max_frame)
	{
	}

private:
	friend class burst_check;
	template <typename Visit>
	friend bool check_each(const rx_context &ctx, rte_mbuf *const *pkts, uint16_t n, Visit &&visit) noexcept;

	unsigned lcore_;
	uint16_t port_, queue_;
	uint32_t max_frame_;
};

/**
 * rx_context::check() folded over a burst, without branches, for code that
 * reads every frame anyway: add() each frame in that loop, then ok() tells
 * whether all of them would pass; only a burst with a bad frame needs
 * check() frame by frame. Two operations a frame: the segment counts are
 * ORed (each is at least 1, so the OR is 1 only if every one is), and the
 * largest length less an Ethernet header is kept (a runt's wraps round to a
 * huge value), compared once with the limit. A one-segment frame's pkt_len
 * is its data_len (an mbuf invariant), so data_len is the one read.
 * Make one per burst on the stack: its limit is a copy that the handler's
 * stores to frames cannot alias, so it stays in a register.
 */
class burst_check {
public:
	/**
	 * @context The handler's on_burst() or NET_RX.
	 * @cost Copies the context's limit.
	 */
	explicit burst_check(const rx_context &ctx) noexcept : limit_(ctx.max_frame_ - RTE_ETHER_HDR_LEN) {}
	/**
	 * Folds @p m in.
	 * @context As the constructor.
	 * @cost Inline, three or four instructions; reads the mbuf's first cache line.
	 */
	void add(const rte_mbuf *m) noexcept
	{
		segs_ |= m->nb_segs;
		const unsigned len = unsigned(m->data_len) - RTE_ETHER_HDR_LEN;
		longest_ = len > longest_ ? len : longest_;
	}
	/**
	 * Whether every frame added passes check() (true for none).
	 * @context As the constructor.
	 * @cost Two compares.
	 */
	bool ok() const noexcept { return (segs_ == 1) & (longest_ <= limit_); }

private:
	unsigned limit_;
	uint16_t segs_ = 1;
	unsigned longest_ = 0;
};

/**
 * Calls @p visit on each of the @p n frames of a burst, in order, and folds
 * rx_context::check() over them without branches, as burst_check does, in
 * the same loop: the loop a handler that reads every frame anyway
 * (packet_handler::checks_frames()) does its per-frame work in. Where the
 * compiler targets SSE4.1 (DPDK's x86 flags, -march=corei7, do), the lengths
 * of each eight frames go into the lanes of one vector, checked eight at a
 * time: two instructions a frame for both checks instead of burst_check's
 * four.
 * @p visit sees every frame, a bad one too, so it may write only inside a
 * frame's data room (a runt's included), never past it.
 * @return Whether every frame passes check() (true for none). If not, the
 *   caller check()s the frames again one by one and drops the bad ones.
 * @context The handler's on_burst() or NET_RX.
 * @cost Inline; per frame a load of the mbuf pointer, one OR and one lane
 *   insert, each reading the mbuf's first cache line, and @p visit; per
 *   eight frames two vector operations; per burst a few.
 */
template <typename Visit>
[[gnu::always_inline]] inline bool check_each(const rx_context &ctx, rte_mbuf *const *pkts, uint16_t n,
					      Visit &&visit) noexcept
{
	burst_check rest(ctx);
	unsigned i = 0;
#ifdef __SSE4_1__
	/*
	 * Lengths less a header in 16-bit lanes: a runt's wraps round to 0xfff2
	 * or more, and no one-segment frame's exceeds 0xfff1, so a limit capped
	 * there keeps the check exact for any max_frame. Copies taken before
	 * the loop: @p visit's stores may alias ctx.
	 */
	const __m128i hdr = _mm_set1_epi16(RTE_ETHER_HDR_LEN);
	const __m128i limit = _mm_set1_epi16(int16_t(std::min<uint32_t>(ctx.max_frame_ - RTE_ETHER_HDR_LEN, 0xfff1)));
	__m128i longest = _mm_setzero_si128();
	uint16_t segs = 1;
	for (; i + 8 <= n; i += 8) {
		__m128i lens = _mm_setzero_si128();
		rte_mbuf *const *group = pkts + i;
		[&]<int... K>(std::integer_sequence<int, K...>) [[gnu::always_inline]] {
			(
				[&] [[gnu::always_inline]] {
					rte_mbuf *const m = group[K];
					segs |= m->nb_segs;
					lens = _mm_insert_epi16(lens, m->data_len, K);
					visit(m);
				}(),
				...);
		}(std::make_integer_sequence<int, 8>{});
		longest = _mm_max_epu16(longest, _mm_sub_epi16(lens, hdr));
	}
	/* Every lane within the limit: the lanes' maximum with it is the limit. */
	const bool groups_ok = (segs == 1) &
			       (_mm_movemask_epi8(_mm_cmpeq_epi16(_mm_max_epu16(longest, limit), limit)) == 0xffff);
#else
	const bool groups_ok = true;
#endif
	for (; i < n; i++) {
		rest.add(pkts[i]);
		visit(pkts[i]);
	}
	return groups_ok & rest.ok();
}

/**
 * The most frames one on_burst() call gets: a poll receives up to its
 * weight (64 by default, the kernel's NAPI weight) in one rte_eth_rx_burst()
 * of at most this many, so the per-call costs (ethdev's inline checks, the
 * handler's call, the Tx call) are paid once for a whole poll.
 */
inline constexpr uint16_t max_burst = 64;

/** The application's per-burst code: an l2fwd is one of these. */
class packet_handler {
public:
	virtual ~packet_handler() = default;
	/**
	 * Up to max_burst valid frames received on ctx.port()/ctx.queue(). Each
	 * must be given to ctx.tx() or ctx.drop().
	 * @context NET_RX, softirq context, on the queue's lcore (or its
	 *   ksoftirqd): it must not sleep.
	 * @cost Its own: it is the per-packet path.
	 */
	virtual void on_burst(rx_context &ctx, rte_mbuf **pkts, uint16_t n) = 0;
	/**
	 * False (the default): NET_RX gives on_burst() only frames that pass
	 * rx_context::check(), in a pass over the burst before the call. True:
	 * on_burst() gets every frame received and promises to check each one
	 * with rx_context::check() before it reads it, dropping those that fail
	 * with the reason returned. A handler that reads every frame anyway does
	 * the check in the same loop, which costs bh-l2fwd ~8 cycles per packet
	 * less than the separate pass (docs/throughput).
	 * @context Asked once, by net_add_rxq().
	 * @cost None.
	 */
	virtual bool checks_frames() const noexcept { return false; }
};

/** The net layer's configuration, given to net_init(). */
struct net_conf {
	napi_config napi;               /**< NET_RX limits */
	uint64_t tx_drain_ns = 100000; /**< a backlog the Tx ring refused is retried this often */
	unsigned tx_backlog = 512;     /**< packets per lcore and port waiting for a full Tx ring */
	unsigned max_frame = 1522;     /**< longer frames are dropped (oversize) */
};

/**
 * Sets up the net layer for the next bh::start(), which registers NET_RX
 * and NET_TX; bh::stop(), once every loop has returned, flushes what is
 * buffered, frees backlogs (counted as tx_full), stops drain timers,
 * releases the queues' NAPI contexts (irq fds, poll lists), and gives the
 * softirqs back. The ports are left to the caller; the bindings and the
 * counters (per lcore, port and queue) stay readable until the next
 * net_init(), which forgets them. The net layer is an entry of the
 * framework's start-up table (bh_subsys.h), so nothing else needs ordering
 * by hand.
 * @return 0; -EINVAL for a bad configuration; -EBUSY while the framework
 *   runs (both logged). bh::start() fails (-EEXIST) if an application took
 *   NET_RX or NET_TX.
 * @context Main thread, before bh::start(); again before each start.
 * @cost Frees the previous run's per-lcore state.
 */
int net_init(const net_conf &c = {}) noexcept;

/** One Rx queue's binding, given to net_add_rxq(). */
struct rxq_conf {
	uint16_t port = 0;                 /**< a started port */
	uint16_t queue = 0;                /**< its Rx queue */
	unsigned lcore = 0;                /**< the lcore that polls it */
	rx_mode mode = rx_mode::poll;      /**< how that lcore learns of packets */
	packet_handler *handler = nullptr; /**< receives its bursts */
	int weight = 64;                   /**< packets per NAPI poll */
	napi_switch sw;                    /**< adaptive mode's rule and the back-off without Rx interrupts */
};

/**
 * Binds an Rx queue of a started port to an lcore (one lcore per Rx
 * queue; an lcore may have several, of one port or of several).
 * @return 0; -EINVAL for a bad argument (an invalid napi_switch is logged
 *   with the field and its range, a queue the port was not configured with
 *   with the count it has); -ENODEV for a port that does not exist;
 *   -EEXIST for a queue already bound; -ENOTSUP for interrupt mode on a
 *   queue without Rx interrupts (logged with the port and its driver);
 *   -EBUSY if the lcore's loop runs; the errors of napi_add().
 * @context Main thread, after net_init(), before that lcore's loop runs.
 * @cost An allocation and the port's Rx interrupt probe.
 */
int net_add_rxq(const rxq_conf &c) noexcept;

/**
 * Lets @p lcore transmit on @p port through Tx queue @p queue: one lcore
 * per Tx queue, so that no Tx path takes a lock, and one Tx queue per
 * lcore and port (binding another replaces it).
 * @return 0; -EINVAL, -ENODEV, -EBUSY as net_add_rxq; -EEXIST for a queue
 *   another lcore has.
 * @context As net_add_rxq().
 * @cost The backlog's allocation.
 */
int net_add_txq(uint16_t port, uint16_t queue, unsigned lcore) noexcept;

/** Per-lcore counters: softnet_stat plus the net layer's own. */
struct lcore_net_stats {
	softnet_stat softnet;     /**< NET_RX's and the NAPI machines' counters */
	uint64_t dropped[unsigned(drop_reason::count)] = {}; /**< packets freed, by drop_reason */
	uint64_t tx = 0;          /**< packets the Tx rings took */
	uint64_t backlogged = 0;  /**< packets that had to wait in the backlog */
	uint64_t in_flight = 0;   /**< in Tx buffers and backlogs now */
};

/**
 * Net counters of @p lcore (zeros for an lcore without net state).
 * @context Any thread.
 * @cost A mutex and relaxed loads over every port slot.
 */
lcore_net_stats net_lcore_stats(unsigned lcore) noexcept;

/**
 * Per-port counters, summed over the lcores. Each dropped packet is charged
 * to one port: to the port it came in on if it was freed before it was
 * given to a Tx port (the frame checks, rx_context::drop()), to the port it
 * was given to if that port could not take it (tx_full, no_txq), as DPDK's
 * l2fwd counts its "Packets dropped" per Tx port.
 */
struct port_stats {
	uint64_t rx = 0;         /**< packets received on this port */
	uint64_t tx = 0;         /**< packets the port's Tx rings took */
	uint64_t rx_dropped = 0; /**< received on this port and freed before Tx: frame checks, the handler's drops */
	uint64_t tx_dropped = 0; /**< given to this port for Tx and freed: tx_full, no_txq */
};

/**
 * Counters of @p port (zeros out of range).
 * @context Any thread.
 * @cost A mutex and relaxed loads over every lcore slot.
 */
port_stats net_port_stats(uint16_t port) noexcept;

/** One queue's counters, as net_rxq_stats() and net_txq_stats() give them. */
struct queue_stats {
	uint16_t queue = 0;   /**< the queue id on its port */
	unsigned lcore = 0;   /**< the lcore that polls it (Rx) or transmits on it (Tx) */
	uint64_t packets = 0; /**< Rx: received on it; Tx: taken by its ring */
	/** Rx: received on it and freed before a Tx port took them; Tx: given to it and freed (tx_full). */
	uint64_t dropped = 0;
};

/**
 * Counters of each Rx queue of @p port bound with net_add_rxq(), by queue
 * id (rte_eth_stats' per-queue q_ipackets, as the net layer counts them).
 * Summed, they are net_port_stats()' rx and rx_dropped.
 * @return how many there are; the first @p n are written to @p out.
 * @context Any thread.
 * @cost A mutex, an allocation, relaxed loads over every lcore's queues.
 */
unsigned net_rxq_stats(uint16_t port, queue_stats *out, unsigned n) noexcept;

/**
 * Counters of each Tx queue of @p port bound with net_add_txq(), by queue
 * id (rte_eth_stats' q_opackets, as the net layer counts them). Summed,
 * they are net_port_stats()' tx, and its tx_dropped but for no_txq drops,
 * which belong to no queue.
 * @return how many there are; the first @p n are written to @p out.
 * @context Any thread.
 * @cost As net_rxq_stats().
 */
unsigned net_txq_stats(uint16_t port, queue_stats *out, unsigned n) noexcept;

/**
 * Writes a /proc/net/softnet_stat-like table, one row per lcore with Rx
 * queues: processed, dropped (all reasons), time_squeeze, ksoftirqd
 * wake-ups, Rx interrupts, NET_RX polls, sleeps, and busy share of the loop.
 * @context Any thread.
 * @cost The counters of every lcore, formatted.
 */
void net_dump(FILE *out) noexcept;

} // namespace bh::net
