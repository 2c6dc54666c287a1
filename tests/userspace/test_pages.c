/* SPDX-License-Identifier: MIT */
/* The other host pages in userspace (<vtime/linux.h>, pages.c):
 *   - discovery on this machine: the Hyper-V page in the vvar area and
 *     /dev/vmclock0, each present or absent with the reason said (this
 *     machine: a KVM guest whose host offers ACPI AMZNC10C:00 with no
 *     driver bound, so no device; no Hyper-V);
 *   - the VMClock device calls on a stand-in: a one-page file the test
 *     writes with vtime's own VMClock writer, opened, mapped read-only, read
 *     through the mapping and through read(2), waited on;
 *   - the clock on a Hyper-V page the test publishes (vt_clock_test_hv,
 *     every real page hidden): chosen as the counter line's voucher and
 *     frequency, left while the page is invalid, taken back when valid. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <vtime/clock.h>
#include <vtime/hyperv.h>
#include <vtime/linux.h>
#include <vtime/vmclock.h>

#include "vt_clock.h"
#include "vt_test.h"
#include "vt_user_counter.h"

static uint64_t mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t realtime(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- discovery on this machine ---- */

static void test_hv_discovery(void)
{
	struct vtime_hv_host_page hp;
	int err = vtime_hv_host_page_find(&hp);

	CU_ASSERT_EQUAL(vtime_hv_host_page_find(NULL), VTIME_EINVAL);
	if (err == 0) {
		struct vtime_hv_tsc_reading r;
		struct vtime_counter ctr;
		printf("\n  Hyper-V page at %s, sequence %u, scale %llu -> %llu Hz", hp.mapping, hp.sequence,
		       (unsigned long long)hp.tsc_scale, (unsigned long long)hp.tsc_hz);
		CU_ASSERT(hp.tsc_hz > 10000000u && hp.tsc_hz < 10000000000ull);
		CU_ASSERT_EQUAL_FATAL(vtime_counter_get(VTIME_COUNTER_ORDERED, &ctr), 0);
		CU_ASSERT_EQUAL(vtime_hv_tsc_page_read(hp.page, &ctr, 0, &r), 0);
		return;
	}
	/* the real page is absent here: say why, and that it is a reason */
	printf("\n  no Hyper-V page here (%s): %s", vtime_strerror(err), hp.why);
	CU_ASSERT(err == VTIME_ENODEV || err == VTIME_ENOTVALID || err == VTIME_ENOTSUP || err == VTIME_EAGAIN);
	CU_ASSERT(hp.why[0] != '\0');
	CU_ASSERT_EQUAL(hp.err, err);
	if (err == VTIME_ENODEV)
		CU_ASSERT_PTR_NULL(hp.page);
}

static void test_vmclock_discovery(void)
{
	struct vtime_vmclock_dev d;
	int err = vtime_vmclock_dev_open(&d, NULL);

	if (err == 0) {
		struct vtime_vmclock_abi s;
		printf("\n  %s: VMClock mapped (%zu bytes)", d.path, d.size);
		CU_ASSERT_EQUAL(vtime_vmclock_dev_read(&d, &s), 0);
		CU_ASSERT_EQUAL(s.magic, VTIME_VMCLOCK_MAGIC);
		CU_ASSERT_EQUAL(vtime_vmclock_dev_close(&d), 0);
		return;
	}
	/* this machine: the host offers one (ACPI AMZNC10C:00) but the kernel
	 * has no driver, so no /dev/vmclock0: the reason must say which */
	printf("\n  no VMClock device here (%s): %s", vtime_strerror(err), d.why);
	CU_ASSERT(d.why[0] != '\0');
	CU_ASSERT_PTR_NULL(d.clk);
	CU_ASSERT_EQUAL(d.fd, -1);
	if (err == VTIME_ENODEV) {
		if (access("/sys/bus/acpi/devices/AMZNC10C:00", F_OK) == 0) {
			CU_ASSERT(strstr(d.why, "AMZNC10C") != NULL);
		} else {
			CU_ASSERT(strstr(d.why, "no ACPI VMClock") != NULL);
		}
	}
}

/* ---- the device calls on a stand-in file ---- */

static char g_path[64];
static volatile struct vtime_vmclock_abi *g_page; /* the test's writable mapping */
static size_t g_len;

