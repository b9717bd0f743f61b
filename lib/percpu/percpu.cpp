/* SPDX-License-Identifier: BSD-3-Clause */
#include <atomic>
#include <cstdlib>
#include <pthread.h>
#include <csignal>
#include <sys/resource.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_log.h>

#include "bh_percpu.h"
#include "kthread_private.h"
#include "log_private.h"
#include "percpu_private.h"

namespace bh::detail {

constinit thread_local unsigned tl_lcore __attribute__((tls_model("initial-exec"))) = no_lcore;
constinit thread_local thread_role tl_role __attribute__((tls_model("initial-exec"))) = thread_role::other;

namespace {

/* [L] written by the lcore's own thread; attached is read by any thread, cpus after attached is seen. */
struct registered {
	std::atomic<bool> attached{false};
	rte_cpuset_t cpus{};
};
per_lcore<registered> registry;

} // namespace

bool lcore_valid(unsigned lcore) noexcept
{
	return lcore < max_lcores &&
	       (rte_lcore_has_role(lcore, ROLE_RTE) || registry[lcore].attached.load(std::memory_order_acquire));
}

rte_cpuset_t lcore_cpus(unsigned lcore) noexcept
{
	if (rte_lcore_has_role(lcore, ROLE_RTE))
		return rte_lcore_cpuset(lcore);
	rte_cpuset_t none;
	CPU_ZERO(&none);
	return registry[lcore].attached.load(std::memory_order_acquire) ? registry[lcore].cpus : none;
}

void lcore_register(unsigned lcore) noexcept
{
	registered &r = registry[lcore];
	CPU_ZERO(&r.cpus);
	pthread_getaffinity_np(pthread_self(), sizeof(r.cpus), &r.cpus);
	r.attached.store(true, std::memory_order_release);
}

void lcore_unregister(unsigned lcore) noexcept
{
	registry[lcore].attached.store(false, std::memory_order_release);
}

void owner_violation(const char *what, const char *fn) noexcept
{
	const unsigned id = lcore_id();
	BH_LOG(CRIT, log::lcore, "BUG: %s: %s touched from %s (lcore %d), not by its owner", fn, what,
	       current_role() == thread_role::ksoftirqd ? "ksoftirqd" :
	       current_role() == thread_role::lcore	? "an lcore thread" :
							  "a thread that is no lcore",
	       id == no_lcore ? -1 : int(id));
	abort();
}

} // namespace bh::detail

namespace {

sigset_t io_signals()
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		sigaddset(&set, sig);
	return set;
}

} // namespace

void bh::detail::block_io_signals() noexcept
{
	const sigset_t set = io_signals();
	pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void bh::detail::kthread_setup(const kthread_attr &a) noexcept
{
	block_io_signals();
	const std::string name = a.name.substr(0, 15);
	pthread_setname_np(pthread_self(), name.c_str());
	if (CPU_COUNT(&a.cpus) > 0 && pthread_setaffinity_np(pthread_self(), sizeof(a.cpus), &a.cpus) != 0)
		BH_LOG(WARNING, a.log_type, "%s: cannot set CPU affinity, left unpinned", name.c_str());
	if (a.nice != 0 && setpriority(PRIO_PROCESS, gettid(), a.nice) != 0)
		BH_LOG(WARNING, a.log_type, "%s: cannot set nice %d", name.c_str(), a.nice);
}
