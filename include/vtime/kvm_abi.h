/* SPDX-License-Identifier: MIT */
/* KVM's paravirtual clock ABI numbers, once, for both sides: guest kernels
 * (the bare-metal shim), VMMs (the KVM shim, examples) and tools. Constants
 * only: freestanding, no declarations. Values from the KVM ABI
 * (Documentation/virt/kvm/x86/{cpuid,msr}.rst, linux/kvm.h). */
#ifndef VTIME_KVM_ABI_H
#define VTIME_KVM_ABI_H

/* CPUID: the hypervisor leaves. KVM may sit at a later base (0x40000100,
 * ...) when it also emulates another hypervisor's interface at 0x40000000. */
#define VTIME_CPUID_HYPERVISOR_BIT (1u << 31)  /* CPUID 1 ECX: running under a hypervisor */
#define VTIME_KVM_CPUID_BASE 0x40000000u       /* EBX ECX EDX: "KVMKVMKVM\0\0\0" */
#define VTIME_KVM_CPUID_BASE_STEP 0x100u
#define VTIME_KVM_CPUID_BASE_LAST 0x4000ff00u
#define VTIME_KVM_CPUID_FEATURES_OFF 1u        /* base + 1: EAX feature bits */
#define VTIME_KVM_SIGNATURE_EBX 0x4b4d564bu    /* "KVMK" */
#define VTIME_KVM_SIGNATURE_ECX 0x564b4d56u    /* "VMKV" */
#define VTIME_KVM_SIGNATURE_EDX 0x0000004du    /* "M\0\0\0" */

/* CPUID base+1 EAX. */
#define VTIME_KVM_FEATURE_CLOCKSOURCE (1u << 0)   /* MSRs 0x11/0x12 */
#define VTIME_KVM_FEATURE_CLOCKSOURCE2 (1u << 3)  /* MSRs 0x4b564d00/01 */
#define VTIME_KVM_FEATURE_CLOCKSOURCE_STABLE_BIT (1u << 24) /* TSC_STABLE in records is meaningful */

/* MSRs: write (guest-physical address | 1) to enable a vCPU's record, 0 to
 * disable; the wall-clock MSR takes the address of the 12-byte record. */
#define VTIME_KVM_MSR_WALL_CLOCK 0x11u
#define VTIME_KVM_MSR_SYSTEM_TIME 0x12u
#define VTIME_KVM_MSR_WALL_CLOCK_NEW 0x4b564d00u
#define VTIME_KVM_MSR_SYSTEM_TIME_NEW 0x4b564d01u
#define VTIME_KVM_SYSTEM_TIME_ENABLE 1u
#define VTIME_MSR_IA32_TSC 0x10u

/* struct kvm_clock_data flags (KVM_GET_CLOCK / KVM_SET_CLOCK). */
#define VTIME_KVM_CLOCK_TSC_STABLE 2u /* master clock in use: all vCPUs share one reference */
#define VTIME_KVM_CLOCK_REALTIME 4u   /* realtime is valid */
#define VTIME_KVM_CLOCK_HOST_TSC 8u   /* host_tsc is valid */

#endif
