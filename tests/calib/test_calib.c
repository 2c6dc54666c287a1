/* SPDX-License-Identifier: MIT */
/* Calibration engine unit tests: first line, continuity of every re-fit,
 * convergence, bounded slew, forward steps, slow-sample rejection, the
 * feeder try-lock, the read window, exactness over long runs. Each runs from
 * counter/reference 0 and from just below 2^64. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <vtime/calib.h>
#include <vtime/error.h>
#include <vtime/pvclock.h>

#include "fake_counter.h"
#include "vt_test.h"

/* The feed's event mask, or its error (negative). */
static inline int feed_ev(struct vtime_calib *e, const struct vtime_calib_sample *s)
{
	unsigned ev = 0;
	int err = vtime_calib_feed(e, s, &ev);
	return err ? err : (int)ev;
}

static const uint64_t bases[] = { 0, UINT64_MAX - 5000000000ull };

/* A true clock: counter at hz, reference = r0 + (c - c0) / hz. */
struct truth {
	uint64_t c0, r0;
	double hz;
};

static uint64_t ref_at(const struct truth *t, uint64_t c)
{
	return t->r0 + (uint64_t)llround((double)(c - t->c0) * 1e9 / t->hz);
}

static uint64_t ctr_at(const struct truth *t, double ns)
{
	return t->c0 + (uint64_t)llround(ns * t->hz / 1e9);
}

static struct vtime_calib_sample sample(const struct truth *t, double ns, uint64_t cost)
{
	struct vtime_calib_sample s;
	s.counter = ctr_at(t, ns);
	s.ref_ns = ref_at(t, s.counter);
	s.cost_ns = cost;
	return s;
}

static void test_abi(void)
{
	CU_ASSERT_EQUAL(sizeof(struct vtime_calib_sample), 24);
	CU_ASSERT_EQUAL(sizeof(struct vtime_calib_line), 24);
	CU_ASSERT_EQUAL(offsetof(struct vtime_calib_line, mul), 16);
	CU_ASSERT_EQUAL(offsetof(struct vtime_calib_line, shift), 20);
	CU_ASSERT_EQUAL(sizeof(struct vtime_calib_stats), 16 * 8);
	CU_ASSERT_EQUAL(offsetof(struct vtime_calib_stats, reserved), 12 * 8);
	CU_ASSERT_EQUAL(offsetof(struct vtime_calib_config, counter), 48);
	CU_ASSERT_EQUAL(offsetof(struct vtime_calib_config, reserved), 48 + sizeof(struct vtime_counter));
	CU_ASSERT_EQUAL(offsetof(struct vtime_calib, seq), 0);
	CU_ASSERT_EQUAL(offsetof(struct vtime_calib, base_counter), 8);
	CU_ASSERT_EQUAL(offsetof(struct vtime_calib, base_ns), 16);
	CU_ASSERT_EQUAL(offsetof(struct vtime_calib, scale), 24);
	CU_ASSERT_EQUAL(offsetof(struct vtime_calib, lock), 64);
	CU_ASSERT_EQUAL(offsetof(struct vtime_calib, cfg), 128);
}

static void test_config(void)
{
	struct vtime_calib e;
	struct vtime_calib_config c;
	vtime_calib_config_default(&c);
	CU_ASSERT_EQUAL(c.max_slew_ppm, 500);
	CU_ASSERT_EQUAL(c.step_ns, 1000000);
	CU_ASSERT_EQUAL(vtime_calib_init(&e, &c), 0);
	CU_ASSERT_EQUAL(vtime_calib_init(&e, NULL), 0);
	CU_ASSERT_EQUAL(vtime_calib_init(NULL, &c), VTIME_EINVAL);
	c.max_slew_ppm = 0;
	CU_ASSERT_EQUAL(vtime_calib_init(&e, &c), VTIME_EINVAL);
	vtime_calib_config_default(&c);
	c.hz_hint = 1; /* 1 Hz: shift out of the pvclock range */
	CU_ASSERT_EQUAL(vtime_calib_init(&e, &c), VTIME_EINVAL);
	CU_ASSERT_EQUAL(feed_ev(NULL, NULL), VTIME_EINVAL);
}

