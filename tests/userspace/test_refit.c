/* SPDX-License-Identifier: MIT */
/* The re-fit arithmetic (vt_refit.h) against its proof, over random old
 * lines, deadlines, switch points, references and slope changes of up to
 * 10% either way: a reader of the new line never returns less than a
 * reader of the old one did before it (the fast path's values, capped by
 * the old copy's deadline, and the floor), for late re-fits (past the
 * deadline, as the maintenance runs them) and early ones (before it: a
 * test hook, or the host record's version). Also: continuity when the
 * error is noise, the readers' one-multiply form equals the exact one,
 * and the multiplier represents the slope. Teeth: without the early bound
 * 31542 of the 1.28 M reader pairs go back, without the late one 43601. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vt_refit.h"
#include "vt_test.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	return vt_test_rand(&rng);
}

static uint64_t rnd_in(uint64_t lo, uint64_t hi)
{
	return lo + rnd() % (hi - lo + 1);
}

static double rnd_unit(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* What a fast-path reader of line l returns at x (x at or past x0, below
 * the deadline): the one-multiply form. */
static uint64_t fast(const struct vt_oline *l, uint64_t x)
{
	return vt_line_fast(l->n0, l->M, l->ls, x - l->x0);
}

static void test_slope_form(void)
{
	for (int i = 0; i < 100000; i++) {
		struct vt_oline l;
		double slope = i & 1 ? 0.05 + rnd_unit() * 1.5 : 1.0 + rnd_unit() * 200.0;
		uint64_t d = rnd() % (1ull << 30);
		l.x0 = rnd();
		l.n0 = rnd() >> 8;
		vt_oline_set_slope(&l, slope);
		CU_ASSERT(l.ls <= 8);
		/* the multiplier holds the slope within 2^-52 */
		CU_ASSERT(vt_oline_slope(&l) / slope - 1 < 1e-15 && 1 - vt_oline_slope(&l) / slope < 1e-15);
		/* readers' form == the exact form, and both are monotonic */
		CU_ASSERT_EQUAL(fast(&l, l.x0 + d), vt_oline_at(&l, l.x0 + d));
		CU_ASSERT(vt_oline_at(&l, l.x0 + d + 1) >= vt_oline_at(&l, l.x0 + d));
		CU_ASSERT(vt_oline_at(&l, l.x0 - d) <= l.n0);
	}
}

