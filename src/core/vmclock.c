/* SPDX-License-Identifier: MIT */
/* VMClock: the guest's seqlock reader and pure conversions, the host's
 * writer (include/vtime/vmclock.h, docs/vmclock.md). Built on vt_seq.h;
 * every shared field goes through vt_le*() (the page is little-endian) and
 * non-tearing loads and stores; the 16-bit fields, which the atomics
 * contract has no access for, as two byte accesses in little-endian order
 * (a tear between them is a torn window like any other: the seq_count
 * re-check discards it). Wide arithmetic from vt_math.h: no __int128, no
 * libgcc division. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vtime/error.h>
#include <vtime/vmclock.h>

#include "vt_atomic.h"
#include "vt_endian.h"
#include "vt_math.h"
#include "vt_port.h"
#include "vt_seq.h"
#include "vt_vmclock.h"

typedef struct vtime_vmclock_abi vt_vmclock_t;

#define VT_VMCLOCK_NSEC 1000000000ull

/* ---- shared-memory access ---- */

static inline uint16_t vt_vmclock_load16(const volatile void *p)
{
	const volatile uint8_t *b = (const volatile uint8_t *)p;
	return (uint16_t)(vt_load8(&b[0]) | ((unsigned)vt_load8(&b[1]) << 8));
}

static inline void vt_vmclock_store16(volatile void *p, uint16_t v)
{
	volatile uint8_t *b = (volatile uint8_t *)p;
	vt_store8(&b[0], (uint8_t)v);
	vt_store8(&b[1], (uint8_t)(v >> 8));
}

static inline uint64_t vt_vmclock_ld64(const volatile uint64_t *p)
{
	return vt_le64(vt_load64(p));
}

static inline void vt_vmclock_st64(volatile uint64_t *p, uint64_t v)
{
	vt_store64(p, vt_le64(v));
}

/* Everything but seq_count, in host byte order (seq_count is the caller's). */
static VT_ALWAYS_INLINE void vt_vmclock_load_all(const volatile vt_vmclock_t *c, vt_vmclock_t *o)
{
	o->magic = vt_le32(vt_load32(&c->magic));
	o->size = vt_le32(vt_load32(&c->size));
	o->version = vt_vmclock_load16(&c->version);
	o->counter_id = vt_load8(&c->counter_id);
	o->time_type = vt_load8(&c->time_type);
	o->disruption_marker = vt_vmclock_ld64(&c->disruption_marker);
	o->flags = vt_vmclock_ld64(&c->flags);
	o->pad[0] = o->pad[1] = 0;
	o->clock_status = vt_load8(&c->clock_status);
	o->leap_second_smearing_hint = vt_load8(&c->leap_second_smearing_hint);
	o->tai_offset_sec = (int16_t)vt_vmclock_load16(&c->tai_offset_sec);
	o->leap_indicator = vt_load8(&c->leap_indicator);
	o->counter_period_shift = vt_load8(&c->counter_period_shift);
	o->counter_value = vt_vmclock_ld64(&c->counter_value);
	o->counter_period_frac_sec = vt_vmclock_ld64(&c->counter_period_frac_sec);
	o->counter_period_esterror_rate_frac_sec = vt_vmclock_ld64(&c->counter_period_esterror_rate_frac_sec);
	o->counter_period_maxerror_rate_frac_sec = vt_vmclock_ld64(&c->counter_period_maxerror_rate_frac_sec);
	o->time_sec = vt_vmclock_ld64(&c->time_sec);
	o->time_frac_sec = vt_vmclock_ld64(&c->time_frac_sec);
	o->time_esterror_nanosec = vt_vmclock_ld64(&c->time_esterror_nanosec);
	o->time_maxerror_nanosec = vt_vmclock_ld64(&c->time_maxerror_nanosec);
	o->vm_generation_counter = vt_vmclock_ld64(&c->vm_generation_counter);
}

static inline int vt_vmclock_header(uint32_t magic, uint16_t version, uint32_t size, size_t region_size)
{
	if (magic != VTIME_VMCLOCK_MAGIC)
		return VTIME_ENODEV;
	if (version != VTIME_VMCLOCK_VERSION)
		return VTIME_ENOTSUP;
	if (size < VTIME_VMCLOCK_ABI_SIZE || (region_size != 0 && size > region_size))
		return VTIME_EPROTO;
	return 0;
}

