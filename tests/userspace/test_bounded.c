/* SPDX-License-Identifier: MIT */
/* Time with an error bound (include/vtime/clock.h, "time with an error
 * bound"; docs/userspace.md, "Bounded time"), on whatever this machine
 * offers (the kernel source here: no /dev/vmclock0):
 *   - the first call needs no initialisation; every interval is well formed:
 *     earliest <= latest, a known status and source; UNKNOWN and DISRUPTED
 *     are exactly [0, UINT64_MAX];
 *   - on the kernel source a SYNCHRONIZED or FREE_RUNNING interval holds
 *     CLOCK_REALTIME as read just before and just after the call (the
 *     bound is the kernel's maxerror plus vtime's tracking term around
 *     vtime_realtime_ns());
 *   - vtime_bounded_after() / _before() are TrueTime's (t < earliest,
 *     t > latest), false for UNKNOWN and DISRUPTED, at every edge;
 *   - TAI: UNKNOWN or the UTC interval moved by the offset in use;
 *   - vtime_bounded_info() agrees (source, reserved zero, a reason given,
 *     a half width exactly when there is a bound);
 *   - async-signal-safe: handlers that call vtime_bounded_now() (and the
 *     interval form, vtime_interval_now()) interrupt
 *     vtime_bounded_info() (which takes the maintenance lock) and each other
 *     without a deadlock (a hang fails the test by its timeout);
 *   - on a VMClock page the test publishes with vtime's writer
 *     (vt_clock_test_vmclock, every real page hidden): the interval is the
 *     page's time at the counter read +- its maxerror there, the status the
 *     page's (SYNCHRONIZED, FREERUNNING), TAI from its offset, UNRELIABLE
 *     not used; disruptions and generations counted once each. */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <vtime/clock.h>
#include <vtime/vmclock.h>

#include "vt_clock.h"
#include "vt_test.h"
#include "vt_user_counter.h"

static uint64_t realtime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool known(uint32_t status)
{
	return status == VTIME_BOUND_SYNCHRONIZED || status == VTIME_BOUND_FREE_RUNNING;
}

static int well_formed(const struct vtime_bounded *b)
{
	if (b->status > VTIME_BOUND_DISRUPTED || b->source > VTIME_BOUND_SOURCE_KERNEL)
		return 0;
	if (!known(b->status))
		return b->earliest_ns == 0 && b->latest_ns == UINT64_MAX;
	return b->earliest_ns <= b->latest_ns;
}

static void test_intervals(void)
{
	unsigned counts[4] = { 0 }, outside = 0, bad = 0;
	uint64_t widest = 0;

	/* the first vtime call of the process */
	for (int i = 0; i < 20000; i++) {
		uint64_t t1 = realtime();
		struct vtime_bounded b = vtime_bounded_now();
		uint64_t t2 = realtime();

		if (!well_formed(&b)) {
			if (bad++ < 3)
				printf("\n  ill-formed: [%llu, %llu] status %u source %u", (unsigned long long)b.earliest_ns,
				       (unsigned long long)b.latest_ns, b.status, b.source);
			continue;
		}
		counts[b.status]++;
		if (!known(b.status))
			continue;
		if (b.latest_ns - b.earliest_ns > widest)
			widest = b.latest_ns - b.earliest_ns;
		if (b.source == VTIME_BOUND_SOURCE_KERNEL && (b.earliest_ns > t2 || b.latest_ns < t1)) {
			if (outside++ < 3)
				printf("\n  CLOCK_REALTIME [%llu, %llu] outside [%llu, %llu]", (unsigned long long)t1,
				       (unsigned long long)t2, (unsigned long long)b.earliest_ns,
				       (unsigned long long)b.latest_ns);
		}
	}
	printf("\n  20000 intervals: %u unknown, %u synchronized, %u free-running, %u disrupted; widest %.3f ms",
	       counts[0], counts[1], counts[2], counts[3], widest / 1e6);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(outside, 0);
}

