/* SPDX-License-Identifier: MIT */
/* VMClock (include/vtime/vmclock.h, docs/vmclock.md) on pages from anyone:
 * a host, a dump, a guest scribbling on the page its VMM publishes.
 * The input is a raw 0x70-byte page as it lies in memory (little-endian),
 * a byte that may repair fields (so that valid pages are common), the
 * length the caller mapped, a count and that many counter values, set_period's
 * arguments, then a writer
 * scenario: a body from the writer's helpers, publishes with events, and
 * guest scribbles between them.
 *   - vtime_vmclock_check() and vtime_vmclock_snapshot() refuse exactly
 *     what the header documents (magic: ENODEV, version: ENOTSUP, size:
 *     EPROTO; a stuck odd seq_count: EAGAIN), the copy is the page's
 *     little-endian fields;
 *   - vtime_vmclock_usable() gives the documented verdict, distinct per
 *     cause (counter_id INVALID: ENOCOUNTER; UNRELIABLE: EUNRELIABLE;
 *     an unknown counter_id, status or time_type: ENOTSUP; period 0:
 *     EPROTO), in the core's order;
 *   - vtime_vmclock_time() agrees with the 512-bit oracle
 *     (tests/abis/vt_abi_oracle.h) for every page and counter, ERANGE
 *     included (outputs untouched then); the error terms agree with it;
 *   - time is non-decreasing in the counter over the signed range; both
 *     bounds are non-decreasing in |counter - counter_value|;
 *   - vtime_vmclock_convert() and vtime_vmclock_read() give the verdicts in
 *     order and a reading that is the conversion (TAI/UTC from the offset,
 *     exactly when it fits; pass-through fields; pad 0);
 *   - the writer: set_period's shift and period and rounded-up rates, exact
 *     against the oracle's integers; set_time round trips exactly; publish
 *     keeps the header, seq_count goes ((s + 1) | 1) + 1 from whatever the
 *     page holds, the markers continue from the page (+1 exactly on the
 *     documented events), GEN_COUNTER_PRESENT sticks; the published page
 *     reads back the body's time exactly at counter_value. */
#include <vtime/error.h>
#include <vtime/vmclock.h>

#include "abis/vt_abi_oracle.h"
#include "fuzz.h"

/* the page's fields, decoded from its bytes independently of the core */
static void decode(const uint8_t *raw, struct vtime_vmclock_abi *s)
{
	memset(s, 0, sizeof *s);
	s->magic = (uint32_t)fz_le(raw + 0x00, 4);
	s->size = (uint32_t)fz_le(raw + 0x04, 4);
	s->version = (uint16_t)fz_le(raw + 0x08, 2);
	s->counter_id = raw[0x0a];
	s->time_type = raw[0x0b];
	s->seq_count = (uint32_t)fz_le(raw + 0x0c, 4);
	s->disruption_marker = fz_le(raw + 0x10, 8);
	s->flags = fz_le(raw + 0x18, 8);
	s->clock_status = raw[0x22];
	s->leap_second_smearing_hint = raw[0x23];
	s->tai_offset_sec = (int16_t)(uint16_t)fz_le(raw + 0x24, 2);
	s->leap_indicator = raw[0x26];
	s->counter_period_shift = raw[0x27];
	s->counter_value = fz_le(raw + 0x28, 8);
	s->counter_period_frac_sec = fz_le(raw + 0x30, 8);
	s->counter_period_esterror_rate_frac_sec = fz_le(raw + 0x38, 8);
	s->counter_period_maxerror_rate_frac_sec = fz_le(raw + 0x40, 8);
	s->time_sec = fz_le(raw + 0x48, 8);
	s->time_frac_sec = fz_le(raw + 0x50, 8);
	s->time_esterror_nanosec = fz_le(raw + 0x58, 8);
	s->time_maxerror_nanosec = fz_le(raw + 0x60, 8);
	s->vm_generation_counter = fz_le(raw + 0x68, 8);
}

