/* SPDX-License-Identifier: BSD-3-Clause */
#include <cstdio>
#include <pthread.h>
#include <sched.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>

#include "bench_support.h"
#include "bh_eal.h"
#include "bh_lcore.h"

namespace bench {

int run(int argc, char **argv, const program &p)
{
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;

	bh::eal_options opts;
	opts.lcores = "0";
	opts.extra = {"--log-level", "lib.eal:warning", "--no-telemetry"};
	if (bh::eal_init(opts) < 0) {
		fprintf(stderr, "%s: cannot initialise the EAL\n", p.name);
		return 2;
	}
	if ((p.before_start && !p.before_start()) || bh::start() != 0 || bh::lcore_attach() != 0) {
		fprintf(stderr, "%s: setup failed\n", p.name);
		return 2;
	}

	p.register_benchmarks();
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();

	bh::stop();
	bh::eal_cleanup();
	return 0;
}

int spare_cpu()
{
	const rte_cpuset_t main_cpus = rte_lcore_cpuset(rte_get_main_lcore());
	const unsigned n = std::thread::hardware_concurrency();
	for (unsigned cpu = 0; cpu < n && cpu < CPU_SETSIZE; cpu++)
		if (!CPU_ISSET(cpu, &main_cpus))
			return int(cpu);
	return -1;
}

void pin_self(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

double cross_cpu_round_trip_ns()
{
	constexpr uint64_t rounds = 5000;
	/* Odd values are the main thread's serves, even ones the spare CPU's returns. */
	alignas(64) std::atomic<uint64_t> ball{0};
	spare_cpu_thread echo([&] {
		for (uint64_t i = 1; i <= 2 * rounds + 1; i += 2) {
			while (ball.load(std::memory_order_acquire) != i)
				;
			ball.store(i + 1, std::memory_order_release);
		}
	});
	if (!echo.ok())
		return -1;
	/* The first round waits for the thread to start: not timed. */
	uint64_t t0 = 0;
	for (uint64_t i = 0; i <= 2 * rounds; i += 2) {
		if (i == 2)
			t0 = rte_rdtsc();
		ball.store(i + 1, std::memory_order_release);
		while (ball.load(std::memory_order_acquire) != i + 2)
			;
	}
	return double(rte_rdtsc() - t0) * 1e9 / double(rte_get_tsc_hz()) / rounds;
}

remote_lcore::remote_lcore(int cpu) : thread_([this, cpu] { main(cpu); })
{
	unsigned id;
	while ((id = id_.load()) == unpublished)
		std::this_thread::yield();
	if (id == bh::no_lcore)
		return;
	/* Whether or not the loop already started, it iterates past this. */
	const uint64_t before = bh::lcore_get_stats(id).iterations;
	while (bh::lcore_get_stats(id).iterations <= before && !exited_.load())
		std::this_thread::yield();
}

remote_lcore::~remote_lcore()
{
	if (ok())
		bh::lcore_request_stop(id_.load());
	thread_.join();
}

void remote_lcore::main(int cpu)
{
	/* Before registering: the lcore and its ksoftirqd take this thread's CPU set. */
	pin_self(cpu);
	if (rte_thread_register() != 0) {
		id_.store(bh::no_lcore);
		return;
	}
	const unsigned id = rte_lcore_id();
	bh::lcore_set_idle(id, bh::idle_mode::poll);
	id_.store(id);
	bh::lcore_run();
	exited_.store(true);
	bh::lcore_detach();
	rte_thread_unregister();
}

} // namespace bench
