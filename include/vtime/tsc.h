/* SPDX-License-Identifier: MIT */
/* Guest TSC scaling as hardware does it:
 * guest_tsc = ((host_tsc * ratio) >> frac_bits) + offset (128-bit product). */
#ifndef VTIME_TSC_H
#define VTIME_TSC_H

#include <stdint.h>
#include <vtime/export.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VTIME_TSC_FRAC_BITS_VMX 48u /* Intel: 16.48, max ratio 2^64-1 */
#define VTIME_TSC_FRAC_BITS_SVM 32u /* AMD: 8.32, max ratio 2^40-1 */

/* ratio = floor(2^frac_bits * guest_khz / host_khz). frac_bits must be 48 or
 * 32. Returns 0, VTIME_EINVAL (NULL, 0 kHz, other frac_bits) or VTIME_ERANGE
 * (ratio 0 or at/above the hardware maximum for frac_bits). */
VTIME_API int vtime_tsc_ratio_init(uint64_t *ratio, uint64_t guest_khz, uint64_t host_khz,
				   unsigned frac_bits);

/* (tsc * ratio) >> frac_bits, truncated to 64 bits like the hardware.
 * Pure (frac_bits is taken modulo 128). */
VTIME_API uint64_t vtime_tsc_ratio_apply(uint64_t tsc, uint64_t ratio, unsigned frac_bits);

/* The ratio meaning "no scaling": 1 << frac_bits. */
static inline uint64_t vtime_tsc_ratio_default(unsigned frac_bits)
{
	return (uint64_t)1 << frac_bits;
}

#ifdef __cplusplus
}
#endif
#endif
