/* SPDX-License-Identifier: MIT */
/* The userspace clock's maintenance: lazy initialisation and the state
 * machine that whichever caller passes a deadline runs under the try-lock
 * (vt_lock_try; the others carry on with the copy they have). Nothing here
 * runs on its own: no thread, no timer.
 *
 * States (the latch copy's mode; a tracked fallback's reason in vt_cold.fb):
 *
 *   INIT ── init ──> TSC | PVCLOCK | FALLBACK(converging) | GETTIME
 *       (select.c picks the source; a claimed frequency is checked against
 *        CLOCK_MONOTONIC_RAW, freqchk.c; none known: measured meanwhile)
 *
 *   TSC: the counter line. A probe every 2-5 ms (one caller past the copy's
 *   deadline): the kernel's NTP state (adjtimex, ntp.c), one bracketed
 *   CLOCK_MONOTONIC sample, a re-fit (vt_refit.h): slope = the counter's
 *   frequency against CLOCK_MONOTONIC_RAW (the core engine, fed a RAW
 *   sample every 10-500 ms) x CLOCK_MONOTONIC's rate as adjtimex gives it,
 *   offset corrected with bracket-weighted samples (a line behind by more
 *   than the noise jumps forward to the reference; ahead, it slews).
 *     ── probe ─────────────────────────────────────────> TSC
 *     ── the kernel's rate beyond +-2% (a chrony slew) ──> FALLBACK(unsettled)
 *     ── the line ahead by more than 100 us ─────────────> FALLBACK(catch-up)
 *     ── the host page lost TSC_STABLE (auto) ───────────> PVCLOCK (rdtscp)
 *                                                        | FALLBACK(page lost)
 *     ── counter vs RAW off its rate by > 1000 ppm, twice (auto) ─> GETTIME
 *     ── the kernel no longer uses the counter as clocksource (auto, where
 *        that was the reason; checked once a second) ────────────> GETTIME
 *   PVCLOCK: the per-CPU host records (x = kvmclock ns), every answer
 *   recorded in the floor (CAS); probes as for TSC.
 *     ── probe ─────────────────────────> PVCLOCK
 *     ── the records became invalid ─────> FALLBACK(pv bad)
 *     ── TSC_STABLE back after a loss ───> TSC
 *     ── rate beyond +-2% / far ahead ───> FALLBACK(unsettled / catch-up)
 *   FALLBACK: clock_gettime, recorded in the floor; a check at each
 *   deadline (every probe interval, in CLOCK_MONOTONIC ns).
 *     converging ── frequency known within 1 ppm ───────────────> TSC
 *     unsettled  ── rate within +-2% and unchanged for 200 ms ───> the line it left
 *     catch-up   ── CLOCK_MONOTONIC has reached the floor ───────> the line it left
 *     page lost, pv bad ── TSC_STABLE back ──────────────────────> TSC
 *   GETTIME: clock_gettime for good (nothing to track): no probes, no
 *   periodic work; terminal.
 *
 * Every switch raises the floor to the most the old copy can have handed
 * out before the new copy is published (vt_refit.h has the proof for line
 * re-fits); sources other than the counter line record every answer. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vtime/error.h>
#include <vtime/scale.h>

#include "vt_clock_int.h"
#include "vt_freqchk.h"
#include "vt_pvclock_read.h"
#include "vt_select.h"
#include "vt_user.h"

#define FOLLOW_MAX 0.02          /* CLOCK_MONOTONIC's rate a line follows: within +-2% */
#define SETTLE_NS 200000000ull   /* ... unchanged this long before a line takes over again */
#define AHEAD_FB_NS 100000u      /* a line this far ahead waits for CLOCK_MONOTONIC instead */
#define NOISE_MIN_NS 2000u       /* errors up to this (or twice the bracket) are noise */
#define TC_NS 100000000ull       /* time constant of the offset correction */
#define MAX_SLEW 500e-6          /* ... and its bound */
#define IMAX_KNOWN 100e-6        /* the loop learns at most this of a rate adjtimex does not explain */
#define RAW_SLACK_NS 1000u       /* a RAW sample may be twice the narrowest plus this */
#define NTP_EVERY_NS 20000000ull /* the kernel's NTP state is read at least this often */
#define CS_RECHECK_NS 1000000000ull /* the kernel's clocksource, when the choice rests on it */

static void raw_start(uint64_t hz);

/* ---- small helpers ---- */

static void set_why(char *dst, const char *a, const char *b)
{
	vt_user_strlcpy(dst, a, sizeof vt_cold.info.why);
	if (b)
		vt_user_strlcat(dst, b, sizeof vt_cold.info.why);
}

static int (*ntp_reader(void))(struct vt_ntp_raw *)
{
	const struct vt_clock_hooks *h = vt_hooks;
	return h ? h->ntp : NULL;
}

void vt_sample_ctr(clockid_t id, unsigned n, struct vt_sample *s)
{
	uint64_t best = UINT64_MAX;

	for (unsigned i = 0; i < n; i++) {
		uint64_t a = vt_ctr_ordered(), m = vt_clk(id), b = vt_ctr_ordered();
		if (b - a < best) {
			best = b - a;
			s->a = a;
			s->b = b;
			s->x = a + (b - a) / 2;
			s->ns = m;
		}
	}
}

/* Counter hook for the core's read template: the ordered counter and, with
 * rdtscp, the CPU it was read on (into *ctx; -1 without rdtscp). */
static VT_ALWAYS_INLINE uint64_t pv_counter_cpu(void *ctx)
{
	if (vt_cold.m.rdtscp)
		return vt_ctr_cpu((int *)ctx);
	*(int *)ctx = -1;
	return vt_ctr_ordered();
}

