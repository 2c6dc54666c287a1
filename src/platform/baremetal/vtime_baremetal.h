/* SPDX-License-Identifier: MIT */
/* Bare-metal x86-64 guest shim: kvmclock for small guest kernels
 * (unikernels, RTOSes, hobby kernels). Freestanding: no libc, no
 * allocation, no globals; the kernel supplies the memory for the records and
 * the physical addresses it registers. See docs/guest.md. */
#ifndef VTIME_BAREMETAL_H
#define VTIME_BAREMETAL_H

#include <stdbool.h>
#include <stdint.h>
#include <vtime/clamp.h>
#include <vtime/kvm_abi.h>
#include <vtime/pvclock.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What CPUID says about the hypervisor. */
struct vtime_bm_features {
	bool hypervisor;        /* CPUID 1 ECX bit 31 */
	bool kvm;               /* "KVMKVMKVM\0\0\0" found at base */
	uint32_t base;          /* 0x40000000 + n*0x100 where the signature was found */
	uint32_t kvm_features;  /* CPUID base+1 EAX */
	bool clocksource2;      /* new MSRs 0x4b564d00/01 usable */
	bool stable_advertised; /* the TSC_STABLE bit in records is meaningful */
};

/* Fills f from CPUID. Returns 0, or VTIME_ENODEV when there is no KVM
 * signature or no CLOCKSOURCE2 (f is filled either way). */
int vtime_bm_detect(struct vtime_bm_features *f);

/* How records get registered with the hypervisor. NULL ops in the config
 * means KVM's MSRs; a hypervisor without kvmclock (or a VMM publishing the
 * records itself) passes its own, e.g. a port-I/O call. */
struct vtime_bm_hv_ops {
	int (*register_cpu)(void *ctx, unsigned cpu, uint64_t gpa); /* gpa 0: unregister */
	int (*register_wall)(void *ctx, uint64_t gpa);
	void *ctx;
};

/* A replacement clamp: returns a value >= ns and >= every value it returned
 * before, on any CPU. NULL in the config selects vtime's global clamp
 * (struct vtime_clamp in struct vtime_bm_clock, vtime_clamp_apply_stable()). */
typedef uint64_t (*vtime_bm_clamp_fn)(void *ctx, uint64_t ns);

/* Called once per GUEST_STOPPED the guest consumes (tell the watchdogs). */
typedef void (*vtime_bm_stopped_fn)(void *ctx, unsigned cpu);

struct vtime_bm_config {
	volatile struct vtime_pvclock_vcpu_time_info *records; /* nr_cpus records, 64 bytes apart */
	uint64_t records_gpa;    /* guest-physical address of records[0] */
	unsigned nr_cpus;
	volatile struct vtime_pvclock_wall_clock *wall; /* optional */
	uint64_t wall_gpa;
	bool stable_advertised;  /* usually vtime_bm_features.stable_advertised */
	const struct vtime_bm_hv_ops *ops; /* NULL: KVM MSRs */
	vtime_bm_clamp_fn clamp; /* NULL: vtime_clamp (include/vtime/clamp.h) */
	void *clamp_ctx;
	vtime_bm_stopped_fn on_stopped; /* optional */
	void *stopped_ctx;
};

struct vtime_bm_clock {
	struct vtime_clamp clamp; /* first: one cache line of its own when c is 64-aligned */
	struct vtime_bm_config cfg;
	struct vtime_bm_hv_ops ops;
};

/* One reading through the shim. */
struct vtime_bm_reading {
	uint64_t ns;     /* what the guest should use (clamped unless stable) */
	uint64_t raw_ns; /* straight from this CPU's record */
	uint64_t tsc;
	uint32_t version;
	uint8_t flags;
	bool stopped;    /* this read consumed GUEST_STOPPED */
};

/* Returns 0 or VTIME_EINVAL (records NULL, misaligned, nr_cpus 0). */
int vtime_bm_init(struct vtime_bm_clock *c, const struct vtime_bm_config *cfg);

/* On CPU cpu: register (or with enable false, unregister) its record. */
int vtime_bm_cpu_register(struct vtime_bm_clock *c, unsigned cpu, bool enable);

/* Asks the hypervisor to (re)write the wall-clock record; it is written only
 * on request. vtime_bm_read() repeats it after each GUEST_STOPPED. */
int vtime_bm_wall_register(struct vtime_bm_clock *c);

/* Reads CPU cpu's record (call it on that CPU). A read that consumes
 * GUEST_STOPPED also re-requests the wall-clock record (it may be stale after
 * a pause or restore) and calls on_stopped. Returns 0 or a
 * vtime_pvclock_read() error. */
int vtime_bm_read(struct vtime_bm_clock *c, unsigned cpu, struct vtime_bm_reading *out);

/* Nanoseconds of kvmclock, monotonic across CPUs. */
int vtime_bm_now(struct vtime_bm_clock *c, unsigned cpu, uint64_t *ns);

/* Wall time in ns since the Unix epoch (wall record + kvmclock). */
int vtime_bm_wall_now(struct vtime_bm_clock *c, unsigned cpu, uint64_t *ns);

#ifdef __cplusplus
}
#endif
#endif
