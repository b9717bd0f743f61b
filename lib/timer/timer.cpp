/* SPDX-License-Identifier: BSD-3-Clause */
#include <cerrno>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_pause.h>
#include <rte_timer.h>

#include "bh_context.h"
#include "bh_lcore.h"
#include "bh_softirq.h"
#include "bh_timer.h"
#include "log_private.h"
#include "softirq_private.h"
#include "timer_private.h"

namespace bh {

namespace detail {

per_lcore<timer_next> timer_next_expiry;

struct timer_access {
	static rte_timer &tim(timer &t) { return t.tim_; }
	static void expire(rte_timer *, void *arg);
	static std::atomic<uint64_t> &done(timer &t) { return t.done_; }
};

} // namespace detail

namespace {

using detail::timer_access;

/* Counters: written by the lcore's own thread only (TIMER is lcore-only). */
struct timer_lcore {
	lcore_counter expired, softirqs;
};
per_lcore<timer_lcore> timer_state;
bool opened; /* bh::start() registered TIMER for us */

uint64_t ns_to_cycles(uint64_t ns)
{
	return uint64_t(double(ns) * double(rte_get_timer_hz()) / 1e9);
}

/* Must run on the lcore's own thread: rte_timer_next_ticks uses rte_lcore_id(). */
void refresh_next(unsigned lcore)
{
	const int64_t left = rte_timer_next_ticks();
	detail::timer_next_expiry[lcore].tsc = left < 0 ? UINT64_MAX : rte_get_timer_cycles() + uint64_t(left);
}

void timer_action(const softirq_action &)
{
	const unsigned id = lcore_id();
	timer_state[id].softirqs.add();
	rte_timer_manage();
	refresh_next(id);
}

int arm(unsigned lcore, timer &t, uint64_t delay_ns, uint64_t period_ns, const char *fn)
{
	if (softirq_entry(TIMER_SOFTIRQ).action != timer_action) {
		BH_LOG(ERR, log::timer, "%s: timers need bh::start()", fn);
		return -EPERM;
	}
	rte_timer &tim = timer_access::tim(t);
	const int was_pending = rte_timer_pending(&tim);
	const uint64_t ticks = ns_to_cycles(period_ns ? period_ns : delay_ns);
	rte_timer_reset_sync(&tim, ticks, period_ns ? PERIODICAL : SINGLE, lcore, timer_access::expire, &t);
	if (lcore == lcore_id() && detail::current_role() == detail::thread_role::lcore) {
		uint64_t &next = detail::timer_next_expiry[lcore].tsc;
		next = std::min(next, rte_get_timer_cycles() + ticks);
	} else {
		raise_softirq_on(lcore, TIMER_SOFTIRQ);
	}
	return was_pending;
}

} // namespace

void detail::timer_access::expire(rte_timer *, void *arg)
{
	timer &t = *static_cast<timer *>(arg);
	timer_state[lcore_id()].expired.add();
	t.f_(t, t.data_);
	t.done_.fetch_add(1, std::memory_order_release);
}

timer::timer(func f, void *data) noexcept : f_(f), data_(data)
{
	rte_timer_init(&tim_);
}

timer::~timer()
{
	rte_timer_stop_sync(&tim_);
}

bool timer::pending() const noexcept
{
	return rte_timer_pending(const_cast<rte_timer *>(&tim_));
}

int timer_mod(timer &t, uint64_t delay_ns) noexcept
{
	return timer_mod_on(no_lcore, t, delay_ns, 0);
}

int timer_mod_periodic(timer &t, uint64_t period_ns) noexcept
{
	return timer_mod_on(no_lcore, t, 0, period_ns);
}

int timer_mod_on(unsigned lcore, timer &t, uint64_t delay_ns, uint64_t period_ns) noexcept
{
	if (lcore == no_lcore) {
		lcore = lcore_id();
		if (lcore >= max_lcores) {
			BH_LOG(ERR, log::timer, "timer_mod: calling thread is not an lcore; use timer_mod_on");
			return -ENODEV;
		}
	} else if (!detail::lcore_valid(lcore)) {
		BH_LOG(ERR, log::timer, "timer_mod_on: lcore %u is not an enabled lcore", lcore);
		return -EINVAL;
	}
	return arm(lcore, t, delay_ns, period_ns, "timer_mod");
}

int timer_del(timer &t) noexcept
{
	rte_timer &tim = timer_access::tim(t);
	const int was_pending = rte_timer_pending(&tim);
	if (rte_timer_stop(&tim) != 0)
		return -EBUSY;
	return was_pending;
}

int timer_del_sync(timer &t) noexcept
{
	if (const int rc = might_sleep("timer_del_sync"))
		return rc;
	rte_timer &tim = timer_access::tim(t);
	const int was_pending = rte_timer_pending(&tim);
	rte_timer_stop_sync(&tim);
	timer_access::done(t).load(std::memory_order_acquire);
	return was_pending;
}

timer_stats timer_get_stats(unsigned lcore) noexcept
{
	timer_stats st;
	if (lcore < max_lcores) {
		st.expired = timer_state[lcore].expired.read();
		st.softirqs = timer_state[lcore].softirqs.read();
	}
	return st;
}

void detail::timer_raise(unsigned lcore) noexcept
{
	timer_next_expiry[lcore].tsc = UINT64_MAX;
	raise_softirq(TIMER_SOFTIRQ);
}

int detail::timer_subsys_open() noexcept
{
	const int rc = rte_timer_subsystem_init();
	if (rc < 0 && rc != -EALREADY) {
		BH_LOG(ERR, log::timer, "rte_timer_subsystem_init failed: %s", rte_strerror(-rc));
		return rc;
	}
	opened = !softirq_entry(TIMER_SOFTIRQ).action && open_softirq(TIMER_SOFTIRQ, timer_action) == 0;
	if (!opened && softirq_entry(TIMER_SOFTIRQ).action != timer_action)
		BH_LOG(WARNING, log::timer, "TIMER softirq is taken by %s: bh timers will not run",
		       softirq_entry(TIMER_SOFTIRQ).name);
	return 0;
}

void detail::timer_subsys_close() noexcept
{
	if (opened)
		close_softirq(TIMER_SOFTIRQ);
	opened = false;
}

} // namespace bh
