/* SPDX-License-Identifier: BSD-3-Clause */
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <getopt.h>

#include <rte_cfgfile.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "bh_cli.h"
#include "options.h"

namespace l2fwd {

namespace {

int fail(const char *fmt, const char *what)
{
	fprintf(stderr, "bh-l2fwd: ");
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
	return 2;
}

int parse_portmask(const char *s, uint64_t &mask)
{
	char *end = nullptr;
	errno = 0;
	mask = strtoull(s, &end, 16);
	if (errno || !*s || *end || mask == 0)
		return fail("invalid port mask '%s': expected a non-zero hexadecimal mask such as 0x3", s);
	return 0;
}

int parse_uint(const char *s, unsigned &v, const char *what, unsigned min, unsigned max)
{
	return bh::cli::parse_unsigned("bh-l2fwd", what, s, min, max, v) ? 0 : 2;
}

int parse_bool(const char *s, bool &b, const char *what)
{
	if (!strcmp(s, "yes") || !strcmp(s, "1") || !strcmp(s, "on") || !strcmp(s, "true"))
		b = true;
	else if (!strcmp(s, "no") || !strcmp(s, "0") || !strcmp(s, "off") || !strcmp(s, "false"))
		b = false;
	else {
		fprintf(stderr, "bh-l2fwd: invalid %s '%s': expected yes or no\n", what, s);
		return 2;
	}
	return 0;
}

int parse_mode(const char *s, bh::net::rx_mode &m)
{
	if (!strcmp(s, "poll"))
		m = bh::net::rx_mode::poll;
	else if (!strcmp(s, "interrupt"))
		m = bh::net::rx_mode::interrupt;
	else if (!strcmp(s, "adaptive"))
		m = bh::net::rx_mode::adaptive;
	else
		return fail("invalid rx mode '%s': expected poll, interrupt or adaptive", s);
	return 0;
}

/* "(0,1)(2,3)", as l2fwd's --portmap. */
int parse_portmap(const char *s, std::vector<std::pair<uint16_t, uint16_t>> &map)
{
	map.clear();
	const char *p = s;
	while (*p) {
		unsigned a, b;
		int n = 0;
		if (sscanf(p, " (%u ,%u ) %n", &a, &b, &n) != 2 || n == 0 || a >= RTE_MAX_ETHPORTS ||
		    b >= RTE_MAX_ETHPORTS)
			return fail("invalid port map '%s': expected pairs such as (0,1)(2,3)", s);
		map.emplace_back(uint16_t(a), uint16_t(b));
		p += n;
	}
	if (map.empty())
		return fail("invalid port map '%s': expected pairs such as (0,1)(2,3)", s);
	return 0;
}

/* One setting by name, from the config file or the command line. */
int apply(options &o, const char *key, const char *value)
{
	if (!strcmp(key, "portmask"))
		return parse_portmask(value, o.portmask);
	if (!strcmp(key, "queues"))
		return parse_uint(value, o.queues, "queue count", 1, 16);
	if (!strcmp(key, "period"))
		return parse_uint(value, o.period_s, "stats period", 0, 86400);
	if (!strcmp(key, "mac-updating"))
		return parse_bool(value, o.mac_updating, "mac-updating");
	if (!strcmp(key, "portmap"))
		return parse_portmap(value, o.portmap);
	if (!strcmp(key, "rx-mode"))
		return parse_mode(value, o.mode);
	if (!strcmp(key, "duration"))
		return bh::cli::parse_number("bh-l2fwd", "duration (seconds)", value, 0, 1e9, o.duration_s) ? 0 : 2;
	if (!strcmp(key, "frame-checks"))
		return parse_bool(value, o.frame_checks, "frame-checks");
	if (!strcmp(key, "app-task"))
		return parse_uint(value, o.app_task_ns, "app task time (ns)", 0, 1000000);
	if (!strcmp(key, "max-backoff"))
		return parse_uint(value, o.max_backoff_us, "max back-off (us)", 10, 1000000);
	if (!strcmp(key, "json")) {
		o.json = value;
		return 0;
	}
	return fail("unknown config key '%s'", key);
}

int load_config(const char *path, options &o)
{
	rte_cfgfile *cfg = rte_cfgfile_load(path, 0);
	if (!cfg)
		return fail("cannot read config file '%s' (missing, or not INI syntax)", path);
	int rc = 0;
	if (!rte_cfgfile_has_section(cfg, "l2fwd")) {
		rc = fail("config file '%s' has no [l2fwd] section", path);
	} else {
		const int n = rte_cfgfile_section_num_entries(cfg, "l2fwd");
		std::vector<rte_cfgfile_entry> entries(size_t(n > 0 ? n : 0));
		rte_cfgfile_section_entries(cfg, "l2fwd", entries.data(), n);
		for (const rte_cfgfile_entry &e : entries)
			if ((rc = apply(o, e.name, e.value)) != 0)
				break;
	}
	rte_cfgfile_close(cfg);
	return rc;
}

const option long_options[] = {
	{"mac-updating", no_argument, nullptr, 'M'},
	{"no-mac-updating", no_argument, nullptr, 'N'},
	{"portmap", required_argument, nullptr, 'm'},
	{"rx-mode", required_argument, nullptr, 'r'},
	{"config", required_argument, nullptr, 'c'},
	{"duration", required_argument, nullptr, 'd'},
	{"json", required_argument, nullptr, 'j'},
	{"app-task", required_argument, nullptr, 'a'},
	{"no-frame-checks", no_argument, nullptr, 'F'},
	{"max-backoff", required_argument, nullptr, 'B'},
	{"help", no_argument, nullptr, 'h'},
	{nullptr, 0, nullptr, 0},
};

const char usage[] =
	"usage: bh-l2fwd [EAL options] -- -p PORTMASK [-q NQ] [-T PERIOD] [--[no-]mac-updating]\n"
	"       [--portmap \"(0,1)(2,3)\"] [--rx-mode poll|interrupt|adaptive] [--config FILE]\n"
	"       [--duration SECONDS] [--json FILE|-] [--app-task NS] [--no-frame-checks]\n"
	"       [--max-backoff US]\n";

} // namespace

int parse(int argc, char **argv, options &o)
{
	/* The config file first, so that the command line overrides it. */
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--config"))
			if (const int rc = load_config(argv[i + 1], o))
				return rc;
	opterr = 0;
	optind = 1;
	for (int c; (c = getopt_long(argc, argv, "p:q:T:h", long_options, nullptr)) != -1;) {
		int rc = 0;
		switch (c) {
		case 'p': rc = apply(o, "portmask", optarg); break;
		case 'q': rc = apply(o, "queues", optarg); break;
		case 'T': rc = apply(o, "period", optarg); break;
		case 'M': o.mac_updating = true; break;
		case 'N': o.mac_updating = false; break;
		case 'm': rc = apply(o, "portmap", optarg); break;
		case 'r': rc = apply(o, "rx-mode", optarg); break;
		case 'd': rc = apply(o, "duration", optarg); break;
		case 'j': o.json = optarg; break;
		case 'a': rc = apply(o, "app-task", optarg); break;
		case 'F': o.frame_checks = false; break;
		case 'B': rc = apply(o, "max-backoff", optarg); break;
		case 'c': break;
		case 'h': fputs(usage, stdout); exit(0);
		default:
			return fail("unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
		}
		if (rc)
			return rc;
	}
	if (optind < argc)
		return fail("unexpected argument '%s'", argv[optind]);
	if (!o.portmask)
		return fail("%s", "no port mask: -p PORTMASK is required");
	if (!o.frame_checks && o.mac_updating)
		return fail("%s", "--no-frame-checks needs --no-mac-updating: MAC updating reads every frame");
	return 0;
}

int resolve(const options &o, uint16_t pair[RTE_MAX_ETHPORTS])
{
	const unsigned nports = rte_eth_dev_count_avail();
	std::vector<uint16_t> enabled;
	for (unsigned p = 0; p < 64; p++) {
		if (!(o.portmask >> p & 1))
			continue;
		if (p >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(uint16_t(p))) {
			fprintf(stderr, "bh-l2fwd: port mask 0x%" PRIx64 " names port %u, but only %u ports exist\n",
				o.portmask, p, nports);
			return 2;
		}
		enabled.push_back(uint16_t(p));
	}
	for (unsigned p = 0; p < RTE_MAX_ETHPORTS; p++)
		pair[p] = RTE_MAX_ETHPORTS;
	if (o.portmap.empty()) {
		if (enabled.size() % 2) {
			fprintf(stderr, "bh-l2fwd: %zu ports enabled: an even number is needed to pair them (or give --portmap)\n",
				enabled.size());
			return 2;
		}
		for (size_t i = 0; i < enabled.size(); i += 2) {
			pair[enabled[i]] = enabled[i + 1];
			pair[enabled[i + 1]] = enabled[i];
		}
	} else {
		for (auto [a, b] : o.portmap) {
			if (!(o.portmask >> a & 1) || !(o.portmask >> b & 1) || a == b || pair[a] != RTE_MAX_ETHPORTS ||
			    pair[b] != RTE_MAX_ETHPORTS) {
				fprintf(stderr, "bh-l2fwd: invalid port map: pair (%u,%u) names a port outside the mask, "
						"twice, or with itself\n", a, b);
				return 2;
			}
			pair[a] = b;
			pair[b] = a;
		}
		for (uint16_t p : enabled)
			if (pair[p] == RTE_MAX_ETHPORTS) {
				fprintf(stderr, "bh-l2fwd: port %u is enabled but has no pair in the port map\n", p);
				return 2;
			}
	}
	const unsigned workers = rte_lcore_count() - 1;
	const unsigned needed = unsigned((enabled.size() + o.queues - 1) / o.queues);
	if (workers < needed) {
		fprintf(stderr, "bh-l2fwd: too few lcores: %zu ports at %u per lcore need %u worker lcores, the EAL has %u\n",
			enabled.size(), o.queues, needed, workers);
		return 2;
	}
	return 0;
}

} // namespace l2fwd
