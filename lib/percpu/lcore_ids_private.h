/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * What a DPDK lcore id costs a thread that is not an EAL lcore. Not
 * installed.
 */

#include <cerrno>

#include <rte_eal.h>
#include <rte_errno.h>

namespace bh::detail {

/*
 * Whether the EAL has a multi-process channel (shared config, so a
 * secondary such as dpdk-dumpcap may attach). DPDK 22.11 gives a non-EAL
 * thread an lcore id (rte_thread_register) only by turning that channel
 * off for good (rte_mp_disable): where it exists, threads the framework
 * makes keep away from lcore ids. Asked by registering an action, which
 * fails with ENOTSUP without a channel (--no-shconf, --in-memory; it does
 * not tell a channel already turned off). Process context; a malloc and a
 * mutex, no I/O.
 */
inline bool mp_channel_available() noexcept
{
	static constexpr char probe[] = "bh_mp_probe";
	if (rte_mp_action_register(probe, [](const rte_mp_msg *, const void *) { return 0; }) != 0)
		return rte_errno != ENOTSUP;
	rte_mp_action_unregister(probe);
	return true;
}

} // namespace bh::detail
