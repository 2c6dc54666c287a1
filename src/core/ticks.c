/* SPDX-License-Identifier: MIT */
/* Lost-tick engines: see include/vtime/ticks.h and docs/ticks.md.
 *
 * Model: ticks fall due on a grid (next_due, next_due + period, ...). Due
 * ticks join a backlog; an update delivers at most one of them when the
 * guest has acknowledged the previous interrupt and the rate allows it, then
 * the policy drops what it does not keep (discard: everything; delay and
 * slew: what exceeds the cap). The rate: each period is split into `rate`
 * sub-slots aligned to the grid (sub-slot j starts ceil(j * period / rate)
 * after the tick) and at most one interrupt goes out per sub-slot, so never
 * more than `rate` per period. Discard and delay use rate 1. */
#include <vtime/error.h>
#include <vtime/ticks.h>

#include "vt_math.h"
#include "vt_state.h"

/* a is at or after b on the wrapping clock. */
static inline bool vt_after_eq(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) >= 0;
}

static uint32_t vt_ticks_rate(const struct vtime_ticks *t)
{
	return t->policy == VTIME_TICKS_SLEW ? t->rate : 1u;
}

/* Length of sub-slot 0: ceil(period / rate). */
static void vt_ticks_set_sub(struct vtime_ticks *t)
{
	t->sub = vt_div64(t->period - 1, vt_ticks_rate(t)) + 1;
}

/* Moves the ticks due by now into the backlog; returns how many. */
static uint64_t vt_ticks_account(struct vtime_ticks *t, uint64_t now)
{
	uint64_t late = now - t->next_due, n, rem;

	if ((int64_t)late < 0)
		return 0;
	if (late < t->period) {
		n = 1;
		rem = late;
	} else {
		n = vt_div64(late, t->period) + 1;
		rem = late - (n - 1) * t->period;
	}
	/* late - rem + period == n * period, with no overflowing product */
	t->next_due += late - rem + t->period;
	t->due += n;
	t->backlog += n;
	return n;
}

/* Once a call sees the delivery limit passed it stays passed until the next
 * delivery sets a new one (a host clock stepping back does not bring it
 * back): next_inject is then no longer compared, so it never drifts 2^63 ns
 * into the past and reads as the future while the guest leaves an interrupt
 * unacknowledged across many calls. */
static void vt_ticks_refresh(struct vtime_ticks *t, uint64_t now)
{
	if (!t->inject_open && vt_after_eq(now, t->next_inject))
		t->inject_open = 1;
	if (t->inject_open)
		t->next_inject = now; /* tidy: the limit in force is "now" */
}

/* Start of the first sub-slot after the one holding now (now < next_due
 * after accounting). Always after now and at most next_due. */
static uint64_t vt_ticks_subslot_after(const struct vtime_ticks *t, uint64_t now)
{
	uint32_t rate = vt_ticks_rate(t);
	uint64_t start = t->next_due - t->period, off = now - start, j = 0, b = t->period;
	struct vt_u128 x;

	if (rate == 1)
		return t->next_due;
	if (off >= t->period)
		return start + t->sub; /* now is before the slot (host clock stepped back) */
	if (off < t->sub)
		return start + t->sub; /* sub-slot 0: the on-time case */
	if ((t->period >> 55) == 0) {
		/* rate <= 2^8: the products below stay under 2^64 */
		j = vt_div64(off * rate, t->period);
		b = vt_div64((j + 1) * t->period + rate - 1, rate);
		return start + b;
	}
	/* j = floor(off * rate / period) < rate: the quotient fits */
	(void)vt_div128(vt_mul64(off, rate), t->period, &j, (uint64_t *)0);
	/* b = ceil((j + 1) * period / rate) <= period */
	x = vt_mul64(j + 1, t->period);
	x.lo += rate - 1;
	if (x.lo < rate - 1)
		x.hi++;
	(void)vt_div128(x, rate, &b, (uint64_t *)0);
	return start + b;
}

