/* SPDX-License-Identifier: MIT */
/* Seqlock under real concurrency: a writer thread publishes records (and
 * wall-clock records) whose every field is derived from one sequence number
 * n, with version 2n; reader threads check that each successful read is
 * exactly the record of one n (no torn mixes), that versions never go
 * backwards, and consume GUEST_STOPPED, which must be seen exactly once per
 * time the writer set it. Iterations: VTIME_TEST_ITERS (publishes). */
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <vtime/error.h>
#include <vtime/pvclock.h>

#include "vt_endian.h"
#include "vt_test.h"

#define NREADERS 2 /* g_reader_ok has one slot per reader */

typedef struct vtime_pvclock_vcpu_time_info rec_t;

static _Alignas(64) rec_t g_rec;
static _Alignas(64) struct vtime_pvclock_wall_clock g_wall;
static int g_done;                  /* __atomic only */
static unsigned long g_reader_ok[2]; /* __atomic only: progress of each reader */

static unsigned long long g_soak; /* --soak: successful reads to reach */

static const uint8_t flag_bits = VTIME_PVCLOCK_TSC_STABLE | VTIME_PVCLOCK_COUNTS_FROM_ZERO;

/* The record of sequence number n: every field a different function of n. */
static rec_t body_of(uint64_t n)
{
	rec_t b;
	memset(&b, 0, sizeof b);
	b.tsc_timestamp = n * 0x9e3779b97f4a7c15ull;
	b.system_time = ~(n * 0xc2b2ae3d27d4eb4full);
	b.tsc_to_system_mul = (uint32_t)(n * 2654435761u) | 0x80000000u;
	b.tsc_shift = (int8_t)((int)(n % 33) - 12); /* the whole accepted range */
	b.flags = (uint8_t)(((n & 1) ? VTIME_PVCLOCK_TSC_STABLE : 0) | ((n % 3 == 0) ? VTIME_PVCLOCK_COUNTS_FROM_ZERO : 0));
	return b;
}

static uint32_t wall_nsec_of(uint32_t sec)
{
	return (sec * 2654435761u) % 1000000000u;
}

struct writer_stats {
	unsigned long publishes, stops_set;
};

struct reader_stats {
	unsigned long ok, eagain, torn, backwards, bad_rc, stops_consumed, wall_ok, wall_torn;
	uint64_t counter; /* this reader's counter */
	int id;
};

