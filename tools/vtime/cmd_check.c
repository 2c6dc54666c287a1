/* SPDX-License-Identifier: MIT */
/* vtime check: monotonicity across threads pinned to every CPU, and how far
 * vtime_now_ns() is from CLOCK_MONOTONIC. Exit 1 on any backward step, on
 * an error beyond 1 ms, and when it could not measure (fewer than
 * MIN_SAMPLES bracketed samples): never "ok" on nothing.
 *
 * Each sample brackets one vtime read between two CLOCK_MONOTONIC reads
 * [a, b]; the true error lies in [v - b, v - a]. Samples are kept by
 * bracket width (buckets of powers of two from 64 ns), so the bounds are
 * reported for the narrowest brackets that hold at least half of the
 * samples: under a slow clocksource (microseconds per read) they are
 * wider, and say so, instead of being dropped. An error outside the
 * bracket is established whatever the bracket; that is what fails. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <vtime/clock.h>

#include "vt_tool.h"

#define MIN_SAMPLES 100   /* fewer bracketed samples: no verdict but FAIL */
#define NBUCKET 18        /* brackets up to 64 << 16 ns (4 ms), then the rest */
#define FAR_NS 1000000    /* an established error beyond this fails */

static _Atomic uint64_t g_latest; /* largest value any thread has seen */
static atomic_int g_stop;

struct bucket {
	uint64_t n;
	int64_t lo, hi;          /* the true error lies in [lo, hi] for all of them */
	int64_t mid_min, mid_max; /* v minus the bracket's midpoint */
};

struct worker {
	pthread_t th;
	int cpu;
	bool pinned;
	bool sample_drift;
	uint64_t reads, back_local, back_global, worst_back;
	uint64_t samples;
	int64_t out_max, out_min; /* established: v - b when > 0, v - a when < 0 */
	struct bucket bk[NBUCKET];
};

static void bucket_init(struct bucket *b)
{
	b->n = 0;
	b->lo = b->mid_min = INT64_MAX;
	b->hi = b->mid_max = INT64_MIN;
}

static unsigned bucket_of(uint64_t br)
{
	unsigned i = 0;
	while (i < NBUCKET - 1 && br > (64ull << i))
		i++;
	return i;
}

static uint64_t mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t last = 0;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	w->pinned = pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
	w->out_max = 0;
	w->out_min = 0;
	for (int i = 0; i < NBUCKET; i++)
		bucket_init(&w->bk[i]);
	while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
		for (int i = 0; i < 256; i++) {
			/* what another thread published before our read */
			uint64_t seen = atomic_load_explicit(&g_latest, memory_order_acquire);
			uint64_t v = vtime_now_ns();
			w->reads++;
			if (v < last) {
				w->back_local++;
				if (last - v > w->worst_back)
					w->worst_back = last - v;
			}
			if (v < seen) {
				w->back_global++;
				if (seen - v > w->worst_back)
					w->worst_back = seen - v;
			}
			last = v;
			if ((i & 31) == 0) {
				uint64_t cur = atomic_load_explicit(&g_latest, memory_order_relaxed);
				while (v > cur && !atomic_compare_exchange_weak_explicit(&g_latest, &cur, v, memory_order_release,
											 memory_order_relaxed))
					;
			}
		}
		if (w->sample_drift) {
			uint64_t a = mono(), v = vtime_now_ns(), b = mono();
			struct bucket *k = &w->bk[bucket_of(b - a)];
			int64_t lo = (int64_t)(v - b), hi = (int64_t)(v - a), mid = (int64_t)(v - (a + (b - a) / 2));
			if (lo < k->lo)
				k->lo = lo;
			if (hi > k->hi)
				k->hi = hi;
			if (mid < k->mid_min)
				k->mid_min = mid;
			if (mid > k->mid_max)
				k->mid_max = mid;
			k->n++;
			if (lo > w->out_max)
				w->out_max = lo;
			if (hi < w->out_min)
				w->out_min = hi;
			w->samples++;
		}
	}
	return NULL;
}

