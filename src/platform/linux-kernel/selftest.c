// SPDX-License-Identifier: MIT
/* vtime_selftest.ko: runs vtime's core inside the kernel it was built for and
 * prints the results as KTAP on the console (scripts/kernel-selftest.sh boots
 * a kernel under qemu, loads this module and checks the KTAP). */
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/version.h>
#include <linux/workqueue.h>

#include <vtime/vtime.h>

#include "fake_counter.h"
#include "vt_atomic.h"
#include "vt_pvclock_read.h"
#include "vtime_kernel.h"

static unsigned int stress_ms = 400;
module_param(stress_ms, uint, 0444);
MODULE_PARM_DESC(stress_ms, "duration of the writer/reader stress test in ms (split over two phases)");

/* ---- KTAP output ---------------------------------------------------------- */

#define VT_OUT(fmt, ...) printk(KERN_INFO fmt "\n", ##__VA_ARGS__)

struct vt_case {
	const char *name;
	unsigned int fails;      /* failed checks */
	const char *skip;        /* set: the case was skipped, with this reason */
};

#define VT_CHECK(t, cond, fmt, ...)                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			(t)->fails++;                                                      \
			VT_OUT("# %s:%d: check failed: %s: " fmt, __func__, __LINE__, #cond, \
			       ##__VA_ARGS__);                                             \
		}                                                                          \
	} while (0)

/* ---- counters ------------------------------------------------------------- */

static inline uint64_t vt_kernel_ref_scale(uint64_t delta, uint32_t mul, int shift)
{
	/* The kernel's own arithmetic (pvclock uses the same helper). */
	delta = shift < 0 ? delta >> -shift : delta << shift;
	return mul_u64_u32_shr(delta, mul, 32);
}

/* ---- 1. scale conformance vectors ---------------------------------------- */

struct vt_vector {
	const char *dir;
	uint64_t from_hz, to_hz;
	int shift;
	uint32_t mul;
};

static const struct vt_vector vt_vectors[] = {
#include "vt_vectors.h"
};

static void test_scale_vectors(struct vt_case *t)
{
	unsigned int i, n = ARRAY_SIZE(vt_vectors);

	VT_OUT("    KTAP version 1");
	VT_OUT("    # Subtest: %s", t->name);
	VT_OUT("    1..%u", n);
	for (i = 0; i < n; i++) {
		const struct vt_vector *v = &vt_vectors[i];
		struct vtime_scale s = { 0, 0 };
		int err = vtime_scale_init(&s, v->from_hz, v->to_hz);
		bool ok = err == 0 && s.shift == v->shift && s.mul == v->mul;

		if (!ok) {
			VT_OUT("    # got err %d (%d, %u), want (%d, %u)", err, s.shift, s.mul, v->shift,
			       v->mul);
			t->fails++;
		}
		VT_OUT("    %s %u %s %llu -> %llu", ok ? "ok" : "not ok", i + 1, v->dir, v->from_hz,
		       v->to_hz);
	}
	/* The TSV holds 18 rows; fewer means the generator lost some. */
	VT_CHECK(t, n >= 18, "only %u vectors", n);
}

/* ---- 2. scaling against the kernel's mul_u64_u32_shr --------------------- */

