/* SPDX-License-Identifier: MIT */
/* vtime now: every clock side by side, read back to back, and the bounded
 * interval (vtime_bounded_now) with its status and source. */
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

/* An interval that holds no bound (UNKNOWN, DISRUPTED: earliest 0, latest
 * UINT64_MAX) has no width. */
static bool has_bound(const struct vtime_bounded *b)
{
	return b->earliest_ns <= b->latest_ns && b->latest_ns != UINT64_MAX;
}

static void bounded_json(struct vt_json *j, const char *key, const struct vtime_bounded *b, uint64_t rt)
{
	vj_obj(j, key);
	vj_u64(j, "earliest_ns", b->earliest_ns);
	vj_u64(j, "latest_ns", b->latest_ns);
	if (has_bound(b)) {
		vj_u64(j, "width_ns", b->latest_ns - b->earliest_ns);
		if (rt) {
			vj_i64(j, "earliest_minus_realtime_ns", (int64_t)(b->earliest_ns - rt));
			vj_i64(j, "latest_minus_realtime_ns", (int64_t)(b->latest_ns - rt));
		}
	} else {
		vj_null(j, "width_ns");
	}
	vj_str(j, "status", vt_bound_status_name(b->status));
	vj_str(j, "source", vt_bound_source_name(b->source));
	vj_end_obj(j);
}

static void bounded_text(const struct vtime_bounded *b, uint64_t rt)
{
	char iso[64];

	if (has_bound(b)) {
		uint64_t w = b->latest_ns - b->earliest_ns;
		vt_iso_time(b->earliest_ns / 1000000000u, (uint32_t)(b->earliest_ns % 1000000000u), iso, sizeof iso);
		printf("  %-10s %s  (%llu ns", "earliest", iso, (unsigned long long)b->earliest_ns);
		if (rt)
			printf(", %+lld vs CLOCK_REALTIME", (long long)(b->earliest_ns - rt));
		printf(")\n");
		vt_iso_time(b->latest_ns / 1000000000u, (uint32_t)(b->latest_ns % 1000000000u), iso, sizeof iso);
		printf("  %-10s %s  (%llu ns", "latest", iso, (unsigned long long)b->latest_ns);
		if (rt)
			printf(", %+lld vs CLOCK_REALTIME", (long long)(b->latest_ns - rt));
		printf(")\n");
		printf("  %-10s %llu ns (%.3f ms; +- %.3f ms)\n", "width", (unsigned long long)w, w / 1e6, w / 2e6);
	} else {
		printf("  %-10s %llu, latest %llu: no bound\n", "earliest", (unsigned long long)b->earliest_ns,
		       (unsigned long long)b->latest_ns);
	}
	printf("  %-10s %s\n", "status", vt_bound_status_name(b->status));
	printf("  %-10s %s: %s\n", "source", vt_bound_source_name(b->source), vt_bound_source_text(b->source));
}

int cmd_now(const struct vt_opts *o)
{
	struct vtime_host_page hp;
	struct vtime_counter ctr;
	struct vtime_pvclock_reading rd;
	struct vtime_clock_info ci;
	struct vtime_bounded b, bt;
	struct vtime_bounded_info bi;
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
	b = vtime_bounded_now();
	mono2 = clk(CLOCK_MONOTONIC);
	tns = vtime_counter_to_ns(ticks);
	bt = vtime_bounded_tai_now();
	vtime_bounded_info(&bi); /* after the reads: it may take the maintenance lock */

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
		bounded_json(&j, "bounded", &b, rt);
		bounded_json(&j, "bounded_tai", &bt, 0);
		vj_str(&j, "bounded_why", bi.why);
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
	printf("\nBounded time (vtime_bounded_now, UTC; read before \"CLOCK_MONOTONIC again\")\n");
	bounded_text(&b, rt);
	printf("  %-10s %s\n", "why", bi.why);
	printf("\nBounded time in TAI (vtime_bounded_tai_now, read after the table)\n");
	bounded_text(&bt, 0);
	return VT_EXIT_OK;
}
