/* SPDX-License-Identifier: MIT */
/* The Hyper-V reference TSC page: the ABI layout and constants, the pure
 * conversion against the limb oracle, KVM's computation of the page from a
 * pvclock record against a transcription of KVM's arithmetic (128-bit, and
 * again in 32-bit limbs for -m32), agreement with kvmclock, runs from TSC 0
 * and up to 2^64, the reader's refusals and retry bound with a fake
 * counter, the writer's sequence rules, and the little-endian byte image. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <vtime/error.h>
#include <vtime/hyperv.h>
#include <vtime/pvclock.h>
#include <vtime/scale.h>

#include "fake_counter.h"
#include "vt_abi_oracle.h"
#include "vt_endian.h"
#include "vt_test.h"

typedef struct vtime_pvclock_vcpu_time_info rec_t;
typedef struct vtime_hv_tsc_page page_t;

static _Alignas(4096) page_t g_page;

static void test_abi(void)
{
	page_t p;
	CU_ASSERT_EQUAL(sizeof(page_t), 4096);
	CU_ASSERT_EQUAL(offsetof(page_t, tsc_sequence), 0);
	CU_ASSERT_EQUAL(offsetof(page_t, reserved1), 4);
	CU_ASSERT_EQUAL(offsetof(page_t, tsc_scale), 8);
	CU_ASSERT_EQUAL(offsetof(page_t, tsc_offset), 16);
	CU_ASSERT_EQUAL(offsetof(page_t, reserved2), 24);
	CU_ASSERT_EQUAL(sizeof p.tsc_sequence, 4);
	CU_ASSERT_EQUAL(sizeof p.reserved1, 4);
	CU_ASSERT_EQUAL(sizeof p.tsc_scale, 8);
	CU_ASSERT_EQUAL(sizeof p.tsc_offset, 8);
	memset(&p, 0xff, sizeof p);
	CU_ASSERT_EQUAL(p.tsc_offset, -1); /* signed */
	CU_ASSERT_EQUAL(VTIME_HV_TSC_PAGE_SIZE, 4096);
	CU_ASSERT_EQUAL(VTIME_HV_TSC_SEQUENCE_INVALID, 0);
	CU_ASSERT_EQUAL(VTIME_HV_REF_HZ, 10000000);
	CU_ASSERT_EQUAL(VTIME_HV_CPUID_VENDOR, 0x40000000);
	CU_ASSERT_EQUAL(strlen(VTIME_HV_CPUID_SIGNATURE), 12); /* EBX, ECX, EDX */
	CU_ASSERT_STRING_EQUAL(VTIME_HV_CPUID_SIGNATURE, "Microsoft Hv");
	CU_ASSERT_EQUAL(VTIME_HV_X64_MSR_TIME_REF_COUNT, 0x40000020);
	CU_ASSERT_EQUAL(VTIME_HV_X64_MSR_REFERENCE_TSC, 0x40000021);
	CU_ASSERT_EQUAL(VTIME_HV_X64_MSR_TSC_FREQUENCY, 0x40000022);
	CU_ASSERT_EQUAL(VTIME_HV_MSR_REFERENCE_TSC_ENABLE, 1);
	CU_ASSERT_EQUAL(1u << VTIME_HV_MSR_REFERENCE_TSC_PFN_SHIFT, 4096);
}

/* ---------------- pure conversion ---------------- */

static uint64_t oracle_hv_time(uint64_t scale, int64_t offset, uint64_t tsc)
{
	return o128_lo64(o128_shr(o128_mul(tsc, scale), 64)) + (uint64_t)offset;
}

