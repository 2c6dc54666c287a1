/* SPDX-License-Identifier: MIT */
/* Lost-tick engines: deterministic scenarios with hand-computed counts, and
 * properties over seeded random schedules. Every scenario runs from host
 * time 0 and from 7.5 ms below 2^64 (the clock wraps mid-run). */
#include <stdio.h>
#include <string.h>
#include <vtime/error.h>
#include <vtime/ticks.h>

#include "ticks_sim.h"

static const uint64_t bases[] = { 0, (uint64_t)0 - 7500000u };
#define NBASES (sizeof bases / sizeof bases[0])

static void expect(const struct sim *s, uint64_t due, uint64_t delivered, uint64_t dropped, uint64_t backlog)
{
	struct vtime_ticks_counters c = sim_counters(s);
	CU_ASSERT_EQUAL(c.due, due);
	CU_ASSERT_EQUAL(c.delivered, delivered);
	CU_ASSERT_EQUAL(c.dropped, dropped);
	CU_ASSERT_EQUAL(c.backlog, backlog);
	CU_ASSERT(s->sane);
	if (c.due != due || c.delivered != delivered || c.dropped != dropped || c.backlog != backlog)
		printf("\n  got due %llu delivered %llu dropped %llu backlog %llu", (unsigned long long)c.due,
		       (unsigned long long)c.delivered, (unsigned long long)c.dropped, (unsigned long long)c.backlog);
}

static void expect_times(const struct sim *s, const uint64_t *want, size_t n)
{
	CU_ASSERT_EQUAL(s->ndel, n);
	for (size_t i = 0; i < n && i < s->ndel; i++) {
		CU_ASSERT_EQUAL(s->del[i], want[i]);
		if (s->del[i] != want[i])
			printf("\n  delivery %zu at %llu ns, want %llu", i, (unsigned long long)s->del[i],
			       (unsigned long long)want[i]);
	}
}

/* No stall, 1 ms period, run to 10 ms: ticks fall due at 1..10 ms and every
 * policy delivers each one on time: due 10, delivered 10. */
static void test_no_stall(void)
{
	const uint64_t want[] = { 1 * MS, 2 * MS, 3 * MS, 4 * MS, 5 * MS, 6 * MS, 7 * MS, 8 * MS, 9 * MS, 10 * MS };
	for (size_t b = 0; b < NBASES; b++)
		for (int pol = VTIME_TICKS_DISCARD; pol <= VTIME_TICKS_SLEW; pol++) {
			struct sim s;
			sim_init(&s, bases[b], MS, (enum vtime_ticks_policy)pol);
			sim_run(&s, 10 * MS);
			expect(&s, 10, 10, 0, 0);
			expect_times(&s, want, 10);
			CU_ASSERT_EQUAL(sim_counters(&s).coalesced, 0);
		}
}

static const struct stall long_stall[] = { { 2500 * US, 12300 * US } };

/* One long stall [2.5, 12.3) ms, 1 ms period, run to 20 ms. Calls at 1, 2;
 * the call due at 3 happens at 12.3, when ticks 3..12 (10) are due.
 * discard: deliver 1, drop 9; then 13..20 on time. delivered 2+1+8 = 11.
 * delay: backlog 10 -> 9; each later period adds one and delivers one, so
 *   the backlog stays 9: delivered 11, backlog 9. */
static void test_long_stall_discard_delay(void)
{
	const uint64_t want[] = { 1 * MS, 2 * MS, 12300 * US, 13 * MS, 14 * MS, 15 * MS, 16 * MS,
				  17 * MS, 18 * MS, 19 * MS, 20 * MS };
	for (size_t b = 0; b < NBASES; b++) {
		struct sim s;
		sim_init(&s, bases[b], MS, VTIME_TICKS_DISCARD);
		s.stalls = long_stall;
		s.nstalls = 1;
		sim_run(&s, 20 * MS);
		expect(&s, 20, 11, 9, 0);
		expect_times(&s, want, 11);
		CU_ASSERT_EQUAL(s.max_backlog, 0);

		sim_init(&s, bases[b], MS, VTIME_TICKS_DELAY);
		s.stalls = long_stall;
		s.nstalls = 1;
		sim_run(&s, 20 * MS);
		expect(&s, 20, 11, 0, 9);
		expect_times(&s, want, 11);
	}
}

/* Same stall, slew rate 4: sub-slots of 0.25 ms. At 12.3 (sub-slot 1 of
 * [12, 13)) backlog 10 -> 9, next sub-slot 12.5. Then one delivery per
 * sub-slot; each whole ms adds a tick: 12.5:8 12.75:7 13:(8)7 13.25:6
 * 13.5:5 13.75:4 14:(5)4 14.25:3 14.5:2 14.75:1 15:(2)1 15.25:0. Then
 * 16..20 on time: due 20, delivered 20.
 * With cap 5: 12.3 leaves 9, capped to 5 (4 dropped); 12.5:4 12.75:3
 * 13:(4)3 13.25:2 13.5:1 13.75:0; delivered 16, dropped 4. */
static void test_long_stall_slew(void)
{
	const uint64_t want[] = { 1 * MS, 2 * MS, 12300 * US, 12500 * US, 12750 * US, 13 * MS, 13250 * US,
				  13500 * US, 13750 * US, 14 * MS, 14250 * US, 14500 * US, 14750 * US, 15 * MS,
				  15250 * US, 16 * MS, 17 * MS, 18 * MS, 19 * MS, 20 * MS };
	const uint64_t want_cap[] = { 1 * MS, 2 * MS, 12300 * US, 12500 * US, 12750 * US, 13 * MS, 13250 * US,
				      13500 * US, 13750 * US, 14 * MS, 15 * MS, 16 * MS, 17 * MS, 18 * MS,
				      19 * MS, 20 * MS };
	for (size_t b = 0; b < NBASES; b++) {
		struct sim s;
		sim_init(&s, bases[b], MS, VTIME_TICKS_SLEW);
		s.stalls = long_stall;
		s.nstalls = 1;
		sim_run(&s, 15 * MS);
		CU_ASSERT_EQUAL(sim_counters(&s).backlog, 1); /* 15.25 not yet */
		sim_run(&s, 20 * MS);
		expect(&s, 20, 20, 0, 0);
		expect_times(&s, want, 20);

		sim_init(&s, bases[b], MS, VTIME_TICKS_SLEW);
		CU_ASSERT_EQUAL(vtime_ticks_set_catchup(&s.t, 4, 5), 0);
		s.stalls = long_stall;
		s.nstalls = 1;
		sim_run(&s, 20 * MS);
		expect(&s, 20, 16, 4, 0);
		expect_times(&s, want_cap, 16);
		CU_ASSERT_EQUAL(s.max_backlog, 5);
	}
}

/* Slew rate 2 (sub-slots of 0.5 ms): 12.3: 10 -> 9, next 12.5: 8; then per
 * ms: tick at k adds one and delivers one, k.5 delivers one, so after the
 * delivery at k the backlog is 8 - (k - 13): 1 at 20, 0 at 20.5, and the
 * tick at 21 goes out on time. */
