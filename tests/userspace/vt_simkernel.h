/* SPDX-License-Identifier: MIT */
/* A simulated Linux kernel clock for the userspace clock's tests (through
 * vt_clock_test_hooks): the counter and CLOCK_MONOTONIC_RAW are this
 * machine's, CLOCK_MONOTONIC and REALTIME and adjtimex are the
 * simulation's, so kernel clock adjustments run without touching this
 * machine's clock. The simulated CLOCK_MONOTONIC advances per RAW second by
 * tick * 100000 + freq / 65536 * 1000 ns plus the PLL's and adjtime()'s
 * share, as Linux's does (vt_ntp.h). adjtimex reports maxerror, esterror,
 * status and tai as set here; a CLOCK_REALTIME step clears the NTP state
 * the way Linux's settimeofday does (STA_UNSYNC, maxerror and esterror
 * 16 s). Used by test_adjust.c and test_bounded.c. */
#ifndef VT_SIMKERNEL_H
#define VT_SIMKERNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>

#include "vt_clock.h"
#include "vt_ntp.h"

static struct {
	uint64_t r0, m0;  /* segment start: RAW, simulated MONO */
	double ratio;     /* MONO ns per RAW ns in this segment */
	long tick, freq;  /* what adjtimex reports */
	long offset, constant, adjust;
	long maxerror, esterror; /* us */
	int status, tai;
	int64_t rt_off;   /* REALTIME - MONO */
	bool ntp_fails;
} k;

static uint64_t raw_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC_RAW, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t sim_mono_at(uint64_t raw)
{
	return k.m0 + (uint64_t)((double)(raw - k.r0) * k.ratio);
}

static uint64_t sim_clock(clockid_t id)
{
	uint64_t raw = raw_now();

	if (id == CLOCK_MONOTONIC_RAW)
		return raw;
	if (id == CLOCK_REALTIME)
		return sim_mono_at(raw) + (uint64_t)__atomic_load_n(&k.rt_off, __ATOMIC_RELAXED);
	return sim_mono_at(raw);
}

static int sim_ntp(struct vt_ntp_raw *o)
{
	if (k.ntp_fails)
		return -1;
	memset(o, 0, sizeof *o);
	o->tick = k.tick;
	o->freq = k.freq;
	o->offset = k.offset;
	o->constant = k.constant;
	o->adjust = k.adjust;
	o->status = __atomic_load_n(&k.status, __ATOMIC_RELAXED);
	o->maxerror = __atomic_load_n(&k.maxerror, __ATOMIC_RELAXED);
	o->esterror = __atomic_load_n(&k.esterror, __ATOMIC_RELAXED);
	o->tai = k.tai;
	return 0;
}

static const struct vt_clock_hooks sim_hooks = { sim_clock, sim_ntp };

/* A new rate from now on: CLOCK_MONOTONIC stays continuous. */
static inline void set_rate(long tick, double freq_ppm)
{
	struct vt_ntp_raw r;
	uint64_t raw = raw_now();

	k.m0 = sim_mono_at(raw);
	k.r0 = raw;
	k.tick = tick;
	k.freq = (long)(freq_ppm * 65536.0);
	memset(&r, 0, sizeof r);
	r.tick = k.tick;
	r.freq = k.freq;
	r.offset = k.offset;
	r.constant = k.constant;
	r.adjust = k.adjust;
	r.status = k.status;
	k.ratio = vt_ntp_ratio(&r);
}

/* settimeofday / clock_settime by ns: the step, and Linux's ntp_clear(). */
static inline void sim_step_realtime(int64_t ns)
{
	__atomic_store_n(&k.rt_off, k.rt_off + ns, __ATOMIC_RELAXED);
	__atomic_store_n(&k.status, k.status | STA_UNSYNC, __ATOMIC_RELAXED);
	__atomic_store_n(&k.maxerror, 16000000L, __ATOMIC_RELAXED);
	__atomic_store_n(&k.esterror, 16000000L, __ATOMIC_RELAXED);
}

/* What an NTP daemon does after a measurement: maxerror, esterror, and
 * STA_UNSYNC cleared. */
static inline void sim_daemon_sync(long maxerror_us, long esterror_us)
{
	__atomic_store_n(&k.maxerror, maxerror_us, __ATOMIC_RELAXED);
	__atomic_store_n(&k.esterror, esterror_us, __ATOMIC_RELAXED);
	__atomic_store_n(&k.status, k.status & ~STA_UNSYNC, __ATOMIC_RELAXED);
}

/* A fresh simulated kernel (tick 10000, freq 0, STA_NANO, maxerror and
 * esterror 16 ms, realtime in 2023) and a fresh clock using it. */
static void sim_reset(void)
{
	memset(&k, 0, sizeof k);
	k.r0 = raw_now();
	k.m0 = k.r0 + 1000000000000ull; /* its own epoch: 1000 s after RAW's */
	k.tick = 10000;
	k.ratio = 1.0;
	k.status = STA_NANO;
	k.maxerror = 16000;
	k.esterror = 16000;
	k.rt_off = (int64_t)1700000000 * 1000000000ll;
	vt_clock_test_hooks(&sim_hooks);
	vt_clock_reset();
}

#endif
