/* SPDX-License-Identifier: MIT */
/* README and docs/userspace.md: the userspace clock starts no thread and
 * does not sleep to calibrate. The process has one thread before and after
 * the first vtime_now_ns() and a few thousand reads after it, and the first
 * call (the lazy initialisation, about 0.3 ms here) returns within 100 ms,
 * far below any calibration sleep (peers sleep 10-200 ms). */
#include <dirent.h>
#include <stdint.h>
#include <time.h>
#include <vtime/clock.h>

#include "vt_test.h"

static unsigned threads_now(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void test_no_thread_no_sleep(void)
{
	unsigned before = threads_now();
	uint64_t t0 = mono_ns(), v = vtime_now_ns(), t1 = mono_ns(), last = v;

	printf("\n  first vtime_now_ns(): %.3f ms; threads before %u", (t1 - t0) / 1e6, before);
	CU_ASSERT(before == 1);
	CU_ASSERT(t1 - t0 < 100000000u);
	for (int i = 0; i < 200000; i++) { /* past the first recalibration deadlines */
		uint64_t x = vtime_now_ns();
		CU_ASSERT_FATAL(x >= last);
		last = x;
	}
	printf(", after %u", threads_now());
	CU_ASSERT_EQUAL(threads_now(), before);
}

static const struct vt_test_case cases[] = {
	{ "no thread and no calibration sleep", test_no_thread_no_sleep },
	{ NULL, NULL },
};

int main(void)
{
	static const struct vt_test_suite suites[] = { { "userspace", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
