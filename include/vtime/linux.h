/* SPDX-License-Identifier: MIT */
/* What a Linux machine offers vtime, for tools and for callers of the core
 * readers: counter hooks, the host pages the kernel maps into every process
 * (pvclock, the Hyper-V reference TSC page), the VMClock device, and a
 * probe of CPUID, sysfs and the pvclock page (what `vtime status` prints).
 * Available when libvtime is built for Linux (src/platform/linux-user/).
 * The fast clocks are in <vtime/clock.h>. */
#ifndef VTIME_LINUX_H
#define VTIME_LINUX_H

#include <stdbool.h>
#include <stdint.h>
#include <vtime/counter.h>
#include <vtime/error.h>
#include <vtime/export.h>
#include <vtime/hyperv.h>
#include <vtime/pvclock.h>
#include <vtime/vmclock.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- counter hooks (for vtime_pvclock_read() and friends) ---- */

enum vtime_counter_kind {
	VTIME_COUNTER_RAW = 0,     /* rdtsc / cntvct_el0 / rdtime, unordered */
	VTIME_COUNTER_ORDERED = 1, /* lfence;rdtsc / isb;cntvct_el0: for seqlock readers */
	VTIME_COUNTER_RDTSCP = 2,  /* rdtscp (x86 only; ordered after earlier loads) */
};

/* Fills *out with a hook reading this machine's counter. Returns 0,
 * VTIME_EINVAL, or VTIME_ENOTSUP (kind not available on this CPU). */
VTIME_API int vtime_counter_get(enum vtime_counter_kind kind, struct vtime_counter *out);

/* Ordered counter read with the processor it ran on (rdtscp's TSC_AUX low 12
 * bits under Linux); *cpu = -1 where the architecture cannot tell. */
VTIME_API uint64_t vtime_counter_read_cpu(int *cpu);

/* ---- the host pvclock page ---- */

/* The kvmclock page the kernel maps read-only into every process: the first
 * page of [vvar_vclock] (Linux >= 6.13) or page 1 of [vvar] (before). CPU i's
 * record is at offset 64*i. reserved is zeroed: later versions report new
 * fields there (0: not reported), keeping the size (docs/abi.md). */
struct vtime_host_page {
	const volatile struct vtime_pvclock_vcpu_time_info *rec; /* CPU 0's record, NULL if absent */
	uintptr_t addr;      /* page address, 0 if absent */
	const char *mapping; /* "[vvar_vclock]", "[vvar]" or "" */
	unsigned nrecords;   /* leading records that hold a published record (1..64) */
	int err;             /* 0 or the VTIME_E* code vtime_host_page_find() returned */
	char why[192];       /* when absent: why, in one English sentence */
	uint64_t reserved[4];
};

#define VTIME_HOST_PAGE_MAX_CPUS 64u

/* Finds and probes the page without ever faulting in this process (the page
 * is copied through a pipe by the kernel, which turns the SIGBUS a never-used
 * kvm-clock page raises into an error) and without touching signal handlers:
 * thread-safe and async-signal-safe. Returns 0, VTIME_ENODEV (no mapping, or
 * the page is not backed: the kernel never used kvm-clock), VTIME_ENODATA
 * (never published), VTIME_EPROTO (invalid record), VTIME_ENOTSUP (not x86),
 * VTIME_EIO. hp->why explains every failure. */
VTIME_API int vtime_host_page_find(struct vtime_host_page *hp);

/* *rec = CPU cpu's record in a found page. 0, VTIME_ENODEV (no page),
 * VTIME_ERANGE (cpu >= nrecords) or VTIME_EINVAL. */
VTIME_API int vtime_host_page_record(const struct vtime_host_page *hp, unsigned cpu,
				     const volatile struct vtime_pvclock_vcpu_time_info **rec);

/* ---- the Hyper-V reference TSC page ---- */

/* The reference TSC page Linux maps read-only into every process once its
 * clocksource has been hyperv_clocksource_tsc_page (a Hyper-V or Azure
 * guest, or a VMM offering Hyper-V enlightenments): the second page of
 * [vvar_vclock] (Linux >= 6.13) or page 2 of [vvar] (before). Probed like
 * the pvclock page: a page the kernel never used is not backed, and is
 * found so without a fault. reserved is zeroed (docs/abi.md). */
