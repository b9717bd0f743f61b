/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <cstdint>

#include "bh_percpu.h"
#include "bh_subsys.h"

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

/*
 * The start-up table's entry: rte_timer and the TIMER softirq (bh::start),
 * which bh::stop() gives back; its loop hooks track where timers may live
 * (bh_timer.h).
 */
extern const subsystem timer_subsystem;

/* bh::eal_cleanup(), before the EAL's memory goes: timers become no-ops. */
void timer_subsys_finalize() noexcept;

} // namespace bh::detail
