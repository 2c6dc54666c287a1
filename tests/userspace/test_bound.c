/* SPDX-License-Identifier: MIT */
/* Time with an error bound (<vtime/clock.h>, bound.c) on a VMClock page
 * the test publishes with vtime's writer (vt_clock_test_vmclock: this
 * machine has no /dev/vmclock0), relating this machine's counter to
 * CLOCK_REALTIME at the clock's own frequency:
 *   - SYNCHRONIZED: source VMClock, the interval holds CLOCK_REALTIME, as
 *     wide as the page's maxerror says; after() / before() at its ends;
 *   - FREERUNNING: free-running, still holding;
 *   - a disruption (marker + 1) while another thread holds the maintenance
 *     lock: UNKNOWN ([0, UINT64_MAX], after/before false) until the clock
 *     re-anchors; then the new page's status, the disruption counted; the
 *     same for a new generation;
 *   - TAI: unknown on a UTC page without TAI_OFFSET_VALID, 37 s ahead with;
 *   - UNRELIABLE: not the source (the kernel is);
 *   - a marker-only page's disruption on the kernel source: DISRUPTED (the
 *     kernel has not measured since). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <vtime/clock.h>
#include <vtime/linux.h>
#include <vtime/vmclock.h>

#include "vt_clock.h"
#include "vt_test.h"
#include "vt_user_counter.h"

#if defined(__aarch64__)
#define VT_TEST_COUNTER_ID VTIME_VMCLOCK_COUNTER_ARM_VCNT
#else
#define VT_TEST_COUNTER_ID VTIME_VMCLOCK_COUNTER_X86_TSC
#endif

static union {
	struct vtime_vmclock_abi abi;
	unsigned char bytes[4096];
} page __attribute__((aligned(4096)));

static uint64_t hz;

static uint64_t realtime(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The page's body now: counter and CLOCK_REALTIME, 10 us maxerror, 50 ppb. */
static void body_now(struct vtime_vmclock_abi *b, uint8_t status, int16_t tai)
{
	uint64_t c = vt_ctr_ordered(), t = realtime();

	memset(b, 0, sizeof *b);
	CU_ASSERT_EQUAL_FATAL(vtime_vmclock_set_period(b, hz, 50, 20), 0);
	if (tai) {
		t += (uint64_t)tai * 1000000000u;
		b->tai_offset_sec = tai;
		b->flags |= VTIME_VMCLOCK_FLAG_TAI_OFFSET_VALID;
	}
	CU_ASSERT_EQUAL_FATAL(vtime_vmclock_set_time(b, c, t / 1000000000u, (uint32_t)(t % 1000000000u), 10000, 2000), 0);
	b->clock_status = status;
	b->flags |= VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT;
}

static void start(uint8_t counter_id, uint8_t time_type)
{
	struct vtime_clock_info ci;

	vt_clock_test_vmclock(NULL);
	vt_clock_reset();
	CU_ASSERT_EQUAL_FATAL(vtime_clock_info(&ci), 0);
	hz = ci.nominal_hz ? ci.nominal_hz : (uint64_t)ci.freq_hz;
	if (hz < 1000000u)
		hz = 1000000000u;
	memset(&page, 0, sizeof page);
	CU_ASSERT_EQUAL_FATAL(vtime_vmclock_init(&page.abi, sizeof page, counter_id, time_type), 0);
}

static void reanchor(void)
{
	vt_clock_test_vmclock(&page.abi);
	vt_clock_reset();
}

static void holds(const struct vtime_bounded *b, uint64_t t0, uint64_t t1, const char *what)
{
	uint64_t w = b->latest_ns - b->earliest_ns;

	printf("\n  %-28s [%llu, %llu] width %llu ns, status %u source %u", what, (unsigned long long)b->earliest_ns,
	       (unsigned long long)b->latest_ns, (unsigned long long)w, b->status, b->source);
	CU_ASSERT(b->earliest_ns <= b->latest_ns);
	/* the page was written from CLOCK_REALTIME: true time by its own word */
	CU_ASSERT(b->earliest_ns <= t1 + 1000);
	CU_ASSERT(t0 <= b->latest_ns + 1000);
	/* 2 x (10 us + 50 ppb of the time since the reference point) */
	CU_ASSERT(w >= 20000 && w < 20000 + 200000);
}

