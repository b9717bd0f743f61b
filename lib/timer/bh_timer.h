/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/**
 * @file
 * Per-lcore timers expired by the TIMER softirq on the lcore that armed
 * them (SPEC section 7), on DPDK's rte_timer.
 *
 * The lcore loop raises TIMER when its earliest timer is due; the handler
 * runs rte_timer_manage() and so every expired callback, in softirq
 * context on that lcore. A sleeping lcore bounds its sleep by its next
 * timer. Times are given in nanoseconds and kept in TSC cycles. Unlike the
 * other softirqs, TIMER always runs on the lcore's own thread, also while
 * its ksoftirqd is busy: rte_timer finds its lists by rte_lcore_id().
 */

#include <atomic>
#include <cstdint>

#include <rte_timer.h>

namespace bh {

namespace detail {
struct timer_access;
}

/** A timer on DPDK's rte_timer, expired by the TIMER softirq of the lcore it is armed on. */
class timer {
public:
	/** The callback: runs in the TIMER softirq of the lcore the timer is on; must not sleep. */
	using func = void (*)(timer &t, void *data);

	/** A stopped timer that will call @p f with @p data. */
	timer(func f, void *data = nullptr) noexcept;
	/** Stops the timer, waiting for a callback running on another lcore. */
	~timer();
	timer(const timer &) = delete;
	timer &operator=(const timer &) = delete;

	/** Armed and not yet expired (a periodic timer stays pending). */
	bool pending() const noexcept;

private:
	friend struct detail::timer_access;
	rte_timer tim_;
	func f_;
	void *data_;
	/* Bumped after each callback: the happens-before edge that del_sync waits on. */
	std::atomic<uint64_t> done_{0};
};

/**
 * Arms @p t on the calling lcore to fire once, @p delay_ns from now; re-arms
 * it if it was pending (the kernel's mod_timer). Any lcore context.
 * @return 1 if it was pending before, 0 if not; -ENODEV if the calling
 *   thread is not an lcore; -EPERM before bh::start().
 */
int timer_mod(timer &t, uint64_t delay_ns) noexcept;

/** Like timer_mod(), but periodic: fires every @p period_ns until deleted. */
int timer_mod_periodic(timer &t, uint64_t period_ns) noexcept;

/**
 * Arms @p t on @p lcore from any thread; @p period_ns 0 means one-shot.
 * Wakes the lcore so that it takes the new expiry into account.
 * @return 1, 0 as timer_mod(); -EINVAL if @p lcore is not enabled; -EPERM
 *   before bh::start().
 */
int timer_mod_on(unsigned lcore, timer &t, uint64_t delay_ns, uint64_t period_ns = 0) noexcept;

/**
 * Deactivates @p t without waiting. Any context.
 * @return 1 if it was pending, 0 if not; -EBUSY if its callback is running
 *   on another lcore right now (it may re-arm itself: use timer_del_sync).
 */
int timer_del(timer &t) noexcept;

/**
 * Deactivates @p t and waits for a callback running on another lcore to
 * finish. May block: not from a top half, a softirq or with bottom halves
 * disabled.
 * @return 1 if it was pending, 0 if not; -EDEADLK from atomic context.
 */
int timer_del_sync(timer &t) noexcept;

/** Counters of one lcore's timers. */
struct timer_stats {
	uint64_t expired = 0;   /**< callbacks run */
	uint64_t softirqs = 0;  /**< TIMER softirq runs */
};

/** Timer counters of @p lcore; callable from any thread. */
timer_stats timer_get_stats(unsigned lcore) noexcept;

} // namespace bh