static void test_first_line(void)
{
	for (unsigned b = 0; b < 2; b++) {
		struct truth t = { bases[b], bases[b] + 7, 2.6e9 };
		struct vtime_calib e;
		struct vtime_calib_line l;
		struct vt_fake_counter fc = { 0 };
		struct vtime_counter ctr = vt_fake_counter_hook(&fc);
		uint64_t ns;

		vtime_calib_init(&e, NULL);
		CU_ASSERT_EQUAL(vtime_calib_read(&e, &ctr, &ns), VTIME_ENODATA);
		CU_ASSERT_EQUAL(vtime_calib_line_get(&e, &l), VTIME_ENODATA);
		struct vtime_calib_sample s1 = sample(&t, 1e6, 50), s2 = sample(&t, 11e6, 50);
		CU_ASSERT_EQUAL(feed_ev(&e, &s1), VTIME_CALIB_EV_USED); /* no hint: no line yet */
		int ev = feed_ev(&e, &s2);
		CU_ASSERT(ev & VTIME_CALIB_EV_FIRST);
		CU_ASSERT_EQUAL_FATAL(vtime_calib_line_get(&e, &l), 0);
		CU_ASSERT_EQUAL(l.base_counter, s2.counter);
		CU_ASSERT_EQUAL(l.base_ns, s2.ref_ns);
		fc.value = s2.counter + 2600000; /* +1 ms */
		CU_ASSERT_EQUAL(vtime_calib_read(&e, &ctr, &ns), 0);
		CU_ASSERT(llabs((long long)(ns - (s2.ref_ns + 1000000))) <= 2);

		/* with a hint the first sample publishes */
		struct vtime_calib_config c;
		vtime_calib_config_default(&c);
		c.hz_hint = 2600000000ull;
		vtime_calib_init(&e, &c);
		ev = feed_ev(&e, &s1);
		CU_ASSERT(ev & VTIME_CALIB_EV_FIRST);
		CU_ASSERT_EQUAL(vtime_calib_line_get(&e, &l), 0);
		/* 2^33 / 2.6 = 3303820996.92: KVM floors to ...996, the engine
		 * rounds to nearest */
		CU_ASSERT_EQUAL(l.mul, 3303820997u);
		CU_ASSERT_EQUAL(l.shift, -1);
	}
}

/* The line form is the pvclock formula: same result for forward deltas. */
static void test_line_is_pvclock(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 10000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		struct vtime_calib_line l = { x, x * 3, (uint32_t)(0x80000000u | (x >> 33)), (int8_t)((x % 9) - 4), { 0 } };
		struct vtime_pvclock_vcpu_time_info r = { 0 };
		r.tsc_timestamp = l.base_counter;
		r.system_time = l.base_ns;
		r.tsc_to_system_mul = l.mul;
		r.tsc_shift = l.shift;
		uint64_t c = l.base_counter + (x >> 30);
		if (vtime_calib_line_apply(&l, c) != vtime_pvclock_time(&r, c)) {
			CU_FAIL("line differs from the pvclock formula");
			break;
		}
	}
}

/* Continuity: at every re-fit the new line's base equals the old line at
 * the switch point (read by the engine's own counter inside the window). */
struct refit_probe {
	struct vt_fake_counter fc;
};

static void test_continuity(void)
{
	for (unsigned b = 0; b < 2; b++) {
		struct truth t = { bases[b], bases[b] + 1000, 2.6e9 * (1 + 37e-6) };
		struct vtime_calib e;
		struct vtime_calib_config c;
		struct vt_fake_counter fc = { 0 };
		unsigned refits = 0, bad = 0;
		uint64_t maxgain = 0;

		vtime_calib_config_default(&c);
		c.hz_hint = 2600000000ull; /* 37 ppm off: the engine must slew and re-fit */
		c.counter = vt_fake_counter_hook(&fc);
		vtime_calib_init(&e, &c);
		for (int i = 0; i < 3000; i++) {
			double now = 1e6 + i * 1e6;
			struct vtime_calib_sample s = sample(&t, now, 40 + (i * 7919) % 60);
			struct vtime_calib_line before, after;
			int have = vtime_calib_line_get(&e, &before) == 0;
			fc.value = s.counter + 1000 + (uint64_t)(i % 13); /* switch point: a bit after the sample */
			int ev = feed_ev(&e, &s);
			CU_ASSERT_FATAL(ev >= 0);
			if (have && (ev & VTIME_CALIB_EV_REFIT)) {
				refits++;
				CU_ASSERT_EQUAL_FATAL(vtime_calib_line_get(&e, &after), 0);
				CU_ASSERT(!(ev & VTIME_CALIB_EV_STEP));
				/* readers see the floor: the carried fraction may add up
				 * to 2 ns at the switch, never take any away */
				uint64_t was = vtime_calib_line_apply(&before, after.base_counter);
				if (after.base_ns - was > 2 || after.base_counter != fc.value)
					bad++;
				if (after.base_ns - was > maxgain)
					maxgain = after.base_ns - was;
				CU_ASSERT(after.mul >= 0x80000000u); /* positive, normalised slope */
			}
		}
		struct vtime_calib_stats st;
		vtime_calib_stats_get(&e, &st);
		printf("\n  base %#llx: %u re-fits, %u discontinuous, max gain at a switch %llu ns; hz %llu (truth %.1f)",
		       (unsigned long long)bases[b], refits, bad, (unsigned long long)maxgain, (unsigned long long)st.hz, t.hz);
		CU_ASSERT(refits > 100);
		CU_ASSERT_EQUAL(bad, 0);
		CU_ASSERT_EQUAL(st.refits, refits + 1);
		CU_ASSERT_EQUAL(st.steps, 0);
	}
}

