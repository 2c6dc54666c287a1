/* SPDX-License-Identifier: MIT */
/* The CPU's counter, read the one way vtime reads it everywhere (core,
 * shims, tools, examples, guest kernels): header-only, freestanding, no
 * library call. Each architecture provides
 *   VTIME_ARCH_NAME                 "x86", "aarch64", "armv7", "riscv64",
 *                                   "s390x" or "none"
 *   VTIME_ARCH_COUNTER              1 when the counter below exists
 *   vtime_arch_counter()            unordered read (rdtsc, cntvct_el0, CNTVCT,
 *                                   rdtime, stckf)
 *   vtime_arch_counter_ordered()    a read that starts only after every earlier
 *                                   load has completed (what a seqlock reader
 *                                   needs inside its window)
 *   vtime_arch_after(p, v)          p itself, computed from v: a load through
 *                                   the result is performed only once v, the
 *                                   value of a counter read, is known
 *   vtime_arch_relax()              spin-wait hint
 * and where it can:
 *   VTIME_ARCH_COUNTER_AUX          1 on x86
 *   vtime_arch_counter_aux(&aux)    rdtscp: an ordered read plus IA32_TSC_AUX
 *                                   (Linux stores cpu | node << 12 there)
 *   VTIME_ARCH_COUNTER_HZ           1 where the frequency is architectural:
 *   vtime_arch_counter_hz()         aarch64: CNTFRQ_EL0; armv7: CNTFRQ; s390x:
 *                                   4096 MHz (bit 51 of the TOD clock is one
 *                                   microsecond)
 *
 * armv7 (ARMv7-A, and ARMv8 in AArch32, with the generic timer): CNTVCT and
 * CNTFRQ are readable in user mode only where the kernel set
 * CNTKCTL.PL0VCTEN, and ARMv7-A CPUs without the generic timer (Cortex-A8,
 * A9) have no such register: either way the read is an undefined
 * instruction (SIGILL). So on armv7, unlike the other architectures,
 * VTIME_ARCH_COUNTER says the instruction exists in the ISA, not that this
 * process may execute it: code that runs in user mode must first establish
 * that the kernel enabled access (the Linux shim does: vt_user_counter.h,
 * docs/userspace.md), and qemu-arm (linux-user, 7.2) raises SIGILL on it
 * for every CPU model. Kernel and bare-metal code (PL1) can always read it
 * where the CPU has the generic timer.
 *
 * Why vtime_arch_after(): neither rdtsc, nor mrs cntvct_el0, nor rdtime is
 * ordered before the loads that follow it, so a seqlock reader's version
 * re-check could be performed before its counter read, and the reading
 * would then pair a body with a counter value from after the writer
 * replaced it. Making the re-check's address depend on the counter value
 * forbids that at the cost of no instruction on the critical path (the
 * same idea as Linux's arm64 arch_counter_enforce_ordering()). On x86 the
 * dependent load is ordered before later loads by TSO; on aarch64, armv7
 * and riscv64 by the read barrier every vtime reader has after it (on
 * armv7 vt_rmb() is a dmb ish: the builtin backend's acquire fence, which
 * 32-bit builds use, and the kernel's smp_rmb(); ARMv7 does not perform a
 * load before its address is known, as ARMv8 does not); on s390x
 * (stckf stores the clock, the value is then loaded) by the dependency
 * itself and the architecture's ordered loads.
 * See docs/architecture.md, "Counter ordering". */
#ifndef VTIME_ARCH_H
#define VTIME_ARCH_H

#include <stdint.h>

#define VTIME_ARCH_INLINE static inline __attribute__((always_inline))

#if defined(__x86_64__) || defined(__i386__)
#define VTIME_ARCH_NAME "x86"
#define VTIME_ARCH_COUNTER 1
#define VTIME_ARCH_COUNTER_NAME "tsc"
#define VTIME_ARCH_COUNTER_AUX 1

