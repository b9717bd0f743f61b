/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <functional>

namespace bh {
class workqueue;
}

namespace bh::detail {

/* bh::start() creates the default "events" queue; bh::stop() destroys it. */
int workqueue_subsys_open() noexcept;
void workqueue_subsys_close() noexcept;

/* lcore_attach(): give the new lcore a pool in every bound queue. */
void workqueue_lcore_attached(unsigned lcore) noexcept;

/*
 * Calls @p fn on every queue, oldest first, with the registry locked so
 * that none is destroyed meanwhile: for readers on other threads
 * (telemetry). @p fn must not create or destroy a queue.
 */
void workqueue_for_each(const std::function<void(const workqueue *)> &fn) noexcept;

} // namespace bh::detail