int vt_pv_read(bool one_tsc, uint64_t *kvm)
{
	uintptr_t page = (uintptr_t)vt_load64(&vt_hot.page);
	unsigned nrec = (unsigned)vt_load64(&vt_hot.nrec);

	for (unsigned i = 0; i < VTIME_MAX_TRIES; i++) {
		struct vtime_pvclock_vcpu_time_info b;
		const volatile struct vtime_pvclock_vcpu_time_info *r;
		int cpu0 = -1, cpu1, err;
		uint64_t tsc;

		if (vt_cold.m.rdtscp)
			(void)vt_ctr_cpu(&cpu0);
		if (cpu0 < 0 || (unsigned)cpu0 >= nrec) {
			if (!one_tsc)
				return VTIME_ERANGE;
			cpu0 = 0;
		}
		r = (const volatile struct vtime_pvclock_vcpu_time_info *)(page +
									  (unsigned)cpu0 * VTIME_PVCLOCK_RECORD_STRIDE);
		/* one try per pick of the record: a retry re-reads the CPU */
		err = vt_pvclock_read_window(r, pv_counter_cpu, &cpu1, 1, &b, &tsc);
		if (err == VTIME_EAGAIN)
			continue;
		if (err)
			return VTIME_EPROTO;
		if (!one_tsc && cpu1 != cpu0)
			continue; /* migrated between the record and the counter */
		*kvm = vt_pvclock_scale(&b, tsc);
		return 0;
	}
	return VTIME_EAGAIN;
}

int vt_sample_pv(clockid_t id, unsigned n, bool one_tsc, struct vt_sample *s)
{
	uint64_t best = UINT64_MAX;
	int err;

	for (unsigned i = 0; i < n; i++) {
		uint64_t a, b, m;
		if ((err = vt_pv_read(one_tsc, &a)) != 0)
			return err;
		m = vt_clk(id);
		if ((err = vt_pv_read(one_tsc, &b)) != 0)
			return err;
		if (b - a < best) {
			best = b - a;
			s->a = a;
			s->b = b;
			s->x = a + (b - a) / 2;
			s->ns = m;
		}
	}
	return 0;
}

static bool one_tsc(void)
{
	return vt_cold.page_stable && vt_cold.trust_stable;
}

/* Samples per bracket: more where the clock is slow (an emulated HPET or
 * ACPI PM timer: microseconds per read). */
static unsigned nsamples(void)
{
	return vt_cold.trk.br_floor > 1000u ? 5 : 3;
}

static void info_mode(uint32_t mode)
{
	struct vtime_clock_info *ci = &vt_cold.info;

	ci->source = mode == M_TSC ? VTIME_SOURCE_TSC : mode == M_PVCLOCK ? VTIME_SOURCE_PVCLOCK : VTIME_SOURCE_CLOCK_GETTIME;
	ci->source_name = mode == M_TSC ? "tsc" : mode == M_PVCLOCK ? "pvclock" : "clock_gettime";
	ci->counter = mode == M_PVCLOCK ? "kvmclock" : mode == M_TSC ? vt_cold.m.counter : "none";
	if (mode == M_FALLBACK && vt_cold.fb == FB_CONVERGING) {
		/* clock_gettime answers while the counter's frequency is measured:
		 * say so at every republish, not only at init */
		ci->source_name = "clock_gettime (tsc converging)";
		ci->counter = vt_cold.m.counter;
	}
}

/* The model's slope, ns per x: the engine's frequency against RAW times
 * CLOCK_MONOTONIC's rate against RAW. */
static double model_slope(const struct vt_line *eng)
{
	return vt_line_freq(eng) * vt_cold.ntp.ratio;
}

static uint64_t target_at(const struct vt_sample *s, uint64_t x, double slope)
{
	int64_t dx = (int64_t)(x - s->x);
	double d = (double)dx * slope;
	return dx >= 0 ? s->ns + (uint64_t)d : s->ns - (uint64_t)-d;
}

static uint64_t span_x(double ns_per_x, uint64_t ns)
{
	double v = (double)ns / ns_per_x;
	return v >= 1.8e19 ? UINT64_MAX : (uint64_t)v;
}

/* ---- publishing ---- */

static void copy_rest(struct vt_copy *c, uint32_t mode)
{
	c->mode = mode;
	c->pv_expect = vt_load32(vt_load_ptr_pv());
	c->rt_off = vt_cold.rt.off;
	c->rt_until = vt_cold.rt.n ? vt_cold.rt_until : 0;
	c->tx0 = vt_cold.tline.x0;
	c->tn0 = vt_cold.tline.n0;
	c->tM = vt_cold.tline.M;
	c->tls = vt_cold.tline.ls;
	c->tsoft = vt_cold.tsoft;
	c->one_tsc = one_tsc();
}

static void publish_line(uint32_t mode, const struct vt_oline *l, double slope)
{
	struct vt_copy c;
	uint64_t probe_x = span_x(slope, vt_cold.probe_ns);

	if (mode == M_TSC) {
		vt_cold.tline = *l; /* the counter line is the main line */
		vt_cold.tsoft = probe_x;
	}
	copy_rest(&c, mode);
	c.x0 = l->x0;
	c.n0 = l->n0;
	c.M = l->M;
	c.ls = l->ls;
	c.soft = probe_x;
	c.hard = probe_x + span_x(slope, VT_HARD_EXTRA_NS);
	vt_cold.cur_mode = mode;
	info_mode(mode);
	vt_bound_fill(&c);
	vt_latch_put(&c);
}

/* A fallback copy: x is CLOCK_MONOTONIC ns; maintenance at until (never
 * for GETTIME). */
static void publish_fallback(uint32_t mode, uint64_t until)
{
	struct vt_copy c;

	copy_rest(&c, mode);
	c.x0 = 0;
	c.n0 = 0;
	c.M = 0;
	c.ls = 0;
	c.soft = c.hard = mode == M_GETTIME ? UINT64_MAX : until;
	vt_cold.cur_mode = mode;
	info_mode(mode);
	vt_bound_fill(&c);
	vt_latch_put(&c);
}

static void note_fallback(const char *reason, const char *detail)
{
	vt_cold.info.fallbacks++;
	set_why(vt_cold.info.fallback_reason, reason, detail);
	set_why(vt_cold.info.why, reason, detail);
}

/* Leaves a line for clock_gettime: the floor covers what the old copy can
 * have handed out (up to lo_x) first. */
