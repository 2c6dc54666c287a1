/* SPDX-License-Identifier: MIT */
/* What the userspace clock's files share (private to the shim):
 *
 *   clock.c   the fast path and the readers (vtime_now_ns() and friends,
 *             vtime_clock_info()), their slow paths
 *   maint.c   lazy initialisation and the maintenance state machine (its
 *             transitions are written at the top of that file)
 *   select.c  which source, from what the machine offers (a pure function)
 *   freqchk.c the start-up check of a claimed counter frequency
 *   ntp.c     the kernel's clock adjustments (adjtimex) and the rate of
 *             CLOCK_MONOTONIC they give
 *   bound.c   time with an error bound (vtime_bounded_now): its fast path,
 *             and the maintenance that builds its part of a copy
 *   pages.c   the Hyper-V page in the vvar area, VMClock's /dev/vmclockN
 *   vt_refit.h the arithmetic of a re-fit (pure, with the proof that a
 *             re-fit never steps time back)
 *
 * The latch: two copies of everything a reader needs; readers use copy
 * seq & 1 (vt_seq.h), so a maintainer never blocks a reader, not even one
 * interrupting it from a signal handler on the same thread. The floor: the
 * core clamp, a monotonic maximum every slow path records into and the fast
 * path reads. The cold state is written only by the holder of the
 * maintenance lock (a CAS word tagged with the pid, so a child forked while
 * its parent held it can take it over).
 *
 * Everything here is async-signal-safe: no malloc, no stdio, no locks that
 * wait; errno is saved and restored around the slow paths. */
#ifndef VT_CLOCK_INT_H
#define VT_CLOCK_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <vtime/clamp.h>
#include <vtime/clock.h>
#include <vtime/linux.h>
#include <vtime/pvclock.h>
#include <vtime/vmclock.h>

#include "vt_atomic.h"
#include "vt_clamp.h"
#include "vt_clock.h"
#include "vt_line.h"
#include "vt_ntp.h"
#include "vt_pages.h"
#include "vt_port.h"
#include "vt_refit.h"
#include "vt_seq.h"
#include "vt_user_counter.h"

/* Modes a latch copy can be in; x is what the copy's line reads. */
enum vt_mode {
	M_INIT = 0,     /* not initialised yet */
	M_TSC = 1,      /* the counter line: x = the architecture's counter (the fast path) */
	M_PVCLOCK = 2,  /* per-CPU host records: x = kvmclock ns, floor by CAS */
	M_FALLBACK = 3, /* clock_gettime while something is tracked (x = CLOCK_MONOTONIC ns) */
	M_GETTIME = 4,  /* clock_gettime for good: nothing to track, no periodic work */
};

/* VTIME_CLOCK_SOURCE */
enum vt_forced { F_BAD = -1, F_AUTO = 0, F_TSC, F_TSC_MEASURED, F_PVCLOCK, F_CLOCK_GETTIME };

/* Why a tracked fallback (M_FALLBACK) is in use, and so what ends it. */
enum vt_fb {
	FB_NONE = 0,
	FB_CONVERGING, /* the counter frequency is being measured */
	FB_UNSETTLED,  /* CLOCK_MONOTONIC's rate is beyond what a line follows */
	FB_CATCHUP,    /* the line was far ahead: CLOCK_MONOTONIC catches up with the floor */
	FB_PAGE_LOST,  /* the host page lost TSC_STABLE and no per-CPU source is usable */
	FB_PV_BAD,     /* the per-CPU records became invalid */
};

#define VT_PROBE_MIN_NS 2000000ull    /* the line is checked this often at least */
#define VT_PROBE_MAX_NS 5000000ull    /* ... and at most this long apart (slow clocks) */
#define VT_HARD_EXTRA_NS 1000000ull   /* past the deadline a line serves lock losers this long */
#define VT_RT_INTERVAL_NS 10000000ull /* the realtime offset is re-sampled this often */
#define VT_TLINE_NS 100000000ull      /* a counter line off the fast path is refreshed this often */

/* One latch copy. The fast path's fields first: with seq and the page
 * version pointer they fill the first cache line for c[0]. */
