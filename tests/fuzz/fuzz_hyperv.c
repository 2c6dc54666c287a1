/* SPDX-License-Identifier: MIT */
/* The Hyper-V reference TSC page (include/vtime/hyperv.h, docs/hyperv.md)
 * on pages and records from anyone. The input: the page's first 24 bytes as
 * they lie in memory (little-endian), a count and that many counters, a pvclock record (host
 * order, a selector repairing fields), a realistic rate for the agreement
 * check, then a writer scenario (publishes and invalidations with the guest
 * scribbling on the sequence between them).
 *   - the reader and the snapshot refuse sequence 0 and 0xFFFFFFFF
 *     (VTIME_ENOTVALID, output untouched) and otherwise return the page's
 *     scale and offset, the counter they read and the conversion;
 *   - vtime_hv_tsc_page_time() is ((tsc * scale) >> 64) + offset, from the
 *     limbs of tests/core/vt_oracle.h, and non-decreasing in tsc before the
 *     sum wraps;
 *   - vtime_hv_tsc_page_from_pvclock() is bit-exact with the transcription
 *     of KVM's compute_tsc_page_parameters (tests/abis/vt_abi_oracle.h: the
 *     limbs, and __int128 where the compiler has it, cross-checked); ERANGE
 *     exactly where that transcription publishes no page, EPROTO exactly for
 *     shifts outside [-31, 31], the outputs untouched on refusal;
 *   - for records from vtime_scale_init() at 10.5 MHz .. 10 GHz the page
 *     agrees with the record within 2 x 100 ns of rounding (up to 2^40
 *     ticks ahead);
 *   - the writer never publishes 0 or 0xFFFFFFFF, publishes the next of the
 *     page's valid sequence, else of last, else 1; invalidate stores 0 and
 *     returns the last valid sequence; the page then reads back exactly. */
#include <vtime/error.h>
#include <vtime/hyperv.h>
#include <vtime/pvclock.h>
#include <vtime/scale.h>

#include "abis/vt_abi_oracle.h"
#include "fuzz.h"

static struct vtime_hv_tsc_page page;

