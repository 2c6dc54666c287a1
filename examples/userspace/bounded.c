/* SPDX-License-Identifier: MIT */
/* Time with an error bound in place of a bare CLOCK_REALTIME timestamp.
 *
 * Before: a timestamp from clock_gettime(CLOCK_REALTIME) is compared as if
 * it were exact ("the lease expires at T: is it over?"), which is wrong by
 * however far the clock is off, and nothing says how far.
 *
 * After: vtime_bounded_now() gives an interval that holds true time, with a
 * status; vtime_bounded_after() / _before() answer only what is certain,
 * and "not certain" is a third answer the program must handle. The program
 * prints the interval, what the bound rests on (vtime_bounded_info), a
 * lease check both ways, and a commit-wait (wait until a timestamp has
 * certainly passed, TrueTime's rule), bounded to 100 ms here, and a loop
 * of timestamps through the interval form (vtime_interval_now).
 *
 * Exit status 0 whatever the machine offers (an unknown bound is an answer);
 * 1 if the library contradicts itself (an interval that does not hold
 * CLOCK_REALTIME while claiming a bound far wider than the read gap). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>
#include <vtime/clock.h>

static const char *status_name(uint32_t s)
{
	switch (s) {
	case VTIME_BOUND_SYNCHRONIZED: return "synchronized";
	case VTIME_BOUND_FREE_RUNNING: return "free-running";
	case VTIME_BOUND_DISRUPTED: return "disrupted";
	default: return "unknown";
	}
}

static bool has_bound(const struct vtime_bounded *b)
{
	return b->status == VTIME_BOUND_SYNCHRONIZED || b->status == VTIME_BOUND_FREE_RUNNING;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(void)
{
	struct vtime_bounded_info info;
	struct vtime_bounded b;
	uint64_t rt0, rt1, lease_end;
	int rc = 0;

	/* ---- before: one number, no error ---- */
	rt0 = realtime_ns();
	lease_end = rt0 + 5000000; /* a lease that ends in 5 ms */
	printf("before: CLOCK_REALTIME %llu ns; 'lease over?' %s (as if the clock were exact)\n",
	       (unsigned long long)rt0, realtime_ns() > lease_end ? "yes" : "no");

	/* ---- after: an interval, a status, a source ---- */
	rt0 = realtime_ns();
	b = vtime_bounded_now();
	rt1 = realtime_ns();
	vtime_bounded_info(&info);
	printf("after:  [%llu, %llu] ns, %s, source %s\n", (unsigned long long)b.earliest_ns,
	       (unsigned long long)b.latest_ns, status_name(b.status),
	       b.source == VTIME_BOUND_SOURCE_VMCLOCK  ? "VMClock"
	       : b.source == VTIME_BOUND_SOURCE_KERNEL ? "kernel"
						       : "none");
	printf("        why: %s\n", info.why);
	if (has_bound(&b)) {
		printf("        width %llu ns\n", (unsigned long long)(b.latest_ns - b.earliest_ns));
		/* CLOCK_REALTIME is one estimate of true time: when the bound
		 * rests on it (kernel source) it lies inside, give or take the
		 * gap between the reads */
		if (b.source == VTIME_BOUND_SOURCE_KERNEL && (rt1 < b.earliest_ns || rt0 > b.latest_ns)) {
			printf("        CLOCK_REALTIME [%llu, %llu] is outside the interval\n", (unsigned long long)rt0,
			       (unsigned long long)rt1);
			rc = 1;
		}
	}

	/* the lease check: three answers, not two */
	b = vtime_bounded_now();
	if (vtime_bounded_after(&b, lease_end))
		printf("lease:  certainly over\n");
	else if (vtime_bounded_before(&b, lease_end))
		printf("lease:  certainly not over yet: safe to act as the holder\n");
	else
		printf("lease:  cannot tell (%s): act as if it might be over\n",
		       has_bound(&b) ? "the end lies inside the interval" : "no bound");

	/* commit-wait: stamp with the latest end, wait until it has passed
	 * everywhere (earliest beyond it); at most 100 ms here */
	b = vtime_bounded_now();
	if (has_bound(&b)) {
		uint64_t stamp = b.latest_ns, waited = 0;
		while (!vtime_bounded_after(&b, stamp) && waited < 100000000u) {
			struct timespec ts = { 0, 50000 };
			nanosleep(&ts, NULL);
			waited += 50000;
			b = vtime_bounded_now();
		}
		printf("commit: stamp %llu %s\n", (unsigned long long)stamp,
		       vtime_bounded_after(&b, stamp) ? "has certainly passed" : "not certainly passed within 100 ms");
	} else {
		printf("commit: no bound, so no commit-wait can finish (the caller must wait for one or refuse)\n");
	}

	/* many timestamps in a hot loop: the interval form, the same interval
	 * with its two ends returned in registers and the status beside it */
	{
		uint64_t widest = 0;
		unsigned n = 0;
		uint32_t st = VTIME_BOUND_UNKNOWN;
		for (; n < 1000; n++) {
			struct vtime_interval iv = vtime_interval_now(&st);
			if (st != VTIME_BOUND_SYNCHRONIZED && st != VTIME_BOUND_FREE_RUNNING)
				break; /* [0, UINT64_MAX]: no bound */
			if (iv.latest_ns - iv.earliest_ns > widest)
				widest = iv.latest_ns - iv.earliest_ns;
		}
		if (n == 1000)
			printf("loop:   1000 intervals (vtime_interval_now), the widest %llu ns\n", (unsigned long long)widest);
		else
			printf("loop:   vtime_interval_now: %s after %u intervals\n", status_name(st), n);
	}
	return rc;
}
