/* SPDX-License-Identifier: MIT */
/* Clamp unit tests: every scope, from 0 and across the 2^64 wrap, and a proof
 * that a value which does not grow never writes the shared line (the clamp
 * sits in a read-only page: a write, even a failed CAS, would fault). */
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include <vtime/clamp.h>
#include <vtime/error.h>

#include "vt_test.h"

static const uint64_t starts[] = { 0, UINT64_MAX - 1000 };

static void test_abi(void)
{
	CU_ASSERT_EQUAL(sizeof(struct vtime_clamp), 64);
	CU_ASSERT_EQUAL(offsetof(struct vtime_clamp, last), 0);
	CU_ASSERT_EQUAL(offsetof(struct vtime_clamp, flags), 8);
	CU_ASSERT_EQUAL(sizeof(struct vtime_clamp_local), 8);
}

static void test_init_errors(void)
{
	struct vtime_clamp c;
	CU_ASSERT_EQUAL(vtime_clamp_init(NULL, 0, 0), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_clamp_init(&c, 0, 0x80), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_clamp_init(&c, 5, VTIME_CLAMP_TRUST_STABLE), 0);
	CU_ASSERT_EQUAL(vtime_clamp_last(&c), 5);
}

/* The global clamp returns max(t, history), across the wrap. */
static void test_global_max(void)
{
	for (unsigned s = 0; s < 2; s++) {
		uint64_t b = starts[s];
		struct vtime_clamp c;
		CU_ASSERT_EQUAL_FATAL(vtime_clamp_init(&c, b, 0), 0);
		CU_ASSERT_EQUAL(vtime_clamp_apply(&c, b + 10), b + 10);
		CU_ASSERT_EQUAL(vtime_clamp_apply(&c, b + 7), b + 10);  /* earlier: held */
		CU_ASSERT_EQUAL(vtime_clamp_apply(&c, b + 10), b + 10); /* equal */
		CU_ASSERT_EQUAL(vtime_clamp_apply(&c, b + 2000), b + 2000); /* wraps for the 2^64 start */
		CU_ASSERT_EQUAL(vtime_clamp_apply(&c, b + 1500), b + 2000);
		CU_ASSERT_EQUAL(vtime_clamp_last(&c), b + 2000);
	}
}

/* Sweep: outputs never decrease and equal the running max. */
static void test_global_sweep(void)
{
	for (unsigned s = 0; s < 2; s++) {
		struct vtime_clamp c;
		uint64_t x = 88172645463325252ull, t = starts[s], max = starts[s], prev = starts[s];
		vtime_clamp_init(&c, starts[s], 0);
		for (int i = 0; i < 100000; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			t += x % 64;
			uint64_t in = t - (x >> 58); /* up to 63 behind */
			if ((int64_t)(in - max) > 0)
				max = in;
			uint64_t out = vtime_clamp_apply(&c, in);
			if (out != max || (int64_t)(out - prev) < 0) {
				CU_FAIL("clamp output is not the running max");
				break;
			}
			prev = out;
		}
	}
}

static struct vtime_clamp *ro_clamp(uint64_t last, unsigned flags, void **page, size_t *len)
{
	*len = (size_t)sysconf(_SC_PAGESIZE);
	*page = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*page == MAP_FAILED)
		return NULL;
	struct vtime_clamp *c = *page;
	vtime_clamp_init(c, last, flags);
	mprotect(*page, *len, PROT_READ);
	return c;
}

