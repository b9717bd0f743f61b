/* SPDX-License-Identifier: BSD-3-Clause */
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <mutex>

#include <rte_telemetry.h>

#include "bh_ksoftirqd.h"
#include "bh_lcore.h"
#include "bh_percpu.h"
#include "bh_softirq.h"
#include "bh_tasklet.h"
#include "bh_timer.h"
#include "bh_workqueue.h"
#include "softirq_private.h"
#include "telemetry_private.h"
#include "workqueue_private.h"

namespace bh {

bool detail::telemetry_parse_index(const char *params, unsigned limit, unsigned &out) noexcept
{
	/* strtoul alone would take " 1", "+1", "-1" (as a huge value) and "1x"; nine digits cannot overflow. */
	if (!params || !*params || strspn(params, "0123456789") != strlen(params) || strlen(params) > 9)
		return false;
	const unsigned long v = strtoul(params, nullptr, 10);
	if (v >= limit)
		return false;
	out = unsigned(v);
	return true;
}

bool detail::telemetry_parse_lcore(const char *params, unsigned &lcore) noexcept
{
	return telemetry_parse_index(params, max_lcores, lcore) && lcore_valid(lcore);
}

int detail::telemetry_reply(rte_tel_data *d, std::initializer_list<telemetry_counter> counters) noexcept
{
	rte_tel_data_start_dict(d);
	for (const telemetry_counter &c : counters)
		rte_tel_data_add_dict_u64(d, c.name, c.value);
	return 0;
}

namespace {

using detail::telemetry_per_lcore;
using detail::telemetry_reply;

int lcore_list(const char *, const char *params, rte_tel_data *d)
{
	if (params && *params)
		return -EINVAL;
	rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
	for (unsigned l = 0; l < max_lcores; l++)
		if (detail::lcore_valid(l))
			rte_tel_data_add_array_int(d, int(l));
	return 0;
}

int lcore_reply(unsigned lcore, rte_tel_data *d)
{
	const lcore_stats s = lcore_get_stats(lcore);
	return telemetry_reply(d, {{"iterations", s.iterations},
				   {"busy", s.busy},
				   {"sleeps", s.sleeps},
				   {"wakeups", s.wakeups},
				   {"yields", s.yields},
				   {"busy_cycles", s.busy_cycles},
				   {"idle_cycles", s.idle_cycles},
				   {"irqs", s.irqs}});
}

/* Fills @p a with the names of the 32 entries, indexed by softirq number. */
void softirq_name_array(rte_tel_data *a)
{
	detail::softirq_name names[NR_SOFTIRQS];
	detail::softirq_names(names);
	rte_tel_data_start_array(a, RTE_TEL_STRING_VAL);
	for (const detail::softirq_name &n : names)
		rte_tel_data_add_array_string(a, n);
}

int softirq_list(const char *, const char *params, rte_tel_data *d)
{
	if (params && *params)
		return -EINVAL;
	softirq_name_array(d);
	return 0;
}

/*
 * /proc/softirqs for one lcore, by column: the names and each counter are
 * arrays indexed by softirq number.
 */
int softirq_reply(unsigned lcore, rte_tel_data *d)
{
	static constexpr const char *columns[] = {"name", "raised", "run", "run_ksoftirqd", "cycles", "ns"};
	rte_tel_data *col[std::size(columns)] = {};
	for (rte_tel_data *&c : col) {
		c = rte_tel_data_alloc();
		if (!c) {
			for (rte_tel_data *allocated : col)
				rte_tel_data_free(allocated);
			return -ENOMEM;
		}
	}
	softirq_name_array(col[0]);
	for (size_t i = 1; i < std::size(columns); i++)
		rte_tel_data_start_array(col[i], RTE_TEL_U64_VAL);
	for (unsigned nr = 0; nr < NR_SOFTIRQS; nr++) {
		const softirq_stats s = softirq_get_stats(lcore, nr);
		const uint64_t row[] = {s.raised, s.run, s.run_ksoftirqd, s.cycles, s.ns};
		for (size_t i = 0; i < std::size(row); i++)
			rte_tel_data_add_array_u64(col[i + 1], row[i]);
	}
	rte_tel_data_start_dict(d);
	for (size_t i = 0; i < std::size(columns); i++)
		rte_tel_data_add_dict_container(d, columns[i], col[i], 0);
	return 0;
}

int ksoftirqd_reply(unsigned lcore, rte_tel_data *d)
{
	const ksoftirqd_stats s = ksoftirqd_get_stats(lcore);
	return telemetry_reply(d, {{"exists", s.exists},
				   {"active", s.active},
				   {"wakeups", s.wakeups},
				   {"batches", s.batches},
				   {"softirqs", s.softirqs},
				   {"dpdk_lcore_id", s.dpdk_lcore}});
}

int tasklet_reply(unsigned lcore, rte_tel_data *d)
{
	const tasklet_stats s = tasklet_get_stats(lcore);
	return telemetry_reply(d, {{"run", s.run},
				   {"requeued_running", s.requeued_running},
				   {"requeued_disabled", s.requeued_disabled},
				   {"killed", s.killed},
				   {"remote", s.remote}});
}

int timer_reply(unsigned lcore, rte_tel_data *d)
{
	const timer_stats s = timer_get_stats(lcore);
	return telemetry_reply(d, {{"expired", s.expired},
				   {"softirqs", s.softirqs},
				   {"deferred", s.deferred},
				   {"adopted", s.adopted}});
}

int workqueue_list(const char *, const char *params, rte_tel_data *d)
{
	if (params && *params)
		return -EINVAL;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	detail::workqueue_for_each([&](const workqueue *wq) { rte_tel_data_add_array_string(d, workqueue_name(wq)); });
	return 0;
}

/* Queue names need not be unique: the oldest queue of that name answers. */
int workqueue_info(const char *, const char *params, rte_tel_data *d)
{
	if (!params || !*params)
		return -EINVAL;
	int rc = -EINVAL;
	detail::workqueue_for_each([&](const workqueue *wq) {
		if (rc == 0 || strcmp(workqueue_name(wq), params) != 0)
			return;
		const workqueue_stats s = workqueue_get_stats(wq);
		rc = telemetry_reply(d, {{"queued", s.queued},
					 {"run", s.run},
					 {"canceled", s.canceled},
					 {"pending", s.pending},
					 {"wakeups", s.wakeups},
					 {"sleeps", s.sleeps},
					 {"max_latency_ns", s.max_latency_ns},
					 {"pools", s.pools},
					 {"workers", s.workers}});
	});
	return rc;
}

constexpr detail::telemetry_command commands[] = {
	{"/bh/lcore/list", lcore_list, "Returns the lcores the framework can run on (EAL or registered). No parameters"},
	{"/bh/lcore", telemetry_per_lcore<lcore_reply>, "Returns the lcore loop's counters. Parameters: int lcore_id"},
	{"/bh/softirq/list", softirq_list,
	 "Returns the softirq names by number (empty: free entry). No parameters"},
	{"/bh/softirq", telemetry_per_lcore<softirq_reply>,
	 "Returns an lcore's softirq counters, one array per counter indexed by softirq number. "
	 "Parameters: int lcore_id"},
	{"/bh/ksoftirqd", telemetry_per_lcore<ksoftirqd_reply>,
	 "Returns the counters of an lcore's ksoftirqd. Parameters: int lcore_id"},
	{"/bh/tasklet", telemetry_per_lcore<tasklet_reply>,
	 "Returns an lcore's tasklet counters. Parameters: int lcore_id"},
	{"/bh/timer", telemetry_per_lcore<timer_reply>, "Returns an lcore's timer counters. Parameters: int lcore_id"},
	{"/bh/workqueue/list", workqueue_list, "Returns the names of the work queues. No parameters"},
	{"/bh/workqueue", workqueue_info, "Returns a work queue's counters. Parameters: string name"},
};

} // namespace

void detail::telemetry_register_once(std::once_flag &once, std::span<const telemetry_command> cmds) noexcept
{
	std::call_once(once, [&] {
		for (const telemetry_command &c : cmds)
			rte_telemetry_register_cmd(c.name, c.fn, c.help);
	});
}

void detail::telemetry_register() noexcept
{
	static std::once_flag once;
	telemetry_register_once(once, commands);
}

} // namespace bh