struct vt_copy {
	uint32_t mode;
	uint32_t pv_expect;      /* host page version the line was checked against */
	uint64_t x0, n0, M, ls;  /* main line, readers' form (vt_refit.h) */
	uint64_t soft;           /* x - x0 from which maintenance is due */
	/* the rest */
	uint64_t hard;           /* x - x0 from which the line serves nobody */
	uint64_t rt_off;         /* CLOCK_REALTIME - CLOCK_MONOTONIC (mod 2^64) */
	uint64_t rt_until;       /* CLOCK_MONOTONIC ns up to which rt_off is used as is */
	uint64_t tx0, tn0, tM, tls; /* the counter line (vtime_counter_to_ns) */
	uint64_t tsoft;          /* counter - tx0 from which that line is refreshed */
	uint64_t one_tsc;        /* 1: every record describes one TSC (trusted TSC_STABLE) */
	/* bounded time (bound.c): what the copy's interval rests on */
	uint32_t bstat;          /* enum vtime_bound_status | enum vtime_bound_source << 8 */
	uint32_t vseq;           /* the VMClock seq_count these fields came from (0 without VMClock) */
	/* kernel source on the counter line, m = the line's multiply (ns - n0):
	 * earliest = blo + m - (m >> VT_BOUND_GROW_SHIFT), latest = bhi + m + (m >> ...),
	 * i.e. n0 + rt_off -+ (bw0 + m / 8) */
	uint64_t blo, bhi, bw0;
	uint64_t bk_rt;          /* kernel source off the line: CLOCK_REALTIME ns of the adjtimex read */
	uint64_t bk_w;           /* ... and the half-width then: the kernel's maxerror, ns */
	uint64_t btai;           /* TAI - UTC in ns (mod 2^64), 0: unknown */
	/* VMClock source: earliest = vlo + m1 - m2, latest = vhi + m1 + m2, with
	 * m1 = ((t - vx0) << vls) * vM >> 64 (UTC ns since vx0) and m2 likewise
	 * with vwls, vwM (the maxerror's growth, rounded up); vlo, vhi = UTC ns
	 * at vx0 -+ the maxerror there; for t - vx0 < vsoft */
	uint64_t vx0, vsoft, vlo, vhi, vM, vls, vwM, vwls;
	uint64_t vmark, vgen;    /* the page's disruption marker and generation counter then */
	/* derived from the rest by vt_latch_put (vt_bound_derive), for the
	 * bounded fast path: which path serves this copy, and the x - x0 up to
	 * which the counter line answers (min of soft and the x at which
	 * n0 + the line's ns reach rt_until) */
	uint32_t bpath;          /* VT_BP_* */
	uint32_t bpad;
	uint64_t bsoft;
	uint64_t bvwM;           /* VT_BP_VMCLOCK: vwM for a count shifted by vls, rounded up */
};

/* What vtime_bounded_now() does with a copy (vt_copy.bpath). */
enum {
	VT_BP_OTHER = 0,        /* not initialised, VMClock without an interval: bound.c's bounded_any */
	VT_BP_LINE = 1,         /* the counter line, kernel source, SYNCHRONIZED or FREE_RUNNING */
	VT_BP_LINE_UNKNOWN = 2, /* the counter line, no VMClock, a status without an interval */
	VT_BP_OFF = 3,          /* the kernel source off the line (bounded_off_line) */
	VT_BP_VMCLOCK = 4,      /* the VMClock line, SYNCHRONIZED or FREE_RUNNING */
};

/* The kernel source's own term grows by 1/8 of the time since the line's
 * base (the last probe): a change of CLOCK_MONOTONIC's rate the probe has
 * not seen yet, up to what adjtimex allows through tick (+-10%) plus freq
 * and adjtime() (+-500 ppm each) and a PLL share (at its time constants
 * 3 and above), and the line's own slew (500 ppm). */
#define VT_BOUND_GROW_SHIFT 3