static inline int vt_vmclock_live_header(const volatile vt_vmclock_t *c, size_t region_size)
{
	return vt_vmclock_header(vt_le32(vt_load32(&c->magic)), vt_vmclock_load16(&c->version),
				 vt_le32(vt_load32(&c->size)), region_size);
}

int vtime_vmclock_check(const volatile struct vtime_vmclock_abi *clk, size_t region_size)
{
	if (!clk || (region_size != 0 && region_size < VTIME_VMCLOCK_ABI_SIZE))
		return clk ? VTIME_EPROTO : VTIME_EINVAL;
	return vt_vmclock_live_header(clk, region_size);
}

/* ---- the seqlock window ---- */

struct vt_vmclock_window {
	const volatile vt_vmclock_t *clk;
	vt_vmclock_t *body;
	uint64_t (*counter)(void *);
	void *ctx;
	uint64_t value;
};

static VT_ALWAYS_INLINE uint64_t vt_vmclock_window_body(void *p)
{
	struct vt_vmclock_window *w = (struct vt_vmclock_window *)p;

	vt_vmclock_load_all(w->clk, w->body);
	w->value = w->counter ? w->counter(w->ctx) : 0;
	return w->value;
}

/* Header check on the live page (no spinning on a page that is not one),
 * the window, the header of the copy. */
static VT_ALWAYS_INLINE int vt_vmclock_copy(const volatile vt_vmclock_t *clk, uint64_t (*counter)(void *),
					    void *ctx, unsigned max_tries, vt_vmclock_t *out, uint64_t *value)
{
	struct vt_vmclock_window w = { clk, out, counter, ctx, 0 };
	uint32_t v;
	int err = vt_vmclock_live_header(clk, 0);

	if (err)
		return err;
	if ((err = vt_seq_read(&clk->seq_count, max_tries, vt_vmclock_window_body, &w, &v)))
		return err;
	out->seq_count = v;
	*value = w.value;
	return vt_vmclock_header(out->magic, out->version, out->size, 0);
}

int vtime_vmclock_snapshot(const volatile struct vtime_vmclock_abi *clk, unsigned max_tries,
			   struct vtime_vmclock_abi *out)
{
	vt_vmclock_t tmp;
	uint64_t unused;
	int err;

	if (!clk || !out)
		return VTIME_EINVAL;
	if ((err = vt_vmclock_copy(clk, (uint64_t (*)(void *))0, (void *)0, max_tries, &tmp, &unused)))
		return err;
	*out = tmp;
	return 0;
}

/* ---- pure conversions ---- */

static VT_ALWAYS_INLINE int vt_vmclock_usable(const vt_vmclock_t *s)
{
	if (s->counter_id == VTIME_VMCLOCK_COUNTER_INVALID)
		return VTIME_ENOCOUNTER;
	if (s->counter_id != VTIME_VMCLOCK_COUNTER_ARM_VCNT && s->counter_id != VTIME_VMCLOCK_COUNTER_X86_TSC)
		return VTIME_ENOTSUP;
	if (s->clock_status == VTIME_VMCLOCK_STATUS_UNRELIABLE)
		return VTIME_EUNRELIABLE;
	if (s->clock_status > VTIME_VMCLOCK_STATUS_UNRELIABLE || s->time_type > VTIME_VMCLOCK_TIME_MONOTONIC)
		return VTIME_ENOTSUP;
	if (s->counter_period_frac_sec == 0)
		return VTIME_EPROTO; /* a clock that never advances */
	return 0;
}

int vtime_vmclock_usable(const struct vtime_vmclock_abi *s)
{
	return s ? vt_vmclock_usable(s) : VTIME_EINVAL;
}

/* |counter - counter_value| as a signed difference; true when behind. */
static inline bool vt_vmclock_delta(const vt_vmclock_t *s, uint64_t counter, uint64_t *mag)
{
	uint64_t d = counter - s->counter_value;

	if ((d >> 63) == 0) {
		*mag = d;
		return false;
	}
	*mag = s->counter_value - counter; /* 1 .. 2^63 */
	return true;
}

/* The time at counter as 64.64 fixed-point seconds; false when negative or
 * beyond 2^64 s. */
