/* SPDX-License-Identifier: MIT */
/* VMClock (Linux include/uapi/linux/vmclock-abi.h; QEMU 9.2+, Firecracker):
 * one page the host shares with the guest that relates the guest's counter
 * to real time, with error bounds, and that tells the guest when its clock
 * was disrupted (live migration: the disruption marker changes) or when the
 * VM was loaded from a snapshot (the generation counter changes).
 *
 * Both sides in the freestanding core: the guest's reader (a seqlock read of
 * the page with the counter read inside the window, refusing what cannot be
 * used), the pure conversions behind it, and the host's writer. The page is
 * little-endian on every host. See docs/vmclock.md. */
#ifndef VTIME_VMCLOCK_H
#define VTIME_VMCLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <vtime/counter.h>
#include <vtime/error.h>
#include <vtime/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The shared structure, 0x70 bytes at the start of the region; names, order
 * and sizes exactly those of Linux's struct vmclock_abi (which follows the
 * Linux header, not the uapi-group specification text: vm_generation_counter
 * is at 0x68). In shared memory every field is little-endian; a snapshot
 * (vtime_vmclock_snapshot) holds the same fields in host byte order. The
 * region must be 8-byte aligned (it is a page). */
struct vtime_vmclock_abi {
	/* constant while the region exists */
	uint32_t magic;      /* 0x00 VTIME_VMCLOCK_MAGIC */
	uint32_t size;       /* 0x04 size of the region holding the structure */
	uint16_t version;    /* 0x08 VTIME_VMCLOCK_VERSION */
	uint8_t counter_id;  /* 0x0a VTIME_VMCLOCK_COUNTER_* */
	uint8_t time_type;   /* 0x0b VTIME_VMCLOCK_TIME_* */
	/* protected by seq_count */
	uint32_t seq_count;          /* 0x0c low bit set while the host updates */
	uint64_t disruption_marker;  /* 0x10 a new, never repeated value after each disruption */
	uint64_t flags;              /* 0x18 VTIME_VMCLOCK_FLAG_* */
	uint8_t pad[2];              /* 0x20 */
	uint8_t clock_status;        /* 0x22 VTIME_VMCLOCK_STATUS_* */
	uint8_t leap_second_smearing_hint; /* 0x23 VTIME_VMCLOCK_SMEARING_* (a hint: time is never smeared) */
	int16_t tai_offset_sec;      /* 0x24 TAI - UTC in seconds (Linux: __le16, two's complement) */
	uint8_t leap_indicator;      /* 0x26 VTIME_VMCLOCK_LEAP_* */
	uint8_t counter_period_shift; /* 0x27 extra shift of the three period fields */
	uint64_t counter_value;      /* 0x28 counter at the reference point */
	uint64_t counter_period_frac_sec; /* 0x30 counter period, units of 2^-(64 + shift) s */
	uint64_t counter_period_esterror_rate_frac_sec; /* 0x38 same unit */
	uint64_t counter_period_maxerror_rate_frac_sec; /* 0x40 same unit */
	uint64_t time_sec;           /* 0x48 seconds since the time_type epoch at counter_value */
	uint64_t time_frac_sec;      /* 0x50 fraction of that second, units of 2^-64 s */
	uint64_t time_esterror_nanosec; /* 0x58 */
	uint64_t time_maxerror_nanosec; /* 0x60 */
	uint64_t vm_generation_counter; /* 0x68 changes when loaded from a snapshot or cloned */
};

#define VTIME_VMCLOCK_MAGIC 0x4b4c4356u /* "VCLK" */
#define VTIME_VMCLOCK_VERSION 1u
#define VTIME_VMCLOCK_ABI_SIZE 0x70u /* the least a region may be */

/* counter_id */
#define VTIME_VMCLOCK_COUNTER_ARM_VCNT 0u
#define VTIME_VMCLOCK_COUNTER_X86_TSC 1u
#define VTIME_VMCLOCK_COUNTER_INVALID 0xffu /* marker-only mode: no time, only the marker */

/* time_type */
#define VTIME_VMCLOCK_TIME_UTC 0u       /* since 1970-01-01 00:00:00Z */
#define VTIME_VMCLOCK_TIME_TAI 1u       /* since 1970-01-01 00:00:00Z */
#define VTIME_VMCLOCK_TIME_MONOTONIC 2u /* undefined epoch */
#define VTIME_VMCLOCK_TIME_INVALID_SMEARED 3u       /* not supported */
#define VTIME_VMCLOCK_TIME_INVALID_MAYBE_SMEARED 4u /* not supported */

