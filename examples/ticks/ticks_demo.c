/* SPDX-License-Identifier: MIT */
/* An emulated 1 kHz timer through a scripted schedule of host stalls, under
 * each lost-tick policy. Prints the guest's tick count against real time as
 * a table and writes an SVG plot.
 *
 *   ticks_demo [out.svg [base_ns]]   (default ticks.svg, host clock from 0)
 *
 * base_ns offsets the host clock (e.g. 18446744073209551616 = 2^64 - 0.5 s
 * wraps it mid-run); the output does not depend on it.
 * The VMM calls vtime_ticks_update() when the engine asks (or when the guest
 * acknowledges); during a stall nothing runs, so the call happens when the
 * stall ends. The guest acknowledges each interrupt 20 us after it arrives.
 * One lane models a guest that does not trust interrupts: on each one it
 * reads its clock and accounts elapsed periods (vtime_ticks_guest_account). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vtime/error.h>
#include <vtime/ticks.h>

#define US 1000ull
#define MS 1000000ull
#define PERIOD MS        /* 1 kHz */
#define END_MS 1000u     /* simulated real time */
#define ACK_LATENCY (20 * US)
#define SLEW_RATE 4u
#define SLEW_CAP 50u

struct stall {
	uint64_t from, to; /* ns, host not running in [from, to) */
};

/* The script: one long stall, ten short ones (two ticks each), a very long
 * one (beyond the cap) and a medium one. */
static struct stall stalls[16];
static size_t nstalls;

static void make_schedule(void)
{
	stalls[nstalls++] = (struct stall){ 100500 * US, 160500 * US };
	for (unsigned k = 0; k < 10; k++)
		stalls[nstalls++] = (struct stall){ (300200 + 10000 * k) * US, (302700 + 10000 * k) * US };
	stalls[nstalls++] = (struct stall){ 550500 * US, 680500 * US };
	stalls[nstalls++] = (struct stall){ 850500 * US, 870500 * US };
}

static uint64_t after_stalls(uint64_t t)
{
	for (size_t i = 0; i < nstalls; i++)
		if (t >= stalls[i].from && t < stalls[i].to)
			return stalls[i].to;
	return t;
}

enum { L_IDEAL, L_DISCARD, L_CLOCK, L_DELAY, L_SLEW, L_SLEWCAP, NLANES };

struct lane {
	const char *name, *color, *dash, *width;
	enum vtime_ticks_policy policy;
	int guest_clock; /* the guest counts by reading its clock */
	uint32_t count[END_MS + 1]; /* guest tick count at each ms */
	struct vtime_ticks_counters engine;
	uint64_t guest_ticks;
};

static struct lane lanes[NLANES] = {
	[L_IDEAL] = { "ideal", "#000000", "6,4", "1.2", VTIME_TICKS_DISCARD, 0, { 0 }, { 0 }, 0 },
	[L_DISCARD] = { "discard", "#f4a3a3", "", "7", VTIME_TICKS_DISCARD, 0, { 0 }, { 0 }, 0 },
	[L_CLOCK] = { "discard+clock", "#ff8c00", "2,3", "2.6", VTIME_TICKS_DISCARD, 1, { 0 }, { 0 }, 0 },
	[L_DELAY] = { "delay", "#7b3fa0", "7,4", "2", VTIME_TICKS_DELAY, 0, { 0 }, { 0 }, 0 },
	[L_SLEW] = { "slew", "#1f6fd1", "", "2.2", VTIME_TICKS_SLEW, 0, { 0 }, { 0 }, 0 },
	[L_SLEWCAP] = { "slew-cap50", "#2ca02c", "9,3", "2.2", VTIME_TICKS_SLEW, 0, { 0 }, { 0 }, 0 },
};

/* Drawing order: wide lines first so the ones that coincide stay visible. */
static const int draw_order[NLANES] = { L_DISCARD, L_DELAY, L_SLEWCAP, L_SLEW, L_CLOCK, L_IDEAL };

static uint64_t base; /* host clock at real time 0 */

static void die(const char *what, int err)
{
	fprintf(stderr, "ticks_demo: %s: %s\n", what, vtime_strerror(err));
	exit(1);
}

