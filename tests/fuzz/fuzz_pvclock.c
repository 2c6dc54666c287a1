/* SPDX-License-Identifier: MIT */
/* The pvclock record readers and the conversion, on records from anyone
 * (a host, a dump, a guest page): the input is a raw 32-byte record as it
 * lies in memory (little-endian) and a list of counter values.
 *   - vtime_pvclock_snapshot() and vtime_pvclock_read() return what the
 *     protocol says for that record (odd version: EAGAIN after the bounded
 *     retries; never published: ENODATA; mul 0 or shift outside
 *     [SHIFT_MIN, SHIFT_MAX]: EPROTO; else 0 with the fields decoded);
 *   - vtime_pvclock_time() is bit-identical to the 128-bit oracle
 *     (tests/core/vt_oracle.h) for every record and counter, valid or not;
 *   - the reading equals the pure conversion of the copy at the counter the
 *     reader read;
 *   - monotonic: later counters (forward, while the shifted delta does not
 *     wrap) never give less scaled time, and behind the record time only
 *     goes down, never above system_time. */
#include <vtime/error.h>
#include <vtime/pvclock.h>

#include "fuzz.h"
#include "vt_oracle.h"

/* The scaled part of a forward reading, when the shifted delta fits. */
static bool forward_exact(const struct vtime_pvclock_vcpu_time_info *r, uint64_t tsc, uint64_t *scaled)
{
	uint64_t d = tsc - r->tsc_timestamp;
	int sh = r->tsc_shift;
	if (d >> 63)
		return false;
	if (sh > 0 && sh < 64 && (d >> (64 - sh)) != 0)
		return false;
	*scaled = oracle_scale_apply(d, sh, r->tsc_to_system_mul);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	uint8_t raw[32];
	struct vtime_pvclock_vcpu_time_info rec, want, copy;
	struct vtime_pvclock_reading rd;
	uint64_t tsc, tscs[16];
	unsigned n = 0;
	int expect, err;

	for (unsigned i = 0; i < 32; i++)
		raw[i] = fz_u8(&f);
	/* a few structured records too: the selector byte may repair fields */
	{
		uint8_t fix = fz_u8(&f);
		if (fix & 1u)
			raw[0] &= 0xfe; /* even version */
		if (fix & 2u)
			raw[28] = (uint8_t)(int8_t)((int)(fix >> 3) % 33 - 12); /* shift in range */
		if (fix & 4u)
			raw[27] |= 0x80; /* mul >= 2^31, as KVM's are */
	}
	memcpy(&rec, raw, sizeof rec); /* the record as shared memory holds it */
	memset(&want, 0, sizeof want);
	want.version = (uint32_t)fz_le(raw, 4);
	want.tsc_timestamp = fz_le(raw + 8, 8);
	want.system_time = fz_le(raw + 16, 8);
	want.tsc_to_system_mul = (uint32_t)fz_le(raw + 24, 4);
	want.tsc_shift = (int8_t)raw[28];
	want.flags = raw[29];
	while (n < 16 && fz_left(&f))
		tscs[n++] = fz_bool(&f) ? want.tsc_timestamp + fz_edge64(&f) : fz_edge64(&f);

	if (want.version & 1u)
		expect = VTIME_EAGAIN;
	else if (want.tsc_to_system_mul == 0)
		expect = (want.version == 0 && want.tsc_timestamp == 0 && want.system_time == 0) ? VTIME_ENODATA
												 : VTIME_EPROTO;
	else if (want.tsc_shift < VTIME_PVCLOCK_SHIFT_MIN || want.tsc_shift > VTIME_PVCLOCK_SHIFT_MAX)
		expect = VTIME_EPROTO;
	else
		expect = 0;

	memset(&copy, 0x5a, sizeof copy);
	err = vtime_pvclock_snapshot(&rec, 3, &copy);
	FZ_CHECK(err == expect, "snapshot returned %d, the protocol says %d (version %u mul %u shift %d)", err,
		 expect, want.version, want.tsc_to_system_mul, want.tsc_shift);
	if (err == 0 || err == VTIME_EPROTO || err == VTIME_ENODATA)
		FZ_CHECK(copy.version == want.version && copy.tsc_timestamp == want.tsc_timestamp &&
				 copy.system_time == want.system_time &&
				 copy.tsc_to_system_mul == want.tsc_to_system_mul && copy.tsc_shift == want.tsc_shift &&
				 copy.flags == want.flags,
			 "snapshot copy differs from the record's little-endian fields");

	for (unsigned i = 0; i < n; i++) {
		uint64_t t = tscs[i], got = vtime_pvclock_time(&want, t), ref = oracle_pvclock_time(&want, t);
		struct vtime_counter ctr = { fz_fixed_counter, &t };

		FZ_CHECK(got == ref, "vtime_pvclock_time(tsc %llu) = %llu, oracle %llu (ts %llu st %llu mul %u shift %d)",
			 FZ_U(t), FZ_U(got), FZ_U(ref), FZ_U(want.tsc_timestamp), FZ_U(want.system_time),
			 want.tsc_to_system_mul, want.tsc_shift);
		if ((t - want.tsc_timestamp) >> 63)
			FZ_CHECK(got <= want.system_time, "behind the record the time %llu exceeds system_time %llu",
				 FZ_U(got), FZ_U(want.system_time));
		err = vtime_pvclock_read(&rec, &ctr, 3, &rd);
		FZ_CHECK(err == expect, "read returned %d, snapshot %d", err, expect);
		if (err == 0)
			FZ_CHECK(rd.tsc == t && rd.ns == got && rd.version == want.version && rd.flags == want.flags,
				 "reading (ns %llu tsc %llu) is not the conversion at the counter read (%llu)",
				 FZ_U(rd.ns), FZ_U(rd.tsc), FZ_U(got));
		for (unsigned j = 0; j < i; j++) {
			uint64_t a = tscs[j], b = t, sa, sb;
			if (fz_sdiff(b, a) < 0) {
				uint64_t x = a;
				a = b;
				b = x;
			}
			/* forward of the record, both: the scaled delta never decreases */
			if (forward_exact(&want, a, &sa) && forward_exact(&want, b, &sb) &&
			    (a - want.tsc_timestamp) <= (b - want.tsc_timestamp))
				FZ_CHECK(sa <= sb, "forward: tsc %llu gives %llu > tsc %llu gives %llu", FZ_U(a), FZ_U(sa),
					 FZ_U(b), FZ_U(sb));
			/* behind, both: the further back, the earlier (saturating) */
			if (((a - want.tsc_timestamp) >> 63) && ((b - want.tsc_timestamp) >> 63) &&
			    (want.tsc_timestamp - a) >= (want.tsc_timestamp - b))
				FZ_CHECK(vtime_pvclock_time(&want, a) <= vtime_pvclock_time(&want, b),
					 "behind: tsc %llu reads later than tsc %llu", FZ_U(a), FZ_U(b));
		}
	}
	(void)tsc;
	return 0;
}
