/* SPDX-License-Identifier: BSD-3-Clause */
#include <atomic>
#include <cerrno>
#include <cstdlib>

#include <rte_log.h>

#include "bh_context.h"
#include "bh_softirq.h"
#include "log_private.h"
#include "softirq_private.h"

namespace bh {

namespace detail {
constinit thread_local uint32_t tl_preempt_count __attribute__((tls_model("initial-exec"))) = 0;
constinit thread_local thread_role tl_role __attribute__((tls_model("initial-exec"))) = thread_role::other;
} // namespace detail

using detail::tl_preempt_count;

namespace {

#ifdef NDEBUG
std::atomic<sleep_check_mode> check_mode{sleep_check_mode::error};
#else
std::atomic<sleep_check_mode> check_mode{sleep_check_mode::abort};
#endif

/* The lcore state behind the calling thread if it is that lcore's own thread. */
detail::softirq_lcore *own_lcore_state() noexcept
{
	if (detail::current_role() != detail::thread_role::lcore)
		return nullptr;
	const unsigned id = lcore_id();
	return id < max_lcores ? &detail::softirq_state[id] : nullptr;
}

} // namespace

uint32_t preempt_count() noexcept { return tl_preempt_count; }
bool in_hardirq() noexcept { return tl_preempt_count & hardirq_mask; }
bool in_softirq() noexcept { return tl_preempt_count & softirq_mask; }
bool in_serving_softirq() noexcept { return tl_preempt_count & softirq_offset; }
bool in_interrupt() noexcept { return tl_preempt_count & (hardirq_mask | softirq_mask); }
bool in_task() noexcept { return !(tl_preempt_count & (hardirq_mask | softirq_offset)); }

void irq_enter() noexcept
{
	tl_preempt_count += hardirq_offset;
}

void irq_exit() noexcept
{
	tl_preempt_count -= hardirq_offset;
	if (!(tl_preempt_count & (hardirq_mask | softirq_mask)))
		do_softirq();
}

void local_bh_disable() noexcept
{
	const uint32_t pc = tl_preempt_count;
	tl_preempt_count = pc + softirq_disable_offset;
	if (pc & softirq_mask)
		return;
	/*
	 * Outermost disable on an lcore's own thread. While ksoftirqd is idle
	 * nothing else can run this lcore's softirqs (only this thread wakes
	 * it), so a load is enough; while it runs, take the execution lock so
	 * that it cannot start another softirq of ours until we enable.
	 */
	detail::softirq_lcore *s = own_lcore_state();
	if (s && s->ksoftirqd_active.load(std::memory_order_acquire)) {
		detail::exec_lock_acquire(*s);
		s->bh_lock_held = true;
	}
}

void local_bh_enable() noexcept
{
	if ((tl_preempt_count & softirq_mask) < softirq_disable_offset) {
		BH_LOG(ERR, log::context, "local_bh_enable: unbalanced call, bottom halves are not disabled");
		return;
	}
	const uint32_t pc = tl_preempt_count - softirq_disable_offset;
	tl_preempt_count = pc;
	if (pc & softirq_mask)
		return;
	detail::softirq_lcore *s = own_lcore_state();
	if (!s)
		return;
	if (s->bh_lock_held) {
		/* ksoftirqd owns the softirqs: give the lock back, run nothing here. */
		s->bh_lock_held = false;
		detail::exec_lock_release(*s);
		return;
	}
	if (!(pc & hardirq_mask) && s->pending.load(std::memory_order_relaxed))
		do_softirq();
}

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
