/* SPDX-License-Identifier: MIT */
/* The kernel's clock adjustments, simulated: the counter and
 * CLOCK_MONOTONIC_RAW are this machine's, CLOCK_MONOTONIC and REALTIME and
 * adjtimex are a simulated kernel's (vt_clock_test_hooks), so the schedule
 * of issue 12 (ADJ_FREQUENCY +-500 ppm, ADJ_TICK +-1%, a chrony-sized slew
 * of 83,333 ppm, CLOCK_REALTIME steps, an adjtime() slew, the PLL) runs
 * without touching this machine's clock. The simulated CLOCK_MONOTONIC
 * advances per RAW second by tick * 100000 + freq / 65536 * 1000 ns plus
 * the PLL's and adjtime()'s share, as Linux's does (vt_ntp.h).
 *
 * Each sample brackets vtime_now_ns() between two reads of the simulated
 * clock; the error is the distance outside the bracket (a preempted sample
 * widens it: noise can hide an error, never invent one). The bounds are
 * the issue's; the peaks get twice the figure of slack because the
 * shared machine can deschedule the maintainer for milliseconds right after
 * a change (the guests suite asserts the figures under qemu). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>
#include <vtime/clock.h>

#include "vt_clock.h"
#include "vt_test.h"
#include "vt_user_counter.h"

#include "vt_simkernel.h"

/* ---- measuring ---- */

struct phase_res {
	uint64_t samples, back;
	int64_t peak;          /* worst |error| */
	int64_t steady;        /* worst |error| from settle_ns on */
	uint64_t last_over;    /* ns after the change of the last |error| > 1 us */
	int64_t rt_steady;     /* worst realtime |error| from 100 ms on */
	uint64_t rt_last_far;  /* ns after the change of the last realtime |error| > 1 ms */
	uint64_t br_max;
	bool fellback;         /* the source was clock_gettime at some sample */
};

static uint64_t g_last;

static int64_t outside(uint64_t lo, uint64_t v, uint64_t hi)
{
	return v < lo ? -(int64_t)(lo - v) : v > hi ? (int64_t)(v - hi) : 0;
}

static void run_phase(const char *name, uint64_t len_ns, uint64_t settle_ns, struct phase_res *r)
{
	uint64_t t0 = sim_clock(CLOCK_MONOTONIC), n = 0;

	memset(r, 0, sizeof *r);
	for (;;) {
		uint64_t a = sim_clock(CLOCK_MONOTONIC), v = vtime_now_ns(), b = sim_clock(CLOCK_MONOTONIC);
		uint64_t ra = sim_clock(CLOCK_REALTIME), rv = vtime_realtime_ns(), rb = sim_clock(CLOCK_REALTIME);
		int64_t e = outside(a, v, b), re = outside(ra, rv, rb);
		uint64_t ae = (uint64_t)(e < 0 ? -e : e), are = (uint64_t)(re < 0 ? -re : re), since = b - t0;

		r->samples++;
		if (v < g_last)
			r->back++;
		g_last = v;
		if (b - a > r->br_max)
			r->br_max = b - a;
		if ((int64_t)ae > r->peak)
			r->peak = (int64_t)ae;
		if (since >= settle_ns && (int64_t)ae > r->steady)
			r->steady = (int64_t)ae;
		if (ae > 1000)
			r->last_over = since;
		if (since >= 100000000u && (int64_t)are > r->rt_steady)
			r->rt_steady = (int64_t)are;
		if (are > 1000000)
			r->rt_last_far = since;
		if ((++n & 1023) == 0) {
			struct vtime_clock_info ci;
			vtime_clock_info(&ci);
			if (ci.source == VTIME_SOURCE_CLOCK_GETTIME)
				r->fellback = true;
		}
		if (since >= len_ns)
			break;
	}
	printf("\n  %-10s peak %7lld ns, steady %6lld ns, last >1us at %6.1f ms, realtime steady %5lld ns, "
	       "realtime >1ms until %5.1f ms, %s, %llu samples, widest bracket %llu ns",
	       name, (long long)r->peak, (long long)r->steady, r->last_over / 1e6, (long long)r->rt_steady,
	       r->rt_last_far / 1e6, r->fellback ? "fell back" : "on the line", (unsigned long long)r->samples,
	       (unsigned long long)r->br_max);
}

#define MS 1000000ull

