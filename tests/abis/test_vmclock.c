/* SPDX-License-Identifier: MIT */
/* VMClock: the ABI layout, the time and error-bound conversions against the
 * 512-bit oracle, the reader's refusals and retry bound with a fake counter,
 * TAI/UTC, the writer's rules (seq, markers, generation, constant header),
 * the body helpers, runs from counter 0 and across 2^64, and the page's
 * little-endian byte image (this suite also runs on s390x). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <vtime/error.h>
#include <vtime/vmclock.h>

#include "fake_counter.h"
#include "vt_abi_oracle.h"
#include "vt_endian.h"
#include "vt_test.h"

typedef struct vtime_vmclock_abi vmc_t;

static _Alignas(4096) uint8_t g_region[4096];
#define LIVE ((vmc_t *)g_region)

/* A usable body for a counter of hz since counter value c0 at TAI time t0. */
static vmc_t body_for(uint64_t hz, uint64_t c0, uint64_t sec, uint32_t nsec)
{
	vmc_t b;
	memset(&b, 0, sizeof b);
	b.counter_id = VTIME_VMCLOCK_COUNTER_X86_TSC;
	b.time_type = VTIME_VMCLOCK_TIME_TAI;
	b.clock_status = VTIME_VMCLOCK_STATUS_SYNCHRONIZED;
	b.tai_offset_sec = 37;
	b.flags = VTIME_VMCLOCK_FLAG_TAI_OFFSET_VALID | VTIME_VMCLOCK_FLAG_TIME_MONOTONIC;
	CU_ASSERT_EQUAL_FATAL(vtime_vmclock_set_period(&b, hz, 50000, 1000), 0); /* 50 ppm max, 1 ppm est */
	CU_ASSERT_EQUAL_FATAL(vtime_vmclock_set_time(&b, c0, sec, nsec, 100000, 2000), 0);
	return b;
}

static void fresh_page(uint8_t counter_id, uint8_t time_type)
{
	memset(g_region, 0, sizeof g_region);
	CU_ASSERT_EQUAL_FATAL(vtime_vmclock_init(LIVE, sizeof g_region, counter_id, time_type), 0);
}

/* ---------------- ABI ---------------- */

static void test_abi(void)
{
	vmc_t s;
	CU_ASSERT_EQUAL(sizeof(vmc_t), 0x70);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_ABI_SIZE, 0x70);
#define FIELD(name, off, size)                             \
	CU_ASSERT_EQUAL(offsetof(vmc_t, name), off);       \
	CU_ASSERT_EQUAL(sizeof(s.name), size)
	FIELD(magic, 0x00, 4);
	FIELD(size, 0x04, 4);
	FIELD(version, 0x08, 2);
	FIELD(counter_id, 0x0a, 1);
	FIELD(time_type, 0x0b, 1);
	FIELD(seq_count, 0x0c, 4);
	FIELD(disruption_marker, 0x10, 8);
	FIELD(flags, 0x18, 8);
	FIELD(pad, 0x20, 2);
	FIELD(clock_status, 0x22, 1);
	FIELD(leap_second_smearing_hint, 0x23, 1);
	FIELD(tai_offset_sec, 0x24, 2);
	FIELD(leap_indicator, 0x26, 1);
	FIELD(counter_period_shift, 0x27, 1);
	FIELD(counter_value, 0x28, 8);
	FIELD(counter_period_frac_sec, 0x30, 8);
	FIELD(counter_period_esterror_rate_frac_sec, 0x38, 8);
	FIELD(counter_period_maxerror_rate_frac_sec, 0x40, 8);
	FIELD(time_sec, 0x48, 8);
	FIELD(time_frac_sec, 0x50, 8);
	FIELD(time_esterror_nanosec, 0x58, 8);
	FIELD(time_maxerror_nanosec, 0x60, 8);
	FIELD(vm_generation_counter, 0x68, 8);
#undef FIELD
	/* tai_offset_sec is two's complement */
	memset(&s, 0xff, sizeof s);
	CU_ASSERT_EQUAL(s.tai_offset_sec, -1);

	CU_ASSERT_EQUAL(VTIME_VMCLOCK_MAGIC, 0x4b4c4356);
	CU_ASSERT_EQUAL(memcmp("VCLK", (const char[]){ 0x56, 0x43, 0x4c, 0x4b }, 4), 0); /* LE bytes of the magic */
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_VERSION, 1);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_COUNTER_ARM_VCNT, 0);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_COUNTER_X86_TSC, 1);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_COUNTER_INVALID, 0xff);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_TIME_UTC, 0);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_TIME_TAI, 1);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_TIME_MONOTONIC, 2);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_TIME_INVALID_SMEARED, 3);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_TIME_INVALID_MAYBE_SMEARED, 4);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_FLAG_TAI_OFFSET_VALID, 1u << 0);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_FLAG_DISRUPTION_SOON, 1u << 1);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_FLAG_DISRUPTION_IMMINENT, 1u << 2);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_FLAG_PERIOD_ESTERROR_VALID, 1u << 3);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_FLAG_PERIOD_MAXERROR_VALID, 1u << 4);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_FLAG_TIME_ESTERROR_VALID, 1u << 5);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_FLAG_TIME_MAXERROR_VALID, 1u << 6);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_FLAG_TIME_MONOTONIC, 1u << 7);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT, 1u << 8);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_FLAG_NOTIFICATION_PRESENT, 1u << 9);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_STATUS_UNKNOWN, 0);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_STATUS_INITIALIZING, 1);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_STATUS_SYNCHRONIZED, 2);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_STATUS_FREERUNNING, 3);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_STATUS_UNRELIABLE, 4);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_SMEARING_STRICT, 0);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_SMEARING_NOON_LINEAR, 1);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_SMEARING_UTC_SLS, 2);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_LEAP_NONE, 0);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_LEAP_PRE_POS, 1);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_LEAP_PRE_NEG, 2);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_LEAP_POS, 3);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_LEAP_POST_POS, 4);
	CU_ASSERT_EQUAL(VTIME_VMCLOCK_LEAP_POST_NEG, 5);
}

/* ---------------- conversions against the oracle ---------------- */

static uint8_t random_shift(void)
{
	switch (vt_rng() % 8) {
	case 0: return 0;
	case 1: return (uint8_t)(60 + vt_rng() % 10); /* around 64 */
	case 2: return (uint8_t)(120 + vt_rng() % 16); /* around 128 */
	case 3: return (uint8_t)vt_rng();             /* anything up to 255 */
	default: return (uint8_t)(vt_rng() % 41);     /* what real pages use */
	}
}