static void test_long_stall_slew_rate2(void)
{
	for (size_t b = 0; b < NBASES; b++) {
		struct sim s;
		sim_init(&s, bases[b], MS, VTIME_TICKS_SLEW);
		CU_ASSERT_EQUAL(vtime_ticks_set_catchup(&s.t, 2, 0), 0);
		s.stalls = long_stall;
		s.nstalls = 1;
		sim_run(&s, 20 * MS);
		expect(&s, 20, 19, 0, 1);
		sim_run(&s, 21 * MS);
		expect(&s, 21, 21, 0, 0);
		CU_ASSERT_EQUAL(s.del[19], 20500 * US);
		CU_ASSERT_EQUAL(s.del[20], 21 * MS);
	}
}

/* Four stalls of 2.5 ms, run to 25 ms: each ([3.2, 5.7) and every 5 ms
 * after) makes two ticks (e.g. 4 and 5) due at once at x.7.
 * discard: deliver one, drop one, per stall: delivered 21, dropped 4.
 * delay: the backlog grows by one per stall and never shrinks: delivered
 *   21, backlog 4.
 * slew 4: x.7 sits in sub-slot 2 of its ms, so the second goes at x.75:
 *   nothing lost, delivered 25. */
static void test_many_short_stalls(void)
{
	static const struct stall st[] = { { 3200 * US, 5700 * US },
					   { 8200 * US, 10700 * US },
					   { 13200 * US, 15700 * US },
					   { 18200 * US, 20700 * US } };
	for (size_t b = 0; b < NBASES; b++) {
		struct sim s;
		sim_init(&s, bases[b], MS, VTIME_TICKS_DISCARD);
		s.stalls = st;
		s.nstalls = 4;
		sim_run(&s, 25 * MS);
		expect(&s, 25, 21, 4, 0);

		sim_init(&s, bases[b], MS, VTIME_TICKS_DELAY);
		s.stalls = st;
		s.nstalls = 4;
		sim_run(&s, 25 * MS);
		expect(&s, 25, 21, 0, 4);

		sim_init(&s, bases[b], MS, VTIME_TICKS_SLEW);
		s.stalls = st;
		s.nstalls = 4;
		sim_run(&s, 25 * MS);
		expect(&s, 25, 25, 0, 0);
		CU_ASSERT_EQUAL(s.del[3], 5700 * US);
		CU_ASSERT_EQUAL(s.del[4], 5750 * US);
		CU_ASSERT_EQUAL(s.del[5], 6 * MS);
	}
}

/* Stall [2.5, 12.3) then, at 12.4, the guest reprograms 1 ms -> 0.5 ms.
 * At 12.4 the old grid holds 12 ticks. The backlog converts keeping the
 * owed time: 9 x 1 ms = 18 x 0.5 ms; due becomes 12 - 9 + 18 = 21. The new
 * grid starts at 12.4: ticks at 12.9, 13.4, ..., 19.9 (15 by 20 ms).
 * slew 4 (sub-slots 0.125 ms from 12.4): 12.5 (pending from before) then
 *   every 0.125 from 12.525; each new tick nets -3; 0 at 15.15. By 15.15
 *   due 21 + 5 = 26 = delivered. At 20: due 36, delivered 36.
 * delay: 9 left at 12.3 -> 18; one in, one out per period: delivered
 *   3 + 15 = 18, backlog 18, due 36.
 * discard: nothing owed at the change: due 12 + 15 = 27, delivered 18,
 *   dropped 9. */
static void test_period_change_backlog(void)
{
	static const struct {
		enum vtime_ticks_policy pol;
		uint64_t due, delivered, dropped, backlog;
	} want[] = {
		{ VTIME_TICKS_SLEW, 36, 36, 0, 0 },
		{ VTIME_TICKS_DELAY, 36, 18, 0, 18 },
		{ VTIME_TICKS_DISCARD, 27, 18, 9, 0 },
	};
	for (size_t b = 0; b < NBASES; b++)
		for (size_t w = 0; w < 3; w++) {
			struct sim s;
			sim_init(&s, bases[b], MS, want[w].pol);
			s.stalls = long_stall;
			s.nstalls = 1;
			sim_run(&s, 12400 * US);
			CU_ASSERT_EQUAL(vtime_ticks_set_period(&s.t, bases[b] + 12400 * US, 500 * US), 0);
			if (want[w].pol == VTIME_TICKS_SLEW) {
				CU_ASSERT_EQUAL(sim_counters(&s).backlog, 18);
				CU_ASSERT_EQUAL(sim_counters(&s).due, 21);
			}
			sim_call(&s, 12400 * US); /* the VMM re-reads the deadline */
			sim_run(&s, 20 * MS);
			expect(&s, want[w].due, want[w].delivered, want[w].dropped, want[w].backlog);
			if (want[w].pol == VTIME_TICKS_SLEW) {
				CU_ASSERT_EQUAL(sim_delivered_by(&s, 15150 * US), 26);
				CU_ASSERT_EQUAL(sim_delivered_by(&s, 15149 * US), 25);
			}
		}
}

/* Ack latency: the interrupt raised at 1 ms is acknowledged only at 3.6. */
static uint64_t slow_first_ack(void *user, uint64_t when)
{
	(void)user;
	return when == 1 * MS ? 2600 * US : 0;
}

/* Ticks 2 and 3 fall due while interrupt 1 is pending: coalesced 2.
 * slew 4: both kept; the VMM calls at the ack (3.6): deliver, next sub-slot
 *   3.75: deliver; 4 on time. due 4 delivered 4.
 * delay: kept; 3.6 delivers one, 4 adds one and delivers one: delivered 3,
 *   backlog 1.
 * discard: both dropped; 4 on time: delivered 2, dropped 2. */
static void test_unacked_coalesce(void)
{
	for (size_t b = 0; b < NBASES; b++) {
		struct sim s;
		const uint64_t w_slew[] = { 1 * MS, 3600 * US, 3750 * US, 4 * MS };
		const uint64_t w_delay[] = { 1 * MS, 3600 * US, 4 * MS };
		const uint64_t w_disc[] = { 1 * MS, 4 * MS };

		sim_init(&s, bases[b], MS, VTIME_TICKS_SLEW);
		s.ack_latency = slow_first_ack;
		sim_run(&s, 4 * MS);
		expect(&s, 4, 4, 0, 0);
		expect_times(&s, w_slew, 4);
		CU_ASSERT_EQUAL(sim_counters(&s).coalesced, 2);

		sim_init(&s, bases[b], MS, VTIME_TICKS_DELAY);
		s.ack_latency = slow_first_ack;
		sim_run(&s, 4 * MS);
		expect(&s, 4, 3, 0, 1);
		expect_times(&s, w_delay, 3);
		CU_ASSERT_EQUAL(sim_counters(&s).coalesced, 2);

		sim_init(&s, bases[b], MS, VTIME_TICKS_DISCARD);
		s.ack_latency = slow_first_ack;
		sim_run(&s, 4 * MS);
		expect(&s, 4, 2, 2, 0);
		expect_times(&s, w_disc, 2);
		CU_ASSERT_EQUAL(sim_counters(&s).coalesced, 2);
	}
}