static bool no_bound(const struct vtime_bounded *b)
{
	return b->earliest_ns == 0 && b->latest_ns == UINT64_MAX && !vtime_bounded_after(b, 1) &&
	       !vtime_bounded_before(b, UINT64_MAX - 1);
}

static void test_synchronized_and_helpers(void)
{
	struct vtime_vmclock_abi body;
	struct vtime_bounded b;
	struct vtime_bounded_info bi;
	uint64_t t0, t1;

	start(VT_TEST_COUNTER_ID, VTIME_VMCLOCK_TIME_UTC);
	body_now(&body, VTIME_VMCLOCK_STATUS_SYNCHRONIZED, 0);
	(void)vtime_vmclock_publish(&page.abi, &body, 0);
	reanchor();
	(void)vtime_bounded_now(); /* initialises */
	t0 = realtime();
	b = vtime_bounded_now();
	t1 = realtime();
	CU_ASSERT_EQUAL(b.source, VTIME_BOUND_SOURCE_VMCLOCK);
	CU_ASSERT_EQUAL(b.status, VTIME_BOUND_SYNCHRONIZED);
	holds(&b, t0, t1, "synchronized");
	CU_ASSERT(vtime_bounded_after(&b, b.earliest_ns - 1));
	CU_ASSERT(!vtime_bounded_after(&b, b.earliest_ns));
	CU_ASSERT(vtime_bounded_before(&b, b.latest_ns + 1));
	CU_ASSERT(!vtime_bounded_before(&b, b.latest_ns));
	CU_ASSERT_EQUAL_FATAL(vtime_bounded_info(&bi), 0);
	CU_ASSERT_STRING_EQUAL(bi.vmclock, "test page");
	CU_ASSERT_EQUAL(bi.source, VTIME_BOUND_SOURCE_VMCLOCK);
	CU_ASSERT(bi.vmclock_maxerror_ns >= 10000 && bi.vmclock_maxerror_ns < 100000);
	CU_ASSERT_EQUAL(bi.disruptions, 0);
	/* no TAI offset on a UTC page: the TAI interval is unknown */
	b = vtime_bounded_tai_now();
	CU_ASSERT_EQUAL(b.status, VTIME_BOUND_UNKNOWN);
	CU_ASSERT(no_bound(&b));

	/* the host lost its reference: free-running, still holding */
	body_now(&body, VTIME_VMCLOCK_STATUS_FREERUNNING, 0);
	(void)vtime_vmclock_publish(&page.abi, &body, 0);
	t0 = realtime();
	b = vtime_bounded_now();
	t1 = realtime();
	CU_ASSERT_EQUAL(b.status, VTIME_BOUND_FREE_RUNNING);
	CU_ASSERT_EQUAL(b.source, VTIME_BOUND_SOURCE_VMCLOCK);
	holds(&b, t0, t1, "free-running");
}

/* A disruption of kind ev seen while another thread maintains: UNKNOWN,
 * then the new page's status once the clock re-anchors. */
static void disrupt(unsigned ev, const char *what)
{
	struct vtime_vmclock_abi body;
	struct vtime_bounded b;
	uint64_t t0, t1;

	CU_ASSERT_EQUAL_FATAL(vt_clock_test_lock(), 0);
	body_now(&body, VTIME_VMCLOCK_STATUS_SYNCHRONIZED, 0);
	(void)vtime_vmclock_publish(&page.abi, &body, ev);
	b = vtime_bounded_now();
	printf("\n  %-28s status %u while not re-anchored", what, b.status);
	CU_ASSERT_EQUAL(b.status, VTIME_BOUND_UNKNOWN);
	CU_ASSERT(no_bound(&b));
	b = vtime_bounded_now(); /* still: nobody re-anchored */
	CU_ASSERT_EQUAL(b.status, VTIME_BOUND_UNKNOWN);
	vt_clock_test_unlock();
	t0 = realtime();
	b = vtime_bounded_now(); /* takes the lock: re-anchors on the new page */
	t1 = realtime();
	CU_ASSERT_EQUAL(b.status, VTIME_BOUND_SYNCHRONIZED);
	CU_ASSERT_EQUAL(b.source, VTIME_BOUND_SOURCE_VMCLOCK);
	holds(&b, t0, t1, "re-anchored");
}

