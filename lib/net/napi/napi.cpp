/* SPDX-License-Identifier: BSD-3-Clause */
#include <cerrno>

#include <rte_cycles.h>
#include <rte_log.h>

#include "bh_napi.h"
#include "bh_percpu.h"
#include "bh_softirq.h"
#include "intrusive_inbox.h"
#include "log_private.h"
#include "napi_private.h"
#include "napi_trace.h"
#include "softirq_private.h"
#include "time_private.h"

namespace bh::net {

namespace {

using access = detail::napi_access;
constexpr uint32_t sched_bit = 1, missed_bit = 2;

/*
 * One lcore's poll list (legend of softirq_private.h): the list is [X],
 * owned by the lcore's softirq executor; a top half that is not the
 * executor (the lcore while its ksoftirqd runs NET_RX) pushes to the inbox.
 */
struct napi_lcore {
	bh::detail::intrusive_fifo<napi, &access::next> list;   /* [X] */
	bh::detail::intrusive_inbox<napi, &access::next> inbox; /* [A] */
	lcore_counter processed, polls, time_squeeze, passes;   /* [X] */
};

per_lcore<napi_lcore> lists;
napi_config config; /* [I] */
uint64_t time_limit_cycles = 2000000;

/*
 * A context the lcore's loop drives (poll or adaptive mode) is raised for
 * by the NAPI top half on every pass while it stays on the list; NET_RX
 * re-raising itself for it would turn the lcore's own polling at full load
 * into a softirq flood and hand it to ksoftirqd, a second thread on the
 * same CPU. Interrupt-mode and bare contexts live on NET_RX's re-raise, as
 * the kernel's do.
 */
bool loop_driven(const napi &n)
{
	const detail::napi_ctl *c = access::ctl(n);
	return c && c->mode != rx_mode::interrupt;
}

/*
 * A context NET_RX leaves on its list is driven whatever brought it there
 * (its weight used, a racing schedule, a pass out of budget before it):
 * the top half raises NET_RX for a loop-driven context only in that state,
 * so one left scheduled in another would never be polled again.
 */
void keep_on_list(napi_lcore &l, napi &n)
{
	if (detail::napi_ctl *c = access::ctl(n))
		c->state.store(napi_state::driven, std::memory_order_relaxed);
	l.list.append(n);
}

} // namespace

bool napi::scheduled() const noexcept
{
	return state_.load(std::memory_order_acquire) & sched_bit;
}

bool napi_schedule(napi &n) noexcept
{
	const unsigned id = lcore_id();
	if (id >= max_lcores) {
		BH_LOG(ERR, log::net, "napi_schedule: calling thread is not an lcore");
		return false;
	}
	std::atomic<uint32_t> &state = access::state(n);
	uint32_t s = state.load(std::memory_order_relaxed);
	do {
		if (s & sched_bit) {
			if (!(s & missed_bit))
				state.fetch_or(missed_bit, std::memory_order_acq_rel);
			return false;
		}
	} while (!state.compare_exchange_weak(s, s | sched_bit, std::memory_order_acq_rel, std::memory_order_relaxed));
	napi_lcore &l = lists[id];
	if (bh::detail::is_executor(id))
		l.list.append(n);
	else
		l.inbox.push(n);
	raise_softirq(NET_RX_SOFTIRQ);
	return true;
}

napi_verdict napi_complete_done(napi &n, int work_done) noexcept
{
	detail::napi_ctl *c = access::ctl(n);
	/* Decided while still scheduled: the top half reads the machine only once SCHED is clear. */
	const napi_verdict v = c ? detail::napi_decide(*c, work_done, rte_rdtsc()) : napi_verdict{napi_next::rearm};
	std::atomic<uint32_t> &state = access::state(n);
	uint32_t s = state.load(std::memory_order_relaxed);
	uint32_t ns;
	do
		ns = (s & missed_bit) ? sched_bit : 0;
	while (!state.compare_exchange_weak(s, ns, std::memory_order_acq_rel, std::memory_order_relaxed));
	if (ns == 0)
		return v;
	if (c)
		c->state.store(napi_state::driven, std::memory_order_relaxed);
	return {napi_next::keep_polling};
}

napi_state napi_state_of(const napi &n) noexcept
{
	const detail::napi_ctl *c = access::ctl(n);
	return c ? c->state.load(std::memory_order_relaxed) : napi_state::polling;
}

void detail::net_rx_action(const softirq_action &) noexcept
{
	const unsigned id = lcore_id();
	napi_lcore &l = lists[id];
	l.passes.add();
	l.list.splice(l.inbox);
	int budget = config.budget;
	/*
	 * The time limit is checked between polls only and counts from the end
	 * of the first: a TSC read is ~25 cycles on a VM, and a poll is bounded
	 * by its weight anyway (the kernel's own limit is a jiffy coarse). The
	 * first check that can squeeze comes after the second poll, so the
	 * clock is read only when one will: a pass of two contexts reads none.
	 */
	uint64_t deadline = 0;
	napi *todo = l.list.take_all();
	while (todo) {
		napi &n = *todo;
		todo = access::next(n);
		const int work = access::poll(n, n.weight());
		bh_trace_napi_poll(id, &n, n.weight(), work);
		l.polls.add();
		l.processed.add(uint64_t(work));
		budget -= work;
		/* Still scheduled: it used its weight, or a schedule raced with its completion. */
		if (access::state(n).load(std::memory_order_acquire) & sched_bit)
			keep_on_list(l, n);
		/* As the kernel does: out of budget or time after a poll is a squeeze. */
		bool squeezed = budget <= 0;
		if (!squeezed && todo && (deadline || access::next(*todo))) {
			const uint64_t now = rte_rdtsc();
			if (!deadline)
				deadline = now + time_limit_cycles;
			squeezed = now >= deadline;
		}
		if (squeezed) {
			l.time_squeeze.add();
			while (todo) {
				napi &rest = *todo;
				todo = access::next(rest);
				keep_on_list(l, rest);
			}
		}
	}
	for (napi *n = l.list.front(); n; n = access::next(*n)) {
		if (!loop_driven(*n)) {
			raise_softirq(NET_RX_SOFTIRQ);
			break;
		}
	}
}

void detail::napi_forget_lists(unsigned lcore) noexcept
{
	napi_lcore &l = lists[lcore];
	l.list.splice(l.inbox);
	for (napi *n = l.list.take_all(); n;) {
		napi *next = access::next(*n);
		access::next(*n) = nullptr;
		access::state(*n).store(0, std::memory_order_release);
		n = next;
	}
}

int napi_set_config(const napi_config &cfg) noexcept
{
	if (cfg.budget <= 0 || cfg.time_limit_ns == 0) {
		BH_LOG(ERR, log::net, "napi_set_config: budget and time limit must be > 0");
		return -EINVAL;
	}
	config = cfg;
	time_limit_cycles = bh::detail::ns_to_cycles(cfg.time_limit_ns);
	return 0;
}

napi_config napi_get_config() noexcept
{
	return config;
}

softnet_stat softnet_get(unsigned lcore) noexcept
{
	softnet_stat st;
	if (lcore < max_lcores) {
		const napi_lcore &l = lists[lcore];
		st.processed = l.processed.read();
		st.polls = l.polls.read();
		st.time_squeeze = l.time_squeeze.read();
		st.passes = l.passes.read();
		const detail::napi_counters &m = detail::napi_stats[lcore];
		st.interrupts = m.interrupts.read();
		st.to_poll = m.to_poll.read();
		st.to_interrupt = m.to_interrupt.read();
		st.backoffs = m.backoffs.read();
		st.spurious = m.spurious.read();
	}
	return st;
}

} // namespace bh::net
