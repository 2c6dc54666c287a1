/* SPDX-License-Identifier: MIT */
/* VMClock and the Hyper-V page under real concurrency: a writer thread
 * publishes pages whose every field is derived from one number n (read
 * back from seq_count / tsc_sequence), reader threads check that every
 * accepted reading is exactly the page of one n, also through the
 * conversion with their own counter, and that sequences and markers never
 * go backwards. The negative control reads the same pages field by field
 * without the sequence protocol and must see torn mixes, so the check is
 * known to be able to fail. Suite 'concurrency': CI runs it under TSan.
 * Iterations: VTIME_TEST_ITERS (publishes). */
#include <pthread.h>
#include <stdbool.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <vtime/error.h>
#include <vtime/hyperv.h>
#include <vtime/vmclock.h>

#include "vt_atomic.h"
#include "vt_endian.h"
#include "vt_test.h"

#define NREADERS 2

typedef struct vtime_vmclock_abi vmc_t;

static _Alignas(4096) vmc_t g_vmc;
static _Alignas(4096) struct vtime_hv_tsc_page g_hv;
static int g_done;                   /* __atomic only */
static unsigned long g_reader_ok[NREADERS]; /* __atomic only */
static int g_abi;                    /* 0 VMClock, 1 Hyper-V */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- VMClock pages of n ---- */

#define EV_DISRUPT(n) ((n) % 7 == 0)
#define EV_GEN(n) ((n) % 31 == 0)

static vmc_t vmc_body(uint64_t n)
{
	vmc_t b;
	memset(&b, 0, sizeof b);
	b.flags = (n * 0x9e3779b9u) & 0x2f9; /* never VM_GEN_COUNTER_PRESENT: the writer adds it */
	b.clock_status = (uint8_t)(n % 4);
	b.leap_second_smearing_hint = (uint8_t)(n % 3);
	b.tai_offset_sec = (int16_t)(n * 7);
	b.leap_indicator = (uint8_t)(n % 6);
	b.counter_period_shift = (uint8_t)(n % 40);
	b.counter_value = n * 1000;
	b.counter_period_frac_sec = ((n * 0x9e3779b97f4a7c15ull) >> 8) | 1; /* <= 2^-8 s per tick: no VTIME_ERANGE */
	b.counter_period_esterror_rate_frac_sec = n * 3;
	b.counter_period_maxerror_rate_frac_sec = n * 5;
	b.time_sec = 1700000000ull + n;
	b.time_frac_sec = ~(n * 0xc2b2ae3d27d4eb4full);
	b.time_esterror_nanosec = n * 11;
	b.time_maxerror_nanosec = n * 13;
	return b;
}

/* The whole snapshot after the n-th publish (n >= 1) on the initialised page. */
static vmc_t vmc_expected(uint64_t n)
{
	vmc_t e = vmc_body(n);
	uint64_t marker = n / 7 + n / 31 - n / 217; /* publishes 1..n with an event */
	e.magic = VTIME_VMCLOCK_MAGIC;
	e.size = sizeof g_vmc;
	e.version = 1;
	e.counter_id = VTIME_VMCLOCK_COUNTER_X86_TSC;
	e.time_type = VTIME_VMCLOCK_TIME_TAI;
	e.seq_count = (uint32_t)(2 + 2 * n);
	e.disruption_marker = marker;
	e.vm_generation_counter = n / 31;
	if (n >= 31)
		e.flags |= VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT;
	return e;
}

/* ---- Hyper-V pages of n ---- */

static uint64_t hv_scale(uint64_t n) { return n * 0x9e3779b97f4a7c15ull; }
static int64_t hv_offset(uint64_t n) { return -(int64_t)(n * 2654435761u); }

struct writer_stats {
	unsigned long publishes, invalidations;
};

