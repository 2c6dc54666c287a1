/* SPDX-License-Identifier: MIT */
/* Runtime health with a simulated host page in memory: the clock starts on
 * the counter line, the page drops TSC_STABLE and vtime leaves the line
 * (per-CPU records or clock_gettime) without ever going backwards or away
 * from CLOCK_MONOTONIC, and comes back when the bit returns. A writer stuck
 * at an odd version ends the pvclock source. kvmclock values run from 0 and
 * across 2^64. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <vtime/clock.h>
#include <vtime/linux.h>
#include <vtime/vtime.h>

#include "vt_clock.h"
#include "vt_test.h"
#include "vt_user_counter.h"

static unsigned char page[4096] __attribute__((aligned(4096)));
static unsigned ncpu;
static struct vtime_scale sc;
static uint64_t last_out;
static bool have_rdtscp; /* the per-CPU records need rdtscp's processor id */

static volatile struct vtime_pvclock_vcpu_time_info *rec(unsigned i)
{
	return (volatile struct vtime_pvclock_vcpu_time_info *)(page + 64 * i);
}

static uint64_t mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* One bracketed (counter, CLOCK_MONOTONIC) pair: the tightest of 20. */
static void pair(uint64_t *x, uint64_t *n)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 20; i++) {
		uint64_t a = vt_ctr_ordered(), m = mono(), b = vt_ctr_ordered();
		if (b - a < best) {
			best = b - a;
			*x = a + (b - a) / 2;
			*n = m;
		}
	}
}

/* The counter's frequency: 100 ms against CLOCK_MONOTONIC. */
static uint64_t measure_hz(void)
{
	uint64_t x0, n0, x1, n1;
	struct timespec ts = { 0, 100000000 };

	pair(&x0, &n0);
	nanosleep(&ts, NULL);
	pair(&x1, &n1);
	return (uint64_t)((double)(x1 - x0) * 1e9 / (double)(n1 - n0));
}

/* Every CPU's record: (tsc now, system_time), flags. */
static void publish_all(uint64_t tsc, uint64_t system_time, uint8_t flags)
{
	struct vtime_pvclock_vcpu_time_info b;

	memset(&b, 0, sizeof b);
	b.tsc_timestamp = tsc;
	b.system_time = system_time;
	b.tsc_to_system_mul = sc.mul;
	b.tsc_shift = sc.shift;
	b.flags = flags;
	for (unsigned i = 0; i < ncpu; i++)
		vtime_pvclock_publish(rec(i), &b);
}

static void set_flags(uint8_t flags)
{
	struct vtime_pvclock_vcpu_time_info b;

	for (unsigned i = 0; i < ncpu; i++) {
		CU_ASSERT_EQUAL_FATAL(vtime_pvclock_snapshot(rec(i), 0, &b), 0);
		b.flags = flags;
		vtime_pvclock_publish(rec(i), &b);
	}
}

/* Reads for ms milliseconds: never backwards, within 50 us of CLOCK_MONOTONIC. */
static void read_for(unsigned ms, const char *phase)
{
	uint64_t end = mono() + ms * 1000000ull, n = 0, back = 0;
	int64_t worst = 0;

	while (mono() < end) {
		uint64_t a = mono(), v = vtime_now_ns(), b = mono();
		int64_t e = (int64_t)(v - (a + (b - a) / 2));
		if (v < last_out)
			back++;
		last_out = v;
		if (b - a < 5000) {
			if (e < 0)
				e = -e;
			if (e > worst)
				worst = e;
		}
		n++;
	}
	printf("\n  %-28s %8llu reads, %llu backwards, worst |vtime - CLOCK_MONOTONIC| %lld ns", phase,
	       (unsigned long long)n, (unsigned long long)back, (long long)worst);
	CU_ASSERT_EQUAL(back, 0);
	CU_ASSERT(worst < 50000);
}

static void start(uint64_t kvm_start)
{
	unsetenv("VTIME_CLOCK_SOURCE");
	memset(page, 0, sizeof page);
	publish_all(vt_ctr_ordered(), kvm_start, VTIME_PVCLOCK_TSC_STABLE);
	vt_clock_test_page((const volatile struct vtime_pvclock_vcpu_time_info *)page, ncpu);
	vt_clock_reset();
	last_out = 0;
}

static void run_stable_drop(uint64_t kvm_start)
{
	struct vtime_clock_info ci;

	start(kvm_start);
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	CU_ASSERT_STRING_EQUAL(ci.source_name, "tsc");
	CU_ASSERT(strstr(ci.freq_source, "pvclock") != NULL);
	CU_ASSERT(ci.page_stable);
	read_for(100, "stable page, counter line");

	set_flags(0); /* the host no longer vouches for one TSC */
	read_for(150, "TSC_STABLE dropped");
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	CU_ASSERT(ci.source != VTIME_SOURCE_TSC);
	if (have_rdtscp)
		CU_ASSERT_STRING_EQUAL(ci.source_name, "pvclock"); /* per-CPU records via rdtscp */
	CU_ASSERT_EQUAL(ci.fallbacks, 1);
	CU_ASSERT(strstr(ci.fallback_reason, "TSC_STABLE") != NULL);
	CU_ASSERT(!ci.page_stable);

	set_flags(VTIME_PVCLOCK_TSC_STABLE); /* and back */
	read_for(150, "TSC_STABLE back");
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	CU_ASSERT_STRING_EQUAL(ci.source_name, "tsc");
	CU_ASSERT(strstr(ci.why, "TSC_STABLE again") != NULL);
}

