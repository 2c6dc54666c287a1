/* SPDX-License-Identifier: MIT */
/* The pvclock ABI, the pure conversion against the oracle, the seqlock
 * reader with the fake counter, the writer, GUEST_STOPPED, the wall clock,
 * byte order and vtime_strerror. */
#include <stddef.h>
#include <string.h>
#include <vtime/error.h>
#include <vtime/pvclock.h>
#include <vtime/scale.h>

#include "fake_counter.h"
#include "vt_endian.h"
#include "vt_oracle.h"
#include "vt_test.h"

typedef struct vtime_pvclock_vcpu_time_info rec_t;

/* A body for a TSC of hz ticking since tsc0 with time t0. */
static rec_t body_for(uint64_t hz, uint64_t tsc0, uint64_t t0, uint8_t flags)
{
	rec_t b;
	struct vtime_scale s;
	memset(&b, 0, sizeof b);
	CU_ASSERT_EQUAL_FATAL(vtime_scale_init(&s, hz, VTIME_NSEC_PER_SEC), 0);
	b.tsc_timestamp = tsc0;
	b.system_time = t0;
	b.tsc_to_system_mul = s.mul;
	b.tsc_shift = s.shift;
	b.flags = flags;
	return b;
}

/* ---------------- ABI ---------------- */

static void test_abi(void)
{
	CU_ASSERT_EQUAL(sizeof(rec_t), 32);
	CU_ASSERT_EQUAL(offsetof(rec_t, version), 0);
	CU_ASSERT_EQUAL(offsetof(rec_t, pad0), 4);
	CU_ASSERT_EQUAL(offsetof(rec_t, tsc_timestamp), 8);
	CU_ASSERT_EQUAL(offsetof(rec_t, system_time), 16);
	CU_ASSERT_EQUAL(offsetof(rec_t, tsc_to_system_mul), 24);
	CU_ASSERT_EQUAL(offsetof(rec_t, tsc_shift), 28);
	CU_ASSERT_EQUAL(offsetof(rec_t, flags), 29);
	CU_ASSERT_EQUAL(offsetof(rec_t, pad), 30);
	CU_ASSERT_EQUAL(sizeof(((rec_t *)0)->tsc_shift), 1);
	CU_ASSERT_EQUAL(sizeof(struct vtime_pvclock_wall_clock), 12);
	CU_ASSERT_EQUAL(offsetof(struct vtime_pvclock_wall_clock, version), 0);
	CU_ASSERT_EQUAL(offsetof(struct vtime_pvclock_wall_clock, sec), 4);
	CU_ASSERT_EQUAL(offsetof(struct vtime_pvclock_wall_clock, nsec), 8);
	CU_ASSERT_EQUAL(VTIME_PVCLOCK_TSC_STABLE, 1);
	CU_ASSERT_EQUAL(VTIME_PVCLOCK_GUEST_STOPPED, 2);
	CU_ASSERT_EQUAL(VTIME_PVCLOCK_COUNTS_FROM_ZERO, 4);
	CU_ASSERT_EQUAL(VTIME_PVCLOCK_RECORD_STRIDE * 64, 4096);
	/* tsc_shift is signed in the ABI */
	{
		rec_t r;
		memset(&r, 0xff, sizeof r);
		CU_ASSERT_EQUAL(r.tsc_shift, -1);
	}
}

/* ---------------- pure conversion ---------------- */

static rec_t random_body(void)
{
	rec_t b;
	memset(&b, 0, sizeof b);
	b.tsc_timestamp = vt_rng_delta() ^ (vt_rng() & 0xffff);
	b.system_time = (vt_rng() & 1) ? vt_rng_mag() : vt_rng();
	b.tsc_to_system_mul = (uint32_t)vt_rng() | 1u;
	b.tsc_shift = (int8_t)((int)(vt_rng() % 33) - 12);
	return b;
}

