/* SPDX-License-Identifier: MIT */
/* One tracked line x -> CLOCK_MONOTONIC for the userspace clock: the core
 * recalibration engine (vtime_calib: cost-filtered frequency fit, bounded
 * slew, continuous re-anchoring, forward steps only) plus the lazy schedule
 * (when the next sample is due). x is the TSC, or kvmclock ns for the
 * per-CPU pvclock source. The current line is copied out after each re-fit
 * into the shim's latch, which readers use. */
#ifndef VT_LINE_H
#define VT_LINE_H

#include <stdbool.h>
#include <stdint.h>
#include <vtime/calib.h>

#include "vt_calib_read.h"
#include "vt_math.h"

#define VT_LINE_IMIN 10000000ull   /* 10 ms between samples at first */
#define VT_LINE_IMAX 500000000ull  /* 500 ms once the error stays small */
#define VT_LINE_QUIET_NS 500       /* errors below this lengthen the interval */

struct vt_line {
	struct vtime_calib cal;
	uint64_t x0, n0, scale; /* the engine's line: mul | (uint8_t)shift << 32 */
	bool have;              /* a line exists */
	double ns_per_x;        /* for spans and sample costs */
	uint64_t interval;      /* ns until the next sample is due */
	uint64_t last_x;        /* x of the last sample fed */
	uint64_t samples;
};

/* The line at x in either direction (vt_calib_scale: the pvclock formula). */
static inline uint64_t vt_line_at(uint64_t x0, uint64_t n0, uint64_t scale, uint64_t x)
{
	return vt_calib_scale(x0, n0, scale, x);
}

/* The form readers evaluate: ns = n0 + (((x - x0) << ls) * M) >> 64, the
 * engine's (mul, shift) folded into one 64-bit multiplier so a read is one
 * multiply taking the high half (no shift on the dependency chain). For
 * shift <= 0 it is the pvclock formula without the floor after the
 * pre-shift: at most 1 ns above the engine's line, continuous at every
 * re-fit (both copies give n0 at x0) and monotonic. */
static inline void vt_line_split(uint64_t scale, uint64_t *M, uint64_t *ls)
{
	int shift = (int8_t)(uint8_t)(scale >> 32);
	uint64_t mul = (uint32_t)scale;

	if (shift > 0) {
		*M = mul << 32;
		*ls = (uint64_t)shift;
	} else {
		*M = shift >= -32 ? mul << (32 + shift) : mul >> (-shift - 32);
		*ls = 0;
	}
}

static inline __attribute__((always_inline)) uint64_t vt_mulhi(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
	return (uint64_t)(((unsigned __int128)a * b) >> 64);
#else
	return vt_mul64(a, b).hi;
#endif
}

/* x at or after x0, d = x - x0 small enough that d << ls fits. */
static inline __attribute__((always_inline)) uint64_t vt_line_fast(uint64_t n0, uint64_t M, uint64_t ls, uint64_t d)
{
	if (__builtin_expect(ls != 0, 0))
		d <<= ls; /* counters below 1 GHz */
	return n0 + vt_mulhi(d, M);
}

/* Any x, either direction (behind x0: n0 minus the scaled gap, >= 0). */
static inline uint64_t vt_line_any(uint64_t x0, uint64_t n0, uint64_t M, uint64_t ls, uint64_t x)
{
	uint64_t d = x - x0, v;
	bool behind = (d >> 63) != 0;

	if (behind)
		d = x0 - x;
	v = ls ? vt_shr128(vt_mul64(d, M), 64 - (unsigned)ls) : vt_mulhi(d, M);
	if (!behind)
		return n0 + v;
	return v >= n0 ? 0 : n0 - v;
}

/* x_per_s: x units per second if known (the TSC frequency; 1e9 for
 * kvmclock ns), 0 to have the engine measure it. */
static inline int vt_line_init(struct vt_line *l, uint64_t x_per_s)
{
	struct vtime_calib_config cfg;

	(void)vtime_calib_config_default(&cfg);
	cfg.hz_hint = x_per_s;
	/* a second-scale correction is slow for a clock held to CLOCK_MONOTONIC
	 * within a microsecond; sample noise here is tens of ns */
	cfg.slew_tc_ns = 250000000u;
	l->have = false;
	l->x0 = l->n0 = l->scale = 0;
	l->ns_per_x = x_per_s ? 1e9 / (double)x_per_s : 0.5;
	l->interval = VT_LINE_IMIN;
	return vtime_calib_init(&l->cal, &cfg);
}

/* One (x, CLOCK_MONOTONIC) sample with its bracket in x units. Returns 0
 * with *events (optional) the engine's VTIME_CALIB_EV_* mask, or the
 * engine's error. */
static inline int vt_line_feed(struct vt_line *l, uint64_t x, uint64_t n, uint64_t bracket_x, unsigned *events)
{
	struct vtime_calib_sample s;
	struct vtime_calib_stats st;
	struct vtime_calib_line ln;
	unsigned ev = 0;
	int err;

	s.counter = x;
	s.ref_ns = n;
	s.cost_ns = (uint64_t)((double)bracket_x * l->ns_per_x);
	l->last_x = x;
	if ((err = vtime_calib_feed(&l->cal, &s, &ev)) != 0)
		return err;
	l->samples++;
	if ((ev & (VTIME_CALIB_EV_REFIT | VTIME_CALIB_EV_FIRST)) && vtime_calib_line_get(&l->cal, &ln) == 0) {
		l->x0 = ln.base_counter;
		l->n0 = ln.base_ns;
		l->scale = (uint64_t)ln.mul | (uint64_t)(uint8_t)ln.shift << 32;
		l->have = true;
	}
	vtime_calib_stats_get(&l->cal, &st);
	if (st.hz)
		l->ns_per_x = 1e9 / (double)st.hz;
	if (!l->have)
		l->interval = VT_LINE_IMIN / 4;
	else if ((ev & VTIME_CALIB_EV_USED) && st.offset_ns < VT_LINE_QUIET_NS && st.offset_ns > -VT_LINE_QUIET_NS)
		l->interval = l->interval * 2 > VT_LINE_IMAX ? VT_LINE_IMAX : l->interval * 2;
	else
		l->interval = l->interval / 2 < VT_LINE_IMIN ? VT_LINE_IMIN : l->interval / 2;
	if (events)
		*events = ev;
	return 0;
}

/* x units spanning ns nanoseconds. */
static inline uint64_t vt_line_span(const struct vt_line *l, uint64_t ns)
{
	double v = (double)ns / l->ns_per_x;
	return v >= 1.8e19 ? UINT64_MAX : (uint64_t)v;
}

/* x - x0 at which the next sample is due, interval_ns after the last one
 * (the line's base only moves on a re-fit; samples come more often). */
static inline uint64_t vt_line_due(const struct vt_line *l, uint64_t interval_ns)
{
	uint64_t ahead = l->last_x - l->x0;

	if ((int64_t)ahead < 0)
		ahead = 0; /* the base is past the last sample */
	return ahead + vt_line_span(l, interval_ns);
}

#endif
