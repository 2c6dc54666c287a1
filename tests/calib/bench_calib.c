/* SPDX-License-Identifier: MIT */
/* Calibration convergence: |ppm error| of the frequency estimate against the
 * simulated truth after 10, 100 and 1000 samples (one sample per 10 ms,
 * costs 30-100 ns with the reference read anywhere within the bracket, 3%
 * preempted samples of 5-500 us), median and worst over seeds, with the
 * engine's own uncertainty beside it; plus the cost of one feed. Informative:
 * fails only if the estimate after 1000 samples is off by 0.1 ppm or more. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <vtime/calib.h>

/* The feed's event mask, or its error (negative). */
static inline int feed_ev(struct vtime_calib *e, const struct vtime_calib_sample *s)
{
	unsigned ev = 0;
	int err = vtime_calib_feed(e, s, &ev);
	return err ? err : (int)ev;
}

static uint64_t rng;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static double urand(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

#define SEEDS 101

int main(void)
{
	static const int at[3] = { 10, 100, 1000 };
	static double err[3][SEEDS], unc[3][SEEDS];
	struct vtime_calib e;
	double feed_ns = 0;
	unsigned long feeds = 0;

	for (int k = 0; k < SEEDS; k++) {
		rng = 0x9e3779b97f4a7c15ull * (uint64_t)(k + 1);
		double hz = 1e9 + (double)(rnd() % 2500000000ull), t = 0;
		uint64_t c0 = UINT64_MAX - (uint64_t)(hz * 3), r0 = (k & 1) ? UINT64_MAX - 4000000000ull : 0;
		vtime_calib_init(&e, NULL);
		for (int i = 1, j = 0; i <= 1000; i++) {
			t += 10e6;
			uint64_t cost = 30 + rnd() % 70;
			if (rnd() % 32 == 0)
				cost = 5000 + rnd() % 500000;
			struct vtime_calib_sample s;
			s.counter = c0 + (uint64_t)llround(t * hz / 1e9);
			s.ref_ns = r0 + (uint64_t)llround(t + (urand() - 0.5) * (double)cost);
			s.cost_ns = cost;
			struct timespec a, b;
			clock_gettime(CLOCK_MONOTONIC, &a);
			feed_ev(&e, &s);
			clock_gettime(CLOCK_MONOTONIC, &b);
			feed_ns += (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
			feeds++;
			if (i == at[j]) {
				struct vtime_calib_stats st;
				vtime_calib_stats_get(&e, &st);
				err[j][k] = fabs(((double)st.hz / hz - 1) * 1e6);
				unc[j][k] = (double)st.freq_unc_ppb / 1000;
				j++;
			}
		}
	}
	printf("calibration convergence, %d seeds, 1 sample / 10 ms (counter 1-3.5 GHz from just below 2^64)\n", SEEDS);
	printf("%8s %14s %14s %18s\n", "samples", "median |ppm|", "worst |ppm|", "median unc (ppm)");
	int bad = 0;
	for (int j = 0; j < 3; j++) {
		qsort(err[j], SEEDS, sizeof(double), cmp);
		qsort(unc[j], SEEDS, sizeof(double), cmp);
		printf("%8d %14.4f %14.4f %18.4f\n", at[j], err[j][SEEDS / 2], err[j][SEEDS - 1], unc[j][SEEDS / 2]);
	}
	if (err[2][SEEDS - 1] >= 0.1)
		bad = 1;
	printf("feed cost: %.0f ns per vtime_calib_feed (mean of %lu)\n", feed_ns / (double)feeds, feeds);
	return bad;
}
