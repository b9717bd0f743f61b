/* SPDX-License-Identifier: BSD-3-Clause */
#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <getopt.h>

#include <rte_cfgfile.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "bh_cli.h"
#include "options.h"

namespace bridge {

namespace {

constexpr const char *prog = "bh-bridge";
constexpr unsigned max_aging_s = 1000000;     /* about 11.5 days */
constexpr unsigned max_learn_limit = 1u << 24; /* the table's memory grows with it: ~70 bytes an entry */
constexpr unsigned max_fdb_cache = 1u << 20;   /* 8 MiB of pointers per lcore */

int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 2;
}

int set_portmask(options &o, const char *v)
{
	char *end = nullptr;
	errno = 0;
	const uint64_t mask = strtoull(v, &end, 16);
	if (errno || !*v || *end || mask == 0 || *v == '-')
		return fail("invalid port mask '%s': expected a non-zero hexadecimal mask such as 0x7", v);
	o.portmask = mask;
	return 0;
}

int set_unsigned(unsigned &out, const char *what, const char *v, unsigned min, unsigned max)
{
	return bh::cli::parse_unsigned(prog, what, v, min, max, out) ? 0 : 2;
}

/* One [bridge] setting by name, from the config file or the command line. */
int apply(options &o, const char *key, const char *v)
{
	if (!strcmp(key, "portmask"))
		return set_portmask(o, v);
	if (!strcmp(key, "queues"))
		return set_unsigned(o.queues, "Rx ports per lcore", v, 1, 64);
	if (!strcmp(key, "period"))
		return set_unsigned(o.period_s, "stats period", v, 0, 86400);
	if (!strcmp(key, "aging"))
		return set_unsigned(o.aging_s, "aging time (seconds, 0 = never)", v, 0, max_aging_s);
	if (!strcmp(key, "learn-limit"))
		return set_unsigned(o.learn_limit, "learn limit (entries)", v, 1, max_learn_limit);
	if (!strcmp(key, "fdb-cache")) {
		if (const int rc = set_unsigned(o.fdb_cache, "FDB lookup cache (slots per lcore, 0 = none)", v, 0,
						max_fdb_cache))
			return rc;
		if (!cache_slots_valid(o.fdb_cache))
			return fail("FDB lookup cache of %u slots: not a power of two of 2 or more (such as 8192), or 0 for none",
				    o.fdb_cache);
		return 0;
	}
	if (bh::cli::rx_plan::is_key(key))
		return bh::cli::rx_plan::apply(prog, o.rx, key, v) ? 0 : 2;
	if (!strcmp(key, "duration"))
		return bh::cli::parse_number(prog, "duration (seconds)", v, 0, 1e9, o.duration_s) ? 0 : 2;
	if (!strcmp(key, "json")) {
		o.json = v;
		return 0;
	}
	return fail("unknown config key '%s' in [bridge]", key);
}

/* A [static] line: "02:00:00:00:00:01 = 2". */
int add_static(options &o, const char *mac, const char *port)
{
	mac_t m;
	if (!mac_parse(mac, m))
		return fail("static entry '%s': not a MAC address (expected six hex bytes such as 02:00:00:00:00:01)", mac);
	if (mac_is_group(m) || m == 0)
		return fail("static entry %s: a %s address cannot be a static entry", mac,
			    m ? "multicast (group)" : "all-zero");
	unsigned p;
	if (!bh::cli::parse_unsigned(prog, "static entry port", port, 0, 63, p))
		return 2;
	for (const auto &[other, _] : o.statics)
		if (other == m)
			return fail("static entry %s is given twice", mac);
	o.statics.emplace_back(m, uint16_t(p));
	return 0;
}

std::vector<rte_cfgfile_entry> section(rte_cfgfile *cfg, const char *name)
{
	const int n = rte_cfgfile_section_num_entries(cfg, name);
	std::vector<rte_cfgfile_entry> entries(size_t(n > 0 ? n : 0));
	if (n > 0)
		rte_cfgfile_section_entries(cfg, name, entries.data(), n);
	return entries;
}

int load_config(const char *path, options &o)
{
	rte_cfgfile *cfg = rte_cfgfile_load(path, 0);
	if (!cfg)
		return fail("cannot read config file '%s' (missing, or not INI syntax)", path);
	int rc = 0;
	if (!rte_cfgfile_has_section(cfg, "bridge"))
		rc = fail("config file '%s' has no [bridge] section", path);
	else
		for (const rte_cfgfile_entry &e : section(cfg, "bridge"))
			if ((rc = apply(o, e.name, e.value)) != 0)
				break;
	if (!rc)
		for (const rte_cfgfile_entry &e : section(cfg, "static"))
			if ((rc = add_static(o, e.name, e.value)) != 0)
				break;
	rte_cfgfile_close(cfg);
	return rc;
}

const std::vector<option> long_options = bh::cli::with_rx_options(
	{
		{"aging", required_argument, nullptr, 'a'},
		{"learn-limit", required_argument, nullptr, 'l'},
		{"fdb-cache", required_argument, nullptr, 'f'},
		{"config", required_argument, nullptr, 'c'},
		{"duration", required_argument, nullptr, 'd'},
		{"json", required_argument, nullptr, 'j'},
		{"help", no_argument, nullptr, 'h'},
	},
	false);

const char usage[] =
	"usage: bh-bridge [EAL options] -- -p PORTMASK [-q NQ] [-T PERIOD] [--aging SECONDS]\n"
	"       [--learn-limit N] [--fdb-cache SLOTS] [--config FILE] [--duration SECONDS] [--json FILE|-]\n"
	"       [--rx-mode poll|interrupt|adaptive] [--rx-rule defer|rate] [--defer-us US]\n"
	"       [--defer-polls N] [--rate-hi N] [--rate-lo N] [--max-backoff US]\n"
	"Static FDB entries come from the config file's [static] section (MAC = port).\n";

} // namespace