/* Not-later values only load: the read-only page proves no write (no CAS). */
static void test_no_write_when_unchanged(void)
{
	for (unsigned s = 0; s < 2; s++) {
		void *page;
		size_t len;
		uint64_t b = starts[s] + 500;
		struct vtime_clamp *c = ro_clamp(b, VTIME_CLAMP_TRUST_STABLE, &page, &len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		CU_ASSERT_EQUAL(vtime_clamp_apply(c, b), b);
		CU_ASSERT_EQUAL(vtime_clamp_apply(c, b - 1), b);
		CU_ASSERT_EQUAL(vtime_clamp_apply(c, b - 400), b);
		CU_ASSERT_EQUAL(vtime_clamp_apply_stable(c, b - 3, false), b);
		/* stable and trusted: read-only even when t is later */
		CU_ASSERT_EQUAL(vtime_clamp_apply_stable(c, b + 100, true), b + 100);
		CU_ASSERT_EQUAL(vtime_clamp_apply_stable(c, b - 100, true), b);
		CU_ASSERT_EQUAL(vtime_clamp_last(c), b);
		munmap(page, len);
	}
}

static void test_stable_scope(void)
{
	for (unsigned s = 0; s < 2; s++) {
		uint64_t b = starts[s];
		struct vtime_clamp trusted, untrusted;
		vtime_clamp_init(&trusted, b, VTIME_CLAMP_TRUST_STABLE);
		vtime_clamp_init(&untrusted, b, 0);
		/* unstable reads are fully clamped */
		CU_ASSERT_EQUAL(vtime_clamp_apply_stable(&trusted, b + 50, false), b + 50);
		CU_ASSERT_EQUAL(vtime_clamp_apply_stable(&trusted, b + 40, false), b + 50);
		/* a stable read never goes below an earlier unstable one... */
		CU_ASSERT_EQUAL(vtime_clamp_apply_stable(&trusted, b + 45, true), b + 50);
		/* ...and does not record itself */
		CU_ASSERT_EQUAL(vtime_clamp_apply_stable(&trusted, b + 90, true), b + 90);
		CU_ASSERT_EQUAL(vtime_clamp_last(&trusted), b + 50);
		/* documented gap: an unstable read after stable ones sees only the record */
		CU_ASSERT_EQUAL(vtime_clamp_apply_stable(&trusted, b + 60, false), b + 60);
		/* without the platform's word the stable claim is ignored */
		CU_ASSERT_EQUAL(vtime_clamp_apply_stable(&untrusted, b + 90, true), b + 90);
		CU_ASSERT_EQUAL(vtime_clamp_apply_stable(&untrusted, b + 60, true), b + 90);
		CU_ASSERT_EQUAL(vtime_clamp_last(&untrusted), b + 90);
	}
}

static void test_local_scope(void)
{
	for (unsigned s = 0; s < 2; s++) {
		uint64_t b = starts[s];
		struct vtime_clamp_local l;
		vtime_clamp_local_init(&l, b);
		CU_ASSERT_EQUAL(vtime_clamp_local_apply(&l, b + 3), b + 3);
		CU_ASSERT_EQUAL(vtime_clamp_local_apply(&l, b + 1), b + 3);
		CU_ASSERT_EQUAL(vtime_clamp_local_apply(&l, b + 1003), b + 1003);
		CU_ASSERT_EQUAL(vtime_clamp_local_apply(&l, b + 1002), b + 1003);
	}
}

/* Resume: the source restarts lower; after reset the clamp follows it. */
static void test_reset(void)
{
	for (unsigned s = 0; s < 2; s++) {
		uint64_t b = starts[s];
		struct vtime_clamp c;
		vtime_clamp_init(&c, b, 0);
		CU_ASSERT_EQUAL(vtime_clamp_apply(&c, b + 900), b + 900);
		CU_ASSERT_EQUAL(vtime_clamp_apply(&c, b + 20), b + 900);
		vtime_clamp_reset(&c, b + 10);
		CU_ASSERT_EQUAL(vtime_clamp_last(&c), b + 10);
		CU_ASSERT_EQUAL(vtime_clamp_apply(&c, b + 20), b + 20);
		CU_ASSERT_EQUAL(vtime_clamp_apply(&c, b + 15), b + 20);
	}
}

static const struct vt_test_case cases[] = {
	{ "abi: sizeof/offsetof", test_abi },
	{ "init rejects NULL and unknown flags", test_init_errors },
	{ "global: max of history, from 0 and across 2^64", test_global_max },
	{ "global: 100k random inputs give the running max", test_global_sweep },
	{ "no shared write when the value does not grow", test_no_write_when_unchanged },
	{ "skip-while-stable scope", test_stable_scope },
	{ "per-thread scope", test_local_scope },
	{ "reset for resume", test_reset },
	{ NULL, NULL },
};

int main(void)
{
	static const struct vt_test_suite suites[] = { { "clamp", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