static double ppm_err(const struct vtime_calib *e, double hz)
{
	struct vtime_calib_stats st;
	vtime_calib_stats_get(e, &st);
	return ((double)st.hz - hz) / hz * 1e6;
}

/* Frequency converges within 0.1 ppm with jittery samples and 10% of them
 * preempted (cost 30 us, reference read up to 30 us late). */
static void test_convergence(void)
{
	for (unsigned b = 0; b < 2; b++) {
		struct truth t = { bases[b], bases[b] + 12345, 2599999000.0 * (1 - 23.7e-6) };
		struct vtime_calib e;
		uint64_t x = 12345 + b;
		vtime_calib_init(&e, NULL);
		for (int i = 0; i < 2000; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			uint64_t cost = 40 + x % 40;
			struct vtime_calib_sample s = sample(&t, 1e6 + i * 10e6, cost);
			s.ref_ns += (int64_t)(x >> 20) % (int64_t)(cost / 2); /* within the sample's error bound */
			if (x % 10 == 0) {
				s.cost_ns = 30000;
				s.ref_ns += (x >> 40) % 30000; /* preempted: late reference */
			}
			CU_ASSERT_FATAL(feed_ev(&e, &s) >= 0);
		}
		struct vtime_calib_stats st;
		vtime_calib_stats_get(&e, &st);
		double err = ppm_err(&e, t.hz);
		printf("\n  base %#llx: ppm error %.4f, unc %llu ppb, used %llu rejected %llu, |offset| %lld ns",
		       (unsigned long long)bases[b], err, (unsigned long long)st.freq_unc_ppb,
		       (unsigned long long)st.samples_used, (unsigned long long)st.samples_rejected,
		       (long long)st.offset_ns);
		CU_ASSERT(fabs(err) < 0.1);
		CU_ASSERT(st.samples_rejected > 100);
		CU_ASSERT(st.freq_unc_ppb < 100);
		CU_ASSERT(llabs(st.offset_ns) < 100);
	}
}

/* Reference steps back 20 ms (line ahead): no step back, absorbed by slewing
 * at most max_slew_ppm, line values never decrease, slope stays positive. */
static void test_backward_slews(void)
{
	for (unsigned b = 0; b < 2; b++) {
		struct truth t = { bases[b], bases[b] + 50000000, 2.6e9 };
		struct vtime_calib e;
		struct vtime_calib_config c;
		vtime_calib_config_default(&c);
		c.hz_hint = 2600000000ull;
		vtime_calib_init(&e, &c);
		for (int i = 0; i < 200; i++) {
			struct vtime_calib_sample s = sample(&t, i * 10e6, 50);
			feed_ev(&e, &s);
		}
		t.r0 -= 20000000; /* reference jumps back 20 ms */
		uint64_t prev_val = 0;
		struct vtime_calib_line l;
		int first = 1, steps = 0;
		double max_rate_dev = 0;
		for (int i = 200; i < 200 + 6000; i++) {
			struct vtime_calib_sample s = sample(&t, i * 10e6, 50);
			int ev = feed_ev(&e, &s);
			steps += !!(ev & VTIME_CALIB_EV_STEP);
			vtime_calib_line_get(&e, &l);
			uint64_t v = vtime_calib_line_apply(&l, s.counter);
			if (!first)
				CU_ASSERT((int64_t)(v - prev_val) > 0);
			/* published rate vs truth */
			double rate = (double)l.mul * ldexp(1.0, l.shift - 32);
			double dev = (rate * t.hz / 1e9 - 1) * 1e6;
			if (fabs(dev) > max_rate_dev)
				max_rate_dev = fabs(dev);
			prev_val = v;
			first = 0;
		}
		struct vtime_calib_stats st;
		vtime_calib_stats_get(&e, &st);
		printf("\n  base %#llx: 20 ms back: steps %d, max rate deviation %.1f ppm, final offset %lld ns",
		       (unsigned long long)bases[b], steps, max_rate_dev, (long long)st.offset_ns);
		CU_ASSERT_EQUAL(steps, 0);
		CU_ASSERT(max_rate_dev <= 500.5);
		CU_ASSERT(max_rate_dev >= 400); /* it did slew near the bound */
		/* 20 ms at <= 500 ppm needs >= 40 s; 60 s later it is absorbed */
		CU_ASSERT(llabs(st.offset_ns) < 10000);
	}
}