/* flags */
#define VTIME_VMCLOCK_FLAG_TAI_OFFSET_VALID (1ull << 0)
#define VTIME_VMCLOCK_FLAG_DISRUPTION_SOON (1ull << 1)     /* in about a day */
#define VTIME_VMCLOCK_FLAG_DISRUPTION_IMMINENT (1ull << 2) /* in about an hour */
#define VTIME_VMCLOCK_FLAG_PERIOD_ESTERROR_VALID (1ull << 3)
#define VTIME_VMCLOCK_FLAG_PERIOD_MAXERROR_VALID (1ull << 4)
#define VTIME_VMCLOCK_FLAG_TIME_ESTERROR_VALID (1ull << 5)
#define VTIME_VMCLOCK_FLAG_TIME_MAXERROR_VALID (1ull << 6)
#define VTIME_VMCLOCK_FLAG_TIME_MONOTONIC (1ull << 7)  /* no step back across updates */
#define VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT (1ull << 8)
#define VTIME_VMCLOCK_FLAG_NOTIFICATION_PRESENT (1ull << 9) /* newer kernels */

/* clock_status */
#define VTIME_VMCLOCK_STATUS_UNKNOWN 0u
#define VTIME_VMCLOCK_STATUS_INITIALIZING 1u
#define VTIME_VMCLOCK_STATUS_SYNCHRONIZED 2u
#define VTIME_VMCLOCK_STATUS_FREERUNNING 3u
#define VTIME_VMCLOCK_STATUS_UNRELIABLE 4u

/* leap_second_smearing_hint */
#define VTIME_VMCLOCK_SMEARING_STRICT 0u
#define VTIME_VMCLOCK_SMEARING_NOON_LINEAR 1u
#define VTIME_VMCLOCK_SMEARING_UTC_SLS 2u

/* leap_indicator, valid at the reference point */
#define VTIME_VMCLOCK_LEAP_NONE 0u     /* no known nearby leap second */
#define VTIME_VMCLOCK_LEAP_PRE_POS 1u  /* positive leap second at the end of the month */
#define VTIME_VMCLOCK_LEAP_PRE_NEG 2u  /* negative leap second at the end of the month */
#define VTIME_VMCLOCK_LEAP_POS 3u      /* during the 23:59:60 second */
#define VTIME_VMCLOCK_LEAP_POST_POS 4u /* a positive one happened at the end of last month */
#define VTIME_VMCLOCK_LEAP_POST_NEG 5u /* a negative one happened at the end of last month */

/* An error term (ns) the host did not give: no bound. */
#define VTIME_VMCLOCK_UNKNOWN UINT64_MAX

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct vtime_vmclock_abi) == 0x70, "struct vmclock_abi is 0x70 bytes");
_Static_assert(__builtin_offsetof(struct vtime_vmclock_abi, seq_count) == 0x0c, "ABI");
_Static_assert(__builtin_offsetof(struct vtime_vmclock_abi, disruption_marker) == 0x10, "ABI");
_Static_assert(__builtin_offsetof(struct vtime_vmclock_abi, clock_status) == 0x22, "ABI");
_Static_assert(__builtin_offsetof(struct vtime_vmclock_abi, tai_offset_sec) == 0x24, "ABI");
_Static_assert(__builtin_offsetof(struct vtime_vmclock_abi, counter_value) == 0x28, "ABI");
_Static_assert(__builtin_offsetof(struct vtime_vmclock_abi, time_sec) == 0x48, "ABI");
_Static_assert(__builtin_offsetof(struct vtime_vmclock_abi, vm_generation_counter) == 0x68, "ABI");
#endif

/* ---- guest side ---- */

/* The constant header of a live region: 0 if magic, version and size say
 * it is a VMClock vtime can read. VTIME_ENODEV: wrong magic (no VMClock
 * there, or never initialised); VTIME_ENOTSUP: another version;
 * VTIME_EPROTO: size below VTIME_VMCLOCK_ABI_SIZE, or above region_size (the
 * length the caller mapped; 0 when it does not know), or a region_size
 * below VTIME_VMCLOCK_ABI_SIZE; VTIME_EINVAL: NULL. The readers below check
 * the same with region_size 0. */
VTIME_API int vtime_vmclock_check(const volatile struct vtime_vmclock_abi *clk, size_t region_size);

/* Copies a consistent page out (host byte order) with the seq_count
 * seqlock, without reading a counter. Judges only the header (as
 * vtime_vmclock_check): a marker-only or unreliable page is copied too, so
 * the disruption marker and generation counter can always be watched.
 * Retries at most max_tries times (0: VTIME_MAX_TRIES), then VTIME_EAGAIN. */
VTIME_API int vtime_vmclock_snapshot(const volatile struct vtime_vmclock_abi *clk, unsigned max_tries,
				     struct vtime_vmclock_abi *out);

/* Whether a snapshot's time can be used: 0, VTIME_ENOCOUNTER (counter_id
 * INVALID: marker-only mode), VTIME_EUNRELIABLE (status UNRELIABLE),
 * VTIME_ENOTSUP (a counter_id or time_type vtime does not know, or a
 * smeared time type), VTIME_EINVAL (NULL). It cannot know which counter
 * the caller reads: the caller's counter must be the one counter_id names. */
