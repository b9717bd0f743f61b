/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The Rx-queue settings bh-l2fwd and bh-bridge share: each port's mode and
 * NAPI switching rule, set for every port by the program's own keys and
 * options (rx-mode, rx-rule, defer-us, defer-polls, rate-hi, rate-lo,
 * max-backoff) and per port by a config file's [port N] section or the
 * command line's --rxq "N:key=value,key=value".
 */

#include <cstdint>
#include <getopt.h>
#include <string>
#include <utility>
#include <vector>

#include "bh_napi.h"

namespace bh::cli {

/* One Rx queue's settings. */
struct rx_settings {
	net::rx_mode mode = net::rx_mode::poll;
	net::napi_switch sw;
};

/* The settings of every port, and the keys a port overrides them with. */
class rx_plan {
public:
	rx_settings all; /* every port's, before its own keys */

	/* True if @p key names an Rx setting. */
	static bool is_key(const char *key);
	/*
	 * Sets @p key to @p value in @p s. False, after one line on stderr
	 * naming @p program, the key and the accepted values, otherwise.
	 */
	static bool apply(const char *program, rx_settings &s, const char *key, const char *value);
	/*
	 * Records @p key = @p value for @p port, applied over `all` by
	 * settings(); checked now. False after one line on stderr.
	 */
	bool set_port(const char *program, uint16_t port, const char *key, const char *value);
	/* Reads --rxq's "PORT:key=value[,key=value...]". False after one line on stderr. */
	bool parse_rxq(const char *program, const char *arg);
	/* `all`, with @p port's own keys over it. */
	rx_settings settings(uint16_t port) const;
	/*
	 * Checks every port's combined settings (napi_switch_error) for
	 * contexts of @p weight packets. False after one line on stderr.
	 */
	bool check(const char *program, int weight) const;
	/* The ports with keys of their own. */
	std::vector<uint16_t> ports() const;

private:
	struct entry {
		uint16_t port;
		std::string key, value;
	};
	std::vector<entry> overrides_;
};

/*
 * @p own long options followed by those of the Rx keys (--rx-mode ...
 * --max-backoff, and --rxq when @p per_port), each of which getopt_long
 * returns as a value rx_key() maps back to its key; ends with the null
 * entry getopt_long needs.
 */
std::vector<option> with_rx_options(std::initializer_list<option> own, bool per_port);
/* The key ("rx-mode", ..., "rxq") of a value with_rx_options() gave, or nullptr. */
const char *rx_key(int getopt_value);

/* "poll", "interrupt" or "adaptive". */
const char *rx_mode_name(net::rx_mode m);

/* The usage lines of the Rx keys, for --help. */
extern const char rx_usage[];

} // namespace bh::cli