static void test_time_oracle(void)
{
	unsigned long n = vt_test_iters(100000);
	for (unsigned long i = 0; i < n; i++) {
		uint64_t scale = (vt_rng() & 1) ? vt_rng_mag() : vt_rng(), tsc = vt_rng_delta();
		int64_t offset = (int64_t)((vt_rng() & 1) ? vt_rng_mag() : vt_rng());
		CU_ASSERT_EQUAL_FATAL(vtime_hv_tsc_page_time(scale, offset, tsc), oracle_hv_time(scale, offset, tsc));
	}
	/* scale 0.5: half the TSC; offsets both ways; the sum wraps mod 2^64 */
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_time(1ull << 63, 0, 1000), 500);
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_time(1ull << 63, -100, 1000), 400);
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_time(1ull << 63, -1000, 1000), (uint64_t)-500);
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_time(UINT64_MAX, 7, UINT64_MAX), UINT64_MAX - 1 + 7);
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_time(0, 12345, UINT64_MAX), 12345);
}

/* ---------------- KVM's page from a pvclock record ---------------- */

static rec_t random_rec(void)
{
	rec_t r;
	int sh = (int)(vt_rng() % 63) - 31; /* [-31, 31]: where KVM's arithmetic is defined */
	memset(&r, 0, sizeof r);
	r.tsc_shift = (int8_t)sh;
	r.flags = (uint8_t)((vt_rng() % 8 ? VTIME_PVCLOCK_TSC_STABLE : 0) | (vt_rng() & 6));
	switch (vt_rng() % 5) {
	case 0: r.tsc_to_system_mul = (uint32_t)vt_rng(); break;
	case 1: r.tsc_to_system_mul = 0x80000000u | (uint32_t)vt_rng(); break; /* what kvm_get_time_scale gives */
	case 2: r.tsc_to_system_mul = (uint32_t)vt_rng_mag(); break;
	default:
		/* next to KVM's bound 100 << (32 - shift), where it fits in 32 bits */
		if (sh >= 7) {
			uint64_t max_mul = 100ull << (32 - sh);
			r.tsc_to_system_mul = (uint32_t)(max_mul - 3 + vt_rng() % 6);
		} else {
			r.tsc_to_system_mul = (uint32_t)vt_rng();
		}
		break;
	}
	switch (vt_rng() % 4) {
	case 0: r.tsc_timestamp = vt_rng() % 100000; break;
	case 1: r.tsc_timestamp = UINT64_MAX - vt_rng() % 100000; break;
	case 2: r.tsc_timestamp = vt_rng_mag(); break;
	default: r.tsc_timestamp = vt_rng(); break;
	}
	switch (vt_rng() % 5) {
	case 0: r.system_time = vt_rng() % 300; break;                  /* near 0 */
	case 1: r.system_time = 0 - (1 + vt_rng() % 300); break;        /* "negative" */
	case 2: r.system_time = vt_rng_mag(); break;
	case 3: r.system_time = vt_rng() >> 8; break;
	default: r.system_time = vt_rng(); break;
	}
	return r;
}

static void test_kvm_transcription(void)
{
	unsigned long n = vt_test_iters(200000), pages = 0, none = 0, stable_none = 0;
	for (unsigned long i = 0; i < n; i++) {
		rec_t r = random_rec();
		uint64_t sc = 1, lsc = 2;
		int64_t off = 3, loff = 4;
		int rc = vtime_hv_tsc_page_from_pvclock(&r, &sc, &off);
		bool lp = kvm_hv_page_limbs(&r, &lsc, &loff);

		CU_ASSERT_EQUAL(rc, lp ? 0 : VTIME_ERANGE);
#ifdef __SIZEOF_INT128__
		{
			uint64_t isc = 5;
			int64_t ioff = 6;
			bool ip = kvm_hv_page_i128(&r, &isc, &ioff);
			CU_ASSERT_EQUAL(ip, lp); /* the two transcriptions agree */
			if (ip)
				CU_ASSERT(isc == lsc && ioff == loff);
		}
#endif
		if (rc == 0) {
			pages++;
			CU_ASSERT_EQUAL(sc, lsc);
			CU_ASSERT_EQUAL(off, loff);
		} else {
			none++;
			stable_none += (r.flags & VTIME_PVCLOCK_TSC_STABLE) != 0;
			CU_ASSERT(sc == 1 && off == 3); /* outputs untouched */
		}
		if ((rc == 0) != lp || (rc == 0 && (sc != lsc || off != loff))) {
			printf("\n  shift %d mul %u ts %llu st %llu flags %u: rc %d %llu %lld, kvm %d %llu %lld", r.tsc_shift,
			       r.tsc_to_system_mul, (unsigned long long)r.tsc_timestamp,
			       (unsigned long long)r.system_time, r.flags, rc, (unsigned long long)sc, (long long)off, lp,
			       (unsigned long long)lsc, (long long)loff);
			break;
		}
	}
	printf("\n  %lu records: %lu pages, %lu without (%lu of them TSC_STABLE: mul too large)", n, pages, none,
	       stable_none);
	CU_ASSERT(pages > n / 4 && stable_none > 0);
}