static vmc_t random_snap(void)
{
	vmc_t s;
	memset(&s, 0, sizeof s);
	s.counter_id = VTIME_VMCLOCK_COUNTER_X86_TSC;
	s.counter_value = (vt_rng() & 1) ? vt_rng_delta() : vt_rng();
	s.counter_period_shift = random_shift();
	s.counter_period_frac_sec = (vt_rng() & 1) ? vt_rng_mag() : vt_rng();
	switch (vt_rng() % 5) {
	case 0: s.time_sec = 0; break;
	case 1: s.time_sec = vt_rng() % 4096; break;
	case 2: s.time_sec = UINT64_MAX - vt_rng() % 4096; break;
	case 3: s.time_sec = 1700000000ull + vt_rng() % 1000000000ull; break;
	default: s.time_sec = vt_rng(); break;
	}
	s.time_frac_sec = (vt_rng() % 4 == 0) ? 0 : vt_rng();
	s.counter_period_maxerror_rate_frac_sec = (vt_rng() & 1) ? vt_rng_mag() : vt_rng();
	s.counter_period_esterror_rate_frac_sec = (vt_rng() & 1) ? vt_rng_mag() : vt_rng() % 1000;
	s.time_maxerror_nanosec = (vt_rng() % 4 == 0) ? UINT64_MAX - vt_rng() % 1000 : vt_rng_mag();
	s.time_esterror_nanosec = vt_rng_mag();
	s.flags = vt_rng() & 0x3ff;
	return s;
}

static uint64_t random_counter(const vmc_t *s)
{
	uint64_t d = vt_rng_delta();
	return (vt_rng() & 1) ? s->counter_value + d : s->counter_value - d;
}

static void test_time_oracle(void)
{
	unsigned long n = vt_test_iters(50000), erange = 0, behind = 0;
	for (unsigned long i = 0; i < n; i++) {
		vmc_t s = random_snap();
		uint64_t c = random_counter(&s), sec = 1, osec = 2;
		uint32_t nsec = 3, onsec = 4;
		int rc = vtime_vmclock_time(&s, c, &sec, &nsec), orc = oracle_vmclock_time(&s, c, &osec, &onsec);

		behind += (c - s.counter_value) >> 63;
		CU_ASSERT_EQUAL(rc, orc);
		if (rc == 0 && orc == 0) {
			CU_ASSERT_EQUAL(sec, osec);
			CU_ASSERT_EQUAL(nsec, onsec);
			CU_ASSERT(nsec < 1000000000u);
		} else if (rc == VTIME_ERANGE) {
			erange++;
			CU_ASSERT_EQUAL(sec, 1); /* outputs untouched */
			CU_ASSERT_EQUAL(nsec, 3);
		}
		if (rc != orc || (rc == 0 && (sec != osec || nsec != onsec))) {
			printf("\n  cv %llu shift %u period %llu sec %llu frac %llu counter %llu: rc %d %llu.%09u, oracle %d %llu.%09u",
			       (unsigned long long)s.counter_value, s.counter_period_shift,
			       (unsigned long long)s.counter_period_frac_sec, (unsigned long long)s.time_sec,
			       (unsigned long long)s.time_frac_sec, (unsigned long long)c, rc, (unsigned long long)sec,
			       nsec, orc, (unsigned long long)osec, onsec);
			break;
		}
	}
	printf("\n  %lu cases (%lu behind the reference, %lu VTIME_ERANGE)", n, behind, erange);
	CU_ASSERT(behind > n / 4 && erange > 0 && erange < n / 2);
}

static void test_error_oracle(void)
{
	unsigned long n = vt_test_iters(50000), sat = 0, unknown = 0;
	for (unsigned long i = 0; i < n; i++) {
		vmc_t s = random_snap();
		uint64_t c = random_counter(&s), me, ee, ome, oee;

		me = vtime_vmclock_maxerror(&s, c);
		ee = vtime_vmclock_esterror(&s, c);
		oracle_vmclock_error(&s, c, &ome, &oee);
		CU_ASSERT_EQUAL(me, ome);
		CU_ASSERT_EQUAL(ee, oee);
		if (me != ome || ee != oee) {
			printf("\n  flags %llx shift %u rate %llu/%llu errs %llu/%llu d %llu: %llu/%llu want %llu/%llu",
			       (unsigned long long)s.flags, s.counter_period_shift,
			       (unsigned long long)s.counter_period_maxerror_rate_frac_sec,
			       (unsigned long long)s.counter_period_esterror_rate_frac_sec,
			       (unsigned long long)s.time_maxerror_nanosec, (unsigned long long)s.time_esterror_nanosec,
			       (unsigned long long)(c - s.counter_value), (unsigned long long)me, (unsigned long long)ee,
			       (unsigned long long)ome, (unsigned long long)oee);
			break;
		}
		unknown += !(s.flags & VTIME_VMCLOCK_FLAG_TIME_MAXERROR_VALID);
		sat += (s.flags & VTIME_VMCLOCK_FLAG_TIME_MAXERROR_VALID) && me == UINT64_MAX;
	}
	printf("\n  %lu cases (%lu maxerror unknown, %lu saturated)", n, unknown, sat);
	CU_ASSERT(unknown > 0 && sat > 0);
}

