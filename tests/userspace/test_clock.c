/* SPDX-License-Identifier: MIT */
/* vtime_now_ns() and friends with the source VTIME_CLOCK_SOURCE forces
 * (meson runs this once per source; VTIME_EXPECT_SOURCE names the source
 * that must result, "-" meaning: whatever the machine allows). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vtime/clock.h>
#include <vtime/linux.h>

#include "vt_user_counter.h"

#include "vt_test.h"

static uint64_t clk(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The source that must result, given what this machine has. */
static void test_source(void)
{
	struct vtime_clock_info ci;
	struct vtime_host_page hp;
	const char *want = getenv("VTIME_EXPECT_SOURCE"), *forced = getenv("VTIME_CLOCK_SOURCE");
	bool page = vtime_host_page_find(&hp) == 0;

	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	printf("\n  VTIME_CLOCK_SOURCE=%s -> %s (%s); frequency from %s; init %.1f us",
	       forced ? forced : "(unset)", ci.source_name, ci.why, ci.freq_source, ci.init_ns / 1e3);
	CU_ASSERT(ci.why[0] != '\0');
	CU_ASSERT_EQUAL(ci.forced, forced && *forced && strcmp(forced, "auto") != 0);
	if (forced && !strcmp(forced, "pvclock") && !page) {
		/* forced onto a page this machine does not have: says so, falls back */
		CU_ASSERT_STRING_EQUAL(ci.source_name, "clock_gettime");
		CU_ASSERT(strstr(ci.why, "no host page") != NULL);
		return;
	}
	if (forced && !strcmp(forced, "bogus"))
		CU_ASSERT(strstr(ci.why, "not one of") != NULL); /* says what it accepts */
	if (want && strcmp(want, "-") != 0)
		CU_ASSERT_STRING_EQUAL(ci.source_name, want);
	if (forced && !strcmp(forced, "tsc-measured")) {
		/* no calibration sleep: clock_gettime answers until it converges */
		CU_ASSERT(strstr(ci.freq_source, "measured") != NULL);
		CU_ASSERT(!strcmp(ci.source_name, "clock_gettime (tsc converging)") || !strcmp(ci.source_name, "tsc"));
	}
}

/* Close to CLOCK_MONOTONIC and never backwards, for 300 ms. */
static void test_monotonic_and_close(void)
{
	uint64_t last = 0, end = clk(CLOCK_MONOTONIC) + 300000000u, back = 0, n = 0, kept = 0;
	int64_t worst = 0;

	while (clk(CLOCK_MONOTONIC) < end) {
		uint64_t a = clk(CLOCK_MONOTONIC), v = vtime_now_ns(), b = clk(CLOCK_MONOTONIC);
		n++;
		if (v < last)
			back++;
		last = v;
		if (b - a < 2000) {
			int64_t e = (int64_t)(v - (a + (b - a) / 2));
			if (e < 0)
				e = -e;
			if (e > worst)
				worst = e;
			kept++;
		}
	}
	printf("\n  %llu reads, %llu backwards, worst |vtime - CLOCK_MONOTONIC| %lld ns over %llu bracketed samples",
	       (unsigned long long)n, (unsigned long long)back, (long long)worst, (unsigned long long)kept);
	CU_ASSERT_EQUAL(back, 0);
	CU_ASSERT(kept > 100);
	/* far above the ~100 ns seen here: catches a wrong rate or offset, not noise */
	CU_ASSERT(worst < 50000);
}

static volatile uint64_t g_latest;
static volatile int g_stop;
static uint64_t g_backs[2];

static void *cross(void *arg)
{
	uint64_t *backs = arg;

	while (!__atomic_load_n(&g_stop, __ATOMIC_RELAXED)) {
		uint64_t seen = __atomic_load_n(&g_latest, __ATOMIC_ACQUIRE), v = vtime_now_ns(), cur;
		if (v < seen)
			(*backs)++;
		cur = seen;
		while (v > cur && !__atomic_compare_exchange_n(&g_latest, &cur, v, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			;
	}
	return NULL;
}

/* A time read after seeing another thread's time is never smaller. */
static void test_cross_thread(void)
{
	pthread_t th[2];
	struct timespec ts = { 0, 300000000 };

	for (int i = 0; i < 2; i++)
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, cross, &g_backs[i]) == 0);
	nanosleep(&ts, NULL);
	__atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	CU_ASSERT_EQUAL(g_backs[0] + g_backs[1], 0);
}

