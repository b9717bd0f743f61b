/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * rte_trace points of the softirq core, the kernel's irq:softirq_raise,
 * softirq_entry and softirq_exit. Not installed.
 *
 * softirq_trace.cpp includes this header in DPDK's registration mode and
 * registers the points as bh.softirq.raise, bh.softirq.entry and
 * bh.softirq.exit; so no other code may go in this header. Disabled, a
 * point costs one load and a predicted branch (RTE_TRACE_POINT, not _FP:
 * they can be turned on in a release build). @p lcore is the lcore whose
 * softirq it is: for ksoftirqd, the lcore it serves; for a remote raise,
 * the target.
 */

#include <cstdint>

#include <rte_trace_point.h>

/* The three carry the same fields. */
#define BH_SOFTIRQ_TRACE_POINT(tp) \
	RTE_TRACE_POINT(tp, RTE_TRACE_POINT_ARGS(uint32_t lcore, uint32_t nr), \
		rte_trace_point_emit_u32(lcore); \
		rte_trace_point_emit_u32(nr);)

BH_SOFTIRQ_TRACE_POINT(bh_trace_softirq_raise)
BH_SOFTIRQ_TRACE_POINT(bh_trace_softirq_entry)
BH_SOFTIRQ_TRACE_POINT(bh_trace_softirq_exit)
