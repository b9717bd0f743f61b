/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

namespace bh::detail {

/* bh::start() creates the default "events" queue; bh::stop() destroys it. */
int workqueue_subsys_open() noexcept;
void workqueue_subsys_close() noexcept;

/* lcore_attach(): give the new lcore a pool in every bound queue. */
void workqueue_lcore_attached(unsigned lcore) noexcept;

} // namespace bh::detail
