/* SPDX-License-Identifier: MIT */
/* vtime vmclock [PATH], vtime hv [PATH]: the other two host pages, and the
 * summaries of them (and of the bounded clock) that vtime status and vtime
 * now print.
 *
 * Without PATH each command looks where a guest finds its page
 * (/dev/vmclock0; the Hyper-V page in this process's vvar area): a page
 * that is not there is an answer (exit 0, with the reason). With PATH the
 * user named a page (a device, or a file standing in for one): one that
 * cannot be opened or holds no such page is an error (exit 3, nothing on
 * standard output). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>
#include <vtime/clock.h>
#include <vtime/hyperv.h>
#include <vtime/linux.h>
#include <vtime/vmclock.h>
#include <vtime/vtime.h>

#include "vt_tool.h"

#if defined(__x86_64__) || defined(__i386__)
#define HOST_COUNTER_ID VTIME_VMCLOCK_COUNTER_X86_TSC
#define HOST_X86 1
#elif defined(__aarch64__)
#define HOST_COUNTER_ID VTIME_VMCLOCK_COUNTER_ARM_VCNT
#define HOST_X86 0
#else
#define HOST_COUNTER_ID (-1)
#define HOST_X86 0
#endif

/* ---- names ---- */

const char *vt_bound_status_name(uint32_t s)
{
	switch (s) {
	case VTIME_BOUND_SYNCHRONIZED: return "synchronized";
	case VTIME_BOUND_FREE_RUNNING: return "free-running";
	case VTIME_BOUND_DISRUPTED: return "disrupted";
	case VTIME_BOUND_UNKNOWN: return "unknown";
	default: return "?";
	}
}

const char *vt_bound_source_name(uint32_t s)
{
	switch (s) {
	case VTIME_BOUND_SOURCE_VMCLOCK: return "vmclock";
	case VTIME_BOUND_SOURCE_KERNEL: return "kernel";
	case VTIME_BOUND_SOURCE_NONE: return "none";
	default: return "?";
	}
}

const char *vt_bound_source_text(uint32_t s)
{
	switch (s) {
	case VTIME_BOUND_SOURCE_VMCLOCK: return "the host's VMClock page (its maxerror and period error)";
	case VTIME_BOUND_SOURCE_KERNEL:
		return "the kernel (CLOCK_REALTIME +- adjtimex maxerror, plus vtime's tracking)";
	case VTIME_BOUND_SOURCE_NONE: return "none (no VMClock, adjtimex refused)";
	default: return "?";
	}
}

static const char *counter_name(unsigned id)
{
	switch (id) {
	case VTIME_VMCLOCK_COUNTER_ARM_VCNT: return "arm_vcnt";
	case VTIME_VMCLOCK_COUNTER_X86_TSC: return "x86_tsc";
	case VTIME_VMCLOCK_COUNTER_INVALID: return "invalid";
	default: return "unknown";
	}
}

static const char *time_type_name(unsigned t)
{
	static const char *n[] = { "utc", "tai", "monotonic", "invalid_smeared", "invalid_maybe_smeared" };
	return t < 5 ? n[t] : "unknown";
}

static const char *status_name(unsigned s)
{
	static const char *n[] = { "unknown", "initializing", "synchronized", "freerunning", "unreliable" };
	return s < 5 ? n[s] : "?";
}

static const char *smearing_name(unsigned s)
{
	static const char *n[] = { "strict", "noon_linear", "utc_sls" };
	return s < 3 ? n[s] : "?";
}

static const char *leap_name(unsigned l)
{
	static const char *n[] = { "none", "pre_pos", "pre_neg", "pos", "post_pos", "post_neg" };
	return l < 6 ? n[l] : "?";
}

