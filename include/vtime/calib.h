/* SPDX-License-Identifier: MIT */
/* Recalibration engine: fed (counter, reference ns, cost) samples from any
 * source (CLOCK_MONOTONIC_RAW, a host page, a simulation), it keeps the
 * counter-to-ns line readers use and publishes it with a seqlock, so reads
 * stay lock-free while a feeder re-fits. Properties (bounds in
 * docs/calibration.md):
 *   continuity  a new line starts exactly where the current one is at the
 *               switch point: a re-fit never steps time;
 *   slope       the published slope is always positive;
 *   tracking    offset error is corrected by slewing at most max_slew_ppm;
 *   frequency   robust estimate (median of long-baseline slopes, slow samples
 *               rejected by their cost) with an uncertainty in ppb;
 *   jumps       line behind the reference by more than step_ns: one explicit
 *               forward step (VTIME_CALIB_EV_STEP); line ahead: absorbed by
 *               slewing, never stepped back;
 *   exactness   every re-fit re-anchors (base = old line at the switch point)
 *               and derives the rate afresh: no rounding accumulates;
 *   domain      a line is defined for counters from its base up to a delta
 *               whose shifted value fits in 64 bits (worth about 2^63 ns,
 *               292 years; behind the base, by less than 2^63 ticks). A
 *               sample beyond it (a counter jump worth 2^63 ns or more) has
 *               no continuous re-fit, since readers' values wrapped there:
 *               the engine restarts the line at that sample, as for a
 *               counter reset (VTIME_CALIB_EV_DISCONT), never below its
 *               value at the previous sample.
 * Integer only, no libc: usable in kernels and bare-metal guests. */
#ifndef VTIME_CALIB_H
#define VTIME_CALIB_H

#include <stdbool.h>
#include <stdint.h>
#include <vtime/counter.h>
#include <vtime/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One sample. Take the counter in the middle of the reference read: e.g.
 * c0 = counter(); ref = reference(); c1 = counter(); counter = c0 + (c1-c0)/2,
 * cost_ns = (c1 - c0) in ns. The sample's error is at most cost_ns / 2. */
struct vtime_calib_sample {
	uint64_t counter;
	uint64_t ref_ns;
	uint64_t cost_ns; /* how long taking the sample took (its bracket) */
};

struct vtime_calib_config {
	uint64_t hz_hint;       /* counter Hz if known (host page, CPUID); 0: measure */
	uint32_t hint_ppm;      /* trust in hz_hint (default 100) */
	uint32_t max_slew_ppm;  /* slew bound, 1..100000 (default 500) */
	uint64_t step_ns;       /* line behind by more: step forward (default 1 ms; UINT64_MAX: never) */
	uint64_t discont_ns;    /* a sample this far off the fit restarts the baseline (default 100 us) */
	uint64_t slew_tc_ns;    /* time constant of the offset correction (default 250 ms) */
	uint64_t window_ns;     /* longest frequency-fit baseline kept (default 64 s) */
	/* Optional: read inside the publish window to pick the switch point
	 * (must be ordered like a seqlock reader's counter). read NULL: the
	 * sample's counter is the switch point. */
	struct vtime_counter counter;
	/* Must be zero (vtime_calib_init: VTIME_EINVAL otherwise): a later
	 * version takes new settings from here, 0 meaning "default", so a
	 * caller that zero-initialises the struct keeps working (docs/abi.md). */
	uint64_t reserved[4];
};

/* Fills *cfg with the defaults documented above. 0 or VTIME_EINVAL. */
VTIME_API int vtime_calib_config_default(struct vtime_calib_config *cfg);

/* A published line: ns = base_ns + ((counter - base_counter) shifted by
 * shift) * mul >> 32, the pvclock formula (counter behind base: base_ns minus
 * the scaled gap, modulo 2^64). A VMM can publish it as a pvclock record.
 * Outside the domain above the arithmetic wraps like the reference
 * reader's (the shifted delta modulo 2^64). */
struct vtime_calib_line {
	uint64_t base_counter;
	uint64_t base_ns;
	uint32_t mul; /* in [2^31, 2^32) */
	int8_t shift;
	uint8_t pad[3];
};

/* Quality counters (each field read atomically; fields may come from
 * different feeds). */
struct vtime_calib_stats {
	uint64_t samples_used;
	uint64_t samples_rejected;  /* too slow (cost), out of order, or invalid */
	uint64_t refits;            /* lines published (including steps) */
	uint64_t steps;             /* explicit forward steps */
	uint64_t discontinuities;   /* frequency baseline restarts */
	uint64_t trend_cuts;        /* fit window halved: the rate moved (e.g. NTP slew) */
	uint64_t last_step_ns;      /* size of the last forward step */
	int64_t offset_ns;          /* line minus reference at the last used sample */
	uint64_t error_ns;          /* error estimate: |offset| + cost/2 of that sample */
	uint64_t hz;                /* frequency estimate (rounded Hz) */
	uint64_t freq_unc_ppb;      /* uncertainty of the frequency estimate, ppb */
	int64_t slew_ppb;           /* slew applied to the published rate, ppb */
	uint64_t reserved[4];       /* zeroed: later versions report new counters here
	                             * (0: not reported), keeping the size (docs/abi.md) */
};

