/* SPDX-License-Identifier: MIT */
/* vtime_now_ns() and friends: CLOCK_MONOTONIC at counter cost.
 *
 * The lines (counter -> CLOCK_MONOTONIC) are kept by the core engine
 * (vtime_calib, see vt_line.h); readers never touch it: after each re-fit
 * the line is copied into a latch (two copies, readers use copy seq & 1) so
 * a writer never blocks a reader, not even one interrupting the writer from
 * a signal handler on the same thread. The fast path (source "tsc") is:
 * ordered counter read, latch copy, host page version, one multiply, max
 * with the monotonic floor. Everything else (lazy init, the
 * recalibration deadline, a changed host record, the pvclock and
 * clock_gettime sources) is in the slow path. Maintenance runs in whichever
 * caller first passes the deadline and wins a try-lock; the others carry on
 * with the current copy. No thread, no malloc, no stdio: async-signal-safe.
 *
 * Monotonic floor (the core clamp): values handed out by the fast path are
 * bounded by the line at its hard limit; every slow-path answer, every
 * re-fit and every switch of source raises the floor (CAS), and the fast
 * path returns max(line, floor) without writing. Across
 * threads the fast path relies on one TSC for all CPUs, which is exactly
 * what the auto choice requires (TSC_STABLE with CPUID 0x40000001 bit 24, or
 * an invariant TSC the kernel itself uses as clocksource). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <vtime/clock.h>
#include <vtime/linux.h>
#include <vtime/error.h>
#include <vtime/scale.h>

#include "vt_atomic.h"
#include "vt_clamp.h"
#include "vt_clock.h"
#include "vt_line.h"
#include "vt_port.h"
#include "vt_pvclock_read.h"
#include "vt_seq.h"
#include "vt_user.h"
#include "vt_user_counter.h"

#define likely(x) VT_LIKELY(x)
#define unlikely(x) VT_UNLIKELY(x)

enum { M_INIT = 0, M_TSC = 1, M_PVCLOCK = 2, M_FALLBACK = 3 };
enum { F_AUTO = 0, F_TSC, F_TSC_MEASURED, F_PVCLOCK, F_CLOCK_GETTIME };

#define RATE_BAD_PPM 1000.0    /* counter rate this far from its nominal: unreliable */
#define FLOOR_MARGIN_NS 2000   /* slack for readers racing a switch to a slower source */
#define HARD_EXTRA_NS 1000000000ull /* line trusted this long past its deadline */
#define PAGE_RECHECK_NS 1000000000ull

/* One latch copy: everything a reader needs. */
struct vt_copy {
	/* what the fast path loads: with seq and pv, one cache line for c[0]
	 * (readers are on c[0] whenever no publish is in progress) */
	uint32_t mode;
	uint32_t pv_expect;    /* host page version the line was checked against */
	uint64_t x0, n0;       /* main line: x = TSC (tsc) or kvmclock ns (pvclock) */
	uint64_t M, ls;        /* its scale in the readers' form (vt_line_split) */
	uint64_t soft;         /* x - x0 from which maintenance is due */
	/* the rest */
	uint64_t scale;        /* mul | (uint8_t)shift << 32, the pvclock formula */
	uint64_t hard;         /* x - x0 from which the line is not trusted */
	uint64_t tx0, tn0, tscale; /* TSC line for vtime_counter_to_ns() */
	uint64_t tM, tls;
	uint64_t rt_off;       /* CLOCK_REALTIME - CLOCK_MONOTONIC (mod 2^64) */
	uint64_t one_tsc;      /* 1: the host vouches for one TSC (trusted TSC_STABLE) */
};

static const uint32_t pv_dummy;

static struct {
	volatile uint32_t seq;
	uint32_t pad;
	/* host page version word (a constant 0 without a page) */
	const volatile uint32_t *volatile pv;
	struct vt_copy c[2];
} hot __attribute__((aligned(64))) = { 0, 0, &pv_dummy, { { 0 } } };

/* The monotonic floor: the core clamp. Slow paths record into it (CAS); the
 * fast path only reads it (skip-while-stable scope: the fast path runs only
 * while every CPU shares one TSC). */
static struct vtime_clamp g_clamp __attribute__((aligned(64))) = { 0, VTIME_CLAMP_TRUST_STABLE, 0, { 0 } };

/* Slow-path state: touched only by the lock holder (and clock_info). */
static struct {
	volatile uint32_t lock; /* pid of the maintainer, 0 when free */
	int forced;
	bool trust_stable, page_stable, converging, page_lost;
	const volatile struct vtime_pvclock_vcpu_time_info *page;
	unsigned nrec;
	struct vtime_machine m;
	struct vt_line tsc, kvm;
	uint64_t nominal_hz; /* the counter frequency the source gave, 0 if measured */
	double rate;         /* ns per count the line started from (source or measurement) */
	struct { uint64_t x, n, br; } chk; /* the previous sample, for the rate check */
	int rate_strikes;
	char freq_why[128];  /* freq_source when the source's claim was refused */
	struct vtime_clock_info info;
	const volatile struct vtime_pvclock_vcpu_time_info *test_page;
	unsigned test_nrec;
} cold __attribute__((aligned(64)));