/* The schedule, one phase after the other. */
static void test_schedule(void)
{
	struct vtime_clock_info ci;
	struct phase_res r;

	sim_reset();
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	printf("\n  source %s (%s); kernel rate known %d", ci.source_name, ci.why, ci.kernel_rate_known);
	if (ci.source != VTIME_SOURCE_TSC) {
		/* a measured frequency converges first */
		run_phase("warm-up", 500 * MS, 0, &r);
		CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	}
	CU_ASSERT_STRING_EQUAL_FATAL(ci.source_name, "tsc");
	CU_ASSERT(ci.kernel_rate_known);

	run_phase("steady", 400 * MS, 100 * MS, &r);
	CU_ASSERT(r.steady <= 1000);
	CU_ASSERT(r.rt_steady <= 2000);
	CU_ASSERT_EQUAL(r.back, 0);

	set_rate(10000, 500);
	run_phase("freq+500", 1100 * MS, 1000 * MS, &r);
	CU_ASSERT(r.peak <= 2 * 20000);
	CU_ASSERT(r.last_over <= 1000 * MS);
	CU_ASSERT(r.steady <= 1000);
	CU_ASSERT(!r.fellback);
	CU_ASSERT_EQUAL(r.back, 0);

	set_rate(10000, -500);
	run_phase("freq-500", 1100 * MS, 1000 * MS, &r);
	CU_ASSERT(r.peak <= 2 * 20000);
	CU_ASSERT(r.last_over <= 1000 * MS);
	CU_ASSERT_EQUAL(r.back, 0);

	set_rate(10100, 0);
	run_phase("tick+1%", 1100 * MS, 1000 * MS, &r);
	CU_ASSERT(r.peak <= 2 * 200000);
	CU_ASSERT(r.last_over <= 1000 * MS);
	CU_ASSERT(!r.fellback);
	CU_ASSERT_EQUAL(r.back, 0);

	set_rate(9900, 0);
	run_phase("tick-1%", 1100 * MS, 1000 * MS, &r);
	CU_ASSERT(r.peak <= 2 * 200000);
	CU_ASSERT(r.last_over <= 1000 * MS);
	CU_ASSERT_EQUAL(r.back, 0);

	/* chrony's maxslewrate: beyond what a line follows */
	set_rate(10833, 33.333);
	run_phase("slew83k", 500 * MS, UINT64_MAX, &r);
	CU_ASSERT(r.peak <= 1000000);
	CU_ASSERT(r.fellback);
	CU_ASSERT_EQUAL(r.back, 0);
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	printf("\n  during the slew: %s: %s", ci.source_name, ci.fallback_reason);
	CU_ASSERT(strstr(ci.fallback_reason, "rate") != NULL);

	set_rate(10000, 0);
	run_phase("slew-end", 1100 * MS, 1000 * MS, &r);
	CU_ASSERT(r.peak <= 1000000);
	CU_ASSERT(r.steady <= 1000);
	CU_ASSERT_EQUAL(r.back, 0);
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	CU_ASSERT_STRING_EQUAL(ci.source_name, "tsc"); /* back on the line */

	/* CLOCK_REALTIME steps: followed within 50 ms */
	k.rt_off += 1000000000;
	run_phase("rt+1s", 300 * MS, 0, &r);
	CU_ASSERT(r.rt_last_far <= 50 * MS);
	CU_ASSERT(r.rt_steady <= 2000);
	k.rt_off -= 1000000000;
	run_phase("rt-1s", 300 * MS, 0, &r);
	CU_ASSERT(r.rt_last_far <= 50 * MS);
	CU_ASSERT(r.steady <= 1000);
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	CU_ASSERT(ci.realtime_steps >= 2);
	{
		/* kept for a bounded-time API: what adjtimex said last */
		extern int vt_clock_ntp(struct vt_ntp *out);
		struct vt_ntp n;
		CU_ASSERT_EQUAL(vt_clock_ntp(&n), 0);
		CU_ASSERT_EQUAL(n.raw.maxerror, 16000);
		CU_ASSERT_EQUAL(n.raw.esterror, 16000);
		CU_ASSERT((n.raw.status & STA_NANO) != 0);
		CU_ASSERT_EQUAL(vt_clock_ntp(NULL), VTIME_EINVAL);
	}
	printf("\n  %llu rate changes, %llu realtime steps, probe interval %.1f ms, %llu fallbacks",
	       (unsigned long long)ci.rate_changes, (unsigned long long)ci.realtime_steps, ci.probe_interval_ns / 1e6,
	       (unsigned long long)ci.fallbacks);
	vt_clock_test_hooks(NULL);
	vt_clock_reset();
}

/* adjtime()'s single-shot slew (500 ppm while more than 500 us remain) and
 * the PLL's phase correction: both modelled from what adjtimex reports. */