static bool same_fields(const struct vtime_vmclock_abi *a, const struct vtime_vmclock_abi *b)
{
	return a->magic == b->magic && a->size == b->size && a->version == b->version &&
	       a->counter_id == b->counter_id && a->time_type == b->time_type && a->seq_count == b->seq_count &&
	       a->disruption_marker == b->disruption_marker && a->flags == b->flags &&
	       a->clock_status == b->clock_status && a->leap_second_smearing_hint == b->leap_second_smearing_hint &&
	       a->tai_offset_sec == b->tai_offset_sec && a->leap_indicator == b->leap_indicator &&
	       a->counter_period_shift == b->counter_period_shift && a->counter_value == b->counter_value &&
	       a->counter_period_frac_sec == b->counter_period_frac_sec &&
	       a->counter_period_esterror_rate_frac_sec == b->counter_period_esterror_rate_frac_sec &&
	       a->counter_period_maxerror_rate_frac_sec == b->counter_period_maxerror_rate_frac_sec &&
	       a->time_sec == b->time_sec && a->time_frac_sec == b->time_frac_sec &&
	       a->time_esterror_nanosec == b->time_esterror_nanosec &&
	       a->time_maxerror_nanosec == b->time_maxerror_nanosec &&
	       a->vm_generation_counter == b->vm_generation_counter && a->pad[0] == 0 && a->pad[1] == 0;
}

static int header_verdict(const struct vtime_vmclock_abi *s, size_t region)
{
	if (s->magic != VTIME_VMCLOCK_MAGIC)
		return VTIME_ENODEV;
	if (s->version != VTIME_VMCLOCK_VERSION)
		return VTIME_ENOTSUP;
	if (s->size < VTIME_VMCLOCK_ABI_SIZE || (region != 0 && s->size > region))
		return VTIME_EPROTO;
	return 0;
}

static int usable_verdict(const struct vtime_vmclock_abi *s)
{
	if (s->counter_id == VTIME_VMCLOCK_COUNTER_INVALID)
		return VTIME_ENOCOUNTER;
	if (s->counter_id != VTIME_VMCLOCK_COUNTER_ARM_VCNT && s->counter_id != VTIME_VMCLOCK_COUNTER_X86_TSC)
		return VTIME_ENOTSUP;
	if (s->clock_status == VTIME_VMCLOCK_STATUS_UNRELIABLE)
		return VTIME_EUNRELIABLE;
	if (s->clock_status > VTIME_VMCLOCK_STATUS_UNRELIABLE || s->time_type > VTIME_VMCLOCK_TIME_MONOTONIC)
		return VTIME_ENOTSUP;
	if (s->counter_period_frac_sec == 0)
		return VTIME_EPROTO;
	return 0;
}

/* a <= b for the oracle's signed numbers */
static bool ob_le(obig a, obig b)
{
	return !ob_neg_p(ob_add(b, ob_neg(a)));
}

/* sec + off inside [0, 2^64), computed in the oracle's integers */
static bool off_fits(uint64_t sec, int off, uint64_t *out)
{
	obig v = ob_u64(sec), o = ob_u64((uint64_t)(off < 0 ? -off : off));
	v = ob_add(v, off < 0 ? ob_neg(o) : o);
	if (ob_neg_p(v) || !ob_fits(v, 2))
		return false;
	*out = ob_word64(v, 0);
	return true;
}

