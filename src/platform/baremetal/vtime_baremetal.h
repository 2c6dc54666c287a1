/* SPDX-License-Identifier: MIT */
/* Bare-metal x86-64 guest shim: kvmclock, the Hyper-V reference TSC page and
 * VMClock for small guest kernels (unikernels, RTOSes, hobby kernels).
 * Freestanding: no libc, no allocation, no globals; the kernel supplies the
 * memory for the records and pages and the physical addresses it registers.
 * See docs/guest.md. */
#ifndef VTIME_BAREMETAL_H
#define VTIME_BAREMETAL_H

#include <stdbool.h>
#include <stdint.h>
#include <vtime/clamp.h>
#include <vtime/hyperv.h>
#include <vtime/kvm_abi.h>
#include <vtime/pvclock.h>
#include <vtime/vmclock.h>

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
	/* Hyper-V (TLFS): "Microsoft Hv" at hv_base and "Hv#1" at hv_base + 1 */
	bool hyperv;
	uint32_t hv_base;       /* 0x40000000 (+ n*0x100) where the signature was found */
	uint32_t hv_features;   /* hv_base + 3 EAX (VTIME_HV_ACCESS_*), 0 if the leaf is absent */
	bool hv_ref_tsc;        /* HV_X64_MSR_REFERENCE_TSC available: the page can be registered */
	bool hv_ref_count;      /* HV_X64_MSR_TIME_REF_COUNT available: the page's fallback */
};

/* One CPUID leaf (subleaf 0) into r[0..3] = EAX, EBX, ECX, EDX. */
typedef void (*vtime_bm_cpuid_fn)(void *ctx, uint32_t leaf, uint32_t r[4]);

/* Fills f from CPUID. Returns 0, or VTIME_ENODEV when there is no KVM
 * signature or no CLOCKSOURCE2 (f is filled either way, the Hyper-V fields
 * too: a Hyper-V-only host returns VTIME_ENODEV with f->hyperv set). */
int vtime_bm_detect(struct vtime_bm_features *f);

/* The same through cpuid instead of the instruction (NULL: the
 * instruction): a kernel's own CPUID wrapper, or a test's fake table. */
int vtime_bm_detect_with(struct vtime_bm_features *f, vtime_bm_cpuid_fn cpuid, void *ctx);

/* How records and pages get registered with the hypervisor. NULL ops in the
 * config means KVM's MSRs for the records and the TLFS MSRs for the Hyper-V
 * page; a hypervisor without kvmclock (or a VMM publishing the records
 * itself) passes its own, e.g. a port-I/O call. In ops, a NULL Hyper-V hook
 * means its TLFS MSR (WRMSR/RDMSR: ring 0, and only where CPUID says so). */
struct vtime_bm_hv_ops {
	int (*register_cpu)(void *ctx, unsigned cpu, uint64_t gpa); /* gpa 0: unregister */
	int (*register_wall)(void *ctx, uint64_t gpa);
	void *ctx;
	/* Hyper-V: the value for HV_X64_MSR_REFERENCE_TSC (page frame << 12 |
	 * enable; 0 disables), and a read of HV_X64_MSR_TIME_REF_COUNT (100 ns
	 * units), the page's fallback. */
	int (*register_hv_tsc)(void *ctx, uint64_t msr_value);
	int (*read_hv_ref_count)(void *ctx, uint64_t *count);
};

/* A replacement clamp: returns a value >= ns and >= every value it returned
 * before, on any CPU. NULL in the config selects vtime's global clamp
 * (struct vtime_clamp in struct vtime_bm_clock, vtime_clamp_apply_stable()). */
typedef uint64_t (*vtime_bm_clamp_fn)(void *ctx, uint64_t ns);

/* Called once per GUEST_STOPPED the guest consumes (tell the watchdogs). */
typedef void (*vtime_bm_stopped_fn)(void *ctx, unsigned cpu);

/* Called once per change of the VMClock disruption marker, on the CPU whose
 * read saw it first: the clock was disrupted (step the kernel's clock from
 * the page again); new_generation: the VM was also loaded from a snapshot
 * or cloned (reseed random numbers, renew leases...). Runs under the shim's
 * VMClock lock: it must not read the VMClock through the shim. */
