/* SPDX-License-Identifier: MIT */
/* Large slope changes at re-fit time, with threads (issue 12 item 6): a
 * simulated kernel (the clock's test hooks; this machine's clock is never
 * touched) swings CLOCK_MONOTONIC's rate between +1.9% and -1.9% (ADJ_TICK
 * 10190 / 9810, just inside what the line follows) every 1-3 ms, so nearly
 * every probe re-fits with a slope change of about 3.8%, while reader
 * threads call vtime_now_ns() and check, against a value another thread
 * published before each read, that it never goes back; one thread also
 * forces early re-fits (before the deadline) through the test hook. Runs
 * under TSan in CI's concurrency suite. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vtime/clock.h>

#include "vt_clock.h"
#include "vt_test.h"
#include "vt_user_counter.h"

/* the simulated kernel: a segment (RAW start, MONO start, ratio), under a
 * small seqlock of its own (the hooks are called from every thread) */
static struct {
	uint32_t seq;
	uint64_t r0, m0, ratio_ppb; /* ratio as 1e9 + ppb */
	long tick;
} k;

static uint64_t raw_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC_RAW, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void k_read(uint64_t *r0, uint64_t *m0, uint64_t *ratio, long *tick)
{
	for (;;) {
		uint32_t s = __atomic_load_n(&k.seq, __ATOMIC_ACQUIRE);
		if (s & 1)
			continue;
		*r0 = __atomic_load_n(&k.r0, __ATOMIC_RELAXED);
		*m0 = __atomic_load_n(&k.m0, __ATOMIC_RELAXED);
		*ratio = __atomic_load_n(&k.ratio_ppb, __ATOMIC_RELAXED);
		*tick = __atomic_load_n(&k.tick, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&k.seq, __ATOMIC_RELAXED) == s)
			return;
	}
}

static uint64_t mono_at(uint64_t raw, uint64_t r0, uint64_t m0, uint64_t ratio)
{
	return m0 + (uint64_t)((double)(raw - r0) * ((double)ratio / 1e9));
}

static uint64_t sim_clock(clockid_t id)
{
	uint64_t raw = raw_now(), r0, m0, ratio;
	long tick;

	if (id == CLOCK_MONOTONIC_RAW)
		return raw;
	k_read(&r0, &m0, &ratio, &tick);
	return mono_at(raw, r0, m0, ratio) + (id == CLOCK_REALTIME ? 1700000000000000000ull : 0);
}

static int sim_ntp(struct vt_ntp_raw *o)
{
	uint64_t r0, m0, ratio;

	memset(o, 0, sizeof *o);
	k_read(&r0, &m0, &ratio, &o->tick);
	return 0;
}

static const struct vt_clock_hooks hooks = { sim_clock, sim_ntp };

static void set_tick(long tick)
{
	uint64_t raw = raw_now(), r0, m0, ratio;
	long t;

	k_read(&r0, &m0, &ratio, &t);
	__atomic_store_n(&k.seq, k.seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&k.m0, mono_at(raw, r0, m0, ratio), __ATOMIC_RELAXED);
	__atomic_store_n(&k.r0, raw, __ATOMIC_RELAXED);
	__atomic_store_n(&k.ratio_ppb, (uint64_t)tick * 100000u, __ATOMIC_RELAXED);
	__atomic_store_n(&k.tick, tick, __ATOMIC_RELAXED);
	__atomic_store_n(&k.seq, k.seq + 1, __ATOMIC_RELEASE);
}

static uint64_t g_latest;
static int g_stop;
static uint64_t g_reads[3], g_back[3], g_worst[3];

static void *reader(void *arg)
{
	int id = (int)(intptr_t)arg;
	uint64_t last = 0;

	while (!__atomic_load_n(&g_stop, __ATOMIC_RELAXED)) {
		for (int i = 0; i < 64; i++) {
			uint64_t seen = __atomic_load_n(&g_latest, __ATOMIC_ACQUIRE), v = vtime_now_ns(), cur;
			uint64_t floor = seen > last ? seen : last;
			if (v < floor) {
				g_back[id]++;
				if (floor - v > g_worst[id])
					g_worst[id] = floor - v;
			}
			last = v;
			cur = seen;
			while (v > cur && !__atomic_compare_exchange_n(&g_latest, &cur, v, true, __ATOMIC_RELEASE,
								      __ATOMIC_RELAXED))
				;
			g_reads[id]++;
		}
		if (id == 2)
			vt_clock_test_maintain(); /* early re-fits too */
	}
	return NULL;
}

static void test_race(void)
{
	pthread_t th[3];
	struct vtime_clock_info a, b;
	uint64_t end, swings = 0, reads = 0, back = 0, worst = 0;
	struct timespec ts;

	memset(&k, 0, sizeof k);
	k.r0 = raw_now();
	k.m0 = k.r0 + 1000000000000ull;
	k.ratio_ppb = 1000000000u;
	k.tick = 10000;
	vt_clock_test_hooks(&hooks);
	vt_clock_reset();
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&a), 0);
	printf("\n  source %s", a.source_name);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, reader, (void *)(intptr_t)i) == 0);
	end = raw_now() + (uint64_t)vt_test_iters(20000) * 50000u; /* 1 s at the CI's 20000 */
	while (raw_now() < end) {
		set_tick(swings & 1 ? 9810 : 10190);
		swings++;
		ts.tv_sec = 0;
		ts.tv_nsec = 1000000 + (long)(swings % 3) * 1000000;
		nanosleep(&ts, NULL);
	}
	__atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&b), 0);
	for (int i = 0; i < 3; i++) {
		reads += g_reads[i];
		back += g_back[i];
		if (g_worst[i] > worst)
			worst = g_worst[i];
	}
	printf("\n  %llu rate swings of 3.8%%, %llu re-fits (%llu at a rate change), %llu reads by 3 threads, "
	       "%llu backward (worst %llu ns); source now %s",
	       (unsigned long long)swings, (unsigned long long)(b.recalibrations - a.recalibrations),
	       (unsigned long long)(b.rate_changes - a.rate_changes), (unsigned long long)reads,
	       (unsigned long long)back, (unsigned long long)worst, b.source_name);
	CU_ASSERT_EQUAL(back, 0);
	CU_ASSERT(b.rate_changes - a.rate_changes > swings / 4); /* the probes saw them */
	vt_clock_test_hooks(NULL);
	vt_clock_reset();
}

int main(void)
{
	static const struct vt_test_case cases[] = {
		{ "slope swings of 3.8% at every re-fit, 3 threads", test_race },
		{ NULL, NULL },
	};
	static const struct vt_test_suite suites[] = { { "refit_race", cases }, { NULL, NULL } };

#ifdef VT_CTR_NONE
	printf("SKIP: no user-readable counter on %s: no counter line to re-fit\n", VT_CTR_ARCH);
	return 77;
#endif
	unsetenv("VTIME_CLOCK_SOURCE");
	return vt_test_main(suites);
}