int vtime_ticks_init(struct vtime_ticks *t, uint64_t period_ns, enum vtime_ticks_policy policy, uint64_t now)
{
	if (!t || period_ns == 0 || period_ns > VTIME_TICKS_PERIOD_MAX)
		return VTIME_EINVAL;
	if (policy != VTIME_TICKS_DISCARD && policy != VTIME_TICKS_DELAY && policy != VTIME_TICKS_SLEW)
		return VTIME_EINVAL;
	t->period = period_ns;
	t->next_due = now + period_ns;
	t->next_inject = now;
	t->backlog = 0;
	t->backlog_rem = 0;
	t->cap = 0;
	t->due = t->delivered = t->dropped = t->coalesced = 0;
	t->policy = (uint32_t)policy;
	t->rate = VTIME_TICKS_RATE_DEFAULT;
	t->inject_open = 1;
	t->pad = 0;
	t->reserved[0] = t->reserved[1] = t->reserved[2] = 0;
	vt_ticks_set_sub(t);
	return 0;
}

int vtime_ticks_set_catchup(struct vtime_ticks *t, uint32_t rate, uint64_t cap)
{
	if (!t || rate < 2 || rate > VTIME_TICKS_RATE_MAX)
		return VTIME_EINVAL;
	t->rate = rate;
	t->cap = cap;
	vt_ticks_set_sub(t);
	return 0;
}

/* Drops backlog the policy does not keep; returns how much. */
static uint64_t vt_ticks_trim(struct vtime_ticks *t)
{
	uint64_t keep = t->policy == VTIME_TICKS_DISCARD ? 0 : (t->cap ? t->cap : UINT64_MAX), d = 0;

	if (t->backlog > keep) {
		d = t->backlog - keep;
		t->backlog = keep;
		t->dropped += d;
	}
	if (keep == 0)
		t->backlog_rem = 0; /* discard owes nothing, not even a fraction */
	return d;
}

int vtime_ticks_update(struct vtime_ticks *t, uint64_t now, bool prev_acked, struct vtime_ticks_result *res)
{
	uint64_t n;
	bool blocked = false;

	if (!t || !res)
		return VTIME_EINVAL;
	res->deliver = 0;
	res->pad = 0;
	n = vt_ticks_account(t, now);
	vt_ticks_refresh(t, now);
	if (!prev_acked)
		t->coalesced += n;
	if (t->backlog) {
		if (prev_acked && t->inject_open) {
			res->deliver = 1;
			t->backlog--;
			t->delivered++;
			t->next_inject = vt_ticks_subslot_after(t, now);
			t->inject_open = 0;
		} else if (!prev_acked) {
			blocked = true;
		}
	}
	res->dropped = vt_ticks_trim(t);
	if (!t->backlog)
		res->next = t->next_due;
	else if (blocked && t->inject_open)
		res->next = vt_ticks_subslot_after(t, now); /* retry next sub-slot, or on ack */
	else
		res->next = t->next_inject;
	return 0;
}

int vtime_ticks_set_period(struct vtime_ticks *t, uint64_t now, uint64_t period_ns)
{
	struct vt_u128 owed;
	uint64_t q, r;

	if (!t || period_ns == 0 || period_ns > VTIME_TICKS_PERIOD_MAX)
		return VTIME_EINVAL;
	/* Convert on a copy so a failure leaves t as it was. */
	struct vtime_ticks c = *t;
	vt_ticks_account(&c, now);
	vt_ticks_refresh(&c, now);
	owed = vt_mul64(c.backlog, c.period);
	owed.lo += c.backlog_rem;
	if (owed.lo < c.backlog_rem)
		owed.hi++;
	/* the new backlog must fit, and so must the due count it joins: a
	 * wrapped due is a state the restore refuses */
	if (!vt_div128(owed, period_ns, &q, &r) || q > UINT64_MAX - (c.due - c.backlog))
		return VTIME_ERANGE;
	/* Keep due == delivered + dropped + backlog across the conversion, and
	 * coalesced <= due (a backlog converted to fewer, longer ticks lowers
	 * due below the ticks counted as coalesced: the restore would refuse
	 * such a state). */
	c.due = c.due - c.backlog + q;
	if (c.coalesced > c.due)
		c.coalesced = c.due;
	c.backlog = q;
	c.backlog_rem = r;
	c.period = period_ns;
	c.next_due = now + period_ns;
	/* Keep a pending rate limit, but no longer than one new sub-slot. */
	vt_ticks_set_sub(&c);
	if (!c.inject_open && c.next_inject - now > c.sub)
		c.next_inject = now + c.sub;
	if (c.policy != VTIME_TICKS_DISCARD)
		(void)vt_ticks_trim(&c);
	*t = c;
	return 0;
}

