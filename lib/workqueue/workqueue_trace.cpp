/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_trace_point_register.h>

#include "workqueue_trace.h"

RTE_TRACE_POINT_REGISTER(bh_trace_workqueue_queue_work, bh.workqueue.queue_work)
RTE_TRACE_POINT_REGISTER(bh_trace_workqueue_execute_start, bh.workqueue.execute_start)
RTE_TRACE_POINT_REGISTER(bh_trace_workqueue_execute_end, bh.workqueue.execute_end)