/* Hand-checked values, each edge of the definition. */
static void test_time_edges(void)
{
	vmc_t s;
	uint64_t sec, me, ee;
	uint32_t nsec;

	memset(&s, 0, sizeof s);
	s.counter_value = 1000;
	s.time_sec = 1700000000;
	s.time_frac_sec = 1ull << 63; /* .5 s */
	s.counter_period_frac_sec = 1ull << 34; /* 2^34 / 2^64 s = 2^-30 s per tick */
	s.counter_period_shift = 0;
	CU_ASSERT_EQUAL(vtime_vmclock_time(&s, 1000, &sec, &nsec), 0);
	CU_ASSERT(sec == 1700000000 && nsec == 500000000);
	CU_ASSERT_EQUAL(vtime_vmclock_time(&s, 1000 + (1ull << 29), &sec, &nsec), 0); /* + .5 s */
	CU_ASSERT(sec == 1700000001 && nsec == 0);
	CU_ASSERT_EQUAL(vtime_vmclock_time(&s, 1000 - (1ull << 29), &sec, &nsec), 0); /* - .5 s */
	CU_ASSERT(sec == 1700000000 && nsec == 0);
	/* one tick behind: 2^-30 s = 0.93 ns earlier, floored: .499999999 */
	CU_ASSERT_EQUAL(vtime_vmclock_time(&s, 999, &sec, &nsec), 0);
	CU_ASSERT(sec == 1700000000 && nsec == 499999999);
	/* with shift 30 the same period field means 2^-60 s per tick */
	s.counter_period_shift = 30;
	CU_ASSERT_EQUAL(vtime_vmclock_time(&s, 1000 + (1ull << 59), &sec, &nsec), 0);
	CU_ASSERT(sec == 1700000001 && nsec == 0);
	/* floor(-1 * 2^34 / 2^30) = -16 units of 2^-64 s: still .499999999 */
	CU_ASSERT_EQUAL(vtime_vmclock_time(&s, 999, &sec, &nsec), 0);
	CU_ASSERT(sec == 1700000000 && nsec == 499999999);
	/* shifts of 128 and more: a step ahead adds nothing, a step behind
	 * takes the smallest unit (floor of a tiny negative) */
	s.counter_period_shift = 200;
	CU_ASSERT_EQUAL(vtime_vmclock_time(&s, 1000 + (1ull << 62), &sec, &nsec), 0);
	CU_ASSERT(sec == 1700000000 && nsec == 500000000);
	CU_ASSERT_EQUAL(vtime_vmclock_time(&s, 0, &sec, &nsec), 0);
	CU_ASSERT(sec == 1700000000 && nsec == 499999999);
	/* 2^63 - 1 ahead is ahead; 2^63 is behind */
	s.counter_period_shift = 0;
	s.counter_period_frac_sec = 1ull << 32; /* 2^-32 s per tick */
	s.counter_value = 0;
	CU_ASSERT_EQUAL(vtime_vmclock_time(&s, (1ull << 63) - 1, &sec, &nsec), 0);
	CU_ASSERT_EQUAL(sec, 1700000000ull + (1ull << 31)); /* + (2^63 - 1) / 2^32 s, floor */
	CU_ASSERT_EQUAL(vtime_vmclock_time(&s, 1ull << 63, &sec, &nsec), VTIME_ERANGE); /* 2^31 s before 1970+... */
	s.time_sec = 1ull << 40;
	CU_ASSERT_EQUAL(vtime_vmclock_time(&s, 1ull << 63, &sec, &nsec), 0);
	CU_ASSERT(sec == (1ull << 40) - (1ull << 31) && nsec == 500000000);
	/* beyond 2^64 s ahead, and before 0 */
	s.time_sec = UINT64_MAX;
	s.time_frac_sec = UINT64_MAX;
	CU_ASSERT_EQUAL(vtime_vmclock_time(&s, 0, &sec, &nsec), 0);
	CU_ASSERT_EQUAL(sec, UINT64_MAX);
	CU_ASSERT_EQUAL(nsec, 999999999);
	CU_ASSERT_EQUAL(vtime_vmclock_time(&s, 1, &sec, &nsec), VTIME_ERANGE);
	s.time_sec = 0;
	s.time_frac_sec = 1ull << 32;
	CU_ASSERT_EQUAL(vtime_vmclock_time(&s, UINT64_MAX, &sec, &nsec), 0); /* exactly 0 */
	CU_ASSERT(sec == 0 && nsec == 0);
	CU_ASSERT_EQUAL(vtime_vmclock_time(&s, UINT64_MAX - 1, &sec, &nsec), VTIME_ERANGE);
	CU_ASSERT_EQUAL(vtime_vmclock_time(NULL, 0, &sec, &nsec), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_time(&s, 0, NULL, &nsec), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_time(&s, 0, &sec, NULL), VTIME_EINVAL);

	/* error terms: 1 GHz counter, 50 ppm max / 1 ppm est, 1 s elapsed either way */
	s = body_for(1000000000ull, 5000, 100, 0);
	me = vtime_vmclock_maxerror(&s, 5000);
	ee = vtime_vmclock_esterror(&s, 5000);
	CU_ASSERT(me == 100000 && ee == 2000);
	me = vtime_vmclock_maxerror(&s, 5000 + 1000000000ull);
	ee = vtime_vmclock_esterror(&s, 5000 + 1000000000ull);
	CU_ASSERT(me >= 100000 + 50000 && me <= 100000 + 50001);
	CU_ASSERT(ee >= 2000 + 1000 && ee <= 2000 + 1001);
	me = vtime_vmclock_maxerror(&s, 5000 - 1000000000ull); /* behind: |d| */
	CU_ASSERT(me >= 150000 && me <= 150001);
	/* a rate without its flag is not added; a time error without its flag is unknown */
	s.flags &= ~VTIME_VMCLOCK_FLAG_PERIOD_MAXERROR_VALID;
	s.flags &= ~VTIME_VMCLOCK_FLAG_TIME_ESTERROR_VALID;
	me = vtime_vmclock_maxerror(&s, 5000 + 1000000000ull);
	ee = vtime_vmclock_esterror(&s, 5000 + 1000000000ull);
	CU_ASSERT_EQUAL(me, 100000);
	CU_ASSERT_EQUAL(ee, VTIME_VMCLOCK_UNKNOWN);
}

/* Runs of the counter from 0 and across the 2^64 wrap: non-decreasing,
 * exact against the oracle, the elapsed time right, the bound growing. */
static void run_from(uint64_t c0, uint64_t hz)
{
	vmc_t b = body_for(hz, c0, 1700000000ull, 123456789);
	uint64_t c = c0, sec, osec, me, prev_ns = 0, prev_me = 0;
	uint32_t nsec, onsec;

	for (unsigned i = 0; i < 200000; i++) {
		uint64_t ns;
		c += 1 + (i % 2600); /* wraps past 2^64 when c0 is near it */
		CU_ASSERT_EQUAL_FATAL(vtime_vmclock_time(&b, c, &sec, &nsec), 0);
		CU_ASSERT_EQUAL_FATAL(oracle_vmclock_time(&b, c, &osec, &onsec), 0);
		CU_ASSERT_FATAL(sec == osec && nsec == onsec);
		ns = (sec - 1700000000ull) * 1000000000ull + nsec;
		CU_ASSERT_FATAL(ns >= prev_ns);
		prev_ns = ns;
		me = vtime_vmclock_maxerror(&b, c);
		CU_ASSERT_FATAL(me >= prev_me);
		prev_me = me;
	}
	/* elapsed ticks / hz, from 123456789 ns, within a ns of rounding */
	{
		uint64_t ticks = c - c0, want = 123456789ull + (uint64_t)((double)ticks * 1e9 / (double)hz);
		CU_ASSERT(prev_ns + 2 >= want && prev_ns <= want + 2);
	}
}

static void test_runs(void)
{
	run_from(0, 2599999000ull);
	run_from(UINT64_MAX - 100000000ull, 2599999000ull); /* wraps after 1e8 ticks */
	run_from(UINT64_MAX - 5, 1000000000ull);            /* wraps on the first steps */
	run_from(0, 24000000ull);                            /* a 24 MHz arm counter */
	run_from(UINT64_MAX - 1000, 24000000ull);
}

/* ---------------- body helpers ---------------- */

