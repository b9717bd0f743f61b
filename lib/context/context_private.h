/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The context word itself, for the layers above that change it (irq_enter,
 * local_bh_disable and the softirq runner, in the softirq layer). Not
 * installed.
 */

#include <cstdint>

namespace bh::detail {

extern constinit thread_local uint32_t tl_preempt_count __attribute__((tls_model("initial-exec")));

} // namespace bh::detail
