/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_log.h>

#include "bh_log.h"

namespace bh::log {
int softirq = RTE_LOGTYPE_USER1;
int ksoftirqd = RTE_LOGTYPE_USER1;
int context = RTE_LOGTYPE_USER1;
int lcore = RTE_LOGTYPE_USER1;
int tasklet = RTE_LOGTYPE_USER1;
int timer = RTE_LOGTYPE_USER1;
int workqueue = RTE_LOGTYPE_USER1;
int net = RTE_LOGTYPE_USER1;
int eal = RTE_LOGTYPE_USER1;
} // namespace bh::log

namespace {

/*
 * rte_log_register_type_and_pick_level works before rte_eal_init (the EAL
 * applies --log-level to already registered types), which is why DPDK's
 * own RTE_LOG_REGISTER runs from a constructor too.
 */
int register_type(const char *name)
{
	int t = rte_log_register_type_and_pick_level(name, RTE_LOG_NOTICE);
	return t >= 0 ? t : RTE_LOGTYPE_USER1;
}

RTE_INIT(bh_log_register)
{
	bh::log::softirq = register_type("bh.softirq");
	bh::log::ksoftirqd = register_type("bh.ksoftirqd");
	bh::log::context = register_type("bh.context");
	bh::log::lcore = register_type("bh.lcore");
	bh::log::tasklet = register_type("bh.tasklet");
	bh::log::timer = register_type("bh.timer");
	bh::log::workqueue = register_type("bh.workqueue");
	bh::log::net = register_type("bh.net");
	bh::log::eal = register_type("bh.eal");
}

} // namespace
