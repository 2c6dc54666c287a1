/* SPDX-License-Identifier: MIT */
/* The sequence protocols of VMClock and the Hyper-V page, operation by
 * operation. vmclock.c and hyperv.c are compiled into this test with the
 * tracing atomics backend (trace_atomic.h), which logs every store and
 * barrier and can run another agent at any chosen operation:
 *  - the writers' traces: VMClock makes seq_count odd, then a write
 *    barrier, the body (every byte of it, never the constant header), a
 *    write barrier, seq_count even; Hyper-V stores sequence 0, a barrier,
 *    the body, a barrier, the new sequence;
 *  - a reader run at every operation of a writer gets the old page, the
 *    new one, or a refusal (VTIME_EAGAIN while seq_count is odd,
 *    VTIME_ENOTVALID while the sequence is 0), never a mix;
 *  - a writer run at every operation of a reader: the reader returns the
 *    old page or the new one, never a mix, and its counter value is the one
 *    read in the window it accepted. */
#include <stdbool.h>
#include <string.h>
#include <vtime/error.h>
#include <vtime/hyperv.h>
#include <vtime/vmclock.h>

#include "fake_counter.h"
#include "trace_atomic.h"
#include "vt_endian.h"
#include "vt_test.h"

struct vt_trace_op vt_trace_log[VT_TRACE_MAX];
unsigned vt_trace_len;
bool vt_trace_logging;

static void (*g_inject)(void); /* run once, before operation number g_at */
static unsigned g_ops, g_at;
static bool g_inside, g_fired;

void vt_trace_point(void)
{
	if (g_inside || !g_inject)
		return;
	if (g_ops++ == g_at) {
		bool logging = vt_trace_logging;
		g_inside = true;
		vt_trace_logging = false;
		g_inject();
		vt_trace_logging = logging;
		g_inside = false;
		g_fired = true;
	}
}

static void arm(void (*fn)(void), unsigned at)
{
	g_inject = fn;
	g_at = at;
	g_ops = 0;
	g_fired = false;
}

static void disarm(void) { g_inject = NULL; }

static void trace_start(void)
{
	vt_trace_len = 0;
	vt_trace_logging = true;
}

static void trace_stop(void) { vt_trace_logging = false; }

/* ---------------- VMClock ---------------- */

typedef struct vtime_vmclock_abi vmc_t;
static _Alignas(4096) uint8_t g_region[4096];
#define LIVE ((vmc_t *)g_region)
static vmc_t g_body_a, g_body_b, g_exp_a, g_exp_b;

static vmc_t vmc_body(uint64_t n)
{
	vmc_t b;
	memset(&b, 0, sizeof b);
	b.flags = (n * 0x9e3779b9u) & 0x2f9; /* no VM_GEN_COUNTER_PRESENT: the writer adds it */
	b.clock_status = (uint8_t)(n % 4);
	b.leap_second_smearing_hint = (uint8_t)(n % 3);
	b.tai_offset_sec = (int16_t)(37 + n);
	b.leap_indicator = (uint8_t)(n % 6);
	b.counter_period_shift = (uint8_t)(n % 40);
	b.counter_value = n * 100; /* the fake counters (from ~1000) are ahead */
	b.counter_period_frac_sec = ~n * 0x3333333333333333ull | 1;
	b.counter_period_esterror_rate_frac_sec = n * 5;
	b.counter_period_maxerror_rate_frac_sec = n * 7;
	b.time_sec = 1700000000ull + n;
	b.time_frac_sec = n * 0x5555555555555555ull;
	b.time_esterror_nanosec = n * 11;
	b.time_maxerror_nanosec = n * 13;
	return b;
}

static void vmc_setup(void)
{
	disarm();
	memset(g_region, 0, sizeof g_region);
	CU_ASSERT_EQUAL_FATAL(vtime_vmclock_init(LIVE, 4096, VTIME_VMCLOCK_COUNTER_X86_TSC, VTIME_VMCLOCK_TIME_TAI), 0);
	g_body_a = vmc_body(1);
	g_body_b = vmc_body(2);
	(void)vtime_vmclock_publish(LIVE, &g_body_a, 0);
	CU_ASSERT_EQUAL_FATAL(vtime_vmclock_snapshot(LIVE, 0, &g_exp_a), 0);
}