static const char *const flag_names[] = {
	"TAI_OFFSET_VALID",      "DISRUPTION_SOON",     "DISRUPTION_IMMINENT", "PERIOD_ESTERROR_VALID",
	"PERIOD_MAXERROR_VALID", "TIME_ESTERROR_VALID", "TIME_MAXERROR_VALID", "TIME_MONOTONIC",
	"VM_GEN_COUNTER_PRESENT", "NOTIFICATION_PRESENT",
};
#define NFLAGS (sizeof flag_names / sizeof flag_names[0])

static void vmc_flags_str(uint64_t f, char *buf, size_t n)
{
	buf[0] = '\0';
	for (unsigned i = 0; i < NFLAGS; i++)
		if (f & (1ull << i)) {
			strncat(buf, flag_names[i], n - strlen(buf) - 1);
			strncat(buf, " ", n - strlen(buf) - 1);
		}
	if (f >> NFLAGS)
		strncat(buf, "unknown-bits ", n - strlen(buf) - 1);
	if (!buf[0])
		snprintf(buf, n, "none");
	else
		buf[strlen(buf) - 1] = '\0';
}

/* "2026-12-01T12:04:10.123456789Z" */
void vt_iso_time(uint64_t sec, uint32_t nsec, char *buf, size_t n)
{
	struct tm tm;
	time_t t = (time_t)sec;

	if ((uint64_t)t != sec || !gmtime_r(&t, &tm)) {
		snprintf(buf, n, "(second %llu: beyond this system's time_t)", (unsigned long long)sec);
		return;
	}
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)nsec);
}

/* Counter Hz a VMClock period gives: 2^(64 + shift) / period. */
static double vmc_hz(const struct vtime_vmclock_abi *s)
{
	return s->counter_period_frac_sec ? ldexp(1.0, 64 + s->counter_period_shift) / (double)s->counter_period_frac_sec
					  : 0.0;
}

/* A period error rate in ppb of the period (rate / period * 10^9). */
static double vmc_ppb(const struct vtime_vmclock_abi *s, uint64_t rate)
{
	return s->counter_period_frac_sec ? (double)rate / (double)s->counter_period_frac_sec * 1e9 : 0.0;
}

/* Why a usable-looking page's time is not used, "" if it can be. */
static const char *vmc_unusable(const struct vtime_vmclock_abi *s, int *err)
{
	*err = vtime_vmclock_usable(s);
	switch (*err) {
	case 0:
		break;
	case VTIME_ENOCOUNTER: return "marker-only mode (counter_id INVALID): no time, only the disruption marker";
	case VTIME_EUNRELIABLE: return "the host says its clock is UNRELIABLE";
	case VTIME_ENOTSUP: return "a counter, time type or smearing vtime does not use";
	default: return vtime_strerror(*err);
	}
	if ((int)s->counter_id != HOST_COUNTER_ID) {
		*err = VTIME_ENOTSUP;
		return "its counter is not this machine's";
	}
	return "";
}

/* ---- VMClock ---- */

struct vmc_view {
	struct vtime_vmclock_abi s;
	struct vtime_vmclock_reading r; /* valid when have_now */
	bool have_now;
	const char *unusable; /* "" when the time is used */
	int usable_err;
};

static int vmc_load(const struct vtime_vmclock_dev *d, struct vmc_view *v)
{
	struct vtime_counter ctr;
	int err = vtime_vmclock_dev_read(d, &v->s);

	if (err)
		return err;
	v->unusable = vmc_unusable(&v->s, &v->usable_err);
	v->have_now = false;
	if (!v->unusable[0] && vtime_counter_get(VTIME_COUNTER_ORDERED, &ctr) == 0 &&
	    vtime_vmclock_read(d->clk, &ctr, 0, &v->r) == 0)
		v->have_now = true;
	return 0;
}

