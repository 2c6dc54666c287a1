/* SPDX-License-Identifier: MIT */
/* Private hooks of the userspace clock, for tests only. */
#ifndef VT_CLOCK_H
#define VT_CLOCK_H

#include <stdint.h>
#include <vtime/pvclock.h>

/* Forget everything (not thread-safe): the next call initialises again,
 * reading VTIME_CLOCK_SOURCE again. */
void vt_clock_reset(void);

/* Use page (nrecords records, 64 bytes apart) instead of the host page at the
 * next initialisation; NULL restores discovery. */
void vt_clock_test_page(const volatile struct vtime_pvclock_vcpu_time_info *page, unsigned nrecords);

/* Take / release the maintenance lock as if a thread were stuck holding it. */
int vt_clock_test_lock(void);
void vt_clock_test_unlock(void);

/* Run maintenance now (as the deadline would). */
void vt_clock_test_maintain(void);

#endif
