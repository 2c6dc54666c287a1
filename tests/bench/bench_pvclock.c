/* SPDX-License-Identifier: MIT */
/* ns per call of the pvclock reader and of vtime_scale_apply, each beside a
 * minimal hand-written baseline, all measured in the same run on a record
 * published in memory. Prints the minimum over rounds (the least disturbed
 * by other load) and ratios to the baselines. Timings are informative:
 * nothing here fails on speed; it fails only on a wrong result. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vtime/arch.h>
#include <vtime/error.h>
#include <vtime/pvclock.h>
#include <vtime/scale.h>

#include "vt_pvclock_read.h"
#ifdef VT_BENCH_HOST_PAGE
#include <vtime/clock.h>
#include <vtime/linux.h>
#endif

typedef struct vtime_pvclock_vcpu_time_info rec_t;

/* not armv7: its counter traps in user mode unless the kernel allows it */
#if VTIME_ARCH_COUNTER && !defined(__arm__)
#define COUNTER_NAME "ordered " VTIME_ARCH_NAME " counter"
static inline __attribute__((always_inline)) uint64_t counter_now(void)
{
	return vtime_arch_counter_ordered();
}
#else
#define COUNTER_NAME "clock_gettime(CLOCK_MONOTONIC_RAW) (no TSC on this target)"
static inline uint64_t counter_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

/* The counter as the library sees it: through a function pointer. */
static uint64_t counter_fn(void *ctx)
{
	(void)ctx;
	return counter_now();
}

/* The counter as a shim's inline reader sees it. */
static inline __attribute__((always_inline)) uint64_t counter_inline(void *ctx)
{
	(void)ctx;
	return counter_now();
}

static _Alignas(64) rec_t g_rec;
static const volatile rec_t *g_host; /* the real host page's record, if any */
static volatile uint64_t g_sink;

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#define barrier() __asm__ __volatile__("" ::: "memory")

/* Baseline: the textbook seqlock read of the record (x86 loads are ordered,
 * so compiler barriers suffice there), no validation, no behind guard. */
static inline __attribute__((always_inline)) uint64_t baseline_read(const volatile rec_t *r)
{
	uint32_t v, mul;
	uint64_t ts, st, tsc, d;
	int8_t sh;
	do {
		v = r->version & ~1u;
		barrier();
		ts = r->tsc_timestamp;
		st = r->system_time;
		mul = r->tsc_to_system_mul;
		sh = r->tsc_shift;
		tsc = counter_now();
		barrier();
	} while (r->version != v);
	d = tsc - ts;
	d = sh < 0 ? d >> -sh : d << sh;
	return st + (d >> 32) * mul + (((d & 0xffffffffu) * mul) >> 32);
}

/* Baseline: plain 64x32 multiply-shift, inline, non-negative shift only. */
static inline __attribute__((always_inline)) uint64_t baseline_scale(uint64_t d, uint32_t mul, unsigned sh)
{
	d >>= sh;
	return (d >> 32) * mul + (((d & 0xffffffffu) * mul) >> 32);
}

enum { B_COUNTER, B_BASE_READ, B_VT_READ, B_VT_INLINE, B_BASE_SCALE, B_VT_SCALE, B_VT_TIME,
       B_BASE_HOST, B_VT_HOST, B_N };
static const char *const names[B_N] = {
	"counter alone (" COUNTER_NAME ")",
	"baseline: hand-written seqlock read",
	"vtime_pvclock_read (counter via pointer)",
	"vt_pvclock_read_window inline + scale",
	"baseline: inline 64x32 mul-shift",
	"vtime_scale_apply",
	"vtime_pvclock_time",
	"host page: baseline seqlock read",
	"host page: vtime_pvclock_read",
};

static int g_errors;

