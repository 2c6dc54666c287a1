/* SPDX-License-Identifier: MIT */
/* What the minivmm VMM and its guest kernel share: guest-physical layout,
 * I/O ports and the mailbox page. Both sides are x86-64 little-endian. */
#ifndef MINIVMM_ABI_H
#define MINIVMM_ABI_H

#include <stdint.h>

#define MINIVMM_MEM_SIZE (4u << 20)
#define MINIVMM_MAX_CPUS 2u

/* Guest-physical layout (identity-mapped with 2 MiB pages). */
#define MINIVMM_PML4 0x1000u
#define MINIVMM_PDPT 0x2000u
#define MINIVMM_PD 0x3000u
#define MINIVMM_GDT 0x4000u
#define MINIVMM_SHARED 0x8000u   /* struct minivmm_shared */
#define MINIVMM_RECORDS 0x10000u /* pvclock records, 64 bytes apart */
#define MINIVMM_WALL 0x10800u    /* wall-clock record */
#define MINIVMM_HV_PAGE 0x11000u  /* VMM mode: the guest's Hyper-V reference TSC page */
#define MINIVMM_VMCLOCK 0x12000u  /* VMM mode: the VMClock region (one page; "ACPI _CRS" in shared->vmclock_gpa) */
#define MINIVMM_STACK_TOP(cpu) (0x30000u + (cpu) * 0x10000u)
#define MINIVMM_ENTRY 0x100000u  /* flat guest image */
#define MINIVMM_LOG 0x200000u    /* struct minivmm_log entries up to MEM_SIZE */
#define MINIVMM_LOG_CAP ((MINIVMM_MEM_SIZE - MINIVMM_LOG) / sizeof(struct minivmm_log))

/* Port I/O from the guest (32-bit OUT unless stated). */
#define MINIVMM_PORT_DONE 0x10     /* value: cpu; the cpu then halts */
#define MINIVMM_PORT_MARK 0x11     /* agree test: 0 before a reading, 1 after */
#define MINIVMM_PORT_POLL 0x12     /* a place where the VMM may park the vCPU */
#define MINIVMM_PORT_REG_CPU 0x13  /* VMM mode: record gpa of this vCPU (0: off) */
#define MINIVMM_PORT_REG_WALL 0x14 /* VMM mode: wall-clock record gpa */
#define MINIVMM_PORT_ERROR 0x15    /* value: negative vtime error, the cpu halts */
#define MINIVMM_PORT_NULL 0x16     /* does nothing: exit latency */
#define MINIVMM_PORT_HV_TSC 0x17   /* VMM mode without MSR exits: HV_X64_MSR_REFERENCE_TSC value */
#define MINIVMM_PORT_HV_COUNT 0x18 /* ... HV_X64_MSR_TIME_REF_COUNT into shared->hv_ref_count */

enum minivmm_mode {
	MINIVMM_MODE_KVM = 0, /* KVM publishes the records (MSRs) */
	MINIVMM_MODE_VMM = 1, /* the VMM publishes them with vtime's writer (ports) */
};

enum minivmm_test {
	MINIVMM_TEST_BOOT = 0,  /* a few readings per cpu */
	MINIVMM_TEST_MONO = 1,  /* iters readings per cpu, ordered through a lock */
	MINIVMM_TEST_AGREE = 2, /* cpu 0: MARK-bracketed readings until stop */
	MINIVMM_TEST_LOOP = 3,  /* read until stop, POLL every poll_every reads */
	MINIVMM_TEST_ABIS = 4,  /* VMM mode: kvmclock, Hyper-V page and VMClock until stop (struct minivmm_abis) */
};

struct minivmm_log {
	uint64_t ns;     /* the shim's value (clamped unless stable) */
	uint64_t raw_ns; /* straight from the record */
	uint32_t cpu;
	uint32_t flags;
};

struct minivmm_cpu {
	volatile uint64_t last_ns;
	volatile uint64_t first_ns;
	volatile uint64_t reads;
	volatile uint64_t backwards;  /* ns below this cpu's previous ns */
	volatile uint64_t max_gap;    /* largest step between consecutive reads */
	volatile uint64_t wall_ns;    /* wall time at the last BOOT reading */
	volatile uint32_t stopped;    /* GUEST_STOPPED callbacks */
	volatile uint32_t flags;      /* flags of the last reading */
	volatile uint32_t version;    /* version of the last reading */
	volatile int32_t err;
	volatile uint64_t tsc;        /* tsc of the last reading */
	volatile uint64_t raw_ns;
	volatile uint32_t epoch_seen; /* last shared->epoch this cpu saw */
	volatile uint32_t pad;
	volatile int64_t epoch_step;  /* ns step at the reading that saw it */
	volatile uint64_t epoch_ns;   /* that reading */
	volatile uint64_t epoch_wall_ns; /* guest wall clock right after it */
};

/* ABIS test, per cpu: the three clocks read in one lock-ordered round
 * (kvmclock through the shim, the Hyper-V page, VMClock), then all three
 * evaluated at one counter value from snapshots (no further RDTSC). */