static void test_kvm_edges(void)
{
	rec_t r;
	uint64_t sc, lsc;
	int64_t off, loff;

	memset(&r, 0, sizeof r);
	r.flags = VTIME_PVCLOCK_TSC_STABLE;
	/* this machine's host record: 2.6 GHz, mul 3303822267, shift -1 */
	r.tsc_to_system_mul = 3303822267u;
	r.tsc_shift = -1;
	r.tsc_timestamp = 1ull << 40;
	r.system_time = 5000000000ull;
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_from_pvclock(&r, &sc, &off), 0);
	CU_ASSERT(kvm_hv_page_limbs(&r, &lsc, &loff) && sc == lsc && off == loff);
	/* 2^31 * 3303822267 / 100: 100 ns per 2.6 GHz tick is ~2^64 / 260 */
	CU_ASSERT(sc > UINT64_MAX / 261 && sc < UINT64_MAX / 259);
	/* the bound, on both sides, for every shift where it fits in 32 bits */
	for (int sh = 7; sh <= 31; sh++) {
		uint64_t max_mul = 100ull << (32 - sh);
		r.tsc_shift = (int8_t)sh;
		r.tsc_to_system_mul = (uint32_t)(max_mul - 1);
		CU_ASSERT_EQUAL(vtime_hv_tsc_page_from_pvclock(&r, &sc, &off), 0);
		CU_ASSERT(sc > UINT64_MAX - (1ull << (32 + sh)) / 100 - 1); /* just below 2^64 */
		r.tsc_to_system_mul = (uint32_t)max_mul;
		CU_ASSERT_EQUAL(vtime_hv_tsc_page_from_pvclock(&r, &sc, &off), VTIME_ERANGE);
	}
	/* shifts of 6 and below: every 32-bit mul is below the bound ... */
	r.tsc_to_system_mul = UINT32_MAX;
	for (int sh = -25; sh <= 6; sh++) {
		r.tsc_shift = (int8_t)sh;
		CU_ASSERT_EQUAL(vtime_hv_tsc_page_from_pvclock(&r, &sc, &off), 0);
	}
	/* ... and where KVM's 64-bit bound lost its top bits it is still above
	 * 2^32 (-29..-26), except at -30 and -31: 100 << 62 and 100 << 63 are
	 * 0 mod 2^64, so KVM publishes no page at all */
	for (int sh = -29; sh <= -26; sh++) {
		r.tsc_shift = (int8_t)sh;
		CU_ASSERT_EQUAL(vtime_hv_tsc_page_from_pvclock(&r, &sc, &off), 0);
	}
	for (int sh = -31; sh <= -30; sh++) {
		r.tsc_shift = (int8_t)sh;
		r.tsc_to_system_mul = 1;
		CU_ASSERT_EQUAL(vtime_hv_tsc_page_from_pvclock(&r, &sc, &off), VTIME_ERANGE);
		CU_ASSERT_FALSE(kvm_hv_page_limbs(&r, &lsc, &loff));
		r.tsc_to_system_mul = 0;
		CU_ASSERT_EQUAL(vtime_hv_tsc_page_from_pvclock(&r, &sc, &off), VTIME_ERANGE);
	}
	/* mul 0 (an invalid record) gives KVM's page: scale 0, constant time */
	r.tsc_shift = 0;
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_from_pvclock(&r, &sc, &off), 0);
	CU_ASSERT(sc == 0 && off == 50000000);
	/* no TSC_STABLE: no page */
	r.tsc_to_system_mul = 3303822267u;
	r.tsc_shift = -1;
	r.flags = VTIME_PVCLOCK_GUEST_STOPPED;
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_from_pvclock(&r, &sc, &off), VTIME_ERANGE);
	r.flags = VTIME_PVCLOCK_TSC_STABLE;
	/* system_time near 0, and just "below" it: divided as unsigned */
	r.tsc_timestamp = 0;
	for (uint64_t st = 0; st < 300; st++) {
		r.system_time = st;
		CU_ASSERT_EQUAL(vtime_hv_tsc_page_from_pvclock(&r, &sc, &off), 0);
		CU_ASSERT_EQUAL(off, (int64_t)(st / 100));
		r.system_time = 0 - st - 1;
		CU_ASSERT_EQUAL(vtime_hv_tsc_page_from_pvclock(&r, &sc, &off), 0);
		CU_ASSERT_EQUAL((uint64_t)off, (0 - st - 1) / 100); /* ~584 years ahead, as in KVM */
	}
	/* shifts where KVM's C is undefined: refused */
	for (int sh = -128; sh <= 127; sh++) {
		if (sh >= -31 && sh <= 31)
			continue;
		r.tsc_shift = (int8_t)sh;
		sc = 1;
		off = 2;
		CU_ASSERT_EQUAL(vtime_hv_tsc_page_from_pvclock(&r, &sc, &off), VTIME_EPROTO);
		CU_ASSERT(sc == 1 && off == 2);
	}
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_from_pvclock(NULL, &sc, &off), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_from_pvclock(&r, NULL, &off), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_from_pvclock(&r, &sc, NULL), VTIME_EINVAL);
}

