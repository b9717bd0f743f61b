/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-packet cost of the NET_RX/NET_TX path: one worker lcore forwards
 * net_null0 -> net_null1 (net_null makes 64-byte packets on Rx and frees
 * them on Tx) through a handler that does nothing but ctx.tx(), in poll and
 * adaptive modes, beside a plain DPDK loop doing rx_burst + tx_burst on the
 * same ports. Reports Mpps and TSC cycles per packet of the worker.
 *
 * usage: bench_net [EAL options] -- [--seconds S] [--runs N]
 */
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <getopt.h>
#include <thread>
#include <vector>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "bh_eal.h"
#include "bh_lcore.h"
#include "bh_netdev.h"
#include "bh_port.h"

namespace {

class forward : public bh::net::packet_handler {
public:
	explicit forward(uint16_t out) : out_(out) {}
	void on_burst(bh::net::rx_context &ctx, rte_mbuf **pkts, uint16_t n) override
	{
		ctx.tx_burst(out_, pkts, n);
	}

private:
	uint16_t out_;
};

std::atomic<bool> plain_stop{false};
std::atomic<uint64_t> plain_pkts{0};

/* The same job without the framework: what l2fwd's inner loop does, minus MAC rewriting. */
int plain_loop(void *)
{
	rte_mbuf *pkts[32];
	uint64_t n = 0;
	while (!plain_stop.load(std::memory_order_relaxed)) {
		const uint16_t nb = rte_eth_rx_burst(0, 0, pkts, 32);
		const uint16_t sent = rte_eth_tx_burst(1, 0, pkts, nb);
		for (uint16_t i = sent; i < nb; i++)
			rte_pktmbuf_free(pkts[i]);
		n += nb;
	}
	plain_pkts = n;
	return 0;
}

struct result {
	double mpps, cycles_per_pkt;
};

double measure_seconds = 2;

result run_plain(unsigned worker)
{
	plain_stop = false;
	const uint64_t t0 = rte_rdtsc();
	rte_eal_remote_launch(plain_loop, nullptr, worker);
	std::this_thread::sleep_for(std::chrono::duration<double>(measure_seconds));
	plain_stop = true;
	rte_eal_wait_lcore(worker);
	const double cycles = double(rte_rdtsc() - t0);
	const double pkts = double(plain_pkts.load());
	return {pkts / (cycles / double(rte_get_tsc_hz())) / 1e6, cycles / pkts};
}

result run_bh(unsigned worker, bh::net::rx_mode mode)
{
	forward fwd(1);
	bh::net::net_init();
	bh::net::net_add_rxq({0, 0, worker, mode, &fwd});
	bh::net::net_add_txq(1, 0, worker);
	bh::start();
	const uint64_t rx0 = bh::net::net_port_stats(0).rx;
	const uint64_t t0 = rte_rdtsc();
	rte_eal_remote_launch(bh::lcore_main, nullptr, worker);
	std::this_thread::sleep_for(std::chrono::duration<double>(measure_seconds));
	const double pkts = double(bh::net::net_port_stats(0).rx - rx0);
	const double cycles = double(rte_rdtsc() - t0);
	bh::stop();
	rte_eal_wait_lcore(worker);
	return {pkts / (cycles / double(rte_get_tsc_hz())) / 1e6, cycles / pkts};
}

result median(std::vector<result> v)
{
	std::sort(v.begin(), v.end(), [](const result &a, const result &b) { return a.mpps < b.mpps; });
	return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv)
{
	bh::eal_options eo;
	eo.lcores = "0-1";
	eo.vdevs = {"net_null0", "net_null1"};
	eo.memory_mb = 512;
	eo.extra = {"--log-level", "lib.eal:warning"};
	const int consumed = bh::eal_init(eo, argc, argv);
	if (consumed < 0)
		return 1;
	argc -= consumed;
	argv += consumed;
	unsigned runs = 3;
	static const option opts[] = {{"seconds", required_argument, nullptr, 's'},
				      {"runs", required_argument, nullptr, 'r'},
				      {nullptr, 0, nullptr, 0}};
	for (int c; (c = getopt_long(argc, argv, "s:r:", opts, nullptr)) != -1;) {
		if (c == 's')
			measure_seconds = atof(optarg);
		else if (c == 'r')
			runs = unsigned(atoi(optarg));
		else {
			fprintf(stderr, "bench_net: unknown option\n");
			return 2;
		}
	}
	if (measure_seconds <= 0 || runs == 0 || rte_eth_dev_count_avail() < 2) {
		fprintf(stderr, "bench_net: bad --seconds/--runs, or fewer than 2 ports\n");
		return 2;
	}
	const unsigned worker = rte_get_next_lcore(-1, 1, 0);
	bh::net::port_conf pc;
	rte_mempool *pool = bh::net::mempool_create("bench_pool", bh::net::mempool_size(2, pc, 2));
	for (uint16_t p = 0; p < 2; p++)
		if (!pool || bh::net::port_configure(p, pc, pool) || bh::net::port_start(p))
			return 1;

	std::vector<result> plain, poll, adaptive;
	for (unsigned r = 0; r < runs; r++) {
		plain.push_back(run_plain(worker));
		poll.push_back(run_bh(worker, bh::net::rx_mode::poll));
		adaptive.push_back(run_bh(worker, bh::net::rx_mode::adaptive));
	}
	const result p0 = median(plain), p1 = median(poll), p2 = median(adaptive);
	printf("net_null -> net_null, 64-byte packets, one worker lcore, %u runs of %.1f s, median:\n", runs,
	       measure_seconds);
	printf("%-34s %10s %12s %10s\n", "path", "Mpps", "cycles/pkt", "vs plain");
	printf("%-34s %10.2f %12.1f %9.2fx\n", "plain rx_burst + tx_burst loop", p0.mpps, p0.cycles_per_pkt, 1.0);
	printf("%-34s %10.2f %12.1f %9.2fx\n", "bottomhalf NET_RX/NET_TX, poll", p1.mpps, p1.cycles_per_pkt,
	       p1.mpps / p0.mpps);
	printf("%-34s %10.2f %12.1f %9.2fx\n", "bottomhalf NET_RX/NET_TX, adaptive", p2.mpps, p2.cycles_per_pkt,
	       p2.mpps / p0.mpps);
	for (uint16_t p = 0; p < 2; p++) {
		rte_eth_dev_stop(p);
		rte_eth_dev_close(p);
	}
	rte_mempool_free(pool);
	bh::eal_cleanup();
	return 0;
}
