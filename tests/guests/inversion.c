/* SPDX-License-Identifier: MIT */
/* vtg_inversion: cross-thread time inversions, in the manner of the kernel's
 * timers selftest inconsistency-check (the idea, not its code): one thread
 * pinned to each CPU; a thread takes a shared ticket lock, reads the clock
 * a few times, checks every value against the previous one, whichever
 * thread took it, publishes the last and releases. Under the lock the reads
 * are globally ordered, so any value below its predecessor is an inversion,
 * within a thread or across CPUs (the ticket lock hands over in turn, so
 * consecutive holders are mostly on different CPUs; "handoffs" counts it).
 *
 * --swing-ms N --adjust (guests only) swings ADJ_FREQUENCY between +500 and
 * -500 ppm every N ms meanwhile, so re-fits happen with large slope changes
 * (issue 12 item 6). --clock mono runs the same check on clock_gettime as a
 * control: an inversion there is the kernel's or the emulator's, not vtime's.
 * The clock is read alone for --warmup-ms first (default 1000), so a
 * measured frequency has converged and the swings hit the counter line,
 * not the clock_gettime answers given while it converges.
 * One JSON line ("VTG {...}") on stdout. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "vtg.h"

#define READS_PER_TURN 4

static struct {
	uint32_t next __attribute__((aligned(64))); /* ticket dispenser */
	uint32_t owner __attribute__((aligned(64))); /* ticket being served */
	uint64_t last;  /* the previous value, under the lock */
	int holder;     /* thread that took it last, under the lock */
	int stop;
} g;

static bool g_mono;

struct worker {
	pthread_t th;
	int id, cpu;
	bool pinned;
	uint64_t reads, turns, handoffs, inversions, worst;
};

static inline uint64_t now(void)
{
	return g_mono ? vtg_clk(CLOCK_MONOTONIC) : vtime_now_ns();
}