int cmd_check(const struct vt_opts *o)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct worker *w;
	struct vtime_clock_info ci;
	struct bucket all[NBUCKET], rep;
	uint64_t t0, reads = 0, back = 0, backg = 0, worst = 0, ns = 0, nrep = 0, rep_br = 0, dur;
	int64_t out_max = 0, out_min = 0;
	bool tty = isatty(2) && !o->json, pinned = true, fail;
	const char *why = "never backwards, within the bounds above";
	cpu_set_t allowed;
	int nw = 0;

	if (o->argc) {
		vt_err("usage: vtime check [--seconds N] [--json]");
		return VT_EXIT_USAGE;
	}
	if (ncpu < 1)
		ncpu = 1;
	if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
		CPU_ZERO(&allowed);
	w = calloc((size_t)ncpu + 1, sizeof *w);
	if (!w) {
		vt_err("check: out of memory");
		return VT_EXIT_ERR;
	}
	(void)vtime_now_ns();
	t0 = mono();
	for (int c = 0; c < CPU_SETSIZE && nw < ncpu; c++) {
		if (CPU_COUNT(&allowed) && !CPU_ISSET(c, &allowed))
			continue;
		w[nw].cpu = c;
		w[nw].sample_drift = true;
		if (pthread_create(&w[nw].th, NULL, work, &w[nw]) != 0) {
			vt_err("check: cannot start a thread");
			return VT_EXIT_ERR;
		}
		nw++;
	}
	for (;;) {
		double el = (mono() - t0) / 1e9;
		struct timespec ts = { 0, 100000000L };
		if (el >= o->seconds)
			break;
		if (tty) {
			int bar = (int)(el / o->seconds * 40);
			fprintf(stderr, "\r  [%-40.*s] %5.1f/%.1f s", bar, "########################################", el,
				o->seconds);
			fflush(stderr);
		}
		if (o->seconds - el < 0.1)
			ts.tv_nsec = (long)((o->seconds - el) * 1e9);
		nanosleep(&ts, NULL);
	}
	atomic_store_explicit(&g_stop, 1, memory_order_relaxed);
	dur = mono() - t0;
	for (int i = 0; i < NBUCKET; i++)
		bucket_init(&all[i]);
	for (int i = 0; i < nw; i++) {
		pthread_join(w[i].th, NULL);
		reads += w[i].reads;
		back += w[i].back_local;
		backg += w[i].back_global;
		if (w[i].worst_back > worst)
			worst = w[i].worst_back;
		ns += w[i].samples;
		if (w[i].out_max > out_max)
			out_max = w[i].out_max;
		if (w[i].out_min < out_min)
			out_min = w[i].out_min;
		for (int k = 0; k < NBUCKET; k++) {
			struct bucket *a = &all[k], *b = &w[i].bk[k];
			a->n += b->n;
			a->lo = b->lo < a->lo ? b->lo : a->lo;
			a->hi = b->hi > a->hi ? b->hi : a->hi;
			a->mid_min = b->mid_min < a->mid_min ? b->mid_min : a->mid_min;
			a->mid_max = b->mid_max > a->mid_max ? b->mid_max : a->mid_max;
		}
		pinned = pinned && w[i].pinned;
	}
	if (tty)
		fprintf(stderr, "\r%60s\r", "");
	/* the narrowest brackets holding at least half of the samples (and at
	 * least MIN_SAMPLES of them) */
	bucket_init(&rep);
	for (int k = 0; k < NBUCKET; k++) {
		struct bucket *a = &all[k];
		if (!a->n)
			continue;
		rep.n += a->n;
		rep.lo = a->lo < rep.lo ? a->lo : rep.lo;
		rep.hi = a->hi > rep.hi ? a->hi : rep.hi;
		rep.mid_min = a->mid_min < rep.mid_min ? a->mid_min : rep.mid_min;
		rep.mid_max = a->mid_max > rep.mid_max ? a->mid_max : rep.mid_max;
		rep_br = k == NBUCKET - 1 ? UINT64_MAX : 64ull << k;
		if (rep.n * 2 >= ns && rep.n >= MIN_SAMPLES)
			break;
	}
	nrep = rep.n;
	if (!nrep)
		rep.lo = rep.hi = rep.mid_min = rep.mid_max = 0;
	vtime_clock_info(&ci);
	fail = true;
	if (back || backg)
		why = "went backwards";
	else if (ns < MIN_SAMPLES)
		why = "could not measure: too few bracketed samples (run longer)";
	else if (out_max > FAR_NS || out_min < -FAR_NS)
		why = "more than 1 ms from CLOCK_MONOTONIC";
	else
		fail = false;
	if (o->json) {
		struct vt_json j;
		vj_begin(&j, stdout);
		vj_dbl(&j, "seconds", o->seconds);
		vj_dbl(&j, "measured_seconds", dur / 1e9);
		vj_i64(&j, "threads", nw);
		vj_bool(&j, "pinned", pinned);
		vj_str(&j, "source", ci.source_name);
		vj_u64(&j, "reads", reads);
		vj_u64(&j, "backward_same_thread", back);
		vj_u64(&j, "backward_cross_thread", backg);
		vj_u64(&j, "worst_backward_ns", worst);
		vj_u64(&j, "drift_samples", ns);
		vj_u64(&j, "min_samples", MIN_SAMPLES);
		vj_u64(&j, "drift_reported", nrep);
		vj_u64(&j, "drift_rejected", ns - nrep);
		if (rep_br == UINT64_MAX)
			vj_null(&j, "drift_bracket_ns");
		else
			vj_u64(&j, "drift_bracket_ns", rep_br);
		vj_i64(&j, "drift_min_ns", rep.mid_min);
		vj_i64(&j, "drift_max_ns", rep.mid_max);
		vj_i64(&j, "bound_min_ns", rep.lo);
		vj_i64(&j, "bound_max_ns", rep.hi);
		vj_i64(&j, "outside_ahead_ns", out_max);
		vj_i64(&j, "outside_behind_ns", out_min);
		vj_arr(&j, "brackets");
		for (int k = 0; k < NBUCKET; k++) {
			if (!all[k].n)
				continue;
			vj_obj(&j, NULL);
			if (k == NBUCKET - 1)
				vj_null(&j, "up_to_ns");
			else
				vj_u64(&j, "up_to_ns", 64ull << k);
			vj_u64(&j, "samples", all[k].n);
			vj_i64(&j, "bound_min_ns", all[k].lo);
			vj_i64(&j, "bound_max_ns", all[k].hi);
			vj_end_obj(&j);
		}
		vj_end_arr(&j);
		vj_u64(&j, "recalibrations", ci.recalibrations);
		vj_u64(&j, "steps", ci.steps);
		vj_u64(&j, "fallbacks", ci.fallbacks);
		vj_bool(&j, "ok", !fail);
		vj_str(&j, "verdict", why);
		vj_finish(&j);
	} else {
		char br[32];
		if (rep_br == UINT64_MAX)
			snprintf(br, sizeof br, "any width");
		else
			snprintf(br, sizeof br, "within %llu ns", (unsigned long long)rep_br);
		printf("threads             %d, %s (source %s)\n", nw, pinned ? "one pinned to each CPU" : "NOT all pinned",
		       ci.source_name);
		printf("reads               %llu in %.3g s (%.1f M/s)\n", (unsigned long long)reads, dur / 1e9,
		       dur ? reads / (dur / 1e9) / 1e6 : 0.0);
		printf("backward steps      %llu in a thread, %llu across threads%s", (unsigned long long)back,
		       (unsigned long long)backg, back || backg ? "" : "\n");
		if (back || backg)
			printf(" (worst %llu ns)\n", (unsigned long long)worst);
		printf("vs CLOCK_MONOTONIC  %llu bracketed samples; the %llu bracketed %s: error within %+lld .. %+lld ns "
		       "(bracket midpoints %+lld .. %+lld ns)\n",
		       (unsigned long long)ns, (unsigned long long)nrep, br, (long long)rep.lo, (long long)rep.hi,
		       (long long)rep.mid_min, (long long)rep.mid_max);
		printf("outside a bracket   at most %lld ns ahead, %lld ns behind (established, in any sample)\n",
		       (long long)out_max, (long long)-out_min);
		printf("recalibrations      %llu, steps %llu, fallbacks %llu\n", (unsigned long long)ci.recalibrations,
		       (unsigned long long)ci.steps, (unsigned long long)ci.fallbacks);
		printf("verdict             %s: %s\n", fail ? "FAIL" : "ok", why);
	}
	free(w);
	return fail ? VT_EXIT_FAIL : VT_EXIT_OK;
}