static void test_time_oracle(void)
{
	unsigned long n = vt_test_iters(50000);
	for (unsigned long i = 0; i < n; i++) {
		rec_t b = random_body();
		uint64_t delta = vt_rng_delta() & ((1ull << 63) - 1); /* < 2^63: reference domain */
		uint64_t tsc = b.tsc_timestamp + delta;
		/* the reference formula, written out: wrapping add of the scaled delta */
		uint64_t want = b.system_time + oracle_scale_apply(delta, b.tsc_shift, b.tsc_to_system_mul);
		uint64_t got = vtime_pvclock_time(&b, tsc);
		CU_ASSERT_EQUAL(got, want);
		if (got != want) {
			printf("\n  ts %llu st %llu mul %u shift %d tsc %llu: %llu want %llu",
			       (unsigned long long)b.tsc_timestamp, (unsigned long long)b.system_time,
			       b.tsc_to_system_mul, b.tsc_shift, (unsigned long long)tsc, (unsigned long long)got,
			       (unsigned long long)want);
			break;
		}
	}
}

static void test_time_behind(void)
{
	rec_t b = body_for(1000000000ull, 5000, 1000, 0); /* 1 GHz: 1 tick = 1 ns */
	unsigned long n = vt_test_iters(50000);

	CU_ASSERT_EQUAL(vtime_pvclock_time(&b, 5000), 1000);
	CU_ASSERT_EQUAL(vtime_pvclock_time(&b, 5010), 1010);
	CU_ASSERT_EQUAL(vtime_pvclock_time(&b, 4990), 990);  /* goes back by the gap */
	CU_ASSERT_EQUAL(vtime_pvclock_time(&b, 4000), 0);    /* exactly system_time behind */
	CU_ASSERT_EQUAL(vtime_pvclock_time(&b, 3999), 0);    /* saturates at 0 */
	CU_ASSERT_EQUAL(vtime_pvclock_time(&b, 0), 0);
	/* delta exactly 2^63 counts as behind; 2^63 - 1 as ahead */
	b.system_time = UINT64_MAX / 2;
	CU_ASSERT_EQUAL(vtime_pvclock_time(&b, b.tsc_timestamp + (1ull << 63)), 0);
	CU_ASSERT_EQUAL(vtime_pvclock_time(&b, b.tsc_timestamp + (1ull << 63) - 1),
			oracle_pvclock_time(&b, b.tsc_timestamp + (1ull << 63) - 1));

	/* a gap whose pre-shift overflows 64 bits (shift 1, gap 2^63) is not
	 * wrapped to a small one: it saturates */
	b.tsc_timestamp = 0;
	CU_ASSERT_EQUAL(b.tsc_shift, 1);
	CU_ASSERT_EQUAL(vtime_pvclock_time(&b, 1ull << 63), 0);
	b.system_time = UINT64_MAX;
	CU_ASSERT_EQUAL(vtime_pvclock_time(&b, 1ull << 63), UINT64_MAX - (1ull << 63)); /* exact 1 ns/tick */
	b.tsc_shift = 20;
	b.tsc_to_system_mul = 1;
	CU_ASSERT_EQUAL(vtime_pvclock_time(&b, 0ull - (1ull << 50)), UINT64_MAX - (1ull << 38)); /* 2^70/2^32 */

	/* random: never ahead of system_time when behind, and as defined */
	for (unsigned long i = 0; i < n; i++) {
		rec_t r = random_body();
		uint64_t gap = 1 + (vt_rng_delta() & ((1ull << 63) - 1));
		uint64_t tsc = r.tsc_timestamp - gap;
		uint64_t got = vtime_pvclock_time(&r, tsc);
		CU_ASSERT(got <= r.system_time);
		CU_ASSERT_EQUAL(got, oracle_pvclock_time(&r, tsc));
		r.system_time = UINT64_MAX - (vt_rng() & 0xffffffff); /* overflowing gaps visible */
		r.tsc_to_system_mul >>= vt_rng() % 32;
		CU_ASSERT_EQUAL(vtime_pvclock_time(&r, tsc), oracle_pvclock_time(&r, tsc));
	}
	/* 2.6 GHz, counter 1 tick behind: not ~225 years ahead */
	b = body_for(2599999000ull, 1ull << 40, 123456789, 0);
	CU_ASSERT(vtime_pvclock_time(&b, (1ull << 40) - 1) <= 123456789);
}

