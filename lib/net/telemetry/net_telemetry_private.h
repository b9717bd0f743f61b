/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The net layer's rte_telemetry commands, /bh/net/... (docs/observability.md),
 * on the conventions of the core's (telemetry_private.h). Not installed.
 */

namespace bh::net::detail {

/* Registers them, once per process (telemetry cannot unregister): net_init(). */
void net_telemetry_register() noexcept;

} // namespace bh::net::detail
