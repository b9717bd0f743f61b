/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Time in the framework: TSC cycles inside, nanoseconds at the API. One
 * conversion for every part, on rte_get_tsc_hz(): rte_timer counts in
 * rte_get_timer_cycles(), which is the TSC too (timer_subsys_open refuses
 * an EAL where it is not, e.g. one built with HPET). Not installed.
 */

#include <cstdint>

#include <rte_cycles.h>

namespace bh::detail {

inline uint64_t ns_to_cycles(uint64_t ns) noexcept
{
	return uint64_t(double(ns) * double(rte_get_tsc_hz()) / 1e9);
}

inline uint64_t cycles_to_ns(uint64_t cycles) noexcept
{
	return uint64_t(double(cycles) * 1e9 / double(rte_get_tsc_hz()));
}

} // namespace bh::detail