/* Save mid-backlog at 12.6 (slew: due 12, delivered 4 at 1, 2, 12.3, 12.5;
 * backlog 8; next tick 0.4 ms away, next delivery 0.15 ms away), encode,
 * decode, restore onto a host clock 1 hour later (downtime is not counted)
 * and run to 20: the deliveries are those of the uninterrupted run, shifted
 * by the downtime; due 20, delivered 20. Delay: backlog 9 survives:
 * delivered 11, backlog 9. */
static void test_save_restore_mid_backlog(void)
{
	static const enum vtime_ticks_policy pols[] = { VTIME_TICKS_SLEW, VTIME_TICKS_DELAY };
	for (size_t b = 0; b < NBASES; b++)
		for (size_t p = 0; p < 2; p++) {
			struct sim ref, a, r;
			struct vtime_ticks_state st, st2;
			uint8_t img[VTIME_TICKS_STATE_BYTES];
			uint64_t base2 = bases[NBASES - 1 - b] + 3600ull * 1000 * MS;

			sim_init(&ref, bases[b], MS, pols[p]);
			ref.stalls = long_stall;
			ref.nstalls = 1;
			sim_run(&ref, 20 * MS);

			sim_init(&a, bases[b], MS, pols[p]);
			a.stalls = long_stall;
			a.nstalls = 1;
			sim_run(&a, 12600 * US);
			CU_ASSERT_EQUAL(vtime_ticks_save(&a.t, bases[b] + 12600 * US, &st), 0);
			CU_ASSERT_EQUAL(st.due, 12);
			CU_ASSERT_EQUAL(st.due_in, 400 * US);
			if (pols[p] == VTIME_TICKS_SLEW) {
				CU_ASSERT_EQUAL(st.delivered, 4);
				CU_ASSERT_EQUAL(st.backlog, 8);
				CU_ASSERT_EQUAL(st.inject_in, 150 * US);
			} else {
				CU_ASSERT_EQUAL(st.delivered, 3);
				CU_ASSERT_EQUAL(st.backlog, 9);
				CU_ASSERT_EQUAL(st.inject_in, 400 * US);
			}
			CU_ASSERT_EQUAL(vtime_ticks_state_encode(&st, img, sizeof img), 0);
			memset(&st2, 0xa5, sizeof st2);
			CU_ASSERT_EQUAL(vtime_ticks_state_decode(&st2, img, sizeof img), 0);
			CU_ASSERT_EQUAL(memcmp(&st, &st2, sizeof st), 0);

			/* r's relative clock continues at 12.6 on the new host clock */
			sim_init(&r, base2, MS, pols[p]);
			CU_ASSERT_EQUAL(vtime_ticks_restore(&r.t, &st2, base2 + 12600 * US), 0);
			r.ndel = (size_t)st2.delivered;
			memcpy(r.del, a.del, sizeof(uint64_t) * a.ndel);
			r.last = 12600 * US;
			r.next = 12600 * US + (st2.backlog ? st2.inject_in : st2.due_in);
			sim_run(&r, 20 * MS);
			expect(&r, ref.t.due, ref.t.delivered, ref.t.dropped, ref.t.backlog);
			expect_times(&r, ref.del, ref.ndel);
			if (pols[p] == VTIME_TICKS_SLEW)
				expect(&r, 20, 20, 0, 0);
			else
				expect(&r, 20, 11, 0, 9);
		}
}

/* Discard, VM paused mid-stall: last update at 2, save at 12.3 with ticks
 * 3..12 due but unhandled: they travel in the backlog (10) and the first
 * update after restore delivers one and drops nine, as without the save. */
static void test_save_restore_unhandled(void)
{
	for (size_t b = 0; b < NBASES; b++) {
		struct sim a, r;
		struct vtime_ticks_state st;
		sim_init(&a, bases[b], MS, VTIME_TICKS_DISCARD);
		sim_run(&a, 2 * MS);
		CU_ASSERT_EQUAL(vtime_ticks_save(&a.t, bases[b] + 12300 * US, &st), 0);
		CU_ASSERT_EQUAL(a.t.backlog, 0); /* save does not touch the engine */
		CU_ASSERT_EQUAL(st.backlog, 10);
		CU_ASSERT_EQUAL(st.due, 12);
		CU_ASSERT_EQUAL(st.due_in, 700 * US);
		sim_init(&r, bases[b] + 5 * MS, MS, VTIME_TICKS_DISCARD);
		CU_ASSERT_EQUAL(vtime_ticks_restore(&r.t, &st, bases[b] + 5 * MS + 12300 * US), 0);
		r.ndel = 2;
		r.next = 12300 * US;
		sim_run(&r, 20 * MS);
		expect(&r, 20, 11, 9, 0);
	}
}

static void test_restore_rejects(void)
{
	struct vtime_ticks t, keep;
	struct vtime_ticks_state st, bad;

	CU_ASSERT_EQUAL(vtime_ticks_init(&t, MS, VTIME_TICKS_SLEW, 0), 0);
	CU_ASSERT_EQUAL(vtime_ticks_save(&t, 0, &st), 0);
	keep = t;
	bad = st;
	bad.policy = 3;
	CU_ASSERT_EQUAL(vtime_ticks_restore(&t, &bad, 5), VTIME_EPROTO);
	bad = st;
	bad.rate = 1;
	CU_ASSERT_EQUAL(vtime_ticks_restore(&t, &bad, 5), VTIME_EPROTO);
	bad = st;
	bad.period = 0;
	CU_ASSERT_EQUAL(vtime_ticks_restore(&t, &bad, 5), VTIME_EPROTO);
	bad = st;
	bad.period = bad.due_in = 1ull << 63; /* now + period would lie in the past */
	CU_ASSERT_EQUAL(vtime_ticks_restore(&t, &bad, 5), VTIME_EPROTO);
	bad = st;
	bad.due_in = MS + 1;
	CU_ASSERT_EQUAL(vtime_ticks_restore(&t, &bad, 5), VTIME_EPROTO);
	bad = st;
	bad.inject_in = bad.due_in + 1;
	CU_ASSERT_EQUAL(vtime_ticks_restore(&t, &bad, 5), VTIME_EPROTO);
	bad = st;
	bad.backlog_rem = MS;
	CU_ASSERT_EQUAL(vtime_ticks_restore(&t, &bad, 5), VTIME_EPROTO);
	bad = st;
	bad.backlog = 3; /* invents ticks: due no longer adds up */
	CU_ASSERT_EQUAL(vtime_ticks_restore(&t, &bad, 5), VTIME_EPROTO);
	bad = st;
	/* adds up only modulo 2^64: 6 + 0 + (2^64 - 1) = 5 */
	bad.due = 5;
	bad.delivered = 6;
	bad.backlog = UINT64_MAX;
	CU_ASSERT_EQUAL(vtime_ticks_restore(&t, &bad, 5), VTIME_EPROTO);
	bad = st;
	bad.coalesced = bad.due + 1;
	CU_ASSERT_EQUAL(vtime_ticks_restore(&t, &bad, 5), VTIME_EPROTO);
	CU_ASSERT_EQUAL(memcmp(&t, &keep, sizeof t), 0);
	CU_ASSERT_EQUAL(vtime_ticks_restore(&t, NULL, 5), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_ticks_restore(&t, &st, 5), 0);
}

