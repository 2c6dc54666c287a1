/* SPDX-License-Identifier: MIT */
/* Monotonic clamp: returns max(t, every value returned before through the
 * same clamp), so readers never see time go backwards even when CPUs disagree
 * or the counter-to-ns line is re-fitted. Three scopes, cheapest last:
 *   global     struct vtime_clamp shared by all threads (lock-free CAS)
 *   per thread struct vtime_clamp_local owned by one thread (no shared writes)
 *   stable     vtime_clamp_apply_stable(): no write while the source says
 *              every CPU agrees (pvclock TSC_STABLE), if the platform says the
 *              bit is meaningful (VTIME_CLAMP_TRUST_STABLE)
 * Values are ordered modulo 2^64 (serial arithmetic): t is later than last
 * when (t - last) mod 2^64 is in [1, 2^63). Inputs a clamp sees must stay
 * within 2^63 of each other (292 years of ns); this also makes counters that
 * wrap past 2^64 work. See docs/clamp.md. */
#ifndef VTIME_CLAMP_H
#define VTIME_CLAMP_H

#include <stdbool.h>
#include <stdint.h>
#include <vtime/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Global scope. One cache line (64 bytes); align it to 64 to keep it off
 * other hot data. Fields are private: use the functions below. */
struct vtime_clamp {
	uint64_t last;   /* latest value handed out (written only when it grows) */
	uint32_t flags;  /* VTIME_CLAMP_* given to init */
	uint32_t pad0;
	uint64_t pad[6];
};

/* Per-thread scope: a caller-owned cell, never shared between threads. */
struct vtime_clamp_local {
	uint64_t last;
};

/* Honour the source's "stable" claim in vtime_clamp_apply_stable(). Set it
 * only when the platform says the claim is meaningful (for pvclock: CPUID
 * 0x40000001 EAX bit 24, KVM_FEATURE_CLOCKSOURCE_STABLE_BIT). */
#define VTIME_CLAMP_TRUST_STABLE 0x1u

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct vtime_clamp) == 64, "clamp is one cache line");
_Static_assert(__builtin_offsetof(struct vtime_clamp, last) == 0, "ABI");
_Static_assert(__builtin_offsetof(struct vtime_clamp, flags) == 8, "ABI");
#endif

/* start: a value no later than the first value the clamp will see (0, or the
 * clock's current reading when values may sit near 2^64). flags:
 * VTIME_CLAMP_*. Returns 0 or VTIME_EINVAL (NULL, unknown flag). Hand c to
 * other threads the usual way (thread creation, a lock, a release store).
 * The apply calls below are hot paths: they take an initialised clamp and
 * check nothing. */
VTIME_API int vtime_clamp_init(struct vtime_clamp *c, uint64_t start, unsigned flags);

/* Global scope: max(t, every value returned before by any apply on c).
 * Lock-free: one load when t is not later (no write to the shared line), one
 * CAS when it is. If apply A returns x and A happens-before apply B (any
 * thread), B returns a value no earlier than x. */
VTIME_API uint64_t vtime_clamp_apply(struct vtime_clamp *c, uint64_t t);

/* As vtime_clamp_apply(), except that when c was initialised with
 * VTIME_CLAMP_TRUST_STABLE and source_stable is true the shared line is only
 * read, never written: the result is max(t, last). Guarantees: monotonic
 * among unstable reads (full clamp), stable reads never go below an earlier
 * unstable one, and stable reads among themselves are as monotonic as the
 * source promises. Not guaranteed: an unstable read after stable ones may go
 * below the stable values that were not recorded (the Linux TSC_STABLE
 * policy). Without the flag this is vtime_clamp_apply(). */
VTIME_API uint64_t vtime_clamp_apply_stable(struct vtime_clamp *c, uint64_t t, bool source_stable);

/* Latest value handed out (a relaxed read). */
VTIME_API uint64_t vtime_clamp_last(const struct vtime_clamp *c);

/* Resume/restore: forget the history and start again from start (a value no
 * later than the next one the clamp will see). Call it before readers resume
 * (the resume itself orders it before their reads); an apply racing the
 * reset may return a pre-reset value once. */
VTIME_API void vtime_clamp_reset(struct vtime_clamp *c, uint64_t start);

/* Per-thread scope: max(t, every value returned before through l). Plain
 * memory, no atomics: l must be used by one thread at a time. */
VTIME_API int vtime_clamp_local_init(struct vtime_clamp_local *l, uint64_t start);
VTIME_API uint64_t vtime_clamp_local_apply(struct vtime_clamp_local *l, uint64_t t);

#ifdef __cplusplus
}
#endif
#endif
