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
#include "vt_port.h"
#include "vt_seq.h"

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

/* One try of the window: the line (readers' cache line), then the counter
 * (counter NULL: none). */
struct vt_calib_window {
	const struct vtime_calib *e;
	uint64_t (*counter)(void *);
	void *ctx;
	uint64_t bc, bn, sc, c;
};

static VT_ALWAYS_INLINE uint64_t vt_calib_window_body(void *p)
{
	struct vt_calib_window *w = (struct vt_calib_window *)p;

	w->bc = vt_load64(&w->e->base_counter);
	w->bn = vt_load64(&w->e->base_ns);
	w->sc = vt_load64(&w->e->scale);
	w->c = w->counter ? w->counter(w->ctx) : 0;
	return w->c;
}

/* Consistent line (and counter) into *w: 0, VTIME_ENODATA before the first
 * line, VTIME_EAGAIN after VTIME_MAX_TRIES torn reads (the publish window
 * holds no computation: only a publisher that died inside trips it). */
static VT_ALWAYS_INLINE int vt_calib_read_window(struct vt_calib_window *w)
{
	uint32_t v;
	int err;

	/* no line yet, also while the first one is being published (scale
	 * goes from 0 to a line once and never back) */
	if (vt_load64(&w->e->scale) == 0)
		return VTIME_ENODATA;
	if ((err = vt_seq_read(&w->e->seq, 0, vt_calib_window_body, w, &v)))
		return err;
	return 0;
}

/* Returns 0 with *ns set, VTIME_ENODATA before the first line, VTIME_EAGAIN
 * after VTIME_MAX_TRIES torn reads. */
static VT_ALWAYS_INLINE int vt_calib_read_inline(const struct vtime_calib *e, uint64_t (*counter)(void *),
						 void *ctx, uint64_t *ns)
{
	struct vt_calib_window w = { e, counter, ctx, 0, 0, 0, 0 };
	int err = vt_calib_read_window(&w);

	if (err)
		return err;
	*ns = vt_calib_scale(w.bc, w.bn, w.sc, w.c);
	return 0;
}

#endif
