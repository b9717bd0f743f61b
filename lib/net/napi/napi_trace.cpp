/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_trace_point_register.h>

#include "napi_trace.h"

RTE_TRACE_POINT_REGISTER(bh_trace_napi_poll, bh.napi.poll)
