/* SPDX-License-Identifier: MIT */
/* The ticks engine's saved state, from a snapshot file anyone could have
 * written:
 *   - vtime_ticks_state_decode(): an image it accepts re-encodes to the
 *     same bytes (one encoding per state), and decode(encode(x)) == x for
 *     any x;
 *   - vtime_ticks_restore() accepts exactly the states its documentation
 *     allows (ticks_oracle.h) and leaves the engine untouched otherwise;
 *   - restore then save at the same host time gives the state back, and
 *     due == delivered + dropped + backlog holds;
 *   - one update after it keeps the counts, delivers at most one, and asks
 *     to be called again after now, within one period. */
#include <vtime/error.h>
#include <vtime/ticks.h>

#include "fuzz.h"
#include "ticks_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	struct vtime_ticks_state st, back;
	struct vtime_ticks t, keep;
	uint8_t img[VTIME_TICKS_STATE_BYTES], img2[VTIME_TICKS_STATE_BYTES];
	uint64_t now;
	int err;

	/* 1. the input's first bytes as an image */
	err = size ? vtime_ticks_state_decode(&st, data, size) : VTIME_EPROTO;
	if (err == 0) {
		FZ_CHECK(vtime_ticks_state_encode(&st, img, sizeof img) == 0, "encode of a decoded state");
		FZ_CHECK(memcmp(img, data, sizeof img) == 0, "an accepted image does not re-encode to itself");
	} else {
		FZ_CHECK(err == VTIME_EPROTO || err == VTIME_ENOTSUP, "decode returned %d", err);
	}
	/* 2. a state from the input's fields (mostly edges), sometimes repaired
	 * into a consistent one so restore's deeper checks are reached */
	{
		uint8_t fix;
		f = fz_init(data, size);
		memset(&st, 0, sizeof st); /* reserved fields zero (docs/abi.md) */
		fix = fz_u8(&f);
		st.policy = fz_u8(&f) % 4u;
		st.rate = fz_u16(&f) % 300u;
		st.period = fz_edge64(&f);
		st.cap = fz_edge64(&f);
		st.due_in = fz_edge64(&f);
		st.inject_in = fz_edge64(&f);
		st.backlog = fz_edge64(&f);
		st.backlog_rem = fz_edge64(&f);
		st.due = fz_edge64(&f);
		st.delivered = fz_edge64(&f);
		st.dropped = fz_edge64(&f);
		st.coalesced = fz_edge64(&f);
		now = fz_edge64(&f);
		if (fix & 1u) {
			st.policy %= 3u;
			st.rate = 2 + st.rate % (VTIME_TICKS_RATE_MAX - 1);
			st.period = st.period ? st.period : 1;
			if (fix & 2u)
				st.period &= VTIME_TICKS_PERIOD_MAX;
			st.period = st.period ? st.period : 1;
			st.due_in = 1 + st.due_in % st.period;
			if (st.due_in != UINT64_MAX)
				st.inject_in %= st.due_in + 1;
			st.backlog_rem %= st.period;
			if (fix & 4u) {
				st.delivered >>= 2;
				st.dropped >>= 2;
				st.backlog >>= 2;
				st.due = st.delivered + st.dropped + st.backlog;
				st.coalesced = st.due ? st.coalesced % (st.due + (st.due != UINT64_MAX)) : 0;
			}
		}
	}
	FZ_CHECK(vtime_ticks_state_encode(&st, img, sizeof img) == 0, "encode");
	/* a field a later version defines is never dropped silently */
	st.reserved[now & 3u] = now | 1u;
	FZ_CHECK(vtime_ticks_state_encode(&st, img2, sizeof img2) == VTIME_EINVAL, "encode took a reserved field");
	memset(&t, 0xa5, sizeof t);
	keep = t;
	FZ_CHECK(vtime_ticks_restore(&t, &st, now) == VTIME_EPROTO && memcmp(&t, &keep, sizeof t) == 0,
		 "restore took a reserved field");
	st.reserved[now & 3u] = 0;
	FZ_CHECK(vtime_ticks_state_decode(&back, img, sizeof img) == 0 && ticks_state_equal(&st, &back),
		 "decode(encode(x)) != x");
	FZ_CHECK(vtime_ticks_state_encode(&back, img2, sizeof img2) == 0 && memcmp(img, img2, sizeof img) == 0,
		 "encoding not deterministic");

	memset(&t, 0xa5, sizeof t);
	keep = t;
	err = vtime_ticks_restore(&t, &st, now);
	if (!ticks_state_valid(&st)) {
		FZ_CHECK(err == VTIME_EPROTO, "restore accepted (%d) a state its documentation forbids", err);
		FZ_CHECK(memcmp(&t, &keep, sizeof t) == 0, "a refused restore changed the engine");
		return 0;
	}
	FZ_CHECK(err == 0, "restore refused (%d) a valid state", err);
	FZ_CHECK(vtime_ticks_save(&t, now, &back) == 0 && ticks_state_equal(&st, &back),
		 "save right after restore differs");
	FZ_CHECK(t.due == t.delivered + t.dropped + t.backlog, "due != delivered + dropped + backlog");
	{
		struct vtime_ticks_result r;
		uint64_t dt = fz_edge64(&f) & VTIME_TICKS_PERIOD_MAX, at = now + dt;
		bool acked = fz_bool(&f);
		FZ_CHECK(vtime_ticks_update(&t, at, acked, &r) == 0, "update");
		FZ_CHECK(r.deliver <= 1 && (acked || !r.deliver), "deliver %u (acked %d)", r.deliver, acked);
		FZ_CHECK(t.due == t.delivered + t.dropped + t.backlog, "counts after the update do not add up");
		FZ_CHECK(fz_sdiff(r.next, at) > 0 && r.next - at <= t.period, "next %llu for now %llu, period %llu",
			 FZ_U(r.next), FZ_U(at), FZ_U(t.period));
		FZ_CHECK(vtime_ticks_save(&t, at, &back) == 0, "save");
		if (back.due >= st.due) /* counts did not wrap past 2^64 */
			FZ_CHECK(vtime_ticks_restore(&keep, &back, at) == 0, "the restore refused a state save produced");
	}
	return 0;
}