static void test_stable_drop_from_zero(void)
{
	run_stable_drop(0);
}

static void test_stable_drop_across_wrap(void)
{
	/* kvmclock 100 ms before 2^64: it wraps while the per-CPU records are in use */
	run_stable_drop(UINT64_MAX - 100000000ull);
}

/* A page without TSC_STABLE from the start picks the per-CPU records; a
 * writer stuck at an odd version then ends that source. */
static void run_stuck(uint64_t kvm_start)
{
	struct vtime_clock_info ci;

	start(kvm_start);
	set_flags(0);
	vt_clock_reset();
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	if (have_rdtscp) {
		CU_ASSERT_STRING_EQUAL(ci.source_name, "pvclock");
		CU_ASSERT(strstr(ci.why, "no TSC_STABLE") != NULL);
	}
	read_for(60, "unstable page");
	for (unsigned i = 0; i < ncpu; i++)
		rec(i)->version |= 1u; /* writer died mid-update */
	read_for(60, "records stuck odd");
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	CU_ASSERT_STRING_EQUAL(ci.source_name, "clock_gettime");
	if (have_rdtscp)
		CU_ASSERT(strstr(ci.fallback_reason, "pvclock records") != NULL);
}

static void test_stuck_from_zero(void)
{
	run_stuck(0);
}

static void test_stuck_across_wrap(void)
{
	run_stuck(UINT64_MAX - 30000000ull);
}

/* The host page claims a frequency 5000 ppm off the counter's real one:
 * the claim is refused (checked against CLOCK_MONOTONIC at start-up), the
 * frequency is measured instead, and the time is never off meanwhile. */
static void test_rate_claim_refused(void)
{
	struct vtime_clock_info ci;
	struct vtime_scale real = sc;
	uint64_t hz = vtime_scale_source_hz(&real);

	CU_ASSERT_EQUAL_FATAL(vtime_scale_init(&sc, hz + hz / 200, VTIME_NSEC_PER_SEC), 0);
	/* the start-up check is a measurement: a start preempted throughout
	 * cannot decide, so allow it three starts */
	for (int i = 0; i < 3; i++) {
		start(1000000000ull);
		CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
		if (ci.nominal_hz == 0)
			break;
	}
	sc = real;
	printf("\n  frequency from: %s", ci.freq_source);
	CU_ASSERT(strstr(ci.freq_source, "is off by +") != NULL);
	CU_ASSERT_EQUAL(ci.nominal_hz, 0);
	read_for(300, "page 5000 ppm off");
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	CU_ASSERT_STRING_EQUAL(ci.source_name, "tsc"); /* on the measured line by now */
	printf("\n  measured %.0f Hz, counter %llu Hz", ci.freq_hz, (unsigned long long)hz);
	CU_ASSERT(ci.freq_hz > (double)hz * (1 - 2e-5) && ci.freq_hz < (double)hz * (1 + 2e-5));
	CU_ASSERT_EQUAL(ci.fallbacks, 0);
}

int main(void)
{
	static const struct vt_test_case cases[] = {
		{ "TSC_STABLE drops and returns (kvmclock from 0)", test_stable_drop_from_zero },
		{ "TSC_STABLE drops and returns (kvmclock across 2^64)", test_stable_drop_across_wrap },
		{ "stuck records end the pvclock source (from 0)", test_stuck_from_zero },
		{ "stuck records end the pvclock source (across 2^64)", test_stuck_across_wrap },
		{ "a frequency claim 5000 ppm off is refused and measured", test_rate_claim_refused },
		{ NULL, NULL },
	};
	static const struct vt_test_suite suites[] = { { "fallback", cases }, { NULL, NULL } };

#ifdef VT_CTR_NONE
	/* Every case drives the counter line: nothing to test without a counter. */
	printf("SKIP: no user-readable counter on %s; the fallback paths need one\n", VT_CTR_ARCH);
	return 77;
#endif
	uint64_t hz = measure_hz();
	long n = sysconf(_SC_NPROCESSORS_CONF);

	struct vtime_machine m;

	ncpu = n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
	vtime_machine_probe(&m);
	have_rdtscp = m.rdtscp;
	if (vtime_scale_init(&sc, hz, VTIME_NSEC_PER_SEC) != 0)
		return 2;
	return vt_test_main(suites);
}