/* Periods of 2^63 ns or more are refused everywhere (init, set_period,
 * restore): times compare by signed difference, so "now + period" would lie
 * in the past and every update at the same time would deliver (an interrupt
 * storm for a VMM that re-arms at `next`). The longest period accepted,
 * 2^63 - 1, still gives a `next` after now, and a save/restore with no time
 * passing adds no tick. From 0 and from just below 2^64. */
static void test_period_domain(void)
{
	static const uint64_t bad_periods[] = { (uint64_t)1 << 63, UINT64_MAX - 76, UINT64_MAX };
	for (size_t b = 0; b < NBASES; b++) {
		uint64_t base = bases[b];
		struct vtime_ticks t, keep;
		struct vtime_ticks_result r;
		struct vtime_ticks_state st;

		for (size_t i = 0; i < sizeof bad_periods / sizeof bad_periods[0]; i++) {
			CU_ASSERT_EQUAL(vtime_ticks_init(&t, bad_periods[i], VTIME_TICKS_SLEW, base), VTIME_EINVAL);
			CU_ASSERT_EQUAL(vtime_ticks_init(&t, MS, VTIME_TICKS_SLEW, base), 0);
			keep = t;
			CU_ASSERT_EQUAL(vtime_ticks_set_period(&t, base + MS / 2, bad_periods[i]), VTIME_EINVAL);
			CU_ASSERT_EQUAL(memcmp(&t, &keep, sizeof t), 0);
		}
		CU_ASSERT_EQUAL(vtime_ticks_init(&t, VTIME_TICKS_PERIOD_MAX, VTIME_TICKS_SLEW, base), 0);
		for (int k = 0; k < 3; k++) {
			CU_ASSERT_EQUAL(vtime_ticks_update(&t, base, true, &r), 0);
			CU_ASSERT_EQUAL(r.deliver, 0);
			CU_ASSERT_EQUAL(r.next, base + VTIME_TICKS_PERIOD_MAX);
			CU_ASSERT((int64_t)(r.next - base) > 0);
			CU_ASSERT_EQUAL(vtime_ticks_save(&t, base, &st), 0);
			CU_ASSERT_EQUAL(vtime_ticks_restore(&t, &st, base), 0);
			CU_ASSERT_EQUAL(t.due, 0); /* no tick invented by the round trip */
		}
		/* the tick at 2^63 - 1 ns: one delivery, then the next period */
		CU_ASSERT_EQUAL(vtime_ticks_update(&t, base + VTIME_TICKS_PERIOD_MAX, true, &r), 0);
		CU_ASSERT_EQUAL(r.deliver, 1);
		CU_ASSERT_EQUAL(t.due, 1);
		CU_ASSERT((int64_t)(r.next - (base + VTIME_TICKS_PERIOD_MAX)) > 0);
		/* set_period to the longest period from a 1 ms timer */
		CU_ASSERT_EQUAL(vtime_ticks_init(&t, MS, VTIME_TICKS_DELAY, base), 0);
		CU_ASSERT_EQUAL(vtime_ticks_set_period(&t, base, VTIME_TICKS_PERIOD_MAX), 0);
		CU_ASSERT_EQUAL(vtime_ticks_update(&t, base + 1, true, &r), 0);
		CU_ASSERT_EQUAL(r.deliver, 0);
		CU_ASSERT_EQUAL(r.next, base + VTIME_TICKS_PERIOD_MAX);
	}
}

/* A guest that never acknowledges: the delivery limit does not age. Calls
 * come 2^62 ns apart (inside the domain) for more than 2^63 ns in total
 * after the last delivery; every `next` stays within one period after now,
 * every save restores, and the first acknowledged update delivers at once.
 * (Before: the limit kept the time of the last delivery, read as the future
 * once 2^63 ns had passed, and the save was refused on restore.) */
static void test_unacked_never_ages(void)
{
	for (size_t b = 0; b < NBASES; b++) {
		uint64_t base = bases[b], now = base + MS;
		struct vtime_ticks t, t2;
		struct vtime_ticks_result r;
		struct vtime_ticks_state st;

		CU_ASSERT_EQUAL(vtime_ticks_init(&t, MS, VTIME_TICKS_SLEW, base), 0);
		CU_ASSERT_EQUAL(vtime_ticks_update(&t, now, true, &r), 0);
		CU_ASSERT_EQUAL(r.deliver, 1);
		for (int k = 0; k < 5; k++) {
			now += (uint64_t)1 << 62;
			CU_ASSERT_EQUAL(vtime_ticks_update(&t, now, false, &r), 0);
			CU_ASSERT_EQUAL(r.deliver, 0);
			CU_ASSERT((int64_t)(r.next - now) > 0 && r.next - now <= MS);
			CU_ASSERT_EQUAL(t.due, t.delivered + t.dropped + t.backlog);
			CU_ASSERT_EQUAL(vtime_ticks_save(&t, now, &st), 0);
			CU_ASSERT(st.inject_in <= st.due_in);
			CU_ASSERT_EQUAL(vtime_ticks_restore(&t2, &st, now), 0);
		}
		CU_ASSERT_EQUAL(vtime_ticks_update(&t2, now, true, &r), 0);
		CU_ASSERT_EQUAL(r.deliver, 1);
		CU_ASSERT_EQUAL(vtime_ticks_update(&t, now, true, &r), 0);
		CU_ASSERT_EQUAL(r.deliver, 1);
	}
}

/* The longest gap the domain allows between two calls, 2^63 - 1 ns: the
 * ticks due in it are all accounted (discard drops all but the one
 * delivered), and `next` is the following tick. */
static void test_longest_gap(void)
{
	for (size_t b = 0; b < NBASES; b++) {
		uint64_t base = bases[b], gap = (uint64_t)INT64_MAX;
		struct vtime_ticks t;
		struct vtime_ticks_result r;

		CU_ASSERT_EQUAL(vtime_ticks_init(&t, MS, VTIME_TICKS_DISCARD, base), 0);
		CU_ASSERT_EQUAL(vtime_ticks_update(&t, base + gap, true, &r), 0);
		CU_ASSERT_EQUAL(r.deliver, 1);
		CU_ASSERT_EQUAL(t.due, gap / MS);
		CU_ASSERT_EQUAL(r.dropped, gap / MS - 1);
		CU_ASSERT_EQUAL(r.next, base + (gap / MS + 1) * MS);
	}
}

/* A period change that converts an unacknowledged backlog into fewer,
 * longer ticks lowers `due` below the ticks counted as coalesced; the save
 * must still restore (fuzz_ticks_drive found coalesced > due, which the
 * restore refuses). From 0 and near 2^64. */
