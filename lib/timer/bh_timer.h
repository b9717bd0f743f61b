/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/**
 * @file
 * Per-lcore timers expired by the TIMER softirq (SPEC section 7), on DPDK's
 * rte_timer.
 *
 * The lcore loop raises TIMER when its earliest timer is due; the handler
 * runs rte_timer_manage() and so every expired callback, in softirq
 * context on that lcore. A sleeping lcore bounds its sleep by its next
 * timer. Times are given in nanoseconds and kept in TSC cycles. Unlike the
 * other softirqs, TIMER always runs on the lcore's own thread, also while
 * its ksoftirqd is busy: rte_timer finds its lists by rte_lcore_id().
 *
 * Where a timer lives (its "home"):
 *  - armed from an lcore that runs its loop (a top half, a softirq, an app
 *    task, its ksoftirqd, or an lcore an embedder drives with
 *    lcore_poll_once()), on that lcore, as the kernel's timers stay on the
 *    CPU that armed them;
 *  - armed from anywhere else (a main lcore that only supervises, a work
 *    queue worker, a plain thread, an lcore outside its loop), or with
 *    timer_mod_on() naming an lcore whose loop does not run, on the
 *    housekeeping lcore: the main lcore if its loop runs, else the lowest
 *    lcore whose loop runs (as Linux moves a timer armed on an idle CPU to
 *    a busy housekeeping one);
 *  - when no loop runs at all, the timer is parked, and the first lcore
 *    whose loop starts takes every parked timer, with its remaining time.
 * A timer stays on its lcore if that lcore's loop stops later, and fires
 * when it runs again. bh::stop() refuses new timers; bh::eal_cleanup()
 * makes every timer operation (and a timer's destructor) a no-op, so
 * objects that outlive it end quietly.
 *
 * No call here spins on a callback: re-arming or deleting a timer whose
 * callback is due or running is recorded and applied by the expiry itself
 * (before the callback if it has not started, which then does not run;
 * after it otherwise). So two callbacks, on one lcore or two, may re-arm or
 * delete each other's timers freely.
 */

#include <atomic>
#include <cstdint>

#include <rte_timer.h>

namespace bh {

namespace detail {
struct timer_access;
}

/** A timer on DPDK's rte_timer, expired by the TIMER softirq of the lcore it lives on. */
class timer {
public:
	/** The callback: runs in the TIMER softirq of the lcore the timer is on; must not sleep. */
	using func = void (*)(timer &t, void *data);

	/** A stopped timer that will call @p f with @p data. */
	timer(func f, void *data = nullptr) noexcept;
	/**
	 * Stops the timer and waits for a callback running on another lcore
	 * (timer_del_sync). Must not run from the timer's own callback (logged;
	 * the object would be freed under the expiry that is still using it).
	 * A no-op after bh::eal_cleanup().
	 */
	~timer();
	timer(const timer &) = delete;
	timer &operator=(const timer &) = delete;

	/**
	 * Armed and not yet expired: on an lcore's list, parked, or re-armed
	 * while its callback runs. A periodic timer stays pending. False after
	 * bh::eal_cleanup() unless parked.
	 * @context Any thread.
	 * @cost Two or three atomic loads.
	 */
	bool pending() const noexcept;

private:
	friend struct detail::timer_access;
	enum class request : uint8_t { none, mod, del };