/* Runs of the counter from 0 and across the 2^64 wrap: monotonic, exact. */
static void run_from(uint64_t tsc0, uint64_t t0)
{
	rec_t b = body_for(2599999000ull, tsc0, t0, VTIME_PVCLOCK_TSC_STABLE);
	uint64_t prev = vtime_pvclock_time(&b, tsc0), tsc = tsc0;

	CU_ASSERT_EQUAL(prev, t0);
	for (unsigned i = 0; i < 200000; i++) {
		uint64_t now;
		tsc += 1 + (i % 2600); /* wraps past 2^64 when tsc0 is near it */
		now = vtime_pvclock_time(&b, tsc);
		CU_ASSERT_FATAL(now >= prev);
		CU_ASSERT_EQUAL_FATAL(now, oracle_pvclock_time(&b, tsc));
		prev = now;
	}
	/* ~0.1 s of 2.6 GHz ticks elapsed: about 100 ms */
	CU_ASSERT(prev - t0 > 99000000 && prev - t0 < 101000000);
}

static void test_time_runs(void)
{
	run_from(0, 0);
	run_from(UINT64_MAX - 1000000, 0);        /* counter wraps */
	run_from(UINT64_MAX - 5, 1ull << 62);     /* wraps on the first steps */
	run_from(0, UINT64_MAX - 200000000ull);   /* time near the top */
}

/* ---------------- reader ---------------- */

static rec_t live; /* the "shared" record the reader reads */

static void publish(const rec_t *b)
{
	vtime_pvclock_publish(&live, b);
}

static void test_read_basic(void)
{
	rec_t b = body_for(2599999000ull, 1000, 5000000, VTIME_PVCLOCK_TSC_STABLE);
	struct vt_fake_counter fc = { 1000 + 2599999000ull, 1, 0, NULL, NULL };
	struct vtime_counter ctr = vt_fake_counter_hook(&fc);
	struct vtime_pvclock_reading rd;

	memset(&live, 0, sizeof live);
	publish(&b);
	CU_ASSERT_EQUAL(vtime_pvclock_read(&live, &ctr, 0, &rd), 0);
	CU_ASSERT_EQUAL(fc.reads, 1);
	CU_ASSERT_EQUAL(rd.tsc, 1000 + 2599999000ull);
	CU_ASSERT_EQUAL(rd.version, 2);
	CU_ASSERT_EQUAL(rd.flags, VTIME_PVCLOCK_TSC_STABLE);
	CU_ASSERT_EQUAL(rd.ns, oracle_pvclock_time(&b, rd.tsc));
	CU_ASSERT(rd.ns >= 5000000 + 999999999ull && rd.ns <= 5000000 + 1000000000ull);
	/* snapshot: same body, host byte order, no counter */
	{
		rec_t s;
		memset(&s, 0xee, sizeof s);
		CU_ASSERT_EQUAL(vtime_pvclock_snapshot(&live, 0, &s), 0);
		CU_ASSERT_EQUAL(s.version, 2);
		CU_ASSERT_EQUAL(s.tsc_timestamp, b.tsc_timestamp);
		CU_ASSERT_EQUAL(s.system_time, b.system_time);
		CU_ASSERT_EQUAL(s.tsc_to_system_mul, b.tsc_to_system_mul);
		CU_ASSERT_EQUAL(s.tsc_shift, b.tsc_shift);
		CU_ASSERT_EQUAL(s.flags, b.flags);
		CU_ASSERT_EQUAL(s.pad0, 0);
		CU_ASSERT_EQUAL(fc.reads, 1);
	}
	/* bad arguments */
	CU_ASSERT_EQUAL(vtime_pvclock_read(NULL, &ctr, 0, &rd), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_pvclock_read(&live, NULL, 0, &rd), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_pvclock_read(&live, &ctr, 0, NULL), VTIME_EINVAL);
	ctr.read = NULL;
	CU_ASSERT_EQUAL(vtime_pvclock_read(&live, &ctr, 0, &rd), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_pvclock_snapshot(NULL, 0, &b), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_pvclock_snapshot(&live, 0, NULL), VTIME_EINVAL);
}

