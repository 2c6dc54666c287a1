/* SPDX-License-Identifier: MIT */
/* vtime in place of clock_gettime: time a piece of work with vtime_now_ns(),
 * timestamp events the tracer way (vtime_counter_now() now, vtime_counter_to_ns()
 * later), and print which source the clock uses and why. */
#include <stdio.h>
#include <time.h>
#include <vtime/clock.h>

#define EVENTS 8

static unsigned long work(unsigned long n)
{
	unsigned long x = 1;
	for (unsigned long i = 0; i < n; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	return x;
}

int main(void)
{
	struct vtime_clock_info ci;
	uint64_t ticks[EVENTS], t0, t1, last = 0;
	unsigned long sink = 0;
	struct timespec ts;

	/* before: clock_gettime(CLOCK_MONOTONIC, &ts); ns = ts.tv_sec * 1e9 + ts.tv_nsec */
	t0 = vtime_now_ns();
	sink += work(1000000);
	t1 = vtime_now_ns();
	printf("work took %llu ns\n", (unsigned long long)(t1 - t0));

	/* a tracer: raw counter in the hot path, conversion when writing out */
	for (int i = 0; i < EVENTS; i++) {
		ticks[i] = vtime_counter_now();
		sink += work(10000);
	}
	for (int i = 0; i < EVENTS; i++) {
		uint64_t ns = vtime_counter_to_ns(ticks[i]);
		printf("event %d at %llu ns%s\n", i, (unsigned long long)ns, ns < last ? " (out of order!)" : "");
		if (ns < last)
			return 1;
		last = ns;
	}

	/* same epoch as CLOCK_MONOTONIC */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("vtime_now_ns() - CLOCK_MONOTONIC = %lld ns\n",
	       (long long)(vtime_now_ns() - ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec)));

	if (vtime_clock_info(&ci) != 0)
		return 1;
	printf("source %s: %s\nfrequency %.0f Hz (from %s), %llu recalibrations\n", ci.source_name, ci.why,
	       ci.freq_hz, ci.freq_source, (unsigned long long)ci.recalibrations);
	return sink == 42 ? 2 : 0;
}
