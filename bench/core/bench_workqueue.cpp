/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cost of work queues, next to plain peers doing the same job: items
 * queued from the main lcore to a worker thread, timed end to end (items
 * per second until all ran, and each item's queue-to-start latency) and
 * for the producer alone. The framework's queues (a created unbound queue
 * with one worker, and the default "events" queue) stand beside an
 * io_context run by one thread and a mutex+condvar queue with one
 * consumer. See docs/benchmarks.md.
 */
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "bench_handoff.h"
#include "bench_support.h"
#include "bh_workqueue.h"

namespace {

using bench::stamp;

/* The default queue: one worker per lcore, the main lcore's on the CPUs it does not use. */
struct events_queue {
	bh::workqueue *get() const { return bh::system_wq(); }
};

/* A queue of the benchmark's own, unbound with one worker (like an ordered queue), destroyed with it. */
class unbound_queue {
public:
	unbound_queue() = default;
	unbound_queue(const unbound_queue &) = delete;
	unbound_queue &operator=(const unbound_queue &) = delete;
	~unbound_queue()
	{
		if (wq_)
			bh::destroy_workqueue(wq_);
	}
	bh::workqueue *get() const { return wq_; }

private:
	bh::workqueue *wq_ = bh::create_workqueue("bench_unbound", {.unbound = true, .max_active = 1});
};

template <class Queue>
class work_channel {
public:
	explicit work_channel(unsigned n) : items_(std::make_unique<item[]>(n)) {}

	const char *error() const { return queue_.get() ? nullptr : "cannot create the work queue"; }
	stamp &at(unsigned i) { return items_[i].s; }
	bool send(unsigned i) { return bh::queue_work(queue_.get(), items_[i].w); }

private:
	struct item {
		stamp s;
		bh::work w{run, &s};
		static void run(void *s) { bench::start_item(*static_cast<stamp *>(s)); }
	};
	std::unique_ptr<item[]> items_;
	/* Declared last: a created queue is destroyed before the items. */
	Queue queue_;
};

/*
 * The textbook worker: a vector under a mutex, a condition variable to
 * sleep on, and one consumer that swaps out everything posted and runs it
 * outside the lock.
 */
class condvar_channel {
public:
	explicit condvar_channel(unsigned n) : stamps_(n)
	{
		posted_.reserve(n);
		taken_.reserve(n);
	}
	~condvar_channel()
	{
		{
			std::lock_guard lock(m_);
			stop_ = true;
		}
		cv_.notify_one();
	}
	condvar_channel(const condvar_channel &) = delete;
	condvar_channel &operator=(const condvar_channel &) = delete;

	const char *error() const { return consumer_.ok() ? nullptr : "needs a CPU besides the main lcore's"; }
	stamp &at(unsigned i) { return stamps_[i]; }
	bool send(unsigned i)
	{
		{
			std::lock_guard lock(m_);
			posted_.push_back(&stamps_[i]);
		}
		cv_.notify_one();
		return true;
	}

private:
	void consume()
	{
		std::unique_lock lock(m_);
		for (;;) {
			cv_.wait(lock, [this] { return stop_ || !posted_.empty(); });
			if (posted_.empty())
				return;
			posted_.swap(taken_);
			lock.unlock();
			for (stamp *s : taken_)
				bench::start_item(*s);
			taken_.clear();
			lock.lock();
		}
	}

	std::vector<stamp> stamps_;
	std::mutex m_;
	std::condition_variable cv_;
	std::vector<stamp *> posted_; /* under m_ */
	std::vector<stamp *> taken_;  /* the consumer's */
	bool stop_ = false;           /* under m_ */
	/* Declared last: joined before the rest goes. */
	bench::spare_cpu_thread consumer_{[this] { consume(); }};
};

void register_benchmarks()
{
	bench::register_handoff<work_channel<unbound_queue>>("BM_queue_work_unbound");
	bench::register_handoff<work_channel<events_queue>>("BM_queue_work_events");
	bench::register_handoff<bench::asio_thread_channel<false>>("BM_peer_asio_run_thread");
	bench::register_handoff<condvar_channel>("BM_peer_mutex_condvar_thread");
}

} // namespace

int main(int argc, char **argv)
{
	return bench::run(argc, argv, {"bench_workqueue", nullptr, register_benchmarks});
}
