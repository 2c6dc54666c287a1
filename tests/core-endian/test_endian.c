/* SPDX-License-Identifier: MIT */
/* The pvclock ABI is little-endian on every host. On a big-endian host (s390x
 * under qemu in CI) this proves that the writer stores little-endian bytes and
 * that the reader decodes a record given as raw little-endian bytes. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <vtime/error.h>
#include <vtime/pvclock.h>

#include "fake_counter.h"
#include "vt_endian.h"
#include "vt_test.h"

/* A record as raw bytes: version 6, tsc_timestamp 0x0123456789abcdef,
 * system_time 1e9, mul 3303822267 (0xc4ec53bb), shift -1, flags TSC_STABLE
 * (this machine's host page values; bytes from Python's struct '<IIQQIbB2x'). */
static const uint8_t known_rec[32] = {
	0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,
	0x00, 0xca, 0x9a, 0x3b, 0x00, 0x00, 0x00, 0x00, 0xbb, 0x53, 0xec, 0xc4, 0xff, 0x01, 0x00, 0x00,
};

/* Little-endian encoding by shifts: independent of the host's byte order. */
static void put_le(uint8_t *dst, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		dst[i] = (uint8_t)(v >> (8 * i));
}

static int host_is_big_endian(void)
{
	const uint32_t one = 1;
	uint8_t b[4];
	memcpy(b, &one, sizeof b);
	return b[0] == 0;
}

static void test_host_order(void)
{
	printf("\n  host is %s-endian\n", host_is_big_endian() ? "big" : "little");
	CU_ASSERT_EQUAL(host_is_big_endian(), VT_BIG_ENDIAN);
#ifdef VT_EXPECT_BIG_ENDIAN
	/* Set by meson for a big-endian host machine: the byte-swapping path really runs. */
	CU_ASSERT_EQUAL(host_is_big_endian(), VT_EXPECT_BIG_ENDIAN);
#endif
}

/* The writer must leave exactly these bytes in shared memory. */
static void check_publish_bytes(uint64_t tsc_ts, uint64_t sys, uint32_t mul, int8_t shift, uint8_t flags)
{
	struct vtime_pvclock_vcpu_time_info rec, body;
	uint8_t want[32];
	uint32_t v;

	memset(&rec, 0, sizeof rec);
	memset(&body, 0, sizeof body);
	body.tsc_timestamp = tsc_ts;
	body.system_time = sys;
	body.tsc_to_system_mul = mul;
	body.tsc_shift = shift;
	body.flags = flags;
	v = vtime_pvclock_publish(&rec, &body);
	CU_ASSERT_EQUAL(v, 2);
	memset(want, 0, sizeof want);
	put_le(want + 0, v, 4);
	put_le(want + 8, tsc_ts, 8);
	put_le(want + 16, sys, 8);
	put_le(want + 24, mul, 4);
	want[28] = (uint8_t)shift;
	want[29] = flags;
	CU_ASSERT_EQUAL(memcmp(&rec, want, sizeof want), 0);
}

static void test_publish_is_little_endian(void)
{
	check_publish_bytes(0x0123456789abcdefull, 1000000000ull, 3303822267u, -1, VTIME_PVCLOCK_TSC_STABLE);
	/* From 0 and from just below 2^64. */
	check_publish_bytes(0, 0, 0x80000000u, 1, 0);
	check_publish_bytes(UINT64_MAX - 1, UINT64_MAX - 7, 0xffffffffu, -12, 0);
}

static void test_known_bytes_read_back(void)
{
	struct vtime_pvclock_vcpu_time_info rec, snap;
	struct vtime_pvclock_reading r;
	struct vt_fake_counter fc = { 0 };
	struct vtime_counter ctr = vt_fake_counter_hook(&fc);

	memcpy(&rec, known_rec, sizeof rec);
	CU_ASSERT_EQUAL_FATAL(vtime_pvclock_snapshot(&rec, 1, &snap), 0);
	CU_ASSERT_EQUAL(snap.version, 6);
	CU_ASSERT_EQUAL(snap.tsc_timestamp, 0x0123456789abcdefull);
	CU_ASSERT_EQUAL(snap.system_time, 1000000000ull);
	CU_ASSERT_EQUAL(snap.tsc_to_system_mul, 3303822267u);
	CU_ASSERT_EQUAL(snap.tsc_shift, -1);
	CU_ASSERT_EQUAL(snap.flags, VTIME_PVCLOCK_TSC_STABLE);

	/* 2 s of a 2599999000 Hz counter later: 1e9 + floor(2599999000 * mul / 2^32)
	 * = 2999999999 (computed with Python integers). */
	fc.value = 0x0123456789abcdefull + 2ull * 2599999000ull;
	CU_ASSERT_EQUAL_FATAL(vtime_pvclock_read(&rec, &ctr, 1, &r), 0);
	CU_ASSERT_EQUAL(r.ns, 2999999999ull);
	CU_ASSERT_EQUAL(r.version, 6);
	CU_ASSERT_EQUAL(r.flags, VTIME_PVCLOCK_TSC_STABLE);
}

