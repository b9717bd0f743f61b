/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * rte_trace points around a tasklet's function, the kernel's
 * irq:tasklet_entry and tasklet_exit, registered by tasklet_trace.cpp as
 * bh.tasklet.entry and bh.tasklet.exit, as softirq_trace.h describes. Not
 * installed. @p lcore is the lcore whose softirq runs it.
 */

#include <cstdint>

#include <rte_trace_point.h>

/* Entry and exit carry the same fields. */
#define BH_TASKLET_TRACE_POINT(tp) \
	RTE_TRACE_POINT(tp, RTE_TRACE_POINT_ARGS(uint32_t lcore, const void *tasklet, void (*func)(void *)), \
		rte_trace_point_emit_u32(lcore); \
		rte_trace_point_emit_ptr(tasklet); \
		rte_trace_point_emit_ptr(func);)

BH_TASKLET_TRACE_POINT(bh_trace_tasklet_entry)
BH_TASKLET_TRACE_POINT(bh_trace_tasklet_exit)
