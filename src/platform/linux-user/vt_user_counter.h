/* SPDX-License-Identifier: MIT */
/* The counter as the Linux userspace shim uses it: <vtime/arch.h>'s reads
 * plus what Linux adds (rdtscp's TSC_AUX holds cpu | node << 12), and a
 * stand-in where the architecture has no counter vtime knows. Private to
 * the shim; the public hooks are in counter.c. */
#ifndef VT_USER_COUNTER_H
#define VT_USER_COUNTER_H

#include <stdint.h>
#include <vtime/arch.h>

#include "vt_port.h"

#define VT_CTR_ARCH VTIME_ARCH_NAME
#define VT_CTR_HAVE_CPU VTIME_ARCH_COUNTER_AUX

#if VTIME_ARCH_COUNTER
static VT_ALWAYS_INLINE uint64_t vt_ctr_raw(void) { return vtime_arch_counter(); }
static VT_ALWAYS_INLINE uint64_t vt_ctr_ordered(void) { return vtime_arch_counter_ordered(); }
#else
#define VT_CTR_NONE 1
#include <time.h>
/* No user-readable counter: CLOCK_MONOTONIC_RAW in ns stands in for it. */
static inline uint64_t vt_ctr_raw(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static inline uint64_t vt_ctr_ordered(void) { return vt_ctr_raw(); }
#endif

/* Ordered read plus the CPU it ran on; *cpu = -1 where the architecture
 * cannot tell. Needs rdtscp on x86 (callers check CPUID first). */
static VT_ALWAYS_INLINE uint64_t vt_ctr_cpu(int *cpu)
{
#if VTIME_ARCH_COUNTER_AUX
	uint32_t aux;
	uint64_t t = vtime_arch_counter_aux(&aux);
	*cpu = (int)(aux & 0xfffu); /* Linux: TSC_AUX = (node << 12) | cpu */
	return t;
#else
	*cpu = -1;
	return vt_ctr_ordered();
#endif
}

#endif