static void test_period_change_keeps_coalesced_le_due(void)
{
	for (size_t b = 0; b < NBASES; b++) {
		uint64_t base = bases[b];
		struct vtime_ticks t, t2;
		struct vtime_ticks_result r;
		struct vtime_ticks_state st;

		CU_ASSERT_EQUAL(vtime_ticks_init(&t, US, VTIME_TICKS_DELAY, base), 0);
		CU_ASSERT_EQUAL(vtime_ticks_update(&t, base + US, true, &r), 0);
		CU_ASSERT_EQUAL(r.deliver, 1);
		CU_ASSERT_EQUAL(vtime_ticks_update(&t, base + 10500, false, &r), 0); /* 9 more, unacknowledged */
		CU_ASSERT_EQUAL(t.coalesced, 9);
		CU_ASSERT_EQUAL(vtime_ticks_set_period(&t, base + 10500, MS), 0); /* 9 us owed: 0 ticks of 1 ms */
		CU_ASSERT_EQUAL(t.backlog, 0);
		CU_ASSERT_EQUAL(t.due, 1);
		CU_ASSERT(t.coalesced <= t.due);
		CU_ASSERT_EQUAL(vtime_ticks_save(&t, base + 10500, &st), 0);
		CU_ASSERT_EQUAL(vtime_ticks_restore(&t2, &st, base + 10500), 0);
	}
}

/* The byte image's header: every malformed one is refused, t untouched. */
static void test_state_decode_rejects(void)
{
	struct vtime_ticks t;
	struct vtime_ticks_state st, out;
	uint8_t img[VTIME_TICKS_STATE_BYTES + 8], bad[sizeof img];

	CU_ASSERT_EQUAL(vtime_ticks_init(&t, MS, VTIME_TICKS_DELAY, 0), 0);
	CU_ASSERT_EQUAL(vtime_ticks_save(&t, 0, &st), 0);
	CU_ASSERT_EQUAL(vtime_ticks_state_encode(&st, img, VTIME_TICKS_STATE_BYTES - 1), VTIME_ERANGE);
	CU_ASSERT_EQUAL(vtime_ticks_state_encode(NULL, img, sizeof img), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_ticks_state_encode(&st, NULL, sizeof img), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_ticks_state_encode(&st, img, sizeof img), 0);
	CU_ASSERT_EQUAL(vtime_ticks_state_decode(&out, img, sizeof img), 0); /* a longer buffer is fine */
	CU_ASSERT_EQUAL(vtime_ticks_state_decode(&out, img, VTIME_TICKS_STATE_BYTES - 1), VTIME_EPROTO);
	CU_ASSERT_EQUAL(vtime_ticks_state_decode(&out, img, 3), VTIME_EPROTO);
	CU_ASSERT_EQUAL(vtime_ticks_state_decode(&out, NULL, sizeof img), VTIME_EINVAL);
	static const struct { unsigned off; uint8_t val; int err; } cases[] = {
		{ 0, 'X', VTIME_EPROTO },  /* magic */
		{ 4, 0, VTIME_EPROTO },    /* version 0 */
		{ 4, 2, VTIME_ENOTSUP },   /* a later version */
		{ 6, 24, VTIME_EPROTO },   /* header length */
		{ 8, 96, VTIME_EPROTO },   /* size of another layout */
		{ 8, 200, VTIME_EPROTO },  /* size beyond the buffer */
		{ 12, 1, VTIME_EPROTO },   /* reserved bits */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memcpy(bad, img, sizeof img);
		bad[cases[i].off] = cases[i].val;
		memset(&out, 0x5a, sizeof out);
		CU_ASSERT_EQUAL(vtime_ticks_state_decode(&out, bad, sizeof bad), cases[i].err);
	}
}

/* Huge owed time that does not fit after conversion: ERANGE, state kept. */
static void test_period_change_range(void)
{
	struct vtime_ticks t, keep;
	struct vtime_ticks_state st;

	CU_ASSERT_EQUAL(vtime_ticks_init(&t, MS, VTIME_TICKS_DELAY, 0), 0);
	CU_ASSERT_EQUAL(vtime_ticks_save(&t, 0, &st), 0);
	st.backlog = (uint64_t)1 << 62;
	st.due = st.backlog;
	CU_ASSERT_EQUAL(vtime_ticks_restore(&t, &st, 0), 0);
	keep = t;
	/* 2^62 * 1e6 ns / 1 ns does not fit in 64 bits */
	CU_ASSERT_EQUAL(vtime_ticks_set_period(&t, 0, 1), VTIME_ERANGE);
	CU_ASSERT_EQUAL(memcmp(&t, &keep, sizeof t), 0);
	/* 1 ms -> 3 ms: 2^62 / 3 with the remainder (2^62 mod 3 = 1) x 1 ms kept */
	CU_ASSERT_EQUAL(vtime_ticks_set_period(&t, 0, 3 * MS), 0);
	CU_ASSERT_EQUAL(t.backlog, ((uint64_t)1 << 62) / 3);
	CU_ASSERT_EQUAL(t.backlog_rem, 1 * MS);
	CU_ASSERT_EQUAL(t.due, t.backlog);
	/* back to 1 ms: the remainder returns as one whole tick */
	CU_ASSERT_EQUAL(vtime_ticks_set_period(&t, 0, MS), 0);
	CU_ASSERT_EQUAL(t.backlog, (uint64_t)1 << 62);
	CU_ASSERT_EQUAL(t.backlog_rem, 0);
	/* the new backlog fits, the due count with it would wrap: 2^63 ticks
	 * already delivered, a backlog of 2^62 ms becomes 2^63 half-ms ticks */
	CU_ASSERT_EQUAL(vtime_ticks_save(&t, 0, &st), 0);
	st.delivered = (uint64_t)1 << 63;
	st.due = st.delivered + st.backlog;
	CU_ASSERT_EQUAL_FATAL(vtime_ticks_restore(&t, &st, 0), 0);
	keep = t;
	CU_ASSERT_EQUAL(vtime_ticks_set_period(&t, 0, MS / 2), VTIME_ERANGE);
	CU_ASSERT_EQUAL(memcmp(&t, &keep, sizeof t), 0);
	/* one tick fewer delivered fits exactly: due 2^64 - 1 */
	st.delivered = ((uint64_t)1 << 63) - 1;
	st.due = st.delivered + st.backlog;
	CU_ASSERT_EQUAL_FATAL(vtime_ticks_restore(&t, &st, 0), 0);
	CU_ASSERT_EQUAL(vtime_ticks_set_period(&t, 0, MS / 2), 0);
	CU_ASSERT_EQUAL(t.due, UINT64_MAX);
	CU_ASSERT_EQUAL(vtime_ticks_save(&t, 0, &st), 0);
	CU_ASSERT_EQUAL(vtime_ticks_restore(&keep, &st, 0), 0); /* the state restores */
}

/* Periods of 2^55 ns and more take the 128-bit sub-slot path. P = 2^60 + 3,
 * rate 4: an update at 3P + P/3 finds 3 ticks due, delivers one; P/3 lies
 * in sub-slot 1 (4/3 -> 1) so the next delivery is at the start of
 * sub-slot 2, ceil(2P / 4) = ceil(2^59 + 1.5) = 2^59 + 2 into the period;
 * from there, sub-slot 3 at ceil(3P / 4) = 3 * 2^58 + ceil(9/4) = 3 * 2^58 + 3. */