/* The conversion the documents give, from the oracle: returns the verdict. */
static int expected_reading(const struct vtime_vmclock_abi *s, uint64_t c, struct vtime_vmclock_reading *r)
{
	int err = usable_verdict(s);
	bool off_ok = (s->flags & VTIME_VMCLOCK_FLAG_TAI_OFFSET_VALID) != 0;

	memset(r, 0, sizeof *r);
	if (err)
		return err;
	if ((err = oracle_vmclock_time(s, c, &r->sec, &r->nsec)))
		return err;
	oracle_vmclock_error(s, c, &r->maxerror_ns, &r->esterror_ns);
	r->counter = c;
	if (s->time_type == VTIME_VMCLOCK_TIME_TAI) {
		r->tai_sec = r->sec;
		r->valid |= VTIME_VMCLOCK_HAVE_TAI;
		if (off_ok && off_fits(r->sec, -(int)s->tai_offset_sec, &r->utc_sec))
			r->valid |= VTIME_VMCLOCK_HAVE_UTC;
	} else if (s->time_type == VTIME_VMCLOCK_TIME_UTC) {
		r->utc_sec = r->sec;
		r->valid |= VTIME_VMCLOCK_HAVE_UTC;
		if (off_ok && off_fits(r->sec, s->tai_offset_sec, &r->tai_sec))
			r->valid |= VTIME_VMCLOCK_HAVE_TAI;
	}
	r->disruption_marker = s->disruption_marker;
	r->vm_generation_counter = s->vm_generation_counter;
	r->flags = s->flags;
	r->seq = s->seq_count;
	r->tai_offset_sec = s->tai_offset_sec;
	r->time_type = s->time_type;
	r->clock_status = s->clock_status;
	r->leap_indicator = s->leap_indicator;
	r->counter_id = s->counter_id;
	return 0;
}

/* Every pure function on snapshot s at counter c, against the oracle. */
static void check_at(const struct vtime_vmclock_abi *s, uint64_t c)
{
	uint64_t sec = 0x5a5a, osec = 0, me, ee, ome, oee;
	uint32_t nsec = 0xa5a5, onsec = 0;
	int err = vtime_vmclock_time(s, c, &sec, &nsec), oerr = oracle_vmclock_time(s, c, &osec, &onsec);
	struct vtime_vmclock_reading got, want;

	FZ_CHECK(err == oerr, "time(counter %llu) returned %d, the oracle %d (cv %llu period %llu shift %u sec %llu)",
		 FZ_U(c), err, oerr, FZ_U(s->counter_value), FZ_U(s->counter_period_frac_sec),
		 s->counter_period_shift, FZ_U(s->time_sec));
	if (err == 0)
		FZ_CHECK(sec == osec && nsec == onsec && nsec < 1000000000u,
			 "time(counter %llu) = %llu.%09u, oracle %llu.%09u", FZ_U(c), FZ_U(sec), nsec, FZ_U(osec),
			 onsec);
	else
		FZ_CHECK(sec == 0x5a5a && nsec == 0xa5a5, "time refused with %d but wrote its outputs", err);
	me = vtime_vmclock_maxerror(s, c);
	ee = vtime_vmclock_esterror(s, c);
	oracle_vmclock_error(s, c, &ome, &oee);
	FZ_CHECK(me == ome && ee == oee, "errors at %llu: max %llu est %llu, oracle %llu %llu (flags %llx)", FZ_U(c),
		 FZ_U(me), FZ_U(ee), FZ_U(ome), FZ_U(oee), FZ_U(s->flags));

	err = expected_reading(s, c, &want);
	memset(&got, 0x77, sizeof got);
	oerr = vtime_vmclock_convert(s, c, &got);
	FZ_CHECK(oerr == err, "convert returned %d, expected %d", oerr, err);
	if (err == 0)
		FZ_CHECK(memcmp(&got, &want, sizeof got) == 0,
			 "convert's reading differs (sec %llu/%llu tai %llu/%llu utc %llu/%llu valid %u/%u)",
			 FZ_U(got.sec), FZ_U(want.sec), FZ_U(got.tai_sec), FZ_U(want.tai_sec), FZ_U(got.utc_sec),
			 FZ_U(want.utc_sec), got.valid, want.valid);
	else {
		struct vtime_vmclock_reading untouched;
		memset(&untouched, 0x77, sizeof untouched);
		FZ_CHECK(memcmp(&got, &untouched, sizeof got) == 0, "convert refused with %d but wrote *out", err);
	}
}

