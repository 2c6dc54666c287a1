/* SPDX-License-Identifier: MIT */
/* The kernel's clock adjustments (see vt_ntp.h for the formula). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/timex.h>
#include <vtime/error.h>

#include "vt_ntp.h"

#ifndef ADJ_OFFSET_SS_READ
#define ADJ_OFFSET_SS_READ 0xa001
#endif

int vt_ntp_sys(struct vt_ntp_raw *out, int *err)
{
	struct timex tx;
	int saved = errno, st;
	bool pll;

	memset(&tx, 0, sizeof tx);
	tx.modes = ADJ_OFFSET_SS_READ; /* read-only: adjtime()'s remainder and every other field */
	if ((st = adjtimex(&tx)) < 0)
		goto fail;
	out->adjust = tx.offset;
	out->tick = tx.tick;
	out->freq = tx.freq;
	out->constant = tx.constant;
	out->maxerror = tx.maxerror;
	out->esterror = tx.esterror;
	out->status = tx.status;
	out->state = st;
	out->tai = tx.tai;
	/* the PLL's offset (modes 0) only where the PLL runs or left one:
	 * each read costs a system call (2.4-3.6 us measured here) */
	pll = (tx.status & STA_PLL) || out->offset != 0;
	out->offset = 0;
	if (pll) {
		memset(&tx, 0, sizeof tx);
		if (adjtimex(&tx) < 0)
			goto fail;
		out->offset = tx.offset;
	}
	errno = saved;
	return 0;
fail:
	if (err)
		*err = errno;
	errno = saved;
	return VTIME_EIO;
}

int64_t vt_ntp_offset_ns(const struct vt_ntp_raw *r)
{
	long us = r->offset;

	if (r->status & STA_NANO)
		return r->offset;
	/* the kernel divides a negative offset as an unsigned 32-bit value:
	 * (2^32 - x) / 1000 comes back for -x / 1000 */
	if (us > 2147483L)
		us -= 4294967L;
	return (int64_t)us * 1000;
}

double vt_ntp_ratio(const struct vt_ntp_raw *r)
{
	double ns = (double)r->tick * 100000.0 + (double)r->freq * 1000.0 / 65536.0;
	int64_t off = vt_ntp_offset_ns(r);

	if (off) {
		if ((r->status & STA_PPSTIME) && (r->status & STA_PPSSIGNAL)) {
			ns += (double)off; /* a PPS time source: the whole offset in one second */
		} else {
			long c = r->constant < 0 ? 0 : r->constant > 30 ? 30 : r->constant;
			ns += (double)off / (double)(1ull << (2 + c));
		}
	}
	if (r->adjust > 500)
		ns += 500000.0;
	else if (r->adjust < -500)
		ns -= 500000.0;
	else
		ns += (double)r->adjust * 1000.0;
	if (ns <= 0)
		return 1.0; /* nonsense: assume nominal, the tracking loop sees the rest */
	return ns / 1e9;
}

bool vt_ntp_update(struct vt_ntp *n, int (*read)(struct vt_ntp_raw *out), uint64_t now)
{
	struct vt_ntp_raw r;
	double old = n->ratio, ratio;
	int err = 0, rc;

	r.offset = n->raw.offset; /* the previous read's: tells vt_ntp_sys whether to look again */
	rc = read ? read(&r) : vt_ntp_sys(&r, &err);
	n->reads++;
	n->read_at = now;
	if (rc != 0) {
		n->fails++;
		n->have = false;
		n->err = err ? err : EIO;
		ratio = 1.0;
	} else {
		n->have = true;
		n->err = 0;
		n->raw = r;
		ratio = vt_ntp_ratio(&r);
	}
	n->ratio = ratio;
	if (old == 0)
		return false; /* the first read */
	return ratio - old > 1e-12 || old - ratio > 1e-12;
}
