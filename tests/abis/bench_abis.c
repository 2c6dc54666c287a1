/* SPDX-License-Identifier: MIT */
/* ns per call of the VMClock and Hyper-V readers beside the pvclock reader,
 * all through the library with the same counter (an ordered read of the
 * CPU counter through a function pointer), on pages published in memory,
 * measured in the same run; and the pure conversions. Prints the minimum
 * over rounds. Informative: fails only on a wrong result. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vtime/arch.h>
#include <vtime/error.h>
#include <vtime/hyperv.h>
#include <vtime/pvclock.h>
#include <vtime/scale.h>
#include <vtime/vmclock.h>

/* not armv7: its counter traps in user mode unless the kernel allows it */
#if VTIME_ARCH_COUNTER && !defined(__arm__)
#define BENCH_COUNTER 1
#else
#define BENCH_COUNTER 0
#endif

static uint64_t counter_fn(void *ctx)
{
	(void)ctx;
#if BENCH_COUNTER
	return vtime_arch_counter_ordered();
#else
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

static _Alignas(64) struct vtime_pvclock_vcpu_time_info g_rec;
static _Alignas(4096) struct vtime_vmclock_abi g_vmc;
static _Alignas(4096) struct vtime_hv_tsc_page g_hv;
static volatile uint64_t g_sink;

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

enum { PV, VMC, HV, PV_TIME, VMC_TIME, VMC_ERROR, HV_TIME, NCASES };
static const char *const names[NCASES] = {
	"vtime_pvclock_read", "vtime_vmclock_read", "vtime_hv_tsc_page_read", "vtime_pvclock_time (pure)",
	"vtime_vmclock_time (pure)", "vtime_vmclock_maxerror (pure)", "vtime_hv_tsc_page_time (pure)",
};

static int run_case(int c, unsigned long iters, struct vtime_vmclock_abi *snap, uint64_t sc, int64_t off)
{
	struct vtime_counter ctr = { counter_fn, NULL };
	uint64_t acc = 0, t = 1 + (uint64_t)c;

	for (unsigned long i = 0; i < iters; i++) {
		switch (c) {
		case PV: {
			struct vtime_pvclock_reading rd;
			if (vtime_pvclock_read(&g_rec, &ctr, 0, &rd))
				return 1;
			acc += rd.ns;
			break;
		}
		case VMC: {
			struct vtime_vmclock_reading rd;
			if (vtime_vmclock_read(&g_vmc, &ctr, 0, &rd))
				return 1;
			acc += rd.nsec + rd.maxerror_ns;
			break;
		}
		case HV: {
			struct vtime_hv_tsc_reading rd;
			if (vtime_hv_tsc_page_read(&g_hv, &ctr, 0, &rd))
				return 1;
			acc += rd.time;
			break;
		}
		case PV_TIME:
			acc += vtime_pvclock_time(&g_rec, t += 997);
			break;
		case VMC_TIME: {
			uint64_t sec;
			uint32_t nsec;
			if (vtime_vmclock_time(snap, t += 997, &sec, &nsec))
				return 1;
			acc += nsec;
			break;
		}
		case VMC_ERROR: {
			acc += vtime_vmclock_maxerror(snap, t += 997);
			break;
		}
		case HV_TIME:
			acc += vtime_hv_tsc_page_time(sc, off, t += 997);
			break;
		}
	}
	g_sink = acc;
	return 0;
}

int main(void)
{
	const char *s = getenv("VTIME_BENCH_ITERS");
	unsigned long iters = s ? strtoul(s, NULL, 0) : 2000000ul;
	double best[NCASES];
	struct vtime_scale sc;
	struct vtime_vmclock_abi body, snap;
	uint64_t tsc0 = counter_fn(NULL), scale;
	int64_t off;

	/* one 2.6 GHz counter line, published in all three ABIs */
	memset(&g_rec, 0, sizeof g_rec);
	if (vtime_scale_init(&sc, 2599999000ull, VTIME_NSEC_PER_SEC))
		return 1;
	{
		struct vtime_pvclock_vcpu_time_info b;
		memset(&b, 0, sizeof b);
		b.tsc_timestamp = tsc0;
		b.system_time = 1000000000ull;
		b.tsc_to_system_mul = sc.mul;
		b.tsc_shift = sc.shift;
		b.flags = VTIME_PVCLOCK_TSC_STABLE;
		vtime_pvclock_publish(&g_rec, &b);
		if (vtime_hv_tsc_page_from_pvclock(&b, &scale, &off))
			return 1;
		(void)vtime_hv_tsc_page_publish(&g_hv, scale, off, 0);
	}
	memset(&body, 0, sizeof body);
	body.clock_status = VTIME_VMCLOCK_STATUS_SYNCHRONIZED;
	if (vtime_vmclock_init(&g_vmc, sizeof g_vmc, VTIME_VMCLOCK_COUNTER_X86_TSC, VTIME_VMCLOCK_TIME_TAI) ||
	    vtime_vmclock_set_period(&body, 2599999000ull, 50000, 1000) ||
	    vtime_vmclock_set_time(&body, tsc0, 1700000000ull, 0, 100000, 1000) ||
	    !vtime_vmclock_publish(&g_vmc, &body, 0) || vtime_vmclock_snapshot(&g_vmc, 0, &snap))
		return 1;

	for (int c = 0; c < NCASES; c++)
		best[c] = 1e30;
	for (int round = 0; round < 7; round++) {
		for (int c = 0; c < NCASES; c++) {
			double t0 = now_ns(), ns;
			if (run_case(c, iters / 10, &snap, scale, off)) {
				fprintf(stderr, "%s failed\n", names[c]);
				return 1;
			}
			ns = (now_ns() - t0) / (double)(iters / 10);
			if (ns < best[c])
				best[c] = ns;
		}
	}
	printf("counter: %s, %lu calls per round, minimum of 7 rounds (ns per call)\n",
	       BENCH_COUNTER ? "ordered " VTIME_ARCH_NAME " counter via a function pointer" : "CLOCK_MONOTONIC_RAW",
	       iters / 10);
	for (int c = 0; c < NCASES; c++) {
		printf("  %-32s %7.2f ns", names[c], best[c]);
		if (c == VMC || c == HV)
			printf("  (%.2fx pvclock)", best[c] / best[PV]);
		if (c == VMC_TIME || c == VMC_ERROR || c == HV_TIME)
			printf("  (%.2fx pvclock_time)", best[c] / best[PV_TIME]);
		printf("\n");
	}
	return 0;
}
