/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rx queues: each is a NAPI context whose poll function receives bursts,
 * checks the frames and hands them to the queue's handler, and flushes the
 * lcore's Tx buffers where the poll ends. When it polls, sleeps or backs off
 * is NAPI's decision (napi_mode.cpp); this file only tells NAPI how to arm
 * the queue's Rx interrupt.
 */
#include <algorithm>
#include <cerrno>

#include <rte_ethdev.h>
#include <rte_log.h>

#include "bh_port.h"
#include "log_private.h"
#include "napi_private.h"
#include "netdev_private.h"

namespace bh::net {

namespace {

using detail::conf;
using detail::net_lcore;
using detail::rxq;

/* The most a vector PMD returns from one rte_eth_rx_burst() (ixgbe's, i40e's, ice's RX_BURST). */
constexpr uint16_t pmd_burst_cap = 32;

/*
 * The checks folded over the burst without branches cost a few cycles per
 * frame; the per-frame pass with its drops and compaction runs only for a
 * burst that has a bad frame in it.
 */
void deliver(packet_handler &h, bool handler_checks, rx_context &ctx, rte_mbuf **pkts, uint16_t nb)
{
	uint16_t ok = nb;
	if (!handler_checks && unlikely(!check_each(ctx, pkts, nb, [](rte_mbuf *) {}))) {
		ok = 0;
		for (uint16_t i = 0; i < nb; i++) {
			const drop_reason why = ctx.check(pkts[i]);
			if (why == drop_reason::count)
				pkts[ok++] = pkts[i];
			else
				ctx.drop(pkts[i], why);
		}
	}
	if (ok)
		h.on_burst(ctx, pkts, ok);
}

bool irq_enable(napi &n)
{
	const rxq &q = *static_cast<const rxq *>(n.data());
	rte_eth_dev_rx_intr_enable(q.port, q.queue);
	return rte_eth_rx_queue_count(q.port, q.queue) > 0;
}

void irq_disable(napi &n)
{
	const rxq &q = *static_cast<const rxq *>(n.data());
	rte_eth_dev_rx_intr_disable(q.port, q.queue);
}

/* NET_RX's poll function of an Rx queue. [X] */
int rxq_poll(napi &n, int budget) noexcept
{
	rxq &q = *static_cast<rxq *>(n.data());
	net_lcore &l = *q.owner;
	/*
	 * Copies of [I] fields: across the handler's call the compiler must
	 * assume q changed, and would reload them every burst.
	 */
	const uint16_t port = q.port, queue = q.queue;
	packet_handler &h = *q.handler;
	const bool handler_checks = q.handler_checks;
	rx_context ctx(l.lcore, port, queue, conf.max_frame);
	l.polling = &q;
	int done = 0;
	while (done < budget) {
		rte_mbuf *pkts[max_burst];
		const uint16_t want = uint16_t(std::min<int>(max_burst, budget - done));
		const uint16_t nb = rte_eth_rx_burst(port, queue, pkts, want);
		if (!nb)
			break;
		done += nb;
		q.rx.add(nb);
		deliver(h, handler_checks, ctx, pkts, nb);
		/*
		 * A short burst means the ring is empty, but vector PMDs return at
		 * most 32 a call however many are asked: after a burst of 32 or
		 * more the poll asks again, and only an empty or a shorter one (or
		 * its weight used up) ends it.
		 */
		if (nb < std::min<uint16_t>(want, pmd_burst_cap))
			break;
	}
	/* What the handler buffered leaves with the poll, not a pass later. */
	detail::tx_flush_polled(l);
	if (done < budget)
		napi_complete_done(n, done);
	return done;
}

} // namespace

int net_add_rxq(const rxq_conf &c) noexcept
{
	if (const int rc = detail::check_binding("net_add_rxq", c.port, c.lcore))
		return rc;
	if (!c.handler || c.weight <= 0) {
		BH_LOG(ERR, log::net, "net_add_rxq: null handler or weight <= 0");
		return -EINVAL;
	}
	if (const char *why = napi_switch_error(c.sw, c.weight)) {
		BH_LOG(ERR, log::net, "net_add_rxq: port %u queue %u: %s", c.port, c.queue, why);
		return -EINVAL;
	}
	if (const int rc = detail::check_queue("net_add_rxq", c.port, c.queue, c.lcore, true))
		return rc;
	const int fd = c.mode == rx_mode::poll ? -1 : port_rx_intr_fd(c.port, c.queue);
	if (c.mode == rx_mode::interrupt && fd < 0) {
		BH_LOG(ERR, log::net,
		       "port %u (%s): Rx queue %u has no Rx interrupt, interrupt mode refused "
		       "(use poll or adaptive, which backs off instead)",
		       c.port, port_driver(c.port), c.queue);
		return -ENOTSUP;
	}
	net_lcore &l = detail::lcore_state(c.lcore);
	auto q = std::make_unique<rxq>(&l, c, rxq_poll);
	if (const int rc = napi_add(q->n, c.lcore, c.mode, c.sw, {fd, irq_enable, irq_disable}))
		return rc;
	std::lock_guard lock(detail::lcores_m);
	l.rxqs.push_back(std::move(q));
	return 0;
}

} // namespace bh::net