static void test_huge_period(void)
{
	const uint64_t P = ((uint64_t)1 << 60) + 3;
	for (size_t b = 0; b < NBASES; b++) {
		struct vtime_ticks t;
		struct vtime_ticks_result r;
		uint64_t base = b ? (uint64_t)0 - P : 0;

		CU_ASSERT_EQUAL(vtime_ticks_init(&t, P, VTIME_TICKS_SLEW, base), 0);
		CU_ASSERT_EQUAL(vtime_ticks_update(&t, base + 3 * P + P / 3, true, &r), 0);
		CU_ASSERT_EQUAL(r.deliver, 1);
		CU_ASSERT_EQUAL(t.backlog, 2);
		CU_ASSERT_EQUAL(r.next, base + 3 * P + ((uint64_t)1 << 59) + 2);
		CU_ASSERT_EQUAL(vtime_ticks_update(&t, r.next, true, &r), 0);
		CU_ASSERT_EQUAL(r.deliver, 1);
		CU_ASSERT_EQUAL(r.next, base + 3 * P + 3 * ((uint64_t)1 << 58) + 3);
		CU_ASSERT_EQUAL(vtime_ticks_update(&t, r.next, true, &r), 0);
		CU_ASSERT_EQUAL(t.backlog, 0);
		CU_ASSERT_EQUAL(r.next, base + 4 * P);
	}
}

static void test_args(void)
{
	struct vtime_ticks t;
	struct vtime_ticks_result r;
	struct vtime_ticks_guest g;

	CU_ASSERT_EQUAL(vtime_ticks_init(NULL, MS, VTIME_TICKS_SLEW, 0), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_ticks_init(&t, 0, VTIME_TICKS_SLEW, 0), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_ticks_init(&t, MS, (enum vtime_ticks_policy)7, 0), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_ticks_init(&t, MS, VTIME_TICKS_SLEW, 0), 0);
	CU_ASSERT_EQUAL(vtime_ticks_set_catchup(&t, 1, 0), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_ticks_set_catchup(&t, VTIME_TICKS_RATE_MAX + 1, 0), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_ticks_set_catchup(&t, VTIME_TICKS_RATE_MAX, 0), 0);
	CU_ASSERT_EQUAL(vtime_ticks_update(&t, 0, true, NULL), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_ticks_update(NULL, 0, true, &r), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_ticks_set_period(&t, 0, 0), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_ticks_save(&t, 0, NULL), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_ticks_guest_init(&g, 0, 0), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_ticks_guest_set_period(&g, 0, 0), VTIME_EINVAL);
	/* an update before the first tick: nothing to do, come back at the tick */
	CU_ASSERT_EQUAL(vtime_ticks_update(&t, 10, true, &r), 0);
	CU_ASSERT_EQUAL(r.deliver, 0);
	CU_ASSERT_EQUAL(r.next, MS);
	/* Backlog with an old rate limit, then a host clock stepping back
	 * across a tick: deliver at 1 (limit 1.25), no ack until a call at 5.5
	 * (ticks 2..5 kept), then an acked call at 4.9 < 5: it delivers and
	 * the limit is the first sub-slot of the current period, 5.25. */
	CU_ASSERT_EQUAL(vtime_ticks_init(&t, MS, VTIME_TICKS_SLEW, 0), 0);
	CU_ASSERT_EQUAL(vtime_ticks_update(&t, 1 * MS, true, &r), 0);
	CU_ASSERT_EQUAL(r.deliver, 1);
	CU_ASSERT_EQUAL(vtime_ticks_update(&t, 5500 * US, false, &r), 0);
	CU_ASSERT_EQUAL(r.deliver, 0);
	CU_ASSERT_EQUAL(t.backlog, 4);
	CU_ASSERT_EQUAL(r.next, 5750 * US);
	CU_ASSERT_EQUAL(vtime_ticks_update(&t, 4900 * US, true, &r), 0);
	CU_ASSERT_EQUAL(r.deliver, 1);
	CU_ASSERT_EQUAL(t.backlog, 3);
	CU_ASSERT_EQUAL(r.next, 5250 * US);
	CU_ASSERT_EQUAL(vtime_ticks_init(&t, MS, VTIME_TICKS_SLEW, 0), 0);
	CU_ASSERT_EQUAL(vtime_ticks_update(&t, 10, true, &r), 0);
	/* a host clock that steps back: nothing due, nothing moves */
	CU_ASSERT_EQUAL(vtime_ticks_update(&t, (uint64_t)0 - 5, true, &r), 0);
	CU_ASSERT_EQUAL(r.deliver, 0);
	CU_ASSERT_EQUAL(t.due, 0);
}


/* The saved state is an ABI: the byte image is the 16-byte header, then
 * the fields little-endian in struct order, on every host. The image below
 * is written out by hand: a big-endian host (s390x in CI) encodes the same
 * bytes and decodes them to the same fields, so a state saved on one byte
 * order restores on the other. */
static void test_state_abi(void)
{
	static const uint8_t want[VTIME_TICKS_STATE_BYTES] = {
		'V', 'T', 'T', 'K', 1, 0, 16, 0, 104, 0, 0, 0, 0, 0, 0, 0, /* header */
		2, 0, 0, 0, 4, 0, 0, 0,                          /* policy slew, rate 4 */
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* period */
		3, 0, 0, 0, 0, 0, 0, 0,                          /* cap */
		0x40, 0x42, 0x0f, 0, 0, 0, 0, 0,                 /* due_in 1000000 */
		0x10, 0x27, 0, 0, 0, 0, 0, 0,                    /* inject_in 10000 */
		2, 0, 0, 0, 0, 0, 0, 0,                          /* backlog */
		5, 0, 0, 0, 0, 0, 0, 0,                          /* backlog_rem */
		9, 0, 0, 0, 0, 0, 0, 0,                          /* due */
		6, 0, 0, 0, 0, 0, 0, 0,                          /* delivered */
		1, 0, 0, 0, 0, 0, 0, 0,                          /* dropped */
		0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, /* coalesced */
	};
	struct vtime_ticks_state st = { 2, 4, 0x0102030405060708ull, 3, 1000000, 10000, 2, 5, 9, 6, 1,
					0xf0e0d0c0b0a09080ull, { 0 } };
	struct vtime_ticks_state back;
	uint8_t img[VTIME_TICKS_STATE_BYTES];

	CU_ASSERT_EQUAL(VTIME_TICKS_SLEW, 2);
	CU_ASSERT_EQUAL(vtime_ticks_state_encode(&st, img, sizeof img), 0);
	CU_ASSERT_EQUAL(memcmp(img, want, sizeof want), 0);
	memset(&back, 0, sizeof back);
	CU_ASSERT_EQUAL(vtime_ticks_state_decode(&back, want, sizeof want), 0);
	CU_ASSERT_EQUAL(back.policy, 2);
	CU_ASSERT_EQUAL(back.rate, 4);
	CU_ASSERT_EQUAL(back.period, 0x0102030405060708ull);
	CU_ASSERT_EQUAL(back.cap, 3);
	CU_ASSERT_EQUAL(back.due_in, 1000000);
	CU_ASSERT_EQUAL(back.inject_in, 10000);
	CU_ASSERT_EQUAL(back.backlog, 2);
	CU_ASSERT_EQUAL(back.backlog_rem, 5);
	CU_ASSERT_EQUAL(back.due, 9);
	CU_ASSERT_EQUAL(back.delivered, 6);
	CU_ASSERT_EQUAL(back.dropped, 1);
	CU_ASSERT_EQUAL(back.coalesced, 0xf0e0d0c0b0a09080ull);
}