static void test_set_period(void)
{
	static const uint64_t hzs[] = { 2, 3, 4, 5, 1000, 1024, 1025, 24000000, 1000000000, 2599999000ull,
		                        1ull << 32, (1ull << 32) + 1, 1ull << 63, UINT64_MAX };
	vmc_t b;

	memset(&b, 0, sizeof b);
	for (unsigned k = 0; k < sizeof hzs / sizeof hzs[0] + 2000; k++) {
		uint64_t hz = k < sizeof hzs / sizeof hzs[0] ? hzs[k] : 2 + vt_rng_mag(), mppb = vt_rng() % 1000000,
			 eppb = vt_rng() % 1000;
		unsigned s;
		o128 want;

		if (hz < 2)
			continue;
		CU_ASSERT_EQUAL_FATAL(vtime_vmclock_set_period(&b, hz, mppb, eppb), 0);
		s = b.counter_period_shift;
		/* the largest shift with 2^s < hz */
		CU_ASSERT((1ull << s) < hz);
		CU_ASSERT(s == 63 || (1ull << (s + 1)) >= hz);
		want = o128_div(o128_shl(o128_from(1), 64 + s), hz);
		CU_ASSERT(o128_fits64(want));
		CU_ASSERT_EQUAL(b.counter_period_frac_sec, o128_lo64(want));
		CU_ASSERT(b.counter_period_frac_sec >= (1ull << 63)); /* full precision kept */
		/* rates: ceil(period * ppb / 1e9) */
		want = o128_div(o128_sub(o128_mul(b.counter_period_frac_sec, mppb), o128_from(1)), 1000000000ull);
		CU_ASSERT_EQUAL(b.counter_period_maxerror_rate_frac_sec, mppb ? o128_lo64(want) + 1 : 0);
		want = o128_div(o128_sub(o128_mul(b.counter_period_frac_sec, eppb), o128_from(1)), 1000000000ull);
		CU_ASSERT_EQUAL(b.counter_period_esterror_rate_frac_sec, eppb ? o128_lo64(want) + 1 : 0);
		CU_ASSERT(b.flags & VTIME_VMCLOCK_FLAG_PERIOD_MAXERROR_VALID);
		CU_ASSERT(b.flags & VTIME_VMCLOCK_FLAG_PERIOD_ESTERROR_VALID);
	}
	/* hz ticks take one second, to within one unit of 2^-64 s per tick */
	{
		uint64_t sec;
		uint32_t nsec;
		b = body_for(2599999000ull, 0, 0, 0);
		CU_ASSERT_EQUAL(vtime_vmclock_time(&b, 2599999000ull, &sec, &nsec), 0);
		CU_ASSERT((sec == 0 && nsec == 999999999) || (sec == 1 && nsec == 0));
	}
	CU_ASSERT_EQUAL(vtime_vmclock_set_period(&b, 1000, VTIME_VMCLOCK_UNKNOWN, VTIME_VMCLOCK_UNKNOWN), 0);
	CU_ASSERT_EQUAL(b.flags & (VTIME_VMCLOCK_FLAG_PERIOD_MAXERROR_VALID | VTIME_VMCLOCK_FLAG_PERIOD_ESTERROR_VALID), 0);
	CU_ASSERT_EQUAL(b.counter_period_maxerror_rate_frac_sec, 0);
	CU_ASSERT_EQUAL(vtime_vmclock_set_period(&b, 1000, 0, 0), 0); /* 0 ppb: known exact */
	CU_ASSERT(b.flags & VTIME_VMCLOCK_FLAG_PERIOD_MAXERROR_VALID);
	CU_ASSERT_EQUAL(vtime_vmclock_set_period(&b, 1, 0, 0), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_set_period(&b, 0, 0, 0), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_set_period(NULL, 1000, 0, 0), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_set_period(&b, 1000, UINT64_MAX - 1, 0), VTIME_ERANGE);
}

static void test_set_time(void)
{
	unsigned long n = vt_test_iters(50000);
	vmc_t b;

	memset(&b, 0, sizeof b);
	b.counter_period_frac_sec = 1;
	for (unsigned long i = 0; i < n; i++) {
		uint64_t c = vt_rng(), sec = vt_rng() >> (vt_rng() % 64), gs;
		uint32_t nsec = (uint32_t)(vt_rng() % 1000000000u), gn;
		if (i < 3)
			nsec = i == 0 ? 0 : (i == 1 ? 999999999u : 1);
		CU_ASSERT_EQUAL_FATAL(vtime_vmclock_set_time(&b, c, sec, nsec, 5, VTIME_VMCLOCK_UNKNOWN), 0);
		CU_ASSERT_EQUAL_FATAL(vtime_vmclock_time(&b, c, &gs, &gn), 0);
		CU_ASSERT_FATAL(gs == sec && gn == nsec); /* exact round trip */
	}
	CU_ASSERT(b.flags & VTIME_VMCLOCK_FLAG_TIME_MAXERROR_VALID);
	CU_ASSERT_FALSE(b.flags & VTIME_VMCLOCK_FLAG_TIME_ESTERROR_VALID);
	CU_ASSERT_EQUAL(b.time_maxerror_nanosec, 5);
	CU_ASSERT_EQUAL(b.time_esterror_nanosec, 0);
	CU_ASSERT_EQUAL(vtime_vmclock_set_time(&b, 0, 0, 1000000000u, 0, 0), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_set_time(NULL, 0, 0, 0, 0, 0), VTIME_EINVAL);
}

/* ---------------- reader ---------------- */

static void test_read_basic(void)
{
	vmc_t b = body_for(1000000000ull, 1000, 1700000000ull, 0), s;
	struct vt_fake_counter fc = { 1000 + 250000000ull, 1, 0, NULL, NULL };
	struct vtime_counter ctr = vt_fake_counter_hook(&fc);
	struct vtime_vmclock_reading rd;
	uint32_t seq;

	fresh_page(VTIME_VMCLOCK_COUNTER_X86_TSC, VTIME_VMCLOCK_TIME_TAI);
	CU_ASSERT_EQUAL(vtime_vmclock_check(LIVE, sizeof g_region), 0);
	seq = vtime_vmclock_publish(LIVE, &b, 0);
	CU_ASSERT_EQUAL(seq, 4); /* init took 1 -> 2, this publish 3 -> 4 */
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), 0);
	CU_ASSERT_EQUAL(fc.reads, 1);
	CU_ASSERT_EQUAL(rd.counter, 1000 + 250000000ull);
	CU_ASSERT_EQUAL(rd.seq, 4);
	CU_ASSERT_EQUAL(rd.sec, 1700000000ull);
	CU_ASSERT(rd.nsec == 250000000 || rd.nsec == 249999999);
	CU_ASSERT_EQUAL(rd.tai_sec, 1700000000ull);
	CU_ASSERT_EQUAL(rd.utc_sec, 1700000000ull - 37);
	CU_ASSERT_EQUAL(rd.valid, VTIME_VMCLOCK_HAVE_TAI | VTIME_VMCLOCK_HAVE_UTC);
	CU_ASSERT(rd.maxerror_ns >= 100000 + 12500 && rd.maxerror_ns <= 100000 + 12501);
	CU_ASSERT(rd.esterror_ns >= 2000 + 250 && rd.esterror_ns <= 2000 + 251);
	CU_ASSERT_EQUAL(rd.time_type, VTIME_VMCLOCK_TIME_TAI);
	CU_ASSERT_EQUAL(rd.clock_status, VTIME_VMCLOCK_STATUS_SYNCHRONIZED);
	CU_ASSERT_EQUAL(rd.counter_id, VTIME_VMCLOCK_COUNTER_X86_TSC);
	CU_ASSERT_EQUAL(rd.tai_offset_sec, 37);
	CU_ASSERT_EQUAL(rd.disruption_marker, 0);
	CU_ASSERT_EQUAL(rd.flags, b.flags);
	/* the reading is the conversion of the snapshot at the same counter */
	{
		struct vtime_vmclock_reading r2;
		CU_ASSERT_EQUAL(vtime_vmclock_snapshot(LIVE, 0, &s), 0);
		CU_ASSERT_EQUAL(fc.reads, 1); /* no counter read */
		CU_ASSERT_EQUAL(vtime_vmclock_convert(&s, rd.counter, &r2), 0);
		CU_ASSERT_EQUAL(memcmp(&rd, &r2, sizeof rd), 0);
		CU_ASSERT_EQUAL(s.magic, VTIME_VMCLOCK_MAGIC);
		CU_ASSERT_EQUAL(s.size, sizeof g_region);
		CU_ASSERT_EQUAL(s.version, 1);
		CU_ASSERT_EQUAL(s.seq_count, 4);
		CU_ASSERT_EQUAL(s.counter_value, b.counter_value);
		CU_ASSERT_EQUAL(s.counter_period_frac_sec, b.counter_period_frac_sec);
		CU_ASSERT_EQUAL(s.time_frac_sec, b.time_frac_sec);
		CU_ASSERT_EQUAL(s.time_maxerror_nanosec, b.time_maxerror_nanosec);
	}
	/* bad arguments */
	CU_ASSERT_EQUAL(vtime_vmclock_read(NULL, &ctr, 0, &rd), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, NULL, 0, &rd), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, NULL), VTIME_EINVAL);
	ctr.read = NULL;
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_snapshot(NULL, 0, &s), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_snapshot(LIVE, 0, NULL), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_convert(NULL, 0, &rd), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_convert(&s, 0, NULL), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_usable(NULL), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_check(NULL, 0), VTIME_EINVAL);
}

