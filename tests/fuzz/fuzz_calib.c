/* SPDX-License-Identifier: MIT */
/* The recalibration engine fed adversarial samples: any configuration, then
 * samples whose counter, reference and cost come from the input (steps of
 * any size and sign, wrapping past 2^64, zero and huge costs, repeats,
 * jumps beyond the line's domain). Invariants (include/vtime/calib.h,
 * docs/calibration.md):
 *   - init returns EINVAL exactly for an invalid configuration;
 *   - a feed returns 0 (one feeder: never EBUSY) with exactly one of USED and
 *     REJECTED; REFIT, STEP, DISCONT and FIRST only with USED; STEP implies
 *     REFIT; FIRST once; the counters agree with the events;
 *   - every published line has mul in [2^31, 2^32) (slope positive) and a
 *     shift the pvclock reader accepts;
 *   - continuity: a re-fit starts where the old line is at the switch point,
 *     gaining at most 2 ns (plus the step, when it is one);
 *   - a restart (counter behind the previous sample, or beyond the old
 *     line's domain) starts at the sample's counter, never below the old
 *     line at the previous sample;
 *   - the reported slew stays within max_slew_ppm;
 *   - vtime_calib_read() at a counter equals vtime_calib_line_apply(). */
#include <vtime/calib.h>
#include <vtime/error.h>
#include <vtime/pvclock.h>

#include "fuzz.h"

static bool beyond_domain(const struct vtime_calib_line *l, uint64_t c)
{
	uint64_t d = c - l->base_counter;
	return (d >> 63) == 0 && l->shift > 0 && (d >> (64 - l->shift)) != 0;
}