static void test_after_before(void)
{
	static const uint32_t st[] = { VTIME_BOUND_UNKNOWN, VTIME_BOUND_SYNCHRONIZED, VTIME_BOUND_FREE_RUNNING,
				       VTIME_BOUND_DISRUPTED };
	static const uint64_t lo[] = { 0, 1, 1000, UINT64_MAX - 1, UINT64_MAX };

	for (unsigned s = 0; s < 4; s++)
		for (unsigned i = 0; i < 5; i++)
			for (unsigned j = i; j < 5; j++) {
				struct vtime_bounded b = { lo[i], lo[j], st[s], VTIME_BOUND_SOURCE_KERNEL };
				for (unsigned k = 0; k < 5; k++)
					for (int e = -1; e <= 1; e++) {
						uint64_t t = lo[k] + (uint64_t)(int64_t)e;
						CU_ASSERT_EQUAL(vtime_bounded_after(&b, t), known(st[s]) && t < b.earliest_ns);
						CU_ASSERT_EQUAL(vtime_bounded_before(&b, t), known(st[s]) && t > b.latest_ns);
					}
			}
	/* on a live interval: what passed before the call has passed, what is a
	 * second beyond its end has not come (for a bound narrower than that) */
	{
		struct vtime_bounded b = vtime_bounded_now();
		if (known(b.status)) {
			CU_ASSERT(vtime_bounded_after(&b, b.earliest_ns - 1) || b.earliest_ns == 0);
			CU_ASSERT(!vtime_bounded_after(&b, b.earliest_ns));
			CU_ASSERT(!vtime_bounded_before(&b, b.latest_ns));
			CU_ASSERT(vtime_bounded_before(&b, b.latest_ns + 1) || b.latest_ns == UINT64_MAX);
		} else {
			CU_ASSERT(!vtime_bounded_after(&b, 0) && !vtime_bounded_before(&b, UINT64_MAX));
		}
	}
}

static void test_tai(void)
{
	struct vtime_bounded_info info;
	unsigned shown = 0, bad = 0, known_n = 0;

	for (int i = 0; i < 2000; i++) {
		uint64_t t1 = realtime();
		struct vtime_bounded tai = vtime_bounded_tai_now();
		uint64_t t2 = realtime();

		CU_ASSERT_FATAL(vtime_bounded_info(&info) == 0);
		if (!well_formed(&tai)) {
			bad++;
			continue;
		}
		if (!known(tai.status))
			continue;
		known_n++;
		/* a known TAI interval needs TAI - UTC from somewhere */
		if (info.tai_offset_s == 0) {
			bad++;
			continue;
		}
		if (tai.source == VTIME_BOUND_SOURCE_KERNEL) {
			uint64_t off = (uint64_t)info.tai_offset_s * 1000000000u;
			if (tai.earliest_ns - off > t2 || tai.latest_ns - off < t1) {
				bad++;
				if (shown++ < 3)
					printf("\n  TAI [%llu, %llu] - %lld s misses CLOCK_REALTIME [%llu, %llu]",
					       (unsigned long long)tai.earliest_ns, (unsigned long long)tai.latest_ns,
					       (long long)info.tai_offset_s, (unsigned long long)t1, (unsigned long long)t2);
			}
		}
	}
	printf("\n  TAI: %u of 2000 intervals known (TAI - UTC %lld s)", known_n, (long long)info.tai_offset_s);
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_info(void)
{
	struct vtime_bounded_info info;
	struct vtime_bounded b;

	memset(&info, 0x5a, sizeof info);
	CU_ASSERT_EQUAL(vtime_bounded_info((struct vtime_bounded_info *)0), VTIME_EINVAL);
	CU_ASSERT_EQUAL_FATAL(vtime_bounded_info(&info), 0);
	b = vtime_bounded_now();
	printf("\n  source %u status %u: %s; half width %llu ns", info.source, info.status, info.why,
	       (unsigned long long)info.half_width_ns);
	CU_ASSERT(info.source <= VTIME_BOUND_SOURCE_KERNEL && info.status <= VTIME_BOUND_DISRUPTED);
	CU_ASSERT_EQUAL(info.source, b.source);
	CU_ASSERT(info.why[0] != '\0' && memchr(info.why, '\0', sizeof info.why) != NULL);
	CU_ASSERT(info.vmclock != NULL && info.page_watch != NULL);
	for (unsigned i = 0; i < sizeof info.reserved / sizeof info.reserved[0]; i++)
		CU_ASSERT_EQUAL(info.reserved[i], 0);
	CU_ASSERT_EQUAL(known(info.status), info.half_width_ns != UINT64_MAX);
}

static volatile sig_atomic_t in_handler, handled, handler_bad;

static void on_alarm(int sig)
{
	struct vtime_bounded b = vtime_bounded_now();
	struct vtime_bounded t = vtime_bounded_tai_now();
	uint32_t st = UINT32_MAX;
	struct vtime_interval iv = vtime_interval_now(&st);

	(void)sig;
	in_handler = 1;
	if (!well_formed(&b) || !well_formed(&t) || st > VTIME_BOUND_DISRUPTED || iv.earliest_ns > iv.latest_ns ||
	    (!known(st) && (iv.earliest_ns != 0 || iv.latest_ns != UINT64_MAX)))
		handler_bad = 1;
	handled = handled + 1;
	in_handler = 0;
}

static void test_signal_safe(void)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 50 }, { 0, 50 } }, off = { { 0, 0 }, { 0, 0 } };
	struct vtime_bounded_info info;
	unsigned long loops = 0;
	uint64_t t0 = realtime();

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART | SA_NODEFER; /* handlers interrupt handlers too */
	sigemptyset(&sa.sa_mask);
	CU_ASSERT_FATAL(sigaction(SIGALRM, &sa, NULL) == 0);
	CU_ASSERT_FATAL(setitimer(ITIMER_REAL, &it, NULL) == 0);
	while (realtime() - t0 < 500000000u) { /* 0.5 s of maintenance under signals */
		CU_ASSERT_FATAL(vtime_bounded_info(&info) == 0);
		(void)vtime_bounded_now();
		loops++;
	}
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_DFL);
	printf("\n  %lu info calls, %d handlers ran inside them", loops, (int)handled);
	CU_ASSERT(handled > 0);
	CU_ASSERT_EQUAL(handler_bad, 0);
}

