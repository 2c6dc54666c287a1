/* SPDX-License-Identifier: MIT */
/* The only door to atomics and barriers for the core, the shims and the
 * tools. Barriers are called only by the primitives built on it (vt_seq.h,
 * vt_clamp.h) and by the few publication points that say why. The backend
 * is chosen by the build (vt_port.h), which defines VT_ATOMIC_BACKEND_H to
 * a header path:
 *   src/core/atomic/builtin.h  compiler __atomic builtins (freestanding default)
 *   src/core/atomic/aops.h     libatomic_ops (userspace default)
 *   src/platform/linux-kernel/vt_atomic_kernel.h  kernel primitives
 * Every backend provides, as static inline functions:
 *   uint8_t  vt_load8(const volatile uint8_t *)      relaxed, non-tearing
 *   uint32_t vt_load32(const volatile uint32_t *)    relaxed, non-tearing
 *   uint64_t vt_load64(const volatile uint64_t *)    relaxed, non-tearing (also on 32-bit)
 *   void     vt_store8/32/64(volatile T *, T)        relaxed, non-tearing
 *   void     vt_rmb(void)   earlier loads complete before later loads
 *   void     vt_wmb(void)   earlier stores visible before later stores
 *   void     vt_mb(void)    full barrier
 *   bool     vt_cas32(volatile uint32_t *p, uint32_t *expected, uint32_t desired)
 *   bool     vt_cas64(volatile uint64_t *p, uint64_t *expected, uint64_t desired)
 *            full-barrier compare-and-swap; on failure *expected = current value
 *   uint8_t  vt_fetch_and8(volatile uint8_t *p, uint8_t mask)  full barrier, returns old
 *   uint8_t  vt_fetch_or8(volatile uint8_t *p, uint8_t bits)   full barrier, returns old
 *   uint64_t vt_fetch_add64(volatile uint64_t *p, uint64_t v)  full barrier, returns old
 *   void     vt_cpu_relax(void)  spin-wait hint
 */
#ifndef VT_ATOMIC_H
#define VT_ATOMIC_H

#include <stdbool.h>
#include <stdint.h>

#include "vt_port.h"

#include VT_ATOMIC_BACKEND_H

#endif
