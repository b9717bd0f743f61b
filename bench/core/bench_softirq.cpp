/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cost of the softirq machinery, each measurement next to a plain peer
 * doing the same job: deferring a call and running it later (raise +
 * dispatch against a function-pointer queue, a mutex+condvar queue,
 * boost::asio::post and rte_ring), and making a section atomic against
 * bottom halves (local_bh_disable against a thread-local counter, a mutex
 * and pthread_sigmask). See docs/benchmarks.md for the numbers.
 *
 * Google Benchmark runs every benchmark on the main thread, which is the
 * EAL main lcore, so the local raises and do_softirq() act on lcore 0.
 */
#include <atomic>
#include <csignal>
#include <cstdint>
#include <mutex>
#include <pthread.h>

#include <benchmark/benchmark.h>
#include <rte_cycles.h>

#include "bench_defer.h"
#include "bench_support.h"
#include "bh_context.h"
#include "bh_lcore.h"
#include "bh_softirq.h"

namespace {

using bench::bm_defer;
using bench::local_calls;
using bench::max_batch;

/* Item i of a batch raises its own softirq, so a batch is up to max_batch distinct pending bits. */
constexpr unsigned local_nr(unsigned i)
{
	return bh::first_free_softirq + i;
}
constexpr unsigned remote_nr = local_nr(max_batch);
static_assert(remote_nr < bh::TASKLET_SOFTIRQ, "the benchmark's softirqs must fit in the free range");

/* Runs of the remote softirq: written only by whichever thread owns the remote lcore's softirqs. */
uint64_t remote_calls;

void softirq_count(const bh::softirq_action &e)
{
	++*static_cast<uint64_t *>(e.data);
}

template <int (*Raise)(unsigned) noexcept>
void raise_batch(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int rc = Raise(local_nr(i));
		benchmark::DoNotOptimize(rc);
	}
}

/* Raise, then run the softirqs explicitly (what the lcore loop and local_bh_enable do). */
template <int (*Raise)(unsigned) noexcept>
struct softirq_dispatch {
	void round(unsigned n)
	{
		raise_batch<Raise>(n);
		bh::do_softirq();
	}
};

/*
 * A raise alone. The bit stays pending, so each raise after the first finds
 * it set, as raises do on a busy lcore; it runs once at the end so that the
 * next benchmark starts with nothing pending.
 */
template <int (*Raise)(unsigned) noexcept>
void bm_raise_only(benchmark::State &state)
{
	for (auto _ : state)
		raise_batch<Raise>(1);
	bh::do_softirq();
}

/* The top-half path: raise inside irq_enter/irq_exit, and irq_exit runs the softirqs. */
struct top_half_raise {
	void round(unsigned n)
	{
		bh::hardirq_scope top;
		raise_batch<bh::raise_softirq>(n);
	}
};

/* The instructions raise + dispatch are built from, to tell what their cost is made of. */
std::atomic<uint32_t> pending_word;

void locked_or()
{
	pending_word.fetch_or(1, std::memory_order_release);
}

/* Dispatch takes the bits of a mask it is given, so it needs the old value: a cmpxchg loop on x86. */
void take_pending()
{
	uint32_t mask = ~0u;
	benchmark::DoNotOptimize(mask);
	uint32_t v = pending_word.fetch_and(~mask, std::memory_order_acquire) & mask;
	benchmark::DoNotOptimize(v);
}

void read_tsc()
{
	uint64_t t = rte_rdtsc();
	benchmark::DoNotOptimize(t);
}

/* Depth nested Guards around an empty body. */
template <class Guard, unsigned Depth>
void section()
{
	if constexpr (Depth == 0) {
		benchmark::ClobberMemory();
	} else {
		Guard g;
		section<Guard, Depth - 1>();
	}
}

/* Times a bare operation with nothing around it. */
template <void (*Op)()>
void bm_repeat(benchmark::State &state)
{
	for (auto _ : state)
		Op();
}

