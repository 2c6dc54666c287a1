/* SPDX-License-Identifier: MIT */
#include <vtime/error.h>
#include <vtime/scale.h>

#include "vt_math.h"

int vtime_scale_init(struct vtime_scale *s, uint64_t from_hz, uint64_t to_hz)
{
	uint64_t base = from_hz, scaled = to_hz;
	uint32_t base32;
	int shift = 0;

	if (!s || from_hz == 0 || to_hz == 0)
		return VTIME_EINVAL;

	/* Bring base into 32 bits and to at most twice scaled. (Written as
	 * base - scaled > scaled so that scaled near 2^64 cannot overflow.) */
	while ((base > scaled && base - scaled > scaled) || (base >> 32) != 0) {
		base >>= 1;
		shift--;
	}
	base32 = (uint32_t)base;
	/* Then make scaled < base32 with both in 32 bits, so mul < 2^32. */
	while (base32 <= scaled || (scaled >> 32) != 0) {
		if ((scaled >> 32) != 0 || (base32 & 0x80000000u) != 0)
			scaled >>= 1;
		else
			base32 <<= 1;
		shift++;
	}
	if (shift < -63 || shift > 63)
		return VTIME_ERANGE;
	s->mul = (uint32_t)vt_div64(scaled << 32, base32);
	s->shift = (int8_t)shift;
	return 0;
}

uint64_t vtime_scale_apply(const struct vtime_scale *s, uint64_t delta)
{
	/* The shifted delta wraps mod 2^64 exactly as the reference does. */
	return vt_mul_frac32(vt_shift64(delta, s->shift), s->mul);
}

uint64_t vtime_scale_source_hz(const struct vtime_scale *s)
{
	struct vt_u128 n = { 0, VTIME_NSEC_PER_SEC };
	uint64_t q;
	int e;

	if (!s || s->mul == 0)
		return 0;
	e = 32 - s->shift; /* 1e9 * 2^(32 - shift) / mul */
	if (e < 0) {
		if (e <= -64)
			return 0;
		n.lo >>= -e;
	} else {
		if (e >= 98) /* 1e9 < 2^30: beyond this the quotient cannot fit */
			return UINT64_MAX;
		n = vt_shl128(n, (unsigned)e);
	}
	if (!vt_div128(n, s->mul, &q, (uint64_t *)0))
		return UINT64_MAX;
	return q;
}
