/* SPDX-License-Identifier: BSD-3-Clause */
/* SPEC section 3: the context word, local_bh_disable/enable, sleeping checks. */
#include <atomic>

#include "bh_context.h"
#include "bh_ksoftirqd.h"
#include "bh_lcore.h"
#include "bh_softirq.h"
#include "bh_test.h"

namespace bh {
namespace {

using test::core_test;
using test::log_capture;
using test::test_lcore;
using test::wait_until;

class context : public core_test {};

int runs;
void count_run(const softirq_action &) { runs++; }

TEST_F(context, test_context_queries_in_each_context)
{
	static bool seen_serving, seen_softirq, seen_interrupt, seen_task;
	open(9, [](const softirq_action &) {
		seen_serving = in_serving_softirq();
		seen_softirq = in_softirq();
		seen_interrupt = in_interrupt();
		seen_task = in_task();
	});
	ASSERT_EQ(start(), 0);
	EXPECT_TRUE(in_task());
	EXPECT_FALSE(in_interrupt());
	{
		hardirq_scope top_half;
		EXPECT_TRUE(in_irq());
		EXPECT_TRUE(in_hardirq());
		EXPECT_TRUE(in_interrupt());
		EXPECT_FALSE(in_task());
		raise_softirq(9);
	}
	EXPECT_TRUE(seen_serving);
	EXPECT_TRUE(seen_softirq);
	EXPECT_TRUE(seen_interrupt);
	EXPECT_FALSE(seen_task);
	{
		bh_disable_guard bh;
		EXPECT_TRUE(in_softirq());
		EXPECT_FALSE(in_serving_softirq());
		EXPECT_TRUE(in_interrupt());
		EXPECT_TRUE(in_task());
	}
	EXPECT_EQ(preempt_count(), 0u);
}

TEST_F(context, test_context_irq_exit_runs_pending_softirqs)
{
	open(9, count_run);
	ASSERT_EQ(start(), 0);
	runs = 0;
	irq_enter();
	irq_enter();
	raise_softirq(9);
	irq_exit();
	EXPECT_EQ(runs, 0) << "a nested top half must not run softirqs";
	irq_exit();
	EXPECT_EQ(runs, 1);
}

TEST_F(context, test_context_bh_disable_nests_and_only_final_enable_runs)
{
	open(9, count_run);
	ASSERT_EQ(start(), 0);
	runs = 0;
	for (int i = 0; i < 4; i++)
		local_bh_disable();
	raise_softirq(9);
	do_softirq();
	{
		hardirq_scope top_half;
	}
	for (int i = 0; i < 3; i++) {
		local_bh_enable();
		EXPECT_EQ(runs, 0) << "enable " << i + 1 << " of 4 ran softirqs";
		EXPECT_TRUE(in_softirq());
	}
	local_bh_enable();
	EXPECT_EQ(runs, 1) << "the final enable must run pending softirqs";
	EXPECT_FALSE(in_softirq());
}

TEST_F(context, test_context_enable_inside_top_half_leaves_it_to_irq_exit)
{
	open(9, count_run);
	ASSERT_EQ(start(), 0);
	runs = 0;
	irq_enter();
	local_bh_disable();
	raise_softirq(9);
	local_bh_enable();
	EXPECT_EQ(runs, 0);
	irq_exit();
	EXPECT_EQ(runs, 1);
}

TEST_F(context, test_context_unbalanced_enable_is_reported)
{
	log_capture log;
	local_bh_enable();
	EXPECT_EQ(preempt_count(), 0u);
	EXPECT_TRUE(log.contains("unbalanced")) << log.text();
}

TEST_F(context, test_context_might_sleep_reports_atomic_callers)
{
	static int in_handler;
	open(9, [](const softirq_action &) { in_handler = might_sleep("flush_work"); });
	ASSERT_EQ(start(), 0);
	set_sleep_check_mode(sleep_check_mode::error);
	EXPECT_EQ(might_sleep("flush_work"), 0);

	log_capture log;
	raise_softirq(9);
	do_softirq();
	EXPECT_EQ(in_handler, -EDEADLK);
	EXPECT_TRUE(log.contains("sleeping function called from invalid context: flush_work")) << log.text();
	{
		bh_disable_guard bh;
		EXPECT_EQ(might_sleep("tasklet_kill"), -EDEADLK);
	}
	{
		hardirq_scope top_half;
		EXPECT_EQ(might_sleep("cancel_work_sync"), -EDEADLK);
	}
	EXPECT_TRUE(log.contains("tasklet_kill")) << log.text();
	EXPECT_TRUE(log.contains("in_hardirq 1")) << log.text();
	EXPECT_EQ(might_sleep("flush_work"), 0);
}

TEST(context_death, test_context_might_sleep_aborts_in_abort_mode)
{
	EXPECT_DEATH(
		{
			set_sleep_check_mode(sleep_check_mode::abort);
			bh_disable_guard bh;
			might_sleep("flush_workqueue");
		},
		"sleeping function called from invalid context: flush_workqueue");
}

std::atomic<int> storm_inside{0};
std::atomic<bool> storm_on{false};
std::atomic<uint64_t> storm_runs{0};

TEST_F(context, test_context_bh_disable_excludes_ksoftirqd)
{
	/*
	 * A storm hands the lcore's softirqs to ksoftirqd. While the lcore has
	 * bottom halves disabled, no softirq of that lcore may run anywhere.
	 */
	open(9, [](const softirq_action &) {
		storm_runs.fetch_add(1);
		if (storm_on.load())
			raise_softirq(9);
	});
	ASSERT_EQ(start(), 0);
	test_lcore lc(1);
	storm_on = true;
	lc.run([] {
		raise_softirq(9);
		do_softirq();
	});
	ASSERT_TRUE(ksoftirqd_get_stats(lc.id()).active);
	uint64_t during = 0, after = 0;
	lc.run([&] {
		local_bh_disable();
		const uint64_t start = storm_runs.load();
		std::this_thread::sleep_for(std::chrono::milliseconds(30));
		during = storm_runs.load() - start;
		local_bh_enable();
		const uint64_t resumed = storm_runs.load();
		wait_until([&] { return storm_runs.load() > resumed + 100; });
		after = storm_runs.load() - resumed;
	});
	storm_on = false;
	EXPECT_TRUE(wait_until([&] { return !ksoftirqd_get_stats(lc.id()).active; }));
	EXPECT_EQ(during, 0u) << "softirqs ran while the lcore had bottom halves disabled";
	EXPECT_GT(after, 100u) << "ksoftirqd did not resume after local_bh_enable";
}

} // namespace
} // namespace bh
