/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <cstdint>

#include "bh_percpu.h"

namespace bh::detail {

/* TSC of the lcore's earliest timer, UINT64_MAX if none. [L] */
struct timer_next {
	uint64_t tsc = UINT64_MAX;
};
extern per_lcore<timer_next> timer_next_expiry;

/* The lcore loop's tick: raises TIMER when the earliest timer is due. */
void timer_raise(unsigned lcore) noexcept;
inline void timer_tick(unsigned lcore, uint64_t now) noexcept
{
	if (now >= timer_next_expiry[lcore].tsc)
		timer_raise(lcore);
}

/* bh::start(): rte_timer subsystem and the TIMER softirq; bh::stop() undoes the latter. */
int timer_subsys_open() noexcept;
void timer_subsys_close() noexcept;
/* bh::eal_cleanup(), before the EAL's memory goes: timers become no-ops. */
void timer_subsys_finalize() noexcept;

/*
 * The lcore's loop starts (lcore_run, an embedder's first lcore_poll_once)
 * or stops (lcore_run returns, lcore_detach), on the lcore's own thread:
 * timers armed elsewhere may live there from online until offline, and the
 * first lcore online takes the parked ones.
 */
void timer_lcore_online(unsigned lcore) noexcept;
void timer_lcore_offline(unsigned lcore) noexcept;

} // namespace bh::detail
