/* SPDX-License-Identifier: MIT */
/* vtime now: every clock side by side, read back to back. */
#include <stdio.h>
#include <time.h>
#include <vtime/arch.h>
#include <vtime/clock.h>
#include <vtime/linux.h>
#include <vtime/vtime.h>

#include "vt_tool.h"

static uint64_t clk(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int cmd_now(const struct vt_opts *o)
{
	struct vtime_host_page hp;
	struct vtime_counter ctr;
	struct vtime_pvclock_reading rd;
	struct vtime_clock_info ci;
	uint64_t mono, vt, ticks, tns, raw, boot, rt, vrt, mono2;
	bool have_kvm;

	if (o->argc) {
		vt_err("usage: vtime now [--json]");
		return VT_EXIT_USAGE;
	}
	vtime_clock_info(&ci); /* initialise outside the timed reads */
	have_kvm = vtime_host_page_find(&hp) == 0 && vtime_counter_get(VTIME_COUNTER_ORDERED, &ctr) == 0;
	/* back to back, each read once; differences include the read costs */
	mono = clk(CLOCK_MONOTONIC);
	vt = vtime_now_ns();
	ticks = vtime_counter_now();
	if (have_kvm && vtime_pvclock_read(hp.rec, &ctr, 0, &rd) != 0)
		have_kvm = false;
	raw = clk(CLOCK_MONOTONIC_RAW);
	boot = clk(CLOCK_BOOTTIME);
	rt = clk(CLOCK_REALTIME);
	vrt = vtime_realtime_ns();
	mono2 = clk(CLOCK_MONOTONIC);
	tns = vtime_counter_to_ns(ticks);

	if (o->json) {
		struct vt_json j;
		vj_begin(&j, stdout);
		vj_str(&j, "source", ci.source_name);
		vj_u64(&j, "clock_monotonic_ns", mono);
		vj_u64(&j, "vtime_now_ns", vt);
		vj_u64(&j, "counter", ticks);
		vj_u64(&j, "counter_to_ns", tns);
		if (have_kvm)
			vj_u64(&j, "kvmclock_ns", rd.ns);
		else
			vj_null(&j, "kvmclock_ns");
		vj_u64(&j, "clock_monotonic_raw_ns", raw);
		vj_u64(&j, "clock_boottime_ns", boot);
		vj_u64(&j, "clock_realtime_ns", rt);
		vj_u64(&j, "vtime_realtime_ns", vrt);
		vj_u64(&j, "clock_monotonic_after_ns", mono2);
		vj_finish(&j);
		return VT_EXIT_OK;
	}
	printf("%-26s %22s %16s\n", "clock", "ns", "- MONOTONIC");
	printf("%-26s %22llu %16s\n", "CLOCK_MONOTONIC", (unsigned long long)mono, "0");
	printf("%-26s %22llu %+16lld  (%s)\n", "vtime_now_ns()", (unsigned long long)vt, (long long)(vt - mono),
	       ci.source_name);
	printf("%-26s %22llu %+16lld  (ticks %llu)\n", "vtime_counter_to_ns(ticks)", (unsigned long long)tns,
	       (long long)(tns - mono), (unsigned long long)ticks);
	if (have_kvm)
		printf("%-26s %22llu %+16lld  (host pvclock page)\n", "kvmclock", (unsigned long long)rd.ns,
		       (long long)(rd.ns - mono));
	else
		printf("%-26s %22s %16s  (%s)\n", "kvmclock", "-", "-", hp.why);
	printf("%-26s %22llu %+16lld\n", "CLOCK_MONOTONIC_RAW", (unsigned long long)raw, (long long)(raw - mono));
	printf("%-26s %22llu %+16lld\n", "CLOCK_BOOTTIME", (unsigned long long)boot, (long long)(boot - mono));
	printf("%-26s %22llu %16s\n", "CLOCK_REALTIME", (unsigned long long)rt, "");
	printf("%-26s %22llu %16s  (%+lld vs CLOCK_REALTIME)\n", "vtime_realtime_ns()", (unsigned long long)vrt, "",
	       (long long)(vrt - rt));
	printf("%-26s %22llu %+16lld  (read last: the spread of this table)\n", "CLOCK_MONOTONIC again",
	       (unsigned long long)mono2, (long long)(mono2 - mono));
	return VT_EXIT_OK;
}
