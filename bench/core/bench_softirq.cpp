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
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <pthread.h>
#include <sched.h>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "bh_context.h"
#include "bh_eal.h"
#include "bh_lcore.h"
#include "bh_percpu.h"
#include "bh_softirq.h"

namespace {

/* Largest number of calls deferred per iteration; a batch uses this many different softirqs. */
constexpr unsigned max_batch = 8;

/* Item i of a batch raises its own softirq, so a batch is max_batch distinct pending bits. */
constexpr unsigned local_nr(unsigned i)
{
	return bh::first_free_softirq + i;
}
constexpr unsigned remote_nr = local_nr(max_batch);
static_assert(remote_nr < bh::TASKLET_SOFTIRQ, "the benchmark's softirqs must fit in the free range");

/* Deferred calls run on the main lcore, checked against the calls posted so that none is lost or elided. */
uint64_t local_calls;
/* Runs of the remote softirq: written only by whichever thread owns the remote lcore's softirqs. */
uint64_t remote_calls;

void softirq_count(const bh::softirq_action &e)
{
	++*static_cast<uint64_t *>(e.data);
}

/* The peers' job. Out of line so that, like a softirq handler, it costs a real call. */
[[gnu::noinline]] void tick()
{
	++local_calls;
}

/*
 * Runs state.range(0) deferred calls per iteration through a Q, which
 * posts them and then runs them in round(n), and reports the cost per call.
 */
template <class Q>
void bm_defer(benchmark::State &state)
{
	const auto batch = unsigned(state.range(0));
	Q q;
	const uint64_t before = local_calls;
	for (auto _ : state)
		q.round(batch);
	const uint64_t posted = uint64_t(state.iterations()) * batch;
	if (local_calls - before != posted)
		state.SkipWithError("a deferred call did not run");
	state.SetItemsProcessed(int64_t(posted));
	/* An inverted rate of calls per second: seconds per call, printed as e.g. "14.2ns". */
	state.counters["per_call"] = benchmark::Counter(
		batch, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
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

/* The plain way: a fixed array of function pointers, filled and then drained in order. */
struct fnptr_queue {
	void (*slots[max_batch])();

	void round(unsigned n)
	{
		for (unsigned i = 0; i < n; i++)
			slots[i] = tick;
		/* Hides the stored pointers so the drain makes the indirect calls. */
		benchmark::DoNotOptimize(slots);
		for (unsigned i = 0; i < n; i++)
			slots[i]();
	}
};

/*
 * The textbook work queue. The same thread posts and drains, so only the
 * queue's own cost shows: locking, and a notify that finds no waiter.
 */
struct locked_queue {
	std::mutex m;
	std::condition_variable cv;
	std::vector<void (*)()> posted;
	std::vector<void (*)()> taken;

	locked_queue()
	{
		posted.reserve(max_batch);
		taken.reserve(max_batch);
	}

	void round(unsigned n)
	{
		for (unsigned i = 0; i < n; i++) {
			{
				std::lock_guard lock(m);
				posted.push_back(tick);
			}
			cv.notify_one();
		}
		{
			std::lock_guard lock(m);
			posted.swap(taken);
		}
		for (auto fn : taken)
			fn();
		taken.clear();
	}
};

struct asio_post {
	/*
	 * One thread runs the context. Asio keeps its locks (only the UNSAFE
	 * hint drops them), as a program posting from other threads needs.
	 */
	boost::asio::io_context ctx{1};

	void round(unsigned n)
	{
		for (unsigned i = 0; i < n; i++)
			boost::asio::post(ctx, [] { tick(); });
		ctx.poll();
		/* poll() stopped the context when it ran out of work. */
		ctx.restart();
	}
};

/* A work item as rings carry them: a pointer to something that says what to call. */
struct job {
	void (*fn)();
};
job tick_job{tick};
rte_ring *peer_ring; /* created in main(): rings live in the EAL's memory */

struct ring_queue {
	void round(unsigned n)
	{
		for (unsigned i = 0; i < n; i++) {
			int rc = rte_ring_enqueue(peer_ring, &tick_job);
			benchmark::DoNotOptimize(rc);
		}
		void *out[max_batch];
		const unsigned got = rte_ring_dequeue_burst(peer_ring, out, max_batch, nullptr);
		for (unsigned i = 0; i < got; i++)
			static_cast<const job *>(out[i])->fn();
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

/* A CPU other than the main lcore's, or -1. */
int spare_cpu()
{
	const rte_cpuset_t main_cpus = rte_lcore_cpuset(rte_get_main_lcore());
	const unsigned n = std::thread::hardware_concurrency();
	for (unsigned cpu = 0; cpu < n && cpu < CPU_SETSIZE; cpu++)
		if (!CPU_ISSET(cpu, &main_cpus))
			return int(cpu);
	return -1;
}

/*
 * A registered lcore running the framework's loop in poll mode on a CPU of
 * its own, so that raises to it cross cores as they would between lcores.
 */
class remote_lcore {
public:
	explicit remote_lcore(int cpu) : thread_([this, cpu] { main(cpu); })
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

	~remote_lcore()
	{
		if (ok())
			bh::lcore_request_stop(id_.load());
		thread_.join();
	}

	remote_lcore(const remote_lcore &) = delete;
	remote_lcore &operator=(const remote_lcore &) = delete;

	/* The loop ran; false if the thread could not become an lcore or the loop refused to start. */
	bool ok() const { return id_.load() != bh::no_lcore && !exited_.load(); }
	unsigned id() const { return id_.load(); }

private:
	static constexpr unsigned unpublished = bh::no_lcore - 1;

	void main(int cpu)
	{
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		/* Before registering: the lcore and its ksoftirqd take this thread's CPU set. */
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
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

	std::atomic<unsigned> id_{unpublished};
	std::atomic<bool> exited_{false};
	std::thread thread_;
};

/* The raiser's cost only: the remote lcore runs the softirq on its own time. */
void bm_raise_on_remote(benchmark::State &state)
{
	const int cpu = spare_cpu();
	if (cpu < 0) {
		state.SkipWithError("needs a CPU besides the main lcore's");
		return;
	}
	const uint64_t runs_before = remote_calls;
	{
		remote_lcore remote(cpu);
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
	for (auto *b : {
		     RegisterBenchmark("BM_raise_softirq_dispatch", bm_defer<softirq_dispatch<bh::raise_softirq>>),
		     RegisterBenchmark("BM_raise_softirq_irqoff_dispatch",
				       bm_defer<softirq_dispatch<bh::raise_softirq_irqoff>>),
		     RegisterBenchmark("BM_irq_enter_exit_with_raise", bm_defer<top_half_raise>),
		     RegisterBenchmark("BM_peer_fnptr_queue", bm_defer<fnptr_queue>),
		     RegisterBenchmark("BM_peer_mutex_condvar_queue", bm_defer<locked_queue>),
		     RegisterBenchmark("BM_peer_asio_post_poll", bm_defer<asio_post>),
		     RegisterBenchmark("BM_peer_rte_ring", bm_defer<ring_queue>),
	     })
		b->ArgName("batch")->Arg(1)->Arg(max_batch);

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
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;

	bh::eal_options opts;
	opts.lcores = "0";
	opts.extra = {"--log-level", "lib.eal:warning", "--no-telemetry"};
	if (bh::eal_init(opts) < 0) {
		fprintf(stderr, "bench_softirq: cannot initialise the EAL\n");
		return 2;
	}
	peer_ring = rte_ring_create("bench_peer", max_batch, SOCKET_ID_ANY,
				    RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (!peer_ring || !open_softirqs() || bh::start() != 0 || bh::lcore_attach() != 0) {
		fprintf(stderr, "bench_softirq: setup failed\n");
		return 2;
	}

	register_benchmarks();
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();

	bh::stop();
	rte_ring_free(peer_ring);
	rte_eal_cleanup();
	return 0;
}
