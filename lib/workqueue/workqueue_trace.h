/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * rte_trace points of work queues, the kernel's
 * workqueue:workqueue_queue_work, workqueue_execute_start and
 * workqueue_execute_end, registered by workqueue_trace.cpp as
 * bh.workqueue.queue_work, bh.workqueue.execute_start and
 * bh.workqueue.execute_end, as softirq_trace.h describes. Not installed.
 * flush_workqueue's barriers are items too and show up with their own
 * function.
 */

#include <cstdint>

#include <rte_trace_point.h>

/* @p lcore: the lcore of the pool it goes to, UINT32_MAX for an unbound queue. */
RTE_TRACE_POINT(
	bh_trace_workqueue_queue_work,
	RTE_TRACE_POINT_ARGS(const char *wq, const void *work, void (*func)(void *), uint32_t lcore),
	rte_trace_point_emit_string(wq);
	rte_trace_point_emit_ptr(work);
	rte_trace_point_emit_ptr(func);
	rte_trace_point_emit_u32(lcore);
)

/* Start and end carry the same fields. */
#define BH_WORK_TRACE_POINT(tp) \
	RTE_TRACE_POINT(tp, RTE_TRACE_POINT_ARGS(const void *work, void (*func)(void *)), \
		rte_trace_point_emit_ptr(work); \
		rte_trace_point_emit_ptr(func);)

BH_WORK_TRACE_POINT(bh_trace_workqueue_execute_start)
BH_WORK_TRACE_POINT(bh_trace_workqueue_execute_end)