static void standin_open(void)
{
	int fd;

	g_len = (size_t)sysconf(_SC_PAGESIZE);
	snprintf(g_path, sizeof g_path, "/tmp/vtime-vmclock-%d", (int)getpid());
	fd = open(g_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(ftruncate(fd, (off_t)g_len) == 0);
	g_page = mmap(NULL, g_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	CU_ASSERT_FATAL(g_page != MAP_FAILED);
}

static void standin_close(void)
{
	munmap((void *)g_page, g_len);
	unlink(g_path);
}

/* The mapping's permissions in /proc/self/maps ("r--s" expected). */
static void perms_of(const void *addr, char out[5])
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	strcpy(out, "?");
	while (f && fgets(line, sizeof line, f)) {
		unsigned long a, b;
		char p[5];
		if (sscanf(line, "%lx-%lx %4s", &a, &b, p) == 3 && (uintptr_t)addr >= a && (uintptr_t)addr < b) {
			memcpy(out, p, 5);
			break;
		}
	}
	if (f)
		fclose(f);
}

static void test_device_standin(void)
{
	struct vtime_vmclock_abi body, s;
	struct vtime_vmclock_reading r;
	struct vtime_vmclock_dev d;
	struct vtime_counter ctr;
	uint64_t c = vt_ctr_ordered(), sec, frac;
	char perms[5];

	standin_open();
	/* an empty page: no magic */
	CU_ASSERT_EQUAL(vtime_vmclock_dev_open(&d, g_path), VTIME_ENODEV);
	CU_ASSERT(strstr(d.why, "magic") != NULL);
	CU_ASSERT_EQUAL(d.fd, -1);
	/* vtime's writer lays the page out and publishes a line */
	CU_ASSERT_EQUAL_FATAL(vtime_vmclock_init(g_page, (uint32_t)g_len, VTIME_VMCLOCK_COUNTER_X86_TSC,
						 VTIME_VMCLOCK_TIME_UTC), 0);
	memset(&body, 0, sizeof body);
	CU_ASSERT_EQUAL_FATAL(vtime_vmclock_set_period(&body, 2445406000ull, 50, 20), 0);
	sec = realtime();
	CU_ASSERT_EQUAL_FATAL(vtime_vmclock_set_time(&body, c, sec / 1000000000u, (uint32_t)(sec % 1000000000u), 10000,
						     2000), 0);
	body.clock_status = VTIME_VMCLOCK_STATUS_SYNCHRONIZED;
	body.flags |= VTIME_VMCLOCK_FLAG_TIME_MONOTONIC;
	(void)vtime_vmclock_publish(g_page, &body, 0);

	CU_ASSERT_EQUAL_FATAL(vtime_vmclock_dev_open(&d, g_path), 0);
	CU_ASSERT_STRING_EQUAL(d.path, g_path);
	CU_ASSERT(d.fd >= 0);
	CU_ASSERT_EQUAL(d.size, g_len);
	perms_of((const void *)d.clk, perms);
	printf("\n  stand-in %s mapped %s", g_path, perms);
	CU_ASSERT_STRING_EQUAL(perms, "r--s"); /* one page, read-only, shared */
	/* through the mapping, the core reader */
	CU_ASSERT_EQUAL_FATAL(vtime_counter_get(VTIME_COUNTER_ORDERED, &ctr), 0);
	CU_ASSERT_EQUAL(vtime_vmclock_read(d.clk, &ctr, 0, &r), 0);
	CU_ASSERT_EQUAL(r.clock_status, VTIME_VMCLOCK_STATUS_SYNCHRONIZED);
	CU_ASSERT(r.utc_sec >= sec / 1000000000u && r.utc_sec <= sec / 1000000000u + 2);
	/* through read(2): the same fields, host byte order */
	CU_ASSERT_EQUAL(vtime_vmclock_dev_read(&d, &s), 0);
	CU_ASSERT_EQUAL(s.magic, VTIME_VMCLOCK_MAGIC);
	CU_ASSERT_EQUAL(s.counter_value, c);
	CU_ASSERT_EQUAL(s.time_maxerror_nanosec, 10000);
	CU_ASSERT_EQUAL(s.seq_count & 1u, 0);
	frac = s.time_frac_sec;
	CU_ASSERT_EQUAL(frac, body.time_frac_sec);
	/* a plain file cannot notify: the default poll mask */
	CU_ASSERT_EQUAL(vtime_vmclock_dev_wait(&d, 0), VTIME_ENOTSUP);
	/* a torn copy (the writer stuck odd): read(2) refuses it */
	g_page->seq_count |= 1u;
	CU_ASSERT_EQUAL(vtime_vmclock_dev_read(&d, &s), VTIME_EAGAIN);
	g_page->seq_count += 1u;
	CU_ASSERT_EQUAL(vtime_vmclock_dev_read(&d, &s), 0);
	CU_ASSERT_EQUAL(vtime_vmclock_dev_close(&d), 0);
	CU_ASSERT_PTR_NULL(d.clk);
	CU_ASSERT_EQUAL(vtime_vmclock_dev_read(&d, &s), VTIME_ENODEV);
	CU_ASSERT_EQUAL(vtime_vmclock_dev_wait(&d, 0), VTIME_ENODEV);
	/* a version vtime does not know */
	g_page->version = 2;
	CU_ASSERT_EQUAL(vtime_vmclock_dev_open(&d, g_path), VTIME_ENOTSUP);
	standin_close();
}

static void test_device_errors(void)
{
	struct vtime_vmclock_dev d;
	char longp[80];
	int fd;

	CU_ASSERT_EQUAL(vtime_vmclock_dev_open(NULL, NULL), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_dev_close(NULL), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_dev_read(NULL, NULL), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_dev_wait(NULL, 0), VTIME_EINVAL);
	memset(longp, 'a', sizeof longp - 1);
	longp[0] = '/';
	longp[sizeof longp - 1] = '\0';
	CU_ASSERT_EQUAL(vtime_vmclock_dev_open(&d, longp), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmclock_dev_open(&d, "/nonexistent/vmclock9"), VTIME_ENODEV);
	CU_ASSERT(strstr(d.why, "/nonexistent/vmclock9") != NULL);
	/* a device that maps but holds no VMClock */
	CU_ASSERT_EQUAL(vtime_vmclock_dev_open(&d, "/dev/zero"), VTIME_ENODEV);
	CU_ASSERT(strstr(d.why, "magic") != NULL);
	/* not a device, nor a file */
	CU_ASSERT_EQUAL(vtime_vmclock_dev_open(&d, "/tmp"), VTIME_ENODEV);
	/* a file shorter than a page */
	snprintf(g_path, sizeof g_path, "/tmp/vtime-vmclock-short-%d", (int)getpid());
	fd = open(g_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, "VCLK", 4) == 4);
	close(fd);
	CU_ASSERT_EQUAL(vtime_vmclock_dev_open(&d, g_path), VTIME_EPROTO);
	unlink(g_path);
	/* not readable */
	if (geteuid() != 0) {
		CU_ASSERT_EQUAL(vtime_vmclock_dev_open(&d, "/etc/shadow"), VTIME_EIO);
		CU_ASSERT(strstr(d.why, "permission") != NULL);
	}
}

