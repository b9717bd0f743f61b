/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include "bh_subsys.h"

namespace bh::detail {

/* The start-up table's last entry: the lcore loops' telemetry. */
extern const subsystem lcore_subsystem;

} // namespace bh::detail
