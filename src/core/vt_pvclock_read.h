/* SPDX-License-Identifier: MIT */
/* The pvclock seqlock reader as an always-inline template. Passing a
 * static inline counter function as a constant lets a platform shim get a
 * reader with the counter inlined (no indirect call); the library's
 * vtime_pvclock_read() instantiates it with the caller's function pointer. */
#ifndef VT_PVCLOCK_READ_H
#define VT_PVCLOCK_READ_H

#include <vtime/error.h>
#include <vtime/pvclock.h>

#include "vt_atomic.h"
#include "vt_endian.h"
#include "vt_math.h"
#include "vt_port.h"
#include "vt_seq.h"

/* Copies the body of rec (host byte order) into out; no ordering of its own. */
static VT_ALWAYS_INLINE void vt_pvclock_load_body(const volatile struct vtime_pvclock_vcpu_time_info *rec,
						  struct vtime_pvclock_vcpu_time_info *out)
{
	out->tsc_timestamp = vt_le64(vt_load64(&rec->tsc_timestamp));
	out->system_time = vt_le64(vt_load64(&rec->system_time));
	out->tsc_to_system_mul = vt_le32(vt_load32(&rec->tsc_to_system_mul));
	out->tsc_shift = (int8_t)vt_load8((const volatile uint8_t *)&rec->tsc_shift);
	out->flags = vt_load8(&rec->flags);
}

static VT_ALWAYS_INLINE int vt_pvclock_check(const struct vtime_pvclock_vcpu_time_info *r, uint32_t version)
{
	if (r->tsc_to_system_mul == 0)
		return (version == 0 && r->tsc_timestamp == 0 && r->system_time == 0) ? VTIME_ENODATA
										       : VTIME_EPROTO;
	if (r->tsc_shift < VTIME_PVCLOCK_SHIFT_MIN || r->tsc_shift > VTIME_PVCLOCK_SHIFT_MAX)
		return VTIME_EPROTO;
	return 0;
}

/* What one try of the window reads: the body, then the counter. */
struct vt_pvclock_window {
	const volatile struct vtime_pvclock_vcpu_time_info *rec;
	struct vtime_pvclock_vcpu_time_info *body;
	uint64_t (*counter)(void *);
	void *ctx;
	uint64_t tsc;
};

static VT_ALWAYS_INLINE uint64_t vt_pvclock_window_body(void *p)
{
	struct vt_pvclock_window *w = (struct vt_pvclock_window *)p;

	vt_pvclock_load_body(w->rec, w->body);
	w->tsc = w->counter ? w->counter(w->ctx) : 0;
	return w->tsc;
}

/* Seqlock read of rec (vt_seq_read), calling counter(ctx) inside the window
 * after the body loads. With counter NULL no counter is read (snapshot).
 * Returns 0 with *body and *tsc filled, or a VTIME_E* code. */
static VT_ALWAYS_INLINE int vt_pvclock_read_window(const volatile struct vtime_pvclock_vcpu_time_info *rec,
						   uint64_t (*counter)(void *), void *ctx, unsigned max_tries,
						   struct vtime_pvclock_vcpu_time_info *body, uint64_t *tsc)
{
	struct vt_pvclock_window w = { rec, body, counter, ctx, 0 };
	uint32_t v;
	int err = vt_seq_read(&rec->version, max_tries, vt_pvclock_window_body, &w, &v);

	if (err)
		return err;
	body->version = v;
	*tsc = w.tsc;
	return vt_pvclock_check(body, v);
}

/* A counter behind the record by gap ticks: system_time minus the scaled gap,
 * saturating at 0. Computed without wrapping (unlike the forward direction,
 * which must wrap like the reference): a pre-shifted gap beyond 64 bits is
 * carried into a 96-bit product instead of losing its top bits. */
static inline uint64_t vt_pvclock_behind(const struct vtime_pvclock_vcpu_time_info *r, uint64_t gap)
{
	uint64_t mul = r->tsc_to_system_mul, st = r->system_time, hi, t, d;
	int shift = r->tsc_shift;

	if (shift <= 0 || shift >= 64 || (gap >> (64 - shift)) == 0) {
		d = vt_mul_frac32(vt_shift64(gap, shift), (uint32_t)mul);
	} else {
		/* (hi:lo) = gap << shift; scaled = hi*mul*2^32 + (lo*mul >> 32) */
		hi = gap >> (64 - shift);
		t = hi * mul; /* hi < 2^63 and mul < 2^32: check before trusting */
		if ((hi >> 32) != 0 || (t >> 32) != 0)
			return mul ? 0 : st; /* scaled gap >= 2^64 > system_time */
		d = (t << 32) + vt_mul_frac32(gap << shift, (uint32_t)mul);
		if (d < (t << 32))
			return 0; /* carried past 2^64 */
	}
	return d >= st ? 0 : st - d;
}

/* The conversion, inline for fast paths; see vtime_pvclock_time(). For a
 * delta below 2^63 this is the reference formula, wrapping included. */
static VT_ALWAYS_INLINE uint64_t vt_pvclock_scale(const struct vtime_pvclock_vcpu_time_info *r, uint64_t tsc)
{
	uint64_t delta = tsc - r->tsc_timestamp;

	if ((delta >> 63) != 0)
		return vt_pvclock_behind(r, r->tsc_timestamp - tsc);
	return r->system_time + vt_mul_frac32(vt_shift64(delta, r->tsc_shift), r->tsc_to_system_mul);
}

#endif
