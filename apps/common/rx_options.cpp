/* SPDX-License-Identifier: BSD-3-Clause */
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "bh_cli.h"
#include "bh_rx_options.h"

namespace bh::cli {

namespace {

constexpr unsigned max_port = 1023; /* RTE_MAX_ETHPORTS of any build */

/* The Rx keys, "rxq" last; getopt_long returns key i as option_base + i. */
const char *const keys[] = {"rx-mode", "rx-rule", "defer-us", "defer-polls", "rate-hi", "rate-lo", "max-backoff", "rxq"};
constexpr int nkeys = int(std::size(keys));
constexpr int option_base = 0x1000; /* above every character a short option can be */

bool set_choice(const char *program, const char *key, const char *value, const char *const names[], unsigned n,
		unsigned &out)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(value, names[i])) {
			out = i;
			return true;
		}
	std::string list;
	for (unsigned i = 0; i < n; i++)
		list += std::string(i ? (i + 1 == n ? " or " : ", ") : "") + names[i];
	fprintf(stderr, "%s: invalid %s '%s': expected %s\n", program, key, value, list.c_str());
	return false;
}

bool set_us(const char *program, const char *what, const char *value, unsigned min, unsigned max, uint64_t &ns)
{
	unsigned us;
	if (!parse_unsigned(program, what, value, min, max, us))
		return false;
	ns = uint64_t(us) * 1000;
	return true;
}

} // namespace

const char rx_usage[] =
	"       [--rx-mode poll|interrupt|adaptive] [--rx-rule defer|rate] [--defer-us US]\n"
	"       [--defer-polls N] [--rate-hi N] [--rate-lo N] [--max-backoff US]\n"
	"       [--rxq PORT:KEY=VALUE[,KEY=VALUE...]] (per port: the keys above, without --)\n";

const char *rx_mode_name(net::rx_mode m)
{
	return m == net::rx_mode::poll ? "poll" : m == net::rx_mode::interrupt ? "interrupt" : "adaptive";
}

bool rx_plan::is_key(const char *key)
{
	return std::any_of(keys, keys + nkeys - 1, [&](const char *k) { return !strcmp(k, key); });
}

std::vector<option> with_rx_options(std::initializer_list<option> own, bool per_port)
{
	std::vector<option> v(own);
	for (int i = 0; i < nkeys - (per_port ? 0 : 1); i++)
		v.push_back({keys[i], required_argument, nullptr, option_base + i});
	v.push_back({nullptr, 0, nullptr, 0});
	return v;
}

const char *rx_key(int getopt_value)
{
	const int i = getopt_value - option_base;
	return i >= 0 && i < nkeys ? keys[i] : nullptr;
}

bool rx_plan::apply(const char *program, rx_settings &s, const char *key, const char *value)
{
	static const char *const modes[] = {"poll", "interrupt", "adaptive"};
	static const char *const rules[] = {"defer", "rate"};
	unsigned choice;
	if (!strcmp(key, "rx-mode")) {
		if (!set_choice(program, "rx mode", value, modes, 3, choice))
			return false;
		s.mode = net::rx_mode(choice);
		return true;
	}
	if (!strcmp(key, "rx-rule")) {
		if (!set_choice(program, "rx rule", value, rules, 2, choice))
			return false;
		s.sw.rule = net::napi_rule(choice);
		return true;
	}
	if (!strcmp(key, "defer-us"))
		return set_us(program, "defer window (us, 1..10000)", value, 1, 10000, s.sw.defer_ns);
	if (!strcmp(key, "defer-polls"))
		return parse_unsigned(program, "defer polls (0..1000)", value, 0, 1000, s.sw.defer_polls);
	if (!strcmp(key, "rate-hi"))
		return parse_unsigned(program, "rate-hi (packets per poll, 1..64)", value, 1, 64, s.sw.rate_hi);
	if (!strcmp(key, "rate-lo"))
		return parse_unsigned(program, "rate-lo (packets per poll, 1..64)", value, 1, 64, s.sw.rate_lo);
	if (!strcmp(key, "max-backoff"))
		return set_us(program, "max back-off (us, 10..1000000)", value, 10, 1000000, s.sw.max_backoff_ns);
	fprintf(stderr, "%s: unknown Rx setting '%s'\n", program, key);
	return false;
}

bool rx_plan::set_port(const char *program, uint16_t port, const char *key, const char *value)
{
	rx_settings scratch = all;
	if (!apply(program, scratch, key, value))
		return false;
	overrides_.push_back({port, key, value});
	return true;
}

bool rx_plan::parse_rxq(const char *program, const char *arg)
{
	const char *colon = strchr(arg, ':');
	char *end = nullptr;
	errno = 0;
	const unsigned long port = strtoul(arg, &end, 10);
	if (!colon || end != colon || end == arg || errno || port > max_port || !colon[1]) {
		fprintf(stderr, "%s: invalid --rxq '%s': expected PORT:KEY=VALUE[,KEY=VALUE...]\n", program, arg);
		return false;
	}
	std::string rest(colon + 1);
	size_t at = 0;
	while (at <= rest.size()) {
		const size_t comma = std::min(rest.find(',', at), rest.size());
		const std::string item = rest.substr(at, comma - at);
		const size_t eq = item.find('=');
		if (eq == std::string::npos || eq == 0) {
			fprintf(stderr, "%s: invalid --rxq '%s': '%s' is not KEY=VALUE\n", program, arg, item.c_str());
			return false;
		}
		const std::string key = item.substr(0, eq);
		if (!is_key(key.c_str())) {
			fprintf(stderr, "%s: invalid --rxq '%s': unknown Rx setting '%s'\n", program, arg, key.c_str());
			return false;
		}
		if (!set_port(program, uint16_t(port), key.c_str(), item.c_str() + eq + 1))
			return false;
		at = comma + 1;
	}
	return true;
}

rx_settings rx_plan::settings(uint16_t port) const
{
	rx_settings s = all;
	for (const entry &e : overrides_)
		if (e.port == port)
			apply("", s, e.key.c_str(), e.value.c_str());
	return s;
}

bool rx_plan::check(const char *program, int weight) const
{
	std::vector<uint16_t> ps = ports();
	for (const uint16_t p : ps)
		if (const char *why = net::napi_switch_error(settings(p).sw, weight)) {
			fprintf(stderr, "%s: port %u's Rx settings: %s\n", program, p, why);
			return false;
		}
	if (const char *why = net::napi_switch_error(all.sw, weight)) {
		fprintf(stderr, "%s: Rx settings: %s\n", program, why);
		return false;
	}
	return true;
}

std::vector<uint16_t> rx_plan::ports() const
{
	std::vector<uint16_t> ps;
	for (const entry &e : overrides_)
		if (std::find(ps.begin(), ps.end(), e.port) == ps.end())
			ps.push_back(e.port);
	return ps;
}

} // namespace bh::cli
