/* SPDX-License-Identifier: BSD-3-Clause */
#include <cerrno>
#include <iterator>
#include <mutex>

#include <rte_telemetry.h>

#include "bh_softirq.h"
#include "softirq_private.h"
#include "softirq_telemetry.h"
#include "telemetry_private.h"

namespace bh {

namespace {

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
	rte_tel_data_add_dict_u64(d, "context_leaks", softirq_get_stats(lcore, 0).context_leaks);
	return 0;
}

constexpr detail::telemetry_command commands[] = {
	{"/bh/softirq/list", softirq_list, "Returns the softirq names by number (empty: free entry). No parameters"},
	{"/bh/softirq", detail::telemetry_per_lcore<softirq_reply>,
	 "Returns an lcore's softirq counters, one array per counter indexed by softirq number. "
	 "Parameters: int lcore_id"},
};

} // namespace

void detail::softirq_telemetry_register() noexcept
{
	static std::once_flag once;
	telemetry_register_once(once, commands);
}

} // namespace bh
