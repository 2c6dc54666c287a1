/* SPDX-License-Identifier: MIT */
/* The vtime tool's number parsers (tools/vtime/parse.c), on their own: every
 * unit, the exact edges of u64, values that once wrapped, and malformed
 * input. (The fuzz harness tests/fuzz/fuzz_cli_parse.c checks them against
 * an exact oracle on arbitrary strings.) */
#include <stdint.h>
#include <string.h>

#include "vt_parse.h"
#include "vt_test.h"

static int hz_of(const char *s, uint64_t *hz)
{
	const char *why = NULL;
	int r = vt_parse_hz(s, hz, &why);
	CU_ASSERT(r == 0 || (why && *why));
	return r;
}

static void test_hz_valid(void)
{
	static const struct { const char *s; uint64_t hz; } ok[] = {
		{ "2599999000", 2599999000ull },
		{ "2.6GHz", 2600000000ull },
		{ "2.6 ghz", 2600000000ull },
		{ "  1996.248 MHz  ", 1996248000ull },
		{ "2599999k", 2599999000ull },
		{ "2599999kHz", 2599999000ull },
		{ "1", 1 },
		{ "1Hz", 1 },
		{ "0.000000001GHz", 1 },
		{ ".5k", 500 },
		{ "3.000000000000000000000000", 3 },  /* trailing zeros are whole */
		{ "007", 7 },
		{ "18446744073709551615", UINT64_MAX }, /* once refused */
		{ "18446744073.709551615GHz", UINT64_MAX },
		{ "18446744073709551.615kHz", UINT64_MAX },
		{ "18446744073709.551615 MHz", UINT64_MAX },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		uint64_t hz = 0;
		CU_ASSERT_EQUAL(hz_of(ok[i].s, &hz), 0);
		CU_ASSERT_EQUAL(hz, ok[i].hz);
		if (hz != ok[i].hz)
			printf("\n  '%s': %llu", ok[i].s, (unsigned long long)hz);
	}
}

static void test_hz_refused(void)
{
	static const char *const bad[] = {
		"18446744073.999999999GHz", /* once wrapped to 290448383 Hz */
		"18446744073.709551616GHz", /* 2^64: once wrapped to 0 */
		"18446744073709551616",     /* 2^64 */
		"99999999999999999999999",
		"18446744074GHz",
		"1.5", "0.0005k", "1.0000000001GHz", /* not whole */
		"0", "0.0GHz", "0Hz",            /* 0 Hz */
		"", " ", ".", "abc", "-5", "+5", "12XHz", "2.6 GHz x", "1 2", "1e9", "2..6GHz", "2.6.1",
		"0x10",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t hz = 12345;
		CU_ASSERT_EQUAL(hz_of(bad[i], &hz), -1);
		CU_ASSERT_EQUAL(hz, 12345); /* untouched */
		if (hz != 12345)
			printf("\n  '%s' accepted as %llu", bad[i], (unsigned long long)hz);
	}
	CU_ASSERT_EQUAL(vt_parse_hz(NULL, NULL, NULL), -1);
}

/* Every u64 printed in decimal parses back to itself, also with each unit's
 * decimal point moved (v Hz = v/1000 kHz...). */
static void test_hz_roundtrip(void)
{
	uint64_t x = 0x2545f4914f6cdd1dull;
	for (unsigned long i = 0; i < vt_test_iters(200000); i++) {
		char buf[64], dec[64];
		uint64_t v, got = 0;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		v = x >> (x & 63);
		if (v == 0)
			v = 1;
		snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
		CU_ASSERT_FATAL(hz_of(buf, &got) == 0 && got == v);
		snprintf(dec, sizeof dec, "%llu.%09lluGHz", (unsigned long long)(v / 1000000000u),
			 (unsigned long long)(v % 1000000000u));
		CU_ASSERT_FATAL(hz_of(dec, &got) == 0 && got == v);
		snprintf(dec, sizeof dec, "%llu.%03llu kHz", (unsigned long long)(v / 1000u),
			 (unsigned long long)(v % 1000u));
		CU_ASSERT_FATAL(hz_of(dec, &got) == 0 && got == v);
	}
}

static void test_seconds(void)
{
	const char *why;
	double v = -1;
	CU_ASSERT(vt_parse_seconds("5", 86400, &v, &why) == 0 && v == 5);
	CU_ASSERT(vt_parse_seconds("0.25", 86400, &v, &why) == 0 && v == 0.25);
	CU_ASSERT(vt_parse_seconds("86400", 86400, &v, &why) == 0);
	static const char *const bad[] = { "0", "-1", "86400.5", "nan", "inf", "1s", "", " ", "abc", "1e999" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = -7;
		CU_ASSERT_EQUAL(vt_parse_seconds(bad[i], 86400, &v, &why), -1);
		CU_ASSERT_EQUAL(v, -7);
	}
}

static const struct vt_test_case cases[] = {
	{ "frequencies: every unit, the edges of u64", test_hz_valid },
	{ "frequencies refused: overflow, not whole, 0, malformed", test_hz_refused },
	{ "frequencies: every u64 parses back to itself", test_hz_roundtrip },
	{ "durations for --seconds", test_seconds },
	{ NULL, NULL },
};

int main(void)
{
	static const struct vt_test_suite suites[] = { { "tool parsers", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
