/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cost of timers on the main lcore, next to plain peers doing the same
 * job: arming timers and expiring them (bh::timer_mod, then the lcore
 * loop's TIMER softirq, against raw rte_timer_reset + rte_timer_manage,
 * which the wrapper is built on, and a std::priority_queue of deadlines),
 * and re-arming a pending timer. See docs/benchmarks.md.
 *
 * The timers are armed with a zero delay, due at once, so that a round
 * measures arming and expiry and no waiting.
 */
#include <array>
#include <functional>
#include <queue>
#include <vector>

#include <benchmark/benchmark.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_timer.h>

#include "bench_defer.h"
#include "bench_support.h"
#include "bh_lcore.h"
#include "bh_timer.h"

namespace {

using bench::local_calls;

constexpr unsigned max_timers = 64;
/* Far enough that a re-armed timer never fires during a run. */
constexpr uint64_t far_ns = 10'000'000'000;

/* A round's timers are all due: one pass expires them; the bound only turns a lost expiry into an error. */
template <class Pass>
void expire_until(uint64_t due, Pass pass)
{
	for (unsigned passes = 0; local_calls != due && passes < 1000; passes++)
		pass();
}

void count_expiry(bh::timer &, void *data)
{
	++*static_cast<uint64_t *>(data);
}

void count_rte_expiry(rte_timer *, void *data)
{
	++*static_cast<uint64_t *>(data);
}

/* bh::timer_mod, then one iteration of the lcore loop: its tick raises TIMER, irq_exit runs it. */
struct bh_timers {
	struct slot {
		bh::timer t{count_expiry, &local_calls};
	};
	std::array<slot, max_timers> slots;

	void round(unsigned n)
	{
		const uint64_t due = local_calls + n;
		for (unsigned i = 0; i < n; i++) {
			int rc = bh::timer_mod(slots[i].t, 0);
			benchmark::DoNotOptimize(rc);
		}
		expire_until(due, bh::lcore_poll_once);
	}
};

/* What the wrapper is made of: DPDK's timers, armed and managed by hand. */
struct rte_timers {
	std::array<rte_timer, max_timers> tims;
	const unsigned lcore = rte_lcore_id();

	rte_timers()
	{
		for (auto &t : tims)
			rte_timer_init(&t);
	}

	void round(unsigned n)
	{
		const uint64_t due = local_calls + n;
		for (unsigned i = 0; i < n; i++) {
			int rc = rte_timer_reset(&tims[i], 0, SINGLE, lcore, count_rte_expiry, &local_calls);
			benchmark::DoNotOptimize(rc);
		}
		expire_until(due, rte_timer_manage);
	}
};

/* The textbook timer queue: a binary min-heap of deadlines, popped while due. */
struct heap_timers {
	struct entry {
		uint64_t deadline;
		void (*fn)();
		bool operator>(const entry &o) const { return deadline > o.deadline; }
	};
	std::priority_queue<entry, std::vector<entry>, std::greater<>> heap{std::greater<>{}, reserved()};

	static std::vector<entry> reserved()
	{
		std::vector<entry> v;
		v.reserve(max_timers);
		return v;
	}

	/* Like a timer wheel's tick, a pass reads the clock once. */
	void expire()
	{
		const uint64_t now = rte_rdtsc();
		while (!heap.empty() && heap.top().deadline <= now) {
			const auto fn = heap.top().fn;
			heap.pop();
			fn();
		}
	}

	void round(unsigned n)
	{
		const uint64_t due = local_calls + n;
		for (unsigned i = 0; i < n; i++)
			heap.push({rte_rdtsc(), bench::tick});
		expire_until(due, [this] { expire(); });
	}
};

/* Re-arming a pending timer: the arm alone, without an expiry. */
void bm_timer_rearm(benchmark::State &state)
{
	bh::timer t(count_expiry, &local_calls);
	for (auto _ : state) {
		int rc = bh::timer_mod(t, far_ns);
		benchmark::DoNotOptimize(rc);
	}
	bh::timer_del(t);
}

void bm_rte_timer_rearm(benchmark::State &state)
{
	rte_timer t;
	rte_timer_init(&t);
	const uint64_t ticks = far_ns / 1'000'000'000 * rte_get_timer_hz();
	const unsigned lcore = rte_lcore_id();
	for (auto _ : state) {
		int rc = rte_timer_reset(&t, ticks, SINGLE, lcore, count_rte_expiry, &local_calls);
		benchmark::DoNotOptimize(rc);
	}
	rte_timer_stop_sync(&t);
}

void register_benchmarks()
{
	bench::register_defer("BM_timer_mod_expire", bench::bm_defer<bh_timers>, max_timers);
	bench::register_defer("BM_peer_rte_timer_reset_manage", bench::bm_defer<rte_timers>, max_timers);
	bench::register_defer("BM_peer_priority_queue", bench::bm_defer<heap_timers>, max_timers);
	benchmark::RegisterBenchmark("BM_timer_mod_rearm", bm_timer_rearm);
	benchmark::RegisterBenchmark("BM_peer_rte_timer_reset_rearm", bm_rte_timer_rearm);
}

} // namespace

int main(int argc, char **argv)
{
	return bench::run(argc, argv, {"bench_timer", nullptr, register_benchmarks});
}
