/* SPDX-License-Identifier: MIT */
/* The ticks engine driven by a hostile schedule: any period and policy,
 * host time starting anywhere (0, just below 2^64), then a sequence of
 * updates (any gap inside the domain, i.e. < 2^63 ns), guest
 * acknowledgements, period changes, catch-up settings and save/restore
 * round trips through the byte image. Checked after every call:
 *   - due == delivered + dropped + backlog (tick conservation);
 *   - at most one interrupt per call, and only into an acknowledged line;
 *   - `next` after now, by at most one period (no storm, no sleep of ages);
 *   - discard keeps no backlog; delay and slew keep at most `cap`;
 *   - at most `rate` deliveries per grid period (1 for discard and delay);
 *   - every save restores (also after the guest ignored an interrupt for
 *     longer than 2^63 ns in total), and the restored engine then behaves
 *     exactly like the original, call for call.
 * Counts stay below 2^63 (the engine's documented lifetime: fewer than
 * 2^64 ticks fall due). */
#include <vtime/error.h>
#include <vtime/ticks.h>

#include "fuzz.h"
#include "ticks_oracle.h"

struct drive {
	struct vtime_ticks t, shadow;
	bool has_shadow;
	bool pending; /* guest: an interrupt raised and not acknowledged */
	uint64_t now;
	uint64_t grid_start; /* current grid period, as the due count (rate bound) */
	unsigned in_period;
	bool grid_known;
};

static uint32_t rate_of(const struct vtime_ticks *t)
{
	return t->policy == VTIME_TICKS_SLEW ? t->rate : 1u;
}

static void check_counts(const struct vtime_ticks *t)
{
	struct vtime_ticks_counters c;
	FZ_CHECK(vtime_ticks_counters(t, &c) == 0, "counters");
	FZ_CHECK(c.due == c.delivered + c.dropped + c.backlog, "due %llu != delivered %llu + dropped %llu + backlog %llu",
		 FZ_U(c.due), FZ_U(c.delivered), FZ_U(c.dropped), FZ_U(c.backlog));
	FZ_CHECK(c.coalesced <= c.due, "coalesced > due");
}

