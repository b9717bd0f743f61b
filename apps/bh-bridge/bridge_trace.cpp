/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_trace_point_register.h>

#include "bridge_trace.h"

RTE_TRACE_POINT_REGISTER(bh_trace_bridge_learn, bh.bridge.learn)
RTE_TRACE_POINT_REGISTER(bh_trace_bridge_move, bh.bridge.move)
RTE_TRACE_POINT_REGISTER(bh_trace_bridge_age, bh.bridge.age)
RTE_TRACE_POINT_REGISTER(bh_trace_bridge_flush, bh.bridge.flush)
