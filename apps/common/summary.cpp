/* SPDX-License-Identifier: BSD-3-Clause */
#include "bh_summary.h"

#include <cinttypes>
#include <rte_ethdev.h>

#include "bh_ksoftirqd.h"
#include "bh_lcore.h"
#include "bh_port.h"
#include "bh_softirq.h"

namespace bh::cli {

port_info read_port_info(uint16_t port)
{
	port_info info;
	rte_ether_addr mac;
	if (rte_eth_macaddr_get(port, &mac) == 0)
		rte_ether_format_addr(info.mac, sizeof(info.mac), &mac);
	info.driver = net::port_driver(port);
	return info;
}

json_summary::json_summary(FILE *f, double seconds) : f_(f), seconds_(seconds)
{
	fprintf(f_, "{\n  \"seconds\": %.3f,\n  \"ports\": {", seconds);
}

/* Closes the object open (ports or lcores) and opens @p part's; the drops come before the sections. */
void json_summary::begin(int part)
{
	if (part_ == part)
		return;
	fputs("\n  }", f_);
	if (part == 1) {
		fputs(",\n  \"lcores\": {", f_);
	} else {
		fputs(",\n  \"drops\": {", f_);
		for (unsigned r = 0; r < unsigned(net::drop_reason::count); r++)
			fprintf(f_, "%s\"%s\": %" PRIu64, r ? ", " : "", net::drop_reason_name(net::drop_reason(r)),
				drops_[r]);
		fputc('}', f_);
	}
	part_ = part;
	sep_ = "";
}

void json_summary::port(uint16_t port, const port_info &info, const std::function<void(FILE *)> &more)
{
	const net::port_stats s = net::net_port_stats(port);
	fprintf(f_,
		"%s\n    \"%u\": {\"rx\": %" PRIu64 ", \"tx\": %" PRIu64 ", \"rx_dropped\": %" PRIu64
		", \"tx_dropped\": %" PRIu64 ", \"mac\": \"%s\", \"driver\": \"%s\"",
		sep_, port, s.rx, s.tx, s.rx_dropped, s.tx_dropped, info.mac, info.driver);
	if (more)
		more(f_);
	fputc('}', f_);
	rx_total_ += s.rx;
	sep_ = ",";
}

void json_summary::lcore(unsigned l, std::optional<uint64_t> app_task_runs)
{
	begin(1);
	const net::lcore_net_stats s = net::net_lcore_stats(l);
	const lcore_stats ls = lcore_get_stats(l);
	for (unsigned r = 0; r < unsigned(net::drop_reason::count); r++)
		drops_[r] += s.dropped[r];
	fprintf(f_,
		"%s\n    \"%u\": {\"processed\": %" PRIu64 ", \"time_squeeze\": %" PRIu64 ", \"polls\": %" PRIu64
		", \"interrupts\": %" PRIu64 ", \"to_poll\": %" PRIu64 ", \"to_interrupt\": %" PRIu64
		", \"backoffs\": %" PRIu64 ", \"spurious\": %" PRIu64 ", \"sleeps\": %" PRIu64
		", \"ksoftirqd_wakeups\": %" PRIu64 ", \"net_rx_softirqs\": %" PRIu64 ", \"net_tx_softirqs\": %" PRIu64
		", \"busy_cycles\": %" PRIu64 ", \"idle_cycles\": %" PRIu64,
		sep_, l, s.softnet.processed, s.softnet.time_squeeze, s.softnet.polls, s.softnet.interrupts,
		s.softnet.to_poll, s.softnet.to_interrupt, s.softnet.backoffs, s.softnet.spurious, ls.sleeps,
		ksoftirqd_get_stats(l).wakeups, softirq_get_stats(l, NET_RX_SOFTIRQ).run,
		softirq_get_stats(l, NET_TX_SOFTIRQ).run, ls.busy_cycles, ls.idle_cycles);
	if (app_task_runs)
		fprintf(f_, ", \"app_task_runs\": %" PRIu64, *app_task_runs);
	fputc('}', f_);
	sep_ = ",";
}

void json_summary::section(const char *name, const std::vector<std::pair<const char *, uint64_t>> &counters)
{
	begin(2);
	fprintf(f_, ",\n  \"%s\": {", name);
	const char *sep = "";
	for (const auto &[key, value] : counters) {
		fprintf(f_, "%s\"%s\": %" PRIu64, sep, key, value);
		sep = ", ";
	}
	fputc('}', f_);
}

void json_summary::finish(unsigned in_use_start, unsigned in_use_end)
{
	begin(2);
	fprintf(f_, ",\n  \"mpps\": %.4f,\n  \"mempool\": {\"in_use_start\": %u, \"in_use_end\": %u}\n}\n",
		seconds_ > 0 ? double(rx_total_) / seconds_ / 1e6 : 0.0, in_use_start, in_use_end);
}

} // namespace bh::cli