static void vmc_json(struct vt_json *j, const struct vmc_view *v)
{
	const struct vtime_vmclock_abi *s = &v->s;

	vj_u64(j, "magic", s->magic);
	vj_u64(j, "size", s->size);
	vj_u64(j, "version", s->version);
	vj_u64(j, "counter_id", s->counter_id);
	vj_str(j, "counter", counter_name(s->counter_id));
	vj_u64(j, "time_type", s->time_type);
	vj_str(j, "time_type_name", time_type_name(s->time_type));
	vj_u64(j, "seq_count", s->seq_count);
	vj_u64(j, "disruption_marker", s->disruption_marker);
	vj_u64(j, "flags", s->flags);
	vj_arr(j, "flag_names");
	for (unsigned i = 0; i < NFLAGS; i++)
		if (s->flags & (1ull << i))
			vj_str(j, NULL, flag_names[i]);
	vj_end_arr(j);
	vj_u64(j, "clock_status", s->clock_status);
	vj_str(j, "clock_status_name", status_name(s->clock_status));
	vj_str(j, "leap_second_smearing_hint", smearing_name(s->leap_second_smearing_hint));
	vj_i64(j, "tai_offset_sec", s->tai_offset_sec);
	vj_str(j, "leap_indicator", leap_name(s->leap_indicator));
	vj_u64(j, "counter_period_shift", s->counter_period_shift);
	vj_u64(j, "counter_value", s->counter_value);
	vj_u64(j, "counter_period_frac_sec", s->counter_period_frac_sec);
	vj_u64(j, "counter_period_esterror_rate_frac_sec", s->counter_period_esterror_rate_frac_sec);
	vj_u64(j, "counter_period_maxerror_rate_frac_sec", s->counter_period_maxerror_rate_frac_sec);
	vj_u64(j, "time_sec", s->time_sec);
	vj_u64(j, "time_frac_sec", s->time_frac_sec);
	if (s->flags & VTIME_VMCLOCK_FLAG_TIME_ESTERROR_VALID)
		vj_u64(j, "time_esterror_nanosec", s->time_esterror_nanosec);
	else
		vj_null(j, "time_esterror_nanosec");
	if (s->flags & VTIME_VMCLOCK_FLAG_TIME_MAXERROR_VALID)
		vj_u64(j, "time_maxerror_nanosec", s->time_maxerror_nanosec);
	else
		vj_null(j, "time_maxerror_nanosec");
	if (s->flags & VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT)
		vj_u64(j, "vm_generation_counter", s->vm_generation_counter);
	else
		vj_null(j, "vm_generation_counter");
	if (s->counter_period_frac_sec)
		vj_dbl(j, "counter_hz", vmc_hz(s));
	else
		vj_null(j, "counter_hz");
	vj_bool(j, "usable", !v->unusable[0]);
	if (v->unusable[0])
		vj_str(j, "unusable_why", v->unusable);
	if (v->have_now) {
		vj_obj(j, "now");
		vj_u64(j, "counter", v->r.counter);
		vj_u64(j, "sec", v->r.sec);
		vj_u64(j, "nsec", v->r.nsec);
		if (v->r.valid & VTIME_VMCLOCK_HAVE_UTC)
			vj_u64(j, "utc_ns", v->r.utc_sec * 1000000000u + v->r.nsec);
		else
			vj_null(j, "utc_ns");
		if (v->r.valid & VTIME_VMCLOCK_HAVE_TAI)
			vj_u64(j, "tai_ns", v->r.tai_sec * 1000000000u + v->r.nsec);
		else
			vj_null(j, "tai_ns");
		if (v->r.maxerror_ns != VTIME_VMCLOCK_UNKNOWN)
			vj_u64(j, "maxerror_ns", v->r.maxerror_ns);
		else
			vj_null(j, "maxerror_ns");
		if (v->r.esterror_ns != VTIME_VMCLOCK_UNKNOWN)
			vj_u64(j, "esterror_ns", v->r.esterror_ns);
		else
			vj_null(j, "esterror_ns");
		vj_end_obj(j);
	} else {
		vj_null(j, "now");
	}
}

