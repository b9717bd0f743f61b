/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bh-pktgen: the traffic source and sink of the throughput harness
 * (bench/throughput/run.py). On its main lcore it sends frames round-robin
 * on every port at a set rate (a token bucket on the TSC; 0 = as fast as it
 * can) and counts what comes back. It is a plain DPDK loop, not built on
 * bottom halves, so that it measures the forwarder and not itself.
 *
 * Frames a port's Tx ring does not take are what a NIC counts as missed at
 * the forwarder's Rx ring: counted as offered but not delivered, and sent
 * again in the next burst (no new mbufs), so that offering far past what
 * the forwarder takes costs the generator little.
 *
 *   bh-pktgen [EAL options] -- [--rate MPPS] [--size BYTES] [--warmup S]
 *       [--duration S] [--link-timeout S] [--macs N] [--json FILE|-]
 *   bh-pktgen [EAL options] -- --probe-rtt
 *
 * --macs N gives each port N hosts for a bridge to learn: port p's frames
 * go from 02:<p>:<i> to 02:<q>:<i> (i cycling over 0..N-1, a 32-bit
 * big-endian index, q = the next port), so that once a bridge has learned
 * both sides every frame is known unicast to the other port. Without it
 * every frame goes to 02:00:00:00:00:<port>, the address l2fwd's MAC
 * updating writes.
 *
 * --probe-rtt prints the round trip of a cache line between this CPU and
 * the other one, {"rtt_ns": N}, and exits: on a virtual machine it changes
 * when the host moves the two vCPUs, and every frame that crosses between
 * generator and forwarder pays it, so the harness records it beside each run.
 */

#include <cerrno>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <getopt.h>
#include <string>
#include <vector>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "bench_support.h"
#include "bh_cli.h"
#include "bh_eal.h"
#include "bh_port.h"

