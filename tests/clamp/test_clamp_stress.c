/* SPDX-License-Identifier: MIT */
/* Real threads on every CPU hammer one global clamp with skewed inputs
 * (a shared clock minus a per-read random lag, starting just below 2^64 so it
 * wraps). Checks the happens-before guarantee: every result is no earlier
 * than the largest result any thread published before the call started. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <vtime/clamp.h>

#include "vt_atomic.h"
#include "vt_test.h"

struct shared {
	struct vtime_clamp clamp __attribute__((aligned(64)));
	uint64_t clock __attribute__((aligned(64)));   /* the "true" time, fetch_add */
	uint64_t witness __attribute__((aligned(64))); /* max published result */
	uint64_t failures;
	unsigned long iters;
	uint64_t base;
};

static void *worker(void *arg)
{
	struct shared *sh = arg;
	uint64_t x = (uint64_t)(uintptr_t)&x | 1, prev = sh->base - 4096;

	for (unsigned long i = 0; i < sh->iters; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t w = vt_load64(&sh->witness);
		/* witness load before the clamp call (the happens-before edge) */
		vt_mb();
		uint64_t t = vt_fetch_add64(&sh->clock, 1 + (x & 3)) - (x >> 60) * 64;
		uint64_t out = vtime_clamp_apply(&sh->clamp, t);
		if ((int64_t)(out - w) < 0 || (int64_t)(out - prev) < 0)
			vt_fetch_add64(&sh->failures, 1);
		prev = out;
		/* publish: fetch-max via CAS */
		uint64_t cur = vt_load64(&sh->witness);
		while ((int64_t)(out - cur) > 0 && !vt_cas64(&sh->witness, &cur, out))
			;
	}
	return NULL;
}

static unsigned long long soak; /* --soak: applies to reach */

static void run(uint64_t base)
{
	static struct shared sh;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int n = ncpu < 2 ? 2 : (ncpu > 8 ? 8 : (int)ncpu);
	pthread_t th[8];

	sh.iters = soak ? (unsigned long)(soak / (2u * (unsigned)n) + 1) : vt_test_iters(200000);
	sh.base = base;
	sh.failures = 0;
	vtime_clamp_init(&sh.clamp, base - 4096, 0);
	vt_store64(&sh.clock, base);
	vt_store64(&sh.witness, base - 4096);
	for (int i = 0; i < n; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, worker, &sh), 0);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	printf("\n  %d threads x %lu applies from %#llx (%llu in all): %llu violations", n, sh.iters,
	       (unsigned long long)base, (unsigned long long)n * sh.iters, (unsigned long long)sh.failures);
	CU_ASSERT_EQUAL(sh.failures, 0);
	/* the clock passed the wrap for the high base: the clamp followed it */
	CU_ASSERT((int64_t)(vtime_clamp_last(&sh.clamp) - base) > 0);
}

static void test_from_zero(void) { run(4096); }
static void test_across_wrap(void) { run(UINT64_MAX - 50000); }

static const struct vt_test_case cases[] = {
	{ "threads: happens-before from 0", test_from_zero },
	{ "threads: happens-before across 2^64", test_across_wrap },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	static const struct vt_test_suite suites[] = { { "clamp-stress", cases }, { NULL, NULL } };
	soak = vt_test_soak(argc, argv); /* split between the two cases */
	return vt_test_main(suites);
}
