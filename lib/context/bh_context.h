/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/**
 * @file
 * Execution context: the preempt_count word, its queries and the
 * sleeping-in-atomic-context check (SPEC section 3). The calls that change
 * the word around top halves and bottom halves (irq_enter/irq_exit,
 * local_bh_disable/enable) run softirqs, so they are the softirq layer's
 * (bh_softirq.h), as they are kernel/softirq.c's.
 *
 * Each thread has one context word, like a task's preempt_count:
 *  - bits 0-7:  unused here (no preemption to count in userspace);
 *  - bits 8-15: softirq part; bit 8 = serving a softirq, and each
 *               local_bh_disable adds 2 << 8 (SOFTIRQ_DISABLE_OFFSET), so a
 *               serving softirq and a disabled one are told apart;
 *  - bits 16-19: hard-irq part, raised by irq_enter() around a top half.
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

/**
 * The calling thread's context word (the kernel's preempt_count()).
 * @context Any thread.
 * @cost A thread-local read.
 */
uint32_t preempt_count() noexcept;

/**
 * True inside a top half, between irq_enter() and irq_exit().
 * @context Any thread.
 * @cost A thread-local read.
 */
bool in_hardirq() noexcept;
/**
 * Kernel spelling of in_hardirq().
 * @context Any thread.
 * @cost A thread-local read.
 */
inline bool in_irq() noexcept { return in_hardirq(); }
/**
 * True while serving a softirq or with bottom halves disabled.
 * @context Any thread.
 * @cost A thread-local read.
 */
bool in_softirq() noexcept;
/**
 * True only while a softirq handler (or a tasklet) runs on this thread.
 * @context Any thread.
 * @cost A thread-local read.
 */
bool in_serving_softirq() noexcept;
/**
 * True in a top half, in a softirq, or with bottom halves disabled.
 * @context Any thread.
 * @cost A thread-local read.
 */
bool in_interrupt() noexcept;
/**
 * True in process-like context: neither a top half nor a serving softirq.
 * @context Any thread.
 * @cost A thread-local read.
 */
bool in_task() noexcept;

/** What a call that may sleep does when made from atomic context. */
enum class sleep_check_mode {
	abort, /**< log the report and abort(): the default when NDEBUG is unset */
	error, /**< log the report and return -EDEADLK: the default in release builds */
};

/**
 * Sets the process-wide reaction of might_sleep(); returns the previous one.
 * @context Any thread.
 * @cost An atomic exchange.
 */
sleep_check_mode set_sleep_check_mode(sleep_check_mode mode) noexcept;

/**
 * Checks that the calling thread may block (the kernel's might_sleep).
 * Every framework function that can wait (flush_work, tasklet_kill, ...)
 * calls it first.
 *
 * @param fn the name of the blocking function, used in the report.
 * @return 0 if the thread may sleep. In a top half, in a softirq, or with
 *   bottom halves disabled, logs "sleeping function called from invalid
 *   context: <fn> ..." and then aborts or returns -EDEADLK according to
 *   set_sleep_check_mode().
 * @context Any thread.
 * @cost A thread-local read; a log line on failure.
 */
int might_sleep(const char *fn) noexcept;

} // namespace bh
