/* SPDX-License-Identifier: BSD-3-Clause */
#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <climits>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <mutex>
#include <pthread.h>
#include <sstream>
#include <unistd.h>
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#include <sanitizer/common_interface_defs.h>
#endif

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "bh_context.h"
#include "bh_eal.h"
#include "bh_ksoftirqd.h"
#include "bh_lcore.h"
#include "bh_tasklet.h"
#include "bh_test.h"

namespace bh::test {

test_lcore::test_lcore(int cpu)
{
	std::unique_lock lock(m_);
	thread_ = std::thread([this, cpu] { main(cpu); });
	cv_.wait(lock, [this] { return job_done_; });
	job_done_ = false;
}

test_lcore::~test_lcore()
{
	stop_loop();
	{
		std::lock_guard lock(m_);
		quit_ = true;
	}
	cv_.notify_all();
	thread_.join();
}

void test_lcore::main(int cpu)
{
	if (cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	EXPECT_EQ(rte_thread_register(), 0);
	EXPECT_EQ(bh::lcore_attach(), 0);
	std::unique_lock lock(m_);
	id_ = rte_lcore_id();
	tid_ = gettid();
	job_done_ = true;
	cv_.notify_all();
	for (;;) {
		cv_.wait(lock, [this] { return quit_ || job_; });
		if (quit_)
			break;
		auto job = std::move(job_);
		job_ = nullptr;
		lock.unlock();
		job();
		lock.lock();
		job_done_ = true;
		cv_.notify_all();
	}
	lock.unlock();
	/* lcore ids are reused by later tests: leave the loop as a new lcore has it. */
	bh::lcore_clear(id_);
	bh::lcore_set_idle(id_, bh::idle_mode::poll);
	bh::lcore_detach();
	rte_thread_unregister();
}

void test_lcore::run(std::function<void()> fn)
{
	std::unique_lock lock(m_);
	if (looping_) {
		ADD_FAILURE() << "test_lcore::run while the loop runs: stop_loop() first";
		return;
	}
	job_ = std::move(fn);
	job_done_ = false;
	cv_.notify_all();
	cv_.wait(lock, [this] { return job_done_; });
}

void test_lcore::start_loop()
{
	const uint64_t before = bh::lcore_get_stats(id_).iterations;
	std::unique_lock lock(m_);
	looping_ = true;
	job_done_ = false;
	job_ = [] { EXPECT_EQ(bh::lcore_run(), 0); };
	cv_.notify_all();
	lock.unlock();
	EXPECT_TRUE(wait_until([&] { return bh::lcore_get_stats(id_).iterations > before; }));
}

void test_lcore::stop_loop()
{
	std::unique_lock lock(m_);
	if (!looping_)
		return;
	looping_ = false;
	bh::lcore_request_stop(id_);
	cv_.wait(lock, [this] { return job_done_; });
}

log_capture::log_capture()
{
	f_ = open_memstream(&buf_, &len_);
	rte_openlog_stream(f_);
}

log_capture::~log_capture()
{
	rte_openlog_stream(nullptr);
	fclose(f_);
	free(buf_);
}

std::string log_capture::text()
{
	fflush(f_);
	return std::string(buf_, len_);
}

bool wait_until(const std::function<bool()> &pred, std::chrono::milliseconds timeout)
{
	const auto end = std::chrono::steady_clock::now() + timeout;
	while (!pred()) {
		if (std::chrono::steady_clock::now() > end)
			return pred();
		std::this_thread::sleep_for(std::chrono::microseconds(100));
	}
	return true;
}

void run_in_loop(unsigned lcore, std::function<void()> fn)
{
	std::atomic<bool> done{false};
	tasklet_of t([&] {
		fn();
		done = true;
	});
	ASSERT_EQ(tasklet_schedule_on(lcore, t), 1);
	ASSERT_TRUE(wait_until([&] { return done.load(); }));
}

void spin_ns(uint64_t ns)
{
	const uint64_t end = rte_rdtsc() + ns * rte_get_tsc_hz() / 1000000000ull;
	while (rte_rdtsc() < end)
		;
}

double cycles_to_ns(uint64_t cycles)
{
	return double(cycles) * 1e9 / double(rte_get_tsc_hz());
}

uint64_t thread_cpu_ns(pid_t tid)
{
	std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stat");
	std::string line;
	std::getline(f, line);
	/* Fields after the command (which may hold spaces) start after ')'. */
	std::istringstream rest(line.substr(line.rfind(')') + 2));
	std::string field;
	uint64_t utime = 0, stime = 0;
	for (int i = 3; i <= 15 && rest >> field; i++) {
		if (i == 14)
			utime = std::stoull(field);
		if (i == 15)
			stime = std::stoull(field);
	}
	return (utime + stime) * (1000000000ull / uint64_t(sysconf(_SC_CLK_TCK)));
}

sched_time thread_sched_time(pid_t tid)
{
	std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/schedstat");
	sched_time t;
	f >> t.run_ns >> t.wait_ns;
	return t;
}

wait_counts thread_wait_counts(pid_t tid)
{
	const std::string dir = "/proc/self/task/" + std::to_string(tid);
	wait_counts c;
	std::ifstream status(dir + "/status");
	for (std::string line; std::getline(status, line);) {
		if (line.rfind("voluntary_ctxt_switches:", 0) == 0)
			c.voluntary_switches = std::stoull(line.substr(line.find(':') + 1));
	}
	/* majflt is the 12th field; the 2nd, the command, may hold spaces but ends at the last ')'. */
	std::ifstream stat(dir + "/stat");
	std::string line;
	std::getline(stat, line);
	std::istringstream rest(line.substr(line.rfind(')') + 2));
	std::string skipped;
	for (int field = 3; field < 12; field++)
		rest >> skipped;
	rest >> c.major_faults;
	return c;
}

run_window run_for(const std::vector<pid_t> &tids, uint64_t run_ns, std::chrono::milliseconds limit)
{
	auto now = [&tids] {
		run_window w;
		for (const pid_t tid : tids) {
			const sched_time t = thread_sched_time(tid);
			w.run_ns += t.run_ns;
			w.wait_ns += t.wait_ns;
			const wait_counts c = thread_wait_counts(tid);
			w.waits.voluntary_switches += c.voluntary_switches;
			w.waits.major_faults += c.major_faults;
		}
		w.wall_ns = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
					     std::chrono::steady_clock::now().time_since_epoch())
					     .count());
		return w;
	};
	const run_window start = now();
	run_window end = start;
	while (end.run_ns - start.run_ns < run_ns && end.wall_ns - start.wall_ns < uint64_t(limit.count()) * 1000000) {
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
		end = now();
	}
	return {end.run_ns - start.run_ns, end.wait_ns - start.wait_ns, end.wall_ns - start.wall_ns,
		{end.waits.voluntary_switches - start.waits.voluntary_switches,
		 end.waits.major_faults - start.waits.major_faults}};
}