static void test_scale_vs_kernel_math(struct vt_case *t)
{
	static const uint64_t deltas[] = {
		0, 1, 0xffffffffull, 0x100000000ull, 0x10000003039ull, 1ull << 62,
		1ull << 63, 0xfffffffffff00000ull, 0xffffffffffffffffull,
	};
	unsigned int i, j, r, checked = 0;
	struct vtime_scale s;

	for (i = 0; i < ARRAY_SIZE(vt_vectors); i++) {
		s.mul = vt_vectors[i].mul;
		s.shift = (int8_t)vt_vectors[i].shift;
		for (j = 0; j < ARRAY_SIZE(deltas) + 64; j++) {
			uint64_t d = j < ARRAY_SIZE(deltas) ? deltas[j] : get_random_u64();
			uint64_t got = vtime_scale_apply(&s, d);
			uint64_t want = vt_kernel_ref_scale(d, s.mul, s.shift);

			VT_CHECK(t, got == want, "delta %llu (%d, %u): vtime %llu kernel %llu", d, s.shift,
				 s.mul, got, want);
			checked++;
		}
	}
	/* Near wraparound: deltas counted from just below 2^64. */
	s.mul = 3303822267u;
	s.shift = -1;
	for (r = 0; r < 64; r++) {
		uint64_t from = 0 - (uint64_t)(r + 1) * 1000003ull, to = from + (uint64_t)r * 0x12345678ull;

		VT_CHECK(t, vtime_scale_apply(&s, to - from) == vt_kernel_ref_scale(to - from, s.mul, -1),
			 "wrapped delta from %llu", from);
		checked++;
	}
	VT_CHECK(t, vtime_scale_from_hz(&s) == 2599999000ull, "from_hz %llu", vtime_scale_from_hz(&s));
	VT_OUT("# %u deltas compared with mul_u64_u32_shr", checked);
}

/* ---- 3. the pvclock reader against a fake counter ------------------------ */

static struct vtime_pvclock_vcpu_time_info vt_rec __aligned(64);

static void vt_republish_once(struct vt_fake_counter *fc)
{
	struct vtime_pvclock_vcpu_time_info *body = fc->user;

	if (fc->reads == 1) {
		body->system_time += 1000000;
		vtime_pvclock_publish(&vt_rec, body);
	}
}

