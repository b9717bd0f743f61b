/* SPDX-License-Identifier: BSD-3-Clause */
#include <cerrno>
#include <mutex>

#include <rte_branch_prediction.h>
#include <rte_log.h>
#include <rte_telemetry.h>

#include "bh_context.h"
#include "bh_percpu.h"
#include "bh_softirq.h"
#include "bh_tasklet.h"
#include "context_private.h"
#include "intrusive_inbox.h"
#include "log_private.h"
#include "softirq_private.h"
#include "tasklet_private.h"
#include "tasklet_trace.h"
#include "telemetry_private.h"
#include "trace_private.h"
#include "wait_private.h"

namespace bh {

namespace detail {

/* The softirq handlers and the API reach into tasklet through this. */
struct tasklet_access {
	static tasklet *&next(tasklet &t) { return t.next_; }
	static std::atomic<unsigned> &state(tasklet &t) { return t.state_; }
	static void call(tasklet &t) { t.func_(t.data_); }
	static tasklet_func func(tasklet &t) { return t.func_; }
	static constexpr unsigned sched = tasklet::sched_bit;
	static constexpr unsigned run = tasklet::run_bit;
	static constexpr unsigned kill = tasklet::kill_bit;
	static constexpr unsigned count_shift = tasklet::count_shift;
	static constexpr unsigned count_unit = tasklet::count_unit;
};

} // namespace detail

namespace {

using access = detail::tasklet_access;

/*
 * One lcore's tasklets. Field access (legend of softirq_private.h):
 *   [X] the lcore's softirq executor (the lcore thread, or its ksoftirqd
 *       while that owns the lcore's softirqs)
 *   [A] any thread, lock-free push
 * A tasklet is on at most one list at a time: whoever sets its SCHED bit
 * queues it, and only the executor of that list clears SCHED.
 */
struct tasklet_list {
	detail::intrusive_fifo<tasklet, &access::next> fifo;   /* [X] */
	detail::intrusive_inbox<tasklet, &access::next> inbox; /* [A] push, [X] drains */
};

enum list_kind : unsigned { hi_list = 0, normal_list = 1 };
constexpr unsigned list_softirq[2] = {HI_SOFTIRQ, TASKLET_SOFTIRQ};

struct tasklet_lcore {
	tasklet_list lists[2];
	lcore_counter run, requeued_running, requeued_disabled, killed, remote; /* [X] */
};

per_lcore<tasklet_lcore> tasklet_state;
bool opened[2]; /* [I] which of HI/TASKLET bh::start() registered for us, until bh::stop() */

/* The tasklet whose function the calling thread runs right now. */
constinit thread_local tasklet *tl_running __attribute__((tls_model("initial-exec"))) = nullptr;

/* A wait for @p t from inside @p t would never end. */
int self_wait_check(const char *fn, tasklet &t)
{
	if (tl_running != &t)
		return 0;
	BH_LOG(ERR, log::tasklet, "%s: called from the tasklet itself, it would wait for itself", fn);
	return -EDEADLK;
}

/* What the executor found when it came to a queued tasklet. */
enum class taken {
	run,              /* RUN is ours and SCHED cleared: call it */
	killed,           /* tasklet_kill() waits: SCHED cleared, not called */
	requeue_running,  /* it runs on another lcore: still SCHED, queue it again */
	requeue_disabled, /* disabled: still SCHED, queue it again */
};

/*
 * Takes a queued tasklet for running: SCHED to RUN in one compare-and-swap
 * where Linux's tasklet_action_common() makes two locked operations
 * (tasklet_trylock(), then tasklet_clear_sched() after reading the count).
 * The disable count shares the word, so a tasklet_disable() either comes
 * first and fails the exchange (the tasklet is then requeued, SCHED never
 * cleared) or comes after and finds RUN set, and waits. A disabled
 * tasklet's word is not written at all while it waits in its queue. SCHED
 * is cleared before the call, so a schedule during the call queues it
 * again. acq_rel: whoever sets SCHED next may write next_, which this
 * lcore's list walk has just read.
 */
taken take(tasklet &t)
{
	std::atomic<unsigned> &state = access::state(t);
	unsigned s = state.load(std::memory_order_acquire);
	for (;;) {
		if (s & access::kill) {
			state.fetch_and(~access::sched, std::memory_order_release);
			return taken::killed;
		}
		if (s & access::run)
			return taken::requeue_running;
		if (s >> access::count_shift)
			return taken::requeue_disabled;
		if (state.compare_exchange_weak(s, (s | access::run) & ~access::sched, std::memory_order_acq_rel,
						std::memory_order_acquire))
			return taken::run;
	}
}

/*
 * A queued tasklet that take() did not give to run: counted, and queued
 * again unless killed. Out of line, so that the run loop keeps none of
 * these counters' addresses in registers.
 */
[[gnu::noinline]] void not_taken(tasklet_lcore &st, tasklet_list &l, tasklet &t, list_kind kind, taken why)
{
	if (why == taken::killed) {
		st.killed.add();
		return;
	}
	(why == taken::requeue_running ? st.requeued_running : st.requeued_disabled).add();
	l.fifo.append(t);
	raise_softirq(list_softirq[kind]);
}

/* Out of line, as softirq.cpp's: see trace_private.h. The executor's lcore_id() is the lcore the point names. */
template <void (*emit)(uint32_t lcore, const void *tasklet, tasklet_func func)>
[[gnu::noinline, gnu::cold]] void trace_record(tasklet &t) noexcept
{
	emit(lcore_id(), &t, access::func(t));
}

[[gnu::noinline, gnu::cold]] void tasklet_leaked(uint32_t before, tasklet &t) noexcept
{
	detail::context_leaked(detail::softirq_state[lcore_id()], before, "tasklet",
			       reinterpret_cast<const void *>(access::func(t)));
}

void tasklet_action(list_kind kind)
{
	const unsigned lcore = lcore_id();
	BH_CHECK_OWNER(detail::executes(lcore), "the tasklet lists [X]");
	tasklet_lcore &st = tasklet_state[lcore];
	tasklet_list &l = st.lists[kind];
	st.remote.add(l.fifo.splice(l.inbox));
	tasklet *list = l.fifo.take_all();
	const uint32_t pc = detail::tl_preempt_count;

	while (list) {
		tasklet &t = *list;
		list = access::next(t);
		if (const taken why = take(t); why != taken::run) [[unlikely]] {
			not_taken(st, l, t, kind, why);
			continue;
		}
		if (detail::trace_on(__bh_trace_tasklet_entry))
			trace_record<bh_trace_tasklet_entry>(t);
		tl_running = &t;
		access::call(t);
		tl_running = nullptr;
		if (detail::trace_on(__bh_trace_tasklet_exit))
			trace_record<bh_trace_tasklet_exit>(t);
		if (unlikely(detail::tl_preempt_count != pc))
			tasklet_leaked(pc, t);
		access::state(t).fetch_and(~access::run, std::memory_order_release);
		st.run.add();
	}
}

void hi_action(const softirq_action &) { tasklet_action(hi_list); }
void normal_action(const softirq_action &) { tasklet_action(normal_list); }

int schedule(tasklet &t, list_kind kind, unsigned lcore, const char *fn)
{
	const unsigned self = lcore_id();
	const bool local = lcore == no_lcore || lcore == self;
	if (local && self >= max_lcores) {
		BH_LOG(ERR, log::tasklet, "%s: calling thread is not an lcore; name the lcore with %s_on", fn, fn);
		return -ENODEV;
	}
	if (!local && !detail::lcore_valid(lcore)) {
		BH_LOG(ERR, log::tasklet, "%s: lcore %u is not an enabled lcore", fn, lcore);
		return -EINVAL;
	}
	if (unlikely(!opened[kind])) {
		BH_LOG(ERR, log::tasklet, "%s: tasklets run between bh::start() and bh::stop()", fn);
		return -EPERM;
	}
	if (access::state(t).fetch_or(access::sched, std::memory_order_acq_rel) & access::sched)
		return 0;
	const unsigned target = local ? self : lcore;
	tasklet_list &l = tasklet_state[target].lists[kind];
	if (local && detail::is_executor(target)) {
		l.fifo.append(t);
		raise_softirq(list_softirq[kind]);
	} else {
		l.inbox.push(t);
		raise_softirq_on(target, list_softirq[kind]);
	}
	return 1;
}

} // namespace

int tasklet_schedule(tasklet &t) noexcept
{
	return schedule(t, normal_list, no_lcore, "tasklet_schedule");
}

int tasklet_hi_schedule(tasklet &t) noexcept
{
	return schedule(t, hi_list, no_lcore, "tasklet_hi_schedule");
}

int tasklet_schedule_on(unsigned lcore, tasklet &t) noexcept
{
	return schedule(t, normal_list, lcore, "tasklet_schedule");
}

int tasklet_hi_schedule_on(unsigned lcore, tasklet &t) noexcept
{
	return schedule(t, hi_list, lcore, "tasklet_hi_schedule");
}

void tasklet_disable_nosync(tasklet &t) noexcept
{
	access::state(t).fetch_add(access::count_unit, std::memory_order_acq_rel);
}

int tasklet_disable(tasklet &t) noexcept
{
	if (const int rc = self_wait_check("tasklet_disable", t))
		return rc;
	if (const int rc = might_sleep("tasklet_disable"))
		return rc;
	tasklet_disable_nosync(t);
	detail::wait_for([&] { return !t.running(); });
	return 0;
}

int tasklet_enable(tasklet &t) noexcept
{
	std::atomic<unsigned> &state = access::state(t);
	unsigned s = state.load(std::memory_order_relaxed);
	do {
		if (!(s >> access::count_shift)) {
			BH_LOG(ERR, log::tasklet, "tasklet_enable: tasklet is not disabled");
			return -EINVAL;
		}
	} while (!state.compare_exchange_weak(s, s - access::count_unit, std::memory_order_acq_rel));
	return 0;
}

int tasklet_kill(tasklet &t) noexcept
{
	if (const int rc = self_wait_check("tasklet_kill", t))
		return rc;
	if (const int rc = might_sleep("tasklet_kill"))
		return rc;
	std::atomic<unsigned> &state = access::state(t);
	state.fetch_or(access::kill, std::memory_order_acq_rel);
	detail::wait_for([&] { return !(state.load(std::memory_order_acquire) & (access::sched | access::run)); });
	state.fetch_and(~access::kill, std::memory_order_release);
	return 0;
}

tasklet_stats tasklet_get_stats(unsigned lcore) noexcept
{
	tasklet_stats st;
	if (lcore >= max_lcores)
		return st;
	const tasklet_lcore &s = tasklet_state[lcore];
	st.run = s.run.read();
	st.requeued_running = s.requeued_running.read();
	st.requeued_disabled = s.requeued_disabled.read();
	st.killed = s.killed.read();
	st.remote = s.remote.read();
	return st;
}

namespace {

int tasklet_reply(unsigned lcore, rte_tel_data *d)
{
	const tasklet_stats s = tasklet_get_stats(lcore);
	return detail::telemetry_reply(d, {{"run", s.run},
					   {"requeued_running", s.requeued_running},
					   {"requeued_disabled", s.requeued_disabled},
					   {"killed", s.killed},
					   {"remote", s.remote}});
}

constexpr detail::telemetry_command commands[] = {
	{"/bh/tasklet", detail::telemetry_per_lcore<tasklet_reply>,
	 "Returns an lcore's tasklet counters. Parameters: int lcore_id"},
};

int open_tasklets()
{
	static std::once_flag once;
	detail::telemetry_register_once(once, commands);
	const softirq_handler handlers[2] = {hi_action, normal_action};
	for (unsigned k = 0; k < 2; k++)
		opened[k] = detail::claim_softirq(list_softirq[k], handlers[k], log::tasklet, "tasklets on it");
	return 0;
}

/*
 * No executor runs any more (the loops returned, ksoftirqd is gone): what
 * is still scheduled (disabled, or scheduled after its lcore's last pass)
 * would stay SCHED forever, and tasklet_kill() wait for it. Drop it, as
 * tasklet_kill would have.
 */
void close_tasklets()
{
	for (unsigned k = 0; k < 2; k++) {
		detail::release_softirq(list_softirq[k], opened[k]);
		opened[k] = false;
	}
	for (unsigned l = 0; l < max_lcores; l++) {
		tasklet_lcore &st = tasklet_state[l];
		for (tasklet_list &list : st.lists) {
			list.fifo.splice(list.inbox);
			for (tasklet *t = list.fifo.take_all(); t;) {
				tasklet *next = access::next(*t);
				access::next(*t) = nullptr;
				access::state(*t).fetch_and(~access::sched, std::memory_order_release);
				st.killed.add();
				t = next;
			}
		}
	}
}

} // namespace

const subsystem detail::tasklet_subsystem = {
	.name = "tasklet",
	.open = open_tasklets,
	.close = close_tasklets,
};

} // namespace bh
