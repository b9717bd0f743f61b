/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The hand-written intrusive inbox (lib/percpu/intrusive_inbox.h), which
 * carries remote tasklets and work items, against the lock-free containers
 * of Boost.Lockfree that could do its job: a queue and a stack of node
 * pointers, both fixed-size so that neither allocates. Each moves batches
 * of nodes from producers to one consumer that takes them all and reads
 * each: on one thread (the containers' own cost), from a producer on the
 * other CPU, and from two producers at once, one per CPU. See
 * docs/benchmarks.md.
 */
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/stack.hpp>
#include <rte_pause.h>

#include "bench_support.h"
#include "intrusive_inbox.h"

namespace {

constexpr unsigned max_batch = 1024;
constexpr unsigned max_producers = 2;

struct node {
	node *next = nullptr;
	uint64_t value = 1;
};

node *&next_of(node &n)
{
	return n.next;
}

/* The three contenders behind one interface: push a node, hand every node taken to f. */
struct inbox {
	bh::detail::intrusive_inbox<node, &next_of> q;

	bool push(node &n)
	{
		q.push(n);
		return true;
	}
	template <class F>
	void consume(F &&f)
	{
		q.drain(f);
	}
};

using lockfree_capacity = boost::lockfree::capacity<max_batch * max_producers>;

struct lockfree_queue {
	boost::lockfree::queue<node *, lockfree_capacity> q;

	bool push(node &n) { return q.push(&n); }
	template <class F>
	void consume(F &&f)
	{
		q.consume_all([&](node *n) { f(*n); });
	}
};

/* LIFO: nodes come out newest first, where the inbox and the queue keep FIFO order. */
struct lockfree_stack {
	boost::lockfree::stack<node *, lockfree_capacity> q;

	bool push(node &n) { return q.push(&n); }
	template <class F>
	void consume(F &&f)
	{
		q.consume_all([&](node *n) { f(*n); });
	}
};

/* Reports the cost per node and fails the run if a node was refused or lost. */
void finish(benchmark::State &state, uint64_t nodes_per_iteration, uint64_t taken, bool refused)
{
	const uint64_t pushed = uint64_t(state.iterations()) * nodes_per_iteration;
	if (refused || taken != pushed)
		state.SkipWithError(refused ? "a push was refused" : "a node was lost");
	state.SetItemsProcessed(int64_t(pushed));
	state.counters["per_item"] = bench::per_op(double(nodes_per_iteration));
}

/* Push a batch and take it back on the same thread: no line moves between CPUs. */
template <class Q>
void bm_same_thread(benchmark::State &state)
{
	const auto batch = unsigned(state.range(0));
	/* On the heap: the Boost containers hold their fixed pool inline. */
	auto q = std::make_unique<Q>();
	std::vector<node> nodes(batch);
	uint64_t taken = 0;
	bool refused = false;
	for (auto _ : state) {
		for (node &n : nodes)
			refused |= !q->push(n);
		q->consume([&](node &n) { taken += n.value; });
	}
	finish(state, batch, taken, refused);
}

/*
 * A helper thread on the spare CPU pushes a batch each round; with two
 * producers the main thread pushes its own batch at the same time, then
 * takes until it has both. Each round starts once the last is taken, so
 * no node is pushed twice.
 */
template <class Q>
void bm_cross_thread(benchmark::State &state)
{
	const auto batch = unsigned(state.range(0));
	const auto producers = unsigned(state.range(1));
	auto q = std::make_unique<Q>();
	std::vector<node> mine(batch), theirs(batch);
	std::atomic<uint64_t> round{0};
	std::atomic<bool> stop{false}, helper_refused{false};
	bench::spare_cpu_thread helper([&] {
		uint64_t seen = 0;
		while (!stop.load(std::memory_order_relaxed)) {
			const uint64_t r = round.load(std::memory_order_acquire);
			if (r == seen) {
				rte_pause();
				continue;
			}
			seen = r;
			for (node &n : theirs)
				if (!q->push(n))
					helper_refused.store(true, std::memory_order_relaxed);
		}
	});
	if (!helper.ok()) {
		state.SkipWithError("needs a CPU besides the main lcore's");
		return;
	}
	const uint64_t per_round = uint64_t(batch) * producers;
	uint64_t taken = 0;
	bool refused = false;
	for (auto _ : state) {
		const uint64_t until = taken + per_round;
		round.fetch_add(1, std::memory_order_release);
		if (producers == max_producers)
			for (node &n : mine)
				refused |= !q->push(n);
		while (taken < until && !refused && !helper_refused.load(std::memory_order_relaxed))
			q->consume([&](node &n) { taken += n.value; });
	}
	stop.store(true, std::memory_order_relaxed);
	finish(state, per_round, taken, refused || helper_refused.load());
}

template <class Q>
void bm_cross_thread_probed(benchmark::State &state)
{
	bench::probe_placement(state, [&] { bm_cross_thread<Q>(state); });
}

template <class Q>
void register_contender(const std::string &name)
{
	benchmark::RegisterBenchmark(name.c_str(), bm_same_thread<Q>)->ArgName("batch")->Arg(1)->Arg(32)->Arg(max_batch);
	benchmark::RegisterBenchmark((name + "_cross").c_str(), bm_cross_thread_probed<Q>)
		->ArgNames({"batch", "producers"})
		->ArgsProduct({{32, max_batch}, {1, max_producers}})
		->UseRealTime();
}

void register_benchmarks()
{
	register_contender<inbox>("BM_intrusive_inbox");
	register_contender<lockfree_queue>("BM_boost_lockfree_queue");
	register_contender<lockfree_stack>("BM_boost_lockfree_stack");
}

} // namespace

int main(int argc, char **argv)
{
	return bench::run(argc, argv, {"bench_inbox", nullptr, register_benchmarks});
}