/* A TSC_STABLE record for a counter of hz at (tsc0, t0). */
static rec_t rec_for(uint64_t hz, uint64_t tsc0, uint64_t t0)
{
	rec_t r;
	struct vtime_scale s;
	memset(&r, 0, sizeof r);
	CU_ASSERT_EQUAL_FATAL(vtime_scale_init(&s, hz, VTIME_NSEC_PER_SEC), 0);
	r.tsc_to_system_mul = s.mul;
	r.tsc_shift = s.shift;
	r.tsc_timestamp = tsc0;
	r.system_time = t0;
	r.flags = VTIME_PVCLOCK_TSC_STABLE;
	return r;
}

static int64_t hv_minus_pv(const rec_t *r, uint64_t sc, int64_t off, uint64_t tsc)
{
	return (int64_t)(vtime_hv_tsc_page_time(sc, off, tsc) * 100 - vtime_pvclock_time(r, tsc));
}

/* The page says what the record says, to within 2 x 100 ns of rounding,
 * for every counter above 10 MHz; at or below it a tick is 100 ns or more,
 * the scale does not fit in 0.64 bits and KVM publishes no page. */
static void test_agreement(void)
{
	unsigned long n = vt_test_iters(20000);
	int64_t worst = 0;
	for (uint64_t hz = 1000; hz <= 10000000ull; hz = hz * 3 / 2) {
		rec_t r = rec_for(hz, 0, 0);
		uint64_t sc;
		int64_t off;
		CU_ASSERT_EQUAL(vtime_hv_tsc_page_from_pvclock(&r, &sc, &off), VTIME_ERANGE);
	}
	for (unsigned long i = 0; i < n; i++) {
		uint64_t hz = 10500000ull + vt_rng() % 9989500000ull, sc;
		rec_t r = rec_for(hz, vt_rng() >> 2, vt_rng() >> 4);
		uint64_t delta = vt_rng() >> (24 + vt_rng() % 40); /* up to 2^40 ticks */
		int64_t off, d;
		CU_ASSERT_EQUAL_FATAL(vtime_hv_tsc_page_from_pvclock(&r, &sc, &off), 0);
		d = hv_minus_pv(&r, sc, off, r.tsc_timestamp + delta);
		if (d < 0)
			d = -d;
		if (d > worst)
			worst = d;
	}
	printf("\n  %lu records 10.5 MHz..10 GHz: |page - kvmclock| <= %lld ns", n, (long long)worst);
	CU_ASSERT(worst <= 202);
}

