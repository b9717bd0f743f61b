/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/**
 * @file
 * Execution context: the preempt_count word, top-half markers,
 * local_bh_disable/enable and the sleeping-in-atomic-context check
 * (SPEC section 3).
 *
 * Each thread has one context word, like a task's preempt_count:
 *  - bits 0-7:  unused here (no preemption to count in userspace);
 *  - bits 8-15: softirq part; bit 8 = serving a softirq, and each
 *               local_bh_disable adds 2 << 8 (SOFTIRQ_DISABLE_OFFSET), so a
 *               serving softirq and a disabled one are told apart;
 *  - bits 16-19: hard-irq part, raised by irq_enter() around a top half.
 * All functions here act on the calling thread and are callable from any
 * thread; on a thread that is not an lcore only the word changes.
 */

#include <cstdint>

namespace bh {

inline constexpr uint32_t softirq_shift = 8;   /**< first bit of the softirq part */
inline constexpr uint32_t hardirq_shift = 16;  /**< first bit of the hard-irq part */
inline constexpr uint32_t softirq_offset = 1u << softirq_shift; /**< added while serving a softirq */
inline constexpr uint32_t softirq_disable_offset = 2 * softirq_offset; /**< added by each local_bh_disable() */
inline constexpr uint32_t hardirq_offset = 1u << hardirq_shift; /**< added by each irq_enter() */
inline constexpr uint32_t softirq_mask = 0xffu << softirq_shift; /**< the softirq part */
inline constexpr uint32_t hardirq_mask = 0xfu << hardirq_shift;   /**< the hard-irq part */

/** The calling thread's context word. */
uint32_t preempt_count() noexcept;

/** True inside a top half (between irq_enter and irq_exit). */
bool in_hardirq() noexcept;
/** Kernel spelling of in_hardirq(). */
inline bool in_irq() noexcept { return in_hardirq(); }
/** True while serving a softirq or with bottom halves disabled. */
bool in_softirq() noexcept;
/** True only while a softirq handler (or a tasklet) runs on this thread. */
bool in_serving_softirq() noexcept;
/** True in a top half, in a softirq, or with bottom halves disabled. */
bool in_interrupt() noexcept;
/** True in process-like context: neither a top half nor a serving softirq. */
bool in_task() noexcept;

/**
 * Marks the start of a top half on the calling lcore (the kernel's
 * irq_enter). Nests. Cost: a thread-local add.
 */
void irq_enter() noexcept;

/**
 * Marks the end of a top half. When the outermost top half ends, bottom
 * halves are enabled and softirqs are pending, runs them (do_softirq), as
 * the kernel's irq_exit does; see bh_softirq.h for when they are handed to
 * ksoftirqd instead.
 */
void irq_exit() noexcept;

/** RAII top half: irq_enter() now, irq_exit() at scope end. */
class hardirq_scope {
public:
	hardirq_scope() noexcept { irq_enter(); }
	~hardirq_scope() { irq_exit(); }
	hardirq_scope(const hardirq_scope &) = delete;
	hardirq_scope &operator=(const hardirq_scope &) = delete;
};

/**
 * Disables softirq and tasklet processing on the calling lcore.
 *
 * Calls nest; only the matching outermost local_bh_enable() enables again.
 * Work queues are not affected. On an lcore whose ksoftirqd is running, the
 * outermost call waits for ksoftirqd to finish the softirq it is in, so
 * that no softirq of this lcore runs until the matching enable, on any
 * thread. Cost: a thread-local add and one load of a line this lcore owns
 * when ksoftirqd is idle.
 */
void local_bh_disable() noexcept;

/**
 * Re-enables bottom halves. The outermost call runs the lcore's pending
 * softirqs before it returns (unless inside a top half, where irq_exit will).
 */
void local_bh_enable() noexcept;

/** RAII pair of local_bh_disable()/local_bh_enable(). */
class bh_disable_guard {
public:
	bh_disable_guard() noexcept { local_bh_disable(); }
	~bh_disable_guard() { local_bh_enable(); }
	bh_disable_guard(const bh_disable_guard &) = delete;
	bh_disable_guard &operator=(const bh_disable_guard &) = delete;
};

/** What a call that may sleep does when made from atomic context. */
enum class sleep_check_mode {
	abort, /**< log the report and abort(): the default when NDEBUG is unset */
	error, /**< log the report and return -EDEADLK: the default in release builds */
};

/** Sets the process-wide reaction of might_sleep(); returns the previous one. */
sleep_check_mode set_sleep_check_mode(sleep_check_mode mode) noexcept;

/**
 * Checks that the calling thread may block. Every framework function that
 * can wait (flush_work, tasklet_kill, ...) calls it first.
 *
 * @param fn the name of the blocking function, used in the report.
 * @return 0 if the thread may sleep. In a top half, in a softirq, or with
 *   bottom halves disabled, logs "sleeping function called from invalid
 *   context: <fn> ..." and then aborts or returns -EDEADLK according to
 *   set_sleep_check_mode().
 */
int might_sleep(const char *fn) noexcept;

} // namespace bh