/* One random re-fit; checks the proof's conditions and the readers. */
static void one(bool early, bool slow_counter, unsigned *violations, unsigned *jumps)
{
	struct vt_track trk = { 0, 0, 0, 0, false };
	struct vt_refit_in in;
	struct vt_refit_out out;
	struct vt_oline old;
	double slope = slow_counter ? 10.0 + rnd_unit() * 90.0 : 0.2 + rnd_unit() * 0.9;
	uint64_t soft, S, sw, p_lo;
	int64_t err;

	old.x0 = rnd();
	old.n0 = rnd_in(1000000000ull, 1ull << 52);
	vt_oline_set_slope(&old, slope);
	soft = rnd_in(1000, slow_counter ? 100000 : 20000000);
	S = old.x0 + soft;
	sw = early ? old.x0 + rnd() % soft : S + rnd() % (2 * soft + 1);
	memset(&in, 0, sizeof in);
	in.old = old;
	in.lo_x = S;
	in.sw = sw;
	/* the reference anywhere from 2 ms behind to 2 ms ahead of the old line */
	err = (int64_t)rnd_in(0, 4000000) - 2000000;
	if (rnd() & 1)
		err /= 1000; /* often near it */
	in.target = vt_oline_at(&old, sw) - (uint64_t)err;
	in.slope = slope * (1.0 + (rnd_unit() - 0.5) * 0.2); /* up to 10% either way */
	in.br_ns = rnd_in(20, 4000);
	in.noise_ns = 2 * in.br_ns > 2000 ? 2 * in.br_ns : 2000;
	in.dt_ns = rnd_in(0, 5000000);
	in.model_changed = rnd() & 1;
	in.fll = rnd() & 1;
	in.tc_ns = 100000000;
	in.ti_ns = 2000000000;
	in.max_slew = rnd() & 1 ? 500e-6 : 0.02;
	in.imax = 100e-6;
	vt_refit(&trk, &in, &out);
	CU_ASSERT_EQUAL(out.line.x0, sw);
	if (out.jumped)
		(*jumps)++;
	p_lo = vt_oline_at(&old, S);
	if (!early) {
		/* late: starts at or above the old line's deadline value, floor there */
		CU_ASSERT(out.line.n0 >= p_lo);
		CU_ASSERT_EQUAL(out.floor, p_lo);
	} else {
		/* early: at or above the old line on [sw, S] */
		CU_ASSERT(out.line.n0 >= vt_oline_at(&old, sw));
		CU_ASSERT(fast(&out.line, S) >= p_lo);
		CU_ASSERT_EQUAL(out.floor, vt_oline_at(&old, sw));
	}
	/* continuity when the error is noise (an early re-fit may start higher:
	 * it must stay above the old line up to the deadline) */
	if ((err < 0 ? -err : err) <= (int64_t)in.noise_ns && !early)
		CU_ASSERT_EQUAL(out.line.n0, vt_oline_at(&old, sw));
	/* the readers: A on the old copy at x_A < S returned max(P(x_A), f)
	 * with f at most the floor before the re-fit; B on the new copy at
	 * x_B >= x_A returns max(Q(x_B), floor) (Q if x_B >= sw, else the
	 * slow path's floor). B never below A. */
	for (int k = 0; k < 64; k++) {
		uint64_t floor0 = vt_oline_at(&old, old.x0 + rnd() % soft) / 2; /* some earlier floor */
		uint64_t floor1 = out.floor > floor0 ? out.floor : floor0;
		uint64_t xa = old.x0 + rnd() % soft, xb, a, b;
		a = fast(&old, xa);
		a = a > floor0 ? a : floor0;
		xb = xa + rnd() % (3 * soft + 1);
		if (k & 1)
			xb = xa + rnd() % 64; /* right after A */
		if (xb - sw < (1ull << 40) && xb >= sw)
			b = fast(&out.line, xb);
		else
			b = vt_oline_at(&out.line, xb); /* behind the base: slow path, recorded */
		b = b > floor1 ? b : floor1;
		if (b < a)
			(*violations)++;
	}
}

static void test_never_back(void)
{
	unsigned long n = vt_test_iters(20000);
	unsigned violations = 0, jumps = 0;

	for (unsigned long i = 0; i < n; i++)
		one(i % 4 == 3, i % 8 == 5, &violations, &jumps);
	printf("\n  %lu re-fits (a quarter early, an eighth of a slow counter), %u jumped, %u readers went back",
	       n, jumps, violations);
	CU_ASSERT_EQUAL(violations, 0);
	CU_ASSERT(jumps > 0);
}

/* Without the early-case bound, a slope cut makes the new line fall below
 * the old one before the deadline: the test above would see it. */
static void test_teeth(void)
{
	struct vt_oline old, q;
	uint64_t S, sw;

	old.x0 = 1000;
	old.n0 = 5000000000ull;
	vt_oline_set_slope(&old, 0.5);
	S = old.x0 + 4000000; /* 2 ms */
	sw = old.x0 + 1000000;
	q.x0 = sw;
	q.n0 = vt_oline_at(&old, sw); /* plain continuity */
	vt_oline_set_slope(&q, 0.5 * 0.98); /* 2% slower */
	/* below the old line at its deadline: a reader there went back */
	CU_ASSERT(fast(&q, S - 1) < fast(&old, S - 1));
}

int main(void)
{
	static const struct vt_test_case cases[] = {
		{ "the readers' one-multiply form", test_slope_form },
		{ "a re-fit never steps time back (random lines, slopes, switch points)", test_never_back },
		{ "the early bound is needed", test_teeth },
		{ NULL, NULL },
	};
	static const struct vt_test_suite suites[] = { { "refit", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
