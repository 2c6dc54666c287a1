/* SPDX-License-Identifier: MIT */
/* Scale conformance: every row of time-scale-vectors.tsv (KVM/Xen values),
 * and randomised init/apply/from_hz against the 128-bit oracle. */
#include <stdio.h>
#include <string.h>
#include <vtime/error.h>
#include <vtime/pvclock.h>
#include <vtime/scale.h>

#include "vt_oracle.h"
#include "vt_test.h"

#ifndef VT_VECTORS_TSV
#error "VT_VECTORS_TSV must name tests/time-scale-vectors.tsv"
#endif

static void test_vectors(void)
{
	FILE *f = fopen(VT_VECTORS_TSV, "r");
	char line[256], dir[32];
	unsigned long long from, to, mul;
	int shift, rows = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof line, f)) {
		struct vtime_scale s;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		CU_ASSERT_EQUAL_FATAL(sscanf(line, "%31s %llu %llu %d %llu", dir, &from, &to, &shift, &mul), 5);
		CU_ASSERT_EQUAL(vtime_scale_init(&s, from, to), 0);
		CU_ASSERT_EQUAL(s.shift, shift);
		CU_ASSERT_EQUAL(s.mul, mul);
		if (s.shift != shift || s.mul != mul)
			printf("\n  mismatch %s %llu->%llu: got (%d, %u) want (%d, %llu)", dir, from, to, s.shift,
			       s.mul, shift, mul);
		rows++;
	}
	fclose(f);
	CU_ASSERT(rows >= 18);
}

static void test_from_hz(void)
{
	struct vtime_scale s = { 3303822267u, -1 };
	CU_ASSERT_EQUAL(vtime_scale_source_hz(&s), 2599999000ull);
	CU_ASSERT_EQUAL(vtime_scale_init(&s, 3000000000ull, VTIME_NSEC_PER_SEC), 0);
	CU_ASSERT_EQUAL(vtime_scale_source_hz(&s), 3000000000ull);
	s.mul = 0;
	CU_ASSERT_EQUAL(vtime_scale_source_hz(&s), 0);
}

static void test_init_errors(void)
{
	struct vtime_scale s;
	CU_ASSERT_EQUAL(vtime_scale_init(&s, 0, 1000), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_scale_init(&s, 1000, 0), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_scale_init(NULL, 1000, 1000), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_scale_init(&s, 1, UINT64_MAX), VTIME_ERANGE);
	CU_ASSERT_STRING_EQUAL(vtime_strerror(VTIME_ERANGE), "value or ratio not representable");
}

/* The oracle's limbs agree with the compiler's __int128 where it exists. */
static void test_oracle_selfcheck(void)
{
#ifdef __SIZEOF_INT128__
	unsigned long n = vt_test_iters(20000);
	for (unsigned long i = 0; i < n; i++) {
		uint64_t a = vt_rng_delta(), b = vt_rng_mag(), d = vt_rng_mag();
		unsigned sh = (unsigned)(vt_rng() % 64);
		unsigned __int128 p = (unsigned __int128)a * b;
		o128 o = o128_mul(a, b);
		CU_ASSERT_EQUAL_FATAL(o128_lo64(o), (uint64_t)p);
		CU_ASSERT_EQUAL_FATAL(((uint64_t)o.w[3] << 32 | o.w[2]), (uint64_t)(p >> 64));
		CU_ASSERT_EQUAL_FATAL(o128_lo64(o128_shr(o, sh)), (uint64_t)(p >> sh));
		CU_ASSERT_EQUAL_FATAL(o128_lo64(o128_div(o, d)), (uint64_t)(p / d));
	}
#else
	/* No __int128 here (-m32): check the limbs against known products. */
	o128 o = o128_mul(UINT64_MAX, UINT64_MAX); /* 2^128 - 2^65 + 1 */
	CU_ASSERT_EQUAL(o128_lo64(o), 1u);
	CU_ASSERT_EQUAL(((uint64_t)o.w[3] << 32 | o.w[2]), UINT64_MAX - 1);
	CU_ASSERT_EQUAL(o128_lo64(o128_div(o, UINT64_MAX)), UINT64_MAX);
	CU_ASSERT_EQUAL(o128_lo64(o128_shr(o128_mul(3303822267u, 1ull << 40), 32)), 3303822267ull << 8);
#endif
}

/* The oracle itself reproduces the vector file (so randomised agreement
 * with it means agreement with KVM). */
static void test_oracle_vectors(void)
{
	FILE *f = fopen(VT_VECTORS_TSV, "r");
	char line[256], dir[32];
	unsigned long long from, to, mul;
	int shift, rows = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof line, f)) {
		int osh;
		uint32_t omul;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		CU_ASSERT_EQUAL_FATAL(sscanf(line, "%31s %llu %llu %d %llu", dir, &from, &to, &shift, &mul), 5);
		oracle_scale_init(from, to, &osh, &omul);
		CU_ASSERT_EQUAL(osh, shift);
		CU_ASSERT_EQUAL(omul, mul);
		rows++;
	}
	fclose(f);
	CU_ASSERT(rows >= 18);
}

