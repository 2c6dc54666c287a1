/* SPDX-License-Identifier: MIT */
/* vtime scale, vtime pvclock. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <vtime/clock.h>
#include <vtime/linux.h>
#include <vtime/vtime.h>

#include "vt_parse.h"
#include "vt_tool.h"

int cmd_scale(const struct vt_opts *o)
{
	struct vtime_scale to_ns, from_ns;
	const char *why = NULL;
	uint64_t hz;
	int e1, e2;
	bool publishable;

	if (o->argc != 1) {
		vt_err("usage: vtime scale HZ   (e.g. vtime scale 2599999000, vtime scale 2.6GHz)");
		return VT_EXIT_USAGE;
	}
	if (vt_parse_hz(o->argv[0], &hz, &why) != 0) {
		vt_err("scale: bad frequency '%s': %s", o->argv[0], why);
		return VT_EXIT_USAGE;
	}
	e1 = vtime_scale_init(&to_ns, hz, VTIME_NSEC_PER_SEC);
	e2 = vtime_scale_init(&from_ns, VTIME_NSEC_PER_SEC, hz);
	if (e1 || e2) {
		vt_err("scale: %llu Hz: %s", (unsigned long long)hz, vtime_strerror(e1 ? e1 : e2));
		return VT_EXIT_USAGE;
	}
	publishable = to_ns.shift >= VTIME_PVCLOCK_SHIFT_MIN && to_ns.shift <= VTIME_PVCLOCK_SHIFT_MAX;
	if (o->json) {
		struct vt_json j;
		vj_begin(&j, stdout);
		vj_u64(&j, "hz", hz);
		vj_bool(&j, "publishable", publishable);
		vj_obj(&j, "tsc_to_ns");
		vj_i64(&j, "shift", to_ns.shift);
		vj_u64(&j, "mul", to_ns.mul);
		vj_u64(&j, "recovered_hz", vtime_scale_source_hz(&to_ns));
		vj_end_obj(&j);
		vj_obj(&j, "ns_to_tsc");
		vj_i64(&j, "shift", from_ns.shift);
		vj_u64(&j, "mul", from_ns.mul);
		vj_end_obj(&j);
		vj_finish(&j);
		return VT_EXIT_OK;
	}
	printf("TSC frequency     %llu Hz\n", (unsigned long long)hz);
	if (publishable)
		printf("TSC -> ns         shift %d, mul %u (0x%08x)   <- what a VMM publishes in pvclock\n",
		       to_ns.shift, to_ns.mul, to_ns.mul);
	else
		printf("TSC -> ns         shift %d, mul %u (0x%08x)   <- NOT publishable: pvclock readers (vtime's\n"
		       "                  included) reject shifts outside [%d, %d], so vtime_vmm_init() refuses this\n"
		       "                  rate; publishable rates are %llu Hz to %llu Hz\n",
		       to_ns.shift, to_ns.mul, to_ns.mul, VTIME_PVCLOCK_SHIFT_MIN, VTIME_PVCLOCK_SHIFT_MAX,
		       VTIME_PVCLOCK_HZ_MIN, VTIME_PVCLOCK_HZ_MAX);
	printf("ns -> TSC         shift %d, mul %u (0x%08x)\n", from_ns.shift, from_ns.mul, from_ns.mul);
	printf("recovered         %llu Hz (vtime_scale_source_hz of the TSC -> ns scale)\n",
	       (unsigned long long)vtime_scale_source_hz(&to_ns));
	return VT_EXIT_OK;
}

static void flags_str(uint8_t f, char *buf, size_t n)
{
	buf[0] = '\0';
	if (f & VTIME_PVCLOCK_TSC_STABLE)
		strncat(buf, "TSC_STABLE ", n - strlen(buf) - 1);
	if (f & VTIME_PVCLOCK_GUEST_STOPPED)
		strncat(buf, "GUEST_STOPPED ", n - strlen(buf) - 1);
	if (f & VTIME_PVCLOCK_COUNTS_FROM_ZERO)
		strncat(buf, "COUNTS_FROM_ZERO ", n - strlen(buf) - 1);
	if (f & ~7u)
		strncat(buf, "unknown-bits ", n - strlen(buf) - 1);
	if (!buf[0])
		strncat(buf, "none", n - 1);
	else
		buf[strlen(buf) - 1] = '\0';
}

int cmd_pvclock(const struct vt_opts *o)
{
	struct vtime_host_page hp;
	struct vtime_pvclock_vcpu_time_info rec;
	struct vtime_pvclock_reading rd;
	struct vtime_counter ctr;
	struct vtime_scale sc;
	char flags[80];
	int err;

	if (o->argc != 0) {
		vt_err("usage: vtime pvclock [--json]");
		return VT_EXIT_USAGE;
	}
	err = vtime_host_page_find(&hp);
	if (err) {
		if (o->json) {
			struct vt_json j;
			vj_begin(&j, stdout);
			vj_bool(&j, "present", false);
			vj_str(&j, "error", vtime_strerror(err));
			vj_str(&j, "why", hp.why);
			vj_finish(&j);
		} else {
			printf("no host pvclock page: %s\n", hp.why);
		}
		/* Absence is an answer, not a failure (CI machines without kvm-clock). */
		return err == VTIME_EIO ? VT_EXIT_ERR : VT_EXIT_OK;
	}
	vtime_counter_get(VTIME_COUNTER_ORDERED, &ctr);
	err = vtime_pvclock_snapshot(hp.rec, 0, &rec);
	if (!err)
		err = vtime_pvclock_read(hp.rec, &ctr, 0, &rd);
	if (err) {
		vt_err("pvclock: reading the record at %s failed: %s", hp.mapping, vtime_strerror(err));
		return VT_EXIT_ERR;
	}
	sc.mul = rec.tsc_to_system_mul;
	sc.shift = rec.tsc_shift;
	flags_str(rec.flags, flags, sizeof flags);
	if (o->json) {
		struct vt_json j;
		vj_begin(&j, stdout);
		vj_bool(&j, "present", true);
		vj_str(&j, "mapping", hp.mapping);
		vj_u64(&j, "records", hp.nrecords);
		vj_u64(&j, "version", rec.version);
		vj_u64(&j, "tsc_timestamp", rec.tsc_timestamp);
		vj_u64(&j, "system_time", rec.system_time);
		vj_u64(&j, "mul", rec.tsc_to_system_mul);
		vj_i64(&j, "shift", rec.tsc_shift);
		vj_u64(&j, "flags", rec.flags);
		vj_arr(&j, "flag_names");
		if (rec.flags & VTIME_PVCLOCK_TSC_STABLE)
			vj_str(&j, NULL, "TSC_STABLE");
		if (rec.flags & VTIME_PVCLOCK_GUEST_STOPPED)
			vj_str(&j, NULL, "GUEST_STOPPED");
		if (rec.flags & VTIME_PVCLOCK_COUNTS_FROM_ZERO)
			vj_str(&j, NULL, "COUNTS_FROM_ZERO");
		vj_end_arr(&j);
		vj_u64(&j, "tsc_hz", vtime_scale_source_hz(&sc));
		vj_u64(&j, "kvmclock_ns", rd.ns);
		vj_u64(&j, "tsc", rd.tsc);
		vj_finish(&j);
		return VT_EXIT_OK;
	}
	printf("host pvclock page   %s at 0x%llx, %u published record%s (CPU i at offset 64*i)\n", hp.mapping,
	       (unsigned long long)hp.addr, hp.nrecords, hp.nrecords == 1 ? "" : "s");
	printf("version             %u\n", rec.version);
	printf("tsc_timestamp       %llu\n", (unsigned long long)rec.tsc_timestamp);
	printf("system_time         %llu ns (%.6f s)\n", (unsigned long long)rec.system_time, rec.system_time / 1e9);
	printf("tsc_to_system_mul   %u (0x%08x)\n", rec.tsc_to_system_mul, rec.tsc_to_system_mul);
	printf("tsc_shift           %d\n", rec.tsc_shift);
	printf("flags               0x%02x (%s)\n", rec.flags, flags);
	printf("TSC frequency       %llu Hz (recovered from mul/shift)\n",
	       (unsigned long long)vtime_scale_source_hz(&sc));
	printf("kvmclock now        %llu ns (%.6f s) at TSC %llu\n", (unsigned long long)rd.ns, rd.ns / 1e9,
	       (unsigned long long)rd.tsc);
	return VT_EXIT_OK;
}
