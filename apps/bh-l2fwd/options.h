/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * bh-l2fwd's options: DPDK l2fwd's command line (22.11, examples/l2fwd),
 * a config file, and the extras; and what l2fwd makes of them: which ports
 * forward, to which port, on which lcore.
 */

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "bh_netdev.h"
#include "bh_rx_options.h"

namespace l2fwd {

/* One (port,queue,lcore) of --rx-queues, l3fwd's --config. */
struct rx_queue {
	uint16_t port;
	uint16_t queue;
	unsigned lcore;
};

struct options {
	uint64_t portmask = 0;
	unsigned queues = 1;     /* Rx ports per lcore (-q) */
	bool queues_given = false; /* -q or queues= was given: it then bounds the ports --rx-queues gives an lcore */
	/* --rx-queues' tuples, in their order: the Rx queues of the ports they name and their lcores */
	std::optional<std::vector<rx_queue>> rx_queues;
	std::optional<uint64_t> rss_hf; /* --rss: flow types (0: none); unset: auto, those the device hashes */
	unsigned period_s = 10;  /* -T, 0 = off */
	bool promiscuous = false; /* -P */
	bool mac_updating = true;
	bool frame_checks = true; /* false: frames go out unchecked (needs !mac_updating: nothing reads them) */
	/* --portmap's pairs; given (even with no pair in it), only the ports it pairs forward, as in l2fwd */
	std::optional<std::vector<std::pair<uint16_t, uint16_t>>> portmap;
	bh::cli::rx_plan rx;      /* each port's Rx mode and switching rule */
	double duration_s = 0;   /* 0: until a signal */
	std::string json;        /* "" none, "-" stdout */
	unsigned app_task_ns = 0; /* an application task's work per loop on each forwarding lcore, 0 = none */
	unsigned bh_share = 50;   /* percent of a forwarding lcore's time its bottom halves may take from app tasks */
};

/*
 * Parses the config files named by --config (in any spelling getopt_long
 * takes: --config FILE, --config=FILE, --conf FILE ...), then the command
 * line over them. Returns 0, or prints one line naming the problem and
 * returns 2 (0 after printing the usage for --help, with @p help set).
 */
int parse(int argc, char **argv, options &o, bool &help);

/* An Rx queue's lcore, and the Tx queue that lcore sends on to the Rx port's Tx port. */
struct binding {
	uint16_t port, queue;
	unsigned lcore;
	uint16_t tx_queue;
};

/* What l2fwd's main() makes of the options and the ports and lcores there are. */
struct plan {
	uint64_t ports = 0;                 /* the ports that forward: the mask, less those a port map leaves out */
	bool odd = false;                   /* an odd number of ports and no port map: the last forwards to itself */
	uint64_t by_tuples = 0;             /* the ports whose Rx queues --rx-queues placed */
	uint16_t tx[RTE_MAX_ETHPORTS] = {};  /* the Tx port of each Rx port */
	unsigned lcore[RTE_MAX_ETHPORTS] = {}; /* the lcore polling each Rx port's queue 0 */
	uint16_t rx_queues[RTE_MAX_ETHPORTS] = {}; /* each port's Rx queues */
	uint16_t tx_queues[RTE_MAX_ETHPORTS] = {}; /* each port's Tx queues: one per lcore sending on it */
	uint64_t rss_hf[RTE_MAX_ETHPORTS] = {};    /* port_conf::rss_hf of each port */
	std::vector<binding> rxqs;          /* every Rx queue, by port and queue id */
	bool forwards(uint16_t port) const { return port < 64 && (ports >> port & 1); }
};

/*
 * Checks the options against the ports and lcores the EAL has and fills
 * @p p as l2fwd does: port pairs by the port map or in order; the Rx queues
 * --rx-queues names on their lcores, then each lcore, in id order (the
 * main lcore included), taking -q Rx ports of the rest (one queue each);
 * on each Tx port, Tx queues 0, 1, ... to the lcores that send on it, in
 * lcore id order; checks each forwarding port's Rx settings, its queue
 * counts and RSS against what the device has. Prints one line and returns
 * 2 on error.
 */
int resolve(const options &o, plan &p);

} // namespace l2fwd