/* Reference jumps forward 3 s (resume): one explicit step, reported. */
static void test_forward_step(void)
{
	for (unsigned b = 0; b < 2; b++) {
		struct truth t = { bases[b], bases[b] + 100, 2.6e9 };
		struct vtime_calib e;
		vtime_calib_init(&e, NULL);
		for (int i = 0; i < 100; i++) {
			struct vtime_calib_sample s = sample(&t, i * 10e6, 50);
			feed_ev(&e, &s);
		}
		t.r0 += 3000000000ull;
		struct vtime_calib_sample s = sample(&t, 100 * 10e6, 50);
		int ev = feed_ev(&e, &s);
		CU_ASSERT(ev & VTIME_CALIB_EV_STEP);
		CU_ASSERT(ev & VTIME_CALIB_EV_DISCONT);
		struct vtime_calib_line l;
		vtime_calib_line_get(&e, &l);
		CU_ASSERT(llabs((long long)(vtime_calib_line_apply(&l, s.counter) - s.ref_ns)) <= 2);
		struct vtime_calib_stats st;
		vtime_calib_stats_get(&e, &st);
		CU_ASSERT_EQUAL(st.steps, 1);
		CU_ASSERT(llabs((long long)st.last_step_ns - 3000000000ll) < 1000);
		/* the frequency estimate survives the step (prior kept) */
		for (int i = 101; i < 106; i++) {
			s = sample(&t, i * 10e6, 50);
			CU_ASSERT(!(feed_ev(&e, &s) & VTIME_CALIB_EV_STEP));
		}
		CU_ASSERT(fabs(ppm_err(&e, t.hz)) < 1);
		/* a small forward error (below step_ns) is slewed, not stepped */
		t.r0 += 500000;
		s = sample(&t, 106 * 10e6, 50);
		ev = feed_ev(&e, &s);
		CU_ASSERT(!(ev & VTIME_CALIB_EV_STEP));
	}
}

static void test_slow_samples_rejected(void)
{
	struct truth t = { 0, 0, 1e9 };
	struct vtime_calib e;
	vtime_calib_init(&e, NULL);
	for (int i = 0; i < 10; i++) {
		struct vtime_calib_sample s = sample(&t, i * 1e6, 30);
		CU_ASSERT(feed_ev(&e, &s) & VTIME_CALIB_EV_USED);
	}
	struct vtime_calib_sample s = sample(&t, 11e6, 100000);
	s.ref_ns += 90000;
	CU_ASSERT_EQUAL(feed_ev(&e, &s), VTIME_CALIB_EV_REJECTED);
	/* a lasting slowdown is eventually accepted (the floor creeps up) */
	int accepted = -1;
	for (int i = 0; i < 200 && accepted < 0; i++) {
		s = sample(&t, 12e6 + i * 1e6, 5000);
		if (feed_ev(&e, &s) & VTIME_CALIB_EV_USED)
			accepted = i;
	}
	struct vtime_calib_stats st;
	vtime_calib_stats_get(&e, &st);
	printf("\n  slow reference accepted after %d rejections", accepted);
	CU_ASSERT(accepted > 3 && accepted < 100);
	CU_ASSERT(st.samples_rejected >= 4);
	/* out of order: counter behind, reference not ahead */
	s = sample(&t, 1e6, 30);
	CU_ASSERT_EQUAL(feed_ev(&e, &s), VTIME_CALIB_EV_REJECTED);
}