VTIME_API int vtime_vmclock_usable(const struct vtime_vmclock_abi *snap);

/* Time at counter value counter through a snapshot (pure; judges nothing
 * but the arithmetic), as Linux computes it:
 *   d     = counter - counter_value                      (mod 2^64)
 *   total = time_sec * 2^64 + time_frac_sec + floor(d * period / 2^shift)
 *   sec   = floor(total / 2^64), nsec = floor((total mod 2^64) * 10^9 / 2^64)
 * with the product in 128 bits (no __int128). For d < 2^63 this is exactly
 * the reference formula. d >= 2^63 is a counter *behind* counter_value by
 * g = counter_value - counter ticks: vtime extrapolates backwards, total =
 * time_sec * 2^64 + time_frac_sec - ceil(g * period / 2^shift) (the floor of
 * the signed product), so time never jumps ~2^64 ticks ahead and is
 * non-decreasing in counter over the whole signed range. Any shift 0..255
 * is defined. Returns 0, or VTIME_ERANGE (and leaves the outputs alone) when
 * total is negative or sec does not fit in 64 bits; VTIME_EINVAL for NULL. */
VTIME_API int vtime_vmclock_time(const struct vtime_vmclock_abi *snap, uint64_t counter, uint64_t *sec,
				 uint32_t *nsec);

/* The error terms at counter (pure, no failure: snap must not be NULL), in
 * ns, rounded up, saturating at UINT64_MAX (VTIME_VMCLOCK_UNKNOWN):
 *   maxerror = time_maxerror_nanosec + ceil(|d| * maxerror_rate * 10^9 / 2^(64 + shift))
 *   esterror = time_esterror_nanosec + ceil(|d| * esterror_rate * 10^9 / 2^(64 + shift))
 * (d signed as in vtime_vmclock_time). Each is VTIME_VMCLOCK_UNKNOWN when
 * its TIME_*ERROR_VALID flag is clear; its rate term is added only when its
 * PERIOD_*ERROR_VALID flag is set (without it the figure is the host's
 * error at the reference point only: the flags in the snapshot say which).
 * True time lies within time +- maxerror. */
VTIME_API uint64_t vtime_vmclock_maxerror(const struct vtime_vmclock_abi *snap, uint64_t counter);
VTIME_API uint64_t vtime_vmclock_esterror(const struct vtime_vmclock_abi *snap, uint64_t counter);

/* One reading: the time at a counter value and what the page said about it. */
struct vtime_vmclock_reading {
	uint64_t counter;     /* counter value read inside the window (or given) */
	uint64_t sec;         /* time at counter on the page's time_type scale */
	uint32_t nsec;        /* 0..999999999, shared by sec, tai_sec, utc_sec */
	uint32_t valid;       /* VTIME_VMCLOCK_HAVE_*: which of tai_sec, utc_sec hold */
	uint64_t tai_sec;     /* TAI seconds since 1970 (time_type TAI, or UTC + tai_offset) */
	uint64_t utc_sec;     /* UTC seconds since 1970 (time_type UTC, or TAI - tai_offset) */
	uint64_t maxerror_ns; /* vtime_vmclock_maxerror() at counter */
	/* vtime_vmclock_esterror() at counter */
	uint64_t esterror_ns;
	uint64_t disruption_marker;
	uint64_t vm_generation_counter; /* meaningful with FLAG_VM_GEN_COUNTER_PRESENT */
	uint64_t flags;       /* the page's flags */
	uint32_t seq;         /* the even seq_count the copy came from */
	int16_t tai_offset_sec;
	uint8_t time_type;
	uint8_t clock_status;
	uint8_t leap_indicator; /* passed through: vtime applies no leap itself */
	uint8_t counter_id;
	uint8_t pad[6]; /* 0: no padding anywhere, so readings compare with memcmp */
};

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct vtime_vmclock_reading) == 96, "no padding in a reading");
#endif

#define VTIME_VMCLOCK_HAVE_TAI 0x1u
#define VTIME_VMCLOCK_HAVE_UTC 0x2u

/* The reading at counter through a snapshot (pure): vtime_vmclock_usable(),
 * then vtime_vmclock_time() and the two error terms, TAI and UTC (the one
 * not published derived with tai_offset_sec when TAI_OFFSET_VALID; neither
 * for MONOTONIC), and the page's marker, generation, flags, status, leap
 * indicator. Returns 0 or the first error of those; *out untouched then. */
VTIME_API int vtime_vmclock_convert(const struct vtime_vmclock_abi *snap, uint64_t counter,
				    struct vtime_vmclock_reading *out);

