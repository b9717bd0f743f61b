/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include "bh_subsys.h"

namespace bh::detail {

/*
 * The start-up table's entry: the default "events" queue (bh::start,
 * destroyed by bh::stop), and a pool in every bound queue for each lcore.
 */
extern const subsystem workqueue_subsystem;

} // namespace bh::detail
