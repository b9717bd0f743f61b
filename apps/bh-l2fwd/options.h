/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* bh-l2fwd's options: DPDK l2fwd's command line, a config file, and the extras. */

#include <cstdint>
#include <string>
#include <vector>

#include <rte_ethdev.h>

#include "bh_netdev.h"

namespace l2fwd {

struct options {
	uint64_t portmask = 0;
	unsigned queues = 1;     /* Rx ports per worker lcore (-q) */
	unsigned period_s = 10;  /* -T, 0 = off */
	bool mac_updating = true;
	bool frame_checks = true; /* false: frames go out unchecked (needs !mac_updating: nothing reads them) */
	std::vector<std::pair<uint16_t, uint16_t>> portmap;
	bh::net::rx_mode mode = bh::net::rx_mode::poll;
	double duration_s = 0;   /* 0: until a signal */
	std::string json;        /* "" none, "-" stdout */
	unsigned app_task_ns = 0; /* an application task's work per loop on each worker, 0 = none */
	unsigned max_backoff_us = 1000; /* adaptive without Rx interrupts: longest sleep between idle polls */
};

/*
 * Parses the config file named by --config (if any), then the command line
 * over it. Returns 0, or prints one line naming the problem and returns 2.
 */
int parse(int argc, char **argv, options &o);

/*
 * Checks the options against the ports and lcores the EAL has, and fills
 * @p pair (tx port of each rx port). Prints one line and returns 2 on error.
 */
int resolve(const options &o, uint16_t pair[RTE_MAX_ETHPORTS]);

} // namespace l2fwd