/* Pairs: time non-decreasing along the signed counter order, the bounds
 * non-decreasing in the counter distance. */
static void check_pair(const struct vtime_vmclock_abi *s, uint64_t a, uint64_t b)
{
	obig da = oracle_vmclock_d(s, a), db = oracle_vmclock_d(s, b), ma, mb;
	uint64_t sa, sb;
	uint32_t na, nb;

	if (!ob_le(da, db)) {
		uint64_t x = a;
		obig y = da;
		a = b;
		b = x;
		da = db;
		db = y;
	}
	if (vtime_vmclock_time(s, a, &sa, &na) == 0 && vtime_vmclock_time(s, b, &sb, &nb) == 0)
		FZ_CHECK(sa < sb || (sa == sb && na <= nb),
			 "counter %llu reads %llu.%09u, later counter %llu reads %llu.%09u", FZ_U(a), FZ_U(sa), na,
			 FZ_U(b), FZ_U(sb), nb);
	ma = ob_neg_p(da) ? ob_neg(da) : da;
	mb = ob_neg_p(db) ? ob_neg(db) : db;
	if (!ob_le(ma, mb)) {
		uint64_t x = a;
		obig y = ma;
		a = b;
		b = x;
		ma = mb;
		mb = y;
	}
	FZ_CHECK(vtime_vmclock_maxerror(s, a) <= vtime_vmclock_maxerror(s, b) &&
			 vtime_vmclock_esterror(s, a) <= vtime_vmclock_esterror(s, b),
		 "a bound shrank with the counter distance (counters %llu, %llu from %llu)", FZ_U(a), FZ_U(b),
		 FZ_U(s->counter_value));
}

static uint8_t page[0x70] __attribute__((aligned(8)));

static void live_read(uint64_t c, int want_err, const struct vtime_vmclock_abi *s)
{
	struct vtime_counter ctr = { fz_fixed_counter, &c };
	struct vtime_vmclock_reading got, want;
	int err;

	memset(&got, 0x33, sizeof got);
	err = vtime_vmclock_read((const volatile struct vtime_vmclock_abi *)page, &ctr, 3, &got);
	if (want_err == 0)
		want_err = vtime_vmclock_convert(s, c, &want);
	FZ_CHECK(err == want_err, "read(counter %llu) returned %d, expected %d", FZ_U(c), err, want_err);
	if (err == 0)
		FZ_CHECK(memcmp(&got, &want, sizeof got) == 0 && got.counter == c,
			 "read's reading is not the conversion of its copy at the counter it read");
}

/* ---- the writer ---- */

