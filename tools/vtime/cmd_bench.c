/* SPDX-License-Identifier: MIT */
/* vtime bench: ns per call of vtime's clocks and the alternatives, measured
 * in one run (interleaved rounds), with the ratios the targets are about. */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <vtime/arch.h>
#include <vtime/clock.h>
#include <vtime/linux.h>
#include <vtime/vtime.h>

#include "vt_tool.h"

#define BATCH 64

#define NOINLINE __attribute__((noinline))

/* Baselines: each behind the same kind of call as the vtime function. */
static volatile uint64_t b_x0, b_n0, b_mult = 2147483648u;
static struct vtime_host_page b_hp;
static struct vtime_counter b_ctr;
static _Atomic uint64_t b_clamp;

static NOINLINE uint64_t f_vtime_now(void) { return vtime_now_ns(); }
static NOINLINE uint64_t f_base_ordered(void)
{
	uint64_t d = vtime_arch_counter_ordered() - b_x0;
#ifdef __SIZEOF_INT128__
	return b_n0 + (uint64_t)(((unsigned __int128)d * b_mult) >> 32);
#else
	return b_n0 + (uint64_t)(((double)d * b_mult) / 4294967296.0);
#endif
}
static NOINLINE uint64_t f_base_raw_scale(void) /* quanta-style: unordered read + 128-bit mul + shift */
{
	uint64_t d = vtime_arch_counter() - b_x0;
#ifdef __SIZEOF_INT128__
	return b_n0 + (uint64_t)(((unsigned __int128)d * b_mult) >> 32);
#else
	return b_n0 + (uint64_t)(((double)d * b_mult) / 4294967296.0);
#endif
}
static NOINLINE uint64_t f_base_clamp(void) /* ordered + scale + one global CAS clamp */
{
	uint64_t v = f_base_ordered(), last = atomic_load_explicit(&b_clamp, memory_order_relaxed);
	while (v > last)
		if (atomic_compare_exchange_strong(&b_clamp, &last, v))
			return v;
	return last;
}
static NOINLINE uint64_t f_raw(void) { return vtime_arch_counter(); }
static NOINLINE uint64_t f_ordered(void) { return vtime_arch_counter_ordered(); }
#if VTIME_ARCH_COUNTER_AUX
static NOINLINE uint64_t f_rdtscp(void)
{
	uint32_t aux;
	return vtime_arch_counter_aux(&aux);
}
#endif
static NOINLINE uint64_t f_counter_now(void) { return vtime_counter_now(); }
static NOINLINE uint64_t f_counter_to_ns(void) { return vtime_counter_to_ns(vtime_counter_now()); }
static NOINLINE uint64_t f_realtime(void) { return vtime_realtime_ns(); }
static NOINLINE uint64_t f_vdso(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}
static NOINLINE uint64_t f_vdso_rt(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}
static NOINLINE uint64_t f_syscall(void)
{
	struct timespec t;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}
static NOINLINE uint64_t f_pvclock(void)
{
	struct vtime_pvclock_reading r;
	vtime_pvclock_read(b_hp.rec, &b_ctr, 0, &r);
	return r.ns;
}
static NOINLINE uint64_t f_empty(void) { return 0; }

struct alt {
	const char *key, *label;
	uint64_t (*fn)(void);
	double *ns;  /* per-round batch mean, ns per call */
	double *one; /* single calls, ns */
	double p50, p99, p999, max; /* p50 from batch means; the tail from single calls */
	double one_p50;
};

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *s, int n, double p)
{
	int i = (int)ceil(p * n) - 1;
	return s[i < 0 ? 0 : i >= n ? n - 1 : i];
}

#define TAIL_BATCH 8
#define TAIL_RUN 500

/* TAIL_BATCH calls, in counter ticks (a short window: the counter here may
 * tick in coarse steps, so single calls cannot be timed on their own). */
static uint64_t single(uint64_t (*fn)(void))
{
	uint64_t a, b, sink = 0;
	a = vtime_arch_counter_ordered();
	for (int i = 0; i < TAIL_BATCH; i++)
		sink += fn();
	b = vtime_arch_counter_ordered();
	__asm__ __volatile__("" : : "r"(sink));
	return b - a;
}

/* One batch of BATCH calls, in counter ticks. */
static uint64_t batch(uint64_t (*fn)(void))
{
	uint64_t sink = 0, a, b;
	a = vtime_arch_counter_ordered();
	for (int i = 0; i < BATCH; i++)
		sink += fn();
	b = vtime_arch_counter_ordered();
	__asm__ __volatile__("" : : "r"(sink));
	return b - a;
}

extern double vt_measure_hz(unsigned ms);

struct ratio {
	const char *key, *what;
	double value, target;
	bool at_most; /* value <= target passes, else value >= target */
};