static void test_known_bytes_wraparound(void)
{
	struct vtime_pvclock_vcpu_time_info rec;
	struct vtime_pvclock_reading r;
	struct vt_fake_counter fc = { 0 };
	struct vtime_counter ctr = vt_fake_counter_hook(&fc);
	uint8_t raw[32];

	/* Record from just below 2^64; the counter wraps past 0 three seconds on. */
	memcpy(raw, known_rec, sizeof raw);
	put_le(raw + 8, UINT64_MAX - 999, 8);
	put_le(raw + 16, 5000000000ull, 8);
	memcpy(&rec, raw, sizeof rec);
	fc.value = 7799996000ull; /* (2^64 - 1000 + 3 * 2599999000) mod 2^64 */
	CU_ASSERT_EQUAL_FATAL(vtime_pvclock_read(&rec, &ctr, 1, &r), 0);
	CU_ASSERT_EQUAL(r.ns, 7999999999ull);

	/* From 0: record at counter 0, system_time 0, one second on. */
	put_le(raw + 8, 0, 8);
	put_le(raw + 16, 0, 8);
	memcpy(&rec, raw, sizeof rec);
	fc.value = 2599999000ull;
	CU_ASSERT_EQUAL_FATAL(vtime_pvclock_read(&rec, &ctr, 1, &r), 0);
	CU_ASSERT_EQUAL(r.ns, 999999999ull);
}

static void test_odd_and_corrupt_bytes(void)
{
	struct vtime_pvclock_vcpu_time_info rec, snap;
	uint8_t raw[32];

	/* Version 7 little-endian (odd: writer inside). Read as big-endian it
	 * would be 0x07000000, which is even: a missing swap shows up here. */
	memcpy(raw, known_rec, sizeof raw);
	raw[0] = 7;
	memcpy(&rec, raw, sizeof rec);
	CU_ASSERT_EQUAL(vtime_pvclock_snapshot(&rec, 4, &snap), VTIME_EAGAIN);

	/* mul 0 with a published version: corrupt, not "never published". */
	memcpy(raw, known_rec, sizeof raw);
	memset(raw + 24, 0, 4);
	memcpy(&rec, raw, sizeof rec);
	CU_ASSERT_EQUAL(vtime_pvclock_snapshot(&rec, 1, &snap), VTIME_EPROTO);

	memset(&rec, 0, sizeof rec);
	CU_ASSERT_EQUAL(vtime_pvclock_snapshot(&rec, 1, &snap), VTIME_ENODATA);
}

static void test_wall_clock_bytes(void)
{
	struct vtime_pvclock_wall_clock wc;
	uint8_t want[12], raw[12];
	uint32_t sec = 0, nsec = 0;

	memset(&wc, 0, sizeof wc);
	CU_ASSERT_EQUAL(vtime_pvclock_wall_publish(&wc, 1764000000u, 123456789u), 2);
	put_le(want + 0, 2, 4);
	put_le(want + 4, 1764000000u, 4);
	put_le(want + 8, 123456789u, 4);
	CU_ASSERT_EQUAL(memcmp(&wc, want, sizeof want), 0);

	/* Known bytes in: version 4, sec 0xfffffffe (near the 2106 overflow), nsec 999999999. */
	put_le(raw + 0, 4, 4);
	put_le(raw + 4, 0xfffffffeu, 4);
	put_le(raw + 8, 999999999u, 4);
	memcpy(&wc, raw, sizeof wc);
	CU_ASSERT_EQUAL_FATAL(vtime_pvclock_wall_read(&wc, 1, &sec, &nsec), 0);
	CU_ASSERT_EQUAL(sec, 0xfffffffeu);
	CU_ASSERT_EQUAL(nsec, 999999999u);
}

int main(void)
{
	static const struct vt_test_case cases[] = {
		{ "host byte order", test_host_order },
		{ "publish writes little-endian bytes", test_publish_is_little_endian },
		{ "known little-endian bytes read back", test_known_bytes_read_back },
		{ "known bytes across 2^64 and from 0", test_known_bytes_wraparound },
		{ "odd and corrupt records as bytes", test_odd_and_corrupt_bytes },
		{ "wall clock bytes", test_wall_clock_bytes },
		{ NULL, NULL },
	};
	static const struct vt_test_suite suites[] = { { "endian", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
