/* SPDX-License-Identifier: MIT */
/* Sequence locks, written once (the Concurrency Kit ck_sequence.h idea):
 * every reader and writer in vtime (pvclock and wall-clock records, VMClock,
 * the Hyper-V reference TSC page, the calibration line, the userspace
 * clock's latch) is built from these, so each barrier below is the only one
 * of its kind and says what it orders.
 *
 * Sequence words are stored little-endian, like the ABIs' own (pvclock's
 * version), so one set of helpers serves shared pages and private state.
 *
 * Seqcount (one copy; readers retry while a writer is inside):
 *   writer: v = vt_seq_write_begin(s); store the body; vt_seq_write_end(s, v)
 *   reader: vt_seq_read(s, tries, body, ctx, &v), or by hand:
 *           v = vt_seq_read_begin(s); load the body (and read a counter);
 *           retry while vt_seq_read_retry(s, v[, counter])
 * Zero-invalid sequence (the Hyper-V reference TSC page's flavour: 0 while
 * the writer is inside, and also "invalid, use the fallback"; never odd/even):
 *   writer: old = vt_seqz_write_begin(s); store the body;
 *           vt_seqz_write_end(s, vt_seqz_next(old))
 *   reader: vt_seqz_read(s, tries, body, ctx, &v), or by hand:
 *           v = vt_seqz_read_begin(s) (stop if !vt_seqz_valid(v)); load the
 *           body (and read a counter); retry while vt_seq_read_retry(s, v[, c])
 * Latch (two copies, the kernel's seqcount_latch; readers never wait, so a
 * writer interrupted by a signal handler on its own thread cannot block it):
 *   writer: vt_latch_write_odd(s); update copy 0; vt_latch_write_even(s);
 *           update copy 1
 *   reader: vt_latch_read(s, body, ctx), or by hand:
 *           i = vt_latch_read_begin(s); load copy i & 1; retry while
 *           vt_latch_read_retry(s, i[, counter])
 *
 * One bounded-retry policy: a reader gives up after VTIME_MAX_TRIES torn
 * reads (VTIME_EAGAIN), so a writer that died inside its window (a crashed
 * host, a forked child) never hangs a reader.
 *
 * Counter ordering: a reader that reads a counter inside its window passes
 * the value to the retry, which loads the sequence through
 * vtime_arch_after(): the re-check is then performed after the counter read
 * on every architecture vtime knows (see <vtime/arch.h> for why and how). */
#ifndef VT_SEQ_H
#define VT_SEQ_H

#include <stdbool.h>
#include <stdint.h>
#include <vtime/error.h>

#include "vt_atomic.h"
#include "vt_endian.h"
#include "vt_port.h"

static VT_ALWAYS_INLINE uint32_t vt_seq_load(const volatile uint32_t *s)
{
	return vt_le32(vt_load32(s));
}

/* ---- seqcount: reader ---- */

/* The even sequence the body must match (an odd one never matches, so a
 * reader needs no separate wait for the writer to leave). */
static VT_ALWAYS_INLINE uint32_t vt_seq_read_begin(const volatile uint32_t *s)
{
	uint32_t v = vt_seq_load(s) & ~1u;
	/* the sequence load before the body loads */
	vt_rmb();
	return v;
}

/* true if the body loaded since vt_seq_read_begin() may be torn. */
static VT_ALWAYS_INLINE bool vt_seq_read_retry(const volatile uint32_t *s, uint32_t v)
{
	/* the body loads before the sequence re-check */
	vt_rmb();
	return vt_seq_load(s) != v;
}

/* As vt_seq_read_retry() for a window that also read a counter: the
 * re-check is performed after the counter read that returned ctr. */
static VT_ALWAYS_INLINE bool vt_seq_read_retry_ctr(const volatile uint32_t *s, uint32_t v, uint64_t ctr)
{
	/* the body loads (and the dependent re-check below) before the re-check */
	vt_rmb();
	return vt_seq_load((const volatile uint32_t *)vtime_arch_after(s, ctr)) != v;
}

/* A word outside the window (another page's sequence that a reader compares
 * with the value its copy was built from, raw: as stored) loaded once the
 * counter read that returned ctr is done, by the re-check's dependency: a
 * reader preempted between its loads and its counter read (a VM paused and
 * migrated there) sees the word as it is after the counter read. No
 * barrier: the dependency is the ordering. */
