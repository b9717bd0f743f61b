/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Per-lcore softirq state, shared by the softirq layer and the parts above
 * it (ksoftirqd, tasklets, timers, the lcore loop, NAPI). Not installed.
 *
 * Who may touch each field:
 *   [I]  init-only: written before bh::start() or at attach, read-only after
 *   [A]  any thread, through atomic read-modify-write
 *   [L]  the lcore's own thread only
 *   [K]  the lcore's ksoftirqd thread only
 *   [X]  the executor: whichever of [L]/[K] currently owns the lcore's
 *        softirqs. The lcore thread owns them while ksoftirqd_active is
 *        false; while it is true, exec_lock decides. Ownership changes are
 *        release/acquire pairs, so [X] fields need no atomic RMW.
 *   Counters are bh::lcore_counter (single writer, any reader).
 * BH_CHECK_OWNER (percpu_private.h) enforces [L] and [X] in debug and
 * sanitizer builds.
 */

#include <atomic>
#include <cstdint>

#include "bh_percpu.h"
#include "bh_softirq.h"
#include "bh_subsys.h"
#include "context_private.h"
#include "percpu_private.h"

namespace bh::detail {

struct softirq_lcore {
	/*
	 * The pending mask is two words. local_pending takes the lcore
	 * thread's own raises while it owns its softirqs (ksoftirqd idle):
	 * plain loads and stores, as the kernel's raise with interrupts off,
	 * because no other thread writes it. pending takes every other raise
	 * (other threads, ksoftirqd, the lcore while ksoftirqd owns the
	 * softirqs) with locked operations. The lcore folds local_pending into
	 * pending before it hands its softirqs to ksoftirqd, so ksoftirqd and
	 * the sleep handshake's raisers only ever need pending. Raisers from
	 * every thread write pending's line; keep it alone.
	 */
	alignas(RTE_CACHE_LINE_SIZE) std::atomic<uint32_t> pending{0}; /* [A] */

	alignas(RTE_CACHE_LINE_SIZE) uint32_t local_pending = 0; /* [L] */
	std::atomic<bool> ksoftirqd_active{false}; /* set [L], cleared [K] */
	std::atomic<bool> exec_lock{false};       /* [A] only while ksoftirqd_active */
	std::atomic<bool> lcore_waits{false};     /* [L] sets while it waits for exec_lock, [K] reads */
	std::atomic<uint32_t> ksoftirqd_kick{0};  /* [L] bumps, [K] waits on it (futex word) */
	std::atomic<bool> has_ksoftirqd{false};   /* [I] at spawn and reap */
	bool bh_lock_held = false;                /* [L] exec_lock taken by local_bh_disable */

	/*
	 * The wake-up of a sleeping lcore, both halves of whose handshake are
	 * in softirq.cpp: the lcore sets sleeping, then looks at pending;
	 * a raiser sets pending, then looks at sleeping (both seq_cst), so one
	 * of them always sees the other. Kickers read this line.
	 */
	alignas(RTE_CACHE_LINE_SIZE) std::atomic<bool> sleeping{false}; /* [L] writes, [A] reads */
	std::atomic<bool> wake_posted{false};  /* [A] one eventfd write per sleep */
	std::atomic<int> wake_fd{-1};          /* made by [L] at its first attach, never closed */
	std::atomic<uint64_t> wakeups{0};      /* [A] eventfd writes */

