// SPDX-License-Identifier: MIT
/* Kernel shim: access to the kernel's own kvm-clock records. */
#include <linux/kernel.h>
#include <linux/percpu.h>

#include "vtime_kernel.h"

#if defined(CONFIG_X86) && defined(CONFIG_KVM_GUEST)
#include <linux/clocksource.h>
#include <asm/kvm_para.h>
#include <asm/pvclock.h>
#include <asm/kvmclock.h>
#include <asm/pvclock-abi.h>

/* The kernel's struct and vtime's are the same 32-byte ABI record. */
static_assert(sizeof(struct pvclock_vcpu_time_info) == sizeof(struct vtime_pvclock_vcpu_time_info));
static_assert(offsetof(struct pvclock_vcpu_time_info, system_time) ==
	      offsetof(struct vtime_pvclock_vcpu_time_info, system_time));
static_assert(offsetof(struct pvclock_vcpu_time_info, tsc_to_system_mul) ==
	      offsetof(struct vtime_pvclock_vcpu_time_info, tsc_to_system_mul));
static_assert(offsetof(struct pvclock_vcpu_time_info, flags) ==
	      offsetof(struct vtime_pvclock_vcpu_time_info, flags));

const volatile struct vtime_pvclock_vcpu_time_info *vtime_kernel_kvmclock_this_cpu(void)
{
	struct pvclock_vsyscall_time_info *p;

	if (!kvm_para_available())
		return NULL;
	/* Set by kvmclock_init() only when the host offered kvm-clock. */
	p = this_cpu_read(hv_clock_per_cpu);
	if (!p)
		return NULL;
	return (const volatile struct vtime_pvclock_vcpu_time_info *)&p->pvti;
}

uint64_t vtime_kernel_kvmclock_read(void)
{
	if (!vtime_kernel_kvmclock_this_cpu())
		return 0;
	return (uint64_t)kvm_clock.read(&kvm_clock);
}
#else
const volatile struct vtime_pvclock_vcpu_time_info *vtime_kernel_kvmclock_this_cpu(void)
{
	return NULL;
}

uint64_t vtime_kernel_kvmclock_read(void)
{
	return 0;
}
#endif
