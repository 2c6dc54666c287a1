/* SPDX-License-Identifier: MIT */
/* Scale conformance: every row of time-scale-vectors.tsv (KVM/Xen values). */
#include <stdio.h>
#include <string.h>
#include <vtime/error.h>
#include <vtime/scale.h>

#include "vt_test.h"

#ifndef VT_VECTORS_TSV
#error "VT_VECTORS_TSV must name tests/time-scale-vectors.tsv"
#endif

static void test_vectors(void)
{
	FILE *f = fopen(VT_VECTORS_TSV, "r");
	char line[256], dir[32];
	unsigned long long from, to, mul;
	int shift, rows = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof line, f)) {
		struct vtime_scale s;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		CU_ASSERT_EQUAL_FATAL(sscanf(line, "%31s %llu %llu %d %llu", dir, &from, &to, &shift, &mul), 5);
		CU_ASSERT_EQUAL(vtime_scale_init(&s, from, to), 0);
		CU_ASSERT_EQUAL(s.shift, shift);
		CU_ASSERT_EQUAL(s.mul, mul);
		if (s.shift != shift || s.mul != mul)
			printf("\n  mismatch %s %llu->%llu: got (%d, %u) want (%d, %llu)", dir, from, to, s.shift,
			       s.mul, shift, mul);
		rows++;
	}
	fclose(f);
	CU_ASSERT(rows >= 18);
}

static void test_from_hz(void)
{
	struct vtime_scale s = { 3303822267u, -1 };
	CU_ASSERT_EQUAL(vtime_scale_from_hz(&s), 2599999000ull);
	CU_ASSERT_EQUAL(vtime_scale_init(&s, 3000000000ull, VTIME_NSEC_PER_SEC), 0);
	CU_ASSERT_EQUAL(vtime_scale_from_hz(&s), 3000000000ull);
	s.mul = 0;
	CU_ASSERT_EQUAL(vtime_scale_from_hz(&s), 0);
}

static void test_init_errors(void)
{
	struct vtime_scale s;
	CU_ASSERT_EQUAL(vtime_scale_init(&s, 0, 1000), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_scale_init(&s, 1000, 0), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_scale_init(NULL, 1000, 1000), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_scale_init(&s, 1, UINT64_MAX), VTIME_ERANGE);
	CU_ASSERT_STRING_EQUAL(vtime_strerror(VTIME_ERANGE), "value or ratio not representable");
}

static const struct vt_test_case cases[] = {
	{ "kvm/xen conformance vectors", test_vectors },
	{ "frequency recovery in Hz", test_from_hz },
	{ "init rejects bad input", test_init_errors },
	{ NULL, NULL },
};

int main(void)
{
	const struct vt_test_suite suites[] = { { "scale", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