	alignas(RTE_CACHE_LINE_SIZE) lcore_counter raised_lcore[NR_SOFTIRQS]; /* [L] */
	lcore_counter raised_ksoftirqd[NR_SOFTIRQS]; /* [K] */
	std::atomic<uint64_t> raised_remote[NR_SOFTIRQS]{}; /* [A] */
	lcore_counter run[NR_SOFTIRQS];              /* [X] */
	lcore_counter run_ksoftirqd[NR_SOFTIRQS];    /* [X] */
	lcore_counter cycles[NR_SOFTIRQS];           /* [X] */
	lcore_counter ksoftirqd_wakeups;             /* [L] */
	lcore_counter ksoftirqd_batches;             /* [K] */
	lcore_counter context_leaks;                 /* [X] handlers that changed the context word */
};

extern per_lcore<softirq_lcore> softirq_state;

/* The pending mask: both words on the lcore's own thread (@p who lcore), pending alone on any other. */
inline uint32_t pending_of(const softirq_lcore &s, thread_role who, std::memory_order order) noexcept
{
	return s.pending.load(order) | (who == thread_role::lcore ? s.local_pending : 0);
}

/*
 * Softirqs only the lcore's own thread may run, even while its ksoftirqd
 * owns the others (as Linux 4.x ran HI and TASKLET inline with ksoftirqd
 * awake): TIMER drives rte_timer, which keys its lists by rte_lcore_id(),
 * and ksoftirqd's DPDK lcore id is its own, not the lcore's.
 */
inline constexpr uint32_t lcore_only_mask = 1u << TIMER_SOFTIRQ;

/*
 * Runs the pending softirqs of lcore @p s that are in @p mask, as its
 * current executor, within the configured limits. Returns true if some in
 * @p mask are still pending at the end.
 */
bool run_softirqs(softirq_lcore &s, thread_role who, uint32_t mask) noexcept;

/*
 * True if the calling thread owns @p lcore's softirqs right now: its
 * ksoftirqd, or the lcore itself while ksoftirqd is idle. Others hand
 * objects to the lcore through a lock-free inbox instead of its lists.
 */
inline bool is_executor(unsigned lcore) noexcept
{
	if (current_role() == thread_role::ksoftirqd)
		return true;
	return !softirq_state[lcore].ksoftirqd_active.load(std::memory_order_acquire);
}

/* [X] checks, for BH_CHECK_OWNER: the calling thread runs @p lcore's softirqs. */
inline bool executes(unsigned lcore) noexcept
{
	return lcore_id() == lcore && current_role() != thread_role::other &&
	       (current_role() == thread_role::ksoftirqd ||
		!softirq_state[lcore].ksoftirqd_active.load(std::memory_order_acquire) ||
		softirq_state[lcore].exec_lock.load(std::memory_order_acquire));
}

/*
 * A softirq handler or a tasklet must return with the context word as it
 * found it (Linux's handle_softirqs checks preempt_count the same way): one
 * that leaves bottom halves disabled would silently stop every softirq of
 * the lcore. The executor compares tl_preempt_count with @p before after
 * each call, inline, and calls this when they differ, through a cold
 * wrapper that names @p what (and @p fn) only then: reports it, counts it
 * and restores the word. [X]
 */
void context_leaked(softirq_lcore &s, uint32_t before, const char *what, const void *fn) noexcept;

/* ksoftirqd's side of the hand-off: runs the lcore's softirqs in batches, under the execution lock. */
void exec_lock_acquire(softirq_lcore &s) noexcept;
void exec_lock_release(softirq_lcore &s) noexcept;

/*
 * Registers @p h at predefined entry @p nr for a part of the framework
 * (bh::start), unless an application took the entry first (then logged
 * under @p log_type: @p what will not run). Returns whether this call
 * registered it, for release_softirq (bh::stop).
 */
bool claim_softirq(unsigned nr, softirq_handler h, int log_type, const char *what) noexcept;
void release_softirq(unsigned nr, bool claimed) noexcept;

/*
 * The wake-up of lcore @p lcore's loop. wakeup_fd() makes its eventfd on
 * first use (the lcore's own thread, at attach) and returns it, or -errno.
 * sleep_prepare() announces the sleep and returns false if softirqs are
 * pending (then the lcore must not sleep); sleep_finish() ends it;
 * wakeup_consume() reads the eventfd after it woke the lcore.
 */
int wakeup_fd(unsigned lcore) noexcept;
bool sleep_prepare(unsigned lcore) noexcept;
void sleep_finish(unsigned lcore) noexcept;
void wakeup_consume(unsigned lcore) noexcept;
/* Wakes @p lcore if it sleeps: an eventfd write only when it sleeps and none is on its way. Any thread. */
void kick(unsigned lcore) noexcept;

/*
 * The name of each registered entry ("" for a free one, "unnamed" for one
 * registered without a name), copied under the table lock: for a reader on
 * another thread (telemetry) while the table may still change.
 */
using softirq_name = char[32];
void softirq_names(softirq_name (&names)[NR_SOFTIRQS]) noexcept;

/* The start-up table's entry: freezes the vector (bh::start) and unfreezes it (bh::stop). */
extern const subsystem softirq_subsystem;

} // namespace bh::detail
