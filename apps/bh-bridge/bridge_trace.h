/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * bh-bridge's rte_trace points (docs/observability.md): bh.bridge.learn,
 * .move, .age and .flush, emitted by the FDB's owner in process context.
 * MAC addresses are emitted as the table keys them (the 6 bytes in the
 * low 48 bits of a little-endian u64). Off unless --trace asks for them.
 */

#include <cstdint>

#include <rte_trace_point.h>

RTE_TRACE_POINT(
	bh_trace_bridge_learn,
	RTE_TRACE_POINT_ARGS(uint64_t mac, uint16_t port),
	rte_trace_point_emit_u64(mac);
	rte_trace_point_emit_u16(port);
)

RTE_TRACE_POINT(
	bh_trace_bridge_move,
	RTE_TRACE_POINT_ARGS(uint64_t mac, uint16_t from, uint16_t to),
	rte_trace_point_emit_u64(mac);
	rte_trace_point_emit_u16(from);
	rte_trace_point_emit_u16(to);
)

RTE_TRACE_POINT(
	bh_trace_bridge_age,
	RTE_TRACE_POINT_ARGS(uint64_t mac, uint16_t port, uint64_t idle_ms),
	rte_trace_point_emit_u64(mac);
	rte_trace_point_emit_u16(port);
	rte_trace_point_emit_u64(idle_ms);
)

RTE_TRACE_POINT(
	bh_trace_bridge_flush,
	RTE_TRACE_POINT_ARGS(uint16_t port, uint64_t entries),
	rte_trace_point_emit_u16(port);
	rte_trace_point_emit_u64(entries);
)