/* The feeder try-lock and the read window, exercised from inside the
 * publish window (the engine's switch-point counter is the hook). */
static struct vtime_calib *g_e;
static int g_inner_feed = 1, g_inner_read = 1;
static void inside_publish(struct vt_fake_counter *fc)
{
	struct vtime_calib_sample s = { fc->value + 100, 0, 10 };
	struct vt_fake_counter rc = { fc->value, 1, 0, NULL, NULL };
	struct vtime_counter ctr = vt_fake_counter_hook(&rc);
	uint64_t ns;
	g_inner_feed = feed_ev(g_e, &s);
	g_inner_read = vtime_calib_read(g_e, &ctr, &ns);
}

static void test_trylock_and_window(void)
{
	struct truth t = { 0, 0, 1e9 };
	struct vtime_calib e;
	struct vtime_calib_config c;
	struct vt_fake_counter fc = { 0 };
	vtime_calib_config_default(&c);
	c.hz_hint = 1000000000ull;
	c.counter = vt_fake_counter_hook(&fc);
	vtime_calib_init(&e, &c);
	g_e = &e;
	struct vtime_calib_sample s = sample(&t, 1e6, 30);
	fc.value = s.counter;
	fc.on_read = inside_publish;
	CU_ASSERT(feed_ev(&e, &s) & VTIME_CALIB_EV_FIRST);
	CU_ASSERT_EQUAL(g_inner_feed, VTIME_EBUSY);   /* second feeder skipped */
	CU_ASSERT_EQUAL(g_inner_read, VTIME_ENODATA); /* first line still being published */
	s = sample(&t, 2e6, 30);
	s.ref_ns += 20000; /* forces a re-fit */
	fc.value = s.counter;
	CU_ASSERT(feed_ev(&e, &s) & VTIME_CALIB_EV_REFIT);
	CU_ASSERT_EQUAL(g_inner_feed, VTIME_EBUSY);
	CU_ASSERT_EQUAL(g_inner_read, VTIME_EAGAIN); /* odd seq: reader never used a torn line */
	fc.on_read = NULL;
	/* lock released: the next feed goes through */
	s = sample(&t, 3e6, 30);
	fc.value = s.counter;
	CU_ASSERT(feed_ev(&e, &s) >= 0);
}

/* Exactness: a day of feeds at a perfect reference; the line's error stays
 * at rounding level (re-anchoring, no accumulated drift). */
static void test_long_run_exact(void)
{
	for (unsigned b = 0; b < 2; b++) {
		struct truth t = { bases[b], bases[b] + 99, 2599999000.0 };
		struct vtime_calib e;
		struct vtime_calib_config c;
		vtime_calib_config_default(&c);
		c.hz_hint = 2599999000ull;
		vtime_calib_init(&e, &c);
		long long worst = 0;
		unsigned long n = vt_test_iters(20000) < 20000 ? vt_test_iters(20000) : 20000;
		for (unsigned long i = 0; i < n; i++) {
			struct vtime_calib_sample s = sample(&t, i * (86400e9 / n), 20);
			feed_ev(&e, &s);
			struct vtime_calib_line l;
			vtime_calib_line_get(&e, &l);
			/* error half-way to the next sample */
			uint64_t mid = ctr_at(&t, (i + 0.5) * (86400e9 / n));
			long long d = llabs((long long)(vtime_calib_line_apply(&l, mid) - ref_at(&t, mid)));
			if (d > worst)
				worst = d;
		}
		struct vtime_calib_stats st;
		vtime_calib_stats_get(&e, &st);
		printf("\n  base %#llx: %lu feeds over 1 day, worst error %lld ns, refits %llu", (unsigned long long)bases[b],
		       n, worst, (unsigned long long)st.refits);
		CU_ASSERT(worst <= 3);
	}
}

/* A counter reset (resume on some platforms): the line restarts at the new
 * counter, never behind what it showed at the previous sample. */