static void test_pvclock_fake_counter(struct vt_case *t)
{
	static const uint64_t bases[] = { 0, 0xfffffffe00000000ull }; /* from 0 and below 2^64 */
	static const uint64_t gaps[] = { 0, 1000, 0x100000005ull, 1ull << 40 };
	struct vtime_pvclock_vcpu_time_info body = { 0 }, snap;
	struct vtime_pvclock_reading rd;
	struct vt_fake_counter fc;
	struct vtime_counter ctr;
	unsigned int b, g;
	uint32_t ver, sec, nsec;
	int err;

	for (b = 0; b < ARRAY_SIZE(bases); b++) {
		memset(&vt_rec, 0, sizeof(vt_rec));
		body.tsc_timestamp = bases[b];
		body.system_time = 5000000000ull;
		body.tsc_to_system_mul = 3303822267u;
		body.tsc_shift = -1;
		body.flags = VTIME_PVCLOCK_TSC_STABLE;
		ver = vtime_pvclock_publish(&vt_rec, &body);
		VT_CHECK(t, ver == 2, "first version %u", ver);
		for (g = 0; g < ARRAY_SIZE(gaps); g++) {
			uint64_t want;

			memset(&fc, 0, sizeof(fc));
			fc.value = bases[b] + gaps[g]; /* wraps past 2^64 for the second base */
			fc.step = 7;
			ctr = vt_fake_counter_hook(&fc);
			err = vtime_pvclock_read(&vt_rec, &ctr, 0, &rd);
			want = body.system_time + vt_kernel_ref_scale(gaps[g], body.tsc_to_system_mul, -1);
			VT_CHECK(t, err == 0, "read: %d", err);
			VT_CHECK(t, rd.tsc == bases[b] + gaps[g], "tsc %llu", rd.tsc);
			VT_CHECK(t, rd.ns == want, "base %llu gap %llu: ns %llu want %llu", bases[b], gaps[g],
				 rd.ns, want);
			VT_CHECK(t, rd.version == 2 && rd.flags == VTIME_PVCLOCK_TSC_STABLE, "v %u f %u",
				 rd.version, rd.flags);
			VT_CHECK(t, fc.reads == 1, "%lu counter reads", fc.reads);
		}
		/* Counter behind the record: time before system_time, no 225-year jump. */
		VT_CHECK(t, vtime_pvclock_time(&body, bases[b] - 2000) ==
				    body.system_time - vt_kernel_ref_scale(2000, body.tsc_to_system_mul, -1),
			 "behind: %llu", vtime_pvclock_time(&body, bases[b] - 2000));

		/* A writer racing the read: the reader must retry and use the new record. */
		memset(&fc, 0, sizeof(fc));
		fc.value = bases[b] + 1000;
		fc.on_read = vt_republish_once;
		fc.user = &body;
		ctr = vt_fake_counter_hook(&fc);
		err = vtime_pvclock_read(&vt_rec, &ctr, 0, &rd);
		VT_CHECK(t, err == 0 && fc.reads == 2 && rd.version == 4, "race: err %d reads %lu v %u", err,
			 fc.reads, rd.version);
		VT_CHECK(t, rd.ns == body.system_time + vt_kernel_ref_scale(rd.tsc - bases[b], body.tsc_to_system_mul, -1),
			 "race: ns %llu", rd.ns);

		err = vtime_pvclock_snapshot(&vt_rec, 0, &snap);
		VT_CHECK(t, err == 0 && snap.version == 4 && snap.tsc_timestamp == body.tsc_timestamp &&
				    snap.system_time == body.system_time &&
				    snap.tsc_to_system_mul == body.tsc_to_system_mul &&
				    snap.tsc_shift == body.tsc_shift && snap.flags == body.flags,
			 "snapshot err %d", err);
	}

	/* A writer that died mid-update: bounded retries, then EAGAIN. */
	WRITE_ONCE(vt_rec.version, 5);
	memset(&fc, 0, sizeof(fc));
	ctr = vt_fake_counter_hook(&fc);
	err = vtime_pvclock_read(&vt_rec, &ctr, 5, &rd);
	VT_CHECK(t, err == VTIME_EAGAIN && fc.reads == 5, "stuck writer: err %d reads %lu", err, fc.reads);

	memset(&vt_rec, 0, sizeof(vt_rec));
	err = vtime_pvclock_read(&vt_rec, &ctr, 0, &rd);
	VT_CHECK(t, err == VTIME_ENODATA, "never published: %d", err);
	body.tsc_to_system_mul = 0;
	vtime_pvclock_publish(&vt_rec, &body);
	VT_CHECK(t, vtime_pvclock_read(&vt_rec, &ctr, 0, &rd) == VTIME_EPROTO, "mul 0 accepted");
	body.tsc_to_system_mul = 3303822267u;
	body.tsc_shift = VTIME_PVCLOCK_SHIFT_MAX + 1;
	vtime_pvclock_publish(&vt_rec, &body);
	VT_CHECK(t, vtime_pvclock_read(&vt_rec, &ctr, 0, &rd) == VTIME_EPROTO, "shift 21 accepted");
	VT_CHECK(t, vtime_pvclock_read(NULL, &ctr, 0, &rd) == VTIME_EINVAL, "NULL record accepted");

	/* GUEST_STOPPED: consumed once; kept by the writer until consumed. */
	body.tsc_shift = -1;
	body.flags = VTIME_PVCLOCK_TSC_STABLE | VTIME_PVCLOCK_GUEST_STOPPED;
	vtime_pvclock_publish(&vt_rec, &body);
	body.flags = VTIME_PVCLOCK_TSC_STABLE;
	vtime_pvclock_publish(&vt_rec, &body);
	VT_CHECK(t, vtime_pvclock_consume_stopped(&vt_rec), "stopped bit lost by the writer");
	VT_CHECK(t, READ_ONCE(vt_rec.flags) == VTIME_PVCLOCK_TSC_STABLE, "flags %u", vt_rec.flags);
	VT_CHECK(t, READ_ONCE(vt_rec.tsc_shift) == -1, "neighbour byte changed: %d", vt_rec.tsc_shift);
	VT_CHECK(t, !vtime_pvclock_consume_stopped(&vt_rec), "stopped bit consumed twice");

	/* Wall clock record. */
	{
		static struct vtime_pvclock_wall_clock wc;

		vtime_pvclock_wall_publish(&wc, 1764000000u, 999999999u);
		err = vtime_pvclock_wall_read(&wc, 0, &sec, &nsec);
		VT_CHECK(t, err == 0 && sec == 1764000000u && nsec == 999999999u, "wall err %d", err);
		VT_CHECK(t, vtime_pvclock_wall_ns(sec, nsec, 1) == 1764000001000000000ull, "wall ns");
	}
}