typedef void (*vtime_bm_disrupted_fn)(void *ctx, unsigned cpu, uint64_t marker, uint64_t generation,
				      bool new_generation);

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
	/* Hyper-V reference TSC page (optional, partition-wide): where CPUID
	 * says hv_ref_tsc. One 4 KiB page at a 4 KiB-aligned gpa. */
	volatile struct vtime_hv_tsc_page *hv_page;
	uint64_t hv_page_gpa;
	/* VMClock (optional): the region the platform reported (ACPI _HID
	 * "AMZNC10C" / _CID "VMCLOCK": its _CRS memory range; device tree
	 * compatible "amazon,vmclock": its reg), mapped by the kernel. */
	const volatile struct vtime_vmclock_abi *vmclock;
	uint64_t vmclock_size;  /* bytes mapped (the region's length) */
	vtime_bm_disrupted_fn on_disrupted; /* optional */
	void *disrupted_ctx;
};

struct vtime_bm_clock {
	struct vtime_clamp clamp; /* first: one cache line of its own when c is 64-aligned */
	struct vtime_bm_config cfg;
	struct vtime_bm_hv_ops ops;
	/* VMClock: the marker and generation last seen (any CPU), the seq_count
	 * they came from, under a spin lock taken only when they change */
	volatile uint64_t vmclock_marker, vmclock_gen;
	volatile uint32_t vmclock_seq, vmclock_lock;
	bool vmclock_primed; /* under the lock (read unlocked only as a hint) */
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

/* ---- Hyper-V reference TSC page ---- */

/* Enables (or disables) the page: HV_X64_MSR_REFERENCE_TSC <- (gpa & ~0xfff)
 * | 1 (or 0), through ops->register_hv_tsc or WRMSR. Partition-wide: once,
 * on any CPU. Returns the hook's result, or VTIME_EINVAL (no page). */
int vtime_bm_hv_register(struct vtime_bm_clock *c, bool enable);

struct vtime_bm_hv_reading {
	uint64_t time;     /* reference time, 100 ns units since the partition started */
	uint64_t tsc;      /* the TSC read inside the window (0: from the MSR) */
	uint32_t sequence; /* the page's sequence (0: from the MSR) */
	bool from_msr;     /* the page was invalid: HV_X64_MSR_TIME_REF_COUNT was read */
};

/* Reference time from the page (vtime_hv_tsc_page_read with an ordered
 * TSC), or from HV_X64_MSR_TIME_REF_COUNT (ops->read_hv_ref_count or RDMSR)
 * while the page is invalid, as the TLFS says. Returns 0, VTIME_EAGAIN (the
 * sequence changed in every try), the hook's error, or VTIME_EINVAL (no
 * page). */
int vtime_bm_hv_read(struct vtime_bm_clock *c, struct vtime_bm_hv_reading *out);

/* ---- VMClock ---- */

struct vtime_bm_vmclock_reading {
	struct vtime_vmclock_reading r; /* the reading (on error: only the marker and generation, if known) */
	bool disrupted;      /* this read was the first, on any CPU, to see the marker change */
	bool new_generation; /* ... with the generation counter */
};

/* Reads the VMClock region (vtime_vmclock_read with an ordered TSC: the
 * caller must have checked that counter_id is X86_TSC, e.g. with
 * vtime_vmclock_check and a snapshot) on CPU cpu and notes marker and
 * generation changes: the first read (any CPU) of a newer seq_count whose
 * marker differs from the last one seen reports disrupted (and
 * new_generation if the generation differs too) and calls on_disrupted,
 * once per change. Pages without time (marker-only, UNRELIABLE) are still
 * watched: the error is returned with the marker noted. What the page says
 * at vtime_bm_init() (or, if it was not laid out yet, at the first read) is
 * the starting point: no event for it. Returns vtime_vmclock_read()'s
 * result, or VTIME_EINVAL (no region, cpu out of range). */
int vtime_bm_vmclock_read(struct vtime_bm_clock *c, unsigned cpu, struct vtime_bm_vmclock_reading *out);

#ifdef __cplusplus
}
#endif
#endif