/* From TSC 0, and from just below 2^64: the page's time is non-decreasing
 * and agrees with kvmclock up to the wrap; at the wrap (the page uses the
 * absolute TSC, not a delta) it steps back by exactly tsc_scale - 1 units. */
static void run_from(uint64_t tsc0)
{
	rec_t r = rec_for(2599999000ull, tsc0, 1000000000ull);
	uint64_t sc, prev, tsc = tsc0;
	int64_t off;

	CU_ASSERT_EQUAL_FATAL(vtime_hv_tsc_page_from_pvclock(&r, &sc, &off), 0);
	prev = vtime_hv_tsc_page_time(sc, off, tsc);
	CU_ASSERT(prev == 10000000 || prev == 9999999);
	for (unsigned i = 0; i < 200000; i++) {
		uint64_t next = tsc + 1 + (i % 2600), now;
		if (next < tsc) { /* the wrap */
			CU_ASSERT_EQUAL(vtime_hv_tsc_page_time(sc, off, UINT64_MAX) - vtime_hv_tsc_page_time(sc, off, 0),
					sc - 1);
			break;
		}
		tsc = next;
		now = vtime_hv_tsc_page_time(sc, off, tsc);
		CU_ASSERT_FATAL(now >= prev);
		CU_ASSERT_FATAL(hv_minus_pv(&r, sc, off, tsc) <= 202 && hv_minus_pv(&r, sc, off, tsc) >= -202);
		prev = now;
	}
}

static void test_runs(void)
{
	run_from(0);
	run_from(UINT64_MAX - 100000000ull);
	run_from(UINT64_MAX - 5);
}

/* ---------------- reader ---------------- */

static void publish(uint64_t sc, int64_t off, uint32_t *seq)
{
	*seq = vtime_hv_tsc_page_publish(&g_page, sc, off, *seq);
}

static void test_read_basic(void)
{
	struct vt_fake_counter fc = { 1000, 1, 0, NULL, NULL };
	struct vtime_counter ctr = vt_fake_counter_hook(&fc);
	struct vtime_hv_tsc_reading rd;
	uint32_t seq = 0;

	memset(&g_page, 0, sizeof g_page);
	publish(1ull << 62, -7, &seq);
	CU_ASSERT_EQUAL(seq, 1);
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_read(&g_page, &ctr, 0, &rd), 0);
	CU_ASSERT_EQUAL(fc.reads, 1);
	CU_ASSERT(rd.tsc == 1000 && rd.time == 250 - 7 && rd.sequence == 1);
	CU_ASSERT(rd.tsc_scale == 1ull << 62 && rd.tsc_offset == -7 && rd.pad == 0);
	memset(&rd, 0xee, sizeof rd);
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_snapshot(&g_page, 0, &rd), 0);
	CU_ASSERT(rd.tsc == 0 && rd.time == 0 && rd.sequence == 1 && rd.tsc_scale == 1ull << 62 && rd.tsc_offset == -7);
	CU_ASSERT_EQUAL(fc.reads, 1);
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_read(NULL, &ctr, 0, &rd), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_read(&g_page, NULL, 0, &rd), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_read(&g_page, &ctr, 0, NULL), VTIME_EINVAL);
	ctr.read = NULL;
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_read(&g_page, &ctr, 0, &rd), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_snapshot(NULL, 0, &rd), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_snapshot(&g_page, 0, NULL), VTIME_EINVAL);
}