/* period * hz <= 2^(64 + shift) < (period + 1) * hz, and 2^shift < hz <= 2^(shift + 1) (or shift 63) */
static void check_set_period(struct fz *f)
{
	struct vtime_vmclock_abi b, before;
	uint64_t hz = fz_edge64(f), maxp = fz_bool(f) ? VTIME_VMCLOCK_UNKNOWN : fz_edge64(f),
		 estp = fz_bool(f) ? VTIME_VMCLOCK_UNKNOWN : fz_edge64(f);
	int err;

	memset(&b, 0, sizeof b);
	b.flags = fz_u64(f);
	before = b;
	err = vtime_vmclock_set_period(&b, hz, maxp, estp);
	if (hz < 2) {
		FZ_CHECK(err == VTIME_EINVAL, "set_period(hz %llu) returned %d", FZ_U(hz), err);
		return;
	}
	if (err == VTIME_ERANGE) {
		/* only a rate beyond 64 bits: ceil(period * ppb / 10^9) >= 2^64 */
		obig one;
		unsigned sh = 0;
		uint64_t period;
		while (sh < 63 && (1ull << (sh + 1)) < hz)
			sh++;
		one = ob_shl(ob_u64(1), 64u + sh);
		/* period by bisection-free division: the largest p with p * hz <= 2^(64 + sh) */
		period = 0;
		for (int bit = 63; bit >= 0; bit--) {
			uint64_t p = period | (1ull << bit);
			if (ob_le(ob_mul_u64(ob_u64(p), hz), one))
				period = p;
		}
		{
			obig lim = ob_mul_u64(ob_u64(UINT64_MAX), 1000000000ull);
			bool big = (maxp != VTIME_VMCLOCK_UNKNOWN && !ob_le(ob_mul_u64(ob_u64(period), maxp), lim)) ||
				   (estp != VTIME_VMCLOCK_UNKNOWN && !ob_le(ob_mul_u64(ob_u64(period), estp), lim));
			FZ_CHECK(big, "set_period(hz %llu) refused with ERANGE, but both rates fit", FZ_U(hz));
		}
		FZ_CHECK(memcmp(&b, &before, sizeof b) == 0, "set_period refused but changed the body");
		return;
	}
	FZ_CHECK(err == 0, "set_period(hz %llu) returned %d", FZ_U(hz), err);
	{
		unsigned sh = b.counter_period_shift;
		obig one = ob_shl(ob_u64(1), 64u + sh), p = ob_mul_u64(ob_u64(b.counter_period_frac_sec), hz);
		FZ_CHECK(sh <= 63 && (1ull << sh) < hz && (sh == 63 || hz <= (1ull << (sh + 1))),
			 "shift %u is not the largest with 2^shift < hz %llu", sh, FZ_U(hz));
		FZ_CHECK(ob_le(p, one) && !ob_le(ob_add(p, ob_u64(hz)), one),
			 "period %llu is not floor(2^(64 + %u) / %llu)", FZ_U(b.counter_period_frac_sec), sh, FZ_U(hz));
	}
	{
		const uint64_t ppb[2] = { maxp, estp };
		const uint64_t rate[2] = { b.counter_period_maxerror_rate_frac_sec,
					   b.counter_period_esterror_rate_frac_sec };
		const uint64_t flag[2] = { VTIME_VMCLOCK_FLAG_PERIOD_MAXERROR_VALID,
					   VTIME_VMCLOCK_FLAG_PERIOD_ESTERROR_VALID };
		for (int i = 0; i < 2; i++) {
			if (ppb[i] == VTIME_VMCLOCK_UNKNOWN) {
				FZ_CHECK(rate[i] == 0 && !(b.flags & flag[i]), "unknown ppb left a rate or its flag");
				continue;
			}
			/* rate * 10^9 >= period * ppb > (rate - 1) * 10^9 */
			obig want = ob_mul_u64(ob_u64(b.counter_period_frac_sec), ppb[i]),
			     have = ob_mul_u64(ob_u64(rate[i]), 1000000000ull);
			FZ_CHECK((b.flags & flag[i]) && ob_le(want, have) &&
					 (rate[i] == 0 || !ob_le(want, ob_mul_u64(ob_u64(rate[i] - 1), 1000000000ull))),
				 "rate %llu is not ceil(period %llu * ppb %llu / 10^9)", FZ_U(rate[i]),
				 FZ_U(b.counter_period_frac_sec), FZ_U(ppb[i]));
		}
		FZ_CHECK((b.flags & ~(flag[0] | flag[1])) == (before.flags & ~(flag[0] | flag[1])),
			 "set_period changed flags it does not own");
	}
}

struct body_in {
	struct vtime_vmclock_abi b;
	uint64_t counter, sec;
	uint32_t nsec;
	uint64_t maxe, este;
	bool timed;
};