static inline bool vt_vmclock_total(const vt_vmclock_t *s, uint64_t counter, struct vt_u128 *t)
{
	uint64_t mag;
	bool behind = vt_vmclock_delta(s, counter, &mag), lost;
	struct vt_u128 x = vt_shr128_sticky(vt_mul64(mag, s->counter_period_frac_sec), s->counter_period_shift, &lost);
	uint64_t lo;

	if (!behind) {
		/* time + floor(d * period / 2^shift) */
		lo = s->time_frac_sec + x.lo;
		x.hi += lo < x.lo; /* x.hi < 2^63 here: no wrap */
		t->lo = lo;
		t->hi = s->time_sec + x.hi;
		return t->hi >= x.hi;
	}
	/* time - ceil(g * period / 2^shift) */
	if (lost && ++x.lo == 0)
		x.hi++;
	if (x.hi > s->time_sec || (x.hi == s->time_sec && x.lo > s->time_frac_sec))
		return false;
	t->lo = s->time_frac_sec - x.lo;
	t->hi = s->time_sec - x.hi - (s->time_frac_sec < x.lo);
	return true;
}

static VT_ALWAYS_INLINE int vt_vmclock_time(const vt_vmclock_t *snap, uint64_t counter, uint64_t *sec,
					    uint32_t *nsec)
{
	struct vt_u128 t;

	if (!vt_vmclock_total(snap, counter, &t))
		return VTIME_ERANGE;
	*sec = t.hi;
	*nsec = (uint32_t)vt_mul64(t.lo, VT_VMCLOCK_NSEC).hi;
	return 0;
}

int vtime_vmclock_time(const struct vtime_vmclock_abi *snap, uint64_t counter, uint64_t *sec, uint32_t *nsec)
{
	if (!snap || !sec || !nsec)
		return VTIME_EINVAL;
	return vt_vmclock_time(snap, counter, sec, nsec);
}

/* ceil(mag * rate * 10^9 / 2^(64 + shift)), saturating at UINT64_MAX. */
static inline uint64_t vt_vmclock_rate_ns(uint64_t mag, uint64_t rate, unsigned shift)
{
	struct vt_u128 p = vt_mul64(mag, rate), a = vt_mul64(p.lo, VT_VMCLOCK_NSEC),
		       b = vt_mul64(p.hi, VT_VMCLOCK_NSEC), q;
	bool lost;

	/* p * 10^9 = b * 2^64 + a, as three words q2:q1:q0 = (b.hi + c):(a.hi + b.lo):a.lo;
	 * dividing by 2^64 drops q0 (rounding up if it was not 0) */
	q.lo = a.hi + b.lo;
	q.hi = b.hi + (q.lo < a.hi);
	q = vt_shr128_sticky(q, shift, &lost);
	lost = lost || a.lo != 0;
	if (q.hi != 0 || (lost && q.lo == UINT64_MAX))
		return UINT64_MAX;
	return q.lo + lost;
}

static inline uint64_t vt_vmclock_sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static inline uint64_t vt_vmclock_err(const vt_vmclock_t *s, uint64_t mag, uint64_t time_flag, uint64_t time_ns,
				      uint64_t period_flag, uint64_t rate)
{
	if (!(s->flags & time_flag))
		return VTIME_VMCLOCK_UNKNOWN;
	if (!(s->flags & period_flag))
		return time_ns;
	return vt_vmclock_sat_add(time_ns, vt_vmclock_rate_ns(mag, rate, s->counter_period_shift));
}

static VT_ALWAYS_INLINE void vt_vmclock_error(const vt_vmclock_t *s, uint64_t counter, uint64_t *maxerror_ns,
					      uint64_t *esterror_ns)
{
	uint64_t mag;

	(void)vt_vmclock_delta(s, counter, &mag);
	*maxerror_ns = vt_vmclock_err(s, mag, VTIME_VMCLOCK_FLAG_TIME_MAXERROR_VALID, s->time_maxerror_nanosec,
				      VTIME_VMCLOCK_FLAG_PERIOD_MAXERROR_VALID,
				      s->counter_period_maxerror_rate_frac_sec);
	*esterror_ns = vt_vmclock_err(s, mag, VTIME_VMCLOCK_FLAG_TIME_ESTERROR_VALID, s->time_esterror_nanosec,
				      VTIME_VMCLOCK_FLAG_PERIOD_ESTERROR_VALID,
				      s->counter_period_esterror_rate_frac_sec);
}

uint64_t vtime_vmclock_maxerror(const struct vtime_vmclock_abi *s, uint64_t counter)
{
	uint64_t me, ee;
	vt_vmclock_error(s, counter, &me, &ee);
	return me;
}

