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
 * Seastar's pollfn and NAPI.
 */
class pollfn {
public:
	virtual ~pollfn() = default;
	/** Does one bounded unit of work; returns true if there was any. */
	virtual bool poll() = 0;
	/**
	 * The loop is about to sleep: arm whatever wakes the lcore (e.g. an Rx
	 * interrupt) and return true, or return false to keep the lcore awake.
	 * The default agrees: a pollfn with no wake-up source of its own is
	 * woken only by kicks and remote raises.
	 */
	virtual bool try_enter_interrupt_mode() { return true; }
	/** The loop woke up after try_enter_interrupt_mode() returned true. */
	virtual void exit_interrupt_mode() {}
	/**
	 * The longest the lcore may sleep before this pollfn must run again
	 * (e.g. a power-saving back-off on a queue without Rx interrupts).
	 */
	virtual uint64_t sleep_limit_ns() { return UINT64_MAX; }
};

/** The top half of an irq fd: runs between irq_enter() and irq_exit() on the lcore it woke. */
using irq_handler = void (*)(void *data);

/**
 * Adds @p fd (e.g. an Rx queue's interrupt fd) to the calling lcore's
 * wake-up set, disabled. When it is enabled and becomes readable while the
 * lcore sleeps, @p handler runs as a top half; it should disable the fd
 * (or consume what made it readable), as a hard irq handler acks its
 * device. Only from the lcore's own (attached) thread.
 * @return 0; -ENODEV if the caller is not an attached lcore; -EINVAL for a
 *   bad fd or null handler; -EEXIST if already requested; -ENOSPC past 32;
 *   -errno from epoll.
 */
int lcore_request_irq(int fd, irq_handler handler, void *data) noexcept;

/** Arms a requested fd (level-triggered). The lcore's own thread; -ENOENT if not requested. */
int lcore_enable_irq(int fd) noexcept;
/** Disarms a requested fd. The lcore's own thread; -ENOENT if not requested. */
int lcore_disable_irq(int fd) noexcept;

/** Removes @p fd from @p lcore's wake-up set; from its own thread or while its loop is stopped (-EBUSY otherwise). */
int lcore_free_irq(unsigned lcore, int fd) noexcept;

/** What an lcore does when an iteration found no work. */
enum class idle_mode {
	poll,  /**< busy-poll, DPDK style: lowest latency, 100% CPU */
	sleep, /**< sleep on the wake-up fd: near-zero CPU when idle */
};

/**
 * Starts the framework: freezes the softirq table and creates ksoftirqd
 * threads for the EAL lcores. Call once after rte_eal_init() (or
 * bh::eal_init()), from the main lcore, after every open_softirq().
 * @return 0; -EALREADY if started; -ENODEV if the EAL is not initialised;
 *   -errno if a thread could not be created (logged).
 */
int start() noexcept;

/**
 * Stops the framework: asks every running lcore loop to return and waits
 * for it, stops and joins the ksoftirqd threads, and unfreezes the softirq
 * table. Each loop runs what is pending on its lcore before it returns.
 * @return 0; -EALREADY if not started; -EDEADLK if called from an lcore
 *   loop (it would wait for itself).
 */
int stop() noexcept;

/** True between start() and stop(). */
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
 * (EAL, or registered with rte_thread_register()). Creates its ksoftirqd
 * if the framework is started and the lcore has none. Idempotent.
 * @return 0; -ENODEV if the thread is not a DPDK lcore; -errno if the
 *   ksoftirqd thread could not be created.
 */
int lcore_attach() noexcept;

/**
 * Undoes lcore_attach() for a registered (non-EAL) thread before it
 * unregisters: runs what is pending and joins its ksoftirqd.
 * @return 0; -ENODEV if not attached; -EBUSY from inside the loop.
 */
int lcore_detach() noexcept;

/**
 * Adds a top half or an app task to @p lcore's loop. The object must
 * outlive the loop. Callable from any thread while that lcore's loop is not
 * running.
 * @return 0; -EINVAL for an lcore id out of range; -EBUSY while the loop
 *   runs; -ENOSPC past 32 of a kind.
 */
int lcore_add_top_half(unsigned lcore, pollfn &fn) noexcept;
/** lcore_add_top_half() for an app task, polled after the top halves and their softirqs. */
int lcore_add_task(unsigned lcore, pollfn &fn) noexcept;

/** Removes every top half and task of @p lcore. -EBUSY while its loop runs. */
int lcore_clear(unsigned lcore) noexcept;

/**
 * Sets what @p lcore does when idle, and how long it may sleep at most
 * before it polls again. Callable any time; takes effect at the next idle
 * iteration.
 * @return 0; -EINVAL for a bad lcore or a zero timeout.
 */
int lcore_set_idle(unsigned lcore, idle_mode mode, unsigned max_sleep_ms = 100) noexcept;

/**
 * Runs the loop on the calling lcore until lcore_request_stop() or stop().
 * Attaches the thread first. Before returning it runs what is still
 * pending.
 * @return 0; -ENODEV if the thread is not a DPDK lcore; -EALREADY if the
 *   loop already runs on this lcore; -EPERM if the framework is not started.
 */
int lcore_run() noexcept;

/** lcore_run() with the signature rte_eal_remote_launch() expects. */
int lcore_main(void *unused);

/**
 * One iteration of the loop for an application that keeps its own main
 * loop; never sleeps. Attaches the thread on first use.
 * @return true if any top half, softirq or task did work.
 */
bool lcore_poll_once() noexcept;

/** Asks @p lcore's loop to return; wakes it if it sleeps. Any thread. */
void lcore_request_stop(unsigned lcore) noexcept;

/**
 * Wakes @p lcore if it sleeps, so that its next iteration runs at once.
 * Any thread; a write to an eventfd only when the lcore sleeps and no
 * wake-up is already on its way.
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
};

/** Counters of @p lcore's loop; callable from any thread. */
lcore_stats lcore_get_stats(unsigned lcore) noexcept;

} // namespace bh
