/* SPDX-License-Identifier: BSD-3-Clause */
#include <cerrno>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_pdump.h>

#include "bh_capture.h"
#include "bh_eal.h"
#include "lcore_ids_private.h"
#include "log_private.h"

namespace bh::net {

namespace {

bool initialised = false; /* main thread only */

} // namespace

int capture_init() noexcept
{
	if (initialised)
		return 0;
	if (!eal_initialised()) {
		BH_LOG(ERR, log::net, "capture_init: the EAL is not initialised");
		return -ENODEV;
	}
	/* rte_pdump_init() itself reports success without a channel, leaving dumpcap nothing to talk to. */
	if (!bh::detail::mp_channel_available()) {
		BH_LOG(INFO, log::net,
		       "capture_init: no multi-process channel (--no-shconf or --in-memory): "
		       "dpdk-dumpcap cannot attach; give --file-prefix NAME and hugepages to allow it");
		return -ENOTSUP;
	}
	if (!rte_eal_has_hugepages()) {
		BH_LOG(WARNING, log::net,
		       "capture_init: the EAL runs without hugepages (--no-huge): dpdk-dumpcap cannot map this "
		       "process's memory; give --socket-mem MB or --huge-dir DIR to allow capture");
		return -ENOTSUP;
	}
	/*
	 * dpdk-dumpcap (22.11 takes no EAL options) runs as lcore 0 of its own:
	 * an lcore 0 here that receives or transmits would share its pool's
	 * per-lcore cache with dumpcap, unlocked, and corrupt it.
	 */
	if (rte_lcore_is_enabled(0)) {
		BH_LOG(WARNING, log::net,
		       "capture_init: lcore 0 is this process's, and dpdk-dumpcap runs as lcore 0 too (sharing mempool "
		       "caches): start with lcores from 1 (e.g. -l 1-2) to allow capture");
		return -ENOTSUP;
	}
	if (rte_pdump_init() != 0) {
		const int err = rte_errno ? rte_errno : ENOMEM;
		BH_LOG(ERR, log::net, "capture_init: rte_pdump_init failed: %s", rte_strerror(err));
		return -err;
	}
	initialised = true;
	return 0;
}

int capture_uninit() noexcept
{
	if (initialised)
		rte_pdump_uninit();
	initialised = false;
	return 0;
}

} // namespace bh::net
