/* SPDX-License-Identifier: BSD-3-Clause */
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <mutex>

#include <rte_telemetry.h>

#include "bh_percpu.h"
#include "percpu_private.h"
#include "telemetry_private.h"

namespace bh {

bool detail::telemetry_parse_index(const char *params, unsigned limit, unsigned &out) noexcept
{
	/* strtoul alone would take " 1", "+1", "-1" (as a huge value) and "1x"; nine digits cannot overflow. */
	if (!params || !*params || strspn(params, "0123456789") != strlen(params) || strlen(params) > 9)
		return false;
	const unsigned long v = strtoul(params, nullptr, 10);
	if (v >= limit)
		return false;
	out = unsigned(v);
	return true;
}

bool detail::telemetry_parse_lcore(const char *params, unsigned &lcore) noexcept
{
	return telemetry_parse_index(params, max_lcores, lcore) && lcore_valid(lcore);
}

int detail::telemetry_reply(rte_tel_data *d, std::initializer_list<telemetry_counter> counters) noexcept
{
	rte_tel_data_start_dict(d);
	for (const telemetry_counter &c : counters)
		rte_tel_data_add_dict_u64(d, c.name, c.value);
	return 0;
}

void detail::telemetry_register_once(std::once_flag &once, std::span<const telemetry_command> cmds) noexcept
{
	std::call_once(once, [&] {
		for (const telemetry_command &c : cmds)
			rte_telemetry_register_cmd(c.name, c.fn, c.help);
	});
}

} // namespace bh
