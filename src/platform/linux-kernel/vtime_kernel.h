/* SPDX-License-Identifier: MIT */
/* The Linux kernel shim: what a kernel user of vtime needs besides the core.
 * The core's atomics come from vt_atomic_kernel.h (chosen by the Kbuild);
 * this header gives the counter (rdtsc_ordered) and, on x86 KVM guests, the
 * kernel's own per-CPU kvm-clock records. See docs/kernel.md. */
#ifndef VTIME_KERNEL_H
#define VTIME_KERNEL_H

#include <linux/types.h>
#include <vtime/vtime.h>

#ifdef CONFIG_X86
#include <asm/tsc.h>

/* lfence;rdtsc or rdtscp (patched at boot): ordered after the loads before
 * it, as the pvclock seqlock reader requires. */
static inline uint64_t vtime_kernel_tsc_read(void *ctx)
{
	(void)ctx;
	return rdtsc_ordered();
}

static inline struct vtime_counter vtime_kernel_tsc_counter(void)
{
	struct vtime_counter c = { vtime_kernel_tsc_read, NULL };
	return c;
}
#endif

/* The kernel's kvm-clock record of this CPU (the one its clocksource reads),
 * or NULL when the kernel does not use kvm-clock (not a KVM guest, no-kvmclock,
 * not x86). Call with preemption disabled if the CPU must not change. */
const volatile struct vtime_pvclock_vcpu_time_info *vtime_kernel_kvmclock_this_cpu(void);

/* The kernel's kvm-clock clocksource reading (ns), for comparison; 0 when
 * kvm-clock is absent. */
uint64_t vtime_kernel_kvmclock_read(void);

#endif
