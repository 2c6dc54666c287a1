/* SPDX-License-Identifier: MIT */
/* vtime_now_ns() and friends: CLOCK_MONOTONIC at counter cost. The fast
 * path and the readers; maintenance is in maint.c, the source choice in
 * select.c, the re-fit arithmetic and its proof in vt_refit.h.
 *
 * The fast path (source "tsc"): the latch copy's mode, the ordered counter
 * read, the copy's line and deadline and the host page version, one
 * multiply, max with the monotonic floor, the latch re-check ordered after
 * the counter read (vt_latch_read_retry_ctr). Anything unusual (the
 * deadline, a changed host record, not initialised, another source) goes
 * to a slow path. The mode is loaded before the counter is read, so the
 * other sources read no counter they do not need: the per-CPU records one
 * rdtscp, clock_gettime none.
 *
 * Across threads the fast path relies on one counter for all CPUs, which
 * is what the auto choice requires; every other source records each answer
 * in the floor (CAS), except clock_gettime for good (GETTIME), whose
 * values the kernel keeps monotonic: it only reads the floor. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <vtime/clock.h>
#include <vtime/error.h>
#include <vtime/linux.h>

#include "vt_clock.h"
#include "vt_clock_int.h"
#include "vt_pvclock_read.h"

#define likely(x) VT_LIKELY(x)
#define unlikely(x) VT_UNLIKELY(x)

const uint32_t vt_pv_dummy;

struct vt_hot vt_hot __attribute__((aligned(64))) = { 0, 0, (uintptr_t)&vt_pv_dummy, { { 0 } }, 0, 0, 0,
						      (uintptr_t)&vt_pv_dummy, 0 };

/* The monotonic floor: the core clamp. Slow paths record into it (CAS);
 * the fast path only reads it (the skip-while-stable scope: the fast path
 * runs only while every CPU shares one counter). */
struct vtime_clamp vt_floor __attribute__((aligned(64))) = { 0, VTIME_CLAMP_TRUST_STABLE, 0, { 0 } };

struct vt_cold vt_cold __attribute__((aligned(64)));

const struct vt_clock_hooks *volatile vt_hooks;

/* ---- the latch ---- */

void vt_copy_load(const struct vt_copy *p, struct vt_copy *o)
{
	const volatile struct vt_copy *v = p;
	o->mode = vt_load32(&v->mode);
	o->pv_expect = vt_load32(&v->pv_expect);
	o->x0 = vt_load64(&v->x0);
	o->n0 = vt_load64(&v->n0);
	o->M = vt_load64(&v->M);
	o->ls = vt_load64(&v->ls);
	o->soft = vt_load64(&v->soft);
	o->hard = vt_load64(&v->hard);
	o->rt_off = vt_load64(&v->rt_off);
	o->rt_until = vt_load64(&v->rt_until);
	o->tx0 = vt_load64(&v->tx0);
	o->tn0 = vt_load64(&v->tn0);
	o->tM = vt_load64(&v->tM);
	o->tls = vt_load64(&v->tls);
	o->tsoft = vt_load64(&v->tsoft);
	o->one_tsc = vt_load64(&v->one_tsc);
	o->bstat = vt_load32(&v->bstat);
	o->vseq = vt_load32(&v->vseq);
	o->blo = vt_load64(&v->blo);
	o->bhi = vt_load64(&v->bhi);
	o->bw0 = vt_load64(&v->bw0);
	o->bk_rt = vt_load64(&v->bk_rt);
	o->bk_w = vt_load64(&v->bk_w);
	o->btai = vt_load64(&v->btai);
	o->vx0 = vt_load64(&v->vx0);
	o->vsoft = vt_load64(&v->vsoft);
	o->vlo = vt_load64(&v->vlo);
	o->vhi = vt_load64(&v->vhi);
	o->vM = vt_load64(&v->vM);
	o->vls = vt_load64(&v->vls);
	o->vwM = vt_load64(&v->vwM);
	o->vwls = vt_load64(&v->vwls);
	o->vmark = vt_load64(&v->vmark);
	o->vgen = vt_load64(&v->vgen);
	o->bpath = vt_load32(&v->bpath);
	o->bpad = 0;
	o->bsoft = vt_load64(&v->bsoft);
	o->bvwM = vt_load64(&v->bvwM);
}