/* A counter far behind or ahead of the record through the reader. */
static void test_read_from_zero_and_wrap(void)
{
	static const uint64_t starts[] = { 0, UINT64_MAX - 3000 };
	for (unsigned k = 0; k < 2; k++) {
		rec_t b = body_for(2599999000ull, starts[k], 0, 0);
		struct vt_fake_counter fc = { starts[k], 997, 0, NULL, NULL };
		struct vtime_counter ctr = vt_fake_counter_hook(&fc);
		struct vtime_pvclock_reading rd;
		uint64_t prev = 0;

		memset(&live, 0, sizeof live);
		publish(&b);
		for (int i = 0; i < 20; i++) { /* crosses 2^64 for the second start */
			CU_ASSERT_EQUAL_FATAL(vtime_pvclock_read(&live, &ctr, 0, &rd), 0);
			CU_ASSERT(rd.ns >= prev);
			CU_ASSERT_EQUAL(rd.ns, oracle_pvclock_time(&b, rd.tsc));
			prev = rd.ns;
		}
		CU_ASSERT(prev > 0 && prev < 8000);
	}
}

static void test_read_stuck_odd(void)
{
	rec_t b = body_for(1000000000ull, 0, 0, 0);
	struct vt_fake_counter fc = { 10, 1, 0, NULL, NULL };
	struct vtime_counter ctr = vt_fake_counter_hook(&fc);
	struct vtime_pvclock_reading rd = { 77, 77, 77, 77 };

	memset(&live, 0, sizeof live);
	publish(&b);
	live.version = vt_le32(7); /* a writer died mid-update */
	CU_ASSERT_EQUAL(vtime_pvclock_read(&live, &ctr, 5, &rd), VTIME_EAGAIN);
	CU_ASSERT_EQUAL(fc.reads, 5); /* exactly the bound, then gave up */
	CU_ASSERT_EQUAL(rd.ns, 77);   /* output untouched on error */
	fc.reads = 0;
	CU_ASSERT_EQUAL(vtime_pvclock_read(&live, &ctr, 0, &rd), VTIME_EAGAIN);
	CU_ASSERT_EQUAL(fc.reads, VTIME_MAX_TRIES);
	CU_ASSERT_EQUAL(vtime_pvclock_read(&live, &ctr, 1, &rd), VTIME_EAGAIN);
	CU_ASSERT_EQUAL(vtime_pvclock_snapshot(&live, 3, &b), VTIME_EAGAIN);
	/* the next publish recovers: version continues, odd -> (7+1)|1 = 9 -> 10 */
	b = body_for(1000000000ull, 0, 0, 0);
	publish(&b);
	CU_ASSERT_EQUAL(vt_le32(live.version), 10);
	CU_ASSERT_EQUAL(vtime_pvclock_read(&live, &ctr, 1, &rd), 0);
	CU_ASSERT_EQUAL(rd.version, 10);
}

/* The writer publishes a new record while the reader is inside its window
 * (the counter hook runs between the body loads and the re-check). */
static rec_t racer_body;
static int racer_left;

static void racer(struct vt_fake_counter *fc)
{
	(void)fc;
	if (racer_left > 0) {
		racer_left--;
		publish(&racer_body);
	}
}

static void test_read_racing_writer(void)
{
	rec_t b1 = body_for(1000000000ull, 0, 0, 0);
	struct vt_fake_counter fc = { 1000, 1, 0, racer, NULL };
	struct vtime_counter ctr = vt_fake_counter_hook(&fc);
	struct vtime_pvclock_reading rd;

	memset(&live, 0, sizeof live);
	publish(&b1);
	racer_body = body_for(2000000000ull, 500, 1000000, VTIME_PVCLOCK_TSC_STABLE); /* 2 GHz */
	racer_left = 1;
	CU_ASSERT_EQUAL(vtime_pvclock_read(&live, &ctr, 0, &rd), 0);
	CU_ASSERT_EQUAL(fc.reads, 2);    /* first window torn by the publish: retried */
	CU_ASSERT_EQUAL(rd.version, 4);  /* from the new version */
	CU_ASSERT_EQUAL(rd.tsc, 1001);   /* the counter read of the successful window */
	CU_ASSERT_EQUAL(rd.flags, VTIME_PVCLOCK_TSC_STABLE);
	CU_ASSERT_EQUAL(rd.ns, oracle_pvclock_time(&racer_body, 1001));
	CU_ASSERT_EQUAL(rd.ns, 1000000 + 250);
	/* a writer faster than the reader every time: bounded, VTIME_EAGAIN */
	racer_left = 1000000;
	fc.reads = 0;
	CU_ASSERT_EQUAL(vtime_pvclock_read(&live, &ctr, 50, &rd), VTIME_EAGAIN);
	CU_ASSERT_EQUAL(fc.reads, 50);
	racer_left = 0;
}

