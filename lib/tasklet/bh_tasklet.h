/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/**
 * @file
 * Tasklets (SPEC section 5): deferred functions multiplexed on the HI and
 * TASKLET softirqs, which never run concurrently with themselves.
 *
 * A tasklet has two state bits and a disable count:
 *  - SCHED: it is queued on some lcore. Scheduling a tasklet whose SCHED is
 *    set does nothing, so scheduled twice before it runs, it runs once.
 *  - RUN: its function is running on some lcore. The softirq handler takes
 *    RUN before calling the function; finding it taken, it puts the tasklet
 *    back on its own list and re-raises, so a tasklet scheduled while it runs
 *    elsewhere runs again afterwards, on the lcore that scheduled it.
 *  - count: non-zero means disabled; a disabled tasklet stays queued (the
 *    handler puts it back and re-raises) and runs once enabled. It shares
 *    the word of the two bits, so the handler takes RUN, if the tasklet is
 *    neither running nor disabled, and clears SCHED in one compare-and-swap.
 *
 * A tasklet runs on the lcore that scheduled it. A thread that is not an
 * lcore names the target lcore (tasklet_schedule_on); the tasklet then goes
 * through that lcore's lock-free inbox and the lcore is woken if it sleeps.
 * The HI and TASKLET softirqs are registered by bh::start(); bh::stop()
 * drops the tasklets still scheduled once every loop has returned (a
 * disabled one, say), counting them as killed, so that tasklet_kill() after
 * stop returns at once and nothing points at a freed tasklet. Scheduling
 * allocates nothing: the tasklet is its own list node.
 */

#include <atomic>
#include <cstdint>
#include <utility>

namespace bh {

/** A tasklet function: receives the data given at initialisation. */
using tasklet_func = void (*)(void *data);

namespace detail {
struct tasklet_access;
}

/** A tasklet: a function and its data, plus the state described in the file comment. */
class tasklet {
public:
	/**
	 * Static or dynamic initialisation (DECLARE_TASKLET, tasklet_init);
	 * @p disabled creates it with a disable count of 1
	 * (DECLARE_TASKLET_DISABLED). constexpr, so a namespace-scope tasklet
	 * is initialised before any code runs.
	 */
	constexpr tasklet(tasklet_func fn, void *data = nullptr, bool disabled = false) noexcept
		: state_(disabled ? count_unit : 0), func_(fn), data_(data)
	{
	}
	tasklet(const tasklet &) = delete;
	tasklet &operator=(const tasklet &) = delete;

	/**
	 * Queued on some lcore and not yet started.
	 * @context Any thread.
	 * @cost An atomic load.
	 */
	bool scheduled() const noexcept { return state_.load(std::memory_order_acquire) & sched_bit; }
	/**
	 * Its function is running right now.
	 * @context Any thread.
	 * @cost An atomic load.
	 */
	bool running() const noexcept { return state_.load(std::memory_order_acquire) & run_bit; }
	/**
	 * The disable count (0: enabled).
	 * @context Any thread.
	 * @cost An atomic load.
	 */
	int disable_count() const noexcept { return int(state_.load(std::memory_order_acquire) >> count_shift); }

private:
	friend struct detail::tasklet_access;
	static constexpr unsigned sched_bit = 1u << 0;
	static constexpr unsigned run_bit = 1u << 1;
	static constexpr unsigned kill_bit = 1u << 2; /* tasklet_kill in progress: drop, do not run */
	static constexpr unsigned count_shift = 8;
	static constexpr unsigned count_unit = 1u << count_shift;