static void copy_store(struct vt_copy *p, const struct vt_copy *o)
{
	volatile struct vt_copy *v = p;
	vt_store32(&v->mode, o->mode);
	vt_store32(&v->pv_expect, o->pv_expect);
	vt_store64(&v->x0, o->x0);
	vt_store64(&v->n0, o->n0);
	vt_store64(&v->M, o->M);
	vt_store64(&v->ls, o->ls);
	vt_store64(&v->soft, o->soft);
	vt_store64(&v->hard, o->hard);
	vt_store64(&v->rt_off, o->rt_off);
	vt_store64(&v->rt_until, o->rt_until);
	vt_store64(&v->tx0, o->tx0);
	vt_store64(&v->tn0, o->tn0);
	vt_store64(&v->tM, o->tM);
	vt_store64(&v->tls, o->tls);
	vt_store64(&v->tsoft, o->tsoft);
	vt_store64(&v->one_tsc, o->one_tsc);
	vt_store32(&v->bstat, o->bstat);
	vt_store32(&v->vseq, o->vseq);
	vt_store64(&v->blo, o->blo);
	vt_store64(&v->bhi, o->bhi);
	vt_store64(&v->bw0, o->bw0);
	vt_store64(&v->bk_rt, o->bk_rt);
	vt_store64(&v->bk_w, o->bk_w);
	vt_store64(&v->btai, o->btai);
	vt_store64(&v->vx0, o->vx0);
	vt_store64(&v->vsoft, o->vsoft);
	vt_store64(&v->vlo, o->vlo);
	vt_store64(&v->vhi, o->vhi);
	vt_store64(&v->vM, o->vM);
	vt_store64(&v->vls, o->vls);
	vt_store64(&v->vwM, o->vwM);
	vt_store64(&v->vwls, o->vwls);
	vt_store64(&v->vmark, o->vmark);
	vt_store64(&v->vgen, o->vgen);
	vt_store32(&v->bpath, o->bpath);
	vt_store64(&v->bsoft, o->bsoft);
	vt_store64(&v->bvwM, o->bvwM);
}

static void copy_body(void *out, unsigned i)
{
	vt_copy_load(&vt_hot.c[i], (struct vt_copy *)out);
}

int vt_latch_get(struct vt_copy *o)
{
	return vt_latch_read(&vt_hot.seq, copy_body, o);
}

/* Latch writer (lock held). A writer that died half-way (fork) left either
 * readers on c[1], which is whole, or c[1] half-written with readers on
 * c[0]: make c[1] a whole copy of c[0] before readers are sent there. */
void vt_latch_put(const struct vt_copy *in)
{
	struct vt_copy cur, d = *in;
	const struct vt_copy *n = &d;

	vt_bound_derive(&d);

	if (!(vt_seq_load(&vt_hot.seq) & 1)) {
		vt_copy_load(&vt_hot.c[0], &cur);
		copy_store(&vt_hot.c[1], &cur);
	}
	vt_latch_write_odd(&vt_hot.seq);
	copy_store(&vt_hot.c[0], n);
	vt_latch_write_even(&vt_hot.seq);
	copy_store(&vt_hot.c[1], n);
}

/* ---- the maintenance lock ---- */

/* The pid of the holder, so a child forked while its parent held it can
 * take it over (the holder does not exist there). */
bool vt_lock_try(void)
{
	uint32_t me = (uint32_t)getpid(), cur = 0;

	if (vt_cas32(&vt_cold.lock, &cur, me))
		return true;
	if (cur == me)
		return false; /* another thread, or this one below a signal handler */
	return vt_cas32(&vt_cold.lock, &cur, me);
}

void vt_lock_drop(void)
{
	uint32_t me = (uint32_t)getpid();

	/* a CAS as the unlock: a full barrier orders the holder's writes before
	 * the next holder's reads */
	(void)vt_cas32(&vt_cold.lock, &me, 0);
}

/* ---- readers ---- */

/* clock_gettime for good: the kernel keeps CLOCK_MONOTONIC monotonic, the
 * floor holds what an earlier source handed out; nothing to record. */
static VT_ALWAYS_INLINE uint64_t gettime_now(void)
{
	uint64_t m = vt_clk_fast(CLOCK_MONOTONIC), f = vt_floor_get();
	return m > f ? m : f;
}

static uint64_t fallback_now(void)
{
	return vt_floor_cas(vt_clk(CLOCK_MONOTONIC));
}

