/* SPDX-License-Identifier: MIT */
/* Time with an error bound (<vtime/clock.h>: vtime_bounded_now and
 * friends): an interval that holds true time, TrueTime's convention, from
 * one counter read. docs/userspace.md, "Bounded time", has the rules.
 *
 * The fast path reads the latch copy (vt_clock_int.h), which carries what
 * the interval rests on, built by the maintainer (vt_bound_fill):
 *   - source VMClock: a line of its own from the page (UTC ns at a base
 *     counter and ns per count, exact to the formula within 2 ns) and the
 *     page's maxerror at that base with its growth per count, both rounded
 *     up; valid while the page's seq_count is the one it came from and the
 *     counter is within 2^40 counts (shifted) of the base;
 *   - source kernel, on the counter line: vtime_realtime_ns()'s value and
 *     the half-width bw0 at the line's base n0 (the kernel's maxerror, grown
 *     by 500 ppm from its read to n0, plus vtime's own term: the realtime
 *     offset's uncertainty and the line's error at its last probe), growing
 *     by 1/8 of ns - n0 (VT_BOUND_GROW_SHIFT);
 *   - source kernel off the line (per-CPU records, clock_gettime):
 *     clock_gettime(CLOCK_REALTIME) +- the kernel's maxerror grown by
 *     500 ppm since its read (a slow path).
 * The VMClock seq_count is loaded after the counter read (vt_seq.h's
 * dependency), so a reader that was preempted across a migration sees the
 * page's change; a changed page sends every reader to the slow path, which
 * re-anchors under the maintenance lock or, when another thread holds it,
 * reads the page itself: a disruption marker or generation counter that
 * differs from the copy's means UNKNOWN until a maintainer has rebuilt the
 * copy from the new page. Everything is async-signal-safe (no malloc, no
 * stdio, errno kept) except vtime_bounded_info (it may wait for the lock). */
#include <errno.h>
#include <string.h>
#include <sys/timex.h>
#include <unistd.h>
#include <vtime/clock.h>
#include <vtime/error.h>
#include <vtime/vmclock.h>

#include "vt_clock_int.h"
#include "vt_math.h"
#include "vt_select.h"
#include "vt_user.h"

#define likely(x) VT_LIKELY(x)
#define unlikely(x) VT_UNLIKELY(x)

#define NSEC 1000000000ull
#define KERNEL_GROW_PPM 500u      /* the kernel raises maxerror by 500 us per second itself */
#define BOUND_NTP_EVERY_NS 20000000ull /* off the line, the NTP state is re-read this often while used */
#define VMC_SLACK_NS 3u           /* the VMClock line's rounding against the formula (2 ns), and 1 for ceil */
#define VMC_SPAN_LOG2 40u         /* the VMClock line serves 2^40 shifted counts from its base */

static inline uint32_t bst(uint32_t status, uint32_t source)
{
	return status | source << 8;
}

static VT_ALWAYS_INLINE uint64_t grow500(uint64_t dt_ns)
{
	/* at least dt * 500e-6, rounded up: dt / 2048 + dt / 65536 is 503.4
	 * ppm, two shifts instead of a division */
	return (dt_ns >> 11) + (dt_ns >> 16) + 1;
}

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* ---- VMClock helpers (pure) ---- */

bool vt_vmc_counter_ok(uint8_t counter_id)
{
#if defined(__x86_64__) || defined(__i386__)
	return counter_id == VTIME_VMCLOCK_COUNTER_X86_TSC;
#elif defined(__aarch64__)
	return counter_id == VTIME_VMCLOCK_COUNTER_ARM_VCNT;
#else
	(void)counter_id;
	return false; /* VMClock names no other counter */
#endif
}

uint64_t vt_vmc_hz(const struct vtime_vmclock_abi *s)
{
	double hz;

	if (!s->counter_period_frac_sec || s->counter_period_shift > 60)
		return 0;
	hz = vt_pow2(64u + s->counter_period_shift) / (double)s->counter_period_frac_sec;
	return hz >= 1.8e19 ? 0 : (uint64_t)(hz + 0.5);
}

static struct vt_u128 inc128(struct vt_u128 a)
{
	if (++a.lo == 0)
		a.hi++;
	return a;
}

/* A period field (units of 2^-(64 + shift) s per count) as ns per count in
 * the readers' form: M = rate * 10^9 / 2^(shift + ls), ls the smallest
 * shift <= 40 that keeps M in 64 bits; rounded up when up. false: no
 * such form (a period of more than 2^40 ns per count). */
static bool per_count(uint64_t rate, unsigned shift, bool up, uint64_t *M, uint64_t *ls)
{
	struct vt_u128 p = vt_mul64(rate, NSEC), q;
	bool lost, lost2;

	q = vt_shr128_sticky(p, shift, &lost);
	for (unsigned k = 0; k <= 40; k++) {
		struct vt_u128 r = vt_shr128_sticky(q, k, &lost2);
		if (up && (lost || lost2))
			r = inc128(r);
		if (r.hi == 0) {
			*M = r.lo;
			*ls = k;
			return true;
		}
	}
	return false;
}

/* Why VMClock is not the bound's source, or NULL if it can be: the
 * reading at the base counter in *r. */
