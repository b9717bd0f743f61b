/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

namespace bh::detail {

/* /bh/softirq and /bh/softirq/list (docs/observability.md); once per process. */
void softirq_telemetry_register() noexcept;

} // namespace bh::detail
