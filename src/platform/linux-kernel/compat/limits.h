/* SPDX-License-Identifier: MIT */
/* <limits.h> for the core inside a kernel build: the kernel's <linux/limits.h>
 * has INT_MAX, UINT_MAX, LONG_MAX, ULLONG_MAX...; the char limits are added. */
#ifndef VT_KCOMPAT_LIMITS_H
#define VT_KCOMPAT_LIMITS_H

#include <linux/limits.h>

#define CHAR_BIT 8
#define SCHAR_MIN (-128)
#define SCHAR_MAX 127
#define UCHAR_MAX 255
#ifdef __CHAR_UNSIGNED__
#define CHAR_MIN 0
#define CHAR_MAX UCHAR_MAX
#else
#define CHAR_MIN SCHAR_MIN
#define CHAR_MAX SCHAR_MAX
#endif
#ifndef USHRT_MAX
#define USHRT_MAX 0xffff
#endif

#endif