static void make_body(struct fz *f, struct body_in *in)
{
	uint8_t sel = fz_u8(f);
	struct vtime_vmclock_abi *b = &in->b;
	int err;

	memset(in, 0, sizeof *in);
	b->flags = (fz_u16(f) & 0x3ffu) & ~(uint64_t)(sel & 0x80 ? 0 : VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT);
	b->clock_status = sel & 8 ? fz_u8(f) : (uint8_t)(sel % 4);
	b->leap_second_smearing_hint = fz_u8(f) % 3;
	b->tai_offset_sec = (int16_t)fz_u16(f);
	b->leap_indicator = fz_u8(f) % 6;
	if (vtime_vmclock_set_period(b, sel & 1 ? fz_edge64(f) : 1000000000ull + fz_u32(f),
				     sel & 2 ? fz_edge64(f) : VTIME_VMCLOCK_UNKNOWN,
				     sel & 4 ? fz_u16(f) : VTIME_VMCLOCK_UNKNOWN) != 0)
		(void)vtime_vmclock_set_period(b, 2599999000ull, VTIME_VMCLOCK_UNKNOWN, VTIME_VMCLOCK_UNKNOWN);
	in->counter = fz_edge64(f);
	in->sec = fz_bool(f) ? fz_edge64(f) : 1700000000ull + fz_u32(f);
	in->nsec = fz_u32(f);
	in->maxe = fz_bool(f) ? VTIME_VMCLOCK_UNKNOWN : fz_edge64(f);
	in->este = fz_bool(f) ? VTIME_VMCLOCK_UNKNOWN : fz_edge64(f);
	err = vtime_vmclock_set_time(b, in->counter, in->sec, in->nsec, in->maxe, in->este);
	if (in->nsec >= 1000000000u) {
		FZ_CHECK(err == VTIME_EINVAL, "set_time(nsec %u) returned %d", in->nsec, err);
		in->nsec %= 1000000000u;
		err = vtime_vmclock_set_time(b, in->counter, in->sec, in->nsec, in->maxe, in->este);
	}
	FZ_CHECK(err == 0, "set_time returned %d", err);
	FZ_CHECK(((b->flags & VTIME_VMCLOCK_FLAG_TIME_MAXERROR_VALID) != 0) == (in->maxe != VTIME_VMCLOCK_UNKNOWN) &&
			 ((b->flags & VTIME_VMCLOCK_FLAG_TIME_ESTERROR_VALID) != 0) ==
				 (in->este != VTIME_VMCLOCK_UNKNOWN),
		 "set_time's error flags do not say which errors were given");
	{
		uint64_t s = 0;
		uint32_t n = 0;
		FZ_CHECK(vtime_vmclock_time(b, in->counter, &s, &n) == 0 && s == in->sec && n == in->nsec,
			 "set_time(%llu.%09u) reads back %llu.%09u", FZ_U(in->sec), in->nsec, FZ_U(s), n);
	}
	in->timed = true;
}

