/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The contexts' mode machines (napi_add): the decision napi_complete_done()
 * makes, and the NAPI top half on each lcore that carries it out: it
 * schedules the contexts that poll or whose back-off is over, arms the
 * interrupts of those that sleep, and bounds the lcore's sleep by the next
 * back-off. Field ownership is napi_private.h's legend.
 */
#include <algorithm>
#include <cerrno>
#include <cinttypes>

#include <rte_cycles.h>
#include <rte_log.h>

#include "bh_lcore.h"
#include "bh_napi.h"
#include "log_private.h"
#include "napi_private.h"
#include "time_private.h"

namespace bh::net {

namespace detail {
per_lcore<napi_counters> napi_stats;
} // namespace detail

namespace {

using detail::napi_access;
using detail::napi_ctl;
using detail::napi_top;

/* The first idle back-off, and the first retry after an interrupt that brought nothing. */
constexpr uint64_t min_backoff_ns = 10000, max_backoff_limit_ns = 1000000000;
constexpr uint64_t min_defer_ns = 1000, max_defer_ns = 10000000;
constexpr unsigned max_defer_polls = 1000;
/*
 * Retries, 10 to 80 us apart, after an interrupt whose poll found nothing
 * before the interrupt is armed again. net_tap's fd is readable as soon as
 * a frame is queued, but if a thread takes its Rx signal (the framework's
 * do not; a program's own may), its receive returns nothing until the
 * PMD's signal handler has run: re-arming at once would make the lcore
 * spin on the readable fd meanwhile.
 */
constexpr unsigned spurious_retries = 4;

std::unique_ptr<napi_top> tops[max_lcores]; /* [I] made by napi_add, freed by napi_release_lcore */

napi_verdict keep_polling(napi_ctl &c)
{
	c.state.store(napi_state::polling, std::memory_order_relaxed);
	return {napi_next::keep_polling};
}

napi_verdict back_off(napi_ctl &c, uint64_t now, uint64_t until)
{
	c.until.store(until, std::memory_order_relaxed);
	c.slack.store((until - now) / 2, std::memory_order_relaxed);
	c.state.store(napi_state::backing_off, std::memory_order_relaxed);
	detail::napi_stats[c.lcore].backoffs.add();
	return {napi_next::back_off, until};
}

/* Nothing to poll for a while: sleep on the interrupt, or back off longer each time without one. */
napi_verdict go_idle(napi_ctl &c, uint64_t now)
{
	if (c.irq.fd >= 0) {
		if (c.mode == rx_mode::adaptive)
			detail::napi_stats[c.lcore].to_interrupt.add();
		c.state.store(napi_state::armed, std::memory_order_relaxed);
		return {napi_next::rearm};
	}
	/*
	 * The first back-off after work starts at a quarter of the gap between
	 * the last two polls that found work, when traffic has a pace: at 1 kpps
	 * a back-off from 10 us would wake the lcore seven times per frame. After
	 * an idle spell it starts at 10 us, so that the start of traffic is seen
	 * at once.
	 */
	const uint64_t first = c.last_gap < 4 * c.max_backoff_cycles ? c.last_gap / 4 : 0;
	c.idle_backoff = std::clamp(c.idle_backoff ? c.idle_backoff * 2 : first, c.min_backoff_cycles, c.max_backoff_cycles);
	return back_off(c, now, now + c.idle_backoff);
}

/*
 * The rate rule's moving average, in 1/16 packets: 1/8 of the way to this
 * poll's count, or half of it for an empty poll (below). Upward steps round
 * up, so that a run of full weights reaches the weight itself (a rate_hi
 * of 64 can start polling).
 *
 * An empty poll less than the shortest back-off (10 us) after one that
 * found work leaves the average alone: an lcore faster than a bursty
 * sender finds the queue empty between its bursts. bh-pktgen's bursts of
 * 32 at 20 Mpps come 1.6 us apart over memif; a loop that polls more
 * than three times a microsecond finds the queue empty five times in that
 * gap, and five halvings take an average of 32 under rate_lo: adaptive
 * mode went idle in the gaps (as the rule was; memif backs off), each
 * sleep outlasted the gap, and it forwarded 6.2-7.0 Mpps at a third of a
 * CPU where poll mode forwarded 19.5-20.5.
 */
void average(napi_ctl &c, int work, uint64_t now)
{
	if (!work) {
		if (now - c.last_work >= c.min_backoff_cycles)
			c.avg16 /= 2;
		return;
	}
	const int64_t avg = c.avg16, diff = int64_t(work) * 16 - avg;
	c.avg16 = uint32_t(avg + (diff > 0 ? (diff + 7) / 8 : diff / 8));
}

/*
 * The rate rule: polling starts when the average of every poll reaches
 * rate_hi and lasts while it stays at rate_lo. Not a single poll's count:
 * paced traffic (iperf3's bursts of 10-20 frames, 200 us apart) brings
 * one big poll after a slow wake-up now and then, and polling on it spun
 * through the rest of the burst, 1-2 points of a CPU above interrupt mode
 * at 50 and 100 kpps. One full weight from idle lifts the average to 8.
 * An empty poll halves the average instead of moving it an eighth of the
 * way to 0: after a burst of 20 the eighths took 19 empty polls to leave
 * (now 4), each a system call on tap and af_xdp. Full load never polls
 * empty, and a poll with work moves the average by an eighth, so a lone
 * empty poll there does not end polling.
 *
 * A big average is not yet steady work: an lcore that wakes late to paced
 * bursts takes each whole, so its polls average 20 at 100 kpps, and
 * polling after one finds the queue empty until it leaves. Such a false
 * start doubles the average that starts polling next time, up to the
 * weight; a spell of polling that found work sets it back to rate_hi.
 */
napi_verdict by_rate(napi_ctl &c, int work, uint64_t now)
{
	average(c, work, now);
	if (c.rate_polling) {
		if (c.avg16 >= c.sw.rate_lo * 16) {
			c.spell_found_work |= work > 0;
			return keep_polling(c);
		}
		c.rate_polling = false;
		c.rate_start = c.spell_found_work ? c.sw.rate_hi : std::min(2 * c.rate_start, unsigned(c.n->weight()));
		return go_idle(c, now);
	}
	if (c.avg16 >= c.rate_start * 16) {
		c.rate_polling = true;
		c.spell_found_work = false;
		return keep_polling(c);
	}
	return go_idle(c, now);
}

napi_verdict after_work(napi_ctl &c, int work, uint64_t now)
{
	c.spurious_run = 0;
	c.idle_backoff = 0;
	const uint64_t gap = now - c.last_work;
	c.last_work = now;
	c.last_gap = gap;
	if (c.mode == rx_mode::interrupt)
		return go_idle(c, now);
	if (c.sw.rule == napi_rule::rate)
		return by_rate(c, work, now);
	/*
	 * Half a weight in one poll is traffic near what the lcore can take: a
	 * sleep, which on a VM lasts longer than asked, would let the ring fill
	 * (memif at full load lost 9% this way). Keep polling.
	 */
	if (2 * work >= c.n->weight())
		return keep_polling(c);
	if (gap < 2 * c.defer_cycles) {
		c.empty_left = c.sw.defer_polls;
		return back_off(c, now, now + c.defer_cycles);
	}
	c.empty_left = 0;
	return go_idle(c, now);
}

napi_verdict after_nothing(napi_ctl &c, uint64_t now, bool woke)
{
	if (woke || c.spurious_run) {
		if (c.spurious_run < spurious_retries) {
			detail::napi_stats[c.lcore].spurious.add();
			return back_off(c, now, now + (c.min_backoff_cycles << c.spurious_run++));
		}
		c.spurious_run = 0;
		return go_idle(c, now);
	}
	if (c.mode != rx_mode::adaptive)
		return go_idle(c, now);
	if (c.sw.rule == napi_rule::rate)
		return by_rate(c, 0, now);
	if (c.empty_left) {
		c.empty_left--;
		return back_off(c, now, now + c.defer_cycles);
	}
	return go_idle(c, now);
}

/* [L] Arms @p c's interrupt, or schedules it if work came before the arming. */
void arm(napi_ctl &c)
{
	if (c.irq.enable && c.irq.enable(*c.n)) {
		if (c.irq.disable)
			c.irq.disable(*c.n);
		c.state.store(napi_state::polling, std::memory_order_relaxed);
		napi_schedule(*c.n);
		return;
	}
	lcore_enable_irq(c.irq.fd);
	c.irq_on = true;
}

/* [L] The interrupt of a sleeping context: a top half on the lcore it woke. */
void on_irq(void *p)
{
	napi_ctl &c = *static_cast<napi_ctl *>(p);
	if (c.irq.disable)
		c.irq.disable(*c.n);
	lcore_disable_irq(c.irq.fd);
	c.irq_on = false;
	detail::napi_counters &st = detail::napi_stats[c.lcore];
	st.interrupts.add();
	if (c.mode == rx_mode::adaptive)
		st.to_poll.add();
	c.woke.store(true, std::memory_order_relaxed);
	c.state.store(napi_state::polling, std::memory_order_relaxed);
	napi_schedule(*c.n);
}

/* [L] Off the poll list and waiting for a time: the one kind of context the top half needs the clock for. */
bool keeps_time(const napi_ctl &c)
{
	return !c.n->scheduled() && c.state.load(std::memory_order_relaxed) == napi_state::backing_off;
}

bool due(const napi_ctl &c, uint64_t now)
{
	return keeps_time(c) && now >= c.until.load(std::memory_order_relaxed);
}

/*
 * [L] What the top half does for a context that is off the poll list. When
 * the lcore woke for another context's back-off, one whose own back-off
 * ends within half its length is polled too: idle contexts of one lcore
 * then fall into step and share its wake-ups instead of each waking it (two
 * contexts backing off by the same period are at most half a period apart).
 */
void carry_out(napi_ctl &c, uint64_t now, bool woke_anyway)
{
	switch (c.state.load(std::memory_order_relaxed)) {
	case napi_state::backing_off:
		if (now < c.until.load(std::memory_order_relaxed) &&
		    !(woke_anyway && now + c.slack.load(std::memory_order_relaxed) >= c.until.load(std::memory_order_relaxed)))
			return;
		c.state.store(napi_state::polling, std::memory_order_relaxed);
		[[fallthrough]];
	case napi_state::polling:
	case napi_state::driven:
		napi_schedule(*c.n);
		return;
	case napi_state::armed:
		if (!c.irq_on)
			arm(c);
		return;
	}
}

} // namespace

napi_verdict detail::napi_decide(napi_ctl &c, int work, uint64_t now) noexcept
{
	const bool woke = c.woke.exchange(false, std::memory_order_relaxed);
	if (c.mode == rx_mode::poll)
		return keep_polling(c);
	return work > 0 ? after_work(c, work, now) : after_nothing(c, now, woke);
}

bool napi_top::poll()
{
	if (!set_up.load(std::memory_order_relaxed)) {
		set_up.store(true, std::memory_order_release);
		for (auto &c : ctls)
			if (c->irq.fd >= 0 && lcore_request_irq(c->irq.fd, on_irq, c.get()) != 0)
				c->irq.fd = -1;
	}
	/* The clock only when a context keeps time (~25 cycles a read here): at full load none does. */
	const bool timed = std::any_of(ctls.begin(), ctls.end(), [](const auto &c) { return keeps_time(*c); });
	const uint64_t now = timed ? rte_rdtsc() : 0;
	const bool any_due = timed && std::any_of(ctls.begin(), ctls.end(), [&](const auto &c) { return due(*c, now); });
	bool raise = false;
	for (auto &cp : ctls) {
		napi_ctl &c = *cp;
		if (c.n->scheduled())
			/* Left on the list by NET_RX, which counts on this pass to raise it again. */
			raise |= c.mode != rx_mode::interrupt && c.state.load(std::memory_order_relaxed) == napi_state::driven;
		else
			carry_out(c, now, any_due);
	}
	if (raise)
		raise_softirq(NET_RX_SOFTIRQ);
	return false;
}

bool napi_top::try_enter_interrupt_mode()
{
	for (auto &cp : ctls) {
		napi_ctl &c = *cp;
		if (c.n->scheduled())
			return false;
		switch (c.state.load(std::memory_order_relaxed)) {
		case napi_state::polling:
		case napi_state::driven:
			return false;
		case napi_state::armed:
			if (!c.irq_on)
				arm(c);
			/* The arming found work: it is scheduled now. */
			if (c.n->scheduled())
				return false;
			break;
		case napi_state::backing_off:
			break;
		}
	}
	return true;
}

uint64_t napi_top::sleep_limit_ns()
{
	uint64_t limit = UINT64_MAX;
	const uint64_t now = rte_rdtsc();
	for (auto &c : ctls) {
		if (c->state.load(std::memory_order_relaxed) != napi_state::backing_off)
			continue;
		const uint64_t until = c->until.load(std::memory_order_relaxed);
		limit = std::min(limit, until > now ? bh::detail::cycles_to_ns(until - now) : 0);
	}
	return limit;
}

const char *napi_switch_error(const napi_switch &s, int weight) noexcept
{
	if (s.rule != napi_rule::defer && s.rule != napi_rule::rate)
		return "rule is neither defer nor rate";
	if (s.defer_ns < min_defer_ns || s.defer_ns > max_defer_ns)
		return "defer_ns is outside 1 us .. 10 ms";
	if (s.defer_polls > max_defer_polls)
		return "defer_polls is above 1000";
	if (s.rate_hi < 1 || (weight > 0 && s.rate_hi > unsigned(weight)))
		return "rate_hi is outside 1 .. the weight";
	if (s.rate_lo < 1 || s.rate_lo > s.rate_hi)
		return "rate_lo is outside 1 .. rate_hi";
	if (s.max_backoff_ns < min_backoff_ns || s.max_backoff_ns > max_backoff_limit_ns)
		return "max_backoff_ns is outside 10 us .. 1 s";
	return nullptr;
}

void detail::napi_ctl::configure(rx_mode m, const napi_switch &s) noexcept
{
	mode = m;
	sw = s;
	rate_start = s.rate_hi;
	defer_cycles = bh::detail::ns_to_cycles(s.defer_ns);
	min_backoff_cycles = bh::detail::ns_to_cycles(min_backoff_ns);
	max_backoff_cycles = bh::detail::ns_to_cycles(s.max_backoff_ns);
}

int napi_add(napi &n, unsigned lcore, rx_mode mode, const napi_switch &sw, const napi_irq &irq) noexcept
{
	if (lcore >= max_lcores || napi_access::ctl(n) ||
	    (mode != rx_mode::poll && mode != rx_mode::interrupt && mode != rx_mode::adaptive) || n.weight() <= 0) {
		BH_LOG(ERR, log::net, "napi_add: bad lcore %u, mode or weight, or the context was given already", lcore);
		return -EINVAL;
	}
	if (const char *why = napi_switch_error(sw, n.weight())) {
		BH_LOG(ERR, log::net, "napi_add: %s", why);
		return -EINVAL;
	}
	if (mode == rx_mode::interrupt && irq.fd < 0) {
		BH_LOG(ERR, log::net, "napi_add: interrupt mode needs an interrupt fd");
		return -ENOTSUP;
	}
	if (detail::napi_lcore_active(lcore)) {
		BH_LOG(ERR, log::net, "napi_add: lcore %u already runs its loop", lcore);
		return -EBUSY;
	}
	auto c = std::unique_ptr<napi_ctl>(new (std::nothrow) napi_ctl);
	if (!c)
		return -ENOMEM;
	c->n = &n;
	c->lcore = lcore;
	c->configure(mode, sw);
	c->irq = irq;
	if (mode == rx_mode::poll)
		c->irq.fd = -1;
	std::unique_ptr<napi_top> &top = tops[lcore];
	const bool first = !top;
	if (first) {
		top.reset(new (std::nothrow) napi_top(lcore));
		if (!top)
			return -ENOMEM;
		if (const int rc = lcore_add_top_half(lcore, *top)) {
			top.reset();
			return rc;
		}
	}
	napi_access::ctl(n) = c.get();
	top->ctls.push_back(std::move(c));
	return 0;
}

bool detail::napi_lcore_active(unsigned lcore) noexcept
{
	return lcore < max_lcores && tops[lcore] && tops[lcore]->set_up.load(std::memory_order_acquire);
}

void detail::napi_release_lcore(unsigned lcore) noexcept
{
	napi_forget_lists(lcore);
	std::unique_ptr<napi_top> &top = tops[lcore];
	if (!top)
		return;
	lcore_clear(lcore);
	for (auto &c : top->ctls) {
		if (c->irq.fd >= 0 && top->set_up.load(std::memory_order_relaxed))
			lcore_free_irq(lcore, c->irq.fd);
		napi_access::ctl(*c->n) = nullptr;
	}
	top.reset();
}

} // namespace bh::net
