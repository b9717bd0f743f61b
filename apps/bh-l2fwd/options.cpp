/* SPDX-License-Identifier: BSD-3-Clause */
#include <bit>
#include <cerrno>
#include <cstdarg>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <getopt.h>

#include <rte_cfgfile.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_string_fns.h>

#include "bh_cli.h"
#include "options.h"

namespace l2fwd {

namespace {

/* l2fwd's limits: -q below MAX_RX_QUEUE_PER_LCORE, -T below MAX_TIMER_PERIOD. */
constexpr unsigned max_queues = 15, max_period_s = 86399;

int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "bh-l2fwd: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 2;
}

/* l2fwd_parse_portmask(): hexadecimal, "0x" or not, not zero. */
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
	else
		return fail("invalid %s '%s': expected yes or no", what, s);
	return 0;
}

/*
 * l2fwd_parse_port_pair_config(), to the letter, so that the same strings
 * pass: every "(" up to the next ")" is a pair, split at its first comma
 * by rte_strsplit; each field is read by strtoul in base 0 up to the first
 * character that is not part of the number, and must name a port id below
 * RTE_MAX_ETHPORTS. What lies between the pairs is ignored, so
 * "(0,1)(2,3)", "(0,1),(2,3)" and "(0, 1) (2, 3)" mean the same.
 */
int parse_portmap(const char *s, std::optional<std::vector<std::pair<uint16_t, uint16_t>>> &map)
{
	std::vector<std::pair<uint16_t, uint16_t>> pairs;
	const char *p, *p0 = s;
	while ((p = strchr(p0, '(')) != nullptr) {
		++p;
		p0 = strchr(p, ')');
		if (!p0)
			return fail("invalid port map '%s': a '(' without its ')'", s);
		char inner[256];
		const size_t size = size_t(p0 - p);
		if (size >= sizeof(inner))
			return fail("invalid port map '%s': a pair longer than %zu characters", s, sizeof(inner) - 1);
		memcpy(inner, p, size);
		inner[size] = '\0';
		char *fields[2];
		unsigned long ids[2];
		if (rte_strsplit(inner, sizeof(inner), fields, 2, ',') != 2)
			return fail("invalid port map '%s': expected pairs of port ids such as (0,1)(2,3)", s);
		for (int i = 0; i < 2; i++) {
			char *end;
			errno = 0;
			ids[i] = strtoul(fields[i], &end, 0);
			if (errno || end == fields[i] || ids[i] >= RTE_MAX_ETHPORTS)
				return fail("invalid port map '%s': '%s' is not a port id below %d", s, fields[i],
					    RTE_MAX_ETHPORTS);
		}
		if (pairs.size() >= RTE_MAX_ETHPORTS / 2)
			return fail("invalid port map '%s': more than %d pairs", s, RTE_MAX_ETHPORTS / 2);
		pairs.emplace_back(uint16_t(ids[0]), uint16_t(ids[1]));
	}
	map = std::move(pairs);
	return 0;
}

/* One setting by name, from the config file or the command line. */
int apply(options &o, const char *key, const char *value)
{
	if (!strcmp(key, "portmask"))
		return parse_portmask(value, o.portmask);
	if (!strcmp(key, "queues"))
		return parse_uint(value, o.queues, "queue count", 1, max_queues);
	if (!strcmp(key, "period"))
		return parse_uint(value, o.period_s, "stats period", 0, max_period_s);
	if (!strcmp(key, "promiscuous"))
		return parse_bool(value, o.promiscuous, "promiscuous");
	if (!strcmp(key, "mac-updating"))
		return parse_bool(value, o.mac_updating, "mac-updating");
	if (!strcmp(key, "portmap"))
		return parse_portmap(value, o.portmap);
	if (bh::cli::rx_plan::is_key(key))
		return bh::cli::rx_plan::apply("bh-l2fwd", o.rx.all, key, value) ? 0 : 2;
	if (!strcmp(key, "rxq"))
		return o.rx.parse_rxq("bh-l2fwd", value) ? 0 : 2;
	if (!strcmp(key, "duration"))
		return bh::cli::parse_number("bh-l2fwd", "duration (seconds)", value, 0, 1e9, o.duration_s) ? 0 : 2;
	if (!strcmp(key, "frame-checks"))
		return parse_bool(value, o.frame_checks, "frame-checks");
	if (!strcmp(key, "app-task"))
		return parse_uint(value, o.app_task_ns, "app task time (ns)", 0, 1000000);
	if (!strcmp(key, "bh-share"))
		return parse_uint(value, o.bh_share, "bottom-half share (percent)", 1, 100);
	if (!strcmp(key, "json")) {
		o.json = value;
		return 0;
	}
	return fail("unknown config key '%s'", key);
}

