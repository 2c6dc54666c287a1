/* SPDX-License-Identifier: MIT */
/* x against CLOCK_MONOTONIC_RAW for the userspace clock: the core
 * recalibration engine (vtime_calib: cost-filtered frequency fit over long
 * baselines, discontinuities re-anchored) plus the lazy schedule of its
 * samples. x is the counter, or kvmclock ns for the per-CPU pvclock
 * source. The shim takes the frequency from it (vt_line_freq); the line
 * readers use is the shim's own (vt_refit.h), which adds the kernel's NTP
 * rate and is kept on CLOCK_MONOTONIC. */
#ifndef VT_LINE_H
#define VT_LINE_H

#include <stdbool.h>
#include <stdint.h>
#include <vtime/calib.h>

#include "vt_calib_read.h"
#include "vt_math.h"

#define VT_LINE_IMIN 10000000ull   /* 10 ms between samples at first */
#define VT_LINE_IMAX 500000000ull  /* 500 ms once the baseline is long */

struct vt_line {
	struct vtime_calib cal;
	uint64_t x0, n0, scale; /* the engine's line: mul | (uint8_t)shift << 32 */
	bool have;              /* a line exists */
	double ns_per_x;        /* for spans and sample costs */
	uint64_t interval;      /* ns until the next sample is due */
	uint64_t last_x;        /* x of the last sample fed */
	uint64_t samples;
};

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
	/* the frequency fit wants long baselines, not many samples: the
	 * interval doubles with every used sample and starts again after a
	 * discontinuity (noise does not shorten it: the shim's own loop
	 * handles the offset) */
	if (!l->have)
		l->interval = VT_LINE_IMIN / 4;
	else if (ev & (VTIME_CALIB_EV_DISCONT | VTIME_CALIB_EV_STEP))
		l->interval = VT_LINE_IMIN;
	else if (ev & VTIME_CALIB_EV_USED)
		l->interval = l->interval * 2 > VT_LINE_IMAX ? VT_LINE_IMAX : l->interval * 2;
	if (events)
		*events = ev;
	return 0;
}

/* The frequency estimate as ns per x: the published line's slope with the
 * engine's slew taken out (about 1 ppb resolution), else the estimate. */
static inline double vt_line_freq(const struct vt_line *l)
{
	struct vtime_calib_stats st;
	int shift;
	double line;

	if (!l->have || l->scale == 0)
		return l->ns_per_x;
	shift = (int8_t)(uint8_t)(l->scale >> 32);
	line = (double)(uint32_t)l->scale / 4294967296.0;
	line = shift >= 0 ? line * (double)(1ull << shift) : line / (double)(1ull << -shift);
	vtime_calib_stats_get(&l->cal, &st);
	return line / (1.0 + (double)st.slew_ppb * 1e-9);
}

#endif
