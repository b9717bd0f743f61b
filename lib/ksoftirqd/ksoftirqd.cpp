/* SPDX-License-Identifier: BSD-3-Clause */
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <sched.h>
#include <system_error>
#include <thread>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_telemetry.h>

#include "bh_ksoftirqd.h"
#include "kthread_private.h"
#include "ksoftirqd_private.h"
#include "lcore_ids_private.h"
#include "log_private.h"
#include "softirq_private.h"
#include "telemetry_private.h"

namespace bh {

namespace {

using detail::softirq_lcore;
using detail::softirq_state;
using detail::thread_role;

/*
 * One lcore's ksoftirqd. thread: under threads_mutex, by spawn and reap on
 * control paths (start, attach, stop, detach). stop: set by reap, read by
 * the thread. dpdk_lcore: written by the thread, read by anyone.
 */
struct kthread {
	std::thread thread;
	std::atomic<bool> stop{false};
	std::atomic<unsigned> dpdk_lcore{LCORE_ID_ANY};
};

std::mutex threads_mutex;
kthread threads[max_lcores];
ksoftirqd_config kconfig; /* under threads_mutex, read at spawn */
bool config_locked;       /* under threads_mutex: set while the framework runs */

/*
 * The thread's body. @p seen: the kick word at spawn, so that a kick
 * before this thread runs is not missed. @p take_lcore_id: register as a
 * DPDK lcore (after pinning: EAL records the affinity), which gives the
 * softirqs run here their own mempool cache, so NET_RX/NET_TX taken over by
 * ksoftirqd free and allocate mbufs as fast as on the lcore rather than
 * through the pool's shared, locked path. The framework's per-lcore data
 * stays indexed by the lcore (tl_lcore).
 */
template <class Ready>
void ksoftirqd_main(unsigned lcore, uint32_t seen, bool take_lcore_id, Ready &&ready)
{
	detail::tl_lcore = lcore;
	detail::tl_role = thread_role::ksoftirqd;
	softirq_lcore &s = softirq_state[lcore];
	kthread &k = threads[lcore];
	const bool registered = take_lcore_id && rte_thread_register() == 0;
	if (registered)
		k.dpdk_lcore.store(rte_lcore_id(), std::memory_order_relaxed);
	else if (take_lcore_id)
		BH_LOG(WARNING, log::ksoftirqd, "ksoftirqd/%u: no DPDK lcore id (%s): mbufs it frees bypass the mempool caches",
		       lcore, rte_errno ? rte_strerror(rte_errno) : "all taken");
	ready();
	for (;;) {
		s.ksoftirqd_kick.wait(seen, std::memory_order_acquire);
		seen = s.ksoftirqd_kick.load(std::memory_order_acquire);
		if (k.stop.load(std::memory_order_acquire))
			break;
		while ((s.pending.load(std::memory_order_acquire) & ~detail::lcore_only_mask) &&
		       !k.stop.load(std::memory_order_relaxed)) {
			detail::exec_lock_acquire(s);
			detail::run_softirqs(s, thread_role::ksoftirqd, ~detail::lcore_only_mask);
			detail::exec_lock_release(s);
			s.ksoftirqd_batches.add();
			/*
			 * cond_resched(): the scheduler shares the CPU between us and the
			 * lcore; we step aside only when the lcore waits for the
			 * execution lock, which must not wait more than one batch.
			 */
			while (s.lcore_waits.load(std::memory_order_acquire))
				sched_yield();
		}
		/*
		 * Give the softirqs back. Whatever is raised from now on is run by
		 * the lcore at its next irq_exit: its loop never sleeps with work
		 * pending, so nothing is stranded between this store and the wait.
		 */
		s.ksoftirqd_active.store(false, std::memory_order_seq_cst);
	}
	s.ksoftirqd_active.store(false, std::memory_order_release);
	if (registered) {
		k.dpdk_lcore.store(LCORE_ID_ANY, std::memory_order_relaxed);
		rte_thread_unregister();
	}
}

int spawn(unsigned lcore) noexcept
{
	std::lock_guard lock(threads_mutex);
	kthread &k = threads[lcore];
	if (k.thread.joinable())
		return 0;
	k.stop.store(false, std::memory_order_relaxed);
	/* An lcore id would close DPDK's multi-process channel (dumpcap) for good. */
	const bool take_lcore_id = !detail::mp_channel_available();
	if (!take_lcore_id)
		BH_LOG(INFO, log::ksoftirqd,
		       "ksoftirqd/%u: no DPDK lcore id of its own, which would close the multi-process channel: "
		       "mbufs it frees go through the mempools' shared path", lcore);
	detail::kthread_attr attr{"ksoftirqd/" + std::to_string(lcore),
				  kconfig.same_cpu ? detail::lcore_cpus(lcore) : kconfig.cpuset, kconfig.nice,
				  log::ksoftirqd};
	const uint32_t seen = softirq_state[lcore].ksoftirqd_kick.load(std::memory_order_acquire);
	try {
		k.thread = detail::kthread_start(attr, [lcore, seen, take_lcore_id](auto ready) {
			ksoftirqd_main(lcore, seen, take_lcore_id, ready);
		});
	} catch (const std::system_error &e) {
		BH_LOG(ERR, log::ksoftirqd, "cannot create ksoftirqd/%u: %s", lcore, e.what());
		return -e.code().value();
	}
	softirq_state[lcore].has_ksoftirqd.store(true, std::memory_order_release);
	return 0;
}

void reap(unsigned lcore) noexcept
{
	std::lock_guard lock(threads_mutex);
	kthread &k = threads[lcore];
	if (!k.thread.joinable())
		return;
	softirq_lcore &s = softirq_state[lcore];
	s.has_ksoftirqd.store(false, std::memory_order_release);
	k.stop.store(true, std::memory_order_release);
	s.ksoftirqd_kick.fetch_add(1, std::memory_order_release);
	s.ksoftirqd_kick.notify_one();
	k.thread.join();
}

int ksoftirqd_reply(unsigned lcore, rte_tel_data *d)
{
	const ksoftirqd_stats s = ksoftirqd_get_stats(lcore);
	return detail::telemetry_reply(d, {{"exists", s.exists},
					   {"active", s.active},
					   {"wakeups", s.wakeups},
					   {"batches", s.batches},
					   {"softirqs", s.softirqs},
					   {"dpdk_lcore_id", s.dpdk_lcore}});
}

constexpr detail::telemetry_command commands[] = {
	{"/bh/ksoftirqd", detail::telemetry_per_lcore<ksoftirqd_reply>,
	 "Returns the counters of an lcore's ksoftirqd. Parameters: int lcore_id"},
};

void lock_config(bool locked)
{
	std::lock_guard lock(threads_mutex);
	config_locked = locked;
}

} // namespace

const subsystem detail::ksoftirqd_subsystem = {
	.name = "ksoftirqd",
	.open = [] {
		static std::once_flag once;
		detail::telemetry_register_once(once, commands);
		lock_config(true);
		return 0;
	},
	.close = [] { lock_config(false); },
	.lcore_up = spawn,
	.lcore_down = reap,
};

int ksoftirqd_set_config(const ksoftirqd_config &cfg) noexcept
{
	if (cfg.nice < -20 || cfg.nice > 19) {
		BH_LOG(ERR, log::ksoftirqd, "ksoftirqd_set_config: nice %d outside -20..19", cfg.nice);
		return -EINVAL;
	}
	if (!cfg.same_cpu && CPU_COUNT(&cfg.cpuset) == 0) {
		BH_LOG(ERR, log::ksoftirqd, "ksoftirqd_set_config: empty cpuset");
		return -EINVAL;
	}
	std::lock_guard lock(threads_mutex);
	if (config_locked) {
		BH_LOG(ERR, log::ksoftirqd, "ksoftirqd_set_config: refused while ksoftirqd threads exist");
		return -EBUSY;
	}
	kconfig = cfg;
	return 0;
}

ksoftirqd_config ksoftirqd_get_config() noexcept
{
	std::lock_guard lock(threads_mutex);
	return kconfig;
}

ksoftirqd_stats ksoftirqd_get_stats(unsigned lcore) noexcept
{
	ksoftirqd_stats st;
	if (lcore >= max_lcores)
		return st;
	const softirq_lcore &s = softirq_state[lcore];
	st.exists = s.has_ksoftirqd.load(std::memory_order_acquire);
	st.active = s.ksoftirqd_active.load(std::memory_order_acquire);
	st.wakeups = s.ksoftirqd_wakeups.read();
	st.batches = s.ksoftirqd_batches.read();
	st.dpdk_lcore = threads[lcore].dpdk_lcore.load(std::memory_order_relaxed);
	for (unsigned nr = 0; nr < NR_SOFTIRQS; nr++)
		st.softirqs += s.run_ksoftirqd[nr].read();
	return st;
}

bool in_ksoftirqd() noexcept
{
	return detail::tl_role == thread_role::ksoftirqd;
}

} // namespace bh
