/* SPDX-License-Identifier: MIT */
/* Calls from signal handlers: the first call (lazy init) inside a handler,
 * handlers interrupting readers, maintenance and initialisation on the same
 * thread. Never a hang, never backwards. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <vtime/clock.h>

#include "vt_clock.h"
#include "vt_test.h"

static volatile uint64_t g_last;
static volatile unsigned long g_calls, g_back, g_far;
static volatile uint64_t g_first;

static uint64_t mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* "Never backwards" in program order: a read must not be below the largest
 * value seen before it started (a handler may land between a read and its
 * check, so the check uses what was seen first). */
#define READ_CHECKED(v)                                  \
	do {                                             \
		uint64_t seen_ = g_last;                 \
		(v) = vtime_now_ns();                    \
		if ((v) < seen_)                         \
			g_back++;                        \
		if ((v) > g_last)                        \
			g_last = (v);                    \
	} while (0)

static void on_first(int sig)
{
	(void)sig;
	g_first = vtime_now_ns();
}

static void on_tick(int sig)
{
	uint64_t m0, m1, v, t;
	(void)sig;
	m0 = mono();
	READ_CHECKED(v);
	t = vtime_counter_to_ns(vtime_counter_now());
	m1 = mono();
	/* outside [m0, m1] by more than 1 ms (m0..m1 brackets preemption) */
	if (v + 1000000 < m0 || v > m1 + 1000000 || t + 1000000 < m0 || t > m1 + 1000000)
		g_far++;
	(void)vtime_realtime_ns();
	g_calls++;
}

static void timer(long usec)
{
	struct itimerval it;
	memset(&it, 0, sizeof it);
	it.it_interval.tv_usec = usec;
	it.it_value.tv_usec = usec;
	setitimer(ITIMER_REAL, &it, NULL);
}

static void test_first_call_in_handler(void)
{
	struct sigaction sa;
	struct vtime_clock_info ci;
	uint64_t a = mono();

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_first;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	CU_ASSERT(g_first >= a && g_first <= mono());
	CU_ASSERT_EQUAL(vtime_clock_info(&ci), 0);
	CU_ASSERT(ci.init_ns > 0);
	CU_ASSERT(strcmp(ci.source_name, "none") != 0);
}

/* A 50 us timer interrupts reads and forced maintenance for 300 ms. */
static void test_handlers_interrupt(void)
{
	struct sigaction sa;
	uint64_t end;
	unsigned long maint = 0, reads = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_tick;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	g_last = 0;
	timer(50);
	end = mono() + 300000000u;
	while (mono() < end) {
		uint64_t v;
		READ_CHECKED(v);
		(void)v;
		reads++;
		if ((reads & 255) == 0) {
			vt_clock_test_maintain(); /* handlers land inside it too */
			maint++;
		}
	}
	timer(0);
	printf("\n  %lu handler calls, %lu reads, %lu forced maintenances, %lu backwards, %lu far",
	       (unsigned long)g_calls, reads, maint, (unsigned long)g_back, (unsigned long)g_far);
	CU_ASSERT(g_calls > 100);
	CU_ASSERT_EQUAL(g_back, 0);
	CU_ASSERT_EQUAL(g_far, 0);
}

/* Handlers landing in the middle of lazy initialisation on this thread. */
static void test_handler_during_init(void)
{
	sigset_t all, old;
	unsigned long before = g_calls;

	g_back = 0;
	timer(20);
	for (int i = 0; i < 50; i++) {
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, &old); /* a reset is not a state readers may see */
		vt_clock_reset();
		g_last = 0;
		sigprocmask(SIG_SETMASK, &old, NULL);
		uint64_t v;
		READ_CHECKED(v);
		(void)v;
	}
	timer(0);
	printf("\n  %lu handler calls across 50 initialisations, %lu backwards", (unsigned long)(g_calls - before),
	       (unsigned long)g_back);
	CU_ASSERT_EQUAL(g_back, 0);
	CU_ASSERT_EQUAL(g_far, 0);
}

int main(void)
{
	static const struct vt_test_case cases[] = {
		{ "first call inside a handler", test_first_call_in_handler },
		{ "handlers interrupt reads and maintenance", test_handlers_interrupt },
		{ "handlers interrupt initialisation", test_handler_during_init },
		{ NULL, NULL },
	};
	static const struct vt_test_suite suites[] = { { "signal", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
