/* SPDX-License-Identifier: MIT */
/* The monotonic clamp across 2^64, against a model: values are ordered
 * modulo 2^64 (t later than last when (t - last) mod 2^64 is in [1, 2^63)),
 * so starting anywhere (0, just below 2^64, anything) and stepping by any
 * amount inside the domain (|step| < 2^63 from the last value), each scope
 * returns exactly the model's max:
 *   global  vtime_clamp_apply(): max(t, everything returned before);
 *   stable  vtime_clamp_apply_stable(): with VTIME_CLAMP_TRUST_STABLE and a
 *           stable source max(t, last) without recording it, else apply;
 *   local   vtime_clamp_local_apply(): its own max;
 *   reset   vtime_clamp_reset(start): history forgotten.
 * And the outputs of each scope never go back. */
#include <vtime/clamp.h>
#include <vtime/error.h>

#include "fuzz.h"

static uint64_t later(uint64_t a, uint64_t b)
{
	return fz_sdiff(a, b) > 0 ? a : b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	struct vtime_clamp c;
	struct vtime_clamp_local l;
	uint64_t start = fz_edge64(&f), last, llast, t = start, prev_g, prev_l;
	unsigned flags = fz_bool(&f) ? VTIME_CLAMP_TRUST_STABLE : 0;

	FZ_CHECK(vtime_clamp_init(&c, start, flags) == 0, "init");
	FZ_CHECK(vtime_clamp_init(&c, start, 0x80u) == VTIME_EINVAL, "unknown flag accepted");
	FZ_CHECK(vtime_clamp_init(&c, start, flags) == 0, "init");
	FZ_CHECK(vtime_clamp_local_init(&l, start) == 0, "local init");
	last = llast = prev_g = prev_l = start;
	while (fz_left(&f)) {
		uint8_t op = fz_u8(&f);
		/* a step inside the domain: forward or back by less than 2^62 */
		uint64_t step = fz_edge64(&f) & (((uint64_t)1 << 62) - 1);
		uint64_t out;
		t = (op & 0x80u) ? t - step : t + step;
		switch (op & 3u) {
		case 0:
			out = vtime_clamp_apply(&c, t);
			last = later(t, last);
			FZ_CHECK(out == last, "apply(%llu) = %llu, model %llu", FZ_U(t), FZ_U(out), FZ_U(last));
			FZ_CHECK(fz_sdiff(out, prev_g) >= 0, "global went back");
			prev_g = out;
			break;
		case 1: {
			bool stable = op & 4u;
			out = vtime_clamp_apply_stable(&c, t, stable);
			if ((flags & VTIME_CLAMP_TRUST_STABLE) && stable) {
				FZ_CHECK(out == later(t, last), "stable apply(%llu) = %llu", FZ_U(t), FZ_U(out));
			} else {
				last = later(t, last);
				FZ_CHECK(out == last, "apply_stable(unstable %llu) = %llu, model %llu", FZ_U(t), FZ_U(out),
					 FZ_U(last));
				FZ_CHECK(fz_sdiff(out, prev_g) >= 0, "global went back");
				prev_g = out;
			}
			break;
		}
		case 2:
			out = vtime_clamp_local_apply(&l, t);
			llast = later(t, llast);
			FZ_CHECK(out == llast, "local apply(%llu) = %llu, model %llu", FZ_U(t), FZ_U(out), FZ_U(llast));
			FZ_CHECK(fz_sdiff(out, prev_l) >= 0, "local went back");
			prev_l = out;
			break;
		default:
			if (op & 4u) {
				vtime_clamp_reset(&c, t);
				last = prev_g = t;
			}
			break;
		}
		FZ_CHECK(vtime_clamp_last(&c) == last, "last %llu, model %llu", FZ_U(vtime_clamp_last(&c)), FZ_U(last));
	}
	return 0;
}
