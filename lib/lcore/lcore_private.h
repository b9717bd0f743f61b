/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <rte_lcore.h>

namespace bh::detail {

/* The CPUs @p lcore runs on: the EAL's for an EAL lcore, else the thread's at attach (empty if unknown). */
rte_cpuset_t lcore_cpus(unsigned lcore) noexcept;

} // namespace bh::detail