static void *writer(void *arg)
{
	struct writer_stats *ws = arg;
	unsigned long n_max = vt_test_iters(200000);
	double start = now_s(), deadline = start + 60;
	bool young = true; /* run for at least 0.5 s, so that the threads overlap */
	uint32_t seq = 0;

	for (unsigned long n = 1; n <= n_max || young || __atomic_load_n(&g_reader_ok[0], __ATOMIC_RELAXED) < 5000 ||
				   __atomic_load_n(&g_reader_ok[1], __ATOMIC_RELAXED) < 5000;
	     n++) {
		if (g_abi == 0) {
			vmc_t b = vmc_body(n);
			unsigned ev = (EV_DISRUPT(n) ? VTIME_VMCLOCK_EV_DISRUPTED : 0) |
				      (EV_GEN(n) ? VTIME_VMCLOCK_EV_NEW_GENERATION : 0);
			(void)vtime_vmclock_publish(&g_vmc, &b, ev);
		} else {
			if (n % 97 == 0) {
				seq = vtime_hv_tsc_page_invalidate(&g_hv, seq); /* readers see 0 for a while */
				ws->invalidations++;
			}
			seq = vtime_hv_tsc_page_publish(&g_hv, hv_scale(n), hv_offset(n), seq); /* sequence n */
		}
		ws->publishes++;
		if (n % 4096 == 0) {
			double t = now_s();
			sched_yield(); /* let readers run on a 2-vCPU machine */
			young = t < start + 0.5;
			if (n > n_max && t > deadline)
				break;
		}
	}
	__atomic_store_n(&g_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

struct reader_stats {
	unsigned long ok, eagain, invalid, torn, backwards, bad_rc, retried;
	uint64_t counter, last_counter;
	int id;
};

static uint64_t reader_counter(void *ctx)
{
	struct reader_stats *st = ctx;
	return st->counter += 1000003;
}

static void vmc_read_once(struct reader_stats *st, unsigned long i, uint32_t *last_seq, uint64_t *last_marker)
{
	struct vtime_counter ctr = { reader_counter, st };
	struct vtime_vmclock_reading rd, want;
	vmc_t s, e;
	uint32_t seq;
	uint64_t marker;
	int rc;

	if (i & 1) {
		rc = vtime_vmclock_read(&g_vmc, &ctr, 0, &rd);
		if (rc != 0)
			goto out;
		seq = rd.seq;
		marker = rd.disruption_marker;
		if (seq == 2) { /* before the first publish: status UNKNOWN, period 0 */
			st->torn++;
		} else {
			e = vmc_expected(seq / 2 - 1);
			if (rd.counter != st->counter || vtime_vmclock_convert(&e, rd.counter, &want) != 0 ||
			    memcmp(&rd, &want, sizeof rd) != 0)
				st->torn++;
		}
	} else {
		rc = vtime_vmclock_snapshot(&g_vmc, 0, &s);
		if (rc != 0)
			goto out;
		seq = s.seq_count;
		marker = s.disruption_marker;
		if (seq != 2) {
			e = vmc_expected(seq / 2 - 1);
			if (memcmp(&s, &e, sizeof s) != 0)
				st->torn++;
		}
	}
	st->ok++;
	__atomic_store_n(&g_reader_ok[st->id], st->ok, __ATOMIC_RELAXED);
	if (seq < *last_seq || marker < *last_marker)
		st->backwards++;
	*last_seq = seq;
	*last_marker = marker;
	return;
out:
	if (rc == VTIME_EAGAIN)
		st->eagain++;
	else if (rc == VTIME_EPROTO && *last_seq <= 2)
		; /* the initialised page (seq 2), before the first publish, has period 0 */
	else
		st->bad_rc++;
}

static void hv_read_once(struct reader_stats *st, uint32_t *last_seq)
{
	struct vtime_counter ctr = { reader_counter, st };
	struct vtime_hv_tsc_reading rd;
	int rc = vtime_hv_tsc_page_read(&g_hv, &ctr, 0, &rd);

	if (rc == 0) {
		st->ok++;
		__atomic_store_n(&g_reader_ok[st->id], st->ok, __ATOMIC_RELAXED);
		if (rd.tsc_scale != hv_scale(rd.sequence) || rd.tsc_offset != hv_offset(rd.sequence) ||
		    rd.tsc != st->counter || rd.time != vtime_hv_tsc_page_time(rd.tsc_scale, rd.tsc_offset, rd.tsc))
			st->torn++;
		if (rd.sequence < *last_seq)
			st->backwards++;
		*last_seq = rd.sequence;
	} else if (rc == VTIME_ENOTVALID) {
		st->invalid++;
	} else if (rc == VTIME_EAGAIN) {
		st->eagain++;
	} else {
		st->bad_rc++;
	}
}

static void *reader(void *arg)
{
	struct reader_stats *st = arg;
	uint32_t last_seq = 0;
	uint64_t last_marker = 0;
	unsigned long i = 0;

	while (!__atomic_load_n(&g_done, __ATOMIC_ACQUIRE)) {
		uint64_t before = st->counter;
		i++;
		if (g_abi == 0)
			vmc_read_once(st, i, &last_seq, &last_marker);
		else
			hv_read_once(st, &last_seq);
		/* one counter read per try: more than one is a window the
		 * sequence re-check threw away */
		if (st->counter - before > 1000003)
			st->retried += (st->counter - before) / 1000003 - 1;
	}
	return NULL;
}

static void run(int abi)
{
	pthread_t w, r[NREADERS];
	struct writer_stats ws = { 0, 0 };
	struct reader_stats rs[NREADERS];
	unsigned long ok = 0;
	const char *name = abi ? "Hyper-V" : "VMClock";

	g_abi = abi;
	memset(&g_vmc, 0, sizeof g_vmc);
	memset(&g_hv, 0, sizeof g_hv);
	CU_ASSERT_EQUAL_FATAL(vtime_vmclock_init(&g_vmc, sizeof g_vmc, VTIME_VMCLOCK_COUNTER_X86_TSC,
						 VTIME_VMCLOCK_TIME_TAI), 0);
	memset(rs, 0, sizeof rs);
	g_done = 0;
	g_reader_ok[0] = g_reader_ok[1] = 0;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&w, NULL, writer, &ws), 0);
	for (int i = 0; i < NREADERS; i++) {
		rs[i].id = i;
		CU_ASSERT_EQUAL_FATAL(pthread_create(&r[i], NULL, reader, &rs[i]), 0);
	}
	pthread_join(w, NULL);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(r[i], NULL);
	for (int i = 0; i < NREADERS; i++) {
		printf("\n  %s reader %d: %lu ok (%lu windows retried), %lu EAGAIN, %lu ENOTVALID, %lu torn, %lu backwards, %lu bad rc",
		       name, i, rs[i].ok, rs[i].retried, rs[i].eagain, rs[i].invalid, rs[i].torn, rs[i].backwards,
		       rs[i].bad_rc);
		CU_ASSERT_EQUAL(rs[i].torn, 0);
		CU_ASSERT_EQUAL(rs[i].backwards, 0);
		CU_ASSERT_EQUAL(rs[i].bad_rc, 0);
		ok += rs[i].ok;
	}
	printf("\n  %s writer: %lu publishes, %lu invalidations", name, ws.publishes, ws.invalidations);
	CU_ASSERT(ok > 0);
	CU_ASSERT_EQUAL(abi ? vt_le32(g_hv.tsc_sequence) : vt_le32(g_vmc.seq_count),
			abi ? ws.publishes : 2 + 2 * ws.publishes);
}

