/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/**
 * @file
 * Port and queue set-up for any ethdev port (real or virtual), mbuf pool
 * sizing, and link-status events handed to a work queue.
 *
 * All functions here are control-path calls for the main thread (process
 * context), before the lcores run or after they stop. Errors are logged as
 * one line naming the port and its driver, and returned as -errno.
 */

#include <cstdint>

#include <rte_ethdev.h>
#include <rte_mempool.h>

namespace bh {
class workqueue;
}

namespace bh::net {

/** How port_configure() sets up a port. */
struct port_conf {
	uint16_t rx_queues = 1;   /**< Rx queues, each polled by one lcore */
	uint16_t tx_queues = 1;   /**< Tx queues, one per lcore that transmits on the port */
	uint16_t rx_desc = 1024;  /**< descriptors per Rx queue */
	uint16_t tx_desc = 1024;  /**< descriptors per Tx queue */
	/** Ask for Rx interrupts (intr_conf.rxq): needed by interrupt and adaptive Rx modes; set at configure time. */
	bool rx_interrupts = false;
	bool promiscuous = true;  /**< enable promiscuous mode at port_start() */
	/**
	 * With more than one Rx queue: the flow types (RTE_ETH_RSS_*) the
	 * device hashes to spread frames over the queues (rxmode.mq_mode RSS,
	 * rx_adv_conf.rss_conf.rss_hf). Types the device cannot hash are left
	 * out, as l3fwd does; none left is refused. 0: no RSS, for a device
	 * whose sender chooses the queue (net_ring, net_memif, vhost).
	 */
	uint64_t rss_hf = 0;
};

/**
 * Mbufs a pool needs so that no queue starves: every Rx descriptor filled,
 * every Tx descriptor in flight, and per lcore one Rx burst, its Tx buffers
 * and Tx backlogs, plus the mempool caches.
 * @context Any thread.
 * @cost Arithmetic.
 */
unsigned mempool_size(unsigned ports, const port_conf &c, unsigned lcores) noexcept;

/**
 * Creates an mbuf pool of @p n mbufs of the default data room, with
 * per-lcore caches (rte_pktmbuf_pool_create). Without hugepages and with
 * IO addresses as virtual ones (the EAL's choice for virtual devices), the
 * mbufs are packed across 4 KB pages instead of one to a page, where they
 * would all share a few L1 cache sets. AF_XDP in zero-copy mode on a NIC
 * then wants hugepages: the kernel refuses a buffer that crosses pages not
 * contiguous for DMA (copy mode, as on veth, takes them).
 * @return the pool; nullptr, logged, on failure.
 * @context Main thread, process context.
 * @cost The pool's memory.
 */
rte_mempool *mempool_create(const char *name, unsigned n, int socket = SOCKET_ID_ANY) noexcept;

/**
 * The driver name of @p port ("?" for a port that does not exist).
 * @context Any thread.
 * @cost rte_eth_dev_info_get().
 */
const char *port_driver(uint16_t port) noexcept;

/**
 * Configures @p port with @p c and sets up its queues on @p pool
 * (rte_eth_dev_configure, rx/tx_queue_setup), with RSS over the Rx queues
 * where c.rss_hf asks for it (masked by dev_info.flow_type_rss_offloads; a
 * mask that changed what was asked is logged).
 * @return 0; -ENODEV for a port that does not exist; -EINVAL for queue or
 *   descriptor counts the device cannot take (more than max_rx_queues or
 *   max_tx_queues); -ENOTSUP for RSS on a device that hashes none of the
 *   flow types asked; the PMD's error otherwise (each logged, naming the
 *   port, its driver and what it lacks).
 * @context Main thread, before the port's lcores run.
 * @cost The PMD's set-up.
 */
int port_configure(uint16_t port, const port_conf &c, rte_mempool *pool) noexcept;

/**
 * Starts @p port (and promiscuous mode if configured).
 * @return 0; -errno, logged.
 * @context Main thread, before the port's lcores run.
 * @cost rte_eth_dev_start().
 */
int port_start(uint16_t port) noexcept;

/**
 * Stops @p port.
 * @return 0; -errno, logged.
 * @context Main thread, after the port's lcores stopped.
 * @cost rte_eth_dev_stop().
 */
int port_stop(uint16_t port) noexcept;

/**
 * The Rx interrupt fd of a started port's queue, probed at run time (never
 * assumed from the driver). Where the PMD has no Rx interrupt but its queue
 * is a kernel socket (net_af_packet, net_af_xdp in DPDK 22.11), the fd is
 * that socket: a doorbell, readable while the queue holds frames, which the
 * lcore may sleep on exactly as on an interrupt (nothing is read from it;
 * the enable/disable calls of ethdev fail on it and are not needed, since
 * its readiness is level-triggered).
 * @return the fd, owned by the PMD (valid until the port stops), or
 *         -ENOTSUP if the queue has neither.
 * @context Main thread, after port_start().
 * @cost rte_eth_dev_rx_intr_ctl_q_get_fd(); for a doorbell a few system
 *       calls (getsockopt, getsockname). net_af_xdp's is noted while
 *       port_configure() sets its queues up, by scanning /proc/self/fd
 *       before and after each.
 */
int port_rx_intr_fd(uint16_t port, uint16_t queue) noexcept;

/** Called in a worker (process context) when @p port's link changes. */
using link_handler = void (*)(uint16_t port, const rte_eth_link &link, void *data);

/**
 * Link-status-change interrupts of @p port arrive on DPDK's interrupt
 * thread (an asynchronous top half); they queue a work item on @p wq whose
 * function reads the link and calls @p h. Needs a PMD that signals LSC.
 * @return 0; -ENOTSUP if the port has no LSC interrupt (logged); -ENODEV.
 * @context Main thread, process context.
 * @cost Per event: a queue_work() on the interrupt thread.
 */
int port_watch_link(uint16_t port, workqueue *wq, link_handler h, void *data) noexcept;

/**
 * Undoes port_watch_link and waits for a queued handler.
 * @return 0; -ENODEV.
 * @context Process context, not a worker of the watched queue.
 * @cost A callback unregistration and a cancel_work_sync().
 */
int port_unwatch_link(uint16_t port) noexcept;

/**
 * Link changes handled so far for @p port.
 * @context Any thread.
 * @cost A relaxed load.
 */
uint64_t port_link_events(uint16_t port) noexcept;

} // namespace bh::net
