/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Deferring a call and running it later on the same thread: the harness
 * that times a queue doing both, and the plain peers a bottom half is set
 * beside (a function-pointer array, a mutex+condvar queue, Asio post +
 * poll, an rte_ring). Header-only so that the timed loops are compiled,
 * and inlined, in each benchmark program as they were in bench_softirq.
 */

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <rte_ring.h>

#include "bench_support.h"

namespace bench {

/* Largest batch the peers take. */
constexpr unsigned max_batch = 8;

/* Deferred calls run on the main lcore, checked against the calls posted so that none is lost or elided. */
inline uint64_t local_calls;

/* The peers' job. Out of line so that, like a softirq handler, it costs a real call. */
[[gnu::noinline]] inline void tick()
{
	++local_calls;
}

/*
 * Runs state.range(0) deferred calls per iteration through a Q, which
 * posts them and then runs them in round(n), and reports the cost per call.
 * A Q whose set-up can fail says why in error() (nullptr when ready).
 */
template <class Q>
void bm_defer(benchmark::State &state)
{
	const auto batch = unsigned(state.range(0));
	Q q;
	if constexpr (requires { q.error(); })
		if (const char *e = q.error()) {
			state.SkipWithError(e);
			return;
		}
	const uint64_t before = local_calls;
	for (auto _ : state)
		q.round(batch);
	const uint64_t posted = uint64_t(state.iterations()) * batch;
	if (local_calls - before != posted)
		state.SkipWithError("a deferred call did not run");
	state.SetItemsProcessed(int64_t(posted));
	state.counters["per_call"] = per_op(batch);
}

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
inline job tick_job{tick};

struct ring_free {
	void operator()(rte_ring *r) const { rte_ring_free(r); }
};
using ring_ptr = std::unique_ptr<rte_ring, ring_free>;

/* A single-producer single-consumer ring of exactly @p n entries. Needs the EAL: rings live in its memory. */
inline ring_ptr make_spsc_ring(const char *name, unsigned n)
{
	return ring_ptr(rte_ring_create(name, n, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ));
}

class ring_queue {
public:
	/*
	 * One ring for the process, made on first use (after the EAL is up) and
	 * kept, as bench_softirq always had it: a ring made per run and held by
	 * the queue object measured about 1 ns more per enqueue at batch 1.
	 */
	ring_queue()
	{
		if (!ring_)
			ring_ = make_spsc_ring("bench_defer", max_batch).release();
	}

	const char *error() const { return ring_ ? nullptr : "cannot create the ring"; }

	void round(unsigned n)
	{
		for (unsigned i = 0; i < n; i++) {
			int rc = rte_ring_enqueue(ring_, &tick_job);
			benchmark::DoNotOptimize(rc);
		}
		void *out[max_batch];
		const unsigned got = rte_ring_dequeue_burst(ring_, out, max_batch, nullptr);
		for (unsigned i = 0; i < got; i++)
			static_cast<const job *>(out[i])->fn();
	}

private:
	static inline rte_ring *ring_ = nullptr;
};

/* Batches of one and of @p max calls. */
inline void register_defer(const char *name, void (*fn)(benchmark::State &), unsigned max = max_batch)
{
	benchmark::RegisterBenchmark(name, fn)->ArgName("batch")->Arg(1)->Arg(max);
}

/* The plain peers, under the same names in every program. */
inline void register_defer_peers()
{
	register_defer("BM_peer_fnptr_queue", bm_defer<fnptr_queue>);
	register_defer("BM_peer_mutex_condvar_queue", bm_defer<locked_queue>);
	register_defer("BM_peer_asio_post_poll", bm_defer<asio_post>);
	register_defer("BM_peer_rte_ring", bm_defer<ring_queue>);
}

} // namespace bench
