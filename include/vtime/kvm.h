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

/* The VM's kvmclock as KVM_GET_CLOCK returns it. The reserved fields are
 * zeroed: later versions report new fields there (0: not reported), keeping
 * the size (docs/abi.md). */
struct vtime_kvm_clock {
	uint64_t clock_ns;    /* kvmclock now */
	uint64_t realtime_ns; /* host CLOCK_REALTIME it was read against (flag REALTIME) */
	uint64_t host_tsc;    /* host TSC it was read against (flag HOST_TSC) */
	uint32_t flags;       /* VTIME_KVM_CLOCK_* */
	uint32_t reserved0;
	uint64_t reserved[3];
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
 * memory and registers. vtime's one saved-state pattern
 * (docs/architecture.md): a host-order struct, and a little-endian byte
 * image of VTIME_KVM_SAVE_BYTES(nr_vcpus) bytes (16-byte header with magic,
 * version and size; the VM fields; then each vCPU's) that restores on any
 * host and library version that knows it. */
#define VTIME_KVM_SAVE_MAX_VCPUS 64u
#define VTIME_KVM_SAVE_MAGIC 0x4b4d5456u /* "VTMK" */
#define VTIME_KVM_SAVE_VERSION 1u
#define VTIME_KVM_SAVE_BYTES(nr_vcpus) (48u + 24u * (nr_vcpus))

/* reserved: zero (save and decode write zeros, restore and encode reject
 * anything else); a later image version takes its new fields from there, so
 * the structs keep their size (docs/abi.md). */
struct vtime_kvm_save_vcpu {
	uint64_t tsc;         /* IA32_TSC */
	uint64_t system_time; /* MSR 0x4b564d01 (record gpa | enable) */
	uint32_t tsc_khz;
	uint32_t version;     /* record version in guest memory (0 if unknown) */
	uint64_t reserved[2];
};

struct vtime_kvm_save {
	uint32_t nr_vcpus;    /* 0..VTIME_KVM_SAVE_MAX_VCPUS */
	uint32_t clock_flags; /* VTIME_KVM_CLOCK_* of that reading */
	uint64_t clock_ns;    /* KVM_GET_CLOCK */
	uint64_t realtime_ns; /* host realtime of that reading */
	uint64_t wall_clock;  /* MSR 0x4b564d00 as last written (0 if unknown) */
	uint64_t reserved[4];
	struct vtime_kvm_save_vcpu vcpu[VTIME_KVM_SAVE_MAX_VCPUS];
};

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct vtime_kvm_clock) == 56, "ABI: grow into reserved");
_Static_assert(sizeof(struct vtime_kvm_save_vcpu) == 40, "ABI: grow into reserved");
_Static_assert(sizeof(struct vtime_kvm_save) == 64 + 40 * VTIME_KVM_SAVE_MAX_VCPUS, "ABI: grow into reserved");
#endif

/* The byte image. Encode writes VTIME_KVM_SAVE_BYTES(save->nr_vcpus) bytes
 * (*used, optional), VTIME_ERANGE if len is shorter, VTIME_EINVAL for more
 * than VTIME_KVM_SAVE_MAX_VCPUS or a reserved field that is not zero. Decode: VTIME_EPROTO for a malformed or
 * truncated image, VTIME_ENOTSUP for a later version. Freestanding code:
 * available on every host, not only where /dev/kvm is. */
VTIME_API int vtime_kvm_save_encode(const struct vtime_kvm_save *save, void *buf, size_t len, size_t *used);
VTIME_API int vtime_kvm_save_decode(struct vtime_kvm_save *save, const void *buf, size_t len);

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
 * versions are never reused. Every field of *save is checked first:
 * VTIME_EPROTO for unknown clock flags, a reserved field that is not zero, a
 * vCPU with tsc_khz 0, or an enabled record outside mem or not 8-byte
 * aligned (nothing is changed then).
 * Returns 0, VTIME_EINVAL, VTIME_EPROTO, VTIME_ENOTSUP or VTIME_EIO. */
VTIME_API int vtime_kvm_restore_clock(int vm_fd, const int *vcpu_fds, unsigned nr_vcpus, void *mem,
				      size_t mem_size, const struct vtime_kvm_save *save,
				      enum vtime_resume_policy policy);

/* *rec = host pointer to the 32-byte record at guest-physical gpa inside
 * mem (guest-physical 0 .. mem_size). Returns 0, VTIME_ERANGE (the record
 * is not wholly inside mem) or VTIME_EINVAL (NULL, or gpa not 8-byte
 * aligned: KVM's ABI asks for 4, but vtime reads the 64-bit fields with
 * single loads, which must not straddle a cache line). */
VTIME_API int vtime_kvm_guest_record(void *mem, size_t mem_size, uint64_t gpa,
				     volatile struct vtime_pvclock_vcpu_time_info **rec);

/* Consistent copy of the record that the system-time MSR value msr (gpa | 1)
 * points at. Returns 0, VTIME_ENODEV (MSR disabled), a
 * vtime_kvm_guest_record() error or a vtime_pvclock_snapshot() error. */
VTIME_API int vtime_kvm_guest_record_read(const void *mem, size_t mem_size, uint64_t msr,
					  struct vtime_pvclock_vcpu_time_info *out);

#ifdef __cplusplus
}
#endif
#endif
