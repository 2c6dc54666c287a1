/* SPDX-License-Identifier: MIT */
/* Recalibration engine; see include/vtime/calib.h and docs/calibration.md.
 * Integer only: rates are ns per tick in Q40 fixed point, lines use the
 * pvclock (mul, shift) form. Only the feeder holding e->lock touches the
 * private state; readers load the first cache line through the seqlock. */
#include <vtime/calib.h>
#include <vtime/error.h>
#include <vtime/pvclock.h>

#include "vt_atomic.h"
#include "vt_calib_read.h"
#include "vt_math.h"
#include "vt_seq.h"

#define NS_PER_S 1000000000ull
#define Q 40                 /* fraction bits of a rate (ns per tick) */
#define COST_SLACK_NS 200u   /* a sample may cost 2 * floor + this */
#define MIN_GAP_NS 1000000u  /* stored samples are at least this far apart */
#define F_LINE 0x1u          /* a line has been published */
#define F_PREV 0x2u          /* prev_counter/prev_ref hold a used sample */

static uint64_t abs64(int64_t v)
{
	return v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
}

/* floor(a * b / d), saturating at UINT64_MAX; d != 0. */
static uint64_t muldiv(uint64_t a, uint64_t b, uint64_t d)
{
	uint64_t q;
	if (!vt_div128(vt_mul64(a, b), d, &q, (uint64_t *)0))
		return UINT64_MAX;
	return q;
}

/* Stats are read by other threads: every field goes through the atomics. */
static void st_set(uint64_t *p, uint64_t v) { vt_store64(p, v); }
static void st_inc(uint64_t *p) { vt_store64(p, vt_load64(p) + 1); }

static unsigned isqrt(unsigned v)
{
	unsigned r = 0;
	while ((r + 1) * (r + 1) <= v)
		r++;
	return r;
}

/* Q40 ns-per-tick rate -> pvclock (mul, shift) packed as in e->scale,
 * rounding mul to nearest. False if the shift leaves the pvclock range. */
static bool rate_to_scale(uint64_t rate, uint64_t *scale)
{
	int msb = 0, shift;
	uint64_t mul;

	if (rate == 0)
		return false;
	while (msb < 63 && (rate >> (msb + 1)))
		msb++;
	shift = msb - (Q - 1);
	if (msb > 31) {
		unsigned k = (unsigned)msb - 31;
		mul = (rate >> k) + ((rate >> (k - 1)) & 1u);
		if (mul >> 32) {
			mul >>= 1;
			shift++;
		}
	} else {
		mul = rate << (31 - msb);
	}
	if (shift < VTIME_PVCLOCK_SHIFT_MIN || shift > VTIME_PVCLOCK_SHIFT_MAX)
		return false;
	*scale = mul | (uint64_t)(uint8_t)(int8_t)shift << 32;
	return true;
}

/* (1e9 << Q) / v: converts Hz to a Q40 rate and back. 0 if out of range. */
static uint64_t inv_q40(uint64_t v)
{
	uint64_t q, r;
	struct vt_u128 n = vt_shl128((struct vt_u128){ 0, NS_PER_S }, Q);
	if (v == 0 || !vt_div128(n, v, &q, &r))
		return 0;
	return q + (r >= v - r); /* round to nearest */
}

int vtime_calib_config_default(struct vtime_calib_config *cfg)
{
	if (!cfg)
		return VTIME_EINVAL;
	*cfg = (struct vtime_calib_config){ 0 };
	cfg->hint_ppm = 100;
	cfg->max_slew_ppm = 500;
	cfg->step_ns = 1000000ull;
	cfg->discont_ns = 100000ull;
	cfg->slew_tc_ns = NS_PER_S / 4;
	cfg->window_ns = 64 * NS_PER_S;
	return 0;
}

