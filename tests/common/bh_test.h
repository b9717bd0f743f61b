/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Shared test support: the EAL comes up once per test binary (test_main),
 * lcores are std::threads registered with rte_thread_register so that
 * ThreadSanitizer sees every hand-off, and a watchdog ends a hung test.
 */

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "bh_lcore.h"
#include "bh_softirq.h"

namespace bh::test {

/* A DPDK lcore on its own thread, optionally pinned to one CPU. */
class test_lcore {
public:
	explicit test_lcore(int cpu = -1);
	~test_lcore();
	test_lcore(const test_lcore &) = delete;
	test_lcore &operator=(const test_lcore &) = delete;

	unsigned id() const { return id_; }
	pid_t tid() const { return tid_; }

	/* Runs @p fn on the lcore thread and waits for it. */
	void run(std::function<void()> fn);
	/* Runs bh::lcore_run() on the lcore thread until stop_loop(). */
	void start_loop();
	void stop_loop();

private:
	void main(int cpu);
	std::mutex m_;
	std::condition_variable cv_;
	std::function<void()> job_;
	bool job_done_ = false, quit_ = false, looping_ = false;
	unsigned id_ = 0;
	pid_t tid_ = 0;
	std::thread thread_;
};

/* Captures rte_log output while alive. */
class log_capture {
public:
	log_capture();
	~log_capture();
	std::string text();
	bool contains(const std::string &s) { return text().find(s) != std::string::npos; }

private:
	char *buf_ = nullptr;
	size_t len_ = 0;
	FILE *f_ = nullptr;
};

/* Polls @p pred every 100 us until true or @p timeout; returns its last value. */
bool wait_until(const std::function<bool()> &pred,
		std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

/*
 * Runs @p fn once inside @p lcore's running loop (a tasklet there, so in
 * softirq context, the way top halves and softirqs call the API), and
 * waits for it.
 */
void run_in_loop(unsigned lcore, std::function<void()> fn);

/* Busy-waits for @p ns nanoseconds of TSC time. */
void spin_ns(uint64_t ns);

/* Nanoseconds per TSC cycle conversion. */
double cycles_to_ns(uint64_t cycles);

/* CPU time (user+sys) of thread @p tid in nanoseconds, from /proc. */
uint64_t thread_cpu_ns(pid_t tid);

/*
 * Where thread @p tid of this process has spent its time, in nanoseconds,
 * from /proc/self/task/<tid>/schedstat: exact, where thread_cpu_ns()
 * counts clock ticks.
 */
struct sched_time {
	uint64_t run_ns = 0;  /* on a CPU (the file's first field) */
	uint64_t wait_ns = 0; /* runnable, waiting for a CPU (the second) */
};
sched_time thread_sched_time(pid_t tid);

/*
 * How often thread @p tid of this process has given up its CPU to wait
 * (/proc/self/task/<tid>/status voluntary_ctxt_switches: a sleep, a lock,
 * I/O), and of those waits how many were for a page read from disk
 * (/proc/self/task/<tid>/stat majflt). Counts, where sched_time's
 * wall-clock arithmetic also sees the hypervisor's steal and the
 * scheduler's tick-granular run time.
 */
struct wait_counts {
	uint64_t voluntary_switches = 0;
	uint64_t major_faults = 0;
};
wait_counts thread_wait_counts(pid_t tid);

/* What threads got over a window of wall-clock time: summed sched_time and wait_counts, and the window. */
struct run_window {
	uint64_t run_ns = 0, wait_ns = 0, wall_ns = 0;
	wait_counts waits;
};

/*
 * Sleeps until threads @p tids together have run @p run_ns on a CPU, or
 * for @p limit at most. For rates per unit of run time, which do not
 * depend on how much of a CPU a busy machine leaves the threads, as rates
 * per unit of wall-clock time do.
 */
run_window run_for(const std::vector<pid_t> &tids, uint64_t run_ns, std::chrono::milliseconds limit);

/*
 * Runs shell command @p cmd (quietly) if the test binary dies before its
 * fixtures tear down: an abort, the watchdog, a sanitizer report. For
 * what a test made outside the process (network namespaces, interfaces);
 * the command must be harmless when there is nothing left to remove.
 */
void cleanup_if_killed(const std::string &cmd);

/* Thread id of the first thread of this process named @p comm, or 0. */
pid_t find_thread(const std::string &comm);

/*
 * Base fixture: remembers softirqs a test registers and undoes everything
 * (framework stopped, entries closed, configs reset) after the test.
 */
class core_test : public ::testing::Test {
protected:
	void TearDown() override;
	/* open_softirq that expects success and is undone at TearDown. */
	void open(unsigned nr, softirq_handler h, void *data = nullptr);
	std::vector<unsigned> opened_;
};

/* core_test with the framework started before each test. */
class started_test : public core_test {
protected:
	void SetUp() override { ASSERT_EQ(start(), 0); }
};

} // namespace bh::test