/* Through the reader, from TSC 0 and across the last ticks before 2^64. */
static void test_read_from_zero_and_wrap(void)
{
	static const uint64_t starts[] = { 0, UINT64_MAX - 30000 };
	for (unsigned k = 0; k < 2; k++) {
		rec_t r = rec_for(2599999000ull, starts[k], 0);
		struct vt_fake_counter fc = { starts[k], 997, 0, NULL, NULL };
		struct vtime_counter ctr = vt_fake_counter_hook(&fc);
		struct vtime_hv_tsc_reading rd;
		uint64_t sc, prev = 0;
		int64_t off;
		uint32_t seq = 0;

		CU_ASSERT_EQUAL_FATAL(vtime_hv_tsc_page_from_pvclock(&r, &sc, &off), 0);
		memset(&g_page, 0, sizeof g_page);
		publish(sc, off, &seq);
		for (int i = 0; i < 20; i++) {
			CU_ASSERT_EQUAL_FATAL(vtime_hv_tsc_page_read(&g_page, &ctr, 0, &rd), 0);
			CU_ASSERT_EQUAL(rd.time, vtime_hv_tsc_page_time(sc, off, rd.tsc));
			CU_ASSERT(rd.time >= prev);
			CU_ASSERT(hv_minus_pv(&r, sc, off, rd.tsc) <= 202 && hv_minus_pv(&r, sc, off, rd.tsc) >= -202);
			prev = rd.time;
		}
		CU_ASSERT(prev <= 80); /* 19 * 997 ticks at 2.6 GHz: ~7.3 us */
	}
}

static int racer_mode; /* 0 off, 1 publish once, 2 publish always, 3 invalidate once */
static uint32_t racer_seq;

static void racer(struct vt_fake_counter *fc)
{
	(void)fc;
	if (racer_mode == 1 || racer_mode == 2) {
		publish(1ull << 63, 1000, &racer_seq);
		if (racer_mode == 1)
			racer_mode = 0;
	} else if (racer_mode == 3) {
		racer_seq = vtime_hv_tsc_page_invalidate(&g_page, racer_seq);
		racer_mode = 0;
	}
}

