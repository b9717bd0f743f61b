/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/**
 * @file
 * The framework's lifecycle and the lcore run loop that applications and
 * embedders share.
 *
 * One iteration of the loop on an lcore is:
 *   1. irq_enter(); poll every top half; irq_exit()  -> do_softirq();
 *   2. poll every app task (the lcore's "user space");
 *   3. if nothing did any work: yield the CPU while the lcore's ksoftirqd
 *      owns its softirqs (so ksoftirqd gets it), otherwise idle: spin
 *      (idle_mode::poll) or sleep in one epoll wait covering the lcore's
 *      wake-up eventfd (remote raises, kicks), its enabled irq fds (Rx
 *      interrupts) and its next timer (idle_mode::sleep).
 * An application either runs the loop (lcore_run(), or lcore_main as the
 * function given to rte_eal_remote_launch) or keeps its own main loop and
 * calls lcore_poll_once() from it.
 */

#include <cstdint>

#include "bh_subsys.h"

namespace bh {

/**
 * Something the lcore loop polls: a top half (e.g. one pass over Rx
 * queues) or an app task. The poll-vs-interrupt interface follows
 * Seastar's pollfn and NAPI. Every method runs on the lcore's own thread,
 * from its loop.
 */
class pollfn {
public:
	virtual ~pollfn() = default;
	/**
	 * Does one bounded unit of work; returns true if there was any.
	 * @context The lcore's loop: between irq_enter() and irq_exit() for a
	 *   top half, after the softirqs for an app task.
	 * @cost Whatever it does, every iteration: keep it short.
	 */
	virtual bool poll() = 0;
	/**
	 * The loop is about to sleep: arm whatever wakes the lcore (e.g. an Rx
	 * interrupt) and return true, or return false to keep the lcore awake.
	 * The default agrees: a pollfn with no wake-up source of its own is
	 * woken only by kicks and remote raises.
	 * @context The lcore's loop, outside any top half.
	 * @cost Once per sleep.
	 */
	virtual bool try_enter_interrupt_mode() { return true; }
	/**
	 * The loop woke up after try_enter_interrupt_mode() returned true.
	 * @context The lcore's loop, outside any top half.
	 * @cost Once per sleep.
	 */
	virtual void exit_interrupt_mode() {}
	/**
	 * The longest the lcore may sleep before this pollfn must run again
	 * (e.g. a power-saving back-off on a queue without Rx interrupts).
	 * @context The lcore's loop, before it sleeps.
	 * @cost Once per sleep.
	 */
	virtual uint64_t sleep_limit_ns() { return UINT64_MAX; }
};

/** The top half of an irq fd: runs between irq_enter() and irq_exit() on the lcore it woke. */
using irq_handler = void (*)(void *data);

/**
 * Adds @p fd (e.g. an Rx queue's interrupt fd) to the calling lcore's
 * wake-up set, disabled (request_irq). When it is enabled and becomes
 * readable while the lcore sleeps, @p handler runs as a top half; it should
 * disable the fd (or consume what made it readable), as a hard irq handler
 * acks its device.
 * @return 0; -ENODEV if the caller is not an attached lcore; -EINVAL for a
 *   bad fd or null handler; -EEXIST if already requested; -ENOSPC past 32;
 *   -errno from epoll.
 * @context The lcore's own (attached) thread.
 * @cost An epoll_ctl system call.
 */
int lcore_request_irq(int fd, irq_handler handler, void *data) noexcept;

/**
 * Arms a requested fd, level-triggered (enable_irq).
 * @return 0; -ENOENT if not requested; -ENODEV off an attached lcore; -errno from epoll.
 * @context The lcore's own thread.
 * @cost An epoll_ctl system call.
 */
int lcore_enable_irq(int fd) noexcept;
/**
 * Disarms a requested fd (disable_irq).
 * @return as lcore_enable_irq().
 * @context The lcore's own thread.
 * @cost An epoll_ctl system call.
 */
int lcore_disable_irq(int fd) noexcept;

/**
 * Removes @p fd from @p lcore's wake-up set (free_irq).
 * @return 0; -EINVAL for a bad lcore; -ENOENT if not requested; -EBUSY if
 *   called from another thread while its loop runs (logged).
 * @context The lcore's own thread, or any thread while its loop is stopped.
 * @cost An epoll_ctl system call.
 */
int lcore_free_irq(unsigned lcore, int fd) noexcept;

/** What an lcore does when an iteration found no work. */
enum class idle_mode {
	poll,  /**< busy-poll, DPDK style: lowest latency, 100% CPU */
	sleep, /**< sleep on the wake-up fd: near-zero CPU when idle */
};

/**
 * Starts the framework: runs the start-up table (bh_subsys.h), which
 * registers the framework's softirqs, freezes the softirq table, creates
 * ksoftirqd threads and the default work queue. Call once after
 * rte_eal_init() (or bh::eal_init()), after every open_softirq(); a failure
 * undoes what was done.
 * @return 0; -EALREADY if started; -ENODEV if the EAL is not initialised;
 *   an entry's -errno (logged, naming the entry).
 * @context The main lcore's thread, process context.
 * @cost Creates a thread per lcore (ksoftirqd) and per lcore and queue.
 */
int start() noexcept;

/**
 * Stops the framework: asks every running lcore loop to return and waits
 * for it (each runs what is pending on its lcore first), then closes the
 * start-up table in reverse: the default queue is drained and destroyed,
 * ksoftirqd threads joined, the softirq table unfrozen, the net layer
 * flushed, timers and tasklets given back.
 * @return 0; -EALREADY if not started; -EDEADLK if called from an lcore
 *   loop (it would wait for itself).
 * @context Process context, not an lcore's loop.
 * @cost Blocks until every loop returned; joins threads.
 */
int stop() noexcept;

/**
 * True between start() and stop().
 * @context Any thread.
 * @cost An atomic load.
 */
bool started() noexcept;

/**
 * Adds @p s to the start-up table (bh_subsys.h), after the core's parts
 * that register softirqs and before the table freezes, behind the entries
 * added before it. Adding the same entry again does nothing. The entry
 * stays for every later start(); @p s must live as long.
 * @return 0; -EINVAL for an entry without a name; -EBUSY while the
 *   framework runs (both logged).
 * @context Any thread, before start().
 * @cost A mutex and a vector append.
 */
int subsystem_register(const subsystem &s) noexcept;

/**
 * Makes the calling thread a framework lcore: it must be a DPDK lcore
 * (EAL, or registered with rte_thread_register()). A registered thread
 * joining a running framework gets every start-up entry's lcore_up (its
 * ksoftirqd, its work-queue pools). Idempotent.
 * @return 0; -ENODEV if the thread is not a DPDK lcore; an entry's -errno
 *   (logged; nothing is left attached).
 * @context The thread itself, process context.
 * @cost An eventfd and an epoll set the first time; the entries' lcore_up.
 */
int lcore_attach() noexcept;

/**
 * Undoes lcore_attach() for a registered (non-EAL) thread before it
 * unregisters: the entries' lcore_down (its ksoftirqd is joined), then what
 * is pending on it runs.
 * @return 0; -ENODEV if not attached; -EBUSY from inside the loop.
 * @context The attached thread itself, outside its loop.
 * @cost A thread join.
 */
int lcore_detach() noexcept;

/**
 * Adds a top half to @p lcore's loop. The object must outlive the loop.
 * @return 0; -EINVAL for an lcore id out of range; -EBUSY while the loop
 *   runs; -ENOSPC past 32 of a kind (all logged).
 * @context Any thread, while that lcore's loop is not running.
 * @cost An array append.
 */
int lcore_add_top_half(unsigned lcore, pollfn &fn) noexcept;
/**
 * lcore_add_top_half() for an app task, polled after the top halves and
 * their softirqs.
 * @return as lcore_add_top_half().
 * @context As lcore_add_top_half().
 * @cost An array append.
 */
int lcore_add_task(unsigned lcore, pollfn &fn) noexcept;

/**
 * Removes every top half and task of @p lcore.
 * @return 0; -EINVAL for a bad lcore; -EBUSY while its loop runs.
 * @context Any thread, while that lcore's loop is not running.
 * @cost Two stores.
 */
int lcore_clear(unsigned lcore) noexcept;

/**
 * Sets what @p lcore does when idle, and how long it may sleep at most
 * before it polls again. Takes effect at the next idle iteration.
 * @return 0; -EINVAL for a bad lcore or a zero timeout (logged).
 * @context Any thread, any time.
 * @cost Two relaxed stores.
 */
int lcore_set_idle(unsigned lcore, idle_mode mode, unsigned max_sleep_ms = 100) noexcept;

/**
 * Sets the most of @p lcore's time that its top halves and softirqs may
 * take while it has app tasks (default 50%). Past it, an iteration runs the
 * app tasks alone and the packets wait in their rings: under any overload
 * the application keeps at least the rest (receive livelock avoided, as
 * Mogul and Ramakrishnan cap packet work), and the bottom halves' rate
 * stays flat. The share is measured over the last millisecond or so; 100
 * turns the cap off. Without app tasks the bottom halves get all the time.
 * @return 0; -EINVAL for a bad lcore or a share outside 1..100 (logged).
 * @context Any thread, any time.
 * @cost A relaxed store; in the loop, two TSC reads per iteration with app tasks.
 */
int lcore_set_bh_share(unsigned lcore, unsigned percent) noexcept;

/**
 * Runs the loop on the calling lcore until lcore_request_stop() or stop().
 * Attaches the thread first, and sets its timer slack to the minimum, so
 * that short sleeps (back-offs, timers) last as asked. Before returning it
 * runs what is still pending.
 * @return 0; -ENODEV if the thread is not a DPDK lcore; -EALREADY if the
 *   loop already runs on this lcore; -EPERM if the framework is not started.
 * @context The lcore's own thread.
 * @cost Per iteration: the top halves, a TSC compare for timers, the
 *   softirqs, the app tasks, two TSC reads for the busy/idle accounting.
 */
int lcore_run() noexcept;

/**
 * lcore_run() with the signature rte_eal_remote_launch() expects.
 * @return -lcore_run().
 * @context The lcore's own thread.
 * @cost As lcore_run().
 */
int lcore_main(void *unused);

/**
 * One iteration of the loop for an application that keeps its own main
 * loop; never sleeps. Attaches the thread on first use; from then on the
 * lcore counts as running its loop (timers may live there) until
 * lcore_detach().
 * @return true if any top half, softirq or task did work.
 * @context The lcore's own thread, outside any top half or softirq.
 * @cost One iteration of lcore_run()'s loop.
 */
bool lcore_poll_once() noexcept;

/**
 * Asks @p lcore's loop to return; wakes it if it sleeps.
 * @context Any thread, a signal handler included.
 * @cost A store, and an eventfd write if it sleeps.
 */
void lcore_request_stop(unsigned lcore) noexcept;

/**
 * Wakes @p lcore if it sleeps, so that its next iteration runs at once.
 * @context Any thread.
 * @cost An atomic load; a write to an eventfd only when the lcore sleeps
 *   and no wake-up is already on its way.
 */
void lcore_kick(unsigned lcore) noexcept;

/** Counters of one lcore's loop. */
struct lcore_stats {
	uint64_t iterations = 0; /**< loop iterations */
	uint64_t busy = 0;       /**< iterations that did work */
	uint64_t sleeps = 0;     /**< times the lcore went to sleep (a wake-up already on its way ends one at once) */
	uint64_t wakeups = 0;    /**< eventfd writes that woke it */
	uint64_t yields = 0;     /**< CPU yields to a running ksoftirqd */
	uint64_t busy_cycles = 0; /**< TSC cycles of iterations that did work */
	uint64_t idle_cycles = 0; /**< TSC cycles of the others, sleep included */
	uint64_t irqs = 0;       /**< irq fd wake-ups handled */
	uint64_t bh_held = 0;    /**< iterations that ran the app tasks alone, the bottom halves having had their share */
};

/**
 * Counters of @p lcore's loop (zeros for an id out of range).
 * @context Any thread.
 * @cost Eight relaxed loads.
 */
lcore_stats lcore_get_stats(unsigned lcore) noexcept;

} // namespace bh
