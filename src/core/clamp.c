/* SPDX-License-Identifier: MIT */
/* Monotonic clamp; see include/vtime/clamp.h and docs/clamp.md. */
#include <vtime/clamp.h>
#include <vtime/error.h>

#include "vt_clamp.h"

int vtime_clamp_init(struct vtime_clamp *c, uint64_t start, unsigned flags)
{
	if (!c || (flags & ~VTIME_CLAMP_TRUST_STABLE))
		return VTIME_EINVAL;
	c->flags = flags;
	c->pad0 = 0;
	for (unsigned i = 0; i < sizeof c->pad / sizeof c->pad[0]; i++)
		c->pad[i] = 0;
	vt_store64(&c->last, start);
	return 0;
}

uint64_t vtime_clamp_apply(struct vtime_clamp *c, uint64_t t)
{
	return vt_clamp_apply_inline(c, t);
}

uint64_t vtime_clamp_apply_stable(struct vtime_clamp *c, uint64_t t, bool source_stable)
{
	return vt_clamp_apply_stable_inline(c, t, source_stable);
}

uint64_t vtime_clamp_last(const struct vtime_clamp *c)
{
	return vt_load64(&c->last);
}

void vtime_clamp_reset(struct vtime_clamp *c, uint64_t start)
{
	vt_store64(&c->last, start);
}

int vtime_clamp_local_init(struct vtime_clamp_local *l, uint64_t start)
{
	if (!l)
		return VTIME_EINVAL;
	l->last = start;
	return 0;
}

uint64_t vtime_clamp_local_apply(struct vtime_clamp_local *l, uint64_t t)
{
	return vt_clamp_local_apply_inline(l, t);
}