/* the sequence as the guest stores it (little-endian) */
static void put_seq(uint32_t v)
{
	uint8_t *p = (uint8_t *)&page;
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t oracle_hv_time(uint64_t scale, int64_t offset, uint64_t tsc)
{
	return o128_lo64(o128_shr(o128_mul(tsc, scale), 64)) + (uint64_t)offset;
}

static bool seq_valid(uint32_t s)
{
	return s != 0 && s != 0xffffffffu;
}

static uint32_t seq_next(uint32_t s)
{
	s++;
	return seq_valid(s) ? s : 1;
}

static void reader(struct fz *f)
{
	uint8_t *raw = (uint8_t *)&page;
	uint32_t seq;
	uint64_t scale, tscs[8];
	int64_t offset;
	unsigned n = 0;
	struct vtime_hv_tsc_reading r, untouched;
	int want, err;

	for (unsigned i = 0; i < 24; i++)
		raw[i] = fz_u8(f);
	{
		uint8_t fix = fz_u8(f);
		if (fix & 1u)
			memset(raw, (fix & 2u) ? 0xff : 0, 4); /* the two invalid sequences */
	}
	seq = (uint32_t)fz_le(raw, 4);
	scale = fz_le(raw + 8, 8);
	offset = (int64_t)fz_le(raw + 16, 8);
	want = seq_valid(seq) ? 0 : VTIME_ENOTVALID;
	for (unsigned want = fz_u8(f) % 9u; n < want;)
		tscs[n++] = fz_edge64(f);

	memset(&r, 0x5a, sizeof r);
	untouched = r;
	err = vtime_hv_tsc_page_snapshot(&page, 3, &r);
	FZ_CHECK(err == want, "snapshot of sequence %u returned %d", seq, err);
	if (err == 0)
		FZ_CHECK(r.sequence == seq && r.tsc_scale == scale && r.tsc_offset == offset && r.time == 0 &&
				 r.tsc == 0 && r.pad == 0,
			 "snapshot is not the page's little-endian fields");
	else
		FZ_CHECK(memcmp(&r, &untouched, sizeof r) == 0, "snapshot refused but wrote *out");
	for (unsigned i = 0; i < n; i++) {
		uint64_t t = tscs[i], got = vtime_hv_tsc_page_time(scale, offset, t);
		struct vtime_counter ctr = { fz_fixed_counter, &t };

		FZ_CHECK(got == oracle_hv_time(scale, offset, t), "time(scale %llx offset %lld tsc %llu) = %llu",
			 FZ_U(scale), (long long)offset, FZ_U(t), FZ_U(got));
		memset(&r, 0x5a, sizeof r);
		err = vtime_hv_tsc_page_read(&page, &ctr, 3, &r);
		FZ_CHECK(err == want, "read of sequence %u returned %d", seq, err);
		if (err == 0)
			FZ_CHECK(r.sequence == seq && r.tsc_scale == scale && r.tsc_offset == offset && r.tsc == t &&
					 r.time == got && r.pad == 0,
				 "the reading is not the conversion at the counter read");
		else
			FZ_CHECK(memcmp(&r, &untouched, sizeof r) == 0, "read refused but wrote *out");
		for (unsigned j = 0; j < i; j++) {
			uint64_t a = tscs[j] < t ? tscs[j] : t, b = tscs[j] < t ? t : tscs[j];
			/* the scaled part (time - offset) never decreases with the counter */
			FZ_CHECK(vtime_hv_tsc_page_time(scale, 0, a) <= vtime_hv_tsc_page_time(scale, 0, b),
				 "tsc %llu reads later than tsc %llu", FZ_U(a), FZ_U(b));
		}
	}
}

static void from_pvclock(struct fz *f)
{
	struct vtime_pvclock_vcpu_time_info rec;
	uint8_t sel = fz_u8(f);
	uint64_t scale = 0x1111, lscale = 0;
	int64_t offset = 0x2222, loffset = 0;
	bool page_ok;
	int err, want;

	memset(&rec, 0, sizeof rec);
	rec.version = fz_u32(f);
	rec.tsc_timestamp = fz_edge64(f);
	rec.system_time = fz_edge64(f);
	rec.tsc_to_system_mul = fz_u32(f);
	rec.tsc_shift = (int8_t)fz_u8(f);
	rec.flags = fz_u8(f);
	if (sel & 1u)
		rec.tsc_shift = (int8_t)((int)((uint8_t)rec.tsc_shift % 63u) - 31); /* [-31, 31] */
	if (sel & 2u)
		rec.flags |= VTIME_PVCLOCK_TSC_STABLE;
	if (sel & 4u) /* next to KVM's bound 100 << (32 - shift) */
		rec.tsc_to_system_mul = (uint32_t)((100ull << (32 - (rec.tsc_shift < -31 || rec.tsc_shift > 31 ? 0
													   : rec.tsc_shift))) -
						   (sel >> 4));
	if (sel & 8u)
		rec.tsc_to_system_mul |= 0x80000000u;

	err = vtime_hv_tsc_page_from_pvclock(&rec, &scale, &offset);
	if (rec.tsc_shift < -31 || rec.tsc_shift > 31) {
		FZ_CHECK(err == VTIME_EPROTO, "shift %d outside KVM's domain gave %d", rec.tsc_shift, err);
		FZ_CHECK(scale == 0x1111 && offset == 0x2222, "refused but wrote the outputs");
		return;
	}
	page_ok = kvm_hv_page_limbs(&rec, &lscale, &loffset);
#ifdef __SIZEOF_INT128__
	{
		uint64_t iscale = 0;
		int64_t ioffset = 0;
		bool iok = kvm_hv_page_i128(&rec, &iscale, &ioffset);
		FZ_CHECK(iok == page_ok && (!iok || (iscale == lscale && ioffset == loffset)),
			 "the two transcriptions of KVM disagree (harness)");
	}
#endif
	want = page_ok ? 0 : VTIME_ERANGE;
	FZ_CHECK(err == want, "from_pvclock(mul %u shift %d flags %x) returned %d, KVM %s a page", rec.tsc_to_system_mul,
		 rec.tsc_shift, rec.flags, err, page_ok ? "publishes" : "publishes no");
	if (err == 0)
		FZ_CHECK(scale == lscale && offset == loffset,
			 "from_pvclock gave scale %llx offset %lld, KVM scale %llx offset %lld", FZ_U(scale),
			 (long long)offset, FZ_U(lscale), (long long)loffset);
	else
		FZ_CHECK(scale == 0x1111 && offset == 0x2222, "refused but wrote the outputs");
}

/* records as KVM makes them, for the agreement with kvmclock */
static void agreement(struct fz *f)
{
	uint64_t hz = 10500000ull + fz_u64(f) % 9989500000ull;
	struct vtime_scale s;
	struct vtime_pvclock_vcpu_time_info rec;
	uint64_t scale;
	int64_t offset;
	int err;

	if (vtime_scale_init(&s, hz, VTIME_NSEC_PER_SEC) != 0)
		return;
	memset(&rec, 0, sizeof rec);
	rec.tsc_to_system_mul = s.mul;
	rec.tsc_shift = s.shift;
	rec.tsc_timestamp = fz_u64(f) >> 2;
	rec.system_time = fz_u64(f) >> 4;
	rec.flags = VTIME_PVCLOCK_TSC_STABLE;
	err = vtime_hv_tsc_page_from_pvclock(&rec, &scale, &offset);
	FZ_CHECK(err == 0, "no page for a %llu Hz record (%d)", FZ_U(hz), err);
	for (unsigned k = 0; k < 4 && fz_left(f); k++) {
		uint64_t delta = fz_u64(f) >> (24 + fz_u8(f) % 40u), tsc = rec.tsc_timestamp + delta;
		int64_t d = (int64_t)(vtime_hv_tsc_page_time(scale, offset, tsc) * 100 - vtime_pvclock_time(&rec, tsc));
		FZ_CHECK(d >= -202 && d <= 101, "%llu Hz: page * 100 - kvmclock = %lld ns at %llu ticks", FZ_U(hz),
			 (long long)d, FZ_U(delta));
	}
}

static void writer(struct fz *f)
{
	uint32_t last = fz_bool(f) ? fz_u32(f) : 0;

	memset(&page, 0, sizeof page);
	put_seq(fz_bool(f) ? fz_u32(f) : 0);
	for (unsigned step = 0; step < 12 && fz_left(f); step++) {
		uint8_t op = fz_u8(f);
		uint32_t before, got, next;
		uint64_t scale;
		int64_t offset;
		struct vtime_hv_tsc_reading r;

		if (op & 0x80u) /* the guest scribbles on its page's sequence */
			put_seq((op & 0x40u) ? 0xffffffffu - (op & 3u) : fz_u32(f));
		before = (uint32_t)fz_le((const uint8_t *)&page, 4);
		if (op & 1u) {
			got = vtime_hv_tsc_page_invalidate(&page, last);
			next = seq_valid(before) ? before : seq_valid(last) ? last : 0;
			FZ_CHECK(got == next && page.tsc_sequence == 0,
				 "invalidate over %u (last %u) returned %u, page %u", before, last, got,
				 page.tsc_sequence);
			FZ_CHECK(vtime_hv_tsc_page_snapshot(&page, 3, &r) == VTIME_ENOTVALID,
				 "an invalidated page was read");
			last = got;
			continue;
		}
		scale = fz_edge64(f);
		offset = (int64_t)fz_edge64(f);
		got = vtime_hv_tsc_page_publish(&page, scale, offset, last);
		next = seq_next(seq_valid(before) ? before : seq_valid(last) ? last : 0);
		FZ_CHECK(seq_valid(got), "publish returned sequence %u", got);
		FZ_CHECK(got == next && (uint32_t)fz_le((const uint8_t *)&page, 4) == got,
			 "publish over %u (last %u) gave %u, expected %u", before, last, got, next);
		FZ_CHECK(vtime_hv_tsc_page_snapshot(&page, 3, &r) == 0 && r.sequence == got && r.tsc_scale == scale &&
				 r.tsc_offset == offset && page.reserved1 == 0,
			 "the published page does not read back");
		last = (op & 2u) ? fz_u32(f) : got; /* a writer that forgot, or remembers */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);

	reader(&f);
	from_pvclock(&f);
	agreement(&f);
	writer(&f);
	return 0;
}
