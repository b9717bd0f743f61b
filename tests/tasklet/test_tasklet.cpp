/* SPDX-License-Identifier: BSD-3-Clause */
/* SPEC section 5: every rule the seed texts state about tasklets. */
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bh_context.h"
#include "bh_lcore.h"
#include "bh_percpu.h"
#include "bh_softirq.h"
#include "bh_tasklet.h"
#include "bh_test.h"

namespace bh {
namespace {

using test::core_test;
using test::log_capture;
using test::test_lcore;
using test::wait_until;

class tasklet_test : public test::started_test {};

struct counter_data {
	std::atomic<int> runs{0};
	std::atomic<unsigned> last_lcore{no_lcore};
};

void count_fn(void *p)
{
	auto *d = static_cast<counter_data *>(p);
	d->last_lcore = lcore_id();
	d->runs.fetch_add(1);
}

/* A namespace-scope tasklet is constant-initialised (DECLARE_TASKLET). */
counter_data static_data;
tasklet static_tasklet(count_fn, &static_data);
constinit tasklet static_disabled(count_fn, &static_data, true);

TEST_F(tasklet_test, test_tasklet_static_and_dynamic_initialisation)
{
	EXPECT_EQ(static_tasklet.disable_count(), 0);
	EXPECT_EQ(static_disabled.disable_count(), 1);
	counter_data d;
	auto *dyn = new tasklet(count_fn, &d);
	EXPECT_FALSE(dyn->scheduled());
	EXPECT_EQ(tasklet_schedule(*dyn), 1);
	do_softirq();
	EXPECT_EQ(d.runs.load(), 1);
	delete dyn;

	int calls = 0;
	tasklet_of lambda([&] { calls++; });
	EXPECT_EQ(tasklet_schedule(lambda), 1);
	do_softirq();
	EXPECT_EQ(calls, 1) << "the callable receives its captured data";
}

TEST_F(tasklet_test, test_tasklet_scheduled_twice_before_it_runs_runs_once)
{
	counter_data d;
	tasklet t(count_fn, &d);
	const uint64_t raised = softirq_get_stats(lcore_id(), TASKLET_SOFTIRQ).raised;
	EXPECT_EQ(tasklet_schedule(t), 1);
	EXPECT_EQ(tasklet_schedule(t), 0);
	EXPECT_EQ(tasklet_schedule(t), 0);
	EXPECT_TRUE(t.scheduled());
	do_softirq();
	EXPECT_EQ(d.runs.load(), 1);
	EXPECT_FALSE(t.scheduled());
	EXPECT_EQ(softirq_get_stats(lcore_id(), TASKLET_SOFTIRQ).raised, raised + 1);
	EXPECT_EQ(tasklet_schedule(t), 1) << "once run, it can be scheduled again";
	do_softirq();
	EXPECT_EQ(d.runs.load(), 2);
}

TEST_F(tasklet_test, test_tasklet_runs_on_the_lcore_that_scheduled_it)
{
	counter_data d;
	tasklet t(count_fn, &d);
	test_lcore a(0), b(1);
	a.start_loop();
	b.start_loop();
	for (test_lcore *lc : {&a, &b}) {
		const int before = d.runs.load();
		std::atomic<int> rc{-1};
		lc->stop_loop();
		lc->run([&] {
			hardirq_scope top_half;
			rc = tasklet_schedule(t);
		});
		lc->start_loop();
		EXPECT_EQ(rc.load(), 1);
		EXPECT_TRUE(wait_until([&] { return d.runs.load() == before + 1; }));
		EXPECT_EQ(d.last_lcore.load(), lc->id());
	}
}

TEST_F(tasklet_test, test_tasklet_hi_runs_before_normal_on_the_same_lcore)
{
	static std::string order;
	order.clear();
	tasklet_of normal([] { order += 'N'; });
	tasklet_of hi([] { order += 'H'; });
	{
		bh_disable_guard bh;
		EXPECT_EQ(tasklet_schedule(normal), 1);
		EXPECT_EQ(tasklet_hi_schedule(hi), 1);
	}
	EXPECT_EQ(order, "HN");
}

TEST_F(tasklet_test, test_tasklet_disabled_does_not_run_until_enabled)
{
	counter_data d;
	tasklet t(count_fn, &d, true);
	test_lcore lc(1);
	lc.start_loop();
	ASSERT_EQ(tasklet_schedule_on(lc.id(), t), 1);
	EXPECT_TRUE(wait_until([&] { return tasklet_get_stats(lc.id()).requeued_disabled > 10; }));
	std::this_thread::sleep_for(std::chrono::milliseconds(20));
	EXPECT_EQ(d.runs.load(), 0) << "a disabled tasklet ran";
	EXPECT_TRUE(t.scheduled()) << "a disabled tasklet stays pending";
	ASSERT_EQ(tasklet_enable(t), 0);
	EXPECT_TRUE(wait_until([&] { return d.runs.load() == 1; }));
	std::this_thread::sleep_for(std::chrono::milliseconds(10));
	EXPECT_EQ(d.runs.load(), 1) << "it runs once, not once per requeue";
}

TEST_F(tasklet_test, test_tasklet_disable_and_enable_nest)
{
	counter_data d;
	tasklet t(count_fn, &d);
	ASSERT_EQ(tasklet_disable(t), 0);
	tasklet_disable_nosync(t);
	EXPECT_EQ(t.disable_count(), 2);
	EXPECT_EQ(tasklet_schedule(t), 1);
	do_softirq();
	ASSERT_EQ(tasklet_enable(t), 0);
	do_softirq();
	EXPECT_EQ(d.runs.load(), 0) << "one enable of two must leave it disabled";
	ASSERT_EQ(tasklet_enable(t), 0);
	/*
	 * While disabled it was put back and re-raised on every pass, a storm
	 * that may have handed lcore 0's softirqs to ksoftirqd: it runs there.
	 */
	do_softirq();
	EXPECT_TRUE(wait_until([&] { return d.runs.load() == 1; }));
	log_capture log;
	EXPECT_EQ(tasklet_enable(t), -EINVAL);
	EXPECT_EQ(t.disable_count(), 0);
	EXPECT_TRUE(log.contains("not disabled")) << log.text();
}

/* A tasklet whose function blocks until released, to observe it running. */
struct gate {
	std::atomic<bool> entered{false}, release{false}, finished{false};
	std::atomic<int> runs{0};
	std::atomic<unsigned> last_lcore{no_lcore};
};

void gated_fn(void *p)
{
	auto *g = static_cast<gate *>(p);
	g->runs.fetch_add(1);
	g->last_lcore = lcore_id();
	g->entered = true;
	wait_until([g] { return g->release.load(); }, std::chrono::milliseconds(10000));
	g->finished = true;
}

/*
 * Starts @p t (gated) on @p lc, releases it 50 ms later from another
 * thread, and checks that @p blocking returns 0 only after the run ended.
 */
void expect_waits_for_running(tasklet &t, gate &g, test_lcore &lc, const std::function<int()> &blocking,
			      const char *what)
{
	lc.start_loop();
	ASSERT_EQ(tasklet_schedule_on(lc.id(), t), 1);
	ASSERT_TRUE(wait_until([&] { return g.entered.load(); }));
	std::thread releaser([&] {
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
		g.release = true;
	});
	EXPECT_EQ(blocking(), 0);
	EXPECT_TRUE(g.finished.load()) << what << " returned while the tasklet ran";
	releaser.join();
}

TEST_F(tasklet_test, test_tasklet_disable_waits_for_a_running_instance)
{
	gate g;
	tasklet t(gated_fn, &g);
	test_lcore lc(1);
	expect_waits_for_running(t, g, lc, [&] { return tasklet_disable(t); }, "tasklet_disable");
	ASSERT_EQ(tasklet_enable(t), 0);
}

TEST_F(tasklet_test, test_tasklet_scheduled_while_running_elsewhere_runs_again_there)
{
	/*
	 * The seed: "If it is already running, for example on another
	 * processor, the tasklet is rescheduled and runs again."
	 *   lcore A: runs t ...................... returns
	 *   lcore B:     schedules t -> RUN is set: requeue, re-raise ... runs t
	 */
	gate g;
	tasklet t(gated_fn, &g);
	test_lcore a(0), b(1);
	a.start_loop();
	b.start_loop();
	ASSERT_EQ(tasklet_schedule_on(a.id(), t), 1);
	ASSERT_TRUE(wait_until([&] { return g.entered.load(); }));
	const uint64_t requeued = tasklet_get_stats(b.id()).requeued_running;
	g.entered = false;
	ASSERT_EQ(tasklet_schedule_on(b.id(), t), 1) << "SCHED was cleared before the function ran";
	EXPECT_TRUE(wait_until([&] { return tasklet_get_stats(b.id()).requeued_running > requeued; }));
	EXPECT_EQ(g.runs.load(), 1) << "it must not start on B while it runs on A";
	g.release = true;
	EXPECT_TRUE(wait_until([&] { return g.runs.load() == 2; }));
	EXPECT_EQ(g.last_lcore.load(), b.id());
}

struct stress_data {
	std::atomic<int> inside{0};
	std::atomic<int> overlaps{0};
	std::atomic<uint64_t> runs{0};
	std::atomic<uint64_t> runs_after_last_schedule[2]{};
};

TEST_F(tasklet_test, test_tasklet_never_runs_concurrently_with_itself_stress)
{
	static stress_data s;
	tasklet t(
		[](void *) {
			if (s.inside.fetch_add(1) != 0)
				s.overlaps.fetch_add(1);
			for (volatile int i = 0; i < 200; i = i + 1)
				;
			s.runs.fetch_add(1);
			s.inside.fetch_sub(1);
		},
		nullptr);
	test_lcore a(0), b(1);
#if defined(__SANITIZE_THREAD__)
	const int iterations = 20000;
#else
	const int iterations = 200000;
#endif
	std::atomic<uint64_t> queued{0};
	auto hammer = [&] {
		for (int i = 0; i < iterations; i++) {
			if (tasklet_schedule(t) == 1)
				queued.fetch_add(1);
			lcore_poll_once();
		}
		/* Whatever is still queued here runs on this lcore. */
		wait_until([&] { return !t.scheduled(); }, std::chrono::milliseconds(2000));
	};
	std::thread ta([&] { a.run([&] {
		hammer();
		while (t.scheduled())
			lcore_poll_once();
	}); });
	std::thread tb([&] { b.run([&] {
		hammer();
		while (t.scheduled())
			lcore_poll_once();
	}); });
	ta.join();
	tb.join();
	const uint64_t requeued = tasklet_get_stats(a.id()).requeued_running + tasklet_get_stats(b.id()).requeued_running;
	printf("tasklet stress: %" PRIu64 " schedules queued, %" PRIu64 " runs, %" PRIu64
	       " requeued because running on the other lcore, %d overlaps\n",
	       queued.load(), s.runs.load(), requeued, s.overlaps.load());
	EXPECT_EQ(s.overlaps.load(), 0);
	EXPECT_EQ(s.runs.load(), queued.load()) << "every successful schedule is followed by exactly one run";
	EXPECT_GT(requeued, 0u) << "the stress never hit the running-elsewhere case";
}

struct disable_race_data {
	tasklet *self = nullptr;
	std::atomic<bool> disabled{false};
	std::atomic<uint64_t> runs{0};
	std::atomic<uint64_t> ran_disabled{0};
};

/*
 * The executor takes a tasklet (SCHED to RUN) in one exchange after
 * reading the disable count, so a tasklet_disable() can fall between the
 * two. Against a tasklet that schedules itself from its own function
 * (always queued, taken over and over), disable and enable in a loop: once
 * tasklet_disable() has returned the function must not start, and the
 * tasklet must still read as scheduled (it is queued, waiting).
 */
TEST_F(tasklet_test, test_tasklet_disable_racing_its_take_never_lets_it_start_stress)
{
	static disable_race_data d;
	d.runs = 0;
	d.ran_disabled = 0;
	tasklet t(
		[](void *) {
			if (d.disabled.load())
				d.ran_disabled.fetch_add(1);
			d.runs.fetch_add(1);
			tasklet_schedule(*d.self);
		},
		nullptr);
	d.self = &t;
	test_lcore lc(1);
	lc.start_loop();
	ASSERT_EQ(tasklet_schedule_on(lc.id(), t), 1);
	uint64_t cycles = 0, unscheduled = 0;
	const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
	while (std::chrono::steady_clock::now() < end) {
		ASSERT_EQ(tasklet_disable(t), 0);
		d.disabled = true;
		if (!t.scheduled())
			unscheduled++;
		for (volatile int i = 0; i < 100; i = i + 1)
			;
		d.disabled = false;
		ASSERT_EQ(tasklet_enable(t), 0);
		cycles++;
	}
	const uint64_t runs = d.runs.load();
	EXPECT_TRUE(wait_until([&] { return d.runs.load() > runs + 100; })) << "enabled again, it no longer runs";
	ASSERT_EQ(tasklet_kill(t), 0);
	const tasklet_stats st = tasklet_get_stats(lc.id());
	printf("disable/enable cycles %" PRIu64 ", runs %" PRIu64 ", requeued disabled %" PRIu64 "\n", cycles,
	       d.runs.load(), st.requeued_disabled);
	EXPECT_EQ(d.ran_disabled.load(), 0u) << "the function started after tasklet_disable() returned";
	EXPECT_EQ(unscheduled, 0u) << "a disabled tasklet waiting in its queue read as not scheduled";
	EXPECT_GT(cycles, 100u);
}

TEST_F(tasklet_test, test_tasklet_kill_waits_and_removes_a_pending_one)
{
	gate g;
	tasklet t(gated_fn, &g);
	test_lcore lc(1);
	expect_waits_for_running(t, g, lc, [&] { return tasklet_kill(t); }, "tasklet_kill");

	/* Pending and disabled (so it cannot run): kill drops it without running it. */
	counter_data d;
	tasklet p(count_fn, &d, true);
	const uint64_t killed = tasklet_get_stats(lc.id()).killed;
	ASSERT_EQ(tasklet_schedule_on(lc.id(), p), 1);
	ASSERT_EQ(tasklet_kill(p), 0);
	EXPECT_FALSE(p.scheduled());
	/* Counted by the lcore that drops it, just after it clears the scheduled bit kill waits for. */
	EXPECT_TRUE(wait_until([&] { return tasklet_get_stats(lc.id()).killed == killed + 1; }));
	ASSERT_EQ(tasklet_enable(p), 0);
	std::this_thread::sleep_for(std::chrono::milliseconds(10));
	EXPECT_EQ(d.runs.load(), 0) << "a killed tasklet ran";
	EXPECT_EQ(tasklet_schedule_on(lc.id(), p), 1) << "it can be scheduled again after the kill";
	EXPECT_TRUE(wait_until([&] { return d.runs.load() == 1; }));
}

TEST_F(tasklet_test, test_tasklet_kill_and_disable_refused_in_atomic_context)
{
	static int kill_rc, disable_rc;
	counter_data d;
	static tasklet *victim;
	tasklet t(count_fn, &d);
	victim = &t;
	tasklet_of killer([] {
		kill_rc = tasklet_kill(*victim);
		disable_rc = tasklet_disable(*victim);
	});
	log_capture log;
	ASSERT_EQ(tasklet_schedule(killer), 1);
	do_softirq();
	EXPECT_EQ(kill_rc, -EDEADLK);
	EXPECT_EQ(disable_rc, -EDEADLK);
	EXPECT_EQ(t.disable_count(), 0) << "a refused disable must not change the count";
	EXPECT_TRUE(log.contains("sleeping function called from invalid context: tasklet_kill")) << log.text();
	{
		hardirq_scope top_half;
		EXPECT_EQ(tasklet_kill(t), -EDEADLK);
	}
}

/*
 * tasklet_kill or tasklet_disable from the tasklet itself would wait for
 * itself forever: refused as such (before the atomic-context check, so
 * even where that check aborts), and the tasklet is left as it was.
 */
TEST_F(tasklet_test, test_tasklet_kill_or_disable_from_itself_is_refused)
{
	struct self {
		tasklet t{&run, this};
		int kill_rc = 1, disable_rc = 1;
		static void run(void *p)
		{
			auto &me = *static_cast<self *>(p);
			me.kill_rc = tasklet_kill(me.t);
			me.disable_rc = tasklet_disable(me.t);
		}
	} s;
	set_sleep_check_mode(sleep_check_mode::abort);
	log_capture log;
	ASSERT_EQ(tasklet_schedule(s.t), 1);
	do_softirq();
	EXPECT_EQ(s.kill_rc, -EDEADLK);
	EXPECT_EQ(s.disable_rc, -EDEADLK);
	EXPECT_EQ(s.t.disable_count(), 0);
	EXPECT_TRUE(log.contains("tasklet_kill: called from the tasklet itself")) << log.text();
	EXPECT_TRUE(log.contains("tasklet_disable: called from the tasklet itself")) << log.text();
	EXPECT_FALSE(log.contains("sleeping function called from invalid context")) << log.text();
}

/* The tasklet runner checks the context word as the softirq runner does. */
TEST_F(tasklet_test, test_tasklet_leaving_bh_disabled_is_reported_and_repaired)
{
	counter_data d;
	tasklet leaky([](void *) { local_bh_disable(); });
	tasklet next(count_fn, &d);
	const uint64_t leaks = softirq_get_stats(lcore_id(), 0).context_leaks;
	log_capture log;
	ASSERT_EQ(tasklet_schedule(leaky), 1);
	do_softirq();
	EXPECT_EQ(preempt_count(), 0u);
	EXPECT_EQ(softirq_get_stats(lcore_id(), 0).context_leaks, leaks + 1);
	EXPECT_TRUE(log.contains("BUG: tasklet")) << log.text();
	ASSERT_EQ(tasklet_schedule(next), 1);
	do_softirq();
	EXPECT_EQ(d.runs.load(), 1);
}

/* bh::stop() drops what no executor will ever run, so that a later tasklet_kill returns. */
TEST_F(tasklet_test, test_tasklet_left_scheduled_at_stop_is_dropped)
{
	counter_data d;
	tasklet t(count_fn, &d, true);
	test_lcore lc(1);
	lc.start_loop();
	ASSERT_EQ(tasklet_schedule_on(lc.id(), t), 1);
	lc.stop_loop();
	const uint64_t killed = tasklet_get_stats(lc.id()).killed;
	ASSERT_TRUE(t.scheduled()) << "disabled: still queued";
	ASSERT_EQ(stop(), 0);
	EXPECT_FALSE(t.scheduled());
	EXPECT_EQ(tasklet_get_stats(lc.id()).killed, killed + 1);
	EXPECT_EQ(tasklet_kill(t), 0);
	EXPECT_EQ(d.runs.load(), 0);
	int rc = 0;
	log_capture log;
	lc.run([&] { rc = tasklet_schedule(t); });
	EXPECT_EQ(rc, -EPERM) << "nothing would run it after stop";
	EXPECT_FALSE(t.scheduled());
	EXPECT_TRUE(log.contains("tasklet_schedule: tasklets run between bh::start() and bh::stop()")) << log.text();
}

TEST_F(tasklet_test, test_tasklet_scheduled_from_non_lcore_thread_reaches_named_lcore)
{
	counter_data d;
	tasklet t(count_fn, &d);
	test_lcore lc(1);
	ASSERT_EQ(lcore_set_idle(lc.id(), idle_mode::sleep, 1000), 0);
	lc.start_loop();
	ASSERT_TRUE(wait_until([&] { return lcore_get_stats(lc.id()).sleeps > 0; }));
	const uint64_t remote = tasklet_get_stats(lc.id()).remote;
	int rc = 0, local_rc = 0;
	log_capture log;
	std::thread([&] {
		local_rc = tasklet_schedule(t);
		rc = tasklet_hi_schedule_on(lc.id(), t);
	}).join();
	EXPECT_EQ(local_rc, -ENODEV);
	EXPECT_TRUE(log.contains("not an lcore")) << log.text();
	EXPECT_EQ(rc, 1);
	EXPECT_TRUE(wait_until([&] { return d.runs.load() == 1; })) << "the sleeping lcore was not woken";
	EXPECT_EQ(d.last_lcore.load(), lc.id());
	EXPECT_EQ(tasklet_get_stats(lc.id()).remote, remote + 1);
	EXPECT_EQ(tasklet_schedule_on(100, t), -EINVAL);
}

} // namespace
} // namespace bh