static void run_lane(struct lane *l, int idx)
{
	struct vtime_ticks t;
	struct vtime_ticks_guest g;
	uint64_t next = PERIOD, ack_at = 0, count = 0, ms = 0;
	int pending = 0, err;

	if (idx == L_IDEAL) {
		for (unsigned i = 0; i <= END_MS; i++)
			l->count[i] = i;
		l->guest_ticks = END_MS;
		return;
	}
	if ((err = vtime_ticks_init(&t, PERIOD, l->policy, base)) != 0)
		die("init", err);
	if (idx == L_SLEWCAP)
		err = vtime_ticks_set_catchup(&t, SLEW_RATE, SLEW_CAP);
	else
		err = vtime_ticks_set_catchup(&t, SLEW_RATE, 0);
	if (err)
		die("set_catchup", err);
	if ((err = vtime_ticks_guest_init(&g, PERIOD, base)) != 0)
		die("guest_init", err);
	for (;;) {
		struct vtime_ticks_result r;
		uint64_t when = next;
		int acked;

		if (pending && ack_at < when)
			when = ack_at; /* the VMM also looks again when the guest acks */
		when = after_stalls(when);
		if (when > (uint64_t)END_MS * MS)
			break;
		/* samples up to the call: the count before this call */
		for (; ms * MS < when; ms++)
			l->count[ms] = (uint32_t)count;
		if (pending && when >= ack_at)
			pending = 0;
		acked = !pending;
		if ((err = vtime_ticks_update(&t, base + when, acked, &r)) != 0)
			die("update", err);
		if (r.deliver) {
			/* the guest's handler: count one tick, or account by clock */
			count += l->guest_clock ? vtime_ticks_guest_account(&g, base + when, NULL) : 1;
			pending = 1;
			ack_at = after_stalls(when + ACK_LATENCY);
		}
		next = r.next - base;
	}
	for (; ms <= END_MS; ms++)
		l->count[ms] = (uint32_t)count;
	l->guest_ticks = count;
	vtime_ticks_counters(&t, &l->engine);
}

static void print_table(void)
{
	printf("# vtime ticks demo: %u Hz timer, %u ms of real time, slew rate %u (cap %u for slew-cap50),\n",
	       (unsigned)(1000000000ull / PERIOD), END_MS, SLEW_RATE, SLEW_CAP);
	printf("# guest acknowledges %llu us after each interrupt. Host stalls (ms):",
	       (unsigned long long)(ACK_LATENCY / US));
	for (size_t i = 0; i < nstalls; i++)
		printf(" [%.1f,%.1f)", stalls[i].from / 1e6, stalls[i].to / 1e6);
	printf("\n# guest tick count per policy (lag = ideal - count)\n");
	printf("%6s", "t_ms");
	for (int i = 0; i < NLANES; i++)
		printf(" %14s", lanes[i].name);
	printf("\n");
	for (unsigned ms = 0; ms <= END_MS; ms += 25) {
		printf("%6u", ms);
		for (int i = 0; i < NLANES; i++)
			printf(" %14u", lanes[i].count[ms]);
		printf("\n");
	}
	printf("%6s", "final");
	for (int i = 0; i < NLANES; i++)
		printf(" %14llu", (unsigned long long)lanes[i].guest_ticks);
	printf("\n\n# engine counters at %u ms\n", END_MS);
	for (int i = 1; i < NLANES; i++) {
		const struct vtime_ticks_counters *c = &lanes[i].engine;
		printf("engine %-14s due=%llu delivered=%llu dropped=%llu backlog=%llu coalesced=%llu\n",
		       lanes[i].name, (unsigned long long)c->due, (unsigned long long)c->delivered,
		       (unsigned long long)c->dropped, (unsigned long long)c->backlog,
		       (unsigned long long)c->coalesced);
	}
}

/* ---- SVG: two panels sharing the time axis ---- */

#define W 1000
#define H 790
#define X0 80   /* plot area left */
#define X1 820  /* plot area right */
#define P1_TOP 60
#define P1_BOT 380
#define P2_TOP 450
#define P2_BOT 700
static double lag_max; /* set from the data */

static double xpos(double ms)
{
	return X0 + (X1 - X0) * ms / END_MS;
}

static void svg_panel_frame(FILE *f, int top, int bot, double ymax, double ystep, const char *ylabel)
{
	/* stall bands */
	for (size_t i = 0; i < nstalls; i++) {
		double a = xpos(stalls[i].from / 1e6), b = xpos(stalls[i].to / 1e6);
		fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#e4e4e4\"/>\n", a, top,
			b - a, bot - top);
	}
	/* grid and y labels */
	for (double v = 0; v <= ymax + 1e-9; v += ystep) {
		double y = bot - (bot - top) * v / ymax;
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#cccccc\" stroke-width=\"0.6\"/>\n",
			X0, y, X1, y);
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\">%.0f</text>\n", X0 - 6,
			y + 4, v);
	}
	for (unsigned ms = 0; ms <= END_MS; ms += 100) {
		double x = xpos(ms);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#cccccc\" stroke-width=\"0.6\"/>\n",
			x, top, x, bot);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">%u</text>\n", x,
			bot + 16, ms);
	}
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333333\"/>\n", X0, top,
		X1 - X0, bot - top);
	fprintf(f,
		"<text x=\"%d\" y=\"%d\" font-size=\"13\" text-anchor=\"middle\" "
		"transform=\"rotate(-90 %d %d)\">%s</text>\n",
		24, (top + bot) / 2, 24, (top + bot) / 2, ylabel);
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"13\" text-anchor=\"middle\">real time (ms)</text>\n",
		(X0 + X1) / 2, bot + 34);
}

