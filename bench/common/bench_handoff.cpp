/* SPDX-License-Identifier: BSD-3-Clause */
#include <bit>

#include <rte_pause.h>

#include "bench_handoff.h"

namespace bench {

bool wait_runs(uint64_t target)
{
	const uint64_t deadline = rte_rdtsc() + 5 * rte_get_tsc_hz();
	/* Reading the TSC costs about as much as a hand-off step: look at it only now and then. */
	for (unsigned spins = 0; handoff_runs.load(std::memory_order_acquire) < target; spins++) {
		rte_pause();
		if (spins % 1024 == 0 && rte_rdtsc() > deadline)
			return false;
	}
	return true;
}

unsigned latency_histogram::bucket(uint64_t cycles)
{
	if (cycles < exact)
		return unsigned(cycles);
	const unsigned e = unsigned(std::bit_width(cycles)) - 1;
	const unsigned sub = unsigned(cycles >> (e - sub_bits)) & ((1u << sub_bits) - 1);
	return exact + ((e - sub_bits - 1) << sub_bits) + sub;
}

double latency_histogram::middle(unsigned b)
{
	if (b < exact)
		return b;
	const unsigned e = (b - exact) / (1u << sub_bits) + sub_bits + 1;
	const uint64_t sub = (b - exact) % (1u << sub_bits);
	const uint64_t width = uint64_t(1) << (e - sub_bits);
	return double(((uint64_t(1) << sub_bits) + sub) * width) + double(width - 1) / 2;
}

double latency_histogram::percentile(double q) const
{
	uint64_t total = 0;
	for (uint64_t c : counts_)
		total += c;
	if (total == 0)
		return 0;
	const auto rank = uint64_t(q * double(total - 1)) + 1;
	uint64_t seen = 0;
	for (unsigned b = 0; b < counts_.size(); b++) {
		seen += counts_[b];
		if (seen >= rank)
			return middle(b);
	}
	return 0;
}

void latency_histogram::report(benchmark::State &state) const
{
	const double ns_per_cycle = 1e9 / double(rte_get_tsc_hz());
	state.counters["p50_ns"] = percentile(0.50) * ns_per_cycle;
	state.counters["p99_ns"] = percentile(0.99) * ns_per_cycle;
}

} // namespace bench
