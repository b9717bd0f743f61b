/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bh-bridge: an 802.1D MAC-learning switch on bottom halves. Every port of
 * the port mask is in one bridge domain. NET_RX forwards (bridge.h) and asks
 * the FDB's owner to learn; the owner, an ordered work queue, learns, ages
 * in slices and flushes a port whose link goes down (fdb.h). The main lcore
 * prints statistics, serves /bh/bridge/ telemetry and writes a JSON summary
 * at exit.
 */
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_telemetry.h>

#include "bh_cli.h"
#include "bh_eal.h"
#include "bh_ksoftirqd.h"
#include "bh_lcore.h"
#include "bh_netdev.h"
#include "bh_port.h"
#include "bh_softirq.h"
#include "bh_summary.h"
#include "bridge.h"
#include "options.h"

namespace {

using bridge::fdb;
using bridge::fdb_row;
using bridge::forward_stats;
using bridge::fdb_stats;

std::atomic<bool> quit{false};

/* What telemetry reads; cleared under the mutex before they go (telemetry cannot unregister). */
struct live_state {
	std::mutex m;
	fdb *table = nullptr;
	const bridge::forwarder *fwd = nullptr;
};
live_state &live = *new live_state;

/* A counter's name and value, as the JSON summary's sections take them. */
using counter = std::pair<const char *, uint64_t>;

/* The bridge's counters, in one order for the statistics, the JSON summary and telemetry. */
std::vector<counter> bridge_counters(const fdb_stats &t, const forward_stats &f)
{
	return {{"entries", t.entries},
		{"static_entries", t.static_entries},
		{"learned", t.learned},
		{"moved", t.moved},
		{"aged", t.aged},
		{"flushed", t.flushed},
		{"learn_limit_refused", t.limit_refused},
		{"table_full", t.table_full},
		{"learn_requests", t.learn_requests},
		{"learn_queue_full", t.learn_queue_full},
		{"link_downs", t.link_downs},
		{"link_ups", t.link_ups},
		{"age_runs", t.age_runs},
		{"fdb_cache_lookups", t.cache_lookups},
		{"fdb_cache_misses", t.cache_misses},
		{"fdb_cache_skipped", t.cache_skipped},
		{"unicast", f.unicast},
		{"unknown_unicast", f.unknown_unicast},
		{"broadcast", f.broadcast},
		{"multicast", f.multicast},
		{"flood_tx", f.flood_tx},
		{"dropped_same_port", f.same_port},
		{"src_not_learned", f.src_not_learned}};
}

std::string mac_text(bridge::mac_t m)
{
	const rte_ether_addr a = bridge::ether_of(m);
	char text[RTE_ETHER_ADDR_FMT_SIZE];
	rte_ether_format_addr(text, sizeof(text), &a);
	return text;
}

/* ---- telemetry: /bh/bridge/stats, /bh/bridge/fdb[,offset] ---- */

constexpr unsigned fdb_rows_per_reply = 128; /* rte_telemetry's 16 KB reply holds about twice that */

int tel_stats(const char *, const char *params, rte_tel_data *d)
{
	if (params && *params)
		return -EINVAL;
	std::lock_guard lock(live.m);
	if (!live.table)
		return -ENODEV;
	rte_tel_data_start_dict(d);
	for (const counter &c : bridge_counters(live.table->stats(), live.fwd->stats()))
		rte_tel_data_add_dict_u64(d, c.first, c.second);
	return 0;
}

int tel_fdb(const char *, const char *params, rte_tel_data *d)
{
	unsigned long offset = 0;
	if (params && *params) {
		char *end = nullptr;
		offset = strtoul(params, &end, 10);
		if (*end || *params == '-')
			return -EINVAL;
	}
	std::lock_guard lock(live.m);
	if (!live.table)
		return -ENODEV;
	const std::vector<fdb_row> rows = live.table->dump();
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "entries", rows.size());
	rte_tel_data_add_dict_u64(d, "offset", offset);
	/* Columns: DPDK 22.11's telemetry nests arrays of numbers or strings only, not dicts. */
	rte_tel_data *macs = rte_tel_data_alloc(), *ports = rte_tel_data_alloc(), *ages = rte_tel_data_alloc(),
		     *types = rte_tel_data_alloc();
	rte_tel_data_start_array(macs, RTE_TEL_STRING_VAL);
	rte_tel_data_start_array(ports, RTE_TEL_U64_VAL);
	rte_tel_data_start_array(ages, RTE_TEL_U64_VAL);
	rte_tel_data_start_array(types, RTE_TEL_STRING_VAL);
	for (size_t i = offset; i < rows.size() && i < offset + fdb_rows_per_reply; i++) {
		rte_tel_data_add_array_string(macs, mac_text(rows[i].mac).c_str());
		rte_tel_data_add_array_u64(ports, rows[i].port);
		rte_tel_data_add_array_u64(ages, rows[i].age_ns / 1000000);
		rte_tel_data_add_array_string(types, rows[i].is_static ? "static" : "learned");
	}
	rte_tel_data_add_dict_container(d, "mac", macs, 0);
	rte_tel_data_add_dict_container(d, "port", ports, 0);
	rte_tel_data_add_dict_container(d, "age_ms", ages, 0);
	rte_tel_data_add_dict_container(d, "type", types, 0);
	return 0;
}

