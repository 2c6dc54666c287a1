/* SPDX-License-Identifier: MIT */
/* The arithmetic of a re-fit of the userspace clock's line: pure (no I/O,
 * no globals), so tests can drive it with any old line, sample and slope.
 *
 * A line as readers evaluate it: ns = n0 + (((x - x0) << ls) * M) >> 64,
 * the slope (ns per x) folded into one 64-bit multiplier (M = slope *
 * 2^(64 - ls), ls the smallest shift with slope < 2^ls): one multiply on
 * the fast path.
 *
 * Why a re-fit never steps time back (issue 12 item 6). Readers of a copy
 * C use its line on the fast path only while d = x - x0 < soft, i.e. for x
 * below S = x0 + soft: every value the fast path returned from C is at most
 * P(S) (or the floor, which is monotonic). Every other answer (slow path,
 * any source but the line) is recorded in the floor by a CAS before it is
 * returned, and the fast path returns max(line, floor). A new copy with
 * line Q anchored at sw (readers with x < sw find d wrapped and take the
 * slow path, which answers max(floor, Q(x)) recorded) is published after
 *   (late)  sw >= lo_x:  Q(sw) >= P(lo_x), and the floor raised to P(lo_x);
 *   (early) sw <  lo_x:  Q(sw) >= P(sw) and Q(lo_x) >= P(lo_x) (Q stays
 *                        above P on [sw, lo_x], both being linear), and
 *                        the floor raised to P(sw);
 * where lo_x is S, or the switch point itself when every reader of C is
 * known to have read its counter before sw (the host page's version
 * changed before sw was read: such readers leave the fast path).
 * Take a reader A that returned a from C and a reader B, starting after A
 * returned, that returns b from the new copy. A's counter read precedes
 * B's (x_A <= x_B: one counter for all CPUs, read in order), and B sees
 * the floor A's slow path may have raised. If A was on C's fast path,
 * a = max(P(x_A), f) with x_A < S and f at most the current floor.
 * Late: b >= max(Q(x_B), floor) >= Q(sw) >= P(lo_x) >= P(x_A) when x_B >=
 * sw; when x_B < sw, b >= floor >= P(lo_x). Early: if x_A < sw, P(x_A) <=
 * P(sw) <= floor <= b; else x_B >= x_A >= sw and Q(x_B) >= Q(min(x_B,
 * lo_x)) >= P(min(x_B, lo_x)) >= P(x_A) (x_A < lo_x). A slow-path a is in
 * the floor. So b >= a: whatever the slopes of P and Q. The maintenance
 * is triggered by a reader past S, so re-fits are late: the new line may
 * start anywhere at or above P(S) -- continuing the old one at sw, or
 * jumping to the reference when that is higher -- and take any slope.
 * tests/userspace/test_refit.c checks both cases over random lines and
 * slope changes of up to 10%, and test_refit_race.c with threads. */
#ifndef VT_REFIT_H
#define VT_REFIT_H

#include <stdbool.h>
#include <stdint.h>

#include "vt_line.h"

struct vt_oline {
	uint64_t x0, n0, M, ls;
};

/* Readers' value at x, either direction (behind x0: n0 minus the gap). */
static inline uint64_t vt_oline_at(const struct vt_oline *l, uint64_t x)
{
	return vt_line_any(l->x0, l->n0, l->M, l->ls, x);
}

/* 2^k as a double, 0 <= k <= 127 (no libm). */
static inline double vt_pow2(unsigned k)
{
	double v = 1.0;
	while (k >= 32) {
		v *= 4294967296.0;
		k -= 32;
	}
	return v * (double)(1ull << k);
}

/* Sets l's multiplier for slope ns per x, 0 < slope < 2^40. */
static inline void vt_oline_set_slope(struct vt_oline *l, double slope)
{
	unsigned ls = 0;
	double m;

	while (ls < 40 && slope >= vt_pow2(ls))
		ls++;
	m = slope * vt_pow2(64 - ls);
	if (!(m < 18446744073709549568.0))
		m = 18446744073709549568.0; /* largest double below 2^64 */
	if (m < 1.0)
		m = 1.0;
	l->M = (uint64_t)m;
	l->ls = ls;
}

static inline double vt_oline_slope(const struct vt_oline *l)
{
	return (double)l->M / vt_pow2(64 - (unsigned)l->ls);
}

/* The tracking loop's memory between re-fits. */
struct vt_track {
	uint64_t br_floor;   /* a low quantile of the recent sample brackets, ns (0: none yet) */
	double integral;     /* rate error the model leaves (fraction, > 0: line too fast) */
	int64_t prev_resid;  /* the residual the last re-fit left */
	double prev_p;       /* the proportional correction it applied (fraction) */
	bool have_prev;
};

#define VT_TRACK_FLL_GAIN 0.5       /* share of a measured drift taken at once */