static void leave_line(const struct vt_copy *old, uint64_t lo_x, uint32_t mode, int fb, const char *reason,
		       const char *detail)
{
	struct vt_oline o = { old->x0, old->n0, old->M, old->ls };
	uint64_t now;

	if (old->mode == M_TSC) {
		/* (the per-CPU records recorded every answer already) */
		uint64_t cap = old->x0 + old->hard;
		(void)vt_floor_cas(vt_oline_at(&o, (int64_t)(lo_x - cap) > 0 ? cap : lo_x));
	}
	if (old->mode == M_TSC || old->mode == M_PVCLOCK)
		vt_cold.line_mode = old->mode;
	now = vt_clk(CLOCK_MONOTONIC);
	vt_cold.fb = fb;
	vt_cold.fb_since = now;
	note_fallback(reason, detail);
	publish_fallback(mode, now + vt_cold.probe_ns);
}

/* ---- the engines ---- */

static bool converged(void)
{
	struct vtime_calib_stats st;

	vtime_calib_stats_get(&vt_cold.raw.cal, &st);
	return st.samples_used >= 3 && st.hz && st.freq_unc_ppb <= 1000;
}

/* A RAW sample for the counter's engine when one is due; the run-time rate
 * check. Returns false when the counter is found unreliable. */
static bool feed_raw(uint64_t now, bool force)
{
	struct vt_sample s;
	double k = vt_cold.raw.ns_per_x;
	uint64_t br_ns;

	if (!force && (int64_t)(now - vt_cold.next_feed) < 0)
		return true;
	vt_sample_ctr(CLOCK_MONOTONIC_RAW, nsamples(), &s);
	br_ns = (uint64_t)((double)(s.b - s.a) * k);
	if (vt_cold.raw_br_min == 0 || br_ns < vt_cold.raw_br_min)
		vt_cold.raw_br_min = br_ns;
	if (br_ns > 2 * vt_cold.raw_br_min + RAW_SLACK_NS) {
		/* preempted: try at the next probe; a clock that became slower
		 * for good is accepted after a few tries */
		vt_cold.raw_br_min += vt_cold.raw_br_min / 4 + 1;
		return true;
	}
	(void)vt_line_feed(&vt_cold.raw, s.x, s.ns, s.b - s.a, NULL);
	vt_cold.next_feed = now + vt_cold.raw.interval;
	if (vt_cold.rate == 0 && vt_cold.raw.have && converged())
		vt_cold.rate = vt_line_freq(&vt_cold.raw); /* measured: the rate it converged to */
	/* the counter must keep the rate it started from: one disagreement
	 * beyond 1000 ppm may be a discontinuity (the engine re-anchors), a
	 * second in a row means the counter is unreliable */
	if (vt_cold.forced == F_AUTO && vt_cold.rate > 0 && s.ns - vt_cold.chk.ns >= 5000000u &&
	    (int64_t)(s.x - vt_cold.chk.x) > 0) {
		double unc, ppm = vt_rate_off_ppm(&vt_cold.chk, &s, vt_cold.rate, &unc);
		if (ppm > VT_RATE_BAD_PPM + 3 * unc || ppm < -VT_RATE_BAD_PPM - 3 * unc) {
			if (++vt_cold.rate_strikes >= 2)
				return false;
		} else {
			vt_cold.rate_strikes = 0;
		}
	}
	vt_cold.chk = s;
	return true;
}

static void feed_kraw(uint64_t now)
{
	struct vt_sample s;

	if ((int64_t)(now - vt_cold.next_kfeed) < 0)
		return;
	if (vt_sample_pv(CLOCK_MONOTONIC_RAW, 3, one_tsc(), &s) != 0)
		return;
	(void)vt_line_feed(&vt_cold.kraw, s.x, s.ns, s.b - s.a, NULL);
	vt_cold.next_kfeed = now + vt_cold.kraw.interval;
}

/* The kernel's NTP state; notes a change of CLOCK_MONOTONIC's rate. */
static bool ntp_update(uint64_t now)
{
	bool changed = vt_ntp_update(&vt_cold.ntp, ntp_reader(), now);

	vt_bound_ntp_read();
	if (changed) {
		vt_cold.ntp_changed_at = now;
		vt_cold.rate_changes++;
	}
	return changed;
}

static bool rate_followable(void)
{
	double r = vt_cold.ntp.ratio;
	return r <= 1.0 + FOLLOW_MAX && r >= 1.0 - FOLLOW_MAX;
}

/* Probe interval: at least 2 ms, longer where a probe is slow, so that
 * probing costs at most about 0.1% of a busy caller. */
static void probe_cost(uint64_t ns)
{
	uint64_t want;

	vt_cold.probe_cost = vt_cold.probe_cost ? (vt_cold.probe_cost * 7 + ns) / 8 : ns;
	want = vt_cold.probe_cost * 1000u;
	vt_cold.probe_ns = want < VT_PROBE_MIN_NS ? VT_PROBE_MIN_NS : want > VT_PROBE_MAX_NS ? VT_PROBE_MAX_NS : want;
}

/* ---- the counter line off the fast path ---- */

/* The counter line from a fresh (counter, CLOCK_MONOTONIC) sample. */
static void tline_sample(void)
{
	struct vt_sample s;
	double slope;

	if (!vt_cold.raw_init)
		return;
	vt_sample_ctr(CLOCK_MONOTONIC, 3, &s);
	slope = model_slope(&vt_cold.raw);
	vt_cold.tline.x0 = s.x;
	vt_cold.tline.n0 = s.ns;
	vt_oline_set_slope(&vt_cold.tline, slope);
	vt_cold.tsoft = span_x(slope, VT_TLINE_NS);
}

/* ---- realtime ---- */

/* One bracketed sample of CLOCK_REALTIME - CLOCK_MONOTONIC: the offset is
 * exactly constant between steps (NTP slews both clocks alike), so the
 * intersection of the last samples' brackets holds it; a sample outside
 * that intersection is a step (settimeofday, clock_settime, a leap second)
 * and starts again. The window of 4 samples lets a step smaller than a
 * bracket through within 4 samples. */
