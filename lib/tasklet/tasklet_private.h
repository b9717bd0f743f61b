/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

namespace bh::detail {

/*
 * bh::start() registers the HI and TASKLET handlers; bh::stop() removes them
 * and, with no executor left, drops what is still scheduled (counted as killed).
 */
void tasklet_softirqs_open() noexcept;
void tasklet_softirqs_close() noexcept;

} // namespace bh::detail
