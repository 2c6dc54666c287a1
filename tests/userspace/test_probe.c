/* SPDX-License-Identifier: MIT */
/* Probing a page that raises SIGBUS neither crashes the process nor leaves a
 * signal handler changed; the counter hooks count forward. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <vtime/clock.h>
#include <vtime/linux.h>
#include <vtime/vtime.h>

#include "vt_test.h"
#include "vt_clock_int.h"
#include "vt_user.h"
#include "vt_user_counter.h"

/* A file mapping beyond end-of-file raises SIGBUS on access: the same fault a
 * never-used kvm-clock page gives. */
static void test_sigbus_page(void)
{
	char path[] = "/tmp/vtime-probe-XXXXXX";
	struct sigaction before, after;
	unsigned char buf[64];
	int fd = mkstemp(path);
	void *p;

	CU_ASSERT_FATAL(fd >= 0);
	unlink(path);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0); /* file is empty */
	CU_ASSERT_FATAL(p != MAP_FAILED);
	sigaction(SIGBUS, NULL, &before);
	CU_ASSERT_EQUAL(vt_user_safe_copy(buf, (uintptr_t)p, sizeof buf), VTIME_ENODEV);
	sigaction(SIGBUS, NULL, &after);
	CU_ASSERT(before.sa_handler == after.sa_handler);
	/* Extend the file: now the same page reads fine through the same path. */
	CU_ASSERT_FATAL(ftruncate(fd, 4096) == 0);
	CU_ASSERT_EQUAL(vt_user_safe_copy(buf, (uintptr_t)p, sizeof buf), 0);
	munmap(p, 4096);
	close(fd);
}

static void test_unmapped(void)
{
	unsigned char buf[32];
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CU_ASSERT_FATAL(p != MAP_FAILED);
	CU_ASSERT_EQUAL(vt_user_safe_copy(buf, (uintptr_t)p, sizeof buf), VTIME_ENODEV);
	munmap(p, 4096);
	CU_ASSERT_EQUAL(vt_user_safe_copy(buf, 0, sizeof buf), VTIME_ENODEV);
	CU_ASSERT_EQUAL(vt_user_safe_copy(buf, (uintptr_t)buf, 8192), VTIME_EINVAL);
}

/* The page finder either finds a valid record or explains why not. */
static void test_find_explains(void)
{
	struct vtime_host_page hp;
	int err = vtime_host_page_find(&hp);

	CU_ASSERT_EQUAL(err, hp.err);
	if (err) {
		CU_ASSERT(strlen(hp.why) > 10);
		CU_ASSERT_PTR_NULL(hp.rec);
		printf("\n  no host page: %s\n", hp.why);
	} else {
		struct vtime_pvclock_vcpu_time_info r;
		CU_ASSERT_PTR_NOT_NULL(hp.rec);
		CU_ASSERT(strcmp(hp.mapping, "[vvar_vclock]") == 0 || strcmp(hp.mapping, "[vvar]") == 0);
		CU_ASSERT_EQUAL(vtime_pvclock_snapshot(hp.rec, 0, &r), 0);
	}
	CU_ASSERT_EQUAL(vtime_host_page_find(NULL), VTIME_EINVAL);
}

static void test_counters_forward(void)
{
	struct vtime_counter c;
	enum vtime_counter_kind kinds[] = { VTIME_COUNTER_RAW, VTIME_COUNTER_ORDERED, VTIME_COUNTER_RDTSCP };

	for (unsigned k = 0; k < 3; k++) {
		int err = vtime_counter_get(kinds[k], &c);
		uint64_t a, b;
		if (err == VTIME_ENOTSUP)
			continue;
		CU_ASSERT_EQUAL_FATAL(err, 0);
		a = c.read(c.ctx);
		usleep(1000);
		b = c.read(c.ctx);
		CU_ASSERT(b > a);
	}
	{
		int cpu = -2;
		uint64_t a = vt_ctr_ordered(), b = vtime_counter_read_cpu(&cpu), d = vt_ctr_raw();
		CU_ASSERT(b >= a && d >= b);
#if VT_CTR_HAVE_CPU
		CU_ASSERT(cpu >= 0 && cpu < sysconf(_SC_NPROCESSORS_CONF));
#else
		CU_ASSERT_EQUAL(cpu, -1);
#endif
	}
	CU_ASSERT_EQUAL(vtime_counter_get(VTIME_COUNTER_RAW, NULL), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_counter_get((enum vtime_counter_kind)99, &c), VTIME_EINVAL);
}

