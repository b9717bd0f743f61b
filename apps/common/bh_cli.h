/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * What the programs in apps/ and bench/ share on their command lines: the
 * EAL bring-up, and numbers checked against a range with a one-line error
 * that names the option ("<program>: invalid <what> '<text>': ...").
 */

#include "bh_eal.h"

namespace bh::cli {

/*
 * bh::eal_init() with @p opts and the EAL options at the front of argv;
 * moves argc/argv past them. False, after one line on stderr, if they are
 * invalid or the EAL does not come up.
 */
bool init_eal(const char *program, const eal_options &opts, int &argc, char **&argv);

/* @p s as a number from @p min to @p max; false, after one line on stderr, otherwise. */
bool parse_number(const char *program, const char *what, const char *s, double min, double max, double &out);

/* @p s as a decimal integer from @p min to @p max; false, after one line on stderr, otherwise. */
bool parse_unsigned(const char *program, const char *what, const char *s, unsigned min, unsigned max,
		    unsigned &out);

} // namespace bh::cli