static bool config_valid(const struct vtime_calib_config *c)
{
	return c->max_slew_ppm >= 1 && c->max_slew_ppm <= 100000 && c->slew_tc_ns >= 1000 && c->window_ns >= 1000000 &&
	       c->step_ns != 0 && c->discont_ns != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	struct vtime_calib e;
	struct vtime_calib_config cfg;
	struct vtime_calib_line line;
	struct vtime_calib_stats st;
	bool have_line = false, have_prev = false, seen_first = false;
	uint64_t counter, ref, prev_counter = 0, feeds = 0, refits = 0, steps = 0, discs = 0;
	uint8_t mode = fz_u8(&f);
	int err;

	vtime_calib_config_default(&cfg);
	if (mode & 1u)
		cfg.hz_hint = (mode & 2u) ? fz_edge64(&f) : 1000000ull + fz_u32(&f) * 1000ull;
	if (mode & 4u) {
		cfg.hint_ppm = fz_u32(&f);
		cfg.max_slew_ppm = fz_u32(&f) % 200000u;
		cfg.step_ns = fz_edge64(&f);
		cfg.discont_ns = fz_edge64(&f);
		cfg.slew_tc_ns = fz_edge64(&f);
		cfg.window_ns = fz_edge64(&f);
	}
	err = vtime_calib_init(&e, &cfg);
	if (!config_valid(&cfg)) {
		FZ_CHECK(err == VTIME_EINVAL, "an invalid configuration was accepted");
		return 0;
	}
	if (!cfg.hz_hint)
		FZ_CHECK(err == 0, "a valid configuration without hint was refused: %d", err);
	if (err)
		return 0; /* a hint whose rate no pvclock line can carry */
	counter = fz_edge64(&f);
	ref = fz_edge64(&f);
	while (fz_left(&f)) {
		uint8_t op = fz_u8(&f);
		struct vtime_calib_sample s;
		struct vtime_calib_line old = line;
		unsigned ev = 0;
		uint64_t dc;

		/* steps: mostly a plausible rate (1 GHz-ish), sometimes anything */
		dc = (op & 1u) ? fz_edge64(&f) : (uint64_t)fz_u32(&f) * 64u;
		counter = (op & 2u) ? counter - dc : counter + dc;
		ref += (op & 4u) ? fz_edge64(&f) : dc + (uint64_t)(int64_t)(int16_t)fz_u16(&f);
		if (op & 8u)
			ref -= fz_u16(&f);
		s.counter = counter;
		s.ref_ns = ref;
		s.cost_ns = (op & 16u) ? fz_edge64(&f) : fz_u8(&f);
		err = vtime_calib_feed(&e, &s, &ev);
		FZ_CHECK(err == 0, "feed returned %d", err);
		FZ_TRACE("feed counter %llu ref %llu cost %llu: events %#x\n", FZ_U(s.counter), FZ_U(s.ref_ns),
			 FZ_U(s.cost_ns), ev);
		feeds++;
		FZ_CHECK(!!(ev & VTIME_CALIB_EV_USED) != !!(ev & VTIME_CALIB_EV_REJECTED), "events %#x", ev);
		if (ev & VTIME_CALIB_EV_REJECTED)
			FZ_CHECK(ev == VTIME_CALIB_EV_REJECTED, "a rejected sample with events %#x", ev);
		if (ev & VTIME_CALIB_EV_STEP)
			FZ_CHECK(ev & VTIME_CALIB_EV_REFIT, "a step without a re-fit");
		if (ev & VTIME_CALIB_EV_FIRST) {
			FZ_CHECK(!seen_first && !have_line, "FIRST twice");
			seen_first = true;
		}
		refits += !!(ev & VTIME_CALIB_EV_REFIT);
		steps += !!(ev & VTIME_CALIB_EV_STEP);
		discs += !!(ev & VTIME_CALIB_EV_DISCONT);
		FZ_CHECK(vtime_calib_stats_get(&e, &st) == 0, "stats");
		FZ_CHECK(st.samples_used + st.samples_rejected == feeds && st.refits == refits && st.steps == steps &&
				 st.discontinuities == discs,
			 "counters (used %llu rejected %llu refits %llu steps %llu discs %llu) vs events", FZ_U(st.samples_used),
			 FZ_U(st.samples_rejected), FZ_U(st.refits), FZ_U(st.steps), FZ_U(st.discontinuities));
		FZ_CHECK((uint64_t)(st.slew_ppb < 0 ? -st.slew_ppb : st.slew_ppb) <= (uint64_t)cfg.max_slew_ppm * 1000u + 1,
			 "slew %lld ppb beyond %u ppm", (long long)st.slew_ppb, cfg.max_slew_ppm);
		err = vtime_calib_line_get(&e, &line);
		if (!have_line) {
			FZ_CHECK((err == 0) == !!(ev & VTIME_CALIB_EV_FIRST), "line %d without FIRST (%#x)", err, ev);
		} else {
			FZ_CHECK(err == 0, "the line disappeared: %d", err);
		}
		if (err == 0) {
			uint64_t c2 = counter + (uint64_t)(int64_t)(int8_t)op, r1, r2;
			struct vtime_counter ctr = { fz_fixed_counter, &c2 };
			FZ_CHECK(line.mul >= 0x80000000u && line.shift >= VTIME_PVCLOCK_SHIFT_MIN &&
					 line.shift <= VTIME_PVCLOCK_SHIFT_MAX,
				 "line (mul %u, shift %d) outside what readers accept", line.mul, line.shift);
			FZ_CHECK(vtime_calib_read(&e, &ctr, &r1) == 0, "read");
			r2 = vtime_calib_line_apply(&line, c2);
			FZ_CHECK(r1 == r2, "read %llu != line_apply %llu", FZ_U(r1), FZ_U(r2));
		}
		if (have_line && (ev & VTIME_CALIB_EV_REFIT)) {
			uint64_t dprev = s.counter - prev_counter;
			bool restart = have_prev && (dprev == 0 || (dprev >> 63) || beyond_domain(&old, s.counter));
			if (restart) {
				uint64_t at_prev = vtime_calib_line_apply(&old, prev_counter);
				FZ_CHECK(line.base_counter == s.counter && fz_sdiff(line.base_ns, at_prev) >= 0,
					 "restart at %llu ns (counter %llu) below the old line at the previous sample %llu",
					 FZ_U(line.base_ns), FZ_U(line.base_counter), FZ_U(at_prev));
			} else {
				uint64_t at = vtime_calib_line_apply(&old, line.base_counter);
				uint64_t add = (ev & VTIME_CALIB_EV_STEP) ? st.last_step_ns : 0;
				uint64_t gain = line.base_ns - at - add;
				FZ_CHECK(gain <= 2,
					 "re-fit not continuous: new line at its base %llu, old line there %llu, step %llu "
					 "(gain %lld)",
					 FZ_U(line.base_ns), FZ_U(at), FZ_U(add), (long long)gain);
			}
		}
		if (ev & VTIME_CALIB_EV_USED) {
			prev_counter = s.counter;
			have_prev = true;
		}
		have_line = have_line || err == 0;
	}
	return 0;
}