static void test_read_invalid(void)
{
	struct vt_fake_counter fc = { 1000, 1, 0, NULL, NULL };
	struct vtime_counter ctr = vt_fake_counter_hook(&fc);
	struct vtime_pvclock_reading rd;
	rec_t b;

	memset(&live, 0, sizeof live); /* never published */
	CU_ASSERT_EQUAL(vtime_pvclock_read(&live, &ctr, 0, &rd), VTIME_ENODATA);
	CU_ASSERT_EQUAL(vtime_pvclock_snapshot(&live, 0, &b), VTIME_ENODATA);

	b = body_for(1000000000ull, 0, 0, 0);
	b.tsc_to_system_mul = 0;
	publish(&b);
	CU_ASSERT_EQUAL(vtime_pvclock_read(&live, &ctr, 0, &rd), VTIME_EPROTO);
	/* version 0 but with content: not "never published", corrupt */
	memset(&live, 0, sizeof live);
	live.system_time = vt_le64(5);
	CU_ASSERT_EQUAL(vtime_pvclock_read(&live, &ctr, 0, &rd), VTIME_EPROTO);

	b = body_for(1000000000ull, 0, 0, 0);
	for (int sh = -128; sh <= 127; sh++) {
		int want = (sh >= VTIME_PVCLOCK_SHIFT_MIN && sh <= VTIME_PVCLOCK_SHIFT_MAX) ? 0 : VTIME_EPROTO;
		b.tsc_shift = (int8_t)sh;
		publish(&b);
		CU_ASSERT_EQUAL(vtime_pvclock_read(&live, &ctr, 0, &rd), want);
	}
	CU_ASSERT_EQUAL(VTIME_PVCLOCK_SHIFT_MIN, -12);
	CU_ASSERT_EQUAL(VTIME_PVCLOCK_SHIFT_MAX, 20);
	/* the documented frequency range stays inside the accepted shifts */
	{
		struct vtime_scale s;
		CU_ASSERT_EQUAL(vtime_scale_init(&s, 1000, VTIME_NSEC_PER_SEC), 0);
		CU_ASSERT(s.shift <= VTIME_PVCLOCK_SHIFT_MAX);
		CU_ASSERT_EQUAL(vtime_scale_init(&s, 4000000000000ull, VTIME_NSEC_PER_SEC), 0);
		CU_ASSERT(s.shift >= VTIME_PVCLOCK_SHIFT_MIN);
	}
	/* vtime_pvclock_time() on an absurd record is defined (no UB), not garbage */
	b.system_time = 777;
	b.tsc_shift = 100;
	CU_ASSERT_EQUAL(vtime_pvclock_time(&b, 12345), b.system_time);
}

/* ---------------- writer ---------------- */

static void test_publish_versions(void)
{
	static const struct { uint32_t before, after; } cases[] = {
		{ 0, 2 }, { 2, 4 }, { 7, 10 }, { 0xdeadbeef, 0xdeadbef2 }, { 0xdeadbeee, 0xdeadbef0 },
		{ 0xfffffffe, 0 }, { 0xffffffff, 2 },
	};
	rec_t b = body_for(1000000000ull, 0, 0, 0);

	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&live, 0xa5, sizeof live); /* junk page */
		live.version = vt_le32(cases[i].before);
		CU_ASSERT_EQUAL(vtime_pvclock_publish(&live, &b), cases[i].after);
		CU_ASSERT_EQUAL(vt_le32(live.version), cases[i].after);
		CU_ASSERT_EQUAL(live.pad0, 0);
		CU_ASSERT_EQUAL(live.pad[0], 0);
		CU_ASSERT_EQUAL(live.pad[1], 0);
	}
	/* Snapshot restore: guest memory goes back to an image holding version
	 * 40. The writer keeps no counter of its own (which would restart at 0
	 * in a fresh VMM process and hand out versions the guest saw before):
	 * it continues from the value in guest memory. */
	memset(&live, 0, sizeof live);
	for (int i = 0; i < 30; i++)
		publish(&b);
	CU_ASSERT_EQUAL(vt_le32(live.version), 60);
	live.version = vt_le32(40);
	CU_ASSERT_EQUAL(vtime_pvclock_publish(&live, &b), 42);
	/* the odd in-between value of an interrupted restore (41) moves on too */
	live.version = vt_le32(41);
	CU_ASSERT_EQUAL(vtime_pvclock_publish(&live, &b), 44);
}

