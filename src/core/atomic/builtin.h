/* SPDX-License-Identifier: MIT */
/* Atomics backend: GCC/Clang __atomic builtins. Needs no library for the
 * sizes used here on x86, arm, aarch64, riscv and s390x (on i686 the 64-bit
 * relaxed load/store and CAS are inline cmpxchg8b/x87 sequences). */
#ifndef VT_ATOMIC_BUILTIN_H
#define VT_ATOMIC_BUILTIN_H

#include <stdbool.h>
#include <stdint.h>
#include <vtime/arch.h>

#define VT_ATOMIC_BACKEND_NAME "builtin"

/* On i386 a uint64_t is only 4-byte aligned, so clang calls libatomic's
 * __atomic_*_8 unless told the object is 8-byte aligned (pvclock records
 * and vtime's own 64-bit state always are). */
typedef uint64_t vt_u64_aligned __attribute__((aligned(8)));
#define VT_A64(p) ((volatile vt_u64_aligned *)(p))

static inline uint8_t vt_load8(const volatile uint8_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline uint32_t vt_load32(const volatile uint32_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline uint64_t vt_load64(const volatile uint64_t *p) { return __atomic_load_n((const volatile vt_u64_aligned *)p, __ATOMIC_RELAXED); }
static inline void vt_store8(volatile uint8_t *p, uint8_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline void vt_store32(volatile uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline void vt_store64(volatile uint64_t *p, uint64_t v) { __atomic_store_n(VT_A64(p), v, __ATOMIC_RELAXED); }

/* An acquire fence orders all earlier loads before all later loads/stores. */
static inline void vt_rmb(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
/* A release fence orders all earlier loads/stores before all later stores. */
static inline void vt_wmb(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }
static inline void vt_mb(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

static inline bool vt_cas32(volatile uint32_t *p, uint32_t *expected, uint32_t desired)
{
	return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static inline bool vt_cas64(volatile uint64_t *p, uint64_t *expected, uint64_t desired)
{
	return __atomic_compare_exchange_n(VT_A64(p), expected, desired, false, __ATOMIC_SEQ_CST,
					   __ATOMIC_SEQ_CST);
}

static inline uint8_t vt_fetch_and8(volatile uint8_t *p, uint8_t mask)
{
	return __atomic_fetch_and(p, mask, __ATOMIC_SEQ_CST);
}

static inline uint8_t vt_fetch_or8(volatile uint8_t *p, uint8_t bits)
{
	return __atomic_fetch_or(p, bits, __ATOMIC_SEQ_CST);
}

static inline uint64_t vt_fetch_add64(volatile uint64_t *p, uint64_t v)
{
	return __atomic_fetch_add(VT_A64(p), v, __ATOMIC_SEQ_CST);
}

static inline void vt_cpu_relax(void) { vtime_arch_relax(); }

#endif