	tasklet *next_ = nullptr; /* owned by whoever holds SCHED: the list it is on */
	/*
	 * The bits above and, from count_shift up, the disable count: in one
	 * word, the executor takes a queued tasklet (SCHED to RUN) with one
	 * compare-and-swap, which fails if a disable came first.
	 */
	std::atomic<unsigned> state_;
	tasklet_func func_;
	void *data_;
};

/**
 * A tasklet that runs a callable stored inside it (no heap allocation):
 * `bh::tasklet_of t([&] { ... });`.
 */
template <class F>
class tasklet_of : public tasklet {
public:
	/** Stores @p f; @p disabled as for tasklet. */
	explicit tasklet_of(F f, bool disabled = false)
		: tasklet(&call, static_cast<void *>(this), disabled), f_(std::move(f))
	{
	}

private:
	static void call(void *self) { static_cast<tasklet_of *>(self)->f_(); }
	F f_;
};

/**
 * Schedules @p t on the calling lcore, on the TASKLET softirq
 * (tasklet_schedule).
 * @return 1 if this call queued it; 0 if it was already scheduled (nothing
 *   done); -ENODEV if the calling thread is not an lcore (logged: use
 *   tasklet_schedule_on); -EPERM outside bh::start() .. bh::stop(), when
 *   no softirq would run it (logged).
 * @context An lcore, any context: top half, softirq (a tasklet may
 *   schedule itself), app task, its ksoftirqd.
 * @cost One atomic OR on the tasklet, a list append and a raise (an inbox
 *   push instead while ksoftirqd owns the lcore's softirqs).
 */
int tasklet_schedule(tasklet &t) noexcept;

/**
 * tasklet_schedule() on the HI softirq: runs before every TASKLET one
 * (tasklet_hi_schedule).
 * @return as tasklet_schedule().
 * @context As tasklet_schedule().
 * @cost As tasklet_schedule().
 */
int tasklet_hi_schedule(tasklet &t) noexcept;

/**
 * Schedules @p t on @p lcore from any thread (a worker, DPDK's interrupt
 * thread, an application thread): a lock-free push onto the lcore's inbox,
 * then a remote raise that wakes the lcore if it sleeps.
 * @return 1, 0, -EPERM as tasklet_schedule(); -EINVAL if @p lcore is not an
 *   enabled lcore.
 * @context Any thread, any context.
 * @cost One atomic OR, a CAS push, and raise_softirq_on().
 */
int tasklet_schedule_on(unsigned lcore, tasklet &t) noexcept;
/**
 * tasklet_schedule_on() on the HI softirq.
 * @return as tasklet_schedule_on().
 * @context As tasklet_schedule_on().
 * @cost As tasklet_schedule_on().
 */
int tasklet_hi_schedule_on(unsigned lcore, tasklet &t) noexcept;

/**
 * Increments the disable count and returns at once; a running instance may
 * still be running (tasklet_disable_nosync).
 * @context Any thread, any context.
 * @cost An atomic add.
 */
void tasklet_disable_nosync(tasklet &t) noexcept;

/**
 * Increments the disable count, then waits until no instance runs
 * (tasklet_disable). From then until the matching tasklet_enable() the
 * function will not start.
 * @return 0; -EDEADLK from atomic context (reported by might_sleep; the
 *   count is not changed), and from @p t itself (it would wait for itself;
 *   checked first and reported naming tasklet_disable, in every build).
 * @context Process context: not a top half, a softirq or with bottom
 *   halves disabled.
 * @cost An atomic add, and a wait for a running instance.
 */
int tasklet_disable(tasklet &t) noexcept;

/**
 * Decrements the disable count (tasklet_enable); at zero a pending tasklet
 * runs at its lcore's next softirq pass.
 * @return 0; -EINVAL if the tasklet was not disabled (logged).
 * @context Any thread, any context.
 * @cost A CAS loop on the count.
 */
int tasklet_enable(tasklet &t) noexcept;

/**
 * Waits for a running instance to finish and removes a pending one from
 * its lcore's list without running it (tasklet_kill). Nothing stops others
 * from scheduling it again afterwards. The lcore it is queued on must be
 * running its softirqs; after bh::stop() nothing is queued any more and it
 * returns at once.
 * @return 0; -EDEADLK from atomic context, and from @p t itself (it would
 *   wait for itself; checked first and reported naming tasklet_kill, in
 *   every build).
 * @context Process context: not a top half, a softirq or with bottom
 *   halves disabled.
 * @cost Atomic ORs, and a wait for the lcore's next pass over its list.
 */
int tasklet_kill(tasklet &t) noexcept;

/** Counters of one lcore's tasklet softirqs. */
struct tasklet_stats {
	uint64_t run = 0;               /**< tasklet functions called */
	uint64_t requeued_running = 0;  /**< put back: running on another lcore */
	uint64_t requeued_disabled = 0; /**< put back: disabled */
	uint64_t killed = 0;            /**< dropped by tasklet_kill */
	uint64_t remote = 0;            /**< taken from the lock-free inbox */
};

/**
 * Tasklet counters of @p lcore (zeros for an id out of range).
 * @context Any thread.
 * @cost Five relaxed loads.
 */
tasklet_stats tasklet_get_stats(unsigned lcore) noexcept;

} // namespace bh