	/*
	 * Who may touch what:
	 *   [I] set at construction
	 *   [T] under lk_, which every re-configuration of tim_ holds (the
	 *       rte_timer manager moves tim_ from PENDING to RUNNING without it)
	 *   [H] under the timer layer's homes lock (parking)
	 */
	rte_timer tim_;
	func f_;          /* [I] */
	void *data_;      /* [I] */
	std::atomic<bool> lk_{false};
	uint32_t cfg_gen_ = 0;  /* [T] successful arms and stops */
	uint32_t done_gen_ = 0; /* [T] cfg_gen_ of the last expiry whose handling finished */
	bool in_callback_ = false; /* [T] f_ runs right now */
	std::atomic<request> req_{request::none}; /* [T] writes; asked while due or running */
	uint64_t req_deadline_ = 0, req_period_ = 0; /* [T] TSC, cycles */
	unsigned req_lcore_ = 0;  /* [T] */
	uint64_t period_ = 0;     /* [T] cycles, 0 for a one-shot timer */
	std::atomic<bool> parked_{false}; /* [H] writes, any thread reads */
	uint64_t park_deadline_ = 0;      /* [H] TSC */
	timer *park_next_ = nullptr;      /* [H] */
};

/**
 * Arms @p t to fire once, @p delay_ns from now, on its home lcore (see the
 * file comment: the calling lcore when it runs its loop); re-arms it if it
 * was pending (the kernel's mod_timer). Never waits for a running callback.
 * @return 1 if it was pending before, 0 if not; -EPERM before bh::start()
 *   or after bh::stop() (logged).
 * @context Any thread, any context (a top half, a softirq, a timer's own
 *   or another's callback, a worker).
 * @cost The timer's own spinlock and an rte_timer_reset (its lcore list's
 *   spinlock); from elsewhere than its home, also the homes lock and a
 *   remote raise that may write the home lcore's eventfd.
 */
int timer_mod(timer &t, uint64_t delay_ns) noexcept;

/**
 * Like timer_mod(), but periodic: fires every @p period_ns until deleted;
 * missed periods are skipped, not caught up.
 * @return as timer_mod(); -EINVAL for a zero period (logged).
 * @context As timer_mod().
 * @cost As timer_mod(); each expiry re-arms it (one rte_timer_reset).
 */
int timer_mod_periodic(timer &t, uint64_t period_ns) noexcept;

/**
 * Arms @p t on @p lcore; @p period_ns 0 means one-shot, else periodic
 * (first expiry after one period). Wakes the lcore so that it takes the new
 * expiry into account. An lcore whose loop does not run cannot fire it: the
 * timer then goes to the housekeeping lcore (file comment), or is parked.
 * @return 1, 0 as timer_mod(); -EINVAL if @p lcore is not an enabled lcore;
 *   -EPERM as timer_mod(). All logged.
 * @context As timer_mod().
 * @cost As timer_mod() from elsewhere than the timer's home.
 */
int timer_mod_on(unsigned lcore, timer &t, uint64_t delay_ns, uint64_t period_ns = 0) noexcept;

/**
 * Deactivates @p t without waiting (the kernel's timer_delete). If its
 * callback is due but has not started, it will not run; if it is running,
 * it finishes, and the timer is not re-armed afterwards (periodic, or
 * re-armed meanwhile), unless the callback re-arms it itself. After
 * bh::eal_cleanup() it only unparks.
 * @return 1 if it was pending (or due and now will not run), 0 if not or if
 *   its callback is running.
 * @context Any thread, any context, the timer's own callback included.
 * @cost A load when stopped; else the timer's spinlock and an
 *   rte_timer_stop (its list's spinlock); the homes lock if parked.
 */
int timer_del(timer &t) noexcept;

/**
 * timer_del(), then waits until a callback running on another lcore has
 * finished (the kernel's timer_delete_sync). After bh::eal_cleanup() it
 * waits for nothing.
 * @return as timer_del(); -EDEADLK from the timer's own callback (it would
 *   wait for itself; checked first, reported naming timer_del_sync) or from
 *   atomic context.
 * @context Process context: not a top half, a softirq or with bottom
 *   halves disabled (might_sleep).
 * @cost timer_del(), then at most the rest of a running callback.
 */
int timer_del_sync(timer &t) noexcept;

/** Counters of one lcore's timers. */
struct timer_stats {
	uint64_t expired = 0;   /**< callbacks run */
	uint64_t softirqs = 0;  /**< TIMER softirq runs */
	uint64_t deferred = 0;  /**< re-arms and deletes applied by an expiry, having come while its callback was due or running */
	uint64_t adopted = 0;   /**< parked timers this lcore took when its loop started */
};

/**
 * Timer counters of @p lcore (zeros for an id out of range).
 * @context Any thread.
 * @cost Four relaxed loads.
 */
timer_stats timer_get_stats(unsigned lcore) noexcept;

} // namespace bh