/* ---- small helpers ---- */

static uint64_t mono_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void copy_load(const struct vt_copy *p, struct vt_copy *o)
{
	const volatile struct vt_copy *v = p;
	o->x0 = vt_load64(&v->x0);
	o->n0 = vt_load64(&v->n0);
	o->scale = vt_load64(&v->scale);
	o->M = vt_load64(&v->M);
	o->ls = vt_load64(&v->ls);
	o->tM = vt_load64(&v->tM);
	o->tls = vt_load64(&v->tls);
	o->soft = vt_load64(&v->soft);
	o->hard = vt_load64(&v->hard);
	o->tx0 = vt_load64(&v->tx0);
	o->tn0 = vt_load64(&v->tn0);
	o->tscale = vt_load64(&v->tscale);
	o->rt_off = vt_load64(&v->rt_off);
	o->one_tsc = vt_load64(&v->one_tsc);
	o->mode = vt_load32(&v->mode);
	o->pv_expect = vt_load32(&v->pv_expect);
}

static void copy_store(struct vt_copy *p, const struct vt_copy *o)
{
	volatile struct vt_copy *v = p;
	vt_store64(&v->x0, o->x0);
	vt_store64(&v->n0, o->n0);
	vt_store64(&v->scale, o->scale);
	vt_store64(&v->M, o->M);
	vt_store64(&v->ls, o->ls);
	vt_store64(&v->tM, o->tM);
	vt_store64(&v->tls, o->tls);
	vt_store64(&v->soft, o->soft);
	vt_store64(&v->hard, o->hard);
	vt_store64(&v->tx0, o->tx0);
	vt_store64(&v->tn0, o->tn0);
	vt_store64(&v->tscale, o->tscale);
	vt_store64(&v->rt_off, o->rt_off);
	vt_store64(&v->one_tsc, o->one_tsc);
	vt_store32(&v->mode, o->mode);
	vt_store32(&v->pv_expect, o->pv_expect);
}

static void copy_body(void *out, unsigned i)
{
	copy_load(&hot.c[i], (struct vt_copy *)out);
}

/* A consistent copy of the current parameters: 0, or VTIME_EAGAIN if
 * publishes kept overtaking the read (a reader never waits for a writer). */
static int latch_read(struct vt_copy *o)
{
	return vt_latch_read(&hot.seq, copy_body, o);
}

/* Latch writer (lock held). A writer that died half-way (fork) left either
 * readers on c[1], which is whole, or c[1] half-written with readers on
 * c[0]: make c[1] a whole copy of c[0] before readers are sent there. */
static void latch_publish(const struct vt_copy *n)
{
	struct vt_copy cur;

	if (!(vt_seq_load(&hot.seq) & 1)) {
		copy_load(&hot.c[0], &cur);
		copy_store(&hot.c[1], &cur);
	}
	vt_latch_write_odd(&hot.seq);
	copy_store(&hot.c[0], n);
	vt_latch_write_even(&hot.seq);
	copy_store(&hot.c[1], n);
}

/* max(t, every value any slow path returned), recorded. */
static uint64_t floor_cas(uint64_t t)
{
	return vt_clamp_apply_inline(&g_clamp, t);
}

/* Maintenance try-lock: the pid of the holder, so a child forked while its
 * parent held it can take it over (the holder does not exist there). */
static bool try_lock(void)
{
	uint32_t me = (uint32_t)getpid(), cur = 0;

	if (vt_cas32(&cold.lock, &cur, me))
		return true;
	if (cur == me)
		return false; /* another thread, or this one below a signal handler */
	return vt_cas32(&cold.lock, &cur, me);
}

static void unlock(void)
{
	uint32_t me = (uint32_t)getpid();

	/* a CAS as the unlock: a full barrier orders the holder's writes before
	 * the next holder's reads */
	(void)vt_cas32(&cold.lock, &me, 0);
}

static void set_why(char *dst, const char *a, const char *b)
{
	vt_user_strlcpy(dst, a, sizeof cold.info.why);
	if (b)
		vt_user_strlcat(dst, b, sizeof cold.info.why);
}

/* ---- pairs ---- */

/* (TSC, CLOCK_MONOTONIC, CLOCK_REALTIME offset): best bracket of 3. */
static void pair_tsc(uint64_t *x, uint64_t *n, uint64_t *rt_off, uint64_t *bracket)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 3; i++) {
		uint64_t a = vt_ctr_ordered(), m = mono_ns(CLOCK_MONOTONIC), b = vt_ctr_ordered();
		if (b - a < best) {
			best = b - a;
			*x = a + (b - a) / 2;
			*n = m;
		}
	}
	*bracket = best;
	{
		uint64_t m1 = mono_ns(CLOCK_MONOTONIC), r = mono_ns(CLOCK_REALTIME), m2 = mono_ns(CLOCK_MONOTONIC);
		*rt_off = r - (m1 + (m2 - m1) / 2);
	}
}