static void rt_sample(unsigned n)
{
	struct vt_rt *rt = &vt_cold.rt;

	for (unsigned k = 0; k < n; k++) {
		uint64_t m1 = vt_clk(CLOCK_MONOTONIC), r = vt_clk(CLOCK_REALTIME), m2 = vt_clk(CLOCK_MONOTONIC);
		uint64_t lo = r - m2, hi = r - m1, ilo, ihi;
		bool disjoint = false;

		if (rt->n) {
			ilo = rt->lo[0];
			ihi = rt->hi[0];
			for (unsigned i = 1; i < rt->n; i++) {
				if ((int64_t)(rt->lo[i] - ilo) > 0)
					ilo = rt->lo[i];
				if ((int64_t)(rt->hi[i] - ihi) < 0)
					ihi = rt->hi[i];
			}
			disjoint = (int64_t)(lo - ihi) > 0 || (int64_t)(hi - ilo) < 0;
		}
		if (disjoint) {
			rt->steps++;
			vt_bound_rt_step();
			rt->n = 0;
			rt->next = 0;
		}
		rt->lo[rt->next] = lo;
		rt->hi[rt->next] = hi;
		rt->next = (rt->next + 1) % 4u;
		if (rt->n < 4)
			rt->n++;
		ilo = rt->lo[0];
		ihi = rt->hi[0];
		for (unsigned i = 1; i < rt->n; i++) {
			if ((int64_t)(rt->lo[i] - ilo) > 0)
				ilo = rt->lo[i];
			if ((int64_t)(rt->hi[i] - ihi) < 0)
				ihi = rt->hi[i];
		}
		if ((int64_t)(ihi - ilo) < 0) {
			/* the window disagrees within itself (a step smaller than
			 * the brackets): keep only this sample */
			rt->lo[0] = lo;
			rt->hi[0] = hi;
			rt->n = 1;
			rt->next = 1;
			ilo = lo;
			ihi = hi;
		}
		rt->off = ilo + (ihi - ilo) / 2;
		rt->unc = (ihi - ilo) / 2;
		vt_cold.rt_until = m2 + VT_RT_INTERVAL_NS;
	}
}

/* ---- probes ---- */