static void test_counter_reset(void)
{
	struct truth t = { 1000000, 5000000000ull, 1e9 };
	struct vtime_calib e;
	vtime_calib_init(&e, NULL);
	for (int i = 0; i < 50; i++) {
		struct vtime_calib_sample s = sample(&t, i * 1e6, 30);
		feed_ev(&e, &s);
	}
	struct vtime_calib_line l;
	vtime_calib_line_get(&e, &l);
	uint64_t before = vtime_calib_line_apply(&l, ctr_at(&t, 49e6));
	struct vtime_calib_sample s = { 10, ref_at(&t, ctr_at(&t, 60e6)), 30 };
	int ev = feed_ev(&e, &s);
	CU_ASSERT(ev & VTIME_CALIB_EV_DISCONT);
	vtime_calib_line_get(&e, &l);
	CU_ASSERT_EQUAL(l.base_counter, 10);
	CU_ASSERT(l.base_ns >= before);
	CU_ASSERT_EQUAL(l.base_ns, s.ref_ns);
}

/* The line's domain ends where the shifted counter delta no longer fits in
 * 64 bits (a 1 MHz counter, shift 10: 2^54 ticks, worth 2^63.97 ns).
 * Just inside, a re-fit is continuous like any other; at the edge the
 * readers' arithmetic wraps (the old line reads its base value again), so no
 * continuous re-fit exists and the engine restarts the line at the sample
 * (DISCONT), at the reference or, if that is behind, at the line's value at
 * the previous sample. (Before: the re-fit anchored at the exact, unwrapped
 * position, a jump of about 2^64 ns from what readers saw.) */
static void test_domain_edge(void)
{
	for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
		uint64_t c0 = bases[b] + 1000, r0 = bases[b] + 5000;
		struct vtime_calib_config cfg;
		struct vtime_calib e;
		struct vtime_calib_line l, l2;
		int ev;

		vtime_calib_config_default(&cfg);
		cfg.hz_hint = 1000000;
		for (int k = 0; k < 3; k++) {
			CU_ASSERT_EQUAL_FATAL(vtime_calib_init(&e, &cfg), 0);
			struct vtime_calib_sample s0 = { c0, r0, 30 };
			CU_ASSERT(feed_ev(&e, &s0) & VTIME_CALIB_EV_FIRST);
			CU_ASSERT_EQUAL_FATAL(vtime_calib_line_get(&e, &l), 0);
			CU_ASSERT_EQUAL_FATAL(l.shift, 10);
			uint64_t edge = (uint64_t)1 << (64 - l.shift);
			if (k == 0) {
				/* just inside: continuous */
				struct vtime_calib_sample s = { c0 + edge - 1, 0, 30 };
				s.ref_ns = vtime_calib_line_apply(&l, s.counter);
				ev = feed_ev(&e, &s);
				CU_ASSERT(ev > 0 && (ev & VTIME_CALIB_EV_USED));
				CU_ASSERT_EQUAL_FATAL(vtime_calib_line_get(&e, &l2), 0);
				if (ev & VTIME_CALIB_EV_REFIT) {
					uint64_t gain = l2.base_ns - vtime_calib_line_apply(&l, l2.base_counter);
					CU_ASSERT(gain <= 2);
				}
			} else {
				/* at the edge: restart at the sample */
				uint64_t ref = k == 1 ? r0 + 5000000000ull : r0 - 1000000000ull;
				struct vtime_calib_sample s = { c0 + edge, ref, 30 };
				CU_ASSERT_EQUAL(vtime_calib_line_apply(&l, s.counter), r0); /* wrapped */
				ev = feed_ev(&e, &s);
				CU_ASSERT(ev > 0 && (ev & VTIME_CALIB_EV_DISCONT) && (ev & VTIME_CALIB_EV_REFIT));
				CU_ASSERT(!(ev & VTIME_CALIB_EV_STEP));
				CU_ASSERT_EQUAL_FATAL(vtime_calib_line_get(&e, &l2), 0);
				CU_ASSERT_EQUAL(l2.base_counter, c0 + edge);
				CU_ASSERT_EQUAL(l2.base_ns, k == 1 ? ref : r0);
			}
		}
	}
}

/* A step no line can carry is not reported: after a counter jump of 2^63 - 67
 * ticks (a 2.6 THz hint) the rate estimate falls outside pvclock's shift
 * range, so the next sample, behind by far more than step_ns, publishes
 * nothing; it must then not count a step either (fuzz_calib found STEP
 * reported without a re-fit). */
