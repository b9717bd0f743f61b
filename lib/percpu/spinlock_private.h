/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * A spinlock for critical sections of a few instructions on slow paths
 * (a timer's re-configuration, a queue's list of armed delayed work), on a
 * std::atomic<bool> the protected object owns. Not rte_spinlock: on x86 that
 * is inline assembly, which ThreadSanitizer cannot see, so every section it
 * guards would be reported as a race. Not installed.
 */

#include <atomic>
#include <sched.h>

#include <rte_pause.h>

namespace bh::detail {

inline void spin_lock(std::atomic<bool> &l) noexcept
{
	for (unsigned spins = 0; l.exchange(true, std::memory_order_acquire);)
		while (l.load(std::memory_order_relaxed)) {
			if (++spins % 256)
				rte_pause();
			else
				sched_yield();
		}
}

inline void spin_unlock(std::atomic<bool> &l) noexcept
{
	l.store(false, std::memory_order_release);
}

/* Holds @p l for its scope. */
class spin_guard {
public:
	explicit spin_guard(std::atomic<bool> &l) noexcept : l_(l) { spin_lock(l_); }
	~spin_guard() { spin_unlock(l_); }
	spin_guard(const spin_guard &) = delete;
	spin_guard &operator=(const spin_guard &) = delete;

	/*
	 * Drops the lock for a moment, to let a state that another thread is
	 * about to leave pass; yields now and then, in case that thread waits
	 * for this CPU.
	 */
	void relax() noexcept
	{
		spin_unlock(l_);
		if (++relaxed_ % 64)
			rte_pause();
		else
			sched_yield();
		spin_lock(l_);
	}

private:
	std::atomic<bool> &l_;
	unsigned relaxed_ = 0;
};

} // namespace bh::detail