namespace {

constexpr unsigned burst = 32;
volatile sig_atomic_t quit = 0;

struct options {
	double rate_mpps = 0;
	double size = 64;
	double warmup_s = 1;
	double duration_s = 3;
	double link_timeout_s = 10;
	unsigned macs = 0; /* hosts per port, 0: l2fwd's addresses */
	std::string json;
	bool probe_rtt = false;
};

int parse_number(const char *s, double &v, double min, double max, const char *what)
{
	return bh::cli::parse_number("bh-pktgen", what, s, min, max, v) ? 0 : 2;
}

int parse(int argc, char **argv, options &o)
{
	static const option longs[] = {
		{"rate", required_argument, nullptr, 'r'},
		{"size", required_argument, nullptr, 's'},
		{"warmup", required_argument, nullptr, 'w'},
		{"duration", required_argument, nullptr, 'd'},
		{"link-timeout", required_argument, nullptr, 'l'},
		{"json", required_argument, nullptr, 'j'},
		{"probe-rtt", no_argument, nullptr, 'p'},
		{"macs", required_argument, nullptr, 'm'},
		{nullptr, 0, nullptr, 0},
	};
	opterr = 0;
	optind = 1;
	for (int c; (c = getopt_long(argc, argv, "", longs, nullptr)) != -1;) {
		int rc = 0;
		switch (c) {
		case 'r': rc = parse_number(optarg, o.rate_mpps, 0, 1000, "rate (Mpps)"); break;
		case 's': rc = parse_number(optarg, o.size, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN, RTE_ETHER_MAX_LEN - RTE_ETHER_CRC_LEN, "frame size"); break;
		case 'w': rc = parse_number(optarg, o.warmup_s, 0, 3600, "warm-up (s)"); break;
		case 'd': rc = parse_number(optarg, o.duration_s, 0.1, 86400, "duration (s)"); break;
		case 'l': rc = parse_number(optarg, o.link_timeout_s, 0, 600, "link time-out (s)"); break;
		case 'j': o.json = optarg; break;
		case 'p': o.probe_rtt = true; break;
		case 'm': rc = bh::cli::parse_unsigned("bh-pktgen", "host count", optarg, 1, 1u << 24, o.macs) ? 0 : 2; break;
		default:
			fprintf(stderr, "bh-pktgen: unknown or incomplete option '%s'\n", argv[optind - 1]);
			return 2;
		}
		if (rc)
			return rc;
	}
	if (optind < argc) {
		fprintf(stderr, "bh-pktgen: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return 0;
}

/* What one port sends and gets back; unsent holds frames its Tx ring refused. */
struct port_state {
	uint16_t id;
	uint16_t peer;         /* --macs: the port whose hosts this one's frames go to */
	uint32_t next_host = 0; /* --macs: the index of the next frame's hosts */
	rte_mbuf *unsent[burst];
	uint16_t nunsent = 0;
	uint64_t offered = 0, sent = 0, received = 0;
};

struct totals {
	uint64_t offered = 0, sent = 0, received = 0;
};

totals sum(const std::vector<port_state> &ports)
{
	totals t;
	for (const port_state &p : ports) {
		t.offered += p.offered;
		t.sent += p.sent;
		t.received += p.received;
	}
	return t;
}

/* 02:<port>:<i>, i as four big-endian bytes: host i behind @p port. */
void host_addr(rte_ether_addr &a, uint16_t port, uint32_t i)
{
	a.addr_bytes[0] = 0x02;
	a.addr_bytes[1] = uint8_t(port);
	const uint32_t be = rte_cpu_to_be_32(i);
	memcpy(&a.addr_bytes[2], &be, sizeof(be));
}

/*
 * An Ethernet frame from @p p: to 02:00:00:00:00:<port>, the address
 * l2fwd's MAC updating writes, or with @p macs from its next host to the
 * same host behind its peer port.
 */
void fill(rte_mbuf *m, port_state &p, unsigned size, unsigned macs)
{
	auto *eth = rte_pktmbuf_mtod(m, rte_ether_hdr *);
	memset(eth, 0, size);
	if (macs) {
		host_addr(eth->dst_addr, p.peer, p.next_host);
		host_addr(eth->src_addr, p.id, p.next_host);
		p.next_host = p.next_host + 1 == macs ? 0 : p.next_host + 1;
	} else {
		const uint8_t dst[RTE_ETHER_ADDR_LEN] = {0x02, 0, 0, 0, 0, uint8_t(p.id)};
		const uint8_t src[RTE_ETHER_ADDR_LEN] = {0x02, 0xbe, 0x9c, 0, 0, uint8_t(p.id)};
		memcpy(&eth->dst_addr, dst, sizeof(dst));
		memcpy(&eth->src_addr, src, sizeof(src));
	}
	eth->ether_type = rte_cpu_to_be_16(0x88b5); /* local experimental ethertype */
	m->data_len = uint16_t(size);
	m->pkt_len = size;
}

bool links_up(double timeout_s)
{
	const uint64_t until = rte_get_tsc_cycles() + uint64_t(timeout_s * double(rte_get_tsc_hz()));
	do {
		bool all = true;
		uint16_t p;
		RTE_ETH_FOREACH_DEV(p)
		{
			rte_eth_link link;
			all &= rte_eth_link_get_nowait(p, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
		}
		if (all)
			return true;
		rte_delay_ms(10);
	} while (rte_get_tsc_cycles() < until && !quit);
	return false;
}

/*
 * Sends up to @p n frames on @p p (refused ones first, so no frame is
 * reordered behind a newer one) and returns how many the ring took.
 */
uint16_t send(port_state &p, rte_mempool *pool, uint16_t n, unsigned size, unsigned macs)
{
	while (p.nunsent < n) {
		rte_mbuf *m = rte_pktmbuf_alloc(pool);
		if (!m)
			break;
		fill(m, p, size, macs);
		p.unsent[p.nunsent++] = m;
	}
	n = std::min(n, p.nunsent);
	const uint16_t took = rte_eth_tx_burst(p.id, 0, p.unsent, n);
	memmove(p.unsent, p.unsent + took, (p.nunsent - took) * sizeof(p.unsent[0]));
	p.nunsent = uint16_t(p.nunsent - took);
	p.offered += n;
	p.sent += took;
	return took;
}

void drain(port_state &p)
{
	rte_mbuf *pkts[burst];
	const uint16_t n = rte_eth_rx_burst(p.id, 0, pkts, burst);
	rte_pktmbuf_free_bulk(pkts, n);
	p.received += n;
}

void write_json(const options &o, const totals &t, double seconds, uint16_t nports)
{
	FILE *f = o.json == "-" ? stdout : fopen(o.json.c_str(), "w");
	if (!f) {
		fprintf(stderr, "bh-pktgen: cannot write %s: %s\n", o.json.c_str(), strerror(errno));
		return;
	}
	fprintf(f,
		"{\"ports\": %u, \"seconds\": %.4f, \"rate_mpps\": %.4f, \"offered\": %" PRIu64 ", \"sent\": %" PRIu64
		", \"received\": %" PRIu64 ", \"offered_mpps\": %.4f, \"sent_mpps\": %.4f, \"received_mpps\": %.4f}\n",
		nports, seconds, o.rate_mpps, t.offered, t.sent, t.received, double(t.offered) / seconds / 1e6,
		double(t.sent) / seconds / 1e6, double(t.received) / seconds / 1e6);
	if (f != stdout)
		fclose(f);
}

} // namespace

int main(int argc, char **argv)
{
	bh::eal_options eo;
	eo.lcores = "0";
	eo.memory_mb = 256;
	eo.extra = {"--log-level", "lib.eal:warning"};
	if (!bh::cli::init_eal("bh-pktgen", eo, argc, argv))
		return 2;
	options o;
	if (const int rc = parse(argc, argv, o))
		return rc;
	if (o.probe_rtt) {
		const double rtt = bench::cross_cpu_round_trip_ns();
		printf("{\"rtt_ns\": %.1f}\n", rtt);
		bh::eal_cleanup();
		return rtt > 0 ? 0 : 1;
	}
	const uint16_t nports = rte_eth_dev_count_avail();
	if (!nports) {
		fprintf(stderr, "bh-pktgen: no ports (give them with --vdev)\n");
		return 2;
	}
	signal(SIGINT, [](int) { quit = 1; });
	signal(SIGTERM, [](int) { quit = 1; });

	bh::net::port_conf pc;
	rte_mempool *pool = bh::net::mempool_create("pktgen_pool", bh::net::mempool_size(nports, pc, 1) + nports * burst);
	if (!pool)
		return 1;
	std::vector<port_state> ports;
	uint16_t id;
	RTE_ETH_FOREACH_DEV(id)
	{
		if (bh::net::port_configure(id, pc, pool) || bh::net::port_start(id)) {
			fprintf(stderr, "bh-pktgen: cannot set up port %u\n", id);
			return 1;
		}
		ports.push_back(port_state{id, id, 0, {}});
	}
	for (size_t i = 0; i < ports.size(); i++)
		ports[i].peer = ports[(i + 1) % ports.size()].id;
	if (!links_up(o.link_timeout_s)) {
		fprintf(stderr, "bh-pktgen: links not up after %g s (is the forwarder running?)\n", o.link_timeout_s);
		return 1;
	}

	const double hz = double(rte_get_tsc_hz());
	const uint64_t start = rte_get_tsc_cycles();
	const uint64_t window_start = start + uint64_t(o.warmup_s * hz);
	const uint64_t end = window_start + uint64_t(o.duration_s * hz);
	const double per_cycle = o.rate_mpps * 1e6 / hz;
	uint64_t credited = 0; /* frames the token bucket has allowed since start */
	totals at_window{};
	bool in_window = false;
	size_t next = 0;
	for (uint64_t now = start; now < end && !quit; now = rte_get_tsc_cycles()) {
		if (!in_window && now >= window_start) {
			at_window = sum(ports);
			in_window = true;
		}
		uint16_t n = burst;
		if (per_cycle > 0) {
			const uint64_t allowed = uint64_t(double(now - start) * per_cycle);
			/* A generator that fell behind does not catch up in one burst storm. */
			if (allowed > credited + 4 * burst)
				credited = allowed - 4 * burst;
			n = uint16_t(std::min<uint64_t>(burst, allowed - credited));
		}
		if (n) {
			send(ports[next], pool, n, unsigned(o.size), o.macs);
			credited += n;
			next = (next + 1) % ports.size();
		}
		for (port_state &p : ports)
			drain(p);
	}
	const double seconds = double(rte_get_tsc_cycles() - window_start) / hz;
	totals t = sum(ports);
	t.offered -= at_window.offered;
	t.sent -= at_window.sent;
	t.received -= at_window.received;
	for (port_state &p : ports) {
		rte_pktmbuf_free_bulk(p.unsent, p.nunsent);
		bh::net::port_stop(p.id);
		rte_eth_dev_close(p.id);
	}
	if (!o.json.empty())
		write_json(o, t, seconds, nports);
	rte_mempool_free(pool);
	bh::eal_cleanup();
	return in_window ? 0 : 1;
}
