/* SPDX-License-Identifier: MIT */
/* The kernel's clock adjustments, read without changing anything, and the
 * rate of CLOCK_MONOTONIC they give against CLOCK_MONOTONIC_RAW.
 *
 * Linux advances CLOCK_MONOTONIC (and REALTIME, by the same amounts) per
 * second of the raw clocksource (CLOCK_MONOTONIC_RAW's rate) by
 *     tick * 100000 ns                 tick: us per 1/USER_HZ = 10 ms (10000 nominal)
 *   + freq * 1000 / 65536 ns           freq: ppm << 16 (ntpd, chrony: ADJ_FREQUENCY)
 *   + offset / 2^(2 + constant) ns     the PLL's phase correction this second
 *                                      (the whole offset with a PPS time source)
 *   + min(|adjust|, 500 us) per s      adjtime()'s single-shot slew (500 ppm)
 * (the kernel's ntp_tick_adj boot parameter adds a constant nobody can
 * read; the tracking loop absorbs it). Changes of tick and freq apply at
 * once; the PLL and adjtime() parts change at each second of REALTIME.
 * adjtimex(2) with ADJ_OFFSET_SS_READ returns every field plus adjtime()'s
 * remainder, with modes = 0 the PLL's offset: neither needs privileges or
 * changes anything. Each is a system call (2.4-3.6 us on this machine), so
 * the clock reads them when its sample shows an error or every 20 ms. maxerror,
 * esterror, STA_UNSYNC and tai are kept for the bounded time (bound.c). */
#ifndef VT_NTP_H
#define VT_NTP_H

#include <stdbool.h>
#include <stdint.h>

/* What the two reads return (struct timex's fields, units as there). */
struct vt_ntp_raw {
	long tick;      /* us per 10 ms jiffy */
	long freq;      /* ppm << 16 */
	long offset;    /* the PLL's remaining offset: ns with STA_NANO, else us */
	long constant;  /* the PLL's time constant (the kernel's, as it reports it) */
	long adjust;    /* adjtime()'s remaining slew, us */
	long maxerror;  /* us */
	long esterror;  /* us */
	int status;     /* STA_* */
	int state;      /* TIME_OK, TIME_INS, TIME_DEL, TIME_OOP, TIME_WAIT, TIME_ERROR */
	int tai;        /* TAI - UTC, s (0: no daemon set it) */
};

struct vt_ntp {
	bool have;            /* the last read succeeded */
	int err;              /* errno of the last failure, 0 if none */
	struct vt_ntp_raw raw;
	double ratio;         /* CLOCK_MONOTONIC ns per CLOCK_MONOTONIC_RAW ns (1 while unknown) */
	uint64_t read_at;     /* CLOCK_MONOTONIC ns of the last read */
	uint64_t reads, fails;
};

/* The adjtimex reads: 0, or VTIME_EIO with *err the errno. The second
 * (the PLL's offset) only when out->offset (the previous read's) is not 0
 * or the status has STA_PLL. Signal-safe (system calls only); errno is
 * left as it was. */
int vt_ntp_sys(struct vt_ntp_raw *out, int *err);

/* CLOCK_MONOTONIC's rate against the raw clocksource, from r (pure). */
double vt_ntp_ratio(const struct vt_ntp_raw *r);

/* The PLL's offset in ns, its sign repaired where the kernel reports a
 * negative microsecond offset through an unsigned division (pure). */
int64_t vt_ntp_offset_ns(const struct vt_ntp_raw *r);

/* Reads the state into n (through read, vt_ntp_sys or a test's). Returns
 * true when the rate it gives differs from the previous read's. */
bool vt_ntp_update(struct vt_ntp *n, int (*read)(struct vt_ntp_raw *out), uint64_t now);

#endif