static void writer(struct fz *f)
{
	static uint8_t pg[256] __attribute__((aligned(8)));
	volatile struct vtime_vmclock_abi *clk = (volatile struct vtime_vmclock_abi *)pg;
	struct vtime_vmclock_abi s;
	uint32_t size = VTIME_VMCLOCK_ABI_SIZE + fz_u8(f);
	uint8_t cid = fz_u8(f), tt = fz_u8(f);
	int err;

	memset(pg, 0xee, sizeof pg);
	err = vtime_vmclock_init(clk, size, cid, tt);
	if (tt > VTIME_VMCLOCK_TIME_MONOTONIC) {
		FZ_CHECK(err == VTIME_EINVAL, "init(time_type %u) returned %d", tt, err);
		tt %= 3;
		err = vtime_vmclock_init(clk, size, cid, tt);
	}
	FZ_CHECK(err == 0, "init returned %d", err);
	decode(pg, &s);
	FZ_CHECK(s.magic == VTIME_VMCLOCK_MAGIC && s.size == size && s.version == 1 && s.counter_id == cid &&
			 s.time_type == tt && !(s.seq_count & 1) && s.disruption_marker == 0 && s.flags == 0 &&
			 s.vm_generation_counter == 0 && s.clock_status == 0,
		 "init laid out another page");
	for (unsigned step = 0; step < 8 && fz_left(f); step++) {
		struct body_in in;
		struct vtime_vmclock_abi before, after, snap;
		unsigned events;
		uint32_t seq;

		/* the guest scribbles on its page */
		for (unsigned k = fz_u8(f) & 3u; k; k--) {
			uint8_t at = fz_u8(f) % 0x70;
			pg[at] = fz_u8(f);
		}
		make_body(f, &in);
		events = fz_u8(f);
		decode(pg, &before);
		seq = vtime_vmclock_publish(clk, &in.b, events);
		decode(pg, &after);
		FZ_CHECK(seq == (((before.seq_count + 1) | 1u) + 1) && after.seq_count == seq,
			 "publish over seq_count %u gave %u (page %u)", before.seq_count, seq, after.seq_count);
		FZ_CHECK(after.magic == before.magic && after.size == before.size &&
				 after.version == before.version && after.counter_id == before.counter_id &&
				 after.time_type == before.time_type,
			 "publish changed the constant header");
		FZ_CHECK(after.disruption_marker == before.disruption_marker + ((events & 3u) ? 1u : 0u),
			 "marker %llu -> %llu with events %x", FZ_U(before.disruption_marker),
			 FZ_U(after.disruption_marker), events);
		FZ_CHECK(after.vm_generation_counter == before.vm_generation_counter + ((events & 2u) ? 1u : 0u),
			 "generation %llu -> %llu with events %x", FZ_U(before.vm_generation_counter),
			 FZ_U(after.vm_generation_counter), events);
		FZ_CHECK(after.flags == (in.b.flags | (before.flags & VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT) |
					 ((events & 2u) ? VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT : 0)),
			 "flags %llx published for body %llx over %llx", FZ_U(after.flags), FZ_U(in.b.flags),
			 FZ_U(before.flags));
		FZ_CHECK(pg[0x20] == 0 && pg[0x21] == 0 && after.clock_status == in.b.clock_status &&
				 after.leap_second_smearing_hint == in.b.leap_second_smearing_hint &&
				 after.tai_offset_sec == in.b.tai_offset_sec &&
				 after.leap_indicator == in.b.leap_indicator &&
				 after.counter_period_shift == in.b.counter_period_shift &&
				 after.counter_value == in.b.counter_value &&
				 after.counter_period_frac_sec == in.b.counter_period_frac_sec &&
				 after.counter_period_maxerror_rate_frac_sec ==
					 in.b.counter_period_maxerror_rate_frac_sec &&
				 after.counter_period_esterror_rate_frac_sec ==
					 in.b.counter_period_esterror_rate_frac_sec &&
				 after.time_sec == in.b.time_sec && after.time_frac_sec == in.b.time_frac_sec &&
				 after.time_maxerror_nanosec == in.b.time_maxerror_nanosec &&
				 after.time_esterror_nanosec == in.b.time_esterror_nanosec,
			 "publish did not write the body");
		/* the guest's reader on the published page */
		err = vtime_vmclock_snapshot(clk, 3, &snap);
		FZ_CHECK(err == header_verdict(&after, 0), "snapshot of the published page returned %d", err);
		if (err)
			continue;
		FZ_CHECK(same_fields(&snap, &after), "snapshot differs from the published bytes");
		if (usable_verdict(&snap) == 0) {
			struct vtime_vmclock_reading r;
			uint64_t c = in.counter;
			struct vtime_counter ctr = { fz_fixed_counter, &c };
			err = vtime_vmclock_read(clk, &ctr, 3, &r);
			FZ_TRACE("step %u: published seq %u marker %llu gen %llu, read back %d: %llu.%09u\n", step, seq,
				 FZ_U(after.disruption_marker), FZ_U(after.vm_generation_counter), err, FZ_U(r.sec),
				 r.nsec);
			FZ_CHECK(err == 0 && r.sec == in.sec && r.nsec == in.nsec && r.seq == seq &&
					 r.maxerror_ns == in.maxe && r.esterror_ns == in.este,
				 "published %llu.%09u (max %llu est %llu), read %d: %llu.%09u (max %llu est %llu)",
				 FZ_U(in.sec), in.nsec, FZ_U(in.maxe), FZ_U(in.este), err, FZ_U(r.sec), r.nsec,
				 FZ_U(r.maxerror_ns), FZ_U(r.esterror_ns));
		}
		check_at(&snap, in.counter + fz_edge64(f));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	struct vtime_vmclock_abi s, snap;
	uint64_t cs[12];
	unsigned n = 0;
	size_t region;
	int hdr, err;

	for (unsigned i = 0; i < sizeof page; i++)
		page[i] = fz_u8(&f);
	{
		uint8_t fix = fz_u8(&f);
		if (fix & 1u)
			memcpy(page, "VCLK", 4); /* 0x4b4c4356 little-endian */
		if (fix & 2u) {
			page[8] = 1;
			page[9] = 0;
		}
		if (fix & 4u) {
			page[4] = (uint8_t)(0x70 + (page[4] & 0x0f));
			page[5] = page[6] = page[7] = 0;
		}
		if (fix & 8u)
			page[0x0a] &= 1u; /* ARM_VCNT or X86_TSC */
		if (fix & 16u)
			page[0x22] %= 4u; /* a usable status */
		if (fix & 32u)
			page[0x0b] %= 3u;
		if (fix & 64u)
			page[0x0c] &= 0xfeu; /* even seq_count */
		if (fix & 128u)
			page[0x27] %= 64u; /* shifts a real page has */
	}
	region = fz_u8(&f) & 1u ? fz_u16(&f) : 0;
	decode(page, &s);
	for (unsigned want = fz_u8(&f) % 13u; n < want;) {
		uint8_t k = fz_u8(&f) % 3u;
		uint64_t e = fz_edge64(&f);
		cs[n++] = k == 0 ? e : k == 1 ? s.counter_value + e : s.counter_value - e;
	}

	/* header */
	err = vtime_vmclock_check((const volatile struct vtime_vmclock_abi *)page, region);
	hdr = (region != 0 && region < VTIME_VMCLOCK_ABI_SIZE) ? VTIME_EPROTO : header_verdict(&s, region);
	FZ_CHECK(err == hdr, "check(region %zu) returned %d, expected %d (magic %x version %u size %u)", region, err,
		 hdr, s.magic, s.version, s.size);
	hdr = header_verdict(&s, 0);
	memset(&snap, 0x5a, sizeof snap);
	err = vtime_vmclock_snapshot((const volatile struct vtime_vmclock_abi *)page, 3, &snap);
	{
		int want = hdr ? hdr : (s.seq_count & 1u) ? VTIME_EAGAIN : 0;
		FZ_CHECK(err == want, "snapshot returned %d, expected %d (seq %u)", err, want, s.seq_count);
	}
	if (err == 0)
		FZ_CHECK(same_fields(&snap, &s), "snapshot differs from the page's little-endian fields");
	FZ_CHECK(vtime_vmclock_usable(&s) == usable_verdict(&s), "usable() returned %d, expected %d",
		 vtime_vmclock_usable(&s), usable_verdict(&s));

	for (unsigned i = 0; i < n; i++) {
		check_at(&s, cs[i]);
		live_read(cs[i], hdr ? hdr : (s.seq_count & 1u) ? VTIME_EAGAIN : 0, &s);
		for (unsigned j = 0; j < i; j++)
			check_pair(&s, cs[j], cs[i]);
	}
	check_set_period(&f);
	writer(&f);
	return 0;
}