static void *work(void *arg)
{
	struct worker *w = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	w->pinned = pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
	while (!__atomic_load_n(&g.stop, __ATOMIC_RELAXED)) {
		uint32_t t = __atomic_fetch_add(&g.next, 1, __ATOMIC_RELAXED);
		uint64_t prev;

		while (__atomic_load_n(&g.owner, __ATOMIC_ACQUIRE) != t)
			sched_yield(); /* a descheduled holder must get the CPU back */
		prev = g.last;
		for (int i = 0; i < READS_PER_TURN; i++) {
			uint64_t v = now();
			if (v < prev) {
				w->inversions++;
				if (prev - v > w->worst)
					w->worst = prev - v;
			}
			prev = v;
		}
		w->reads += READS_PER_TURN;
		w->turns++;
		if (g.holder != w->id)
			w->handoffs++;
		g.holder = w->id;
		g.last = prev;
		__atomic_store_n(&g.owner, t + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: vtg_inversion [--clock vtime|mono] [--seconds S] [--warmup-ms N]\n"
			"                     [--swing-ms N --adjust]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	double seconds = 2;
	unsigned swing_ms = 0, warmup_ms = 1000;
	bool adjust = false;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct worker *w;
	struct vtime_clock_info ci, ci0;
	uint64_t t0, t_end, next_swing, reads = 0, turns = 0, handoffs = 0, inv = 0, worst = 0, swings = 0;
	bool pinned = true;
	int nw = 0, swing_rc = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
		if (!strcmp(a, "--adjust")) {
			adjust = true;
		} else if (!strcmp(a, "--clock") && v) {
			if (strcmp(v, "vtime") && strcmp(v, "mono"))
				usage();
			g_mono = !strcmp(v, "mono");
			i++;
		} else if (!strcmp(a, "--seconds") && v) {
			seconds = strtod(v, &end);
			if (end == v || *end || !(seconds > 0 && seconds <= 600))
				usage();
			i++;
		} else if (!strcmp(a, "--warmup-ms") && v) {
			unsigned long n = strtoul(v, &end, 10);
			if (end == v || *end || n > 60000)
				usage();
			warmup_ms = (unsigned)n;
			i++;
		} else if (!strcmp(a, "--swing-ms") && v) {
			unsigned long n = strtoul(v, &end, 10);
			if (end == v || *end || n > 60000)
				usage();
			swing_ms = (unsigned)n;
			i++;
		} else {
			usage();
		}
	}
	if (swing_ms && !(adjust && vtg_in_guest())) {
		fprintf(stderr, "vtg_inversion: --swing-ms changes the kernel's clock: needs --adjust, and refused "
				"outside the guests suite's qemu guests (no %s, or VTIME_GUEST is not 1)\n",
			VTG_GUEST_MARKER);
		return 2;
	}
	if (ncpu < 1)
		ncpu = 1;
	w = calloc((size_t)ncpu, sizeof *w);
	if (!w)
		return 1;
	/* initialised and settled before the threads race */
	t0 = vtg_clk(CLOCK_MONOTONIC);
	while (vtg_clk(CLOCK_MONOTONIC) - t0 < (uint64_t)warmup_ms * 1000000u)
		(void)vtime_now_ns();
	vtime_clock_info(&ci0);
	/* still converging on a busy host: up to 5 s more (see vtg_compare) */
	for (int i = 0; i < 50 && !g_mono && vtg_converging(&ci0); i++) {
		t0 = vtg_clk(CLOCK_MONOTONIC);
		while (vtg_clk(CLOCK_MONOTONIC) - t0 < 100000000u)
			(void)vtime_now_ns();
		vtime_clock_info(&ci0);
	}
	g.last = now();
	g.holder = -1;
	for (int c = 0; c < ncpu; c++) {
		w[nw].id = nw;
		w[nw].cpu = c;
		if (pthread_create(&w[nw].th, NULL, work, &w[nw]) != 0)
			break;
		nw++;
	}
	t0 = vtg_clk(CLOCK_MONOTONIC);
	t_end = t0 + (uint64_t)(seconds * 1e9);
	next_swing = t0 + (uint64_t)swing_ms * 1000000u;
	for (;;) {
		uint64_t t = vtg_clk(CLOCK_MONOTONIC);
		struct timespec ts = { 0, 1000000L };
		if (t >= t_end)
			break;
		if (swing_ms && t >= next_swing) {
			int rc = vtg_adj_freq(swings & 1 ? -500 : 500);
			if (rc)
				swing_rc = rc;
			swings++;
			next_swing += (uint64_t)swing_ms * 1000000u;
		}
		nanosleep(&ts, NULL);
	}
	__atomic_store_n(&g.stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < nw; i++) {
		pthread_join(w[i].th, NULL);
		reads += w[i].reads;
		turns += w[i].turns;
		handoffs += w[i].handoffs;
		inv += w[i].inversions;
		if (w[i].worst > worst)
			worst = w[i].worst;
		pinned = pinned && w[i].pinned;
	}
	if (swing_ms)
		(void)vtg_adj_freq(0);
	vtime_clock_info(&ci);
	vtg_begin("inversion");
	vtg_kv_str("clock", g_mono ? "mono" : "vtime");
	vtg_kv_i64("threads", nw);
	vtg_kv_bool("pinned", pinned);
	vtg_kv_dbl("seconds", (vtg_clk(CLOCK_MONOTONIC) - t0) / 1e9);
	vtg_kv_u64("reads", reads);
	vtg_kv_u64("turns", turns);
	vtg_kv_u64("handoffs", handoffs);
	vtg_kv_u64("inversions", inv);
	vtg_kv_u64("worst_ns", worst);
	vtg_kv_u64("swings", swings);
	vtg_kv_i64("swing_rc", swing_rc);
	vtg_kv_str("source_at_start", ci0.source_name);
	vtg_kv_info(&ci);
	vtg_end();
	free(w);
	return nw == ncpu ? 0 : 1;
}
