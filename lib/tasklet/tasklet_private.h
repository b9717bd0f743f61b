/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

namespace bh::detail {

/* bh::start() registers the HI and TASKLET handlers; bh::stop() removes them. */
void tasklet_softirqs_open() noexcept;
void tasklet_softirqs_close() noexcept;

} // namespace bh::detail
