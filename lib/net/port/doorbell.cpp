/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rx doorbells: a pollable fd for the Rx queues of the kernel-socket PMDs
 * that DPDK 22.11 gives no Rx interrupt (net_af_packet, net_af_xdp).
 *
 * Each of their queues is a socket the kernel fills: a PACKET_RX_RING
 * socket, readable while a frame it wrote is not yet released, or an XDP
 * socket, readable while its Rx ring is not empty. Both are level-triggered
 * and signalled by the kernel per frame (sk_data_ready), which is what an
 * Rx interrupt is to NAPI: the lcore can sleep on the socket in its epoll
 * set instead of backing off and polling, and no frame is missed between
 * the last empty poll and the sleep, since the readiness is the ring's
 * state, not an edge. Nothing is read from the fd; the PMD's receive is
 * what empties it.
 *
 * The PMDs do not export the fd, so it is found (net_af_packet: in its
 * queue; net_af_xdp: as the socket its queue's set-up opened) and checked
 * against what the kernel says the socket is; on any doubt the queue has no
 * doorbell and adaptive mode backs off as before.
 */
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <iterator>
#include <string_view>
#include <vector>

#include <dirent.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "bh_port.h"
#include "log_private.h"
#include "port_private.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

namespace bh::net::detail {

namespace {

int sock_domain(int fd)
{
	int domain = -1;
	socklen_t len = sizeof(domain);
	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 ? domain : -1;
}

/*
 * net_af_packet: the queue's first field is its socket (struct pkt_rx_queue
 * of DPDK 22.11). Taken only if the kernel confirms it is a TPACKET_V2 ring
 * socket bound to the port's interface.
 */
int af_packet_doorbell(uint16_t port, uint16_t queue, unsigned ifindex)
{
	const void *q = rte_eth_fp_ops[port].rxq.data ? rte_eth_fp_ops[port].rxq.data[queue] : nullptr;
	if (!q)
		return -ENOTSUP;
	const int fd = *static_cast<const int *>(q);
	if (fd < 0 || sock_domain(fd) != AF_PACKET)
		return -ENOTSUP;
	int version = -1;
	socklen_t vlen = sizeof(version);
	sockaddr_ll sll{};
	socklen_t alen = sizeof(sll);
	if (getsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, &vlen) != 0 || version != TPACKET_V2 ||
	    getsockname(fd, reinterpret_cast<sockaddr *>(&sll), &alen) != 0 || unsigned(sll.sll_ifindex) != ifindex)
		return -ENOTSUP;
	return fd;
}

/* This process's sockets of @p domain. */
std::vector<int> sockets_of(int domain)
{
	std::vector<int> fds;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return fds;
	while (const dirent *e = readdir(d)) {
		char *end;
		const long fd = strtol(e->d_name, &end, 10);
		struct stat st;
		if (!*end && fd >= 0 && fd != dirfd(d) && fstat(int(fd), &st) == 0 && S_ISSOCK(st.st_mode) &&
		    sock_domain(int(fd)) == domain)
			fds.push_back(int(fd));
	}
	closedir(d);
	return fds;
}

/* [main thread] The XDP socket each net_af_xdp Rx queue's set-up opened, -1 where none was seen. */
std::vector<int> xdp_fds[RTE_MAX_ETHPORTS];

/* net_af_xdp: the socket its queue's set-up opened, if it is still an XDP socket. */
int af_xdp_doorbell(uint16_t port, uint16_t queue)
{
	const std::vector<int> &fds = xdp_fds[port];
	return queue < fds.size() && fds[queue] >= 0 && sock_domain(fds[queue]) == AF_XDP ? fds[queue] : -ENOTSUP;
}

} // namespace

/*
 * net_af_xdp opens a queue's XDP socket in the queue's set-up, and neither
 * it nor the kernel (without CONFIG_XDP_SOCKETS_DIAG) says which socket is
 * whose afterwards: the one XDP socket that appears during the set-up is
 * the queue's.
 */
int rx_queue_setup(uint16_t port, uint16_t queue, uint16_t nb_desc, int socket, rte_mempool *pool) noexcept
{
	if (std::string_view(port_driver(port)) != "net_af_xdp")
		return rte_eth_rx_queue_setup(port, queue, nb_desc, socket, nullptr, pool);
	std::vector<int> before = sockets_of(AF_XDP);
	const int rc = rte_eth_rx_queue_setup(port, queue, nb_desc, socket, nullptr, pool);
	std::vector<int> after = sockets_of(AF_XDP);
	std::sort(before.begin(), before.end());
	std::sort(after.begin(), after.end());
	std::vector<int> opened;
	std::set_difference(after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(opened));
	std::vector<int> &fds = xdp_fds[port];
	if (fds.size() <= queue)
		fds.resize(queue + 1u, -1);
	fds[queue] = rc == 0 && opened.size() == 1 ? opened[0] : -1;
	return rc;
}

int rx_doorbell(uint16_t port, uint16_t queue) noexcept
{
	rte_eth_dev_info info{};
	if (rte_eth_dev_info_get(port, &info) != 0 || !info.driver_name || !info.if_index || queue >= info.nb_rx_queues)
		return -ENOTSUP;
	const std::string_view drv = info.driver_name;
	int fd = -ENOTSUP;
	if (drv == "net_af_packet")
		fd = af_packet_doorbell(port, queue, info.if_index);
	else if (drv == "net_af_xdp")
		fd = af_xdp_doorbell(port, queue);
	else
		return -ENOTSUP;
	if (fd < 0)
		BH_LOG(NOTICE, log::net, "port %u (%s): Rx queue %u: its socket was not found, no doorbell", port,
		       info.driver_name, queue);
	return fd;
}

} // namespace bh::net::detail