static void err_ns(const char *label, bool valid, uint64_t v)
{
	if (valid)
		printf("  %-19s %llu ns\n", label, (unsigned long long)v);
	else
		printf("  %-19s not given (flag clear)\n", label);
}

static void vmc_text(const struct vmc_view *v)
{
	const struct vtime_vmclock_abi *s = &v->s;
	char buf[200], iso[64];
	uint64_t sec = s->time_sec;
	uint32_t ns = 0;

	(void)vtime_vmclock_time(s, s->counter_value, &sec, &ns); /* the fraction in ns, exactly */
	printf("  %-19s 0x%08x (\"VCLK\"), version %u, size %u bytes\n", "header", s->magic, s->version, s->size);
	printf("  %-19s %u (%s)%s\n", "counter_id", s->counter_id, counter_name(s->counter_id),
	       (int)s->counter_id == HOST_COUNTER_ID ? ", this machine's counter" : "");
	printf("  %-19s %u (%s)\n", "time_type", s->time_type, time_type_name(s->time_type));
	printf("  %-19s %u\n", "seq_count", s->seq_count);
	printf("  %-19s %llu\n", "disruption_marker", (unsigned long long)s->disruption_marker);
	if (s->flags & VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT)
		printf("  %-19s %llu\n", "vm_generation", (unsigned long long)s->vm_generation_counter);
	else
		printf("  %-19s not offered (VM_GEN_COUNTER_PRESENT clear)\n", "vm_generation");
	vmc_flags_str(s->flags, buf, sizeof buf);
	printf("  %-19s 0x%llx (%s)\n", "flags", (unsigned long long)s->flags, buf);
	printf("  %-19s %u (%s)\n", "clock_status", s->clock_status, status_name(s->clock_status));
	printf("  %-19s tai_offset %d s%s, leap %s, smearing hint %s\n", "UTC/TAI", s->tai_offset_sec,
	       s->flags & VTIME_VMCLOCK_FLAG_TAI_OFFSET_VALID ? "" : " (not valid)", leap_name(s->leap_indicator),
	       smearing_name(s->leap_second_smearing_hint));
	if (s->counter_id != VTIME_VMCLOCK_COUNTER_INVALID) {
		printf("  %-19s counter %llu, period %llu / 2^(64+%u) s -> %.0f Hz\n", "reference point",
		       (unsigned long long)s->counter_value, (unsigned long long)s->counter_period_frac_sec,
		       s->counter_period_shift, vmc_hz(s));
		if (s->flags & VTIME_VMCLOCK_FLAG_PERIOD_MAXERROR_VALID)
			printf("  %-19s maxerror %.1f ppb", "period error",
			       vmc_ppb(s, s->counter_period_maxerror_rate_frac_sec));
		else
			printf("  %-19s maxerror not given", "period error");
		if (s->flags & VTIME_VMCLOCK_FLAG_PERIOD_ESTERROR_VALID)
			printf(", esterror %.1f ppb\n", vmc_ppb(s, s->counter_period_esterror_rate_frac_sec));
		else
			printf(", esterror not given\n");
		vt_iso_time(sec, ns, iso, sizeof iso);
		printf("  %-19s %llu s + %llu / 2^64 (%s%s)\n", "time there", (unsigned long long)s->time_sec,
		       (unsigned long long)s->time_frac_sec, s->time_type == VTIME_VMCLOCK_TIME_MONOTONIC ? "" : iso,
		       s->time_type == VTIME_VMCLOCK_TIME_TAI ? " TAI" : "");
		err_ns("time maxerror", s->flags & VTIME_VMCLOCK_FLAG_TIME_MAXERROR_VALID, s->time_maxerror_nanosec);
		err_ns("time esterror", s->flags & VTIME_VMCLOCK_FLAG_TIME_ESTERROR_VALID, s->time_esterror_nanosec);
	}
	if (v->unusable[0]) {
		printf("  %-19s not used: %s\n", "time now", v->unusable);
	} else if (v->have_now) {
		if (v->r.valid & VTIME_VMCLOCK_HAVE_UTC) {
			vt_iso_time(v->r.utc_sec, v->r.nsec, iso, sizeof iso);
			printf("  %-19s %s UTC", "time now", iso);
		} else {
			printf("  %-19s %llu.%09u s (monotonic)", "time now", (unsigned long long)v->r.sec, v->r.nsec);
		}
		if (v->r.maxerror_ns != VTIME_VMCLOCK_UNKNOWN)
			printf(" +- %llu ns (maxerror at this counter)\n", (unsigned long long)v->r.maxerror_ns);
		else
			printf(", no maxerror given\n");
	} else {
		printf("  %-19s not read (the page's time does not convert at this counter)\n", "time now");
	}
}