struct vtime_hv_host_page {
	const volatile struct vtime_hv_tsc_page *page; /* the page, NULL if absent */
	uintptr_t addr;      /* page address, 0 if absent */
	const char *mapping; /* "[vvar_vclock]", "[vvar]" or "" */
	uint32_t sequence;   /* tsc_sequence when probed (0: invalid) */
	uint32_t pad;
	uint64_t tsc_scale;  /* when probed (host byte order) */
	int64_t tsc_offset;
	uint64_t tsc_hz;     /* the TSC frequency the scale gives (10^7 * 2^64 / tsc_scale), 0 if invalid */
	int err;             /* 0 or the VTIME_E* code vtime_hv_host_page_find() returned */
	char why[192];       /* when absent or invalid: why, in one English sentence */
	uint64_t reserved[4];
};

/* Finds and probes the page without faulting in this process (the kernel
 * copies it through a pipe) and without touching signal handlers:
 * thread-safe and async-signal-safe. Returns 0 (valid: scale, offset and
 * frequency filled), VTIME_ENOTVALID (mapped and backed, but its sequence
 * is 0 or 0xFFFFFFFF: hp->page is set so the page can be watched, and the
 * kernel reads HV_X64_MSR_TIME_REF_COUNT meanwhile), VTIME_ENODEV (no such
 * mapping, or not backed: the kernel never used the Hyper-V clocksource),
 * VTIME_EAGAIN (the sequence kept changing), VTIME_ENOTSUP (not x86),
 * VTIME_EIO, VTIME_EINVAL. hp->why explains every failure. */
VTIME_API int vtime_hv_host_page_find(struct vtime_hv_host_page *hp);

/* ---- VMClock: /dev/vmclockN ---- */

#define VTIME_VMCLOCK_DEV_PATH "/dev/vmclock0"

/* An open VMClock device (Linux's ptp_vmclock driver, 6.13+): its page
 * mapped read-only. reserved is zeroed (docs/abi.md). */
struct vtime_vmclock_dev {
	const volatile struct vtime_vmclock_abi *clk; /* the page, mapped read-only; NULL if absent */
	size_t size;         /* bytes mapped: one page */
	int fd;              /* the open device (vtime_vmclock_dev_read, _wait), -1 if none */
	int err;             /* 0 or the VTIME_E* code vtime_vmclock_dev_open() returned */
	char path[64];       /* the device opened (or tried) */
	char why[192];       /* when absent: why, in one English sentence */
	uint64_t reserved[4];
};

/* Opens path (NULL: VTIME_VMCLOCK_DEV_PATH) read-only, maps one page at
 * offset 0 read-only (the driver refuses a writable mapping, by design),
 * and checks the header (vtime_vmclock_check: magic, version, size).
 * Returns 0, VTIME_ENODEV (no such device -- dev->why says whether the
 * host offers a VMClock, ACPI AMZNC10C, that this kernel has no driver
 * for -- or no VMClock magic in the page), VTIME_ENOTSUP (another
 * version), VTIME_EPROTO (size too small, or a file shorter than a page),
 * VTIME_EIO (open or mmap refused: dev->why says which), VTIME_EINVAL
 * (NULL, or a path of 64 bytes or more). On failure nothing stays open
 * or mapped. Async-signal-safe (system calls only: open, fstat, mmap,
 * close). */
VTIME_API int vtime_vmclock_dev_open(struct vtime_vmclock_dev *dev, const char *path);

/* A seq-consistent copy of the page's structure through read(2) at offset
 * 0 (the driver retries its seqlock for up to 100 ms), in host byte order.
 * On newer kernels the read also tells vtime_vmclock_dev_wait() what this
 * open file has seen. Returns 0, VTIME_EAGAIN (the copy was torn: the
 * driver timed out, or a plain file was being rewritten), the header's
 * errors, VTIME_EIO, VTIME_ENODEV (not open), VTIME_EINVAL. */
VTIME_API int vtime_vmclock_dev_read(const struct vtime_vmclock_dev *dev, struct vtime_vmclock_abi *out);