/* The reader from counter 0 and across the 2^64 wrap. */
static void test_read_from_zero_and_wrap(void)
{
	static const uint64_t starts[] = { 0, UINT64_MAX - 3000 };
	for (unsigned k = 0; k < 2; k++) {
		vmc_t b = body_for(2599999000ull, starts[k], 1700000000ull, 999999000);
		struct vt_fake_counter fc = { starts[k], 997, 0, NULL, NULL };
		struct vtime_counter ctr = vt_fake_counter_hook(&fc);
		struct vtime_vmclock_reading rd;
		uint64_t prev = 0;

		fresh_page(VTIME_VMCLOCK_COUNTER_X86_TSC, VTIME_VMCLOCK_TIME_TAI);
		(void)vtime_vmclock_publish(LIVE, &b, 0);
		for (int i = 0; i < 20; i++) { /* crosses 2^64 for the second start */
			uint64_t ns, osec;
			uint32_t onsec;
			CU_ASSERT_EQUAL_FATAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), 0);
			CU_ASSERT_EQUAL(oracle_vmclock_time(&b, rd.counter, &osec, &onsec), 0);
			CU_ASSERT(rd.sec == osec && rd.nsec == onsec);
			ns = (rd.sec - 1700000000ull) * 1000000000ull + rd.nsec;
			CU_ASSERT(ns >= prev);
			prev = ns;
		}
		CU_ASSERT(prev >= 999999000ull && prev < 999999000ull + 8000); /* 19 * 997 ticks at 2.6 GHz */
	}
}

static void test_read_refusals(void)
{
	vmc_t b = body_for(1000000000ull, 0, 1700000000ull, 0), s;
	struct vt_fake_counter fc = { 10, 1, 0, NULL, NULL };
	struct vtime_counter ctr = vt_fake_counter_hook(&fc);
	struct vtime_vmclock_reading rd, untouched;
	static const int codes[] = { VTIME_ENODEV, VTIME_ENOTSUP, VTIME_EPROTO, VTIME_ENOCOUNTER, VTIME_EUNRELIABLE,
		                     VTIME_EAGAIN };

	/* the refusals are distinct from each other */
	for (unsigned i = 0; i < 6; i++)
		for (unsigned j = i + 1; j < 6; j++)
			CU_ASSERT_NOT_EQUAL(codes[i], codes[j]);
	memset(&untouched, 0x77, sizeof untouched);
	rd = untouched;

	/* never initialised: no magic */
	memset(g_region, 0, sizeof g_region);
	CU_ASSERT_EQUAL(vtime_vmclock_check(LIVE, 0), VTIME_ENODEV);
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), VTIME_ENODEV);
	CU_ASSERT_EQUAL(vtime_vmclock_snapshot(LIVE, 0, &s), VTIME_ENODEV);
	CU_ASSERT_EQUAL(fc.reads, 0);
