/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include "bh_softirq.h"

namespace bh::net::detail {

/* NET_RX's handler, registered by net_init. */
void net_rx_action(const softirq_action &) noexcept;

/*
 * Empties @p lcore's poll list and inbox, clearing each context's state, so
 * that contexts can be freed. Only while the lcore's loop is stopped.
 */
void napi_forget_all(unsigned lcore) noexcept;

/* Called at the end of every NET_RX pass on that lcore (the Tx flush). */
void set_rx_pass_end(void (*fn)(unsigned lcore)) noexcept;

} // namespace bh::net::detail
