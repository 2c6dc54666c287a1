/* SPDX-License-Identifier: MIT */
/* The vtime tool's number parsers (tools/vtime/parse.c) on any string:
 *   - vt_parse_hz() accepts exactly the strings of its grammar whose value
 *     is a whole number of Hz in 1..2^64-1, and then returns that value;
 *     the oracle below gets it another way (the decimal digits as a string,
 *     the unit as a power of ten, 128-bit limbs from tests/core/vt_oracle.h);
 *   - every value printed back (Hz, and GHz with nine decimals) parses to
 *     itself;
 *   - vt_parse_seconds() agrees with strtod's reading and its bounds;
 *   - neither reads past the string's end (ASan) nor writes its output
 *     when it refuses. */
#include <ctype.h>
#include <math.h>
#include <strings.h>

#include "fuzz.h"
#include "vt_oracle.h"
#include "vt_parse.h"

/* 0 and *hz, or -1. */
static int oracle_hz(const char *s, uint64_t *hz)
{
	char digits[512];
	size_t nd = 0, nf = 0, i = 0;
	int e;
	bool any = false;
	const char *u;
	size_t ul;
	static const char *const units[] = { "", "hz", "k", "khz", "m", "mhz", "g", "ghz" };
	static const int pows[] = { 0, 0, 3, 3, 6, 6, 9, 9 };
	int pow10 = -1;
	o128 v = o128_from(0), lim = o128_from(UINT64_MAX);

	while (isspace((unsigned char)s[i]))
		i++;
	for (; isdigit((unsigned char)s[i]); i++, any = true) {
		if (nd == sizeof digits)
			return -1;
		digits[nd++] = s[i];
	}
	if (s[i] == '.') {
		for (i++; isdigit((unsigned char)s[i]); i++, any = true, nf++) {
			if (nd == sizeof digits)
				return -1;
			digits[nd++] = s[i];
		}
	}
	if (!any)
		return -1;
	while (isspace((unsigned char)s[i]))
		i++;
	u = s + i;
	for (ul = 0; u[ul] && !isspace((unsigned char)u[ul]); ul++)
		;
	for (size_t k = ul; u[k]; k++)
		if (!isspace((unsigned char)u[k]))
			return -1;
	for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
		if (strlen(units[k]) == ul && strncasecmp(u, units[k], ul) == 0)
			pow10 = pows[k];
	if (pow10 < 0)
		return -1;
	/* value = digits * 10^(pow10 - nf) */
	e = pow10 - (int)nf;
	if (e < 0) {
		for (int k = 0; k < -e; k++)
			if (digits[nd - 1 - (size_t)k] != '0')
				return -1; /* not whole */
		nd -= (size_t)-e;
		e = 0;
	}
	for (size_t k = 0; k < nd + (size_t)e; k++) {
		unsigned d = k < nd ? (unsigned)(digits[k] - '0') : 0;
		o128 ten = o128_from(0);
		/* v = v * 10 + d, through shifts and adds of limbs */
		o128 a = o128_shl(v, 3), b = o128_shl(v, 1);
		uint64_t carry = d;
		for (int w = 0; w < 4; w++) {
			uint64_t t = (uint64_t)a.w[w] + b.w[w] + carry;
			ten.w[w] = (uint32_t)t;
			carry = t >> 32;
		}
		if (carry || o128_cmp(ten, lim) > 0)
			return -1; /* too large */
		v = ten;
	}
	if (o128_lo64(v) == 0)
		return -1;
	*hz = o128_lo64(v);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[96], buf[64];
	size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
	uint64_t hz = 12345, ohz = 0;
	const char *why = NULL;
	int r, o;
	double sec = -3, osec;
	char *end;

	/* the bytes as a string (the harness stops at a NUL like argv does) */
	memcpy(s, data, n);
	s[n] = '\0';
	{
		/* exact-size copy so ASan sees any read past the terminator */
		size_t len = strlen(s);
		char *p = malloc(len + 1);
		if (!p)
			return 0;
		memcpy(p, s, len + 1);
		r = vt_parse_hz(p, &hz, &why);
		o = oracle_hz(p, &ohz);
		FZ_CHECK(r == o, "vt_parse_hz('%s') = %d, oracle %d (%s)", p, r, o, why ? why : "");
		if (r == 0)
			FZ_CHECK(hz == ohz, "vt_parse_hz('%s') = %llu, oracle %llu", p, FZ_U(hz), FZ_U(ohz));
		else
			FZ_CHECK(hz == 12345 && why && *why, "refused '%s' without a reason, or wrote the output", p);
		r = vt_parse_seconds(p, 86400, &sec, &why);
		osec = strtod(p, &end);
		o = (end != p && !*end && !isnan(osec) && osec > 0 && osec <= 86400) ? 0 : -1;
		FZ_CHECK(r == o && (r || sec == osec) && (r == 0 || sec == -3), "vt_parse_seconds('%s') = %d", p, r);
		free(p);
	}
	/* printed values parse back */
	if (size >= 8) {
		uint64_t v = 0, got = 0;
		memcpy(&v, data, 8);
		if (v) {
			snprintf(buf, sizeof buf, "%llu", FZ_U(v));
			FZ_CHECK(vt_parse_hz(buf, &got, &why) == 0 && got == v, "'%s' did not parse back", buf);
			snprintf(buf, sizeof buf, "%llu.%09lluGHz", FZ_U(v / 1000000000u), FZ_U(v % 1000000000u));
			FZ_CHECK(vt_parse_hz(buf, &got, &why) == 0 && got == v, "'%s' did not parse back", buf);
		}
	}
	return 0;
}