static void test_read_refusals(void)
{
	struct vt_fake_counter fc = { 1000, 1, 0, racer, NULL };
	struct vtime_counter ctr = vt_fake_counter_hook(&fc);
	struct vtime_hv_tsc_reading rd, untouched;

	memset(&untouched, 0x77, sizeof untouched);
	rd = untouched;
	/* a zeroed page is invalid: no counter read, no retry */
	memset(&g_page, 0, sizeof g_page);
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_read(&g_page, &ctr, 0, &rd), VTIME_ENOTVALID);
	CU_ASSERT_EQUAL(fc.reads, 0);
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_snapshot(&g_page, 0, &rd), VTIME_ENOTVALID);
	/* 0xFFFFFFFF, the old TLFS's invalid value, is refused too */
	g_page.tsc_sequence = vt_le32(0xffffffffu);
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_read(&g_page, &ctr, 0, &rd), VTIME_ENOTVALID);
	CU_ASSERT_EQUAL(fc.reads, 0);
	CU_ASSERT_NOT_EQUAL(VTIME_ENOTVALID, VTIME_EAGAIN);
	CU_ASSERT_NOT_EQUAL(VTIME_ENOTVALID, VTIME_ENODATA);

	/* a publish inside the window: retried, the reading from the new one */
	racer_seq = 0;
	publish(1ull << 62, 0, &racer_seq);
	racer_mode = 1;
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_read(&g_page, &ctr, 0, &rd), 0);
	CU_ASSERT_EQUAL(fc.reads, 2);
	CU_ASSERT(rd.sequence == 2 && rd.tsc == 1001 && rd.time == 500 + 1000);
	/* a writer faster than the reader every time: exactly the bound */
	racer_mode = 2;
	fc.reads = 0;
	rd = untouched;
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_read(&g_page, &ctr, 50, &rd), VTIME_EAGAIN);
	CU_ASSERT_EQUAL(fc.reads, 50);
	fc.reads = 0;
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_read(&g_page, &ctr, 0, &rd), VTIME_EAGAIN);
	CU_ASSERT_EQUAL(fc.reads, VTIME_MAX_TRIES);
	/* the page invalidated inside the window: the retry finds 0 and stops */
	racer_mode = 3;
	fc.reads = 0;
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_read(&g_page, &ctr, 0, &rd), VTIME_ENOTVALID);
	CU_ASSERT_EQUAL(fc.reads, 1);
	CU_ASSERT_EQUAL(memcmp(&rd, &untouched, sizeof rd), 0); /* untouched by every refusal */
	racer_mode = 0;
}

/* ---------------- writer ---------------- */

static void test_writer_sequence(void)
{
	static const struct {
		uint32_t page, state, after;
	} cases[] = {
		{ 0, 0, 1 },
		{ 1, 0, 2 },
		{ 5, 99, 6 },                 /* the page's valid value first */
		{ 0, 7, 8 },                  /* page invalid: the writer's memory */
		{ 0xfffffffdu, 0, 0xfffffffeu },
		{ 0xfffffffeu, 0, 1 },        /* skips 0xFFFFFFFF and 0 */
		{ 0xffffffffu, 0, 1 },        /* junk 0xFFFFFFFF: invalid */
		{ 0xffffffffu, 41, 42 },
		{ 0, 0xffffffffu, 1 },        /* invalid memory: restart */
		{ 0, 0xfffffffeu, 1 },
	};
	uint32_t seq;

	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&g_page, 0xa5, sizeof g_page);
		g_page.tsc_sequence = vt_le32(cases[i].page);
		seq = cases[i].state;
		seq = vtime_hv_tsc_page_publish(&g_page, 0x1234, -5, seq);
		CU_ASSERT_EQUAL(seq, cases[i].after);
		CU_ASSERT_EQUAL(vt_le32(g_page.tsc_sequence), cases[i].after);
		CU_ASSERT_EQUAL(g_page.reserved1, 0);
		CU_ASSERT(vt_le64(g_page.tsc_scale) == 0x1234 && (int64_t)vt_le64((uint64_t)g_page.tsc_offset) == -5);
		CU_ASSERT_EQUAL(g_page.reserved2[0], 0xa5a5a5a5a5a5a5a5ull); /* the rest of the page is not the writer's */
		CU_ASSERT_EQUAL(g_page.reserved2[508], 0xa5a5a5a5a5a5a5a5ull);
	}
	/* across the top many times over: never 0 or 0xFFFFFFFF, always +1 or back to 1 */
	memset(&g_page, 0, sizeof g_page);
	g_page.tsc_sequence = vt_le32(0xffffff00u);
	seq = 0;
	for (unsigned i = 0; i < 600; i++) {
		uint32_t before = vt_le32(g_page.tsc_sequence);
		seq = vtime_hv_tsc_page_publish(&g_page, i, (int64_t)i, seq);
		CU_ASSERT_FATAL(seq != 0 && seq != 0xffffffffu);
		CU_ASSERT_FATAL(seq == before + 1 || (before == 0xfffffffeu && seq == 1));
	}
	CU_ASSERT_EQUAL(seq, 600 - 254); /* 254 steps to 0xFFFFFFFE, then 1, 2, ... */
	/* invalidate: 0 on the page, the last valid kept for the next publish */
	memset(&g_page, 0, sizeof g_page);
	seq = 0;
	publish(1, 1, &seq);
	publish(1, 1, &seq);
	CU_ASSERT_EQUAL(seq, 2);
	seq = 0; /* a writer that forgot: the page still knows */
	seq = vtime_hv_tsc_page_invalidate(&g_page, seq);
	CU_ASSERT_EQUAL(seq, 2);
	CU_ASSERT_EQUAL(g_page.tsc_sequence, 0);
	seq = vtime_hv_tsc_page_invalidate(&g_page, seq); /* twice: memory kept */
	CU_ASSERT_EQUAL(seq, 2);
	publish(1, 1, &seq);
	CU_ASSERT_EQUAL(seq, 3); /* not back to 1 */
	seq = 0;
	g_page.tsc_sequence = 0;
	seq = vtime_hv_tsc_page_invalidate(&g_page, seq);
	CU_ASSERT_EQUAL(seq, 0); /* nothing known */
	/* snapshot restore: guest memory back to sequence 3 while the writer
	 * remembers 10: the page's value is continued (the guest never saw 4
	 * in this memory) */
	g_page.tsc_sequence = vt_le32(3);
	seq = 10;
	publish(1, 1, &seq);
	CU_ASSERT_EQUAL(seq, 4);
}