static void test_publish_flags_and_stopped(void)
{
	rec_t b = body_for(1000000000ull, 0, 0, VTIME_PVCLOCK_TSC_STABLE | VTIME_PVCLOCK_GUEST_STOPPED);
	struct vt_fake_counter fc = { 0, 1, 0, NULL, NULL };
	struct vtime_counter ctr = vt_fake_counter_hook(&fc);
	struct vtime_pvclock_reading rd;

	memset(&live, 0, sizeof live);
	CU_ASSERT_FALSE(vtime_pvclock_consume_stopped(&live));
	CU_ASSERT_FALSE(vtime_pvclock_consume_stopped(NULL));
	publish(&b);
	CU_ASSERT_EQUAL(live.flags, VTIME_PVCLOCK_TSC_STABLE | VTIME_PVCLOCK_GUEST_STOPPED);
	/* a later rewrite without the bit keeps the unconsumed one; other flags are replaced */
	b.flags = 0;
	publish(&b);
	publish(&b);
	CU_ASSERT_EQUAL(live.flags, VTIME_PVCLOCK_GUEST_STOPPED);
	CU_ASSERT_EQUAL(vtime_pvclock_read(&live, &ctr, 0, &rd), 0);
	CU_ASSERT_EQUAL(rd.flags, VTIME_PVCLOCK_GUEST_STOPPED);
	/* consumed exactly once */
	CU_ASSERT_TRUE(vtime_pvclock_consume_stopped(&live));
	CU_ASSERT_FALSE(vtime_pvclock_consume_stopped(&live));
	CU_ASSERT_EQUAL(live.flags, 0);
	/* once consumed, a rewrite does not bring it back */
	b.flags = VTIME_PVCLOCK_TSC_STABLE;
	publish(&b);
	CU_ASSERT_EQUAL(live.flags, VTIME_PVCLOCK_TSC_STABLE);
	CU_ASSERT_FALSE(vtime_pvclock_consume_stopped(&live));
	/* consume leaves the other flags alone */
	b.flags = VTIME_PVCLOCK_TSC_STABLE | VTIME_PVCLOCK_GUEST_STOPPED | VTIME_PVCLOCK_COUNTS_FROM_ZERO;
	publish(&b);
	CU_ASSERT_TRUE(vtime_pvclock_consume_stopped(&live));
	CU_ASSERT_EQUAL(live.flags, VTIME_PVCLOCK_TSC_STABLE | VTIME_PVCLOCK_COUNTS_FROM_ZERO);
	CU_ASSERT_EQUAL(vt_le32(live.version) & 1, 0); /* consume does not touch the version */
}

/* ---------------- wall clock ---------------- */

