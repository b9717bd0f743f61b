/* SPDX-License-Identifier: BSD-3-Clause */
/* SPEC section 7: per-lcore timers expired by the TIMER softirq. */
#include <atomic>
#include <chrono>
#include <thread>

#include <rte_cycles.h>

#include "bh_context.h"
#include "bh_eal.h"
#include "bh_ksoftirqd.h"
#include "bh_lcore.h"
#include "bh_percpu.h"
#include "bh_softirq.h"
#include "bh_tasklet.h"
#include "bh_timer.h"
#include "bh_test.h"
#include "bh_workqueue.h"

namespace bh {
namespace {

using namespace std::chrono_literals;
using test::core_test;
using test::log_capture;
using test::run_in_loop;
using test::test_lcore;
using test::wait_until;

class timer_test : public test::started_test {};

struct fired {
	std::atomic<int> count{0};
	std::atomic<unsigned> lcore{no_lcore};
	std::atomic<bool> in_softirq{false}, in_ksoftirqd{true};
	std::atomic<uint64_t> at{0};
};

void on_fire(timer &, void *p)
{
	auto *f = static_cast<fired *>(p);
	f->lcore = lcore_id();
	f->in_softirq = in_serving_softirq();
	f->in_ksoftirqd = in_ksoftirqd();
	f->at = rte_rdtsc();
	f->count.fetch_add(1);
}

TEST_F(timer_test, test_timer_one_shot_fires_once_in_softirq_on_its_lcore)
{
	fired f;
	timer t(on_fire, &f);
	test_lcore lc(1);
	lc.start_loop();
	const uint64_t t0 = rte_rdtsc();
	EXPECT_EQ(timer_mod_on(lc.id(), t, 5000000), 0);
	EXPECT_TRUE(t.pending());
	ASSERT_TRUE(wait_until([&] { return f.count.load() == 1; }));
	EXPECT_GE(test::cycles_to_ns(f.at.load() - t0), 5000000.0) << "fired early";
	std::this_thread::sleep_for(20ms);
	EXPECT_EQ(f.count.load(), 1);
	EXPECT_EQ(f.lcore.load(), lc.id());
	EXPECT_TRUE(f.in_softirq.load());
	EXPECT_FALSE(t.pending());
	EXPECT_EQ(timer_get_stats(lc.id()).expired, 1u);
}

TEST_F(timer_test, test_timer_armed_locally_fires_on_the_arming_lcore)
{
	fired f;
	timer t(on_fire, &f);
	test_lcore a(0), b(1);
	a.start_loop();
	b.start_loop();
	int rc = -1;
	run_in_loop(b.id(), [&] { rc = timer_mod(t, 1000000); });
	EXPECT_EQ(rc, 0);
	ASSERT_TRUE(wait_until([&] { return f.count.load() == 1; }));
	EXPECT_EQ(f.lcore.load(), b.id());
}

/*
 * A supervising main lcore, a work-queue worker and a plain thread run no
 * loop: their timers go to the housekeeping lcore instead of staying where
 * nothing would ever expire them (SPEC section 7).
 */
TEST_F(timer_test, test_timer_armed_from_non_looping_threads_fires_on_the_housekeeping_lcore)
{
	test_lcore lc(1);
	lc.start_loop();
	fired main_f, worker_f, thread_f, on_f;
	timer main_t(on_fire, &main_f), worker_t(on_fire, &worker_f), thread_t(on_fire, &thread_f),
		on_t(on_fire, &on_f);
	ASSERT_EQ(lcore_id(), rte_get_main_lcore()) << "the test's main thread is the EAL main lcore";
	EXPECT_EQ(timer_mod(main_t, 20000000), 0);
	int worker_rc = -1, thread_rc = -1;
	work_of w([&] { worker_rc = timer_mod(worker_t, 20000000); });
	ASSERT_TRUE(schedule_work(w));
	EXPECT_EQ(flush_work(w), 1);
	std::thread([&] { thread_rc = timer_mod_periodic(thread_t, 5000000); }).join();
	EXPECT_EQ(worker_rc, 0);
	EXPECT_EQ(thread_rc, 0);
	EXPECT_EQ(timer_mod_on(rte_get_main_lcore(), on_t, 20000000), 0) << "the main lcore runs no loop";
	for (fired *f : {&main_f, &worker_f, &on_f}) {
		ASSERT_TRUE(wait_until([&] { return f->count.load() == 1; }, 500ms)) << "lost";
		EXPECT_EQ(f->lcore.load(), lc.id());
		EXPECT_TRUE(f->in_softirq.load());
	}
	EXPECT_TRUE(wait_until([&] { return thread_f.count.load() >= 3; }, 500ms)) << "periodic from a plain thread";
	EXPECT_EQ(timer_del_sync(thread_t), 1);
}

/* With no loop running anywhere a timer waits, and the first loop to start takes it. */
TEST_F(timer_test, test_timer_parked_while_no_loop_runs_fires_when_one_starts)
{
	fired f;
	timer t(on_fire, &f), gone(on_fire, &f);
	test_lcore lc(1);
	const uint64_t adopted = timer_get_stats(lc.id()).adopted;
	EXPECT_EQ(timer_mod(t, 10000000), 0);
	EXPECT_EQ(timer_mod(gone, 10000000), 0);
	EXPECT_TRUE(t.pending());
	EXPECT_EQ(timer_del(gone), 1) << "a parked timer is pending";
	EXPECT_FALSE(gone.pending());
	std::this_thread::sleep_for(30ms);
	EXPECT_EQ(f.count.load(), 0);
	lc.start_loop();
	ASSERT_TRUE(wait_until([&] { return f.count.load() == 1; }, 500ms));
	EXPECT_EQ(f.lcore.load(), lc.id());
	EXPECT_EQ(timer_get_stats(lc.id()).adopted, adopted + 1);
	std::this_thread::sleep_for(30ms);
	EXPECT_EQ(f.count.load(), 1) << "the deleted parked timer fired";
}

TEST_F(timer_test, test_timer_periodic_fires_until_deleted)
{
	fired f;
	timer t(on_fire, &f);
	test_lcore lc(1);
	lc.start_loop();
	const uint64_t t0 = rte_rdtsc();
	EXPECT_EQ(timer_mod_on(lc.id(), t, 0, 2000000), 0);
	std::this_thread::sleep_for(60ms);
	/* 1, or 0 if it caught the callback running: either way it is gone. */
	EXPECT_GE(timer_del_sync(t), 0);
	EXPECT_FALSE(t.pending());
	const int n = f.count.load();
	const double elapsed_ms = test::cycles_to_ns(rte_rdtsc() - t0) / 1e6;
	EXPECT_GE(n, 10) << "a 2 ms periodic timer over 60 ms";
	EXPECT_LE(n, int(elapsed_ms / 2) + 1) << "fired more often than every 2 ms over " << elapsed_ms << " ms";
	std::this_thread::sleep_for(20ms);
	EXPECT_EQ(f.count.load(), n) << "fired after deletion";
	EXPECT_EQ(timer_del(t), 0);
}

TEST_F(timer_test, test_timer_mod_rearms_a_pending_timer)
{
	fired f;
	timer t(on_fire, &f);
	test_lcore lc(1);
	lc.start_loop();
	EXPECT_EQ(timer_mod_on(lc.id(), t, 10000000000ull), 0);
	const uint64_t t0 = rte_rdtsc();
	EXPECT_EQ(timer_mod_on(lc.id(), t, 3000000), 1) << "it was pending";
	ASSERT_TRUE(wait_until([&] { return f.count.load() == 1; }, 2000ms));
	EXPECT_LT(test::cycles_to_ns(f.at.load() - t0), 1e9) << "the old 10 s expiry was kept";
}

TEST_F(timer_test, test_timer_del_before_expiry_prevents_it)
{
	fired f;
	timer t(on_fire, &f);
	test_lcore lc(1);
	lc.start_loop();
	EXPECT_EQ(timer_mod_on(lc.id(), t, 200000000), 0);
	EXPECT_EQ(timer_del(t), 1);
	std::this_thread::sleep_for(250ms);
	EXPECT_EQ(f.count.load(), 0);
	EXPECT_EQ(timer_del(t), 0);
}

TEST_F(timer_test, test_timer_del_sync_waits_for_a_running_callback)
{
	static std::atomic<bool> entered{false}, finished{false};
	timer t([](timer &, void *) {
		entered = true;
		std::this_thread::sleep_for(50ms);
		finished = true;
	});
	test_lcore lc(1);
	lc.start_loop();
	ASSERT_EQ(timer_mod_on(lc.id(), t, 1000000), 0);
	ASSERT_TRUE(wait_until([] { return entered.load(); }));
	EXPECT_EQ(timer_del(t), 0) << "its callback runs: not pending";
	EXPECT_FALSE(finished.load()) << "timer_del waited";
	EXPECT_EQ(timer_del_sync(t), 0);
	EXPECT_TRUE(finished.load()) << "timer_del_sync returned while the callback ran";
}

/*
 * A timer whose callback is due can be re-armed or deleted from another
 * callback in the same TIMER run (rte_timer alone would spin there
 * forever), and two callbacks running at once on two lcores can re-arm
 * each other's timers.
 */
TEST_F(timer_test, test_timer_callbacks_rearm_and_delete_each_others_due_timers)
{
	struct peer {
		timer *other = nullptr;
		std::atomic<int> runs{0};
		int rc = -2;
	};
	peer a, b, k;
	/* The blocker holds the lcore's TIMER run while the others fall due behind it. */
	timer blocker([](timer &, void *) { test::spin_ns(20000000); });
	timer ta(
		[](timer &, void *p) {
			peer &me = *static_cast<peer *>(p);
			me.rc = timer_mod(*me.other, 30000000);
			me.runs++;
		},
		&a);
	auto count = [](timer &, void *p) { static_cast<peer *>(p)->runs++; };
	timer tb(count, &b);
	a.other = &tb;
	test_lcore lc(1);
	lc.start_loop();
	const uint64_t deferred = timer_get_stats(lc.id()).deferred;
	ASSERT_EQ(timer_mod_on(lc.id(), blocker, 1000000), 0);
	ASSERT_EQ(timer_mod_on(lc.id(), ta, 3000000), 0);
	ASSERT_EQ(timer_mod_on(lc.id(), tb, 3000001), 0);
	ASSERT_TRUE(wait_until([&] { return a.runs.load() == 1; }, 2000ms)) << "the TIMER run hangs";
	EXPECT_EQ(a.rc, 1) << "tb was due: pending";
	EXPECT_EQ(b.runs.load(), 0) << "re-armed while due: its old expiry must not call it";
	EXPECT_TRUE(tb.pending());
	ASSERT_TRUE(wait_until([&] { return b.runs.load() == 1; }, 2000ms)) << "the re-arm was lost";
	EXPECT_GT(timer_get_stats(lc.id()).deferred, deferred);

	/* Deleted while due: never runs. */
	peer c;
	timer tc(count, &c);
	k.other = &tc;
	timer killer(
		[](timer &, void *p) {
			peer &me = *static_cast<peer *>(p);
			me.rc = timer_del(*me.other);
			me.runs++;
		},
		&k);
	ASSERT_EQ(timer_mod_on(lc.id(), blocker, 1000000), 0);
	ASSERT_EQ(timer_mod_on(lc.id(), killer, 3000000), 0);
	ASSERT_EQ(timer_mod_on(lc.id(), tc, 3000001), 0);
	ASSERT_TRUE(wait_until([&] { return k.runs.load() == 1 && !tc.pending(); }, 2000ms));
	std::this_thread::sleep_for(20ms);
	EXPECT_EQ(k.rc, 1) << "tc was due: deleting it prevents its run";
	EXPECT_EQ(c.runs.load(), 0);
	lc.stop_loop();
}

TEST_F(timer_test, test_timer_callbacks_on_two_lcores_rearm_each_other)
{
	struct side {
		timer *other = nullptr;
		side *peer = nullptr;
		std::atomic<bool> inside{false}, modded{false};
		std::atomic<int> runs{0};
		int rc = -2;
	};
	side x, y;
	auto cb = [](timer &, void *p) {
		side &me = *static_cast<side *>(p);
		if (me.runs.fetch_add(1) != 0)
			return;
		/* Both callbacks run at once: each re-arms the timer whose callback is running. */
		me.inside = true;
		wait_until([&] { return me.peer->inside.load(); }, 1000ms);
		me.rc = timer_mod(*me.other, 1000000);
		me.modded = true;
		wait_until([&] { return me.peer->modded.load(); }, 1000ms);
	};
	timer tx(cb, &x), ty(cb, &y);
	x.other = &ty;
	x.peer = &y;
	y.other = &tx;
	y.peer = &x;
	test_lcore a(0), b(1);
	a.start_loop();
	b.start_loop();
	ASSERT_EQ(timer_mod_on(a.id(), tx, 1000000), 0);
	ASSERT_EQ(timer_mod_on(b.id(), ty, 1000000), 0);
	ASSERT_TRUE(wait_until([&] { return x.runs.load() >= 2 && y.runs.load() >= 2; }, 3000ms))
		<< "callbacks re-arming each other's running timers deadlocked or lost the re-arm";
	EXPECT_EQ(x.rc, 1);
	EXPECT_EQ(y.rc, 1);
	a.stop_loop();
	b.stop_loop();
}

TEST_F(timer_test, test_timer_del_sync_from_its_own_callback_is_refused)
{
	static int rc = 0;
	static std::atomic<bool> done{false};
	timer t([](timer &self, void *) {
		rc = timer_del_sync(self);
		done = true;
	});
	/* The self-wait is reported as such, and refused even where atomic context aborts. */
	set_sleep_check_mode(sleep_check_mode::abort);
	log_capture log;
	test_lcore lc(1);
	lc.start_loop();
	ASSERT_EQ(timer_mod_on(lc.id(), t, 1000000), 0);
	ASSERT_TRUE(wait_until([] { return done.load(); }));
	EXPECT_EQ(rc, -EDEADLK);
	EXPECT_TRUE(log.contains("timer_del_sync: called from the timer's own callback")) << log.text();
}

TEST_F(timer_test, test_timer_sleeping_lcore_wakes_for_its_next_timer)
{
	fired f;
	timer t(on_fire, &f);
	test_lcore lc(1);
	ASSERT_EQ(lcore_set_idle(lc.id(), idle_mode::sleep, 5000), 0);
	int rc = -1;
	lc.run([&] { rc = timer_mod(t, 20000000); });
	ASSERT_EQ(rc, 0);
	const uint64_t t0 = rte_rdtsc();
	lc.start_loop();
	ASSERT_TRUE(wait_until([&] { return f.count.load() == 1; }, 2000ms));
	const double ms = test::cycles_to_ns(f.at.load() - t0) / 1e6;
	printf("timer armed 20 ms ahead on a sleeping lcore (sleep cap 5 s) fired after %.1f ms\n", ms);
	EXPECT_LT(ms, 1000.0) << "the sleep was not bounded by the next timer";
	EXPECT_GT(lcore_get_stats(lc.id()).sleeps, 0u);
}

TEST_F(timer_test, test_timer_fires_on_the_lcore_while_ksoftirqd_owns_the_rest)
{
	static std::atomic<bool> storm{true};
	/* Registration needs a stopped framework. */
	ASSERT_EQ(stop(), 0);
	open(9, [](const softirq_action &) {
		if (storm.load())
			raise_softirq(9);
	});
	ASSERT_EQ(start(), 0);
	fired f;
	timer t(on_fire, &f);
	test_lcore lc(1);
	lc.start_loop();
	ASSERT_EQ(raise_softirq_on(lc.id(), 9), 0);
	ASSERT_TRUE(wait_until([&] { return ksoftirqd_get_stats(lc.id()).active; }));
	EXPECT_EQ(timer_mod_on(lc.id(), t, 0, 1000000), 0);
	EXPECT_TRUE(wait_until([&] { return f.count.load() >= 5; }));
	EXPECT_TRUE(ksoftirqd_get_stats(lc.id()).active) << "the storm ended early: the test proves nothing";
	EXPECT_FALSE(f.in_ksoftirqd.load());
	EXPECT_EQ(f.lcore.load(), lc.id());
	storm = false;
	EXPECT_GE(timer_del_sync(t), 0);
	EXPECT_FALSE(t.pending());
}

TEST_F(timer_test, test_timer_bad_input_and_atomic_context)
{
	fired f;
	timer t(on_fire, &f);
	log_capture log;
	EXPECT_EQ(timer_mod_on(100, t, 1000), -EINVAL);
	EXPECT_EQ(timer_mod_periodic(t, 0), -EINVAL);
	{
		bh_disable_guard bh;
		EXPECT_EQ(timer_del_sync(t), -EDEADLK);
	}
	EXPECT_TRUE(log.contains("timer_del_sync")) << log.text();
	ASSERT_EQ(stop(), 0);
	EXPECT_EQ(timer_mod(t, 1000), -EPERM);
	EXPECT_TRUE(log.contains("timers need bh::start()")) << log.text();
}

/*
 * Objects that outlive bh::stop() and bh::eal_cleanup(), as namespace-scope
 * ones do: never armed, armed then canceled, left armed, on a queue
 * destroyed at stop or never destroyed, a queue destroyed after cleanup, a
 * tasklet left scheduled. Their destructors and the calls after cleanup run
 * without the EAL and must do nothing (SPEC section 7).
 */
void nothing(timer &, void *) {}
void no_work(void *) {}
timer g_never(nothing), g_canceled(nothing), g_left(nothing), g_periodic(nothing);
delayed_work g_dw_never(no_work), g_dw_canceled(no_work), g_dw_events(no_work), g_dw_own(no_work), g_dw_late(no_work);
tasklet g_tasklet(no_work, nullptr, true);
workqueue *g_own, *g_late;

TEST_F(timer_test, test_timer_objects_outliving_shutdown_and_cleanup_end_quietly)
{
	EXPECT_EXIT(
		{
			g_own = create_workqueue("own");
			g_late = create_workqueue("late");
			{
				test_lcore lc(1);
				lc.start_loop();
				timer_mod_on(lc.id(), g_canceled, 1000000000);
				timer_del(g_canceled);
				timer_mod_on(lc.id(), g_left, 1000000000);
				timer_mod_on(lc.id(), g_periodic, 0, 1000000);
				run_in_loop(lc.id(), [] {
					queue_delayed_work(system_wq(), g_dw_canceled, 1000000000);
					cancel_delayed_work(g_dw_canceled);
					schedule_delayed_work(g_dw_events, 1000000000);
					queue_delayed_work(g_own, g_dw_own, 1000000000);
					queue_delayed_work(g_late, g_dw_late, 1000000000);
					tasklet_schedule(g_tasklet);
				});
				lc.stop_loop();
			}
			if (stop() != 0 || eal_cleanup() != 0)
				exit(1);
			if (g_left.pending() || timer_del(g_left) != 0 || timer_del_sync(g_periodic) != 0)
				exit(2);
			if (destroy_workqueue(g_late) != 1 || g_dw_late.pending())
				exit(3);
			if (tasklet_kill(g_tasklet) != 0 || g_tasklet.scheduled())
				exit(4);
			exit(0);
		},
		::testing::ExitedWithCode(0), "");
}

} // namespace
} // namespace bh