static VT_ALWAYS_INLINE uint32_t vt_seq_word_after_ctr(const volatile uint32_t *w, uint64_t ctr)
{
	return vt_load32((const volatile uint32_t *)vtime_arch_after(w, ctr));
}

/* The read loop. body(ctx) loads what s protects into ctx and returns the
 * counter value it read inside the window (0 if it read none: then only
 * the loads are ordered). Returns 0 with *v the version the copy came from,
 * or VTIME_EAGAIN after max_tries (0: VTIME_MAX_TRIES) torn reads. With
 * body a constant the compiler inlines it: no indirect call. */
static VT_ALWAYS_INLINE int vt_seq_read(const volatile uint32_t *s, unsigned max_tries,
					uint64_t (*body)(void *ctx), void *ctx, uint32_t *v)
{
	if (max_tries == 0)
		max_tries = VTIME_MAX_TRIES;
	for (unsigned i = 0; i < max_tries; i++) {
		uint32_t b = vt_seq_read_begin(s);
		uint64_t ctr = body(ctx);
		if (!vt_seq_read_retry_ctr(s, b, ctr)) {
			*v = b;
			return 0;
		}
		vt_cpu_relax();
	}
	return VTIME_EAGAIN;
}

/* ---- seqcount: writer (one at a time per sequence) ---- */

/* (v + 1) | 1 is odd even if s held junk or a writer died inside. Returns
 * the odd value to hand to vt_seq_write_end(). */
static VT_ALWAYS_INLINE uint32_t vt_seq_write_begin(volatile uint32_t *s)
{
	uint32_t v = (vt_seq_load(s) + 1u) | 1u;

	vt_store32(s, vt_le32(v));
	/* the odd sequence visible before any body store */
	vt_wmb();
	return v;
}

/* As vt_seq_write_begin() for a writer that reads a counter inside its
 * window (the calibration engine's switch point): a reader that still saw
 * the old, even sequence read its counter before that read. */
static VT_ALWAYS_INLINE uint32_t vt_seq_write_begin_mb(volatile uint32_t *s)
{
	uint32_t v = (vt_seq_load(s) + 1u) | 1u;

	vt_store32(s, vt_le32(v));
	/* the odd sequence visible to every CPU before the writer's later
	 * loads and counter read */
	vt_mb();
	return v;
}

/* Ends the window begun with odd value v; returns the new even value. */
static VT_ALWAYS_INLINE uint32_t vt_seq_write_end(volatile uint32_t *s, uint32_t v)
{
	/* the body stores visible before the even sequence */
	vt_wmb();
	vt_store32(s, vt_le32(v + 1u));
	return v + 1u;
}

/* ---- zero-invalid sequence (Hyper-V reference TSC page) ----
 * The writer stores 0 for the length of its window and then a new value
 * that is neither 0 nor 0xFFFFFFFF (the TLFS up to 4.0b named 0xFFFFFFFF
 * the invalid value, so no writer publishes it as valid and readers refuse
 * both). 0 also stays in place while the writer has nothing valid to offer,
 * so a reader cannot wait for it to pass: it reports it and the caller uses
 * the fallback clock. Re-checking is the same comparison as the seqcount's
 * (vt_seq_read_retry / _ctr): any store to the sequence fails it. */

static VT_ALWAYS_INLINE bool vt_seqz_valid(uint32_t v)
{
	return v != 0u && v != 0xffffffffu;
}

/* The sequence the body must match; not vt_seqz_valid(): do not read. */
static VT_ALWAYS_INLINE uint32_t vt_seqz_read_begin(const volatile uint32_t *s)
{
	uint32_t v = vt_seq_load(s);
	/* the sequence load before the body loads */
	vt_rmb();
	return v;
}

/* The read loop (see vt_seq_read for body). Returns 0 with *v the sequence
 * the copy came from; VTIME_ENOTVALID as soon as a try starts on 0 or
 * 0xFFFFFFFF (invalid, or a writer inside: no retry, the fallback is always
 * right); VTIME_EAGAIN after max_tries (0: VTIME_MAX_TRIES) torn reads. */
static VT_ALWAYS_INLINE int vt_seqz_read(const volatile uint32_t *s, unsigned max_tries,
					 uint64_t (*body)(void *ctx), void *ctx, uint32_t *v)
{
	if (max_tries == 0)
		max_tries = VTIME_MAX_TRIES;
	for (unsigned i = 0; i < max_tries; i++) {
		uint32_t b = vt_seqz_read_begin(s);
		uint64_t ctr;

		if (!vt_seqz_valid(b))
			return VTIME_ENOTVALID;
		ctr = body(ctx);
		if (!vt_seq_read_retry_ctr(s, b, ctr)) {
			*v = b;
			return 0;
		}
		vt_cpu_relax();
	}
	return VTIME_EAGAIN;
}