static VT_NOINLINE uint64_t now_slow(void)
{
	for (int tries = 0; tries < 4; tries++) {
		struct vt_copy c;
		struct vt_oline l;
		uint64_t x, d, m;
		bool pvchg;
		int err;

		if (vt_latch_get(&c))
			return fallback_now();
		l.x0 = c.x0;
		l.n0 = c.n0;
		l.M = c.M;
		l.ls = c.ls;
		switch (c.mode) {
		case M_INIT:
			if (!vt_lock_try())
				return fallback_now(); /* another thread (or we, below a handler) is initialising */
			if (vt_latch_get(&c) == 0 && c.mode == M_INIT)
				vt_maint_init();
			vt_lock_drop();
			continue;
		case M_TSC:
			x = vt_ctr_ordered();
			d = x - c.x0;
			pvchg = vt_load32(vt_load_ptr_pv()) != c.pv_expect;
			if (pvchg || d >= c.soft) {
				if (vt_lock_try()) {
					vt_maint_run(pvchg ? VT_WHY_PAGE : VT_WHY_DEADLINE);
					vt_lock_drop();
					continue;
				}
				if (pvchg) {
					/* the host rewrote the record and another caller is
					 * checking it: CLOCK_MONOTONIC, but not below this
					 * line's value unless the line is clearly off */
					uint64_t v = vt_oline_at(&l, (int64_t)d >= 0 && d < c.hard ? x : c.x0 + c.hard);
					m = vt_clk(CLOCK_MONOTONIC);
					return vt_floor_cas(v > m && v - m < 1000000u ? v : m);
				}
			}
			/* a maintainer is at work: the line (recorded) until its
			 * hard limit; behind its base (the copy came after our
			 * counter read), the line there: the floor covers the rest */
			if (d < c.hard || (int64_t)d < 0)
				return vt_floor_cas(vt_oline_at(&l, x));
			return fallback_now();
		case M_PVCLOCK:
			if ((err = vt_pv_read(c.one_tsc != 0, &x)) != 0) {
				/* no record for this CPU (beyond 64): clock_gettime for this
				 * read; records stuck or invalid: maintenance decides */
				if (err != VTIME_ERANGE && vt_lock_try()) {
					vt_maint_run(VT_WHY_DEADLINE);
					vt_lock_drop();
				}
				return fallback_now();
			}
			d = x - c.x0;
			pvchg = vt_load32(vt_load_ptr_pv()) != c.pv_expect;
			if ((d >= c.soft || pvchg) && vt_lock_try()) {
				vt_maint_run(pvchg ? VT_WHY_PAGE : VT_WHY_DEADLINE);
				vt_lock_drop();
				continue;
			}
			if (d >= c.hard && (int64_t)d >= 0)
				return fallback_now();
			/* always recorded (CAS): a later switch must stay above every
			 * value this source handed out */
			return vt_floor_cas(vt_oline_at(&l, x));
		case M_FALLBACK:
			m = vt_clk(CLOCK_MONOTONIC);
			if (m >= c.soft && vt_lock_try()) {
				vt_maint_run(VT_WHY_DEADLINE);
				vt_lock_drop();
				if (vt_latch_get(&c) == 0 && c.mode != M_FALLBACK)
					continue;
				m = vt_clk(CLOCK_MONOTONIC);
			}
			return vt_floor_cas(m);
		default: /* M_GETTIME */
			return gettime_now();
		}
	}
	return fallback_now();
}

#if VT_CTR_HAVE_CPU
/* The per-CPU records (item 5 of issue 12): one rdtscp gives the counter
 * and the CPU, then that CPU's record is read under its version; the
 * counter was read on that CPU, so the pair is right even if the thread
 * migrates meanwhile, and a record rewritten after the counter read still
 * describes that CPU's counter (a value behind tsc_timestamp is scaled
 * backwards, vt_pvclock_scale). One line multiply and the floor's CAS. */