int vtime_calib_init(struct vtime_calib *e, const struct vtime_calib_config *cfg)
{
	struct vtime_calib_config def;
	uint64_t scale;

	if (!e)
		return VTIME_EINVAL;
	if (!cfg) {
		(void)vtime_calib_config_default(&def);
		cfg = &def;
	}
	if (cfg->max_slew_ppm < 1 || cfg->max_slew_ppm > 100000 || cfg->slew_tc_ns < 1000 ||
	    cfg->window_ns < 1000000 || cfg->step_ns == 0 || cfg->discont_ns == 0 ||
	    !vt_zero64(cfg->reserved, sizeof cfg->reserved / sizeof cfg->reserved[0]))
		return VTIME_EINVAL;
	*e = (struct vtime_calib){ 0 };
	e->cfg = *cfg;
	e->cost_floor = UINT64_MAX;
	if (cfg->hz_hint) {
		uint64_t q = inv_q40(cfg->hz_hint);
		if (!q || !rate_to_scale(q, &scale))
			return VTIME_EINVAL;
		/* the hint is a prior: measurements replace it once better */
		e->freq_q40 = e->prior_q40 = q;
		e->unc_ppb = e->prior_unc_ppb = (uint64_t)cfg->hint_ppm * 1000u;
	}
	return 0;
}

/* The line's domain ahead of its base: a forward delta d (< 2^63 ticks)
 * whose shifted value still fits in 64 bits (worth less than about 2^63 ns;
 * for shifts <= 0 every such delta). Beyond it readers' pvclock arithmetic
 * wraps while the exact position does not, so the engine never re-anchors
 * there. (Behind the base, by less than 2^63 ticks, is the ordinary case of
 * a sample from a CPU slightly behind the switch point.) */
static bool beyond_domain(uint64_t sc, uint64_t d)
{
	int shift = (int8_t)(uint8_t)(sc >> 32);

	return (d >> 63) == 0 && shift > 0 && (d >> (64 - shift)) != 0;
}

/* Position of a line at counter c, at or after its base, in Q32 ns (the
 * fraction readers' floor drops, including the ticks a negative shift
 * drops): the exact value re-anchoring must carry so no rounding builds up. */
static struct vt_u128 line_q32(uint64_t bc, uint64_t bn, uint64_t frac, uint64_t sc, uint64_t c)
{
	int shift = (int8_t)(uint8_t)(sc >> 32);
	struct vt_u128 p = vt_mul64(c - bc, (uint32_t)sc);
	uint64_t lo;

	if (shift < 0) {
		lo = vt_shr128(p, (unsigned)-shift);
		p.hi >>= -shift;
		p.lo = lo;
	} else {
		p = vt_shl128(p, (unsigned)shift);
	}
	lo = p.lo + frac;
	p.hi += lo < p.lo;
	p.lo = lo;
	lo = p.lo + (bn << 32); /* base_ns sits at bit 32 */
	p.hi += (bn >> 32) + (lo < p.lo);
	p.lo = lo;
	return p;
}

/* Publishes a new line whose exact (Q32) time at the switch point equals
 * the line `from` there, plus add_ns (a forward step). Readers see the
 * floor, so at the switch they may gain up to 2 ns (the fraction and the
 * dropped ticks now counted), never lose any. The switch point is read
 * inside the window when the config has a counter, else it is fallback; it
 * never goes behind from's base. */
static void publish(struct vtime_calib *e, uint64_t from_bc, uint64_t from_bn, uint64_t from_frac,
		    uint64_t from_sc, uint64_t scale, uint64_t add_ns, uint64_t fallback)
{
	uint32_t v = vt_seq_write_begin_mb(&e->seq);
	uint64_t sw;
	struct vt_u128 p;

	/* a reader that saw the old line read its counter before sw */
	sw = e->cfg.counter.read ? e->cfg.counter.read(e->cfg.counter.ctx) : fallback;
	if ((int64_t)(sw - from_bc) < 0)
		sw = from_bc;
	else if (beyond_domain(from_sc, sw - from_bc))
		sw = fallback; /* the counter jumped since the sample: stay where it was */
	p = line_q32(from_bc, from_bn, from_frac, from_sc, sw);
	e->base_frac = (uint32_t)p.lo;
	vt_store64(&e->base_counter, sw);
	vt_store64(&e->base_ns, vt_shr128(p, 32) + add_ns);
	vt_store64(&e->scale, scale);
	(void)vt_seq_write_end(&e->seq, v);
}

static uint64_t cost_limit(const struct vtime_calib *e)
{
	return e->cost_floor > (UINT64_MAX >> 2) ? UINT64_MAX : 2 * e->cost_floor + COST_SLACK_NS;
}

