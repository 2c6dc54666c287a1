/* SPDX-License-Identifier: MIT */
/* The wall clock, from both sides, with numbers from anyone:
 *   - vtime_pvclock_wall_read() on a raw 12-byte record: odd version
 *     EAGAIN, never published (all zero) ENODATA, else the fields;
 *   - vtime_pvclock_wall_ns() is sec * 1e9 + nsec + kvmclock (mod 2^64);
 *   - vtime_pvclock_wall_publish() over a record holding any version:
 *     the new version is even, never the old one, and reads back;
 *   - the VMM's wall record: realtime - kvmclock split into (sec, nsec),
 *     nsec < 1e9, 0 when kvmclock is ahead of realtime, and wall + kvmclock
 *     gives realtime back while the seconds fit the ABI's u32. */
#include <vtime/error.h>
#include <vtime/pvclock.h>
#include <vtime/vmm.h>

#include "fuzz.h"

#define NS 1000000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	struct vtime_pvclock_wall_clock wc;
	uint8_t raw[12];
	uint32_t sec = 7, nsec = 7, v0, rsec, rnsec, ver;
	uint64_t k = fz_edge64(&f);
	int err, expect;

	for (unsigned i = 0; i < 12; i++)
		raw[i] = fz_u8(&f);
	if (fz_bool(&f))
		raw[0] &= 0xfe;
	memcpy(&wc, raw, sizeof wc);
	v0 = (uint32_t)raw[0] | (uint32_t)raw[1] << 8 | (uint32_t)raw[2] << 16 | (uint32_t)raw[3] << 24;
	rsec = (uint32_t)raw[4] | (uint32_t)raw[5] << 8 | (uint32_t)raw[6] << 16 | (uint32_t)raw[7] << 24;
	rnsec = (uint32_t)raw[8] | (uint32_t)raw[9] << 8 | (uint32_t)raw[10] << 16 | (uint32_t)raw[11] << 24;
	expect = (v0 & 1u) ? VTIME_EAGAIN : (v0 == 0 && rsec == 0 && rnsec == 0) ? VTIME_ENODATA : 0;
	err = vtime_pvclock_wall_read(&wc, 3, &sec, &nsec);
	FZ_CHECK(err == expect, "wall_read = %d, want %d (version %u)", err, expect, v0);
	if (!err)
		FZ_CHECK(sec == rsec && nsec == rnsec, "wall_read fields");
	else
		FZ_CHECK(sec == 7 && nsec == 7, "wall_read wrote its outputs on error %d", err);
	FZ_CHECK(vtime_pvclock_wall_ns(rsec, rnsec, k) == (uint64_t)rsec * NS + rnsec + k, "wall_ns");

	/* writer over whatever version the page holds */
	{
		uint32_t s2 = fz_u32(&f), n2 = fz_u32(&f);
		ver = vtime_pvclock_wall_publish(&wc, s2, n2);
		uint32_t want = ((v0 + 1u) | 1u) + 1u;
		if (want == 0)
			want = 2; /* never 0: with a (0, 0) body it would read as never published */
		FZ_CHECK((ver & 1u) == 0 && ver != v0 && ver == want, "wall version %u after %u", ver, v0);
		FZ_CHECK(vtime_pvclock_wall_read(&wc, 1, &sec, &nsec) == 0 && sec == s2 && nsec == n2, "wall read back");
	}

	/* the VMM's wall record */
	{
		struct vtime_vmm vm;
		struct vtime_vmm_config cfg;
		struct vtime_vmm_now now;
		uint64_t set = fz_edge64(&f), kv, wall;
		memset(&cfg, 0, sizeof cfg);
		cfg.host_hz = fz_bool(&f) ? 2600000000ull : fz_edge64(&f);
		now.host_tsc = fz_edge64(&f);
		now.host_ns = fz_edge64(&f);
		now.realtime_ns = fz_edge64(&f);
		if (vtime_vmm_init(&vm, &cfg, &now) != 0)
			return 0;
		if (fz_bool(&f))
			FZ_CHECK(vtime_vmm_set_clock(&vm, &now, set) == 0, "set_clock");
		now.host_tsc += fz_edge64(&f);
		kv = vtime_vmm_clock(&vm, now.host_tsc);
		err = vtime_vmm_wall(&vm, &now, &sec, &nsec);
		FZ_CHECK(err == 0, "vmm_wall = %d", err);
		wall = now.realtime_ns > kv ? now.realtime_ns - kv : 0;
		FZ_CHECK(nsec < NS && nsec == wall % NS && sec == (uint32_t)(wall / NS),
			 "vmm_wall (%u, %u) for realtime %llu kvmclock %llu", sec, nsec, FZ_U(now.realtime_ns), FZ_U(kv));
		if (now.realtime_ns > kv && wall / NS <= UINT32_MAX)
			FZ_CHECK(vtime_pvclock_wall_ns(sec, nsec, kv) == now.realtime_ns, "wall + kvmclock != realtime");
		ver = 0;
		FZ_CHECK(vtime_vmm_wall_publish(&vm, &wc, &now, &ver) == 0 && (ver & 1u) == 0, "vmm wall publish");
		FZ_CHECK(vtime_pvclock_wall_read(&wc, 1, &rsec, &rnsec) == 0 && rsec == sec && rnsec == nsec,
			 "vmm wall read back");
	}
	return 0;
}
