/* SPDX-License-Identifier: BSD-3-Clause */
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

#include <rte_log.h>

#include "bh_lcore.h"
#include "ksoftirqd_private.h"
#include "lcore_subsys.h"
#include "log_private.h"
#include "percpu_private.h"
#include "softirq_private.h"
#include "subsys_table.h"
#include "tasklet_private.h"
#include "timer_private.h"
#include "workqueue_private.h"

namespace bh {

namespace {

/*
 * The core's entries, as the kernel lists its cpuhp states: the parts that
 * register softirqs first, then (after the registered entries, which may
 * register softirqs too) the freeze, the threads and what runs on them.
 */
const subsystem *const registering[] = {&detail::tasklet_subsystem, &detail::timer_subsystem};
const subsystem *const frozen[] = {&detail::softirq_subsystem, &detail::ksoftirqd_subsystem,
				   &detail::workqueue_subsystem, &detail::lcore_subsystem};

/* Never destroyed: a loop hook may run while the process exits. */
std::mutex &table_m = *new std::mutex;
std::vector<const subsystem *> registered; /* [T] */
std::vector<const subsystem *> table;      /* [T]; stable while started */
std::atomic<size_t> opened{0};              /* [T] writes; the loop hooks read it without */
bool running;                               /* [T] between subsys_open_all and subsys_close_all */

/* Runs @p e's lcore_down for every framework lcore but the ones from @p upto on. */
void down_all(const subsystem &e, unsigned upto = max_lcores)
{
	if (!e.lcore_down)
		return;
	for (unsigned l = upto; l-- > 0;)
		if (detail::lcore_valid(l))
			e.lcore_down(l);
}

int up_all(const subsystem &e)
{
	if (!e.lcore_up)
		return 0;
	for (unsigned l = 0; l < max_lcores; l++) {
		if (!detail::lcore_valid(l))
			continue;
		if (const int rc = e.lcore_up(l)) {
			BH_LOG(ERR, log::lcore, "bh::start: %s: lcore %u: %s", e.name, l, strerror(-rc));
			down_all(e, l);
			return rc;
		}
	}
	return 0;
}

void close_from(size_t n)
{
	while (n-- > 0) {
		down_all(*table[n]);
		if (table[n]->close)
			table[n]->close();
	}
}

} // namespace

int subsystem_register(const subsystem &s) noexcept
{
	if (!s.name) {
		BH_LOG(ERR, log::lcore, "subsystem_register: an entry needs a name");
		return -EINVAL;
	}
	std::lock_guard lock(table_m);
	if (running) {
		BH_LOG(ERR, log::lcore, "subsystem_register: %s: refused after bh::start()", s.name);
		return -EBUSY;
	}
	if (std::find(registered.begin(), registered.end(), &s) == registered.end())
		registered.push_back(&s);
	return 0;
}

int detail::subsys_open_all() noexcept
{
	std::lock_guard lock(table_m);
	table.assign(std::begin(registering), std::end(registering));
	table.insert(table.end(), registered.begin(), registered.end());
	table.insert(table.end(), std::begin(frozen), std::end(frozen));
	for (size_t i = 0; i < table.size(); i++) {
		const subsystem &e = *table[i];
		int rc = e.open ? e.open() : 0;
		if (rc)
			BH_LOG(ERR, log::lcore, "bh::start: %s: %s", e.name, strerror(-rc));
		else if ((rc = up_all(e)) != 0 && e.close)
			e.close();
		if (rc) {
			close_from(i);
			return rc;
		}
	}
	opened.store(table.size(), std::memory_order_release);
	running = true;
	return 0;
}

void detail::subsys_close_all() noexcept
{
	std::lock_guard lock(table_m);
	close_from(opened.exchange(0, std::memory_order_acq_rel));
	running = false;
}

int detail::subsys_lcore_up(unsigned lcore) noexcept
{
	std::lock_guard lock(table_m);
	const size_t n = opened.load(std::memory_order_relaxed);
	for (size_t i = 0; i < n; i++) {
		if (!table[i]->lcore_up)
			continue;
		if (const int rc = table[i]->lcore_up(lcore)) {
			BH_LOG(ERR, log::lcore, "lcore_attach: %s: lcore %u: %s", table[i]->name, lcore, strerror(-rc));
			while (i-- > 0)
				if (table[i]->lcore_down)
					table[i]->lcore_down(lcore);
			return rc;
		}
	}
	return 0;
}

void detail::subsys_lcore_down(unsigned lcore) noexcept
{
	std::lock_guard lock(table_m);
	for (size_t i = opened.load(std::memory_order_relaxed); i-- > 0;)
		if (table[i]->lcore_down)
			table[i]->lcore_down(lcore);
}

void detail::subsys_loop_start(unsigned lcore) noexcept
{
	const size_t n = opened.load(std::memory_order_acquire);
	for (size_t i = 0; i < n; i++)
		if (table[i]->loop_start)
			table[i]->loop_start(lcore);
}

void detail::subsys_loop_stop(unsigned lcore) noexcept
{
	for (size_t i = opened.load(std::memory_order_acquire); i-- > 0;)
		if (table[i]->loop_stop)
			table[i]->loop_stop(lcore);
}

} // namespace bh
