/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/**
 * @file
 * Packet capture by DPDK's own tool: lets `dpdk-dumpcap` (or `dpdk-pdump`)
 * capture the Rx and Tx of this process's ports, with a filter, while it
 * runs (rte_pdump, the DPDK counterpart of the kernel's packet taps that
 * tcpdump uses).
 *
 * dumpcap is a DPDK secondary process: it attaches to this (primary)
 * process's shared memory, asks over the EAL's multi-process channel for
 * ethdev Rx/Tx callbacks on the ports it names, and receives copies of the
 * packets through a ring in the shared memory. So the process needs:
 *
 * - **shared config**: not bh::eal_init()'s default `--no-shconf` (nor
 *   `--in-memory`), which turns the multi-process channel off. Giving
 *   `--file-prefix NAME` (then `dpdk-dumpcap --file-prefix NAME`) or
 *   `--proc-type primary` keeps it on;
 * - **hugepages**: a `--no-huge` process's memory is private anonymous
 *   memory that no other process can map (dumpcap stops with "Cannot get
 *   hugepage information"); `--socket-mem MB` or `--huge-dir DIR` (and
 *   free 2 MB pages, e.g. `dpdk-hugepages.py -r 256M`) give it hugepage
 *   files that dumpcap maps;
 * - **no DPDK lcore ids for other threads**: DPDK 22.11 registers a thread
 *   that is not an EAL lcore (rte_thread_register()) only by turning
 *   multi-process off for good (rte_mp_disable()), after which the primary
 *   refuses every secondary ("Primary process refused secondary
 *   attachment"). So where the channel exists, ksoftirqd threads take no
 *   lcore id (bh_ksoftirqd.h); an application that registers threads of
 *   its own gives up capture;
 * - **no lcore 0**: dpdk-dumpcap (22.11 takes no EAL options) runs as
 *   lcore 0, and the per-lcore mempool caches of its capture pool are
 *   shared, unlocked, by the lcores of that id in both processes: start
 *   the process with lcores from 1 (`-l 1-2`).
 */

namespace bh::net {

/**
 * Lets dpdk-dumpcap capture this process's ports (rte_pdump_init()). The
 * ports may start before or after. A second call does nothing.
 *
 * @return 0: dumpcap can attach.
 *   -ENOTSUP, with one log line naming the cause, and nothing set up:
 *   the EAL has no multi-process channel (--no-shconf, bh::eal_init()'s
 *   default, or --in-memory), which is a documented no-op logged at INFO,
 *   so that applications may call this unconditionally; or the EAL runs
 *   without hugepages, or lcore 0 is one of this process's, logged at
 *   WARNING since shared config was asked for.
 *   -ENODEV if the EAL is not initialised; -errno from rte_pdump_init()
 *   otherwise (logged).
 * @context Main thread, process context.
 * @cost A memzone of about 2 MB for the capture statistics. Without a
 *   capture attached nothing per packet; while one is, each captured packet
 *   is copied (rte_pcapng_copy) into the capture's mempool on the lcore
 *   that receives or transmits it, inside rte_eth_rx_burst() and
 *   rte_eth_tx_burst(): in NET_RX and NET_TX.
 */
int capture_init() noexcept;

/**
 * Stops answering dumpcap and frees what capture_init() reserved
 * (rte_pdump_uninit()); a capture still attached then stops receiving
 * packets.
 * @return 0, also when capture_init() had not succeeded.
 * @context Main thread, after the lcores stopped.
 * @cost Frees the memzone.
 */
int capture_uninit() noexcept;

} // namespace bh::net
