/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cost of tasklets, each measurement next to a plain peer doing the
 * same job: scheduling and running deferred calls on the main lcore
 * (against the bench_softirq peers), and scheduling them on another lcore
 * that runs the framework's loop in poll mode (against an rte_ring drained
 * by a thread and an io_context run by a thread), for the scheduler's cost
 * per call, the throughput and the round trip. See docs/benchmarks.md.
 */
#include <array>
#include <memory>
#include <optional>
#include <vector>

#include <benchmark/benchmark.h>
#include <rte_ring.h>

#include "bench_defer.h"
#include "bench_handoff.h"
#include "bench_support.h"
#include "bh_softirq.h"
#include "bh_tasklet.h"

namespace {

using bench::stamp;

void count_run(void *data)
{
	++*static_cast<uint64_t *>(data);
}

/* Schedule distinct tasklets, then run the softirqs as the lcore loop and local_bh_enable do. */
template <int (*Schedule)(bh::tasklet &) noexcept>
struct tasklet_dispatch {
	struct slot {
		bh::tasklet t{count_run, &bench::local_calls};
	};
	std::array<slot, bench::max_batch> slots;

	void round(unsigned n)
	{
		for (unsigned i = 0; i < n; i++) {
			int rc = Schedule(slots[i].t);
			benchmark::DoNotOptimize(rc);
		}
		bh::do_softirq();
	}
};

/* Tasklets scheduled from the main lcore on a polling lcore on the spare CPU. */
class tasklet_channel {
public:
	explicit tasklet_channel(unsigned n) : items_(std::make_unique<item[]>(n))
	{
		if (const int cpu = bench::spare_cpu(); cpu >= 0)
			lcore_.emplace(cpu);
	}

	const char *error() const
	{
		if (!lcore_)
			return "needs a CPU besides the main lcore's";
		return lcore_->ok() ? nullptr : "cannot start a second lcore";
	}
	stamp &at(unsigned i) { return items_[i].s; }
	bool send(unsigned i) { return bh::tasklet_schedule_on(lcore_->id(), items_[i].t) == 1; }

private:
	struct item {
		stamp s;
		bh::tasklet t{run, &s};
		static void run(void *s) { bench::start_item(*static_cast<stamp *>(s)); }
	};
	std::unique_ptr<item[]> items_;
	/* Declared last: its loop stops before the tasklets go. */
	std::optional<bench::remote_lcore> lcore_;
};

/* The DPDK way: an SP/SC ring that a thread on the spare CPU drains in bursts, calling each item. */
class ring_channel {
public:
	explicit ring_channel(unsigned n) : jobs_(n), ring_(bench::make_spsc_ring("bench_handoff", n)) {}
	~ring_channel() { stop_.store(true, std::memory_order_relaxed); }
	ring_channel(const ring_channel &) = delete;
	ring_channel &operator=(const ring_channel &) = delete;

	const char *error() const
	{
		if (!ring_)
			return "cannot create the ring";
		return consumer_.ok() ? nullptr : "needs a CPU besides the main lcore's";
	}
	stamp &at(unsigned i) { return jobs_[i].s; }
	bool send(unsigned i) { return rte_ring_sp_enqueue(ring_.get(), &jobs_[i]) == 0; }

private:
	static constexpr unsigned burst = 32;

	struct job {
		void (*fn)(stamp &) = bench::start_item;
		stamp s;
	};

	void consume()
	{
		void *out[burst];
		while (ring_ && !stop_.load(std::memory_order_relaxed)) {
			const unsigned got = rte_ring_sc_dequeue_burst(ring_.get(), out, burst, nullptr);
			for (unsigned i = 0; i < got; i++) {
				job &j = *static_cast<job *>(out[i]);
				j.fn(j.s);
			}
		}
	}

	std::vector<job> jobs_;
	bench::ring_ptr ring_;
	std::atomic<bool> stop_{false};
	/* Declared last: joined before the ring goes. */
	bench::spare_cpu_thread consumer_{[this] { consume(); }};
};

void register_benchmarks()
{
	bench::register_defer("BM_tasklet_schedule_run", bench::bm_defer<tasklet_dispatch<bh::tasklet_schedule>>);
	bench::register_defer("BM_tasklet_hi_schedule_run",
			      bench::bm_defer<tasklet_dispatch<bh::tasklet_hi_schedule>>);
	bench::register_defer_peers();

	bench::register_handoff<tasklet_channel>("BM_tasklet_schedule_on_remote");
	bench::register_handoff<ring_channel>("BM_peer_rte_ring_thread");
	bench::register_handoff<bench::asio_thread_channel<false>>("BM_peer_asio_run_thread");
	bench::register_handoff<bench::asio_thread_channel<true>>("BM_peer_asio_poll_thread");
}

} // namespace

int main(int argc, char **argv)
{
	return bench::run(argc, argv, {"bench_tasklet", nullptr, register_benchmarks});
}