static void ring_push(struct vtime_calib *e, const struct vtime_calib_sample *s)
{
	uint64_t limit = cost_limit(e);
	unsigned k = 0;

	/* drop samples let in before the cost floor was known */
	for (unsigned i = 0; i < e->n; i++)
		if (e->ring[i].cost_ns <= limit)
			e->ring[k++] = e->ring[i];
	e->n = k;
	if (e->n > 0) {
		const struct vtime_calib_sample *last = &e->ring[e->n - 1];
		int64_t dr = (int64_t)(s->ref_ns - last->ref_ns);
		uint64_t dc = s->counter - last->counter;
		if (dr <= 0 || dc == 0 || (dc >> 63))
			return;
		if ((uint64_t)dr < e->gap_ns || (uint64_t)dr < MIN_GAP_NS) {
			/* too close: keep whichever of the two is more precise */
			if (s->cost_ns < last->cost_ns && e->n >= 2 &&
			    s->ref_ns - e->ring[e->n - 2].ref_ns >= e->gap_ns)
				e->ring[e->n - 1] = *s;
			return;
		}
	}
	if (e->n == VTIME_CALIB_RING) {
		uint64_t span = e->ring[e->n - 1].ref_ns - e->ring[0].ref_ns;
		if (span >= e->cfg.window_ns) {
			for (unsigned i = 1; i < e->n; i++)
				e->ring[i - 1] = e->ring[i];
			e->n--;
		} else {
			for (unsigned i = 0; i < VTIME_CALIB_RING / 2; i++)
				e->ring[i] = e->ring[2 * i];
			e->n = VTIME_CALIB_RING / 2;
			e->gap_ns = e->gap_ns * 2 > span / (VTIME_CALIB_RING / 2) ? e->gap_ns * 2
										  : span / (VTIME_CALIB_RING / 2);
		}
	}
	e->ring[e->n++] = *s;
}

