// SPDX-License-Identifier: MIT
/* The vtime module of a kernel tree (CONFIG_VTIME, Makefile.intree): the
 * core and the kernel shim as one module that exports the API to the rest
 * of the tree. The code is MIT; "Dual MIT/GPL" is the string the kernel
 * takes for MIT code (GPL-compatible: no taint, and the shim may use the
 * GPL-only symbols it reads). See docs/kernel.md. */
#include <linux/export.h>
#include <linux/module.h>

#include <vtime/vtime.h>
#include "vtime_kernel.h"

/* Every VTIME_API function of <vtime/vtime.h> (generated at build time). */
#include "vt_exports.h"

EXPORT_SYMBOL_GPL(vtime_kernel_kvmclock_this_cpu);
EXPORT_SYMBOL_GPL(vtime_kernel_kvmclock_read);

MODULE_DESCRIPTION("vtime: pvclock (kvmclock) reader and writer, KVM-exact time scaling");
MODULE_LICENSE("Dual MIT/GPL");
