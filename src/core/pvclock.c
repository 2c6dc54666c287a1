/* SPDX-License-Identifier: MIT */
#include <vtime/error.h>
#include <vtime/pvclock.h>
#include <vtime/scale.h>

#include "vt_atomic.h"
#include "vt_endian.h"
#include "vt_pvclock_read.h"
#include "vt_seq.h"

uint64_t vtime_pvclock_time(const struct vtime_pvclock_vcpu_time_info *rec, uint64_t tsc)
{
	return vt_pvclock_scale(rec, tsc);
}

int vtime_pvclock_read(const volatile struct vtime_pvclock_vcpu_time_info *rec,
		       const struct vtime_counter *ctr, unsigned max_tries,
		       struct vtime_pvclock_reading *out)
{
	struct vtime_pvclock_vcpu_time_info body;
	uint64_t tsc = 0;
	int err;

	if (!rec || !ctr || !ctr->read || !out)
		return VTIME_EINVAL;
	err = vt_pvclock_read_window(rec, ctr->read, ctr->ctx, max_tries, &body, &tsc);
	if (err)
		return err;
	out->ns = vt_pvclock_scale(&body, tsc);
	out->tsc = tsc;
	out->version = body.version;
	out->flags = body.flags;
	return 0;
}

int vtime_pvclock_snapshot(const volatile struct vtime_pvclock_vcpu_time_info *rec, unsigned max_tries,
			   struct vtime_pvclock_vcpu_time_info *out)
{
	uint64_t unused = 0;

	if (!rec || !out)
		return VTIME_EINVAL;
	out->pad0 = 0;
	out->pad[0] = out->pad[1] = 0;
	return vt_pvclock_read_window(rec, (uint64_t (*)(void *))0, (void *)0, max_tries, out, &unused);
}

uint32_t vtime_pvclock_publish(volatile struct vtime_pvclock_vcpu_time_info *rec,
			       const struct vtime_pvclock_vcpu_time_info *body)
{
	uint32_t v = vt_seq_write_begin(&rec->version);

	vt_store32(&rec->pad0, 0);
	vt_store64(&rec->tsc_timestamp, vt_le64(body->tsc_timestamp));
	vt_store64(&rec->system_time, vt_le64(body->system_time));
	vt_store32(&rec->tsc_to_system_mul, vt_le32(body->tsc_to_system_mul));
	vt_store8((volatile uint8_t *)&rec->tsc_shift, (uint8_t)body->tsc_shift);
	/* Replace the flags but keep a GUEST_STOPPED the guest has not consumed.
	 * Two atomic RMWs rather than load+store: a consume racing this write
	 * is never undone, so the guest sees each stop exactly once. */
	(void)vt_fetch_and8(&rec->flags, VTIME_PVCLOCK_GUEST_STOPPED);
	if (body->flags)
		(void)vt_fetch_or8(&rec->flags, body->flags);
	vt_store8(&rec->pad[0], 0);
	vt_store8(&rec->pad[1], 0);
	return vt_seq_write_end(&rec->version, v);
}

bool vtime_pvclock_consume_stopped(volatile struct vtime_pvclock_vcpu_time_info *rec)
{
	/* Cheap check first: the bit is rare, and the RMW dirties the host's line. */
	if (!rec || !(vt_load8(&rec->flags) & VTIME_PVCLOCK_GUEST_STOPPED))
		return false;
	return (vt_fetch_and8(&rec->flags, (uint8_t)~VTIME_PVCLOCK_GUEST_STOPPED) &
		VTIME_PVCLOCK_GUEST_STOPPED) != 0;
}

uint32_t vtime_pvclock_wall_publish(volatile struct vtime_pvclock_wall_clock *wc, uint32_t sec, uint32_t nsec)
{
	uint32_t v = vt_seq_write_begin(&wc->version);

	vt_store32(&wc->sec, vt_le32(sec));
	vt_store32(&wc->nsec, vt_le32(nsec));
	/* (0, 0) is a wall clock the VMM may publish (kvmclock ahead of
	 * realtime): never let it read as "never published" after a wrap */
	return vt_seq_write_end_nonzero(&wc->version, v);
}

struct vt_wall_copy {
	const volatile struct vtime_pvclock_wall_clock *wc;
	uint32_t sec, nsec;
};

static uint64_t vt_wall_body(void *p)
{
	struct vt_wall_copy *c = (struct vt_wall_copy *)p;

	c->sec = vt_le32(vt_load32(&c->wc->sec));
	c->nsec = vt_le32(vt_load32(&c->wc->nsec));
	return 0;
}

int vtime_pvclock_wall_read(const volatile struct vtime_pvclock_wall_clock *wc, unsigned max_tries,
			    uint32_t *sec, uint32_t *nsec)
{
	struct vt_wall_copy c = { wc, 0, 0 };
	uint32_t v;
	int err;

	if (!wc || !sec || !nsec)
		return VTIME_EINVAL;
	if ((err = vt_seq_read(&wc->version, max_tries, vt_wall_body, &c, &v)))
		return err;
	if (v == 0 && c.sec == 0 && c.nsec == 0)
		return VTIME_ENODATA;
	*sec = c.sec;
	*nsec = c.nsec;
	return 0;
}

uint64_t vtime_pvclock_wall_ns(uint32_t sec, uint32_t nsec, uint64_t kvmclock_ns)
{
	return (uint64_t)sec * VTIME_NSEC_PER_SEC + nsec + kvmclock_ns;
}