pid_t find_thread(const std::string &comm)
{
	DIR *d = opendir("/proc/self/task");
	pid_t found = 0;
	while (dirent *e = d ? readdir(d) : nullptr) {
		if (e->d_name[0] == '.')
			continue;
		std::ifstream f(std::string("/proc/self/task/") + e->d_name + "/comm");
		std::string name;
		std::getline(f, name);
		if (name == comm) {
			found = pid_t(std::stoi(e->d_name));
			break;
		}
	}
	if (d)
		closedir(d);
	return found;
}

void core_test::open(unsigned nr, softirq_handler h, void *data)
{
	ASSERT_EQ(open_softirq(nr, h, data), 0) << "softirq " << nr;
	opened_.push_back(nr);
}

void core_test::TearDown()
{
	if (started()) {
		EXPECT_EQ(stop(), 0);
	}
	for (unsigned nr : opened_)
		close_softirq(nr);
	opened_.clear();
	softirq_set_config(softirq_config{});
	ksoftirqd_set_config(ksoftirqd_config{});
	set_sleep_check_mode(sleep_check_mode::error);
}

namespace {

/* Ends the process if one test runs longer than this: a hang is a failure. */
class watchdog : public ::testing::EmptyTestEventListener {
	void OnTestStart(const ::testing::TestInfo &info) override
	{
		snprintf(current, sizeof(current), "%s.%s", info.test_suite_name(), info.name());
		alarm(timeout_s);
	}
	void OnTestEnd(const ::testing::TestInfo &) override { alarm(0); }

public:
	static inline char current[256];
	static constexpr unsigned timeout_s = 120;
};

/*
 * A test binary that dies (an abort, which a death test's child does on
 * purpose; the watchdog; a sanitizer report) skips the atexit handler that
 * removes the EAL's runtime directory, and its fixtures' tear-downs: remove
 * the directory here, empty as it is with --no-shconf, and run what the
 * tests asked to run in that case. The process is dying: system() from a
 * signal handler is acceptable here, and the list is only appended to.
 */
char runtime_dir[PATH_MAX];
std::mutex killed_cleanups_m;
std::vector<std::string> killed_cleanups;

void clean_up_after_death()
{
	static std::atomic<bool> once{false};
	if (once.exchange(true))
		return;
	rmdir(runtime_dir);
	for (const std::string &cmd : killed_cleanups)
		(void)!system((cmd + " >/dev/null 2>&1").c_str());
}

void on_alarm(int)
{
	static const char msg[] = "watchdog: test hung, killing the test binary: ";
	(void)!write(2, msg, sizeof(msg) - 1);
	(void)!write(2, watchdog::current, strlen(watchdog::current));
	(void)!write(2, "\n", 1);
	clean_up_after_death();
	_exit(3);
}

void on_abort(int)
{
	clean_up_after_death();
	signal(SIGABRT, SIG_DFL);
	raise(SIGABRT);
}

} // namespace

void cleanup_if_killed(const std::string &cmd)
{
	std::lock_guard lock(killed_cleanups_m);
	if (std::find(killed_cleanups.begin(), killed_cleanups.end(), cmd) == killed_cleanups.end())
		killed_cleanups.push_back(cmd);
}

} // namespace bh::test

int main(int argc, char **argv)
{
	::testing::InitGoogleTest(&argc, argv);
	GTEST_FLAG_SET(death_test_style, "threadsafe");
	bh::eal_options opts;
	opts.lcores = "0";
	opts.extra = {"--log-level", "lib.eal:warning", "--no-telemetry"};
	if (bh::eal_init(opts) < 0) {
		fprintf(stderr, "test: cannot initialise the EAL\n");
		return 2;
	}
	snprintf(bh::test::runtime_dir, sizeof(bh::test::runtime_dir), "%s", rte_eal_get_runtime_dir());
	signal(SIGABRT, bh::test::on_abort);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	/* A sanitizer report with halt_on_error ends the process with _exit, not abort. */
	__sanitizer_set_death_callback(bh::test::clean_up_after_death);
#endif
	signal(SIGALRM, bh::test::on_alarm);
	::testing::UnitTest::GetInstance()->listeners().Append(new bh::test::watchdog);
	bh::set_sleep_check_mode(bh::sleep_check_mode::error);
	const int rc = RUN_ALL_TESTS();
	bh::eal_cleanup();
	return rc;
}
