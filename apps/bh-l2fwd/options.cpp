/* SPDX-License-Identifier: BSD-3-Clause */
#include <algorithm>
#include <array>
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

/* What a list of tuples is, for parse_tuples() and its errors. */
struct tuple_syntax {
	const char *what;               /* "port map" */
	const char *example;            /* "pairs of port ids such as (0,1)(2,3)" */
	unsigned fields;                /* per tuple, at most 3 */
	const char *field_names[3];     /* "port id" ... */
	unsigned long max[3];           /* each field's largest value */
	size_t max_tuples;
};

using tuple = std::array<unsigned long, 3>;

/*
 * l2fwd_parse_port_pair_config() and l3fwd's parse_config(), to the letter,
 * so that the same strings pass: every "(" up to the next ")" is a tuple,
 * split at its commas by rte_strsplit into the number of fields; each field
 * is read by strtoul in base 0 up to the first character that is not part
 * of the number. What lies between the tuples is ignored, so "(0,1)(2,3)",
 * "(0,1),(2,3)" and "(0, 1) (2, 3)" mean the same.
 */
int parse_tuples(const tuple_syntax &t, const char *s, std::vector<tuple> &out)
{
	const char *p, *p0 = s;
	while ((p = strchr(p0, '(')) != nullptr) {
		++p;
		p0 = strchr(p, ')');
		if (!p0)
			return fail("invalid %s '%s': a '(' without its ')'", t.what, s);
		char inner[256];
		const size_t size = size_t(p0 - p);
		if (size >= sizeof(inner))
			return fail("invalid %s '%s': a tuple longer than %zu characters", t.what, s, sizeof(inner) - 1);
		memcpy(inner, p, size);
		inner[size] = '\0';
		char *fields[3];
		tuple ids{};
		if (rte_strsplit(inner, sizeof(inner), fields, int(t.fields), ',') != int(t.fields))
			return fail("invalid %s '%s': expected %s", t.what, s, t.example);
		for (unsigned i = 0; i < t.fields; i++) {
			char *end;
			errno = 0;
			ids[i] = strtoul(fields[i], &end, 0);
			if (errno || end == fields[i] || ids[i] > t.max[i])
				return fail("invalid %s '%s': '%s' is not a %s of at most %lu", t.what, s, fields[i],
					    t.field_names[i], t.max[i]);
		}
		if (out.size() >= t.max_tuples)
			return fail("invalid %s '%s': more than %zu tuples", t.what, s, t.max_tuples);
		out.push_back(ids);
	}
	return 0;
}

/* l2fwd's --portmap: each field a port id below RTE_MAX_ETHPORTS. */
int parse_portmap(const char *s, std::optional<std::vector<std::pair<uint16_t, uint16_t>>> &map)
{
	static constexpr tuple_syntax syntax = {"port map", "pairs of port ids such as (0,1)(2,3)", 2,
						{"port id", "port id"}, {RTE_MAX_ETHPORTS - 1, RTE_MAX_ETHPORTS - 1},
						RTE_MAX_ETHPORTS / 2};
	std::vector<tuple> pairs;
	if (const int rc = parse_tuples(syntax, s, pairs))
		return rc;
	map.emplace();
	for (const tuple &t : pairs)
		map->emplace_back(uint16_t(t[0]), uint16_t(t[1]));
	return 0;
}

/* l3fwd's --config, with its field limits (RTE_MAX_ETHPORTS, RTE_MAX_QUEUES_PER_PORT, RTE_MAX_LCORE) and tuple limit. */
int parse_rx_queues(const char *s, std::optional<std::vector<rx_queue>> &queues)
{
	static constexpr tuple_syntax syntax = {"Rx queue list", "(port,queue,lcore) tuples such as (0,0,0),(0,1,1)", 3,
						{"port id", "queue id", "lcore id"},
						{RTE_MAX_ETHPORTS, RTE_MAX_QUEUES_PER_PORT, RTE_MAX_LCORE}, 1024};
	std::vector<tuple> tuples;
	if (const int rc = parse_tuples(syntax, s, tuples))
		return rc;
	if (tuples.empty())
		return fail("invalid Rx queue list '%s': no (port,queue,lcore) in it", s);
	queues.emplace();
	for (const tuple &t : tuples)
		queues->push_back({uint16_t(t[0]), uint16_t(t[1]), unsigned(t[2])});
	return 0;
}

/* RSS flow types by the names testpmd gives them ("port config all rss ..."). */
constexpr struct {
	const char *name;
	uint64_t hf;
} rss_types[] = {
	{"ip", RTE_ETH_RSS_IP}, {"tcp", RTE_ETH_RSS_TCP}, {"udp", RTE_ETH_RSS_UDP},
	{"sctp", RTE_ETH_RSS_SCTP}, {"tunnel", RTE_ETH_RSS_TUNNEL},
};