int cmd_vmclock(const struct vt_opts *o)
{
	struct vtime_vmclock_dev d;
	struct vmc_view v;
	const char *path = o->argc ? o->argv[0] : NULL;
	int err;

	if (path && !path[0]) {
		vt_err("vmclock: PATH is empty (see vtime vmclock --help)");
		return VT_EXIT_USAGE;
	}
	if (path && strlen(path) >= sizeof d.path) {
		vt_err("vmclock: PATH is %zu bytes long; at most %zu (see vtime vmclock --help)", strlen(path),
		       sizeof d.path - 1);
		return VT_EXIT_USAGE;
	}
	err = vtime_vmclock_dev_open(&d, path);
	if (err) {
		if (path) {
			vt_err("vmclock: %s (%s)", d.why, vtime_strerror(err));
			return VT_EXIT_ERR;
		}
		if (o->json) {
			struct vt_json j;
			vj_begin(&j, stdout);
			vj_str(&j, "path", d.path);
			vj_bool(&j, "present", false);
			vj_str(&j, "error", vtime_strerror(err));
			vj_str(&j, "why", d.why);
			vj_finish(&j);
		} else {
			printf("no VMClock device: %s\n", d.why);
		}
		return err == VTIME_ENODEV ? VT_EXIT_OK : VT_EXIT_ERR;
	}
	err = vmc_load(&d, &v);
	if (err) {
		vt_err("vmclock: %s: %s", d.path,
		       err == VTIME_EAGAIN ? "no consistent copy (seq_count stayed odd: the host is rewriting the page, "
					     "or a writer stopped midway)"
					   : vtime_strerror(err));
		vtime_vmclock_dev_close(&d);
		return VT_EXIT_ERR;
	}
	if (o->json) {
		struct vt_json j;
		vj_begin(&j, stdout);
		vj_str(&j, "path", d.path);
		vj_bool(&j, "present", true);
		vj_u64(&j, "mapped", d.size);
		vmc_json(&j, &v);
		vj_finish(&j);
	} else {
		printf("VMClock page %s (%zu bytes mapped read-only)\n", d.path, d.size);
		vmc_text(&v);
	}
	vtime_vmclock_dev_close(&d);
	return VT_EXIT_OK;
}

/* ---- Hyper-V ---- */

static double hv_hz(uint64_t scale)
{
	return scale ? 1e7 * 18446744073709551616.0 / (double)scale : 0.0;
}

struct hv_view {
	const char *where;    /* "[vvar_vclock] at 0x...", or the file */
	bool valid;
	struct vtime_hv_tsc_reading r; /* when valid */
	uint32_t raw_sequence;
	bool have_now;
	uint64_t now_100ns, tsc;
};

static void hv_now(const volatile struct vtime_hv_tsc_page *p, struct hv_view *v)
{
	struct vtime_counter ctr;
	struct vtime_hv_tsc_reading r;

	v->have_now = false;
	if (!HOST_X86 || vtime_counter_get(VTIME_COUNTER_ORDERED, &ctr) != 0 || vtime_hv_tsc_page_read(p, &ctr, 0, &r))
		return;
	v->have_now = true;
	v->now_100ns = r.time;
	v->tsc = r.tsc;
}