/* ---- 4. the kernel atomics backend ---------------------------------------- */

static void test_atomics_backend(struct vt_case *t)
{
	static volatile uint64_t x;
	static volatile uint8_t bytes[8] __aligned(8);
	uint64_t exp;
	unsigned int i, j;

	x = 5;
	exp = 5;
	VT_CHECK(t, vt_cas64(&x, &exp, 9) && x == 9, "cas success");
	exp = 5;
	VT_CHECK(t, !vt_cas64(&x, &exp, 11) && exp == 9 && x == 9, "cas failure: exp %llu", exp);
	x = UINT64_MAX;
	VT_CHECK(t, vt_fetch_add64(&x, 2) == UINT64_MAX && vt_load64(&x) == 1, "fetch_add wrap");
	vt_store64(&x, 0xfedcba9876543210ull);
	VT_CHECK(t, vt_load64(&x) == 0xfedcba9876543210ull, "load/store64");
	for (i = 0; i < 8; i++) {
		for (j = 0; j < 8; j++)
			vt_store8(&bytes[j], (uint8_t)(0xa0 | j));
		VT_CHECK(t, vt_fetch_and8(&bytes[i], 0x0f) == (0xa0 | i), "fetch_and8 old, byte %u", i);
		for (j = 0; j < 8; j++)
			VT_CHECK(t, vt_load8(&bytes[j]) == (j == i ? i : (0xa0 | j)), "byte %u after and8 on %u",
				 j, i);
	}
	VT_OUT("# backend %s", VT_ATOMIC_BACKEND_NAME);
}

/* ---- 5. the shim counter (rdtsc_ordered) against ktime_get_raw ----------- */

/* One (tsc, raw ns) pair taken as close together as the machine allows. */
static void vt_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = U64_MAX;
	int i;

	for (i = 0; i < 16; i++) {
		uint64_t a = ktime_get_raw_ns(), c = vtime_kernel_tsc_read(NULL), b = ktime_get_raw_ns();

		if (b - a < best) {
			best = b - a;
			*tsc = c;
			*ns = a + (b - a) / 2;
		}
	}
}

static void test_tsc_counter(struct vt_case *t)
{
	struct vtime_pvclock_vcpu_time_info body = { 0 };
	struct vtime_counter ctr = vtime_kernel_tsc_counter();
	struct vtime_pvclock_reading rd;
	struct vtime_scale s;
	uint64_t prev, cur, tsc0, ns0, tsc1, ns1, el_raw, el_vt;
	unsigned int i, back = 0;
	int err;

	preempt_disable();
	prev = vtime_kernel_tsc_read(NULL);
	for (i = 0; i < 100000; i++) {
		cur = vtime_kernel_tsc_read(NULL);
		back += cur < prev;
		prev = cur;
	}
	preempt_enable();
	VT_CHECK(t, back == 0, "rdtsc_ordered went back %u times on one CPU", back);

	if (!tsc_khz) {
		t->skip = "tsc_khz is 0: the kernel did not calibrate a TSC";
		return;
	}
	err = vtime_scale_init(&s, (uint64_t)tsc_khz * 1000, VTIME_NSEC_PER_SEC);
	VT_CHECK(t, err == 0, "scale for %u kHz: %d", tsc_khz, err);
	vt_pair(&tsc0, &ns0);
	body.tsc_timestamp = tsc0;
	body.system_time = ns0;
	body.tsc_to_system_mul = s.mul;
	body.tsc_shift = s.shift;
	vtime_pvclock_publish(&vt_rec, &body);
	msleep(100);
	vt_pair(&tsc1, &ns1);
	err = vtime_pvclock_read(&vt_rec, &ctr, 0, &rd);
	VT_CHECK(t, err == 0, "read: %d", err);
	el_raw = ns1 - ns0;
	el_vt = vtime_pvclock_time(&body, tsc1) - ns0;
	VT_OUT("# tsc_khz %u: over %llu ns of ktime_get_raw the record gave %llu ns (%lld ppm)", tsc_khz,
	       el_raw, el_vt, div64_s64(((s64)el_vt - (s64)el_raw) * 1000000, (s64)el_raw));
	/* A wrong shift or counter is off by 2x; 1% catches that without flaking. */
	VT_CHECK(t, el_vt > el_raw - el_raw / 100 && el_vt < el_raw + el_raw / 100, "rate off");
	VT_CHECK(t, rd.ns >= ns1 - el_raw / 100, "live read %llu behind %llu", rd.ns, ns1);
}