struct vt_refit_in {
	struct vt_oline old;
	uint64_t lo_x;     /* earlier outputs are at most old(lo_x) (see above) */
	uint64_t sw;       /* switch point: the new line's x0 */
	uint64_t target;   /* the reference (CLOCK_MONOTONIC) at sw */
	double slope;      /* the model's slope, ns per x */
	uint64_t br_ns;    /* the sample's bracket (its error is at most half of it) */
	uint64_t noise_ns; /* errors beyond this are real: the line may jump to the reference */
	uint64_t dt_ns;    /* since the previous re-fit (0: no previous one on this line) */
	bool model_changed; /* the model's slope differs from the last re-fit's */
	bool fll;          /* learn an unknown rate from the drift (the model is not the kernel's) */
	uint64_t tc_ns;    /* time constant of the offset correction */
	uint64_t ti_ns;    /* integral time: how slowly a steady residual is learnt */
	double max_slew;   /* bound of the offset correction (fraction of the slope) */
	double imax;       /* bound of what the loop learns of the model's rate error */
};

struct vt_refit_out {
	struct vt_oline line;
	uint64_t floor;    /* raise the floor to this before publishing */
	int64_t err_ns;    /* old line minus reference at sw (> 0: ahead) */
	int64_t resid_ns;  /* new line minus reference at sw */
	double slew;       /* the correction applied (fraction, > 0: slower) */
	bool jumped;       /* the new line does not continue the old one at sw */
};

static inline uint64_t vt_max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static inline void vt_refit(struct vt_track *trk, const struct vt_refit_in *in, struct vt_refit_out *out)
{
	uint64_t p_sw = vt_oline_at(&in->old, in->sw), need, desired, n0, noise = in->noise_ns;
	double slope_min = in->slope * (1.0 - in->max_slew), w = 1.0, s;
	int64_t err = (int64_t)(p_sw - in->target), resid;
	uint64_t aerr = err < 0 ? (uint64_t)-err : (uint64_t)err, ares;

	/* bracket weighting: a low quantile of the recent brackets (down
	 * quickly, up slowly: one lucky sample does not set it) is what a good
	 * sample looks like; samples up to twice as wide count fully, wider
	 * ones by the square of the ratio */
	if (trk->br_floor == 0)
		trk->br_floor = in->br_ns ? in->br_ns : 1;
	else if (in->br_ns < trk->br_floor)
		trk->br_floor -= (trk->br_floor - in->br_ns) / 8;
	else
		trk->br_floor += (in->br_ns - trk->br_floor) / 64 + 1;
	if (in->br_ns > 2 * trk->br_floor) {
		double r = 2.0 * (double)trk->br_floor / (double)in->br_ns;
		w = r * r < 0.02 ? 0.02 : r * r;
	}

	if ((int64_t)(in->sw - in->lo_x) >= 0) {
		/* late: every earlier output is at most old(lo_x) <= old(sw) */
		need = vt_oline_at(&in->old, in->lo_x);
		out->floor = need;
	} else {
		/* early: stay above the old line up to lo_x (it is linear: both
		 * ends suffice); 4 ns for the readers' rounding */
		uint64_t hi = vt_oline_at(&in->old, in->lo_x), dx = in->lo_x - in->sw;
		uint64_t drop = (uint64_t)(slope_min * (double)dx);
		need = vt_max64(p_sw, hi - drop + 4);
		out->floor = p_sw;
	}
	desired = aerr > noise ? in->target : p_sw;
	n0 = vt_max64(desired, need);
	resid = (int64_t)(n0 - in->target);
	ares = resid < 0 ? (uint64_t)-resid : (uint64_t)resid;
	if (ares > noise) {
		s = (double)resid / (double)in->tc_ns; /* a certain error: no discount for the bracket */
	} else {
		/* the part beyond half the bracket is certain whatever the
		 * bracket; the rest counts by the sample's weight */
		double sure = ares > in->br_ns / 2 ? (double)(ares - in->br_ns / 2) : 0;
		if (resid < 0)
			sure = -sure;
		s = (sure + w * ((double)resid - sure)) / (double)in->tc_ns;
	}
	if (in->fll && in->dt_ns && trk->have_prev && !in->model_changed) {
		/* the drift since the last re-fit beyond what its correction
		 * intended (the line was slowed by prev_p: it should have lost
		 * prev_p * dt) measures a rate the model does not know (no
		 * adjtimex): beyond the brackets' noise it is taken in large part
		 * at once. Not where the model is the kernel's own: there a
		 * transient before the next adjtimex read would wind it up */
		double un = (double)(err - trk->prev_resid) + trk->prev_p * (double)in->dt_ns;
		if (un > (double)(4 * in->br_ns + 100) || un < -(double)(4 * in->br_ns + 100))
			trk->integral += VT_TRACK_FLL_GAIN * un / (double)in->dt_ns;
	}
	if (ares <= noise && in->dt_ns) /* steady state: learn what the model leaves */
		trk->integral += s * (double)in->dt_ns / (double)in->ti_ns;
	if (trk->integral > in->imax)
		trk->integral = in->imax;
	if (trk->integral < -in->imax)
		trk->integral = -in->imax;
	s += trk->integral;
	if (s > in->max_slew)
		s = in->max_slew;
	if (s < -in->max_slew)
		s = -in->max_slew;
	trk->prev_p = s - trk->integral;
	out->line.x0 = in->sw;
	out->line.n0 = n0;
	vt_oline_set_slope(&out->line, in->slope * (1.0 - s));
	trk->prev_resid = resid;
	trk->have_prev = true;
	out->err_ns = err;
	out->resid_ns = resid;
	out->slew = s;
	out->jumped = n0 != p_sw;
}

#endif