/* A line copy (TSC or PVCLOCK) past its deadline. */
static void probe_line(const struct vt_copy *old, int why)
{
	bool kvm = old->mode == M_PVCLOCK;
	struct vt_line *eng = kvm ? &vt_cold.kraw : &vt_cold.raw;
	struct vt_refit_in in;
	struct vt_refit_out out;
	struct vt_sample s;
	uint64_t t0 = vt_clk(CLOCK_MONOTONIC), lo_x, br_ns, now;
	double slope;
	bool changed;
	int err;

	if (kvm) {
		if ((err = vt_sample_pv(CLOCK_MONOTONIC, nsamples(), old->one_tsc != 0, &s)) != 0) {
			if (err == VTIME_ERANGE) {
				/* this CPU has no record (beyond 64): another caller samples */
				vt_cold.probe_deferred++;
				return;
			}
			leave_line(old, old->x0 + old->soft, M_FALLBACK, FB_PV_BAD,
				   "the pvclock records kept changing or became invalid", ": clock_gettime, clamped");
			return;
		}
	} else {
		vt_sample_ctr(CLOCK_MONOTONIC, nsamples(), &s);
	}
	now = s.ns;
	probe_cost(vt_clk(CLOCK_MONOTONIC) - t0); /* the sample: what every probe costs */
	/* the kernel's NTP state when the sample is off the line by more than
	 * 1 us or twice its bracket (a rate change shows within a probe: 500
	 * ppm is 1 us after 2 ms), and every 20 ms anyway (an adjtimex read is
	 * a system call: 2.4-3.6 us here) */
	{
		struct vt_oline o = { old->x0, old->n0, old->M, old->ls };
		int64_t e = (int64_t)(vt_oline_at(&o, s.x) - s.ns);
		uint64_t ae = e < 0 ? (uint64_t)-e : (uint64_t)e, thr;
		double k = kvm ? 1.0 : vt_line_freq(&vt_cold.raw);
		thr = (uint64_t)((double)(s.b - s.a) * k) * 2;
		if (thr < 1000)
			thr = 1000;
		changed = false;
		if (ae > thr || now - vt_cold.ntp.read_at >= NTP_EVERY_NS || !vt_cold.ntp.reads)
			changed = ntp_update(now);
	}
	/* who may still hold values up to where (vt_refit.h): a rewritten host
	 * record stopped every reader of the old copy before this sample */
	lo_x = why == VT_WHY_PAGE ? s.a : old->x0 + old->soft;
	/* the host page: a lost stable bit ends the counter line */
	if (vt_cold.page && !vt_cold.test_no_page_check) {
		struct vtime_pvclock_vcpu_time_info r;
		if (vtime_pvclock_snapshot(vt_cold.page, 0, &r) == 0)
			vt_cold.info.page_stable = vt_cold.page_stable = (r.flags & VTIME_PVCLOCK_TSC_STABLE) != 0;
		if (!kvm && !vt_cold.page_stable && vt_cold.forced == F_AUTO) {
			vt_cold.page_lost = true;
			if (VT_CTR_HAVE_CPU && vt_cold.m.rdtscp && vt_sample_pv(CLOCK_MONOTONIC, 3, false, &s) == 0) {
				struct vt_oline l;
				struct vt_oline o = { old->x0, old->n0, old->M, old->ls };
				(void)vt_floor_cas(vt_oline_at(&o, lo_x));
				if (!vt_cold.kraw_init) {
					(void)vt_line_init(&vt_cold.kraw, VTIME_NSEC_PER_SEC);
					vt_cold.kraw_init = true;
				}
				feed_kraw(now);
				slope = model_slope(&vt_cold.kraw);
				l.x0 = s.b;
				l.n0 = vt_max64(target_at(&s, s.b, slope), vt_floor_get());
				vt_oline_set_slope(&l, slope);
				vt_cold.line_mode = M_PVCLOCK;
				note_fallback("the host page lost TSC_STABLE: ",
					      "per-CPU pvclock records through rdtscp, clamped");
				publish_line(M_PVCLOCK, &l, slope);
				return;
			}
			leave_line(old, lo_x, M_FALLBACK, FB_PAGE_LOST, "the host page lost TSC_STABLE: ",
				   "clock_gettime, clamped");
			return;
		}
		if (kvm && vt_cold.page_lost && vt_cold.page_stable && vt_cold.forced == F_AUTO && vt_cold.raw_init) {
			/* the host vouches for one TSC again: back to the counter
			 * line (every pvclock answer is in the floor) */
			vt_cold.page_lost = false;
			set_why(vt_cold.info.why, "the host page has TSC_STABLE again: back on the counter line", NULL);
			enter_line(M_TSC);
			return;
		}
	}
	/* the Hyper-V page the line rests on: invalid (sequence 0: the host
	 * emulates the TSC, e.g. while migrating) ends the line until it is
	 * valid again */
	if (!kvm && vt_cold.hv_vouch && !vt_seqz_valid(vt_seq_load(&vt_cold.hv->tsc_sequence))) {
		vt_cold.hv_lost = true;
		leave_line(old, lo_x, M_FALLBACK, FB_PAGE_LOST, "the Hyper-V reference TSC page became invalid "
			   "(sequence 0): ", "clock_gettime, clamped, until it is valid again");
		return;
	}
	/* chosen because the kernel itself uses the counter as clocksource:
	 * once a second, check it still does (its watchdog may have found the
	 * TSC unstable and moved to hpet) */
	if (vt_cold.cs_watch && now - vt_cold.cs_checked >= CS_RECHECK_NS) {
		char cs[32];
		const char *want = vt_select_counter_clocksource(vt_cold.m.arch);
		vt_cold.cs_checked = now;
		if (vt_user_read_file("/sys/devices/system/clocksource/clocksource0/current_clocksource", cs, sizeof cs,
				      NULL) == 0) {
			cs[strcspn(cs, "\n")] = '\0';
			if (want && strcmp(cs, want) != 0) {
				vt_user_strlcpy(vt_cold.cs_why, " (now ", sizeof vt_cold.cs_why);
				vt_user_strlcat(vt_cold.cs_why, cs, sizeof vt_cold.cs_why);
				vt_user_strlcat(vt_cold.cs_why, "): clock_gettime, for good", sizeof vt_cold.cs_why);
				leave_line(old, lo_x, M_GETTIME, FB_NONE, "the kernel stopped using the counter as clocksource",
					   vt_cold.cs_why);
				return;
			}
		}
	}
	if (!kvm && !feed_raw(now, false)) {
		leave_line(old, lo_x, M_GETTIME, FB_NONE,
			   "the counter's rate disagrees with CLOCK_MONOTONIC_RAW by more than 1000 ppm",
			   ": clock_gettime, for good");
		return;
	}
	if (kvm) {
		feed_kraw(now);
		if (vt_cold.raw_init)
			(void)feed_raw(now, false);
	}
	if (!rate_followable()) {
		leave_line(old, lo_x, M_FALLBACK, FB_UNSETTLED,
			   "CLOCK_MONOTONIC's rate (adjtimex: tick, freq) is more than 2% off the raw clocksource's",
			   ": clock_gettime, clamped, until it settles");
		return;
	}
	slope = model_slope(eng);
	br_ns = (uint64_t)((double)(s.b - s.a) * slope);
	in.old.x0 = old->x0;
	in.old.n0 = old->n0;
	in.old.M = old->M;
	in.old.ls = old->ls;
	in.lo_x = lo_x;
	in.sw = s.b;
	in.target = target_at(&s, s.b, slope);
	in.slope = slope;
	in.br_ns = br_ns;
	in.noise_ns = 2 * br_ns > NOISE_MIN_NS ? 2 * br_ns : NOISE_MIN_NS;
	in.dt_ns = vt_cold.last_probe ? now - vt_cold.last_probe : 0;
	in.model_changed = changed || slope != vt_cold.last_slope;
	in.fll = !vt_cold.ntp.have;
	in.tc_ns = TC_NS;
	/* without adjtimex the loop alone follows the kernel's rate */
	in.ti_ns = vt_cold.ntp.have ? 2000000000u : 300000000u;
	in.max_slew = vt_cold.ntp.have ? MAX_SLEW : FOLLOW_MAX;
	in.imax = vt_cold.ntp.have ? IMAX_KNOWN : FOLLOW_MAX;
	vt_refit(&vt_cold.trk, &in, &out);
	/* the new line at its base is within this of CLOCK_MONOTONIC (the
	 * bounded time's own term, bound.c) */
	vt_cold.line_err = (uint64_t)(out.resid_ns < 0 ? -out.resid_ns : out.resid_ns) + br_ns / 2 + 1;
	vt_cold.last_probe = now;
	vt_cold.last_slope = slope;
	vt_cold.last_err = out.err_ns;
	vt_cold.probes++;
	if (out.resid_ns > (int64_t)AHEAD_FB_NS) {
		/* far ahead (a counter that jumped, a rate change seen late):
		 * clock_gettime holds at the floor until it has caught up */
		leave_line(old, lo_x, M_FALLBACK, FB_CATCHUP, "the line was ahead of CLOCK_MONOTONIC by more than 100 us",
			   ": clock_gettime, clamped, until it has caught up");
		return;
	}
	if (out.jumped && out.resid_ns <= 0)
		vt_cold.snaps++;
	(void)vt_floor_cas(out.floor);
	publish_line(old->mode, &out.line, slope);
}

/* Enters a line (from a fallback, at start-up, or pvclock -> counter) at
 * the reference, above the floor (every answer of a fallback and of the
 * per-CPU records is in it). */
void enter_line(uint32_t mode)
{
	struct vt_line *eng = mode == M_PVCLOCK ? &vt_cold.kraw : &vt_cold.raw;
	struct vt_sample s;
	struct vt_oline l;
	double slope;

	if (mode == M_PVCLOCK) {
		if (vt_sample_pv(CLOCK_MONOTONIC, 3, one_tsc(), &s) != 0) {
			publish_fallback(M_FALLBACK, vt_clk(CLOCK_MONOTONIC) + vt_cold.probe_ns);
			return;
		}
	} else {
		vt_sample_ctr(CLOCK_MONOTONIC, nsamples(), &s);
	}
	slope = model_slope(eng);
	l.x0 = s.b;
	l.n0 = vt_max64(target_at(&s, s.b, slope), vt_floor_get());
	vt_oline_set_slope(&l, slope);
	vt_cold.line_err = (l.n0 - target_at(&s, s.b, slope)) + (uint64_t)((double)(s.b - s.a) * slope) / 2 + 1;
	vt_cold.fb = FB_NONE;
	vt_cold.last_probe = s.ns;
	vt_cold.last_slope = slope;
	vt_cold.trk.have_prev = false;
	publish_line(mode, &l, slope);
}