std::vector<rte_cfgfile_entry> section_entries(rte_cfgfile *cfg, const char *section)
{
	const int n = rte_cfgfile_section_num_entries(cfg, section);
	std::vector<rte_cfgfile_entry> entries(size_t(n > 0 ? n : 0));
	rte_cfgfile_section_entries(cfg, section, entries.data(), n);
	return entries;
}

/* A [port N] section: that port's Rx settings. */
int load_port_section(rte_cfgfile *cfg, const char *path, const char *section, options &o)
{
	unsigned port;
	char extra;
	if (sscanf(section, "port %u%c", &port, &extra) != 1 || port >= RTE_MAX_ETHPORTS)
		return fail("config file '%s': unknown section [%s] (expected [l2fwd] or [port N])", path, section);
	for (const rte_cfgfile_entry &e : section_entries(cfg, section)) {
		if (!bh::cli::rx_plan::is_key(e.name))
			return fail("config file '%s': [%s] takes only Rx settings, not '%s'", path, section, e.name);
		if (!o.rx.set_port("bh-l2fwd", uint16_t(port), e.name, e.value))
			return 2;
	}
	return 0;
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
		for (const rte_cfgfile_entry &e : section_entries(cfg, "l2fwd"))
			if ((rc = apply(o, e.name, e.value)) != 0)
				break;
		const int nsec = rte_cfgfile_num_sections(cfg, nullptr, 0);
		std::vector<char> names(size_t(nsec > 0 ? nsec : 0) * CFG_NAME_LEN);
		std::vector<char *> ptrs(size_t(nsec > 0 ? nsec : 0));
		for (size_t i = 0; i < ptrs.size(); i++)
			ptrs[i] = &names[i * CFG_NAME_LEN];
		rte_cfgfile_sections(cfg, ptrs.data(), nsec);
		for (size_t i = 0; !rc && i < ptrs.size(); i++)
			if (strcmp(ptrs[i], "l2fwd") != 0)
				rc = load_port_section(cfg, path, ptrs[i], o);
	}
	rte_cfgfile_close(cfg);
	return rc;
}

const char short_options[] = "p:Pq:T:h";

const std::vector<option> long_options = bh::cli::with_rx_options(
	{
		{"mac-updating", no_argument, nullptr, 'M'},
		{"no-mac-updating", no_argument, nullptr, 'N'},
		{"portmap", required_argument, nullptr, 'm'},
		{"config", required_argument, nullptr, 'c'},
		{"duration", required_argument, nullptr, 'd'},
		{"json", required_argument, nullptr, 'j'},
		{"app-task", required_argument, nullptr, 'a'},
		{"no-frame-checks", no_argument, nullptr, 'F'},
		{"bh-share", required_argument, nullptr, 'S'},
		{"help", no_argument, nullptr, 'h'},
	},
	true);

/*
 * l2fwd's own long options. getopt_long takes any unambiguous prefix of a
 * long option; bh-l2fwd's extra options make some of l2fwd's prefixes
 * ambiguous ("--no" is also "--no-frame-checks"): those keep l2fwd's
 * meaning.
 */
const option l2fwd_long_options[] = {
	{"no-mac-updating", no_argument, nullptr, 'N'},
	{"portmap", required_argument, nullptr, 'm'},
};

/* The l2fwd option that @p arg ("--name" or "--name=value") abbreviates, or nullptr. */
const option *l2fwd_abbreviation(const char *arg)
{
	if (strncmp(arg, "--", 2) != 0)
		return nullptr;
	const char *name = arg + 2;
	const size_t len = strcspn(name, "=");
	if (!len)
		return nullptr;
	const option *found = nullptr;
	for (const option &lo : l2fwd_long_options)
		if (!strncmp(lo.name, name, len)) {
			if (found)
				return nullptr;
			found = &lo;
		}
	return found;
}

const char usage[] =
	"usage: bh-l2fwd [EAL options] -- -p PORTMASK [-P] [-q NQ] [-T PERIOD] [--[no-]mac-updating]\n"
	"       [--portmap \"(0,1)(2,3)\"] [--config FILE] [--duration SECONDS] [--json FILE|-]\n"
	"       [--app-task NS] [--bh-share PERCENT] [--no-frame-checks]\n";

/*
 * The files --config names, in order, found by getopt_long itself so that
 * every spelling it accepts counts and no option's value is taken for one.
 */
std::vector<std::string> config_files(int argc, char **argv)
{
	std::vector<std::string> files;
	opterr = 0;
	optind = 0; /* 0, not 1: a full re-initialisation of GNU getopt */
	for (int c; (c = getopt_long(argc, argv, short_options, long_options.data(), nullptr)) != -1;)
		if (c == 'c')
			files.emplace_back(optarg);
	return files;
}

} // namespace

