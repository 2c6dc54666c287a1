/* SPDX-License-Identifier: MIT */
/* Atomics backend: libatomic_ops (the userspace default). Only this header
 * includes atomic_ops.h, which pulls in libc headers: the freestanding core
 * build uses builtin.h instead. Needs a 64-bit AO_t (LP64 targets); 32-bit
 * targets build with -Datomics=builtin. */
#ifndef VT_ATOMIC_AOPS_H
#define VT_ATOMIC_AOPS_H

#include <atomic_ops.h>
#include <stdbool.h>
#include <stdint.h>
#include <vtime/arch.h>

#define VT_ATOMIC_BACKEND_NAME "libatomic_ops"

_Static_assert(sizeof(AO_t) == 8, "the libatomic_ops backend needs a 64-bit AO_t; use -Datomics=builtin");

static inline uint8_t vt_load8(const volatile uint8_t *p) { return AO_char_load((const volatile unsigned char *)p); }
static inline uint32_t vt_load32(const volatile uint32_t *p) { return AO_int_load((const volatile unsigned *)p); }
static inline uint64_t vt_load64(const volatile uint64_t *p) { return AO_load((const volatile AO_t *)p); }
static inline void vt_store8(volatile uint8_t *p, uint8_t v) { AO_char_store((volatile unsigned char *)p, v); }
static inline void vt_store32(volatile uint32_t *p, uint32_t v) { AO_int_store((volatile unsigned *)p, v); }
static inline void vt_store64(volatile uint64_t *p, uint64_t v) { AO_store((volatile AO_t *)p, v); }

/* AO_nop_read: earlier loads complete before later loads. */
static inline void vt_rmb(void) { AO_nop_read(); }
/* AO_nop_write: earlier stores visible before later stores. */
static inline void vt_wmb(void) { AO_nop_write(); }
static inline void vt_mb(void) { AO_nop_full(); }

static inline bool vt_cas32(volatile uint32_t *p, uint32_t *expected, uint32_t desired)
{
	unsigned old = AO_int_fetch_compare_and_swap_full((volatile unsigned *)p, *expected, desired);
	if (old == *expected)
		return true;
	*expected = old;
	return false;
}

static inline bool vt_cas64(volatile uint64_t *p, uint64_t *expected, uint64_t desired)
{
	AO_t old = AO_fetch_compare_and_swap_full((volatile AO_t *)p, (AO_t)*expected, (AO_t)desired);
	if (old == (AO_t)*expected)
		return true;
	*expected = old;
	return false;
}

static inline uint8_t vt_fetch_and8(volatile uint8_t *p, uint8_t mask)
{
	unsigned char old = AO_char_load((const volatile unsigned char *)p);
	for (;;) {
		unsigned char seen = AO_char_fetch_compare_and_swap_full((volatile unsigned char *)p, old,
									  (unsigned char)(old & mask));
		if (seen == old)
			return old;
		old = seen;
	}
}

static inline uint8_t vt_fetch_or8(volatile uint8_t *p, uint8_t bits)
{
	unsigned char old = AO_char_load((const volatile unsigned char *)p);
	for (;;) {
		unsigned char seen = AO_char_fetch_compare_and_swap_full((volatile unsigned char *)p, old,
									  (unsigned char)(old | bits));
		if (seen == old)
			return old;
		old = seen;
	}
}

static inline uint64_t vt_fetch_add64(volatile uint64_t *p, uint64_t v)
{
	return AO_fetch_and_add_full((volatile AO_t *)p, (AO_t)v);
}

static inline void vt_cpu_relax(void) { vtime_arch_relax(); }

#endif
