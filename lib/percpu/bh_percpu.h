/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/**
 * @file
 * Per-lcore data (SPEC section 1).
 *
 * Everything on the fast path (pending masks, tasklet lists, poll lists,
 * Tx buffers, counters) lives in one cache-line-aligned slot per lcore id,
 * reached from the owning lcore with no atomic and no lock. This header is
 * the whole of the concept: it has no library code behind it.
 */

#include <atomic>
#include <cstdint>
#include <new>

#include <rte_common.h>
#include <rte_lcore.h>

namespace bh {

/** Number of per-lcore slots: every lcore id DPDK can hand out. */
inline constexpr unsigned max_lcores = RTE_MAX_LCORE;

/** Value of lcore_id() on a thread that is not an lcore. */
inline constexpr unsigned no_lcore = LCORE_ID_ANY;

namespace detail {
/*
 * The lcore a thread acts for. Normally the thread's own DPDK lcore id; a
 * ksoftirqd thread sets it to the lcore it serves so that handlers it runs
 * find that lcore's data, as ksoftirqd/n in the kernel runs on CPU n.
 */
extern constinit thread_local unsigned tl_lcore __attribute__((tls_model("initial-exec")));
} // namespace detail

/**
 * The lcore the calling thread acts for (the kernel's smp_processor_id).
 * Returns no_lcore on a thread that is neither a DPDK lcore (EAL or
 * registered with rte_thread_register) nor a ksoftirqd thread, which acts
 * for the lcore it serves.
 * @context Any thread.
 * @cost A thread-local read (two on a thread that never attached).
 */
inline unsigned lcore_id() noexcept
{
	unsigned id = detail::tl_lcore;
	return id != no_lcore ? id : rte_lcore_id();
}

/**
 * One T per lcore id, each in its own cache line(s).
 *
 * A slot belongs to its lcore: other threads may read it only through
 * atomics the type itself provides. Objects are constructed at static
 * initialisation, so a per_lcore is normally a namespace-scope variable.
 */
template <class T>
class per_lcore {
public:
	/** The slot of @p lcore, which must be below max_lcores. No check, no cost. */
	T &operator[](unsigned lcore) noexcept { return slots_[lcore].value; }
	/** The slot of @p lcore, read-only. */
	const T &operator[](unsigned lcore) const noexcept { return slots_[lcore].value; }

	/**
	 * The calling lcore's slot.
	 * @context A thread where lcore_id() != no_lcore: an lcore or its ksoftirqd.
	 * @cost lcore_id() and an index.
	 */
	T &this_lcore() noexcept { return slots_[lcore_id()].value; }

private:
	struct alignas(RTE_CACHE_LINE_SIZE) slot {
		T value{};
	};
	slot slots_[max_lcores];
};

/**
 * A counter with one writer (the lcore that owns it, or whoever holds the
 * right to run that lcore's softirqs) and any number of readers.
 *
 * The increment is a plain load and store, no locked instruction; readers on
 * other threads see a value that is at most a few increments old.
 */
class lcore_counter {
public:
	/**
	 * Adds @p n.
	 * @context The counter's one writer.
	 * @cost A plain load and store.
	 */
	void add(uint64_t n = 1) noexcept { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
	/**
	 * The value, at most a few increments old.
	 * @context Any thread.
	 * @cost A relaxed load.
	 */
	uint64_t read() const noexcept { return v_.load(std::memory_order_relaxed); }
	/**
	 * Sets it to 0.
	 * @context The writer, or any thread while nothing writes.
	 * @cost A store.
	 */
	void reset() noexcept { v_.store(0, std::memory_order_relaxed); }

private:
	std::atomic<uint64_t> v_{0};
};

} // namespace bh
