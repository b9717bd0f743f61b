/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* bh-bridge's options: the command line, over a config file's [bridge] and [static] sections. */

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bh_netdev.h"
#include "bh_rx_options.h"
#include "fdb.h"

namespace bridge {

struct options {
	uint64_t portmask = 0;       /* -p: the ports of the one bridge domain */
	unsigned queues = 0;         /* -q: Rx ports per worker lcore; 0 = spread over every worker */
	unsigned period_s = 10;      /* -T: statistics period, 0 = off */
	unsigned aging_s = 300;      /* --aging: 0 = never (Linux's and VPP's default is 300) */
	unsigned learn_limit = 262144; /* --learn-limit: learned entries at most */
	unsigned fdb_cache = 8192;   /* --fdb-cache: lookup cache slots per lcore, a power of two; 0 = none */
	bh::cli::rx_settings rx;     /* every port's Rx mode and NAPI switching rule */
	double duration_s = 0;       /* 0: until a signal */
	std::string json;            /* "" none, "-" stdout */
	std::vector<std::pair<mac_t, uint16_t>> statics; /* [static] MAC = port */
};

/* The config file named by --config (if any), then the command line. 0, or one line on stderr and 2. */
int parse(int argc, char **argv, options &o);

/*
 * Checks the options against the EAL's ports and lcores and fills
 * @p lcore_of (the worker lcore polling each port). One line and 2 on error.
 */
int resolve(const options &o, unsigned lcore_of[64]);

} // namespace bridge
