/* SPDX-License-Identifier: MIT */
/* <stdint.h> for the core inside a kernel build (-nostdinc): the kernel's
 * <linux/types.h> already has [u]int8..64_t and uintptr_t; this adds the
 * remaining C11 names as plain constants (usable in #if). */
#ifndef VT_KCOMPAT_STDINT_H
#define VT_KCOMPAT_STDINT_H

#include <linux/types.h>
#include <linux/limits.h>

typedef long intptr_t;
typedef s64 intmax_t;
typedef u64 uintmax_t;

#define INT8_MIN (-128)
#define INT8_MAX 127
#define UINT8_MAX 0xff
#define INT16_MIN (-32767 - 1)
#define INT16_MAX 32767
#define UINT16_MAX 0xffff
#define INT32_MIN (-2147483647 - 1)
#define INT32_MAX 2147483647
#define UINT32_MAX 0xffffffffu
#define INT64_MIN (-0x7fffffffffffffffll - 1)
#define INT64_MAX 0x7fffffffffffffffll
#define UINT64_MAX 0xffffffffffffffffull
#define INTMAX_MIN INT64_MIN
#define INTMAX_MAX INT64_MAX
#define UINTMAX_MAX UINT64_MAX
#ifndef SIZE_MAX
#define SIZE_MAX (~(size_t)0)
#endif
#ifndef UINTPTR_MAX
#define UINTPTR_MAX (~0ul)
#endif

#define INT8_C(c) c
#define UINT8_C(c) c
#define INT16_C(c) c
#define UINT16_C(c) c
#define INT32_C(c) c
#define UINT32_C(c) c##u
/* The kernel's u64/s64 are (unsigned) long long on every architecture. */
#define INT64_C(c) c##ll
#define UINT64_C(c) c##ull
#define INTMAX_C(c) c##ll
#define UINTMAX_C(c) c##ull

#endif
