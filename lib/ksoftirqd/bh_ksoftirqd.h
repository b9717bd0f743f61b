/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/**
 * @file
 * ksoftirqd: one thread per lcore, `ksoftirqd/<lcore>`, that takes over the
 * lcore's softirqs when they flood (SPEC section 4, the seed's "final
 * solution: compromise").
 *
 * do_softirq() wakes it (a futex wake, never a spin) when it runs out of
 * restarts or time with work still pending. From then until it finds
 * nothing pending, ksoftirqd owns the lcore's softirqs: it runs them in
 * batches with the same limits, yielding the CPU between batches, and the
 * two threads never run the lcore's softirqs at the same time. Then it gives
 * them back and sleeps. The threads are created by bh::start() for EAL
 * lcores and by bh::lcore_attach() for registered threads.
 */

#include <cstdint>

#include <rte_lcore.h>

namespace bh {

/** Placement and priority of the ksoftirqd threads. */
struct ksoftirqd_config {
	/**
	 * Nice value. 0 as in modern Linux; 19, the seed's "lowest possible
	 * priority", is one setting away.
	 */
	int nice = 0;
	/**
	 * Pin each ksoftirqd to the CPUs of its lcore (the default, as
	 * ksoftirqd/n runs on CPU n) or, when false, to cpuset
	 * (e.g. housekeeping cores).
	 */
	bool same_cpu = true;
	rte_cpuset_t cpuset{}; /**< the CPUs of every ksoftirqd when same_cpu is false */
};

/**
 * Sets the configuration used by threads created afterwards.
 * @return 0; -EINVAL for a nice value outside -20..19 or an empty cpuset
 *   with same_cpu false; -EBUSY while the framework runs (all logged).
 * @context Any thread, before bh::start().
 * @cost A mutex.
 */
int ksoftirqd_set_config(const ksoftirqd_config &cfg) noexcept;
/**
 * The configuration in force.
 * @context Any thread.
 * @cost A mutex.
 */
ksoftirqd_config ksoftirqd_get_config() noexcept;

/** Counters of one lcore's ksoftirqd. */
struct ksoftirqd_stats {
	bool exists = false;    /**< the thread has been created */
	bool active = false;    /**< it owns the lcore's softirqs right now */
	uint64_t wakeups = 0;   /**< times do_softirq handed work to it */
	uint64_t batches = 0;   /**< batches it ran */
	uint64_t softirqs = 0;  /**< handler invocations it made */
	/**
	 * The thread's own DPDK lcore id (a non-EAL lcore, registered when it
	 * starts), which gives it mempool caches of its own; LCORE_ID_ANY if
	 * none was free, or if the EAL has a multi-process channel (shared
	 * config), which DPDK 22.11 closes for good when a non-EAL thread takes
	 * an id, refusing dpdk-dumpcap: then it works through the pools'
	 * shared path.
	 */
	unsigned dpdk_lcore = LCORE_ID_ANY;
};

/**
 * Counters of @p lcore's ksoftirqd (zeros for an id out of range).
 * @context Any thread.
 * @cost About 40 relaxed loads (its run count sums the 32 softirqs).
 */
ksoftirqd_stats ksoftirqd_get_stats(unsigned lcore) noexcept;

/**
 * True on a ksoftirqd thread: a handler may ask where it runs.
 * @context Any thread.
 * @cost A thread-local read.
 */
bool in_ksoftirqd() noexcept;

} // namespace bh
