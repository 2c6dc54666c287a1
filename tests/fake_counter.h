/* SPDX-License-Identifier: MIT */
/* The fake-counter test shim: a counter tests drive by hand. Each read
 * returns value, then advances it by step (so a reader inside a seqlock
 * window sees time move), optionally calling a hook (to race a writer). */
#ifndef VT_FAKE_COUNTER_H
#define VT_FAKE_COUNTER_H

#include <stdint.h>
#include <vtime/counter.h>

struct vt_fake_counter {
	uint64_t value;
	uint64_t step;
	unsigned long reads;
	void (*on_read)(struct vt_fake_counter *fc); /* called before returning */
	void *user;
};

static inline uint64_t vt_fake_counter_read(void *ctx)
{
	struct vt_fake_counter *fc = (struct vt_fake_counter *)ctx;
	uint64_t v = fc->value;
	fc->value += fc->step;
	fc->reads++;
	if (fc->on_read)
		fc->on_read(fc);
	return v;
}

static inline struct vtime_counter vt_fake_counter_hook(struct vt_fake_counter *fc)
{
	struct vtime_counter c = { vt_fake_counter_read, fc };
	return c;
}

#endif
