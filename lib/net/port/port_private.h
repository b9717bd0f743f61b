/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* The port concept's internals. Not installed. */

#include <cstdint>

#include <rte_mempool.h>

namespace bh::net::detail {

/*
 * The Rx doorbell of @p port's @p queue (doorbell.cpp): the PMD's own
 * socket of that queue, level-triggered readable while the queue has
 * frames, for the PMDs without Rx interrupts whose queues are kernel
 * sockets (net_af_packet, net_af_xdp). -ENOTSUP for any other PMD, or
 * when the socket cannot be found and confirmed (logged).
 * Main thread, after the port started.
 */
int rx_doorbell(uint16_t port, uint16_t queue) noexcept;

/*
 * rte_eth_rx_queue_setup() with the default queue configuration, noting on
 * net_af_xdp which socket the set-up opened (the queue's doorbell). Its
 * return code. Main thread.
 */
int rx_queue_setup(uint16_t port, uint16_t queue, uint16_t nb_desc, int socket, rte_mempool *pool) noexcept;

} // namespace bh::net::detail