struct minivmm_abis_cpu {
	volatile uint64_t rounds;
	volatile uint64_t last_pv, last_hv, last_vm; /* this cpu's previous readings (ns, 100 ns, ns) */
	volatile uint64_t pv_back, hv_back; /* this cpu's readings below its previous ones */
	volatile uint64_t vm_back;          /* VMClock below the previous with the same marker */
	volatile int64_t vm_step_min;       /* smallest VMClock step across a marker change (ns) */
	volatile int64_t vk_min, vk_max;    /* VMClock - kvmclock at one counter, current marker */
	volatile int64_t vk_spread;         /* largest vk_max - vk_min of one marker */
	volatile int64_t hk_min, hk_max;    /* Hyper-V * 100 - kvmclock at one counter (ns) */
	volatile int64_t vw_min, vw_max;    /* VMClock - (wall record + kvmclock) (ns) */
	volatile uint64_t vm_k;             /* kvmclock at the last VMClock reading's counter */
	volatile uint64_t marker, gen;      /* the last marker and generation this cpu read */
	volatile uint64_t maxerror_ns;      /* VMClock maxerror at the last reading */
	volatile uint32_t marker_changes;   /* changes of the marker in this cpu's readings */
	volatile uint32_t gen_changes;      /* ... of the generation counter */
	volatile uint32_t events;           /* shim reads that reported disrupted (first on any cpu) */
	volatile uint32_t gen_events;       /* ... with new_generation */
	volatile uint32_t hv_from_msr;      /* Hyper-V reads that fell back to TIME_REF_COUNT */
	volatile uint32_t status;           /* VMClock clock_status at the last reading */
	/* once at the start: HV_X64_MSR_TIME_REF_COUNT read between two page
	 * readings (100 ns units): count - first, second - count */
	volatile int64_t msr_after_page, page_after_msr;
};

struct minivmm_abis {
	volatile uint64_t rounds;                    /* under shared->lock, any cpu */
	volatile uint64_t last_pv, last_hv, last_vm; /* the latest readings of any cpu */
	volatile uint64_t last_marker;
	volatile uint64_t pv_back, hv_back, vm_back; /* below the latest of any cpu (same marker for VMClock) */
	volatile uint32_t callbacks;     /* on_disrupted calls (any cpu) */
	volatile uint32_t gen_callbacks; /* ... with new_generation */
	struct minivmm_abis_cpu cpu[MINIVMM_MAX_CPUS];
};

struct minivmm_shared {
	uint32_t mode;
	uint32_t test;
	uint32_t nr_cpus;
	uint32_t iters;       /* MONO: readings per cpu; BOOT: readings */
	uint32_t poll_every;  /* LOOP: reads between POLL exits */
	uint32_t pad0;
	volatile uint32_t ready; /* cpus registered (start barrier) */
	volatile uint32_t stop;  /* VMM: end the loop */
	volatile uint32_t lock;  /* MONO: orders readings across cpus */
	volatile uint32_t epoch; /* VMM: bumped at a resume/restore (step marker) */
	volatile uint64_t last_ns;     /* MONO: last ns under the lock */
	volatile uint64_t last_raw_ns; /* MONO: last raw ns under the lock */
	volatile uint64_t log_count;
	volatile uint64_t backwards;     /* MONO: ns below the previous (any cpu) */
	volatile uint64_t raw_backwards; /* MONO: raw ns below the previous raw */
	volatile uint64_t sample_ns;   /* AGREE: reading between MARK 0 and 1 */
	volatile uint64_t sample_tsc;
	volatile uint64_t sample_lat;  /* AGREE: guest-timed NULL exit round trip */
	uint32_t features;  /* CPUID base+1 EAX seen by the guest */
	uint32_t stable_advertised;
	struct minivmm_cpu cpu[MINIVMM_MAX_CPUS];
	/* VMM mode: the other two ABIs */
	uint64_t vmclock_gpa;  /* VMM: where the VMClock region is (0: none), as ACPI _CRS would say */
	uint64_t vmclock_size;
	uint32_t hv_msr;       /* VMM: 1 = WRMSR/RDMSR exit to the VMM, 0 = use the HV ports */
	uint32_t hyperv;       /* guest: CPUID showed Hyper-V with the reference TSC page */
	uint32_t hv_base;      /* guest: where */
	uint32_t kvm_base;     /* guest: where the KVM leaves were */
	volatile uint64_t hv_ref_count; /* VMM: PORT_HV_COUNT answer */
	struct minivmm_abis abis;
};

/* Both sides are compiled separately: pin the layout. */
_Static_assert(sizeof(struct minivmm_log) == 24, "log entry");
_Static_assert(sizeof(struct minivmm_cpu) == 112, "per-cpu report");
_Static_assert(__builtin_offsetof(struct minivmm_shared, last_ns) == 40, "shared page");
_Static_assert(__builtin_offsetof(struct minivmm_shared, cpu) == 112, "shared page");
_Static_assert(MINIVMM_SHARED + sizeof(struct minivmm_shared) <= MINIVMM_RECORDS, "shared page fits");
_Static_assert(MINIVMM_RECORDS % 64 == 0 && MINIVMM_WALL % 4 == 0, "record alignment");
_Static_assert(sizeof(struct minivmm_abis_cpu) == 192, "abis per-cpu report");
_Static_assert(__builtin_offsetof(struct minivmm_shared, abis) == 112 + MINIVMM_MAX_CPUS * 112 + 40, "shared page");
_Static_assert(MINIVMM_HV_PAGE % 4096 == 0 && MINIVMM_VMCLOCK % 4096 == 0 && MINIVMM_VMCLOCK + 4096 <= 0x30000u - 0x10000u,
	       "pages");

#endif
