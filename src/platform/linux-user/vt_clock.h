/* SPDX-License-Identifier: MIT */
/* Private hooks of the userspace clock, for tests only. */
#ifndef VT_CLOCK_H
#define VT_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <vtime/hyperv.h>
#include <vtime/pvclock.h>
#include <vtime/vmclock.h>

#include "vt_ntp.h"

/* Forget everything (not thread-safe): the next call initialises again,
 * reading VTIME_CLOCK_SOURCE again. */
void vt_clock_reset(void);

/* Use page (nrecords records, 64 bytes apart) instead of the host page at the
 * next initialisation; NULL restores discovery. */
void vt_clock_test_page(const volatile struct vtime_pvclock_vcpu_time_info *page, unsigned nrecords);

/* Use page (a VMClock page the test publishes with vtime's writer) in place
 * of /dev/vmclock0 at the next initialisation; NULL restores discovery. */
void vt_clock_test_vmclock(const volatile struct vtime_vmclock_abi *page);

/* Use page (a Hyper-V reference TSC page the test publishes) in place of
 * the one in the vvar area at the next initialisation; NULL restores
 * discovery. */
void vt_clock_test_hv(const volatile struct vtime_hv_tsc_page *page);

/* true: discover no host page at all -- no pvclock page, no Hyper-V page,
 * no VMClock device (a machine with none, whatever this one has) -- except
 * the test's own pages. */
void vt_clock_test_no_pages(bool none);

/* Take / release the maintenance lock as if a thread were stuck holding it. */
int vt_clock_test_lock(void);
void vt_clock_test_unlock(void);

/* Run maintenance now, before any deadline (a probe of the line). */
void vt_clock_test_maintain(void);

/* The kernel as a simulation sees it: the clocks the slow paths read
 * (CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME) and adjtimex.
 * The counter stays the real one. NULL: the real kernel. Set it before the
 * first call (or after vt_clock_reset()). */
struct vt_clock_hooks {
	uint64_t (*clock)(clockid_t id);     /* ns */
	int (*ntp)(struct vt_ntp_raw *out);  /* 0, or nonzero: adjtimex failed */
};
void vt_clock_test_hooks(const struct vt_clock_hooks *h);

#endif