uint64_t vtime_vmclock_esterror(const struct vtime_vmclock_abi *s, uint64_t counter)
{
	uint64_t me, ee;
	vt_vmclock_error(s, counter, &me, &ee);
	return ee;
}

/* sec + off (off may be negative); false outside [0, 2^64). */
static inline bool vt_vmclock_add_off(uint64_t sec, int off, uint64_t *out)
{
	if (off >= 0) {
		*out = sec + (uint64_t)off;
		return *out >= sec;
	}
	if (sec < (uint64_t)-off)
		return false;
	*out = sec - (uint64_t)-off;
	return true;
}

static VT_ALWAYS_INLINE int vt_vmclock_convert(const vt_vmclock_t *s, uint64_t counter,
					       struct vtime_vmclock_reading *out)
{
	struct vtime_vmclock_reading r;
	bool off_ok;
	int err;

	if ((err = vt_vmclock_usable(s)) || (err = vt_vmclock_time(s, counter, &r.sec, &r.nsec)))
		return err;
	vt_vmclock_error(s, counter, &r.maxerror_ns, &r.esterror_ns);
	r.counter = counter;
	r.valid = 0;
	r.tai_sec = r.utc_sec = 0;
	off_ok = (s->flags & VTIME_VMCLOCK_FLAG_TAI_OFFSET_VALID) != 0;
	if (s->time_type == VTIME_VMCLOCK_TIME_TAI) {
		r.tai_sec = r.sec;
		r.valid |= VTIME_VMCLOCK_HAVE_TAI;
		if (off_ok && vt_vmclock_add_off(r.sec, -(int)s->tai_offset_sec, &r.utc_sec))
			r.valid |= VTIME_VMCLOCK_HAVE_UTC;
	} else if (s->time_type == VTIME_VMCLOCK_TIME_UTC) {
		r.utc_sec = r.sec;
		r.valid |= VTIME_VMCLOCK_HAVE_UTC;
		if (off_ok && vt_vmclock_add_off(r.sec, s->tai_offset_sec, &r.tai_sec))
			r.valid |= VTIME_VMCLOCK_HAVE_TAI;
	}
	if (!(r.valid & VTIME_VMCLOCK_HAVE_TAI))
		r.tai_sec = 0;
	if (!(r.valid & VTIME_VMCLOCK_HAVE_UTC))
		r.utc_sec = 0;
	r.disruption_marker = s->disruption_marker;
	r.vm_generation_counter = s->vm_generation_counter;
	r.flags = s->flags;
	r.seq = s->seq_count;
	r.tai_offset_sec = s->tai_offset_sec;
	r.time_type = s->time_type;
	r.clock_status = s->clock_status;
	r.leap_indicator = s->leap_indicator;
	r.counter_id = s->counter_id;
	for (unsigned i = 0; i < sizeof r.pad; i++)
		r.pad[i] = 0;
	*out = r;
	return 0;
}

int vtime_vmclock_convert(const struct vtime_vmclock_abi *s, uint64_t counter, struct vtime_vmclock_reading *out)
{
	if (!s || !out)
		return VTIME_EINVAL;
	return vt_vmclock_convert(s, counter, out);
}

int vtime_vmclock_read(const volatile struct vtime_vmclock_abi *clk, const struct vtime_counter *ctr,
		       unsigned max_tries, struct vtime_vmclock_reading *out)
{
	vt_vmclock_t snap;
	uint64_t value = 0;
	int err;

	if (!clk || !ctr || !ctr->read || !out)
		return VTIME_EINVAL;
	if ((err = vt_vmclock_copy(clk, ctr->read, ctr->ctx, max_tries, &snap, &value)))
		return err;
	return vt_vmclock_convert(&snap, value, out);
}

/* ---- writer ---- */

