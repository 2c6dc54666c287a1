/* SPDX-License-Identifier: MIT */
/* ns per call of the lost-tick engines (benchmark, not a test): host update
 * on time, update while slew catches up (sub-slot arithmetic), and guest
 * accounting on time and very late; beside a plain 64-bit division baseline
 * measured in the same run. VTIME_BENCH_ITERS scales the loops. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <vtime/ticks.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static volatile uint64_t sink;

int main(void)
{
	const char *e = getenv("VTIME_BENCH_ITERS");
	unsigned long n = e && *e ? strtoul(e, NULL, 0) : 2000000ul;
	const uint64_t P = 1000000;
	struct vtime_ticks t;
	struct vtime_ticks_result r;
	struct vtime_ticks_guest g;
	uint64_t t0, h = 0, acc = 0;
	double on_time, catchup, g_on, g_late, div;

	/* on time: one call per tick, no backlog */
	vtime_ticks_init(&t, P, VTIME_TICKS_SLEW, 0);
	t0 = now_ns();
	for (unsigned long i = 1; i <= n; i++) {
		vtime_ticks_update(&t, i * P, true, &r);
		acc += r.deliver;
	}
	on_time = (double)(now_ns() - t0) / n;

	/* catch-up: a backlog far larger than n, one call per sub-slot */
	vtime_ticks_init(&t, P, VTIME_TICKS_SLEW, 0);
	vtime_ticks_update(&t, (uint64_t)(n + 10) * 4 * P, true, &r);
	h = r.next;
	t0 = now_ns();
	for (unsigned long i = 0; i < n; i++) {
		vtime_ticks_update(&t, h, true, &r);
		acc += r.deliver;
		h = r.next;
	}
	catchup = (double)(now_ns() - t0) / n;

	vtime_ticks_guest_init(&g, P, 0);
	t0 = now_ns();
	for (unsigned long i = 1; i <= n; i++)
		acc += vtime_ticks_guest_account(&g, i * P + 17, NULL);
	g_on = (double)(now_ns() - t0) / n;

	vtime_ticks_guest_init(&g, P, 0);
	t0 = now_ns();
	for (unsigned long i = 1; i <= n; i++)
		acc += vtime_ticks_guest_account(&g, i * 1000 * P + 17, NULL); /* 1000 periods late each */
	g_late = (double)(now_ns() - t0) / n;

	t0 = now_ns();
	for (unsigned long i = 1; i <= n; i++) {
		volatile uint64_t d = i * 1000 * P + 17, p = P; /* volatile: a real divide */
		acc += d / p;
	}
	div = (double)(now_ns() - t0) / n;
	sink = acc;

	printf("iterations %lu\n", n);
	printf("vtime_ticks_update, on time        %7.1f ns/call\n", on_time);
	printf("vtime_ticks_update, slew catch-up  %7.1f ns/call (%.1fx on time)\n", catchup, catchup / on_time);
	printf("vtime_ticks_guest_account, on time %7.1f ns/call\n", g_on);
	printf("vtime_ticks_guest_account, late    %7.1f ns/call (a bare u64 division: %.1f ns; ratio %.1fx)\n",
	       g_late, div, g_late / div);
	return 0;
}