static void svg_line(FILE *f, const struct lane *l, int top, int bot, double ymax, int lag)
{
	fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s%s%s points=\"", l->color,
		l->width, *l->dash ? " stroke-dasharray=\"" : "", l->dash,
		*l->dash ? "\"" : "");
	for (unsigned ms = 0; ms <= END_MS; ms++) {
		/* step plot: emit only where the value changes (and the ends) */
		double v = lag ? (double)lanes[L_IDEAL].count[ms] - l->count[ms] : l->count[ms];
		double prev = ms ? (lag ? (double)lanes[L_IDEAL].count[ms - 1] - l->count[ms - 1] : l->count[ms - 1]) : -1;
		if (ms == 0 || ms == END_MS || v != prev)
			fprintf(f, "%.1f,%.1f ", xpos(ms), bot - (bot - top) * v / ymax);
	}
	fprintf(f, "\"/>\n");
}

static int write_svg(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		return -1;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"font-family=\"DejaVu Sans, Arial, sans-serif\">\n",
		W, H, W, H);
	fprintf(f, "<title>vtime: guest tick count under host stalls, per lost-tick policy</title>\n");
	fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", W, H);
	fprintf(f,
		"<text x=\"%d\" y=\"28\" font-size=\"17\" font-weight=\"bold\" text-anchor=\"middle\">1 kHz "
		"emulated timer through host stalls (grey): guest ticks per policy</text>\n",
		(X0 + X1) / 2);
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"14\" text-anchor=\"middle\">guest tick count</text>\n",
		(X0 + X1) / 2, P1_TOP - 8);
	svg_panel_frame(f, P1_TOP, P1_BOT, END_MS, 100, "ticks counted by the guest");
	for (int i = 0; i < NLANES; i++)
		svg_line(f, &lanes[draw_order[i]], P1_TOP, P1_BOT, END_MS, 0);
	fprintf(f,
		"<text x=\"%d\" y=\"%d\" font-size=\"14\" text-anchor=\"middle\">lag behind real time "
		"(ideal - guest count)</text>\n",
		(X0 + X1) / 2, P2_TOP - 8);
	lag_max = 0;
	for (int i = 1; i < NLANES; i++)
		for (unsigned ms = 0; ms <= END_MS; ms++)
			if ((double)lanes[L_IDEAL].count[ms] - lanes[i].count[ms] > lag_max)
				lag_max = (double)lanes[L_IDEAL].count[ms] - lanes[i].count[ms];
	lag_max = 50.0 * (unsigned)(lag_max / 50.0 + 1.0);
	svg_panel_frame(f, P2_TOP, P2_BOT, lag_max, 50, "lag (ticks = ms)");
	for (int i = 0; i < NLANES; i++)
		if (draw_order[i] != L_IDEAL)
			svg_line(f, &lanes[draw_order[i]], P2_TOP, P2_BOT, lag_max, 1);
	fprintf(f,
		"<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#333333\">delay counts the same ticks as "
		"discard here, but still owes its %llu as backlog (discard dropped them).</text>\n",
		X0, H - 32, (unsigned long long)lanes[L_DELAY].engine.backlog);
	fprintf(f,
		"<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#333333\">discard+clock: a guest that reads "
		"its clock at each interrupt and accounts the elapsed periods jumps back to real time.</text>\n",
		X0, H - 14);
	/* legend */
	for (int i = 0; i < NLANES; i++) {
		int y = P1_TOP + 20 + 40 * i;
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"%s\"%s%s%s/>\n",
			X1 + 18, y, X1 + 48, y, lanes[i].color, i == L_DISCARD ? "6" : "3", *lanes[i].dash ? " stroke-dasharray=\"" : "",
			lanes[i].dash, *lanes[i].dash ? "\"" : "");
		fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"13\">%s</text>\n", X1 + 54, y + 4, lanes[i].name);
		fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#555555\">final %llu</text>\n", X1 + 54,
			y + 18, (unsigned long long)lanes[i].guest_ticks);
	}
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"10\" fill=\"#e4e4e4\"/>\n", X1 + 26,
		P1_TOP + 20 + 40 * NLANES - 5);
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"13\">host stall</text>\n", X1 + 54,
		P1_TOP + 20 + 40 * NLANES + 4);
	fprintf(f, "</svg>\n");
	if (fclose(f) != 0) {
		perror(path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *svg = argc > 1 ? argv[1] : "ticks.svg";

	if (argc > 2)
		base = strtoull(argv[2], NULL, 0);
	make_schedule();
	for (int i = 0; i < NLANES; i++)
		run_lane(&lanes[i], i);
	print_table();
	if (write_svg(svg) != 0)
		return 1;
	printf("\nwrote %s\n", svg);
	return 0;
}
