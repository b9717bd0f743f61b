/* SPDX-License-Identifier: BSD-3-Clause */
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "bh_cli.h"

namespace bh::cli {

bool init_eal(const char *program, const eal_options &opts, int &argc, char **&argv)
{
	const int consumed = eal_init(opts, argc, argv);
	if (consumed < 0) {
		fprintf(stderr, "%s: invalid EAL arguments or EAL initialisation failed\n", program);
		return false;
	}
	argc -= consumed;
	argv += consumed;
	return true;
}

bool parse_number(const char *program, const char *what, const char *s, double min, double max, double &out)
{
	char *end = nullptr;
	errno = 0;
	const double x = strtod(s, &end);
	if (errno || !*s || *end || !(x >= min && x <= max)) {
		fprintf(stderr, "%s: invalid %s '%s': expected a number from %g to %g\n", program, what, s, min, max);
		return false;
	}
	out = x;
	return true;
}

bool parse_unsigned(const char *program, const char *what, const char *s, unsigned min, unsigned max,
		    unsigned &out)
{
	char *end = nullptr;
	errno = 0;
	/* strtoul takes "-5" as a huge value: that is out of range, not a negative. */
	const unsigned long x = strtoul(s, &end, 10);
	if (errno || !*s || *end || x < min || x > max) {
		fprintf(stderr, "%s: invalid %s '%s': expected a number from %u to %u\n", program, what, s, min, max);
		return false;
	}
	out = unsigned(x);
	return true;
}

} // namespace bh::cli
