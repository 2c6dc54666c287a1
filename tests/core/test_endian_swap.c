/* SPDX-License-Identifier: MIT */
/* The other conversion path of the reader and writer, on any host: this
 * file compiles src/core/pvclock.c with VT_BIG_ENDIAN set opposite to the
 * host's, so a little-endian host runs the byte-swapping code (every field
 * must come out byte-reversed in memory and read back intact; a field the
 * code forgot to convert fails here even on a little-endian CI machine) and
 * a big-endian host runs the identity code (native images). */
#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define VT_BIG_ENDIAN 0 /* the opposite of the host */
#else
#define VT_BIG_ENDIAN 1
#endif

#include <vtime/error.h>
#include <vtime/pvclock.h>

/* The functions under test, renamed so they do not clash with the library. */
#define vtime_pvclock_time sw_time
#define vtime_pvclock_read sw_read
#define vtime_pvclock_snapshot sw_snapshot
#define vtime_pvclock_publish sw_publish
#define vtime_pvclock_consume_stopped sw_consume_stopped
#define vtime_pvclock_wall_publish sw_wall_publish
#define vtime_pvclock_wall_read sw_wall_read
#define vtime_pvclock_wall_ns sw_wall_ns
#include "pvclock.c"
#undef vtime_pvclock_time
#undef vtime_pvclock_read
#undef vtime_pvclock_snapshot
#undef vtime_pvclock_publish

#include "fake_counter.h"
#include "vt_oracle.h"
#include "vt_test.h"

typedef struct vtime_pvclock_vcpu_time_info rec_t;

/* The stored bytes of a field holding native value *native: byte-reversed
 * when this build swaps, as-is when it does not. */
static int reversed(const uint8_t *p, const void *native, unsigned n)
{
	const uint8_t *q = native;
	for (unsigned i = 0; i < n; i++)
		if (p[i] != (VT_BIG_ENDIAN ? q[n - 1 - i] : q[i]))
			return 0;
	return 1;
}

static void test_swapped_roundtrip(void)
{
	rec_t live, b, s;
	const uint8_t *raw = (const uint8_t *)&live;
	struct vt_fake_counter fc = { 0, 1, 0, NULL, NULL };
	struct vtime_counter ctr = vt_fake_counter_hook(&fc);
	struct vtime_pvclock_reading rd;
	uint32_t v;
	union {
		uint32_t u;
		uint8_t b[4];
	} probe = { 0x01020304u };

	/* this build converts exactly when the host is little-endian */
	CU_ASSERT_EQUAL(VT_BIG_ENDIAN, probe.b[0] == 0x04);

	memset(&live, 0, sizeof live);
	memset(&b, 0, sizeof b);
	b.tsc_timestamp = 0x1122334455667788ull;
	b.system_time = 0x0102030405060708ull;
	b.tsc_to_system_mul = 0xc4ed3d7bu; /* 3303822267 */
	b.tsc_shift = -1;
	b.flags = VTIME_PVCLOCK_TSC_STABLE | VTIME_PVCLOCK_GUEST_STOPPED;
	CU_ASSERT_EQUAL(sw_publish(&live, &b), 2);
	v = 2;
	CU_ASSERT(reversed(raw + 0, &v, 4));
	CU_ASSERT(reversed(raw + 8, &b.tsc_timestamp, 8));
	CU_ASSERT(reversed(raw + 16, &b.system_time, 8));
	CU_ASSERT(reversed(raw + 24, &b.tsc_to_system_mul, 4));
	CU_ASSERT_EQUAL(raw[28], 0xff);
	CU_ASSERT_EQUAL(raw[29], b.flags);

	/* the swapping reader gets the host values back */
	CU_ASSERT_EQUAL(sw_snapshot(&live, 0, &s), 0);
	CU_ASSERT_EQUAL(s.version, 2);
	CU_ASSERT_EQUAL(s.tsc_timestamp, b.tsc_timestamp);
	CU_ASSERT_EQUAL(s.system_time, b.system_time);
	CU_ASSERT_EQUAL(s.tsc_to_system_mul, b.tsc_to_system_mul);
	CU_ASSERT_EQUAL(s.tsc_shift, -1);
	fc.value = b.tsc_timestamp + 2599999000ull;
	CU_ASSERT_EQUAL(sw_read(&live, &ctr, 0, &rd), 0);
	CU_ASSERT_EQUAL(rd.version, 2);
	CU_ASSERT_EQUAL(rd.ns, oracle_pvclock_time(&b, b.tsc_timestamp + 2599999000ull));
	/* the versions continue across the swap: junk odd version in wire order */
	live.version = vt_le32(0xdeadbeef); /* this build's stored form */
	CU_ASSERT_EQUAL(sw_read(&live, &ctr, 3, &rd), VTIME_EAGAIN);
	CU_ASSERT_EQUAL(sw_publish(&live, &b), 0xdeadbef2);
	/* GUEST_STOPPED survives and is consumed once (flags are one byte) */
	CU_ASSERT_TRUE(sw_consume_stopped(&live));
	CU_ASSERT_FALSE(sw_consume_stopped(&live));

	/* wall clock */
	{
		struct vtime_pvclock_wall_clock wc;
		uint32_t sec = 0, nsec = 0, x = 0x01020304u, y = 0x0a0b0c0du;
		memset(&wc, 0, sizeof wc);
		CU_ASSERT_EQUAL(sw_wall_publish(&wc, x, y), 2);
		CU_ASSERT(reversed((const uint8_t *)&wc + 4, &x, 4));
		CU_ASSERT(reversed((const uint8_t *)&wc + 8, &y, 4));
		CU_ASSERT_EQUAL(sw_wall_read(&wc, 0, &sec, &nsec), 0);
		CU_ASSERT(sec == x && nsec == y);
	}
}

static const struct vt_test_case cases[] = {
	{ "opposite byte order: byte images and round trip", test_swapped_roundtrip },
	{ NULL, NULL },
};

int main(void)
{
	const struct vt_test_suite suites[] = { { "endian-swap", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
