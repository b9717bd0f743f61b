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
 * lcores, so handlers keep their state in per-lcore data (bh_percpu.h). A
 * handler must return with the context word (bh_context.h) as it found it:
 * one that leaves bottom halves disabled is reported, counted and repaired,
 * as Linux's handle_softirqs does.
 *
 * The calls that mark top halves (irq_enter/irq_exit) and disable bottom
 * halves (local_bh_disable/local_bh_enable) are here too: the outermost
 * irq_exit and local_bh_enable run softirqs.
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
 * @return 0 on success; -EINVAL if nr >= NR_SOFTIRQS (the table has 32
 *   entries: there is no 33rd) or h is null; -EEXIST if the entry is taken;
 *   -EBUSY if the table is frozen (bh::start() has run). Every refusal is
 *   logged as one line naming the entry and the reason.
 * @context Any thread, before bh::start() (or in a subsystem's open).
 * @cost A mutex and a table write.
 */
int open_softirq(unsigned nr, softirq_handler h, void *data = nullptr, const char *name = nullptr) noexcept;

/**
 * Registers @p h at the first free index strictly between @p after and
 * @p before, i.e. with a priority between theirs. The defaults place it
 * between BLOCK/IRQ_POLL and TASKLET.
 *
 * @return the index on success; -ENOSPC if no entry in the range is free
 *   (with all 32 taken, any range); -EINVAL, -EBUSY as open_softirq().
 * @context As open_softirq().
 * @cost As open_softirq(), plus a scan of at most 32 entries.
 */
int alloc_softirq(softirq_handler h, void *data = nullptr, const char *name = nullptr,
		  unsigned after = IRQ_POLL_SOFTIRQ, unsigned before = TASKLET_SOFTIRQ) noexcept;

/**
 * Frees entry @p nr and drops it from every lcore's pending mask.
 * @return 0; -EINVAL for a bad or unregistered index; -EBUSY once frozen.
 * @context Any thread, while the table is not frozen.
 * @cost A mutex and an atomic AND per lcore slot.
 */
int close_softirq(unsigned nr) noexcept;

/**
 * True between bh::start() and bh::stop().
 * @context Any thread.
 * @cost An atomic load.
 */
bool softirq_table_frozen() noexcept;

/**
 * The entry at @p nr (action is null when unregistered).
 * @context Any thread; stable while the table is frozen.
 * @cost An array access.
 */
const softirq_action &softirq_entry(unsigned nr) noexcept;

/**
 * Marks @p nr pending on the calling lcore (the kernel's raise_softirq).
 *
 * Safe against a concurrent raise from any other thread targeting the same
 * lcore. The lcore's own thread, while it runs its softirqs itself, sets
 * the bit in a word no other thread writes (a plain OR, as the kernel's
 * raise with interrupts off); other threads, ksoftirqd, and the lcore while
 * its ksoftirqd owns the softirqs use the shared word with one atomic OR.
 * Does not run the softirq:
 * irq_exit(), local_bh_enable() or the lcore loop will.
 * @return 0; -EINVAL if nr is not registered; -ENODEV if the calling thread
 *   is not an lcore (use raise_softirq_on()).
 * @context An lcore: a top half, a softirq, an app task, or its ksoftirqd
 *   (which raises on the lcore it serves).
 * @cost On the lcore's own thread a load of its ksoftirqd flag and an OR
 *   on a line of this lcore, plus a counter; one locked OR instead while
 *   ksoftirqd owns its softirqs, and from ksoftirqd.
 */
int raise_softirq(unsigned nr) noexcept;

/**
 * raise_softirq() without the atomic read-modify-write (the kernel's
 * __raise_softirq_irqoff). The same as raise_softirq() where that takes
 * the lcore's own word; from ksoftirqd, or while it owns the softirqs, only
 * for a caller that knows no other thread can raise on this lcore at the
 * same time, or a concurrent raise can be lost.
 * @return as raise_softirq().
 * @context As raise_softirq().
 * @cost A load and a store on a line of this lcore plus a counter.
 */
int raise_softirq_irqoff(unsigned nr) noexcept;

/**
 * Marks @p nr pending on @p lcore from any thread (an lcore, a worker, the
 * DPDK interrupt thread) and wakes that lcore if it sleeps. The raise is
 * never lost.
 * @return 0; -EINVAL if nr is not registered or lcore is not an enabled
 *   lcore (both logged).
 * @context Any thread.
 * @cost One locked OR, one atomic add, and a write to the lcore's eventfd
 *   only when it sleeps and no wake-up is already on its way.
 */
int raise_softirq_on(unsigned lcore, unsigned nr) noexcept;

/**
 * The calling lcore's pending mask (0 on a thread that is not an lcore);
 * on ksoftirqd, what it can see: the shared word.
 * @context Any thread.
 * @cost An atomic load and, on the lcore's own thread, a plain one.
 */
uint32_t local_softirq_pending() noexcept;

/**
 * Runs the calling lcore's pending softirqs (the kernel's do_softirq).
 *
 * Does nothing in a top half, in a softirq (softirqs never nest) or with
 * bottom halves disabled, and nothing while the lcore's ksoftirqd owns its
 * softirqs under ksoftirqd_policy::defer. Otherwise takes and clears the
 * pending mask atomically, runs each set entry in index order, and repeats
 * while entries were raised again, at most max_restart passes and within
 * max_time (counted from the first restart, so that a call that needs none
 * reads no clock); if work is left after that, wakes the lcore's ksoftirqd.
 * @context An lcore's own thread, or its ksoftirqd.
 * @cost Nothing pending: a thread-local read and a load. Else per pass an
 *   atomic AND, per handler its counters (and, one run in 64, two TSC reads
 *   to time it), and the handlers.
 */
void do_softirq() noexcept;

/**
 * Marks the start of a top half on the calling thread (the kernel's
 * irq_enter). Nests.
 * @context Any thread; meant for an lcore's top halves.
 * @cost A thread-local add.
 */
void irq_enter() noexcept;

/**
 * Marks the end of a top half (the kernel's irq_exit). When the outermost
 * top half ends, bottom halves are enabled and softirqs are pending, runs
 * them (do_softirq), or leaves them to ksoftirqd as do_softirq() says.
 * @context The thread that called irq_enter().
 * @cost A thread-local subtract; do_softirq() when pending.
 */
void irq_exit() noexcept;

/** RAII top half: irq_enter() now, irq_exit() at scope end. */
class hardirq_scope {
public:
	/** irq_enter(). */
	hardirq_scope() noexcept { irq_enter(); }
	/** irq_exit(). */
	~hardirq_scope() { irq_exit(); }
	hardirq_scope(const hardirq_scope &) = delete;
	hardirq_scope &operator=(const hardirq_scope &) = delete;
};

/**
 * Disables softirq and tasklet processing on the calling lcore (the
 * kernel's local_bh_disable).
 *
 * Calls nest; only the matching outermost local_bh_enable() enables again.
 * Work queues are not affected. On an lcore whose ksoftirqd is running, the
 * outermost call waits for ksoftirqd to finish the softirq it is in, so
 * that no softirq of this lcore runs until the matching enable, on any
 * thread.
 * @context Any thread; on a thread that is not an lcore only the word changes.
 * @cost A thread-local add and one load of a line this lcore owns while
 *   ksoftirqd is idle; the wait for one ksoftirqd batch while it runs.
 */
void local_bh_disable() noexcept;

/**
 * Re-enables bottom halves (the kernel's local_bh_enable). The outermost
 * call runs the lcore's pending softirqs before it returns (unless inside a
 * top half, where irq_exit will). An unbalanced call is reported and ignored.
 * @context The thread that called local_bh_disable().
 * @cost A thread-local subtract and a load; do_softirq() when pending.
 */
void local_bh_enable() noexcept;

/** RAII pair of local_bh_disable()/local_bh_enable(). */
class bh_disable_guard {
public:
	/** local_bh_disable(). */
	bh_disable_guard() noexcept { local_bh_disable(); }
	/** local_bh_enable(). */
	~bh_disable_guard() { local_bh_enable(); }
	bh_disable_guard(const bh_disable_guard &) = delete;
	bh_disable_guard &operator=(const bh_disable_guard &) = delete;
};

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
	uint64_t max_time_ns = 2000000; /**< time budget per call, from its first restart, > 0 */
	ksoftirqd_policy policy = ksoftirqd_policy::defer; /**< who runs softirqs while ksoftirqd is awake */
};

