/* SPDX-License-Identifier: BSD-3-Clause */
#include <cerrno>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_pdump.h>

#include "bh_capture.h"
#include "bh_eal.h"
#include "log_private.h"

namespace bh::net {

namespace {

bool initialised = false; /* [M] main thread only */

int no_action(const rte_mp_msg *, const void *)
{
	return 0;
}

/*
 * rte_pdump_init() reports success without the multi-process channel
 * (rte_mp_action_register's ENOTSUP is ignored in DPDK 22.11), leaving
 * dumpcap nothing to talk to: registering an action of our own is how to
 * ask whether the channel is there.
 */
bool have_mp_channel()
{
	static constexpr char probe[] = "bh_capture_probe";
	if (rte_mp_action_register(probe, no_action) != 0)
		return rte_errno != ENOTSUP;
	rte_mp_action_unregister(probe);
	return true;
}

/*
 * DPDK 22.11 gives a thread that is not an EAL lcore an lcore id
 * (rte_thread_register) only by turning multi-process off for good
 * (rte_mp_disable): the primary then refuses every secondary.
 */
bool has_non_eal_lcores()
{
	for (unsigned id = 0; id < RTE_MAX_LCORE; id++)
		if (rte_lcore_has_role(id, ROLE_NON_EAL))
			return true;
	return false;
}

} // namespace

int capture_init() noexcept
{
	if (initialised)
		return 0;
	if (!eal_initialised()) {
		BH_LOG(ERR, log::net, "capture_init: the EAL is not initialised");
		return -ENODEV;
	}
	if (!have_mp_channel()) {
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
	if (has_non_eal_lcores()) {
		BH_LOG(WARNING, log::net,
		       "capture_init: threads that are not EAL lcores (ksoftirqd) hold DPDK lcore ids, which turned "
		       "DPDK's multi-process off: dpdk-dumpcap would be refused");
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
