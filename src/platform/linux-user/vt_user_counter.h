/* SPDX-License-Identifier: MIT */
/* Raw counter reads for Linux userspace, as static inline functions so the
 * fast paths (vtime_now_ns, vtime_ticks, the inlined pvclock reader) carry
 * no call. Private to the shim; the public hooks are in counter.c.
 *   vt_ctr_raw()      unordered read (rdtsc / cntvct_el0 / rdtime)
 *   vt_ctr_ordered()  read that waits for earlier loads (lfence;rdtsc,
 *                     isb;cntvct_el0, fence;rdtime): what seqlock readers need
 *   vt_ctr_cpu()      ordered read plus the processor id (rdtscp's TSC_AUX,
 *                     which Linux sets to cpu | node << 12); -1 elsewhere */
#ifndef VT_USER_COUNTER_H
#define VT_USER_COUNTER_H

#include <stdint.h>

#define VT_UC_INLINE static inline __attribute__((always_inline))

#if defined(__x86_64__) || defined(__i386__)
#define VT_CTR_ARCH "x86"
#define VT_CTR_HAVE_CPU 1
VT_UC_INLINE uint64_t vt_ctr_raw(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

VT_UC_INLINE uint64_t vt_ctr_ordered(void)
{
	uint32_t lo, hi;
	/* lfence: rdtsc starts only after every earlier load has completed */
	__asm__ __volatile__("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* rdtscp waits for earlier instructions itself; aux = IA32_TSC_AUX. */
VT_UC_INLINE uint64_t vt_ctr_rdtscp(uint32_t *aux)
{
	uint32_t lo, hi, c;
	__asm__ __volatile__("rdtscp" : "=a"(lo), "=d"(hi), "=c"(c) : : "memory");
	*aux = c;
	return ((uint64_t)hi << 32) | lo;
}

VT_UC_INLINE uint64_t vt_ctr_cpu(int *cpu)
{
	uint32_t aux;
	uint64_t t = vt_ctr_rdtscp(&aux);
	*cpu = (int)(aux & 0xfffu); /* Linux: TSC_AUX = (node << 12) | cpu */
	return t;
}

#elif defined(__aarch64__)
#define VT_CTR_ARCH "aarch64"
#define VT_CTR_HAVE_CPU 0
VT_UC_INLINE uint64_t vt_ctr_raw(void)
{
	uint64_t v;
	__asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(v));
	return v;
}

VT_UC_INLINE uint64_t vt_ctr_ordered(void)
{
	uint64_t v;
	/* isb: the counter read is not speculated ahead of earlier instructions */
	__asm__ __volatile__("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
	return v;
}

VT_UC_INLINE uint64_t vt_ctr_cpu(int *cpu)
{
	*cpu = -1;
	return vt_ctr_ordered();
}

static inline uint64_t vt_ctr_freq_arch(void)
{
	uint64_t f;
	__asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(f));
	return f;
}

#elif defined(__riscv) && __riscv_xlen == 64
#define VT_CTR_ARCH "riscv64"
#define VT_CTR_HAVE_CPU 0
VT_UC_INLINE uint64_t vt_ctr_raw(void)
{
	uint64_t v;
	__asm__ __volatile__("rdtime %0" : "=r"(v));
	return v;
}

VT_UC_INLINE uint64_t vt_ctr_ordered(void)
{
	uint64_t v;
	/* fence r,r (as far as the ISA goes): earlier loads before the time read */
	__asm__ __volatile__("fence r,r\n\trdtime %0" : "=r"(v) : : "memory");
	return v;
}

VT_UC_INLINE uint64_t vt_ctr_cpu(int *cpu)
{
	*cpu = -1;
	return vt_ctr_ordered();
}

#else
#define VT_CTR_ARCH "none"
#define VT_CTR_HAVE_CPU 0
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
static inline uint64_t vt_ctr_cpu(int *cpu) { *cpu = -1; return vt_ctr_raw(); }
#endif

#endif
