/* SPDX-License-Identifier: MIT */
/* Fast clocks for Linux userspace: CLOCK_MONOTONIC and CLOCK_REALTIME at the
 * cost of a counter read, and the raw counter for tracers. Available when
 * libvtime is built for Linux (src/platform/linux-user/); what the machine
 * offers (counter hooks, the host pvclock page, CPUID) is in <vtime/linux.h>.
 * See docs/userspace.md. */
#ifndef VTIME_CLOCK_H
#define VTIME_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <vtime/error.h>
#include <vtime/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- fast clocks ---- */

/* CLOCK_MONOTONIC's epoch and rate in ns: never backwards across threads,
 * lock-free, fork-safe, callable from signal handlers, no thread. It
 * follows the kernel's clock adjustments (adjtimex: ADJ_FREQUENCY,
 * ADJ_TICK, the PLL, adjtime()) within a probe interval (2-5 ms) and falls
 * back to clock_gettime while CLOCK_MONOTONIC's rate is more than 2% off
 * (vtime_clock_info() says why). The first call initialises lazily (no
 * calibration sleep: clock_gettime answers until a measurement converges).
 * The environment variable VTIME_CLOCK_SOURCE (auto, tsc, tsc-measured,
 * pvclock, clock_gettime; counter and counter-measured are tsc's other
 * names) forces a source. */
VTIME_API uint64_t vtime_now_ns(void);

/* CLOCK_REALTIME in ns: vtime_now_ns() plus the CLOCK_REALTIME -
 * CLOCK_MONOTONIC offset, which is re-sampled (bracketed, intersected over
 * the last samples) whenever it is 10 ms old: a settimeofday or
 * clock_settime step shows up within 10 ms of the next call. On the
 * clock_gettime sources it is clock_gettime(CLOCK_REALTIME) itself. */
VTIME_API uint64_t vtime_realtime_ns(void);

/* The raw counter at counter cost (unordered rdtsc, cntvct_el0, rdtime):
 * for tracers that timestamp now and convert later with
 * vtime_counter_to_ns(). */
VTIME_API uint64_t vtime_counter_now(void);

/* A vtime_counter_now() value as CLOCK_MONOTONIC ns through the current
 * line. */
VTIME_API uint64_t vtime_counter_to_ns(uint64_t counter);

enum vtime_source {
	VTIME_SOURCE_NONE = 0,          /* not initialised yet */
	VTIME_SOURCE_TSC = 1,           /* counter -> CLOCK_MONOTONIC line (the fast path) */
	VTIME_SOURCE_PVCLOCK = 2,       /* the host page's per-CPU records, clamped */
	VTIME_SOURCE_CLOCK_GETTIME = 3, /* clock_gettime(CLOCK_MONOTONIC), clamped */
};

struct vtime_clock_info {
	enum vtime_source source;
	const char *source_name;     /* "tsc", "pvclock", "clock_gettime", "none" */
	bool forced;                 /* by VTIME_CLOCK_SOURCE */
	char why[192];               /* why this source */
	const char *freq_source;     /* where the counter frequency came from */
	uint64_t nominal_hz;         /* that frequency */
	double freq_hz;              /* counter frequency as CLOCK_MONOTONIC sees it (tracked: the
					frequency against CLOCK_MONOTONIC_RAW over the kernel's rate) */
	double freq_ppm;             /* its uncertainty, ppm (0 before two pairs) */
	int64_t tracking_error_ns;   /* vtime - CLOCK_MONOTONIC at the last probe */
	uint64_t recal_interval_ns;  /* current interval between the frequency engine's samples */
	uint64_t recalibrations;     /* re-fits of the line plus samples the frequency engine used */
	uint64_t steps;              /* forward jumps of the line (a line behind beyond the noise)
					and the engine's re-anchors after a discontinuity */
	uint64_t fallbacks;          /* switches to a slower source at run time */
	char fallback_reason[192];   /* the last one, "" if none */
	uint64_t init_ns;            /* how long lazy initialisation took */
	bool page_stable;            /* the host page's TSC_STABLE when last checked */
	const char *counter;         /* what the line reads: "tsc", "cntvct_el0", "time" (riscv64),
					"tod" (s390x), "kvmclock" (pvclock), "none" (clock_gettime) */
	bool kernel_rate_known;      /* adjtimex(2) could be read */
	double kernel_rate_ppm;      /* CLOCK_MONOTONIC's rate against the raw clocksource as the
					kernel's NTP state gives it (tick, freq, PLL, adjtime), ppm */
	uint64_t rate_changes;       /* changes of that rate seen (each re-fits the line at once) */
	uint64_t probe_interval_ns;  /* how often the line is checked against CLOCK_MONOTONIC */
	uint64_t realtime_unc_ns;    /* the realtime offset is known within +- this */
	uint64_t realtime_steps;     /* CLOCK_REALTIME steps followed */
	/* zeroed: later versions report new fields here (0: not reported),
	 * keeping the size (docs/abi.md) */
	uint64_t reserved[8];
};

/* Snapshot of the clock's state (initialises it if needed). Returns 0 or
 * VTIME_EINVAL. */
VTIME_API int vtime_clock_info(struct vtime_clock_info *info);

#ifdef __cplusplus
}
#endif
#endif