/* The value after old that a writer publishes: old + 1, skipping 0 and
 * 0xFFFFFFFF (so it restarts at 1). */
static VT_ALWAYS_INLINE uint32_t vt_seqz_next(uint32_t old)
{
	uint32_t n = old + 1u;
	return vt_seqz_valid(n) ? n : 1u;
}

/* Opens the window (one writer at a time per sequence): stores 0. Returns
 * the value the sequence held (0 if it was already invalid). */
static VT_ALWAYS_INLINE uint32_t vt_seqz_write_begin(volatile uint32_t *s)
{
	uint32_t old = vt_seq_load(s);

	vt_store32(s, 0u);
	/* the 0 visible before any body store */
	vt_wmb();
	return old;
}

/* Closes the window with next (vt_seqz_next() of the last valid value), or
 * with 0 to leave the record invalid. Returns next. */
static VT_ALWAYS_INLINE uint32_t vt_seqz_write_end(volatile uint32_t *s, uint32_t next)
{
	/* the body stores visible before the new sequence */
	vt_wmb();
	vt_store32(s, vt_le32(next));
	return next;
}

/* As vt_seq_write_end() for a record whose all-zero state means "never
 * written" (the pvclock wall clock: version 0, sec 0, nsec 0): the window
 * never ends at 0. From the odd 0xffffffff the sequence moves to 1, still
 * odd, so readers keep retrying, then ends at 2. */
static VT_ALWAYS_INLINE uint32_t vt_seq_write_end_nonzero(volatile uint32_t *s, uint32_t v)
{
	if (v + 1u == 0) {
		v = 1u;
		vt_store32(s, vt_le32(v));
	}
	return vt_seq_write_end(s, v);
}

/* ---- latch: two copies ---- */

/* The sequence to re-check against; the copy to read is (value & 1). */
static VT_ALWAYS_INLINE uint32_t vt_latch_read_begin(const volatile uint32_t *s)
{
	uint32_t i = vt_seq_load(s);
	/* the sequence load before the copy loads */
	vt_rmb();
	return i;
}

/* true if the writer switched copies since i was read: the copy may be torn. */
static VT_ALWAYS_INLINE bool vt_latch_read_retry(const volatile uint32_t *s, uint32_t i)
{
	return vt_seq_read_retry(s, i);
}

static VT_ALWAYS_INLINE bool vt_latch_read_retry_ctr(const volatile uint32_t *s, uint32_t i, uint64_t ctr)
{
	return vt_seq_read_retry_ctr(s, i, ctr);
}

/* The latch's read loop: body(ctx, copy) loads copy 0 or 1 into ctx. 0, or
 * VTIME_EAGAIN if VTIME_MAX_TRIES writes kept overtaking the read (a reader
 * never waits for a writer, so that means the writer is making progress). */
static VT_ALWAYS_INLINE int vt_latch_read(const volatile uint32_t *s, void (*body)(void *ctx, unsigned copy),
					  void *ctx)
{
	for (unsigned i = 0; i < VTIME_MAX_TRIES; i++) {
		uint32_t b = vt_latch_read_begin(s);
		body(ctx, b & 1u);
		if (!vt_latch_read_retry(s, b))
			return 0;
		vt_cpu_relax();
	}
	return VTIME_EAGAIN;
}

/* Sends readers to copy 1 so that copy 0 can change. Already odd (a writer
 * died between the two steps): readers are on copy 1, which is whole. */
static VT_ALWAYS_INLINE void vt_latch_write_odd(volatile uint32_t *s)
{
	uint32_t i = vt_seq_load(s);

	if (!(i & 1u)) {
		/* copy 1 whole before readers switch to it */
		vt_wmb();
		vt_store32(s, vt_le32(i + 1u));
	}
	/* readers on copy 1 before the first store to copy 0 */
	vt_wmb();
}

/* Sends readers back to copy 0 (updated) so that copy 1 can follow. */
static VT_ALWAYS_INLINE void vt_latch_write_even(volatile uint32_t *s)
{
	/* copy 0 whole before readers switch back to it */
	vt_wmb();
	vt_store32(s, vt_le32(vt_seq_load(s) + 1u));
	/* readers on copy 0 before the first store to copy 1 */
	vt_wmb();
}

#endif
