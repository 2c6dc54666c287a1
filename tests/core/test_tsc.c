/* SPDX-License-Identifier: MIT */
/* Guest TSC ratios (VMX 48 / SVM 32 fraction bits) against the oracle. */
#include <vtime/error.h>
#include <vtime/tsc.h>

#include "vt_oracle.h"
#include "vt_test.h"

static const unsigned fracs[] = { VTIME_TSC_FRAC_BITS_VMX, VTIME_TSC_FRAC_BITS_SVM };

static uint64_t ratio_max(unsigned n)
{
	return n == 48 ? UINT64_MAX : 0xffffffffffull;
}

static void check_init(uint64_t guest, uint64_t host, unsigned n)
{
	uint64_t r = 0x5a5a, want;
	int rc = vtime_tsc_ratio_init(&r, guest, host, n);

	if (!oracle_tsc_ratio(guest, host, n, &want) || want == 0 || want >= ratio_max(n)) {
		CU_ASSERT_EQUAL(rc, VTIME_ERANGE);
		CU_ASSERT_EQUAL(r, 0x5a5a); /* untouched on error */
		return;
	}
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(r, want);
}

static void test_init_random(void)
{
	unsigned long n = vt_test_iters(20000);
	for (unsigned long i = 0; i < n; i++) {
		for (unsigned f = 0; f < 2; f++) {
			/* realistic kHz (1 MHz .. 10 GHz) and arbitrary magnitudes */
			check_init(1000 + vt_rng() % 10000000, 1000 + vt_rng() % 10000000, fracs[f]);
			check_init(vt_rng_mag(), vt_rng_mag(), fracs[f]);
		}
	}
}

static void test_init_limits(void)
{
	uint64_t r;

	for (unsigned f = 0; f < 2; f++) {
		unsigned n = fracs[f];
		/* ratio 0: guest far slower than the host */
		CU_ASSERT_EQUAL(vtime_tsc_ratio_init(&r, 1, (1ull << n) + 1, n), VTIME_ERANGE);
		CU_ASSERT_EQUAL(vtime_tsc_ratio_init(&r, 1, 1ull << n, n), 0);
		CU_ASSERT_EQUAL(r, 1u);
		/* quotient beyond 64 bits */
		CU_ASSERT_EQUAL(vtime_tsc_ratio_init(&r, UINT64_MAX, 1, n), VTIME_ERANGE);
		/* equal rates: the default ratio */
		CU_ASSERT_EQUAL(vtime_tsc_ratio_init(&r, 2599999, 2599999, n), 0);
		CU_ASSERT_EQUAL(r, vtime_tsc_ratio_default(n));
		/* bad arguments */
		CU_ASSERT_EQUAL(vtime_tsc_ratio_init(NULL, 1, 1, n), VTIME_EINVAL);
		CU_ASSERT_EQUAL(vtime_tsc_ratio_init(&r, 0, 1, n), VTIME_EINVAL);
		CU_ASSERT_EQUAL(vtime_tsc_ratio_init(&r, 1, 0, n), VTIME_EINVAL);
	}
	CU_ASSERT_EQUAL(vtime_tsc_ratio_init(&r, 1, 1, 40), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_tsc_ratio_init(&r, 1, 1, 0), VTIME_EINVAL);
	/* at and just below the maximum: SVM 2^40-1, VMX 2^64-1 */
	CU_ASSERT_EQUAL(vtime_tsc_ratio_init(&r, 0xffffffffffull, 1ull << 32, 32), VTIME_ERANGE);
	CU_ASSERT_EQUAL(vtime_tsc_ratio_init(&r, 0xfffffffffeull, 1ull << 32, 32), 0);
	CU_ASSERT_EQUAL(r, 0xfffffffffeull);
	CU_ASSERT_EQUAL(vtime_tsc_ratio_init(&r, 256, 1, 32), VTIME_ERANGE); /* 256x: 2^40 */
	CU_ASSERT_EQUAL(vtime_tsc_ratio_init(&r, 255, 1, 32), 0);
	CU_ASSERT_EQUAL(vtime_tsc_ratio_init(&r, UINT64_MAX, 1ull << 48, 48), VTIME_ERANGE);
	CU_ASSERT_EQUAL(vtime_tsc_ratio_init(&r, UINT64_MAX - 1, 1ull << 48, 48), 0);
	CU_ASSERT_EQUAL(r, UINT64_MAX - 1);
	CU_ASSERT_EQUAL(vtime_tsc_ratio_init(&r, 65536, 1, 48), VTIME_ERANGE); /* 2^64 */
	CU_ASSERT_EQUAL(vtime_tsc_ratio_init(&r, 65535, 1, 48), 0);
}

static void test_apply(void)
{
	unsigned long n = vt_test_iters(20000);

	for (unsigned f = 0; f < 2; f++) {
		unsigned fb = fracs[f];
		uint64_t r;
		/* the default ratio is the identity, from 0 and across 2^64 */
		for (uint64_t t = 0; t < 1000; t++) {
			CU_ASSERT_EQUAL(vtime_tsc_ratio_apply(t, vtime_tsc_ratio_default(fb), fb), t);
			CU_ASSERT_EQUAL(vtime_tsc_ratio_apply(UINT64_MAX - t, vtime_tsc_ratio_default(fb), fb),
					UINT64_MAX - t);
		}
		/* a 2.0 GHz guest on a 2.599999 GHz host: one second of host ticks */
		CU_ASSERT_EQUAL_FATAL(vtime_tsc_ratio_init(&r, 2000000, 2599999, fb), 0);
		CU_ASSERT(vtime_tsc_ratio_apply(2599999000ull, r, fb) <= 2000000000ull);
		CU_ASSERT(vtime_tsc_ratio_apply(2599999000ull, r, fb) >= 2000000000ull - 1);
		for (unsigned long i = 0; i < n; i++) {
			uint64_t t = vt_rng_delta(), ratio = vt_rng_mag() % ratio_max(fb);
			CU_ASSERT_EQUAL(vtime_tsc_ratio_apply(t, ratio, fb), oracle_tsc_apply(t, ratio, fb));
		}
	}
	/* monotonic across the host counter's wrap region (before the wrap) */
	{
		uint64_t r, prev = 0;
		CU_ASSERT_EQUAL_FATAL(vtime_tsc_ratio_init(&r, 1000000, 2599999, 48), 0);
		for (uint64_t t = UINT64_MAX - 100000; t != 0; t += 7) {
			uint64_t g = vtime_tsc_ratio_apply(t, r, 48);
			CU_ASSERT_FATAL(g >= prev);
			prev = g;
			if (t > UINT64_MAX - 7)
				break;
		}
	}
}

static const struct vt_test_case cases[] = {
	{ "ratio init vs oracle, random (48 and 32 bits)", test_init_random },
	{ "ratio init rejects 0, >= max and bad args", test_init_limits },
	{ "ratio apply vs oracle, identity, wrap region", test_apply },
	{ NULL, NULL },
};

int main(void)
{
	const struct vt_test_suite suites[] = { { "tsc", cases }, { NULL, NULL } };
	vt_rng_seed();
	return vt_test_main(suites);
}
