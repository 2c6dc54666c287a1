/* SPDX-License-Identifier: MIT */
/* Real threads: readers on every CPU read the engine's line through the
 * inline template (TSC or CLOCK_MONOTONIC_RAW as the counter) and the global
 * clamp, and lazily try to recalibrate against CLOCK_MONOTONIC (try-lock:
 * losers skip); one writer recalibrates continuously. Checks: every clamped
 * result is no earlier than any result published before the read began;
 * feeds only fail with EBUSY; reads give up (EAGAIN) only rarely; after
 * warm-up the time stays within 1 ms of CLOCK_MONOTONIC read around it. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <vtime/arch.h>
#include <vtime/calib.h>
#include <vtime/clamp.h>
#include <vtime/error.h>

#include "vt_atomic.h"
#include "vt_calib_read.h"
#include "vt_clamp.h"
#include "vt_test.h"

/* The feed's event mask, or its error (negative). */
static inline int feed_ev(struct vtime_calib *e, const struct vtime_calib_sample *s)
{
	unsigned ev = 0;
	int err = vtime_calib_feed(e, s, &ev);
	return err ? err : (int)ev;
}

/* not armv7: its counter traps in user mode unless the kernel allows it */
#if VTIME_ARCH_COUNTER && !defined(__arm__)
static inline uint64_t counter(void *ctx)
{
	(void)ctx;
	return vtime_arch_counter_ordered();
}
#else
static inline uint64_t counter(void *ctx)
{
	struct timespec ts;
	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct shared {
	struct vtime_calib eng __attribute__((aligned(64)));
	struct vtime_clamp clamp __attribute__((aligned(64)));
	uint64_t witness __attribute__((aligned(64)));
	uint64_t violations, eagain, busy, feeds, far, reads, stop;
	unsigned long iters;
};

/* A sample bracketed by two counter reads; cost from the engine's own
 * estimate (or a nominal 1 GHz before it has one). */
static int feed(struct shared *sh)
{
	struct vtime_calib_stats st;
	uint64_t c0 = counter(NULL), r = mono_ns(), c1 = counter(NULL);
	struct vtime_calib_sample s = { c0 + (c1 - c0) / 2, r, 0 };
	vtime_calib_stats_get(&sh->eng, &st);
	s.cost_ns = st.hz ? (c1 - c0) * 1000000000ull / st.hz : (c1 - c0);
	return feed_ev(&sh->eng, &s);
}

static void *reader(void *arg)
{
	struct shared *sh = arg;
	for (unsigned long i = 0; i < sh->iters; i++) {
		uint64_t w = vt_load64(&sh->witness), ns, m0 = 0;
		/* witness load before the read (the happens-before edge) */
		vt_mb();
		if (i % 1024 == 0)
			m0 = mono_ns();
		int r = vt_calib_read_inline(&sh->eng, counter, NULL, &ns);
		if (r == VTIME_EAGAIN) {
			vt_fetch_add64(&sh->eagain, 1);
			continue;
		}
		if (r != 0)
			continue;
		uint64_t out = vt_clamp_apply_inline(&sh->clamp, ns);
		if ((int64_t)(out - w) < 0)
			vt_fetch_add64(&sh->violations, 1);
		uint64_t cur = vt_load64(&sh->witness);
		while ((int64_t)(out - cur) > 0 && !vt_cas64(&sh->witness, &cur, out))
			;
		if (i % 1024 == 0) {
			/* bracketed by two reference reads: preemption-proof */
			uint64_t m1 = mono_ns();
			if (i > sh->iters / 2 && (out > m1 + 1000000 || out + 1000000 < m0))
				vt_fetch_add64(&sh->far, 1);
		}
		if (i % 4096 == 0) { /* lazy recalibration: losers skip */
			int ev = feed(sh);
			if (ev == VTIME_EBUSY)
				vt_fetch_add64(&sh->busy, 1);
			else if (ev < 0)
				vt_fetch_add64(&sh->violations, 1);
		}
	}
	vt_fetch_add64(&sh->reads, sh->iters);
	return NULL;
}

static void *writer(void *arg)
{
	struct shared *sh = arg;
	while (!vt_load64(&sh->stop)) {
		int ev = feed(sh);
		if (ev >= 0)
			vt_fetch_add64(&sh->feeds, 1);
		else if (ev != VTIME_EBUSY)
			vt_fetch_add64(&sh->violations, 1);
		usleep(200);
	}
	return NULL;
}

static unsigned long long soak; /* --soak: reads to reach */

static void test_threads(void)
{
	static struct shared sh;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int n = ncpu < 2 ? 2 : (ncpu > 8 ? 8 : (int)ncpu);
	pthread_t th[8], wr;

	sh.iters = soak ? (unsigned long)(soak / (unsigned)n + 1) : vt_test_iters(200000);
	CU_ASSERT_EQUAL_FATAL(vtime_calib_init(&sh.eng, NULL), 0);
	/* two samples 1 ms apart give the first line (a slow first sample,
	 * e.g. page faults in the first clock_gettime, is dropped: retry) */
	for (int i = 0; i < 20 && !(feed(&sh) & VTIME_CALIB_EV_FIRST); i++)
		usleep(1500);
	uint64_t first = 0;
	CU_ASSERT_EQUAL_FATAL(vt_calib_read_inline(&sh.eng, counter, NULL, &first), 0);
	vtime_clamp_init(&sh.clamp, first - 1000000, 0);
	vt_store64(&sh.witness, first - 1000000);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&wr, NULL, writer, &sh), 0);
	for (int i = 0; i < n; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, reader, &sh), 0);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	vt_store64(&sh.stop, 1);
	pthread_join(wr, NULL);
	struct vtime_calib_stats st;
	vtime_calib_stats_get(&sh.eng, &st);
	printf("\n  %d readers x %lu reads (%llu in all), writer feeds %llu, lazy feeds skipped (busy) %llu, eagain %llu, "
	       "violations %llu, far from CLOCK_MONOTONIC %llu; engine: used %llu rejected %llu refits %llu steps %llu "
	       "hz %llu unc %llu ppb offset %lld ns",
	       n, sh.iters, (unsigned long long)sh.reads, (unsigned long long)sh.feeds, (unsigned long long)sh.busy, (unsigned long long)sh.eagain,
	       (unsigned long long)sh.violations, (unsigned long long)sh.far, (unsigned long long)st.samples_used,
	       (unsigned long long)st.samples_rejected, (unsigned long long)st.refits, (unsigned long long)st.steps,
	       (unsigned long long)st.hz, (unsigned long long)st.freq_unc_ppb, (long long)st.offset_ns);
	CU_ASSERT_EQUAL(sh.violations, 0);
	CU_ASSERT_EQUAL(sh.far, 0);
	CU_ASSERT(sh.eagain * 100 <= sh.reads); /* giving up is rare (a preempted publisher) */
	CU_ASSERT(st.refits > 2);
}

static const struct vt_test_case cases[] = {
	{ "readers on every CPU, lazy and dedicated feeders", test_threads },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	static const struct vt_test_suite suites[] = { { "calib-stress", cases }, { NULL, NULL } };
	soak = vt_test_soak(argc, argv);
	return vt_test_main(suites);
}