/* Where the platform states the counter's frequency (CNTFRQ_EL0, the TOD
 * clock's 4096 units per us, a device-tree timebase), the counter runs at
 * it: 50 ms against CLOCK_MONOTONIC, within 2% (qemu-user's clocks are the
 * host's; the clock's own start-up check is ten times stricter). */
static void test_counter_rate(void)
{
	struct vtime_machine m;
	struct timespec a, b, ts = { 0, 50000000 };
	uint64_t x0, x1;
	double ns, hz;

	CU_ASSERT_EQUAL_FATAL(vtime_machine_probe(&m), 0);
#if VT_CTR_GATED
	/* armv7: "none" where the kernel did not show that it enabled user
	 * access (qemu-arm never does: the reads above got the stand-in) */
	if (!strcmp(m.counter, "none")) {
		printf("\n  %s: CNTVCT not read: %s", m.arch, vt_ctr_gate_why());
		CU_ASSERT_EQUAL(m.arch_counter_hz, 0);
		return;
	}
#endif
	CU_ASSERT_STRING_EQUAL(m.counter, VTIME_ARCH_COUNTER_NAME);
	if (!m.arch_counter_hz) {
		printf("\n  %s: no architectural counter frequency to check", m.arch);
		CU_ASSERT_PTR_NULL(m.arch_counter_hz_source);
		return;
	}
	CU_ASSERT_PTR_NOT_NULL(m.arch_counter_hz_source);
	clock_gettime(CLOCK_MONOTONIC, &a);
	x0 = vt_ctr_ordered();
	nanosleep(&ts, NULL);
	x1 = vt_ctr_ordered();
	clock_gettime(CLOCK_MONOTONIC, &b);
	ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
	hz = (double)(x1 - x0) * 1e9 / ns;
	printf("\n  %s counter %s: %s says %llu Hz, measured %.0f Hz", m.arch, m.counter, m.arch_counter_hz_source,
	       (unsigned long long)m.arch_counter_hz, hz);
	CU_ASSERT(hz > (double)m.arch_counter_hz * 0.98 && hz < (double)m.arch_counter_hz * 1.02);
}

/* The vDSO's clock_gettime, found by symbol in the image the kernel maps:
 * it answers what libc's clock_gettime answers (64-bit targets; 32-bit ones
 * keep libc's wrapper and say so). */
static void test_vdso_gettime(void)
{
	vt_gettime_fn f = NULL;
	struct timespec a, v, b;
	int err = vt_vdso_gettime(&f);

	CU_ASSERT_EQUAL(vt_vdso_gettime(NULL), VTIME_EINVAL);
	if (err == VTIME_ENOTSUP || err == VTIME_ENODEV) {
		printf("\n  no vDSO clock_gettime here (%s): libc's wrapper is used", vtime_strerror(err));
		CU_ASSERT_PTR_NULL(f);
		return;
	}
	CU_ASSERT_EQUAL_FATAL(err, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (int id = 0; id < 2; id++) {
		clockid_t c = id ? CLOCK_REALTIME : CLOCK_MONOTONIC;
		clock_gettime(c, &a);
		CU_ASSERT_EQUAL(f(c, &v), 0);
		clock_gettime(c, &b);
		uint64_t na = (uint64_t)a.tv_sec * 1000000000u + (uint64_t)a.tv_nsec;
		uint64_t nv = (uint64_t)v.tv_sec * 1000000000u + (uint64_t)v.tv_nsec;
		uint64_t nb = (uint64_t)b.tv_sec * 1000000000u + (uint64_t)b.tv_nsec;
		CU_ASSERT(na <= nv && nv <= nb);
	}
}

int main(void)
{
	static const struct vt_test_case cases[] = {
		{ "SIGBUS page probes to EFAULT, handlers untouched", test_sigbus_page },
		{ "unmapped / oversized probes", test_unmapped },
		{ "host page found or explained", test_find_explains },
		{ "counter hooks count forward", test_counters_forward },
		{ "the architecture's counter frequency", test_counter_rate },
		{ "the vDSO's clock_gettime", test_vdso_gettime },
		{ NULL, NULL },
	};
	static const struct vt_test_suite suites[] = { { "probe", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
