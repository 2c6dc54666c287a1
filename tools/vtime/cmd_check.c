/* SPDX-License-Identifier: MIT */
/* vtime check: monotonicity across threads pinned to every CPU, and drift
 * against CLOCK_MONOTONIC. Exit 1 on any backward step. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <vtime/clock.h>

#include "vt_tool.h"

#define BRACKET_NS 250 /* drift samples bracketed tighter than this are kept */

static _Atomic uint64_t g_latest; /* largest value any thread has seen */
static atomic_int g_stop;

struct worker {
	pthread_t th;
	int cpu;
	bool pinned;
	bool sample_drift;
	uint64_t reads, back_local, back_global, worst_back;
	uint64_t drift_samples, drift_rejected;
	int64_t drift_max, drift_min;
};

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
	w->drift_min = INT64_MAX;
	w->drift_max = INT64_MIN;
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
			int64_t d;
			if (b - a > BRACKET_NS) {
				w->drift_rejected++;
				continue;
			}
			d = (int64_t)(v - (a + (b - a) / 2));
			if (d > w->drift_max)
				w->drift_max = d;
			if (d < w->drift_min)
				w->drift_min = d;
			w->drift_samples++;
		}
	}
	return NULL;
}

int cmd_check(const struct vt_opts *o)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct worker *w;
	struct vtime_clock_info ci;
	uint64_t t0, reads = 0, back = 0, backg = 0, worst = 0, ds = 0, dr = 0;
	int64_t dmax = INT64_MIN, dmin = INT64_MAX;
	bool tty = isatty(2) && !o->json, pinned = true, fail;
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
			fprintf(stderr, "\r  [%-40.*s] %5.1f/%.0f s", bar, "########################################", el,
				o->seconds);
			fflush(stderr);
		}
		nanosleep(&ts, NULL);
	}
	atomic_store_explicit(&g_stop, 1, memory_order_relaxed);
	for (int i = 0; i < nw; i++) {
		pthread_join(w[i].th, NULL);
		reads += w[i].reads;
		back += w[i].back_local;
		backg += w[i].back_global;
		if (w[i].worst_back > worst)
			worst = w[i].worst_back;
		ds += w[i].drift_samples;
		dr += w[i].drift_rejected;
		if (w[i].drift_samples) {
			if (w[i].drift_max > dmax)
				dmax = w[i].drift_max;
			if (w[i].drift_min < dmin)
				dmin = w[i].drift_min;
		}
		pinned = pinned && w[i].pinned;
	}
	if (tty)
		fprintf(stderr, "\r%60s\r", "");
	vtime_clock_info(&ci);
	if (!ds)
		dmax = dmin = 0;
	fail = back || backg || dmax > 1000000 || dmin < -1000000;
	if (o->json) {
		struct vt_json j;
		vj_begin(&j, stdout);
		vj_dbl(&j, "seconds", o->seconds);
		vj_i64(&j, "threads", nw);
		vj_bool(&j, "pinned", pinned);
		vj_str(&j, "source", ci.source_name);
		vj_u64(&j, "reads", reads);
		vj_u64(&j, "backward_same_thread", back);
		vj_u64(&j, "backward_cross_thread", backg);
		vj_u64(&j, "worst_backward_ns", worst);
		vj_u64(&j, "drift_samples", ds);
		vj_u64(&j, "drift_rejected", dr);
		vj_i64(&j, "drift_min_ns", dmin);
		vj_i64(&j, "drift_max_ns", dmax);
		vj_u64(&j, "drift_bracket_ns", BRACKET_NS);
		vj_u64(&j, "recalibrations", ci.recalibrations);
		vj_u64(&j, "steps", ci.steps);
		vj_u64(&j, "fallbacks", ci.fallbacks);
		vj_bool(&j, "ok", !fail);
		vj_finish(&j);
	} else {
		printf("threads             %d, %s (source %s)\n", nw, pinned ? "one pinned to each CPU" : "NOT all pinned",
		       ci.source_name);
		printf("reads               %llu in %.1f s (%.1f M/s)\n", (unsigned long long)reads, o->seconds,
		       reads / o->seconds / 1e6);
		printf("backward steps      %llu in a thread, %llu across threads%s", (unsigned long long)back,
		       (unsigned long long)backg, back || backg ? "" : "\n");
		if (back || backg)
			printf(" (worst %llu ns)\n", (unsigned long long)worst);
		printf("vs CLOCK_MONOTONIC  %+lld .. %+lld ns over %llu samples bracketed within %d ns (%llu looser ones dropped)\n",
		       (long long)dmin, (long long)dmax, (unsigned long long)ds, BRACKET_NS, (unsigned long long)dr);
		printf("recalibrations      %llu, steps %llu, fallbacks %llu\n", (unsigned long long)ci.recalibrations,
		       (unsigned long long)ci.steps, (unsigned long long)ci.fallbacks);
		printf("verdict             %s\n", fail ? "FAIL" : "ok: never backwards");
	}
	free(w);
	return fail ? VT_EXIT_FAIL : VT_EXIT_OK;
}