static const char *vmc_usable(const struct vtime_vmclock_abi *s, uint64_t x, struct vtime_vmclock_reading *r)
{
	const uint64_t need = VTIME_VMCLOCK_FLAG_TIME_MAXERROR_VALID | VTIME_VMCLOCK_FLAG_PERIOD_MAXERROR_VALID;
	int err = vtime_vmclock_usable(s);

	if (err == VTIME_ENOCOUNTER)
		return "the VMClock page is marker-only (counter_id INVALID: no time, QEMU's kind)";
	if (err == VTIME_EUNRELIABLE)
		return "the VMClock page says its clock is UNRELIABLE";
	if (err)
		return "the VMClock page's counter or time type is one vtime does not read";
	if (!vt_vmc_counter_ok(s->counter_id))
		return "the VMClock page describes another architecture's counter";
	if (s->clock_status != VTIME_VMCLOCK_STATUS_SYNCHRONIZED && s->clock_status != VTIME_VMCLOCK_STATUS_FREERUNNING)
		return "the VMClock page's status is UNKNOWN or INITIALIZING";
	if ((s->flags & need) != need)
		return "the VMClock page gives no maxerror for its time and its period (TIME_MAXERROR_VALID, "
		       "PERIOD_MAXERROR_VALID)";
	if (vtime_vmclock_convert(s, x, r) != 0 || !(r->valid & VTIME_VMCLOCK_HAVE_UTC) || r->utc_sec >= 18000000000ull)
		return "the VMClock page gives no UTC (TAI without TAI_OFFSET_VALID, or MONOTONIC)";
	if (r->maxerror_ns == VTIME_VMCLOCK_UNKNOWN)
		return "the VMClock page's maxerror is unbounded";
	return NULL;
}

static void set_bwhy(const char *a, const char *b)
{
	vt_user_strlcpy(vt_cold.bwhy, a, sizeof vt_cold.bwhy);
	if (b)
		vt_user_strlcat(vt_cold.bwhy, b, sizeof vt_cold.bwhy);
}

static void pend(int kind)
{
	struct vt_ntp *n = &vt_cold.ntp;

	/* a disruption outranks a realtime step: both end at the same event */
	if (vt_cold.pending == VT_PEND_DISRUPTED && kind == VT_PEND_RT_STEP)
		return;
	vt_cold.pending = kind;
	vt_cold.pending_reads = n->reads;
	vt_cold.pending_maxerr = n->have ? n->raw.maxerror : 0;
	vt_cold.pending_unsync = !n->have || (n->raw.status & STA_UNSYNC);
}

/* ---- building (lock held) ---- */

void vt_bound_ntp_read(void)
{
	struct vt_ntp *n = &vt_cold.ntp;

	vt_cold.ntp_rt = vt_clk(CLOCK_REALTIME);
	if (!vt_cold.pending || !n->have || n->reads <= vt_cold.pending_reads)
		return;
	/* a new measurement since the event: the kernel cleared its state
	 * (a step does: STA_UNSYNC, maxerror 16 s) and a daemon set it again,
	 * or a daemon lowered maxerror (the kernel only raises it) */
	if (n->raw.status & STA_UNSYNC)
		vt_cold.pending_unsync = true;
	else if (vt_cold.pending_unsync || n->raw.maxerror < vt_cold.pending_maxerr)
		vt_cold.pending = VT_PEND_NONE;
}

void vt_bound_rt_step(void)
{
	pend(VT_PEND_RT_STEP);
}

/* The page's markers against the last seen: a change is a disruption. */
static void vmc_events(const struct vtime_vmclock_abi *s)
{
	bool ev = false;

	if (!vt_cold.vmc_seen) {
		vt_cold.vmc_seen = true;
	} else {
		if (s->disruption_marker != vt_cold.vmc_mark) {
			vt_cold.disruptions++;
			ev = true;
		}
		if (s->vm_generation_counter != vt_cold.vmc_gen) {
			vt_cold.generations++;
			ev = true;
		}
	}
	vt_cold.vmc_mark = s->disruption_marker;
	vt_cold.vmc_gen = s->vm_generation_counter;
	if (ev)
		pend(VT_PEND_DISRUPTED);
}

/* The largest m (ns from the line's base) the fast path can meet: it
 * serves counters up to soft past the base. */
static uint64_t line_span_ns(const struct vt_copy *c)
{
	if (c->mode != M_TSC || c->soft >= 1ull << 40)
		return 0;
	return vt_mulhi(c->soft << c->ls, c->M);
}

