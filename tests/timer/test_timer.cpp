/* SPDX-License-Identifier: BSD-3-Clause */
/* SPEC section 7: per-lcore timers expired by the TIMER softirq. */
#include <atomic>
#include <chrono>
#include <thread>

#include <rte_cycles.h>

#include "bh_context.h"
#include "bh_ksoftirqd.h"
#include "bh_lcore.h"
#include "bh_percpu.h"
#include "bh_softirq.h"
#include "bh_timer.h"
#include "bh_test.h"

namespace bh {
namespace {

using namespace std::chrono_literals;
using test::core_test;
using test::log_capture;
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
	int rc = -1;
	b.run([&] { rc = timer_mod(t, 1000000); });
	EXPECT_EQ(rc, 0);
	a.start_loop();
	b.start_loop();
	ASSERT_TRUE(wait_until([&] { return f.count.load() == 1; }));
	EXPECT_EQ(f.lcore.load(), b.id());
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
	EXPECT_EQ(timer_del(t), -EBUSY) << "its callback runs on another lcore";
	EXPECT_EQ(timer_del_sync(t), 0);
	EXPECT_TRUE(finished.load()) << "timer_del_sync returned while the callback ran";
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
	int rc = 0;
	std::thread([&] { rc = timer_mod(t, 1000); }).join();
	EXPECT_EQ(rc, -ENODEV);
	EXPECT_EQ(timer_mod_on(100, t, 1000), -EINVAL);
	{
		bh_disable_guard bh;
		EXPECT_EQ(timer_del_sync(t), -EDEADLK);
	}
	EXPECT_TRUE(log.contains("timer_del_sync")) << log.text();
	ASSERT_EQ(stop(), 0);
	EXPECT_EQ(timer_mod(t, 1000), -EPERM);
	EXPECT_TRUE(log.contains("timers need bh::start()")) << log.text();
}

} // namespace
} // namespace bh
