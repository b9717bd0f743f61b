/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bh-embed: a DPDK application that owns the EAL and its main loop, and
 * uses bottomhalf only for deferred work.
 *
 * It calls rte_eal_init() itself, attaches the framework (bh::eal_attach),
 * registers a softirq of its own, and launches its own loop on a worker
 * lcore, which calls bh::lcore_poll_once() once per iteration. The main
 * lcore raises the softirq on the worker N times, one raise at a time; the
 * N-th run schedules a tasklet, and the tasklet queues a work item, the
 * kernel's usual chain from atomic context down to a thread that may sleep.
 * It prints one line saying where each piece ran, and exits 0 only if all
 * of them ran in time.
 *
 * Build it against an installed bottomhalf (see README.md, "Embedding"):
 *   meson setup build-example examples/embed && ninja -C build-example
 */
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <getopt.h>
#include <pthread.h>
#include <string>
#include <thread>
#include <vector>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include <bh_context.h>
#include <bh_eal.h>
#include <bh_lcore.h>
#include <bh_softirq.h>
#include <bh_tasklet.h>
#include <bh_workqueue.h>

namespace {

using clock_type = std::chrono::steady_clock;

/* Used when the command line has no EAL options: no NIC, no hugepages, and
 * no shared files, so that several copies can run at once. */
const char *const default_eal_args[] = {"-l", "0-1", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
					"--file-prefix", "bh-embed", "--log-level", "lib.eal:warning"};

struct options {
	unsigned raises = 100;
	double timeout_s = 5;
};

/* What each piece saw, written where it ran and read by the main lcore. */
struct results {
	std::atomic<unsigned> softirq_runs{0};
	std::atomic<unsigned> softirq_lcore{LCORE_ID_ANY};
	std::atomic<bool> tasklet_ran{false};
	std::atomic<unsigned> tasklet_lcore{LCORE_ID_ANY};
	std::atomic<bool> tasklet_in_softirq{false};
	std::atomic<bool> work_ran{false};
	std::atomic<bool> work_on_lcore{true};
	std::atomic<bool> work_may_sleep{false};
	char work_thread[16] = "";
	std::atomic<bool> quit{false};
	std::atomic<uint64_t> loop_iterations{0};
};

results res;
options opts;
bh::workqueue *wq = nullptr;

void work_fn(void *)
{
	pthread_getname_np(pthread_self(), res.work_thread, sizeof(res.work_thread));
	res.work_on_lcore = rte_lcore_id() != LCORE_ID_ANY;
	res.work_may_sleep = bh::in_task() && bh::might_sleep("bh-embed work") == 0;
	res.work_ran.store(true, std::memory_order_release);
}
bh::work work_item(work_fn);

void tasklet_fn(void *)
{
	res.tasklet_lcore = rte_lcore_id();
	res.tasklet_in_softirq = bh::in_serving_softirq();
	bh::queue_work(wq, work_item);
	res.tasklet_ran.store(true, std::memory_order_release);
}
bh::tasklet tasklet_item(tasklet_fn);

void softirq_fn(const bh::softirq_action &)
{
	res.softirq_lcore = rte_lcore_id();
	if (res.softirq_runs.fetch_add(1, std::memory_order_acq_rel) + 1 == opts.raises)
		bh::tasklet_schedule(tasklet_item);
}

/* The application's own loop: its work would go where the counter is. */
int worker_loop(void *)
{
	while (!res.quit.load(std::memory_order_acquire)) {
		res.loop_iterations.fetch_add(1, std::memory_order_relaxed);
		bh::lcore_poll_once();
	}
	return 0;
}

int parse(int argc, char **argv)
{
	static const option longopts[] = {
		{"raises", required_argument, nullptr, 'n'},
		{"timeout", required_argument, nullptr, 't'},
		{nullptr, 0, nullptr, 0},
	};
	optind = 1;
	for (int c; (c = getopt_long(argc, argv, "n:t:", longopts, nullptr)) != -1;) {
		char *end = nullptr;
		errno = 0;
		switch (c) {
		case 'n': {
			const unsigned long n = strtoul(optarg, &end, 10);
			if (*end || errno || n == 0 || n > 1000000 || optarg[0] == '-') {
				fprintf(stderr, "bh-embed: bad --raises '%s': expected 1..1000000\n", optarg);
				return -1;
			}
			opts.raises = unsigned(n);
			break;
		}
		case 't':
			opts.timeout_s = strtod(optarg, &end);
			if (*end || errno || !(opts.timeout_s > 0)) {
				fprintf(stderr, "bh-embed: bad --timeout '%s': expected seconds > 0\n", optarg);
				return -1;
			}
			break;
		default:
			fprintf(stderr, "bh-embed: usage: bh-embed [EAL options] -- [--raises N] [--timeout S]\n");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bh-embed: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* Waits until @p done holds or @p deadline passes; the main lcore may sleep. */
template <class Pred>
bool wait_until(Pred done, clock_type::time_point deadline)
{
	while (!done()) {
		if (clock_type::now() >= deadline)
			return false;
		std::this_thread::sleep_for(std::chrono::microseconds(50));
	}
	return true;
}

/* Raises the softirq on @p lcore opts.raises times, each after the previous
 * one ran (raises of a pending softirq coalesce), then waits for the chain.
 * Returns nullptr or what did not happen. */
const char *drive(unsigned lcore, unsigned nr, clock_type::time_point deadline)
{
	for (unsigned i = 1; i <= opts.raises; i++) {
		if (bh::raise_softirq_on(lcore, nr) != 0)
			return "raise_softirq_on failed";
		if (!wait_until([i] { return res.softirq_runs.load(std::memory_order_acquire) >= i; }, deadline))
			return "the softirq did not run as often as it was raised";
	}
	if (!wait_until([] { return res.tasklet_ran.load(std::memory_order_acquire); }, deadline))
		return "the tasklet did not run";
	if (!wait_until([] { return res.work_ran.load(std::memory_order_acquire); }, deadline))
		return "the work item did not run";
	return nullptr;
}

} // namespace

int main(int argc, char **argv)
{
	std::vector<char *> args(argv, argv + argc);
	if (argc < 2 || !strcmp(argv[1], "--"))
		args.insert(args.begin() + 1, const_cast<char **>(std::begin(default_eal_args)),
			    const_cast<char **>(std::end(default_eal_args)));
	const int consumed = rte_eal_init(int(args.size()), args.data());
	if (consumed < 0) {
		fprintf(stderr, "bh-embed: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (parse(int(args.size()) - consumed, args.data() + consumed) < 0) {
		rte_eal_cleanup();
		return 2;
	}
	const unsigned worker = rte_get_next_lcore(-1, 1, 0);
	if (worker >= RTE_MAX_LCORE) {
		fprintf(stderr, "bh-embed: needs a worker lcore (e.g. -l 0-1)\n");
		rte_eal_cleanup();
		return 2;
	}

	if (const int rc = bh::eal_attach(); rc != 0) {
		fprintf(stderr, "bh-embed: bh::eal_attach failed: %s\n", strerror(-rc));
		rte_eal_cleanup();
		return 1;
	}
	const int nr = bh::alloc_softirq(softirq_fn, nullptr, "EMBED");
	if (nr < 0 || bh::start() != 0) {
		fprintf(stderr, "bh-embed: cannot register the softirq or start the framework\n");
		rte_eal_cleanup();
		return 1;
	}
	/* Bound, so that the work runs in the worker lcore's pool: the tasklet
	 * queues it from that lcore. */
	wq = bh::create_workqueue("embed");
	if (!wq || rte_eal_remote_launch(worker_loop, nullptr, worker) != 0) {
		fprintf(stderr, "bh-embed: cannot create the work queue or launch lcore %u\n", worker);
		bh::stop();
		bh::eal_cleanup();
		return 1;
	}

	const auto deadline = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
							      std::chrono::duration<double>(opts.timeout_s));
	const char *missing = drive(worker, unsigned(nr), deadline);
	res.quit.store(true, std::memory_order_release);
	rte_eal_wait_lcore(worker);
	const uint64_t framework_runs = bh::softirq_get_stats(worker, unsigned(nr)).run;
	const std::string name = bh::softirq_entry(unsigned(nr)).name;
	bh::destroy_workqueue(wq);
	bh::stop();

	int rc = 0;
	if (missing) {
		fprintf(stderr, "bh-embed: FAILED within %g s: %s (softirq runs %u/%u, own loop iterations %" PRIu64 ")\n",
			opts.timeout_s, missing, res.softirq_runs.load(), opts.raises, res.loop_iterations.load());
		rc = 1;
	} else {
		printf("bh-embed: ok: softirq %s (nr %d) ran %u/%u times on lcore %u (framework count %" PRIu64 "); "
		       "tasklet ran on lcore %u %s softirq context; work ran on thread '%s', %s, %s; "
		       "own loop iterations %" PRIu64 "\n",
		       name.c_str(), nr, res.softirq_runs.load(), opts.raises, res.softirq_lcore.load(), framework_runs,
		       res.tasklet_lcore.load(), res.tasklet_in_softirq ? "in" : "outside", res.work_thread,
		       res.work_on_lcore ? "an lcore" : "not an lcore", res.work_may_sleep ? "may sleep" : "may not sleep",
		       res.loop_iterations.load());
	}
	/* Not rte_eal_cleanup(): the framework's timers must know the EAL's memory is gone. */
	bh::eal_cleanup();
	return rc;
}