/* ---- properties over seeded random schedules ---- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}
static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

struct rnd_user {
	uint64_t period, max_lat, max_poke;
};
static uint64_t rnd_latency(void *user, uint64_t when)
{
	(void)when;
	return rnd_below(((struct rnd_user *)user)->max_lat + 1);
}
static uint64_t rnd_poke(void *user, uint64_t after)
{
	return after + 1 + rnd_below(((struct rnd_user *)user)->max_poke);
}

/* Random stalls over [0, 60 periods); returns the end of the last one. */
static uint64_t rnd_stalls(struct stall *st, size_t *n, uint64_t period, uint64_t max_len)
{
	uint64_t end = 0;
	*n = 1 + (size_t)rnd_below(6);
	for (size_t i = 0; i < *n; i++) {
		st[i].from = period / 2 + rnd_below(60 * period);
		st[i].to = st[i].from + rnd_below(max_len + 1);
		if (st[i].to > end)
			end = st[i].to;
	}
	return end;
}

/* Slew never delivers two interrupts in one sub-slot (so never more than
 * `rate` per period) and, once stalls stop and the guest acknowledges
 * promptly, ends with zero backlog and nothing dropped. */
static void test_prop_slew_bound(void)
{
	unsigned long iters = 300; /* fixed: not a stress test */
	rng_state = 0x9e3779b97f4a7c15ull;
	for (unsigned long it = 0; it < iters; it++) {
		struct sim s;
		struct stall st[6];
		size_t ns;
		uint64_t period = (1000 + rnd_below(2000000)) | 1, end, tail;
		uint32_t rate = 2 + (uint32_t)rnd_below(7);
		struct rnd_user u = { period, period / 8, period };
		uint64_t base = (it & 1) ? (uint64_t)0 - rnd_below(100 * period) : 0;
		int ok = 1;

		sim_init(&s, base, period, VTIME_TICKS_SLEW);
		CU_ASSERT_EQUAL(vtime_ticks_set_catchup(&s.t, rate, 0), 0);
		end = rnd_stalls(st, &ns, period, 25 * period);
		s.stalls = st;
		s.nstalls = ns;
		s.user = &u;
		s.ack_latency = rnd_latency;
		if (it % 3 == 0)
			s.poke = rnd_poke;
		sim_run(&s, end);
		/* Each period nets at least one: deliveries come at most
		 * max(ack latency, sub-slot) = period / 2 apart. */
		tail = (sim_counters(&s).backlog + 4) * period;
		sim_run(&s, end + tail);
		for (size_t i = 1; i < s.ndel && i < SIM_MAX_DEL; i++) {
			uint64_t a = s.del[i - 1], b = s.del[i];
			uint64_t sa = (a / period) * rate + (a % period) * rate / period;
			uint64_t sb = (b / period) * rate + (b % period) * rate / period;
			if (sb <= sa)
				ok = 0;
		}
		CU_ASSERT(ok);
		CU_ASSERT(s.sane);
		CU_ASSERT(s.ndel < SIM_MAX_DEL);
		CU_ASSERT_EQUAL(sim_counters(&s).backlog, 0);
		CU_ASSERT_EQUAL(sim_counters(&s).dropped, 0);
		CU_ASSERT_EQUAL(sim_counters(&s).delivered, sim_counters(&s).due);
		if (!ok || !s.sane || sim_counters(&s).backlog) {
			printf("\n  iteration %lu: period %llu rate %u", it, (unsigned long long)period, rate);
			return;
		}
	}
}

/* Discard never delivers a burst: at most one interrupt per period slot,
 * never a backlog left after a call; delay also keeps one per slot. With
 * slow acknowledgements (up to 2 periods) ticks coalesce. */
static void test_prop_discard_delay_no_burst(void)
{
	unsigned long iters = 300; /* fixed: not a stress test */
	rng_state = 0x243f6a8885a308d3ull;
	for (unsigned long it = 0; it < iters; it++) {
		enum vtime_ticks_policy pol = (it & 2) ? VTIME_TICKS_DELAY : VTIME_TICKS_DISCARD;
		struct sim s;
		struct stall st[6];
		size_t ns;
		uint64_t period = 1000 + rnd_below(2000000), end;
		struct rnd_user u = { period, 2 * period, period / 3 + 1 };
		uint64_t base = (it & 1) ? (uint64_t)0 - rnd_below(100 * period) : 0;
		int ok = 1;

		sim_init(&s, base, period, pol);
		end = rnd_stalls(st, &ns, period, 25 * period);
		s.stalls = st;
		s.nstalls = ns;
		s.user = &u;
		s.ack_latency = rnd_latency;
		if (it % 3)
			s.poke = rnd_poke;
		sim_run(&s, end + 20 * period);
		for (size_t i = 1; i < s.ndel && i < SIM_MAX_DEL; i++)
			if (s.del[i] / period <= s.del[i - 1] / period)
				ok = 0;
		CU_ASSERT(ok);
		CU_ASSERT(s.sane);
		CU_ASSERT_EQUAL(sim_counters(&s).due, s.last / period);
		if (pol == VTIME_TICKS_DISCARD) {
			CU_ASSERT_EQUAL(s.max_backlog, 0);
		} else {
			CU_ASSERT_EQUAL(sim_counters(&s).dropped, 0);
		}
		if (!ok || !s.sane) {
			printf("\n  iteration %lu: policy %d period %llu", it, (int)pol, (unsigned long long)period);
			return;
		}
	}
}

/* Any policy, random period changes mid-backlog: the invariant
 * due == delivered + dropped + backlog holds after every call, and slew
 * still drains its backlog. */
static void test_prop_period_changes(void)
{
	unsigned long iters = 200; /* fixed: not a stress test */
	rng_state = 0xb7e151628aed2a6bull;
	for (unsigned long it = 0; it < iters; it++) {
		enum vtime_ticks_policy pol = (enum vtime_ticks_policy)(it % 3);
		struct sim s;
		struct stall st[6];
		size_t ns;
		uint64_t period = 10000 + rnd_below(1000000), end, t = 0;
		struct rnd_user u = { period, period / 8, period };
		uint64_t base = (it & 1) ? (uint64_t)0 - rnd_below(100 * period) : 0;

		sim_init(&s, base, period, pol);
		end = rnd_stalls(st, &ns, period, 25 * period);
		s.stalls = st;
		s.nstalls = ns;
		s.user = &u;
		s.ack_latency = rnd_latency;
		for (int k = 0; k < 4; k++) {
			t += rnd_below(end / 4 + period);
			sim_run(&s, t);
			period = 10000 + rnd_below(1000000);
			u.max_lat = period / 8; /* keep acks prompt at the new rate */
			CU_ASSERT_EQUAL(vtime_ticks_set_period(&s.t, base + t, period), 0);
			sim_call(&s, t > s.last ? t : s.last + 1);
		}
		sim_run(&s, t + end);
		{
			struct vtime_ticks_counters c = sim_counters(&s);
			sim_run(&s, t + end + (c.backlog + 4) * period);
		}
		CU_ASSERT(s.sane);
		if (pol != VTIME_TICKS_DELAY)
			CU_ASSERT_EQUAL(sim_counters(&s).backlog, 0);
		if (!s.sane || (pol != VTIME_TICKS_DELAY && sim_counters(&s).backlog)) {
			printf("\n  iteration %lu: policy %d period %llu backlog %llu", it, (int)pol,
			       (unsigned long long)period, (unsigned long long)sim_counters(&s).backlog);
			return;
		}
	}
}

