/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/**
 * @file
 * An entry of the framework's start-up table: a part that opens with
 * bh::start(), closes with bh::stop(), and follows the framework's lcores
 * as they come and go, the way the kernel's CPU-hotplug states
 * (cpuhp_setup_state) and DPDK's rte_lcore_callback_register() do.
 *
 * bh::start() opens the entries in table order; as each opens, its
 * lcore_up hook runs for every lcore of the framework. A failure rolls back
 * what was done, in reverse. bh::stop(), once every loop has returned, runs
 * lcore_down for each lcore and close, entry by entry, in reverse. An lcore
 * that attaches later gets lcore_up from every open entry, in order;
 * detaching runs lcore_down in reverse. loop_start and loop_stop follow an
 * lcore's loop (lcore_run, or an embedder's lcore_poll_once) and run on
 * the lcore's own thread.
 *
 * The core's own parts are entries (tasklets, timers, the softirq table's
 * freeze, ksoftirqd, work queues, the lcore loop's counters), and so is the
 * net layer (net_init() adds it). An application adds its own with
 * bh::subsystem_register() (bh_lcore.h).
 */

namespace bh {

/** One entry. Every hook is optional (null). */
struct subsystem {
	const char *name = nullptr; /**< for logs: the entry that failed */
	/**
	 * bh::start(), main thread, in table order. May register softirqs (the
	 * table freezes after the applications' entries and the net layer).
	 * Returns 0, or a negative errno that aborts the start.
	 */
	int (*open)() = nullptr;
	/** bh::stop() after every loop returned, or a failed start, in reverse order. */
	void (*close)() = nullptr;
	/**
	 * Lcore @p lcore is the framework's: for each one as the entry opens,
	 * and for one that attaches later (on the attaching thread). Returns 0
	 * or a negative errno (the start, or the attach, fails).
	 */
	int (*lcore_up)(unsigned lcore) = nullptr;
	/** Undoes lcore_up: at detach (on the detaching thread), at stop and in a rollback. */
	void (*lcore_down)(unsigned lcore) = nullptr;
	/** @p lcore's loop starts, on its own thread. */
	void (*loop_start)(unsigned lcore) = nullptr;
	/** @p lcore's loop stops, on its own thread. */
	void (*loop_stop)(unsigned lcore) = nullptr;
};

} // namespace bh
