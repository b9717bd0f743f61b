/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/**
 * @file
 * NAPI polling contexts, the NET_RX softirq, and the per-context machine
 * that decides between polling and sleeping (SPEC section 8).
 *
 * A top half calls napi_schedule(): the context goes on the calling
 * lcore's poll list and NET_RX is raised. NET_RX walks the list with a
 * budget (default 300 packets) and a time limit (default 2 ms), calling each
 * context's poll function with its weight (default 64). A context that used
 * its whole weight stays on the list (it is driven); one that did not calls
 * napi_complete_done() from its poll function and leaves it. Running out of
 * budget or time counts a time_squeeze. A schedule that races with
 * completion is never lost: it sets MISSED, and completion then keeps the
 * context scheduled.
 *
 * A context given to napi_add() belongs to an lcore and has a mode, and the
 * NAPI layer then owns the poll/interrupt decision, as Linux's NAPI does
 * with napi_defer_hard_irqs, gro_flush_timeout and IRQ suspension:
 * napi_complete_done() decides whether the context is polled again on the
 * next pass of the loop, sleeps on its interrupt, or is polled again at a
 * set time while the lcore may sleep; the NAPI layer's own top half on the
 * lcore carries the decision out (it arms the interrupt, schedules the
 * context when its time comes, and tells the loop how long it may sleep).
 */

#include <atomic>
#include <cstdint>

namespace bh::net {

namespace detail {
struct napi_access;
struct napi_ctl;
} // namespace detail

/** How a context's lcore learns that it has work. */
enum class rx_mode {
	poll,      /**< polled on every pass of the lcore's loop (DPDK style) */
	interrupt, /**< sleeps on its interrupt after every poll that did not fill its weight */
	adaptive,  /**< polls under load and sleeps on its interrupt, or backs off, when idle: see napi_rule */
};

/** The rule an adaptive context switches by (docs/design.md compares them). */
enum class napi_rule {
	/**
	 * By time, as Linux's gro_flush_timeout with napi_defer_hard_irqs: after
	 * a poll that found work less than 2 x defer_ns after the previous one
	 * that did, the context sleeps defer_ns and is polled again, and keeps
	 * doing so for defer_polls empty polls before it arms its interrupt;
	 * work that comes further apart arms it at once (one interrupt per
	 * packet is then the cheapest). A poll that brings half its weight or
	 * more keeps the context polling: that is near full load.
	 */
	defer,
	/**
	 * By rate, as VPP's adaptive mode: the average of packets per poll (a
	 * moving average over about 8 polls, halved by each empty poll that
	 * comes 10 us or more after the last poll that found work: the gaps
	 * between a bursty sender's bursts are no idle spell) reaching
	 * rate_hi switches the context to polling on every pass,
	 * which it keeps while the average stays at rate_lo or more; below, it
	 * arms its interrupt. One poll of a full weight from idle reaches 8.
	 * A spell of polling whose polls found nothing (an lcore that wakes
	 * late to paced bursts takes each whole, a big average of sparse
	 * work) doubles the average that starts polling, up to the weight; a
	 * spell that found work sets it back to rate_hi.
	 */
	rate,
};

/** An adaptive context's switching settings (napi_add()). */
struct napi_switch {
	napi_rule rule = napi_rule::rate; /**< see napi_rule (docs/design.md: why rate is the default) */
	uint64_t defer_ns = 50000;         /**< defer: the window, 1 us .. 10 ms */
	unsigned defer_polls = 2;          /**< defer: empty polls, defer_ns apart, before arming; 0 .. 1000 */
	unsigned rate_hi = 8;              /**< rate: average packets per poll that starts polling (see rate); 1 .. weight */
	unsigned rate_lo = 2;              /**< rate: average packets per poll that keep it; 1 .. rate_hi */
	/**
	 * A context without an interrupt backs off instead of arming one: each
	 * empty poll doubles its sleep from 10 us up to this ceiling (from 10 us
	 * to 1 s), which bounds both the delay of the first packet after an idle
	 * spell and what an idle context costs (about one wake-up per ceiling).
	 */
	uint64_t max_backoff_ns = 5000000;
};

/**
 * Why @p s cannot be used with contexts of weight @p weight, as one
 * sentence naming the field and its range; nullptr if it can.
 * @context Any thread.
 * @cost A few comparisons.
 */
const char *napi_switch_error(const napi_switch &s, int weight) noexcept;

/** Where a context is in its mode's machine (napi_state_of()). */
enum class napi_state : uint8_t {
	polling,     /**< off the poll list; the lcore's loop schedules it on every pass */
	driven,      /**< its last poll filled its weight: on the poll list, polled on every pass */
	armed,       /**< asleep on its interrupt */
	backing_off, /**< polled again at a set time; the lcore may sleep until then */
};

/** A polling context: one Rx queue's (or any source's) entry on an lcore's poll list. */
class napi {
public:
	/** Polls at most @p budget packets; returns how many it handled. Runs in NET_RX (softirq context). */
	using poll_fn = int (*)(napi &n, int budget);

	/** A context polled by @p fn with @p weight packets per call; @p data is for @p fn. */
	napi(poll_fn fn, void *data, int weight = 64) noexcept : poll_(fn), data_(data), weight_(weight) {}
	napi(const napi &) = delete;
	napi &operator=(const napi &) = delete;

