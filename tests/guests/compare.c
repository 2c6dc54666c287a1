/* SPDX-License-Identifier: MIT */
/* vtg_compare: how closely vtime_now_ns() and vtime_realtime_ns() follow
 * CLOCK_MONOTONIC and CLOCK_REALTIME while the kernel's clock is adjusted
 * on a schedule (issue 12: ADJ_FREQUENCY +-500 ppm, ADJ_TICK +-1%, a
 * chrony-sized slew, CLOCK_REALTIME steps).
 *
 * Each sample brackets one vtime read between two clock_gettime reads; the
 * error is how far the vtime value lies outside [before, after], 0 inside.
 * A preempted sample only widens the bracket, so noise can hide an error
 * but never invent one: the figures are lower bounds of the true error, and
 * the bracket widths are printed with them.
 *
 * One JSON line per phase on stdout ("VTG {...}"), for
 * scripts/guests/run. Changing the clock needs --adjust and runs only inside
 * the suite's guests (see vtg_in_guest()); without --adjust only the steady
 * phase is measured, which is safe anywhere. */
#include <stdlib.h>
#include <sys/time.h>

#include "vtg.h"

#define RT_OVER_NS 2000     /* realtime's steady bound */
#define RT_FAR_NS 1000000   /* a step not followed yet */

enum change { CH_NONE, CH_FREQ, CH_TICK_FREQ, CH_SETTIMEOFDAY, CH_CLOCK_SETTIME, CH_CLOCKSOURCE };
enum len { L_STEADY, L_CHANGE, L_SLEW };

struct phase {
	const char *name;
	const char *kind; /* what the driver's bounds table keys on */
	enum change ch;
	double ppm;
	long tick;
	int64_t step_ns;
	enum len len;
	const char *what;
};

static const struct phase schedule[] = {
	{ "steady", "steady", CH_NONE, 0, 0, 0, L_STEADY, "no change" },
	{ "freq+500", "freq", CH_FREQ, 500, 0, 0, L_CHANGE, "adjtimex ADJ_FREQUENCY +500 ppm" },
	{ "freq-500", "freq", CH_FREQ, -500, 0, 0, L_CHANGE, "adjtimex ADJ_FREQUENCY -500 ppm (a 1000 ppm swing)" },
	{ "freq0", "freq", CH_FREQ, 0, 0, 0, L_CHANGE, "adjtimex ADJ_FREQUENCY 0" },
	{ "tick+1%", "tick", CH_TICK_FREQ, 0, 10100, 0, L_CHANGE, "clock_adjtime ADJ_TICK 10100 (+1%)" },
	{ "tick-1%", "tick", CH_TICK_FREQ, 0, 9900, 0, L_CHANGE, "clock_adjtime ADJ_TICK 9900 (-1%)" },
	{ "tick0", "tick", CH_TICK_FREQ, 0, 10000, 0, L_CHANGE, "clock_adjtime ADJ_TICK 10000" },
	/* chrony on Linux slews through tick and frequency, at most maxslewrate
	 * (83,333 ppm by default): 10833 us ticks + 33.3 ppm */
	{ "slew83k", "slew", CH_TICK_FREQ, 33.333, 10833, 0, L_SLEW,
	  "clock_adjtime ADJ_TICK 10833 + ADJ_FREQUENCY +33.3 ppm (chrony's maxslewrate, 83,333 ppm)" },
	{ "slew-end", "slew_end", CH_TICK_FREQ, 0, 10000, 0, L_CHANGE, "clock_adjtime ADJ_TICK 10000, ADJ_FREQUENCY 0" },
	{ "rt-step+1s", "rt_step", CH_SETTIMEOFDAY, 0, 0, 1000000000, L_CHANGE, "settimeofday CLOCK_REALTIME +1 s" },
	{ "rt-step-1s", "rt_step", CH_CLOCK_SETTIME, 0, 0, -1000000000, L_CHANGE, "clock_settime CLOCK_REALTIME -1 s" },
};

struct side {
	int64_t emin, emax;      /* signed error extremes (vtime - bracket) */
	uint64_t peak;           /* max |error| */
	int64_t steady;          /* max |error| in the steady window, -1 if none */
	uint64_t last_over;      /* ns after the change of the last |error| > over */
	uint64_t last_far;       /* ... > RT_FAR_NS */
	bool over_at_end;
	uint64_t br_sum, br_max, wide; /* bracket widths; wide: > 1 us */
};