int vtime_ticks_counters(const struct vtime_ticks *t, struct vtime_ticks_counters *c)
{
	if (!t || !c)
		return VTIME_EINVAL;
	c->due = t->due;
	c->delivered = t->delivered;
	c->dropped = t->dropped;
	c->backlog = t->backlog;
	c->coalesced = t->coalesced;
	c->reserved[0] = c->reserved[1] = c->reserved[2] = 0;
	return 0;
}

int vtime_ticks_save(const struct vtime_ticks *t, uint64_t now, struct vtime_ticks_state *st)
{
	struct vtime_ticks c;

	if (!t || !st)
		return VTIME_EINVAL;
	c = *t;
	vt_ticks_account(&c, now);
	vt_ticks_refresh(&c, now);
	st->policy = c.policy;
	st->rate = c.rate;
	st->period = c.period;
	st->cap = c.cap;
	st->due_in = c.next_due - now;
	st->inject_in = c.inject_open ? 0 : c.next_inject - now;
	st->backlog = c.backlog;
	st->backlog_rem = c.backlog_rem;
	st->due = c.due;
	st->delivered = c.delivered;
	st->dropped = c.dropped;
	st->coalesced = c.coalesced;
	st->reserved[0] = st->reserved[1] = st->reserved[2] = st->reserved[3] = 0;
	return 0;
}

int vtime_ticks_restore(struct vtime_ticks *t, const struct vtime_ticks_state *st, uint64_t now)
{
	uint64_t sum;

	if (!t || !st)
		return VTIME_EINVAL;
	if (st->policy > VTIME_TICKS_SLEW || st->rate < 2 || st->rate > VTIME_TICKS_RATE_MAX)
		return VTIME_EPROTO;
	/* times compare by signed difference: a period of 2^63 or more would
	 * put "now + period" in the past */
	if (st->period == 0 || (st->period >> 63) || st->due_in == 0 || st->due_in > st->period ||
	    st->inject_in > st->due_in)
		return VTIME_EPROTO;
	/* due = delivered + dropped + backlog, with no sum wrapping past 2^64 */
	sum = st->delivered + st->dropped;
	if (sum < st->delivered || sum + st->backlog < sum || sum + st->backlog != st->due)
		return VTIME_EPROTO;
	if (st->backlog_rem >= st->period || st->coalesced > st->due)
		return VTIME_EPROTO;
	if (!vt_zero64(st->reserved, sizeof st->reserved / sizeof st->reserved[0]))
		return VTIME_EPROTO;
	/* The saved copy may hold ticks accounted but not yet handled (discard
	 * included): the next update applies the policy to them. A cap holds
	 * only between calls, so only the accounting at save can exceed it. */
	t->period = st->period;
	t->next_due = now + st->due_in;
	t->next_inject = now + st->inject_in;
	t->backlog = st->backlog;
	t->backlog_rem = st->backlog_rem;
	t->cap = st->cap;
	t->due = st->due;
	t->delivered = st->delivered;
	t->dropped = st->dropped;
	t->coalesced = st->coalesced;
	t->policy = st->policy;
	t->rate = st->rate;
	t->inject_open = st->inject_in == 0;
	t->pad = 0;
	t->reserved[0] = t->reserved[1] = t->reserved[2] = 0;
	vt_ticks_set_sub(t);
	return 0;
}

