/* SPDX-License-Identifier: MIT */
/* What vtime_ticks_restore() must accept, written from its documentation
 * (include/vtime/ticks.h, docs/ticks.md) independently of ticks.c, and the
 * field-by-field comparison of two saved states. */
#ifndef VT_TICKS_ORACLE_H
#define VT_TICKS_ORACLE_H

#include <stdbool.h>
#include <stdint.h>
#include <vtime/ticks.h>

static inline bool ticks_state_valid(const struct vtime_ticks_state *s)
{
	uint64_t sum = s->delivered + s->dropped, all = sum + s->backlog;
	bool sums = sum >= s->delivered && all >= sum && all == s->due; /* no wrap */

	return s->policy <= VTIME_TICKS_SLEW && s->rate >= 2 && s->rate <= VTIME_TICKS_RATE_MAX && s->period >= 1 &&
	       s->period <= VTIME_TICKS_PERIOD_MAX && s->due_in >= 1 && s->due_in <= s->period &&
	       s->inject_in <= s->due_in && sums && s->backlog_rem < s->period && s->coalesced <= s->due;
}

static inline bool ticks_state_equal(const struct vtime_ticks_state *a, const struct vtime_ticks_state *b)
{
	return a->policy == b->policy && a->rate == b->rate && a->period == b->period && a->cap == b->cap &&
	       a->due_in == b->due_in && a->inject_in == b->inject_in && a->backlog == b->backlog &&
	       a->backlog_rem == b->backlog_rem && a->due == b->due && a->delivered == b->delivered &&
	       a->dropped == b->dropped && a->coalesced == b->coalesced;
}

#endif