static void hv_json(struct vt_json *j, const struct hv_view *v)
{
	vj_bool(j, "valid", v->valid);
	vj_u64(j, "tsc_sequence", v->valid ? v->r.sequence : v->raw_sequence);
	if (v->valid) {
		vj_u64(j, "tsc_scale", v->r.tsc_scale);
		vj_i64(j, "tsc_offset", v->r.tsc_offset);
		vj_dbl(j, "tsc_hz", hv_hz(v->r.tsc_scale));
	}
	if (v->have_now) {
		vj_u64(j, "reference_time_100ns", v->now_100ns);
		vj_u64(j, "tsc", v->tsc);
	} else {
		vj_null(j, "reference_time_100ns");
	}
}

static void hv_text(const struct hv_view *v)
{
	if (!v->valid) {
		printf("  %-19s %u: invalid (0 or 0xFFFFFFFF); the guest reads HV_X64_MSR_TIME_REF_COUNT instead\n",
		       "tsc_sequence", v->raw_sequence);
		return;
	}
	printf("  %-19s %u\n", "tsc_sequence", v->r.sequence);
	printf("  %-19s %llu (0x%016llx) -> TSC %.0f Hz\n", "tsc_scale", (unsigned long long)v->r.tsc_scale,
	       (unsigned long long)v->r.tsc_scale, hv_hz(v->r.tsc_scale));
	printf("  %-19s %lld (100 ns units)\n", "tsc_offset", (long long)v->r.tsc_offset);
	if (v->have_now)
		printf("  %-19s %llu x 100 ns (%.6f s) at TSC %llu\n", "reference time now",
		       (unsigned long long)v->now_100ns, v->now_100ns / 1e7, (unsigned long long)v->tsc);
}

/* The page in a file (a stand-in): mapped read-only, one page. */
static int hv_file(const char *path, const struct vt_opts *o)
{
	struct hv_view v = { path, false, { 0 }, 0, false, 0, 0 };
	const volatile struct vtime_hv_tsc_page *p;
	struct stat st;
	void *m;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		vt_err("hv: %s: %s", path, strerror(errno));
		return VT_EXIT_ERR;
	}
	if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
		vt_err("hv: %s: not a file or device holding a Hyper-V reference TSC page", path);
		close(fd);
		return VT_EXIT_ERR;
	}
	if (S_ISREG(st.st_mode) && st.st_size < (off_t)VTIME_HV_TSC_PAGE_SIZE) {
		vt_err("hv: %s: %lld bytes, shorter than the 4096-byte reference TSC page", path, (long long)st.st_size);
		close(fd);
		return VT_EXIT_ERR;
	}
	m = mmap(NULL, VTIME_HV_TSC_PAGE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		vt_err("hv: %s: mmap of one page read-only failed: %s", path, strerror(errno));
		return VT_EXIT_ERR;
	}
	p = m;
	v.raw_sequence = p->tsc_sequence;
	err = vtime_hv_tsc_page_snapshot(p, 0, &v.r);
	if (err == 0) {
		v.valid = true;
		hv_now(p, &v);
	} else if (err != VTIME_ENOTVALID) {
		vt_err("hv: %s: %s", path, vtime_strerror(err));
		munmap(m, VTIME_HV_TSC_PAGE_SIZE);
		return VT_EXIT_ERR;
	}
	if (o->json) {
		struct vt_json j;
		vj_begin(&j, stdout);
		vj_str(&j, "path", path);
		vj_bool(&j, "present", true);
		hv_json(&j, &v);
		vj_finish(&j);
	} else {
		printf("Hyper-V reference TSC page %s\n", path);
		hv_text(&v);
	}
	munmap(m, VTIME_HV_TSC_PAGE_SIZE);
	return VT_EXIT_OK;
}