/* What the page holds after B is published with a disruption. */
static void vmc_expect_b(void)
{
	static _Alignas(4096) uint8_t saved[4096];
	memcpy(saved, g_region, sizeof saved);
	(void)vtime_vmclock_publish(LIVE, &g_body_b, VTIME_VMCLOCK_EV_NEW_GENERATION);
	CU_ASSERT_EQUAL_FATAL(vtime_vmclock_snapshot(LIVE, 0, &g_exp_b), 0);
	memcpy(g_region, saved, sizeof saved);
}

static void test_vmclock_writer_trace(void)
{
	const volatile uint8_t *base = g_region;
	uint8_t covered[0x70];
	unsigned n;

	vmc_setup();
	trace_start();
	(void)vtime_vmclock_publish(LIVE, &g_body_b, VTIME_VMCLOCK_EV_DISRUPTED);
	trace_stop();
	n = vt_trace_len;
	CU_ASSERT_FATAL(n > 4 && n < VT_TRACE_MAX);
	/* seq_count odd first (4 -> 5), then a write barrier */
	CU_ASSERT(vt_trace_log[0].kind == 's' && vt_trace_log[0].p == &LIVE->seq_count && vt_trace_log[0].size == 4);
	CU_ASSERT_EQUAL(vt_le32((uint32_t)vt_trace_log[0].v), 5);
	CU_ASSERT_EQUAL(vt_trace_log[1].kind, 'w');
	/* a write barrier, then seq_count even last */
	CU_ASSERT_EQUAL(vt_trace_log[n - 2].kind, 'w');
	CU_ASSERT(vt_trace_log[n - 1].kind == 's' && vt_trace_log[n - 1].p == &LIVE->seq_count);
	CU_ASSERT_EQUAL(vt_le32((uint32_t)vt_trace_log[n - 1].v), 6);
	/* between: stores only, into the body, covering all of it */
	memset(covered, 0, sizeof covered);
	for (unsigned i = 2; i < n - 2; i++) {
		const struct vt_trace_op *op = &vt_trace_log[i];
		size_t off = (size_t)((const volatile uint8_t *)op->p - base);
		CU_ASSERT_EQUAL(op->kind, 's');
		CU_ASSERT(off >= 0x10 && off + op->size <= 0x70);
		for (unsigned b = 0; b < op->size && off + b < sizeof covered; b++)
			covered[off + b] = 1;
	}
	for (size_t i = 0; i < 0x70; i++)
		CU_ASSERT_EQUAL(covered[i], i >= 0x10); /* all of the body, none of the header or seq */

	/* init: the same window, the header stored inside it */
	memset(g_region, 0, sizeof g_region);
	trace_start();
	CU_ASSERT_EQUAL(vtime_vmclock_init(LIVE, 4096, 1, 1), 0);
	trace_stop();
	n = vt_trace_len;
	CU_ASSERT(vt_trace_log[0].kind == 's' && vt_trace_log[0].p == &LIVE->seq_count &&
		  vt_le32((uint32_t)vt_trace_log[0].v) == 1);
	CU_ASSERT_EQUAL(vt_trace_log[1].kind, 'w');
	CU_ASSERT_EQUAL(vt_trace_log[n - 2].kind, 'w');
	CU_ASSERT(vt_trace_log[n - 1].p == &LIVE->seq_count && vt_le32((uint32_t)vt_trace_log[n - 1].v) == 2);
	memset(covered, 0, sizeof covered);
	for (unsigned i = 2; i < n - 2; i++) {
		size_t off = (size_t)((const volatile uint8_t *)vt_trace_log[i].p - base);
		CU_ASSERT_EQUAL(vt_trace_log[i].kind, 's');
		for (unsigned b = 0; b < vt_trace_log[i].size && off + b < sizeof covered; b++)
			covered[off + b] = 1;
	}
	for (size_t i = 0; i < 0x70; i++)
		CU_ASSERT_EQUAL(covered[i], i < 0x0c || i >= 0x10);
}

