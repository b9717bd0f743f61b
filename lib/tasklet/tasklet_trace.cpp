/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_trace_point_register.h>

#include "tasklet_trace.h"

RTE_TRACE_POINT_REGISTER(bh_trace_tasklet_entry, bh.tasklet.entry)
RTE_TRACE_POINT_REGISTER(bh_trace_tasklet_exit, bh.tasklet.exit)