static uint64_t reader_counter(void *ctx)
{
	struct reader_stats *st = ctx;
	return st->counter += 1000003;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *writer(void *arg)
{
	struct writer_stats *ws = arg;
	unsigned long n_max = vt_test_iters(200000);
	double deadline = now_s() + (g_soak ? 14400 : 60); /* readers that never succeed fail, not hang */

	/* At least n_max publishes, and on until every reader has completed
	 * some reads while the writer was running (threads may start late);
	 * soaking, until the readers' successful reads reach g_soak. */
	for (unsigned long n = 1; n <= n_max || __atomic_load_n(&g_reader_ok[0], __ATOMIC_RELAXED) < 10000 ||
				   __atomic_load_n(&g_reader_ok[1], __ATOMIC_RELAXED) < 10000 ||
				   (g_soak && __atomic_load_n(&g_reader_ok[0], __ATOMIC_RELAXED) +
						      __atomic_load_n(&g_reader_ok[1], __ATOMIC_RELAXED) <
					      g_soak);
	     n++) {
		rec_t b = body_of(n);
		/* Set GUEST_STOPPED now and then, only when the last one has been
		 * consumed, so sets and consumes can be counted exactly. */
		if (n % 61 == 0 && !(__atomic_load_n(&g_rec.flags, __ATOMIC_RELAXED) & VTIME_PVCLOCK_GUEST_STOPPED)) {
			b.flags |= VTIME_PVCLOCK_GUEST_STOPPED;
			ws->stops_set++;
		}
		vtime_pvclock_publish(&g_rec, &b);
		vtime_pvclock_wall_publish(&g_wall, (uint32_t)n, wall_nsec_of((uint32_t)n));
		ws->publishes++;
		if (n % 4096 == 0) {
			sched_yield(); /* let readers run on a 2-vCPU machine */
			if (n > n_max && now_s() > deadline)
				break;
		}
	}
	__atomic_store_n(&g_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *reader(void *arg)
{
	struct reader_stats *st = arg;
	struct vtime_counter ctr = { reader_counter, st };
	uint32_t last_v = 0, last_wv = 0;
	unsigned long i = 0;

	while (!__atomic_load_n(&g_done, __ATOMIC_ACQUIRE)) {
		struct vtime_pvclock_reading rd;
		rec_t snap, want;
		uint64_t n;
		int rc;

		i++;
		if (i & 1) {
			rc = vtime_pvclock_read(&g_rec, &ctr, 0, &rd);
			if (rc == 0) {
				n = rd.version / 2;
				want = body_of(n);
				if ((rd.version & 1) || rd.ns != vtime_pvclock_time(&want, rd.tsc) ||
				    (rd.flags & flag_bits) != want.flags || rd.tsc != st->counter)
					st->torn++;
			}
		} else {
			rc = vtime_pvclock_snapshot(&g_rec, 0, &snap);
			if (rc == 0) {
				rd.version = snap.version;
				n = snap.version / 2;
				want = body_of(n);
				if ((snap.version & 1) || snap.tsc_timestamp != want.tsc_timestamp ||
				    snap.system_time != want.system_time ||
				    snap.tsc_to_system_mul != want.tsc_to_system_mul ||
				    snap.tsc_shift != want.tsc_shift || (snap.flags & flag_bits) != want.flags)
					st->torn++;
			}
		}
		if (rc == 0) {
			st->ok++;
			__atomic_store_n(&g_reader_ok[st->id], st->ok, __ATOMIC_RELAXED);
			if (rd.version < last_v)
				st->backwards++;
			last_v = rd.version;
		} else if (rc == VTIME_EAGAIN) {
			st->eagain++;
		} else if (rc == VTIME_ENODATA && st->ok == 0) {
			/* before the writer's first publish: legitimate, and never after */
		} else {
			st->bad_rc++;
		}
		if ((i & 15) == 0 && vtime_pvclock_consume_stopped(&g_rec))
			st->stops_consumed++;
		if ((i & 3) == 0) {
			uint32_t sec, nsec;
			rc = vtime_pvclock_wall_read(&g_wall, 0, &sec, &nsec);
			if (rc == 0) {
				st->wall_ok++;
				if (nsec != wall_nsec_of(sec))
					st->wall_torn++;
				/* the wall version of second s is 2s */
				if (sec < last_wv)
					st->backwards++;
				last_wv = sec;
			} else if (rc != VTIME_EAGAIN && !(rc == VTIME_ENODATA && st->wall_ok == 0)) {
				st->bad_rc++;
			}
		}
	}
	return NULL;
}

static void test_no_torn_reads(void)
{
	pthread_t w, r[NREADERS];
	struct writer_stats ws = { 0, 0 };
	struct reader_stats rs[NREADERS];
	unsigned long ok = 0, consumed = 0;

	memset(&g_rec, 0, sizeof g_rec);
	memset(&g_wall, 0, sizeof g_wall);
	memset(rs, 0, sizeof rs);
	g_done = 0;
	g_reader_ok[0] = g_reader_ok[1] = 0;
	/* from an empty page the n-th publish (n >= 1) has version 2n */
	CU_ASSERT_EQUAL_FATAL(pthread_create(&w, NULL, writer, &ws), 0);
	for (int i = 0; i < NREADERS; i++) {
		rs[i].id = i;
		CU_ASSERT_EQUAL_FATAL(pthread_create(&r[i], NULL, reader, &rs[i]), 0);
	}
	pthread_join(w, NULL);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(r[i], NULL);
	if (vtime_pvclock_consume_stopped(&g_rec)) /* the last one, if still pending */
		consumed++;

	for (int i = 0; i < NREADERS; i++) {
		printf("\n  reader %d: %lu ok, %lu EAGAIN, %lu torn, %lu backwards, %lu bad rc, %lu stops, wall %lu ok %lu torn",
		       i, rs[i].ok, rs[i].eagain, rs[i].torn, rs[i].backwards, rs[i].bad_rc, rs[i].stops_consumed,
		       rs[i].wall_ok, rs[i].wall_torn);
		CU_ASSERT_EQUAL(rs[i].torn, 0);
		CU_ASSERT_EQUAL(rs[i].wall_torn, 0);
		CU_ASSERT_EQUAL(rs[i].backwards, 0);
		CU_ASSERT_EQUAL(rs[i].bad_rc, 0);
		ok += rs[i].ok;
		consumed += rs[i].stops_consumed;
	}
	printf("\n  writer: %lu publishes, GUEST_STOPPED set %lu times, consumed %lu times; %lu successful reads in all",
	       ws.publishes, ws.stops_set, consumed, ok);
	CU_ASSERT(ok > 0);
	CU_ASSERT(ok >= g_soak);
	CU_ASSERT(ws.stops_set > 0);
	CU_ASSERT_EQUAL(consumed, ws.stops_set);
	CU_ASSERT_EQUAL(vt_le32(g_rec.version), 2 * ws.publishes);
	CU_ASSERT_EQUAL(vt_le32(g_wall.version), 2 * ws.publishes);
}

static const struct vt_test_case cases[] = {
	{ "writer vs readers: no torn reads, GUEST_STOPPED exactly once", test_no_torn_reads },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	const struct vt_test_suite suites[] = { { "concurrency", cases }, { NULL, NULL } };
	g_soak = vt_test_soak(argc, argv);
	return vt_test_main(suites);
}