/* ---- 6. one writer, readers on every CPU ---------------------------------- */

#define VT_JITTER_NS 2000u /* odd generations are published this much ahead */

struct vt_stress {
	struct vtime_pvclock_vcpu_time_info rec __aligned(64);
	struct vtime_scale scale;
	uint64_t offset; /* added to the TSC: phase 2 starts the counter below 2^64 */
	uint64_t t0, s0;
	int stop;
	atomic_t running;
	struct completion done;
	atomic64_t publishes;
};

struct vt_reader {
	struct vt_stress *st;
	unsigned int cpu;
	u64 reads, snaps, torn, eagain, errors, raw_back, max_back_ns;
	u64 naive, naive_torn; /* copies taken without the seqlock, and how many were mixed */
	uint64_t first_ns, last_ns;
};

static uint64_t vt_stress_counter(void *ctx)
{
	const struct vt_stress *st = ctx;

	return rdtsc_ordered() + st->offset;
}

/* What a consistent record of generation parity p must say for its timestamp. */
static uint64_t vt_stress_expect(const struct vt_stress *st, uint64_t tsc_ts, unsigned int p)
{
	return st->s0 + vtime_scale_apply(&st->scale, tsc_ts - st->t0) + (p ? VT_JITTER_NS : 0);
}

/* Whether a copied record is one the writer published (not a mix of two). */
static bool vt_stress_consistent(const struct vt_stress *st, const struct vtime_pvclock_vcpu_time_info *r)
{
	unsigned int p = (r->tsc_to_system_mul ^ st->scale.mul) & 1;

	return (r->tsc_to_system_mul & ~1u) == (st->scale.mul & ~1u) && r->tsc_shift == st->scale.shift &&
	       r->flags == VTIME_PVCLOCK_TSC_STABLE &&
	       r->system_time == vt_stress_expect(st, r->tsc_timestamp, p);
}

static int vt_writer_fn(void *arg)
{
	struct vt_stress *st = arg;
	struct vtime_pvclock_vcpu_time_info body = { 0 };
	uint64_t g = 0;

	while (!READ_ONCE(st->stop)) {
		unsigned int p = g & 1;

		body.tsc_timestamp = vt_stress_counter(st);
		body.system_time = vt_stress_expect(st, body.tsc_timestamp, p);
		/* mul's low bit carries the parity, so a mix of generations shows. */
		body.tsc_to_system_mul = st->scale.mul ^ p;
		body.tsc_shift = st->scale.shift;
		body.flags = VTIME_PVCLOCK_TSC_STABLE;
		vtime_pvclock_publish(&st->rec, &body);
		g++;
		if ((g & 63) == 0)
			cond_resched();
	}
	atomic64_set(&st->publishes, (s64)g);
	if (atomic_dec_and_test(&st->running))
		complete(&st->done);
	return 0;
}

