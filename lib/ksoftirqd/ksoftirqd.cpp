/* SPDX-License-Identifier: BSD-3-Clause */
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <sched.h>
#include <sys/resource.h>
#include <system_error>
#include <thread>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_pause.h>

#include "bh_ksoftirqd.h"
#include "lcore_ids_private.h"
#include "log_private.h"
#include "softirq_private.h"

namespace bh {

namespace {

using detail::softirq_lcore;
using detail::softirq_state;
using detail::thread_role;

/*
 * Thread handles are touched only under threads_mutex by spawn and reap,
 * which run on control paths (start, attach, stop, detach). stop is read
 * by the ksoftirqd thread.
 */
struct kthread {
	std::thread thread;
	std::atomic<bool> stop{false};
	std::atomic<bool> ready{false}; /* pinned and niced: spawn returns only then */
	std::atomic<unsigned> dpdk_lcore{LCORE_ID_ANY}; /* its own, written by the thread */
};

std::mutex threads_mutex;
kthread threads[max_lcores];
ksoftirqd_config kconfig; /* [I] under threads_mutex, read at spawn */
bool config_locked;       /* set while bh::start() holds the table */

void setup_thread(unsigned lcore, const ksoftirqd_config &cfg, const rte_cpuset_t &lcore_cpus)
{
	char name[16];
	snprintf(name, sizeof(name), "ksoftirqd/%u", lcore);
	rte_cpuset_t set = cfg.same_cpu ? lcore_cpus : cfg.cpuset;
	if (CPU_COUNT(&set) > 0 && pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		BH_LOG(WARNING, log::ksoftirqd, "%s: cannot set CPU affinity, left unpinned", name);
	if (cfg.nice != 0 && setpriority(PRIO_PROCESS, gettid(), cfg.nice) != 0)
		BH_LOG(WARNING, log::ksoftirqd, "%s: cannot set nice %d", name, cfg.nice);
}

/*
 * @p seen: the kick word at spawn, so that a kick before this thread runs
 * is not missed. @p take_lcore_id: register as a DPDK lcore.
 */
void ksoftirqd_main(unsigned lcore, ksoftirqd_config cfg, rte_cpuset_t lcore_cpus, uint32_t seen, bool take_lcore_id)
{
	detail::tl_lcore = lcore;
	detail::tl_role = thread_role::ksoftirqd;
	setup_thread(lcore, cfg, lcore_cpus);
	/*
	 * A DPDK lcore id of its own (after pinning: EAL records the affinity)
	 * gives the softirqs run here their own mempool cache, so NET_RX/NET_TX
	 * taken over by ksoftirqd free and allocate mbufs as fast as on the
	 * lcore rather than through the pool's shared, locked path. The
	 * framework's per-lcore data stays indexed by the lcore (tl_lcore).
	 */
	softirq_lcore &s = softirq_state[lcore];
	kthread &k = threads[lcore];
	const bool registered = take_lcore_id && rte_thread_register() == 0;
	if (registered)
		k.dpdk_lcore.store(rte_lcore_id(), std::memory_order_relaxed);
	else if (take_lcore_id)
		BH_LOG(WARNING, log::ksoftirqd, "ksoftirqd/%u: no DPDK lcore id (%s): mbufs it frees bypass the mempool caches",
		       lcore, rte_errno ? rte_strerror(rte_errno) : "all taken");
	k.ready.store(true, std::memory_order_release);
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
			 * lcore; we step aside only when the lcore waits in
			 * local_bh_disable, which must not wait more than one batch.
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

} // namespace

void detail::exec_lock_acquire(softirq_lcore &s) noexcept
{
	if (exec_lock_try(s))
		return;
	/*
	 * Only the lcore announces that it waits: ksoftirqd steps aside for it
	 * after each batch. ksoftirqd waiting for the lcore must not touch the
	 * flag, or its clearing store could erase the lcore's announcement and
	 * leave the lcore spinning against a ksoftirqd that never steps aside.
	 */
	const bool lcore = tl_role != thread_role::ksoftirqd;
	if (lcore)
		s.lcore_waits.store(true, std::memory_order_release);
	unsigned spins = 0;
	while (!exec_lock_try(s)) {
		if (++spins < 128)
			rte_pause();
		else
			sched_yield();
	}
	if (lcore)
		s.lcore_waits.store(false, std::memory_order_release);
}

bool detail::exec_lock_try(softirq_lcore &s) noexcept
{
	return !s.exec_lock.load(std::memory_order_relaxed) &&
	       !s.exec_lock.exchange(true, std::memory_order_acquire);
}

void detail::exec_lock_release(softirq_lcore &s) noexcept
{
	s.exec_lock.store(false, std::memory_order_release);
}

void detail::wakeup_softirqd(softirq_lcore &s) noexcept
{
	if (!s.has_ksoftirqd.load(std::memory_order_acquire) ||
	    s.ksoftirqd_active.load(std::memory_order_relaxed))
		return;
	s.ksoftirqd_active.store(true, std::memory_order_relaxed);
	s.ksoftirqd_wakeups.add();
	s.ksoftirqd_kick.fetch_add(1, std::memory_order_release);
	s.ksoftirqd_kick.notify_one();
}

int detail::ksoftirqd_spawn(unsigned lcore, const rte_cpuset_t &lcore_cpus) noexcept
{
	std::lock_guard lock(threads_mutex);
	config_locked = true;
	kthread &k = threads[lcore];
	if (k.thread.joinable())
		return 0;
	k.stop.store(false, std::memory_order_relaxed);
	k.ready.store(false, std::memory_order_relaxed);
	/* An lcore id would close DPDK's multi-process channel (dumpcap) for good. */
	const bool take_lcore_id = !detail::mp_channel_available();
	if (!take_lcore_id)
		BH_LOG(INFO, log::ksoftirqd,
		       "ksoftirqd/%u: no DPDK lcore id of its own, which would close the multi-process channel: "
		       "mbufs it frees go through the mempools' shared path", lcore);
	try {
		k.thread = std::thread(ksoftirqd_main, lcore, kconfig, lcore_cpus,
				       softirq_state[lcore].ksoftirqd_kick.load(std::memory_order_acquire), take_lcore_id);
	} catch (const std::system_error &e) {
		BH_LOG(ERR, log::ksoftirqd, "cannot create ksoftirqd/%u: %s", lcore, e.what());
		return -e.code().value();
	}
	/* Named here, not in the thread, so that it has its name once created. */
	char name[16];
	snprintf(name, sizeof(name), "ksoftirqd/%u", lcore);
	pthread_setname_np(k.thread.native_handle(), name);
	while (!k.ready.load(std::memory_order_acquire))
		std::this_thread::yield();
	softirq_state[lcore].has_ksoftirqd.store(true, std::memory_order_release);
	return 0;
}

void detail::ksoftirqd_reap(unsigned lcore) noexcept
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

void detail::ksoftirqd_reap_all() noexcept
{
	for (unsigned l = 0; l < max_lcores; l++)
		ksoftirqd_reap(l);
	std::lock_guard lock(threads_mutex);
	config_locked = false;
}

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
