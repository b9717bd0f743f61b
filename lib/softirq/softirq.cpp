/* SPDX-License-Identifier: BSD-3-Clause */
#include <array>
#include <bit>
#include <cinttypes>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_pause.h>

#include "bh_context.h"
#include "bh_softirq.h"
#include "context_private.h"
#include "log_private.h"
#include "softirq_private.h"
#include "softirq_telemetry.h"
#include "softirq_trace.h"
#include "time_private.h"
#include "trace_private.h"

namespace bh {

namespace detail {

per_lcore<softirq_lcore> softirq_state;

} // namespace detail

namespace {

using detail::softirq_lcore;
using detail::softirq_state;
using detail::pending_of;
using detail::thread_role;

constexpr const char *default_names[NR_SOFTIRQS] = {
	"HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL",
	nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
	nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
	"TASKLET", "SCHED", "HRTIMER", "RCU", nullptr, nullptr,
};
static_assert(TASKLET_SOFTIRQ == 26 && RCU_SOFTIRQ == 29, "default_names follows softirq_nr");

/*
 * The vector and its configuration are [I]: written under table_mutex
 * while not frozen, read without a lock by every executor once frozen.
 * registered_mask mirrors which entries have a handler so that raise can
 * validate its argument with one load.
 */
std::array<softirq_action, NR_SOFTIRQS> softirq_vec;
std::atomic<uint32_t> registered_mask{0};
std::atomic<bool> table_frozen{false};
std::mutex table_mutex;
softirq_config config;
uint64_t max_time_cycles; /* derived from config.max_time_ns when frozen */

const char *entry_name(unsigned nr)
{
	if (nr >= NR_SOFTIRQS)
		return "?";
	if (softirq_vec[nr].name)
		return softirq_vec[nr].name;
	return default_names[nr] ? default_names[nr] : "free";
}

bool registered(unsigned nr)
{
	return nr < NR_SOFTIRQS && (registered_mask.load(std::memory_order_relaxed) >> nr & 1u);
}

int check_registered(const char *fn, unsigned nr)
{
	if (registered(nr))
		return 0;
	BH_LOG(ERR, log::softirq, "%s: softirq %u is not registered", fn, nr);
	return -EINVAL;
}

int open_locked(unsigned nr, softirq_handler h, void *data, const char *name)
{
	if (table_frozen.load(std::memory_order_relaxed)) {
		BH_LOG(ERR, log::softirq,
		       "open_softirq: table is frozen after bh::start(), cannot register softirq %u (%s)",
		       nr, name ? name : entry_name(nr));
		return -EBUSY;
	}
	if (softirq_vec[nr].action) {
		BH_LOG(ERR, log::softirq, "open_softirq: softirq %u is already registered as %s", nr,
		       entry_name(nr));
		return -EEXIST;
	}
	softirq_vec[nr] = softirq_action{h, data, name ? name : default_names[nr], nr};
	registered_mask.fetch_or(1u << nr, std::memory_order_release);
	return 0;
}

/* Hands the lcore's softirqs to its ksoftirqd. [L] */
void wakeup_softirqd(softirq_lcore &s)
{
	if (!s.has_ksoftirqd.load(std::memory_order_acquire) || s.ksoftirqd_active.load(std::memory_order_relaxed))
		return;
	/* ksoftirqd reads pending only: hand it what is left in the local word (released by the kick). */
	if (s.local_pending) {
		s.pending.fetch_or(s.local_pending, std::memory_order_relaxed);
		s.local_pending = 0;
	}
	s.ksoftirqd_active.store(true, std::memory_order_relaxed);
	s.ksoftirqd_wakeups.add();
	s.ksoftirqd_kick.fetch_add(1, std::memory_order_release);
	s.ksoftirqd_kick.notify_one();
}

bool exec_lock_try(softirq_lcore &s)
{
	return !s.exec_lock.load(std::memory_order_relaxed) && !s.exec_lock.exchange(true, std::memory_order_acquire);
}

/*
 * The lcore's own thread raising while it owns its softirqs: the raise may
 * go to local_pending. ksoftirqd_active turns true only by this thread's
 * hand, so a false read stays false until the thread itself hands over. [L]
 */
bool raises_locally(const softirq_lcore &s, thread_role who)
{
	return who == thread_role::lcore && !s.ksoftirqd_active.load(std::memory_order_relaxed);
}

void count_local_raise(softirq_lcore &s, thread_role who, unsigned nr)
{
	if (who == thread_role::ksoftirqd)
		s.raised_ksoftirqd[nr].add();
	else
		s.raised_lcore[nr].add();
}

} // namespace

int open_softirq(unsigned nr, softirq_handler h, void *data, const char *name) noexcept
{
	if (nr >= NR_SOFTIRQS || !h) {
		BH_LOG(ERR, log::softirq, "open_softirq: %s (index %u, table has %u entries)",
		       h ? "index out of range" : "null handler", nr, unsigned(NR_SOFTIRQS));
		return -EINVAL;
	}
	std::lock_guard lock(table_mutex);
	return open_locked(nr, h, data, name);
}

int alloc_softirq(softirq_handler h, void *data, const char *name, unsigned after, unsigned before) noexcept
{
	if (!h || after >= NR_SOFTIRQS || before > NR_SOFTIRQS || after >= before) {
		BH_LOG(ERR, log::softirq, "alloc_softirq: %s", h ? "bad range" : "null handler");
		return -EINVAL;
	}
	std::lock_guard lock(table_mutex);
	for (unsigned nr = after + 1; nr < before; nr++) {
		/* Predefined indices stay reserved for their subsystem even when unused. */
		if (!softirq_vec[nr].action && !default_names[nr]) {
			const int rc = open_locked(nr, h, data, name);
			return rc ? rc : int(nr);
		}
	}
	BH_LOG(ERR, log::softirq, "alloc_softirq: no free entry between %s (%u) and %s (%u) for %s",
	       entry_name(after), after, entry_name(before), before, name ? name : "softirq");
	return -ENOSPC;
}

int close_softirq(unsigned nr) noexcept
{
	if (check_registered("close_softirq", nr))
		return -EINVAL;
	std::lock_guard lock(table_mutex);
	if (table_frozen.load(std::memory_order_relaxed)) {
		BH_LOG(ERR, log::softirq, "close_softirq: table is frozen, cannot remove %s", entry_name(nr));
		return -EBUSY;
	}
	registered_mask.fetch_and(~(1u << nr), std::memory_order_relaxed);
	/* A bit left in an lcore's local word (its own thread's) runs nothing: dispatch skips empty entries. */
	for (unsigned l = 0; l < max_lcores; l++)
		softirq_state[l].pending.fetch_and(~(1u << nr), std::memory_order_relaxed);
	softirq_vec[nr] = softirq_action{};
	return 0;
}

bool softirq_table_frozen() noexcept
{
	return table_frozen.load(std::memory_order_acquire);
}

const softirq_action &softirq_entry(unsigned nr) noexcept
{
	static const softirq_action none{};
	return nr < NR_SOFTIRQS ? softirq_vec[nr] : none;
}

namespace {

/* Records made on the executor or the raiser, whose lcore_id() is the lcore the point names. */
using trace_emit = void (*)(uint32_t lcore, uint32_t nr);

/* Returns 0, so that a raise can end in a tail call to it and keep no frame of its own. */
template <trace_emit emit>
[[gnu::noinline, gnu::cold]] int trace_record(unsigned nr) noexcept
{
	emit(lcore_id(), nr);
	return 0;
}

template <rte_trace_point_t &tp, trace_emit emit>
[[gnu::always_inline]] inline void trace(unsigned nr) noexcept
{
	if (detail::trace_on(tp))
		trace_record<emit>(nr);
}

/* Out of line, so that the log call costs a raise nothing. */
[[gnu::noinline, gnu::cold]] int raise_refused(const char *fn, unsigned nr) noexcept
{
	if (check_registered(fn, nr))
		return -EINVAL;
	BH_LOG(ERR, log::softirq, "%s: calling thread is not an lcore; use raise_softirq_on()", fn);
	return -ENODEV;
}

/*
 * raise_softirq() and raise_softirq_irqoff(), which differ only in how
 * they set a bit in the shared word (@p set). Every call is a tail call,
 * so the common path saves no register.
 */
template <typename Set>
[[gnu::always_inline]] inline int raise_local(const char *fn, unsigned nr, Set set) noexcept
{
	const unsigned id = lcore_id();
	if (unlikely(!registered(nr) || id >= max_lcores))
		return raise_refused(fn, nr);
	softirq_lcore &s = softirq_state[id];
	const thread_role who = detail::current_role();
	if (raises_locally(s, who))
		s.local_pending |= 1u << nr;
	else
		set(s.pending, 1u << nr);
	count_local_raise(s, who, nr);
	if (detail::trace_on(__bh_trace_softirq_raise))
		return trace_record<bh_trace_softirq_raise>(nr);
	return 0;
}

} // namespace

int raise_softirq(unsigned nr) noexcept
{
	return raise_local("raise_softirq", nr, [](std::atomic<uint32_t> &w, uint32_t bit) {
		w.fetch_or(bit, std::memory_order_release);
	});
}

int raise_softirq_irqoff(unsigned nr) noexcept
{
	return raise_local("raise_softirq_irqoff", nr, [](std::atomic<uint32_t> &w, uint32_t bit) {
		w.store(w.load(std::memory_order_relaxed) | bit, std::memory_order_release);
	});
}

int raise_softirq_on(unsigned lcore, unsigned nr) noexcept
{
	if (check_registered("raise_softirq_on", nr))
		return -EINVAL;
	if (!detail::lcore_valid(lcore)) {
		BH_LOG(ERR, log::softirq, "raise_softirq_on: lcore %u is not an enabled lcore", lcore);
		return -EINVAL;
	}
	if (lcore == lcore_id())
		return raise_softirq(nr);
	softirq_lcore &s = softirq_state[lcore];
	/*
	 * seq_cst pairs with the target's store to its sleeping flag before it
	 * re-checks pending: either it sees this bit or kick() sees it asleep.
	 */
	s.pending.fetch_or(1u << nr, std::memory_order_seq_cst);
	s.raised_remote[nr].fetch_add(1, std::memory_order_relaxed);
	bh_trace_softirq_raise(lcore, nr);
	detail::kick(lcore);
	return 0;
}

uint32_t local_softirq_pending() noexcept
{
	unsigned id = lcore_id();
	return id < max_lcores ? pending_of(softirq_state[id], detail::current_role(), std::memory_order_relaxed) : 0;
}

void detail::context_leaked(softirq_lcore &s, uint32_t before, const char *what, const void *fn) noexcept
{
	const uint32_t after = tl_preempt_count;
	s.context_leaks.add();
	BH_LOG(ERR, log::softirq,
	       "BUG: %s (%p) on lcore %u returned with preempt_count %#x, entered with %#x (bottom halves left "
	       "%s): restored",
	       what, fn, lcore_id(), after, before, after > before ? "disabled" : "enabled once too often");
	tl_preempt_count = before;
}

/*
 * One handler run in 2^time_sample_shift is timed, and counts for that many:
 * two TSC reads cost more than a raise and a dispatch together on a VM
 * (about 7 ns each here), so timing every run would double the cost of the
 * softirq itself; one run in 16 still cost 0.6 ns of a 10.5 ns raise and
 * dispatch (docs/benchmarks.md). The sum stays exact in expectation, and
 * exact to within one run in 64 for a softirq that does the same work each
 * time.
 */
constexpr unsigned time_sample_shift = 6;

namespace {

/* The timed one run in 2^time_sample_shift: out of line, so that the others keep no TSC value across the call. */
[[gnu::noinline]] void call_timed(softirq_lcore &s, const softirq_action &e, unsigned nr) noexcept
{
	const uint64_t t0 = rte_rdtsc();
	e.action(e);
	s.cycles[nr].add((rte_rdtsc() - t0) << time_sample_shift);
}

[[gnu::noinline, gnu::cold]] void handler_leaked(softirq_lcore &s, uint32_t before, const softirq_action &e) noexcept
{
	detail::context_leaked(s, before, e.name ? e.name : "softirq", reinterpret_cast<const void *>(e.action));
}

/* Takes the pending bits in @p mask off the words @p who reads. */
template <thread_role who>
[[gnu::always_inline]] inline uint32_t take_pending(softirq_lcore &s, uint32_t mask) noexcept
{
	uint32_t pending = 0;
	if constexpr (who == thread_role::lcore) {
		pending = s.local_pending & mask;
		s.local_pending &= ~mask;
	}
	/* A load first: the locked AND only when another thread raised. */
	if (s.pending.load(std::memory_order_relaxed) & mask)
		pending |= s.pending.fetch_and(~mask, std::memory_order_acquire) & mask;
	return pending;
}

/* One pass: runs what take_pending() took, in index order. [X] */
template <thread_role who>
[[gnu::always_inline]] inline void run_taken(softirq_lcore &s, uint32_t mask, uint32_t pc) noexcept
{
	for (uint32_t pending = take_pending<who>(s, mask); pending; pending &= pending - 1) {
		const unsigned nr = unsigned(std::countr_zero(pending));
		const softirq_action &e = softirq_vec[nr];
		if (!e.action)
			continue;
		trace<__bh_trace_softirq_entry, bh_trace_softirq_entry>(nr);
		if (unlikely((s.run[nr].read() & ((1u << time_sample_shift) - 1)) == 0))
			call_timed(s, e, nr);
		else
			e.action(e);
		trace<__bh_trace_softirq_exit, bh_trace_softirq_exit>(nr);
		if (unlikely(detail::tl_preempt_count != pc))
			handler_leaked(s, pc, e);
		s.run[nr].add();
		if constexpr (who == thread_role::ksoftirqd)
			s.run_ksoftirqd[nr].add();
	}
}

/*
 * The passes after the first, while softirqs in @p mask are raised again,
 * within max_restart passes in all and max_time from the first restart.
 * Out of line: the first pass then keeps neither limit in a register
 * across its handlers. Returns true if some are still pending at the end.
 */
template <thread_role who>
[[gnu::noinline]] bool run_restarts(softirq_lcore &s, uint32_t mask, uint32_t pc) noexcept
{
	const uint64_t deadline = rte_rdtsc() + max_time_cycles;
	for (unsigned passes = config.max_restart; --passes;) {
		run_taken<who>(s, mask, pc);
		if (!(pending_of(s, who, std::memory_order_relaxed) & mask))
			return false;
		if (rte_rdtsc() >= deadline)
			return true;
	}
	return true;
}

/*
 * The body of run_softirqs(), for one executor role, inlined into
 * do_softirq()'s common path (the lcore's own thread, ksoftirqd asleep):
 * one call and one lcore id read fewer on every pass of every lcore loop.
 * A call with no restart reads no clock.
 */
template <thread_role who>
[[gnu::always_inline]] inline bool run_pass(softirq_lcore &s, uint32_t mask, [[maybe_unused]] unsigned lcore)
{
	BH_CHECK_OWNER(detail::executes(lcore) && &s == &detail::softirq_state[lcore], "the softirq state [X]");
	const uint32_t pc = detail::tl_preempt_count += softirq_offset;
	run_taken<who>(s, mask, pc);
	const bool left = (pending_of(s, who, std::memory_order_relaxed) & mask) && run_restarts<who>(s, mask, pc);
	detail::tl_preempt_count -= softirq_offset;
	return left;
}

/*
 * do_softirq() off its common path: called by ksoftirqd, or while ksoftirqd
 * owns the lcore's softirqs, or on a DPDK lcore that never attached (its
 * role read from rte_lcore_id()).
 */
[[gnu::noinline]] void do_softirq_shared(softirq_lcore &s, thread_role who) noexcept
{
	const uint32_t pending = pending_of(s, who, std::memory_order_relaxed);
	if (!pending)
		return;
	if (who == thread_role::ksoftirqd) {
		/* Called from ksoftirqd outside a handler: it already owns the lcore. */
		detail::run_softirqs(s, who, ~detail::lcore_only_mask);
		return;
	}
	if (!s.ksoftirqd_active.load(std::memory_order_acquire)) {
		/* An lcore that never attached, or ksoftirqd handed the softirqs back since the caller looked. */
		if (detail::run_softirqs(s, who, ~0u))
			wakeup_softirqd(s);
		return;
	}
	if (config.policy == ksoftirqd_policy::inline_always) {
		/*
		 * Take a turn, as mainline Linux does at every irq exit: wait for
		 * ksoftirqd to end its batch (it steps aside when it sees us waiting)
		 * rather than try once and lose whenever the two share a CPU.
		 */
		detail::exec_lock_acquire(s);
		detail::run_softirqs(s, who, ~0u);
		detail::exec_lock_release(s);
	} else if (pending & detail::lcore_only_mask) {
		detail::exec_lock_acquire(s);
		detail::run_softirqs(s, who, detail::lcore_only_mask);
		detail::exec_lock_release(s);
	}
}

} // namespace

/* Only an lcore's own thread and its ksoftirqd execute (executes() checks it): @p who is one of the two. */
bool detail::run_softirqs(softirq_lcore &s, thread_role who, uint32_t mask) noexcept
{
	if (who == thread_role::ksoftirqd)
		return run_pass<thread_role::ksoftirqd>(s, mask, lcore_id());
	return run_pass<thread_role::lcore>(s, mask, lcore_id());
}

void do_softirq() noexcept
{
	if (detail::tl_preempt_count & (hardirq_mask | softirq_mask))
		return;
	const unsigned id = lcore_id();
	if (id >= max_lcores)
		return;
	softirq_lcore &s = softirq_state[id];
	/* An attached lcore's role, without current_role()'s fallback for DPDK lcores that are not attached. */
	if (unlikely(detail::tl_role != thread_role::lcore || s.ksoftirqd_active.load(std::memory_order_acquire))) {
		do_softirq_shared(s, detail::current_role());
		return;
	}
	if (pending_of(s, thread_role::lcore, std::memory_order_relaxed) && run_pass<thread_role::lcore>(s, ~0u, id))
		wakeup_softirqd(s);
}

int softirq_set_config(const softirq_config &cfg) noexcept
{
	if (cfg.max_restart == 0 || cfg.max_time_ns == 0) {
		BH_LOG(ERR, log::softirq, "softirq_set_config: max_restart and max_time_ns must be > 0");
		return -EINVAL;
	}
	std::lock_guard lock(table_mutex);
	if (table_frozen.load(std::memory_order_relaxed)) {
		BH_LOG(ERR, log::softirq, "softirq_set_config: refused after bh::start()");
		return -EBUSY;
	}
	config = cfg;
	return 0;
}

softirq_config softirq_get_config() noexcept
{
	std::lock_guard lock(table_mutex);
	return config;
}

void detail::softirq_names(softirq_name (&names)[NR_SOFTIRQS]) noexcept
{
	std::lock_guard lock(table_mutex);
	for (unsigned nr = 0; nr < NR_SOFTIRQS; nr++)
		snprintf(names[nr], sizeof(names[nr]), "%s",
			 !softirq_vec[nr].action ? "" : softirq_vec[nr].name ? softirq_vec[nr].name : "unnamed");
}

softirq_stats softirq_get_stats(unsigned lcore, unsigned nr) noexcept
{
	softirq_stats st;
	if (lcore >= max_lcores || nr >= NR_SOFTIRQS)
		return st;
	const softirq_lcore &s = softirq_state[lcore];
	st.raised = s.raised_lcore[nr].read() + s.raised_ksoftirqd[nr].read() +
		    s.raised_remote[nr].load(std::memory_order_relaxed);
	st.run = s.run[nr].read();
	st.run_ksoftirqd = s.run_ksoftirqd[nr].read();
	st.cycles = s.cycles[nr].read();
	st.ns = detail::cycles_to_ns(st.cycles);
	st.context_leaks = s.context_leaks.read();
	return st;
}

void softirq_dump(FILE *out) noexcept
{
	unsigned lcores[max_lcores];
	unsigned n = 0;
	for (unsigned l = 0; l < max_lcores; l++)
		if (detail::lcore_valid(l))
			lcores[n++] = l;
	fprintf(out, "%12s", "");
	for (unsigned i = 0; i < n; i++)
		fprintf(out, " %10s%-3u", "LCORE", lcores[i]);
	fputc('\n', out);
	const uint32_t mask = registered_mask.load(std::memory_order_acquire);
	for (unsigned nr = 0; nr < NR_SOFTIRQS; nr++) {
		if (!(mask >> nr & 1u))
			continue;
		fprintf(out, "%11.11s:", entry_name(nr));
		for (unsigned i = 0; i < n; i++)
			fprintf(out, " %13" PRIu64, softirq_get_stats(lcores[i], nr).run);
		fputc('\n', out);
	}
}

/* ---- top halves and bottom-half disabling (kernel/softirq.c's share of the context word) ---- */

namespace {

/* The lcore state behind the calling thread if it is that lcore's own thread. */
softirq_lcore *own_lcore_state() noexcept
{
	if (detail::current_role() != thread_role::lcore)
		return nullptr;
	const unsigned id = lcore_id();
	return id < max_lcores ? &softirq_state[id] : nullptr;
}

} // namespace

void irq_enter() noexcept
{
	detail::tl_preempt_count += hardirq_offset;
}

void irq_exit() noexcept
{
	detail::tl_preempt_count -= hardirq_offset;
	if (!(detail::tl_preempt_count & (hardirq_mask | softirq_mask)))
		do_softirq();
}

void local_bh_disable() noexcept
{
	const uint32_t pc = detail::tl_preempt_count;
	detail::tl_preempt_count = pc + softirq_disable_offset;
	if (pc & softirq_mask)
		return;
	/*
	 * Outermost disable on an lcore's own thread. While ksoftirqd is idle
	 * nothing else can run this lcore's softirqs (only this thread wakes
	 * it), so a load is enough; while it runs, take the execution lock so
	 * that it cannot start another softirq of ours until we enable.
	 */
	softirq_lcore *s = own_lcore_state();
	if (s && s->ksoftirqd_active.load(std::memory_order_acquire)) {
		detail::exec_lock_acquire(*s);
		s->bh_lock_held = true;
	}
}

void local_bh_enable() noexcept
{
	if ((detail::tl_preempt_count & softirq_mask) < softirq_disable_offset) {
		BH_LOG(ERR, log::context, "local_bh_enable: unbalanced call, bottom halves are not disabled");
		return;
	}
	const uint32_t pc = detail::tl_preempt_count - softirq_disable_offset;
	detail::tl_preempt_count = pc;
	if (pc & softirq_mask)
		return;
	softirq_lcore *s = own_lcore_state();
	if (!s)
		return;
	if (s->bh_lock_held) {
		/* ksoftirqd owns the softirqs: give the lock back, run nothing here. */
		s->bh_lock_held = false;
		detail::exec_lock_release(*s);
		return;
	}
	if (!(pc & hardirq_mask) && pending_of(*s, thread_role::lcore, std::memory_order_relaxed))
		do_softirq();
}

/* ---- the execution lock between an lcore and its ksoftirqd ---- */

void detail::exec_lock_acquire(softirq_lcore &s) noexcept
{
	if (exec_lock_try(s))
		return;
	/*
	 * Only the lcore announces that it waits: ksoftirqd steps aside for it
	 * after each batch. ksoftirqd waiting for the lcore must not touch the
	 * flag, or its clearing store could erase the lcore's announcement and
	 * leave the lcore spinning against a ksoftirqd that never steps aside.
	 */
	const bool lcore = tl_role != thread_role::ksoftirqd;
	if (lcore)
		s.lcore_waits.store(true, std::memory_order_release);
	unsigned spins = 0;
	while (!exec_lock_try(s)) {
		if (++spins < 128)
			rte_pause();
		else
			sched_yield();
	}
	if (lcore)
		s.lcore_waits.store(false, std::memory_order_release);
}

void detail::exec_lock_release(softirq_lcore &s) noexcept
{
	s.exec_lock.store(false, std::memory_order_release);
}

/* ---- the wake-up of a sleeping lcore: both halves of the handshake ---- */

int detail::wakeup_fd(unsigned lcore) noexcept
{
	softirq_lcore &s = softirq_state[lcore];
	if (const int fd = s.wake_fd.load(std::memory_order_acquire); fd >= 0)
		return fd;
	const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0) {
		const int err = errno;
		BH_LOG(ERR, log::softirq, "lcore %u: cannot create its wake-up eventfd: %s", lcore, strerror(err));
		return -err;
	}
	s.wake_fd.store(fd, std::memory_order_release);
	return fd;
}

