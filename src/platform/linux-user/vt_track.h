/* SPDX-License-Identifier: MIT */
/* The recalibration engine of the userspace clock: a line
 *     ns = n0 + (x - x0) * mult / 2^32
 * from a raw value x (TSC ticks, or kvmclock ns) to CLOCK_MONOTONIC, fed
 * with (x, CLOCK_MONOTONIC) pairs at lazily chosen moments. Each update
 * re-anchors the line where it stands (continuous, so no reader sees a jump)
 * and slews: the new slope is the measured rate corrected to cancel the
 * current error over the next interval (bounded), so the error stays near
 * the pair noise without ever stepping. Errors above VT_TRACK_STEP_NS are
 * discontinuities (suspend, migration): the line steps and the caller raises
 * the monotonic floor. Pure code (no clock reads): tests drive it with any x,
 * including values that wrap past 2^64. This is the plug point for the core
 * recalibration engine (src/core/calib.c) once it lands. */
#ifndef VT_TRACK_H
#define VT_TRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "vt_math.h"

#define VT_TRACK_RING 8
#define VT_TRACK_STEP_NS 200000        /* |error| above this is a discontinuity */
#define VT_TRACK_SLEW_MAX 500e-6       /* slope correction bound */
#define VT_TRACK_IMIN 10000000ull      /* 10 ms */
#define VT_TRACK_IMAX 500000000ull     /* 500 ms */
#define VT_TRACK_BASELINE 20000000ull  /* pairs this far apart measure the rate */
#define VT_TRACK_QUIET_NS 500          /* errors below this lengthen the interval */

struct vt_pair {
	uint64_t x, n;
};

struct vt_track {
	uint64_t x0, n0, mult; /* the current line */
	double rate;           /* ns per x: measured, or nominal until measured */
	double nominal;        /* from the frequency source */
	double unc_ppm;        /* rate uncertainty */
	uint64_t interval;     /* ns until the next update */
	int64_t err;           /* line - CLOCK_MONOTONIC at the last update */
	struct vt_pair ring[VT_TRACK_RING];
	unsigned nring, head;  /* head: index of the oldest pair */
	uint64_t recals, steps;
	bool measured;
};

enum vt_track_result { VT_TRACK_SLEWED = 0, VT_TRACK_STEPPED = 1 };

static inline uint64_t vt_mulshr32(uint64_t d, uint64_t m)
{
#ifdef __SIZEOF_INT128__
	return (uint64_t)(((unsigned __int128)d * m) >> 32);
#else
	return vt_shr128(vt_mul64(d, m), 32);
#endif
}

/* The line at x; x before x0 counts backwards (never wraps below 0). */
static inline uint64_t vt_line_eval(uint64_t x0, uint64_t n0, uint64_t mult, uint64_t x)
{
	uint64_t d = x - x0, b;

	if ((int64_t)d >= 0)
		return n0 + vt_mulshr32(d, mult);
	b = vt_mulshr32(x0 - x, mult);
	return b >= n0 ? 0 : n0 - b;
}

static inline uint64_t vt_track_mult(double ns_per_x)
{
	return (uint64_t)(ns_per_x * 4294967296.0 + 0.5);
}

static inline void vt_track_start(struct vt_track *t, uint64_t x, uint64_t n, double ns_per_x)
{
	t->x0 = x;
	t->n0 = n;
	t->rate = t->nominal = ns_per_x;
	t->mult = vt_track_mult(ns_per_x);
	t->unc_ppm = 0;
	t->interval = VT_TRACK_IMIN;
	t->err = 0;
	t->ring[0].x = x;
	t->ring[0].n = n;
	t->nring = 1;
	t->head = 0;
	t->measured = false;
}

static inline uint64_t vt_track_eval(const struct vt_track *t, uint64_t x)
{
	return vt_line_eval(t->x0, t->n0, t->mult, x);
}

/* x units spanning ns nanoseconds at the current rate. */
static inline uint64_t vt_track_span(const struct vt_track *t, uint64_t ns)
{
	double v = (double)ns / t->rate;
	return v >= 1.8e19 ? UINT64_MAX : (uint64_t)v;
}

/* Rate disagreement between the measurement and the nominal, in ppm. */
static inline double vt_track_rate_ppm(const struct vt_track *t)
{
	return (t->rate / t->nominal - 1.0) * 1e6;
}

/* Feeds the pair (x, n = CLOCK_MONOTONIC at x) measured with a half-bracket of
 * unc_ns. *before gets the old line's value at x (the caller's floor when the
 * line steps back). */
static inline enum vt_track_result vt_track_update(struct vt_track *t, uint64_t x, uint64_t n, double unc_ns,
						   uint64_t *before)
{
	uint64_t cur = vt_track_eval(t, x), newest = t->ring[(t->head + t->nring - 1) % VT_TRACK_RING].x;
	int64_t e = (int64_t)(cur - n);
	double corr, slope;
	uint64_t nm;

	*before = cur;
	t->err = e;
	t->recals++;
	if ((int64_t)(x - newest) < 0 || e > VT_TRACK_STEP_NS || e < -VT_TRACK_STEP_NS) {
		/* counter went back or the line is far off: re-anchor on the pair */
		t->x0 = x;
		t->n0 = n;
		t->ring[0].x = x;
		t->ring[0].n = n;
		t->nring = 1;
		t->head = 0;
		t->interval = VT_TRACK_IMIN;
		t->steps++;
		return VT_TRACK_STEPPED;
	}
	if (t->nring == VT_TRACK_RING) {
		t->ring[t->head].x = x;
		t->ring[t->head].n = n;
		t->head = (t->head + 1) % VT_TRACK_RING;
	} else {
		t->ring[(t->head + t->nring) % VT_TRACK_RING].x = x;
		t->ring[(t->head + t->nring) % VT_TRACK_RING].n = n;
		t->nring++;
	}
	{
		const struct vt_pair *o = &t->ring[t->head];
		uint64_t bn = n - o->n, bx = x - o->x;
		if (bn >= VT_TRACK_BASELINE && bx) {
			t->rate = (double)bn / (double)bx;
			t->unc_ppm = 2.0 * unc_ns / (double)bn * 1e6;
			t->measured = true;
		}
	}
	/* cancel the error over the next interval, within the slew bound */
	corr = (double)e / (double)t->interval;
	if (corr > VT_TRACK_SLEW_MAX)
		corr = VT_TRACK_SLEW_MAX;
	if (corr < -VT_TRACK_SLEW_MAX)
		corr = -VT_TRACK_SLEW_MAX;
	slope = t->rate * (1.0 - corr);
	nm = vt_track_mult(slope);
	/* A slower line starts 1 ns up: a reader still on the old line a few
	 * cycles past x never sees more than the new line gives. */
	t->n0 = cur + (nm < t->mult ? 1u : 0u);
	t->x0 = x;
	t->mult = nm;
	if (e < VT_TRACK_QUIET_NS && e > -VT_TRACK_QUIET_NS)
		t->interval = t->interval * 2 > VT_TRACK_IMAX ? VT_TRACK_IMAX : t->interval * 2;
	else
		t->interval = t->interval / 2 < VT_TRACK_IMIN ? VT_TRACK_IMIN : t->interval / 2;
	return VT_TRACK_SLEWED;
}

#endif