static void check_init(uint64_t from, uint64_t to)
{
	struct vtime_scale s = { 12345, 7 };
	int osh, rc = vtime_scale_init(&s, from, to);
	uint32_t omul;

	oracle_scale_init(from, to, &osh, &omul);
	if (osh < -63 || osh > 63) {
		CU_ASSERT_EQUAL(rc, VTIME_ERANGE);
		return;
	}
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(s.shift, osh);
	CU_ASSERT_EQUAL(s.mul, omul);
	CU_ASSERT(s.mul >= 0x7fffffffu); /* normalised: never 0, about 31 significant bits */
	if (rc != 0 || s.shift != osh || s.mul != omul)
		printf("\n  init(%llu, %llu): got rc %d (%d, %u) want (%d, %u)", (unsigned long long)from,
		       (unsigned long long)to, rc, s.shift, s.mul, osh, omul);
}

static void test_init_random(void)
{
	unsigned long n = vt_test_iters(20000);
	for (unsigned long i = 0; i < n; i++) {
		uint64_t f = vt_rng_mag(), t = vt_rng_mag();
		check_init(f, t);
		/* realistic TSC rates both ways */
		f = 1000000ull + vt_rng() % 10000000000000ull;
		check_init(f, VTIME_NSEC_PER_SEC);
		check_init(VTIME_NSEC_PER_SEC, f);
	}
}

/* Every power-of-two ratio, both ways: covers the extreme shifts. */
static void test_init_shift_limits(void)
{
	struct vtime_scale s;
	int lo = 0, hi = 0;

	for (unsigned a = 0; a < 64; a++) {
		for (unsigned b = 0; b < 64; b++) {
			uint64_t f = 1ull << a, t = 1ull << b;
			check_init(f, t);
			check_init(f | (f - 1), t);        /* all ones below the top bit */
			check_init(f, t | (t - 1));
			if (vtime_scale_init(&s, f, t) == 0) {
				lo = s.shift < lo ? s.shift : lo;
				hi = s.shift > hi ? s.shift : hi;
			}
		}
	}
	/* Widest accepted: 2^64-1 Hz -> 1 Hz is shift -62; 1 Hz -> 2^62 Hz is 63. */
	CU_ASSERT_EQUAL(vtime_scale_init(&s, UINT64_MAX, 1), 0);
	CU_ASSERT_EQUAL(s.shift, -62);
	CU_ASSERT_EQUAL(s.mul, 0x80000000u);
	CU_ASSERT_EQUAL(vtime_scale_init(&s, 1, 1ull << 62), 0);
	CU_ASSERT_EQUAL(s.shift, 63);
	CU_ASSERT_EQUAL(s.mul, 0x80000000u);
	CU_ASSERT_EQUAL(vtime_scale_init(&s, 1, 1ull << 63), VTIME_ERANGE);
	CU_ASSERT_EQUAL(lo, -62);
	CU_ASSERT_EQUAL(hi, 63);
}

static void check_apply(uint64_t delta, int shift, uint32_t mul)
{
	struct vtime_scale s = { mul, (int8_t)shift };
	uint64_t got = vtime_scale_apply(&s, delta), want = oracle_scale_apply(delta, shift, mul);
	CU_ASSERT_EQUAL(got, want);
	if (got != want)
		printf("\n  apply(%llu, shift %d, mul %u) = %llu want %llu", (unsigned long long)delta, shift, mul,
		       (unsigned long long)got, (unsigned long long)want);
}

static void test_apply_random(void)
{
	unsigned long n = vt_test_iters(20000);
	static const uint32_t muls[] = { 1, 0x80000000u, 3303822267u, 0xffffffffu };
	for (unsigned long i = 0; i < n; i++) {
		uint64_t d = vt_rng_delta();
		uint32_t mul = (i & 3) ? (uint32_t)vt_rng() : muls[(i >> 2) & 3];
		int shift = (int)(vt_rng() % 127) - 63; /* the whole valid range */
		check_apply(d, shift, mul);
		check_apply(d, (int)(vt_rng() % 33) - 12, mul); /* pvclock's range, denser */
	}
	for (int sh = -128; sh <= 127; sh++) { /* every int8 shift, incl. the undefined-in-C ones */
		check_apply(UINT64_MAX, sh, 0xffffffffu);
		check_apply(1, sh, 0xffffffffu);
		check_apply(0, sh, 0xffffffffu);
	}
}