/* ---- on a VMClock page ---- */

#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)
#define HAVE_VMC_COUNTER 1
#if defined(__aarch64__)
#define VMC_COUNTER VTIME_VMCLOCK_COUNTER_ARM_VCNT
#else
#define VMC_COUNTER VTIME_VMCLOCK_COUNTER_X86_TSC
#endif
#endif

#ifdef HAVE_VMC_COUNTER
static struct vtime_vmclock_abi vmc __attribute__((aligned(4096)));

static uint64_t mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t measure_hz(void)
{
	uint64_t c0 = vt_ctr_ordered(), m0 = mono(), c1, m1;
	struct timespec ts = { 0, 50000000 };

	nanosleep(&ts, NULL);
	c1 = vt_ctr_ordered();
	m1 = mono();
	return (uint64_t)((double)(c1 - c0) * 1e9 / (double)(m1 - m0));
}

/* publishes the page for now: realtime at the counter, errors as given */
static void vmc_publish(uint64_t hz, uint8_t status, unsigned events)
{
	struct vtime_vmclock_abi b;
	uint64_t c = vt_ctr_ordered(), rt = realtime();

	memset(&b, 0, sizeof b);
	CU_ASSERT_FATAL(vtime_vmclock_set_period(&b, hz, 200, 50) == 0);
	CU_ASSERT_FATAL(vtime_vmclock_set_time(&b, c, rt / 1000000000u, (uint32_t)(rt % 1000000000u), 20000, 5000) == 0);
	b.clock_status = status;
	b.tai_offset_sec = 37;
	b.flags |= VTIME_VMCLOCK_FLAG_TAI_OFFSET_VALID;
	(void)vtime_vmclock_publish(&vmc, &b, events);
}

static uint64_t vmc_ns(const struct vtime_vmclock_abi *s, uint64_t c)
{
	uint64_t sec = 0;
	uint32_t nsec = 0;
	CU_ASSERT(vtime_vmclock_time(s, c, &sec, &nsec) == 0);
	return sec * 1000000000u + nsec;
}

/* n calls: the interval is the page's at a counter read inside the call */
static unsigned vmc_check(unsigned n, uint32_t want_status, uint64_t shift_ns)
{
	struct vtime_vmclock_abi s;
	unsigned bad = 0;

	CU_ASSERT_FATAL(vtime_vmclock_snapshot(&vmc, 0, &s) == 0);
	for (unsigned i = 0; i < n; i++) {
		uint64_t c1 = vt_ctr_ordered();
		struct vtime_bounded b = shift_ns ? vtime_bounded_tai_now() : vtime_bounded_now();
		uint64_t c2 = vt_ctr_ordered();
		uint64_t t1 = vmc_ns(&s, c1) + shift_ns, t2 = vmc_ns(&s, c2) + shift_ns;
		uint64_t e1 = vtime_vmclock_maxerror(&s, c1), e2 = vtime_vmclock_maxerror(&s, c2);
		const uint64_t slack = 2; /* ns rounding of the two conversions */

		if (b.source != VTIME_BOUND_SOURCE_VMCLOCK || b.status != want_status ||
		    b.earliest_ns + slack < t1 - e2 || b.earliest_ns > t2 - e1 + slack ||
		    b.latest_ns + slack < t1 + e1 || b.latest_ns > t2 + e2 + slack) {
			if (bad++ < 3)
				printf("\n  [%llu, %llu] status %u source %u; page: [%llu - %llu, %llu + %llu]",
				       (unsigned long long)b.earliest_ns, (unsigned long long)b.latest_ns, b.status,
				       b.source, (unsigned long long)t1, (unsigned long long)e2, (unsigned long long)t2,
				       (unsigned long long)e2);
		}
	}
	return bad;
}

