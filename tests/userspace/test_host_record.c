/* SPDX-License-Identifier: MIT */
/* The real host pvclock record on this machine, read through
 * vtime_pvclock_read(): its rate agrees with CLOCK_MONOTONIC within 1 ppm
 * over at least 200 ms and it never goes backwards. Exits 77 (skip) with the
 * reason when the machine has no host page. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <vtime/clock.h>
#include <vtime/linux.h>
#include <vtime/vtime.h>

#include "vt_test.h"

static struct vtime_host_page hp;
static struct vtime_counter ctr;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One (kvmclock, CLOCK_MONOTONIC) pair: the best-bracketed of 20 tries. */
static void pair(uint64_t *kvm, uint64_t *mono)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 20; i++) {
		struct vtime_pvclock_reading rd;
		uint64_t a = mono_ns();
		int err = vtime_pvclock_read(hp.rec, &ctr, 0, &rd);
		uint64_t b = mono_ns();
		CU_ASSERT_EQUAL_FATAL(err, 0);
		if (b - a < best) {
			best = b - a;
			*kvm = rd.ns;
			*mono = a + (b - a) / 2;
		}
	}
}

static void test_rate_and_monotonic(void)
{
	uint64_t k0, m0, k1, m1, last = 0, reads = 0, backwards = 0;
	double ppm;

	pair(&k0, &m0);
	/* Read continuously for >= 250 ms: every reading must be >= the last. */
	while (mono_ns() - m0 < 250000000u) {
		struct vtime_pvclock_reading rd;
		CU_ASSERT_EQUAL_FATAL(vtime_pvclock_read(hp.rec, &ctr, 0, &rd), 0);
		if (rd.ns < last)
			backwards++;
		last = rd.ns;
		reads++;
	}
	pair(&k1, &m1);
	CU_ASSERT(k1 >= last);
	CU_ASSERT(m1 - m0 >= 200000000u);
	ppm = ((double)(k1 - k0) / (double)(m1 - m0) - 1.0) * 1e6;
	printf("\n  %llu reads over %.1f ms, %llu backwards; rate vs CLOCK_MONOTONIC %+.3f ppm; "
	       "offset kvmclock - CLOCK_MONOTONIC %+.3f ms\n",
	       (unsigned long long)reads, (m1 - m0) / 1e6, (unsigned long long)backwards, ppm,
	       ((double)k1 - (double)m1) / 1e6);
	CU_ASSERT_EQUAL(backwards, 0);
	CU_ASSERT(ppm < 1.0 && ppm > -1.0);
}

/* The frequency recovered from the record is a plausible TSC (10 MHz..10 GHz)
 * and the record is CPU 0's page-aligned first slot. */
static void test_record_sane(void)
{
	struct vtime_pvclock_vcpu_time_info r;
	struct vtime_scale s;
	uint64_t hz;

	CU_ASSERT_EQUAL_FATAL(vtime_pvclock_snapshot(hp.rec, 0, &r), 0);
	s.mul = r.tsc_to_system_mul;
	s.shift = r.tsc_shift;
	hz = vtime_scale_source_hz(&s);
	CU_ASSERT(hz > 10000000u && hz < 10000000000u);
	CU_ASSERT_EQUAL(hp.addr % 4096u, 0);
	CU_ASSERT(hp.nrecords >= 1 && hp.nrecords <= 64);
	{
		const volatile struct vtime_pvclock_vcpu_time_info *r = NULL;
		CU_ASSERT_EQUAL(vtime_host_page_record(&hp, 0, &r), 0);
		CU_ASSERT_PTR_EQUAL(r, hp.rec);
		CU_ASSERT_EQUAL(vtime_host_page_record(&hp, hp.nrecords, &r), VTIME_ERANGE);
		CU_ASSERT_EQUAL(vtime_host_page_record(&hp, 0, NULL), VTIME_EINVAL);
	}
}

int main(void)
{
	static const struct vt_test_case cases[] = {
		{ "record sane", test_record_sane },
		{ "rate within 1 ppm of CLOCK_MONOTONIC, never backwards", test_rate_and_monotonic },
		{ NULL, NULL },
	};
	static const struct vt_test_suite suites[] = { { "host pvclock record", cases }, { NULL, NULL } };
	int err = vtime_host_page_find(&hp);

	if (err) {
		printf("SKIP: no host pvclock page on this machine: %s\n", hp.why);
		return 77;
	}
	if (vtime_counter_get(VTIME_COUNTER_ORDERED, &ctr) != 0)
		return 2;
	return vt_test_main(suites);
}
