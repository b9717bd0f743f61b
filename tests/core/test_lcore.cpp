/* SPDX-License-Identifier: BSD-3-Clause */
/* The lcore loop, the framework's lifecycle and EAL bring-up/attach. */
#include <algorithm>
#include <array>
#include <atomic>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "bh_context.h"
#include "bh_eal.h"
#include "bh_ksoftirqd.h"
#include "bh_lcore.h"
#include "bh_percpu.h"
#include "bh_softirq.h"
#include "bh_test.h"

namespace bh {
namespace {

using test::core_test;
using test::log_capture;
using test::test_lcore;
using test::wait_until;

class lcore : public core_test {
protected:
	/* bh::start(), then @p lc on CPU 1 with @p fn its only task, sleeping when idle, its loop running. */
	void start_sleeping(std::optional<test_lcore> &lc, pollfn &fn)
	{
		ASSERT_EQ(start(), 0);
		lc.emplace(1);
		ASSERT_EQ(lcore_add_task(lc->id(), fn), 0);
		ASSERT_EQ(lcore_set_idle(lc->id(), idle_mode::sleep, 10000), 0);
		lc->start_loop();
	}
};

std::string trace;

class tracer : public pollfn {
public:
	tracer(char tag, unsigned raise = NR_SOFTIRQS) : tag_(tag), raise_(raise) {}
	bool poll() override
	{
		trace += tag_;
		if (raise_ < NR_SOFTIRQS)
			raise_softirq(raise_);
		return false;
	}

private:
	char tag_;
	unsigned raise_;
};

TEST_F(lcore, test_lcore_iteration_runs_top_halves_then_softirqs_then_tasks)
{
	open(9, [](const softirq_action &) {
		EXPECT_FALSE(in_hardirq()) << "softirqs run after the top half ends";
		trace += 'S';
	});
	ASSERT_EQ(start(), 0);
	test_lcore lc;
	tracer top('T', 9), task('A');
	ASSERT_EQ(lcore_add_top_half(lc.id(), top), 0);
	ASSERT_EQ(lcore_add_task(lc.id(), task), 0);
	trace.clear();
	bool work = false;
	lc.run([&] { work = lcore_poll_once(); });
	EXPECT_EQ(trace, "TSA");
	EXPECT_TRUE(work) << "a softirq ran, so the iteration did work";
}

TEST_F(lcore, test_lcore_poll_once_serves_an_embedding_application)
{
	/* The main thread is EAL lcore 0 and never called lcore_attach(). */
	static int ran;
	open(9, [](const softirq_action &) { ran++; });
	ASSERT_EQ(start(), 0);
	ran = 0;
	ASSERT_EQ(raise_softirq(9), 0);
	EXPECT_TRUE(lcore_poll_once());
	EXPECT_EQ(ran, 1);
	EXPECT_FALSE(lcore_poll_once());
}

TEST_F(lcore, test_lcore_run_refused_before_start)
{
	log_capture log;
	EXPECT_EQ(lcore_run(), -EPERM);
	EXPECT_TRUE(log.contains("bh::start() has not run")) << log.text();
}

TEST_F(lcore, test_lcore_bad_arguments_are_refused)
{
	ASSERT_EQ(start(), 0);
	tracer t('x');
	log_capture log;
	EXPECT_EQ(lcore_add_task(max_lcores, t), -EINVAL);
	EXPECT_EQ(lcore_set_idle(0, idle_mode::sleep, 0), -EINVAL);
	EXPECT_EQ(start(), -EALREADY);
	int rc = 0;
	std::thread([&] { rc = lcore_attach(); }).join();
	EXPECT_EQ(rc, -ENODEV);
	EXPECT_TRUE(log.contains("not a DPDK lcore")) << log.text();

	test_lcore lc;
	lc.start_loop();
	EXPECT_EQ(lcore_add_task(lc.id(), t), -EBUSY);
	lc.stop_loop();
	EXPECT_EQ(lcore_add_task(lc.id(), t), 0);
	EXPECT_EQ(lcore_clear(lc.id()), 0);
}

TEST_F(lcore, test_lcore_stop_returns_every_loop)
{
	static std::atomic<int> ran{0};
	open(9, [](const softirq_action &) { ran++; });
	ASSERT_EQ(start(), 0);
	test_lcore a(0), b(1);
	a.start_loop();
	b.start_loop();
	EXPECT_EQ(stop(), 0);
	EXPECT_FALSE(started());
	EXPECT_EQ(stop(), -EALREADY);
	/* Both loops have returned: the framework can start again and run them. */
	ASSERT_EQ(start(), 0);
	a.start_loop();
	ASSERT_EQ(raise_softirq_on(a.id(), 9), 0);
	EXPECT_TRUE(wait_until([] { return ran.load() == 1; }));
}

TEST_F(lcore, test_lcore_sleeping_lcore_is_woken_once_not_per_raise)
{
	static std::atomic<uint64_t> ran{0};
	open(9, [](const softirq_action &) { ran++; });
	ASSERT_EQ(start(), 0);
	test_lcore lc(1);
	ASSERT_EQ(lcore_set_idle(lc.id(), idle_mode::sleep, 1000), 0);
	lc.start_loop();
	ASSERT_TRUE(wait_until([&] { return lcore_get_stats(lc.id()).sleeps > 0; }));
	const lcore_stats before = lcore_get_stats(lc.id());
	for (int i = 0; i < 10000; i++)
		ASSERT_EQ(raise_softirq_on(lc.id(), 9), 0);
	EXPECT_TRUE(wait_until([] { return ran.load() > 0; }));
	lc.stop_loop();
	const lcore_stats after = lcore_get_stats(lc.id());
	/*
	 * The lcore wakes, runs what is pending and sleeps again many times
	 * during the burst; each sleep costs at most one eventfd write, however
	 * many raises arrive during it.
	 */
	const uint64_t writes = after.wakeups - before.wakeups;
	printf("10000 remote raises: %" PRIu64 " eventfd writes, %" PRIu64 " sleeps\n", writes,
	       after.sleeps - before.sleeps);
	EXPECT_GE(writes, 1u);
	EXPECT_LE(writes, after.sleeps - before.sleeps + 1) << "more eventfd writes than sleeps";
}

TEST_F(lcore, test_lcore_yields_while_ksoftirqd_owns_its_softirqs)
{
	static std::atomic<bool> storm{true};
	open(9, [](const softirq_action &) {
		if (storm.load())
			raise_softirq(9);
	});
	ASSERT_EQ(start(), 0);
	test_lcore lc(1);
	lc.start_loop();
	const uint64_t yields = lcore_get_stats(lc.id()).yields;
	storm = true;
	ASSERT_EQ(raise_softirq_on(lc.id(), 9), 0);
	EXPECT_TRUE(wait_until([&] { return lcore_get_stats(lc.id()).yields > yields + 10; }));
	storm = false;
	EXPECT_TRUE(wait_until([&] { return !ksoftirqd_get_stats(lc.id()).active; }));
	lc.stop_loop();
}

TEST_F(lcore, test_lcore_counts_busy_and_idle_cycles)
{
	ASSERT_EQ(start(), 0);
	test_lcore lc(1);
	lc.start_loop();
	std::this_thread::sleep_for(std::chrono::milliseconds(50));
	lc.stop_loop();
	const lcore_stats st = lcore_get_stats(lc.id());
	EXPECT_GT(st.iterations, 1000u);
	EXPECT_GT(st.idle_cycles, st.busy_cycles) << "an lcore with nothing to do is idle";
}

struct irq_probe {
	int fd = -1;
	std::atomic<int> calls{0};
	std::atomic<bool> in_hardirq{false};
};

void on_irq(void *p)
{
	auto *probe = static_cast<irq_probe *>(p);
	probe->in_hardirq = bh::in_hardirq();
	uint64_t v;
	(void)!read(probe->fd, &v, sizeof(v));
	probe->calls.fetch_add(1);
}

TEST_F(lcore, test_lcore_irq_fd_wakes_a_sleeping_lcore_only_when_enabled)
{
	ASSERT_EQ(start(), 0);
	test_lcore lc(1);
	irq_probe probe;
	probe.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_GE(probe.fd, 0);
	int rc = -1;
	lc.run([&] { rc = lcore_request_irq(probe.fd, on_irq, &probe); });
	ASSERT_EQ(rc, 0);
	ASSERT_EQ(lcore_set_idle(lc.id(), idle_mode::sleep, 10000), 0);
	lc.start_loop();
	const uint64_t one = 1;
	ASSERT_EQ(write(probe.fd, &one, sizeof(one)), ssize_t(sizeof(one)));
	std::this_thread::sleep_for(std::chrono::milliseconds(30));
	EXPECT_EQ(probe.calls.load(), 0) << "a disabled irq fd ran its handler";
	lc.stop_loop();
	lc.run([&] { rc = lcore_enable_irq(probe.fd); });
	ASSERT_EQ(rc, 0);
	const uint64_t irqs = lcore_get_stats(lc.id()).irqs;
	lc.start_loop();
	EXPECT_TRUE(wait_until([&] { return probe.calls.load() == 1; })) << "the enabled fd did not wake the lcore";
	EXPECT_TRUE(probe.in_hardirq.load()) << "an irq handler is a top half";
	EXPECT_EQ(lcore_get_stats(lc.id()).irqs, irqs + 1);
	lc.stop_loop();
	EXPECT_EQ(lcore_free_irq(lc.id(), probe.fd), 0);
	EXPECT_EQ(lcore_free_irq(lc.id(), probe.fd), -ENOENT);
	std::thread([&] { rc = lcore_enable_irq(probe.fd); }).join();
	EXPECT_EQ(rc, -ENODEV) << "not from a thread that is not an lcore";
	close(probe.fd);
}

TEST_F(lcore, test_lcore_sleep_is_bounded_by_a_pollfn_limit)
{
	class backoff : public pollfn {
	public:
		bool poll() override { return false; }
		uint64_t sleep_limit_ns() override { return 2000000; }
	} fn;
	std::optional<test_lcore> lc;
	ASSERT_NO_FATAL_FAILURE(start_sleeping(lc, fn));
	const uint64_t s0 = lcore_get_stats(lc->id()).sleeps;
	std::this_thread::sleep_for(std::chrono::milliseconds(100));
	const uint64_t sleeps = lcore_get_stats(lc->id()).sleeps - s0;
	lc->stop_loop();
	/* About 50; a wake-up may wait for the CPU under load, an ignored limit gives 0 or 1. */
	EXPECT_GE(sleeps, 5u) << "2 ms sleeps over 100 ms";
	EXPECT_LE(sleeps, 100u) << "the lcore did not sleep the 2 ms";
}

/*
 * A short sleep lasts about as asked: the loop takes the minimum timer slack,
 * not the 50 us default that stretches a 20 us sleep to 70 us. Read on the
 * lcore's own thread when it goes to sleep, so the check holds however busy
 * the machine is.
 */
TEST_F(lcore, test_lcore_sleep_is_as_short_as_asked)
{
	class short_sleeps : public pollfn {
	public:
		bool poll() override { return false; }
		uint64_t sleep_limit_ns() override { return 20000; }
		bool try_enter_interrupt_mode() override
		{
			slack_ns.store(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), std::memory_order_relaxed);
			return true;
		}
		void exit_interrupt_mode() override { sleeps.fetch_add(1, std::memory_order_release); }
		std::atomic<long> slack_ns{-1};
		std::atomic<unsigned> sleeps{0};
	} fn;
	std::optional<test_lcore> lc;
	ASSERT_NO_FATAL_FAILURE(start_sleeping(lc, fn));
	ASSERT_TRUE(wait_until([&] { return fn.sleeps.load(std::memory_order_acquire) >= 10; }));
	lc->stop_loop();
	EXPECT_EQ(fn.slack_ns.load(), 1) << "the lcore sleeps with the default timer slack";
}

/*
 * With app tasks, top halves and softirqs take at most their share of the
 * lcore's time (receive livelock avoided): an always-busy top half and a
 * 1 us app task split the time as set.
 */
TEST_F(lcore, test_lcore_bh_share_keeps_the_app_tasks_share)
{
	class busy_top : public pollfn {
	public:
		bool poll() override
		{
			test::spin_ns(10000);
			return true;
		}
	} top;
	class app : public pollfn {
	public:
		bool poll() override
		{
			test::spin_ns(1000);
			runs.fetch_add(1, std::memory_order_relaxed);
			return true;
		}
		std::atomic<uint64_t> runs{0};
	} task;
	ASSERT_EQ(start(), 0);
	test_lcore lc(1);
	ASSERT_EQ(lcore_add_top_half(lc.id(), top), 0);
	ASSERT_EQ(lcore_add_task(lc.id(), task), 0);
	EXPECT_EQ(lcore_set_bh_share(lc.id(), 0), -EINVAL);
	EXPECT_EQ(lcore_set_bh_share(lc.id(), 101), -EINVAL);
	/*
	 * The app's share of the time the two sides took: 1 us a run, 10 us an
	 * iteration that ran the top half. Counted, not clocked, so that time
	 * the lcore's thread spent preempted does not count.
	 */
	auto app_share = [&](unsigned percent) {
		EXPECT_EQ(lcore_set_bh_share(lc.id(), percent), 0);
		lc.start_loop();
		const lcore_stats a = lcore_get_stats(lc.id());
		const uint64_t r0 = task.runs.load();
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
		const lcore_stats b = lcore_get_stats(lc.id());
		const uint64_t runs = task.runs.load() - r0;
		lc.stop_loop();
		const uint64_t held = b.bh_held - a.bh_held;
		const double bh_us = double(b.iterations - a.iterations - held) * 10, app_us = double(runs);
		return std::pair{app_us / (app_us + bh_us), held};
	};
	const auto [capped, held] = app_share(50);
	const auto [uncapped, held_none] = app_share(100);
	printf("app task's share of the lcore: %.0f%% with the bottom halves capped at 50%%, %.0f%% uncapped\n",
	       100 * capped, 100 * uncapped);
	EXPECT_GT(capped, 0.35) << "the bottom halves took more than their share";
	EXPECT_GT(held, 0u);
	EXPECT_LT(uncapped, 0.2) << "a 10 us top half per 1 us task, uncapped";
	EXPECT_EQ(held_none, 0u);
}

/*
 * A PMD's Rx signal (net_tap's SIGIO or real-time trigger, one per frame) is
 * taken by no thread of the framework, not even the lcore that sleeps on
 * the queue's fd: the framework's own threads, and the EAL's, block them.
 */
TEST_F(lcore, test_lcore_no_thread_takes_io_signals_not_even_an_irq_owner)
{
	ASSERT_EQ(start(), 0);
	test_lcore lc(1);
	auto blocked = [](pid_t tid) {
		std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/status");
		for (std::string line; std::getline(f, line);)
			if (line.rfind("SigBlk:", 0) == 0) {
				const uint64_t mask = std::stoull(line.substr(7), nullptr, 16);
				const bool io = mask >> (SIGIO - 1) & 1, rt = mask >> (SIGRTMIN - 1) & 1;
				return io && rt;
			}
		return false;
	};
	for (const std::string &name : {"ksoftirqd/" + std::to_string(lc.id()), "events/" + std::to_string(lc.id())}) {
		const pid_t tid = test::find_thread(name);
		ASSERT_NE(tid, 0) << name;
		EXPECT_TRUE(blocked(tid)) << name << " takes the PMDs' Rx signals";
	}
	EXPECT_TRUE(blocked(lc.tid())) << "an lcore without irqs takes the PMDs' Rx signals";
	const int fd = eventfd(0, EFD_NONBLOCK);
	lc.run([&] { EXPECT_EQ(lcore_request_irq(fd, [](void *) {}, nullptr), 0); });
	EXPECT_TRUE(blocked(lc.tid())) << "the irq's lcore takes them: a signal per frame";
	EXPECT_EQ(lcore_free_irq(lc.id(), fd), 0);
	close(fd);
}

TEST(eal, test_eal_bring_up_is_unique_per_process_and_attachable)
{
	EXPECT_TRUE(eal_initialised());
	EXPECT_EQ(eal_file_prefix(), "bh-" + std::to_string(getpid()));
	log_capture log;
	EXPECT_EQ(eal_init(eal_options{}), -EALREADY);
	EXPECT_TRUE(log.contains("already initialised")) << log.text();
	EXPECT_EQ(eal_attach(), 0);
}

} // namespace
} // namespace bh