/* The host's page in the vvar area; 0 (present, v filled) or the error. */
static int hv_host(struct vtime_hv_host_page *hp, struct hv_view *v)
{
	int err = vtime_hv_host_page_find(hp);

	memset(v, 0, sizeof *v);
	v->where = hp->mapping;
	if (err && err != VTIME_ENOTVALID)
		return err;
	v->raw_sequence = hp->sequence;
	if (err == 0 && vtime_hv_tsc_page_snapshot(hp->page, 0, &v->r) == 0) {
		v->valid = true;
		hv_now(hp->page, v);
	}
	return 0;
}

int cmd_hv(const struct vt_opts *o)
{
	struct vtime_hv_host_page hp;
	struct hv_view v;
	int err;

	if (o->argc) {
		if (!o->argv[0][0]) {
			vt_err("hv: PATH is empty (see vtime hv --help)");
			return VT_EXIT_USAGE;
		}
		return hv_file(o->argv[0], o);
	}
	err = hv_host(&hp, &v);
	if (o->json) {
		struct vt_json j;
		vj_begin(&j, stdout);
		vj_bool(&j, "present", err == 0);
		if (err) {
			vj_str(&j, "error", vtime_strerror(err));
			vj_str(&j, "why", hp.why);
		} else {
			vj_str(&j, "mapping", hp.mapping);
			hv_json(&j, &v);
		}
		vj_finish(&j);
	} else if (err) {
		printf("no Hyper-V reference TSC page: %s\n", hp.why);
	} else {
		printf("Hyper-V reference TSC page %s at 0x%llx\n", hp.mapping, (unsigned long long)hp.addr);
		hv_text(&v);
	}
	return err == 0 || err == VTIME_ENODEV || err == VTIME_ENOTSUP ? VT_EXIT_OK : VT_EXIT_ERR;
}

/* ---- vtime status: both pages and the bound ---- */

