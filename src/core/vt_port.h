/* SPDX-License-Identifier: MIT */
/* The port contract: everything the core takes from its platform, listed
 * once, each with its default. A port changes an item by defining it before
 * this header is read (compiler flags, or a header named by VT_PORT_H that
 * is included first). The build picks the port; the core has no other
 * platform #if.
 *
 *   VT_PORT_H            optional header included first (a port's overrides)
 *   VT_ATOMIC_BACKEND_H  atomics and barriers, the API listed in vt_atomic.h;
 *                        default "atomic/builtin.h" (compiler __atomic).
 *                        Userspace: "atomic/aops.h"; kernel: vt_atomic_kernel.h
 *   VT_BIG_ENDIAN        1 on big-endian hosts; default from __BYTE_ORDER__
 *                        (shared-memory ABIs and saved states are
 *                        little-endian: vt_endian.h converts)
 *   VT_DIV64_NATIVE      1 when a 64-bit '/' is one instruction (no libgcc
 *                        helper); default: 64-bit targets with a divide
 *   VT_DIV32_NATIVE      1 when a 32-bit '/' is one instruction; default:
 *                        VT_DIV64_NATIVE, i386, ARM with hardware divide
 *   VT_DIVQ_X86_64       1 to divide 128 by 64 bits with one divq; default
 *                        on x86-64 with a GNU compiler
 *   counter reads        <vtime/arch.h>: vtime_arch_counter*(), and
 *                        vtime_arch_after(), which orders a counter read
 *                        before the seqlock re-check (vt_seq.h)
 *   VT_ALWAYS_INLINE, VT_NOINLINE, VT_LIKELY(x), VT_UNLIKELY(x)
 *                        compiler hints; defaults for GCC and Clang
 * Memory is never the platform's: every object is caller-allocated. */
#ifndef VT_PORT_H_INCLUDED
#define VT_PORT_H_INCLUDED

#ifdef VT_PORT_H
#include VT_PORT_H
#endif

#ifndef VT_ATOMIC_BACKEND_H
#define VT_ATOMIC_BACKEND_H "atomic/builtin.h"
#endif

#ifndef VT_BIG_ENDIAN
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define VT_BIG_ENDIAN 1
#else
#define VT_BIG_ENDIAN 0
#endif
#endif

#ifndef VT_DIV64_NATIVE
#if defined(__SIZEOF_POINTER__) && __SIZEOF_POINTER__ >= 8 && !(defined(__riscv) && !defined(__riscv_div))
#define VT_DIV64_NATIVE 1
#else
#define VT_DIV64_NATIVE 0
#endif
#endif

#ifndef VT_DIV32_NATIVE
#if VT_DIV64_NATIVE || defined(__i386__) || defined(__ARM_FEATURE_IDIV)
#define VT_DIV32_NATIVE 1
#else
#define VT_DIV32_NATIVE 0
#endif
#endif

#ifndef VT_DIVQ_X86_64
#if defined(__x86_64__) && defined(__GNUC__)
#define VT_DIVQ_X86_64 1
#else
#define VT_DIVQ_X86_64 0
#endif
#endif

#ifndef VT_ALWAYS_INLINE
#define VT_ALWAYS_INLINE inline __attribute__((always_inline))
#endif
#ifndef VT_NOINLINE
#define VT_NOINLINE __attribute__((noinline))
#endif
#ifndef VT_LIKELY
#define VT_LIKELY(x) __builtin_expect(!!(x), 1)
#define VT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#endif

#include <vtime/arch.h>

#endif
