/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The test of an rte_trace point without its record, for the hot paths
 * (raise, dispatch, tasklet run). RTE_TRACE_POINT's emitter is inline
 * whole: its record's calls and TSC read, inlined into a caller, make the
 * caller save registers on every call, trace on or off. A hot path tests
 * inline with trace_on() and records through an out-of-line, cold
 * function that calls the emitter. (DPDK's rte_trace_point_is_enabled()
 * makes the same test, but as a call into librte_eal.) Not installed.
 */

#include <rte_branch_prediction.h>
#include <rte_trace_point.h>

namespace bh::detail {

/* True if @p tp is enabled: the test the emitter itself makes first. */
inline bool trace_on(const rte_trace_point_t &tp) noexcept
{
	return unlikely(__atomic_load_n(&tp, __ATOMIC_ACQUIRE) & __RTE_TRACE_FIELD_ENABLE_MASK);
}

} // namespace bh::detail
