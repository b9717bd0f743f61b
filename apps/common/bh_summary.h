/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The JSON summary bh-l2fwd and bh-bridge write after a run (--json): the
 * same "ports", "lcores", "drops", "mpps" and "mempool" members in both,
 * so that one script reads either; each program adds its own fields to a
 * port and its own sections before the rate.
 */

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <utility>
#include <vector>
#include <rte_ether.h>

#include "bh_netdev.h"

namespace bh::cli {

/* What the summary says of a port, read while it is open (the summary is written after it closed). */
struct port_info {
	char mac[RTE_ETHER_ADDR_FMT_SIZE] = "";
	const char *driver = "?";
};

/* @p port's MAC address and driver name; the port must be configured. */
port_info read_port_info(uint16_t port);

/*
 * One summary, written to @p f in the order of the calls: ports first, then
 * lcores, then the program's sections; finish() ends it. Not thread-safe:
 * one writer, after bh::stop().
 */
class json_summary {
public:
	json_summary(FILE *f, double seconds);

	/* A port's counters, MAC and driver; @p more writes further ", \"key\": value" fields. */
	void port(uint16_t port, const port_info &info, const std::function<void(FILE *)> &more = {});

	/* An lcore's softnet, NAPI, loop and softirq counters; its drops go to the "drops" section. */
	void lcore(unsigned lcore, std::optional<uint64_t> app_task_runs = std::nullopt);

	/* "name": {"key": value, ...} after the drops. */
	void section(const char *name, const std::vector<std::pair<const char *, uint64_t>> &counters);

	/* The Rx rate over the ports and the mempool's use; the drops by reason first if no section wrote them. */
	void finish(unsigned in_use_start, unsigned in_use_end);

private:
	void begin(int part);

	/* Legend: all fields belong to the one writer. */
	FILE *f_;
	double seconds_;
	int part_ = 0;          /* 0 ports, 1 lcores, 2 sections */
	const char *sep_ = "";
	uint64_t rx_total_ = 0;
	uint64_t drops_[unsigned(net::drop_reason::count)] = {};
};

} // namespace bh::cli