struct vt_hot {
	volatile uint32_t seq;
	uint32_t pad;
	/* address of the host page version word (of a constant 0 without a page) */
	uintptr_t pv;
	struct vt_copy c[2];
	/* the per-CPU records for M_PVCLOCK (set before it is published) */
	uint64_t page;
	uint64_t nrec;
	/* the vDSO's clock_gettime (vdso.c), 0: libc's */
	uintptr_t gettime;
	/* VMClock (bound.c): its seq_count word (or vt_pv_dummy) and the page */
	uintptr_t vmc;
	uintptr_t vmc_page;
};

typedef int (*vt_gettime_fn)(clockid_t id, struct timespec *ts);

/* The vDSO's clock_gettime: 0, VTIME_ENODEV (no vDSO, or no such symbol),
 * VTIME_ENOTSUP (32-bit) or VTIME_EINVAL; *out NULL on failure. */
int vt_vdso_gettime(vt_gettime_fn *out);
/* true when the vDSO exports the function name (a 32-bit image's too):
 * armv7's counter gate asks for __vdso_clock_gettime. Signal-safe. */
bool vt_vdso_has(const char *name);

extern struct vt_hot vt_hot;
extern struct vtime_clamp vt_floor;
extern const uint32_t vt_pv_dummy;

/* Test hooks (vt_clock.h): the kernel's clocks and adjtimex as a
 * simulation sees them. NULL (always, outside tests): the real ones. */
extern const struct vt_clock_hooks *volatile vt_hooks;

