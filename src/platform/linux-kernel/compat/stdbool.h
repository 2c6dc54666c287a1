/* SPDX-License-Identifier: MIT */
/* <stdbool.h> for the core inside a kernel build: the kernel defines bool
 * (_Bool) in <linux/types.h> and true/false in <linux/stddef.h>. */
#ifndef VT_KCOMPAT_STDBOOL_H
#define VT_KCOMPAT_STDBOOL_H

#include <linux/types.h>
#include <linux/stddef.h>

#define __bool_true_false_are_defined 1

#endif
