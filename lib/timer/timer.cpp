/* SPDX-License-Identifier: BSD-3-Clause */
#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <mutex>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_pause.h>
#include <rte_telemetry.h>
#include <rte_timer.h>

#include "bh_context.h"
#include "bh_softirq.h"
#include "bh_timer.h"
#include "log_private.h"
#include "softirq_private.h"
#include "spinlock_private.h"
#include "telemetry_private.h"
#include "time_private.h"
#include "timer_private.h"
#include "wait_private.h"

namespace bh {

namespace detail {

per_lcore<timer_next> timer_next_expiry;

/* The expiry wrapper and the API reach into timer through this. */
struct timer_access {
	static void expire(rte_timer *, void *arg);
	static int arm_on(timer &t, unsigned lcore, uint64_t deadline, uint64_t period, uint64_t now);
	static int del(timer &t);
	static int del_any(timer &t);
	static void wait_expiry(timer &t);
	static bool park(timer &t, uint64_t deadline, uint64_t period);
	static bool unpark(timer &t);
	static void adopt_parked(unsigned lcore);
	static bool expiry_owns(const timer &t);
	static bool stopped(const timer &t);
};

} // namespace detail

namespace {

using detail::spin_guard;
using detail::timer_access;

/*
 * One lcore's timer state. Counters: written by the lcore's own thread
 * (TIMER is lcore-only). online: [H] writes (the lcore's own thread),
 * any thread reads.
 */
struct timer_lcore {
	lcore_counter expired, softirqs, deferred, adopted;
	std::atomic<bool> online{false};
};
per_lcore<timer_lcore> timer_state;

bool opened; /* [I] bh::start() registered TIMER for us, until bh::stop() */
bool initialised_rte; /* [I] we ran rte_timer_subsystem_init, so we finalize it */
/* rte_timer's memory exists: from timer_subsys_open to timer_subsys_finalize. */
std::atomic<bool> rte_live{false};

/*
 * [H] The homes lock: where timers armed from non-looping threads go. Taken
 * by those arms (never by an lcore arming on itself), by parking, and by
 * the loops going online and offline. Order: homes, then a timer's lk_,
 * then rte_timer's list locks.
 */
std::atomic<bool> homes{false};
timer *parked; /* [H] stack of parked timers, linked through park_next_ */

/* The timer whose callback the calling thread runs right now. */
constinit thread_local timer *tl_running __attribute__((tls_model("initial-exec"))) = nullptr;


uint16_t rte_state(const rte_timer &tim)
{
	union rte_timer_status s;
	s.u32 = __atomic_load_n(&tim.status.u32, __ATOMIC_ACQUIRE);
	return s.state;
}

/* Must run on the lcore's own thread: rte_timer_next_ticks uses rte_lcore_id(). */
void refresh_next(unsigned lcore)
{
	const int64_t left = rte_timer_next_ticks();
	detail::timer_next_expiry[lcore].tsc = left < 0 ? UINT64_MAX : rte_get_timer_cycles() + uint64_t(left);
}

/* Tells @p lcore that a timer now expires there at @p deadline. */
void notify_armed(unsigned lcore, uint64_t deadline)
{
	if (lcore == lcore_id() && detail::current_role() == detail::thread_role::lcore) {
		uint64_t &next = detail::timer_next_expiry[lcore].tsc;
		next = std::min(next, deadline);
	} else {
		raise_softirq_on(lcore, TIMER_SOFTIRQ);
	}
}

void timer_action(const softirq_action &)
{
	const unsigned id = lcore_id();
	BH_CHECK_OWNER(detail::own_lcore(id), "the lcore's rte_timer lists [L]");
	timer_state[id].softirqs.add();
	rte_timer_manage();
	refresh_next(id);
}

/* The calling lcore if it runs its loop (its own thread or its ksoftirqd), else no_lcore. */
unsigned looping_self()
{
	const unsigned id = lcore_id();
	if (id >= max_lcores || detail::current_role() == detail::thread_role::other)
		return no_lcore;
	return timer_state[id].online.load(std::memory_order_acquire) ? id : no_lcore;
}

/* [H] The main lcore if its loop runs, else the lowest lcore whose loop runs. */
unsigned housekeeper()
{
	const unsigned main = rte_get_main_lcore();
	if (timer_state[main].online.load(std::memory_order_relaxed))
		return main;
	for (unsigned l = 0; l < max_lcores; l++)
		if (timer_state[l].online.load(std::memory_order_relaxed))
			return l;
	return no_lcore;
}

int arm(timer &t, unsigned want, uint64_t delay_ns, uint64_t period_ns, const char *fn)
{
	if (!opened || !rte_live.load(std::memory_order_acquire)) {
		BH_LOG(ERR, log::timer, "%s: timers need bh::start()", fn);
		return -EPERM;
	}
	const uint64_t period = detail::ns_to_cycles(period_ns);
	const uint64_t now = rte_get_timer_cycles();
	const uint64_t deadline = now + detail::ns_to_cycles(period_ns ? period_ns : delay_ns);
	const unsigned self = looping_self();
	if (self != no_lcore && (want == no_lcore || want == self))
		return timer_access::arm_on(t, self, deadline, period, now);
	spin_guard h(homes);
	const unsigned target =
		want != no_lcore && timer_state[want].online.load(std::memory_order_relaxed) ? want : housekeeper();
	if (target == no_lcore)
		return timer_access::park(t, deadline, period);
	const bool was_parked = timer_access::unpark(t);
	return timer_access::arm_on(t, target, deadline, period, rte_get_timer_cycles()) | int(was_parked);
}

} // namespace

/* ---- one timer's state machine (timer_access) ---- */

/*
 * RUNNING, and the expiry of the latest arming has not finished: the expiry
 * wrapper will still look at a request. [T]
 */
bool detail::timer_access::expiry_owns(const timer &t)
{
	return rte_state(t.tim_) == RTE_TIMER_RUNNING && t.cfg_gen_ != t.done_gen_;
}

/* Nothing to stop: not armed in rte_timer, no request waiting. Any thread. */
bool detail::timer_access::stopped(const timer &t)
{
	return rte_state(t.tim_) == RTE_TIMER_STOP && t.req_.load(std::memory_order_acquire) == timer::request::none;
}

/*
 * Arms @p t on @p lcore at @p deadline, @p now being the TSC the caller
 * read (a TSC read costs ~9 ns on a VM; it is read again only on a retry).
 * A timer whose callback is due or running cannot be re-configured
 * (rte_timer would make us spin until the callback ends, which deadlocks
 * two callbacks re-arming each other's timers): the request is left for its
 * expiry, which applies it.
 */
int detail::timer_access::arm_on(timer &t, unsigned lcore, uint64_t deadline, uint64_t period, uint64_t now)
{
	int was;
	{
		spin_guard g(t.lk_);
		for (bool retry = false;; retry = true) {
			was = rte_timer_pending(&t.tim_) || t.req_.load(std::memory_order_relaxed) == timer::request::mod;
			if (retry)
				now = rte_get_timer_cycles();
			if (rte_timer_reset(&t.tim_, deadline > now ? deadline - now : 0, SINGLE, lcore, expire, &t) == 0) {
				t.period_ = period;
				t.cfg_gen_++;
				t.req_.store(timer::request::none, std::memory_order_release);
				break;
			}
			if (expiry_owns(t)) {
				t.req_deadline_ = deadline;
				t.req_period_ = period;
				t.req_lcore_ = lcore;
				t.req_.store(timer::request::mod, std::memory_order_relaxed);
				return 1;
			}
			g.relax();
		}
	}
	notify_armed(lcore, deadline);
	return was;
}

int detail::timer_access::del(timer &t)
{
	spin_guard g(t.lk_);
	for (;;) {
		const uint16_t st = rte_state(t.tim_);
		if (st == RTE_TIMER_STOP)
			return 0;
		if (rte_timer_stop(&t.tim_) == 0) {
			t.cfg_gen_++;
			t.req_.store(timer::request::none, std::memory_order_relaxed);
			return st == RTE_TIMER_PENDING;
		}
		if (expiry_owns(t)) {
			t.req_.store(timer::request::del, std::memory_order_relaxed);
			return t.in_callback_ ? 0 : 1;
		}
		g.relax();
	}
}

void detail::timer_access::wait_expiry(timer &t)
{
	detail::wait_for([&] {
		spin_guard g(t.lk_);
		return !expiry_owns(t);
	});
}

/*
 * The rte_timer callback of every timer, in the TIMER softirq of the lcore
 * the timer lives on. A request made while the timer was due replaces its
 * callback; one made while the callback ran is applied after it.
 */
void detail::timer_access::expire(rte_timer *, void *arg)
{
	timer &t = *static_cast<timer *>(arg);
	timer_lcore &ls = timer_state[lcore_id()];
	detail::spin_lock(t.lk_);
	const uint32_t gen = t.cfg_gen_;
	/*
	 * Applies a pending request; returns whether there was one. With lk_
	 * held, so a load first: the exchange, a locked instruction, only when
	 * there is something to take.
	 */
	auto apply = [&] {
		/*
		 * Requests are made under lk_, which we hold: a load, and the
		 * request cleared only once applied, so that pending() (no lock:
		 * the request, then the rte_timer) never sees neither.
		 */
		const timer::request r = t.req_.load(std::memory_order_relaxed);
		switch (r) {
		case timer::request::none:
			return false;
		case timer::request::mod: {
			const uint64_t now = rte_get_timer_cycles();
			const unsigned to = t.req_lcore_;
			if (rte_timer_reset(&t.tim_, t.req_deadline_ > now ? t.req_deadline_ - now : 0, SINGLE, to,
					    expire, &t) == 0) {
				t.period_ = t.req_period_;
				t.cfg_gen_++;
				if (to != lcore_id())
					raise_softirq_on(to, TIMER_SOFTIRQ);
			}
			break;
		}
		case timer::request::del:
			break;
		}
		t.req_.store(timer::request::none, std::memory_order_release);
		ls.deferred.add();
		return true;
	};
	if (!apply()) {
		t.in_callback_ = true;
		detail::spin_unlock(t.lk_);
		ls.expired.add();
		tl_running = &t;
		t.f_(t, t.data_);
		tl_running = nullptr;
		detail::spin_lock(t.lk_);
		t.in_callback_ = false;
		/* Periodic, and neither re-armed nor deleted meanwhile: the next period, skipping missed ones. */
		if (!apply() && t.period_ && t.cfg_gen_ == gen) {
			const uint64_t now = rte_get_timer_cycles();
			uint64_t next = t.tim_.expire + t.period_;
			if (next <= now)
				next += ((now - next) / t.period_ + 1) * t.period_;
			if (rte_timer_reset(&t.tim_, next - now, SINGLE, lcore_id(), expire, &t) == 0)
				t.cfg_gen_++;
		}
	}
	t.done_gen_ = gen;
	detail::spin_unlock(t.lk_);
}

/* [H] Takes @p t off its lcore and parks it until a loop starts. Returns whether it was pending. */
bool detail::timer_access::park(timer &t, uint64_t deadline, uint64_t period)
{
	bool was = t.parked_.load(std::memory_order_relaxed);
	if (!was) {
		was = del(t) > 0;
		t.park_next_ = parked;
		parked = &t;
		t.parked_.store(true, std::memory_order_release);
	}
	{
		spin_guard g(t.lk_);
		t.period_ = period;
	}
	t.park_deadline_ = deadline;
	return was;
}

/* [H] Returns whether @p t was parked. */
bool detail::timer_access::unpark(timer &t)
{
	if (!t.parked_.load(std::memory_order_relaxed))
		return false;
	for (timer **p = &parked; *p; p = &(*p)->park_next_) {
		if (*p == &t) {
			*p = t.park_next_;
			break;
		}
	}
	t.park_next_ = nullptr;
	t.parked_.store(false, std::memory_order_release);
	return true;
}

/* [H] The first loop to start takes every parked timer, with its remaining time. */
void detail::timer_access::adopt_parked(unsigned lcore)
{
	while (timer *t = parked) {
		unpark(*t);
		uint64_t period;
		{
			spin_guard g(t->lk_);
			period = t->period_;
		}
		arm_on(*t, lcore, t->park_deadline_, period, rte_get_timer_cycles());
		timer_state[lcore].adopted.add();
	}
}

/* ---- the API ---- */

timer::timer(func f, void *data) noexcept : f_(f), data_(data)
{
	rte_timer_init(&tim_);
}

/* Parked or armed: takes it off, without waiting. After bh::eal_cleanup() only the parking is left to undo. */
int detail::timer_access::del_any(timer &t)
{
	int was = 0;
	if (t.parked_.load(std::memory_order_acquire)) {
		spin_guard h(homes);
		was = unpark(t);
	}
	if (!rte_live.load(std::memory_order_acquire) || stopped(t))
		return was;
	return was | del(t);
}

timer::~timer()
{
	timer_access::del_any(*this);
	if (!rte_live.load(std::memory_order_acquire))
		return;
	if (tl_running == this) {
		BH_LOG(ERR, log::timer, "timer destroyed from its own callback: its expiry still uses it");
		return;
	}
	timer_access::wait_expiry(*this);
}

bool timer::pending() const noexcept
{
	if (parked_.load(std::memory_order_acquire))
		return true;
	/*
	 * The request first: an expiry applying one re-arms the rte_timer
	 * before it clears the request (release), so a cleared request read
	 * here (acquire) means the re-arm shows.
	 */
	return rte_live.load(std::memory_order_acquire) &&
	       (req_.load(std::memory_order_acquire) == request::mod || rte_timer_pending(const_cast<rte_timer *>(&tim_)));
}

int timer_mod(timer &t, uint64_t delay_ns) noexcept
{
	return arm(t, no_lcore, delay_ns, 0, "timer_mod");
}

int timer_mod_periodic(timer &t, uint64_t period_ns) noexcept
{
	if (period_ns == 0) {
		BH_LOG(ERR, log::timer, "timer_mod_periodic: zero period");
		return -EINVAL;
	}
	return arm(t, no_lcore, 0, period_ns, "timer_mod_periodic");
}

int timer_mod_on(unsigned lcore, timer &t, uint64_t delay_ns, uint64_t period_ns) noexcept
{
	if (!detail::lcore_valid(lcore)) {
		BH_LOG(ERR, log::timer, "timer_mod_on: lcore %u is not an enabled lcore", lcore);
		return -EINVAL;
	}
	return arm(t, lcore, delay_ns, period_ns, "timer_mod_on");
}

int timer_del(timer &t) noexcept
{
	return timer_access::del_any(t);
}

int timer_del_sync(timer &t) noexcept
{
	if (tl_running == &t) {
		BH_LOG(ERR, log::timer, "timer_del_sync: called from the timer's own callback, it would wait for itself");
		return -EDEADLK;
	}
	if (const int rc = might_sleep("timer_del_sync"))
		return rc;
	const int rc = timer_del(t);
	if (rte_live.load(std::memory_order_acquire))
		timer_access::wait_expiry(t);
	return rc;
}

timer_stats timer_get_stats(unsigned lcore) noexcept
{
	timer_stats st;
	if (lcore < max_lcores) {
		const timer_lcore &s = timer_state[lcore];
		st.expired = s.expired.read();
		st.softirqs = s.softirqs.read();
		st.deferred = s.deferred.read();
		st.adopted = s.adopted.read();
	}
	return st;
}

/* ---- the framework's hooks ---- */

void detail::timer_raise(unsigned lcore) noexcept
{
	BH_CHECK_OWNER(own_lcore(lcore), "the lcore's next expiry [L]");
	timer_next_expiry[lcore].tsc = UINT64_MAX;
	raise_softirq(TIMER_SOFTIRQ);
}

namespace {

int timer_reply(unsigned lcore, rte_tel_data *d)
{
	const timer_stats s = timer_get_stats(lcore);
	return detail::telemetry_reply(d, {{"expired", s.expired},
					   {"softirqs", s.softirqs},
					   {"deferred", s.deferred},
					   {"adopted", s.adopted}});
}

constexpr detail::telemetry_command commands[] = {
	{"/bh/timer", detail::telemetry_per_lcore<timer_reply>, "Returns an lcore's timer counters. Parameters: int lcore_id"},
};

int open_timers()
{
	/* The loop compares TSC reads with expiries rte_timer computes in its own cycles. */
	if (rte_get_timer_hz() != rte_get_tsc_hz()) {
		BH_LOG(ERR, log::timer, "rte_timer counts %" PRIu64 " Hz, the TSC %" PRIu64
					" Hz: an EAL with HPET timers is not supported",
		       rte_get_timer_hz(), rte_get_tsc_hz());
		return -ENOTSUP;
	}
	const int rc = rte_timer_subsystem_init();
	if (rc < 0 && rc != -EALREADY) {
		BH_LOG(ERR, log::timer, "rte_timer_subsystem_init failed: %s", rte_strerror(-rc));
		return rc;
	}
	if (rc == 0)
		initialised_rte = true;
	rte_live.store(true, std::memory_order_release);
	static std::once_flag once;
	detail::telemetry_register_once(once, commands);
	opened = detail::claim_softirq(TIMER_SOFTIRQ, timer_action, log::timer, "bh timers");
	return 0;
}

void close_timers()
{
	detail::release_softirq(TIMER_SOFTIRQ, opened);
	opened = false;
}

} // namespace

void detail::timer_subsys_finalize() noexcept
{
	if (!rte_live.exchange(false))
		return;
	if (initialised_rte)
		rte_timer_subsystem_finalize();
	initialised_rte = false;
}

const subsystem detail::timer_subsystem = {
	.name = "timer",
	.open = open_timers,
	.close = close_timers,
	/* The lcore's loop runs: timers armed elsewhere may live there, and the first takes the parked ones. */
	.loop_start = [](unsigned lcore) {
		spin_guard h(homes);
		timer_state[lcore].online.store(true, std::memory_order_release);
		if (opened)
			timer_access::adopt_parked(lcore);
	},
	.loop_stop = [](unsigned lcore) {
		spin_guard h(homes);
		timer_state[lcore].online.store(false, std::memory_order_release);
	},
};

} // namespace bh
