/* SPDX-License-Identifier: MIT */
/* The recalibration engine of the userspace clock, driven with synthetic
 * (x, CLOCK_MONOTONIC) pairs: x from 0 and from just below 2^64 (the
 * counter wraps during the run). */
#include <stdint.h>
#include <stdio.h>

#include "vt_test.h"
#include "vt_track.h"

/* "CLOCK_MONOTONIC" of a synthetic machine: ns = base + (x - x_start) * rate. */
struct synth {
	uint64_t x_start, base;
	double rate; /* true ns per x */
};

static uint64_t truth(const struct synth *s, uint64_t x)
{
	return s->base + (uint64_t)((double)(x - s->x_start) * s->rate);
}

/* Nominal rate off by ppm from the truth; the engine must converge and stay
 * continuous and monotonic at every re-anchor. */
static void run_converge(uint64_t x_start, double ppm)
{
	struct synth s = { x_start, 5000000000ull, 0.5 * (1.0 + ppm * 1e-6) };
	struct vt_track t = { 0 };
	uint64_t x = x_start, before, prev_out = 0;
	int64_t worst_late = 0;

	vt_track_start(&t, x, truth(&s, x), 0.5);
	for (int i = 0; i < 400; i++) {
		uint64_t step = vt_track_span(&t, t.interval), probe;
		/* the line is monotonic over the interval */
		for (int k = 1; k <= 8; k++) {
			probe = vt_track_eval(&t, x + step / 8 * (uint64_t)k);
			CU_ASSERT(probe >= prev_out);
			prev_out = probe;
		}
		x += step;
		{
			uint64_t old_at_x = vt_track_eval(&t, x);
			CU_ASSERT_EQUAL(vt_track_update(&t, x, truth(&s, x), 20.0, &before), VT_TRACK_SLEWED);
			CU_ASSERT_EQUAL(before, old_at_x);
			/* continuous: the new line starts where the old one was (+1 ns at most) */
			CU_ASSERT(vt_track_eval(&t, x) - old_at_x <= 1);
		}
		if (i > 40) {
			int64_t e = t.err < 0 ? -t.err : t.err;
			if (e > worst_late)
				worst_late = e;
		}
	}
	printf("\n  start %llu, %+.1f ppm: %llu updates, worst late error %lld ns, rate %+.4f ppm off, interval %llu ms",
	       (unsigned long long)x_start, ppm, (unsigned long long)t.recals, (long long)worst_late,
	       (t.rate / s.rate - 1) * 1e6, (unsigned long long)(t.interval / 1000000));
	CU_ASSERT(worst_late <= 50);
	CU_ASSERT(t.measured);
	CU_ASSERT(t.rate / s.rate - 1 < 1e-8 && t.rate / s.rate - 1 > -1e-8);
	CU_ASSERT_EQUAL(t.steps, 0);
	CU_ASSERT_EQUAL(t.interval, VT_TRACK_IMAX);
}

static void test_converge_from_zero(void)
{
	run_converge(0, 0.2);
	run_converge(0, -37.0);
}

static void test_converge_near_wrap(void)
{
	/* 2 GHz-ish counter 3 s before 2^64: it wraps during the run */
	run_converge(UINT64_MAX - 6000000000ull, 0.2);
	run_converge(UINT64_MAX - 100, -200.0);
}

static void run_step(uint64_t x_start)
{
	struct vt_track t = { 0 };
	uint64_t x = x_start, n = 1000000000ull, before;

	vt_track_start(&t, x, n, 1.0);
	for (int i = 0; i < 5; i++) {
		x += 10000000;
		n += 10000000;
		CU_ASSERT_EQUAL(vt_track_update(&t, x, n, 1.0, &before), VT_TRACK_SLEWED);
	}
	/* a 5 s jump of CLOCK_MONOTONIC (suspend): steps forward */
	x += 10000000;
	n += 5010000000ull;
	CU_ASSERT_EQUAL(vt_track_update(&t, x, n, 1.0, &before), VT_TRACK_STEPPED);
	CU_ASSERT(before < n);
	CU_ASSERT_EQUAL(vt_track_eval(&t, x), n);
	/* the counter went back (restore on another host): steps, line re-anchored */
	x -= 1000000;
	n += 1000;
	CU_ASSERT_EQUAL(vt_track_update(&t, x, n, 1.0, &before), VT_TRACK_STEPPED);
	CU_ASSERT_EQUAL(vt_track_eval(&t, x), n);
	/* the line ran 300 us ahead of CLOCK_MONOTONIC: a backward step the
	 * caller must cover with its floor (before > n) */
	x += 10000000;
	n += 10000000 - 300000;
	CU_ASSERT_EQUAL(vt_track_update(&t, x, n, 1.0, &before), VT_TRACK_STEPPED);
	CU_ASSERT(before > n);
	CU_ASSERT_EQUAL(t.steps, 3);
}

static void test_steps(void)
{
	run_step(0);
	run_step(UINT64_MAX - 15000000);
}

static void test_eval_edges(void)
{
	/* before the anchor counts back and saturates at 0 */
	CU_ASSERT_EQUAL(vt_line_eval(1000, 500, 1ull << 32, 900), 400);
	CU_ASSERT_EQUAL(vt_line_eval(1000, 50, 1ull << 32, 900), 0);
	CU_ASSERT_EQUAL(vt_line_eval(UINT64_MAX - 9, 100, 1ull << 32, 10), 120);
	/* the full 64-bit delta times a multiplier above 2^32 */
	CU_ASSERT_EQUAL(vt_mulshr32(UINT64_MAX, 1ull << 32), UINT64_MAX);
	CU_ASSERT_EQUAL(vt_mulshr32(1ull << 40, 3ull << 31), 3ull << 39);
}

int main(void)
{
	static const struct vt_test_case cases[] = {
		{ "converges from 0", test_converge_from_zero },
		{ "converges across 2^64", test_converge_near_wrap },
		{ "steps on discontinuities", test_steps },
		{ "line edges", test_eval_edges },
		{ NULL, NULL },
	};
	static const struct vt_test_suite suites[] = { { "track", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
