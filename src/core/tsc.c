/* SPDX-License-Identifier: MIT */
#include <vtime/error.h>
#include <vtime/tsc.h>

#include "vt_math.h"

static uint64_t vt_tsc_ratio_max(unsigned frac_bits)
{
	/* Hardware limits: VMX ratio is a full u64, SVM an 8.32 value in 40 bits. */
	return frac_bits == VTIME_TSC_FRAC_BITS_VMX ? UINT64_MAX : (((uint64_t)1 << 40) - 1);
}

int vtime_tsc_ratio_init(uint64_t *ratio, uint64_t guest_khz, uint64_t host_khz, unsigned frac_bits)
{
	struct vt_u128 num;
	uint64_t q;

	if (!ratio || guest_khz == 0 || host_khz == 0)
		return VTIME_EINVAL;
	if (frac_bits != VTIME_TSC_FRAC_BITS_VMX && frac_bits != VTIME_TSC_FRAC_BITS_SVM)
		return VTIME_EINVAL;
	num.hi = 0;
	num.lo = guest_khz;
	num = vt_shl128(num, frac_bits);
	if (!vt_div128(num, host_khz, &q, (uint64_t *)0))
		return VTIME_ERANGE;
	if (q == 0 || q >= vt_tsc_ratio_max(frac_bits))
		return VTIME_ERANGE;
	*ratio = q;
	return 0;
}

uint64_t vtime_tsc_ratio_apply(uint64_t tsc, uint64_t ratio, unsigned frac_bits)
{
	return vt_shr128(vt_mul64(tsc, ratio), frac_bits & 127u);
}
