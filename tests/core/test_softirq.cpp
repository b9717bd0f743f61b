/* SPDX-License-Identifier: BSD-3-Clause */
/* SPEC section 2: the softirq vector, raising, do_softirq. */
#include <atomic>
#include <thread>
#include <vector>

#include <rte_cycles.h>
#include <rte_pause.h>

#include "bh_context.h"
#include "bh_ksoftirqd.h"
#include "bh_lcore.h"
#include "bh_percpu.h"
#include "bh_softirq.h"
#include "bh_test.h"
#include "softirq_private.h"

namespace bh {
namespace {

using test::core_test;
using test::log_capture;
using test::test_lcore;
using test::wait_until;

class softirq : public core_test {};

std::vector<unsigned> order;

void record(const softirq_action &e)
{
	order.push_back(e.nr);
}

TEST_F(softirq, test_softirq_runs_in_priority_order)
{
	open(20, record);
	open(8, record);
	open(12, record);
	ASSERT_EQ(start(), 0);
	order.clear();
	raise_softirq(20);
	raise_softirq(12);
	raise_softirq(8);
	do_softirq();
	EXPECT_EQ(order, (std::vector<unsigned>{8, 12, 20}));
}

TEST_F(softirq, test_softirq_handler_receives_its_entry)
{
	static int cookie;
	static const softirq_action *seen;
	open(9, [](const softirq_action &e) { seen = &e; }, &cookie);
	ASSERT_EQ(start(), 0);
	raise_softirq(9);
	do_softirq();
	ASSERT_NE(seen, nullptr);
	EXPECT_EQ(seen->data, &cookie);
	EXPECT_EQ(seen->nr, 9u);
	EXPECT_EQ(seen, &softirq_entry(9));
}

TEST_F(softirq, test_softirq_raised_while_running_runs_in_restart_loop)
{
	/* 12 raises 8, which has already had its turn in this pass. */
	open(8, record);
	open(12, [](const softirq_action &e) {
		record(e);
		if (order.size() == 1)
			raise_softirq(8);
	});
	ASSERT_EQ(start(), 0);
	order.clear();
	raise_softirq(12);
	do_softirq();
	EXPECT_EQ(order, (std::vector<unsigned>{12, 8}));
	EXPECT_EQ(local_softirq_pending(), 0u);
}

/*
 * The lcore's own raise sets a bit in a word only its thread writes (no
 * locked operation); another thread's raise takes the shared word; one
 * dispatch runs both.
 */
TEST_F(softirq, test_softirq_own_raise_leaves_the_shared_word_alone)
{
	static unsigned runs;
	runs = 0;
	open(9, [](const softirq_action &) { runs++; });
	open(10, [](const softirq_action &) { runs++; });
	ASSERT_EQ(start(), 0);
	const unsigned me = lcore_id();
	const detail::softirq_lcore &s = detail::softirq_state[me];
	ASSERT_EQ(raise_softirq(9), 0);
	EXPECT_EQ(s.pending.load(), 0u) << "the lcore's own raise took the shared word";
	EXPECT_EQ(local_softirq_pending(), 1u << 9);
	std::thread([&] { EXPECT_EQ(raise_softirq_on(me, 10), 0); }).join();
	EXPECT_EQ(s.pending.load(), 1u << 10);
	EXPECT_EQ(local_softirq_pending(), 1u << 9 | 1u << 10);
	do_softirq();
	EXPECT_EQ(runs, 2u);
	EXPECT_EQ(local_softirq_pending(), 0u);
}

TEST_F(softirq, test_softirq_do_softirq_does_not_nest)
{
	static bool b_ran_inside_a;
	static bool a_running;
	open(8, [](const softirq_action &e) {
		record(e);
		b_ran_inside_a = a_running;
	});
	open(7, [](const softirq_action &e) {
		record(e);
		a_running = true;
		EXPECT_TRUE(in_serving_softirq());
		raise_softirq(8);
		do_softirq();
		a_running = false;
	});
	ASSERT_EQ(start(), 0);
	order.clear();
	b_ran_inside_a = false;
	raise_softirq(7);
	do_softirq();
	EXPECT_EQ(order, (std::vector<unsigned>{7, 8}));
	EXPECT_FALSE(b_ran_inside_a);
}

std::atomic<unsigned> inside{0};
std::atomic<unsigned> saw_other{0};

TEST_F(softirq, test_softirq_same_softirq_runs_at_once_on_two_lcores)
{
	open(10, [](const softirq_action &) {
		inside.fetch_add(1);
		if (wait_until([] { return inside.load() == 2; }))
			saw_other.fetch_add(1);
		/* Hold on until the other one has looked too. */
		wait_until([] { return saw_other.load() == 2; }, std::chrono::milliseconds(1000));
		inside.fetch_sub(1);
	});
	ASSERT_EQ(start(), 0);
	test_lcore a(0), b(1);
	a.start_loop();
	b.start_loop();
	ASSERT_EQ(raise_softirq_on(a.id(), 10), 0);
	ASSERT_EQ(raise_softirq_on(b.id(), 10), 0);
	EXPECT_TRUE(wait_until([] { return saw_other.load() == 2; }));
	a.stop_loop();
	b.stop_loop();
	EXPECT_EQ(softirq_get_stats(a.id(), 10).run + softirq_get_stats(b.id(), 10).run, 2u);
}

TEST_F(softirq, test_softirq_registration_after_start_refused)
{
	ASSERT_EQ(start(), 0);
	log_capture log;
	EXPECT_EQ(open_softirq(15, record), -EBUSY);
	EXPECT_EQ(alloc_softirq(record), -EBUSY);
	EXPECT_EQ(close_softirq(15), -EINVAL);
	EXPECT_TRUE(log.contains("table is frozen")) << log.text();
	EXPECT_TRUE(softirq_table_frozen());
	EXPECT_EQ(stop(), 0);
	EXPECT_FALSE(softirq_table_frozen());
	open(15, record);
}

TEST_F(softirq, test_softirq_33rd_entry_refused)
{
	for (unsigned nr = 0; nr < NR_SOFTIRQS; nr++)
		open(nr, record);
	log_capture log;
	EXPECT_EQ(alloc_softirq(record, nullptr, "extra", 0, NR_SOFTIRQS), -ENOSPC);
	EXPECT_EQ(alloc_softirq(record), -ENOSPC);
	EXPECT_EQ(open_softirq(NR_SOFTIRQS, record), -EINVAL);
	EXPECT_TRUE(log.contains("no free entry")) << log.text();
	EXPECT_TRUE(log.contains("table has 32 entries")) << log.text();
}

TEST_F(softirq, test_softirq_alloc_places_entry_between_block_and_tasklet)
{
	const int nr = alloc_softirq(record, nullptr, "app");
	ASSERT_GE(nr, 0);
	opened_.push_back(unsigned(nr));
	EXPECT_GT(nr, int(BLOCK_SOFTIRQ));
	EXPECT_LT(nr, int(TASKLET_SOFTIRQ));
	EXPECT_STREQ(softirq_entry(unsigned(nr)).name, "app");
	EXPECT_EQ(open_softirq(unsigned(nr), record), -EEXIST);
}

TEST_F(softirq, test_softirq_bad_input_is_refused)
{
	open(11, record);
	ASSERT_EQ(start(), 0);
	log_capture log;
	EXPECT_EQ(raise_softirq(13), -EINVAL);
	EXPECT_EQ(raise_softirq_irqoff(13), -EINVAL);
	EXPECT_EQ(raise_softirq(NR_SOFTIRQS + 5), -EINVAL);
	EXPECT_TRUE(log.contains("softirq 13 is not registered")) << log.text();
	EXPECT_EQ(raise_softirq_on(100, 11), -EINVAL);
	EXPECT_TRUE(log.contains("lcore 100 is not an enabled lcore")) << log.text();
	int from_thread = 0;
	std::thread([&] { from_thread = raise_softirq(11); }).join();
	EXPECT_EQ(from_thread, -ENODEV);
	EXPECT_TRUE(log.contains("not an lcore")) << log.text();
	EXPECT_EQ(open_softirq(3, nullptr), -EINVAL);
	EXPECT_EQ(local_softirq_pending(), 0u);
}

std::atomic<uint64_t> acked{0};

TEST_F(softirq, test_softirq_concurrent_raise_is_never_lost)
{
	/*
	 * The lcore hammers its own pending mask with raise_softirq(20) while
	 * another thread raises 21 on it and waits for each to run. With a
	 * plain read-modify-write of the mask a remote raise would be lost and
	 * the wait below would time out.
	 */
	open(20, [](const softirq_action &) {});
	open(21, [](const softirq_action &) { acked.fetch_add(1, std::memory_order_release); });
	ASSERT_EQ(start(), 0);
	test_lcore lc(1);
	std::atomic<bool> done{false};
	acked = 0;
	lc.run([&] {}); /* make sure the thread is ready */
	std::thread hammer;
	uint64_t lost = 0;
#if defined(__SANITIZE_THREAD__)
	const uint64_t n = 20000;
#else
	const uint64_t n = 200000;
#endif
	hammer = std::thread([&] {
		for (uint64_t i = 1; i <= n; i++) {
			raise_softirq_on(lc.id(), 21);
			const uint64_t deadline = rte_get_timer_cycles() + 2 * rte_get_timer_hz();
			while (acked.load(std::memory_order_acquire) < i && rte_get_timer_cycles() < deadline)
				rte_pause();
			if (acked.load() < i) {
				lost++;
				break;
			}
		}
		done = true;
	});
	lc.run([&] {
		while (!done.load()) {
			raise_softirq(20);
			raise_softirq(20);
			do_softirq();
		}
	});
	hammer.join();
	EXPECT_EQ(lost, 0u);
	EXPECT_EQ(acked.load(), n);
	EXPECT_EQ(softirq_get_stats(lc.id(), 21).raised, n);
}

TEST_F(softirq, test_softirq_counters_per_lcore_and_entry)
{
	open(14, [](const softirq_action &) { test::spin_ns(20000); }, nullptr);
	ASSERT_EQ(start(), 0);
	const unsigned me = lcore_id();
	const softirq_stats before = softirq_get_stats(me, 14);
	for (int i = 0; i < 64; i++) {
		raise_softirq(14);
		raise_softirq_irqoff(14);
		do_softirq();
	}
	const softirq_stats after = softirq_get_stats(me, 14);
	EXPECT_EQ(after.raised - before.raised, 128u);
	EXPECT_EQ(after.run - before.run, 64u);
	/* One run in 64 is timed and counts for 64: the sum is 64 runs' worth, not one run's (nor 64 x 64). */
	EXPECT_GE(after.ns - before.ns, 64u * 20000u);
	EXPECT_LT(after.ns - before.ns, 64u * 20000u * 3) << "timed runs counted for more than they stand for";
	char *buf = nullptr;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	softirq_dump(f);
	fclose(f);
	EXPECT_NE(std::string(buf, len).find("LCORE"), std::string::npos);
	free(buf);
}

/*
 * A handler that returns with bottom halves still disabled would stop every
 * softirq of its lcore for good (do_softirq finds the word non-zero). The
 * runner reports it, counts it and restores the word, as Linux's
 * handle_softirqs does; the next softirq runs.
 */
TEST_F(softirq, test_softirq_handler_leaving_bh_disabled_is_reported_and_repaired)
{
	static std::atomic<int> leaky_runs{0}, next_runs{0};
	open(14, [](const softirq_action &) {
		leaky_runs++;
		local_bh_disable();
	});
	open(15, [](const softirq_action &) { next_runs++; });
	ASSERT_EQ(start(), 0);
	const unsigned me = lcore_id();
	const uint64_t leaks = softirq_get_stats(me, 0).context_leaks;
	log_capture log;
	raise_softirq(14);
	do_softirq();
	EXPECT_EQ(leaky_runs.load(), 1);
	EXPECT_EQ(preempt_count(), 0u) << "the handler's disable leaked out of the softirq";
	EXPECT_EQ(softirq_get_stats(me, 0).context_leaks, leaks + 1);
	EXPECT_TRUE(log.contains("returned with preempt_count 0x300, entered with 0x100 (bottom halves left disabled)"))
		<< log.text();
	raise_softirq(15);
	do_softirq();
	EXPECT_EQ(next_runs.load(), 1) << "softirqs stopped on this lcore";
}

} // namespace
} // namespace bh
