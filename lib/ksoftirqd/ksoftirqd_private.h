/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include "bh_subsys.h"

namespace bh::detail {

/*
 * The start-up table's entry: locks the configuration while the framework
 * runs, and follows the lcores: a ksoftirqd/<n> for each (lcore_up), joined
 * at lcore_down.
 */
extern const subsystem ksoftirqd_subsystem;

} // namespace bh::detail
