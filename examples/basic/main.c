/* SPDX-License-Identifier: MIT */
/* Both sides of pvclock in one process: a "VMM" publishes a record for a
 * 2.6 GHz counter, a "guest" reads it. Builds against the installed library
 * (<vtime/vtime.h>) or the two vendored files (-DVTIME_VENDORED, vtime.h +
 * vtime.c from scripts/amalgamate). Exits non-zero if the reading is wrong. */
#include <inttypes.h>
#include <stdio.h>

#ifdef VTIME_VENDORED
#include "vtime.h"
#else
#include <vtime/vtime.h>
#endif

#define TSC_HZ 2599999000ull

/* A counter the example drives: the guest reads 1.5 s after the update. */
static uint64_t fake_counter(void *ctx)
{
	return *(const uint64_t *)ctx;
}

int main(void)
{
	struct vtime_pvclock_vcpu_time_info shared = { 0 }, body = { 0 };
	struct vtime_pvclock_reading r;
	struct vtime_scale s;
	uint64_t tsc_now = 1000000 + TSC_HZ + TSC_HZ / 2;
	struct vtime_counter ctr = { fake_counter, &tsc_now };
	int err;

	/* Host: the (mul, shift) KVM would publish for this counter. */
	err = vtime_scale_init(&s, TSC_HZ, VTIME_NSEC_PER_SEC);
	if (err) {
		fprintf(stderr, "scale: %s\n", vtime_strerror(err));
		return 1;
	}
	body.tsc_timestamp = 1000000;
	body.system_time = 5000000000ull;
	body.tsc_to_system_mul = s.mul;
	body.tsc_shift = s.shift;
	body.flags = VTIME_PVCLOCK_TSC_STABLE;
	vtime_pvclock_publish(&shared, &body);

	/* Guest: one consistent reading. */
	err = vtime_pvclock_read(&shared, &ctr, 0, &r);
	if (err) {
		fprintf(stderr, "read: %s\n", vtime_strerror(err));
		return 1;
	}
	printf("mul %" PRIu32 " shift %d (%" PRIu64 " Hz): %" PRIu64 " ns at version %" PRIu32 "\n", s.mul,
	       s.shift, vtime_scale_source_hz(&s), r.ns, r.version);
	/* 1.5 s after 5 s, minus at most 1 ns of fixed-point rounding. */
	return (r.ns <= 6500000000ull && r.ns >= 6499999999ull) ? 0 : 1;
}
