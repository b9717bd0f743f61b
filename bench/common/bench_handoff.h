/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Handing items from the main lcore to a consumer on another CPU: the
 * harness that times a channel doing it, and the Asio peer that both the
 * tasklet and the work queue benchmarks set beside the framework.
 *
 * A channel C is built with the number of items it carries and has
 *   const char *error() const  nullptr once its consumer runs, else why not
 *   stamp &at(unsigned i)      item i's time stamps
 *   bool send(unsigned i)      hands item i to the consumer; false if refused
 * Its consumer calls start_item() on each item it takes: that is the whole
 * job, the same in every channel.
 */

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <rte_cycles.h>

#include "bench_support.h"

namespace bench {

/* Items per batch for the throughput and the producer-only runs. */
constexpr unsigned handoff_batch = 1000;

/* When an item was handed off and when its consumer started it, in TSC cycles. */
struct stamp {
	uint64_t queued = 0;
	uint64_t started = 0;
};

/* Items started by any consumer: what the producer waits on. */
inline std::atomic<uint64_t> handoff_runs;

inline void start_item(stamp &s) noexcept
{
	s.started = rte_rdtsc();
	handoff_runs.fetch_add(1, std::memory_order_release);
}

/* Spins until handoff_runs reaches @p target; false if that takes longer than a few seconds. */
bool wait_runs(uint64_t target);

/*
 * Queue-to-start times as a log-linear histogram, 64 steps per power of
 * two (so within 1.6%): a run hands off millions of items, too many to
 * keep one by one.
 */
class latency_histogram {
public:
	void add(uint64_t cycles) { ++counts_[bucket(cycles)]; }
	/* Sets the p50_ns and p99_ns counters. */
	void report(benchmark::State &state) const;

private:
	static constexpr unsigned sub_bits = 6;
	static constexpr unsigned exact = 2u << sub_bits; /* below this, one bucket per cycle count */
	static unsigned bucket(uint64_t cycles);
	/* The middle of bucket @p b, in cycles. */
	static double middle(unsigned b);
	double percentile(double q) const;

	std::array<uint64_t, exact + (63 - sub_bits) * (1u << sub_bits)> counts_{};
};

/* end_to_end: hand off a batch and wait until all ran. send_only: time the hand-offs alone. */
enum class timing { end_to_end, send_only };

/*
 * Hands state.range(0) items per iteration to a C. End to end, it stamps
 * each item before sending it and reports items/s and the queue-to-start
 * p50/p99; send only, the iteration time is the sending loop's (manual
 * time) and the wait for the consumer is left out.
 */
template <class C, timing T>
void handoff_loop(benchmark::State &state)
{
	const auto batch = unsigned(state.range(0));
	C c(batch);
	if (const char *e = c.error()) {
		state.SkipWithError(e);
		return;
	}
	latency_histogram latency;
	for (auto _ : state) {
		const uint64_t target = handoff_runs.load(std::memory_order_relaxed) + batch;
		uint64_t t0 = 0;
		if constexpr (T == timing::send_only)
			t0 = rte_rdtsc();
		bool refused = false;
		for (unsigned i = 0; i < batch; i++) {
			if constexpr (T == timing::end_to_end)
				c.at(i).queued = rte_rdtsc();
			refused |= !c.send(i);
		}
		if constexpr (T == timing::send_only)
			state.SetIterationTime(double(rte_rdtsc() - t0) / double(rte_get_tsc_hz()));
		if (refused || !wait_runs(target)) {
			state.SkipWithError(refused ? "an item was refused" : "an item did not run");
			break;
		}
		if constexpr (T == timing::end_to_end)
			for (unsigned i = 0; i < batch; i++)
				latency.add(c.at(i).started - c.at(i).queued);
	}
	state.SetItemsProcessed(int64_t(state.iterations()) * batch);
	state.counters["per_item"] = per_op(batch);
	if constexpr (T == timing::end_to_end)
		latency.report(state);
}

template <class C, timing T>
void bm_handoff(benchmark::State &state)
{
	probe_placement(state, [&] { handoff_loop<C, T>(state); });
}

/*
 * Registers @p name end to end for one item (the round trip) and a batch,
 * in real time since the producer spins while it waits, and @p name_send
 * for the producer's cost per call.
 */
template <class C>
void register_handoff(const std::string &name)
{
	benchmark::RegisterBenchmark(name.c_str(), bm_handoff<C, timing::end_to_end>)
		->ArgName("batch")
		->Arg(1)
		->Arg(handoff_batch)
		->UseRealTime();
	benchmark::RegisterBenchmark((name + "_send").c_str(), bm_handoff<C, timing::send_only>)
		->ArgName("batch")
		->Arg(handoff_batch)
		->UseManualTime();
}

/*
 * The Asio peer: post to an io_context that one thread on the spare CPU
 * runs, either blocking in run() when idle, as Asio programs do, or
 * spinning on poll(), as a polling lcore does.
 */
template <bool Spin>
class asio_thread_channel {
public:
	explicit asio_thread_channel(unsigned n) : stamps_(n) {}
	~asio_thread_channel()
	{
		stop_.store(true, std::memory_order_relaxed);
		guard_.reset();
		ctx_.stop();
	}
	asio_thread_channel(const asio_thread_channel &) = delete;
	asio_thread_channel &operator=(const asio_thread_channel &) = delete;

	const char *error() const { return consumer_.ok() ? nullptr : "needs a CPU besides the main lcore's"; }
	stamp &at(unsigned i) { return stamps_[i]; }
	bool send(unsigned i)
	{
		boost::asio::post(ctx_, [s = &stamps_[i]] { start_item(*s); });
		return true;
	}

private:
	void consume()
	{
		if constexpr (Spin)
			while (!stop_.load(std::memory_order_relaxed))
				ctx_.poll();
		else
			ctx_.run();
	}

	std::vector<stamp> stamps_;
	/* One thread runs it; posting from another keeps Asio's locks, as with any hint but UNSAFE. */
	boost::asio::io_context ctx_{1};
	/* Keeps run() and poll() from stopping the context whenever it runs out of work. */
	boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{ctx_.get_executor()};
	std::atomic<bool> stop_{false};
	spare_cpu_thread consumer_{[this] { consume(); }};
};

} // namespace bench
