/* SPDX-License-Identifier: MIT */
/* The pvclock (kvmclock) ABI shared by KVM and Xen, and vtime's reader and
 * writer for it. Records are little-endian by definition: on a big-endian
 * host the reader and writer convert every field, so a VMM on s390x still
 * publishes what an x86 guest expects. See docs/pvclock.md. */
#ifndef VTIME_PVCLOCK_H
#define VTIME_PVCLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <vtime/counter.h>
#include <vtime/error.h>
#include <vtime/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Per-vCPU record, 32 bytes, layout fixed by the hypervisor ABI. Fields are
 * stored little-endian; use the reader and writer below rather than touching
 * a live record directly. */
struct vtime_pvclock_vcpu_time_info {
	uint32_t version;           /* seqcount: odd while the writer is inside */
	uint32_t pad0;
	uint64_t tsc_timestamp;     /* guest counter at the last update */
	uint64_t system_time;       /* ns at tsc_timestamp */
	uint32_t tsc_to_system_mul; /* 32.32 fixed-point multiplier */
	int8_t tsc_shift;           /* pre-shift of the counter delta */
	uint8_t flags;              /* VTIME_PVCLOCK_* */
	uint8_t pad[2];
};

/* Wall clock at kvmclock 0, 12 bytes. sec is u32: it overflows in 2106. */
struct vtime_pvclock_wall_clock {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
};

#define VTIME_PVCLOCK_TSC_STABLE 0x01u       /* every vCPU shares one reference */
#define VTIME_PVCLOCK_GUEST_STOPPED 0x02u    /* host paused the guest; consume once */
#define VTIME_PVCLOCK_COUNTS_FROM_ZERO 0x04u /* defined by the ABI, unused by KVM */

/* Per-CPU records in a shared page are 64 bytes apart. */
#define VTIME_PVCLOCK_RECORD_STRIDE 64u

/* Range of tsc_shift the reader accepts (counters of about 1 kHz to 4 THz).
 * Anything outside is a corrupt or hostile record. */
#define VTIME_PVCLOCK_SHIFT_MIN (-12)
#define VTIME_PVCLOCK_SHIFT_MAX 20
/* The counter rates whose TSC-to-ns scale (vtime_scale_init(), KVM's rule)
 * has a shift in that range, i.e. what a VMM can publish: 954 Hz to
 * 8.192 THz (tests/core/test_scale.c checks both edges). */
#define VTIME_PVCLOCK_HZ_MIN 954ull
#define VTIME_PVCLOCK_HZ_MAX 8192000008191ull

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct vtime_pvclock_vcpu_time_info) == 32, "pvclock record is 32 bytes");
_Static_assert(__builtin_offsetof(struct vtime_pvclock_vcpu_time_info, tsc_timestamp) == 8, "ABI");
_Static_assert(__builtin_offsetof(struct vtime_pvclock_vcpu_time_info, system_time) == 16, "ABI");
_Static_assert(__builtin_offsetof(struct vtime_pvclock_vcpu_time_info, tsc_to_system_mul) == 24, "ABI");
_Static_assert(__builtin_offsetof(struct vtime_pvclock_vcpu_time_info, tsc_shift) == 28, "ABI");
_Static_assert(__builtin_offsetof(struct vtime_pvclock_vcpu_time_info, flags) == 29, "ABI");
_Static_assert(sizeof(struct vtime_pvclock_wall_clock) == 12, "wall clock record is 12 bytes");
_Static_assert(__builtin_offsetof(struct vtime_pvclock_wall_clock, sec) == 4, "ABI");
_Static_assert(__builtin_offsetof(struct vtime_pvclock_wall_clock, nsec) == 8, "ABI");
#endif

/* Pure conversion of a counter value through a record already copied out of
 * shared memory (fields in host byte order, as returned by
 * vtime_pvclock_snapshot()). For (tsc - tsc_timestamp) mod 2^64 < 2^63 it is
 * bit-identical to the reference formula; a tsc behind tsc_timestamp gives
 * system_time minus the scaled gap, saturating at 0. Pure; rec must point
 * at a record (a shift outside [-63, 63] gives 0 for the delta, not UB). */
VTIME_API uint64_t vtime_pvclock_time(const struct vtime_pvclock_vcpu_time_info *rec, uint64_t tsc);

/* One consistent reading of a live record. */
struct vtime_pvclock_reading {
	uint64_t ns;      /* kvmclock time at counter value tsc */
	uint64_t tsc;     /* counter value read inside the seqlock window */
	uint32_t version; /* even version the reading came from */
	uint8_t flags;    /* flags of that version */
};

/* Reads a live record with the version seqlock, calling ctr->read inside the
 * window. Retries at most max_tries times (0 means VTIME_MAX_TRIES).
 * Returns 0, VTIME_EAGAIN (writer stuck or too busy), VTIME_ENODATA (never
 * published), VTIME_EPROTO (mul 0 or shift out of range) or VTIME_EINVAL. */
VTIME_API int vtime_pvclock_read(const volatile struct vtime_pvclock_vcpu_time_info *rec,
				 const struct vtime_counter *ctr, unsigned max_tries,
				 struct vtime_pvclock_reading *out);

/* Copies a consistent record out (host byte order), without reading a counter.
 * Same return values as vtime_pvclock_read(). */
VTIME_API int vtime_pvclock_snapshot(const volatile struct vtime_pvclock_vcpu_time_info *rec,
				     unsigned max_tries, struct vtime_pvclock_vcpu_time_info *out);

/* Writer: publishes body (host byte order; version and pad ignored) into rec
 * as version (v+1)|1, body, v+2-ish even. A GUEST_STOPPED bit already in rec
 * that the guest has not consumed is kept. One writer per record at a time.
 * Cannot fail: rec and body must point at records (8-byte aligned). Returns
 * the new (even) version. */
VTIME_API uint32_t vtime_pvclock_publish(volatile struct vtime_pvclock_vcpu_time_info *rec,
					 const struct vtime_pvclock_vcpu_time_info *body);

/* Guest side: atomically clears GUEST_STOPPED; true if it was set. */
VTIME_API bool vtime_pvclock_consume_stopped(volatile struct vtime_pvclock_vcpu_time_info *rec);

/* Wall-clock record writer (preconditions as vtime_pvclock_publish(); the
 * new version is never 0, which with a (0, 0) body would read as never
 * published: after 0xfffffffe comes 2) and reader (same seqlock protocol;
 * VTIME_ENODATA for version, sec and nsec all 0). */
VTIME_API uint32_t vtime_pvclock_wall_publish(volatile struct vtime_pvclock_wall_clock *wc,
					      uint32_t sec, uint32_t nsec);
VTIME_API int vtime_pvclock_wall_read(const volatile struct vtime_pvclock_wall_clock *wc,
				      unsigned max_tries, uint32_t *sec, uint32_t *nsec);

/* Wall time in ns since the Unix epoch: sec*1e9 + nsec + kvmclock_ns. */
VTIME_API uint64_t vtime_pvclock_wall_ns(uint32_t sec, uint32_t nsec, uint64_t kvmclock_ns);

#ifdef __cplusplus
}
#endif
#endif
