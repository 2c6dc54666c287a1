/* SPDX-License-Identifier: MIT */
/* The calibration engine's read path as an always-inline template. A shim
 * passes a static inline counter function as a constant and gets: seqlock
 * read of the current line, the counter inlined, one scale (two multiplies
 * on 64-bit targets); no indirect call. vtime_calib_read() instantiates it
 * with the caller's function pointer. */
#ifndef VT_CALIB_READ_H
#define VT_CALIB_READ_H

#include <stdbool.h>
#include <stdint.h>
#include <vtime/calib.h>
#include <vtime/error.h>

#include "vt_atomic.h"
#include "vt_math.h"

#ifndef VT_ALWAYS_INLINE
#define VT_ALWAYS_INLINE inline __attribute__((always_inline))
#endif

/* Seqlock retries before a reader gives up (the publish window holds no
 * computation, so this only trips if a publisher died inside it). */
#define VT_CALIB_MAX_TRIES 1024u

/* The pvclock formula, modulo 2^64 in both directions. */
static VT_ALWAYS_INLINE uint64_t vt_calib_scale(uint64_t base_counter, uint64_t base_ns, uint64_t scale,
						uint64_t c)
{
	uint64_t delta = c - base_counter, d;
	bool behind = (delta >> 63) != 0;

	if (behind)
		delta = 0 - delta; /* counter behind the base: scale the gap */
	d = vt_mul_frac32(vt_shift64(delta, (int8_t)(uint8_t)(scale >> 32)), (uint32_t)scale);
	return behind ? base_ns - d : base_ns + d;
}

/* Returns 0 with *ns set, VTIME_ENODATA before the first line, VTIME_EAGAIN
 * after max_tries torn reads. */
static VT_ALWAYS_INLINE int vt_calib_read_inline(const struct vtime_calib *e, uint64_t (*counter)(void *),
						 void *ctx, uint64_t *ns)
{
	for (unsigned i = 0; i < VT_CALIB_MAX_TRIES; i++) {
		/* an odd (publishing) seq never matches v below: no separate spin */
		uint32_t v = vt_load32(&e->seq) & ~1u;
		if (v == 0)
			return VTIME_ENODATA;
		/* seq load before the line loads and the counter read */
		vt_rmb();
		uint64_t bc = vt_load64(&e->base_counter);
		uint64_t bn = vt_load64(&e->base_ns);
		uint64_t sc = vt_load64(&e->scale);
		uint64_t c = counter(ctx);
		/* line loads and counter before the seq re-check */
		vt_rmb();
		if (vt_load32(&e->seq) == v) {
			*ns = vt_calib_scale(bc, bn, sc, c);
			return 0;
		}
		vt_cpu_relax();
	}
	return VTIME_EAGAIN;
}

#endif
