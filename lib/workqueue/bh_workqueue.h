/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/**
 * @file
 * Work queues (SPEC section 6): deferral to worker threads, in process
 * context, where work may sleep, allocate and do file and socket I/O.
 *
 * A work item carries a PENDING bit: queueing an item that is pending does
 * nothing and returns false. An item never runs concurrently with itself,
 * on any worker of any queue; queued again while it runs, it runs once
 * more afterwards. Queueing is what lcores do from top halves and softirqs,
 * so it is lock-free and allocation-free (the item is its own list node)
 * and makes a system call only to wake a sleeping worker, once per sleep,
 * not once per item. Everything that waits (flush, cancel_*_sync, drain,
 * destroy) is refused from atomic context by might_sleep().
 *
 * A queue has pools of workers: bound queues one pool per lcore (work
 * queued on lcore n goes to pool n, whose workers are named `<queue>/<n>`,
 * like the default `events/<n>`); unbound queues one pool whose workers are
 * tied to no lcore. Each pool runs at most max_active items at a time
 * (that many workers); an ordered queue is unbound with max_active 1, so it
 * runs its items one at a time, in queue order.
 */

#include <atomic>
#include <cstdint>
#include <utility>

#include "bh_timer.h"

namespace bh {

/** A work function: receives the data given at initialisation. */
using work_func = void (*)(void *data);

class workqueue;
namespace detail {
struct work_access;
struct pool;
} // namespace detail

/** A work item: a function and its data, run by a worker thread of the queue it is queued on. */
class work {
public:
	/** DECLARE_WORK / INIT_WORK: constexpr, so a namespace-scope item needs no code to initialise. */
	constexpr work(work_func fn, void *data = nullptr) noexcept : func_(fn), data_(data) {}
	work(const work &) = delete;
	work &operator=(const work &) = delete;