static int vt_reader_fn(void *arg)
{
	struct vt_reader *r = arg;
	struct vt_stress *st = r->st;
	struct vtime_counter ctr = { vt_stress_counter, st };
	struct vtime_pvclock_vcpu_time_info snap;
	struct vtime_pvclock_reading rd;
	uint64_t n = 0;
	int err;

	while (!READ_ONCE(st->stop)) {
		err = vtime_pvclock_snapshot(&st->rec, 0, &snap);
		if (err == VTIME_EAGAIN) {
			r->eagain++;
		} else if (err) {
			r->errors++;
		} else {
			r->snaps++;
			if (!vt_stress_consistent(st, &snap) || (snap.version & 1))
				r->torn++;
		}
		/* Negative control: the same copy without the seqlock. */
		if ((n & 7) == 0) {
			vt_pvclock_load_body(&st->rec, &snap);
			r->naive++;
			r->naive_torn += !vt_stress_consistent(st, &snap);
		}
		err = vtime_pvclock_read(&st->rec, &ctr, 0, &rd);
		if (err == VTIME_EAGAIN) {
			r->eagain++;
		} else if (err) {
			r->errors++;
		} else {
			if (r->reads == 0)
				r->first_ns = rd.ns;
			else if (rd.ns < r->last_ns) {
				r->raw_back++;
				r->max_back_ns = max_t(u64, r->max_back_ns, r->last_ns - rd.ns);
			}
			r->last_ns = rd.ns;
			r->reads++;
		}
		if ((++n & 63) == 0)
			cond_resched();
	}
	if (atomic_dec_and_test(&st->running))
		complete(&st->done);
	return 0;
}

static int vt_stress_phase(struct vt_case *t, struct vt_stress *st, struct vt_reader *rdr, unsigned int ms)
{
	unsigned int cpu, nthreads = num_online_cpus() + 1, wcpu = cpumask_first(cpu_online_mask);
	struct task_struct *tk;

	memset(&st->rec, 0, sizeof(st->rec));
	st->t0 = vt_stress_counter(st);
	WRITE_ONCE(st->stop, 0);
	atomic_set(&st->running, (int)nthreads);
	reinit_completion(&st->done);
	/* A first record, so readers never see "never published". */
	{
		struct vtime_pvclock_vcpu_time_info body = { 0 };

		body.tsc_timestamp = st->t0;
		body.system_time = vt_stress_expect(st, st->t0, 0);
		body.tsc_to_system_mul = st->scale.mul;
		body.tsc_shift = st->scale.shift;
		body.flags = VTIME_PVCLOCK_TSC_STABLE;
		vtime_pvclock_publish(&st->rec, &body);
	}
	for_each_online_cpu(cpu) {
		memset(&rdr[cpu], 0, sizeof(rdr[cpu]));
		rdr[cpu].st = st;
		rdr[cpu].cpu = cpu;
		tk = kthread_create(vt_reader_fn, &rdr[cpu], "vt_reader/%u", cpu);
		if (IS_ERR(tk))
			goto fail;
		kthread_bind(tk, cpu);
		wake_up_process(tk);
		nthreads--;
	}
	tk = kthread_create(vt_writer_fn, st, "vt_writer/%u", wcpu);
	if (IS_ERR(tk))
		goto fail;
	kthread_bind(tk, wcpu);
	wake_up_process(tk);
	msleep(ms);
	WRITE_ONCE(st->stop, 1);
	wait_for_completion(&st->done);
	return 0;
fail:
	/* Threads already running stop and count down; the missing ones are counted here. */
	WRITE_ONCE(st->stop, 1);
	while (nthreads--)
		if (atomic_dec_and_test(&st->running))
			complete(&st->done);
	wait_for_completion(&st->done);
	t->fails++;
	VT_OUT("# could not start a kthread");
	return -ENOMEM;
}