static VT_NOINLINE uint64_t now_pvclock(uint32_t s)
{
	const volatile struct vt_copy *v = &vt_hot.c[s & 1];
	const volatile struct vtime_pvclock_vcpu_time_info *r;
	struct vtime_pvclock_vcpu_time_info b;
	uint64_t tsc, kvm, x0, n0, M, ls, soft, d, dummy, one, nrec;
	uint32_t aux, cpu;

	tsc = vtime_arch_counter_aux(&aux);
	cpu = aux & 0xfffu; /* Linux: TSC_AUX = (node << 12) | cpu */
	nrec = vt_load64(&vt_hot.nrec);
	one = vt_load64(&v->one_tsc);
	if (unlikely(cpu >= nrec)) {
		if (!one)
			return now_slow();
		cpu = 0;
	}
	r = (const volatile struct vtime_pvclock_vcpu_time_info *)(uintptr_t)(vt_load64(&vt_hot.page) +
									       cpu * VTIME_PVCLOCK_RECORD_STRIDE);
	if (unlikely(vt_pvclock_read_window(r, (uint64_t (*)(void *))0, (void *)0, 1, &b, &dummy) != 0))
		return now_slow();
	kvm = vt_pvclock_scale(&b, tsc);
	x0 = vt_load64(&v->x0);
	n0 = vt_load64(&v->n0);
	M = vt_load64(&v->M);
	ls = vt_load64(&v->ls);
	soft = vt_load64(&v->soft);
	d = kvm - x0;
	if (unlikely(vt_latch_read_retry_ctr(&vt_hot.seq, s, kvm) || d >= soft ||
		     vt_load32(vt_load_ptr_pv()) != vt_load32(&v->pv_expect)))
		return now_slow();
	return vt_floor_cas(vt_line_fast(n0, M, ls, d));
}
#else
static uint64_t now_pvclock(uint32_t s)
{
	(void)s;
	return now_slow();
}
#endif

uint64_t vtime_now_ns(void)
{
	/* The mode first, so that the other sources run no fence and read no
	 * counter they do not need (an lfence costs about 9 ns in front of
	 * clock_gettime here, and the per-CPU records need rdtscp, not
	 * lfence;rdtsc); then the ordered counter read: after whatever the
	 * caller loaded before (a time another thread published). Measured
	 * here, interleaved, in counter ticks: 64.9 against 63.5 with the
	 * counter read first and 61.2 with a fence first (which costs the
	 * clock_gettime source 1.3x). The counter need not follow the copy
	 * loads: a copy answers for any counter value at or past its base,
	 * whenever that value was read (vt_refit.h), and one behind its base
	 * makes d wrap past soft, so the slow path answers. The re-check is
	 * ordered after the counter read (vt_latch_read_retry_ctr): the copy
	 * was still the current one once t had been read. */
	uint32_t s, mode, expect, pv;
	const volatile struct vt_copy *v;
	uint64_t t, x0, n0, M, ls, soft, d, ns, last;

	s = vt_latch_read_begin(&vt_hot.seq);
	v = &vt_hot.c[s & 1];
	mode = vt_load32(&v->mode);
	if (unlikely(mode != M_TSC)) {
		/* GETTIME is terminal and its floor was raised before it was
		 * published: no re-check needed */
		if (mode == M_GETTIME)
			return gettime_now();
		if (mode == M_PVCLOCK)
			return now_pvclock(s);
		return now_slow();
	}
	t = vt_ctr_ordered();
	x0 = vt_load64(&v->x0);
	soft = vt_load64(&v->soft);
	expect = vt_load32(&v->pv_expect);
	pv = vt_load32(vt_load_ptr_pv());
	n0 = vt_load64(&v->n0);
	M = vt_load64(&v->M);
	ls = vt_load64(&v->ls);
	d = t - x0;
	if (unlikely(vt_latch_read_retry_ctr(&vt_hot.seq, s, t) | (pv != expect) | (d >= soft)))
		return now_slow();
	ns = vt_line_fast(n0, M, ls, d); /* d < soft: d << ls fits */
	/* the clamp's skip-while-stable read (vt_clamp_apply_stable_inline with
	 * the flag known set): max with the floor, no write */
	last = vt_floor_get();
	return ns > last ? ns : last; /* CLOCK_MONOTONIC values: far below 2^63 */
}

static VT_NOINLINE uint64_t realtime_slow(void)
{
	uint64_t n = vtime_now_ns();
	struct vt_copy c;

	if (vt_latch_get(&c) || c.mode == M_FALLBACK || c.mode == M_GETTIME || c.mode == M_INIT)
		return vt_clk(CLOCK_REALTIME);
	if (n >= c.rt_until && vt_lock_try()) {
		vt_maint_realtime();
		vt_lock_drop();
		if (vt_latch_get(&c))
			return vt_clk(CLOCK_REALTIME);
	}
	return n + c.rt_off;
}