static int g_seen_a, g_seen_b, g_seen_refused, g_bad;
static struct vt_fake_counter g_fc;

static void vmc_reader_check(void)
{
	vmc_t s;
	struct vtime_vmclock_reading rd, want;
	struct vtime_counter ctr = vt_fake_counter_hook(&g_fc);
	int rc = vtime_vmclock_snapshot(LIVE, 2, &s);

	if (rc == VTIME_EAGAIN) {
		g_seen_refused++;
	} else if (rc == 0 && memcmp(&s, &g_exp_a, sizeof s) == 0) {
		g_seen_a++;
	} else if (rc == 0 && memcmp(&s, &g_exp_b, sizeof s) == 0) {
		g_seen_b++;
	} else {
		g_bad++;
	}
	rc = vtime_vmclock_read(LIVE, &ctr, 2, &rd);
	if (rc == 0) {
		const vmc_t *e = rd.seq == g_exp_a.seq_count ? &g_exp_a : &g_exp_b;
		if (vtime_vmclock_convert(e, g_fc.value - g_fc.step, &want) != 0 || memcmp(&rd, &want, sizeof rd) != 0)
			g_bad++;
	} else if (rc != VTIME_EAGAIN) {
		g_bad++;
	}
}

/* A reader at each operation of the writer. */
static void test_vmclock_reader_in_writer(void)
{
	unsigned k;

	g_seen_a = g_seen_b = g_seen_refused = g_bad = 0;
	memset(&g_fc, 0, sizeof g_fc);
	g_fc.value = 12345;
	g_fc.step = 7;
	for (k = 0;; k++) {
		vmc_setup();
		vmc_expect_b();
		arm(vmc_reader_check, k);
		(void)vtime_vmclock_publish(LIVE, &g_body_b, VTIME_VMCLOCK_EV_NEW_GENERATION);
		disarm();
		if (!g_fired)
			break;
	}
	vmc_reader_check(); /* and once the writer is done */
	printf("\n  %u points: %d old, %d new, %d refused (seq odd), %d torn", k, g_seen_a, g_seen_b, g_seen_refused,
	       g_bad);
	CU_ASSERT_EQUAL(g_bad, 0);
	CU_ASSERT(g_seen_a > 0 && g_seen_b > 0 && g_seen_refused > 0);
	CU_ASSERT(k > 20);
}

static void vmc_writer_inject(void)
{
	(void)vtime_vmclock_publish(LIVE, &g_body_b, VTIME_VMCLOCK_EV_NEW_GENERATION);
}

/* The writer at each operation of a reader. */
static void test_vmclock_writer_in_reader(void)
{
	int seen_a = 0, seen_b = 0, bad = 0;
	unsigned k;

	for (int with_counter = 0; with_counter < 2; with_counter++) {
		for (k = 0;; k++) {
			struct vt_fake_counter fc = { 1000, 3, 0, NULL, NULL };
			struct vtime_counter ctr = vt_fake_counter_hook(&fc);
			struct vtime_vmclock_reading rd, want;
			vmc_t s;
			int rc;

			vmc_setup();
			vmc_expect_b();
			arm(vmc_writer_inject, k);
			if (with_counter) {
				rc = vtime_vmclock_read(LIVE, &ctr, 0, &rd);
				disarm();
				if (rc == 0 && (rd.seq == g_exp_a.seq_count || rd.seq == g_exp_b.seq_count)) {
					const vmc_t *e = rd.seq == g_exp_a.seq_count ? &g_exp_a : &g_exp_b;
					/* the counter of the last window: the one accepted */
					CU_ASSERT_EQUAL(rd.counter, fc.value - fc.step);
					CU_ASSERT_EQUAL(vtime_vmclock_convert(e, rd.counter, &want), 0);
					if (memcmp(&rd, &want, sizeof rd) == 0)
						e == &g_exp_a ? seen_a++ : seen_b++;
					else
						bad++;
				} else {
					bad++;
				}
			} else {
				rc = vtime_vmclock_snapshot(LIVE, 0, &s);
				disarm();
				if (rc == 0 && memcmp(&s, &g_exp_a, sizeof s) == 0)
					seen_a++;
				else if (rc == 0 && memcmp(&s, &g_exp_b, sizeof s) == 0)
					seen_b++;
				else
					bad++;
			}
			if (!g_fired)
				break;
		}
	}
	printf("\n  %d old, %d new, %d torn", seen_a, seen_b, bad);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(seen_a > 1 && seen_b > 20);
}