static void test_vmclock_page(void)
{
	struct vtime_bounded_info bi;
	struct vtime_bounded b;
	uint64_t hz = measure_hz(), d0, g0;

	CU_ASSERT_FATAL(vtime_vmclock_init(&vmc, sizeof vmc, VMC_COUNTER, VTIME_VMCLOCK_TIME_UTC) == 0);
	vmc_publish(hz, VTIME_VMCLOCK_STATUS_SYNCHRONIZED, 0);
	vt_clock_test_no_pages(true);
	vt_clock_test_vmclock(&vmc);
	vt_clock_reset();
	CU_ASSERT_EQUAL_FATAL(vtime_bounded_info(&bi), 0);
	printf("\n  %u Hz counter; source %u status %u: %s (page %s, half width %llu ns)", (unsigned)hz, bi.source,
	       bi.status, bi.why, bi.vmclock, (unsigned long long)bi.half_width_ns);
	CU_ASSERT_EQUAL(bi.source, VTIME_BOUND_SOURCE_VMCLOCK);
	CU_ASSERT_STRING_EQUAL(bi.vmclock, "test page");
	CU_ASSERT_EQUAL(vmc_check(2000, VTIME_BOUND_SYNCHRONIZED, 0), 0);
	CU_ASSERT_EQUAL(vmc_check(200, VTIME_BOUND_SYNCHRONIZED, 37000000000ull), 0);

	/* the host lost its reference: FREE_RUNNING, the same bound rules */
	vmc_publish(hz, VTIME_VMCLOCK_STATUS_FREERUNNING, 0);
	(void)vtime_bounded_info(&bi);
	CU_ASSERT_EQUAL(vmc_check(500, VTIME_BOUND_FREE_RUNNING, 0), 0);

	/* a disruption, then a new generation: each counted once */
	vmc_publish(hz, VTIME_VMCLOCK_STATUS_SYNCHRONIZED, 0);
	CU_ASSERT_EQUAL_FATAL(vtime_bounded_info(&bi), 0);
	d0 = bi.disruptions;
	g0 = bi.generations;
	vmc_publish(hz, VTIME_VMCLOCK_STATUS_SYNCHRONIZED, VTIME_VMCLOCK_EV_DISRUPTED);
	for (int i = 0; i < 100; i++)
		b = vtime_bounded_now();
	CU_ASSERT_EQUAL_FATAL(vtime_bounded_info(&bi), 0);
	CU_ASSERT(bi.disruptions == d0 + 1 && bi.generations == g0);
	vmc_publish(hz, VTIME_VMCLOCK_STATUS_SYNCHRONIZED, VTIME_VMCLOCK_EV_NEW_GENERATION);
	for (int i = 0; i < 100; i++)
		b = vtime_bounded_now();
	CU_ASSERT_EQUAL_FATAL(vtime_bounded_info(&bi), 0);
	printf("\n  disruptions %llu -> %llu, generations %llu -> %llu", (unsigned long long)d0,
	       (unsigned long long)bi.disruptions, (unsigned long long)g0, (unsigned long long)bi.generations);
	CU_ASSERT(bi.disruptions == d0 + 2 && bi.generations == g0 + 1);
	CU_ASSERT_EQUAL(vmc_check(500, VTIME_BOUND_SYNCHRONIZED, 0), 0);

	/* UNRELIABLE: the page no longer vouches for a bound */
	vmc_publish(hz, VTIME_VMCLOCK_STATUS_UNRELIABLE, 0);
	(void)vtime_bounded_info(&bi);
	b = vtime_bounded_now();
	printf("\n  unreliable page: source %u status %u (%s)", b.source, b.status, bi.why);
	CU_ASSERT(b.source != VTIME_BOUND_SOURCE_VMCLOCK);
	CU_ASSERT(well_formed(&b));

	vt_clock_test_vmclock(NULL);
	vt_clock_test_no_pages(false);
	vt_clock_reset();
}
#else
static void test_vmclock_page(void)
{
	printf("\n  no counter VMClock names on this architecture: skipped");
}
#endif

static const struct vt_test_case cases[] = {
	{ "intervals well formed; the kernel's realtime inside known ones", test_intervals },
	{ "after/before are TrueTime's, false when unknown or disrupted", test_after_before },
	{ "TAI: unknown, or UTC moved by the offset in use", test_tai },
	{ "info agrees with the intervals", test_info },
	{ "handlers call it inside maintenance: no deadlock", test_signal_safe },
	{ "on a VMClock page: its time +- its maxerror, its status, events counted", test_vmclock_page },
	{ NULL, NULL },
};

int main(void)
{
	static const struct vt_test_suite suites[] = { { "bounded", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
