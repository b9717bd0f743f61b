/* SPDX-License-Identifier: BSD-3-Clause */
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstring>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>

#include "bh_port.h"
#include "bh_workqueue.h"
#include "log_private.h"
#include "port_private.h"

namespace bh::net {

namespace {

constexpr unsigned burst = 32;
constexpr unsigned tx_backlog = 512;
constexpr unsigned pool_cache = 256;

/*
 * One port's link watch. The work item is queued by the LSC callback on
 * DPDK's interrupt thread and run by a worker; the rest is set by
 * port_watch_link before the callback is registered.
 */
struct link_watch {
	work item{&run, this};
	uint16_t port = 0;
	link_handler handler = nullptr;
	void *data = nullptr;
	workqueue *wq = nullptr;
	std::atomic<uint64_t> events{0};

	static void run(void *self)
	{
		auto *w = static_cast<link_watch *>(self);
		rte_eth_link link{};
		rte_eth_link_get_nowait(w->port, &link);
		w->events.fetch_add(1, std::memory_order_relaxed);
		BH_LOG(INFO, log::net, "port %u: link %s, %u Mbps", w->port,
		       link.link_status ? "up" : "down", link.link_speed);
		if (w->handler)
			w->handler(w->port, link, w->data);
	}
};

link_watch watches[RTE_MAX_ETHPORTS];

int on_lsc(uint16_t, rte_eth_event_type, void *arg, void *)
{
	auto *w = static_cast<link_watch *>(arg);
	queue_work(w->wq, w->item);
	return 0;
}

int check_port(const char *fn, uint16_t port)
{
	if (rte_eth_dev_is_valid_port(port))
		return 0;
	BH_LOG(ERR, log::net, "%s: port %u does not exist (%u ports available)", fn, port,
	       unsigned(rte_eth_dev_count_avail()));
	return -ENODEV;
}

int pmd_error(const char *what, uint16_t port, int rc)
{
	BH_LOG(ERR, log::net, "port %u (%s): %s failed: %s", port, port_driver(port), what, rte_strerror(-rc));
	return rc;
}

/*
 * RSS over several Rx queues, as l3fwd sets it up: the flow types asked
 * that the device can hash (rss_hf masked by flow_type_rss_offloads).
 */
int rss_conf(uint16_t port, const port_conf &c, const rte_eth_dev_info &info, rte_eth_conf &conf)
{
	if (c.rx_queues < 2 || !c.rss_hf)
		return 0;
	const uint64_t hf = c.rss_hf & info.flow_type_rss_offloads;
	if (!hf) {
		BH_LOG(ERR, log::net,
		       "port %u (%s): RSS over %u Rx queues asked for flow types 0x%" PRIx64
		       ", the device hashes none of them (flow_type_rss_offloads 0x%" PRIx64 ")",
		       port, port_driver(port), c.rx_queues, c.rss_hf, info.flow_type_rss_offloads);
		return -ENOTSUP;
	}
	if (hf != c.rss_hf)
		BH_LOG(NOTICE, log::net, "port %u (%s): RSS flow types 0x%" PRIx64 " asked, 0x%" PRIx64 " hashed", port,
		       port_driver(port), c.rss_hf, hf);
	conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	conf.rx_adv_conf.rss_conf.rss_hf = hf;
	return 0;
}

} // namespace

unsigned mempool_size(unsigned ports, const port_conf &c, unsigned lcores) noexcept
{
	const unsigned per_port = c.rx_queues * (c.rx_desc + burst) + c.tx_queues * c.tx_desc;
	const unsigned per_lcore = burst + ports * (burst + tx_backlog) + pool_cache;
	return std::max(8191u, ports * per_port + lcores * per_lcore);
}

namespace {

/*
 * Whether mbufs may straddle pages. Without hugepages a pool's memory is
 * 4 KB pages, and rte_pktmbuf_pool_create() keeps each object inside one
 * page so that its IO address range stays contiguous: one 2.3 KB mbuf per
 * page, every mbuf at the same offset in its page, so every mbuf's header
 * and frame lines fall in the same few L1 sets and evict one another (on
 * net_null, half of bh-l2fwd's time per packet). With IO addresses equal
 * to virtual ones, virtually contiguous memory is IO-contiguous: objects
 * may be packed.
 */
bool pack_across_pages()
{
	return !rte_eal_has_hugepages() && rte_eal_iova_mode() == RTE_IOVA_VA;
}

/* A pool made with RTE_MEMPOOL_F_NO_IOVA_CONTIG records no IO addresses: each is the virtual one here. */
void packed_mbuf_init(rte_mempool *mp, void *priv, void *obj, unsigned i)
{
	rte_mempool_get_header(obj)->iova = rte_mem_virt2iova(obj);
	rte_pktmbuf_init(mp, priv, obj, i);
}

rte_mempool *pktmbuf_pool_packed(const char *name, unsigned n, int socket)
{
	const uint16_t room = RTE_MBUF_DEFAULT_BUF_SIZE;
	rte_pktmbuf_pool_private priv{};
	priv.mbuf_data_room_size = room;
	rte_mempool *mp = rte_mempool_create_empty(name, n, sizeof(rte_mbuf) + room, pool_cache, sizeof(priv), socket,
						   RTE_MEMPOOL_F_NO_IOVA_CONTIG);
	if (!mp)
		return nullptr;
	int rc = rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), nullptr);
	if (rc == 0) {
		rte_pktmbuf_pool_init(mp, &priv);
		rc = rte_mempool_populate_default(mp);
	}
	if (rc < 0) {
		rte_mempool_free(mp);
		rte_errno = -rc;
		return nullptr;
	}
	rte_mempool_obj_iter(mp, packed_mbuf_init, nullptr);
	return mp;
}

} // namespace