/* Events vtime_calib_feed() reports (bit mask). */
#define VTIME_CALIB_EV_USED 0x01u     /* sample accepted */
#define VTIME_CALIB_EV_REJECTED 0x02u /* sample dropped; line unchanged */
#define VTIME_CALIB_EV_REFIT 0x04u    /* a new line was published (continuous) */
#define VTIME_CALIB_EV_STEP 0x08u     /* ... with an explicit forward step */
#define VTIME_CALIB_EV_DISCONT 0x10u  /* discontinuity: frequency baseline restarted */
#define VTIME_CALIB_EV_FIRST 0x20u    /* the first line was published */

#define VTIME_CALIB_RING 32u /* samples kept for the frequency fit */

/* Caller-allocated engine. Fields are private. The first cache line is what
 * readers load; the feeder lock and state sit on other lines. */
struct vtime_calib {
	uint32_t seq;           /* seqlock: odd while publishing */
	uint32_t pad0;
	uint64_t base_counter;
	uint64_t base_ns;
	uint64_t scale;         /* mul (bits 0-31) | (uint8_t)shift << 32; 0: no line yet */
	uint64_t pad1[4];
	uint64_t lock;          /* feeder try-lock (vt_cas64) */
	uint64_t pad2[7];
	struct vtime_calib_config cfg;
	struct vtime_calib_stats st;
	uint64_t freq_q40;      /* ns per tick << 40 (the frequency estimate) */
	uint64_t unc_ppb;
	uint64_t prior_q40;     /* estimate kept across a baseline restart */
	uint64_t prior_unc_ppb;
	uint64_t cost_floor;    /* lowest recent sample cost */
	uint64_t gap_ns;        /* spacing between stored samples */
	uint64_t prev_ref;      /* reference of the previous used sample */
	uint64_t prev_counter;
	uint64_t base_frac;     /* fraction of base_ns (2^-32 ns) readers do not see */
	uint64_t noise_ns;      /* running mean |residual| of used samples */
	uint32_t n, flags;
	struct vtime_calib_sample ring[VTIME_CALIB_RING];
	uint64_t reserved[8]; /* private room to grow; the size stays (docs/abi.md) */
};

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(__builtin_offsetof(struct vtime_calib, lock) == 64, "lock on its own line");
_Static_assert(__builtin_offsetof(struct vtime_calib, cfg) == 128, "feeder state after the lock");
_Static_assert(sizeof(struct vtime_calib_stats) == 128, "ABI: grow into reserved");
#endif

/* cfg NULL: defaults. Returns 0 or VTIME_EINVAL (bad config). With hz_hint
 * the first sample publishes a line; without, the second one does. */
VTIME_API int vtime_calib_init(struct vtime_calib *e, const struct vtime_calib_config *cfg);

/* Feeds one sample. Safe against concurrent readers; feeders serialise
 * themselves with a try-lock: when another feeder is inside, returns
 * VTIME_EBUSY at once (skip: lazy recalibration from many threads is fine).
 * Returns 0 with *events (optional) the VTIME_CALIB_EV_* that happened,
 * VTIME_EBUSY or VTIME_EINVAL. A rejected sample is not an error: it is the
 * event VTIME_CALIB_EV_REJECTED. */
VTIME_API int vtime_calib_feed(struct vtime_calib *e, const struct vtime_calib_sample *s, unsigned *events);

/* Lock-free read: the counter is read inside the seqlock window. Returns 0,
 * VTIME_ENODATA (no line yet), VTIME_EAGAIN (publisher stuck) or
 * VTIME_EINVAL. Fast paths: src/core/vt_calib_read.h inlines the counter. */
VTIME_API int vtime_calib_read(const struct vtime_calib *e, const struct vtime_counter *ctr, uint64_t *ns);

/* Consistent copy of the current line: 0, VTIME_ENODATA or VTIME_EAGAIN. */
VTIME_API int vtime_calib_line_get(const struct vtime_calib *e, struct vtime_calib_line *out);

/* The line's time at counter (pure; l must point at a line). */
VTIME_API uint64_t vtime_calib_line_apply(const struct vtime_calib_line *l, uint64_t counter);

/* Copies the quality counters: 0 or VTIME_EINVAL. */
VTIME_API int vtime_calib_stats_get(const struct vtime_calib *e, struct vtime_calib_stats *out);

#ifdef __cplusplus
}
#endif
#endif