/* ---- guest side ---- */

/* Hand-checked: period 10 starting 1 below 2^64. */
static void test_guest_wrap_exact(void)
{
	struct vtime_ticks_guest g;
	uint64_t into = 99;

	CU_ASSERT_EQUAL(vtime_ticks_guest_init(&g, 10, UINT64_MAX), 0);
	CU_ASSERT_EQUAL(vtime_ticks_guest_account(&g, 8, &into), 0); /* 2^64 + 8: 9 elapsed */
	CU_ASSERT_EQUAL(into, 9);
	CU_ASSERT_EQUAL(vtime_ticks_guest_account(&g, 9, &into), 1); /* 10 elapsed */
	CU_ASSERT_EQUAL(into, 0);
	CU_ASSERT_EQUAL(g.last, 9);
	CU_ASSERT_EQUAL(vtime_ticks_guest_account(&g, 9, &into), 0); /* same read: no double count */
	CU_ASSERT_EQUAL(vtime_ticks_guest_account(&g, 38, &into), 2); /* 29 more: 2 periods, 9 over */
	CU_ASSERT_EQUAL(into, 9);
	CU_ASSERT_EQUAL(vtime_ticks_guest_account(&g, 39, &into), 1);
	CU_ASSERT_EQUAL(g.ticks, 4);
	/* a read behind the boundary (another CPU's clock): nothing moves */
	CU_ASSERT_EQUAL(vtime_ticks_guest_account(&g, 20, &into), 0);
	CU_ASSERT_EQUAL(into, 0);
	CU_ASSERT_EQUAL(g.last, 39);
	CU_ASSERT_EQUAL(g.ticks, 4);
	/* an interrupt 2^62 units late */
	CU_ASSERT_EQUAL(vtime_ticks_guest_account(&g, 39 + ((uint64_t)1 << 62) + 7, &into),
			461168601842738791ull); /* (2^62 + 7) / 10: 2^62 = 4611686018427387904 */
	CU_ASSERT_EQUAL(into, 1);

	/* period change: 1 ms ticks to 2.5 ms, then 0.25 ms from the boundary at 2 */
	CU_ASSERT_EQUAL(vtime_ticks_guest_init(&g, MS, (uint64_t)0 - MS), 0);
	CU_ASSERT_EQUAL(vtime_ticks_guest_account(&g, 1500 * US, &into), 2);
	CU_ASSERT_EQUAL(into, 500 * US);
	CU_ASSERT_EQUAL(vtime_ticks_guest_set_period(&g, 1500 * US, 250 * US), 0);
	CU_ASSERT_EQUAL(vtime_ticks_guest_account(&g, 2 * MS, &into), 4);
	CU_ASSERT_EQUAL(into, 0);
	CU_ASSERT_EQUAL(g.ticks, 6);
}

/* Never loses or double-counts a period: after any sequence of reads the
 * total equals floor(elapsed / period) and the remainder elapsed % period,
 * computed here with plain 64-bit division. Start at 0 and just below 2^64. */
static void test_prop_guest_wrap(void)
{
	unsigned long iters = 2000; /* fixed: not a stress test */
	rng_state = 0x13198a2e03707344ull;
	for (int b = 0; b < 4; b++) {
		uint64_t start = b == 0 ? 0 : (b == 1 ? UINT64_MAX : (uint64_t)0 - 1 - rnd_below(1u << 20));
		uint64_t period = b == 3 ? 1 : 1 + rnd_below(b == 0 ? 1000 : 1000000000);
		uint64_t elapsed = 0, sum = 0, into;
		struct vtime_ticks_guest g;
		int ok = 1;

		CU_ASSERT_EQUAL(vtime_ticks_guest_init(&g, period, start), 0);
		for (unsigned long i = 0; i < iters; i++) {
			uint64_t step;
			switch (rnd_below(5)) {
			case 0: step = rnd_below(period); break;                   /* early read */
			case 1: step = period - elapsed % period; break;           /* on the boundary */
			case 2: step = period - elapsed % period - (period > 1);   /* one before */
				break;
			case 3: step = rnd_below(10 * period + 1); break;          /* a few late */
			default: step = rnd_below((uint64_t)1 << 40); break;       /* very late */
			}
			elapsed += step;
			sum += vtime_ticks_guest_account(&g, start + elapsed, &into);
			if (sum != elapsed / period || into != elapsed % period || g.ticks != sum)
				ok = 0;
		}
		CU_ASSERT(ok);
		CU_ASSERT(start + elapsed < start || b == 0); /* the run crossed 2^64 */
		if (!ok)
			printf("\n  start %llu period %llu", (unsigned long long)start, (unsigned long long)period);
	}
}

static const struct vt_test_case scenario_cases[] = {
	{ "no stall, every policy", test_no_stall },
	{ "one long stall: discard, delay", test_long_stall_discard_delay },
	{ "one long stall: slew, slew with cap", test_long_stall_slew },
	{ "one long stall: slew rate 2", test_long_stall_slew_rate2 },
	{ "many short stalls", test_many_short_stalls },
	{ "stall then period change", test_period_change_backlog },
	{ "unacknowledged interrupts coalesce", test_unacked_coalesce },
	{ "save/restore mid-backlog", test_save_restore_mid_backlog },
	{ "save/restore with unhandled ticks", test_save_restore_unhandled },
	{ "restore rejects bad states", test_restore_rejects },
	{ "periods of 2^63 ns or more refused; the longest works", test_period_domain },
	{ "an unacknowledged interrupt never ages the limit", test_unacked_never_ages },
	{ "the longest gap between calls (2^63 - 1 ns)", test_longest_gap },
	{ "a period change keeps coalesced <= due (the save restores)", test_period_change_keeps_coalesced_le_due },
	{ "saved-state image: malformed headers refused", test_state_decode_rejects },
	{ "period change range and remainder", test_period_change_range },
	{ "periods past 2^55 (128-bit path)", test_huge_period },
	{ "argument checks", test_args },
	{ "saved state ABI", test_state_abi },
	{ NULL, NULL },
};

static const struct vt_test_case property_cases[] = {
	{ "slew: rate bound, drains to zero", test_prop_slew_bound },
	{ "discard/delay: one per period", test_prop_discard_delay_no_burst },
	{ "period changes keep the invariant", test_prop_period_changes },
	{ NULL, NULL },
};

static const struct vt_test_case guest_cases[] = {
	{ "wraparound, hand-checked", test_guest_wrap_exact },
	{ "no lost or double period", test_prop_guest_wrap },
	{ NULL, NULL },
};

int main(void)
{
	static const struct vt_test_suite suites[] = {
		{ "ticks scenarios", scenario_cases },
		{ "ticks properties", property_cases },
		{ "ticks guest", guest_cases },
		{ NULL, NULL },
	};
	return vt_test_main(suites);
}