static VT_ALWAYS_INLINE uint64_t vt_clk(clockid_t id)
{
	struct timespec ts;

	if (VT_UNLIKELY(vt_hooks != NULL))
		return vt_hooks->clock(id);
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- samples ---- */

/* One bracketed sample of a clock: x read at a, the clock, x read at b;
 * x is their midpoint. The clock was read somewhere in [a, b]. */
struct vt_sample {
	uint64_t a, b, x, ns;
};

/* The narrowest of n samples of clock id against the counter. */
void vt_sample_ctr(clockid_t id, unsigned n, struct vt_sample *s);
/* The same against kvmclock ns from this CPU's record: 0 or vt_pv_read's error. */
int vt_sample_pv(clockid_t id, unsigned n, bool one_tsc, struct vt_sample *s);

/* The host page's version word (or a constant 0). */
static VT_ALWAYS_INLINE const volatile uint32_t *vt_load_ptr_pv(void)
{
#if UINTPTR_MAX == 0xffffffffu
	return (const volatile uint32_t *)(uintptr_t)vt_load32((const volatile uint32_t *)&vt_hot.pv);
#else
	return (const volatile uint32_t *)(uintptr_t)vt_load64((const volatile uint64_t *)&vt_hot.pv);
#endif
}

/* A pointer-sized word of the hot state, atomically. */
static VT_ALWAYS_INLINE uintptr_t vt_load_uptr(const uintptr_t *p)
{
#if UINTPTR_MAX == 0xffffffffu
	return (uintptr_t)vt_load32((const volatile uint32_t *)p);
#else
	return (uintptr_t)vt_load64((const volatile uint64_t *)p);
#endif
}

static inline void vt_store_uptr(uintptr_t *p, uintptr_t v)
{
#if UINTPTR_MAX == 0xffffffffu
	vt_store32((volatile uint32_t *)p, (uint32_t)v);
#else
	vt_store64((volatile uint64_t *)p, (uint64_t)v);
#endif
}

/* clock id through the vDSO directly where it was found, else vt_clk(). */
static VT_ALWAYS_INLINE uint64_t vt_clk_fast(clockid_t id)
{
	uintptr_t f = vt_load_uptr(&vt_hot.gettime);
	struct timespec ts;

	if (VT_LIKELY(f != 0)) {
		(void)((vt_gettime_fn)f)(id, &ts);
		return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	}
	return vt_clk(id);
}

static inline void vt_store_ptr_pv(const volatile uint32_t *p)
{
#if UINTPTR_MAX == 0xffffffffu
	vt_store32((volatile uint32_t *)&vt_hot.pv, (uint32_t)(uintptr_t)p);
#else
	vt_store64((volatile uint64_t *)&vt_hot.pv, (uint64_t)(uintptr_t)p);
#endif
}

/* ---- the latch ---- */

void vt_copy_load(const struct vt_copy *p, struct vt_copy *o);
/* A consistent copy of the current parameters: 0 or VTIME_EAGAIN. */
int vt_latch_get(struct vt_copy *o);
/* Publishes n (lock held). */
void vt_latch_put(const struct vt_copy *n);

/* ---- the floor ---- */

/* max(t, every value a slow path returned), recorded (CAS). */
static VT_ALWAYS_INLINE uint64_t vt_floor_cas(uint64_t t)
{
	return vt_clamp_apply_inline(&vt_floor, t);
}

static VT_ALWAYS_INLINE uint64_t vt_floor_get(void)
{
	return vt_load64(&vt_floor.last);
}

/* ---- the maintenance lock ---- */

bool vt_lock_try(void);
void vt_lock_drop(void);

/* ---- what the maintainer keeps (lock held) ---- */

struct vt_rt {
	uint64_t lo[4], hi[4];   /* the last samples' bounds of REALTIME - MONOTONIC */
	unsigned n, next;
	uint64_t off, unc;       /* midpoint of their intersection, half its width */
	uint64_t steps;
};

struct vt_cold {
	volatile uint32_t lock;  /* pid of the maintainer, 0 when free */
	int forced;              /* enum vt_forced */
	int fb;                  /* enum vt_fb while in M_FALLBACK */
	bool trust_stable, page_stable, page_lost;
	const volatile struct vtime_pvclock_vcpu_time_info *page;
	unsigned nrec;
	struct vtime_machine m;
	/* the counter (and kvmclock ns) against CLOCK_MONOTONIC_RAW: the core
	 * engine measures its frequency, undisturbed by the kernel's NTP */
	struct vt_line raw, kraw;
	bool raw_init, kraw_init;
	uint64_t nominal_hz;     /* the counter frequency the source gave, 0 if measured */
	uint64_t claim_hz;       /* the frequency claimed (for a counter line off the fast path) */
	double rate;             /* RAW ns per count the counter started from, 0 until known */
	struct vt_sample chk;    /* the previous RAW sample, for the rate check */
	int rate_strikes;
	uint64_t raw_br_min;     /* narrowest recent RAW bracket, ns */
	uint64_t next_feed, next_kfeed; /* CLOCK_MONOTONIC ns at which the engines want a sample */
	/* where the clock is */
	bool cs_watch;           /* the choice rests on the kernel's clocksource: watch it */
	uint64_t cs_checked;     /* CLOCK_MONOTONIC ns it was last read */
	char cs_why[64];
	uint32_t cur_mode;       /* the mode last published */
	uint32_t line_mode;      /* the line a fallback returns to */
	uint64_t fb_since;
	/* CLOCK_MONOTONIC's rate: the kernel's NTP state */
	struct vt_ntp ntp;
	uint64_t ntp_changed_at; /* CLOCK_MONOTONIC ns of the last rate change */
	uint64_t rate_changes;
	/* the output loop */
	struct vt_track trk;
	uint64_t probe_ns;       /* current interval between probes */
	uint64_t probe_cost;     /* what a probe takes, ns (smoothed) */
	uint64_t last_probe;     /* CLOCK_MONOTONIC ns of the last re-fit */
	double last_slope;       /* the model's slope then */
	uint64_t probes, snaps, probe_deferred;
	int64_t last_err;
	/* the counter line off the fast path (vtime_counter_to_ns) */
	struct vt_oline tline;
	uint64_t tsoft;
	/* realtime */
	struct vt_rt rt;
	uint64_t rt_until;
	/* reporting */
	char freq_why[128];
	struct vtime_clock_info info;
	/* the other host pages (pages.c) */
	int watch;               /* enum vt_watch: the word vt_hot.pv points at */
	const volatile struct vtime_hv_tsc_page *hv; /* the Hyper-V page, NULL if none */
	bool hv_vouch, hv_lost;  /* the counter line rests on it / it became invalid */
	const volatile struct vtime_vmclock_abi *vmc; /* the VMClock page, NULL if none */
	const char *vmc_name;    /* "/dev/vmclock0", "test page" */
	void *vmc_map;           /* our own mapping of the device (unmapped by vt_clock_reset) */
	size_t vmc_map_len;
	char hv_why[192], vmc_why[192];
	/* bounded time (bound.c) */
	uint64_t line_err;       /* the line's error bound at its base: |residual| + half the bracket */
	uint64_t ntp_rt;         /* CLOCK_REALTIME at the last adjtimex read */
	bool vmc_seen;           /* vmc_mark, vmc_gen hold the page's values */
	uint64_t vmc_mark, vmc_gen;
	uint64_t disruptions, generations;
	int pending;             /* kernel source: 0, VT_PEND_DISRUPTED, VT_PEND_RT_STEP */
	uint64_t pending_reads;  /* ntp.reads when it began */
	long pending_maxerr;     /* the kernel's maxerror then (us) */
	bool pending_unsync;     /* STA_UNSYNC then, or seen since */
	uint64_t rt_steps_seen;
	uint32_t bstat;          /* the status last published */
	uint64_t half_width;     /* ... and its half-width */
	uint64_t vmc_maxerr;
	char bwhy[192];
	/* tests */
	const volatile struct vtime_pvclock_vcpu_time_info *test_page;
	unsigned test_nrec;
	bool test_no_page_check;
	const volatile struct vtime_vmclock_abi *test_vmc;
	const volatile struct vtime_hv_tsc_page *test_hv;
	bool test_no_pages;      /* tests: discover no host page at all (a machine with none) */
};

enum { VT_PEND_NONE = 0, VT_PEND_DISRUPTED = 1, VT_PEND_RT_STEP = 2 };

extern struct vt_cold vt_cold;

/* The kernel's NTP state as the clock last read it (maxerror, esterror,
 * the status with STA_UNSYNC, the rate it gives), for a bounded-time API:
 * 0, VTIME_ENODATA (never read: nothing tracked, or adjtimex refused) or
 * VTIME_EBUSY (the maintainer holds the lock: try again). *out may be up to
 * 20 ms old while the clock is read, older when it is not. */
int vt_clock_ntp(struct vt_ntp *out);

/* ---- maint.c (lock held) ---- */

/* Lazy initialisation. */
void vt_maint_init(void);
/* Enters the line of mode (M_TSC or M_PVCLOCK) at the reference, above the floor. */
void enter_line(uint32_t mode);

enum { VT_WHY_DEADLINE = 0, VT_WHY_PAGE = 1, VT_WHY_FORCE = 2 };
/* The maintenance due for the current copy: a probe of the line, a
 * fallback's check, or nothing (another caller did it already). */
void vt_maint_run(int why);
/* Re-samples the realtime offset and republishes (realtime past rt_until). */
void vt_maint_realtime(void);
/* Refreshes the counter line of a copy that is not on the counter. */
void vt_maint_counter_line(void);
/* Rebuilds the bounded-time fields of the current copy (a VMClock page
 * changed, its line ran out, the kernel's NTP state is old) and
 * republishes it. */
void vt_maint_bounded(void);

/* ---- bound.c (lock held) ---- */

/* The bounded-time fields of c (whose line and mode are set) from what the
 * maintainer knows: the VMClock page (read afresh), the kernel's NTP state,
 * the realtime offset's uncertainty, the line's error (vt_cold.line_err). */
void vt_bound_fill(struct vt_copy *c);
/* Sets c->bpath and c->bsoft from the rest of *c (vt_latch_put). */
void vt_bound_derive(struct vt_copy *c);
/* The kernel's NTP state was read (ntp_update): note the time in
 * CLOCK_REALTIME and what a pending disruption waits for. */
void vt_bound_ntp_read(void);
/* A CLOCK_REALTIME step was seen (rt_sample). */
void vt_bound_rt_step(void);
/* counter_id is the counter this architecture reads (X86_TSC, ARM_VCNT). */
bool vt_vmc_counter_ok(uint8_t counter_id);
/* The counter frequency a VMClock period gives, 0 if none. */
uint64_t vt_vmc_hz(const struct vtime_vmclock_abi *s);

/* kvmclock now from this CPU's record: 0, VTIME_ERANGE (no record for this
 * CPU and no other may stand in), VTIME_EAGAIN or VTIME_EPROTO. */
int vt_pv_read(bool one_tsc, uint64_t *kvm);

#endif