/* ---------------- Hyper-V ---------------- */

static _Alignas(4096) struct vtime_hv_tsc_page g_page;
static uint32_t g_hv_seq;

static void hv_setup(void)
{
	disarm();
	memset(&g_page, 0, sizeof g_page);
	g_hv_seq = 0;
	g_hv_seq = vtime_hv_tsc_page_publish(&g_page, 0xaaaaaaaaaaaaaaaaull, -0x1111, g_hv_seq);
}

static void test_hyperv_writer_trace(void)
{
	const volatile uint8_t *base = (const volatile uint8_t *)&g_page;
	unsigned n;

	hv_setup();
	trace_start();
	g_hv_seq = vtime_hv_tsc_page_publish(&g_page, 0xbbbbbbbbbbbbbbbbull, -0x2222, g_hv_seq);
	trace_stop();
	n = vt_trace_len;
	CU_ASSERT_FATAL(n == 7);
	/* 0 first, a barrier, the body, a barrier, the next sequence (1 -> 2) */
	CU_ASSERT(vt_trace_log[0].kind == 's' && vt_trace_log[0].p == &g_page.tsc_sequence && vt_trace_log[0].v == 0);
	CU_ASSERT_EQUAL(vt_trace_log[1].kind, 'w');
	for (unsigned i = 2; i < 5; i++) {
		size_t off = (size_t)((const volatile uint8_t *)vt_trace_log[i].p - base);
		CU_ASSERT(vt_trace_log[i].kind == 's' && off >= 4 && off + vt_trace_log[i].size <= 24);
	}
	CU_ASSERT_EQUAL(vt_trace_log[5].kind, 'w');
	CU_ASSERT(vt_trace_log[6].kind == 's' && vt_trace_log[6].p == &g_page.tsc_sequence &&
		  vt_le32((uint32_t)vt_trace_log[6].v) == 2);
	/* invalidate: 0 and nothing else */
	trace_start();
	g_hv_seq = vtime_hv_tsc_page_invalidate(&g_page, g_hv_seq);
	trace_stop();
	for (unsigned i = 0; i < vt_trace_len; i++)
		CU_ASSERT(vt_trace_log[i].kind != 's' || (vt_trace_log[i].p == &g_page.tsc_sequence && vt_trace_log[i].v == 0));
	CU_ASSERT_EQUAL(g_hv_seq, 2);
}

static void hv_reader_check(void)
{
	struct vtime_hv_tsc_reading rd;
	struct vtime_counter ctr = vt_fake_counter_hook(&g_fc);
	int rc = vtime_hv_tsc_page_read(&g_page, &ctr, 2, &rd);

	if (rc == VTIME_ENOTVALID)
		g_seen_refused++;
	else if (rc == 0 && rd.sequence == 1 && rd.tsc_scale == 0xaaaaaaaaaaaaaaaaull && rd.tsc_offset == -0x1111)
		g_seen_a++;
	else if (rc == 0 && rd.sequence == 2 && rd.tsc_scale == 0xbbbbbbbbbbbbbbbbull && rd.tsc_offset == -0x2222)
		g_seen_b++;
	else
		g_bad++;
	if (rc == 0 && (rd.tsc != g_fc.value - g_fc.step ||
			rd.time != vtime_hv_tsc_page_time(rd.tsc_scale, rd.tsc_offset, rd.tsc)))
		g_bad++;
}

