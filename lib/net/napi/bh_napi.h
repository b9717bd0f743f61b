/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/**
 * @file
 * NAPI-like polling contexts and the NET_RX softirq (SPEC section 8).
 *
 * A top half calls napi_schedule(): the context goes on the calling
 * lcore's poll list and NET_RX is raised. NET_RX walks the list with a
 * budget (default 300 packets) and a time limit (default 2 ms), calling each
 * context's poll function with its weight (default 64). A context that used
 * its whole weight stays on the list; one that did not calls
 * napi_complete_done() from its poll function and leaves it (in interrupt
 * mode, completion is where the Rx interrupt is re-armed). Running out of
 * budget or time counts a time_squeeze; work left on the list re-raises
 * NET_RX, unless every context left is driven (see napi::set_driven). A schedule that
 * races with completion is never lost: it sets MISSED, and completion then
 * keeps the context scheduled.
 */

#include <atomic>
#include <cstdint>

namespace bh::net {

namespace detail {
struct napi_access;
}

/** A polling context: one Rx queue's (or any source's) entry on an lcore's poll list. */
class napi {
public:
	/** Polls at most @p budget packets; returns how many it handled. Runs in NET_RX (softirq context). */
	using poll_fn = int (*)(napi &n, int budget);

	/** A context polled by @p fn with @p weight packets per call; @p data is for @p fn. */
	napi(poll_fn fn, void *data, int weight = 64) noexcept : poll_(fn), data_(data), weight_(weight) {}
	napi(const napi &) = delete;
	napi &operator=(const napi &) = delete;

	/**
	 * The data given at construction.
	 * @context Any thread.
	 * @cost None.
	 */
	void *data() const noexcept { return data_; }
	/**
	 * Packets per poll call.
	 * @context Any thread.
	 * @cost None.
	 */
	int weight() const noexcept { return weight_; }

	/**
	 * A driven context is one a top half keeps raising NET_RX for on every
	 * pass of its lcore's loop (poll mode). NET_RX does not re-raise itself
	 * for it when it used its weight: at full load that would turn the
	 * lcore's own polling into a softirq flood and hand it to ksoftirqd,
	 * where it costs a second thread on the same CPU.
	 * @context Any thread.
	 * @cost A relaxed store.
	 */
	void set_driven(bool driven) noexcept { driven_.store(driven, std::memory_order_relaxed); }
	/**
	 * Set by set_driven().
	 * @context Any thread.
	 * @cost A relaxed load.
	 */
	bool driven() const noexcept { return driven_.load(std::memory_order_relaxed); }
	/**
	 * On a poll list (or about to be).
	 * @context Any thread.
	 * @cost An atomic load.
	 */
	bool scheduled() const noexcept;

private:
	friend struct detail::napi_access;
	napi *next_ = nullptr; /* poll list / inbox link, owned by SCHED */
	std::atomic<uint32_t> state_{0};
	std::atomic<bool> driven_{false};
	poll_fn poll_;
	void *data_;
	int weight_;
};

/**
 * Puts @p n on the calling lcore's poll list and raises NET_RX, unless it
 * is scheduled already (then it notes a MISSED schedule) (napi_schedule).
 * @return true if this call scheduled it; false if it was scheduled, or if
 *   the caller is not an lcore (logged).
 * @context An lcore: a top half or a softirq.
 * @cost A CAS, a list append (an inbox push while ksoftirqd owns the
 *   lcore's softirqs), a raise.
 */
bool napi_schedule(napi &n) noexcept;

/**
 * Called by a poll function that handled fewer packets than its budget
 * (napi_complete_done).
 * @return true if @p n is now off the poll list (re-arm interrupts);
 *   false if a schedule raced with it (MISSED): it stays scheduled and is
 *   polled again.
 * @context Its poll function, in NET_RX.
 * @cost A CAS.
 */
bool napi_complete_done(napi &n, int work_done) noexcept;

/** NET_RX limits; set before bh::start(). */
struct napi_config {
	int budget = 300;                 /**< packets per NET_RX pass, over all contexts */
	uint64_t time_limit_ns = 2000000; /**< time per NET_RX pass */
};

/**
 * Sets the NET_RX limits.
 * @return 0; -EINVAL for a non-positive limit (logged).
 * @context Main thread, before bh::start() (net_init() calls it).
 * @cost A copy.
 */
int napi_set_config(const napi_config &cfg) noexcept;
/**
 * The NET_RX limits in force.
 * @context Any thread.
 * @cost A copy.
 */
napi_config napi_get_config() noexcept;

/** Per-lcore NET_RX counters, like /proc/net/softnet_stat. */
struct softnet_stat {
	uint64_t processed = 0;    /**< packets the poll functions handled */
	uint64_t polls = 0;        /**< poll function calls */
	uint64_t time_squeeze = 0; /**< passes that ended on budget or time with work left */
	uint64_t passes = 0;       /**< NET_RX runs */
};

/**
 * NET_RX counters of @p lcore (zeros for an id out of range).
 * @context Any thread.
 * @cost Four relaxed loads.
 */
softnet_stat softnet_get(unsigned lcore) noexcept;

} // namespace bh::net
