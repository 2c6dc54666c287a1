/* SPDX-License-Identifier: MIT */
/* fork(): the child keeps a clock that continues the parent's, and can
 * recalibrate even if the parent was mid-maintenance when it forked. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vtime/clock.h>

#include "vt_clock.h"
#include "vt_test.h"

static uint64_t mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Child body: exit status 0 when every check holds, else the failed check's number. */
static int child_checks(uint64_t parent_last, bool expect_recal)
{
	struct vtime_clock_info a, b;
	uint64_t last = parent_last, end;

	if (vtime_clock_info(&a) != 0)
		return 10;
	end = mono() + 120000000u; /* past several recalibration deadlines */
	while (mono() < end) {
		uint64_t m0 = mono(), v = vtime_now_ns(), m1 = mono();
		if (v < last)
			return 11;
		last = v;
		if (m1 - m0 < 5000 && (v + 50000 < m0 || v > m1 + 50000))
			return 12;
	}
	if (vtime_clock_info(&b) != 0)
		return 13;
	if (expect_recal && b.recalibrations <= a.recalibrations)
		return 14;
	return 0;
}

static int run_child(uint64_t parent_last, bool expect_recal)
{
	int st = -1;
	pid_t p = fork();

	if (p == 0)
		_exit(child_checks(parent_last, expect_recal));
	if (p < 0)
		return -1;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static void test_fork_after_init(void)
{
	uint64_t v = vtime_now_ns();
	int rc = run_child(v, true);

	printf("\n  child status %d", rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(vtime_now_ns() >= v);
}

/* Forked while this process held the maintenance lock (as a thread inside
 * maintenance would): the child takes it over and recalibrates. */
static void test_fork_with_lock_held(void)
{
	uint64_t v = vtime_now_ns();
	int rc;

	CU_ASSERT_EQUAL_FATAL(vt_clock_test_lock(), 0);
	rc = run_child(v, true);
	vt_clock_test_unlock();
	printf("\n  child status %d", rc);
	CU_ASSERT_EQUAL(rc, 0);
}

/* Forked before the first call: the child initialises on its own. */
static void test_fork_before_init(void)
{
	int rc;

	vt_clock_reset();
	rc = run_child(0, true);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(vtime_now_ns() > 0);
}

int main(void)
{
	static const struct vt_test_case cases[] = {
		{ "fork after init", test_fork_after_init },
		{ "fork with the maintenance lock held", test_fork_with_lock_held },
		{ "fork before init", test_fork_before_init },
		{ NULL, NULL },
	};
	static const struct vt_test_suite suites[] = { { "fork", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
