/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The library's own logging: every part logs through BH_LOG under its
 * bh.* type, so errors read "bh: <function>: <problem>" whatever the part.
 * Not installed: users log under their own types.
 */

#include <rte_log.h>

#include "bh_log.h"

/* One formatted line at @p level for rte_log type @p type. */
#define BH_LOG(level, type, fmt, ...) \
	rte_log(RTE_LOG_##level, (type), "bh: " fmt "\n" __VA_OPT__(,) __VA_ARGS__)