int cmd_bench(const struct vt_opts *o)
{
	struct alt a[20];
	int na = 0, rounds = (int)(o->seconds > 0 && o->seconds != 5.0 ? o->seconds * 20000 : 20000);
	double hz, ns_per_tick, overhead, overhead1;
	const int ONE = 2; /* tail samples per round, taken with the alternative alone */
	struct vtime_clock_info ci;
	bool have_pv;
	struct ratio r[12];
	int nr = 0;

	if (o->argc) {
		vt_err("usage: vtime bench [--seconds N] [--json]");
		return VT_EXIT_USAGE;
	}
	if (rounds < 2000)
		rounds = 2000;
	vtime_clock_info(&ci);
	have_pv = vtime_host_page_find(&b_hp) == 0 && vtime_counter_get(VTIME_COUNTER_ORDERED, &b_ctr) == 0;
	b_x0 = vtime_arch_counter();
	b_n0 = vtime_now_ns();
	hz = vt_measure_hz(50);
	ns_per_tick = 1e9 / hz;
	b_mult = (uint64_t)(ns_per_tick * 4294967296.0);

#define ALT(k, l, f) a[na++] = (struct alt){ k, l, f, NULL, NULL, 0, 0, 0, 0, 0 }
	ALT("vtime_now_ns", "vtime_now_ns()", f_vtime_now);
	ALT("ordered_scale", "lfence;rdtsc + scale (baseline)", f_base_ordered);
	ALT("clock_gettime_vdso", "clock_gettime(MONOTONIC) vDSO", f_vdso);
	ALT("clock_gettime_syscall", "syscall(SYS_clock_gettime)", f_syscall);
	ALT("ordered_scale_cas", "baseline + global CAS clamp", f_base_clamp);
	ALT("vtime_realtime_ns", "vtime_realtime_ns()", f_realtime);
	ALT("clock_gettime_realtime", "clock_gettime(REALTIME) vDSO", f_vdso_rt);
	ALT("vtime_counter_now", "vtime_counter_now()", f_counter_now);
	ALT("raw_counter", "rdtsc (bare)", f_raw);
	ALT("counter_to_ns", "vtime_counter_to_ns(vtime_counter_now())", f_counter_to_ns);
	ALT("raw_scale", "rdtsc + 128-bit mul + shift", f_base_raw_scale);
	ALT("ordered_counter", "lfence;rdtsc (bare)", f_ordered);
#if VTIME_ARCH_COUNTER_AUX
	ALT("rdtscp", "rdtscp (bare)", f_rdtscp);
#endif
	if (have_pv)
		ALT("pvclock_read", "vtime_pvclock_read(host page)", f_pvclock);
#undef ALT
	for (int i = 0; i < na; i++) {
		a[i].ns = malloc(sizeof(double) * (size_t)rounds);
		a[i].one = malloc(sizeof(double) * (size_t)rounds * ONE);
		if (!a[i].ns || !a[i].one) {
			vt_err("bench: out of memory");
			return VT_EXIT_ERR;
		}
	}
	/* timing overhead: the median of empty batches */
	{
		double *e = malloc(sizeof(double) * 4001);
		for (int i = 0; i < 4001; i++)
			e[i] = (double)batch(f_empty);
		qsort(e, 4001, sizeof *e, cmp_d);
		overhead = e[2000];
		for (int i = 0; i < 4001; i++)
			e[i] = (double)single(f_empty);
		qsort(e, 4001, sizeof *e, cmp_d);
		overhead1 = e[2000];
		free(e);
	}
	for (int i = 0; i < na; i++) /* warm up */
		for (int k = 0; k < 200; k++)
			(void)batch(a[i].fn);
	/* interleaved rounds: every alternative sees the same machine noise */
	for (int k = 0; k < rounds; k++)
		for (int i = 0; i < na; i++)
			a[i].ns[k] = ((double)batch(a[i].fn) - overhead) * ns_per_tick / BATCH;
	/* the tail: each alternative in runs of TAIL_RUN batches on its own, as
	 * a program calling it in a loop would (call-by-call interleaving lets
	 * the syscall's cache and predictor damage land on whichever
	 * alternative follows it); the runs rotate through the alternatives so
	 * a burst of machine noise is shared out instead of hitting one */
	for (int k0 = 0; k0 < rounds * ONE; k0 += TAIL_RUN)
		for (int i = 0; i < na; i++) {
			/* warm-up, not counted: caches and TLB after the previous run */
			(void)single(a[i].fn);
			(void)single(a[i].fn);
			for (int k = k0; k < k0 + TAIL_RUN && k < rounds * ONE; k++)
				a[i].one[k] = ((double)single(a[i].fn) - overhead1) * ns_per_tick / TAIL_BATCH;
		}
	for (int i = 0; i < na; i++) {
		qsort(a[i].ns, (size_t)rounds, sizeof(double), cmp_d);
		qsort(a[i].one, (size_t)rounds * ONE, sizeof(double), cmp_d);
		a[i].p50 = pct(a[i].ns, rounds, 0.5);
		a[i].one_p50 = pct(a[i].one, rounds * ONE, 0.5);
		a[i].p99 = pct(a[i].one, rounds * ONE, 0.99);
		a[i].p999 = pct(a[i].one, rounds * ONE, 0.999);
		a[i].max = a[i].one[rounds * ONE - 1];
		free(a[i].ns);
		free(a[i].one);
	}
#define P50(i) a[i].p50
	/* indices follow the ALT order above */
	r[nr++] = (struct ratio){ "now_vs_ordered_scale", "vtime_now_ns / (lfence;rdtsc + scale)", P50(0) / P50(1), 1.10, true };
	r[nr++] = (struct ratio){ "now_vs_vdso", "vtime_now_ns / clock_gettime vDSO", P50(0) / P50(2), 1.00, true };
	r[nr++] = (struct ratio){ "syscall_vs_now", "syscall clock_gettime / vtime_now_ns", P50(3) / P50(0), 7.0, false };
	r[nr++] = (struct ratio){ "now_p999_vs_p50", "vtime_now_ns p99.9 / p50 (run alone)", a[0].p999 / a[0].one_p50,
				  2.0, true };
	r[nr++] = (struct ratio){ "baseline_p999_vs_p50", "baseline p99.9 / p50 (the machine's own tail)",
				  a[1].p999 / a[1].one_p50, 2.0, true };
	r[nr++] = (struct ratio){ "counter_now_vs_rdtsc", "vtime_counter_now / bare rdtsc", P50(7) / P50(8), 1.05, true };
	r[nr++] = (struct ratio){ "counter_to_ns_vs_raw_scale", "counter_to_ns(counter_now) / (rdtsc + mul + shift)", P50(9) / P50(10),
				  1.00, true };
	r[nr++] = (struct ratio){ "init_us", "lazy initialisation, us (first call, this process)", ci.init_ns / 1e3,
				  1000.0, true };
#undef P50
	if (o->json) {
		struct vt_json j;
		vj_begin(&j, stdout);
		vj_str(&j, "source", ci.source_name);
		vj_dbl(&j, "counter_hz", hz);
		vj_i64(&j, "batch", BATCH);
		vj_i64(&j, "rounds", rounds);
		vj_arr(&j, "results");
		for (int i = 0; i < na; i++) {
			vj_obj(&j, NULL);
			vj_str(&j, "name", a[i].key);
			vj_dbl(&j, "p50_ns", a[i].p50);
			vj_dbl(&j, "alone_p50_ns", a[i].one_p50);
			vj_dbl(&j, "p99_ns", a[i].p99);
			vj_dbl(&j, "p999_ns", a[i].p999);
			vj_dbl(&j, "max_ns", a[i].max);
			vj_end_obj(&j);
		}
		vj_end_arr(&j);
		vj_arr(&j, "ratios");
		for (int i = 0; i < nr; i++) {
			vj_obj(&j, NULL);
			vj_str(&j, "name", r[i].key);
			vj_dbl(&j, "value", r[i].value);
			vj_dbl(&j, "target", r[i].target);
			vj_str(&j, "target_is", r[i].at_most ? "at_most" : "at_least");
			vj_bool(&j, "met", r[i].at_most ? r[i].value <= r[i].target : r[i].value >= r[i].target);
			vj_end_obj(&j);
		}
		vj_end_arr(&j);
		vj_finish(&j);
		return VT_EXIT_OK;
	}
	printf("ns per call; counter %.0f Hz; vtime source %s\n"
	       "  p50: batches of %d calls, %d rounds interleaved across the alternatives (ratios come from these)\n"
	       "  p99, p99.9, max: %d batches of %d calls, each alternative alone in runs of %d batches (after 2 warm-up batches)\n",
	       hz, ci.source_name, BATCH, rounds, rounds * ONE, TAIL_BATCH, TAIL_RUN);
	printf("  %-36s %8s %8s %8s %9s\n", "", "p50", "p99", "p99.9", "max");
	for (int i = 0; i < na; i++)
		printf("  %-36s %8.2f %8.2f %8.2f %9.1f\n", a[i].label, a[i].p50, a[i].p99, a[i].p999, a[i].max);
	printf("\ntargets (measured in this run)                         value   target\n");
	for (int i = 0; i < nr; i++) {
		bool met = r[i].at_most ? r[i].value <= r[i].target : r[i].value >= r[i].target;
		printf("  %-50s %6.3f   %s %.2f  %s\n", r[i].what, r[i].value, r[i].at_most ? "<=" : ">=", r[i].target,
		       met ? "met" : "MISSED");
	}
	return VT_EXIT_OK;
}