static void test_disruption_unknown_until_reanchored(void)
{
	struct vtime_vmclock_abi body;
	struct vtime_bounded_info bi;

	start(VT_TEST_COUNTER_ID, VTIME_VMCLOCK_TIME_UTC);
	body_now(&body, VTIME_VMCLOCK_STATUS_SYNCHRONIZED, 0);
	(void)vtime_vmclock_publish(&page.abi, &body, 0);
	reanchor();
	CU_ASSERT_EQUAL(vtime_bounded_now().status, VTIME_BOUND_SYNCHRONIZED);

	disrupt(VTIME_VMCLOCK_EV_DISRUPTED, "live migration");
	CU_ASSERT_EQUAL_FATAL(vtime_bounded_info(&bi), 0);
	CU_ASSERT_EQUAL(bi.disruptions, 1);
	CU_ASSERT_EQUAL(bi.generations, 0);

	disrupt(VTIME_VMCLOCK_EV_NEW_GENERATION, "snapshot restore");
	CU_ASSERT_EQUAL_FATAL(vtime_bounded_info(&bi), 0);
	CU_ASSERT_EQUAL(bi.disruptions, 2);
	CU_ASSERT_EQUAL(bi.generations, 1);

	/* a routine update (no event) is no disruption */
	body_now(&body, VTIME_VMCLOCK_STATUS_SYNCHRONIZED, 0);
	(void)vtime_vmclock_publish(&page.abi, &body, 0);
	CU_ASSERT_EQUAL(vtime_bounded_now().status, VTIME_BOUND_SYNCHRONIZED);
	CU_ASSERT_EQUAL_FATAL(vtime_bounded_info(&bi), 0);
	CU_ASSERT_EQUAL(bi.disruptions, 2);
}

static void test_tai(void)
{
	struct vtime_vmclock_abi body;
	struct vtime_bounded u, t;

	start(VT_TEST_COUNTER_ID, VTIME_VMCLOCK_TIME_TAI);
	body_now(&body, VTIME_VMCLOCK_STATUS_SYNCHRONIZED, 37);
	(void)vtime_vmclock_publish(&page.abi, &body, 0);
	reanchor();
	(void)vtime_bounded_now();
	u = vtime_bounded_now();
	t = vtime_bounded_tai_now();
	CU_ASSERT_EQUAL(u.status, VTIME_BOUND_SYNCHRONIZED);
	CU_ASSERT_EQUAL(t.status, VTIME_BOUND_SYNCHRONIZED);
	CU_ASSERT(t.earliest_ns - u.earliest_ns > 37000000000ull - 10000000u &&
		  t.earliest_ns - u.earliest_ns < 37000000000ull + 10000000u);
}

