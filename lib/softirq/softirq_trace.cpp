/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_trace_point_register.h>

#include "softirq_trace.h"

RTE_TRACE_POINT_REGISTER(bh_trace_softirq_raise, bh.softirq.raise)
RTE_TRACE_POINT_REGISTER(bh_trace_softirq_entry, bh.softirq.entry)
RTE_TRACE_POINT_REGISTER(bh_trace_softirq_exit, bh.softirq.exit)
