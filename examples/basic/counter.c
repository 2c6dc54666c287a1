/* SPDX-License-Identifier: MIT */
/* This machine's userspace counter through vtime (rdtsc, cntvct_el0, rdtime):
 * reads it 10 ms apart. With --require, a missing counter is an error (CI
 * runs it that way under qemu for riscv64 and aarch64). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <vtime/clock.h>
#include <vtime/linux.h>
#include <vtime/error.h>

int main(int argc, char **argv)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 }, t0, t1;
	long long ns;
	struct vtime_counter c;
	uint64_t a, b;
	int err = vtime_counter_get(VTIME_COUNTER_ORDERED, &c);

	if (err) {
		printf("no ordered userspace counter: %s\n", vtime_strerror(err));
		return argc > 1 && strcmp(argv[1], "--require") == 0 ? 1 : 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	a = c.read(c.ctx);
	nanosleep(&ts, NULL);
	b = c.read(c.ctx);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec);
	printf("counter: %" PRIu64 " -> %" PRIu64 ": %" PRIu64 " ticks in %lld ns (~%.0f MHz)\n", a, b, b - a, ns,
	       (double)(b - a) * 1e3 / (double)ns);
	return b > a ? 0 : 1;
}
