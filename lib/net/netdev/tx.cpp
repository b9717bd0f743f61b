/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Tx path: what a handler transmits goes into its lcore's buffer for
 * that port, which leaves as a burst when full and at the end of each Rx
 * poll; what the Tx ring refuses waits in a bounded backlog that NET_TX
 * retries while the ring takes something, and a one-shot drain timer while
 * it takes nothing; what does not fit is dropped and counted.
 */
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include <rte_ethdev.h>

#include "bh_softirq.h"
#include "netdev_private.h"

namespace bh::net {

namespace {

using detail::conf;
using detail::count_rx_drop;
using detail::count_tx_drop;
using detail::lcores;
using detail::net_lcore;
using detail::tx_burst_size;
using detail::txq;

bool backlog_push(net_lcore &l, uint16_t port, rte_mbuf *m)
{
	txq &t = l.tx[port];
	if (t.count == t.backlog.size()) {
		rte_pktmbuf_free(m);
		count_tx_drop(l, port, drop_reason::tx_full);
		return false;
	}
	t.backlog[(t.head + t.count) % t.backlog.size()] = m;
	t.count++;
	l.backlogged.add();
	return true;
}

/* Sends what the backlog holds, oldest first; returns how many left. */
unsigned backlog_send(net_lcore &l, uint16_t port)
{
	txq &t = l.tx[port];
	while (t.count) {
		const unsigned chunk = std::min<unsigned>({t.count, unsigned(t.backlog.size()) - t.head, tx_burst_size});
		const uint16_t sent = rte_eth_tx_burst(port, t.queue, &t.backlog[t.head], uint16_t(chunk));
		l.sent.add(sent);
		l.port_tx[port].add(sent);
		t.head = (t.head + sent) % unsigned(t.backlog.size());
		t.count -= sent;
		if (sent < chunk)
			break;
	}
	return t.count;
}

/* Queues what the ring refused; returns true if a backlog is left for NET_TX. */
[[gnu::cold, gnu::noinline]] bool backlog_rest(net_lcore &l, uint16_t port, rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		backlog_push(l, port, pkts[i]);
	return l.tx[port].count != 0;
}

/*
 * Sends @p n packets on @p port, or puts them behind a backlog to keep
 * their order, and queues what the ring refuses; returns true if a backlog
 * is left for NET_TX. Inlined, with the backlog out of line: the call was
 * a quarter of the Tx path's instructions per burst (docs/benchmarks.md).
 */
[[gnu::always_inline]] inline bool tx_send(net_lcore &l, uint16_t port, rte_mbuf **pkts, uint16_t n)
{
	txq &t = l.tx[port];
	if (t.count)
		return backlog_rest(l, port, pkts, n);
	const uint16_t sent = rte_eth_tx_burst(port, t.queue, pkts, n);
	l.sent.add(sent);
	l.port_tx[port].add(sent);
	if (likely(sent == n))
		return false;
	return backlog_rest(l, port, pkts + sent, uint16_t(n - sent));
}

/* Flushes the Tx buffer of @p port; returns true if a backlog is left for NET_TX. */
bool tx_flush(net_lcore &l, uint16_t port)
{
	txq &t = l.tx[port];
	if (!t.n)
		return t.count != 0;
	const uint16_t n = t.n;
	t.n = 0;
	l.buffering--;
	return tx_send(l, port, t.buf, n);
}

bool tx_flush_all(net_lcore &l)
{
	bool left = false;
	for (unsigned i = 0; i < l.ntx_ports; i++)
		left |= tx_flush(l, l.tx_ports[i]);
	return left;
}

/*
 * A backlog is retried by NET_TX while the ring takes something, and by
 * the drain timer otherwise. The timer is one-shot and armed only while
 * something waits, so that an idle lcore is not woken by it.
 */
void arm_drain(net_lcore &l)
{
	if (!l.drain.pending())
		timer_mod(l.drain, conf.tx_drain_ns);
}

void retry_later(net_lcore &l)
{
	raise_softirq(NET_TX_SOFTIRQ);
	arm_drain(l);
}

void on_drain(timer &, void *self)
{
	detail::tx_flush_lcore(*static_cast<net_lcore *>(self));
}

} // namespace

detail::net_lcore::net_lcore(unsigned l) : lcore(l), drain(&on_drain, this) {}

void detail::tx_flush_lcore(net_lcore &l) noexcept
{
	if (tx_flush_all(l))
		retry_later(l);
}

void detail::net_tx_action(const softirq_action &) noexcept
{
	net_lcore *l = lcores[lcore_id()];
	if (!l)
		return;
	bool progress = false, left = false;
	for (unsigned i = 0; i < l->ntx_ports; i++) {
		const uint16_t p = l->tx_ports[i];
		txq &t = l->tx[p];
		if (!t.count)
			continue;
		const unsigned before = t.count;
		left |= backlog_send(*l, p) != 0;
		progress |= t.count < before;
	}
	/* A ring that took nothing is retried by the drain timer, not in a softirq storm. */
	if (left && progress)
		raise_softirq(NET_TX_SOFTIRQ);
	else if (left)
		arm_drain(*l);
}

void detail::tx_close(net_lcore &l) noexcept
{
	timer_del_sync(l.drain);
	tx_flush_all(l);
	for (unsigned i = 0; i < l.ntx_ports; i++) {
		const uint16_t p = l.tx_ports[i];
		txq &t = l.tx[p];
		backlog_send(l, p);
		for (; t.count; t.count--, t.head = (t.head + 1) % unsigned(t.backlog.size())) {
			rte_pktmbuf_free(t.backlog[t.head]);
			count_tx_drop(l, p, drop_reason::tx_full);
		}
	}
}

/* ---- the application's side ---- */

void rx_context::tx(uint16_t port, rte_mbuf *m) noexcept
{
	net_lcore &l = *lcores[lcore_];
	txq &t = l.tx[port];
	if (!t.valid) {
		rte_pktmbuf_free(m);
		count_tx_drop(l, port, drop_reason::no_txq);
		return;
	}
	if (!t.n)
		l.buffering++;
	t.buf[t.n++] = m;
	if (t.n == tx_burst_size && tx_flush(l, port))
		retry_later(l);
}

namespace {

/*
 * tx_burst()'s packets up to the first whole burst after an empty buffer:
 * into the buffer, flushed when full; all of them to a port without a Tx
 * queue, dropped. Returns how many it took.
 */
[[gnu::noinline]] uint16_t tx_buffered(net_lcore &l, uint16_t port, rte_mbuf **pkts, uint16_t n)
{
	txq &t = l.tx[port];
	if (!t.valid) {
		for (uint16_t i = 0; i < n; i++)
			rte_pktmbuf_free(pkts[i]);
		count_tx_drop(l, port, drop_reason::no_txq, n);
		return n;
	}
	uint16_t taken = 0;
	while (taken < n && (t.n || unsigned(n - taken) < tx_burst_size)) {
		const uint16_t k = std::min<uint16_t>(uint16_t(n - taken), uint16_t(tx_burst_size - t.n));
		if (!t.n)
			l.buffering++;
		memcpy(&t.buf[t.n], pkts + taken, k * sizeof(*pkts));
		t.n = uint16_t(t.n + k);
		taken = uint16_t(taken + k);
		if (t.n == tx_burst_size && tx_flush(l, port))
			retry_later(l);
	}
	return taken;
}

} // namespace

void rx_context::tx_burst(uint16_t port, rte_mbuf **pkts, uint16_t n) noexcept
{
	net_lcore &l = *lcores[lcore_];
	const txq &t = l.tx[port];
	if (unlikely(!t.valid || t.n || n < tx_burst_size)) {
		const uint16_t taken = tx_buffered(l, port, pkts, n);
		pkts += taken;
		n = uint16_t(n - taken);
		if (!n)
			return;
	}
	/* A whole burst with nothing buffered before it goes out as it is, in one call, not through the buffer. */
	if (tx_send(l, port, pkts, n))
		retry_later(l);
}

void rx_context::drop(rte_mbuf *m, drop_reason why) noexcept
{
	rte_pktmbuf_free(m);
	count_rx_drop(*lcores[lcore_], why);
}

int net_add_txq(uint16_t port, uint16_t queue, unsigned lcore) noexcept
{
	if (const int rc = detail::check_binding("net_add_txq", port, lcore))
		return rc;
	if (const int rc = detail::check_queue("net_add_txq", port, queue, lcore, false))
		return rc;
	net_lcore &l = detail::lcore_state(lcore);
	txq &t = l.tx[port];
	t.backlog.assign(conf.tx_backlog, nullptr);
	/* The binding under the registry's lock: the counter readers list the Tx queues by it. */
	std::lock_guard lock(detail::lcores_m);
	if (!t.valid)
		l.tx_ports[l.ntx_ports++] = port;
	t.valid = true;
	t.queue = queue;
	return 0;
}

} // namespace bh::net