static void test_wall(void)
{
	struct vtime_pvclock_wall_clock wc;
	uint32_t sec = 1, nsec = 1;

	memset(&wc, 0, sizeof wc);
	CU_ASSERT_EQUAL(vtime_pvclock_wall_read(&wc, 0, &sec, &nsec), VTIME_ENODATA);
	CU_ASSERT_EQUAL(vtime_pvclock_wall_publish(&wc, 1700000000u, 123456789u), 2);
	CU_ASSERT_EQUAL(vtime_pvclock_wall_read(&wc, 0, &sec, &nsec), 0);
	CU_ASSERT_EQUAL(sec, 1700000000u);
	CU_ASSERT_EQUAL(nsec, 123456789u);
	CU_ASSERT_EQUAL(vtime_pvclock_wall_publish(&wc, UINT32_MAX, 999999999u), 4);
	CU_ASSERT_EQUAL(vtime_pvclock_wall_read(&wc, 1, &sec, &nsec), 0);
	CU_ASSERT_EQUAL(sec, UINT32_MAX);
	/* junk and odd versions */
	wc.version = vt_le32(0xffffffffu);
	CU_ASSERT_EQUAL(vtime_pvclock_wall_read(&wc, 3, &sec, &nsec), VTIME_EAGAIN);
	CU_ASSERT_EQUAL(vtime_pvclock_wall_publish(&wc, 5, 6), 2);
	CU_ASSERT_EQUAL(vtime_pvclock_wall_read(&wc, 0, &sec, &nsec), 0);
	CU_ASSERT(sec == 5 && nsec == 6);
	/* A VMM publishes (0, 0) when kvmclock is ahead of realtime; after the
	 * version wraps that must not read as "never published" (fuzz_wall
	 * found it: 0xfffffffe then ended at 0): the version skips 0. */
	wc.version = vt_le32(0xfffffffeu);
	CU_ASSERT_EQUAL(vtime_pvclock_wall_publish(&wc, 0, 0), 2);
	CU_ASSERT_EQUAL(vtime_pvclock_wall_read(&wc, 0, &sec, &nsec), 0);
	CU_ASSERT(sec == 0 && nsec == 0);
	wc.version = vt_le32(0xfffffffdu); /* a writer died at an odd version */
	CU_ASSERT_EQUAL(vtime_pvclock_wall_publish(&wc, 0, 0), 2);
	CU_ASSERT_EQUAL(vtime_pvclock_wall_read(&wc, 0, &sec, &nsec), 0);
	CU_ASSERT_EQUAL(vtime_pvclock_wall_read(NULL, 0, &sec, &nsec), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_pvclock_wall_read(&wc, 0, NULL, &nsec), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_pvclock_wall_read(&wc, 0, &sec, NULL), VTIME_EINVAL);

	/* wall_ns = sec*1e9 + nsec + kvmclock */
	CU_ASSERT_EQUAL(vtime_pvclock_wall_ns(0, 0, 0), 0);
	CU_ASSERT_EQUAL(vtime_pvclock_wall_ns(1700000000u, 123456789u, 5000000000ull),
			1700000000ull * 1000000000ull + 123456789ull + 5000000000ull);
	CU_ASSERT_EQUAL(vtime_pvclock_wall_ns(UINT32_MAX, 999999999u, 0), 4294967295999999999ull);
	CU_ASSERT_EQUAL(vtime_pvclock_wall_ns(0, 0, UINT64_MAX), UINT64_MAX);
}

/* ---------------- byte order ---------------- */

static void test_byte_order(void)
{
	union {
		uint32_t u;
		uint8_t b[4];
	} probe = { 0x01020304u };
	const uint8_t *raw = (const uint8_t *)&live;
	rec_t b;

	/* vt_endian.h decides at compile time; it must agree with the machine */
	CU_ASSERT_EQUAL(VT_BIG_ENDIAN, probe.b[0] == 0x01);
	/* a published record is little-endian in memory, whatever the host */
	memset(&live, 0, sizeof live);
	b = body_for(1000000000ull, 0x1122334455667788ull, 0x0102030405060708ull, VTIME_PVCLOCK_TSC_STABLE);
	b.tsc_to_system_mul = 0xa1b2c3d4u;
	b.tsc_shift = -3;
	publish(&b);
	CU_ASSERT_EQUAL(raw[0], 2); /* version 2, LSB first */
	CU_ASSERT_EQUAL(raw[3], 0);
	CU_ASSERT_EQUAL(raw[8], 0x88);
	CU_ASSERT_EQUAL(raw[15], 0x11);
	CU_ASSERT_EQUAL(raw[16], 0x08);
	CU_ASSERT_EQUAL(raw[23], 0x01);
	CU_ASSERT_EQUAL(raw[24], 0xd4);
	CU_ASSERT_EQUAL(raw[27], 0xa1);
	CU_ASSERT_EQUAL(raw[28], 0xfd);
	CU_ASSERT_EQUAL(raw[29], VTIME_PVCLOCK_TSC_STABLE);
	/* and a record built byte by byte (as a host of any endianness would
	 * leave it) reads back in host order */
	{
		uint8_t img[32];
		rec_t s;
		memset(img, 0, sizeof img);
		img[0] = 4;
		for (int i = 0; i < 8; i++) {
			img[8 + i] = (uint8_t)(0x10 + i);  /* tsc_timestamp 0x1716151413121110 */
			img[16 + i] = (uint8_t)(0x20 + i); /* system_time 0x2726252423222120 */
		}
		img[24] = 0x00; img[25] = 0x00; img[26] = 0x00; img[27] = 0x80; /* mul 2^31 */
		img[28] = 0xff; /* shift -1 */
		memcpy(&live, img, sizeof img);
		CU_ASSERT_EQUAL(vtime_pvclock_snapshot(&live, 0, &s), 0);
		CU_ASSERT_EQUAL(s.version, 4);
		CU_ASSERT_EQUAL(s.tsc_timestamp, 0x1716151413121110ull);
		CU_ASSERT_EQUAL(s.system_time, 0x2726252423222120ull);
		CU_ASSERT_EQUAL(s.tsc_to_system_mul, 0x80000000u);
		CU_ASSERT_EQUAL(s.tsc_shift, -1);
	}
	/* wall clock too */
	{
		struct vtime_pvclock_wall_clock wc;
		const uint8_t *w = (const uint8_t *)&wc;
		memset(&wc, 0, sizeof wc);
		vtime_pvclock_wall_publish(&wc, 0x01020304u, 0x0a0b0c0du);
		CU_ASSERT(w[0] == 2 && w[4] == 0x04 && w[7] == 0x01 && w[8] == 0x0d && w[11] == 0x0a);
	}
}