/* A tracked fallback past its deadline. */
static void probe_fallback(const struct vt_copy *old)
{
	uint64_t now = vt_clk(CLOCK_MONOTONIC);
	bool back = false;

	(void)old;
	(void)ntp_update(now);
	if (vt_cold.raw_init && !feed_raw(now, vt_cold.fb == FB_CONVERGING)) {
		publish_fallback(M_GETTIME, UINT64_MAX);
		return;
	}
	if (vt_cold.page && (vt_cold.fb == FB_PAGE_LOST || vt_cold.fb == FB_PV_BAD)) {
		struct vtime_pvclock_vcpu_time_info r;
		if (vtime_pvclock_snapshot(vt_cold.page, 0, &r) == 0)
			vt_cold.info.page_stable = vt_cold.page_stable = (r.flags & VTIME_PVCLOCK_TSC_STABLE) != 0;
	}
	switch (vt_cold.fb) {
	case FB_CONVERGING:
		if (vt_cold.raw.have && converged()) {
			vt_user_strlcat(vt_cold.info.why, "; frequency measured", sizeof vt_cold.info.why);
			vt_cold.line_mode = M_TSC;
			back = true;
		}
		break;
	case FB_UNSETTLED:
		back = rate_followable() && now - vt_cold.ntp_changed_at >= SETTLE_NS;
		break;
	case FB_CATCHUP:
		back = now >= vt_floor_get();
		break;
	case FB_PAGE_LOST:
	case FB_PV_BAD:
		if (vt_cold.hv_lost && vt_seqz_valid(vt_seq_load(&vt_cold.hv->tsc_sequence)) && vt_cold.raw_init) {
			vt_cold.hv_lost = false;
			vt_cold.line_mode = M_TSC;
			set_why(vt_cold.info.why, "the Hyper-V reference TSC page is valid again: back on the counter line",
				NULL);
			back = true;
		} else if (vt_cold.page_lost && vt_cold.page_stable && vt_cold.raw_init) {
			vt_cold.page_lost = false;
			vt_cold.line_mode = M_TSC;
			set_why(vt_cold.info.why, "the host page has TSC_STABLE again: back on the counter line", NULL);
			back = true;
		}
		break;
	default:
		break;
	}
	if (back && rate_followable()) {
		if (vt_cold.fb == FB_UNSETTLED || vt_cold.fb == FB_CATCHUP)
			set_why(vt_cold.info.why, vt_cold.fb == FB_UNSETTLED
					   ? "CLOCK_MONOTONIC's rate settled: back on the line"
					   : "CLOCK_MONOTONIC caught up: back on the line",
				NULL);
		enter_line(vt_cold.line_mode ? vt_cold.line_mode : M_TSC);
		return;
	}
	publish_fallback(M_FALLBACK, now + vt_cold.probe_ns);
}

void vt_maint_run(int why)
{
	struct vt_copy old;
	int saved = errno;

	if (vt_latch_get(&old))
		goto out;
	switch (old.mode) {
	case M_TSC:
	case M_PVCLOCK: {
		uint64_t x;
		uint64_t pv = vt_load32(vt_load_ptr_pv());
		if (old.mode == M_TSC) {
			x = vt_ctr_ordered();
		} else if (vt_pv_read(old.one_tsc != 0, &x) != 0) {
			x = old.x0 + old.soft; /* the probe finds out */
		}
		/* someone else did it already: nothing due */
		if (why == VT_WHY_DEADLINE && x - old.x0 < old.soft)
			goto out;
		if (why == VT_WHY_PAGE && pv == old.pv_expect)
			goto out;
		probe_line(&old, why);
		break;
	}
	case M_FALLBACK:
		if (why == VT_WHY_DEADLINE && vt_clk(CLOCK_MONOTONIC) < old.soft)
			goto out;
		probe_fallback(&old);
		break;
	default: /* INIT: vt_maint_init; GETTIME: nothing to do */
		break;
	}
out:
	errno = saved;
}

void vt_maint_realtime(void)
{
	struct vt_copy c;
	int saved = errno;

	if (vt_latch_get(&c) == 0 && vt_clk(CLOCK_MONOTONIC) >= c.rt_until) {
		rt_sample(1);
		c.rt_off = vt_cold.rt.off;
		c.rt_until = vt_cold.rt_until;
		vt_bound_fill(&c); /* the offset's uncertainty is part of the bound */
		vt_latch_put(&c);
	}
	errno = saved;
}

void vt_maint_bounded(void)
{
	struct vt_copy c;
	int saved = errno;

	if (vt_latch_get(&c) == 0 && c.mode != M_INIT) {
		uint64_t now = vt_clk(CLOCK_MONOTONIC);
		/* off the counter line the bounded time needs the kernel's NTP
		 * state at most 20 ms old (bound.c); no probe reads it for
		 * clock_gettime for good, and a fallback's only at its deadlines:
		 * the bounded time does, while it is used */
		if (c.mode != M_TSC && now - vt_cold.ntp.read_at >= NTP_EVERY_NS)
			(void)ntp_update(now);
		vt_bound_fill(&c);
		vt_latch_put(&c);
	}
	errno = saved;
}

void vt_maint_counter_line(void)
{
	struct vt_copy c;
	int saved = errno;

	if (vt_latch_get(&c) == 0 && c.mode != M_TSC && c.mode != M_INIT) {
		if (!vt_cold.raw_init)
			raw_start(vt_cold.claim_hz);
		else
			(void)feed_raw(vt_clk(CLOCK_MONOTONIC), false);
		if (vt_cold.raw.have) {
			tline_sample();
			c.tx0 = vt_cold.tline.x0;
			c.tn0 = vt_cold.tline.n0;
			c.tM = vt_cold.tline.M;
			c.tls = vt_cold.tline.ls;
			c.tsoft = vt_cold.tsoft;
			vt_latch_put(&c);
		}
	}
	errno = saved;
}

