/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Who the calling thread is, and which lcore ids are the framework's: the
 * facts every concept above needs about lcores, kept at the bottom so that
 * none of them has to reach up into the lcore loop for them. Not installed.
 */

#include <cstdint>

#include <rte_lcore.h>

#include "bh_percpu.h"

namespace bh::detail {

/* Which thread of an lcore the calling thread is. */
enum class thread_role : uint8_t { other, lcore, ksoftirqd };
extern constinit thread_local thread_role tl_role __attribute__((tls_model("initial-exec")));

/* Role of the calling thread for lcore_id() (a DPDK lcore counts as its own thread). */
inline thread_role current_role() noexcept
{
	if (tl_role != thread_role::other)
		return tl_role;
	return rte_lcore_id() != LCORE_ID_ANY ? thread_role::lcore : thread_role::other;
}

/*
 * The lcore registry. An lcore of the framework is an EAL lcore, or a
 * registered thread (rte_thread_register) that attached; not any
 * ROLE_NON_EAL id, which ksoftirqd threads hold too (for their mempool
 * caches) without being lcores of the framework. Written by the lcore's
 * own thread at attach and detach, read by any thread.
 */
bool lcore_valid(unsigned lcore) noexcept;
/* The CPUs @p lcore runs on: the EAL's for an EAL lcore, else the thread's at attach (empty if unknown). */
rte_cpuset_t lcore_cpus(unsigned lcore) noexcept;
/* The calling thread becomes (or stops being) lcore @p lcore of the framework, on the CPUs it runs on now. */
void lcore_register(unsigned lcore) noexcept;
void lcore_unregister(unsigned lcore) noexcept;

} // namespace bh::detail

namespace bh::detail {

/*
 * Field tags checked: in debug and sanitizer builds (NDEBUG unset) a
 * structure's owner rule ([L] own lcore, [X] executor, ...) is asserted
 * where the code relies on it; a violation is reported, naming the
 * structure and the function, and aborts. Compiled out of release builds.
 */
[[noreturn]] void owner_violation(const char *what, const char *fn) noexcept;
#ifdef NDEBUG
#define BH_CHECK_OWNER(cond, what) ((void)0)
#else
#define BH_CHECK_OWNER(cond, what) ((cond) ? (void)0 : ::bh::detail::owner_violation(what, __func__))
#endif

/* [L]: the calling thread is lcore @p lcore's own. */
inline bool own_lcore(unsigned lcore) noexcept
{
	return lcore_id() == lcore && current_role() == thread_role::lcore;
}

} // namespace bh::detail

namespace bh::detail {

/*
 * The signals some PMDs raise when a queue has data (net_tap's Rx trigger:
 * SIGIO or a real-time signal per frame, sent to the process, taken by
 * whichever thread does not block it). No thread of the framework takes
 * them: every thread it makes blocks them, and so does bh::eal_init()
 * before the EAL makes its threads. net_tap then reads its queue on every
 * receive (its trigger never moves), and an lcore that sleeps does so on
 * the queue's fd, readable while frames wait; taken by the lcore, one
 * signal per frame cost it 60-65 points of a CPU at 100 kpps on tap
 * (docs/benchmarks.md). Process context; a system call.
 */
void block_io_signals() noexcept;

} // namespace bh::detail
