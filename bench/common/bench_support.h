/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * What every benchmark program shares: bringing up the EAL and the
 * framework around Google Benchmark, and threads on the CPU the main lcore
 * does not use, so that hand-offs between them cross cores.
 */

#include <atomic>
#include <thread>
#include <utility>

#include <benchmark/benchmark.h>

#include "bh_percpu.h"

namespace bench {

struct program {
	const char *name;
	/* Runs before bh::start(), which freezes the softirq table; may be null. */
	bool (*before_start)();
	void (*register_benchmarks)();
};

/*
 * The main() of a benchmark program. The EAL comes up as in the tests
 * (-l 0, --no-huge), so the benchmarks run on the main lcore, pinned to
 * CPU 0, attached to the started framework.
 */
int run(int argc, char **argv, const program &p);

/* A CPU other than the main lcore's, or -1. */
int spare_cpu();

/* Pins the calling thread to @p cpu. */
void pin_self(int cpu);

/*
 * The round trip of one cache line between the main lcore's CPU and the
 * spare CPU, in ns; -1 without a spare CPU. Every hand-off between the two
 * pays it, and on a virtual machine it changes whenever the host moves the
 * two vCPUs closer together or further apart (same core, same L3, or not).
 */
double cross_cpu_round_trip_ns();

/*
 * Runs @p timed (a benchmark's set-up and timed loop, which use the spare
 * CPU) between two round-trip probes, reported as rtt_before_ns and
 * rtt_after_ns: they say how the CPUs were placed during the run, and a
 * run whose probes disagree was not placed one way throughout.
 */
template <class F>
void probe_placement(benchmark::State &state, F &&timed)
{
	const double before = cross_cpu_round_trip_ns();
	timed();
	state.counters["rtt_before_ns"] = before;
	state.counters["rtt_after_ns"] = cross_cpu_round_trip_ns();
}

/* An inverted rate of ops per second: seconds per op, printed as e.g. "14.2ns". */
inline benchmark::Counter per_op(double ops_per_iteration)
{
	return benchmark::Counter(ops_per_iteration,
				  benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

/*
 * A plain thread pinned to the spare CPU, running the function it was
 * given. Its owner makes the function return before this is destroyed,
 * which joins it.
 */
class spare_cpu_thread {
public:
	template <class F>
	explicit spare_cpu_thread(F f) : cpu_(spare_cpu())
	{
		if (cpu_ >= 0)
			thread_ = std::thread([cpu = cpu_, f = std::move(f)] {
				pin_self(cpu);
				f();
			});
	}
	~spare_cpu_thread()
	{
		if (thread_.joinable())
			thread_.join();
	}
	spare_cpu_thread(const spare_cpu_thread &) = delete;
	spare_cpu_thread &operator=(const spare_cpu_thread &) = delete;

	/* False if there is no CPU besides the main lcore's. */
	bool ok() const { return cpu_ >= 0; }

private:
	int cpu_;
	std::thread thread_;
};

/*
 * A registered lcore running the framework's loop in poll mode on a CPU of
 * its own, so that raises to it cross cores as they would between lcores.
 */
class remote_lcore {
public:
	explicit remote_lcore(int cpu);
	~remote_lcore();
	remote_lcore(const remote_lcore &) = delete;
	remote_lcore &operator=(const remote_lcore &) = delete;

	/* The loop ran; false if the thread could not become an lcore or the loop refused to start. */
	bool ok() const { return id_.load() != bh::no_lcore && !exited_.load(); }
	unsigned id() const { return id_.load(); }

private:
	static constexpr unsigned unpublished = bh::no_lcore - 1;

	void main(int cpu);

	std::atomic<unsigned> id_{unpublished};
	std::atomic<bool> exited_{false};
	std::thread thread_;
};

} // namespace bench