/* ---- initialisation (lock held) ---- */

/* The counter's engine from its first RAW sample s0 (hz 0: measured). */
static void raw_feed_first(uint64_t hz, struct vt_sample *s0)
{
	(void)vt_line_init(&vt_cold.raw, hz);
	vt_cold.raw_init = true;
	(void)vt_line_feed(&vt_cold.raw, s0->x, s0->ns, s0->b - s0->a, NULL);
	vt_cold.chk = *s0;
	vt_cold.raw_br_min = (uint64_t)((double)(s0->b - s0->a) * vt_cold.raw.ns_per_x);
	if (!vt_cold.raw.have) {
		/* no frequency known: a second sample 200 us on gives a rough
		 * line at once for vtime_counter_to_ns(); vtime_now_ns() keeps to
		 * clock_gettime until the engine has it within 1 ppm */
		while (vt_clk(CLOCK_MONOTONIC_RAW) - s0->ns < 200000u)
			vt_cpu_relax();
		vt_sample_ctr(CLOCK_MONOTONIC_RAW, 3, s0);
		(void)vt_line_feed(&vt_cold.raw, s0->x, s0->ns, s0->b - s0->a, NULL);
		vt_cold.chk = *s0;
	}
	vt_cold.next_feed = s0->ns + vt_cold.raw.interval;
	if (vt_cold.raw.have)
		tline_sample();
}

/* The counter's engine where the source is not the counter line
 * (vtime_counter_to_ns() on demand, vtime_clock_info()). */
static void raw_start(uint64_t hz)
{
	struct vt_sample s0;

	vt_sample_ctr(CLOCK_MONOTONIC_RAW, 3, &s0);
	raw_feed_first(hz, &s0);
}

static void refused_why(double ppm)
{
	char num[24];
	int i = (int)sizeof num - 1;
	uint64_t a = (uint64_t)(ppm < 0 ? -ppm : ppm);

	num[i] = '\0';
	do
		num[--i] = (char)('0' + a % 10);
	while ((a /= 10) && i > 1);
	num[--i] = ppm < 0 ? '-' : '+';
	vt_user_strlcpy(vt_cold.freq_why, "measured against CLOCK_MONOTONIC_RAW (", sizeof vt_cold.freq_why);
	vt_user_strlcat(vt_cold.freq_why, vt_cold.info.freq_source, sizeof vt_cold.freq_why);
	vt_user_strlcat(vt_cold.freq_why, " is off by ", sizeof vt_cold.freq_why);
	vt_user_strlcat(vt_cold.freq_why, num + i, sizeof vt_cold.freq_why);
	vt_user_strlcat(vt_cold.freq_why, " ppm)", sizeof vt_cold.freq_why);
	vt_cold.info.freq_source = vt_cold.freq_why;
}

/* The Hyper-V page in the vvar area and VMClock's device (or a test's
 * pages), for the selection and the bounded time. The device is mapped
 * and its descriptor closed: the clock holds no descriptor.
 * VTIME_VMCLOCK_DEV names another device, or a one-page file standing in
 * for one (how `vtime now` is tested on machines without a VMClock). */
static void discover_pages(struct vt_select_in *in)
{
	static char vmc_path[64];
	const char *env = getenv("VTIME_VMCLOCK_DEV");
	struct vtime_hv_host_page hp;
	struct vtime_vmclock_dev d;
	int err;

	vt_cold.hv = NULL;
	vt_cold.vmc = NULL;
	memset(&hp, 0, sizeof hp);
	hp.mapping = "";
	if (vt_cold.test_hv) {
		hp.mapping = "test page";
		err = vt_hv_page_probe(vt_cold.test_hv, &hp);
	} else if (vt_cold.test_no_pages) {
		err = VTIME_ENODEV;
		vt_user_strlcpy(hp.why, "no Hyper-V page (tests: discovery off)", sizeof hp.why);
	} else {
		err = vtime_hv_host_page_find(&hp);
	}
	vt_user_strlcpy(vt_cold.hv_why, err ? hp.why : "", sizeof vt_cold.hv_why);
	if (err == 0 || err == VTIME_ENOTVALID) {
		vt_cold.hv = hp.page;
		in->hv = true;
		in->hv_valid = err == 0;
		in->hv_hz = err == 0 ? hp.tsc_hz : 0;
	}
	if (vt_cold.test_vmc) {
		vt_cold.vmc = vt_cold.test_vmc;
		vt_cold.vmc_name = "test page";
	} else if (vt_cold.test_no_pages) {
		vt_user_strlcpy(vt_cold.vmc_why, "no VMClock (tests: discovery off)", sizeof vt_cold.vmc_why);
	} else if (vt_vmclock_map(&d, env && env[0] ? env : NULL, false) == 0) {
		vt_user_strlcpy(vmc_path, d.path, sizeof vmc_path);
		vt_cold.vmc = d.clk;
		vt_cold.vmc_name = vmc_path;
		vt_cold.vmc_map = (void *)(uintptr_t)d.clk;
		vt_cold.vmc_map_len = d.size;
	} else {
		vt_user_strlcpy(vt_cold.vmc_why, d.why, sizeof vt_cold.vmc_why);
	}
	if (vt_cold.vmc) {
		struct vtime_vmclock_abi s;
		in->vmc = true;
		if (vtime_vmclock_snapshot(vt_cold.vmc, 0, &s) == 0 && vtime_vmclock_usable(&s) == 0 &&
		    vt_vmc_counter_ok(s.counter_id)) {
			in->vmc_counter = true;
			in->vmc_hz = vt_vmc_hz(&s);
		}
	}
}