int vtime_vmclock_init(volatile struct vtime_vmclock_abi *clk, uint32_t size, uint8_t counter_id,
		       uint8_t time_type)
{
	uint32_t v;

	if (!clk || size < VTIME_VMCLOCK_ABI_SIZE || time_type > VTIME_VMCLOCK_TIME_MONOTONIC)
		return VTIME_EINVAL;
	v = vt_seq_write_begin(&clk->seq_count);
	vt_vmclock_st64(&clk->disruption_marker, 0);
	vt_vmclock_st64(&clk->flags, 0);
	vt_store8(&clk->pad[0], 0);
	vt_store8(&clk->pad[1], 0);
	vt_store8(&clk->clock_status, VTIME_VMCLOCK_STATUS_UNKNOWN);
	vt_store8(&clk->leap_second_smearing_hint, 0);
	vt_vmclock_store16(&clk->tai_offset_sec, 0);
	vt_store8(&clk->leap_indicator, 0);
	vt_store8(&clk->counter_period_shift, 0);
	vt_vmclock_st64(&clk->counter_value, 0);
	vt_vmclock_st64(&clk->counter_period_frac_sec, 0);
	vt_vmclock_st64(&clk->counter_period_esterror_rate_frac_sec, 0);
	vt_vmclock_st64(&clk->counter_period_maxerror_rate_frac_sec, 0);
	vt_vmclock_st64(&clk->time_sec, 0);
	vt_vmclock_st64(&clk->time_frac_sec, 0);
	vt_vmclock_st64(&clk->time_esterror_nanosec, 0);
	vt_vmclock_st64(&clk->time_maxerror_nanosec, 0);
	vt_vmclock_st64(&clk->vm_generation_counter, 0);
	vt_store32(&clk->size, vt_le32(size));
	vt_vmclock_store16(&clk->version, VTIME_VMCLOCK_VERSION);
	vt_store8(&clk->counter_id, counter_id);
	vt_store8(&clk->time_type, time_type);
	vt_store32(&clk->magic, vt_le32(VTIME_VMCLOCK_MAGIC));
	(void)vt_seq_write_end(&clk->seq_count, v);
	return 0;
}

/* ceil(a * b / 10^9), false beyond 64 bits. */
static inline bool vt_vmclock_mul_div_ceil(uint64_t a, uint64_t b, uint64_t *out)
{
	uint64_t q, r;

	if (!vt_div128(vt_mul64(a, b), VT_VMCLOCK_NSEC, &q, &r))
		return false;
	if (r != 0 && ++q == 0)
		return false;
	*out = q;
	return true;
}

static inline bool vt_vmclock_rate(uint64_t period, uint64_t ppb, uint64_t *rate)
{
	if (ppb == VTIME_VMCLOCK_UNKNOWN) {
		*rate = 0;
		return true;
	}
	return vt_vmclock_mul_div_ceil(period, ppb, rate);
}

int vtime_vmclock_set_period(struct vtime_vmclock_abi *body, uint64_t hz, uint64_t maxerror_ppb,
			     uint64_t esterror_ppb)
{
	struct vt_u128 one;
	uint64_t period, maxr, estr;
	unsigned shift = 0;

	if (!body || hz < 2)
		return VTIME_EINVAL;
	/* the largest shift with 2^shift < hz: then 2^(64 + shift) / hz < 2^64 */
	while (shift < 63 && (1ull << (shift + 1)) < hz)
		shift++;
	one.hi = 1ull << shift;
	one.lo = 0;
	if (!vt_div128(one, hz, &period, (uint64_t *)0))
		return VTIME_ERANGE; /* cannot happen: one.hi < hz */
	if (!vt_vmclock_rate(period, maxerror_ppb, &maxr) || !vt_vmclock_rate(period, esterror_ppb, &estr))
		return VTIME_ERANGE;
	body->counter_period_shift = (uint8_t)shift;
	body->counter_period_frac_sec = period;
	body->counter_period_maxerror_rate_frac_sec = maxr;
	body->counter_period_esterror_rate_frac_sec = estr;
	body->flags &= ~(VTIME_VMCLOCK_FLAG_PERIOD_MAXERROR_VALID | VTIME_VMCLOCK_FLAG_PERIOD_ESTERROR_VALID);
	if (maxerror_ppb != VTIME_VMCLOCK_UNKNOWN)
		body->flags |= VTIME_VMCLOCK_FLAG_PERIOD_MAXERROR_VALID;
	if (esterror_ppb != VTIME_VMCLOCK_UNKNOWN)
		body->flags |= VTIME_VMCLOCK_FLAG_PERIOD_ESTERROR_VALID;
	return 0;
}

