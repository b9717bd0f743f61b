/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The blocking waits of slow-path calls (tasklet_disable, tasklet_kill,
 * flush_work, cancel_*_sync): spin briefly, then yield, then sleep in short
 * steps. Callers have passed might_sleep(). Not installed.
 */

#include <chrono>
#include <thread>

#include <rte_pause.h>

namespace bh::detail {

template <class Pred>
void wait_for(Pred &&done)
{
	for (unsigned i = 0; !done(); i++) {
		if (i < 64)
			rte_pause();
		else if (i < 256)
			std::this_thread::yield();
		else
			std::this_thread::sleep_for(std::chrono::microseconds(50));
	}
}

} // namespace bh::detail
