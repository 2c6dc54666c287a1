/* SPDX-License-Identifier: MIT */
/* Shared CUnit runner glue: every test program calls vt_test_main() with its
 * suites; the process exits non-zero on any failure or registry error. */
#ifndef VT_TEST_H
#define VT_TEST_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vt_test_case {
	const char *name;
	CU_TestFunc fn;
};

struct vt_test_suite {
	const char *name;
	const struct vt_test_case *cases; /* terminated by { NULL, NULL } */
};

/* Iteration count from the environment (VTIME_TEST_ITERS scales stress and
 * randomised tests), defaulting to dflt. */
static inline unsigned long vt_test_iters(unsigned long dflt)
{
	const char *s = getenv("VTIME_TEST_ITERS");
	if (s && *s) {
		unsigned long v = strtoul(s, NULL, 0);
		if (v)
			return v;
	}
	return dflt;
}

/* xorshift64 (Marsaglia): the tests' reproducible random numbers from a
 * caller-held nonzero state. */
static inline uint64_t vt_test_rand(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

/* Soak mode: a stress test run as `prog --soak` (meson test --benchmark
 * --suite soak) must reach VTIME_SOAK_READS reads (default 1e9; CI runs a
 * small slice). Returns that target, or 0 when not soaking. */
static inline unsigned long long vt_test_soak(int argc, char **argv)
{
	const char *s = getenv("VTIME_SOAK_READS");
	unsigned long long v = s && *s ? strtoull(s, NULL, 0) : 0;

	if (argc < 2 || strcmp(argv[1], "--soak") != 0)
		return 0;
	return v ? v : 1000000000ull;
}

static inline int vt_test_main(const struct vt_test_suite *suites)
{
	unsigned fails;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (const struct vt_test_suite *s = suites; s->name; s++) {
		CU_pSuite cs = CU_add_suite(s->name, NULL, NULL);
		if (!cs)
			return 2;
		for (const struct vt_test_case *c = s->cases; c->name; c++) {
			/* VTIME_TEST_ONLY=text: only the cases whose name contains it */
			const char *only = getenv("VTIME_TEST_ONLY");
			if (only && *only && !strstr(c->name, only))
				continue;
			if (!CU_add_test(cs, c->name, c->fn))
				return 2;
		}
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		return 2;
	fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	printf("\n%u passed, %u failed\n", CU_get_number_of_tests_run() - CU_get_number_of_tests_failed(),
	       CU_get_number_of_tests_failed());
	CU_cleanup_registry();
	return fails ? 1 : 0;
}

#endif
