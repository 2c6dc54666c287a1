/* SPDX-License-Identifier: MIT */
/* The clamp as always-inline code, for fast paths that want no call (the
 * userspace and kernel shims); src/core/clamp.c wraps these. */
#ifndef VT_CLAMP_H
#define VT_CLAMP_H

#include <stdbool.h>
#include <stdint.h>
#include <vtime/clamp.h>

#include "vt_atomic.h"
#include "vt_port.h"

/* Serial-number order: a is later than b when a - b is in [1, 2^63). */
static VT_ALWAYS_INLINE bool vt_clamp_later(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) > 0;
}

static VT_ALWAYS_INLINE uint64_t vt_clamp_apply_inline(struct vtime_clamp *c, uint64_t t)
{
	uint64_t last = vt_load64(&c->last);

	/* Coherence on the one word is all we need: a later load never sees an
	 * older value than one observed before it, and `last` only grows. */
	while (vt_clamp_later(t, last)) {
		if (vt_cas64(&c->last, &last, t))
			return t;
		/* lost the race: last now holds the newer value, re-check */
	}
	return last;
}

static VT_ALWAYS_INLINE uint64_t vt_clamp_apply_stable_inline(struct vtime_clamp *c, uint64_t t,
							      bool source_stable)
{
	if (source_stable && (c->flags & VTIME_CLAMP_TRUST_STABLE)) {
		uint64_t last = vt_load64(&c->last);
		return vt_clamp_later(t, last) ? t : last;
	}
	return vt_clamp_apply_inline(c, t);
}

static VT_ALWAYS_INLINE uint64_t vt_clamp_local_apply_inline(struct vtime_clamp_local *l, uint64_t t)
{
	if (vt_clamp_later(t, l->last))
		l->last = t;
	return l->last;
}

#endif
