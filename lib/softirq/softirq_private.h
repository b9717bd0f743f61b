/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Per-lcore softirq state shared by the softirq, context, ksoftirqd and
 * lcore parts of the core. Not installed.
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
 */

#include <atomic>
#include <cstdint>

#include "bh_percpu.h"
#include "bh_softirq.h"

namespace bh::detail {

struct softirq_lcore {
	/* Raisers from every thread write this line; keep it alone. */
	alignas(RTE_CACHE_LINE_SIZE) std::atomic<uint32_t> pending{0}; /* [A] */

	alignas(RTE_CACHE_LINE_SIZE) std::atomic<bool> ksoftirqd_active{false}; /* set [L], cleared [K] */
	std::atomic<bool> exec_lock{false};       /* [A] only while ksoftirqd_active */
	std::atomic<bool> lcore_waits{false};     /* [L] sets while it waits for exec_lock, [K] reads */
	std::atomic<uint32_t> ksoftirqd_kick{0};  /* [L] bumps, [K] waits on it (futex word) */
	std::atomic<bool> has_ksoftirqd{false};   /* [I] at spawn and reap */
	bool bh_lock_held = false;                /* [L] exec_lock taken by local_bh_disable */

	lcore_counter raised_lcore[NR_SOFTIRQS];     /* [L] */
	lcore_counter raised_ksoftirqd[NR_SOFTIRQS]; /* [K] */
	std::atomic<uint64_t> raised_remote[NR_SOFTIRQS]{}; /* [A] */
	lcore_counter run[NR_SOFTIRQS];              /* [X] */
	lcore_counter run_ksoftirqd[NR_SOFTIRQS];    /* [X] */
	lcore_counter cycles[NR_SOFTIRQS];           /* [X] */
	lcore_counter ksoftirqd_wakeups;             /* [L] */
	lcore_counter ksoftirqd_batches;             /* [K] */
};

extern per_lcore<softirq_lcore> softirq_state;

/*
 * Softirqs only the lcore's own thread may run, even while its ksoftirqd
 * owns the others (as Linux 4.x ran HI and TASKLET inline with ksoftirqd
 * awake): TIMER drives rte_timer, which keys its lists by rte_lcore_id(),
 * and ksoftirqd's DPDK lcore id is its own, not the lcore's.
 */
inline constexpr uint32_t lcore_only_mask = 1u << TIMER_SOFTIRQ;

/* Which thread of an lcore the calling thread is. */
enum class thread_role : uint8_t { other, lcore, ksoftirqd };
extern constinit thread_local thread_role tl_role __attribute__((tls_model("initial-exec")));
extern constinit thread_local uint32_t tl_preempt_count __attribute__((tls_model("initial-exec")));

/* Role of the calling thread for lcore_id() (a DPDK lcore counts as its own thread). */
inline thread_role current_role() noexcept
{
	if (tl_role != thread_role::other)
		return tl_role;
	return rte_lcore_id() != LCORE_ID_ANY ? thread_role::lcore : thread_role::other;
}

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

/* Hands the lcore's softirqs to its ksoftirqd ([L] only). */
void wakeup_softirqd(softirq_lcore &s) noexcept;

/* Exec-lock handling for the lcore thread while ksoftirqd is active. */
void exec_lock_acquire(softirq_lcore &s) noexcept;
bool exec_lock_try(softirq_lcore &s) noexcept;
void exec_lock_release(softirq_lcore &s) noexcept;

/* Freeze/unfreeze the table (bh::start / bh::stop). */
void softirq_freeze(bool frozen) noexcept;

/*
 * The name of each registered entry ("" for a free one, "unnamed" for one
 * registered without a name), copied under the table lock: for a reader on
 * another thread (telemetry) while the table may still change.
 */
using softirq_name = char[32];
void softirq_names(softirq_name (&names)[NR_SOFTIRQS]) noexcept;

/* ksoftirqd thread management (bh::start, lcore_attach, bh::stop, lcore_detach). */
/* @p lcore_cpus: where the lcore runs, so that ksoftirqd can follow it. */
int ksoftirqd_spawn(unsigned lcore, const rte_cpuset_t &lcore_cpus) noexcept;
void ksoftirqd_reap(unsigned lcore) noexcept;
void ksoftirqd_reap_all() noexcept;

/* Whether @p lcore is an lcore of the framework: an EAL lcore or a registered thread that attached. */
bool lcore_valid(unsigned lcore) noexcept;


} // namespace bh::detail
