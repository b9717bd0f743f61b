/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The net layer's registry and lifetime: the per-lcore state that
 * net_add_rxq()/net_add_txq() fill, net_init() and the start-up table's
 * open and close, and the counters. The Rx and Tx paths are rxq.cpp and
 * tx.cpp; field ownership is netdev_private.h's legend.
 */
#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <mutex>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>

#include "bh_ksoftirqd.h"
#include "bh_lcore.h"
#include "bh_netdev.h"
#include "bh_port.h"
#include "log_private.h"
#include "napi_private.h"
#include "net_telemetry_private.h"
#include "netdev_private.h"

namespace bh::net {

namespace detail {

net_conf conf;
net_lcore *lcores[max_lcores];
/* Never destroyed: a telemetry query may come during exit. */
std::mutex &lcores_m = *new std::mutex;

net_lcore &lcore_state(unsigned lcore)
{
	std::lock_guard lock(lcores_m);
	if (!lcores[lcore])
		lcores[lcore] = new net_lcore(lcore);
	return *lcores[lcore];
}

} // namespace detail

namespace {

using detail::lcores;
using detail::lcores_m;
using detail::ndrop;
using detail::net_lcore;

bool initialised = false;

} // namespace

const char *drop_reason_name(drop_reason r) noexcept
{
	static const char *const names[ndrop] = {"runt", "oversize", "chained", "tx_full", "no_txq", "handler"};
	return unsigned(r) < ndrop ? names[unsigned(r)] : "?";
}

/* ---- set-up ---- */

int detail::check_binding(const char *fn, uint16_t port, unsigned lcore) noexcept
{
	if (!rte_eth_dev_is_valid_port(port)) {
		BH_LOG(ERR, log::net, "%s: port %u does not exist", fn, port);
		return -ENODEV;
	}
	if (lcore >= max_lcores || !initialised) {
		BH_LOG(ERR, log::net, "%s: %s", fn, initialised ? "bad lcore" : "net_init() has not run");
		return -EINVAL;
	}
	if (napi_lcore_active(lcore)) {
		BH_LOG(ERR, log::net, "%s: lcore %u already runs its net loop", fn, lcore);
		return -EBUSY;
	}
	return 0;
}

int detail::check_queue(const char *fn, uint16_t port, uint16_t queue, unsigned lcore, bool rx) noexcept
{
	const char *dir = rx ? "Rx" : "Tx";
	rte_eth_dev_info info{};
	if (const int rc = rte_eth_dev_info_get(port, &info)) {
		BH_LOG(ERR, log::net, "%s: port %u: rte_eth_dev_info_get failed: %s", fn, port, rte_strerror(-rc));
		return rc;
	}
	const uint16_t configured = rx ? info.nb_rx_queues : info.nb_tx_queues;
	if (queue >= configured) {
		BH_LOG(ERR, log::net, "%s: port %u (%s) has %u %s queues configured, no queue %u", fn, port,
		       port_driver(port), configured, dir, queue);
		return -EINVAL;
	}
	std::lock_guard lock(lcores_m);
	for (const net_lcore *l : lcores) {
		if (!l)
			continue;
		const bool taken = rx ? std::any_of(l->rxqs.begin(), l->rxqs.end(),
						    [&](const auto &q) { return q->port == port && q->queue == queue; })
				      : l->lcore != lcore && l->tx[port].valid && l->tx[port].queue == queue;
		if (taken) {
			BH_LOG(ERR, log::net, "%s: port %u %s queue %u is lcore %u's already: one lcore per queue", fn,
			       port, dir, queue, l->lcore);
			return -EEXIST;
		}
	}
	return 0;
}

namespace {

/* bh::start(): the softirqs, once net_init() has run for this start. */
int net_open()
{
	if (!initialised)
		return 0;
	if (const int rc = open_softirq(NET_RX_SOFTIRQ, detail::net_rx_action))
		return rc;
	if (const int rc = open_softirq(NET_TX_SOFTIRQ, detail::net_tx_action)) {
		close_softirq(NET_RX_SOFTIRQ);
		return rc;
	}
	detail::net_telemetry_register();
	return 0;
}

/*
 * bh::stop(), once every loop has returned: flushes what is buffered, frees
 * backlogs (counted as tx_full), stops drain timers, releases the NAPI
 * contexts (their irq fds and poll lists), and gives the softirqs back. The
 * queues' bindings and counters stay readable until the next net_init.
 */
void net_close()
{
	if (!initialised)
		return;
	for (unsigned id = 0; id < max_lcores; id++) {
		if (net_lcore *l = lcores[id])
			detail::tx_close(*l);
		detail::napi_release_lcore(id);
	}
	close_softirq(NET_RX_SOFTIRQ);
	close_softirq(NET_TX_SOFTIRQ);
	initialised = false;
}

const subsystem net_subsystem = {
	.name = "net",
	.open = net_open,
	.close = net_close,
};

} // namespace

int net_init(const net_conf &c) noexcept
{
	if (c.tx_drain_ns == 0 || c.tx_backlog == 0 || c.max_frame < RTE_ETHER_HDR_LEN) {
		BH_LOG(ERR, log::net, "net_init: tx_drain_ns, tx_backlog must be > 0 and max_frame >= 14");
		return -EINVAL;
	}
	if (bh::started()) {
		BH_LOG(ERR, log::net, "net_init: the framework runs: call it before bh::start()");
		return -EBUSY;
	}
	if (const int rc = napi_set_config(c.napi))
		return rc;
	if (const int rc = subsystem_register(net_subsystem))
		return rc;
	detail::conf = c;
	{
		std::lock_guard lock(lcores_m);
		for (net_lcore *&l : lcores) {
			delete l;
			l = nullptr;
		}
	}
	initialised = true;
	return 0;
}

/* ---- counters ---- */
namespace {

bool net_lcore_exists(unsigned lcore)
{
	std::lock_guard lock(lcores_m);
	return lcores[lcore] != nullptr;
}

/* Copies up to @p n of @p found, by queue id, to @p out; returns how many there are. */
unsigned sorted_copy(std::vector<queue_stats> &found, queue_stats *out, unsigned n)
{
	std::sort(found.begin(), found.end(), [](const queue_stats &a, const queue_stats &b) { return a.queue < b.queue; });
	std::copy_n(found.begin(), std::min<size_t>(n, found.size()), out);
	return unsigned(found.size());
}

} // namespace

lcore_net_stats net_lcore_stats(unsigned lcore) noexcept
{
	lcore_net_stats st;
	if (lcore >= max_lcores)
		return st;
	st.softnet = softnet_get(lcore);
	std::lock_guard lock(lcores_m);
	const net_lcore *l = lcores[lcore];
	if (!l)
		return st;
	for (unsigned r = 0; r < ndrop; r++)
		st.dropped[r] = l->dropped[r].read();
	st.tx = l->sent.read();
	st.backlogged = l->backlogged.read();
	uint64_t rx = 0, done = 0;
	for (const auto &q : l->rxqs) {
		rx += q->rx.read();
		done += q->dropped.read();
	}
	for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++)
		done += l->port_tx[p].read() + l->port_tx_drop[p].read();
	st.in_flight = rx > done ? rx - done : 0;
	return st;
}

