/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * What every part's rte_telemetry commands (/bh/<concept>...,
 * docs/observability.md) share. Each part registers its own commands, next
 * to its state, when its start-up table entry opens. Not installed.
 *
 * Callbacks run on DPDK's telemetry thread, which is no lcore: they read
 * counters only through the *_get_stats functions, which any thread may
 * call, and reply -EINVAL to a bad parameter (telemetry sends null).
 */

#include <cerrno>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <span>

#include <rte_telemetry.h>

namespace bh::detail {

struct telemetry_command {
	const char *name;
	telemetry_cb fn;
	const char *help;
};

/* Registers @p cmds the first time @p once is passed: telemetry cannot unregister. */
void telemetry_register_once(std::once_flag &once, std::span<const telemetry_command> cmds) noexcept;

/* A command's one number: decimal digits only, below @p limit. */
bool telemetry_parse_index(const char *params, unsigned limit, unsigned &out) noexcept;

struct telemetry_counter {
	const char *name;
	uint64_t value;
};

/* Replies with a dict of counters. */
int telemetry_reply(rte_tel_data *d, std::initializer_list<telemetry_counter> counters) noexcept;

/* An lcore parameter: an lcore DPDK knows (EAL or registered thread). */
bool telemetry_parse_lcore(const char *params, unsigned &lcore) noexcept;

/* A command on one lcore: /bh/<family>,<lcore>, replied by @p Reply. */
template <int (*Reply)(unsigned lcore, rte_tel_data *d)>
int telemetry_per_lcore(const char *, const char *params, rte_tel_data *d)
{
	unsigned lcore;
	return telemetry_parse_lcore(params, lcore) ? Reply(lcore, d) : -EINVAL;
}

} // namespace bh::detail