static double run(int which, unsigned long n)
{
	const struct vtime_counter ctr = { counter_fn, NULL };
	struct vtime_scale s = { g_rec.tsc_to_system_mul, g_rec.tsc_shift };
	unsigned sh = (unsigned)-g_rec.tsc_shift;
	uint64_t acc = 0, d = 123456789;
	double t0 = now_ns();

	switch (which) {
	case B_COUNTER:
		for (unsigned long i = 0; i < n; i++)
			acc += counter_now();
		break;
	case B_BASE_READ:
		for (unsigned long i = 0; i < n; i++)
			acc += baseline_read(&g_rec);
		break;
	case B_VT_READ:
		for (unsigned long i = 0; i < n; i++) {
			struct vtime_pvclock_reading rd;
			if (vtime_pvclock_read(&g_rec, &ctr, 0, &rd) != 0)
				g_errors++;
			acc += rd.ns;
		}
		break;
	case B_VT_INLINE:
		for (unsigned long i = 0; i < n; i++) {
			rec_t body;
			uint64_t tsc = 0;
			if (vt_pvclock_read_window(&g_rec, counter_inline, NULL, 0, &body, &tsc) != 0)
				g_errors++;
			acc += vt_pvclock_scale(&body, tsc);
		}
		break;
	/* the scale loops chain each result into the next delta, so neither
	 * side can be hoisted or vectorised: both measure one dependent call */
	case B_BASE_SCALE:
		for (unsigned long i = 0; i < n; i++)
			d = baseline_scale(d + i, s.mul, sh) + i;
		acc = d;
		break;
	case B_VT_SCALE:
		for (unsigned long i = 0; i < n; i++)
			d = vtime_scale_apply(&s, d + i) + i;
		acc = d;
		break;
	case B_BASE_HOST:
		for (unsigned long i = 0; i < n; i++)
			acc += baseline_read(g_host);
		break;
	case B_VT_HOST:
		for (unsigned long i = 0; i < n; i++) {
			struct vtime_pvclock_reading rd;
			if (vtime_pvclock_read(g_host, &ctr, 0, &rd) != 0)
				g_errors++;
			acc += rd.ns;
		}
		break;
	case B_VT_TIME: {
		rec_t body = g_rec;
		for (unsigned long i = 0; i < n; i++)
			d = vtime_pvclock_time(&body, body.tsc_timestamp + (d & 0xffffffffffull)) + i;
		acc = d;
		break;
	}
	}
	g_sink = acc;
	return (now_ns() - t0) / (double)n;
}

int main(void)
{
	const char *e = getenv("VTIME_BENCH_ITERS");
	unsigned long n = (e && *e) ? strtoul(e, NULL, 0) : 1000000;
	const int rounds = 9; /* short rounds: more chances of an undisturbed one */
	double best[B_N];
	struct vtime_scale s;
	rec_t body;
	uint64_t a, b;

	/* A 2.599999 GHz record, as this machine's host publishes it. */
	if (vtime_scale_init(&s, 2599999000ull, VTIME_NSEC_PER_SEC) != 0 || s.shift > 0)
		return 1;
	memset(&body, 0, sizeof body);
	body.tsc_timestamp = counter_now();
	body.system_time = 1000000000ull;
	body.tsc_to_system_mul = s.mul;
	body.tsc_shift = s.shift;
	body.flags = VTIME_PVCLOCK_TSC_STABLE;
	vtime_pvclock_publish(&g_rec, &body);

	/* sanity: the baseline and vtime agree on what time it is */
	a = baseline_read(&g_rec);
	{
		struct vtime_counter ctr = { counter_fn, NULL };
		struct vtime_pvclock_reading rd;
		if (vtime_pvclock_read(&g_rec, &ctr, 0, &rd) != 0)
			return 1;
		b = rd.ns;
	}
	if (b < a || b - a > 1000000) {
		fprintf(stderr, "baseline %llu and vtime %llu disagree\n", (unsigned long long)a, (unsigned long long)b);
		return 1;
	}
	for (uint64_t d = 0; d < 100000; d += 7)
		if (vtime_scale_apply(&s, d) != baseline_scale(d, s.mul, (unsigned)-s.shift))
			return 1;

#ifdef VT_BENCH_HOST_PAGE
	{
		struct vtime_host_page hp;
		if (vtime_host_page_find(&hp) == 0)
			g_host = hp.rec;
		else
			printf("host page: not measured: %s\n", hp.why);
	}
#else
	printf("host page: not measured: no Linux userspace shim in this build\n");
#endif
	for (int k = 0; k < B_N; k++)
		best[k] = 1e30;
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < B_N; k++) {
			double t;
			if ((k == B_BASE_HOST || k == B_VT_HOST) && !g_host)
				continue;
			t = run(k, n);
			best[k] = t < best[k] ? t : best[k];
		}
	if (g_errors) {
		fprintf(stderr, "%d reads failed\n", g_errors);
		return 1;
	}
	printf("pvclock benchmark: %lu calls x %d rounds, best round; record published in memory%s\n", n, rounds,
	       g_host ? ", and the real host page" : "");
	for (int k = 0; k < B_N; k++)
		if (best[k] < 1e30)
			printf("  %-44s %7.2f ns/call\n", names[k], best[k]);
	printf("ratios (same run):\n");
	printf("  vtime_pvclock_read / baseline read       %5.2f\n", best[B_VT_READ] / best[B_BASE_READ]);
	printf("  inline template / baseline read          %5.2f\n", best[B_VT_INLINE] / best[B_BASE_READ]);
	printf("  vtime_scale_apply / baseline mul-shift   %5.2f\n", best[B_VT_SCALE] / best[B_BASE_SCALE]);
	printf("  vtime_pvclock_time / baseline mul-shift  %5.2f\n", best[B_VT_TIME] / best[B_BASE_SCALE]);
	if (g_host)
		printf("  host page: vtime_pvclock_read / baseline %5.2f\n", best[B_VT_HOST] / best[B_BASE_HOST]);
	return 0;
}