/* Help texts are at most RTE_TEL_MAX_STRING_LEN (128) bytes, or the command is not registered. */
void register_telemetry()
{
	rte_telemetry_register_cmd("/bh/bridge/stats", tel_stats, "Returns bh-bridge's FDB and forwarding counters. No parameters");
	rte_telemetry_register_cmd("/bh/bridge/fdb", tel_fdb,
				   "Returns 128 FDB entries from an offset, by MAC: mac, port, age_ms, type. Parameters: int offset");
}

/* ---- statistics ---- */

void print_stats(const bridge::options &o, double dt, bh::net::port_stats *last, const fdb &table,
		 const bridge::forwarder &fwd)
{
	printf("\nPort statistics (bh-bridge) ========================\n%-6s %14s %14s %12s %12s %10s %10s\n", "port",
	       "received", "sent", "rx dropped", "tx dropped", "rx Mpps", "tx Mpps");
	bh::net::port_stats total;
	for (uint16_t p = 0; p < 64; p++) {
		if (!(o.portmask >> p & 1))
			continue;
		const bh::net::port_stats s = bh::net::net_port_stats(p);
		printf("%-6u %14" PRIu64 " %14" PRIu64 " %12" PRIu64 " %12" PRIu64 " %10.3f %10.3f\n", p, s.rx, s.tx,
		       s.rx_dropped, s.tx_dropped,
		       dt > 0 ? double(s.rx - last[p].rx) / dt / 1e6 : 0.0,
		       dt > 0 ? double(s.tx - last[p].tx) / dt / 1e6 : 0.0);
		last[p] = s;
		total.rx += s.rx;
		total.tx += s.tx;
		total.rx_dropped += s.rx_dropped;
		total.tx_dropped += s.tx_dropped;
	}
	/* l2fwd's aggregate lines, which the throughput harness reads. */
	printf("Aggregate statistics ===============================\n"
	       "Total packets sent: %18" PRIu64 "\nTotal packets received: %14" PRIu64
	       "\nTotal packets dropped: %15" PRIu64 "\n",
	       total.tx, total.rx, total.rx_dropped + total.tx_dropped);
	printf("Bridge =============================================\n");
	int col = 0;
	for (const counter &c : bridge_counters(table.stats(), fwd.stats()))
		printf("%-20s %14" PRIu64 "%s", c.first, c.second, ++col % 3 ? "   " : "\n");
	if (col % 3)
		putchar('\n');
	printf("Bottom halves ======================================\n");
	bh::net::net_dump(stdout);
	printf("====================================================\n");
	fflush(stdout);
}