static void test_no_step_without_line(void)
{
	static const struct vtime_calib_sample s[] = {
		{ 134, 18446744073709501492ull, 195 },
		{ 9223372036854775875ull, 4294917104ull, 0 },
		{ 9223372037673435203ull, 5113576432ull, 0 },
	};
	struct vtime_calib_config cfg;
	struct vtime_calib e;
	struct vtime_calib_stats st;
	unsigned steps = 0, refits = 0;

	vtime_calib_config_default(&cfg);
	cfg.hz_hint = 2644313064000ull;
	CU_ASSERT_EQUAL_FATAL(vtime_calib_init(&e, &cfg), 0);
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		int ev = feed_ev(&e, &s[i]);
		CU_ASSERT(ev > 0);
		if (ev & VTIME_CALIB_EV_STEP)
			CU_ASSERT(ev & VTIME_CALIB_EV_REFIT);
		steps += !!(ev & VTIME_CALIB_EV_STEP);
		refits += !!(ev & VTIME_CALIB_EV_REFIT);
	}
	CU_ASSERT_EQUAL(vtime_calib_stats_get(&e, &st), 0);
	CU_ASSERT_EQUAL(st.steps, steps);
	CU_ASSERT_EQUAL(st.refits, refits);
}

/* A reference exactly 2^63 ns from the line is neither ahead nor behind
 * (serial order): no step of 2^63 (fuzz_calib found a counter reset whose
 * restart stepped the line 2^63 ns "forward", to a value readers cannot
 * order against the one before). From 0 and near 2^64. */
static void test_no_step_of_2e63(void)
{
	for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
		struct vtime_calib_config cfg;
		struct vtime_calib e;
		struct vtime_calib_line l0, l1;
		uint64_t c0 = bases[b] + 1000, r0 = bases[b] + 5000;
		int ev;

		vtime_calib_config_default(&cfg);
		cfg.hz_hint = 1000000000ull;
		CU_ASSERT_EQUAL_FATAL(vtime_calib_init(&e, &cfg), 0);
		struct vtime_calib_sample s0 = { c0, r0, 30 }, s1 = { c0 + 1000000, r0 + 1000100, 30 };
		CU_ASSERT(feed_ev(&e, &s0) & VTIME_CALIB_EV_FIRST);
		CU_ASSERT(feed_ev(&e, &s1) & VTIME_CALIB_EV_USED);
		CU_ASSERT_EQUAL_FATAL(vtime_calib_line_get(&e, &l0), 0);
		/* the counter goes back (a reset) while the reference is 2^63 ns
		 * past the line at the previous sample (the line is behind that
		 * sample's reference, so the reference still moved forward) */
		uint64_t at_prev = vtime_calib_line_apply(&l0, s1.counter);
		CU_ASSERT_FATAL((int64_t)(s1.ref_ns - at_prev) > 0);
		struct vtime_calib_sample s2 = { c0 - 5000000, at_prev + ((uint64_t)1 << 63), 30 };
		ev = feed_ev(&e, &s2);
		CU_ASSERT(ev > 0 && (ev & VTIME_CALIB_EV_USED) && !(ev & VTIME_CALIB_EV_STEP));
		CU_ASSERT_EQUAL_FATAL(vtime_calib_line_get(&e, &l1), 0);
		CU_ASSERT((int64_t)(l1.base_ns - at_prev) >= 0);
	}
}

static const struct vt_test_case cases[] = {
	{ "abi: sizeof/offsetof", test_abi },
	{ "config defaults and validation", test_config },
	{ "first line: 2 samples, or 1 with a hint", test_first_line },
	{ "line is the pvclock formula", test_line_is_pvclock },
	{ "continuity: every re-fit starts on the old line", test_continuity },
	{ "frequency converges within 0.1 ppm, slow samples rejected", test_convergence },
	{ "backward error slewed <= 500 ppm, never stepped", test_backward_slews },
	{ "forward jump: one explicit step event", test_forward_step },
	{ "slow samples rejected, lasting slowdown accepted", test_slow_samples_rejected },
	{ "feeder try-lock and read window", test_trylock_and_window },
	{ "a day of feeds stays exact", test_long_run_exact },
	{ "counter reset restarts the line forward", test_counter_reset },
	{ "a counter jump at the domain's edge: continuous inside, restart beyond", test_domain_edge },
	{ "no step reported when no line can carry it", test_no_step_without_line },
	{ "no step of 2^63 ns (neither ahead nor behind)", test_no_step_of_2e63 },
	{ NULL, NULL },
};

int main(void)
{
	static const struct vt_test_suite suites[] = { { "calib", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
