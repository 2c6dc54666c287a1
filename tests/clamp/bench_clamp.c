/* SPDX-License-Identifier: MIT */
/* Clamp cost per read, all in one run: the engine's inline read (seqlock +
 * inlined counter + one scale) unclamped as the baseline, then with the
 * per-thread clamp, the skip-while-stable clamp (stable source), and the
 * global clamp; each with 1 and with 2 threads reading at once (the global
 * clamp's shared line then bounces between CPUs). Prints the minimum ns per
 * read over rounds and the ratio to the baseline. Informative only: fails
 * only if a clamped sequence goes backwards. VTIME_BENCH_ITERS scales it. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <vtime/arch.h>
#include <vtime/calib.h>
#include <vtime/clamp.h>

#include "vt_atomic.h"
#include "vt_calib_read.h"
#include "vt_clamp.h"

/* The feed's event mask, or its error (negative). */
static inline int feed_ev(struct vtime_calib *e, const struct vtime_calib_sample *s)
{
	unsigned ev = 0;
	int err = vtime_calib_feed(e, s, &ev);
	return err ? err : (int)ev;
}

/* not armv7: its counter traps in user mode unless the kernel allows it */
#if VTIME_ARCH_COUNTER && !defined(__arm__)
#define COUNTER_NAME "ordered " VTIME_ARCH_NAME " counter"
static inline __attribute__((always_inline)) uint64_t counter(void *ctx)
{
	(void)ctx;
	return vtime_arch_counter_ordered();
}
#else
#define COUNTER_NAME "clock_gettime(CLOCK_MONOTONIC_RAW)"
static inline uint64_t counter(void *ctx)
{
	struct timespec ts;
	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

enum mode { NONE, LOCAL, STABLE, GLOBAL, NMODES };
static const char *const names[] = { "unclamped (baseline)", "per-thread clamp", "skip-while-stable", "global clamp" };

static struct vtime_calib g_eng __attribute__((aligned(64)));
static struct vtime_clamp g_clamp __attribute__((aligned(64)));
static unsigned long g_iters;
static volatile int g_bad;
static pthread_barrier_t g_bar;

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

struct job {
	enum mode m;
	double ns_per_read;
};

static void *run(void *arg)
{
	struct job *j = arg;
	struct vtime_clamp_local loc;
	uint64_t ns = 0, prev = 0, sum = 0;

	vtime_clamp_local_init(&loc, 0);
	pthread_barrier_wait(&g_bar);
	double t0 = now_ns();
	for (unsigned long i = 0; i < g_iters; i++) {
		vt_calib_read_inline(&g_eng, counter, NULL, &ns);
		switch (j->m) {
		case LOCAL: ns = vt_clamp_local_apply_inline(&loc, ns); break;
		case STABLE: ns = vt_clamp_apply_stable_inline(&g_clamp, ns, true); break;
		case GLOBAL: ns = vt_clamp_apply_inline(&g_clamp, ns); break;
		default: break;
		}
		if (j->m != NONE && ns < prev)
			g_bad = 1;
		prev = ns;
		sum += ns;
	}
	j->ns_per_read = (now_ns() - t0) / (double)g_iters;
	if (sum == 42)
		puts("");
	return NULL;
}

static double measure_once(enum mode m, int threads)
{
	pthread_t th[2];
	struct job jobs[2];
	double sum = 0;
	pthread_barrier_init(&g_bar, NULL, (unsigned)threads);
	for (int t = 0; t < threads; t++) {
		jobs[t].m = m;
		pthread_create(&th[t], NULL, run, &jobs[t]);
	}
	for (int t = 0; t < threads; t++) {
		pthread_join(th[t], NULL);
		sum += jobs[t].ns_per_read;
	}
	pthread_barrier_destroy(&g_bar);
	return sum / threads;
}

int main(void)
{
	const char *s = getenv("VTIME_BENCH_ITERS");
	g_iters = s ? strtoul(s, NULL, 0) : 2000000;
	struct vtime_calib_config cfg;
	vtime_calib_config_default(&cfg);
	/* a plausible line; the clamp cost does not depend on its accuracy */
	cfg.hz_hint = 2000000000ull;
	vtime_calib_init(&g_eng, &cfg);
	struct vtime_calib_sample smp = { counter(NULL), 1000000000ull, 50 };
	feed_ev(&g_eng, &smp);
	vtime_clamp_init(&g_clamp, 0, VTIME_CLAMP_TRUST_STABLE);

	printf("clamp cost per read, counter %s, %lu reads per thread, min of 7 interleaved rounds\n", COUNTER_NAME,
	       g_iters);
	double best[NMODES][3];
	for (int m = 0; m < NMODES; m++)
		best[m][1] = best[m][2] = 1e9;
	for (int round = 0; round < 7; round++)
		for (int m = 0; m < NMODES; m++)
			for (int t = 1; t <= 2; t++) {
				double v = measure_once((enum mode)m, t);
				if (v < best[m][t])
					best[m][t] = v;
			}
	printf("%-22s %12s %8s %12s %8s\n", "", "1 thread ns", "ratio", "2 threads ns", "ratio");
	for (int m = 0; m < NMODES; m++)
		printf("%-22s %12.2f %8.2f %12.2f %8.2f\n", names[m], best[m][1], best[m][1] / best[NONE][1], best[m][2],
		       best[m][2] / best[NONE][2]);
	if (g_bad) {
		printf("FAIL: a clamped sequence went backwards\n");
		return 1;
	}
	return 0;
}