static void same_result(const struct vtime_ticks_result *a, const struct vtime_ticks_result *b, int ea, int eb)
{
	FZ_CHECK(ea == eb && (ea || (a->deliver == b->deliver && a->dropped == b->dropped && a->next == b->next)),
		 "the restored engine diverged: %d/%d deliver %u/%u dropped %llu/%llu next %llu/%llu", ea, eb,
		 a->deliver, b->deliver, FZ_U(a->dropped), FZ_U(b->dropped), FZ_U(a->next), FZ_U(b->next));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	static struct drive d;
	uint64_t period = fz_edge64(&f);
	enum vtime_ticks_policy pol = (enum vtime_ticks_policy)(fz_u8(&f) % 3u);
	int err;

	memset(&d, 0, sizeof d);
	d.now = fz_edge64(&f);
	if (fz_bool(&f))
		period = 1 + fz_u32(&f); /* ordinary timers too */
	err = vtime_ticks_init(&d.t, period, pol, d.now);
	FZ_TRACE("init period %llu policy %u now %llu: %d\n", FZ_U(period), pol, FZ_U(d.now), err);
	if (period == 0 || period > VTIME_TICKS_PERIOD_MAX) {
		FZ_CHECK(err == VTIME_EINVAL, "init accepted period %llu", FZ_U(period));
		return 0;
	}
	FZ_CHECK(err == 0, "init refused period %llu: %d", FZ_U(period), err);
	while (fz_left(&f)) {
		uint8_t op = fz_u8(&f);
		struct vtime_ticks_result r, rs;
		int e, es;

		if (d.t.due >= ((uint64_t)1 << 62))
			break; /* the engine's lifetime: fewer than 2^64 ticks */
		switch (op % 8u) {
		case 0: case 1: case 2: case 3: { /* timer fires (a gap inside the domain) */
			uint64_t gap = (op & 0x10u) ? fz_edge64(&f) & VTIME_TICKS_PERIOD_MAX : fz_u16(&f) * (d.t.period / 64 + 1);
			if (gap > VTIME_TICKS_PERIOD_MAX)
				gap = VTIME_TICKS_PERIOD_MAX;
			d.now += gap;
			e = vtime_ticks_update(&d.t, d.now, !d.pending, &r);
			FZ_CHECK(e == 0, "update %d", e);
			FZ_TRACE("update now %llu acked %d: deliver %u dropped %llu next %llu; due %llu backlog %llu next_due %llu "
				 "period %llu policy %u rate %u\n",
				 FZ_U(d.now), !d.pending, r.deliver, FZ_U(r.dropped), FZ_U(r.next), FZ_U(d.t.due),
				 FZ_U(d.t.backlog), FZ_U(d.t.next_due), FZ_U(d.t.period), d.t.policy, d.t.rate);
			if (d.has_shadow) {
				es = vtime_ticks_update(&d.shadow, d.now, !d.pending, &rs);
				same_result(&r, &rs, e, es);
			}
			FZ_CHECK(r.deliver <= 1, "deliver %u", r.deliver);
			FZ_CHECK(!(d.pending && r.deliver), "an interrupt into an unacknowledged one");
			FZ_CHECK(fz_sdiff(r.next, d.now) > 0 && r.next - d.now <= d.t.period,
				 "next %llu for now %llu (period %llu)", FZ_U(r.next), FZ_U(d.now), FZ_U(d.t.period));
			if (d.t.policy == VTIME_TICKS_DISCARD)
				FZ_CHECK(d.t.backlog == 0, "discard kept a backlog of %llu", FZ_U(d.t.backlog));
			else if (d.t.cap)
				FZ_CHECK(d.t.backlog <= d.t.cap, "backlog %llu over the cap %llu", FZ_U(d.t.backlog), FZ_U(d.t.cap));
			if (r.deliver) {
				/* the grid period holding now, named by the ticks due so far
				 * (its start time cannot name it: a clock that went round
				 * 2^64 in a few calls comes back to the same phase) */
				uint64_t start = d.t.due;
				d.pending = true;
				if (d.grid_known && start == d.grid_start) {
					d.in_period++;
					FZ_CHECK(d.in_period <= rate_of(&d.t), "%u deliveries in one period at rate %u", d.in_period,
						 rate_of(&d.t));
				} else {
					d.grid_start = start;
					d.in_period = 1;
					d.grid_known = true;
				}
			}
			break;
		}
		case 4: /* the guest acknowledges */
			FZ_TRACE("ack\n");
			d.pending = false;
			break;
		case 5: { /* the guest reprograms the timer */
			uint64_t p = (op & 0x10u) ? fz_edge64(&f) : 1 + fz_u32(&f);
			struct vtime_ticks keep = d.t;
			e = vtime_ticks_set_period(&d.t, d.now, p);
			FZ_TRACE("set_period %llu at %llu: %d\n", FZ_U(p), FZ_U(d.now), e);
			if (p == 0 || p > VTIME_TICKS_PERIOD_MAX)
				FZ_CHECK(e == VTIME_EINVAL, "set_period accepted %llu", FZ_U(p));
			else
				FZ_CHECK(e == 0 || e == VTIME_ERANGE, "set_period(%llu) = %d", FZ_U(p), e);
			if (e)
				FZ_CHECK(memcmp(&keep, &d.t, sizeof keep) == 0, "a failed set_period changed the engine");
			if (e == 0) {
				/* the backlog's time in ticks of the new period must keep
				 * the due count inside the engine's lifetime (fewer than
				 * 2^64 ticks due; the harness keeps 2^63): 584 years owed
				 * at 1 ns ticks are beyond it; a conversion that would wrap
				 * the count is refused with VTIME_ERANGE) */
				struct vtime_ticks_counters was, c;
				FZ_CHECK(vtime_ticks_counters(&keep, &was) == 0 && vtime_ticks_counters(&d.t, &c) == 0,
					 "counters");
				FZ_CHECK(c.due >= was.due - was.backlog, "set_period wrapped the due count");
				if (c.due >= ((uint64_t)1 << 63)) {
					FZ_TRACE("  due %llu: beyond the engine's lifetime, scenario ends\n", FZ_U(c.due));
					return 0;
				}
			}
			if (d.has_shadow) {
				es = vtime_ticks_set_period(&d.shadow, d.now, p);
				FZ_CHECK(es == e, "shadow set_period %d vs %d", es, e);
			}
			d.grid_known = false;
			break;
		}
		case 6: { /* catch-up settings */
			uint32_t rate = fz_u16(&f) % 300u;
			uint64_t cap = (op & 0x10u) ? fz_edge64(&f) : fz_u8(&f);
			e = vtime_ticks_set_catchup(&d.t, rate, cap);
			FZ_TRACE("set_catchup rate %u cap %llu: %d\n", rate, FZ_U(cap), e);
			FZ_CHECK(e == ((rate >= 2 && rate <= VTIME_TICKS_RATE_MAX) ? 0 : VTIME_EINVAL), "set_catchup %d", e);
			if (d.has_shadow)
				FZ_CHECK(vtime_ticks_set_catchup(&d.shadow, rate, cap) == e, "shadow set_catchup");
			d.grid_known = false;
			break;
		}
		default: { /* snapshot: save, through the byte image, restore */
			struct vtime_ticks_state st, back;
			uint8_t img[VTIME_TICKS_STATE_BYTES];
			uint64_t later = d.now + fz_u16(&f); /* restored a little later on another host clock */
			uint64_t shift = fz_edge64(&f);
			FZ_CHECK(vtime_ticks_save(&d.t, d.now, &st) == 0, "save");
			FZ_TRACE("save/restore at %llu: policy %u rate %u period %llu cap %llu due_in %llu inject_in %llu backlog "
				 "%llu rem %llu due %llu delivered %llu dropped %llu coalesced %llu\n",
				 FZ_U(d.now), st.policy, st.rate, FZ_U(st.period), FZ_U(st.cap), FZ_U(st.due_in),
				 FZ_U(st.inject_in), FZ_U(st.backlog), FZ_U(st.backlog_rem), FZ_U(st.due),
				 FZ_U(st.delivered), FZ_U(st.dropped), FZ_U(st.coalesced));
			FZ_CHECK(ticks_state_valid(&st), "save produced a state the restore must refuse");
			FZ_CHECK(vtime_ticks_state_encode(&st, img, sizeof img) == 0, "encode");
			FZ_CHECK(vtime_ticks_state_decode(&back, img, sizeof img) == 0 && ticks_state_equal(&st, &back),
				 "image round trip");
			(void)later;
			/* the restored copy lives on a clock offset by `shift` */
			e = vtime_ticks_restore(&d.shadow, &back, d.now + shift);
			FZ_CHECK(e == 0, "restore refused (%d) the state save produced", e);
			/* to compare call for call, restore again on the same clock */
			FZ_CHECK(vtime_ticks_restore(&d.shadow, &back, d.now) == 0, "restore");
			d.has_shadow = true;
			break;
		}
		}
		check_counts(&d.t);
		if (d.has_shadow)
			check_counts(&d.shadow);
	}
	return 0;
}