/* Waits up to timeout_ms (-1: no limit) until the page has changed since
 * the last vtime_vmclock_dev_read() on this device (poll(2), POLLIN).
 * Returns 0 (changed: read it), VTIME_EAGAIN (timed out), VTIME_ENOTSUP
 * (no notifications to wait for: the host does not set
 * NOTIFICATION_PRESENT, the driver predates poll support, or the file is
 * not a VMClock device: compare seq_count instead), VTIME_EIO,
 * VTIME_ENODEV (not open), VTIME_EINVAL. */
VTIME_API int vtime_vmclock_dev_wait(const struct vtime_vmclock_dev *dev, int timeout_ms);

/* Unmaps the page and closes the device (dev is left as after a failed
 * open). Returns 0 or VTIME_EINVAL. */
VTIME_API int vtime_vmclock_dev_close(struct vtime_vmclock_dev *dev);

/* ---- what this machine offers (vtime status) ---- */

/* reserved is zeroed: later versions report new fields there (0: not
 * reported), keeping the size (docs/abi.md). */
struct vtime_machine {
	const char *arch;         /* "x86", "aarch64", "armv7", "riscv64", "s390x", "none" */
	bool hypervisor;          /* CPUID 1 ECX bit 31 */
	char hv_signature[13];    /* CPUID 0x40000000 EBX ECX EDX, e.g. "KVMKVMKVM" */
	uint32_t hv_max_leaf;     /* CPUID 0x40000000 EAX */
	bool kvm;                 /* signature is KVM's */
	uint32_t kvm_features;    /* CPUID 0x40000001 EAX (KVM only) */
	bool kvm_clocksource;     /* bit 0 or 3: kvmclock MSRs */
	bool kvm_stable_bit;      /* bit 24: TSC_STABLE in the records is meaningful */
	uint64_t hv_tsc_hz;       /* CPUID 0x40000010 EAX (kHz) * 1000, 0 if absent */
	uint64_t hv_apic_hz;      /* CPUID 0x40000010 EBX (kHz) * 1000, 0 if absent */
	bool invariant_tsc;       /* CPUID 0x80000007 EDX bit 8 */
	bool rdtscp;              /* CPUID 0x80000001 EDX bit 27 */
	uint32_t cpuid15[3];      /* leaf 0x15 EAX, EBX, ECX (0 when not enumerated) */
	uint64_t cpuid15_hz;      /* ECX * EBX / EAX when all are non-zero, else 0 */
	uint32_t cpuid16_mhz;     /* leaf 0x16 EAX: processor base MHz (not the TSC), 0 if absent */
	uint64_t arch_counter_hz; /* the counter's frequency where the platform states it: CNTFRQ_EL0
				     (aarch64), CNTFRQ (armv7), the device tree's timebase-frequency (riscv64), 4096 MHz
				     (s390x TOD clock); 0 elsewhere */
	uint64_t cpuinfo_khz;     /* /proc/cpuinfo "cpu MHz" of CPU 0 in kHz, 0 if absent */
	char clocksource[32];     /* the kernel's current clocksource (sysfs), "" if unknown */
	char clocksources[128];   /* available clocksources */
	long ncpus;               /* online CPUs */
	struct vtime_host_page page; /* the host pvclock page (page.rec NULL if absent) */
	uint64_t page_hz;         /* TSC Hz recovered from CPU 0's record, 0 if absent */
	uint8_t page_flags;       /* CPU 0's record flags */
	const char *counter;      /* the user-readable counter: "tsc", "cntvct_el0", "cntvct" (armv7,
				     only where the kernel enabled user access), "time" (riscv64
				     rdtime), "tod" (s390x), "none" */
	const char *arch_counter_hz_source; /* where arch_counter_hz comes from, NULL if 0 */
	/* what is left of the reserved space (the two pointers came from it) */
	uint64_t reserved[16 - (2 * sizeof(const char *) + 7) / 8];
};

/* Fills *m (CPUID, sysfs, the host page). Async-signal-safe. Returns 0 or
 * VTIME_EINVAL. */
VTIME_API int vtime_machine_probe(struct vtime_machine *m);

#ifdef __cplusplus
}
#endif
#endif