static void test_hyperv_reader_in_writer(void)
{
	unsigned k;

	g_seen_a = g_seen_b = g_seen_refused = g_bad = 0;
	memset(&g_fc, 0, sizeof g_fc);
	g_fc.value = 99;
	g_fc.step = 5;
	for (k = 0;; k++) {
		hv_setup();
		arm(hv_reader_check, k);
		g_hv_seq = vtime_hv_tsc_page_publish(&g_page, 0xbbbbbbbbbbbbbbbbull, -0x2222, g_hv_seq);
		disarm();
		if (!g_fired)
			break;
	}
	hv_reader_check(); /* and once the writer is done */
	printf("\n  %u points: %d old, %d new, %d refused (sequence 0), %d torn", k, g_seen_a, g_seen_b,
	       g_seen_refused, g_bad);
	CU_ASSERT_EQUAL(g_bad, 0);
	CU_ASSERT(g_seen_a > 0 && g_seen_b > 0 && g_seen_refused >= 4); /* the three body stores and the barrier */
}

static int g_hv_inject_mode;

static void hv_writer_inject(void)
{
	if (g_hv_inject_mode == 0)
		g_hv_seq = vtime_hv_tsc_page_publish(&g_page, 0xbbbbbbbbbbbbbbbbull, -0x2222, g_hv_seq);
	else
		g_hv_seq = vtime_hv_tsc_page_invalidate(&g_page, g_hv_seq);
}

static void test_hyperv_writer_in_reader(void)
{
	int seen_a = 0, seen_b = 0, refused = 0, bad = 0;

	for (g_hv_inject_mode = 0; g_hv_inject_mode < 2; g_hv_inject_mode++) {
		for (unsigned k = 0;; k++) {
			struct vt_fake_counter fc = { 1000, 3, 0, NULL, NULL };
			struct vtime_counter ctr = vt_fake_counter_hook(&fc);
			struct vtime_hv_tsc_reading rd;
			int rc;

			hv_setup();
			arm(hv_writer_inject, k);
			rc = vtime_hv_tsc_page_read(&g_page, &ctr, 0, &rd);
			disarm();
			if (rc == 0 && rd.sequence == 1 && rd.tsc_scale == 0xaaaaaaaaaaaaaaaaull && rd.tsc_offset == -0x1111)
				seen_a++;
			else if (rc == 0 && g_hv_inject_mode == 0 && rd.sequence == 2 &&
				 rd.tsc_scale == 0xbbbbbbbbbbbbbbbbull && rd.tsc_offset == -0x2222)
				seen_b++;
			else if (rc == VTIME_ENOTVALID && g_hv_inject_mode == 1)
				refused++;
			else
				bad++;
			if (rc == 0 && rd.tsc != fc.value - fc.step)
				bad++;
			if (!g_fired)
				break;
		}
	}
	printf("\n  %d old, %d new, %d refused (invalidated), %d torn", seen_a, seen_b, refused, bad);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(seen_a > 0 && seen_b > 0 && refused > 0);
}

static const struct vt_test_case cases[] = {
	{ "VMClock writer: seq odd, barrier, whole body, barrier, seq even", test_vmclock_writer_trace },
	{ "VMClock: a reader at every step of the writer", test_vmclock_reader_in_writer },
	{ "VMClock: the writer at every step of a reader", test_vmclock_writer_in_reader },
	{ "Hyper-V writer: 0, barrier, body, barrier, next sequence", test_hyperv_writer_trace },
	{ "Hyper-V: a reader at every step of the writer", test_hyperv_reader_in_writer },
	{ "Hyper-V: the writer (publish, invalidate) at every step of a reader", test_hyperv_writer_in_reader },
	{ NULL, NULL },
};

int main(void)
{
	const struct vt_test_suite suites[] = { { "protocol", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
