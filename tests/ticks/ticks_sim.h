/* SPDX-License-Identifier: MIT */
/* Test driver for the host engine: a VMM that calls vtime_ticks_update() at
 * the time the engine asks for, except while the host is stalled (the call
 * then happens when the stall ends), and a guest that acknowledges each
 * interrupt after a latency. Times are relative to `base` (the host clock
 * is base + relative, so base near 2^64 exercises wraparound). */
#ifndef TICKS_SIM_H
#define TICKS_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <vtime/ticks.h>

#include "vt_test.h"

#define MS 1000000ull
#define US 1000ull

struct stall {
	uint64_t from, to; /* host not running in [from, to) */
};

#define SIM_MAX_DEL 4096

struct sim {
	struct vtime_ticks t;
	uint64_t base;
	uint64_t next;   /* relative time of the next timer call */
	uint64_t last;   /* relative time of the last call */
	uint64_t ack_at; /* guest acknowledges at this time, if ack_pending */
	int ack_pending;
	uint64_t (*ack_latency)(void *user, uint64_t when); /* NULL: immediate */
	uint64_t (*poke)(void *user, uint64_t after);        /* extra VMM calls; NULL: none */
	void *user;
	const struct stall *stalls;
	size_t nstalls;
	uint64_t del[SIM_MAX_DEL]; /* relative delivery times */
	size_t ndel;
	uint64_t calls;
	int sane; /* every call kept the invariants */
	uint64_t max_backlog; /* largest backlog left by a call */
};

static inline void sim_init(struct sim *s, uint64_t base, uint64_t period, enum vtime_ticks_policy pol)
{
	memset(s, 0, sizeof *s);
	s->base = base;
	s->sane = 1;
	CU_ASSERT_EQUAL_FATAL(vtime_ticks_init(&s->t, period, pol, base), 0);
	s->next = period;
}

static inline uint64_t sim_after_stalls(const struct sim *s, uint64_t when)
{
	int moved = 1;
	while (moved) {
		moved = 0;
		for (size_t i = 0; i < s->nstalls; i++)
			if (when >= s->stalls[i].from && when < s->stalls[i].to) {
				when = s->stalls[i].to;
				moved = 1;
			}
	}
	return when;
}

/* One update at relative time `when`. */
static inline void sim_call(struct sim *s, uint64_t when)
{
	struct vtime_ticks_result res;
	struct vtime_ticks_counters c;
	int acked;

	if (s->ack_pending && when >= s->ack_at)
		s->ack_pending = 0;
	acked = !s->ack_pending;
	if (vtime_ticks_update(&s->t, s->base + when, acked, &res) != 0)
		s->sane = 0;
	s->calls++;
	s->last = when;
	if (res.deliver) {
		uint64_t lat = s->ack_latency ? s->ack_latency(s->user, when) : 0;
		if (!acked || res.deliver != 1)
			s->sane = 0; /* delivered into a pending interrupt */
		if (s->ndel < SIM_MAX_DEL)
			s->del[s->ndel] = when;
		s->ndel++;
		if (lat) {
			s->ack_pending = 1;
			s->ack_at = when + lat;
		}
	}
	vtime_ticks_counters(&s->t, &c);
	if (c.backlog > s->max_backlog)
		s->max_backlog = c.backlog;
	if (c.due != c.delivered + c.dropped + c.backlog || c.delivered != s->ndel)
		s->sane = 0;
	if (res.next - s->base <= when)
		s->sane = 0; /* no progress: a busy loop */
	s->next = res.next - s->base;
}

/* Runs every call at relative time <= end. */
static inline void sim_run(struct sim *s, uint64_t end)
{
	for (;;) {
		uint64_t when = s->next;
		if (s->ack_pending && s->ack_at > s->last && s->ack_at < when)
			when = s->ack_at; /* the VMM also calls when the guest acknowledges */
		if (s->poke) {
			uint64_t p = s->poke(s->user, s->last);
			if (p > s->last && p < when)
				when = p;
		}
		when = sim_after_stalls(s, when);
		if (when > end)
			break;
		sim_call(s, when);
	}
}

static inline struct vtime_ticks_counters sim_counters(const struct sim *s)
{
	struct vtime_ticks_counters c;
	vtime_ticks_counters(&s->t, &c);
	return c;
}

/* Deliveries at or before relative time `at`. */
static inline uint64_t sim_delivered_by(const struct sim *s, uint64_t at)
{
	uint64_t n = 0;
	for (size_t i = 0; i < s->ndel && i < SIM_MAX_DEL; i++)
		n += s->del[i] <= at;
	return n;
}

#endif
