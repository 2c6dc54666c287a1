/* SPDX-License-Identifier: MIT */
/* The start-up frequency check (freqchk.c) and the rate comparison the
 * run-time check shares with it. */
#ifndef VT_FREQCHK_H
#define VT_FREQCHK_H

#include <stdint.h>

#include "vt_clock_int.h"

#define VT_RATE_BAD_PPM 1000.0 /* a counter this far from its claimed rate is refused */

struct vt_freqchk {
	int verdict;          /* 1 agrees, 0 could not decide (claim kept), -1 refused */
	double ppm, unc_ppm;  /* CLOCK_MONOTONIC_RAW's rate against the claim, and its uncertainty */
	struct vt_sample s1;  /* the second sample */
};

/* How far the counter ran from the reference between two samples, in ppm
 * of ns_per_x, with the measurement's uncertainty (pure). */
double vt_rate_off_ppm(const struct vt_sample *s0, const struct vt_sample *s1, double ns_per_x, double *unc_ppm);

/* Checks hz against CLOCK_MONOTONIC_RAW from the sample s0 on. */
void vt_freq_check(uint64_t hz, const struct vt_sample *s0, struct vt_freqchk *out);

#endif