int parse(int argc, char **argv, options &o, bool &help)
{
	help = false;
	/* The config files first, so that the command line overrides them. */
	for (const std::string &file : config_files(argc, argv))
		if (const int rc = load_config(file.c_str(), o))
			return rc;
	optind = 0;
	for (int c; (c = getopt_long(argc, argv, short_options, long_options.data(), nullptr)) != -1;) {
		const char *value = optarg;
		if (c == '?') {
			const char *arg = argv[optind - 1];
			const option *l2 = l2fwd_abbreviation(arg);
			if (!l2)
				return fail("unknown, ambiguous or incomplete option '%s' (see --help)", arg);
			const char *eq = strchr(arg, '=');
			if (l2->has_arg == no_argument && eq)
				return fail("option '--%s' takes no value: '%s'", l2->name, arg);
			if (l2->has_arg == required_argument && !eq && optind >= argc)
				return fail("option '--%s' needs a value", l2->name);
			c = l2->val;
			value = l2->has_arg == no_argument ? nullptr : eq ? eq + 1 : argv[optind++];
		}
		int rc = 0;
		switch (c) {
		case 'p': rc = apply(o, "portmask", value); break;
		case 'P': o.promiscuous = true; break;
		case 'q': rc = apply(o, "queues", value); break;
		case 'T': rc = apply(o, "period", value); break;
		case 'M': o.mac_updating = true; break;
		case 'N': o.mac_updating = false; break;
		case 'm': rc = apply(o, "portmap", value); break;
		case 'S': rc = apply(o, "bh-share", value); break;
		case 'd': rc = apply(o, "duration", value); break;
		case 'j': o.json = value; break;
		case 'a': rc = apply(o, "app-task", value); break;
		case 'F': o.frame_checks = false; break;
		case 'c': break;
		default:
			if (const char *key = bh::cli::rx_key(c))
				rc = apply(o, key, value);
			break;
		case 'h':
			fputs(usage, stdout);
			fputs(bh::cli::rx_usage, stdout);
			help = true;
			return 0;
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

int resolve(const options &o, plan &p)
{
	const unsigned nports = rte_eth_dev_count_avail();
	if (!nports)
		return fail("%s", "no Ethernet ports: give some with --vdev, or a NIC with -a");
	uint64_t mask = o.portmask;
	/* l2fwd's check_port_pair_config(): only the ports the map pairs forward. */
	if (o.portmap) {
		uint64_t paired = 0;
		for (auto [a, b] : *o.portmap) {
			uint64_t pair = 0;
			for (const uint16_t port : {a, b}) {
				if (!(mask >> port & 1))
					return fail("port map: port %u is not in the port mask 0x%" PRIx64, port, mask);
				if (!rte_eth_dev_is_valid_port(port))
					return fail("port map: port %u does not exist (%u ports)", port, nports);
				pair |= uint64_t(1) << port;
			}
			if (paired & pair)
				return fail("port map: pair (%u,%u) names a port of another pair", a, b);
			paired |= pair;
		}
		mask &= paired;
		if (!mask)
			return fail("%s", "the port map pairs no port: nothing to forward");
	}
	for (unsigned port = 0; port < 64; port++)
		if ((mask >> port & 1) && (port >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(uint16_t(port))))
			return fail("port mask 0x%" PRIx64 " names port %u, but only %u ports exist", mask, port, nports);
	p = plan{};
	p.ports = mask;

	if (o.portmap) {
		for (auto [a, b] : *o.portmap) {
			p.tx[a] = b;
			p.tx[b] = a;
		}
	} else {
		unsigned n = 0;
		uint16_t last = 0;
		for (uint16_t port = 0; port < RTE_MAX_ETHPORTS; port++) {
			if (!p.forwards(port))
				continue;
			if (n++ % 2) {
				p.tx[port] = last;
				p.tx[last] = port;
			} else {
				last = port;
			}
		}
		if (n % 2) {
			p.odd = true;
			p.tx[last] = last;
		}
	}

	/* Each enabled lcore in id order, the main lcore too, takes -q Rx ports. */
	unsigned lcore = 0, taken[RTE_MAX_LCORE] = {};
	for (uint16_t port = 0; port < RTE_MAX_ETHPORTS; port++) {
		if (!p.forwards(port))
			continue;
		while (lcore < RTE_MAX_LCORE && (!rte_lcore_is_enabled(lcore) || taken[lcore] == o.queues))
			lcore++;
		if (lcore == RTE_MAX_LCORE) {
			const unsigned n = unsigned(std::popcount(mask));
			return fail("not enough lcores: %u ports at %u per lcore (-q) need %u lcores, the EAL has %u", n,
				    o.queues, (n + o.queues - 1) / o.queues, rte_lcore_count());
		}
		p.lcore[port] = lcore;
		taken[lcore]++;
	}
	for (const uint16_t port : o.rx.ports())
		if (!p.forwards(port))
			return fail("Rx settings for port %u (--rxq or [port %u]): that port does not forward", port, port);
	return o.rx.check("bh-l2fwd", bh::net::rxq_conf{}.weight) ? 0 : 2;
}

} // namespace l2fwd