uint64_t vtime_realtime_ns(void)
{
	uint32_t s, mode, expect, pv;
	const volatile struct vt_copy *v;
	uint64_t t, x0, n0, M, ls, soft, d, ns, last, off, until;

	s = vt_latch_read_begin(&vt_hot.seq);
	v = &vt_hot.c[s & 1];
	mode = vt_load32(&v->mode);
	if (unlikely(mode != M_TSC)) {
		if (mode == M_GETTIME)
			return vt_clk_fast(CLOCK_REALTIME);
		return realtime_slow();
	}
	t = vt_ctr_ordered();
	x0 = vt_load64(&v->x0);
	n0 = vt_load64(&v->n0);
	M = vt_load64(&v->M);
	ls = vt_load64(&v->ls);
	soft = vt_load64(&v->soft);
	expect = vt_load32(&v->pv_expect);
	off = vt_load64(&v->rt_off);
	until = vt_load64(&v->rt_until);
	pv = vt_load32(vt_load_ptr_pv());
	d = t - x0;
	if (unlikely(vt_latch_read_retry_ctr(&vt_hot.seq, s, t) || pv != expect || d >= soft))
		return realtime_slow();
	ns = vt_line_fast(n0, M, ls, d);
	last = vt_floor_get();
	ns = ns > last ? ns : last;
	if (unlikely(ns >= until))
		return realtime_slow(); /* the offset is due for a sample */
	return ns + off;
}

uint64_t vtime_counter_now(void)
{
	return vt_ctr_raw();
}

/* The counter line of a copy: the main line when it is the counter line
 * (one cache line with seq), else the separate one. */
struct counter_line {
	uint64_t x0, n0, M, ls, tsoft;
	uint32_t mode;
};

static void counter_line_body(void *out, unsigned i)
{
	const volatile struct vt_copy *v = &vt_hot.c[i];
	struct counter_line *l = (struct counter_line *)out;

	l->mode = vt_load32(&v->mode);
	l->x0 = vt_load64(&v->tx0);
	l->n0 = vt_load64(&v->tn0);
	l->M = vt_load64(&v->tM);
	l->ls = vt_load64(&v->tls);
	l->tsoft = vt_load64(&v->tsoft);
}

/* Every case the fast conversion below leaves out. */
static VT_NOINLINE uint64_t counter_to_ns_slow(uint64_t ticks)
{
	struct counter_line l;

	for (unsigned tries = 0;; tries++) {
		if (vt_latch_read(&vt_hot.seq, counter_line_body, &l) != 0)
			return vt_clk(CLOCK_MONOTONIC); /* publishes kept overtaking the read */
		if (l.mode == M_INIT) {
			/* not initialised yet; only a handler interrupting the
			 * initialisation on this thread can still find it so */
			if (tries >= 2)
				return vt_clk(CLOCK_MONOTONIC);
			(void)now_slow();
			continue;
		}
		/* off the counter line the conversion line is refreshed on demand:
		 * no periodic work for it */
		if (l.mode != M_TSC && tries < 2 && (l.M == 0 || vt_ctr_raw() - l.x0 >= l.tsoft)) {
			if (vt_lock_try()) {
				vt_maint_counter_line();
				vt_lock_drop();
				continue;
			}
		}
		break;
	}
	if (!l.M)
		return vt_clk(CLOCK_MONOTONIC);
	/* counter values from the last half hour or so: the one-multiply form */
	if (likely(ticks - l.x0 < (1ull << 42) >> l.ls))
		return vt_line_fast(l.n0, l.M, l.ls, ticks - l.x0);
	return vt_line_any(l.x0, l.n0, l.M, l.ls, ticks);
}

uint64_t vtime_counter_to_ns(uint64_t ticks)
{
	uint32_t s = vt_latch_read_begin(&vt_hot.seq);
	const volatile struct vt_copy *v = &vt_hot.c[s & 1];
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
	if (likely(!vt_latch_read_retry(&vt_hot.seq, s) && mode == M_TSC && (int64_t)d >= 0 && ls == 0))
		return n0 + vt_mulhi(d, M);
	return counter_to_ns_slow(ticks);
}