void vt_pages_status(struct vt_json *j)
{
	struct vtime_hv_host_page hp;
	struct vtime_vmclock_dev d;
	struct vtime_bounded_info bi;
	struct hv_view hv;
	struct vmc_view vm;
	int hv_err, vm_err, vm_read = VTIME_ENODEV;

	const char *env = getenv("VTIME_VMCLOCK_DEV"); /* the device the clock uses */

	hv_err = hv_host(&hp, &hv);
	vm_err = vtime_vmclock_dev_open(&d, env && env[0] ? env : NULL);
	if (!vm_err)
		vm_read = vmc_load(&d, &vm);
	vtime_bounded_info(&bi);

	if (j) {
		vj_obj(j, "hyperv");
		vj_bool(j, "present", hv_err == 0);
		if (hv_err) {
			vj_str(j, "error", vtime_strerror(hv_err));
			vj_str(j, "why", hp.why);
		} else {
			vj_str(j, "mapping", hp.mapping);
			hv_json(j, &hv);
		}
		vj_end_obj(j);
		vj_obj(j, "vmclock");
		vj_str(j, "path", d.path);
		vj_bool(j, "present", vm_err == 0);
		if (vm_err) {
			vj_str(j, "error", vtime_strerror(vm_err));
			vj_str(j, "why", d.why);
		} else if (vm_read) {
			vj_str(j, "error", vtime_strerror(vm_read));
		} else {
			vmc_json(j, &vm);
		}
		vj_end_obj(j);
		vj_obj(j, "bounded");
		vj_str(j, "source", vt_bound_source_name(bi.source));
		vj_str(j, "status", vt_bound_status_name(bi.status));
		vj_str(j, "why", bi.why);
		vj_str(j, "vmclock", bi.vmclock);
		vj_str(j, "page_watch", bi.page_watch);
		if (bi.half_width_ns != UINT64_MAX)
			vj_u64(j, "half_width_ns", bi.half_width_ns);
		else
			vj_null(j, "half_width_ns");
		if (bi.kernel_status >= 0) {
			vj_u64(j, "kernel_maxerror_ns", bi.kernel_maxerror_ns);
			vj_u64(j, "kernel_esterror_ns", bi.kernel_esterror_ns);
			vj_u64(j, "kernel_age_ns", bi.kernel_age_ns);
			vj_i64(j, "kernel_status", bi.kernel_status);
		} else {
			vj_null(j, "kernel_maxerror_ns");
			vj_null(j, "kernel_esterror_ns");
			vj_null(j, "kernel_age_ns");
			vj_null(j, "kernel_status");
		}
		vj_i64(j, "tai_offset_s", bi.tai_offset_s);
		vj_u64(j, "track_ns", bi.track_ns);
		if (bi.vmclock_maxerror_ns != UINT64_MAX)
			vj_u64(j, "vmclock_maxerror_ns", bi.vmclock_maxerror_ns);
		else
			vj_null(j, "vmclock_maxerror_ns");
		vj_u64(j, "disruptions", bi.disruptions);
		vj_u64(j, "generations", bi.generations);
		vj_u64(j, "realtime_steps", bi.realtime_steps);
		vj_end_obj(j);
	} else {
		printf("\nHyper-V reference TSC page\n");
		if (hv_err) {
			printf("  none: %s\n", hp.why);
		} else {
			printf("  %-19s %s at 0x%llx\n", "mapping", hp.mapping, (unsigned long long)hp.addr);
			hv_text(&hv);
		}
		printf("\nVMClock (%s)\n", d.path);
		if (vm_err)
			printf("  none: %s\n", d.why);
		else if (vm_read)
			printf("  present, but not read: %s\n", vtime_strerror(vm_read));
		else
			vmc_text(&vm);
		printf("\nBounded time (vtime_bounded_now)\n");
		printf("  %-19s %s: %s\n", "source", vt_bound_source_name(bi.source), vt_bound_source_text(bi.source));
		printf("  %-19s %s\n", "status", vt_bound_status_name(bi.status));
		printf("  %-19s %s\n", "why", bi.why);
		if (bi.half_width_ns != UINT64_MAX)
			printf("  %-19s +- %llu ns (%.3f ms) at the last maintenance\n", "half width",
			       (unsigned long long)bi.half_width_ns, bi.half_width_ns / 1e6);
		else
			printf("  %-19s none (no bound)\n", "half width");
		if (bi.kernel_status >= 0)
			printf("  %-19s maxerror %llu ns, esterror %llu ns, status 0x%llx%s (read %.1f ms ago)\n",
			       "kernel NTP", (unsigned long long)bi.kernel_maxerror_ns,
			       (unsigned long long)bi.kernel_esterror_ns, (unsigned long long)bi.kernel_status,
			       (bi.kernel_status & STA_UNSYNC) ? " STA_UNSYNC" : "", bi.kernel_age_ns / 1e6);
		else
			printf("  %-19s not read (adjtimex refused, or not needed)\n", "kernel NTP");
		printf("  %-19s %llu ns (vtime's own term)\n", "tracking", (unsigned long long)bi.track_ns);
		if (bi.vmclock_maxerror_ns != UINT64_MAX)
			printf("  %-19s %llu ns\n", "VMClock maxerror", (unsigned long long)bi.vmclock_maxerror_ns);
		printf("  %-19s TAI - UTC %lld s%s\n", "TAI", (long long)bi.tai_offset_s,
		       bi.tai_offset_s ? "" : " (unknown: vtime_bounded_tai_now() says unknown)");
		printf("  %-19s %s\n", "page watched", bi.page_watch);
		printf("  %-19s disruptions %llu, generations %llu, CLOCK_REALTIME steps %llu\n", "events seen",
		       (unsigned long long)bi.disruptions, (unsigned long long)bi.generations,
		       (unsigned long long)bi.realtime_steps);
	}
	if (!vm_err)
		vtime_vmclock_dev_close(&d);
}
