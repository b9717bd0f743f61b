/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What test_observability.py traces besides bh-l2fwd, which schedules no
 * tasklet and queues no work: a tasklet on lcore 1 that queues a work item,
 * run RUNS times one after the other, under whatever EAL options it is
 * given (--trace, --trace-dir). Prints the two functions' addresses and the
 * counts as JSON, for the test to find them in the trace.
 *
 * Usage: trace_workload [EAL options] [-- RUNS]
 */
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include <rte_launch.h>
#include <rte_pause.h>

#include "bh_eal.h"
#include "bh_lcore.h"
#include "bh_tasklet.h"
#include "bh_workqueue.h"

namespace {

constexpr unsigned worker_lcore = 1;

bh::workqueue *wq;
std::atomic<unsigned> tasklet_runs{0}, work_runs{0};

void work_fn(void *)
{
	work_runs.fetch_add(1, std::memory_order_release);
}

bh::work item{work_fn};

/* A bottom half handing the rest of its job to process context, as a driver would. */
void tasklet_fn(void *)
{
	tasklet_runs.fetch_add(1, std::memory_order_relaxed);
	bh::queue_work(wq, item);
}

bh::tasklet t{tasklet_fn};

int fail(const char *what)
{
	fprintf(stderr, "trace_workload: %s\n", what);
	return 1;
}

} // namespace

int main(int argc, char **argv)
{
	bh::eal_options eo;
	eo.lcores = "0-1";
	eo.extra = {"--log-level", "lib.eal:warning"};
	const int consumed = bh::eal_init(eo, argc, argv);
	if (consumed < 0)
		return fail("EAL initialisation failed");
	argc -= consumed;
	argv += consumed;
	const unsigned runs = argc > 1 ? unsigned(strtoul(argv[1], nullptr, 10)) : 100;
	if (bh::start() != 0)
		return fail("bh::start failed");
	wq = bh::create_workqueue("bhtrace");
	if (!wq)
		return fail("create_workqueue failed");
	bh::lcore_set_idle(worker_lcore, bh::idle_mode::sleep);
	rte_eal_remote_launch(bh::lcore_main, nullptr, worker_lcore);

	/* One at a time, so that every schedule and every queueing counts. */
	for (unsigned i = 1; i <= runs; i++) {
		if (bh::tasklet_schedule_on(worker_lcore, t) != 1)
			return fail("tasklet_schedule_on did not queue the tasklet");
		while (work_runs.load(std::memory_order_acquire) < i)
			rte_pause();
	}

	bh::destroy_workqueue(wq);
	bh::stop();
	rte_eal_mp_wait_lcore();
	printf("{\"tasklet_func\": %" PRIuPTR ", \"work_func\": %" PRIuPTR ", \"tasklet_runs\": %u, \"work_runs\": %u, "
	       "\"lcore\": %u}\n",
	       reinterpret_cast<uintptr_t>(&tasklet_fn), reinterpret_cast<uintptr_t>(&work_fn), tasklet_runs.load(),
	       work_runs.load(), worker_lcore);
	fflush(stdout);
	bh::eal_cleanup();
	return 0;
}
