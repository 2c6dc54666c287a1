/* SPDX-License-Identifier: MIT */
/* A freestanding guest (no libc, no libgcc) using only the vendored vtime.h +
 * vtime.c: CI compiles both with -ffreestanding -nostdinc and links them with
 * -nostdlib -nostartfiles, which fails if the core needs anything else. */
#include "vtime.h"

/* What a bare-metal kernel provides; compilers may emit calls to these. */
void *memcpy(void *d, const void *s, __SIZE_TYPE__ n);
void *memset(void *d, int c, __SIZE_TYPE__ n);
void *memcpy(void *d, const void *s, __SIZE_TYPE__ n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;
	while (n--)
		*dp++ = *sp++;
	return d;
}
void *memset(void *d, int c, __SIZE_TYPE__ n)
{
	unsigned char *dp = d;
	while (n--)
		*dp++ = (unsigned char)c;
	return d;
}

/* The hypervisor writes this record (registered through an MSR on KVM). */
struct vtime_pvclock_vcpu_time_info vcpu0_time __attribute__((aligned(64)));
static volatile uint64_t counter_value; /* stands in for rdtsc / cntvct_el0 */

static uint64_t read_counter(void *ctx)
{
	(void)ctx;
	return counter_value;
}

uint64_t guest_clock_ns(void);
uint64_t guest_clock_ns(void)
{
	struct vtime_counter c = { read_counter, (void *)0 };
	struct vtime_pvclock_reading r;

	if (vtime_pvclock_read(&vcpu0_time, &c, 0, &r) != 0)
		return 0;
	if (vtime_pvclock_consume_stopped(&vcpu0_time)) {
		/* tell the watchdogs the gap was a pause, not a hang */
	}
	return r.ns;
}

/* Entry point for the link check (-e guest_entry): never run. */
volatile uint64_t guest_now;
void guest_entry(void);
void guest_entry(void)
{
	for (;;)
		guest_now = guest_clock_ns();
}
