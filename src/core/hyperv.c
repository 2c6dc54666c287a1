/* SPDX-License-Identifier: MIT */
/* The Hyper-V reference TSC page: reader, pure conversion, KVM's
 * computation from a pvclock record, writer (include/vtime/hyperv.h,
 * docs/hyperv.md). The sequence protocol is vt_seq.h's zero-invalid
 * flavour; fields go through vt_le*() (the page is little-endian). */
#include <stdint.h>
#include <vtime/error.h>
#include <vtime/hyperv.h>
#include <vtime/pvclock.h>

#include "vt_atomic.h"
#include "vt_endian.h"
#include "vt_math.h"
#include "vt_port.h"
#include "vt_seq.h"

typedef struct vtime_hv_tsc_page vt_hv_page_t;

static VT_ALWAYS_INLINE uint64_t vt_hv_time(uint64_t tsc_scale, uint64_t tsc_offset, uint64_t tsc)
{
	return vt_mul64(tsc, tsc_scale).hi + tsc_offset;
}

uint64_t vtime_hv_tsc_page_time(uint64_t tsc_scale, int64_t tsc_offset, uint64_t tsc)
{
	return vt_hv_time(tsc_scale, (uint64_t)tsc_offset, tsc);
}

/* ---- reader ---- */

struct vt_hv_window {
	const volatile vt_hv_page_t *page;
	uint64_t scale;
	uint64_t offset;
	uint64_t (*counter)(void *);
	void *ctx;
	uint64_t tsc;
};

static VT_ALWAYS_INLINE uint64_t vt_hv_window_body(void *p)
{
	struct vt_hv_window *w = (struct vt_hv_window *)p;

	w->scale = vt_le64(vt_load64(&w->page->tsc_scale));
	w->offset = vt_le64(vt_load64((const volatile uint64_t *)&w->page->tsc_offset));
	w->tsc = w->counter ? w->counter(w->ctx) : 0;
	return w->tsc;
}

static VT_ALWAYS_INLINE int vt_hv_copy(const volatile vt_hv_page_t *page, uint64_t (*counter)(void *), void *ctx,
				       unsigned max_tries, struct vtime_hv_tsc_reading *out)
{
	struct vt_hv_window w = { page, 0, 0, counter, ctx, 0 };
	uint32_t v;
	int err = vt_seqz_read(&page->tsc_sequence, max_tries, vt_hv_window_body, &w, &v);

	if (err)
		return err;
	out->tsc_scale = w.scale;
	out->tsc_offset = (int64_t)w.offset;
	out->tsc = w.tsc;
	out->time = counter ? vt_hv_time(w.scale, w.offset, w.tsc) : 0;
	out->sequence = v;
	out->pad = 0;
	return 0;
}

int vtime_hv_tsc_page_read(const volatile struct vtime_hv_tsc_page *page, const struct vtime_counter *ctr,
			   unsigned max_tries, struct vtime_hv_tsc_reading *out)
{
	struct vtime_hv_tsc_reading r;
	int err;

	if (!page || !ctr || !ctr->read || !out)
		return VTIME_EINVAL;
	if ((err = vt_hv_copy(page, ctr->read, ctr->ctx, max_tries, &r)))
		return err;
	*out = r;
	return 0;
}

int vtime_hv_tsc_page_snapshot(const volatile struct vtime_hv_tsc_page *page, unsigned max_tries,
			       struct vtime_hv_tsc_reading *out)
{
	struct vtime_hv_tsc_reading r;
	int err;

	if (!page || !out)
		return VTIME_EINVAL;
	if ((err = vt_hv_copy(page, (uint64_t (*)(void *))0, (void *)0, max_tries, &r)))
		return err;
	*out = r;
	return 0;
}

/* ---- KVM's page from a pvclock record ---- */

int vtime_hv_tsc_page_from_pvclock(const struct vtime_pvclock_vcpu_time_info *rec, uint64_t *tsc_scale,
				   int64_t *tsc_offset)
{
	uint64_t max_mul, scale, whole;
	int shift;

	if (!rec || !tsc_scale || !tsc_offset)
		return VTIME_EINVAL;
	shift = rec->tsc_shift;
	if (shift < -31 || shift > 31)
		return VTIME_EPROTO; /* 2^(32 + shift) or 100 << (32 - shift) undefined in KVM's C */
	if (!(rec->flags & VTIME_PVCLOCK_TSC_STABLE))
		return VTIME_ERANGE;
	/* the scale would not fit in 64 bits: KVM's bound, in 64 bits as KVM
	 * computes it (for shift < -25 the top bits of 100 are shifted out) */
	max_mul = 100ull << (32 - shift);
	if (rec->tsc_to_system_mul >= max_mul)
		return VTIME_ERANGE;
	/* floor(2^(32 + shift) * mul / 100): the 96-bit product over 100; the
	 * bound above keeps the quotient below 2^64 */
	if (!vt_div128(vt_mul64(1ull << (32 + shift), rec->tsc_to_system_mul), 100, &scale, (uint64_t *)0))
		return VTIME_ERANGE; /* unreachable: kept for a hostile build of the bound */
	whole = vt_div64(rec->system_time, 100);
	*tsc_scale = scale;
	*tsc_offset = (int64_t)(whole - vt_mul64(rec->tsc_timestamp, scale).hi);
	return 0;
}

/* ---- writer ---- */

uint32_t vtime_hv_tsc_page_publish(volatile struct vtime_hv_tsc_page *page, uint64_t tsc_scale, int64_t tsc_offset,
				   uint32_t last)
{
	uint32_t old = vt_seqz_write_begin(&page->tsc_sequence);

	if (vt_seqz_valid(old))
		last = old;
	else if (!vt_seqz_valid(last))
		last = 0;
	vt_store32(&page->reserved1, 0);
	vt_store64(&page->tsc_scale, vt_le64(tsc_scale));
	vt_store64((volatile uint64_t *)&page->tsc_offset, vt_le64((uint64_t)tsc_offset));
	return vt_seqz_write_end(&page->tsc_sequence, vt_seqz_next(last));
}

uint32_t vtime_hv_tsc_page_invalidate(volatile struct vtime_hv_tsc_page *page, uint32_t last)
{
	uint32_t old = vt_seqz_write_begin(&page->tsc_sequence);

	(void)vt_seqz_write_end(&page->tsc_sequence, VTIME_HV_TSC_SEQUENCE_INVALID);
	if (vt_seqz_valid(old))
		return old;
	return vt_seqz_valid(last) ? last : 0;
}
