/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include "bh_subsys.h"

namespace bh::detail {

/*
 * The start-up table's entry: registers the HI and TASKLET handlers
 * (bh::start); at bh::stop() removes them and, with no executor left, drops
 * what is still scheduled (counted as killed).
 */
extern const subsystem tasklet_subsystem;

} // namespace bh::detail
