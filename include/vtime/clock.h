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

/* ---- time with an error bound (TrueTime's convention) ----
 *
 * An interval [earliest, latest] that holds true time (UTC, ns since 1970:
 * CLOCK_REALTIME's epoch) at the moment of the call, and a status, from
 * one counter read. The bound comes from, best first:
 *   - VMClock (/dev/vmclock0, <vtime/linux.h>), when its page relates this
 *     counter to UTC with both maxerror terms and says SYNCHRONIZED or
 *     FREERUNNING: its time at the counter +- time_maxerror + the distance
 *     from its reference times the period's maxerror rate;
 *   - else the kernel: vtime_realtime_ns() +- (the kernel's maxerror as
 *     adjtimex gave it at maintenance, grown by 500 ppm since, plus vtime's
 *     own tracking bound: the realtime offset's uncertainty, the line's
 *     error at its last probe with that probe's bracket, and 1/8 of the
 *     time since that probe for a change of CLOCK_MONOTONIC's rate not
 *     seen yet); UNKNOWN while the kernel says STA_UNSYNC.
 * The status turns UNKNOWN when a VMClock disruption marker or generation
 * counter changes and stays so until the clock has re-anchored on the new
 * page (the next maintenance: at once unless another thread is at it); on
 * the kernel source it is DISRUPTED after that until the kernel's NTP state
 * shows a new measurement (maxerror below its value at the disruption, or
 * STA_UNSYNC cleared), and UNKNOWN after a CLOCK_REALTIME step until then.
 * Rules and measured costs: docs/userspace.md, "Bounded time". */

enum vtime_bound_status { /* AWS ClockBound's numbers */
	VTIME_BOUND_UNKNOWN = 0,      /* nothing justifies a bound: earliest 0, latest UINT64_MAX */
	VTIME_BOUND_SYNCHRONIZED = 1, /* the source is synchronised; the interval holds true time */
	VTIME_BOUND_FREE_RUNNING = 2, /* the source lost its reference (VMClock FREERUNNING); the
					 interval still holds, growing with time */
	VTIME_BOUND_DISRUPTED = 3,    /* the VM was disrupted (migration, restore) and the kernel has
					 not re-synchronised since: earliest 0, latest UINT64_MAX */
};

enum vtime_bound_source {
	VTIME_BOUND_SOURCE_NONE = 0,    /* nothing (no VMClock, adjtimex refused) */
	VTIME_BOUND_SOURCE_VMCLOCK = 1, /* the host's VMClock page */
	VTIME_BOUND_SOURCE_KERNEL = 2,  /* CLOCK_REALTIME and the kernel's maxerror, plus vtime's tracking */
};

struct vtime_bounded {
	uint64_t earliest_ns; /* true time is at or after this */
	uint64_t latest_ns;   /* ... and at or before this */
	uint32_t status;      /* enum vtime_bound_status */
	uint32_t source;      /* enum vtime_bound_source */
};

/* The interval now, UTC (see above). Fast path, lock-free, async-signal-
 * safe, no failure and no precondition (the first call initialises the
 * clock lazily, as vtime_now_ns()). Intervals of successive calls are each
 * right; their ends need not be monotonic (a re-anchor may move them). */
VTIME_API struct vtime_bounded vtime_bounded_now(void);

/* The same interval in TAI (ns since 1970 TAI): UTC plus TAI - UTC from
 * VMClock (time_type TAI, or TAI_OFFSET_VALID) or from the kernel
 * (adjtimex's tai, where a daemon set it); UNKNOWN where neither gives it. */
VTIME_API struct vtime_bounded vtime_bounded_tai_now(void);

/* The same interval as vtime_bounded_now() (UTC) and vtime_bounded_tai_now()
 * (TAI), its two ends returned in registers: the form for hot loops. The
 * 24-byte struct vtime_bounded comes back through memory, a store and a
 * reload more on the way from the counter read to its ends (about 1-2 ns
 * here, docs/userspace.md "Bounded time"). *status (if status is not NULL)
 * gets the enum vtime_bound_status; the source is vtime_bounded_info()'s.
 * Same rules: fast path, lock-free, async-signal-safe, no failure, no
 * precondition; an UNKNOWN or DISRUPTED status comes with [0, UINT64_MAX]. */
struct vtime_interval {
	uint64_t earliest_ns; /* true time is at or after this */
	uint64_t latest_ns;   /* ... and at or before this */
};

VTIME_API struct vtime_interval vtime_interval_now(uint32_t *status);
VTIME_API struct vtime_interval vtime_interval_tai_now(uint32_t *status);

/* TrueTime's after(t): t has certainly passed, t < b->earliest_ns. Pure;
 * b not NULL. Always false unless the status is SYNCHRONIZED or
 * FREE_RUNNING (whatever the ends of the interval). */
VTIME_API bool vtime_bounded_after(const struct vtime_bounded *b, uint64_t t_ns);

/* TrueTime's before(t): t has certainly not come yet, t > b->latest_ns.
 * Pure; b not NULL. Always false unless the status is SYNCHRONIZED or
 * FREE_RUNNING (whatever the ends of the interval). */
VTIME_API bool vtime_bounded_before(const struct vtime_bounded *b, uint64_t t_ns);

/* What the bound rests on, for tools and logs. reserved is zeroed: later
 * versions report new fields there (0: not reported), keeping the size
 * (docs/abi.md). */
struct vtime_bounded_info {
	uint32_t source;             /* enum vtime_bound_source in use */
	uint32_t status;             /* enum vtime_bound_status at the last maintenance */
	char why[192];               /* why that source and status, one sentence */
	const char *vmclock;         /* the VMClock page: "/dev/vmclock0", "test page", "" if none */
	const char *page_watch;      /* the host word the fast paths watch for rewrites: "pvclock",
					"hyperv", "vmclock", "none" */
	uint64_t half_width_ns;      /* (latest - earliest) / 2 at the last maintenance, UINT64_MAX
					when no bound */
	uint64_t kernel_maxerror_ns; /* adjtimex maxerror at its last read, UINT64_MAX if never read */
	uint64_t kernel_esterror_ns; /* adjtimex esterror (not part of the bound), UINT64_MAX likewise */
	uint64_t kernel_age_ns;      /* how long ago that read was */
	int64_t kernel_status;       /* adjtimex status (STA_* bits), -1 if never read */
	int64_t tai_offset_s;        /* TAI - UTC in use, 0 if unknown */
	uint64_t track_ns;           /* vtime's own term at the line's last probe (kernel source) */
	uint64_t vmclock_maxerror_ns; /* VMClock's maxerror at the last maintenance, UINT64_MAX if none */
	uint64_t disruptions;        /* VMClock disruption marker changes seen */
	uint64_t generations;        /* VMClock generation counter changes seen */
	uint64_t realtime_steps;     /* CLOCK_REALTIME steps seen (each makes the kernel source UNKNOWN) */
	uint64_t reserved[8];
};

/* Fills *info (initialises the clock if needed; brings the bound up to
 * date first, so it may take the maintenance lock for a moment: not for
 * signal handlers). Returns 0 or VTIME_EINVAL. */
VTIME_API int vtime_bounded_info(struct vtime_bounded_info *info);

#ifdef __cplusplus
}
#endif
#endif