/* Read before the ports close, for the summary written after. */
bh::cli::port_info ports_info[64];

void write_json(const bridge::options &o, double seconds, const std::vector<counter> &counters,
		unsigned in_use_start, unsigned in_use_end)
{
	FILE *f = o.json == "-" ? stdout : fopen(o.json.c_str(), "w");
	if (!f) {
		fprintf(stderr, "bh-bridge: cannot write the JSON summary to %s: %s\n", o.json.c_str(), strerror(errno));
		return;
	}
	bh::cli::json_summary sum(f, seconds);
	for (uint16_t p = 0; p < 64; p++)
		if (o.portmask >> p & 1)
			sum.port(p, ports_info[p]);
	unsigned l;
	RTE_LCORE_FOREACH_WORKER(l)
	{
		sum.lcore(l);
	}
	sum.section("bridge", counters);
	sum.finish(in_use_start, in_use_end);
	if (f != stdout)
		fclose(f);
	else
		fflush(f);
}

int fatal(const char *what, int rc)
{
	fprintf(stderr, "bh-bridge: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
	return 1;
}

void on_link(uint16_t port, const rte_eth_link &link, void *table)
{
	static_cast<fdb *>(table)->link_changed(port, link.link_status == RTE_ETH_LINK_UP);
}

} // namespace

