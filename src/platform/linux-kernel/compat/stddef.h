/* SPDX-License-Identifier: MIT */
/* <stddef.h> for the core inside a kernel build: size_t, ptrdiff_t, NULL
 * and offsetof come from the kernel's own headers. */
#ifndef VT_KCOMPAT_STDDEF_H
#define VT_KCOMPAT_STDDEF_H

#include <linux/types.h>
#include <linux/stddef.h>

#endif