/* Reads a live page: the seqlock copy with ctr->read called inside the
 * window (ordered after the copy's loads: lfence;rdtsc, isb;mrs), then
 * vtime_vmclock_convert(). Returns 0, VTIME_EAGAIN (no consistent window in
 * max_tries, 0: VTIME_MAX_TRIES), VTIME_ENODEV / VTIME_ENOTSUP / VTIME_EPROTO
 * (header, as vtime_vmclock_check), VTIME_ENOCOUNTER, VTIME_EUNRELIABLE,
 * VTIME_ENOTSUP, VTIME_ERANGE (see above), VTIME_EINVAL; *out untouched on
 * error. */
VTIME_API int vtime_vmclock_read(const volatile struct vtime_vmclock_abi *clk, const struct vtime_counter *ctr,
				 unsigned max_tries, struct vtime_vmclock_reading *out);

/* ---- host side (one writer per page at a time) ---- */

/* Lays out a new page: zeroes the structure, then writes magic, size (of
 * the region, >= VTIME_VMCLOCK_ABI_SIZE), version 1, counter_id and
 * time_type (UTC, TAI or MONOTONIC) inside one seq window, so a guest that
 * sees the magic also sees a whole page. Status UNKNOWN, marker 0, no flags.
 * For a page the guest has already seen (restore, migration), do not
 * initialise: publish on top (the markers continue from the page). Returns
 * 0 or VTIME_EINVAL. */
VTIME_API int vtime_vmclock_init(volatile struct vtime_vmclock_abi *clk, uint32_t size, uint8_t counter_id,
				 uint8_t time_type);

/* Body helpers (host byte order, into a struct the writer then publishes). */

/* The counter line: shift and period for a counter of hz ticks per second,
 * the largest shift that keeps the period in 64 bits (2^shift < hz),
 * period = floor(2^(64 + shift) / hz); and the period's error rates from
 * parts per billion of the period, rounded up: rate = ceil(period *
 * ppb / 10^9). A ppb of VTIME_VMCLOCK_UNKNOWN clears the rate and its
 * PERIOD_*ERROR_VALID flag; any other value sets them. Returns 0, or
 * VTIME_EINVAL (NULL, hz < 2), VTIME_ERANGE (a rate beyond 64 bits). */
VTIME_API int vtime_vmclock_set_period(struct vtime_vmclock_abi *body, uint64_t hz, uint64_t maxerror_ppb,
				       uint64_t esterror_ppb);

/* The reference point: counter_value = counter, time_sec = sec and
 * time_frac_sec = ceil(nsec * 2^64 / 10^9) (so vtime_vmclock_time() at
 * counter gives back exactly sec, nsec); the time errors in ns, each
 * VTIME_VMCLOCK_UNKNOWN to clear it and its TIME_*ERROR_VALID flag.
 * Returns 0 or VTIME_EINVAL (NULL, nsec >= 10^9). */
VTIME_API int vtime_vmclock_set_time(struct vtime_vmclock_abi *body, uint64_t counter, uint64_t sec,
				     uint32_t nsec, uint64_t maxerror_ns, uint64_t esterror_ns);

/* Events of one publish. */
#define VTIME_VMCLOCK_EV_DISRUPTED 0x1u      /* the counter was disrupted: marker + 1 */
#define VTIME_VMCLOCK_EV_NEW_GENERATION 0x2u /* loaded from a snapshot or cloned: generation + 1 (and marker + 1) */

/* Publishes body (host byte order) into the live page as VMClock's writer
 * must: seq_count odd, the fields, seq_count even again. Written: flags,
 * clock_status, smearing hint, tai_offset_sec, leap_indicator, shift,
 * counter_value, the three period fields, time and its errors (pads 0).
 * Never taken from body: the constant header (magic, size, version,
 * counter_id, time_type: vtime_vmclock_init), seq_count, and the two
 * markers, which continue from the page: the disruption marker changes (+1)
 * exactly when events has EV_DISRUPTED or EV_NEW_GENERATION, the generation
 * counter (+1) exactly with EV_NEW_GENERATION (which also sets
 * FLAG_VM_GEN_COUNTER_PRESENT; once on the page that flag stays, whatever
 * body's flags say, so a guest relying on the counter never loses it; set
 * it in body from the first publish to offer the counter from the start).
 * Continuing from guest memory, a value the guest has seen is never handed
 * out again (also after a restore into a fresh VMM). A writer into memory
 * the caller owns: checks nothing. Preconditions: clk an initialised page,
 * body not NULL, one writer per page at a time; bits of events other than
 * VTIME_VMCLOCK_EV_* are ignored. Returns the new (even) seq_count. */
VTIME_API uint32_t vtime_vmclock_publish(volatile struct vtime_vmclock_abi *clk,
					 const struct vtime_vmclock_abi *body, unsigned events);

#ifdef __cplusplus
}
#endif
#endif