/* ---- the clock on the test's Hyper-V page ---- */

static struct vtime_hv_tsc_page hv __attribute__((aligned(4096)));
static uint32_t hv_seq;
static uint64_t last_out;

static uint64_t measure_hz(void)
{
	uint64_t c0 = vt_ctr_ordered(), m0 = mono(), c1, m1;
	struct timespec ts = { 0, 50000000 };

	nanosleep(&ts, NULL);
	c1 = vt_ctr_ordered();
	m1 = mono();
	return (uint64_t)((double)(c1 - c0) * 1e9 / (double)(m1 - m0));
}

/* The page for a TSC of hz: scale = 10^7 * 2^64 / hz, offset 0. */
static uint64_t hv_scale(uint64_t hz)
{
	return (uint64_t)(1e7 / (double)hz * 18446744073709551616.0);
}

static void read_for(unsigned ms, const char *phase)
{
	uint64_t end = mono() + ms * 1000000ull, n = 0, back = 0;
	int64_t worst = 0;

	while (mono() < end) {
		uint64_t a = mono(), v = vtime_now_ns(), b = mono();
		int64_t e = (int64_t)(v - (a + (b - a) / 2));
		if (v < last_out)
			back++;
		last_out = v;
		if (b - a < 5000) {
			if (e < 0)
				e = -e;
			if (e > worst)
				worst = e;
		}
		n++;
	}
	printf("\n  %-30s %8llu reads, %llu backwards, worst |vtime - CLOCK_MONOTONIC| %lld ns", phase,
	       (unsigned long long)n, (unsigned long long)back, (long long)worst);
	CU_ASSERT_EQUAL(back, 0);
	CU_ASSERT(worst < 50000);
}