#define RESET()                                                                       \
	do {                                                                          \
		fresh_page(VTIME_VMCLOCK_COUNTER_X86_TSC, VTIME_VMCLOCK_TIME_TAI);    \
		(void)vtime_vmclock_publish(LIVE, &b, 0);   \
		CU_ASSERT_EQUAL_FATAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), 0);     \
		rd = untouched;                                                       \
	} while (0)
	/* wrong magic */
	RESET();
	g_region[0] ^= 1;
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), VTIME_ENODEV);
	/* another version */
	RESET();
	g_region[8] = 2;
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), VTIME_ENOTSUP);
	CU_ASSERT_EQUAL(vtime_vmclock_snapshot(LIVE, 0, &s), VTIME_ENOTSUP);
	CU_ASSERT_EQUAL(vtime_vmclock_check(LIVE, 0), VTIME_ENOTSUP);
	RESET();
	g_region[9] = 1; /* version 0x101 */
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), VTIME_ENOTSUP);
	/* size below the structure, or beyond the mapping */
	RESET();
	LIVE->size = vt_le32(0x6f);
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), VTIME_EPROTO);
	CU_ASSERT_EQUAL(vtime_vmclock_snapshot(LIVE, 0, &s), VTIME_EPROTO);
	LIVE->size = vt_le32(0x70);
	CU_ASSERT_EQUAL(vtime_vmclock_check(LIVE, 0x70), 0);
	CU_ASSERT_EQUAL(vtime_vmclock_check(LIVE, 0x6f), VTIME_EPROTO); /* mapping too small */
	LIVE->size = vt_le32(8192);
	CU_ASSERT_EQUAL(vtime_vmclock_check(LIVE, 4096), VTIME_EPROTO);
	CU_ASSERT_EQUAL(vtime_vmclock_check(LIVE, 8192), 0);
	CU_ASSERT_EQUAL(vtime_vmclock_check(LIVE, 0), 0);
	/* marker-only mode: no time, but the snapshot (marker, generation) works */
	memset(g_region, 0, sizeof g_region);
	CU_ASSERT_EQUAL(vtime_vmclock_init(LIVE, 4096, VTIME_VMCLOCK_COUNTER_INVALID, VTIME_VMCLOCK_TIME_UTC), 0);
	(void)vtime_vmclock_publish(LIVE, &b, VTIME_VMCLOCK_EV_DISRUPTED);
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), VTIME_ENOCOUNTER);
	CU_ASSERT_EQUAL(vtime_vmclock_snapshot(LIVE, 0, &s), 0);
	CU_ASSERT_EQUAL(s.disruption_marker, 1);
	CU_ASSERT_EQUAL(vtime_vmclock_usable(&s), VTIME_ENOCOUNTER);
	/* a counter vtime does not know */
	RESET();
	g_region[0x0a] = 7;
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), VTIME_ENOTSUP);
	g_region[0x0a] = VTIME_VMCLOCK_COUNTER_ARM_VCNT;
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), 0);
	rd = untouched;
	/* unreliable: refused; the snapshot still copies it */
	RESET();
	b.clock_status = VTIME_VMCLOCK_STATUS_UNRELIABLE;
	(void)vtime_vmclock_publish(LIVE, &b, 0);
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), VTIME_EUNRELIABLE);
	CU_ASSERT_EQUAL(vtime_vmclock_snapshot(LIVE, 0, &s), 0);
	CU_ASSERT_EQUAL(s.clock_status, VTIME_VMCLOCK_STATUS_UNRELIABLE);
	b.clock_status = 9; /* beyond the ABI's values */
	(void)vtime_vmclock_publish(LIVE, &b, 0);
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), VTIME_ENOTSUP);
	for (uint8_t st = VTIME_VMCLOCK_STATUS_UNKNOWN; st < VTIME_VMCLOCK_STATUS_UNRELIABLE; st++) {
		struct vtime_vmclock_reading ok;
		b.clock_status = st;
		(void)vtime_vmclock_publish(LIVE, &b, 0);
		CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, &ok), 0);
		CU_ASSERT_EQUAL(ok.clock_status, st);
	}
	b.clock_status = VTIME_VMCLOCK_STATUS_SYNCHRONIZED;
	/* smeared or unknown time types */
	for (unsigned tt = 3; tt < 256; tt += (tt < 6 ? 1 : 50)) {
		RESET();
		g_region[0x0b] = (uint8_t)tt;
		CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), VTIME_ENOTSUP);
	}
	CU_ASSERT_EQUAL(vtime_vmclock_init(LIVE, 4096, 1, VTIME_VMCLOCK_TIME_INVALID_SMEARED), VTIME_EINVAL);
	/* a period of 0 (a clock that never advances) */
	RESET();
	b.counter_period_frac_sec = 0;
	(void)vtime_vmclock_publish(LIVE, &b, 0);
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), VTIME_EPROTO);
	b = body_for(1000000000ull, 0, 1700000000ull, 0);
	/* time out of range at this counter */
	RESET();
	b.time_sec = 0;
	b.counter_value = 1000000000000ull; /* the counter (~10) is 1000 s before 1970 */
	(void)vtime_vmclock_publish(LIVE, &b, 0);
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), VTIME_ERANGE);
	b = body_for(1000000000ull, 0, 1700000000ull, 0);
	CU_ASSERT_EQUAL(memcmp(&rd, &untouched, sizeof rd), 0); /* outputs untouched by every refusal */

	/* a writer stuck with seq odd: exactly the bound, then VTIME_EAGAIN */
	RESET();
	LIVE->seq_count = vt_le32(7);
	fc.reads = 0;
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 5, &rd), VTIME_EAGAIN);
	CU_ASSERT_EQUAL(fc.reads, 5);
	fc.reads = 0;
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), VTIME_EAGAIN);
	CU_ASSERT_EQUAL(fc.reads, VTIME_MAX_TRIES);
	CU_ASSERT_EQUAL(vtime_vmclock_snapshot(LIVE, 3, &s), VTIME_EAGAIN);
	CU_ASSERT_EQUAL(memcmp(&rd, &untouched, sizeof rd), 0);
	/* the next publish recovers: (7 + 1) | 1 = 9 -> 10 */
	{
		uint32_t seq;
		seq = vtime_vmclock_publish(LIVE, &b, 0);
		CU_ASSERT_EQUAL(seq, 10);
		CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 1, &rd), 0);
		CU_ASSERT_EQUAL(rd.seq, 10);
	}
#undef RESET
}

/* The writer publishes while the reader is inside its window (the counter
 * hook runs between the body loads and the re-check). */
static vmc_t racer_body;
static int racer_left;

static void racer(struct vt_fake_counter *fc)
{
	(void)fc;
	if (racer_left > 0) {
		racer_left--;
		(void)vtime_vmclock_publish(LIVE, &racer_body, VTIME_VMCLOCK_EV_DISRUPTED);
	}
}

static void test_read_racing_writer(void)
{
	vmc_t b1 = body_for(1000000000ull, 0, 1000, 0);
	struct vt_fake_counter fc = { 1000, 1, 0, racer, NULL };
	struct vtime_counter ctr = vt_fake_counter_hook(&fc);
	struct vtime_vmclock_reading rd;

	fresh_page(VTIME_VMCLOCK_COUNTER_X86_TSC, VTIME_VMCLOCK_TIME_TAI);
	(void)vtime_vmclock_publish(LIVE, &b1, 0);
	racer_body = body_for(2000000000ull, 500, 2000, 0);
	racer_left = 1;
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 0, &rd), 0);
	CU_ASSERT_EQUAL(fc.reads, 2);  /* first window torn by the publish: retried */
	CU_ASSERT_EQUAL(rd.seq, 6);    /* from the new version */
	CU_ASSERT_EQUAL(rd.counter, 1001);
	CU_ASSERT_EQUAL(rd.disruption_marker, 1);
	CU_ASSERT_EQUAL(rd.sec, 2000);
	CU_ASSERT_EQUAL(rd.nsec, 250); /* 501 ticks at 2 GHz */
	racer_left = 1000000;
	fc.reads = 0;
	CU_ASSERT_EQUAL(vtime_vmclock_read(LIVE, &ctr, 50, &rd), VTIME_EAGAIN);
	CU_ASSERT_EQUAL(fc.reads, 50);
	racer_left = 0;
}

/* TAI and UTC from either time type, with and without the offset. */
static void test_tai_utc(void)
{
	vmc_t s = body_for(1000000000ull, 0, 1700000037ull, 0);
	struct vtime_vmclock_reading rd;

	s.seq_count = 8;
	s.leap_indicator = VTIME_VMCLOCK_LEAP_PRE_POS;
	CU_ASSERT_EQUAL(vtime_vmclock_convert(&s, 0, &rd), 0);
	CU_ASSERT(rd.tai_sec == 1700000037ull && rd.utc_sec == 1700000000ull);
	CU_ASSERT_EQUAL(rd.valid, VTIME_VMCLOCK_HAVE_TAI | VTIME_VMCLOCK_HAVE_UTC);
	CU_ASSERT_EQUAL(rd.leap_indicator, VTIME_VMCLOCK_LEAP_PRE_POS); /* passed through */
	CU_ASSERT_EQUAL(rd.seq, 8);
	s.time_type = VTIME_VMCLOCK_TIME_UTC;
	CU_ASSERT_EQUAL(vtime_vmclock_convert(&s, 0, &rd), 0);
	CU_ASSERT(rd.utc_sec == 1700000037ull && rd.tai_sec == 1700000074ull);
	CU_ASSERT_EQUAL(rd.valid, VTIME_VMCLOCK_HAVE_TAI | VTIME_VMCLOCK_HAVE_UTC);
	s.tai_offset_sec = -5; /* negative offsets (before 1972 TAI - UTC was smaller) */
	CU_ASSERT_EQUAL(vtime_vmclock_convert(&s, 0, &rd), 0);
	CU_ASSERT_EQUAL(rd.tai_sec, 1700000032ull);
	s.flags &= ~VTIME_VMCLOCK_FLAG_TAI_OFFSET_VALID;
	CU_ASSERT_EQUAL(vtime_vmclock_convert(&s, 0, &rd), 0);
	CU_ASSERT(rd.valid == VTIME_VMCLOCK_HAVE_UTC && rd.tai_sec == 0);
	s.time_type = VTIME_VMCLOCK_TIME_TAI;
	CU_ASSERT_EQUAL(vtime_vmclock_convert(&s, 0, &rd), 0);
	CU_ASSERT(rd.valid == VTIME_VMCLOCK_HAVE_TAI && rd.utc_sec == 0);
	s.time_type = VTIME_VMCLOCK_TIME_MONOTONIC;
	s.flags |= VTIME_VMCLOCK_FLAG_TAI_OFFSET_VALID;
	CU_ASSERT_EQUAL(vtime_vmclock_convert(&s, 0, &rd), 0);
	CU_ASSERT(rd.valid == 0 && rd.sec == 1700000037ull);
	/* UTC would be before 1970: not valid */
	s = body_for(1000000000ull, 0, 10, 0);
	CU_ASSERT_EQUAL(vtime_vmclock_convert(&s, 0, &rd), 0);
	CU_ASSERT_EQUAL(rd.valid, VTIME_VMCLOCK_HAVE_TAI);
	/* TAI beyond 2^64 s */
	s.time_type = VTIME_VMCLOCK_TIME_UTC;
	s.time_sec = UINT64_MAX - 1;
	CU_ASSERT_EQUAL(vtime_vmclock_convert(&s, 0, &rd), 0);
	CU_ASSERT_EQUAL(rd.valid, VTIME_VMCLOCK_HAVE_UTC);
}