int main(int argc, char **argv)
{
	bh::eal_options eo;
	eo.lcores = "0-1";
	eo.memory_mb = 512;
	eo.extra = {"--log-level", "lib.eal:warning"};
	if (!bh::cli::init_eal("bh-bridge", eo, argc, argv))
		return 2;
	bridge::options o;
	if (const int rc = bridge::parse(argc, argv, o))
		return rc;
	unsigned lcore_of[64];
	if (const int rc = bridge::resolve(o, lcore_of))
		return rc;

	std::vector<unsigned> workers;
	unsigned nports = 0;
	for (uint16_t p = 0; p < 64; p++)
		if (o.portmask >> p & 1) {
			nports++;
			if (std::find(workers.begin(), workers.end(), lcore_of[p]) == workers.end())
				workers.push_back(lcore_of[p]);
		}
	bh::net::port_conf pc;
	pc.rx_interrupts = o.rx.mode != bh::net::rx_mode::poll;
	/* Every worker transmits on every port: one Tx queue each. */
	pc.tx_queues = uint16_t(workers.size());
	rte_mempool *pool =
		bh::net::mempool_create("bridge_pool", bh::net::mempool_size(nports, pc, rte_lcore_count()));
	if (!pool)
		return 1;
	const unsigned in_use_start = rte_mempool_in_use_count(pool);
	if (const int rc = bh::net::net_init())
		return fatal("net_init", rc);

	bridge::fdb_config fc;
	fc.learn_limit = o.learn_limit;
	fc.cache_slots = o.fdb_cache;
	fc.aging_ns = uint64_t(o.aging_s) * 1000000000;
	/* Destroyed before the EAL goes: its table, rings and queue live in EAL memory and threads. */
	auto owned = std::make_unique<fdb>(fc);
	fdb &table = *owned;
	if (table.init(o.portmask, workers, unsigned(o.statics.size())))
		return 1;
	for (const auto &[mac, port] : o.statics)
		if (const int rc = table.add_static(mac, port))
			return fatal(("static entry " + mac_text(mac)).c_str(), rc);
	static bridge::forwarder fwd(table);

	uint64_t carrier_ports = 0;
	for (uint16_t p = 0; p < 64; p++) {
		if (!(o.portmask >> p & 1))
			continue;
		const std::string what = "port " + std::to_string(p);
		if (const int rc = bh::net::port_configure(p, pc, pool))
			return fatal((what + " set-up").c_str(), rc);
		if (const int rc = bh::net::port_start(p))
			return fatal((what + " start").c_str(), rc);
		ports_info[p] = bh::cli::read_port_info(p);
		bh::net::rxq_conf rxq{p, 0, lcore_of[p], o.rx.mode, &fwd};
		rxq.sw = o.rx.sw;
		const int rc = bh::net::net_add_rxq(rxq);
		if (rc == -ENOTSUP) {
			fprintf(stderr, "bh-bridge: --rx-mode interrupt: port %u (%s) has no Rx interrupt\n", p,
				bh::net::port_driver(p));
			return 1;
		}
		if (rc)
			return fatal("binding Rx queues to lcores", rc);
		for (size_t q = 0; q < workers.size(); q++)
			if (const int trc = bh::net::net_add_txq(p, uint16_t(q), workers[q]))
				return fatal("binding Tx queues to lcores", trc);
		/* LSC where the PMD signals it; else the kernel interface's carrier, where there is one. */
		rte_eth_dev_info info{};
		rte_eth_dev_info_get(p, &info);
		if (*info.dev_flags & RTE_ETH_DEV_INTR_LSC)
			bh::net::port_watch_link(p, table.queue(), on_link, &table);
		else if (info.if_index)
			carrier_ports |= 1ull << p;
		printf("bh-bridge: lcore %u: Rx port %u (%s, %s, link watch: %s)\n", lcore_of[p], p,
		       ports_info[p].driver, bh::cli::rx_mode_name(o.rx.mode),
		       *info.dev_flags & RTE_ETH_DEV_INTR_LSC ? "LSC" : info.if_index ? "carrier" : "none");
	}

	signal(SIGINT, [](int) { quit = true; });
	signal(SIGTERM, [](int) { quit = true; });
	if (const int rc = bh::start())
		return fatal("bh::start", rc);
	table.start(carrier_ports);
	{
		std::lock_guard lock(live.m);
		live.table = &table;
		live.fwd = &fwd;
	}
	register_telemetry();
	for (unsigned w : workers) {
		bh::lcore_set_idle(w, o.rx.mode == bh::net::rx_mode::poll ? bh::idle_mode::poll : bh::idle_mode::sleep);
		rte_eal_remote_launch(bh::lcore_main, nullptr, w);
	}

	static bh::net::port_stats last[64];
	const auto t0 = std::chrono::steady_clock::now();
	auto printed = t0;
	auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
	while (!quit && (o.duration_s <= 0 || elapsed() < o.duration_s)) {
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
		const double since = std::chrono::duration<double>(std::chrono::steady_clock::now() - printed).count();
		if (o.period_s && since >= o.period_s) {
			print_stats(o, since, last, table, fwd);
			printed = std::chrono::steady_clock::now();
		}
	}
	const double seconds = elapsed();

	/* Stop taking packets; then the owner: link work, learning and aging end with its queue. */
	bh::stop();
	rte_eal_mp_wait_lcore();
	for (uint16_t p = 0; p < 64; p++)
		if (o.portmask >> p & 1)
			bh::net::port_unwatch_link(p);
	{
		std::lock_guard lock(live.m);
		live.table = nullptr;
		live.fwd = nullptr;
	}
	table.stop();
	static bh::net::port_stats from_start[64];
	print_stats(o, seconds, from_start, table, fwd);
	const std::vector<counter> counters = bridge_counters(table.stats(), fwd.stats());
	for (uint16_t p = 0; p < 64; p++) {
		if (!(o.portmask >> p & 1))
			continue;
		rte_eth_dev_stop(p);
		rte_eth_dev_close(p);
	}
	const unsigned in_use_end = rte_mempool_in_use_count(pool);
	if (!o.json.empty())
		write_json(o, seconds, counters, in_use_start, in_use_end);
	owned.reset();
	rte_mempool_free(pool);
	bh::eal_cleanup();
	return 0;
}