VTIME_ARCH_INLINE uint64_t vtime_arch_counter(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

VTIME_ARCH_INLINE uint64_t vtime_arch_counter_ordered(void)
{
	uint32_t lo, hi;
	/* lfence: rdtsc starts only after every earlier load has completed */
	__asm__ __volatile__("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}


/* rdtscp waits for every earlier instruction itself. Needs CPUID
 * 0x80000001 EDX bit 27: executing it without faults with #UD. */
VTIME_ARCH_INLINE uint64_t vtime_arch_counter_aux(uint32_t *aux)
{
	uint32_t lo, hi, c;
	__asm__ __volatile__("rdtscp" : "=a"(lo), "=d"(hi), "=c"(c) : : "memory");
	*aux = c;
	return ((uint64_t)hi << 32) | lo;
}

VTIME_ARCH_INLINE const volatile void *vtime_arch_after(const volatile void *p, uint64_t v)
{
	uintptr_t z = (uintptr_t)v;
	/* and with 0, not xor: CPUs treat xor reg,reg as independent of reg */
	__asm__("and $0, %0" : "+r"(z));
	return (const volatile char *)p + z;
}

VTIME_ARCH_INLINE void vtime_arch_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

#elif defined(__aarch64__)
#define VTIME_ARCH_NAME "aarch64"
#define VTIME_ARCH_COUNTER 1
#define VTIME_ARCH_COUNTER_NAME "cntvct_el0"
#define VTIME_ARCH_COUNTER_HZ 1

VTIME_ARCH_INLINE uint64_t vtime_arch_counter(void)
{
	uint64_t v;
	__asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(v));
	return v;
}

VTIME_ARCH_INLINE uint64_t vtime_arch_counter_ordered(void)
{
	uint64_t v;
	/* isb: the counter is not read ahead of the instructions before it */
	__asm__ __volatile__("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
	return v;
}


VTIME_ARCH_INLINE uint64_t vtime_arch_counter_hz(void)
{
	uint64_t f;
	__asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(f));
	return f;
}

VTIME_ARCH_INLINE const volatile void *vtime_arch_after(const volatile void *p, uint64_t v)
{
	uint64_t z;
	__asm__("eor %0, %1, %1" : "=r"(z) : "r"(v));
	return (const volatile char *)p + z;
}

VTIME_ARCH_INLINE void vtime_arch_relax(void)
{
	__asm__ __volatile__("yield" ::: "memory");
}

#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7 && defined(__ARM_ARCH_PROFILE) && \
	__ARM_ARCH_PROFILE == 'A'
/* ARMv7-A / AArch32 with the generic timer. See the header comment: in user
 * mode these reads need the kernel's permission (CNTKCTL.PL0VCTEN). The
 * encodings (mrrc, mrc, isb, yield) exist in both ARM and Thumb-2. */
#define VTIME_ARCH_NAME "armv7"
#define VTIME_ARCH_COUNTER 1
#define VTIME_ARCH_COUNTER_NAME "cntvct"
#define VTIME_ARCH_COUNTER_HZ 1

VTIME_ARCH_INLINE uint64_t vtime_arch_counter(void)
{
	uint32_t lo, hi;
	/* CNTVCT, the 64-bit virtual count */
	__asm__ __volatile__("mrrc p15, 1, %0, %1, c14" : "=r"(lo), "=r"(hi));
	return ((uint64_t)hi << 32) | lo;
}

VTIME_ARCH_INLINE uint64_t vtime_arch_counter_ordered(void)
{
	uint32_t lo, hi;
	/* isb: the counter is not read ahead of the instructions before it (the
	 * architecture lets CNTVCT be read speculatively, out of order) */
	__asm__ __volatile__("isb\n\tmrrc p15, 1, %0, %1, c14" : "=r"(lo), "=r"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}


/* CNTFRQ: what firmware programmed, in Hz (0 where it did not). */
VTIME_ARCH_INLINE uint64_t vtime_arch_counter_hz(void)
{
	uint32_t f;
	__asm__ __volatile__("mrc p15, 0, %0, c14, c0, 0" : "=r"(f));
	return f;
}

VTIME_ARCH_INLINE const volatile void *vtime_arch_after(const volatile void *p, uint64_t v)
{
	uint32_t z;
	/* 0 from both halves of v (eor r, r keeps the dependency on Arm, as
	 * arm64's arch_counter_enforce_ordering() relies on) */
	__asm__("eor %0, %1, %2\n\teor %0, %0, %0" : "=&r"(z) : "r"((uint32_t)v), "r"((uint32_t)(v >> 32)));
	return (const volatile char *)p + z;
}

VTIME_ARCH_INLINE void vtime_arch_relax(void)
{
	__asm__ __volatile__("yield" ::: "memory");
}

#elif defined(__riscv) && __riscv_xlen == 64
#define VTIME_ARCH_NAME "riscv64"
#define VTIME_ARCH_COUNTER 1
#define VTIME_ARCH_COUNTER_NAME "time"

VTIME_ARCH_INLINE uint64_t vtime_arch_counter(void)
{
	uint64_t v;
	__asm__ __volatile__("rdtime %0" : "=r"(v));
	return v;
}

VTIME_ARCH_INLINE uint64_t vtime_arch_counter_ordered(void)
{
	uint64_t v;
	/* fence r,r: earlier loads before the time read, as far as RVWMO
	 * orders a CSR read at all (Linux's vDSO relies on the same) */
	__asm__ __volatile__("fence r,r\n\trdtime %0" : "=r"(v) : : "memory");
	return v;
}


VTIME_ARCH_INLINE const volatile void *vtime_arch_after(const volatile void *p, uint64_t v)
{
	uint64_t z;
	__asm__("xor %0, %1, %1" : "=r"(z) : "r"(v));
	return (const volatile char *)p + z;
}

VTIME_ARCH_INLINE void vtime_arch_relax(void)
{
	__asm__ __volatile__("" ::: "memory");
}

#elif defined(__s390x__)
#define VTIME_ARCH_NAME "s390x"
#define VTIME_ARCH_COUNTER 1
#define VTIME_ARCH_COUNTER_NAME "tod"
#define VTIME_ARCH_COUNTER_HZ 1

/* STORE CLOCK FAST: the 64-bit TOD clock, without the serialization STCK
 * performs; it sets the condition code (0: clock set). */
VTIME_ARCH_INLINE uint64_t vtime_arch_counter(void)
{
	uint64_t v;
	__asm__ __volatile__("stckf %0" : "=Q"(v) : : "cc");
	return v;
}

VTIME_ARCH_INLINE uint64_t vtime_arch_counter_ordered(void)
{
	uint64_t v;
	/* bcr 15,0 serializes: every earlier load has completed before the
	 * clock is sampled */
	__asm__ __volatile__("bcr 15,0\n\tstckf %0" : "=Q"(v) : : "cc", "memory");
	return v;
}


/* Bit 51 (of 0..63, 0 the most significant) ticks once per microsecond:
 * 4096 units per us. */
VTIME_ARCH_INLINE uint64_t vtime_arch_counter_hz(void)
{
	return 4096000000ull;
}

VTIME_ARCH_INLINE const volatile void *vtime_arch_after(const volatile void *p, uint64_t v)
{
	uint64_t z;
	/* 0 and v: a value only known once v is */
	__asm__("lghi %0,0\n\tngr %0,%1" : "=&d"(z) : "d"(v) : "cc");
	return (const volatile char *)p + z;
}

VTIME_ARCH_INLINE void vtime_arch_relax(void)
{
	__asm__ __volatile__("" ::: "memory");
}

#else
/* No user-readable counter vtime knows (yet): a port adds its architecture
 * above. Callers check VTIME_ARCH_COUNTER; these keep code compiling. */
#define VTIME_ARCH_NAME "none"
#define VTIME_ARCH_COUNTER 0
#define VTIME_ARCH_COUNTER_NAME "none"

VTIME_ARCH_INLINE uint64_t vtime_arch_counter(void) { return 0; }
VTIME_ARCH_INLINE uint64_t vtime_arch_counter_ordered(void) { return 0; }

/* No ordering beyond the compiler's. */
VTIME_ARCH_INLINE const volatile void *vtime_arch_after(const volatile void *p, uint64_t v)
{
	(void)v;
	__asm__ __volatile__("" ::: "memory");
	return p;
}

VTIME_ARCH_INLINE void vtime_arch_relax(void)
{
	__asm__ __volatile__("" ::: "memory");
}
#endif

#ifndef VTIME_ARCH_COUNTER_AUX
#define VTIME_ARCH_COUNTER_AUX 0
#endif
#ifndef VTIME_ARCH_COUNTER_HZ
#define VTIME_ARCH_COUNTER_HZ 0
#endif

#endif
