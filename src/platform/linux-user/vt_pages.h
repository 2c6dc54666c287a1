/* SPDX-License-Identifier: MIT */
/* Private helpers of pages.c (the Hyper-V page in the vvar area, VMClock's
 * device) for the userspace clock's initialisation. */
#ifndef VT_PAGES_H
#define VT_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vtime/linux.h>

/* The TSC frequency a Hyper-V tsc_scale gives (10^7 * 2^64 / scale), 0 when
 * it is no plausible counter. Pure. */
uint64_t vt_hv_scale_hz(uint64_t tsc_scale);

/* Fills hp (page, addr, sequence, scale, offset, Hz) from a readable page
 * (the machine's, found by vtime_hv_host_page_find, or a test's): 0,
 * VTIME_ENOTVALID or VTIME_EAGAIN as vtime_hv_host_page_find. hp->mapping
 * must be set (""). */
int vt_hv_page_probe(const volatile struct vtime_hv_tsc_page *page, struct vtime_hv_host_page *hp);

/* vtime_vmclock_dev_open(), keeping the descriptor only with keep_fd (the
 * clock keeps only the mapping: a library holds no descriptor a program
 * may close). */
int vt_vmclock_map(struct vtime_vmclock_dev *d, const char *path, bool keep_fd);

/* Why there is no VMClock device at path: what the firmware offers. */
void vt_vmclock_absent_why(char *why, size_t cap, const char *path);

#endif