static void fill_kernel(struct vt_copy *c, const char *vmc_why)
{
	const struct vt_ntp *n = &vt_cold.ntp;
	uint64_t kw = 0, track = vt_cold.rt.unc + vt_cold.line_err + 2, span, t0, wmax;
	uint32_t st;

	c->vx0 = c->vsoft = c->vlo = c->vhi = c->vM = c->vls = c->vwM = c->vwls = 0;
	if (!n->have) {
		c->bstat = bst(VTIME_BOUND_UNKNOWN, VTIME_BOUND_SOURCE_NONE);
		c->bw0 = c->bk_w = UINT64_MAX / 4;
		c->blo = 0;
		c->bhi = UINT64_MAX / 2;
		c->bk_rt = vt_cold.ntp_rt; /* when it was tried */
		c->btai = 0;
		set_bwhy(vmc_why ? vmc_why : "no VMClock", ", and adjtimex(2) cannot be read (a seccomp profile?): "
							  "no source for a bound");
		vt_cold.half_width = UINT64_MAX;
		vt_cold.bstat = c->bstat;
		return;
	}
	kw = n->raw.maxerror > 0 ? (uint64_t)n->raw.maxerror * 1000u : 0;
	c->bk_w = kw + 1;
	c->bk_rt = vt_cold.ntp_rt;
	c->btai = n->raw.tai > 0 ? (uint64_t)n->raw.tai * NSEC : 0;
	/* on the line: the kernel's figure grown to the line's base, and
	 * vtime's own term there (the rest grows with m / 8) */
	c->bw0 = kw + grow500(c->n0 > n->read_at ? c->n0 - n->read_at : 0) + track;
	t0 = c->n0 + c->rt_off; /* UTC at the base */
	c->blo = t0 - c->bw0;
	c->bhi = t0 + c->bw0;
	if (vt_cold.pending == VT_PEND_DISRUPTED) {
		st = VTIME_BOUND_DISRUPTED;
		set_bwhy("the VM was disrupted (VMClock: a new disruption marker or generation) and the kernel has "
			 "made no new measurement since (adjtimex: maxerror not lowered, STA_UNSYNC not cleared)", NULL);
	} else if (vt_cold.pending == VT_PEND_RT_STEP) {
		st = VTIME_BOUND_UNKNOWN;
		set_bwhy("CLOCK_REALTIME was stepped and the kernel has made no new measurement since", NULL);
	} else if (n->raw.status & STA_UNSYNC) {
		st = VTIME_BOUND_UNKNOWN;
		set_bwhy("the kernel says its clock is not synchronised (adjtimex: STA_UNSYNC)", NULL);
	} else {
		st = VTIME_BOUND_SYNCHRONIZED;
		set_bwhy("CLOCK_REALTIME +- the kernel's maxerror (adjtimex) and vtime's tracking", NULL);
	}
	/* the fast path does no saturation: a copy whose interval could leave
	 * [0, 2^64) within its span (a clock set within seconds of 1970) says
	 * UNKNOWN */
	span = line_span_ns(c);
	wmax = c->bw0 + (span >> VT_BOUND_GROW_SHIFT) + 1;
	if (st != VTIME_BOUND_UNKNOWN && st != VTIME_BOUND_DISRUPTED &&
	    (c->mode == M_TSC ? t0 <= wmax || t0 + span + wmax < t0 : c->bk_rt <= kw + NSEC)) {
		st = VTIME_BOUND_UNKNOWN;
		set_bwhy("CLOCK_REALTIME is within its own bound of 1970: no interval", NULL);
	}
	if (vmc_why && st == VTIME_BOUND_SYNCHRONIZED) {
		vt_user_strlcat(vt_cold.bwhy, " (", sizeof vt_cold.bwhy);
		vt_user_strlcat(vt_cold.bwhy, vmc_why, sizeof vt_cold.bwhy);
		vt_user_strlcat(vt_cold.bwhy, ")", sizeof vt_cold.bwhy);
	}
	c->bstat = bst(st, VTIME_BOUND_SOURCE_KERNEL);
	vt_cold.bstat = c->bstat;
	vt_cold.half_width = st == VTIME_BOUND_SYNCHRONIZED ? (c->mode == M_TSC ? c->bw0 : c->bk_w) : UINT64_MAX;
}

/* The smallest d (x - x0) at which n0 + the line's ns reach until, at most
 * soft: the line's ns grow with d, so a bisection over [0, soft] finds it. */
