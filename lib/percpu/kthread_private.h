/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The threads the framework makes for its lcores (ksoftirqd/<n>, a work
 * queue's <name>/<n>): named, placed and niced on the thread itself before
 * its body runs, and returned only once the body says it is ready, so that
 * whoever made it sees it set up. Not installed.
 */

#include <atomic>
#include <string>
#include <thread>
#include <utility>

#include <rte_lcore.h>

#include "wait_private.h"

namespace bh::detail {

struct kthread_attr {
	std::string name;  /* at most 15 characters are kept (the kernel's limit) */
	rte_cpuset_t cpus; /* empty: keep the creator's */
	int nice = 0;      /* 0: keep the creator's */
	int log_type;      /* where a failed placement or nice is reported (a warning: the thread still runs) */
};

/* Names, places and nices the calling thread as @p a says. */
void kthread_setup(const kthread_attr &a) noexcept;

/*
 * Starts @p body(ready) on a new thread set up as @p a says and returns it
 * once @p body has called ready(). Throws std::system_error if the thread
 * cannot be created.
 */
template <class Body>
std::thread kthread_start(const kthread_attr &a, Body &&body)
{
	std::atomic<bool> up{false};
	std::thread t([&a, &up, body = std::forward<Body>(body)]() mutable {
		kthread_setup(a);
		body([&up] { up.store(true, std::memory_order_release); });
	});
	wait_for([&] { return up.load(std::memory_order_acquire); });
	return t;
}

} // namespace bh::detail