/* Counter hook for the core's read template: the ordered counter and, with
 * rdtscp, the CPU it was read on (into *ctx; -1 without rdtscp). */
static inline __attribute__((always_inline)) uint64_t pv_counter_cpu(void *ctx)
{
	if (cold.m.rdtscp)
		return vt_ctr_cpu((int *)ctx);
	*(int *)ctx = -1;
	return vt_ctr_ordered();
}

/* kvmclock now from the current CPU's record; the CPU id is read with the
 * counter inside the window, so a migration in between is seen and retried.
 * one_tsc: every record describes the same TSC (trusted TSC_STABLE), so any
 * record does when the CPU has none of its own. VTIME_ERANGE: this CPU has
 * no record (the page holds 64) and no other may stand in. */
static int pv_read(bool one_tsc, uint64_t *kvm)
{
	for (unsigned i = 0; i < VTIME_MAX_TRIES; i++) {
		struct vtime_pvclock_vcpu_time_info b;
		const volatile struct vtime_pvclock_vcpu_time_info *r;
		int cpu0, cpu1, err;
		uint64_t tsc;

		cpu0 = -1;
		if (cold.m.rdtscp)
			(void)vt_ctr_cpu(&cpu0);
		if (cpu0 < 0 || (unsigned)cpu0 >= cold.nrec) {
			if (!one_tsc)
				return VTIME_ERANGE;
			cpu0 = 0;
		}
		r = (const volatile struct vtime_pvclock_vcpu_time_info *)((uintptr_t)cold.page +
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

static int pair_kvm(uint64_t *x, uint64_t *n, uint64_t *bracket)
{
	bool one = cold.page_stable && cold.trust_stable;
	uint64_t best = UINT64_MAX;
	int err;

	for (int i = 0; i < 3; i++) {
		uint64_t a, b, m;
		if ((err = pv_read(one, &a)) != 0)
			return err;
		m = mono_ns(CLOCK_MONOTONIC);
		if ((err = pv_read(one, &b)) != 0)
			return err;
		if (b - a < best) {
			best = b - a;
			*x = a + (b - a) / 2;
			*n = m;
		}
	}
	*bracket = best;
	return 0;
}

/* ---- publishing ---- */

static void build_copy(struct vt_copy *c, uint32_t mode, uint64_t rt_off)
{
	const struct vt_line *l = mode == M_PVCLOCK ? &cold.kvm : &cold.tsc;

	c->mode = mode;
	c->x0 = l->x0;
	c->n0 = l->n0;
	c->scale = l->scale;
	vt_line_split(c->scale, &c->M, &c->ls);
	c->soft = vt_line_due(l, l->interval);
	c->hard = c->soft + vt_line_span(l, HARD_EXTRA_NS);
	if (!cold.tsc.have || cold.converging) { /* converging: sample again soon */
		c->soft = vt_line_due(&cold.tsc, VT_LINE_IMIN / 4);
		c->hard = c->soft;
	}
	c->tx0 = cold.tsc.x0;
	c->tn0 = cold.tsc.n0;
	c->tscale = cold.tsc.scale;
	vt_line_split(c->tscale, &c->tM, &c->tls);
	c->rt_off = rt_off;
	c->one_tsc = cold.page_stable && cold.trust_stable;
	c->pv_expect = vt_load32(hot.pv);
}

/* Largest value the fast path can have handed out from copy c. */
static uint64_t copy_max_out(const struct vt_copy *c)
{
	return vt_line_any(c->x0, c->n0, c->M, c->ls, c->x0 + c->hard);
}

/* The copy's line at x, capped at what the fast path can hand out. */
static uint64_t copy_at_capped(const struct vt_copy *c, uint64_t x)
{
	uint64_t v = x - c->x0 < c->hard ? vt_line_any(c->x0, c->n0, c->M, c->ls, x) : copy_max_out(c);
	uint64_t cap = copy_max_out(c);
	return v < cap ? v : cap;
}

static void info_mode(uint32_t mode)
{
	cold.info.source = mode == M_TSC ? VTIME_SOURCE_TSC
			   : mode == M_PVCLOCK ? VTIME_SOURCE_PVCLOCK
			   : VTIME_SOURCE_CLOCK_GETTIME;
	cold.info.source_name = mode == M_TSC ? "tsc" : mode == M_PVCLOCK ? "pvclock" : "clock_gettime";
}

/* Leave the line for a slower source at run time (lock held). */
static void fall_back(const struct vt_copy *old, uint32_t mode, const char *reason, const char *detail)
{
	struct vt_copy c;

	if (old->mode == M_TSC)
		/* values the old line handed out stay behind everything that follows */
		floor_cas(copy_at_capped(old, vt_ctr_ordered()) + FLOOR_MARGIN_NS);
	cold.info.fallbacks++;
	set_why(cold.info.fallback_reason, reason, detail);
	set_why(cold.info.why, reason, detail);
	info_mode(mode);
	build_copy(&c, mode, old->rt_off);
	latch_publish(&c);
}

/* ---- maintenance (lock held) ---- */

/* How far the counter ran from CLOCK_MONOTONIC between two samples, in ppm
 * of the expected rate, and the measurement's own uncertainty. */
static double rate_off_ppm(uint64_t x0, uint64_t n0, uint64_t b0, uint64_t x1, uint64_t n1, uint64_t b1,
			   double ns_per_x, double *unc_ppm)
{
	double dn = (double)(n1 - n0), dx = (double)(x1 - x0);

	*unc_ppm = ((double)b0 + (double)b1) / 2 * ns_per_x / dn * 1e6; /* half a bracket at each end */
	return (dn / (dx * ns_per_x) - 1.0) * 1e6;
}

/* A measured frequency is good enough to leave clock_gettime: within 1 ppm. */
static bool converged(void)
{
	struct vtime_calib_stats st;

	vtime_calib_stats_get(&cold.tsc.cal, &st);
	return st.samples_used >= 3 && st.hz && st.freq_unc_ppb <= 1000 && st.offset_ns < 1000 && st.offset_ns > -1000;
}

static void maintain(void)
{
	struct vt_copy old, c;
	uint64_t x, n, rt_off, br;
	uint32_t mode;
	int fed;

	if (latch_read(&old))
		return;
	mode = old.mode;
	if (mode == M_INIT)
		return;
	pair_tsc(&x, &n, &rt_off, &br);
	/* the host page: a lost stable bit ends the TSC line; a rewritten
	 * record (migration, resume) is checked through the sample below */
	if (cold.page) {
		struct vtime_pvclock_vcpu_time_info r;
		if (vtime_pvclock_snapshot(cold.page, 0, &r) == 0)
			cold.info.page_stable = cold.page_stable = (r.flags & VTIME_PVCLOCK_TSC_STABLE) != 0;
		if (mode == M_TSC && !cold.page_stable && cold.forced == F_AUTO) {
			cold.page_lost = true;
			if (VT_CTR_HAVE_CPU && cold.m.rdtscp) {
				uint64_t kx, kn, kb;
				if (pair_kvm(&kx, &kn, &kb) == 0 && vt_line_init(&cold.kvm, VTIME_NSEC_PER_SEC) == 0 &&
				    vt_line_feed(&cold.kvm, kx, kn, kb, NULL) == 0 && cold.kvm.have) {
					fall_back(&old, M_PVCLOCK, "the host page lost TSC_STABLE: ",
						  "per-CPU pvclock records through rdtscp, clamped");
					return;
				}
			}
			fall_back(&old, M_FALLBACK, "the host page lost TSC_STABLE: ", "clock_gettime, clamped");
			return;
		}
	}
	fed = vt_line_feed(&cold.tsc, x, n, br, NULL);
	if (mode == M_FALLBACK && cold.converging && cold.tsc.have && converged()) {
		/* the engine has measured the counter: the line takes over (the
		 * floor covers the clamped clock_gettime answers given meanwhile) */
		cold.converging = false;
		mode = M_TSC;
		info_mode(mode);
		vt_user_strlcat(cold.info.why, "; frequency measured", sizeof cold.info.why);
	}
	/* Runtime health: the counter must keep the rate the line started from.
	 * One disagreement beyond 1000 ppm may be a discontinuity (the engine
	 * re-anchors on it); a second in a row means the counter is unreliable. */
	if (cold.forced == F_AUTO && mode == M_TSC && cold.rate > 0 && n - cold.chk.n >= 5000000u &&
	    (int64_t)(x - cold.chk.x) > 0) {
		double unc, ppm = rate_off_ppm(cold.chk.x, cold.chk.n, cold.chk.br, x, n, br, cold.rate, &unc);
		if (ppm > RATE_BAD_PPM + 3 * unc || ppm < -RATE_BAD_PPM - 3 * unc) {
			if (++cold.rate_strikes >= 2) {
				fall_back(&old, M_FALLBACK, "the TSC rate disagrees with CLOCK_MONOTONIC by more than 1000 ppm",
					  ": clock_gettime, clamped");
				return;
			}
		} else {
			cold.rate_strikes = 0;
		}
	}
	cold.chk.x = x;
	cold.chk.n = n;
	cold.chk.br = br;
	if (fed == 0 && mode == M_TSC && cold.rate == 0 && cold.tsc.have) {
		struct vtime_calib_stats st;
		vtime_calib_stats_get(&cold.tsc.cal, &st);
		if (st.hz)
			cold.rate = 1e9 / (double)st.hz; /* measured: the rate it converged to */
	}
	if (mode == M_PVCLOCK) {
		uint64_t kx, kn, kb;
		int err = pair_kvm(&kx, &kn, &kb);
		if (err != 0 && err != VTIME_ERANGE) {
			fall_back(&old, M_FALLBACK, "the pvclock records kept changing or became invalid",
				  ": clock_gettime, clamped");
			return;
		}
		if (err == 0) /* ERANGE: this CPU has no record; another caller will sample */
			(void)vt_line_feed(&cold.kvm, kx, kn, kb, NULL);
	}
	if ((mode == M_FALLBACK || mode == M_PVCLOCK) && cold.page_lost && cold.page_stable && cold.forced == F_AUTO &&
	    cold.tsc.have) {
		/* the host says every CPU shares one TSC again: back to the line,
		 * which kept tracking meanwhile (the floor covers the clamped values) */
		cold.page_lost = false;
		mode = M_TSC;
		info_mode(mode);
		set_why(cold.info.why, "the host page has TSC_STABLE again: back on the counter line", NULL);
	}
	build_copy(&c, mode, rt_off);
	latch_publish(&c);
	if (old.mode == M_TSC && mode == M_TSC)
		/* a reader may still be finishing on the old line a few cycles past
		 * the switch: nothing after this goes below what it could return */
		floor_cas(copy_at_capped(&old, vt_ctr_ordered()));
}

/* ---- initialisation (lock held) ---- */

static int parse_forced(const char *s)
{
	if (!s || !*s || !strcmp(s, "auto"))
		return F_AUTO;
	if (!strcmp(s, "tsc"))
		return F_TSC;
	if (!strcmp(s, "tsc-measured"))
		return F_TSC_MEASURED;
	if (!strcmp(s, "pvclock"))
		return F_PVCLOCK;
	if (!strcmp(s, "clock_gettime"))
		return F_CLOCK_GETTIME;
	return -1;
}

static void init(void)
{
	uint64_t t0 = mono_ns(CLOCK_MONOTONIC), x, n, rt_off = 0, br;
	const char *env = getenv("VTIME_CLOCK_SOURCE");
	struct vtime_machine *m = &cold.m;
	struct vt_copy c;
	uint32_t mode = M_FALLBACK;
	double hz = 0;
	char *why = cold.info.why;

	memset(&cold.info, 0, sizeof cold.info);
	cold.forced = parse_forced(env);
	vtime_machine_probe(m);
	cold.page = m->page.rec;
	cold.nrec = m->page.nrecords;
	cold.trust_stable = m->kvm_stable_bit;
	if (cold.test_page) {
		struct vtime_pvclock_vcpu_time_info r;
		struct vtime_scale s;
		cold.page = cold.test_page;
		cold.nrec = cold.test_nrec;
		cold.trust_stable = true;
		if (vtime_pvclock_snapshot(cold.page, 0, &r) == 0) {
			s.mul = r.tsc_to_system_mul;
			s.shift = r.tsc_shift;
			m->page_hz = vtime_scale_source_hz(&s);
			m->page_flags = r.flags;
		}
	}
	cold.page_stable = cold.page && (m->page_flags & VTIME_PVCLOCK_TSC_STABLE);
	cold.info.page_stable = cold.page_stable;
	hot.pv = cold.page ? &cold.page->version : &pv_dummy;
	cold.info.forced = cold.forced != F_AUTO; /* an unknown value forces clock_gettime */

	/* the counter frequency, most trusted source first */
	cold.info.freq_source = "none";
	if (cold.forced == F_TSC_MEASURED) {
		cold.info.freq_source = "measured against CLOCK_MONOTONIC (forced)";
	} else if (cold.page && m->page_hz) {
		hz = (double)m->page_hz;
		cold.info.freq_source = "host pvclock page (mul, shift)";
	} else if (m->hv_tsc_hz) {
		hz = (double)m->hv_tsc_hz;
		cold.info.freq_source = "CPUID 0x40000010";
	} else if (m->cpuid15_hz) {
		hz = (double)m->cpuid15_hz;
		cold.info.freq_source = "CPUID 0x15";
	} else if (m->arch_counter_hz) {
		hz = (double)m->arch_counter_hz;
		cold.info.freq_source = "CNTFRQ_EL0";
	} else if (!strcmp(m->arch, "none")) {
		hz = 1e9;
		cold.info.freq_source = "CLOCK_MONOTONIC_RAW (no counter)";
	} else {
		cold.info.freq_source = "measured against CLOCK_MONOTONIC";
	}
	cold.info.nominal_hz = (uint64_t)hz;

	/* the source */
	if (cold.forced < 0) {
		set_why(why, "VTIME_CLOCK_SOURCE is not one of auto, tsc, tsc-measured, pvclock, clock_gettime: ",
			"using clock_gettime");
	} else if (cold.forced == F_CLOCK_GETTIME) {
		set_why(why, "forced by VTIME_CLOCK_SOURCE=clock_gettime", NULL);
	} else if (!strcmp(m->arch, "none")) {
		set_why(why, "no user-readable counter on this architecture", NULL);
	} else if (cold.forced == F_TSC || cold.forced == F_TSC_MEASURED) {
		mode = M_TSC;
		set_why(why, "forced by VTIME_CLOCK_SOURCE=", env);
	} else if (cold.forced == F_PVCLOCK) {
		if (cold.page && (m->rdtscp || cold.nrec == 1)) {
			mode = M_PVCLOCK;
			set_why(why, "forced by VTIME_CLOCK_SOURCE=pvclock", NULL);
		} else if (!cold.page) {
			set_why(why, "VTIME_CLOCK_SOURCE=pvclock but no host page: ", m->page.why);
		} else {
			set_why(why, "VTIME_CLOCK_SOURCE=pvclock but no rdtscp to pick this CPU's record", NULL);
		}
	} else if (cold.page && cold.page_stable && cold.trust_stable) {
		mode = M_TSC;
		set_why(why, "the host page says every vCPU shares one TSC (TSC_STABLE, CPUID 0x40000001 bit 24)", NULL);
	} else if (cold.page && m->rdtscp) {
		mode = M_PVCLOCK;
		set_why(why, cold.page_stable ? "TSC_STABLE is not declared meaningful (CPUID 0x40000001 bit 24)"
					      : "the host page has no TSC_STABLE",
			": per-CPU pvclock records through rdtscp, clamped");
	} else if (m->invariant_tsc && !strcmp(m->clocksource, "tsc")) {
		mode = M_TSC;
		set_why(why, "invariant TSC, and the kernel itself uses it as clocksource", NULL);
	} else {
		set_why(why, "no counter known to be synchronised across CPUs (no stable host page, "
			     "no invariant TSC used by the kernel)", NULL);
	}

	pair_tsc(&x, &n, &rt_off, &br);
	if (hz > 0) {
		/* check the claim against CLOCK_MONOTONIC over 100 us before using
		 * it: a frequency 1000 ppm off is refused, the engine measures */
		uint64_t x1, n1, b1, rt1;
		double unc, ppm;
		/* a preempted sample widens the bracket: wait longer, up to 0.5 ms */
		for (uint64_t wait = 100000u; wait <= 500000u; wait += 100000u) {
			while (mono_ns(CLOCK_MONOTONIC) - n < wait)
				vt_cpu_relax();
			pair_tsc(&x1, &n1, &rt1, &b1);
			ppm = rate_off_ppm(x, n, br, x1, n1, b1, 1e9 / hz, &unc);
			if (unc <= 400.0)
				break;
		}
		if (ppm > RATE_BAD_PPM + 3 * unc || ppm < -RATE_BAD_PPM - 3 * unc) {
			char num[24];
			int i = (int)sizeof num - 1;
			uint64_t a = (uint64_t)(ppm < 0 ? -ppm : ppm);
			num[i] = '\0';
			do
				num[--i] = (char)('0' + a % 10);
			while ((a /= 10) && i > 1);
			num[--i] = ppm < 0 ? '-' : '+';
			vt_user_strlcpy(cold.freq_why, "measured against CLOCK_MONOTONIC (", sizeof cold.freq_why);
			vt_user_strlcat(cold.freq_why, cold.info.freq_source, sizeof cold.freq_why);
			vt_user_strlcat(cold.freq_why, " is off by ", sizeof cold.freq_why);
			vt_user_strlcat(cold.freq_why, num + i, sizeof cold.freq_why);
			vt_user_strlcat(cold.freq_why, " ppm)", sizeof cold.freq_why);
			cold.info.freq_source = cold.freq_why;
			hz = 0;
		}
	}
	cold.nominal_hz = (uint64_t)hz;
	cold.info.nominal_hz = (uint64_t)hz;
	cold.rate = hz > 0 ? 1e9 / hz : 0;
	cold.chk.x = x;
	cold.chk.n = n;
	cold.chk.br = br;
	vt_line_init(&cold.tsc, (uint64_t)hz);
	(void)vt_line_feed(&cold.tsc, x, n, br, NULL);
	if (!cold.tsc.have) {
		/* no frequency known: a second sample 200 us on gives a rough
		 * line at once for vtime_counter_to_ns(); vtime_now_ns() keeps to
		 * clock_gettime until the engine has it within 1 ppm */
		while (mono_ns(CLOCK_MONOTONIC) - n < 200000u)
			vt_cpu_relax();
		pair_tsc(&x, &n, &rt_off, &br);
		(void)vt_line_feed(&cold.tsc, x, n, br, NULL);
	}
	if (!cold.nominal_hz && mode == M_TSC && !converged()) {
		/* no known frequency: clock_gettime answers while the engine measures */
		cold.converging = true;
		mode = M_FALLBACK;
	}
	if (mode == M_PVCLOCK) {
		uint64_t kx, kn, kb;
		if (pair_kvm(&kx, &kn, &kb) == 0 && vt_line_init(&cold.kvm, VTIME_NSEC_PER_SEC) == 0 &&
		    vt_line_feed(&cold.kvm, kx, kn, kb, NULL) == 0 && cold.kvm.have) {
			;
		} else {
			mode = M_FALLBACK;
			set_why(why, "the pvclock records kept changing or are invalid: clock_gettime", NULL);
		}
	}
	info_mode(cold.converging ? M_TSC : mode);
	if (cold.converging)
		cold.info.source_name = "clock_gettime (tsc converging)";
	build_copy(&c, mode, rt_off);
	cold.info.init_ns = mono_ns(CLOCK_MONOTONIC) - t0;
	latch_publish(&c);
}

/* ---- readers ---- */

static uint64_t fallback_now(void)
{
	return floor_cas(mono_ns(CLOCK_MONOTONIC));
}

static VT_NOINLINE uint64_t now_slow(void)
{
	for (int tries = 0; tries < 4; tries++) {
		struct vt_copy c;
		uint64_t x, d, v;
		int err;

		if (latch_read(&c))
			return fallback_now();
		switch (c.mode) {
		case M_INIT:
			if (!try_lock())
				return fallback_now(); /* another thread (or we, below a handler) is initialising */
			if (latch_read(&c) == 0 && c.mode == M_INIT)
				init();
			unlock();
			continue;
		case M_TSC:
			x = vt_ctr_ordered();
			d = x - c.x0;
			if (vt_load32(hot.pv) != c.pv_expect || d >= c.soft) {
				if (try_lock()) {
					maintain();
					unlock();
					continue;
				}
				if (vt_load32(hot.pv) != c.pv_expect) {
					/* host rewrote the record and another caller is checking
					 * it: CLOCK_MONOTONIC, but not below this line's value
					 * unless the line is clearly off (counter jumped) */
					uint64_t m = mono_ns(CLOCK_MONOTONIC);
					v = copy_at_capped(&c, x);
					return floor_cas(v > m && v - m < 1000000u ? v : m);
				}
			}
			if (d < c.hard)
				return floor_cas(vt_line_any(c.x0, c.n0, c.M, c.ls, x));
			v = copy_max_out(&c);
			x = mono_ns(CLOCK_MONOTONIC);
			return floor_cas(x > v ? x : v);
		case M_PVCLOCK:
			if ((err = pv_read(c.one_tsc != 0, &x)) != 0) {
				/* no record for this CPU (beyond 64): clock_gettime for this read;
				 * records stuck or invalid: maintenance decides to leave them */
				if (err != VTIME_ERANGE && try_lock()) {
					maintain();
					unlock();
				}
				return fallback_now();
			}
			d = x - c.x0;
			/* deadline, or the host rewrote the records (TSC_STABLE back?) */
			if ((d >= c.soft || vt_load32(hot.pv) != c.pv_expect) && try_lock()) {
				maintain();
				unlock();
				continue;
			}
			if (d >= c.hard)
				return fallback_now();
			v = vt_line_any(c.x0, c.n0, c.M, c.ls, x);
			/* always recorded (CAS): a later switch to clock_gettime must
			 * stay above every value this source handed out */
			return floor_cas(v);
		default: /* M_FALLBACK */
			if ((vt_ctr_ordered() - c.x0 >= c.soft || vt_load32(hot.pv) != c.pv_expect) && try_lock()) {
				maintain();
				unlock();
				if (latch_read(&c) == 0 && c.mode != M_FALLBACK)
					continue;
			}
			return fallback_now();
		}
	}
	return fallback_now();
}

uint64_t vtime_now_ns(void)
{
	/* The counter first: lfence orders it after whatever the caller loaded
	 * (a time another thread published), and the parameter loads below then
	 * overlap with its latency. A copy published after this read has x0
	 * beyond t, so d wraps past soft and the slow path answers; the re-check
	 * is ordered after the counter read (vt_latch_read_retry_ctr), so t was
	 * read while this copy was current. */
	uint64_t t = vt_ctr_ordered();
	uint32_t s = vt_latch_read_begin(&hot.seq);
	const volatile struct vt_copy *v = &hot.c[s & 1];
	uint64_t x0, n0, M, ls, soft, d, ns, last;
	uint32_t expect, pv, mode;

	mode = vt_load32(&v->mode);
	x0 = vt_load64(&v->x0);
	n0 = vt_load64(&v->n0);
	M = vt_load64(&v->M);
	ls = vt_load64(&v->ls);
	soft = vt_load64(&v->soft);
	expect = vt_load32(&v->pv_expect);
	pv = vt_load32(hot.pv);
	d = t - x0;
	if (unlikely(vt_latch_read_retry_ctr(&hot.seq, s, t) || mode != M_TSC || pv != expect || d >= soft))
		return now_slow();
	ns = vt_line_fast(n0, M, ls, d); /* d < soft: d << ls fits */
	/* the clamp's skip-while-stable read (vt_clamp_apply_stable_inline with
	 * the flag known set): max with the floor, no write */
	last = vt_load64(&g_clamp.last);
	return ns > last ? ns : last; /* CLOCK_MONOTONIC values: far below 2^63 */
}

uint64_t vtime_realtime_ns(void)
{
	uint64_t n = vtime_now_ns();
	struct vt_copy c;

	if (latch_read(&c))
		return mono_ns(CLOCK_REALTIME);
	return n + c.rt_off;
}

uint64_t vtime_counter_now(void)
{
	return vt_ctr_raw();
}

/* The counter line of a copy: the main line when it is the counter line
 * (one cache line with seq), else the separate one. */
struct counter_line {
	uint64_t x0, n0, M, ls;
};

static void counter_line_body(void *out, unsigned i)
{
	const volatile struct vt_copy *v = &hot.c[i];
	struct counter_line *l = (struct counter_line *)out;

	if (likely(vt_load32(&v->mode) == M_TSC)) {
		l->x0 = vt_load64(&v->x0);
		l->n0 = vt_load64(&v->n0);
		l->M = vt_load64(&v->M);
		l->ls = vt_load64(&v->ls);
	} else {
		l->x0 = vt_load64(&v->tx0);
		l->n0 = vt_load64(&v->tn0);
		l->M = vt_load64(&v->tM);
		l->ls = vt_load64(&v->tls);
	}
}

/* Every case the fast conversion below leaves out. */
static VT_NOINLINE uint64_t counter_to_ns_slow(uint64_t ticks)
{
	struct counter_line l;

	for (unsigned inits = 0;; inits++) {
		if (vt_latch_read(&hot.seq, counter_line_body, &l) != 0)
			return mono_ns(CLOCK_MONOTONIC); /* publishes kept overtaking the read */
		if (likely(l.M))
			break;
		/* not initialised yet; only a handler interrupting the
		 * initialisation on this thread can still find it so */
		if (inits >= 2)
			return mono_ns(CLOCK_MONOTONIC);
		(void)now_slow();
	}
	/* counter values from the last half hour or so: the one-multiply form */
	if (likely(ticks - l.x0 < (1ull << 42)))
		return vt_line_fast(l.n0, l.M, l.ls, ticks - l.x0);
	return vt_line_any(l.x0, l.n0, l.M, l.ls, ticks);
}

uint64_t vtime_counter_to_ns(uint64_t ticks)
{
	uint32_t s = vt_latch_read_begin(&hot.seq);
	const volatile struct vt_copy *v = &hot.c[s & 1];
	uint64_t x0, n0, M, ls, d;
	uint32_t mode;

	mode = vt_load32(&v->mode);
	x0 = vt_load64(&v->x0);
	n0 = vt_load64(&v->n0);
	M = vt_load64(&v->M);
	ls = vt_load64(&v->ls);
	d = ticks - x0;
	/* counter line in use (it is the main line), ticks at or after its
	 * base, a counter of 1 GHz or more: one multiply */
	if (likely(!vt_latch_read_retry(&hot.seq, s) && mode == M_TSC && (int64_t)d >= 0 && ls == 0))
		return n0 + vt_mulhi(d, M);
	return counter_to_ns_slow(ticks);
}

int vtime_clock_info(struct vtime_clock_info *info)
{
	if (!info)
		return VTIME_EINVAL;
	bool locked = false;

	(void)vtime_now_ns();
	/* the maintainer writes these: copy under the lock when we can get it */
	for (int i = 0; i < 1000 && !(locked = try_lock()); i++)
		usleep(100);
	*info = cold.info;
	{
		struct vtime_calib_stats st, sk;
		vtime_calib_stats_get(&cold.tsc.cal, &st);
		if (cold.kvm.samples)
			vtime_calib_stats_get(&cold.kvm.cal, &sk);
		else
			memset(&sk, 0, sizeof sk);
		info->recal_interval_ns = cold.tsc.interval;
		info->tracking_error_ns = cold.info.source == VTIME_SOURCE_PVCLOCK ? sk.offset_ns : st.offset_ns;
		info->freq_hz = (double)st.hz;
		info->freq_ppm = (double)st.freq_unc_ppb / 1000.0;
		info->recalibrations = st.samples_used + sk.samples_used;
		info->steps = st.steps + sk.steps;
	}
	if (!info->source_name)
		info->source_name = "none";
	if (locked)
		unlock();
	return 0;
}

/* ---- test hooks ---- */

void vt_clock_reset(void)
{
	const volatile struct vtime_pvclock_vcpu_time_info *tp = cold.test_page;
	unsigned tn = cold.test_nrec;

	memset((void *)&hot, 0, sizeof hot);
	memset(&cold, 0, sizeof cold);
	cold.test_page = tp;
	cold.test_nrec = tn;
	vtime_clamp_init(&g_clamp, 0, VTIME_CLAMP_TRUST_STABLE);
	hot.pv = &pv_dummy;
}

void vt_clock_test_page(const volatile struct vtime_pvclock_vcpu_time_info *page, unsigned nrecords)
{
	cold.test_page = page;
	cold.test_nrec = nrecords;
}

int vt_clock_test_lock(void)
{
	return try_lock() ? 0 : VTIME_EBUSY;
}

void vt_clock_test_unlock(void)
{
	unlock();
}

void vt_clock_test_maintain(void)
{
	if (try_lock()) {
		maintain();
		unlock();
	}
}
