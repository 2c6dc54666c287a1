/* SPDX-License-Identifier: MIT */
/* The counter hook: how the core reads "the TSC" without knowing what it is.
 * Platform shims supply real counters (rdtsc, cntvct_el0); tests supply fakes. */
#ifndef VTIME_COUNTER_H
#define VTIME_COUNTER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Returns the current counter value. Must be ordered against the loads that
 * precede it in program order (lfence;rdtsc or rdtscp on x86) when used by a
 * seqlock reader: the core does not add a fence around the call. */
typedef uint64_t (*vtime_counter_fn)(void *ctx);

struct vtime_counter {
	vtime_counter_fn read;
	void *ctx;
};

#ifdef __cplusplus
}
#endif
#endif
