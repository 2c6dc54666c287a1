/* SPDX-License-Identifier: MIT */
/* Late timer interrupts. Host side: an engine that decides when an emulated
 * periodic timer (PIT, RTC, HPET, LAPIC) raises its interrupt when the VMM
 * runs late, under a lost-tick policy. Guest side: tick accounting from a
 * clock read. Integer-only, no allocation; see docs/ticks.md. ("Ticks" here
 * are timer interrupts; vtime_counter_now() in <vtime/clock.h> is the raw counter.) */
#ifndef VTIME_TICKS_H
#define VTIME_TICKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vtime/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Values are stored in saved state: never renumber. */
enum vtime_ticks_policy {
	VTIME_TICKS_DISCARD = 0, /* missed ticks are dropped; the timer keeps its phase */
	VTIME_TICKS_DELAY = 1,   /* missed ticks are kept and delivered at the normal rate */
	VTIME_TICKS_SLEW = 2,    /* missed ticks are delivered up to `rate` times faster */
};

#define VTIME_TICKS_RATE_DEFAULT 4u /* slew: interrupts per period while catching up */
#define VTIME_TICKS_RATE_MAX 256u
/* Longest period: 2^63 - 1 ns (292 years). With 2^63 or more "now + period"
 * would compare as the past. */
#define VTIME_TICKS_PERIOD_MAX 0x7fffffffffffffffull

/* Host-side engine. Caller-allocated; treat the fields as private (read the
 * counters with vtime_ticks_counters()). All times are host nanoseconds on
 * one u64 clock that may wrap; two times compare by their signed difference.
 * The domain, in full: a period is 1..VTIME_TICKS_PERIOD_MAX ns,
 * consecutive calls on one engine (update, set_period, save) come less than
 * 2^63 ns apart, and fewer than 2^64 ticks fall due over its life (the
 * counters are u64: 584 years at a 1 ns period; a state whose counts
 * wrapped is refused on restore); within it every "next" is after now, by at
 * most one period.
 * Nothing ages beyond that: a limit on the next delivery that lies in the
 * past is refreshed at every call, however long the guest leaves its
 * interrupt unacknowledged. */
struct vtime_ticks {
	uint64_t period;      /* ns between ticks */
	uint64_t next_due;    /* host time of the next tick of the grid */
	uint64_t next_inject; /* earliest host time of the next delivery */
	uint64_t backlog;     /* ticks due, neither delivered nor dropped */
	uint64_t backlog_rem; /* ns of owed time below one period (period changes) */
	uint64_t cap;         /* backlog kept beyond this is dropped; 0: no cap */
	uint64_t due, delivered, dropped, coalesced;
	uint64_t sub;  /* ceil(period / rate in use): the first sub-slot */
	uint32_t policy;
	uint32_t rate; /* slew's catch-up rate; 1 is used for discard and delay */
	uint32_t inject_open; /* next_inject was seen passed: it is ignored (and
	                       * cannot age) until the next delivery */
	uint32_t pad;
	uint64_t reserved[3]; /* private room to grow; the size stays (docs/abi.md) */
};

/* What to do now. */
struct vtime_ticks_result {
	uint32_t deliver; /* 1: raise the interrupt now; 0: not now. Never more:
	                   * one line holds one pending interrupt */
	uint32_t pad;
	uint64_t dropped; /* ticks dropped by this call (a device model that keeps a
	                   * tick counter, e.g. an RTC's time of day, advances by
	                   * deliver + dropped) */
	uint64_t next;    /* host time to call vtime_ticks_update() again (or earlier,
	                   * e.g. when the guest acknowledges the interrupt): always
	                   * after now, by at most one period */
};

struct vtime_ticks_counters {
	uint64_t due;       /* ticks that fell due (backlog conversions included) */
	uint64_t delivered; /* interrupts raised */
	uint64_t dropped;   /* ticks given up (discard, cap) */
	uint64_t backlog;   /* ticks owed to the guest now */
	uint64_t coalesced; /* ticks that fell due while the previous interrupt was
	                     * unacknowledged (a real device would have merged them) */
	uint64_t reserved[3]; /* zeroed: later versions report new counters here (0: not
	                       * reported), keeping the size (docs/abi.md) */
};
/* Always: due == delivered + dropped + backlog, and coalesced <= due (a
 * period change that converts the backlog into fewer ticks lowers both). */

/* period_ns in 1..VTIME_TICKS_PERIOD_MAX; the first tick falls due at now +
 * period_ns. Slew starts with VTIME_TICKS_RATE_DEFAULT and no cap.
 * VTIME_EINVAL on NULL, a period of 0 or beyond VTIME_TICKS_PERIOD_MAX, or an
 * unknown policy. */
VTIME_API int vtime_ticks_init(struct vtime_ticks *t, uint64_t period_ns, enum vtime_ticks_policy policy,
			       uint64_t now);

/* rate: at most `rate` interrupts per period while slew catches up (2 to
 * VTIME_TICKS_RATE_MAX; used by slew only). cap: backlog beyond cap ticks is
 * dropped (0 = unbounded; used by delay and slew). Applies from the next
 * update. VTIME_EINVAL if rate is out of range. */
VTIME_API int vtime_ticks_set_catchup(struct vtime_ticks *t, uint32_t rate, uint64_t cap);

/* Call when the timer fires (at res->next, however late) and optionally when
 * the guest acknowledges. prev_acked: the guest has acknowledged the last
 * interrupt raised (true if none was ever raised). Ticks due by `now` join
 * the backlog; one is delivered if the guest can take it and the rate allows;
 * then the policy drops what it does not keep. */