static void test_writer_readers(struct vt_case *t)
{
	struct vt_stress *st;
	struct vt_reader *rdr;
	unsigned int phase, cpu;
	int err;

	if (!tsc_khz) {
		t->skip = "tsc_khz is 0: no TSC to drive the records";
		return;
	}
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	rdr = kcalloc(nr_cpu_ids, sizeof(*rdr), GFP_KERNEL);
	if (!st || !rdr) {
		t->fails++;
		goto out;
	}
	init_completion(&st->done);
	err = vtime_scale_init(&st->scale, (uint64_t)tsc_khz * 1000, VTIME_NSEC_PER_SEC);
	VT_CHECK(t, err == 0, "scale: %d", err);
	st->s0 = 1000000000ull;
	{
		/* The torn-record detector must see a mix of two generations. */
		struct vtime_pvclock_vcpu_time_info a = { 0 }, m;

		st->t0 = 12345;
		a.tsc_timestamp = 99999;
		a.tsc_to_system_mul = st->scale.mul ^ 1;
		a.tsc_shift = st->scale.shift;
		a.flags = VTIME_PVCLOCK_TSC_STABLE;
		a.system_time = vt_stress_expect(st, a.tsc_timestamp, 1);
		VT_CHECK(t, vt_stress_consistent(st, &a), "detector rejects a whole record");
		m = a;
		m.tsc_to_system_mul = st->scale.mul; /* next generation's mul */
		VT_CHECK(t, !vt_stress_consistent(st, &m), "detector misses a torn mul");
		m = a;
		m.tsc_timestamp += 1000; /* next generation's timestamp */
		VT_CHECK(t, !vt_stress_consistent(st, &m), "detector misses a torn timestamp");
	}
	for (phase = 0; phase < 2; phase++) {
		uint64_t now = rdtsc_ordered();
		u64 reads = 0, torn = 0, back = 0;

		/* Phase 0: counter from 0. Phase 1: counter wraps past 2^64 midway. */
		st->offset = phase == 0 ? 0 - now
					: 0 - now - (uint64_t)tsc_khz * (stress_ms / 4);
		if (vt_stress_phase(t, st, rdr, stress_ms / 2))
			break;
		VT_OUT("# phase %u (counter from %s): %lld records published", phase,
		       phase ? "2^64 - stress_ms/4, wrapping" : "0", (long long)atomic64_read(&st->publishes));
		for_each_online_cpu(cpu) {
			struct vt_reader *r = &rdr[cpu];

			VT_OUT("# cpu %u: %llu reads, %llu snapshots, torn %llu, eagain %llu, errors %llu, raw backward steps %llu (max %llu ns)",
			       cpu, r->reads, r->snaps, r->torn, r->eagain, r->errors, r->raw_back, r->max_back_ns);
			VT_CHECK(t, r->torn == 0, "cpu %u saw %llu torn records", cpu, r->torn);
			VT_CHECK(t, r->errors == 0, "cpu %u: %llu read errors", cpu, r->errors);
			VT_CHECK(t, r->reads > 0 && r->snaps > 0, "cpu %u never read", cpu);
			/* Raw reads may step back by the writer's jitter, never more. */
			VT_CHECK(t, r->max_back_ns <= VT_JITTER_NS, "cpu %u stepped back %llu ns", cpu,
				 r->max_back_ns);
			VT_OUT("# cpu %u: negative control: %llu of %llu copies without the seqlock were torn",
			       cpu, r->naive_torn, r->naive);
			reads += r->reads;
			torn += r->torn;
			back += r->raw_back;
		}
		VT_OUT("# phase %u: %llu reads on %u CPUs, %llu torn, %llu raw backward steps", phase, reads,
		       num_online_cpus(), torn, back);
		VT_CHECK(t, atomic64_read(&st->publishes) > 1, "writer published nothing");
	}
out:
	kfree(rdr);
	kfree(st);
}

/* ---- 7. the kernel's own kvm-clock records -------------------------------- */

struct vt_kvmclock_cpu {
	unsigned int fails, absent;
	uint64_t max_lead_ns, max_lag_ns;
	uint8_t flags;
};