/* ---------------- writer ---------------- */

static void test_writer(void)
{
	vmc_t b = body_for(1000000000ull, 0, 1700000000ull, 0), s;
	uint32_t seq;

	/* init: header, everything else zero, one seq window */
	memset(g_region, 0xa5, sizeof g_region);
	LIVE->seq_count = vt_le32(40); /* whatever the page held: continued from */
	CU_ASSERT_EQUAL(vtime_vmclock_init(LIVE, 4096, VTIME_VMCLOCK_COUNTER_X86_TSC, VTIME_VMCLOCK_TIME_UTC), 0);
	CU_ASSERT_EQUAL(vtime_vmclock_snapshot(LIVE, 0, &s), 0);
	CU_ASSERT_EQUAL(s.seq_count, 42);
	CU_ASSERT(s.magic == VTIME_VMCLOCK_MAGIC && s.size == 4096 && s.version == 1);
	CU_ASSERT(s.counter_id == 1 && s.time_type == VTIME_VMCLOCK_TIME_UTC);
	CU_ASSERT(s.disruption_marker == 0 && s.flags == 0 && s.vm_generation_counter == 0);
	CU_ASSERT(s.clock_status == VTIME_VMCLOCK_STATUS_UNKNOWN && s.counter_period_frac_sec == 0);
	for (size_t i = 0x10; i < 0x70; i++)
		CU_ASSERT_EQUAL(g_region[i], 0);
	CU_ASSERT_EQUAL(g_region[0x70], 0xa5); /* beyond the structure: not the writer's */
	CU_ASSERT_EQUAL(vtime_vmclock_init(LIVE, 0x6f, 1, 0), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_init(NULL, 4096, 1, 0), VTIME_EINVAL);

	/* publish never touches the constant header, whatever body holds */
	b.magic = 1;
	b.size = 2;
	b.version = 3;
	b.counter_id = 4;
	b.time_type = 5;
	b.seq_count = 6;
	b.disruption_marker = 1000;
	b.vm_generation_counter = 1000;
	seq = vtime_vmclock_publish(LIVE, &b, 0);
	CU_ASSERT_EQUAL(seq, 44);
	CU_ASSERT_EQUAL(vtime_vmclock_snapshot(LIVE, 0, &s), 0);
	CU_ASSERT(s.magic == VTIME_VMCLOCK_MAGIC && s.size == 4096 && s.version == 1 && s.counter_id == 1 &&
		  s.time_type == VTIME_VMCLOCK_TIME_UTC);
	CU_ASSERT(s.disruption_marker == 0 && s.vm_generation_counter == 0); /* not from body */
	CU_ASSERT(s.time_sec == b.time_sec && s.counter_period_frac_sec == b.counter_period_frac_sec);
	CU_ASSERT(s.flags == b.flags && s.tai_offset_sec == 37);
	/* the marker changes exactly once per disruption, the generation per restore */
	(void)vtime_vmclock_publish(LIVE, &b, VTIME_VMCLOCK_EV_DISRUPTED);
	CU_ASSERT_EQUAL(vtime_vmclock_snapshot(LIVE, 0, &s), 0);
	CU_ASSERT(s.disruption_marker == 1 && s.vm_generation_counter == 0);
	CU_ASSERT_FALSE(s.flags & VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT);
	(void)vtime_vmclock_publish(LIVE, &b, 0);
	CU_ASSERT_EQUAL(vtime_vmclock_snapshot(LIVE, 0, &s), 0);
	CU_ASSERT_EQUAL(s.disruption_marker, 1); /* a plain update is no disruption */
	(void)vtime_vmclock_publish(LIVE, &b, VTIME_VMCLOCK_EV_NEW_GENERATION);
	CU_ASSERT_EQUAL(vtime_vmclock_snapshot(LIVE, 0, &s), 0);
	CU_ASSERT(s.disruption_marker == 2 && s.vm_generation_counter == 1);
	CU_ASSERT(s.flags & VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT);
	(void)vtime_vmclock_publish(LIVE, &b, VTIME_VMCLOCK_EV_NEW_GENERATION | VTIME_VMCLOCK_EV_DISRUPTED);
	CU_ASSERT_EQUAL(vtime_vmclock_snapshot(LIVE, 0, &s), 0);
	CU_ASSERT(s.disruption_marker == 3 && s.vm_generation_counter == 2); /* one change each, not two */
	/* a restore puts guest memory back (marker 1): the writer continues
	 * from there, never from a counter of its own */
	LIVE->disruption_marker = vt_le64(1);
	LIVE->vm_generation_counter = vt_le64(0);
	(void)vtime_vmclock_publish(LIVE, &b, VTIME_VMCLOCK_EV_NEW_GENERATION);
	CU_ASSERT_EQUAL(vtime_vmclock_snapshot(LIVE, 0, &s), 0);
	CU_ASSERT(s.disruption_marker == 2 && s.vm_generation_counter == 1);
	/* seq continues from junk like pvclock's version */
	LIVE->seq_count = vt_le32(0xffffffffu);
	seq = vtime_vmclock_publish(LIVE, &b, 0);
	CU_ASSERT_EQUAL(seq, 2);
	LIVE->seq_count = vt_le32(0xfffffffeu);
	seq = vtime_vmclock_publish(LIVE, &b, 0);
	CU_ASSERT_EQUAL(seq, 0);
	/* event bits it does not know are ignored */
	CU_ASSERT_EQUAL(vtime_vmclock_snapshot(LIVE, 0, &s), 0);
	seq = vtime_vmclock_publish(LIVE, &b, 0x4);
	CU_ASSERT_EQUAL(seq, 2); /* from 0: (0 + 1) | 1 -> 2 */
	{
		vmc_t t;
		CU_ASSERT_EQUAL(vtime_vmclock_snapshot(LIVE, 0, &t), 0);
		CU_ASSERT(t.disruption_marker == s.disruption_marker && t.vm_generation_counter == s.vm_generation_counter);
	}
}

