/* SPDX-License-Identifier: MIT */
/* The Hyper-V reference TSC page (Microsoft TLFS; what Windows and Azure
 * guests, and every VMM offering Hyper-V enlightenments, keep time with):
 *   reference time (100 ns units) = ((tsc * tsc_scale) >> 64) + tsc_offset
 * with a 128-bit product, published under a sequence that is 0 while the
 * host rewrites the page and whenever the page is not valid (the guest then
 * reads HV_X64_MSR_TIME_REF_COUNT instead).
 *
 * Both sides in the freestanding core: the guest's reader, the pure
 * conversion, KVM's computation of the page from a pvclock record (bit for
 * bit), and the host's writer. The page is little-endian on every host.
 * See docs/hyperv.md. */
#ifndef VTIME_HYPERV_H
#define VTIME_HYPERV_H

#include <stdint.h>
#include <vtime/counter.h>
#include <vtime/error.h>
#include <vtime/export.h>
#include <vtime/pvclock.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The whole 4 KiB page (the guest registers it by page frame). In shared
 * memory every field is little-endian. It must be 8-byte aligned (it is a
 * page); a zeroed page is a valid "invalid" page (sequence 0). */
struct vtime_hv_tsc_page {
	uint32_t tsc_sequence; /* 0: invalid or being rewritten; never 0xFFFFFFFF when valid */
	uint32_t reserved1;
	uint64_t tsc_scale;    /* 0.64 fixed point: 100 ns units per TSC tick */
	int64_t tsc_offset;    /* 100 ns units */
	uint64_t reserved2[509];
};

#define VTIME_HV_TSC_PAGE_SIZE 4096u
#define VTIME_HV_TSC_SEQUENCE_INVALID 0u
#define VTIME_HV_REF_HZ 10000000u /* reference time counts 100 ns units */

/* Discovery and registration (x86). */
#define VTIME_HV_CPUID_VENDOR 0x40000000u   /* EBX, ECX, EDX: the signature below */
#define VTIME_HV_CPUID_SIGNATURE "Microsoft Hv"
#define VTIME_HV_X64_MSR_TIME_REF_COUNT 0x40000020u  /* 100 ns units since partition creation: the fallback */
#define VTIME_HV_X64_MSR_REFERENCE_TSC 0x40000021u   /* bit 0 enable, bits 63:12 the page frame */
#define VTIME_HV_X64_MSR_TSC_FREQUENCY 0x40000022u   /* TSC frequency in Hz */
#define VTIME_HV_MSR_REFERENCE_TSC_ENABLE 0x1ull
#define VTIME_HV_MSR_REFERENCE_TSC_PFN_SHIFT 12

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct vtime_hv_tsc_page) == VTIME_HV_TSC_PAGE_SIZE, "the reference TSC page is 4 KiB");
_Static_assert(__builtin_offsetof(struct vtime_hv_tsc_page, reserved1) == 4, "ABI");
_Static_assert(__builtin_offsetof(struct vtime_hv_tsc_page, tsc_scale) == 8, "ABI");
_Static_assert(__builtin_offsetof(struct vtime_hv_tsc_page, tsc_offset) == 16, "ABI");
#endif

/* Pure conversion: ((tsc * tsc_scale) >> 64) + tsc_offset, the product in
 * 128 bits (no __int128), the sum mod 2^64 as the TLFS computes it. No
 * precondition: every input is defined. */
VTIME_API uint64_t vtime_hv_tsc_page_time(uint64_t tsc_scale, int64_t tsc_offset, uint64_t tsc);

/* One consistent reading of the page. */
struct vtime_hv_tsc_reading {
	uint64_t time;       /* reference time at tsc, 100 ns units (0 for a snapshot) */
	uint64_t tsc;        /* counter value read inside the window (0 for a snapshot) */
	uint64_t tsc_scale;
	int64_t tsc_offset;
	uint32_t sequence;   /* the valid sequence the copy came from */
	uint32_t pad;
};

/* Reads a live page: sequence (0 or 0xFFFFFFFF: stop), scale, offset and
 * ctr->read (ordered after those loads: lfence;rdtsc) inside the window,
 * then the re-check; retried at most max_tries times (0: VTIME_MAX_TRIES).
 * Returns 0, VTIME_ENOTVALID (the page is invalid or being rewritten, with
 * no retry: read HV_X64_MSR_TIME_REF_COUNT), VTIME_EAGAIN (the sequence
 * changed in every try), VTIME_EINVAL; *out untouched on error. */
VTIME_API int vtime_hv_tsc_page_read(const volatile struct vtime_hv_tsc_page *page, const struct vtime_counter *ctr,
				     unsigned max_tries, struct vtime_hv_tsc_reading *out);

/* The same window without a counter: scale, offset and sequence in host
 * byte order (time and tsc 0). Same return values. */
VTIME_API int vtime_hv_tsc_page_snapshot(const volatile struct vtime_hv_tsc_page *page, unsigned max_tries,
					 struct vtime_hv_tsc_reading *out);

/* KVM's page for a pvclock record (rec in host byte order, as from
 * vtime_pvclock_snapshot), bit for bit:
 *   tsc_scale  = floor(2^(32 + shift) * mul / 100)           (96-bit intermediate)
 *   tsc_offset = floor(system_time / 100) - floor(tsc_timestamp * tsc_scale / 2^64)
 *                (system_time divided as unsigned, the difference mod 2^64)
 * Returns 0; VTIME_ERANGE where KVM publishes no page (sequence 0): the
 * record lacks TSC_STABLE, or mul >= 100 * 2^(32 - shift) computed as KVM
 * does in 64 bits (bits beyond 2^64 lost, so shifts below -25 compare
 * against the truncated bound; at -30 and -31 it is 0: no page);
 * VTIME_EPROTO for a shift outside [-31, 31], where KVM's shifts are
 * undefined C (valid records have [-12, 20]); VTIME_EINVAL for NULL. A
 * system_time slightly "negative" (just below 2^64, possible right after
 * KVM_SET_CLOCK) divides as a huge unsigned value, as in KVM: the page then
 * reads ~584 years ahead until the next update (docs/hyperv.md). */
VTIME_API int vtime_hv_tsc_page_from_pvclock(const struct vtime_pvclock_vcpu_time_info *rec, uint64_t *tsc_scale,
					     int64_t *tsc_offset);

/* Writer: sequence 0, write barrier, scale and offset, write barrier, the
 * next sequence: one more than the last valid one, skipping 0 and
 * 0xFFFFFFFF. last is the writer's memory of the last valid sequence it
 * published (0: unknown): the page's own value, when valid, comes first,
 * then last, else the count restarts at 1. A writer into memory the caller
 * owns: checks nothing. Preconditions: page not NULL, one writer per page at
 * a time. Returns the sequence published (never 0 or 0xFFFFFFFF): keep it
 * as the next call's last. */
VTIME_API uint32_t vtime_hv_tsc_page_publish(volatile struct vtime_hv_tsc_page *page, uint64_t tsc_scale,
					     int64_t tsc_offset, uint32_t last);

/* Marks the page invalid (sequence 0: guests use the MSR), as KVM does when
 * it has no page to offer. Same preconditions. Returns the last valid
 * sequence (the page's if valid, else last if valid, else 0), to hand to
 * the next publish so that it does not restart at 1. */
VTIME_API uint32_t vtime_hv_tsc_page_invalidate(volatile struct vtime_hv_tsc_page *page, uint32_t last);

#ifdef __cplusplus
}
#endif
#endif