	/**
	 * The data given at construction.
	 * @context Any thread.
	 * @cost None.
	 */
	void *data() const noexcept { return data_; }
	/**
	 * Packets per poll call.
	 * @context Any thread.
	 * @cost None.
	 */
	int weight() const noexcept { return weight_; }
	/**
	 * On a poll list (or about to be).
	 * @context Any thread.
	 * @cost An atomic load.
	 */
	bool scheduled() const noexcept;

private:
	friend struct detail::napi_access;
	napi *next_ = nullptr; /* poll list / inbox link, owned by SCHED */
	std::atomic<uint32_t> state_{0};
	detail::napi_ctl *ctl_ = nullptr; /* napi_add()'s machine, owned by its lcore; null for a bare context */
	poll_fn poll_;
	void *data_;
	int weight_;
};

/**
 * A context's interrupt, for napi_add(): a file descriptor the lcore can
 * sleep on (an Rx queue's interrupt fd), and how to arm and disarm its
 * source. The NAPI layer requests the fd on the lcore (lcore_request_irq),
 * disarms it when it fires, and arms it when the context's machine decides
 * to sleep on it.
 */
struct napi_irq {
	int fd = -1; /**< readable when the source has work; -1: no interrupt */
	/**
	 * Arms the source; returns true if work is already there (work that came
	 * before the arming would otherwise wait for the next interrupt).
	 */
	bool (*enable)(napi &n) = nullptr;
	void (*disable)(napi &n) = nullptr; /**< disarms the source */
};

/**
 * Gives @p n to @p lcore in @p mode (netif_napi_add): the NAPI layer's top
 * half on that lcore polls it, arms @p irq or backs off as the mode and
 * @p sw decide, until bh::stop() releases it (the net layer's close).
 * @return 0; -EINVAL for a bad lcore, mode or @p sw (logged with the
 *   reason), or a context given already; -ENOTSUP for interrupt mode
 *   without an interrupt fd; -EBUSY if the lcore's loop runs; -ENOMEM;
 *   -ENOSPC past the lcore's 32 top halves.
 * @context Main thread, after net_init(), before the lcore's loop runs.
 * @cost An allocation.
 */
int napi_add(napi &n, unsigned lcore, rx_mode mode, const napi_switch &sw = {}, const napi_irq &irq = {}) noexcept;

/**
 * The state of @p n's machine (polling for a context not given to napi_add()).
 * @context Any thread; a snapshot.
 * @cost An atomic load.
 */
napi_state napi_state_of(const napi &n) noexcept;

/**
 * Puts @p n on the calling lcore's poll list and raises NET_RX, unless it
 * is scheduled already (then it notes a MISSED schedule) (napi_schedule).
 * @return true if this call scheduled it; false if it was scheduled, or if
 *   the caller is not an lcore (logged).
 * @context An lcore: a top half or a softirq.
 * @cost A CAS, a list append (an inbox push while ksoftirqd owns the
 *   lcore's softirqs), a raise.
 */
bool napi_schedule(napi &n) noexcept;

/** What napi_complete_done() decided. */
enum class napi_next : uint8_t {
	keep_polling, /**< polled again on the lcore's next pass (or, raced, still on the poll list) */
	rearm,        /**< asleep on its interrupt (a bare context: re-enable your source) */
	back_off,     /**< polled again at napi_verdict::until; the lcore may sleep until then */
};

/** napi_complete_done()'s decision. */
struct napi_verdict {
	napi_next next;     /**< see napi_next */
	uint64_t until = 0; /**< back_off: the TSC time of the next poll */
};

/**
 * Called by a poll function that handled fewer packets than its budget
 * (napi_complete_done): takes @p n off the poll list and decides, by its
 * mode and @p work_done, what happens next. The NAPI layer's top half
 * carries the decision out; the caller may use it (e.g. to flush Tx only
 * when the context goes to sleep).
 * @return the decision; keep_polling if a schedule raced with the
 *   completion (MISSED): then @p n stays scheduled and is polled again.
 * @context Its poll function, in NET_RX.
 * @cost A CAS and a few comparisons.
 */
napi_verdict napi_complete_done(napi &n, int work_done) noexcept;

/** NET_RX limits; set before bh::start(). */
struct napi_config {
	int budget = 300;                 /**< packets per NET_RX pass, over all contexts */
	uint64_t time_limit_ns = 2000000; /**< time per NET_RX pass */
};

/**
 * Sets the NET_RX limits.
 * @return 0; -EINVAL for a non-positive limit (logged).
 * @context Main thread, before bh::start() (net_init() calls it).
 * @cost A copy.
 */
int napi_set_config(const napi_config &cfg) noexcept;
/**
 * The NET_RX limits in force.
 * @context Any thread.
 * @cost A copy.
 */
napi_config napi_get_config() noexcept;

/** Per-lcore NET_RX and mode-machine counters, like /proc/net/softnet_stat. */
struct softnet_stat {
	uint64_t processed = 0;    /**< packets the poll functions handled */
	uint64_t polls = 0;        /**< poll function calls */
	uint64_t time_squeeze = 0; /**< passes that ended on budget or time with work left */
	uint64_t passes = 0;       /**< NET_RX runs */
	uint64_t interrupts = 0;   /**< interrupts taken */
	uint64_t to_poll = 0;      /**< adaptive: interrupt -> polling switches (an interrupt that woke it) */
	uint64_t to_interrupt = 0; /**< adaptive: decisions to arm the interrupt */
	uint64_t backoffs = 0;     /**< back-off sleeps decided (deferred polls, idle back-off without interrupt) */
	uint64_t spurious = 0;     /**< interrupts whose poll found nothing: backed off, not re-armed at once */
};

/**
 * NET_RX counters of @p lcore (zeros for an id out of range).
 * @context Any thread.
 * @cost Nine relaxed loads.
 */
softnet_stat softnet_get(unsigned lcore) noexcept;

} // namespace bh::net
