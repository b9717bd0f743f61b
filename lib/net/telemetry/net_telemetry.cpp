/* SPDX-License-Identifier: BSD-3-Clause */
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <vector>

#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "bh_napi.h"
#include "bh_netdev.h"
#include "net_telemetry_private.h"
#include "telemetry_private.h"

namespace bh::net {

namespace {

using bh::detail::telemetry_per_lcore;
using bh::detail::telemetry_reply;

int softnet_reply(unsigned lcore, rte_tel_data *d)
{
	const softnet_stat s = softnet_get(lcore);
	return telemetry_reply(d, {{"processed", s.processed},
				   {"polls", s.polls},
				   {"time_squeeze", s.time_squeeze},
				   {"passes", s.passes},
				   {"interrupts", s.interrupts},
				   {"to_poll", s.to_poll},
				   {"to_interrupt", s.to_interrupt},
				   {"backoffs", s.backoffs},
				   {"spurious", s.spurious}});
}

int lcore_reply(unsigned lcore, rte_tel_data *d)
{
	const lcore_net_stats s = net_lcore_stats(lcore);
	telemetry_reply(d, {{"processed", s.softnet.processed},
			    {"polls", s.softnet.polls},
			    {"time_squeeze", s.softnet.time_squeeze},
			    {"passes", s.softnet.passes},
			    {"tx", s.tx},
			    {"backlogged", s.backlogged},
			    {"in_flight", s.in_flight},
			    {"interrupts", s.softnet.interrupts},
			    {"to_poll", s.softnet.to_poll},
			    {"to_interrupt", s.softnet.to_interrupt},
			    {"backoffs", s.softnet.backoffs},
			    {"spurious", s.softnet.spurious}});
	for (unsigned r = 0; r < unsigned(drop_reason::count); r++) {
		char name[RTE_TEL_MAX_STRING_LEN];
		snprintf(name, sizeof(name), "dropped_%s", drop_reason_name(drop_reason(r)));
		rte_tel_data_add_dict_u64(d, name, s.dropped[r]);
	}
	return 0;
}

int port_list(const char *, const char *params, rte_tel_data *d)
{
	if (params && *params)
		return -EINVAL;
	rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
	uint16_t port;
	RTE_ETH_FOREACH_DEV(port)
	{
		rte_tel_data_add_array_int(d, port);
	}
	return 0;
}

int port_info(const char *, const char *params, rte_tel_data *d)
{
	unsigned port;
	if (!bh::detail::telemetry_parse_index(params, RTE_MAX_ETHPORTS, port) || !rte_eth_dev_is_valid_port(uint16_t(port)))
		return -EINVAL;
	const port_stats s = net_port_stats(uint16_t(port));
	return telemetry_reply(d, {{"rx", s.rx}, {"tx", s.tx}, {"rx_dropped", s.rx_dropped}, {"tx_dropped", s.tx_dropped}});
}

/*
 * A port's Rx or Tx queues as columns indexed alike (DPDK 22.11's telemetry
 * nests arrays only): queue, lcore, the packet count under @p packets, and
 * dropped.
 */
template <unsigned (*Stats)(uint16_t, queue_stats *, unsigned)>
int queues_reply(const char *packets, const char *params, rte_tel_data *d)
{
	unsigned port;
	if (!bh::detail::telemetry_parse_index(params, RTE_MAX_ETHPORTS, port) || !rte_eth_dev_is_valid_port(uint16_t(port)))
		return -EINVAL;
	/* Each telemetry client has a thread of its own: no static buffer. An array holds 512 values at most. */
	std::vector<queue_stats> qs(RTE_TEL_MAX_ARRAY_ENTRIES);
	const unsigned n = std::min<unsigned>(Stats(uint16_t(port), qs.data(), unsigned(qs.size())), unsigned(qs.size()));
	rte_tel_data_start_dict(d);
	const char *names[] = {"queue", "lcore", packets, "dropped"};
	for (unsigned c = 0; c < std::size(names); c++) {
		rte_tel_data *col = rte_tel_data_alloc();
		if (!col)
			return -ENOMEM;
		rte_tel_data_start_array(col, RTE_TEL_U64_VAL);
		for (unsigned i = 0; i < n; i++) {
			const uint64_t row[] = {qs[i].queue, qs[i].lcore, qs[i].packets, qs[i].dropped};
			rte_tel_data_add_array_u64(col, row[c]);
		}
		rte_tel_data_add_dict_container(d, names[c], col, 0);
	}
	return 0;
}

int rxq_info(const char *, const char *params, rte_tel_data *d)
{
	return queues_reply<net_rxq_stats>("rx", params, d);
}

int txq_info(const char *, const char *params, rte_tel_data *d)
{
	return queues_reply<net_txq_stats>("tx", params, d);
}

constexpr bh::detail::telemetry_command commands[] = {
	{"/bh/net/softnet", telemetry_per_lcore<softnet_reply>,
	 "Returns an lcore's NET_RX counters (softnet_stat). Parameters: int lcore_id"},
	{"/bh/net/lcore", telemetry_per_lcore<lcore_reply>,
	 "Returns an lcore's net counters: softnet_stat, Tx, drops by reason, Rx modes. Parameters: int lcore_id"},
	{"/bh/net/port/list", port_list, "Returns the ethdev ports. No parameters"},
	{"/bh/net/port", port_info,
	 "Returns what the net layer received and sent on a port, and dropped on its Rx and on its Tx side. Parameters: int port_id"},
	{"/bh/net/port/rxq", rxq_info,
	 "Returns a port's Rx queues as columns: queue, lcore, rx, dropped. Parameters: int port_id"},
	{"/bh/net/port/txq", txq_info,
	 "Returns a port's Tx queues as columns: queue, lcore, tx, dropped. Parameters: int port_id"},
};

} // namespace

void detail::net_telemetry_register() noexcept
{
	static std::once_flag once;
	bh::detail::telemetry_register_once(once, commands);
}

} // namespace bh::net