static void test_adjtime_and_pll(void)
{
	struct vt_ntp_raw raw;
	struct phase_res r;

	sim_reset();
	(void)vtime_now_ns();
	run_phase("settle", 300 * MS, 0, &r);
	k.adjust = 200000; /* 200 ms left to slew at 500 ppm */
	set_rate(10000, 0);
	run_phase("adjtime", 1100 * MS, 1000 * MS, &r);
	CU_ASSERT(r.peak <= 2 * 20000);
	CU_ASSERT(r.steady <= 1000);
	k.adjust = 0;
	k.offset = 2000000; /* the PLL: 2 ms left, time constant 4: 2 ms / 2^6 per second */
	k.constant = 4;
	k.status |= STA_PLL;
	set_rate(10000, 0);
	(void)sim_ntp(&raw);
	printf("\n  PLL ratio %.9f", vt_ntp_ratio(&raw));
	CU_ASSERT(fabs(vt_ntp_ratio(&raw) - (1.0 + 2e6 / 64 / 1e9)) < 1e-12);
	run_phase("pll", 1100 * MS, 1000 * MS, &r);
	CU_ASSERT(r.peak <= 2 * 20000);
	CU_ASSERT(r.steady <= 1000);
	vt_clock_test_hooks(NULL);
	vt_clock_reset();
}

/* Without adjtimex (a seccomp profile refusing it): the line follows a
 * rate change through its tracking loop only, and never by more than 1 ms. */
static void test_no_adjtimex(void)
{
	struct vtime_clock_info ci;
	struct phase_res r;

	sim_reset();
	k.ntp_fails = true;
	(void)vtime_now_ns();
	run_phase("settle", 300 * MS, 100 * MS, &r);
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	CU_ASSERT(!ci.kernel_rate_known);
	CU_ASSERT(r.steady <= 1000);
	set_rate(10000, 500);
	run_phase("freq+500", 1500 * MS, 1400 * MS, &r);
	CU_ASSERT(r.peak <= 1000000);
	CU_ASSERT_EQUAL(r.back, 0);
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	printf("\n  %s: %s / %s; tracking error %lld ns, steps %llu", ci.source_name, ci.why, ci.fallback_reason,
	       (long long)ci.tracking_error_ns, (unsigned long long)ci.steps);
	vt_clock_test_hooks(NULL);
	vt_clock_reset();
}

/* The rate formula on its own (vt_ntp.h). */
static void test_ratio(void)
{
	struct vt_ntp_raw r;

	memset(&r, 0, sizeof r);
	r.tick = 10000;
	CU_ASSERT_DOUBLE_EQUAL(vt_ntp_ratio(&r), 1.0, 1e-15);
	r.freq = 500L * 65536;
	CU_ASSERT_DOUBLE_EQUAL(vt_ntp_ratio(&r), 1.0005, 1e-12);
	r.freq = 0;
	r.tick = 9900;
	CU_ASSERT_DOUBLE_EQUAL(vt_ntp_ratio(&r), 0.99, 1e-12);
	r.tick = 10833;
	r.freq = (long)(33.333 * 65536);
	CU_ASSERT_DOUBLE_EQUAL(vt_ntp_ratio(&r), 1.0833 + 33.333e-6, 1e-8);
	r.tick = 10000;
	r.freq = 0;
	r.adjust = -3000; /* adjtime(): 500 ppm while more than 500 us remain */
	CU_ASSERT_DOUBLE_EQUAL(vt_ntp_ratio(&r), 1.0 - 500e-6, 1e-12);
	r.adjust = 300; /* the last part in one second */
	CU_ASSERT_DOUBLE_EQUAL(vt_ntp_ratio(&r), 1.0 + 300e-6, 1e-12);
	r.adjust = 0;
	/* a negative microsecond PLL offset, as the kernel reports it */
	r.status = STA_PLL;
	r.offset = 4294967L - 640; /* -640 us through the kernel's unsigned division */
	r.constant = 0;
	CU_ASSERT_EQUAL(vt_ntp_offset_ns(&r), -640000);
	CU_ASSERT_DOUBLE_EQUAL(vt_ntp_ratio(&r), 1.0 - 640000.0 / 4 / 1e9, 1e-12);
}

int main(void)
{
	static const struct vt_test_case cases[] = {
		{ "the rate formula", test_ratio },
		{ "the issue's schedule (freq, tick, slew, realtime steps)", test_schedule },
		{ "adjtime() and the PLL", test_adjtime_and_pll },
		{ "no adjtimex", test_no_adjtimex },
		{ NULL, NULL },
	};
	static const struct vt_test_suite suites[] = { { "adjust", cases }, { NULL, NULL } };

#ifdef VT_CTR_NONE
	printf("SKIP: no user-readable counter on %s: the line these bounds are about does not exist\n", VT_CTR_ARCH);
	return 77;
#endif
	unsetenv("VTIME_CLOCK_SOURCE");
	return vt_test_main(suites);
}