/* Deltas near 2^64 and the product's top: the 96-bit product is needed. */
static void test_apply_edges(void)
{
	struct vtime_scale s = { 0xffffffffu, 0 };
	/* floor((2^64-1)(2^32-1) / 2^32) = 2^64 - 2^32 - 1 + floor((2^32-1)/2^32)... exact: */
	CU_ASSERT_EQUAL(vtime_scale_apply(&s, UINT64_MAX), 0xfffffffeffffffffull);
	s.mul = 0x80000000u; /* one half */
	CU_ASSERT_EQUAL(vtime_scale_apply(&s, UINT64_MAX), UINT64_MAX >> 1);
	s.shift = 1; /* x2 then /2: wraps mod 2^64 first like the reference */
	CU_ASSERT_EQUAL(vtime_scale_apply(&s, UINT64_MAX), (UINT64_MAX << 1) >> 1);
	s.shift = 64; /* out of C's range: defined as all bits shifted out */
	CU_ASSERT_EQUAL(vtime_scale_apply(&s, UINT64_MAX), 0);
	s.shift = -64;
	CU_ASSERT_EQUAL(vtime_scale_apply(&s, UINT64_MAX), 0);
	/* a plain 64-bit (d * mul) >> 32 would be wrong here */
	s.shift = -1;
	s.mul = 3303822267u;
	CU_ASSERT_EQUAL(vtime_scale_apply(&s, 2599999000ull * 3600), oracle_scale_apply(2599999000ull * 3600, -1, 3303822267u));
	CU_ASSERT(vtime_scale_apply(&s, 2599999000ull * 3600) != ((2599999000ull * 3600 / 2 * 3303822267ull) >> 32));
}

static void test_from_hz_random(void)
{
	unsigned long n = vt_test_iters(20000);
	for (unsigned long i = 0; i < n; i++) {
		uint64_t hz = 1000 + vt_rng() % 4000000000000ull; /* 1 kHz .. 4 THz */
		struct vtime_scale s;
		uint64_t back;
		CU_ASSERT_EQUAL_FATAL(vtime_scale_init(&s, hz, VTIME_NSEC_PER_SEC), 0);
		back = vtime_scale_source_hz(&s);
		CU_ASSERT_EQUAL(back, oracle_from_hz(s.shift, s.mul));
		/* mul rounds down, so the recovered rate is at or above the true
		 * (pre-shifted) one, by at most a few parts in 2^31 */
		CU_ASSERT(back + (back >> 29) + 2 >= hz && back <= hz + (hz >> 29) + 2);
		/* arbitrary records, incl. absurd shifts */
		s.mul = (uint32_t)vt_rng();
		s.shift = (int8_t)vt_rng();
		CU_ASSERT_EQUAL(vtime_scale_source_hz(&s), oracle_from_hz(s.shift, s.mul));
	}
}

/* VTIME_PVCLOCK_HZ_MIN..MAX are exactly the rates whose TSC-to-ns shift the
 * reader accepts: each edge inside, one Hz beyond outside, and a sweep of
 * rates between (log-spaced) all inside. */
static void test_publishable_rates(void)
{
	struct vtime_scale s;
	CU_ASSERT_EQUAL(vtime_scale_init(&s, VTIME_PVCLOCK_HZ_MIN, VTIME_NSEC_PER_SEC), 0);
	CU_ASSERT_EQUAL(s.shift, VTIME_PVCLOCK_SHIFT_MAX);
	CU_ASSERT_EQUAL(vtime_scale_init(&s, VTIME_PVCLOCK_HZ_MIN - 1, VTIME_NSEC_PER_SEC), 0);
	CU_ASSERT(s.shift > VTIME_PVCLOCK_SHIFT_MAX);
	CU_ASSERT_EQUAL(vtime_scale_init(&s, VTIME_PVCLOCK_HZ_MAX, VTIME_NSEC_PER_SEC), 0);
	CU_ASSERT_EQUAL(s.shift, VTIME_PVCLOCK_SHIFT_MIN);
	CU_ASSERT_EQUAL(vtime_scale_init(&s, VTIME_PVCLOCK_HZ_MAX + 1, VTIME_NSEC_PER_SEC), 0);
	CU_ASSERT(s.shift < VTIME_PVCLOCK_SHIFT_MIN);
	for (uint64_t hz = VTIME_PVCLOCK_HZ_MIN; hz <= VTIME_PVCLOCK_HZ_MAX && hz >= VTIME_PVCLOCK_HZ_MIN;
	     hz += hz / 1000 + 1) {
		CU_ASSERT_FATAL(vtime_scale_init(&s, hz, VTIME_NSEC_PER_SEC) == 0);
		CU_ASSERT(s.shift >= VTIME_PVCLOCK_SHIFT_MIN && s.shift <= VTIME_PVCLOCK_SHIFT_MAX);
	}
}

static const struct vt_test_case cases[] = {
	{ "oracle: 128-bit limbs self-check", test_oracle_selfcheck },
	{ "oracle: reproduces the vectors", test_oracle_vectors },
	{ "init vs oracle, random", test_init_random },
	{ "init at the shift range limits", test_init_shift_limits },
	{ "apply vs oracle, random (deltas near 2^64, every shift)", test_apply_random },
	{ "apply edge values", test_apply_edges },
	{ "from_hz vs oracle, random", test_from_hz_random },
	{ "kvm/xen conformance vectors", test_vectors },
	{ "frequency recovery in Hz", test_from_hz },
	{ "init rejects bad input", test_init_errors },
	{ "publishable rates: VTIME_PVCLOCK_HZ_MIN..MAX", test_publishable_rates },
	{ NULL, NULL },
};

int main(void)
{
	vt_rng_seed();
	const struct vt_test_suite suites[] = { { "scale", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