static long vt_kvmclock_on_cpu(void *arg)
{
	struct vt_kvmclock_cpu *res = arg;
	struct vtime_counter ctr = vtime_kernel_tsc_counter();
	const volatile struct vtime_pvclock_vcpu_time_info *rec;
	struct vtime_pvclock_reading a, b;
	unsigned int i;
	uint64_t k;

	preempt_disable();
	rec = vtime_kernel_kvmclock_this_cpu();
	if (!rec) {
		res->absent = 1;
		goto out;
	}
	for (i = 0; i < 2000; i++) {
		if (vtime_pvclock_read(rec, &ctr, 0, &a)) {
			res->fails++;
			continue;
		}
		k = vtime_kernel_kvmclock_read();
		if (vtime_pvclock_read(rec, &ctr, 0, &b)) {
			res->fails++;
			continue;
		}
		res->flags = b.flags;
		/* The kernel's read lies between ours, except that its global
		 * clamp (without TSC_STABLE) may push it ahead. */
		if (k < a.ns)
			res->max_lag_ns = max_t(u64, res->max_lag_ns, a.ns - k);
		if (k > b.ns)
			res->max_lead_ns = max_t(u64, res->max_lead_ns, k - b.ns);
	}
out:
	preempt_enable();
	return 0;
}

static void test_kvmclock(struct vt_case *t)
{
	struct vt_kvmclock_cpu res;
	unsigned int cpu;

	for_each_online_cpu(cpu) {
		memset(&res, 0, sizeof(res));
		work_on_cpu(cpu, vt_kvmclock_on_cpu, &res);
		if (res.absent) {
			t->skip = "kvm-clock not in use by this kernel (no KVM paravirt clock, e.g. under TCG)";
			return;
		}
		VT_OUT("# cpu %u: flags %#x, kernel behind vtime by up to %llu ns, ahead by up to %llu ns",
		       cpu, res.flags, res.max_lag_ns, res.max_lead_ns);
		VT_CHECK(t, res.fails == 0, "cpu %u: %u reads failed", cpu, res.fails);
		/* Same record, same formula: no lag unless the host rewrote the
		 * record in between; lead only through the kernel's clamp. */
		VT_CHECK(t, res.max_lag_ns < 1000, "cpu %u: kernel behind vtime by %llu ns", cpu, res.max_lag_ns);
		VT_CHECK(t, res.max_lead_ns < 1000000, "cpu %u: kernel ahead by %llu ns", cpu, res.max_lead_ns);
	}
}

/* ---- runner --------------------------------------------------------------- */

static const struct {
	const char *name;
	void (*fn)(struct vt_case *t);
} vt_cases[] = {
	{ "scale_vectors", test_scale_vectors },
	{ "scale_vs_kernel_mul_u64_u32_shr", test_scale_vs_kernel_math },
	{ "pvclock_reader_fake_counter", test_pvclock_fake_counter },
	{ "atomics_kernel_backend", test_atomics_backend },
	{ "tsc_counter_vs_ktime_get_raw", test_tsc_counter },
	{ "writer_and_readers_on_every_cpu", test_writer_readers },
	{ "kvmclock_records_vs_kernel_clocksource", test_kvmclock },
};

static int __init vt_selftest_init(void)
{
	unsigned int i, pass = 0, fail = 0, skip = 0, n = ARRAY_SIZE(vt_cases);

	VT_OUT("KTAP version 1");
	VT_OUT("1..%u", n);
	VT_OUT("# vtime self-test: %u online CPUs, atomics backend %s", num_online_cpus(),
	       VT_ATOMIC_BACKEND_NAME);
	for (i = 0; i < n; i++) {
		struct vt_case t = { vt_cases[i].name, 0, NULL };

		vt_cases[i].fn(&t);
		if (t.fails) {
			fail++;
			VT_OUT("not ok %u %s", i + 1, t.name);
		} else if (t.skip) {
			skip++;
			VT_OUT("ok %u %s # SKIP %s", i + 1, t.name, t.skip);
		} else {
			pass++;
			VT_OUT("ok %u %s", i + 1, t.name);
		}
	}
	VT_OUT("# Totals: pass:%u fail:%u skip:%u total:%u", pass, fail, skip, n);
	return 0;
}

static void __exit vt_selftest_exit(void)
{
}

module_init(vt_selftest_init);
module_exit(vt_selftest_exit);
MODULE_DESCRIPTION("vtime self-test: the vtime core inside the kernel, results as KTAP");
MODULE_LICENSE("Dual MIT/GPL");