struct stats {
	uint64_t samples, back, back_max;
	struct side mono, rt;
};

static struct {
	unsigned settle_ms, steady_ms, slew_ms, warmup_ms;
	unsigned over_ns; /* "back under": the steady bound (1 us; 2 us for slow clocksources) */
	bool adjust;
	const char *label;
	const char *switch_cs; /* last phase: the kernel's clocksource switched to this (then back) */
} opt = { 1000, 500, 500, 1000, 1000, false, "auto", NULL };

static uint64_t g_last; /* the previous vtime_now_ns(), across phases */

static int64_t bracket_err(uint64_t lo, uint64_t v, uint64_t hi)
{
	if (v < lo)
		return -(int64_t)(lo - v);
	if (v > hi)
		return (int64_t)(v - hi);
	return 0;
}

static void side_init(struct side *s)
{
	memset(s, 0, sizeof *s);
	s->emin = INT64_MAX;
	s->emax = INT64_MIN;
	s->steady = -1;
}

static void side_add(struct side *s, int64_t e, uint64_t br, uint64_t since, uint64_t steady_from, uint64_t over)
{
	uint64_t a = e < 0 ? (uint64_t)-e : (uint64_t)e;

	if (e < s->emin)
		s->emin = e;
	if (e > s->emax)
		s->emax = e;
	if (a > s->peak)
		s->peak = a;
	if (since >= steady_from && (int64_t)a > s->steady)
		s->steady = (int64_t)a;
	s->over_at_end = a > over;
	if (a > over)
		s->last_over = since;
	if (a > RT_FAR_NS)
		s->last_far = since;
	s->br_sum += br;
	if (br > s->br_max)
		s->br_max = br;
	if (br > 1000)
		s->wide++;
}

/* Samples until CLOCK_MONOTONIC reaches t_end. Times are ns after t_change. */
static void sample(struct stats *st, uint64_t t_change, uint64_t t_end, uint64_t steady_from, uint64_t rt_steady_from)
{
	for (;;) {
		uint64_t c0 = vtg_clk(CLOCK_MONOTONIC), v = vtime_now_ns(), c1 = vtg_clk(CLOCK_MONOTONIC);
		uint64_t r0 = vtg_clk(CLOCK_REALTIME), rv = vtime_realtime_ns(), r1 = vtg_clk(CLOCK_REALTIME);
		uint64_t since = c1 - t_change;

		st->samples++;
		if (v < g_last) {
			st->back++;
			if (g_last - v > st->back_max)
				st->back_max = g_last - v;
		}
		g_last = v;
		side_add(&st->mono, bracket_err(c0, v, c1), c1 - c0, since, steady_from, opt.over_ns);
		side_add(&st->rt, bracket_err(r0, rv, r1), r1 - r0, since, rt_steady_from, RT_OVER_NS);
		if (c1 >= t_end)
			return;
	}
}

static int apply(const struct phase *p)
{
	struct timespec ts;
	struct timeval tv;
	int64_t ns;

	switch (p->ch) {
	case CH_NONE:
		return 0;
	case CH_FREQ:
		return vtg_adj_freq(p->ppm);
	case CH_TICK_FREQ:
		return vtg_adj_tick_freq(p->tick, p->ppm);
	case CH_SETTIMEOFDAY:
		ns = (int64_t)vtg_clk(CLOCK_REALTIME) + p->step_ns;
		tv.tv_sec = (time_t)(ns / 1000000000);
		tv.tv_usec = (suseconds_t)(ns % 1000000000 / 1000);
		return settimeofday(&tv, NULL) < 0 ? -errno : 0;
	case CH_CLOCK_SETTIME:
		ns = (int64_t)vtg_clk(CLOCK_REALTIME) + p->step_ns;
		ts.tv_sec = (time_t)(ns / 1000000000);
		ts.tv_nsec = (long)(ns % 1000000000);
		return clock_settime(CLOCK_REALTIME, &ts) < 0 ? -errno : 0;
	case CH_CLOCKSOURCE:
		return vtg_set_clocksource(opt.switch_cs);
	}
	return -EINVAL;
}