/* ---------------- byte image (little-endian on every host) ---------------- */

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_byte_image(void)
{
	uint8_t img[0x70];
	vmc_t s, b;

	/* a page written as raw little-endian bytes at the ABI's offsets */
	memset(img, 0, sizeof img);
	put_le(img + 0x00, VTIME_VMCLOCK_MAGIC, 4);
	put_le(img + 0x04, 4096, 4);
	put_le(img + 0x08, 1, 2);
	img[0x0a] = VTIME_VMCLOCK_COUNTER_X86_TSC;
	img[0x0b] = VTIME_VMCLOCK_TIME_TAI;
	put_le(img + 0x0c, 6, 4);
	put_le(img + 0x10, 0x1011121314151617ull, 8);
	put_le(img + 0x18, 0x1ff, 8);
	img[0x22] = VTIME_VMCLOCK_STATUS_FREERUNNING;
	img[0x23] = VTIME_VMCLOCK_SMEARING_UTC_SLS;
	put_le(img + 0x24, (uint16_t)-37, 2);
	img[0x26] = VTIME_VMCLOCK_LEAP_POST_NEG;
	img[0x27] = 29;
	put_le(img + 0x28, 0x2021222324252627ull, 8);
	put_le(img + 0x30, 0x3031323334353637ull, 8);
	put_le(img + 0x38, 0x3839, 8);
	put_le(img + 0x40, 0x4041, 8);
	put_le(img + 0x48, 1700000000ull, 8);
	put_le(img + 0x50, 0x5051525354555657ull, 8);
	put_le(img + 0x58, 0x5859, 8);
	put_le(img + 0x60, 0x6061, 8);
	put_le(img + 0x68, 0x68696a6b6c6d6e6full, 8);
	memset(g_region, 0, sizeof g_region);
	memcpy(g_region, img, sizeof img);
	CU_ASSERT_EQUAL(vtime_vmclock_snapshot(LIVE, 0, &s), 0);
	CU_ASSERT(s.magic == VTIME_VMCLOCK_MAGIC && s.size == 4096 && s.version == 1 && s.seq_count == 6);
	CU_ASSERT(s.counter_id == 1 && s.time_type == 1);
	CU_ASSERT_EQUAL(s.disruption_marker, 0x1011121314151617ull);
	CU_ASSERT_EQUAL(s.flags, 0x1ff);
	CU_ASSERT(s.clock_status == 3 && s.leap_second_smearing_hint == 2);
	CU_ASSERT_EQUAL(s.tai_offset_sec, -37);
	CU_ASSERT(s.leap_indicator == 5 && s.counter_period_shift == 29);
	CU_ASSERT_EQUAL(s.counter_value, 0x2021222324252627ull);
	CU_ASSERT_EQUAL(s.counter_period_frac_sec, 0x3031323334353637ull);
	CU_ASSERT_EQUAL(s.counter_period_esterror_rate_frac_sec, 0x3839);
	CU_ASSERT_EQUAL(s.counter_period_maxerror_rate_frac_sec, 0x4041);
	CU_ASSERT_EQUAL(s.time_sec, 1700000000ull);
	CU_ASSERT_EQUAL(s.time_frac_sec, 0x5051525354555657ull);
	CU_ASSERT_EQUAL(s.time_esterror_nanosec, 0x5859);
	CU_ASSERT_EQUAL(s.time_maxerror_nanosec, 0x6061);
	CU_ASSERT_EQUAL(s.vm_generation_counter, 0x68696a6b6c6d6e6full);

	/* the writer leaves exactly that image: init + a publish of the same
	 * body on a page whose markers hold the image's values */
	memset(g_region, 0, sizeof g_region);
	LIVE->seq_count = vt_le32(3); /* init: (3 + 1) | 1 = 5 -> 6 */
	CU_ASSERT_EQUAL(vtime_vmclock_init(LIVE, 4096, VTIME_VMCLOCK_COUNTER_X86_TSC, VTIME_VMCLOCK_TIME_TAI), 0);
	put_le(g_region + 0x10, 0x1011121314151617ull, 8);
	put_le(g_region + 0x68, 0x68696a6b6c6d6e6full, 8);
	LIVE->seq_count = vt_le32(4); /* so that the publish ends at 6, the image's */
	b = s;
	(void)vtime_vmclock_publish(LIVE, &b, 0);
	CU_ASSERT_EQUAL(memcmp(g_region, img, sizeof img), 0);
	for (unsigned i = 0; i < sizeof img; i++)
		if (g_region[i] != img[i])
			printf("\n  byte 0x%02x: %02x want %02x", i, g_region[i], img[i]);
}

static void test_strerror(void)
{
	const char *a = vtime_strerror(VTIME_ENOCOUNTER), *b = vtime_strerror(VTIME_EUNRELIABLE),
		   *c = vtime_strerror(VTIME_ENOTVALID), *u = vtime_strerror(-12345);
	CU_ASSERT(strcmp(a, u) && strcmp(b, u) && strcmp(c, u));
	CU_ASSERT(strcmp(a, b) && strcmp(b, c) && strcmp(a, c));
	CU_ASSERT_EQUAL(VTIME_ENOCOUNTER, -12);
	CU_ASSERT_EQUAL(VTIME_EUNRELIABLE, -13);
	CU_ASSERT_EQUAL(VTIME_ENOTVALID, -14);
	CU_ASSERT_EQUAL(VTIME_ESTATE, -11); /* existing values unchanged */
}

static const struct vt_test_case cases[] = {
	{ "ABI: 0x70 bytes, every field's offset and size, the constants", test_abi },
	{ "time vs 512-bit oracle: random snapshots, shifts 0..255, both directions", test_time_oracle },
	{ "error bounds vs oracle: flags, rates, saturation", test_error_oracle },
	{ "time and bounds: hand-checked edges", test_time_edges },
	{ "runs from counter 0 and across 2^64: monotonic, exact, bound grows", test_runs },
	{ "set_period: largest shift, exact period, rounded-up rates", test_set_period },
	{ "set_time: exact round trip of (sec, nsec)", test_set_time },
	{ "reader: basic reading, snapshot, convert, bad arguments", test_read_basic },
	{ "reader from counter 0 and across 2^64", test_read_from_zero_and_wrap },
	{ "reader refusals: magic, version, size, INVALID, UNRELIABLE, types, stuck seq", test_read_refusals },
	{ "reader vs a publish inside its window: retried, bounded", test_read_racing_writer },
	{ "TAI and UTC with the offset and leap indicator", test_tai_utc },
	{ "writer: init, constant header, markers, generation, seq", test_writer },
	{ "byte image: little-endian page read and written", test_byte_image },
	{ "new error codes and their texts", test_strerror },
	{ NULL, NULL },
};

int main(void)
{
	const struct vt_test_suite suites[] = { { "vmclock", cases }, { NULL, NULL } };
	vt_rng_seed();
	return vt_test_main(suites);
}