port_stats net_port_stats(uint16_t port) noexcept
{
	port_stats st;
	if (port >= RTE_MAX_ETHPORTS)
		return st;
	std::lock_guard lock(lcores_m);
	for (const net_lcore *l : lcores) {
		if (!l)
			continue;
		for (const auto &q : l->rxqs)
			if (q->port == port) {
				st.rx += q->rx.read();
				st.rx_dropped += q->dropped.read();
			}
		st.tx += l->port_tx[port].read();
		st.tx_dropped += l->port_tx_drop[port].read();
	}
	return st;
}

unsigned net_rxq_stats(uint16_t port, queue_stats *out, unsigned n) noexcept
{
	std::vector<queue_stats> found;
	{
		std::lock_guard lock(lcores_m);
		for (const net_lcore *l : lcores) {
			if (!l)
				continue;
			for (const auto &q : l->rxqs)
				if (q->port == port)
					found.push_back({q->queue, l->lcore, q->rx.read(), q->dropped.read()});
		}
	}
	return sorted_copy(found, out, n);
}

unsigned net_txq_stats(uint16_t port, queue_stats *out, unsigned n) noexcept
{
	std::vector<queue_stats> found;
	if (port < RTE_MAX_ETHPORTS) {
		std::lock_guard lock(lcores_m);
		for (const net_lcore *l : lcores)
			if (l && l->tx[port].valid)
				found.push_back({l->tx[port].queue, l->lcore, l->port_tx[port].read(),
						 l->port_tx_drop[port].read()});
	}
	return sorted_copy(found, out, n);
}

} // namespace bh::net

namespace bh::net {

void net_dump(FILE *out) noexcept
{
	fprintf(out, "%-6s %12s %10s %12s %10s %10s %12s %10s %6s\n", "lcore", "processed", "dropped", "time_squeeze",
		"ksirqd_wk", "interrupts", "polls", "sleeps", "busy%");
	for (unsigned id = 0; id < max_lcores; id++) {
		if (!net_lcore_exists(id))
			continue;
		const lcore_net_stats st = net_lcore_stats(id);
		const lcore_stats ls = lcore_get_stats(id);
		uint64_t dropped = 0;
		for (uint64_t d : st.dropped)
			dropped += d;
		const double busy = 100.0 * double(ls.busy_cycles) /
				    double(std::max<uint64_t>(ls.busy_cycles + ls.idle_cycles, 1));
		fprintf(out, "%-6u %12" PRIu64 " %10" PRIu64 " %12" PRIu64 " %10" PRIu64 " %10" PRIu64 " %12" PRIu64
			     " %10" PRIu64 " %5.1f%%\n",
			id, st.softnet.processed, dropped, st.softnet.time_squeeze, ksoftirqd_get_stats(id).wakeups,
			st.softnet.interrupts, st.softnet.polls, ls.sleeps, busy);
	}
}

} // namespace bh::net
