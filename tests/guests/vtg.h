/* SPDX-License-Identifier: MIT */
/* Shared by the guests suite's programs (vtg_compare, vtg_inversion): clock
 * reads, the guard that keeps clock changes inside throwaway guests, kernel
 * clock adjustments, and JSON-lines output the driver parses from the
 * serial console (every line starts with "VTG "). */
#ifndef VTG_H
#define VTG_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>
#include <vtime/clock.h>

/* The guest's init creates this file; nothing else does. Programs refuse to
 * change the kernel's clock without it, so running one by mistake on a
 * developer's machine (as root) cannot touch that machine's clock. */
#define VTG_GUEST_MARKER "/vtime-guest"

static inline uint64_t vtg_clk(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static inline bool vtg_in_guest(void)
{
	return access(VTG_GUEST_MARKER, F_OK) == 0 && getenv("VTIME_GUEST") && !strcmp(getenv("VTIME_GUEST"), "1");
}

/* The kernel's NTP state to nominal: no frequency offset, 10000 us ticks, no
 * pending offset, PLL off. */
static inline int vtg_adj_reset(void)
{
	struct timex tx;

	/* the adjtime() kind first, alone: with ADJ_ADJTIME set the kernel
	 * ignores every other mode bit */
	memset(&tx, 0, sizeof tx);
	tx.modes = ADJ_OFFSET_SINGLESHOT; /* offset 0: cancels a slew in progress */
	if (adjtimex(&tx) < 0)
		return -errno;
	memset(&tx, 0, sizeof tx);
	tx.modes = ADJ_FREQUENCY | ADJ_TICK | ADJ_STATUS;
	tx.freq = 0;
	tx.tick = 10000;
	tx.status = STA_UNSYNC;
	return adjtimex(&tx) < 0 ? -errno : 0;
}

/* ADJ_FREQUENCY in ppm (timex.freq is ppm * 2^16). */
static inline int vtg_adj_freq(double ppm)
{
	struct timex tx;

	memset(&tx, 0, sizeof tx);
	tx.modes = ADJ_FREQUENCY;
	tx.freq = (long)(ppm * 65536.0);
	return adjtimex(&tx) < 0 ? -errno : 0;
}

/* ADJ_TICK (us per 10 ms jiffy) and ADJ_FREQUENCY together, the way chrony
 * sets large frequencies on Linux; through clock_adjtime, the other entry. */
static inline int vtg_adj_tick_freq(long tick, double ppm)
{
	struct timex tx;

	memset(&tx, 0, sizeof tx);
	tx.modes = ADJ_TICK | ADJ_FREQUENCY;
	tx.tick = tick;
	tx.freq = (long)(ppm * 65536.0);
	return clock_adjtime(CLOCK_REALTIME, &tx) < 0 ? -errno : 0;
}

/* What the kernel says it applies now (modes 0 changes nothing). */
static inline void vtg_adj_read(double *ppm, long *tick)
{
	struct timex tx;

	memset(&tx, 0, sizeof tx);
	if (adjtimex(&tx) < 0) {
		*ppm = 0;
		*tick = -1;
		return;
	}
	*ppm = (double)tx.freq / 65536.0;
	*tick = tx.tick;
}

/* The kernel's current clocksource, "" if unknown. */
static inline void vtg_clocksource(char *buf, size_t n)
{
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, (int)n, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* clock_gettime answers while a measured frequency converges; the source
 * name says so (there is no flag for it in struct vtime_clock_info). */
static inline bool vtg_converging(const struct vtime_clock_info *ci)
{
	return ci->source_name && strstr(ci->source_name, "converging");
}

/* Switches the kernel's clocksource (guests only: callers check
 * vtg_in_guest() through --adjust). 0 or -errno. */
static inline int vtg_set_clocksource(const char *name)
{
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "w");
	int rc = 0;

	if (!f)
		return -errno;
	if (fprintf(f, "%s\n", name) < 0)
		rc = -EIO;
	if (fclose(f) != 0 && !rc)
		rc = -errno;
	return rc;
}

/* ---- JSON lines: vtg_begin("phase"); vtg_kv_*(...); vtg_end(); ---- */

static inline void vtg_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static inline void vtg_begin(const char *what)
{
	printf("VTG {\"vtg\":");
	vtg_str(what);
}

static inline void vtg_kv_str(const char *k, const char *v)
{
	printf(",\"%s\":", k);
	vtg_str(v);
}

static inline void vtg_kv_i64(const char *k, int64_t v)
{
	printf(",\"%s\":%lld", k, (long long)v);
}

static inline void vtg_kv_u64(const char *k, uint64_t v)
{
	printf(",\"%s\":%llu", k, (unsigned long long)v);
}

static inline void vtg_kv_dbl(const char *k, double v)
{
	printf(",\"%s\":%.6g", k, v);
}

static inline void vtg_kv_bool(const char *k, bool v)
{
	printf(",\"%s\":%s", k, v ? "true" : "false");
}

static inline void vtg_end(void)
{
	/* one line per record, out at once: the console is shared with init */
	printf("}\n");
	fflush(stdout);
}

static inline void vtg_kv_info(const struct vtime_clock_info *ci)
{
	vtg_kv_str("source", ci->source_name);
	vtg_kv_bool("forced", ci->forced);
	vtg_kv_str("why", ci->why);
	vtg_kv_str("freq_source", ci->freq_source);
	vtg_kv_u64("fallbacks", ci->fallbacks);
	vtg_kv_str("fallback_reason", ci->fallback_reason);
	vtg_kv_u64("recalibrations", ci->recalibrations);
	vtg_kv_u64("steps", ci->steps);
	vtg_kv_i64("tracking_error_ns", ci->tracking_error_ns);
	vtg_kv_u64("recal_interval_ns", ci->recal_interval_ns);
}

#endif