static void test_clock_on_hv_page(void)
{
	struct vtime_clock_info ci;
	struct vtime_bounded_info bi;
	uint64_t hz = measure_hz();

	unsetenv("VTIME_CLOCK_SOURCE");
	memset(&hv, 0, sizeof hv);
	hv_seq = vtime_hv_tsc_page_publish(&hv, hv_scale(hz), 0, 0);
	vt_clock_test_no_pages(true);
	vt_clock_test_hv(&hv);
	vt_clock_reset();
	last_out = 0;
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	printf("\n  source %s: %s; frequency from %s (%llu Hz, measured %llu)", ci.source_name, ci.why, ci.freq_source,
	       (unsigned long long)ci.nominal_hz, (unsigned long long)hz);
	CU_ASSERT_STRING_EQUAL(ci.source_name, "tsc");
	CU_ASSERT(strstr(ci.why, "Hyper-V reference TSC page is valid") != NULL);
	CU_ASSERT(strstr(ci.freq_source, "Hyper-V") != NULL);
	CU_ASSERT_EQUAL_FATAL(vtime_bounded_info(&bi), 0);
	CU_ASSERT_STRING_EQUAL(bi.page_watch, "hyperv");
	read_for(100, "valid Hyper-V page");

	/* a new scale and sequence (a migration with TSC scaling keeps the
	 * rate): readers see the sequence change, the line is re-fitted */
	hv_seq = vtime_hv_tsc_page_publish(&hv, hv_scale(hz), 12345, hv_seq);
	read_for(50, "sequence changed");

	/* invalid: the host emulates the TSC; clock_gettime meanwhile */
	hv_seq = vtime_hv_tsc_page_invalidate(&hv, hv_seq);
	read_for(100, "Hyper-V page invalid");
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	printf("\n  while invalid: %s (%s)", ci.source_name, ci.fallback_reason);
	CU_ASSERT_STRING_EQUAL(ci.source_name, "clock_gettime");
	CU_ASSERT(strstr(ci.fallback_reason, "Hyper-V reference TSC page became invalid") != NULL);
	CU_ASSERT_EQUAL(ci.fallbacks, 1);

	hv_seq = vtime_hv_tsc_page_publish(&hv, hv_scale(hz), 0, hv_seq);
	read_for(100, "valid again");
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	CU_ASSERT_STRING_EQUAL(ci.source_name, "tsc");
	CU_ASSERT(strstr(ci.why, "valid again") != NULL);

	/* an invalid page from the start vouches for nothing (the kernel's
	 * clocksource decides: here tsc, elsewhere clock_gettime) */
	hv_seq = vtime_hv_tsc_page_invalidate(&hv, hv_seq);
	vt_clock_reset();
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	printf("\n  invalid from the start: %s (%s)", ci.source_name, ci.why);
	CU_ASSERT(strstr(ci.why, "Hyper-V reference TSC page is valid") == NULL);
	read_for(50, "invalid from the start");

	vt_clock_test_hv(NULL);
	vt_clock_test_no_pages(false);
	vt_clock_reset();
}

int main(void)
{
	static const struct vt_test_case cases[] = {
		{ "Hyper-V page discovery here", test_hv_discovery },
		{ "VMClock device discovery here", test_vmclock_discovery },
		{ "the device calls on a stand-in written by vtime's writer", test_device_standin },
		{ "device errors", test_device_errors },
		{ "the clock on a Hyper-V page (valid, rewritten, invalid, valid)", test_clock_on_hv_page },
		{ NULL, NULL },
	};
	static const struct vt_test_suite suites[] = { { "pages", cases }, { NULL, NULL } };

#if !defined(__x86_64__)
	/* the stand-in uses the TSC counter id and the Hyper-V page is x86 */
	printf("SKIP: the Hyper-V page and an X86_TSC VMClock page need x86-64 (this is %s)\n", VT_CTR_ARCH);
	return 77;
#endif
	return vt_test_main(suites);
}