/* "auto" (unset), "none" (0), or flow type names joined by commas. */
int parse_rss(const char *s, std::optional<uint64_t> &hf)
{
	if (!strcmp(s, "auto")) {
		hf.reset();
		return 0;
	}
	if (!strcmp(s, "none")) {
		hf = 0;
		return 0;
	}
	uint64_t types = 0;
	for (const char *p = s;; p++) {
		const size_t len = strcspn(p, ",");
		const auto *t = std::find_if(std::begin(rss_types), std::end(rss_types),
					     [&](const auto &e) { return strlen(e.name) == len && !strncmp(e.name, p, len); });
		if (t == std::end(rss_types))
			return fail("invalid RSS setting '%s': expected auto, none, or flow types among ip, tcp, udp, sctp, "
				    "tunnel joined by commas", s);
		types |= t->hf;
		p += len;
		if (!*p)
			break;
	}
	hf = types;
	return 0;
}

/* One setting by name, from the config file or the command line. */
int apply(options &o, const char *key, const char *value)
{
	if (!strcmp(key, "portmask"))
		return parse_portmask(value, o.portmask);
	if (!strcmp(key, "queues")) {
		o.queues_given = true;
		return parse_uint(value, o.queues, "queue count", 1, max_queues);
	}
	if (!strcmp(key, "rx-queues"))
		return parse_rx_queues(value, o.rx_queues);
	if (!strcmp(key, "rss"))
		return parse_rss(value, o.rss_hf);
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
		{"rx-queues", required_argument, nullptr, 'Q'},
		{"rss", required_argument, nullptr, 'R'},
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
	"       [--portmap \"(0,1)(2,3)\"] [--rx-queues \"(port,queue,lcore),...\"] [--rss auto|none|TYPES]\n"
	"       [--config FILE] [--duration SECONDS] [--json FILE|-]\n"
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

/* l3fwd's limits: MAX_RX_QUEUE_PER_PORT, MAX_RX_QUEUE_PER_LCORE. */
constexpr unsigned max_rxq_per_port = 128, max_rxq_per_lcore = 16;

rte_eth_dev_info device(uint16_t port)
{
	rte_eth_dev_info info{};
	rte_eth_dev_info_get(port, &info);
	return info;
}

/*
 * --rx-queues: l3fwd's checks (check_lcore_params, check_port_config,
 * get_port_n_rx_queues, init_lcore_rx_queues), each its own error, and the
 * device's limit; fills @p p's bindings of the ports it names and counts
 * each lcore's ports in @p taken.
 */
int place_tuples(const options &o, plan &p, unsigned *taken)
{
	uint16_t next[RTE_MAX_ETHPORTS] = {}; /* the queue id each port's next tuple must have */
	unsigned per_lcore[RTE_MAX_LCORE] = {};
	uint64_t ports_of[RTE_MAX_LCORE] = {};
	for (const rx_queue &t : *o.rx_queues) {
		if (!p.forwards(t.port))
			return fail(t.port < 64 && (o.portmask >> t.port & 1)
					    ? "--rx-queues: port %u does not forward: the port map pairs it with no port"
					    : "--rx-queues: port %u is not in the port mask",
				    t.port);
		if (!rte_lcore_is_enabled(t.lcore))
			return fail("--rx-queues: lcore %u is not enabled (EAL -l or -c)", t.lcore);
		if (t.queue >= max_rxq_per_port)
			return fail("--rx-queues: port %u queue %u: at most %u Rx queues per port", t.port, t.queue,
				    max_rxq_per_port);
		const rte_eth_dev_info info = device(t.port);
		if (t.queue >= info.max_rx_queues)
			return fail("--rx-queues: port %u (%s) has at most %u Rx queues, no queue %u", t.port,
				    info.driver_name, info.max_rx_queues, t.queue);
		if (t.queue < next[t.port])
			return fail("--rx-queues: port %u queue %u is given twice", t.port, t.queue);
		if (t.queue != next[t.port])
			return fail("--rx-queues: port %u queue %u comes before queue %u: a port's queue ids must start at "
				    "0 and follow in order",
				    t.port, t.queue, next[t.port]);
		next[t.port]++;
		if (++per_lcore[t.lcore] > max_rxq_per_lcore)
			return fail("--rx-queues: lcore %u has more than %u Rx queues", t.lcore, max_rxq_per_lcore);
		ports_of[t.lcore] |= uint64_t(1) << t.port;
		p.rxqs.push_back({t.port, t.queue, t.lcore, 0});
		if (t.queue == 0)
			p.lcore[t.port] = t.lcore;
		p.rx_queues[t.port] = next[t.port];
		p.by_tuples |= uint64_t(1) << t.port;
	}
	for (unsigned l = 0; l < RTE_MAX_LCORE; l++) {
		taken[l] = unsigned(std::popcount(ports_of[l]));
		if (o.queues_given && taken[l] > o.queues)
			return fail("--rx-queues gives lcore %u Rx queues of %u ports, more than -q %u allows", l, taken[l],
				    o.queues);
	}
	return 0;
}

/* One Tx queue per lcore sending on a port, numbered in lcore id order; as many as the device has. */
int place_tx_queues(plan &p)
{
	for (uint16_t port = 0; port < RTE_MAX_ETHPORTS; port++) {
		if (!p.forwards(port))
			continue;
		std::vector<unsigned> senders;
		for (const binding &b : p.rxqs)
			if (p.tx[b.port] == port)
				senders.push_back(b.lcore);
		std::sort(senders.begin(), senders.end());
		senders.erase(std::unique(senders.begin(), senders.end()), senders.end());
		const rte_eth_dev_info info = device(port);
		if (senders.size() > info.max_tx_queues)
			return fail("port %u (%s) has at most %u Tx queues, and %zu lcores send on it (one Tx queue each)",
				    port, info.driver_name, info.max_tx_queues, senders.size());
		p.tx_queues[port] = uint16_t(std::max<size_t>(senders.size(), 1));
		for (binding &b : p.rxqs)
			if (p.tx[b.port] == port)
				b.tx_queue = uint16_t(std::lower_bound(senders.begin(), senders.end(), b.lcore) - senders.begin());
	}
	return 0;
}

/*
 * RSS on each port with several Rx queues: --rss's flow types, which the
 * device must hash some of; by default (auto) IP, TCP and UDP where the
 * device hashes some of them, none where it hashes nothing (the sender
 * picks the queue: net_ring, net_memif).
 */
int choose_rss(const options &o, plan &p)
{
	constexpr uint64_t auto_hf = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;
	for (uint16_t port = 0; port < RTE_MAX_ETHPORTS; port++) {
		if (!p.forwards(port) || p.rx_queues[port] < 2)
			continue;
		const rte_eth_dev_info info = device(port);
		const uint64_t asked = o.rss_hf.value_or(auto_hf);
		if (o.rss_hf && asked && !(asked & info.flow_type_rss_offloads))
			return fail("--rss: port %u (%s) hashes none of the flow types asked (0x%" PRIx64
				    ", it offers 0x%" PRIx64 "): use --rss none where the sender picks the Rx queue",
				    port, info.driver_name, asked, info.flow_type_rss_offloads);
		p.rss_hf[port] = asked & info.flow_type_rss_offloads ? asked : 0;
	}
	return 0;
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
		case 'Q': rc = apply(o, "rx-queues", value); break;
		case 'R': rc = apply(o, "rss", value); break;
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

	unsigned taken[RTE_MAX_LCORE] = {}; /* Rx ports per lcore */
	if (o.rx_queues)
		if (const int rc = place_tuples(o, p, taken))
			return rc;
	/* Each enabled lcore in id order, the main lcore too, takes -q Rx ports of the rest. */
	unsigned lcore = 0;
	for (uint16_t port = 0; port < RTE_MAX_ETHPORTS; port++) {
		if (!p.forwards(port) || (p.by_tuples >> port & 1))
			continue;
		while (lcore < RTE_MAX_LCORE && (!rte_lcore_is_enabled(lcore) || taken[lcore] >= o.queues))
			lcore++;
		if (lcore == RTE_MAX_LCORE && p.by_tuples)
			return fail("not enough lcores: port %u is in no --rx-queues tuple, and every lcore has -q %u Rx "
				    "ports already (raise -q, or name port %u's queues)",
				    port, o.queues, port);
		if (lcore == RTE_MAX_LCORE) {
			const unsigned n = unsigned(std::popcount(mask));
			return fail("not enough lcores: %u ports at %u per lcore (-q) need %u lcores, the EAL has %u", n,
				    o.queues, (n + o.queues - 1) / o.queues, rte_lcore_count());
		}
		p.lcore[port] = lcore;
		p.rx_queues[port] = 1;
		p.rxqs.push_back({port, 0, lcore, 0});
		taken[lcore]++;
	}
	std::sort(p.rxqs.begin(), p.rxqs.end(),
		  [](const binding &a, const binding &b) { return a.port != b.port ? a.port < b.port : a.queue < b.queue; });
	if (const int rc = place_tx_queues(p))
		return rc;
	if (const int rc = choose_rss(o, p))
		return rc;
	for (const uint16_t port : o.rx.ports())
		if (!p.forwards(port))
			return fail("Rx settings for port %u (--rxq or [port %u]): that port does not forward", port, port);
	return o.rx.check("bh-l2fwd", bh::net::rxq_conf{}.weight) ? 0 : 2;
}

} // namespace l2fwd