/* ---------------- errors ---------------- */

static void test_strerror(void)
{
	static const int codes[] = { VTIME_OK, VTIME_EINVAL, VTIME_EAGAIN, VTIME_ERANGE, VTIME_ENOTSUP,
				     VTIME_ENODEV, VTIME_EPROTO, VTIME_ENODATA, VTIME_EIO, VTIME_EBUSY,
				     VTIME_ENOMEM, VTIME_ESTATE };
	const char *unknown = vtime_strerror(-12345);
	int last = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(unknown);
	CU_ASSERT_STRING_EQUAL(vtime_strerror(1), unknown);
	CU_ASSERT_STRING_EQUAL(vtime_strerror(INT32_MIN), unknown);
	/* every listed code has its own message */
	for (unsigned i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		const char *m = vtime_strerror(codes[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		CU_ASSERT(strlen(m) > 4);
		CU_ASSERT(strcmp(m, unknown) != 0);
	}
	/* codes are dense from 0 down (codes added later are covered too), and
	 * no two share a message */
	while (last > -1000 && strcmp(vtime_strerror(last - 1), unknown) != 0)
		last--;
	CU_ASSERT(last <= VTIME_ESTATE);
	for (int c = 0; c >= last; c--)
		for (int d = 0; d > c; d--)
			CU_ASSERT(strcmp(vtime_strerror(c), vtime_strerror(d)) != 0);
	printf("\n  %d error codes, 0..%d", 1 - last, last);
}

static const struct vt_test_case abi_cases[] = {
	{ "record and wall clock sizes and offsets", test_abi },
	{ NULL, NULL },
};
static const struct vt_test_case time_cases[] = {
	{ "bit-exact vs oracle for deltas < 2^63", test_time_oracle },
	{ "counter behind the record saturates at 0", test_time_behind },
	{ "runs from 0 and across 2^64", test_time_runs },
	{ NULL, NULL },
};
static const struct vt_test_case reader_cases[] = {
	{ "read and snapshot a published record", test_read_basic },
	{ "read from counter 0 and across the wrap", test_read_from_zero_and_wrap },
	{ "stuck odd version: EAGAIN within the bound", test_read_stuck_odd },
	{ "writer racing inside the window forces a retry", test_read_racing_writer },
	{ "ENODATA and EPROTO records", test_read_invalid },
	{ NULL, NULL },
};
static const struct vt_test_case writer_cases[] = {
	{ "versions (v+1)|1 from junk, odd and restored values", test_publish_versions },
	{ "flags and GUEST_STOPPED kept until consumed once", test_publish_flags_and_stopped },
	{ "wall clock publish, read, wall_ns", test_wall },
	{ "little-endian records on any host", test_byte_order },
	{ NULL, NULL },
};
static const struct vt_test_case error_cases[] = {
	{ "vtime_strerror for every code", test_strerror },
	{ NULL, NULL },
};

int main(void)
{
	const struct vt_test_suite suites[] = {
		{ "abi", abi_cases }, { "time", time_cases }, { "reader", reader_cases },
		{ "writer", writer_cases }, { "errors", error_cases }, { NULL, NULL },
	};
	vt_rng_seed();
	return vt_test_main(suites);
}
