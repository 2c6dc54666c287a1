/* SPDX-License-Identifier: MIT */
/* The conversions anyone can hand numbers to: vtime_scale_init() (KVM's
 * kvm_get_time_scale), vtime_scale_apply(), vtime_scale_source_hz(), the
 * guest TSC ratios (vtime_tsc_ratio_init/apply), each against the 128-bit
 * oracle of tests/core/vt_oracle.h, for any rates, deltas and shifts:
 *   - init succeeds exactly when the oracle's shift is in [-63, 63], and
 *     then gives the oracle's (shift, mul), mul < 2^32 with mul >= 2^31
 *     when the target is 1e9 (facts, section 2);
 *   - apply equals the oracle for any delta and any (mul, shift), |shift|
 *     >= 64 included (no undefined behaviour);
 *   - apply is monotonic in the delta while the shifted delta fits;
 *   - source_hz equals the oracle; a TSC->ns scale of a rate below 2^32 Hz
 *     that survives the pre-shift recovers it exactly (the documented case);
 *   - ratio init/apply equal the oracle, with the hardware limits. */
#include <vtime/error.h>
#include <vtime/scale.h>
#include <vtime/tsc.h>

#include "fuzz.h"
#include "vt_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	uint64_t from = fz_edge64(&f), to = fz_bool(&f) ? VTIME_NSEC_PER_SEC : fz_edge64(&f);
	struct vtime_scale s;
	int err = vtime_scale_init(&s, from, to);

	if (from == 0 || to == 0) {
		FZ_CHECK(err == VTIME_EINVAL, "scale_init(%llu, %llu) = %d, want EINVAL", FZ_U(from), FZ_U(to), err);
	} else {
		int osh;
		uint32_t omul;
		oracle_scale_init(from, to, &osh, &omul);
		if (osh < -63 || osh > 63) {
			FZ_CHECK(err == VTIME_ERANGE, "scale_init(%llu, %llu) = %d, oracle shift %d", FZ_U(from),
				 FZ_U(to), err, osh);
		} else {
			FZ_CHECK(err == 0 && s.shift == osh && s.mul == omul,
				 "scale_init(%llu, %llu) = %d (%d, %u), oracle (%d, %u)", FZ_U(from), FZ_U(to), err,
				 s.shift, s.mul, osh, omul);
			if (to == VTIME_NSEC_PER_SEC)
				FZ_CHECK(s.mul >= 0x80000000u, "TSC->ns mul %u below 2^31 for %llu Hz", s.mul, FZ_U(from));
			FZ_CHECK(vtime_scale_source_hz(&s) == oracle_from_hz(s.shift, s.mul), "source_hz");
			/* exact when below mul and no bit was shifted out on the way
			 * in (KVM's first loop halves base while base > 2 * 1e9 or it
			 * does not fit 32 bits; a later doubling does not bring the
			 * bit back: 2000000001 Hz reads as 2000000000) */
			unsigned down = 0;
			for (uint64_t b = from; b > 2 * to || (b >> 32); b >>= 1)
				down++;
			if (to == VTIME_NSEC_PER_SEC && from < s.mul && (down == 0 || (from & ((1ull << down) - 1)) == 0))
				FZ_CHECK(vtime_scale_source_hz(&s) == from, "%llu Hz recovered as %llu", FZ_U(from),
					 FZ_U(vtime_scale_source_hz(&s)));
		}
	}
	/* apply for an arbitrary (mul, shift), and monotonic in the delta */
	{
		struct vtime_scale a;
		uint64_t d1 = fz_edge64(&f), d2 = fz_edge64(&f);
		a.mul = fz_u32(&f);
		a.shift = (int8_t)fz_u8(&f);
		if (fz_bool(&f) && err == 0)
			a = s;
		FZ_CHECK(vtime_scale_apply(&a, d1) == oracle_scale_apply(d1, a.shift, a.mul),
			 "apply(%llu) mul %u shift %d", FZ_U(d1), a.mul, a.shift);
		FZ_CHECK(vtime_scale_apply(&a, d2) == oracle_scale_apply(d2, a.shift, a.mul),
			 "apply(%llu) mul %u shift %d", FZ_U(d2), a.mul, a.shift);
		FZ_CHECK(vtime_scale_source_hz(&a) == oracle_from_hz(a.shift, a.mul), "source_hz mul %u shift %d",
			 a.mul, a.shift);
		if (d1 > d2) {
			uint64_t x = d1;
			d1 = d2;
			d2 = x;
		}
		if (a.shift <= 0 || (a.shift < 64 && (d2 >> (64 - a.shift)) == 0))
			FZ_CHECK(vtime_scale_apply(&a, d1) <= vtime_scale_apply(&a, d2), "apply not monotonic");
	}
	/* guest TSC ratios */
	{
		uint64_t g = fz_edge64(&f), h = fz_edge64(&f), r = 12345, tsc = fz_edge64(&f), oq;
		unsigned bits = fz_bool(&f) ? VTIME_TSC_FRAC_BITS_VMX : VTIME_TSC_FRAC_BITS_SVM;
		uint64_t max;
		int e;
		if (fz_bool(&f))
			bits = fz_u8(&f);
		/* hardware limits: VMX a full u64, SVM 8.32 in 40 bits */
		max = bits == VTIME_TSC_FRAC_BITS_VMX ? UINT64_MAX : (((uint64_t)1 << 40) - 1);
		e = vtime_tsc_ratio_init(&r, g, h, bits);
		if (g == 0 || h == 0 || (bits != 48 && bits != 32)) {
			FZ_CHECK(e == VTIME_EINVAL && r == 12345, "ratio_init(%llu, %llu, %u) = %d", FZ_U(g), FZ_U(h), bits, e);
		} else if (!oracle_tsc_ratio(g, h, bits, &oq) || oq == 0 || oq >= max) {
			FZ_CHECK(e == VTIME_ERANGE && r == 12345, "ratio_init(%llu, %llu, %u) = %d, want ERANGE", FZ_U(g),
				 FZ_U(h), bits, e);
		} else {
			FZ_CHECK(e == 0 && r == oq, "ratio_init(%llu, %llu, %u) = %d (%llu), oracle %llu", FZ_U(g), FZ_U(h),
				 bits, e, FZ_U(r), FZ_U(oq));
		}
		FZ_CHECK(vtime_tsc_ratio_apply(tsc, g, bits) == oracle_tsc_apply(tsc, g, bits & 127u),
			 "ratio_apply(%llu, %llu, %u)", FZ_U(tsc), FZ_U(g), bits);
	}
	return 0;
}