static void sort64(uint64_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		uint64_t x = v[i];
		unsigned j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Median slope (Q40) of the pairs (i, i + lag) for i in [from, to - lag)
 * and its uncertainty in ppb: the larger of the spread (MAD) term and the
 * sample-cost term. False if no pair is usable. */
static bool median_slope(const struct vtime_calib *e, unsigned from, unsigned to, unsigned lag, uint64_t *med_out,
			 uint64_t *unc_out)
{
	uint64_t v[VTIME_CALIB_RING], cu[VTIME_CALIB_RING], base[VTIME_CALIB_RING], med, mad, unc, cost_ppb;
	unsigned k = 0;

	for (unsigned i = from; i + lag < to; i++) {
		const struct vtime_calib_sample *a = &e->ring[i], *b = &e->ring[i + lag];
		uint64_t dr = b->ref_ns - a->ref_ns, dc = b->counter - a->counter, q;
		struct vt_u128 num = vt_shl128((struct vt_u128){ 0, dr }, Q);
		if (!vt_div128(num, dc, &q, (uint64_t *)0) || q == 0)
			continue;
		cu[k] = (a->cost_ns + b->cost_ns) / 2;
		base[k] = dr;
		v[k++] = q;
	}
	if (k == 0)
		return false;
	sort64(v, k);
	med = v[k / 2];
	for (unsigned i = 0; i < k; i++)
		v[i] = v[i] > med ? v[i] - med : med - v[i];
	sort64(v, k);
	mad = v[k / 2];
	/* sigma ~ 1.48 MAD; the median of k slopes ~ 1.25 sigma / sqrt(k) */
	unc = vt_div64(muldiv(mad * 15 / 8, NS_PER_S, med), isqrt(k));
	/* each end is off by cost/2 plus the residual noise the cost does not
	 * show (feeders on CPUs whose counters disagree), over the baseline;
	 * medians of both (one division instead of one per pair) */
	sort64(cu, k);
	sort64(base, k);
	cost_ppb = vt_div64(muldiv(cu[k / 2] + 2 * e->noise_ns, NS_PER_S, base[k / 2]), isqrt(k));
	if (cost_ppb > unc)
		unc = cost_ppb;
	*med_out = med;
	*unc_out = unc ? unc : 1;
	return true;
}

static uint64_t diff_ppb(uint64_t a, uint64_t b)
{
	return muldiv(a > b ? a - b : b - a, NS_PER_S, b);
}

/* Frequency: median of the slopes between samples half the ring apart
 * (long baselines; a bad sample moves the median little). When the older
 * and newer halves disagree beyond their uncertainty the rate moved (the
 * reference slewed, the counter drifted): the older half goes. */
static void fit(struct vtime_calib *e)
{
	uint64_t med, unc, mo, uo, mn, un;

	if (e->n >= 8 && median_slope(e, 0, e->n / 2, e->n / 4, &mo, &uo) &&
	    median_slope(e, e->n / 2, e->n, e->n / 4, &mn, &un) && diff_ppb(mn, mo) > 4 * (uo + un)) {
		unsigned drop = e->n / 2;
		for (unsigned i = drop; i < e->n; i++)
			e->ring[i - drop] = e->ring[i];
		e->n -= drop;
		st_inc(&e->st.trend_cuts);
	}
	if (e->n < 2 || !median_slope(e, 0, e->n, e->n / 2, &med, &unc))
		return;
	if (e->prior_q40) {
		/* keep the prior while it is better and the data agree with it */
		if (diff_ppb(med, e->prior_q40) <= 4 * (unc + e->prior_unc_ppb) && unc > e->prior_unc_ppb) {
			e->freq_q40 = e->prior_q40;
			e->unc_ppb = e->prior_unc_ppb;
			return;
		}
		e->prior_q40 = 0;
	}
	e->freq_q40 = med;
	e->unc_ppb = unc;
}

static void stats_after(struct vtime_calib *e, int64_t err, uint64_t cost, int64_t slew)
{
	st_inc(&e->st.samples_used);
	st_set((uint64_t *)&e->st.offset_ns, (uint64_t)err);
	st_set(&e->st.error_ns, abs64(err) + cost / 2);
	st_set(&e->st.hz, e->freq_q40 ? inv_q40(e->freq_q40) : 0);
	st_set(&e->st.freq_unc_ppb, e->unc_ppb);
	st_set((uint64_t *)&e->st.slew_ppb, (uint64_t)slew);
}

static unsigned feed_locked(struct vtime_calib *e, const struct vtime_calib_sample *s)
{
	const struct vtime_calib_config *cfg = &e->cfg;
	uint64_t cost = s->cost_ns, limit, scale, bc, bn, sc, add = 0, from_bn, rate;
	unsigned ev = VTIME_CALIB_EV_USED;
	int64_t err, slew = 0;
	bool step = false, disc = false, disc_reset = false;

	/* 1. cost filter: a slow (preempted) reference read is dropped; the
	 * floor creeps up on rejections so a lasting slowdown is accepted */
	if (cost < e->cost_floor)
		e->cost_floor = cost;
	limit = cost_limit(e);
	if (cost > limit) {
		e->cost_floor += e->cost_floor / 8 + 1;
		st_inc(&e->st.samples_rejected);
		return VTIME_CALIB_EV_REJECTED;
	}

	bc = e->base_counter;
	bn = e->base_ns;
	sc = e->scale;
	from_bn = bn;

	/* 2. ordering against the previous used sample */
	if (e->flags & F_PREV) {
		uint64_t dc = s->counter - e->prev_counter;
		int64_t dr = (int64_t)(s->ref_ns - e->prev_ref);
		if (dc == 0 || (dc >> 63)) {
			/* slightly behind: another CPU's counter or a stale sample */
			uint64_t back_ns = e->freq_q40 ? vt_shr128(vt_mul64(0 - dc, e->freq_q40), Q) : 0;
			if (dr <= 0 || !(e->flags & F_LINE) || back_ns <= cfg->discont_ns) {
				st_inc(&e->st.samples_rejected);
				return VTIME_CALIB_EV_REJECTED;
			}
			/* counter went back while the reference advanced (counter
			 * reset): restart the line at this counter, never earlier
			 * than the line at the previous sample */
			uint64_t at_prev = vt_calib_scale(bc, bn, sc, e->prev_counter);
			from_bn = (int64_t)(s->ref_ns - at_prev) > 0 ? s->ref_ns : at_prev;
			bc = s->counter;
			disc = disc_reset = true;
		} else if ((e->flags & F_LINE) && beyond_domain(sc, s->counter - bc)) {
			/* counter jumped beyond the line's domain (worth 2^63 ns or
			 * more): no continuous re-fit exists there (readers' values
			 * wrapped). Restart at this counter, as for a reset. */
			uint64_t at_prev = vt_calib_scale(bc, bn, sc, e->prev_counter);
			from_bn = (int64_t)(s->ref_ns - at_prev) > 0 ? s->ref_ns : at_prev;
			bc = s->counter;
			disc = disc_reset = true;
		}
	}

	/* 3. first line */
	if (!(e->flags & F_LINE)) {
		ring_push(e, s);
		fit(e);
		e->prev_counter = s->counter;
		e->prev_ref = s->ref_ns;
		e->flags |= F_PREV;
		if (e->freq_q40 && rate_to_scale(e->freq_q40, &scale)) {
			publish(e, s->counter, s->ref_ns, 0, scale, scale, 0, s->counter);
			e->flags |= F_LINE;
			st_inc(&e->st.refits);
			ev |= VTIME_CALIB_EV_FIRST | VTIME_CALIB_EV_REFIT;
		}
		stats_after(e, 0, cost, 0);
		return ev;
	}

	/* 4. error of the current line against this sample (> 0: line ahead) */
	err = disc ? (int64_t)(from_bn - s->ref_ns) : (int64_t)(vt_calib_scale(bc, bn, sc, s->counter) - s->ref_ns);
	/* a reference exactly 2^63 ns away is neither ahead nor behind in
	 * serial order: no step (a step of 2^63 would land where readers cannot
	 * tell forward from back), the slew bound applies */
	if (err < 0 && err != INT64_MIN && abs64(err) > cfg->step_ns)
		step = true;
	/* one sample since a restart: it is the new baseline, not a witness
	 * against this one (after a rate change the old estimate is wrong) */
	if (!disc && e->n > 1 && e->freq_q40) {
		/* residual against the fit (not the line, which may be slewing
		 * off an older error): the (counter, reference) relation broke
		 * when the newest stored sample extrapolates this badly */
		const struct vtime_calib_sample *last = &e->ring[e->n - 1];
		uint64_t dc = s->counter - last->counter, dlim = cfg->discont_ns;
		uint64_t pred = last->ref_ns + vt_shr128(vt_mul64(dc, e->freq_q40), Q);
		if (e->cost_floor < UINT64_MAX / 16 && 8 * e->cost_floor > dlim)
			dlim = 8 * e->cost_floor;
		uint64_t resid = abs64((int64_t)(pred - s->ref_ns)), own, own_unc;
		if ((dc >> 63) == 0 && resid > dlim) {
			/* The prediction used the estimate a restart kept as a prior
			 * (too few samples since to overrule it, e.g. when the noise
			 * term is still high from the residuals that led to the
			 * restart). If the samples since the restart agree with this
			 * one among themselves, the rate changed (a migration) and
			 * the prior is what is wrong: drop it and keep the samples,
			 * instead of restarting again and again with the prior. */
			if (e->prior_q40 && e->freq_q40 == e->prior_q40 &&
			    median_slope(e, 0, e->n, e->n / 2 ? e->n / 2 : 1, &own, &own_unc) &&
			    abs64((int64_t)(last->ref_ns + vt_shr128(vt_mul64(dc, own), Q) - s->ref_ns)) <= dlim) {
				e->prior_q40 = 0;
				e->freq_q40 = own;
				e->unc_ppb = own_unc;
			} else {
				disc = true;
			}
		} else if ((dc >> 63) == 0)
			e->noise_ns += (resid > e->noise_ns ? resid - e->noise_ns : 0) / 16 -
				       (resid < e->noise_ns ? e->noise_ns - resid : 0) / 16;
		/* the newest sample agrees but the oldest does not: the rate
		 * moved (reference slewed, migration): keep the newer half */
		while (!disc && e->n >= 4) {
			const struct vtime_calib_sample *old = &e->ring[0];
			dc = s->counter - old->counter;
			pred = old->ref_ns + vt_shr128(vt_mul64(dc, e->freq_q40), Q);
			if ((dc >> 63) || abs64((int64_t)(pred - s->ref_ns)) <= dlim)
				break;
			unsigned drop = e->n / 2;
			for (unsigned i = drop; i < e->n; i++)
				e->ring[i - drop] = e->ring[i];
			e->n -= drop;
			st_inc(&e->st.trend_cuts);
		}
	}
	if (disc) {
		/* the (counter, reference) relation broke: restart the baseline,
		 * keeping the old estimate as a prior */
		if (e->freq_q40 && !e->prior_q40) {
			e->prior_q40 = e->freq_q40;
			e->prior_unc_ppb = e->unc_ppb;
		}
		e->n = 0;
		e->gap_ns = 0;
		st_inc(&e->st.discontinuities);
		ev |= VTIME_CALIB_EV_DISCONT;
	}
	ring_push(e, s);
	fit(e);

	/* 5. offset correction: step forward, or slew within the bound */
	rate = e->freq_q40;
	if (step) {
		add = abs64(err); /* reported below, once a line carries it */
	} else if (e->freq_q40) {
		/* correct err over tc: rate change freq * err / tc, in Q40 units
		 * (finer than ppb), at most max_slew_ppm */
		int64_t dt = (int64_t)(s->ref_ns - e->prev_ref);
		uint64_t tc = cfg->slew_tc_ns, mag = abs64(err), cap, adj;
		if (dt > 0 && (uint64_t)dt < UINT64_MAX / 4 && 4 * (uint64_t)dt > tc)
			tc = 4 * (uint64_t)dt; /* never correct faster than the feed rate allows */
		if (mag > (1ull << 33))
			mag = 1ull << 33;
		adj = muldiv(e->freq_q40, mag, tc);
		cap = muldiv(e->freq_q40, (uint64_t)cfg->max_slew_ppm * 1000u, NS_PER_S);
		if (adj > cap)
			adj = cap;
		rate = err > 0 ? e->freq_q40 - adj : e->freq_q40 + adj;
		slew = (int64_t)muldiv(adj, NS_PER_S, e->freq_q40);
		if (err > 0)
			slew = -slew;
	}
	e->prev_counter = s->counter;
	e->prev_ref = s->ref_ns;

	if (rate && rate_to_scale(rate, &scale) &&
	    (step || bc != e->base_counter || scale != sc)) {
		publish(e, bc, from_bn, disc_reset ? 0 : e->base_frac, sc, scale, add, s->counter);
		st_inc(&e->st.refits);
		ev |= VTIME_CALIB_EV_REFIT;
		if (step) {
			st_inc(&e->st.steps);
			st_set(&e->st.last_step_ns, add);
			ev |= VTIME_CALIB_EV_STEP;
		}
	}
	/* else no line can carry the estimate (its shift would leave pvclock's
	 * range, e.g. after an absurd counter jump): nothing is published, so
	 * no step is reported either; a later sample tries again */
	stats_after(e, err, cost, slew);
	return ev;
}

int vtime_calib_feed(struct vtime_calib *e, const struct vtime_calib_sample *s, unsigned *events)
{
	uint64_t held;
	unsigned ev;

	if (!e || !s)
		return VTIME_EINVAL;
	held = vt_load64(&e->lock);
	if (held || !vt_cas64(&e->lock, &held, 1))
		return VTIME_EBUSY; /* another feeder is inside: skip */
	ev = feed_locked(e, s);
	held = 1;
	/* CAS as the unlock: a full barrier orders our state writes before the
	 * next feeder's reads (and tools like TSan see the release) */
	vt_cas64(&e->lock, &held, 0);
	if (events)
		*events = ev;
	return 0;
}

int vtime_calib_read(const struct vtime_calib *e, const struct vtime_counter *ctr, uint64_t *ns)
{
	if (!e || !ctr || !ctr->read || !ns)
		return VTIME_EINVAL;
	return vt_calib_read_inline(e, ctr->read, ctr->ctx, ns);
}

int vtime_calib_line_get(const struct vtime_calib *e, struct vtime_calib_line *out)
{
	struct vt_calib_window w = { e, (uint64_t (*)(void *))0, (void *)0, 0, 0, 0, 0 };
	int err;

	if (!e || !out)
		return VTIME_EINVAL;
	if ((err = vt_calib_read_window(&w)))
		return err;
	out->base_counter = w.bc;
	out->base_ns = w.bn;
	out->mul = (uint32_t)w.sc;
	out->shift = (int8_t)(uint8_t)(w.sc >> 32);
	out->pad[0] = out->pad[1] = out->pad[2] = 0;
	return 0;
}

uint64_t vtime_calib_line_apply(const struct vtime_calib_line *l, uint64_t counter)
{
	return vt_calib_scale(l->base_counter, l->base_ns, l->mul | (uint64_t)(uint8_t)l->shift << 32, counter);
}

int vtime_calib_stats_get(const struct vtime_calib *e, struct vtime_calib_stats *out)
{
	const uint64_t *src;
	uint64_t *dst = (uint64_t *)out;

	if (!e || !out)
		return VTIME_EINVAL;
	src = (const uint64_t *)&e->st;
	/* every field is 64 bits: copy word by word, each atomically */
	for (unsigned i = 0; i < sizeof *out / sizeof(uint64_t); i++)
		dst[i] = vt_load64(&src[i]);
	return 0;
}