	/**
	 * Queued (or, for a delayed work, waiting for its timer) and not yet started.
	 * @context Any thread.
	 * @cost An atomic load.
	 */
	bool pending() const noexcept;
	/**
	 * Its function runs right now on some worker.
	 * @context Any thread.
	 * @cost An atomic load.
	 */
	bool running() const noexcept;

private:
	friend struct detail::work_access;
	work *next_ = nullptr;                   /* inbox / pool list link, owned by QUEUED */
	work *prev_ = nullptr;                   /* pool list, under the pool's lock */
	std::atomic<detail::pool *> pool_{nullptr}; /* the pool it is physically queued on */
	std::atomic<uint32_t> state_{0};         /* PENDING, QUEUED, RUNNING bits and a queue generation */
	std::atomic<uint32_t> done_{0};          /* generation of the last finished run */
	std::atomic<uint32_t> started_{0};       /* generation of the run that holds, or last held, RUNNING */
	uint64_t queued_tsc_ = 0;                /* for the queue-to-start latency */
	work_func func_;
	void *data_;
};

/** A work item running a callable stored inside it: `bh::work_of w([&] { ... });`. */
template <class F>
class work_of : public work {
public:
	/** Stores @p f. */
	explicit work_of(F f) : work(&call, static_cast<void *>(this)), f_(std::move(f)) {}

private:
	static void call(void *self) { static_cast<work_of *>(self)->f_(); }
	F f_;
};

/**
 * A work item plus the timer that queues it (DECLARE_DELAYED_WORK). Its
 * timer lives where bh_timer.h says a timer armed from the queueing
 * context lives; the work goes, when it fires, to the pool chosen where it
 * was queued (as queue_work() would have chosen there).
 */
class delayed_work : public work {
public:
	/** DECLARE_DELAYED_WORK / INIT_DELAYED_WORK. */
	delayed_work(work_func fn, void *data = nullptr) noexcept;
	/**
	 * Takes it off its queue's list of armed delayed work and stops its
	 * timer (waiting for a firing on another lcore). Destroying one that is
	 * queued or running is the caller's error, as in the kernel. A no-op
	 * after its queue was destroyed or after bh::eal_cleanup().
	 */
	~delayed_work();

private:
	friend struct detail::work_access;
	static void fire(timer &t, void *self);
	timer timer_;
	/*
	 * [Q] under the armed lock of wq_, the queue it is armed for: the list
	 * destroy_workqueue() cancels. armed_ is also read without it.
	 */
	std::atomic<workqueue *> wq_{nullptr};
	detail::pool *pool_ = nullptr;   /* set before the timer is armed, read when it fires */
	delayed_work *armed_next_ = nullptr, *armed_prev_ = nullptr; /* [Q] */
	std::atomic<bool> armed_{false}; /* [Q] writes */
};

/** How create_workqueue() builds a queue. */
struct workqueue_attrs {
	bool unbound = false;    /**< one pool not tied to an lcore, instead of one per lcore */
	unsigned max_active = 1; /**< items a pool runs at once (its number of workers), >= 1 */
	bool ordered = false;    /**< one at a time, in queue order: implies unbound, max_active 1 */
	bool highpri = false;    /**< workers at nice -20 */
};

/**
 * Creates a queue and its workers (alloc_workqueue). Bound queues get a
 * pool for every lcore of the framework now and one for each lcore that
 * attaches later.
 * @return the queue, or nullptr after logging why (empty name, max_active
 *   0, threads that cannot be created).
 * @context Process context.
 * @cost max_active threads per pool, created and set up before it returns.
 */
workqueue *create_workqueue(const char *name, const workqueue_attrs &attrs = {}) noexcept;

/**
 * An ordered queue (alloc_ordered_workqueue): unbound, one worker, items
 * run one at a time in queue order.
 * @return as create_workqueue().
 * @context Process context.
 * @cost One thread.
 */
workqueue *create_ordered_workqueue(const char *name) noexcept;

/**
 * Destroys @p wq: cancels the delayed work whose timer would queue it on
 * @p wq and has not fired (each logged as a warning naming the item, and
 * counted in the result: a timer firing into a freed queue is what this
 * prevents), refuses queueing on it from then on, drains it (see
 * drain_workqueue), then stops and joins its workers and frees it. After
 * bh::eal_cleanup() it still drains and joins; the timers are no-ops.
 * @return the number of armed delayed works it canceled (0 normally);
 *   -EDEADLK from atomic context or from one of its own workers (it would
 *   wait for itself), reported naming destroy_workqueue.
 * @context Process context, not one of @p wq's workers.
 * @cost Blocks: the drain, a timer callback running elsewhere, the joins.
 */
int destroy_workqueue(workqueue *wq) noexcept;

/**
 * Queues @p w on @p wq (the kernel's queue_work): on the calling lcore's
 * pool for a bound queue (the main lcore's when the caller is not an
 * lcore; the worker's own pool when a work item re-queues from a worker of
 * @p wq).
 * @return true if queued; false if it was already pending, or if @p wq is
 *   being drained and the caller is not one of its workers (logged).
 * @context Any thread, any context: lock-free and allocation-free.
 * @cost A CAS on the item, a TSC read, a CAS push onto the pool's inbox, a
 *   load of its sleeper count; a futex wake only when a worker sleeps and
 *   none is on its way.
 */
bool queue_work(workqueue *wq, work &w) noexcept;

/**
 * queue_work() on @p lcore's pool of a bound queue (queue_work_on).
 * @return as queue_work(); false as well for an lcore without a pool (logged).
 * @context As queue_work().
 * @cost As queue_work().
 */
bool queue_work_on(unsigned lcore, workqueue *wq, work &w) noexcept;

/**
 * Queues @p dw after @p delay_ns: arms its timer (on the calling lcore when
 * it runs its loop, else on the housekeeping lcore: bh_timer.h), and the
 * timer queues the work when it fires, on the pool queue_work() would pick
 * here (the calling lcore's, or the main lcore's for other threads). A zero
 * delay queues at once.
 * @return true if queued or armed; false if it was already pending, or if
 *   @p wq is being drained or destroyed (logged), or before bh::start().
 * @context Any thread, any context.
 * @cost queue_work's PENDING update, a spinlock held for a list link, and
 *   timer_mod().
 */
bool queue_delayed_work(workqueue *wq, delayed_work &dw, uint64_t delay_ns) noexcept;

/**
 * Sets @p dw to run @p delay_ns from now, whether it was pending (timer or
 * queue) or not (mod_delayed_work).
 * @return true if it was pending before.
 * @context Any thread, any context.
 * @cost cancel_delayed_work() plus queue_delayed_work().
 */
bool mod_delayed_work(workqueue *wq, delayed_work &dw, uint64_t delay_ns) noexcept;

/**
 * Waits until the last queueing of @p w before this call has finished
 * running (flush_work).
 * @return 1 if it waited, 0 if @p w was idle; -EDEADLK (reported naming
 *   flush_work) from atomic context, from @p w itself, or from the one
 *   worker of the pool @p w waits on (it would wait for itself).
 * @context Process context.
 * @cost Blocks until that run ends (spin, then yield, then 50 us sleeps).
 */
int flush_work(work &w) noexcept;

/**
 * Fires @p dw's timer now if it is armed (its work is queued at once), then
 * flush_work(): returns when the work has run (the kernel's
 * flush_delayed_work).
 * @return as flush_work(); -EDEADLK also from @p dw itself.
 * @context Process context.
 * @cost timer_del_sync(), a queueing, and the wait of flush_work().
 */
int flush_delayed_work(delayed_work &dw) noexcept;

/**
 * Waits until every item queued on @p wq before this call has finished
 * (flush_workqueue). Items queued afterwards, also by the items themselves,
 * do not hold it. Delayed work whose timer has not fired is not waited for.
 * @return 0; -EDEADLK from atomic context or from a worker of @p wq.
 * @context Process context, not one of @p wq's workers.
 * @cost A barrier item per pool (allocated), and the wait.
 */
int flush_workqueue(workqueue *wq) noexcept;

/**
 * Flushes @p wq until it is empty (drain_workqueue): only its own items may
 * queue on it meanwhile (chained work); others are refused.
 * @return 0; -EDEADLK as flush_workqueue.
 * @context As flush_workqueue().
 * @cost flush_workqueue() until the queue stays empty.
 */
int drain_workqueue(workqueue *wq) noexcept;

/**
 * Removes a pending @p w from its queue and waits for a running instance
 * (cancel_work_sync). An item that re-queues itself cannot outrun it.
 * @return 1 if it was pending, 0 if not; -EDEADLK from atomic context or
 *   from @p w itself (it would wait for itself), reported naming
 *   cancel_work_sync.
 * @context Process context.
 * @cost The pool lock when it was queued; blocks for a running instance.
 */
int cancel_work_sync(work &w) noexcept;

/**
 * Stops @p dw's timer (a firing that is due does not happen; one running
 * on another lcore finishes queueing it first) and removes it from its
 * queue; does not wait for a running instance (cancel_delayed_work).
 * @return true if it was pending.
 * @context Any thread, any context.
 * @cost A timer_del() and, when it was already queued, a pool lock; it
 *   spins only for the few instructions between a firing's queueing and
 *   its push.
 */
bool cancel_delayed_work(delayed_work &dw) noexcept;

/**
 * cancel_delayed_work() that also waits for a running instance
 * (cancel_delayed_work_sync).
 * @return 1 if it was pending, 0 if not; -EDEADLK from atomic context or
 *   from @p dw itself.
 * @context Process context.
 * @cost As cancel_delayed_work(), then the wait.
 */
int cancel_delayed_work_sync(delayed_work &dw) noexcept;

/**
 * The default queue, "events", one worker per lcore (system_wq): from
 * bh::start() to bh::stop(), which destroys it (canceling delayed work
 * armed for it); nullptr outside.
 * @context Any thread.
 * @cost An atomic load.
 */
workqueue *system_wq() noexcept;

/**
 * queue_work(system_wq(), w) (schedule_work).
 * @return as queue_work(); false (logged) outside bh::start() .. bh::stop().
 * @context As queue_work().
 * @cost As queue_work().
 */
bool schedule_work(work &w) noexcept;
/**
 * queue_delayed_work(system_wq(), dw, delay_ns) (schedule_delayed_work).
 * @return as queue_delayed_work(); false (logged) outside bh::start() .. bh::stop().
 * @context As queue_delayed_work().
 * @cost As queue_delayed_work().
 */
bool schedule_delayed_work(delayed_work &dw, uint64_t delay_ns) noexcept;
/**
 * flush_workqueue(system_wq()) (flush_scheduled_work).
 * @return 0; -EPERM (logged) outside bh::start() .. bh::stop(); -EDEADLK as flush_workqueue().
 * @context As flush_workqueue().
 * @cost As flush_workqueue().
 */
int flush_scheduled_work() noexcept;

/** Counters of one queue, summed over its pools. */
struct workqueue_stats {
	uint64_t queued = 0;     /**< successful queue calls (timer firings included) */
	uint64_t run = 0;        /**< functions run */
	uint64_t canceled = 0;   /**< pending items removed by cancel */
	uint64_t pending = 0;    /**< queued now and not started */
	uint64_t wakeups = 0;    /**< futex wakes of sleeping workers */
	uint64_t sleeps = 0;     /**< times a worker went to sleep on an empty pool (an item already on its way ends one at once) */
	uint64_t max_latency_ns = 0; /**< worst queue-to-start time */
	unsigned pools = 0;      /**< worker pools: one per lcore, or one if unbound */
	unsigned workers = 0;    /**< worker threads over all pools */
};

/**
 * Counters of @p wq.
 * @context Any thread, while @p wq exists.
 * @cost A relaxed load per counter and per lcore slot.
 */
workqueue_stats workqueue_get_stats(const workqueue *wq) noexcept;
/**
 * The name @p wq was created with.
 * @context Any thread, while @p wq exists.
 * @cost None.
 */
const char *workqueue_name(const workqueue *wq) noexcept;

} // namespace bh
