/* SPDX-License-Identifier: MIT */
/* The tool's number parsers: see vt_parse.h. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vt_parse.h"

static const char *skip_blanks(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

/* Appends digit d to *v; false if the result would exceed UINT64_MAX. */
static int push_digit(uint64_t *v, unsigned d)
{
	if (*v > (UINT64_MAX - d) / 10)
		return 0;
	*v = *v * 10 + d;
	return 1;
}

int vt_parse_hz(const char *s, uint64_t *hz, const char **why)
{
	const char *p, *ip, *fp = "", *unit;
	size_t ni = 0, nf = 0;
	unsigned pow10;
	uint64_t v = 0;

	if (!s || !hz || !why) {
		if (why)
			*why = "no value";
		return -1;
	}
	p = skip_blanks(s);
	if (*p == '-') {
		*why = "a frequency cannot be negative";
		return -1;
	}
	ip = p;
	while (isdigit((unsigned char)*p))
		p++, ni++;
	if (*p == '.') {
		fp = ++p;
		while (isdigit((unsigned char)*p))
			p++, nf++;
	}
	if (ni + nf == 0) {
		*why = "expected a number of Hz (e.g. 2599999000, 2.6GHz, 1996.248MHz)";
		return -1;
	}
	unit = skip_blanks(p);
	/* the unit, with nothing after it but blanks */
	{
		static const struct { const char *name; unsigned pow10; } units[] = {
			{ "", 0 }, { "hz", 0 }, { "k", 3 }, { "khz", 3 }, { "m", 6 },
			{ "mhz", 6 }, { "g", 9 }, { "ghz", 9 },
		};
		size_t len = 0;
		int found = 0;

		while (unit[len] && !isspace((unsigned char)unit[len]))
			len++;
		if (*skip_blanks(unit + len)) {
			*why = "unknown unit (use Hz, kHz, MHz or GHz)";
			return -1;
		}
		pow10 = 0;
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
			if (strlen(units[i].name) == len && strncasecmp(unit, units[i].name, len) == 0) {
				pow10 = units[i].pow10;
				found = 1;
				break;
			}
		if (!found) {
			*why = "unknown unit (use Hz, kHz, MHz or GHz)";
			return -1;
		}
	}
	/* Hz = the integer digits, then the first pow10 decimals (zeros past the
	 * end); every decimal after those must be 0. */
	for (size_t i = 0; i < ni; i++)
		if (!push_digit(&v, (unsigned)(ip[i] - '0'))) {
			*why = "number too large (at most 18446744073709551615 Hz)";
			return -1;
		}
	for (size_t i = 0; i < pow10; i++)
		if (!push_digit(&v, i < nf ? (unsigned)(fp[i] - '0') : 0)) {
			*why = "number too large (at most 18446744073709551615 Hz)";
			return -1;
		}
	for (size_t i = pow10; i < nf; i++)
		if (fp[i] != '0') {
			*why = "not a whole number of Hz";
			return -1;
		}
	if (v == 0) {
		*why = "a frequency of 0 Hz has no scale";
		return -1;
	}
	*hz = v;
	return 0;
}

int vt_parse_seconds(const char *s, double max, double *out, const char **why)
{
	char *end;
	double v;

	if (!s || !out || !why) {
		if (why)
			*why = "no value";
		return -1;
	}
	v = strtod(s, &end);
	if (end == s || *end || isnan(v) || !(v > 0) || v > max) {
		*why = "not a duration in (0, max] seconds";
		return -1;
	}
	*out = v;
	return 0;
}