int vtime_vmclock_set_time(struct vtime_vmclock_abi *body, uint64_t counter, uint64_t sec, uint32_t nsec,
			   uint64_t maxerror_ns, uint64_t esterror_ns)
{
	struct vt_u128 n;
	uint64_t frac, rem;

	if (!body || nsec >= VT_VMCLOCK_NSEC)
		return VTIME_EINVAL;
	/* ceil(nsec * 2^64 / 10^9): floor(frac * 10^9 / 2^64) is nsec again */
	n.hi = nsec;
	n.lo = 0;
	(void)vt_div128(n, VT_VMCLOCK_NSEC, &frac, &rem);
	frac += rem != 0; /* < 2^64 - 1.8e10: no wrap */
	body->counter_value = counter;
	body->time_sec = sec;
	body->time_frac_sec = frac;
	body->flags &= ~(VTIME_VMCLOCK_FLAG_TIME_MAXERROR_VALID | VTIME_VMCLOCK_FLAG_TIME_ESTERROR_VALID);
	body->time_maxerror_nanosec = maxerror_ns == VTIME_VMCLOCK_UNKNOWN ? 0 : maxerror_ns;
	body->time_esterror_nanosec = esterror_ns == VTIME_VMCLOCK_UNKNOWN ? 0 : esterror_ns;
	if (maxerror_ns != VTIME_VMCLOCK_UNKNOWN)
		body->flags |= VTIME_VMCLOCK_FLAG_TIME_MAXERROR_VALID;
	if (esterror_ns != VTIME_VMCLOCK_UNKNOWN)
		body->flags |= VTIME_VMCLOCK_FLAG_TIME_ESTERROR_VALID;
	return 0;
}

/* Serial order of two markers (each only ever incremented): a ahead of b. */
static inline bool vt_vmclock_ahead(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) > 0;
}

uint32_t vt_vmclock_publish_floor(volatile struct vtime_vmclock_abi *clk, const struct vtime_vmclock_abi *body,
				  unsigned events, const uint64_t *floor)
{
	const unsigned known = VTIME_VMCLOCK_EV_DISRUPTED | VTIME_VMCLOCK_EV_NEW_GENERATION;
	uint64_t marker, gen, flags = body->flags;
	uint32_t v;

	v = vt_seq_write_begin(&clk->seq_count);
	/* the markers continue from the page (one writer: no one else stores
	 * them), and so does a generation counter once offered */
	marker = vt_vmclock_ld64(&clk->disruption_marker);
	gen = vt_vmclock_ld64(&clk->vm_generation_counter);
	flags |= vt_vmclock_ld64(&clk->flags) & VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT;
	/* ... or from what the guest saw before a restore, if the page is behind */
	if (floor) {
		if (vt_vmclock_ahead(floor[0], marker))
			marker = floor[0];
		if (vt_vmclock_ahead(floor[1], gen))
			gen = floor[1];
	}
	if (events & known)
		marker++;
	if (events & VTIME_VMCLOCK_EV_NEW_GENERATION) {
		gen++;
		flags |= VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT;
	}
	vt_vmclock_st64(&clk->disruption_marker, marker);
	vt_vmclock_st64(&clk->flags, flags);
	vt_store8(&clk->pad[0], 0);
	vt_store8(&clk->pad[1], 0);
	vt_store8(&clk->clock_status, body->clock_status);
	vt_store8(&clk->leap_second_smearing_hint, body->leap_second_smearing_hint);
	vt_vmclock_store16(&clk->tai_offset_sec, (uint16_t)body->tai_offset_sec);
	vt_store8(&clk->leap_indicator, body->leap_indicator);
	vt_store8(&clk->counter_period_shift, body->counter_period_shift);
	vt_vmclock_st64(&clk->counter_value, body->counter_value);
	vt_vmclock_st64(&clk->counter_period_frac_sec, body->counter_period_frac_sec);
	vt_vmclock_st64(&clk->counter_period_esterror_rate_frac_sec, body->counter_period_esterror_rate_frac_sec);
	vt_vmclock_st64(&clk->counter_period_maxerror_rate_frac_sec, body->counter_period_maxerror_rate_frac_sec);
	vt_vmclock_st64(&clk->time_sec, body->time_sec);
	vt_vmclock_st64(&clk->time_frac_sec, body->time_frac_sec);
	vt_vmclock_st64(&clk->time_esterror_nanosec, body->time_esterror_nanosec);
	vt_vmclock_st64(&clk->time_maxerror_nanosec, body->time_maxerror_nanosec);
	vt_vmclock_st64(&clk->vm_generation_counter, gen);
	return vt_seq_write_end(&clk->seq_count, v);
}

uint32_t vtime_vmclock_publish(volatile struct vtime_vmclock_abi *clk, const struct vtime_vmclock_abi *body,
			       unsigned events)
{
	return vt_vmclock_publish_floor(clk, body, events, (const uint64_t *)0);
}