static void test_ticks_and_realtime(void)
{
	uint64_t a = clk(CLOCK_MONOTONIC), t = vtime_counter_now(), b = clk(CLOCK_MONOTONIC);
	uint64_t ns = vtime_counter_to_ns(t), t2, r0, vr, r1;

	/* inside [a, b] give or take 100 us (a..b also brackets preemption) */
	CU_ASSERT(ns + 100000 >= a && ns <= b + 100000);
	/* later ticks convert to later times, earlier ones to earlier */
	t2 = vtime_counter_now();
	CU_ASSERT(vtime_counter_to_ns(t2) >= ns);
	CU_ASSERT(vtime_counter_to_ns(t - 1000) <= ns);
	r0 = clk(CLOCK_REALTIME);
	vr = vtime_realtime_ns();
	r1 = clk(CLOCK_REALTIME);
	CU_ASSERT(vr + 100000 >= r0 && vr <= r1 + 100000);
}

static void test_info(void)
{
	struct vtime_clock_info ci;

	CU_ASSERT_EQUAL(vtime_clock_info(NULL), VTIME_EINVAL);
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	CU_ASSERT(ci.source == VTIME_SOURCE_TSC || ci.source == VTIME_SOURCE_PVCLOCK ||
		  ci.source == VTIME_SOURCE_CLOCK_GETTIME);
	CU_ASSERT(ci.recalibrations > 0); /* 600 ms of reads passed the 10 ms deadline */
	CU_ASSERT(ci.freq_hz > 1e6);
	CU_ASSERT(ci.init_ns > 0);
	if (ci.source != VTIME_SOURCE_CLOCK_GETTIME)
		CU_ASSERT(ci.tracking_error_ns < 200000 && ci.tracking_error_ns > -200000);
	{
		/* a forced counter line is in use by now wherever there is a counter */
		const char *forced = getenv("VTIME_CLOCK_SOURCE");
		struct vtime_machine m;
		vtime_machine_probe(&m);
		if (forced && !strncmp(forced, "tsc", 3) && strcmp(m.arch, "none") != 0)
			CU_ASSERT_STRING_EQUAL(ci.source_name, "tsc");
	}
}

/* clock_gettime for good (forced, or nothing to trust): nothing is tracked,
 * so nothing runs: no probe, no engine sample, however long it is read. */
static void test_no_periodic_work(void)
{
	struct vtime_clock_info a, b;
	uint64_t end;

	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&a), 0);
	if (a.source != VTIME_SOURCE_CLOCK_GETTIME || strstr(a.source_name, "converging")) {
		printf("\n  source %s: tracked, not applicable", a.source_name);
		return;
	}
	end = clk(CLOCK_MONOTONIC) + 200000000u;
	while (clk(CLOCK_MONOTONIC) < end) {
		(void)vtime_now_ns();
		(void)vtime_realtime_ns();
	}
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&b), 0);
	printf("\n  %llu and %llu recalibrations 200 ms of reads apart, probe interval %llu",
	       (unsigned long long)a.recalibrations, (unsigned long long)b.recalibrations,
	       (unsigned long long)b.probe_interval_ns);
	if (!strcmp(a.source_name, "clock_gettime") && a.fallbacks == 0) {
		CU_ASSERT_EQUAL(b.recalibrations, a.recalibrations);
		CU_ASSERT_EQUAL(b.probe_interval_ns, 0);
	}
}

int main(void)
{
	static const struct vt_test_case cases[] = {
		{ "source as forced / chosen", test_source },
		{ "monotonic and close to CLOCK_MONOTONIC", test_monotonic_and_close },
		{ "never backwards across threads", test_cross_thread },
		{ "ticks and realtime", test_ticks_and_realtime },
		{ "clock info", test_info },
		{ "no periodic work on clock_gettime for good", test_no_periodic_work },
		{ NULL, NULL },
	};
	static const struct vt_test_suite suites[] = { { "clock", cases }, { NULL, NULL } };
	const char *forced = getenv("VTIME_CLOCK_SOURCE");

#ifdef VT_CTR_NONE
	/* A counter-based source cannot be forced where userspace has no counter
	 * (armhf, s390x): say so rather than fail on the fallback. */
	if (forced && (!strcmp(forced, "tsc") || !strcmp(forced, "tsc-measured") || !strcmp(forced, "pvclock"))) {
		printf("SKIP: VTIME_CLOCK_SOURCE=%s needs a user-readable counter, none on %s\n", forced,
		       VT_CTR_ARCH);
		return 77;
	}
#else
	(void)forced;
#endif
	return vt_test_main(suites);
}