int vtime_ticks_state_encode(const struct vtime_ticks_state *st, void *buf, size_t len)
{
	struct vt_state_cur c;
	int err;

	if (!st || !vt_zero64(st->reserved, sizeof st->reserved / sizeof st->reserved[0]))
		return VTIME_EINVAL;
	if ((err = vt_state_begin_write(&c, buf, len, VTIME_TICKS_STATE_MAGIC, VTIME_TICKS_STATE_VERSION,
					VTIME_TICKS_STATE_BYTES)))
		return err;
	vt_state_put(&c, st->policy, 4);
	vt_state_put(&c, st->rate, 4);
	vt_state_put(&c, st->period, 8);
	vt_state_put(&c, st->cap, 8);
	vt_state_put(&c, st->due_in, 8);
	vt_state_put(&c, st->inject_in, 8);
	vt_state_put(&c, st->backlog, 8);
	vt_state_put(&c, st->backlog_rem, 8);
	vt_state_put(&c, st->due, 8);
	vt_state_put(&c, st->delivered, 8);
	vt_state_put(&c, st->dropped, 8);
	vt_state_put(&c, st->coalesced, 8);
	return vt_state_end(&c);
}

int vtime_ticks_state_decode(struct vtime_ticks_state *st, const void *buf, size_t len)
{
	struct vt_state_cur c;
	struct vtime_ticks_state d;
	uint16_t version;
	uint32_t size;
	int err;

	if (!st)
		return VTIME_EINVAL;
	if ((err = vt_state_begin_read(&c, buf, len, VTIME_TICKS_STATE_MAGIC, VTIME_TICKS_STATE_VERSION, &version,
				       &size)))
		return err;
	if (size != VTIME_TICKS_STATE_BYTES)
		return VTIME_EPROTO;
	d.policy = (uint32_t)vt_state_get(&c, 4);
	d.rate = (uint32_t)vt_state_get(&c, 4);
	d.period = vt_state_get(&c, 8);
	d.cap = vt_state_get(&c, 8);
	d.due_in = vt_state_get(&c, 8);
	d.inject_in = vt_state_get(&c, 8);
	d.backlog = vt_state_get(&c, 8);
	d.backlog_rem = vt_state_get(&c, 8);
	d.due = vt_state_get(&c, 8);
	d.delivered = vt_state_get(&c, 8);
	d.dropped = vt_state_get(&c, 8);
	d.coalesced = vt_state_get(&c, 8);
	d.reserved[0] = d.reserved[1] = d.reserved[2] = d.reserved[3] = 0;
	if ((err = vt_state_end(&c)))
		return err;
	*st = d;
	return 0;
}

/* ---- guest side ---- */

int vtime_ticks_guest_init(struct vtime_ticks_guest *g, uint64_t period, uint64_t now)
{
	if (!g || period == 0)
		return VTIME_EINVAL;
	g->period = period;
	g->last = now;
	g->ticks = 0;
	g->reserved = 0;
	return 0;
}

uint64_t vtime_ticks_guest_account(struct vtime_ticks_guest *g, uint64_t now, uint64_t *into)
{
	uint64_t d, n;

	if (!g || g->period == 0) {
		if (into)
			*into = 0;
		return 0;
	}
	d = now - g->last;
	if ((int64_t)d < 0) {
		/* Behind the boundary: count nothing, move nothing. */
		if (into)
			*into = 0;
		return 0;
	}
	if (d < g->period)
		n = 0;
	else if (d - g->period < g->period)
		n = 1;
	else
		n = vt_div64(d, g->period);
	g->last += n * g->period; /* n * period <= d: no overflow */
	g->ticks += n;
	if (into)
		*into = now - g->last;
	return n;
}

int vtime_ticks_guest_set_period(struct vtime_ticks_guest *g, uint64_t now, uint64_t period)
{
	if (!g || period == 0)
		return VTIME_EINVAL;
	(void)vtime_ticks_guest_account(g, now, (uint64_t *)0);
	g->period = period;
	return 0;
}
