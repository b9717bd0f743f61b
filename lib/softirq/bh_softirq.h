/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/**
 * @file
 * Softirqs: a 32-entry vector of handlers, raised per lcore and run at the
 * end of top halves, in local_bh_enable, in ksoftirqd, or by an explicit
 * do_softirq() (SPEC section 2).
 *
 * The index of an entry is its priority: on each pass, pending entries run
 * lowest index first. The predefined entries keep modern Linux's order with
 * room left between IRQ_POLL and TASKLET, where the seed says a new entry
 * "likely belongs", and after RCU:
 *
 *   0 HI  1 TIMER  2 NET_TX  3 NET_RX  4 BLOCK  5 IRQ_POLL
 *   6..25 free (first_free_softirq .. TASKLET_SOFTIRQ - 1)
 *   26 TASKLET  27 SCHED  28 HRTIMER  29 RCU  30..31 free
 *
 * Registration happens before bh::start(); from then until bh::stop() the
 * table is frozen. A handler runs with bottom halves disabled on its lcore
 * and must not sleep. The same softirq may run at the same moment on two
 * lcores, so handlers keep their state in per-lcore data (bh_percpu.h).
 */

#include <cstdint>
#include <cstdio>

namespace bh {

/** The predefined entries; an entry's index is its priority (lowest first). */
enum softirq_nr : unsigned {
	HI_SOFTIRQ = 0,
	TIMER_SOFTIRQ = 1,
	NET_TX_SOFTIRQ = 2,
	NET_RX_SOFTIRQ = 3,
	BLOCK_SOFTIRQ = 4,
	IRQ_POLL_SOFTIRQ = 5,
	TASKLET_SOFTIRQ = 26,
	SCHED_SOFTIRQ = 27,
	HRTIMER_SOFTIRQ = 28,
	RCU_SOFTIRQ = 29,
	NR_SOFTIRQS = 32,
};

/** First index free for applications; entries from here to TASKLET_SOFTIRQ - 1 sit between BLOCK and TASKLET. */
inline constexpr unsigned first_free_softirq = IRQ_POLL_SOFTIRQ + 1;

struct softirq_action;

/**
 * A softirq handler. It receives its whole table entry (the seed's trick:
 * the entry can grow without touching every handler) and reads its data
 * from there.
 */
using softirq_handler = void (*)(const softirq_action &entry);

/** One entry of the vector. Written only before bh::start(). */
struct softirq_action {
	softirq_handler action = nullptr; /**< the handler; null when the entry is free */
	void *data = nullptr;             /**< given at registration, for the handler */
	const char *name = nullptr;       /**< for logs and softirq_dump() */
	unsigned nr = 0;                  /**< the entry's index */
};

/**
 * Registers handler @p h at index @p nr (open_softirq in the kernel).
 *
 * Call before bh::start(), from any thread.
 * @return 0 on success; -EINVAL if nr >= NR_SOFTIRQS (the table has 32
 *   entries: there is no 33rd) or h is null; -EEXIST if the entry is taken;
 *   -EBUSY if the table is frozen (bh::start() has run). Every refusal is
 *   logged as one line naming the entry and the reason.
 */
int open_softirq(unsigned nr, softirq_handler h, void *data = nullptr, const char *name = nullptr) noexcept;

/**
 * Registers @p h at the first free index strictly between @p after and
 * @p before, i.e. with a priority between theirs. The defaults place it
 * between BLOCK/IRQ_POLL and TASKLET.
 *
 * @return the index on success; -ENOSPC if no entry in the range is free
 *   (with all 32 taken, any range); -EINVAL, -EBUSY as open_softirq().
 */
int alloc_softirq(softirq_handler h, void *data = nullptr, const char *name = nullptr,
		  unsigned after = IRQ_POLL_SOFTIRQ, unsigned before = TASKLET_SOFTIRQ) noexcept;

/**
 * Frees entry @p nr and drops it from every lcore's pending mask.
 * @return 0; -EINVAL for a bad or unregistered index; -EBUSY once frozen.
 */
int close_softirq(unsigned nr) noexcept;

/** True between bh::start() and bh::stop(). */
bool softirq_table_frozen() noexcept;

/** The entry at @p nr (action is null when unregistered). */
const softirq_action &softirq_entry(unsigned nr) noexcept;

/**
 * Marks @p nr pending on the calling lcore.
 *
 * Safe against a concurrent raise from any other thread targeting the same
 * lcore: the pending mask is updated with one atomic OR, which is what the
 * kernel gets by disabling interrupts around it. Callable from a top half,
 * a softirq, an app task or ksoftirqd (which raises on the lcore it serves).
 * Does not run the softirq: irq_exit(), local_bh_enable() or the lcore loop
 * will. Cost: one locked OR on a line of this lcore plus a counter.
 * @return 0; -EINVAL if nr is not registered; -ENODEV if the calling thread
 *   is not an lcore (use raise_softirq_on()).
 */
int raise_softirq(unsigned nr) noexcept;

/**
 * raise_softirq() without the atomic read-modify-write. Only for a caller
 * that knows no other thread can raise on this lcore at the same time
 * (e.g. an lcore that never receives remote raises); otherwise a concurrent
 * raise can be lost. Same return codes.
 */
int raise_softirq_irqoff(unsigned nr) noexcept;

/**
 * Marks @p nr pending on @p lcore from any thread (an lcore, a worker, the
 * DPDK interrupt thread) and wakes that lcore if it sleeps. The raise is
 * never lost. Cost: one locked OR, one atomic add, and a write to the
 * lcore's eventfd only when it sleeps.
 * @return 0; -EINVAL if nr is not registered or lcore is not an enabled
 *   lcore (both logged).
 */
int raise_softirq_on(unsigned lcore, unsigned nr) noexcept;

/** The calling lcore's pending mask (0 on a thread that is not an lcore). */
uint32_t local_softirq_pending() noexcept;

/**
 * Runs the calling lcore's pending softirqs.
 *
 * Does nothing in a top half, in a softirq (softirqs never nest) or with
 * bottom halves disabled, and nothing while the lcore's ksoftirqd owns its
 * softirqs under ksoftirqd_policy::defer. Otherwise takes and clears the
 * pending mask atomically, runs each set entry in index order, and repeats
 * while entries were raised again, at most max_restart passes and within
 * max_time; if work is left after that, wakes the lcore's ksoftirqd.
 */
void do_softirq() noexcept;

/** What an lcore does about softirqs while its ksoftirqd is awake. */
enum class ksoftirqd_policy {
	/**
	 * Linux 4.x-6.4: softirqs raised while ksoftirqd runs are left to it;
	 * the lcore keeps running top halves and app tasks. The default.
	 */
	defer,
	/**
	 * Mainline Linux today: the lcore keeps running softirqs at the end of
	 * each top half (within the restart and time limits), taking turns
	 * with ksoftirqd.
	 */
	inline_always,
};

/** Limits of one do_softirq() call (the kernel's MAX_SOFTIRQ_RESTART and MAX_SOFTIRQ_TIME). */
struct softirq_config {
	unsigned max_restart = 10;      /**< passes over the vector per call, >= 1 */
	uint64_t max_time_ns = 2000000; /**< time budget per call, > 0 */
	ksoftirqd_policy policy = ksoftirqd_policy::defer; /**< who runs softirqs while ksoftirqd is awake */
};

/**
 * Sets the limits and policy. Call before bh::start().
 * @return 0; -EINVAL for a zero limit; -EBUSY once started.
 */
int softirq_set_config(const softirq_config &cfg) noexcept;
/** The limits and policy in force. */
softirq_config softirq_get_config() noexcept;

/** Counters of one softirq on one lcore (the framework's /proc/softirqs). */
struct softirq_stats {
	uint64_t raised = 0;       /**< raise calls that targeted this lcore */
	uint64_t run = 0;          /**< handler invocations, wherever they ran */
	uint64_t run_ksoftirqd = 0; /**< of which in the lcore's ksoftirqd */
	uint64_t cycles = 0;       /**< TSC cycles spent in the handler */
	uint64_t ns = 0;           /**< the same in nanoseconds */
};

/** Counters of softirq @p nr on @p lcore; callable from any thread. */
softirq_stats softirq_get_stats(unsigned lcore, unsigned nr) noexcept;

/**
 * Writes a /proc/softirqs-like table (one row per registered softirq, one
 * column per lcore that ran or raised anything) to @p out.
 */
void softirq_dump(FILE *out) noexcept;

} // namespace bh
