/* SPDX-License-Identifier: MIT */
/* x86 Linux only. Thin helpers over /dev/kvm for a VMM's clock work: the VM clock
 * (KVM_GET_CLOCK / KVM_SET_CLOCK with the realtime flag), KVM_KVMCLOCK_CTRL,
 * TSC frequency and offset, a snapshot record, and reading a guest's pvclock
 * records out of guest memory. The caller owns every fd. See docs/vmm.md. */
#ifndef VTIME_KVM_H
#define VTIME_KVM_H

#include <stddef.h>
#include <stdint.h>
#include <vtime/export.h>
#include <vtime/kvm_abi.h>
#include <vtime/pvclock.h>
#include <vtime/vmm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The VM's kvmclock as KVM_GET_CLOCK returns it. */
struct vtime_kvm_clock {
	uint64_t clock_ns;    /* kvmclock now */
	uint64_t realtime_ns; /* host CLOCK_REALTIME it was read against (flag REALTIME) */
	uint64_t host_tsc;    /* host TSC it was read against (flag HOST_TSC) */
	uint32_t flags;       /* VTIME_KVM_CLOCK_* */
};

/* Returns 0 or VTIME_EIO (errno kept for the caller to print). */
VTIME_API int vtime_kvm_clock_get(int vm_fd, struct vtime_kvm_clock *out);

/* Sets the VM's kvmclock to clock_ns. With realtime_ns != 0 KVM also adds
 * (host realtime now - realtime_ns) when positive: the "advance" restore.
 * Returns 0, VTIME_ENOTSUP (kernel without the realtime flag) or VTIME_EIO. */
VTIME_API int vtime_kvm_clock_set(int vm_fd, uint64_t clock_ns, uint64_t realtime_ns);

/* KVM_KVMCLOCK_CTRL: the guest will see GUEST_STOPPED on its next update.
 * Issue it for every vCPU after a pause and before resuming. Returns 0,
 * VTIME_ENODATA (guest has no kvmclock registered) or VTIME_EIO. */
VTIME_API int vtime_kvm_clock_ctrl(int vcpu_fd);

/* vCPU TSC frequency (KVM_GET_TSC_KHZ / KVM_SET_TSC_KHZ). Setting a rate
 * other than the host's needs hardware scaling (VTIME_ENOTSUP without it,
 * unless within KVM's 250 ppm tolerance). */
VTIME_API int vtime_kvm_tsc_khz_get(int vcpu_fd, uint32_t *khz);
VTIME_API int vtime_kvm_tsc_khz_set(int vcpu_fd, uint32_t khz);

/* Exact guest TSC offset (KVM_VCPU_TSC_OFFSET attribute, Linux >= 5.16):
 * guest_tsc = host_tsc + offset without scaling. VTIME_ENOTSUP if absent. */
VTIME_API int vtime_kvm_tsc_offset_get(int vcpu_fd, uint64_t *offset);
VTIME_API int vtime_kvm_tsc_offset_set(int vcpu_fd, uint64_t offset);

/* One MSR through KVM_GET_MSRS / KVM_SET_MSRS. */
VTIME_API int vtime_kvm_msr_get(int vcpu_fd, uint32_t index, uint64_t *value);
VTIME_API int vtime_kvm_msr_set(int vcpu_fd, uint32_t index, uint64_t value);

/* Snapshot record of the clock state of a VM: what to keep beside the guest
 * memory and registers. Fixed layout, little-endian host assumed. */
#define VTIME_KVM_SAVE_MAX_VCPUS 64u
#define VTIME_KVM_SAVE_MAGIC 0x4b4d5456u /* "VTMK" */

struct vtime_kvm_save_vcpu {
	uint64_t tsc;         /* IA32_TSC */
	uint64_t system_time; /* MSR 0x4b564d01 (record gpa | enable) */
	uint32_t tsc_khz;
	uint32_t version;     /* record version in guest memory (0 if unknown) */
};

struct vtime_kvm_save {
	uint32_t magic;
	uint32_t nr_vcpus;
	uint64_t clock_ns;    /* KVM_GET_CLOCK */
	uint64_t realtime_ns; /* host realtime of that reading */
	uint32_t clock_flags;
	uint32_t pad;
	uint64_t wall_clock;  /* MSR 0x4b564d00 as last written (0 if unknown) */
	struct vtime_kvm_save_vcpu vcpu[VTIME_KVM_SAVE_MAX_VCPUS];
};

/* Saves the clock state of a stopped VM (vCPUs out of KVM_RUN, I/O completed).
 * mem/mem_size (optional) map guest-physical 0: used to record each vCPU's
 * record version. Returns 0, VTIME_EINVAL or VTIME_EIO. */
VTIME_API int vtime_kvm_save_clock(int vm_fd, const int *vcpu_fds, unsigned nr_vcpus,
				   const void *mem, size_t mem_size, struct vtime_kvm_save *out);

/* Restores into a new VM whose guest memory is already in place: TSC (moved
 * forward by the real pause at the saved rate for ADVANCE), the record MSR,
 * the VM clock, the wall-clock MSR, then KVMCLOCK_CTRL on every vCPU with a
 * record (the guest sees GUEST_STOPPED once). A record whose version in
 * memory is below the saved one (memory not carried over) is raised first, so
 * versions are never reused.
 * Returns 0, VTIME_EINVAL, VTIME_ENOTSUP or VTIME_EIO. */
VTIME_API int vtime_kvm_restore_clock(int vm_fd, const int *vcpu_fds, unsigned nr_vcpus, void *mem,
				      size_t mem_size, const struct vtime_kvm_save *save,
				      enum vtime_resume_policy policy);

/* Host pointer to the 32-byte record at guest-physical gpa inside mem, or
 * NULL if out of range or misaligned (the ABI wants 4-byte alignment). */
VTIME_API volatile struct vtime_pvclock_vcpu_time_info *
vtime_kvm_guest_record(void *mem, size_t mem_size, uint64_t gpa);

/* Consistent copy of the record that the system-time MSR value msr (gpa | 1)
 * points at. Returns 0, VTIME_ENODEV (MSR disabled), VTIME_EINVAL (out of
 * range) or a vtime_pvclock_snapshot() error. */
VTIME_API int vtime_kvm_guest_record_read(const void *mem, size_t mem_size, uint64_t msr,
					  struct vtime_pvclock_vcpu_time_info *out);

#ifdef __cplusplus
}
#endif
#endif