static uint64_t line_until(const struct vt_copy *c, uint64_t until)
{
	uint64_t lo = 0, hi = c->soft;

	if (until <= c->n0)
		return 0;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (c->n0 + vt_mulhi(mid << c->ls, c->M) >= until)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

void vt_bound_derive(struct vt_copy *c)
{
	uint32_t st = c->bstat & 0xffu, src = c->bstat >> 8;

	c->bpad = 0;
	c->bsoft = 0;
	c->bpath = VT_BP_OTHER;
	c->bvwM = 0;
	if (src == VTIME_BOUND_SOURCE_VMCLOCK) {
		/* one shift for both multiplies: (d << vls) * bvwM >= (d << vwls) * vwM */
		if (c->vwls <= c->vls) {
			unsigned k = (unsigned)(c->vls - c->vwls);
			c->bvwM = (c->vwM >> k) + ((c->vwM & ((1ull << k) - 1)) != 0);
		} else if (c->vwls - c->vls < 64 && !(c->vwM >> (64 - (c->vwls - c->vls)))) {
			c->bvwM = c->vwM << (c->vwls - c->vls);
		} else {
			return;
		}
		if ((st == VTIME_BOUND_SYNCHRONIZED || st == VTIME_BOUND_FREE_RUNNING) && c->vsoft)
			c->bpath = VT_BP_VMCLOCK;
		return;
	}
	if (c->mode == M_INIT)
		return;
	if (c->mode != M_TSC) {
		c->bpath = VT_BP_OFF;
		return;
	}
	if (c->soft >= 1ull << 62)
		return;
	/* d < bsoft means d < soft and n0 + m < rt_until: bounded_any's tests */
	c->bsoft = line_until(c, c->rt_until);
	c->bpath = (st == VTIME_BOUND_SYNCHRONIZED || st == VTIME_BOUND_FREE_RUNNING) ? VT_BP_LINE
										      : VT_BP_LINE_UNKNOWN;
}

void vt_bound_fill(struct vt_copy *c)
{
	struct vtime_vmclock_abi s;
	struct vtime_vmclock_reading r;
	const char *no = NULL;
	uint64_t x, M, ls, wM = 0, wls = 0, tai, t0, w0;
	unsigned maxls;

	c->vseq = 0;
	c->vmark = c->vgen = 0;
	vt_cold.vmc_maxerr = UINT64_MAX;
	if (!vt_cold.vmc) {
		fill_kernel(c, NULL);
		return;
	}
	if (vtime_vmclock_snapshot(vt_cold.vmc, 0, &s) != 0) {
		/* a writer stuck odd or a page gone bad: watch the word, keep to
		 * the kernel, and try again at the next change */
		c->vseq = vt_load32(&vt_cold.vmc->seq_count);
		fill_kernel(c, "the VMClock page could not be read consistently");
		return;
	}
	vmc_events(&s);
	c->vseq = vt_le32(s.seq_count); /* as the fast path loads it: raw */
	c->vmark = s.disruption_marker;
	c->vgen = s.vm_generation_counter;
	x = vt_ctr_ordered();
	if ((no = vmc_usable(&s, x, &r)) != NULL || !per_count(s.counter_period_frac_sec, s.counter_period_shift, false, &M, &ls) ||
	    (s.counter_period_maxerror_rate_frac_sec &&
	     !per_count(s.counter_period_maxerror_rate_frac_sec, s.counter_period_shift, true, &wM, &wls))) {
		fill_kernel(c, no ? no : "the VMClock page's period is out of range");
		return;
	}
	maxls = (unsigned)(ls > wls ? ls : wls);
	c->vx0 = x;
	c->vsoft = 1ull << (VMC_SPAN_LOG2 - maxls);
	t0 = r.utc_sec * NSEC + r.nsec;
	w0 = sat_add(r.maxerror_ns, VMC_SLACK_NS);
	c->vlo = t0 - w0;
	c->vhi = t0 + w0;
	c->vM = M;
	c->vls = ls;
	c->vwM = wM;
	c->vwls = wls;
	tai = 0;
	if ((r.valid & VTIME_VMCLOCK_HAVE_TAI) && r.tai_sec > r.utc_sec)
		tai = (r.tai_sec - r.utc_sec) * NSEC;
	c->btai = tai;
	c->blo = c->bhi = c->bw0 = c->bk_w = c->bk_rt = 0;
	if (s.clock_status == VTIME_VMCLOCK_STATUS_SYNCHRONIZED) {
		c->bstat = bst(VTIME_BOUND_SYNCHRONIZED, VTIME_BOUND_SOURCE_VMCLOCK);
		set_bwhy("the VMClock page: its time at the counter +- its maxerror (SYNCHRONIZED)", NULL);
	} else {
		c->bstat = bst(VTIME_BOUND_FREE_RUNNING, VTIME_BOUND_SOURCE_VMCLOCK);
		set_bwhy("the VMClock page: its time at the counter +- its maxerror (FREERUNNING: the host lost its "
			 "reference)", NULL);
	}
	{
		/* no saturation on the fast path: an interval that could leave
		 * [0, 2^64) within the line's span says UNKNOWN */
		uint64_t m1 = vt_mulhi(c->vsoft << ls, M), m2 = vt_mulhi(c->vsoft << wls, wM);
		if (t0 <= w0 + m2 || w0 + m2 < w0 || t0 + w0 + m1 + m2 < t0) {
			c->bstat = bst(VTIME_BOUND_UNKNOWN, VTIME_BOUND_SOURCE_VMCLOCK);
			set_bwhy("the VMClock page's maxerror exceeds its time since 1970: no interval", NULL);
		}
	}
	vt_cold.bstat = c->bstat;
	vt_cold.half_width = (c->bstat & 0xffu) == VTIME_BOUND_UNKNOWN ? UINT64_MAX : w0;
	vt_cold.vmc_maxerr = r.maxerror_ns;
}

/* ---- readers ---- */

/* The interval from its two ends, which the copy guarantees do not wrap
 * (vt_bound_fill). Only known statuses give one; the rest [0, 2^64 - 1].
 * The same work either way: the cost does not depend on the status. */
static VT_ALWAYS_INLINE struct vtime_bounded result(uint64_t lo, uint64_t hi, uint32_t bstat, bool tai, uint64_t off)
{
	struct vtime_bounded b;
	uint32_t st = bstat & 0xffu;
	bool known;

	if (tai) {
		st = off != 0 ? st : VTIME_BOUND_UNKNOWN;
		lo += off;
		hi += off;
	}
	known = st - 1u < 2u; /* SYNCHRONIZED or FREE_RUNNING */
	b.earliest_ns = known ? lo : 0;
	b.latest_ns = known ? hi : UINT64_MAX;
	b.status = st;
	b.source = bstat >> 8;
	return b;
}

/* t +- w with saturation (the slow paths). */
static struct vtime_bounded result_tw(uint64_t t, uint64_t w, uint32_t bstat, bool tai, uint64_t off)
{
	uint64_t lo = t > w ? t - w : 0, hi = t + w < t ? UINT64_MAX : t + w;

	if (tai && off && hi + off < hi)
		return result(lo, UINT64_MAX - off, bstat, tai, off);
	return result(lo, hi, bstat, tai, off);
}

static struct vtime_bounded unknown(uint32_t source)
{
	struct vtime_bounded b = { 0, UINT64_MAX, VTIME_BOUND_UNKNOWN, source };
	return b;
}

static VT_ALWAYS_INLINE const volatile uint32_t *vmc_word(void)
{
	return (const volatile uint32_t *)vt_load_uptr(&vt_hot.vmc);
}

/* Off the line: clock_gettime(CLOCK_REALTIME) and the kernel's figure
 * grown since its read (a step in either direction counts as time). */
static struct vtime_bounded gettime_answer(const struct vt_copy *c, bool tai)
{
	uint64_t t = vt_clk_fast(CLOCK_REALTIME), age = t >= c->bk_rt ? t - c->bk_rt : c->bk_rt - t;

	return result_tw(t, sat_add(c->bk_w, grow500(age)), c->bstat, tai, c->btai);
}

/* The page itself (its time and maxerror at one counter read inside its
 * window), when the copy is not up to date with it and another thread
 * holds the lock. */
static struct vtime_bounded vmclock_direct(const struct vt_copy *c, bool tai)
{
	const volatile struct vtime_vmclock_abi *p =
		(const volatile struct vtime_vmclock_abi *)vt_load_uptr(&vt_hot.vmc_page);
	struct vtime_vmclock_reading r;
	struct vtime_counter ctr;
	uint32_t src = c->bstat >> 8;
	uint64_t t, off;

	if (!p || vtime_counter_get(VTIME_COUNTER_ORDERED, &ctr) != 0 || vtime_vmclock_read(p, &ctr, 1, &r) != 0)
		return unknown(src);
	if (r.disruption_marker != c->vmark || r.vm_generation_counter != c->vgen)
		return unknown(src); /* disrupted: unknown until re-anchored on the new page */
	if (src != VTIME_BOUND_SOURCE_VMCLOCK)
		return gettime_answer(c, tai); /* a routine update; the kernel is the source */
	if (!vt_vmc_counter_ok(r.counter_id) || !(r.valid & VTIME_VMCLOCK_HAVE_UTC) || r.maxerror_ns == UINT64_MAX ||
	    (r.clock_status != VTIME_VMCLOCK_STATUS_SYNCHRONIZED && r.clock_status != VTIME_VMCLOCK_STATUS_FREERUNNING))
		return unknown(src); /* the next maintenance decides */
	t = r.utc_sec * NSEC + r.nsec;
	off = (r.valid & VTIME_VMCLOCK_HAVE_TAI) && r.tai_sec > r.utc_sec ? (r.tai_sec - r.utc_sec) * NSEC : 0;
	return result_tw(t, sat_add(r.maxerror_ns, 1),
			 bst(r.clock_status == VTIME_VMCLOCK_STATUS_SYNCHRONIZED ? VTIME_BOUND_SYNCHRONIZED
										 : VTIME_BOUND_FREE_RUNNING,
			     VTIME_BOUND_SOURCE_VMCLOCK),
			 tai, off);
}

/* The two ends from a copy's VMClock line, d = t - vx0 < vsoft. */
static VT_ALWAYS_INLINE struct vtime_bounded vmc_at(uint64_t d, uint64_t lo, uint64_t hi, uint64_t M, uint64_t ls,
						     uint64_t wM, uint64_t wls, uint32_t bstat, bool tai, uint64_t off)
{
	uint64_t m1 = vt_mulhi(d << ls, M), m2 = vt_mulhi(d << wls, wM);
	return result(lo + m1 - m2, hi + m1 + m2, bstat, tai, off);
}

/* ... and from its counter line (kernel source), m = the line's multiply. */
static VT_ALWAYS_INLINE struct vtime_bounded line_at(uint64_t m, uint64_t lo, uint64_t hi, uint32_t bstat, bool tai,
						      uint64_t off)
{
	uint64_t g = m >> VT_BOUND_GROW_SHIFT;
	return result(lo + m - g, hi + m + g, bstat, tai, off);
}

/* Everything the fast path leaves out: not initialised, a changed page,
 * a line past its deadline, a realtime offset due, the other sources. */
static VT_NOINLINE struct vtime_bounded bounded_slow(bool tai)
{
	struct vt_copy c;
	int saved = errno;
	struct vtime_bounded b = unknown(VTIME_BOUND_SOURCE_NONE);
	bool have = false;

	for (int tries = 0; tries < 4; tries++) {
		uint64_t t, d, m;
		uint32_t vs, src;

		(void)vtime_now_ns(); /* initialises; runs the maintenance the line or fallback has due */
		if (vt_latch_get(&c) != 0)
			break;
		have = true;
		if (c.mode == M_INIT)
			continue;
		src = c.bstat >> 8;
		t = vt_ctr_ordered();
		vs = vt_seq_word_after_ctr(vmc_word(), t);
		d = t - c.vx0;
		if (vs != c.vseq || (src == VTIME_BOUND_SOURCE_VMCLOCK && d >= c.vsoft) ||
		    (src != VTIME_BOUND_SOURCE_VMCLOCK && c.mode != M_TSC &&
		     vt_clk(CLOCK_REALTIME) - c.bk_rt >= BOUND_NTP_EVERY_NS)) {
			if (vt_lock_try()) {
				vt_maint_bounded();
				vt_lock_drop();
				continue;
			}
			if (vs != c.vseq || src == VTIME_BOUND_SOURCE_VMCLOCK) {
				b = vmclock_direct(&c, tai);
				goto out;
			}
		}
		if (src == VTIME_BOUND_SOURCE_VMCLOCK) {
			b = vmc_at(d, c.vlo, c.vhi, c.vM, c.vls, c.vwM, c.vwls, c.bstat, tai, c.btai);
			goto out;
		}
		if (c.mode != M_TSC) {
			b = gettime_answer(&c, tai);
			goto out;
		}
		/* the counter line: its value as vtime_realtime_ns() gives it */
		d = t - c.x0;
		if (d >= c.soft || vt_load32(vt_load_ptr_pv()) != c.pv_expect)
			continue; /* maintenance is due: vtime_now_ns() above runs it */
		m = vt_mulhi(d << c.ls, c.M);
		if (c.n0 + m >= c.rt_until) {
			if (vt_lock_try()) {
				vt_maint_realtime();
				vt_lock_drop();
			}
			continue;
		}
		b = line_at(m, c.blo, c.bhi, c.bstat, tai, c.btai);
		goto out;
	}
	/* maintenance kept moving (or another thread holds it): clock_gettime */
	if (have && c.mode != M_INIT && (c.bstat >> 8) != VTIME_BOUND_SOURCE_VMCLOCK)
		b = gettime_answer(&c, tai);
out:
	errno = saved;
	return b;
}

/* Off the counter line (clock_gettime, the per-CPU records, a tracked
 * fallback), kernel source: clock_gettime(CLOCK_REALTIME) itself +- the
 * kernel's figure grown for 20 ms: a copy whose adjtimex read is older (or
 * ahead: a step back) goes to the slow path, which reads the NTP state
 * again. The width is then known before the clock read, so each end is one
 * operation after it, and t >= bk_rt > the width (vt_bound_fill) rules out
 * a wrap. The VMClock word is checked as on the line, ordered after the
 * clock read (which read the counter); the copy only has to be whole: an
 * older kernel figure with a later time only widens the interval. */
static VT_ALWAYS_INLINE struct vtime_bounded bounded_off_line(uint32_t s, const volatile struct vt_copy *v,
							       uint32_t bstat, bool tai)
{
	uint64_t t, krt, w, off;
	uint32_t vseq;
	bool bad;

	krt = vt_load64(&v->bk_rt);
	w = vt_load64(&v->bk_w) + grow500(BOUND_NTP_EVERY_NS);
	off = tai ? vt_load64(&v->btai) : 0;
	vseq = vt_load32(&v->vseq);
	t = vt_clk_fast(CLOCK_REALTIME);
	bad = (vt_seq_word_after_ctr(vmc_word(), t) != vseq) | (t - krt >= BOUND_NTP_EVERY_NS);
	if (unlikely(vt_latch_read_retry(&vt_hot.seq, s) | bad))
		return bounded_slow(tai);
	return result(t - w, t + w, bstat, tai, off);
}

/* Every copy, the way vt_bound_fill built it: vtime_realtime_ns()'s line
 * with the copy's two ends and the VMClock word checked, or the VMClock
 * line. Each end is a constant of the copy plus the multiply and its
 * eighth (no floor: the interval's centre need not be monotonic, and the
 * line's error bound covers what the floor would add). Everything is
 * loaded before the re-check, which is ordered after the counter read; a d
 * past soft only computes values that are then thrown away. The fast path
 * below serves the common copies with less work and sends the rest here. */
static VT_NOINLINE struct vtime_bounded bounded_any(uint32_t s, bool tai)
{
	const volatile struct vt_copy *v = &vt_hot.c[s & 1];
	uint32_t bstat;
	const volatile uint32_t *vw = vmc_word();
	uint64_t t, d, lo, hi, M, ls, off, soft;
	uint32_t vseq;
	bool bad;

	bstat = vt_load32(&v->bstat);
	if ((bstat >> 8) == VTIME_BOUND_SOURCE_VMCLOCK) {
		uint64_t wM, wls;
		t = vt_ctr_ordered();
		d = t - vt_load64(&v->vx0);
		soft = vt_load64(&v->vsoft);
		lo = vt_load64(&v->vlo);
		hi = vt_load64(&v->vhi);
		M = vt_load64(&v->vM);
		ls = vt_load64(&v->vls);
		wM = vt_load64(&v->vwM);
		wls = vt_load64(&v->vwls);
		off = tai ? vt_load64(&v->btai) : 0;
		vseq = vt_load32(&v->vseq);
		bad = (vt_seq_word_after_ctr(vw, t) != vseq) | (d >= soft);
		if (unlikely(vt_latch_read_retry_ctr(&vt_hot.seq, s, t) | bad))
			return bounded_slow(tai);
		return vmc_at(d, lo, hi, M, ls, wM, wls, bstat, tai, off);
	} else {
		uint64_t n0, until, m;
		uint32_t expect, pv, mode = vt_load32(&v->mode);
		if (unlikely(mode != M_TSC))
			return mode == M_INIT ? bounded_slow(tai) : bounded_off_line(s, v, bstat, tai);
		t = vt_ctr_ordered();
		d = t - vt_load64(&v->x0);
		M = vt_load64(&v->M);
		ls = vt_load64(&v->ls);
		soft = vt_load64(&v->soft);
		expect = vt_load32(&v->pv_expect);
		n0 = vt_load64(&v->n0);
		until = vt_load64(&v->rt_until);
		lo = vt_load64(&v->blo);
		hi = vt_load64(&v->bhi);
		off = tai ? vt_load64(&v->btai) : 0;
		vseq = vt_load32(&v->vseq);
		pv = vt_load32(vt_load_ptr_pv());
		bad = (vt_seq_word_after_ctr(vw, t) != vseq) | (pv != expect) | (d >= soft);
		if (unlikely(vt_latch_read_retry_ctr(&vt_hot.seq, s, t) | bad))
			return bounded_slow(tai);
		if (unlikely(ls != 0))
			d <<= ls; /* counters below 1 GHz */
		m = vt_mulhi(d, M);
		if (unlikely(n0 + m >= until))
			return bounded_slow(tai); /* the realtime offset is due for a sample */
		return line_at(m, lo, hi, bstat, tai, off);
	}
}

/* The fast paths, for the copies vt_bound_derive marked (bpath):
 *   VT_BP_LINE: the counter line, kernel source, with an interval: the
 *     ends are the copy's constants plus the multiply and its eighth, and
 *     the status needs no test;
 *   VT_BP_LINE_UNKNOWN: the same line without an interval: no multiply,
 *     only the checks that send a due maintenance on its way;
 *   VT_BP_VMCLOCK: the VMClock line (vmclock_core);
 *   VT_BP_OFF: the kernel source off the line (bounded_off_line, inline in
 *     both forms);
 * and bounded_any for the rest. bsoft folds soft and the realtime offset's
 * deadline into one comparison with x - x0. Each re-check is ordered after
 * the counter read through d, which depends on it (vt_seq.h). The
 * interval form returns its two ends in registers and the status beside
 * them, off the chain from the counter read; the 24-byte struct
 * vtime_bounded goes back through memory, a store and a reload more
 * (docs/userspace.md, "Bounded time"). */
struct vt_iv {
	uint64_t lo, hi;
};

/* Every other copy, and every failed check, for the interval form: out
 * of line, so its fast path keeps its values in registers. The
 * clock_gettime source is inline in both forms (a call more cost it
 * 1.20-1.25x vtime_now_ns() there, against 1.11-1.13x inline). A struct
 * rebuilt from the two registers of a call is stored and reloaded as one
 * 16-byte word, which store forwarding cannot serve (measured: 1.5x on
 * that source), so each form gets its answer in its own shape. */
static VT_NOINLINE struct vtime_interval interval_rare(uint32_t s, bool tai, uint32_t *status)
{
	struct vtime_bounded b = bounded_any(s, tai);
	struct vtime_interval i = { b.earliest_ns, b.latest_ns };

	if (status)
		*status = b.status;
	return i;
}

/* Both ends moved by the copy's TAI - UTC; true when it has none (then
 * bounded_any answers UNKNOWN). */
static VT_ALWAYS_INLINE bool tai_move(const volatile struct vt_copy *v, struct vt_iv *r)
{
	uint64_t off = vt_load64(&v->btai);

	r->lo += off;
	r->hi += off;
	return off == 0;
}

/* The VMClock line's answer from copy s (VT_BP_VMCLOCK): the page's time
 * and its error's growth, two multiplies at one shift (bvwM); true with *r
 * and *bstat, or false for the rare paths. Out of line it cost a call
 * more (1.15-1.18x vtime_now_ns()); inline, the function keeps five
 * callee-saved registers (1.05-1.08x). */
static VT_ALWAYS_INLINE bool vmclock_core(uint32_t s, bool tai, struct vt_iv *r, uint32_t *bstat)
{
	const volatile struct vt_copy *v = &vt_hot.c[s & 1];
	uint64_t d, M, W, ls, m, m2;
	bool bad;

	d = vt_ctr_ordered() - vt_load64(&v->vx0);
	bad = d >= vt_load64(&v->vsoft);
	bad |= vt_seq_word_after_ctr(vmc_word(), d) != vt_load32(&v->vseq);
	M = vt_load64(&v->vM);
	W = vt_load64(&v->bvwM);
	ls = vt_load64(&v->vls);
	r->lo = vt_load64(&v->vlo);
	r->hi = vt_load64(&v->vhi);
	*bstat = vt_load32(&v->bstat);
	if (tai)
		bad |= tai_move(v, r);
	if (unlikely(vt_latch_read_retry_ctr(&vt_hot.seq, s, d) | bad))
		return false;
	d <<= ls; /* d < vsoft: d << ls < 2^40 */
	m = vt_mulhi(d, M);
	m2 = vt_mulhi(d, W);
	r->lo += m - m2;
	r->hi += m + m2;
	return true;
}

/* The counter line's answer from copy s: true with *r and *bstat, or
 * false for the rare paths. */
static VT_ALWAYS_INLINE bool bounded_core(uint32_t s, bool tai, struct vt_iv *r, uint32_t *bstat)
{
	const volatile struct vt_copy *v = &vt_hot.c[s & 1];
	uint32_t path = vt_load32(&v->bpath);
	uint64_t d, M, ls, m, g;
	bool bad;

	if (unlikely(path == VT_BP_VMCLOCK))
		return vmclock_core(s, tai, r, bstat);
	if (unlikely((path - VT_BP_LINE) > (VT_BP_LINE_UNKNOWN - VT_BP_LINE)))
		return false;
	d = vt_ctr_ordered() - vt_load64(&v->x0);
	bad = d >= vt_load64(&v->bsoft);
	bad |= vt_load32(vt_load_ptr_pv()) != vt_load32(&v->pv_expect);
	bad |= vt_seq_word_after_ctr(vmc_word(), d) != vt_load32(&v->vseq);
	if (path != VT_BP_LINE) {
		/* UNKNOWN or DISRUPTED: no interval, nothing to compute */
		*bstat = vt_load32(&v->bstat);
		r->lo = 0;
		r->hi = UINT64_MAX;
		return !unlikely(vt_latch_read_retry_ctr(&vt_hot.seq, s, d) | bad);
	}
	M = vt_load64(&v->M);
	ls = vt_load64(&v->ls);
	r->lo = vt_load64(&v->blo);
	r->hi = vt_load64(&v->bhi);
	*bstat = vt_load32(&v->bstat);
	if (tai)
		bad |= tai_move(v, r);
	if (unlikely(vt_latch_read_retry_ctr(&vt_hot.seq, s, d) | bad))
		return false;
	m = vt_mulhi(d << ls, M); /* d < bsoft <= soft: d << ls fits */
	g = m >> VT_BOUND_GROW_SHIFT;
	r->lo += m - g;
	r->hi += m + g;
	return true;
}

static VT_ALWAYS_INLINE struct vtime_bounded bounded_now(bool tai)
{
	uint32_t s = vt_latch_read_begin(&vt_hot.seq), bstat;
	struct vt_iv r;
	struct vtime_bounded b;

	if (unlikely(!bounded_core(s, tai, &r, &bstat))) {
		const volatile struct vt_copy *v = &vt_hot.c[s & 1];
		/* the clock_gettime source, inline: a call more costs it 5-10% */
		if (vt_load32(&v->bpath) == VT_BP_OFF)
			return bounded_off_line(s, v, vt_load32(&v->bstat), tai);
		return bounded_any(s, tai);
	}
	b.earliest_ns = r.lo;
	b.latest_ns = r.hi;
	b.status = bstat & 0xffu;
	b.source = bstat >> 8;
	return b;
}

static VT_ALWAYS_INLINE struct vtime_interval interval_now(bool tai, uint32_t *status)
{
	uint32_t s = vt_latch_read_begin(&vt_hot.seq), bstat;
	struct vt_iv r;
	struct vtime_interval i;

	if (unlikely(!bounded_core(s, tai, &r, &bstat))) {
		const volatile struct vt_copy *v = &vt_hot.c[s & 1];
		if (vt_load32(&v->bpath) == VT_BP_OFF) {
			struct vtime_bounded b = bounded_off_line(s, v, vt_load32(&v->bstat), tai);
			if (status)
				*status = b.status;
			i.earliest_ns = b.earliest_ns;
			i.latest_ns = b.latest_ns;
			return i;
		}
		return interval_rare(s, tai, status);
	}
	if (status)
		*status = bstat & 0xffu;
	i.earliest_ns = r.lo;
	i.latest_ns = r.hi;
	return i;
}

struct vtime_bounded vtime_bounded_now(void)
{
	return bounded_now(false);
}

struct vtime_bounded vtime_bounded_tai_now(void)
{
	return bounded_now(true);
}

struct vtime_interval vtime_interval_now(uint32_t *status)
{
	return interval_now(false, status);
}

struct vtime_interval vtime_interval_tai_now(uint32_t *status)
{
	return interval_now(true, status);
}

/* Only an interval that holds true time answers (also one a caller built
 * with other ends than the library's 0 and UINT64_MAX for no bound). */
static bool holds_time(const struct vtime_bounded *b)
{
	return b->status == VTIME_BOUND_SYNCHRONIZED || b->status == VTIME_BOUND_FREE_RUNNING;
}

bool vtime_bounded_after(const struct vtime_bounded *b, uint64_t t_ns)
{
	return holds_time(b) && t_ns < b->earliest_ns;
}

bool vtime_bounded_before(const struct vtime_bounded *b, uint64_t t_ns)
{
	return holds_time(b) && t_ns > b->latest_ns;
}

int vtime_bounded_info(struct vtime_bounded_info *info)
{
	bool locked = false;
	uint64_t now;

	if (!info)
		return VTIME_EINVAL;
	(void)vtime_bounded_now();
	memset(info, 0, sizeof *info);
	for (int i = 0; i < 1000 && !(locked = vt_lock_try()); i++)
		usleep(100);
	if (locked)
		vt_maint_bounded();
	now = vt_clk(CLOCK_MONOTONIC);
	info->source = vt_cold.bstat >> 8;
	info->status = vt_cold.bstat & 0xffu;
	vt_user_strlcpy(info->why, vt_cold.bwhy[0] ? vt_cold.bwhy : "not initialised", sizeof info->why);
	info->vmclock = vt_cold.vmc ? vt_cold.vmc_name : "";
	info->page_watch = vt_watch_name(vt_cold.watch);
	info->half_width_ns = vt_cold.half_width;
	if (vt_cold.ntp.reads && vt_cold.ntp.have) {
		info->kernel_maxerror_ns = (uint64_t)vt_cold.ntp.raw.maxerror * 1000u;
		info->kernel_esterror_ns = (uint64_t)vt_cold.ntp.raw.esterror * 1000u;
		info->kernel_age_ns = now - vt_cold.ntp.read_at;
		info->kernel_status = vt_cold.ntp.raw.status;
		info->tai_offset_s = vt_cold.ntp.raw.tai;
	} else {
		info->kernel_maxerror_ns = info->kernel_esterror_ns = UINT64_MAX;
		info->kernel_status = -1;
	}
	if ((vt_cold.bstat >> 8) == VTIME_BOUND_SOURCE_VMCLOCK) {
		struct vt_copy c;
		if (vt_latch_get(&c) == 0)
			info->tai_offset_s = (int64_t)(c.btai / NSEC);
	}
	info->track_ns = vt_cold.rt.unc + vt_cold.line_err + 2;
	info->vmclock_maxerror_ns = vt_cold.vmc_maxerr;
	info->disruptions = vt_cold.disruptions;
	info->generations = vt_cold.generations;
	info->realtime_steps = vt_cold.rt.steps;
	if (locked)
		vt_lock_drop();
	return 0;
}