/* What local_bh_disable is at heart: a per-thread count, kept in order by compiler barriers. */
thread_local unsigned tl_count;
struct tl_counter_guard {
	tl_counter_guard()
	{
		++tl_count;
		std::atomic_signal_fence(std::memory_order_seq_cst);
	}
	~tl_counter_guard()
	{
		std::atomic_signal_fence(std::memory_order_seq_cst);
		--tl_count;
	}
};

std::mutex section_mutex;
struct mutex_guard {
	std::lock_guard<std::mutex> lock{section_mutex};
};

/* The userspace way to "disable interrupts": block every signal for the section. */
const sigset_t all_signals = [] {
	sigset_t s;
	sigfillset(&s);
	return s;
}();
struct sigmask_guard {
	sigset_t saved;
	sigmask_guard() { pthread_sigmask(SIG_BLOCK, &all_signals, &saved); }
	~sigmask_guard() { pthread_sigmask(SIG_SETMASK, &saved, nullptr); }
};

/* The raiser's cost only: the remote lcore runs the softirq on its own time. */
void bm_raise_on_remote(benchmark::State &state)
{
	const int cpu = bench::spare_cpu();
	if (cpu < 0) {
		state.SkipWithError("needs a CPU besides the main lcore's");
		return;
	}
	const uint64_t runs_before = remote_calls;
	{
		bench::remote_lcore remote(cpu);
		if (!remote.ok()) {
			state.SkipWithError("cannot start a second lcore");
			return;
		}
		const unsigned target = remote.id();
		for (auto _ : state) {
			int rc = bh::raise_softirq_on(target, remote_nr);
			benchmark::DoNotOptimize(rc);
		}
	}
	/* Read after the join: raises that find the bit still set coalesce into one run. */
	state.counters["runs_per_raise"] = double(remote_calls - runs_before) / double(state.iterations());
	state.SetItemsProcessed(state.iterations());
}

void register_benchmarks()
{
	using benchmark::RegisterBenchmark;
	bench::register_defer("BM_raise_softirq_dispatch", bm_defer<softirq_dispatch<bh::raise_softirq>>);
	bench::register_defer("BM_raise_softirq_irqoff_dispatch", bm_defer<softirq_dispatch<bh::raise_softirq_irqoff>>);
	bench::register_defer("BM_irq_enter_exit_with_raise", bm_defer<top_half_raise>);
	bench::register_defer_peers();

	RegisterBenchmark("BM_raise_softirq_only", bm_raise_only<bh::raise_softirq>);
	RegisterBenchmark("BM_raise_softirq_irqoff_only", bm_raise_only<bh::raise_softirq_irqoff>);
	RegisterBenchmark("BM_ref_locked_or", bm_repeat<locked_or>);
	RegisterBenchmark("BM_ref_fetch_and", bm_repeat<take_pending>);
	RegisterBenchmark("BM_ref_rdtsc", bm_repeat<read_tsc>);

	RegisterBenchmark("BM_local_bh_disable_enable", bm_repeat<section<bh::bh_disable_guard, 1>>);
	RegisterBenchmark("BM_local_bh_disable_enable_nested2", bm_repeat<section<bh::bh_disable_guard, 2>>);
	RegisterBenchmark("BM_peer_thread_local_counter", bm_repeat<section<tl_counter_guard, 1>>);
	RegisterBenchmark("BM_peer_thread_local_counter_nested2", bm_repeat<section<tl_counter_guard, 2>>);
	RegisterBenchmark("BM_peer_mutex_lock_unlock", bm_repeat<section<mutex_guard, 1>>);
	RegisterBenchmark("BM_peer_sigprocmask", bm_repeat<section<sigmask_guard, 1>>);

	RegisterBenchmark("BM_raise_softirq_on_remote", bm_raise_on_remote);
}

/* The softirq table is frozen by bh::start(), so every entry is opened here first. */
bool open_softirqs()
{
	for (unsigned i = 0; i < max_batch; i++)
		if (bh::open_softirq(local_nr(i), softirq_count, &local_calls, "bench") != 0)
			return false;
	return bh::open_softirq(remote_nr, softirq_count, &remote_calls, "bench_remote") == 0;
}

} // namespace

int main(int argc, char **argv)
{
	return bench::run(argc, argv, {"bench_softirq", open_softirqs, register_benchmarks});
}
