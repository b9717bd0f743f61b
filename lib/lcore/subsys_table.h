/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The start-up table (bh_subsys.h) and the code that runs it: the core's
 * entries in order, with the registered ones (the net layer, an
 * application's) between the parts that register softirqs and the freeze.
 * Used by the lifecycle in lcore.cpp. Not installed.
 *
 * [T] under the table mutex: the registered entries, the table, how many
 * entries are open. While the framework runs the table does not change, so
 * the loop hooks read it without the mutex.
 */

#include "bh_subsys.h"

namespace bh::detail {

/* bh::start(): opens every entry and brings each up on every framework lcore; rolls back on failure. */
int subsys_open_all() noexcept;
/* bh::stop(), after every loop returned: the reverse. */
void subsys_close_all() noexcept;
/* An lcore that was not the framework's attaches (on its thread) or detaches, while the framework runs. */
int subsys_lcore_up(unsigned lcore) noexcept;
void subsys_lcore_down(unsigned lcore) noexcept;
/* @p lcore's loop starts or stops, on its own thread, while the framework runs. */
void subsys_loop_start(unsigned lcore) noexcept;
void subsys_loop_stop(unsigned lcore) noexcept;

} // namespace bh::detail