static void test_not_the_source(void)
{
	struct vtime_vmclock_abi body;
	struct vtime_bounded b;
	struct vtime_bounded_info bi;

	/* UNRELIABLE: the kernel is the source */
	start(VT_TEST_COUNTER_ID, VTIME_VMCLOCK_TIME_UTC);
	body_now(&body, VTIME_VMCLOCK_STATUS_UNRELIABLE, 0);
	(void)vtime_vmclock_publish(&page.abi, &body, 0);
	reanchor();
	b = vtime_bounded_now();
	CU_ASSERT_NOT_EQUAL(b.source, VTIME_BOUND_SOURCE_VMCLOCK);
	CU_ASSERT_EQUAL_FATAL(vtime_bounded_info(&bi), 0);
	printf("\n  UNRELIABLE page: source %u, %s", bi.source, bi.why);
	CU_ASSERT(bi.source == VTIME_BOUND_SOURCE_KERNEL || bi.source == VTIME_BOUND_SOURCE_NONE);

	/* marker-only (QEMU's kind): no time, but its marker still counts; on
	 * the kernel source a disruption is DISRUPTED until the kernel measures
	 * again (here it never does) */
	start(VTIME_VMCLOCK_COUNTER_INVALID, VTIME_VMCLOCK_TIME_UTC);
	memset(&body, 0, sizeof body);
	(void)vtime_vmclock_publish(&page.abi, &body, 0);
	reanchor();
	b = vtime_bounded_now();
	CU_ASSERT_NOT_EQUAL(b.source, VTIME_BOUND_SOURCE_VMCLOCK);
	CU_ASSERT_EQUAL_FATAL(vtime_bounded_info(&bi), 0);
	if (bi.source != VTIME_BOUND_SOURCE_KERNEL) {
		printf("\n  adjtimex refused here: no kernel source, the DISRUPTED case is not checked");
		return;
	}
	(void)vtime_vmclock_publish(&page.abi, &body, VTIME_VMCLOCK_EV_DISRUPTED);
	for (int i = 0; i < 3; i++) /* the change seen, then re-anchored on the kernel */
		b = vtime_bounded_now();
	CU_ASSERT_EQUAL_FATAL(vtime_bounded_info(&bi), 0);
	printf("\n  marker-only page disrupted: status %u, %s", b.status, bi.why);
	CU_ASSERT_EQUAL(bi.disruptions, 1);
	CU_ASSERT_EQUAL(b.status, VTIME_BOUND_DISRUPTED);
	CU_ASSERT_EQUAL(b.source, VTIME_BOUND_SOURCE_KERNEL);
	CU_ASSERT(no_bound(&b));
	vt_clock_test_vmclock(NULL);
}

/* The predicates are pure: on intervals built here, each status. */
static void test_predicates(void)
{
	static const uint32_t none[] = { VTIME_BOUND_UNKNOWN, VTIME_BOUND_DISRUPTED, 7 };
	struct vtime_bounded b = { 100, 200, VTIME_BOUND_SYNCHRONIZED, VTIME_BOUND_SOURCE_KERNEL };

	CU_ASSERT(vtime_bounded_after(&b, 99) && !vtime_bounded_after(&b, 100));
	CU_ASSERT(vtime_bounded_before(&b, 201) && !vtime_bounded_before(&b, 200));
	b.status = VTIME_BOUND_FREE_RUNNING;
	CU_ASSERT(vtime_bounded_after(&b, 99) && vtime_bounded_before(&b, 201));
	for (unsigned i = 0; i < sizeof none / sizeof none[0]; i++) {
		b.status = none[i]; /* no bound answers nothing, whatever its ends */
		CU_ASSERT(!vtime_bounded_after(&b, 0) && !vtime_bounded_after(&b, 99));
		CU_ASSERT(!vtime_bounded_before(&b, 201) && !vtime_bounded_before(&b, UINT64_MAX));
	}
}

int main(void)
{
#if !defined(__x86_64__) && !defined(__i386__) && !defined(__aarch64__)
	printf("SKIP: VMClock describes only the x86 TSC and the arm64 virtual counter\n");
	return 77;
#endif
	static const struct vt_test_case cases[] = {
		{ "synchronized, free-running, after/before, TAI unknown", test_synchronized_and_helpers },
		{ "disruption: unknown until re-anchored", test_disruption_unknown_until_reanchored },
		{ "TAI page", test_tai },
		{ "UNRELIABLE and marker-only pages are not the source", test_not_the_source },
		{ "after/before answer only for an interval that holds time", test_predicates },
		{ NULL, NULL },
	};
	static const struct vt_test_suite suites[] = { { "bounded", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