static void print_side(const char *pfx, const struct side *s, uint64_t n, uint64_t over_ms_cap)
{
	char k[48];

#define K(name) (snprintf(k, sizeof k, "%s%s", pfx, name), k)
	vtg_kv_i64(K("err_min_ns"), n ? s->emin : 0);
	vtg_kv_i64(K("err_max_ns"), n ? s->emax : 0);
	vtg_kv_u64(K("peak_ns"), s->peak);
	vtg_kv_i64(K("steady_ns"), s->steady);
	/* settle: when the error was last above the threshold; the phase's
	 * length if it still was at the end (never settled) */
	vtg_kv_dbl(K("settle_ms"), s->over_at_end ? (double)over_ms_cap : s->last_over / 1e6);
	vtg_kv_bool(K("settled"), !s->over_at_end);
	vtg_kv_u64(K("bracket_mean_ns"), n ? s->br_sum / n : 0);
	vtg_kv_u64(K("bracket_max_ns"), s->br_max);
	vtg_kv_u64(K("wide_brackets"), s->wide);
#undef K
}

static void run_phase(const struct phase *p, int idx)
{
	struct vtime_clock_info ci;
	struct stats st;
	uint64_t len_ns, steady_from, rt_steady_from, t_change;
	double kppm;
	long ktick;
	char cs[32];
	int rc;

	switch (p->len) {
	case L_STEADY:
		len_ns = 2ull * opt.steady_ms * 1000000u;
		break;
	case L_SLEW:
		len_ns = (uint64_t)opt.slew_ms * 1000000u;
		break;
	default:
		len_ns = ((uint64_t)opt.settle_ms + opt.steady_ms) * 1000000u;
	}
	/* mono is steady right away where only realtime changes, and never
	 * within a slew (the phase is the transient) */
	steady_from = p->ch == CH_NONE || p->kind[0] == 'r' ? 0 : (uint64_t)opt.settle_ms * 1000000u;
	if (p->len == L_SLEW)
		steady_from = UINT64_MAX;
	rt_steady_from = p->ch == CH_NONE ? 0 : (uint64_t)opt.settle_ms * 1000000u;
	if (p->len == L_SLEW)
		rt_steady_from = UINT64_MAX;

	memset(&st, 0, sizeof st);
	side_init(&st.mono);
	side_init(&st.rt);
	rc = apply(p);
	t_change = vtg_clk(CLOCK_MONOTONIC);
	sample(&st, t_change, t_change + len_ns, steady_from, rt_steady_from);
	vtime_clock_info(&ci);
	vtg_adj_read(&kppm, &ktick);
	vtg_clocksource(cs, sizeof cs);

	vtg_begin("phase");
	vtg_kv_str("run", opt.label);
	vtg_kv_i64("index", idx);
	vtg_kv_str("phase", p->name);
	vtg_kv_str("kind", p->kind);
	vtg_kv_str("change", p->what);
	vtg_kv_i64("apply_rc", rc);
	vtg_kv_dbl("dur_ms", (double)len_ns / 1e6);
	vtg_kv_u64("samples", st.samples);
	vtg_kv_u64("back", st.back);
	vtg_kv_u64("back_max_ns", st.back_max);
	print_side("", &st.mono, st.samples, (unsigned)(len_ns / 1000000u));
	print_side("rt_", &st.rt, st.samples, (unsigned)(len_ns / 1000000u));
	vtg_kv_dbl("rt_follow_ms", st.rt.last_far / 1e6);
	vtg_kv_dbl("kernel_freq_ppm", kppm);
	vtg_kv_i64("kernel_tick", ktick);
	vtg_kv_str("clocksource", cs);
	vtg_kv_info(&ci);
	vtg_end();
}

static void usage(void)
{
	fprintf(stderr, "usage: vtg_compare [--adjust] [--label NAME] [--settle-ms N] [--steady-ms N]\n"
			"                   [--slew-ms N] [--warmup-ms N] [--over-ns N]\n"
			"  --adjust  apply the schedule of kernel clock changes (only inside the\n"
			"            guests suite's qemu guests; refused elsewhere)\n"
			"  --over-ns N  settled: |error| stays at most N ns (default 1000)\n"
			"  --switch-clocksource NAME  last phase (with --adjust): the kernel's\n"
			"            clocksource switched to NAME, then back\n");
	exit(2);
}

