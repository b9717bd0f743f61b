/* SPDX-License-Identifier: BSD-3-Clause */
#include <atomic>
#include <cerrno>
#include <cstdlib>

#include <rte_log.h>

#include "bh_context.h"
#include "bh_percpu.h"
#include "context_private.h"
#include "log_private.h"

namespace bh {

namespace detail {
constinit thread_local uint32_t tl_preempt_count __attribute__((tls_model("initial-exec"))) = 0;
} // namespace detail

using detail::tl_preempt_count;

namespace {

#ifdef NDEBUG
std::atomic<sleep_check_mode> check_mode{sleep_check_mode::error};
#else
std::atomic<sleep_check_mode> check_mode{sleep_check_mode::abort};
#endif

} // namespace

uint32_t preempt_count() noexcept { return tl_preempt_count; }
bool in_hardirq() noexcept { return tl_preempt_count & hardirq_mask; }
bool in_softirq() noexcept { return tl_preempt_count & softirq_mask; }
bool in_serving_softirq() noexcept { return tl_preempt_count & softirq_offset; }
bool in_interrupt() noexcept { return tl_preempt_count & (hardirq_mask | softirq_mask); }
bool in_task() noexcept { return !(tl_preempt_count & (hardirq_mask | softirq_offset)); }

sleep_check_mode set_sleep_check_mode(sleep_check_mode mode) noexcept
{
	return check_mode.exchange(mode);
}

int might_sleep(const char *fn) noexcept
{
	const uint32_t pc = tl_preempt_count;
	if (!(pc & (hardirq_mask | softirq_mask)))
		return 0;
	BH_LOG(ERR, log::context,
	       "BUG: sleeping function called from invalid context: %s (lcore %d, in_hardirq %d, "
	       "in_serving_softirq %d, bh_disable depth %u)",
	       fn ? fn : "?", lcore_id() == no_lcore ? -1 : int(lcore_id()), (pc & hardirq_mask) != 0,
	       (pc & softirq_offset) != 0, (pc & softirq_mask) / softirq_disable_offset);
	if (check_mode.load(std::memory_order_relaxed) == sleep_check_mode::abort)
		abort();
	return -EDEADLK;
}

} // namespace bh