rte_mempool *mempool_create(const char *name, unsigned n, int socket) noexcept
{
	rte_mempool *mp = pack_across_pages() ? pktmbuf_pool_packed(name, n, socket)
					      : rte_pktmbuf_pool_create(name, n, pool_cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (!mp)
		BH_LOG(ERR, log::net, "cannot create mbuf pool %s of %u mbufs: %s", name, n, rte_strerror(rte_errno));
	return mp;
}

const char *port_driver(uint16_t port) noexcept
{
	rte_eth_dev_info info{};
	if (!rte_eth_dev_is_valid_port(port) || rte_eth_dev_info_get(port, &info) != 0 || !info.driver_name)
		return "?";
	return info.driver_name;
}

int port_configure(uint16_t port, const port_conf &c, rte_mempool *pool) noexcept
{
	if (const int rc = check_port("port_configure", port))
		return rc;
	rte_eth_dev_info info{};
	if (const int rc = rte_eth_dev_info_get(port, &info))
		return pmd_error("rte_eth_dev_info_get", port, rc);
	if (c.rx_queues == 0 || c.tx_queues == 0 || c.rx_queues > info.max_rx_queues ||
	    c.tx_queues > info.max_tx_queues) {
		BH_LOG(ERR, log::net, "port %u (%s): %u Rx / %u Tx queues asked, device has 1..%u / 1..%u", port,
		       port_driver(port), c.rx_queues, c.tx_queues, info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}
	rte_eth_conf conf{};
	conf.intr_conf.rxq = c.rx_interrupts ? 1 : 0;
	conf.intr_conf.lsc = (*info.dev_flags & RTE_ETH_DEV_INTR_LSC) ? 1 : 0;
	if (const int rc = rss_conf(port, c, info, conf))
		return rc;
	if (const int rc = rte_eth_dev_configure(port, c.rx_queues, c.tx_queues, &conf))
		return pmd_error("rte_eth_dev_configure", port, rc);
	uint16_t rxd = c.rx_desc, txd = c.tx_desc;
	if (const int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd))
		return pmd_error("adjusting descriptor counts", port, rc);
	const int socket = rte_eth_dev_socket_id(port);
	for (uint16_t q = 0; q < c.rx_queues; q++)
		if (const int rc = detail::rx_queue_setup(port, q, rxd, socket, pool))
			return pmd_error("rte_eth_rx_queue_setup", port, rc);
	for (uint16_t q = 0; q < c.tx_queues; q++)
		if (const int rc = rte_eth_tx_queue_setup(port, q, txd, socket, nullptr))
			return pmd_error("rte_eth_tx_queue_setup", port, rc);
	if (c.promiscuous)
		rte_eth_promiscuous_enable(port);
	return 0;
}

int port_start(uint16_t port) noexcept
{
	if (const int rc = check_port("port_start", port))
		return rc;
	if (const int rc = rte_eth_dev_start(port))
		return pmd_error("rte_eth_dev_start", port, rc);
	return 0;
}

int port_stop(uint16_t port) noexcept
{
	if (const int rc = check_port("port_stop", port))
		return rc;
	if (const int rc = rte_eth_dev_stop(port))
		return pmd_error("rte_eth_dev_stop", port, rc);
	return 0;
}

int port_rx_intr_fd(uint16_t port, uint16_t queue) noexcept
{
	if (!rte_eth_dev_is_valid_port(port))
		return -ENOTSUP;
	const int fd = rte_eth_dev_rx_intr_ctl_q_get_fd(port, queue);
	return fd >= 0 ? fd : detail::rx_doorbell(port, queue);
}

int port_watch_link(uint16_t port, workqueue *wq, link_handler h, void *data) noexcept
{
	if (const int rc = check_port("port_watch_link", port))
		return rc;
	rte_eth_dev_info info{};
	rte_eth_dev_info_get(port, &info);
	if (!(*info.dev_flags & RTE_ETH_DEV_INTR_LSC)) {
		BH_LOG(ERR, log::net, "port %u (%s): no link-status interrupt", port, port_driver(port));
		return -ENOTSUP;
	}
	link_watch &w = watches[port];
	w.port = port;
	w.handler = h;
	w.data = data;
	w.wq = wq;
	if (const int rc = rte_eth_dev_callback_register(port, RTE_ETH_EVENT_INTR_LSC, on_lsc, &w))
		return pmd_error("registering the LSC callback", port, rc);
	return 0;
}

int port_unwatch_link(uint16_t port) noexcept
{
	if (const int rc = check_port("port_unwatch_link", port))
		return rc;
	rte_eth_dev_callback_unregister(port, RTE_ETH_EVENT_INTR_LSC, on_lsc, &watches[port]);
	return cancel_work_sync(watches[port].item) < 0 ? -EDEADLK : 0;
}

uint64_t port_link_events(uint16_t port) noexcept
{
	return port < RTE_MAX_ETHPORTS ? watches[port].events.load(std::memory_order_relaxed) : 0;
}

} // namespace bh::net