VTIME_API int vtime_ticks_update(struct vtime_ticks *t, uint64_t now, bool prev_acked,
				 struct vtime_ticks_result *res);

/* The guest reprogrammed the timer at `now`. Ticks due under the old period
 * are accounted first; the backlog is then converted to the new period
 * keeping the owed time (backlog * old = backlog' * new + remainder, the
 * remainder carried in ns); the first tick of the new period falls due at
 * now + period_ns. VTIME_EINVAL for a period of 0 or beyond
 * VTIME_TICKS_PERIOD_MAX, VTIME_ERANGE if the converted backlog, or the due
 * count with it, does not fit in 64 bits (state unchanged in both cases). */
VTIME_API int vtime_ticks_set_period(struct vtime_ticks *t, uint64_t now, uint64_t period_ns);

/* 0 or VTIME_EINVAL. */
VTIME_API int vtime_ticks_counters(const struct vtime_ticks *t, struct vtime_ticks_counters *c);

/* Saved state (snapshot, migration), in vtime's one saved-state pattern
 * (docs/architecture.md): vtime_ticks_save() fills a host-order struct,
 * vtime_ticks_state_encode() writes it as a fixed little-endian image of
 * VTIME_TICKS_STATE_BYTES (a 16-byte header with magic, version and size,
 * then the fields in struct order), vtime_ticks_state_decode() reads one
 * back, and vtime_ticks_restore() validates every field. Times are stored
 * relative to the save time, so the state restores onto any host clock; the
 * VM's downtime between save and restore is not counted. A vtime reads every
 * version up to its own and rejects later ones. */
#define VTIME_TICKS_STATE_MAGIC 0x4b545456u /* "VTTK" */
#define VTIME_TICKS_STATE_VERSION 1u
#define VTIME_TICKS_STATE_BYTES 104u

struct vtime_ticks_state {
	uint32_t policy;    /* enum vtime_ticks_policy */
	uint32_t rate;      /* slew catch-up rate, 2..VTIME_TICKS_RATE_MAX */
	uint64_t period;    /* ns, 1..2^63-1 */
	uint64_t cap;       /* 0: none */
	uint64_t due_in;    /* next tick falls due this many ns after the save, 1..period */
	uint64_t inject_in; /* earliest next delivery, ns after the save, 0..due_in */
	uint64_t backlog;
	uint64_t backlog_rem; /* < period */
	uint64_t due, delivered, dropped, coalesced; /* due == delivered + dropped + backlog */
	/* Not in the version 1 image. Zero: save and decode write zeros; encode
	 * refuses anything else (VTIME_EINVAL), restore too (VTIME_EPROTO), so a
	 * field a later version defines here is never dropped silently. */
	uint64_t reserved[4];
};

/* Accounts ticks due by `now` into the backlog of the saved copy (t itself
 * is unchanged) and fills *st. VTIME_EINVAL on NULL. */
VTIME_API int vtime_ticks_save(const struct vtime_ticks *t, uint64_t now, struct vtime_ticks_state *st);

/* Rebuilds t from *st at host time now, after checking every field (the
 * ranges above; the counts must add up without wrapping; coalesced <= due).
 * VTIME_EPROTO for an inconsistent state, VTIME_EINVAL on NULL (t unchanged
 * in both cases). */
VTIME_API int vtime_ticks_restore(struct vtime_ticks *t, const struct vtime_ticks_state *st, uint64_t now);

/* The byte image: encode needs len >= VTIME_TICKS_STATE_BYTES (else
 * VTIME_ERANGE); decode returns VTIME_EPROTO for a malformed or truncated
 * image and VTIME_ENOTSUP for a later version. */
VTIME_API int vtime_ticks_state_encode(const struct vtime_ticks_state *st, void *buf, size_t len);
VTIME_API int vtime_ticks_state_decode(struct vtime_ticks_state *st, const void *buf, size_t len);

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct vtime_ticks) == 128, "ABI: grow into reserved");
_Static_assert(sizeof(struct vtime_ticks_counters) == 64, "ABI: grow into reserved");
_Static_assert(sizeof(struct vtime_ticks_state) == 120, "ABI: grow into reserved");
#endif

/* Guest side: count ticks from a clock instead of trusting interrupts. The
 * clock is any u64 counter (ns, TSC cycles) that may wrap; period is in its
 * units. Each call accounts the whole periods since the last accounted tick
 * boundary and carries the remainder, so late, merged or lost interrupts
 * neither lose nor double-count a period. */
struct vtime_ticks_guest {
	uint64_t period;
	uint64_t last;  /* clock value of the last accounted tick boundary */
	uint64_t ticks; /* periods accounted since init */
	uint64_t reserved; /* private room to grow; the size stays (docs/abi.md) */
};

/* VTIME_EINVAL on NULL or period 0. */
VTIME_API int vtime_ticks_guest_init(struct vtime_ticks_guest *g, uint64_t period, uint64_t now);

/* Returns the periods elapsed since the last accounted boundary (0 when now
 * is behind it, i.e. more than 2^63 units "late": a clock read that went
 * backwards) and advances the boundary by that many periods. *into, if not
 * NULL, receives now minus the new boundary (the remainder, < period). A
 * hot path: g initialised (an uninitialised or NULL g counts nothing). */
VTIME_API uint64_t vtime_ticks_guest_account(struct vtime_ticks_guest *g, uint64_t now, uint64_t *into);

/* Accounts up to now under the old period, then measures the new period
 * from the last boundary. VTIME_EINVAL on NULL or period 0. */
VTIME_API int vtime_ticks_guest_set_period(struct vtime_ticks_guest *g, uint64_t now, uint64_t period);

#ifdef __cplusplus
}
#endif
#endif
