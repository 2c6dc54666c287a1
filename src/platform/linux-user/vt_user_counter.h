/* SPDX-License-Identifier: MIT */
/* The counter as the Linux userspace shim uses it: <vtime/arch.h>'s reads
 * plus what Linux adds (rdtscp's TSC_AUX holds cpu | node << 12), and a
 * stand-in where the architecture has no counter vtime knows. Private to
 * the shim; the public hooks are in counter.c. */
#ifndef VT_USER_COUNTER_H
#define VT_USER_COUNTER_H

#include <stdbool.h>
#include <stdint.h>
#include <vtime/arch.h>

#include "vt_port.h"

#define VT_CTR_ARCH VTIME_ARCH_NAME
#define VT_CTR_HAVE_CPU VTIME_ARCH_COUNTER_AUX

#if !VTIME_ARCH_COUNTER || defined(__arm__)
#include <time.h>
/* Where there is no user-readable counter: CLOCK_MONOTONIC_RAW in ns. */
static inline uint64_t vt_ctr_stand_in(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

#if VTIME_ARCH_COUNTER && defined(__arm__)
/* armv7: CNTVCT raises SIGILL in user mode unless the kernel enabled
 * access (CNTKCTL.PL0VCTEN). Whether it did is established once, without
 * executing the instruction (counter.c, vt_ctr_gate_probe(): an arm64
 * kernel, or a 32-bit kernel whose event stream is on and whose vDSO reads
 * CNTVCT); until then and where it did not, the stand-in answers, and
 * vtime_machine_probe() says counter "none". The gate never changes once
 * set, so every reader of the process uses one counter. */
#include <stdbool.h>
#include "vt_atomic.h"
#define VT_CTR_GATED 1
extern uint32_t vt_ctr_gate; /* 0: not asked yet, 1: readable, 2: not */
uint32_t vt_ctr_gate_probe(void);
/* Why the gate is as it is, one phrase (after vt_ctr_gate_probe()). */
const char *vt_ctr_gate_why(void);

static VT_ALWAYS_INLINE bool vt_ctr_user(void)
{
	uint32_t g = vt_load32(&vt_ctr_gate);
	if (VT_UNLIKELY(g == 0))
		g = vt_ctr_gate_probe();
	return g == 1;
}
static VT_ALWAYS_INLINE uint64_t vt_ctr_raw(void)
{
	return VT_LIKELY(vt_ctr_user()) ? vtime_arch_counter() : vt_ctr_stand_in();
}
static VT_ALWAYS_INLINE uint64_t vt_ctr_ordered(void)
{
	return VT_LIKELY(vt_ctr_user()) ? vtime_arch_counter_ordered() : vt_ctr_stand_in();
}
#elif VTIME_ARCH_COUNTER
static VT_ALWAYS_INLINE bool vt_ctr_user(void) { return true; }
static VT_ALWAYS_INLINE uint64_t vt_ctr_raw(void) { return vtime_arch_counter(); }
static VT_ALWAYS_INLINE uint64_t vt_ctr_ordered(void) { return vtime_arch_counter_ordered(); }
#else
#define VT_CTR_NONE 1
static inline bool vt_ctr_user(void) { return false; }
static inline uint64_t vt_ctr_raw(void) { return vt_ctr_stand_in(); }
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