bool detail::sleep_prepare(unsigned lcore) noexcept
{
	softirq_lcore &s = softirq_state[lcore];
	/*
	 * Re-arm the kick only now: a kicker that still sees the previous
	 * sleep must find wake_posted set and not write again.
	 */
	s.wake_posted.store(false, std::memory_order_relaxed);
	s.sleeping.store(true, std::memory_order_seq_cst);
	return !pending_of(s, thread_role::lcore, std::memory_order_seq_cst);
}

void detail::sleep_finish(unsigned lcore) noexcept
{
	softirq_state[lcore].sleeping.store(false, std::memory_order_relaxed);
}

void detail::wakeup_consume(unsigned lcore) noexcept
{
	uint64_t v;
	(void)!read(softirq_state[lcore].wake_fd.load(std::memory_order_relaxed), &v, sizeof(v));
}

void detail::kick(unsigned lcore) noexcept
{
	softirq_lcore &s = softirq_state[lcore];
	if (!s.sleeping.load(std::memory_order_seq_cst) || s.wake_posted.exchange(true))
		return;
	const int fd = s.wake_fd.load(std::memory_order_acquire);
	const uint64_t one = 1;
	if (fd >= 0 && write(fd, &one, sizeof(one)) == sizeof(one))
		s.wakeups.fetch_add(1, std::memory_order_relaxed);
}

/* ---- the predefined entries the framework's parts take ---- */

bool detail::claim_softirq(unsigned nr, softirq_handler h, int log_type, const char *what) noexcept
{
	if (!softirq_entry(nr).action && open_softirq(nr, h) == 0)
		return true;
	if (softirq_entry(nr).action != h)
		BH_LOG(WARNING, log_type, "softirq %u is taken by %s: %s will not run", nr, entry_name(nr), what);
	return false;
}

void detail::release_softirq(unsigned nr, bool claimed) noexcept
{
	if (claimed)
		close_softirq(nr);
}

/* ---- the start-up table's entry ---- */

namespace {

void freeze(bool frozen)
{
	std::lock_guard lock(table_mutex);
	max_time_cycles = detail::ns_to_cycles(config.max_time_ns);
	table_frozen.store(frozen, std::memory_order_release);
}

} // namespace

const subsystem detail::softirq_subsystem = {
	.name = "softirq",
	.open = [] {
		freeze(true);
		detail::softirq_telemetry_register();
		return 0;
	},
	.close = [] { freeze(false); },
};

} // namespace bh