void vt_maint_init(void)
{
	uint64_t t0 = vt_clk(CLOCK_MONOTONIC);
	const char *env = getenv("VTIME_CLOCK_SOURCE");
	struct vtime_machine *m = &vt_cold.m;
	struct vt_select_in in;
	struct vt_select_out sel;
	uint32_t mode;
	uint64_t hz;
	int saved = errno;

	memset(&vt_cold.info, 0, sizeof vt_cold.info);
	vt_cold.probe_ns = VT_PROBE_MIN_NS;
	(void)vtime_machine_probe(m);
	if (vt_cold.test_no_pages && !vt_cold.test_page) {
		memset(&m->page, 0, sizeof m->page);
		m->page.mapping = "";
		m->page.err = VTIME_ENODEV;
		vt_user_strlcpy(m->page.why, "no pvclock page (tests: discovery off)", sizeof m->page.why);
		m->page_hz = 0;
		m->page_flags = 0;
	}
	vt_cold.page = m->page.rec;
	vt_cold.nrec = m->page.nrecords;
	vt_cold.trust_stable = m->kvm_stable_bit;
	if (vt_cold.test_page) {
		struct vtime_pvclock_vcpu_time_info r;
		struct vtime_scale sc;
		vt_cold.page = vt_cold.test_page;
		vt_cold.nrec = vt_cold.test_nrec;
		vt_cold.trust_stable = true;
		if (vtime_pvclock_snapshot(vt_cold.page, 0, &r) == 0) {
			sc.mul = r.tsc_to_system_mul;
			sc.shift = r.tsc_shift;
			m->page_hz = vtime_scale_source_hz(&sc);
			m->page_flags = r.flags;
		}
	}
	vt_cold.page_stable = vt_cold.page && (m->page_flags & VTIME_PVCLOCK_TSC_STABLE);
	vt_cold.info.page_stable = vt_cold.page_stable;
	vt_store64(&vt_hot.page, (uint64_t)(uintptr_t)vt_cold.page);
	vt_store64(&vt_hot.nrec, vt_cold.nrec);

	memset(&in, 0, sizeof in);
	in.m = m;
	in.env = env;
	in.page = vt_cold.page != NULL;
	in.page_stable = vt_cold.page_stable;
	in.trust_stable = vt_cold.trust_stable;
	in.nrec = vt_cold.nrec;
	in.page_hz = vt_cold.page ? m->page_hz : 0;
	discover_pages(&in);
	(void)vt_select(&in, &sel);
	/* the word the fast paths watch for a host rewrite (vt_select.h) */
	vt_cold.watch = sel.watch;
	vt_store_ptr_pv(sel.watch == W_PVCLOCK ? &vt_cold.page->version
			: sel.watch == W_HV     ? &vt_cold.hv->tsc_sequence
			: sel.watch == W_VMCLOCK ? &vt_cold.vmc->seq_count
						 : &vt_pv_dummy);
	vt_store_uptr(&vt_hot.vmc, (uintptr_t)(vt_cold.vmc ? &vt_cold.vmc->seq_count : &vt_pv_dummy));
	vt_store_uptr(&vt_hot.vmc_page, (uintptr_t)vt_cold.vmc);
	vt_cold.hv_vouch = sel.hv_vouch && sel.forced == F_AUTO;
	vt_cold.forced = sel.forced;
	vt_cold.info.forced = sel.forced != F_AUTO;
	vt_cold.info.freq_source = sel.freq_source;
	vt_user_strlcpy(vt_cold.info.why, sel.why, sizeof vt_cold.info.why);
	mode = (uint32_t)sel.mode;
	hz = sel.hz;
	vt_cold.claim_hz = sel.hz; /* 0 when forced to measure */
	/* the choice rests on the kernel's clocksource (no host page vouched) */
	vt_cold.cs_watch = sel.forced == F_AUTO && sel.mode == M_TSC && !(vt_cold.page && vt_cold.page_stable) &&
			   !sel.hv_vouch;
	vt_cold.cs_checked = t0;

	(void)ntp_update(t0);
	if (mode == M_TSC || mode == M_PVCLOCK) {
		struct vt_sample s0;
		vt_sample_ctr(CLOCK_MONOTONIC_RAW, 3, &s0);
		if (hz) {
			struct vt_freqchk fc;
			vt_freq_check(hz, &s0, &fc);
			if (fc.verdict < 0) {
				refused_why(fc.ppm);
				hz = 0;
			}
			s0 = fc.s1;
		}
		vt_cold.nominal_hz = hz;
		vt_cold.rate = hz ? 1e9 / (double)hz : 0;
		raw_feed_first(hz, &s0);
	}
	vt_cold.info.nominal_hz = vt_cold.nominal_hz;
	if (mode == M_PVCLOCK) {
		struct vt_sample s;
		(void)vt_line_init(&vt_cold.kraw, VTIME_NSEC_PER_SEC);
		vt_cold.kraw_init = true;
		if (vt_sample_pv(CLOCK_MONOTONIC_RAW, 3, one_tsc(), &s) == 0 &&
		    vt_line_feed(&vt_cold.kraw, s.x, s.ns, s.b - s.a, NULL) == 0 && vt_cold.kraw.have) {
			vt_cold.next_kfeed = s.ns + vt_cold.kraw.interval;
		} else {
			mode = M_GETTIME;
			set_why(vt_cold.info.why, "the pvclock records kept changing or are invalid: clock_gettime", NULL);
		}
	}
	if (mode == M_TSC && !vt_cold.nominal_hz && !converged()) {
		/* no known frequency: clock_gettime answers while the engine measures */
		mode = M_FALLBACK;
		vt_cold.fb = FB_CONVERGING;
		vt_cold.line_mode = M_TSC;
	}
	if (mode != M_GETTIME)
		rt_sample(3);
	if (mode == M_GETTIME && !vt_hooks) {
		/* the vDSO's own clock_gettime, without libc's wrapper in front */
		vt_gettime_fn f;
		if (vt_vdso_gettime(&f) == 0)
			vt_store_uptr(&vt_hot.gettime, (uintptr_t)f);
	}
	vt_cold.info.init_ns = vt_clk(CLOCK_MONOTONIC) - t0;
	if (mode == M_TSC || mode == M_PVCLOCK) {
		enter_line(mode);
	} else {
		publish_fallback(mode, vt_clk(CLOCK_MONOTONIC) + vt_cold.probe_ns / 4);
	}
	errno = saved;
}
