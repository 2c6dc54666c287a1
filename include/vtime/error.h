/* SPDX-License-Identifier: MIT */
/* Error codes, and the one return rule of vtime's API (core, shims, and
 * their private helpers alike):
 *   - A call that can fail returns int: 0 on success or one of the negative
 *     VTIME_E* codes below. Its results go out through pointers (optional
 *     ones may be NULL). It never returns a count, a mask or a version in
 *     place of the status, and never fails silently: a NULL object pointer
 *     is VTIME_EINVAL.
 *   - A pure or hot-path function that cannot fail on valid input (a
 *     conversion, a clamp, a fast clock, a writer into memory the caller
 *     owns) returns its value directly and checks nothing: its header
 *     comment states the preconditions (e.g. "c initialised").
 * The codes are vtime's own and do not alias errno. */
#ifndef VTIME_ERROR_H
#define VTIME_ERROR_H

#include <vtime/export.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vtime_error {
	VTIME_OK = 0,
	VTIME_EINVAL = -1,   /* invalid argument (NULL, 0 Hz, unknown option) */
	VTIME_EAGAIN = -2,   /* record kept changing or stayed odd (VTIME_MAX_TRIES): retry later */
	VTIME_ERANGE = -3,   /* ratio or result not representable */
	VTIME_ENOTSUP = -4,  /* not supported on this platform or build */
	VTIME_ENODEV = -5,   /* the clock or device is not there */
	VTIME_EPROTO = -6,   /* record contents invalid (mul 0, absurd shift) */
	VTIME_ENODATA = -7,  /* record never published (version 0, all zero) */
	VTIME_EIO = -8,      /* an operating-system call failed */
	VTIME_EBUSY = -9,    /* resource in use */
	VTIME_ENOMEM = -10,  /* out of memory (platform shims only: the core never allocates) */
	VTIME_ESTATE = -11,  /* call not valid in the object's current state */
	VTIME_ENOCOUNTER = -12,  /* no counter-to-time data (VMClock marker-only page: counter_id INVALID) */
	VTIME_EUNRELIABLE = -13, /* the host says its clock is unreliable (VMClock status UNRELIABLE) */
	VTIME_ENOTVALID = -14,   /* the writer marked the record invalid (Hyper-V TSC page sequence 0): use the fallback clock */
};

/* One bounded-retry policy for every seqlock reader (pvclock and wall-clock
 * records, the calibration line, the userspace clock): after this many torn
 * reads it gives up with VTIME_EAGAIN, so a writer that died inside its
 * window never hangs a reader. Calls that take max_tries use it for 0. */
#define VTIME_MAX_TRIES 1024u

/* A static English description; never NULL, also for unknown codes. */
VTIME_API const char *vtime_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