int vtime_clock_info(struct vtime_clock_info *info)
{
	struct vtime_calib_stats st, sk;
	bool locked = false;

	if (!info)
		return VTIME_EINVAL;
	(void)vtime_now_ns();
	/* the maintainer writes these: copy under the lock when we can get it */
	for (int i = 0; i < 1000 && !(locked = vt_lock_try()); i++)
		usleep(100);
	if (locked && !vt_cold.raw_init && vt_cold.cur_mode != M_INIT && strcmp(vt_cold.m.counter, "none") != 0)
		vt_maint_counter_line(); /* the counter's frequency, for the report */
	*info = vt_cold.info;
	memset(&st, 0, sizeof st);
	memset(&sk, 0, sizeof sk);
	if (vt_cold.raw_init)
		(void)vtime_calib_stats_get(&vt_cold.raw.cal, &st);
	if (vt_cold.kraw_init)
		(void)vtime_calib_stats_get(&vt_cold.kraw.cal, &sk);
	info->recal_interval_ns = vt_cold.cur_mode == M_PVCLOCK ? vt_cold.kraw.interval : vt_cold.raw.interval;
	info->tracking_error_ns = vt_cold.last_err;
	info->freq_hz = vt_cold.raw_init && vt_cold.raw.have && vt_cold.ntp.ratio > 0
				? 1e9 / (vt_line_freq(&vt_cold.raw) * vt_cold.ntp.ratio)
				: (double)st.hz;
	info->freq_ppm = (double)st.freq_unc_ppb / 1000.0;
	info->recalibrations = vt_cold.probes + st.samples_used + sk.samples_used;
	info->steps = vt_cold.snaps + st.steps + sk.steps;
	info->kernel_rate_known = vt_cold.ntp.have;
	info->kernel_rate_ppm = vt_cold.ntp.have ? (vt_cold.ntp.ratio - 1.0) * 1e6 : 0.0;
	info->rate_changes = vt_cold.rate_changes;
	info->probe_interval_ns = vt_cold.cur_mode == M_GETTIME ? 0 : vt_cold.probe_ns;
	info->realtime_unc_ns = vt_cold.rt.unc;
	info->realtime_steps = vt_cold.rt.steps;
	if (!info->source_name)
		info->source_name = "none";
	if (!info->counter)
		info->counter = "none";
	memset(info->reserved, 0, sizeof info->reserved);
	if (locked)
		vt_lock_drop();
	return 0;
}

int vt_clock_ntp(struct vt_ntp *out)
{
	int err = 0;

	if (!out)
		return VTIME_EINVAL;
	if (!vt_lock_try())
		return VTIME_EBUSY;
	if (!vt_cold.ntp.reads || !vt_cold.ntp.have)
		err = VTIME_ENODATA;
	else
		*out = vt_cold.ntp;
	vt_lock_drop();
	return err;
}

/* ---- test hooks ---- */

void vt_clock_reset(void)
{
	const volatile struct vtime_pvclock_vcpu_time_info *tp = vt_cold.test_page;
	const volatile struct vtime_vmclock_abi *tv = vt_cold.test_vmc;
	const volatile struct vtime_hv_tsc_page *th = vt_cold.test_hv;
	unsigned tn = vt_cold.test_nrec;
	bool np = vt_cold.test_no_pages;

	if (vt_cold.vmc_map)
		munmap(vt_cold.vmc_map, vt_cold.vmc_map_len);
	memset((void *)&vt_hot, 0, sizeof vt_hot);
	memset(&vt_cold, 0, sizeof vt_cold);
	vt_cold.test_page = tp;
	vt_cold.test_nrec = tn;
	vt_cold.test_vmc = tv;
	vt_cold.test_hv = th;
	vt_cold.test_no_pages = np;
	vtime_clamp_init(&vt_floor, 0, VTIME_CLAMP_TRUST_STABLE);
	vt_store_ptr_pv(&vt_pv_dummy);
	vt_store_uptr(&vt_hot.vmc, (uintptr_t)&vt_pv_dummy);
}

void vt_clock_test_page(const volatile struct vtime_pvclock_vcpu_time_info *page, unsigned nrecords)
{
	vt_cold.test_page = page;
	vt_cold.test_nrec = nrecords;
}

void vt_clock_test_vmclock(const volatile struct vtime_vmclock_abi *page)
{
	vt_cold.test_vmc = page;
}

void vt_clock_test_hv(const volatile struct vtime_hv_tsc_page *page)
{
	vt_cold.test_hv = page;
}

void vt_clock_test_no_pages(bool none)
{
	vt_cold.test_no_pages = none;
}

int vt_clock_test_lock(void)
{
	return vt_lock_try() ? 0 : VTIME_EBUSY;
}

void vt_clock_test_unlock(void)
{
	vt_lock_drop();
}

void vt_clock_test_maintain(void)
{
	if (vt_lock_try()) {
		vt_maint_run(VT_WHY_FORCE);
		vt_lock_drop();
	}
}

void vt_clock_test_hooks(const struct vt_clock_hooks *h)
{
	vt_hooks = h;
}
