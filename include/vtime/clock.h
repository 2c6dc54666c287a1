/* SPDX-License-Identifier: MIT */
/* Linux userspace: counter hooks, the host pvclock page, and fast clocks.
 * Available when libvtime is built for Linux (src/platform/linux-user/).
 * See docs/userspace.md. */
#ifndef VTIME_CLOCK_H
#define VTIME_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <vtime/counter.h>
#include <vtime/export.h>
#include <vtime/pvclock.h>

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
 * record is at offset 64*i. */
struct vtime_host_page {
	const volatile struct vtime_pvclock_vcpu_time_info *rec; /* CPU 0's record, NULL if absent */
	uintptr_t addr;      /* page address, 0 if absent */
	const char *mapping; /* "[vvar_vclock]", "[vvar]" or "" */
	unsigned nrecords;   /* leading records that hold a published record (1..64) */
	int err;             /* 0 or the VTIME_E* code vtime_host_page_find() returned */
	char why[192];       /* when absent: why, in one English sentence */
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

/* CPU cpu's record in a found page, or NULL (cpu >= nrecords). */
VTIME_API const volatile struct vtime_pvclock_vcpu_time_info *
vtime_host_page_record(const struct vtime_host_page *hp, unsigned cpu);

#ifdef __cplusplus
}
#endif
#endif