int parse(int argc, char **argv, options &o)
{
	/* The config file first, so that the command line overrides it. */
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--config"))
			if (const int rc = load_config(argv[i + 1], o))
				return rc;
	static const std::pair<int, const char *> keys[] = {{'p', "portmask"}, {'q', "queues"},   {'T', "period"},
							    {'a', "aging"},    {'l', "learn-limit"}, {'f', "fdb-cache"},
							    {'d', "duration"}, {'j', "json"}};
	opterr = 0;
	optind = 1;
	for (int c; (c = getopt_long(argc, argv, "p:q:T:h", long_options.data(), nullptr)) != -1;) {
		if (c == 'h') {
			fputs(usage, stdout);
			exit(0);
		}
		if (c == 'c')
			continue;
		const char *key = bh::cli::rx_key(c);
		for (const auto &[opt, name] : keys)
			if (opt == c)
				key = name;
		if (!key)
			return fail("unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
		if (const int rc = apply(o, key, optarg))
			return rc;
	}
	if (optind < argc)
		return fail("unexpected argument '%s'", argv[optind]);
	if (!o.portmask)
		return fail("no port mask: -p PORTMASK is required");
	if (const char *why = bh::net::napi_switch_error(o.rx.sw, bh::net::rxq_conf{}.weight))
		return fail("Rx settings: %s", why);
	return 0;
}

int resolve(const options &o, unsigned lcore_of[64])
{
	const unsigned nports = rte_eth_dev_count_avail();
	std::vector<uint16_t> enabled;
	for (unsigned p = 0; p < 64; p++) {
		if (!(o.portmask >> p & 1))
			continue;
		if (p >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(uint16_t(p)))
			return fail("port mask 0x%" PRIx64 " names port %u, but only %u ports exist", o.portmask, p, nports);
		enabled.push_back(uint16_t(p));
	}
	if (enabled.size() < 2)
		return fail("port mask 0x%" PRIx64 " names one port: a bridge needs at least two", o.portmask);
	for (const auto &[mac, port] : o.statics)
		if (!(o.portmask >> port & 1)) {
			const rte_ether_addr a = ether_of(mac);
			char text[RTE_ETHER_ADDR_FMT_SIZE];
			rte_ether_format_addr(text, sizeof(text), &a);
			return fail("static entry %s names port %u, which is not in the port mask 0x%" PRIx64, text, port,
				    o.portmask);
		}
	std::vector<unsigned> workers;
	unsigned l;
	RTE_LCORE_FOREACH_WORKER(l)
	workers.push_back(l);
	if (workers.empty())
		return fail("too few lcores: the EAL has no worker lcore to forward on (give -l with two or more)");
	const unsigned per = o.queues ? o.queues : unsigned((enabled.size() + workers.size() - 1) / workers.size());
	const unsigned needed = unsigned((enabled.size() + per - 1) / per);
	if (workers.size() < needed)
		return fail("too few lcores: %zu ports at %u per lcore need %u worker lcores, the EAL has %zu",
			    enabled.size(), per, needed, workers.size());
	for (size_t i = 0; i < enabled.size(); i++)
		lcore_of[enabled[i]] = workers[i / per];
	return 0;
}

} // namespace bridge