/**
 * Sets the limits and policy.
 * @return 0; -EINVAL for a zero limit; -EBUSY once started (both logged).
 * @context Any thread, before bh::start().
 * @cost A mutex.
 */
int softirq_set_config(const softirq_config &cfg) noexcept;
/**
 * The limits and policy in force.
 * @context Any thread.
 * @cost A mutex.
 */
softirq_config softirq_get_config() noexcept;

/** Counters of one softirq on one lcore (the framework's /proc/softirqs). */
struct softirq_stats {
	uint64_t raised = 0;       /**< raise calls that targeted this lcore */
	uint64_t run = 0;          /**< handler invocations, wherever they ran */
	uint64_t run_ksoftirqd = 0; /**< of which in the lcore's ksoftirqd */
	uint64_t cycles = 0;       /**< TSC cycles spent in the handler: one run in 64 is timed and counts for 64 */
	uint64_t ns = 0;           /**< the same in nanoseconds */
	uint64_t context_leaks = 0; /**< handler runs on this lcore (any softirq, tasklets included) that returned with the context word changed, repaired */
};

/**
 * Counters of softirq @p nr on @p lcore.
 * @context Any thread.
 * @cost A handful of relaxed loads; values may be a few updates old.
 */
softirq_stats softirq_get_stats(unsigned lcore, unsigned nr) noexcept;

/**
 * Writes a /proc/softirqs-like table (one row per registered softirq, one
 * column per lcore of the framework) to @p out.
 * @context Any thread.
 * @cost Formatted output of 32 x lcores counters.
 */
void softirq_dump(FILE *out) noexcept;

} // namespace bh