static void test_vmclock_racing(void) { run(0); }
static void test_hyperv_racing(void) { run(1); }

/* ---- negative control: the same pages read without the protocol ---- */

static uint64_t raw64(const volatile void *p)
{
	return vt_le64(vt_load64((const volatile uint64_t *)p)); /* relaxed, 8-byte on i386 too */
}

static void *raw_reader(void *arg)
{
	unsigned long *shared = arg, t = 0, *tears = &t;

	while (!__atomic_load_n(&g_done, __ATOMIC_ACQUIRE)) {
		if (g_abi == 0) {
			/* fields of one n: counter_value = 1000 n, time_sec = 1.7e9 + n, maxerror = 13 n */
			uint64_t cv = raw64(&g_vmc.counter_value), ts = raw64(&g_vmc.time_sec),
				 me = raw64(&g_vmc.time_maxerror_nanosec);
			if (cv / 1000 != ts - 1700000000ull || me != 13 * (cv / 1000))
				(*tears)++;
		} else {
			uint64_t sc = raw64(&g_hv.tsc_scale), off = raw64(&g_hv.tsc_offset);
			uint64_t n = sc * 0xf1de83e19937733dull; /* the inverse of the odd multiplier mod 2^64 */
			if (hv_offset(n) != (int64_t)off)
				(*tears)++;
		}
		__atomic_store_n(shared, t, __ATOMIC_RELAXED);
		if (t >= 1000)
			break;
	}
	return NULL;
}

static void *control_writer(void *arg)
{
	unsigned long *tears = arg;
	double deadline = now_s() + 20;
	uint32_t seq = 0;

	for (uint64_t n = 1; __atomic_load_n(tears, __ATOMIC_RELAXED) < 1000 && now_s() < deadline; n++) {
		for (int k = 0; k < 256; k++, n++) {
			if (g_abi == 0) {
				vmc_t b = vmc_body(n);
				(void)vtime_vmclock_publish(&g_vmc, &b, 0);
			} else {
				seq = vtime_hv_tsc_page_publish(&g_hv, hv_scale(n), hv_offset(n), seq);
			}
		}
	}
	__atomic_store_n(&g_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void control(int abi)
{
	pthread_t w, r;
	unsigned long tears = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	g_abi = abi;
	g_done = 0;
	memset(&g_vmc, 0, sizeof g_vmc);
	memset(&g_hv, 0, sizeof g_hv);
	CU_ASSERT_EQUAL_FATAL(vtime_vmclock_init(&g_vmc, sizeof g_vmc, 1, 1), 0);
	{ /* a consistent page before the race */
		vmc_t b = vmc_body(1);
		uint32_t seq = 0;
		(void)vtime_vmclock_publish(&g_vmc, &b, 0);
		seq = vtime_hv_tsc_page_publish(&g_hv, hv_scale(1), hv_offset(1), seq);
	}
	CU_ASSERT_EQUAL_FATAL(pthread_create(&r, NULL, raw_reader, &tears), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&w, NULL, control_writer, &tears), 0);
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	tears = __atomic_load_n(&tears, __ATOMIC_RELAXED);
	printf("\n  %s without the sequence protocol: %lu torn reads seen (%ld CPUs)", abi ? "Hyper-V" : "VMClock",
	       tears, cpus);
	if (cpus >= 2)
		CU_ASSERT(tears > 0);
}

static void test_control_vmclock(void) { control(0); }
static void test_control_hyperv(void) { control(1); }

static const struct vt_test_case cases[] = {
	{ "VMClock: writer vs readers, no torn reading, nothing backwards", test_vmclock_racing },
	{ "Hyper-V: writer (with invalidations) vs readers, no torn reading", test_hyperv_racing },
	{ "negative control: VMClock read without seq_count tears", test_control_vmclock },
	{ "negative control: Hyper-V page read without the sequence tears", test_control_hyperv },
	{ NULL, NULL },
};

int main(void)
{
	const struct vt_test_suite suites[] = { { "concurrency", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
