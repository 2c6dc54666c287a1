/* SPDX-License-Identifier: MIT */
/* Atomics backend: Linux kernel primitives. Selected by the Kbuild with
 * -DVT_ATOMIC_BACKEND_H='"vt_atomic_kernel.h"'. The core sees the same API
 * as with the userspace backends (see src/core/vt_atomic.h); underneath it is
 * READ_ONCE/WRITE_ONCE, smp_*mb(), cmpxchg64 and atomic64_t. */
#ifndef VT_ATOMIC_KERNEL_H
#define VT_ATOMIC_KERNEL_H

#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/types.h>
#include <asm/barrier.h>
#include <asm/byteorder.h>
#include <asm/processor.h>

#define VT_ATOMIC_BACKEND_NAME "linux-kernel"

static inline uint8_t vt_load8(const volatile uint8_t *p) { return READ_ONCE(*p); }
static inline uint32_t vt_load32(const volatile uint32_t *p) { return READ_ONCE(*p); }
static inline void vt_store8(volatile uint8_t *p, uint8_t v) { WRITE_ONCE(*p, v); }
static inline void vt_store32(volatile uint32_t *p, uint32_t v) { WRITE_ONCE(*p, v); }

#if BITS_PER_LONG == 64
static inline uint64_t vt_load64(const volatile uint64_t *p) { return READ_ONCE(*p); }
static inline void vt_store64(volatile uint64_t *p, uint64_t v) { WRITE_ONCE(*p, v); }
#else
/* READ_ONCE of a u64 may tear on 32-bit: go through atomic64_t (cmpxchg8b on
 * i386), which has the same size and, for these fields, the same alignment. */
static inline uint64_t vt_load64(const volatile uint64_t *p)
{
	return (uint64_t)atomic64_read((const atomic64_t *)p);
}
static inline void vt_store64(volatile uint64_t *p, uint64_t v)
{
	atomic64_set((atomic64_t *)p, (s64)v);
}
#endif

/* smp_rmb: earlier loads complete before later loads. */
static inline void vt_rmb(void) { smp_rmb(); }
/* smp_wmb: earlier stores visible before later stores. */
static inline void vt_wmb(void) { smp_wmb(); }
/* smp_mb: every earlier access before every later one. */
static inline void vt_mb(void) { smp_mb(); }

/* cmpxchg and cmpxchg64 are fully ordered on success and failure alike. */
static inline bool vt_cas32(volatile uint32_t *p, uint32_t *expected, uint32_t desired)
{
	uint32_t old = cmpxchg((u32 *)p, *expected, desired);

	if (old == *expected)
		return true;
	*expected = old;
	return false;
}

static inline bool vt_cas64(volatile uint64_t *p, uint64_t *expected, uint64_t desired)
{
	uint64_t old = cmpxchg64((u64 *)p, *expected, desired);

	if (old == *expected)
		return true;
	*expected = old;
	return false;
}

/* Not every architecture has a byte cmpxchg: byte RMWs work on the aligned
 * 32-bit word holding the byte, new = (old & keep) | set. A concurrent store
 * to a neighbouring byte only makes the cmpxchg fail and retry. */
static inline uint8_t vt_kernel_rmw8(volatile uint8_t *p, uint8_t keep, uint8_t set)
{
	uintptr_t addr = (uintptr_t)p;
	u32 *word = (u32 *)(addr & ~(uintptr_t)3);
#ifdef __BIG_ENDIAN
	unsigned int shift = (3u - (unsigned int)(addr & 3)) * 8u;
#else
	unsigned int shift = (unsigned int)(addr & 3) * 8u;
#endif
	u32 keep32 = ~((u32)(uint8_t)~keep << shift), set32 = (u32)set << shift;
	u32 old = READ_ONCE(*word), seen;

	for (;;) {
		/* cmpxchg is fully ordered, as the API asks */
		seen = cmpxchg(word, old, (old & keep32) | set32);
		if (seen == old)
			return (uint8_t)(old >> shift);
		old = seen;
	}
}

static inline uint8_t vt_fetch_and8(volatile uint8_t *p, uint8_t mask)
{
	return vt_kernel_rmw8(p, mask, 0);
}

static inline uint8_t vt_fetch_or8(volatile uint8_t *p, uint8_t bits)
{
	return vt_kernel_rmw8(p, 0xff, bits);
}

static inline uint64_t vt_fetch_add64(volatile uint64_t *p, uint64_t v)
{
	return (uint64_t)atomic64_fetch_add((s64)v, (atomic64_t *)p);
}

static inline void vt_cpu_relax(void) { cpu_relax(); }

#endif
