/* SPDX-License-Identifier: MIT */
/* Private hooks of the userspace clock, for tests only. */
#ifndef VT_CLOCK_H
#define VT_CLOCK_H

#include <stdint.h>
#include <time.h>
#include <vtime/pvclock.h>

#include "vt_ntp.h"

/* Forget everything (not thread-safe): the next call initialises again,
 * reading VTIME_CLOCK_SOURCE again. */
void vt_clock_reset(void);

/* Use page (nrecords records, 64 bytes apart) instead of the host page at the
 * next initialisation; NULL restores discovery. */
void vt_clock_test_page(const volatile struct vtime_pvclock_vcpu_time_info *page, unsigned nrecords);

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
