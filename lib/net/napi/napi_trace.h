/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * rte_trace point of NET_RX, the kernel's napi:napi_poll, registered by
 * napi_trace.cpp as bh.napi.poll (as softirq_trace.h describes): one event
 * per poll function call, with the budget it was given (the context's
 * weight) and the packets it handled. Not installed.
 */

#include <cstdint>

#include <rte_trace_point.h>

RTE_TRACE_POINT(
	bh_trace_napi_poll,
	RTE_TRACE_POINT_ARGS(uint32_t lcore, const void *napi, int32_t budget, int32_t work),
	rte_trace_point_emit_u32(lcore);
	rte_trace_point_emit_ptr(napi);
	rte_trace_point_emit_i32(budget);
	rte_trace_point_emit_i32(work);
)
