/* SPDX-License-Identifier: MIT */
/* Writes stand-in host pages with vtime's own writers, for the tool's tests
 * (test_cli_pages.py): a one-page file a VMClock device or a Hyper-V
 * reference TSC page would map, in the state KIND names. Prints what it
 * wrote as one JSON object (the fields the test compares).
 *
 *   vt_mkpage vmclock FILE sync|freerunning|tai|unreliable|marker-only|
 *                          other-counter|torn|empty|v2|short
 *   vt_mkpage hv FILE valid|invalid|short
 *
 * The VMClock line relates this machine's counter (vtime's ordered read)
 * to CLOCK_REALTIME at the frequency vtime's clock uses, with a maxerror of
 * 10 us at the reference point and 50 ppb on the period, so vtime's bounded
 * clock, pointed at the file (VTIME_VMCLOCK_DEV), holds true time. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <vtime/clock.h>
#include <vtime/counter.h>
#include <vtime/hyperv.h>
#include <vtime/linux.h>
#include <vtime/vmclock.h>

#if defined(__aarch64__)
#define HOST_COUNTER VTIME_VMCLOCK_COUNTER_ARM_VCNT
#define OTHER_COUNTER VTIME_VMCLOCK_COUNTER_X86_TSC
#else
#define HOST_COUNTER VTIME_VMCLOCK_COUNTER_X86_TSC
#define OTHER_COUNTER VTIME_VMCLOCK_COUNTER_ARM_VCNT
#endif

static void *map_file(const char *path, size_t len)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	void *p;

	if (fd < 0 || ftruncate(fd, (off_t)len) != 0) {
		perror(path);
		exit(2);
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

static int vmclock(const char *path, const char *kind)
{
	size_t len = (size_t)sysconf(_SC_PAGESIZE);
	volatile struct vtime_vmclock_abi *pg;
	struct vtime_vmclock_abi body;
	struct vtime_clock_info ci;
	struct vtime_counter ctr;
	struct timespec ts;
	uint64_t hz, c;
	uint32_t seq;
	bool tai = !strcmp(kind, "tai");

	if (!strcmp(kind, "short")) {
		FILE *f = fopen(path, "w");
		if (!f || fwrite("VCLK", 1, 4, f) != 4 || fclose(f) != 0)
			return 2;
		printf("{}\n");
		return 0;
	}
	pg = map_file(path, len);
	if (!strcmp(kind, "empty")) {
		printf("{}\n");
		return 0;
	}
	if (vtime_clock_info(&ci) != 0 || vtime_counter_get(VTIME_COUNTER_ORDERED, &ctr) != 0)
		return 2;
	hz = ci.nominal_hz ? ci.nominal_hz : (uint64_t)ci.freq_hz;
	if (hz < 1000000u) /* the clock_gettime fallback: no counter line to publish */
		hz = 1000000000u;
	if (vtime_vmclock_init(pg, (uint32_t)len,
			       !strcmp(kind, "marker-only")     ? VTIME_VMCLOCK_COUNTER_INVALID
			       : !strcmp(kind, "other-counter") ? OTHER_COUNTER
								: HOST_COUNTER,
			       tai ? VTIME_VMCLOCK_TIME_TAI : VTIME_VMCLOCK_TIME_UTC) != 0)
		return 2;
	memset(&body, 0, sizeof body);
	body.clock_status = VTIME_VMCLOCK_STATUS_SYNCHRONIZED;
	if (strcmp(kind, "marker-only") != 0) {
		c = ctr.read(ctr.ctx);
		clock_gettime(CLOCK_REALTIME, &ts);
		if (tai) {
			ts.tv_sec += 37;
			body.tai_offset_sec = 37;
			body.flags |= VTIME_VMCLOCK_FLAG_TAI_OFFSET_VALID;
		}
		if (vtime_vmclock_set_period(&body, hz, 50, 20) != 0 ||
		    vtime_vmclock_set_time(&body, c, (uint64_t)ts.tv_sec, (uint32_t)ts.tv_nsec, 10000, 2000) != 0)
			return 2;
		body.flags |= VTIME_VMCLOCK_FLAG_TIME_MONOTONIC | VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT;
	} else {
		body.clock_status = VTIME_VMCLOCK_STATUS_UNKNOWN;
		body.flags |= VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT;
	}
	if (!strcmp(kind, "freerunning"))
		body.clock_status = VTIME_VMCLOCK_STATUS_FREERUNNING;
	if (!strcmp(kind, "unreliable"))
		body.clock_status = VTIME_VMCLOCK_STATUS_UNRELIABLE;
	/* a first line, a migration (marker + 1), a restore (generation + 1, marker + 1) */
	(void)vtime_vmclock_publish(pg, &body, 0);
	(void)vtime_vmclock_publish(pg, &body, VTIME_VMCLOCK_EV_DISRUPTED);
	seq = vtime_vmclock_publish(pg, &body, VTIME_VMCLOCK_EV_NEW_GENERATION);
	if (!strcmp(kind, "v2"))
		pg->version = 2;
	if (!strcmp(kind, "torn"))
		pg->seq_count |= 1u; /* a writer stopped midway */
	printf("{\"seq_count\": %u, \"counter_value\": %llu, \"hz\": %llu, \"period\": %llu, \"shift\": %u, "
	       "\"time_sec\": %llu, \"marker\": %llu, \"generation\": %llu}\n",
	       seq, (unsigned long long)body.counter_value, (unsigned long long)hz,
	       (unsigned long long)body.counter_period_frac_sec, body.counter_period_shift,
	       (unsigned long long)body.time_sec, (unsigned long long)pg->disruption_marker,
	       (unsigned long long)pg->vm_generation_counter);
	return 0;
}

static int hv(const char *path, const char *kind)
{
	volatile struct vtime_hv_tsc_page *pg;
	/* a 2.445406 GHz TSC: 10^7 * 2^64 / hz, as a host computes it */
	const uint64_t scale = 75434279926153577ull;
	const int64_t offset = -12345;
	uint32_t seq;

	if (!strcmp(kind, "short")) {
		FILE *f = fopen(path, "w");
		if (!f || fwrite("0123456789", 1, 10, f) != 10 || fclose(f) != 0)
			return 2;
		printf("{}\n");
		return 0;
	}
	pg = map_file(path, VTIME_HV_TSC_PAGE_SIZE);
	seq = vtime_hv_tsc_page_publish(pg, scale, 0, 0);
	seq = vtime_hv_tsc_page_publish(pg, scale, offset, seq);
	if (!strcmp(kind, "invalid"))
		seq = vtime_hv_tsc_page_invalidate(pg, seq);
	printf("{\"sequence\": %u, \"tsc_scale\": %llu, \"tsc_offset\": %lld, \"page_sequence\": %u}\n", seq,
	       (unsigned long long)scale, (long long)offset, pg->tsc_sequence);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "vmclock"))
		return vmclock(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "hv"))
		return hv(argv[2], argv[3]);
	fprintf(stderr, "usage: vt_mkpage vmclock|hv FILE KIND\n");
	return 2;
}