static unsigned num(const char *s)
{
	char *end;
	unsigned long v = s ? strtoul(s, &end, 10) : 0;

	if (!s || end == s || *end || v > 600000)
		usage();
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	struct vtime_clock_info ci;
	struct stats warm;
	uint64_t t0, init_cost;
	char cs[32];
	int n = (int)(sizeof schedule / sizeof schedule[0]);

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--adjust"))
			opt.adjust = true;
		else if (!strcmp(a, "--label") && i + 1 < argc)
			opt.label = argv[++i];
		else if (!strcmp(a, "--settle-ms"))
			opt.settle_ms = num(i + 1 < argc ? argv[++i] : NULL);
		else if (!strcmp(a, "--steady-ms"))
			opt.steady_ms = num(i + 1 < argc ? argv[++i] : NULL);
		else if (!strcmp(a, "--slew-ms"))
			opt.slew_ms = num(i + 1 < argc ? argv[++i] : NULL);
		else if (!strcmp(a, "--over-ns"))
			opt.over_ns = num(i + 1 < argc ? argv[++i] : NULL);
		else if (!strcmp(a, "--switch-clocksource") && i + 1 < argc)
			opt.switch_cs = argv[++i];
		else if (!strcmp(a, "--warmup-ms"))
			opt.warmup_ms = num(i + 1 < argc ? argv[++i] : NULL);
		else
			usage();
	}
	if (opt.adjust && !vtg_in_guest()) {
		fprintf(stderr, "vtg_compare: --adjust changes the kernel's clock: refused outside the guests "
				"suite's qemu guests (no %s, or VTIME_GUEST is not 1)\n",
			VTG_GUEST_MARKER);
		return 2;
	}
	if (opt.adjust && vtg_adj_reset() != 0) {
		fprintf(stderr, "vtg_compare: adjtimex: %s\n", strerror(errno));
		return 1;
	}

	/* the first call initialises; then let the line settle (a measured
	 * frequency converges while clock_gettime answers) */
	t0 = vtg_clk(CLOCK_MONOTONIC);
	(void)vtime_now_ns();
	init_cost = vtg_clk(CLOCK_MONOTONIC) - t0;
	memset(&warm, 0, sizeof warm);
	side_init(&warm.mono);
	side_init(&warm.rt);
	t0 = vtg_clk(CLOCK_MONOTONIC);
	sample(&warm, t0, t0 + (uint64_t)opt.warmup_ms * 1000000u, 0, 0);
	vtime_clock_info(&ci);
	/* a busy host can keep a measured frequency converging longer: the
	 * phases are meant for the line, so wait for it (up to 5 s more) */
	for (int i = 0; i < 50 && vtg_converging(&ci); i++) {
		uint64_t t = vtg_clk(CLOCK_MONOTONIC);
		sample(&warm, t, t + 100000000u, 0, 0);
		vtime_clock_info(&ci);
	}
	vtg_clocksource(cs, sizeof cs);
	vtg_begin("run");
	vtg_kv_str("run", opt.label);
	vtg_kv_str("env_source", getenv("VTIME_CLOCK_SOURCE") ? getenv("VTIME_CLOCK_SOURCE") : "");
	vtg_kv_bool("adjust", opt.adjust);
	vtg_kv_u64("over_ns", opt.over_ns);
	vtg_kv_u64("first_call_ns", init_cost);
	vtg_kv_u64("init_ns", ci.init_ns);
	vtg_kv_u64("nominal_hz", ci.nominal_hz);
	vtg_kv_dbl("freq_hz", ci.freq_hz);
	vtg_kv_dbl("warmup_ms", (vtg_clk(CLOCK_MONOTONIC) - t0) / 1e6);
	vtg_kv_u64("warmup_samples", warm.samples);
	vtg_kv_u64("warmup_back", warm.back);
	vtg_kv_str("clocksource", cs);
	vtg_kv_info(&ci);
	vtg_end();

	for (int i = 0; i < n; i++) {
		if (!opt.adjust && schedule[i].ch != CH_NONE)
			continue;
		run_phase(&schedule[i], i);
	}
	if (opt.adjust && opt.switch_cs) {
		/* the kernel stops using the counter vtime chose because the
		 * kernel used it (as its watchdog does with an unstable TSC):
		 * vtime must leave the line within about a second; then back */
		static const struct phase cs = { "cs-switch", "cs_switch", CH_CLOCKSOURCE, 0, 0, 0, L_CHANGE,
						  "the kernel's clocksource switched away from the counter" };
		char was[32];
		vtg_clocksource(was, sizeof was);
		run_phase(&cs, n);
		if (was[0])
			(void)vtg_set_clocksource(was);
	}
	if (opt.adjust)
		(void)vtg_adj_reset();
	vtg_begin("run_end");
	vtg_kv_str("run", opt.label);
	vtg_end();
	return 0;
}