/* ---------------- byte image ---------------- */

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_byte_image(void)
{
	uint8_t img[24];
	struct vtime_hv_tsc_reading rd;
	uint32_t seq = 0x01020303u;

	put_le(img + 0, 0x01020304u, 4);
	put_le(img + 4, 0, 4);
	put_le(img + 8, 0x1122334455667788ull, 8);
	put_le(img + 16, (uint64_t)-2, 8);
	memset(&g_page, 0, sizeof g_page);
	memcpy(&g_page, img, sizeof img);
	CU_ASSERT_EQUAL(vtime_hv_tsc_page_snapshot(&g_page, 0, &rd), 0);
	CU_ASSERT(rd.sequence == 0x01020304u && rd.tsc_scale == 0x1122334455667788ull && rd.tsc_offset == -2);
	memset(&g_page, 0, sizeof g_page);
	g_page.tsc_sequence = 0; /* invalid: the writer's memory (0x01020303) continues */
	seq = vtime_hv_tsc_page_publish(&g_page, 0x1122334455667788ull, -2, seq);
	CU_ASSERT_EQUAL(memcmp(&g_page, img, sizeof img), 0);
}

static const struct vt_test_case cases[] = {
	{ "ABI: 4 KiB page, offsets 0/4/8/16, MSR and CPUID constants", test_abi },
	{ "page time vs limb oracle; wrap mod 2^64", test_time_oracle },
	{ "KVM's page from pvclock vs a transcription of KVM's arithmetic", test_kvm_transcription },
	{ "KVM's page: the bound, shifts, mul 0, system_time near 0", test_kvm_edges },
	{ "the page agrees with kvmclock within 2 x 100 ns", test_agreement },
	{ "runs from TSC 0 and up to 2^64 (step back at the wrap)", test_runs },
	{ "reader: reading, snapshot, bad arguments", test_read_basic },
	{ "reader from TSC 0 and near 2^64", test_read_from_zero_and_wrap },
	{ "reader: sequence 0 / 0xFFFFFFFF, racing writer, retry bound", test_read_refusals },
	{ "writer: sequence rules, invalidate, restore", test_writer_sequence },
	{ "byte image: little-endian page read and written", test_byte_image },
	{ NULL, NULL },
};

int main(void)
{
	const struct vt_test_suite suites[] = { { "hyperv", cases }, { NULL, NULL } };
	vt_rng_seed();
	return vt_test_main(suites);
}
