/* SPDX-License-Identifier: MIT */
/* VMM core against the formulas (timekeeping-facts sections 1 and 3), with
 * simulated host counters: TSC matching, scaled, catch-up and emulated TSC,
 * pause/resume, snapshot/restore (also onto a host with another TSC rate),
 * versions, wall clock. Every scenario runs from 0 and from just below 2^64. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stddef.h>
#include <vtime/error.h>
#include <vtime/kvm.h>
#include <vtime/pvclock.h>
#include <vtime/scale.h>
#include <vtime/tsc.h>
#include <vtime/vmm.h>

#include "vt_endian.h"
#include "vt_test.h"

/* The calls' results as one int, to keep the assertions short: 1/0 for
 * "synchronised", the new version (> 0), or the error (negative). */
static int wtsc(struct vtime_vmm_vcpu *v, uint64_t value, const struct vtime_vmm_now *n, bool host)
{
	bool synced = false;
	int err = vtime_vmm_vcpu_write_tsc(v, value, n, host, &synced);
	return err ? err : synced;
}

static int adopt(struct vtime_vmm_vcpu *v, uint64_t offset, const struct vtime_vmm_now *n)
{
	bool synced = false;
	int err = vtime_vmm_vcpu_adopt_offset(v, offset, n, &synced);
	return err ? err : synced;
}

static int vrestore(struct vtime_vmm_vcpu *v, const struct vtime_vmm_vcpu_state *st, const struct vtime_vmm_now *n)
{
	bool synced = false;
	int err = vtime_vmm_vcpu_restore(v, st, n, &synced);
	return err ? err : synced;
}

static int64_t pub(struct vtime_vmm_vcpu *v, const struct vtime_vmm_now *n)
{
	uint32_t version = 0;
	int err = vtime_vmm_vcpu_publish(v, n, &version);
	return err ? err : (int64_t)version;
}

static int64_t wpub(const struct vtime_vmm *vm, volatile struct vtime_pvclock_wall_clock *wc,
		    const struct vtime_vmm_now *n)
{
	uint32_t version = 0;
	int err = vtime_vmm_wall_publish(vm, wc, n, &version);
	return err ? err : (int64_t)version;
}

#define NS 1000000000ull

static uint64_t fixed_counter(void *ctx)
{
	return *(const uint64_t *)ctx;
}

/* A record's version word as guest memory holds it: little-endian on every
 * host (the s390x run in CI checks the byte order of these tests too). */
static void set_version(struct vtime_pvclock_vcpu_time_info *rec, uint32_t v)
{
	uint8_t *b = (uint8_t *)&rec->version;
	b[0] = (uint8_t)v, b[1] = (uint8_t)(v >> 8), b[2] = (uint8_t)(v >> 16), b[3] = (uint8_t)(v >> 24);
}

static uint32_t get_version(const struct vtime_pvclock_vcpu_time_info *rec)
{
	const uint8_t *b = (const uint8_t *)&rec->version;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Host counter starts: from 0 and just below 2^64 (it wraps mid-test). */
static const uint64_t starts[] = { 0, UINT64_MAX - 3 * 2600000000ull };

/* Independent oracle for (a * b) >> n: 16-bit limb schoolbook product. */
static uint64_t oracle_mulshr(uint64_t a, uint64_t b, unsigned n)
{
	uint32_t r[8] = { 0 };
	uint64_t out = 0;
	for (int i = 0; i < 4; i++) {
		uint32_t carry = 0;
		for (int j = 0; j < 4; j++) {
			uint32_t x = (uint32_t)((a >> (16 * i)) & 0xffff), y = (uint32_t)((b >> (16 * j)) & 0xffff);
			uint64_t t = (uint64_t)x * y + r[i + j] + carry;
			r[i + j] = (uint32_t)(t & 0xffff);
			carry = (uint32_t)(t >> 16);
		}
		for (int k = i + 4; carry && k < 8; k++) {
			uint64_t t = (uint64_t)r[k] + carry;
			r[k] = (uint32_t)(t & 0xffff);
			carry = (uint32_t)(t >> 16);
		}
	}
	for (unsigned bit = n; bit < n + 64 && bit < 128; bit++)
		if ((r[bit / 16] >> (bit % 16)) & 1u)
			out |= (uint64_t)1 << (bit - n);
	return out;
}

/* Host ns for a host counter value (exact, counter assumed started at t0). */
static struct vtime_vmm_now at(uint64_t t0, uint64_t hz, uint64_t ticks, uint64_t realtime0)
{
	struct vtime_vmm_now n;
	n.host_tsc = t0 + ticks;
	n.host_ns = (ticks / hz) * NS + (ticks % hz) * NS / hz;
	n.realtime_ns = realtime0 + n.host_ns;
	return n;
}

static int64_t sdiff(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b);
}

static struct vtime_vmm_config cfg_of(uint64_t host_hz, uint64_t guest_hz, bool hw)
{
	struct vtime_vmm_config c;
	memset(&c, 0, sizeof(c));
	c.host_hz = host_hz;
	c.guest_hz = guest_hz;
	c.hw_scaling = hw;
	return c;
}

static void test_mode_selection(void)
{
	struct vtime_vmm vm;
	struct vtime_vmm_now n = at(0, 2600000000u, 0, 0);
	struct vtime_vmm_config c;
	struct vtime_scale s;
	uint64_t ratio;

	c = cfg_of(2599999000u, 2599999000u + 2599999000u / 4000u, false); /* +250 ppm */
	CU_ASSERT(vtime_vmm_init(&vm, &c, &n) == 0);
	CU_ASSERT(vm.mode == VTIME_VMM_TSC_NATIVE);
	/* Native: the record carries the host rate, KVM-exact. */
	CU_ASSERT(vm.guest_to_ns.mul == 3303822267u && vm.guest_to_ns.shift == -1);
	c = cfg_of(2600000000u, 2600000000u + 2600000000u / 3000u, false); /* +333 ppm */
	CU_ASSERT(vtime_vmm_init(&vm, &c, &n) == 0);
	CU_ASSERT(vm.mode == VTIME_VMM_TSC_CATCHUP);
	c = cfg_of(3000000000u, 2000000000u, false);
	CU_ASSERT(vtime_vmm_init(&vm, &c, &n) == 0);
	CU_ASSERT(vm.mode == VTIME_VMM_TSC_EMULATED);
	c = cfg_of(3000000000u, 2000000000u, true);
	CU_ASSERT(vtime_vmm_init(&vm, &c, &n) == 0);
	CU_ASSERT(vm.mode == VTIME_VMM_TSC_SCALED);
	CU_ASSERT(vtime_tsc_ratio_init(&ratio, 2000000u, 3000000u, 48) == 0);
	CU_ASSERT(vm.ratio == ratio);
	CU_ASSERT(vtime_scale_init(&s, vtime_tsc_ratio_apply(3000000000u, ratio, 48), NS) == 0);
	CU_ASSERT(vm.guest_to_ns.mul == s.mul && vm.guest_to_ns.shift == s.shift);
	c = cfg_of(3000000000u, 2000000000u, false);
	c.mode = VTIME_VMM_TSC_SCALED;
	CU_ASSERT(vtime_vmm_init(&vm, &c, &n) == VTIME_ENOTSUP);
	c.mode = VTIME_VMM_TSC_CATCHUP; /* slower guest cannot catch up */
	CU_ASSERT(vtime_vmm_init(&vm, &c, &n) == VTIME_EINVAL);
	c = cfg_of(0, 1, false);
	CU_ASSERT(vtime_vmm_init(&vm, &c, &n) == VTIME_EINVAL);
}

/* KVM's rule: within +-1 s (guest cycles) of the extrapolated last write. */
static void test_tsc_matching(void)
{
	const uint64_t hz = 2600000000u;
	for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
		struct vtime_vmm vm;
		struct vtime_vmm_vcpu a, b, c;
		struct vtime_vmm_config cfg = cfg_of(hz, hz, false);
		struct vtime_vmm_now n = at(starts[k], hz, 0, 0);
		uint64_t exp;

		CU_ASSERT_FATAL(vtime_vmm_init(&vm, &cfg, &n) == 0);
		vtime_vmm_vcpu_init(&vm, &a);
		vtime_vmm_vcpu_init(&vm, &b);
		vtime_vmm_vcpu_init(&vm, &c);
		CU_ASSERT(wtsc(&a, 0, &n, true) == 0); /* first: new generation */
		CU_ASSERT(a.tsc_offset == 0 - n.host_tsc);
		CU_ASSERT(!vtime_vmm_stable(&vm));
		n = at(starts[k], hz, hz / 100, 0); /* 10 ms later: host-initiated 0 synchronises */
		CU_ASSERT(wtsc(&b, 0, &n, true) == 1);
		CU_ASSERT(b.tsc_offset == a.tsc_offset);
		CU_ASSERT(vtime_vmm_vcpu_tsc(&b, n.host_tsc) == vtime_vmm_vcpu_tsc(&a, n.host_tsc));
		CU_ASSERT(!vtime_vmm_stable(&vm)); /* c not written yet */
		/* 0.5 s later a guest write 0.999999999 s ahead of the extrapolation. */
		n = at(starts[k], hz, hz / 100 + hz / 2, 0);
		exp = 0 + (uint64_t)((hz / 2) * 1); /* last write 0 at 10 ms, +0.5 s of guest cycles */
		/* (the extrapolation floors: keep a few cycles off the exact edge) */
		CU_ASSERT(wtsc(&c, exp + hz - 8, &n, false) == 1);
		CU_ASSERT(c.tsc_offset == a.tsc_offset); /* the written value is not used */
		CU_ASSERT(vtime_vmm_stable(&vm));
		/* Exactly 1 s off is outside: a new generation, not stable. */
		n = at(starts[k], hz, hz, 0);
		exp = (exp + hz - 8) + (hz - (hz / 100 + hz / 2));
		CU_ASSERT(wtsc(&a, exp + hz + 8, &n, false) == 0);
		CU_ASSERT(vtime_vmm_vcpu_tsc(&a, n.host_tsc) == exp + hz + 8);
		exp += 8;
		CU_ASSERT(!vtime_vmm_stable(&vm));
		/* The others rejoin with writes within the window: stable again. */
		CU_ASSERT(wtsc(&b, exp + hz - hz / 3, &n, false) == 1);
		CU_ASSERT(wtsc(&c, exp + hz + hz / 3, &n, false) == 1);
		CU_ASSERT(b.tsc_offset == a.tsc_offset && c.tsc_offset == a.tsc_offset);
		CU_ASSERT(vtime_vmm_stable(&vm));
		/* Below the window by one cycle more than 1 s: new generation. */
		CU_ASSERT(wtsc(&b, exp + hz - hz - 8, &n, false) == 0);
		CU_ASSERT(!vtime_vmm_stable(&vm));
	}
}

/* Guest reading through the published record at host counter t. */
static uint64_t guest_read(struct vtime_vmm_vcpu *v, volatile struct vtime_pvclock_vcpu_time_info *rec, uint64_t t)
{
	struct vtime_pvclock_vcpu_time_info body;
	CU_ASSERT(vtime_pvclock_snapshot(rec, 0, &body) == 0);
	return vtime_pvclock_time(&body, vtime_vmm_vcpu_rdtsc(v, t));
}

/* A record's fields in host byte order (records are little-endian). */
static struct vtime_pvclock_vcpu_time_info body_of(const struct vtime_pvclock_vcpu_time_info *rec)
{
	struct vtime_pvclock_vcpu_time_info b;
	memset(&b, 0, sizeof(b));
	CU_ASSERT(vtime_pvclock_snapshot(rec, 0, &b) == 0);
	return b;
}

#define F(rec, field) (body_of(&(rec)).field)

static void test_native_records(void)
{
	const uint64_t hz = 2599999000u;
	for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
		struct vtime_vmm vm;
		struct vtime_vmm_vcpu a, b;
		struct vtime_pvclock_vcpu_time_info ra, rb;
		struct vtime_vmm_config cfg = cfg_of(hz, 0, false);
		struct vtime_vmm_now n = at(starts[k], hz, 0, 0);
		uint64_t last = 0;

		memset(&ra, 0, sizeof(ra));
		memset(&rb, 0, sizeof(rb));
		CU_ASSERT_FATAL(vtime_vmm_init(&vm, &cfg, &n) == 0);
		vtime_vmm_vcpu_init(&vm, &a);
		vtime_vmm_vcpu_init(&vm, &b);
		vtime_vmm_vcpu_set_record(&a, &ra);
		CU_ASSERT(pub(&a, &n) == VTIME_ESTATE); /* TSC never written */
		wtsc(&a, 0, &n, true);
		wtsc(&b, 0, &n, true);
		CU_ASSERT(pub(&b, &n) == VTIME_ENODEV); /* no record */
		vtime_vmm_vcpu_set_record(&b, &rb);
		CU_ASSERT(vtime_vmm_publish_all(&vm, &n) == 0);
		CU_ASSERT(F(ra, version) == 2 && F(rb, version) == 2);
		CU_ASSERT(F(ra, flags) == VTIME_PVCLOCK_TSC_STABLE);
		/* Same reference on both: identical bodies; guest TSC 0 at kvmclock 0. */
		CU_ASSERT(F(ra, tsc_timestamp) == 0 && F(ra, system_time) == 0);
		CU_ASSERT(memcmp(&ra, &rb, sizeof(ra)) == 0);
		/* Readings equal the VM clock exactly (same scale), across the wrap,
		 * and never go backwards alternating vCPUs. */
		for (uint64_t i = 1; i <= 3000; i++) {
			uint64_t t = n.host_tsc + i * 2600000u + (i * 7919u) % 1000u;
			uint64_t g = guest_read(i & 1 ? &a : &b, i & 1 ? &ra : &rb, t);
			CU_ASSERT_EQUAL(g, vtime_vmm_clock(&vm, t));
			CU_ASSERT(g >= last);
			last = g;
		}
		/* Re-anchoring the master keeps the clock continuous. */
		{
			uint64_t t = n.host_tsc + 5 * hz, before = vtime_vmm_clock(&vm, t + hz);
			struct vtime_vmm_now m = at(starts[k], hz, 5 * hz, 0);
			vtime_vmm_update_master(&vm, &m);
			CU_ASSERT(vtime_vmm_publish_all(&vm, &m) == 0);
			CU_ASSERT(F(ra, version) == 4);
			CU_ASSERT(llabs(sdiff(vtime_vmm_clock(&vm, t + hz), before)) <= 1);
			CU_ASSERT(llabs(sdiff(guest_read(&a, &ra, t + hz), before)) <= 1);
		}
	}
}

static void test_scaled(void)
{
	const uint64_t host = 3000000000u, guest = 2000000000u;
	for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
		struct vtime_vmm vm;
		struct vtime_vmm_vcpu a;
		struct vtime_pvclock_vcpu_time_info ra;
		struct vtime_vmm_config cfg = cfg_of(host, guest, true);
		/* The hardware formula scales the raw host counter, so a host wrap
		 * is a discontinuity (centuries away): wrap the guest TSC instead. */
		struct vtime_vmm_now n = at(12345, host, 0, 0);
		uint64_t g0, g1, t1;

		memset(&ra, 0, sizeof(ra));
		CU_ASSERT_FATAL(vtime_vmm_init(&vm, &cfg, &n) == 0);
		CU_ASSERT_FATAL(vm.mode == VTIME_VMM_TSC_SCALED);
		vtime_vmm_vcpu_init(&vm, &a);
		vtime_vmm_vcpu_set_record(&a, &ra);
		wtsc(&a, starts[k] + 12345, &n, true);
		/* guest = ((host * ratio) >> 48) + offset, checked against the oracle. */
		for (uint64_t i = 0; i < 1000; i++) {
			uint64_t t = n.host_tsc + i * 987654321u;
			uint64_t want = oracle_mulshr(t, vm.ratio, 48) + a.tsc_offset;
			CU_ASSERT_EQUAL(vtime_vmm_vcpu_tsc(&a, t), want);
		}
		/* One host second is guest_hz guest cycles (ratio floor: within 1 ppm). */
		t1 = n.host_tsc + host;
		g0 = vtime_vmm_vcpu_tsc(&a, n.host_tsc);
		g1 = vtime_vmm_vcpu_tsc(&a, t1);
		CU_ASSERT(llabs(sdiff(g1 - g0, guest)) <= (long long)(guest / 1000000u));
		/* The guest's kvmclock from the record follows the VM clock (ppb level). */
		CU_ASSERT(pub(&a, &n) > 0);
		for (uint64_t s = 1; s <= 10; s++) {
			uint64_t t = n.host_tsc + s * host;
			CU_ASSERT(llabs(sdiff(guest_read(&a, &ra, t), vtime_vmm_clock(&vm, t))) <= 100);
		}
	}
}

static void test_catchup(void)
{
	const uint64_t host = 2000000000u, guest = 2500000000u;
	for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
		struct vtime_vmm vm;
		struct vtime_vmm_vcpu a;
		struct vtime_pvclock_vcpu_time_info ra;
		struct vtime_vmm_config cfg = cfg_of(host, guest, false);
		struct vtime_vmm_now n = at(starts[k], host, 0, 0);
		uint64_t last = 0, off;

		memset(&ra, 0, sizeof(ra));
		CU_ASSERT_FATAL(vtime_vmm_init(&vm, &cfg, &n) == 0);
		CU_ASSERT_FATAL(vm.mode == VTIME_VMM_TSC_CATCHUP);
		vtime_vmm_vcpu_init(&vm, &a);
		vtime_vmm_vcpu_set_record(&a, &ra);
		wtsc(&a, 0, &n, true);
		CU_ASSERT(pub(&a, &n) > 0);
		CU_ASSERT(!(F(ra, flags) & VTIME_PVCLOCK_TSC_STABLE)); /* no master clock */
		/* Updates every 100 ms of host time for 3 s. */
		for (uint64_t u = 1; u <= 30; u++) {
			struct vtime_vmm_now m = at(starts[k], host, u * host / 10, 0);
			uint64_t ns = vtime_vmm_clock(&vm, m.host_tsc);
			uint64_t target = vtime_scale_apply(&vm.ns_to_guest, ns); /* written 0 at kvmclock 0 */
			/* Just before the update the guest runs slow but forward. */
			uint64_t g = guest_read(&a, &ra, m.host_tsc - 1);
			CU_ASSERT(g >= last);
			last = g;
			off = a.tsc_offset;
			CU_ASSERT(pub(&a, &m) > 0);
			/* At the update the guest TSC sits where the virtual rate puts it. */
			CU_ASSERT_EQUAL(vtime_vmm_vcpu_tsc(&a, m.host_tsc), target);
			CU_ASSERT(a.tsc_offset - off < (uint64_t)1 << 63); /* forward only */
			CU_ASSERT(F(ra, system_time) == ns);
			g = guest_read(&a, &ra, m.host_tsc);
			CU_ASSERT(g >= last);
			CU_ASSERT(llabs(sdiff(g, ns)) <= 1);
			last = g;
			/* A second update at the same instant does not move it. */
			off = a.tsc_offset;
			CU_ASSERT(pub(&a, &m) > 0);
			CU_ASSERT(a.tsc_offset == off);
		}
	}
}

static void test_emulated(void)
{
	const uint64_t host = 3000000000u, guest = 2000000000u;
	for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
		struct vtime_vmm vm;
		struct vtime_vmm_vcpu a, b;
		struct vtime_pvclock_vcpu_time_info ra;
		struct vtime_vmm_config cfg = cfg_of(host, guest, false);
		struct vtime_vmm_now n = at(starts[k], host, 0, 0);
		uint64_t prev = 0;

		memset(&ra, 0, sizeof(ra));
		CU_ASSERT_FATAL(vtime_vmm_init(&vm, &cfg, &n) == 0);
		CU_ASSERT_FATAL(vm.mode == VTIME_VMM_TSC_EMULATED);
		vtime_vmm_vcpu_init(&vm, &a);
		vtime_vmm_vcpu_init(&vm, &b);
		vtime_vmm_vcpu_set_record(&a, &ra);
		wtsc(&a, 0, &n, true);
		wtsc(&b, 0, &n, true);
		CU_ASSERT(vtime_vmm_stable(&vm));
		/* Guest TSC = ns_to_guest(kvmclock) + offset: guest_hz per host second. */
		for (uint64_t s = 1; s <= 5; s++) {
			uint64_t t = n.host_tsc + s * host;
			uint64_t want = vtime_scale_apply(&vm.ns_to_guest, vtime_vmm_clock(&vm, t)) + a.tsc_offset;
			CU_ASSERT_EQUAL(vtime_vmm_vcpu_tsc(&a, t), want);
			CU_ASSERT(llabs(sdiff(vtime_vmm_vcpu_tsc(&a, t), s * guest)) <= (long long)(s * guest / 100000000u)); /* 10 ppb */
		}
		/* Host counters out of step by up to 5 us: the vCPU on the lagging
		 * host CPU still never sees the TSC go below the other's. */
		for (uint64_t i = 1; i <= 2000; i++) {
			uint64_t t = n.host_tsc + i * 30000u;
			uint64_t skew = (i * 2654435761u) % 15000u;
			uint64_t x = vtime_vmm_vcpu_rdtsc(i & 1 ? &a : &b, i & 1 ? t : t - skew);
			CU_ASSERT(x >= prev);
			prev = x;
		}
		/* The record converts the emulated TSC back to the VM clock. */
		CU_ASSERT(pub(&a, &n) > 0);
		{
			uint64_t t = n.host_tsc + 7 * host;
			struct vtime_pvclock_vcpu_time_info body = body_of(&ra);
			uint64_t g = vtime_pvclock_time(&body, vtime_vmm_vcpu_tsc(&a, t));
			CU_ASSERT(llabs(sdiff(g, vtime_vmm_clock(&vm, t))) <= 2);
		}
	}
}

static void test_pause_resume(void)
{
	const uint64_t hz = 2600000000u;
	for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
		for (int pol = 0; pol < 2; pol++) {
			struct vtime_vmm vm;
			struct vtime_vmm_vcpu a;
			struct vtime_pvclock_vcpu_time_info ra;
			struct vtime_vmm_config cfg = cfg_of(hz, 0, false);
			struct vtime_vmm_now n = at(starts[k], hz, 0, 0), p, r;
			uint64_t kp;

			memset(&ra, 0, sizeof(ra));
			CU_ASSERT_FATAL(vtime_vmm_init(&vm, &cfg, &n) == 0);
			vtime_vmm_vcpu_init(&vm, &a);
			vtime_vmm_vcpu_set_record(&a, &ra);
			wtsc(&a, 0, &n, true);
			CU_ASSERT(pub(&a, &n) > 0);
			p = at(starts[k], hz, 2 * hz, 0);
			r = at(starts[k], hz, 2 * hz + 3 * hz / 10, 0); /* 300 ms paused */
			CU_ASSERT(vtime_vmm_resume(&vm, &r, VTIME_RESUME_FREEZE) == VTIME_ESTATE);
			CU_ASSERT(vtime_vmm_pause(&vm, &p) == 0);
			CU_ASSERT(vtime_vmm_pause(&vm, &p) == VTIME_ESTATE);
			kp = vtime_vmm_clock(&vm, p.host_tsc);
			CU_ASSERT(vtime_vmm_resume(&vm, &r, pol ? VTIME_RESUME_ADVANCE : VTIME_RESUME_FREEZE) == 0);
			CU_ASSERT(vtime_vmm_publish_all(&vm, &r) == 0);
			CU_ASSERT(F(ra, flags) & VTIME_PVCLOCK_GUEST_STOPPED);
			if (pol) {
				CU_ASSERT(llabs(sdiff(guest_read(&a, &ra, r.host_tsc), kp + 3 * NS / 10)) <= 1);
			} else {
				CU_ASSERT_EQUAL(vtime_vmm_clock(&vm, r.host_tsc), kp);
				CU_ASSERT_EQUAL(guest_read(&a, &ra, r.host_tsc), kp);
			}
			/* Not consumed: a rewrite keeps it; consumed once: gone. */
			CU_ASSERT(pub(&a, &r) > 0);
			CU_ASSERT(F(ra, flags) & VTIME_PVCLOCK_GUEST_STOPPED);
			CU_ASSERT(vtime_pvclock_consume_stopped(&ra));
			CU_ASSERT(!vtime_pvclock_consume_stopped(&ra));
			CU_ASSERT(pub(&a, &r) > 0);
			CU_ASSERT(!(F(ra, flags) & VTIME_PVCLOCK_GUEST_STOPPED));
			/* KVMCLOCK_CTRL equivalent. */
			vtime_vmm_vcpu_request_stopped(&a);
			CU_ASSERT(pub(&a, &r) > 0);
			CU_ASSERT(F(ra, flags) & VTIME_PVCLOCK_GUEST_STOPPED);
		}
	}
}

/* Save on a 2.6 GHz host, restore on a 3.0 GHz one (guest TSC stays 2.6 GHz). */
static void restore_case(uint64_t start, bool hw, enum vtime_resume_policy pol, bool keep_memory)
{
	const uint64_t h1 = 2600000000u, h2 = 3000000000u, rt0 = 1700000000ull * NS;
	struct vtime_vmm vm, vm2;
	struct vtime_vmm_vcpu a, b, a2, b2;
	struct vtime_pvclock_vcpu_time_info ra, rb, ra2, rb2;
	struct vtime_vmm_config c1 = cfg_of(h1, 0, false), c2 = cfg_of(h2, h1, hw);
	struct vtime_vmm_now n = at(start, h1, 0, rt0), s, r;
	struct vtime_vmm_state snap;
	struct vtime_vmm_vcpu_state sa, sb;
	uint64_t ks, expect, expect_tsc;
	const uint64_t gone = 5 * NS; /* realtime between save and restore */

	memset(&ra, 0, sizeof(ra));
	memset(&rb, 0, sizeof(rb));
	CU_ASSERT_FATAL(vtime_vmm_init(&vm, &c1, &n) == 0);
	vtime_vmm_vcpu_init(&vm, &a);
	vtime_vmm_vcpu_init(&vm, &b);
	vtime_vmm_vcpu_set_record(&a, &ra);
	vtime_vmm_vcpu_set_record(&b, &rb);
	wtsc(&a, 0, &n, true);
	wtsc(&b, 0, &n, true);
	for (int i = 0; i < 3; i++)
		CU_ASSERT(vtime_vmm_publish_all(&vm, &n) == 0); /* versions reach 6 */
	s = at(start, h1, 10 * h1 + 12345, rt0);
	CU_ASSERT(vtime_vmm_save(&vm, &s, &snap) == 0);
	CU_ASSERT(vtime_vmm_vcpu_save(&a, &s, &sa) == 0);
	CU_ASSERT(vtime_vmm_vcpu_save(&b, &s, &sb) == 0);
	CU_ASSERT(sa.version == 6 && sb.version == 6);
	ks = snap.kvmclock_ns;
	CU_ASSERT(llabs(sdiff(ks, 10 * NS + 12345u * NS / h1)) <= 20); /* floors: ~0.5 ppb slow */

	/* The new host's counter starts elsewhere and runs at 3 GHz. */
	r = at(start + 77777, h2, 0, s.realtime_ns + gone);
	CU_ASSERT_FATAL(vtime_vmm_init(&vm2, &c2, &r) == 0);
	CU_ASSERT(vm2.mode == (hw ? VTIME_VMM_TSC_SCALED : VTIME_VMM_TSC_EMULATED));
	vtime_vmm_vcpu_init(&vm2, &a2);
	vtime_vmm_vcpu_init(&vm2, &b2);
	if (keep_memory) {
		ra2 = ra;
		rb2 = rb;
	} else {
		memset(&ra2, 0, sizeof(ra2));
		memset(&rb2, 0, sizeof(rb2));
	}
	vtime_vmm_vcpu_set_record(&a2, &ra2);
	vtime_vmm_vcpu_set_record(&b2, &rb2);
	{
		struct vtime_vmm_state bad = snap;
		bad.guest_hz = h2;
		CU_ASSERT(vtime_vmm_restore(&vm2, &bad, &r, pol, VTIME_VMM_RESTORE_SNAPSHOT) == VTIME_EINVAL);
	}
	CU_ASSERT(vtime_vmm_restore(&vm2, &snap, &r, pol, VTIME_VMM_RESTORE_SNAPSHOT) == 0);
	CU_ASSERT(vrestore(&a2, &sa, &r) == 0);
	CU_ASSERT(vrestore(&b2, &sb, &r) == 1); /* joined a2's TSC */
	CU_ASSERT(vtime_vmm_publish_all(&vm2, &r) == 0);
	expect = ks + (pol == VTIME_RESUME_ADVANCE ? gone : 0);
	expect_tsc = sa.guest_tsc + (pol == VTIME_RESUME_ADVANCE ? 5 * h1 : 0);
	CU_ASSERT_EQUAL(vtime_vmm_clock(&vm2, r.host_tsc), expect);
	/* ns -> cycles of the pause floors: within 10 ppb of it */
	CU_ASSERT(llabs(sdiff(vtime_vmm_vcpu_tsc(&a2, r.host_tsc), expect_tsc)) <= 2 + (long long)(5 * h1 / 100000000u));
	CU_ASSERT(llabs(sdiff(guest_read(&a2, &ra2, r.host_tsc), expect)) <= 2);
	/* Versions continue above the saved 6, memory kept or not. */
	CU_ASSERT(F(ra2, version) == 8 && F(rb2, version) == 8);
	CU_ASSERT(F(ra2, flags) & VTIME_PVCLOCK_GUEST_STOPPED);
	/* On the new host: 1 s of its counter is 1 s of guest time and
	 * guest_hz cycles of guest TSC; both vCPUs agree, never backwards. */
	{
		uint64_t t = r.host_tsc + h2, ga = guest_read(&a2, &ra2, t), gb = guest_read(&b2, &rb2, t);
		CU_ASSERT(llabs(sdiff(ga, expect + NS)) <= 1000);
		CU_ASSERT(llabs(sdiff(vtime_vmm_vcpu_tsc(&a2, t), expect_tsc + h1)) <= (long long)(h1 / 1000000u));
		CU_ASSERT(llabs(sdiff(ga, gb)) <= 1);
		CU_ASSERT(sdiff(ga, expect) > 0);
	}
}

/* A VM whose vCPUs were created (TSC written 0) before the restore, with a
 * pause well under 1 s: the restored TSC must not merge into the creation
 * generation (KVM's rule would), and adopting the hypervisor's own offset
 * afterwards is exact. */
static void test_restore_after_creation(void)
{
	const uint64_t hz = 2600000000u;
	for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
		struct vtime_vmm vm, vm2;
		struct vtime_vmm_vcpu a, a2, b2;
		struct vtime_vmm_config cfg = cfg_of(hz, 0, false);
		struct vtime_vmm_now n = at(starts[k], hz, 0, 0), s, c, r;
		struct vtime_vmm_state snap;
		struct vtime_vmm_vcpu_state sa;

		CU_ASSERT_FATAL(vtime_vmm_init(&vm, &cfg, &n) == 0);
		vtime_vmm_vcpu_init(&vm, &a);
		wtsc(&a, 0, &n, true);
		s = at(starts[k], hz, 2 * hz, 0);
		CU_ASSERT(vtime_vmm_save(&vm, &s, &snap) == 0);
		CU_ASSERT(vtime_vmm_vcpu_save(&a, &s, &sa) == 0);
		c = at(starts[k], hz, 2 * hz + hz / 10, 0); /* new VM created 100 ms later */
		CU_ASSERT_FATAL(vtime_vmm_init(&vm2, &cfg, &c) == 0);
		vtime_vmm_vcpu_init(&vm2, &a2);
		vtime_vmm_vcpu_init(&vm2, &b2);
		CU_ASSERT(wtsc(&a2, 0, &c, true) == 0);
		CU_ASSERT(wtsc(&b2, 0, &c, true) == 1);
		r = at(starts[k], hz, 2 * hz + hz / 5, 0); /* restored 200 ms after the save */
		CU_ASSERT(vtime_vmm_restore(&vm2, &snap, &r, VTIME_RESUME_FREEZE, VTIME_VMM_RESTORE_SNAPSHOT) == 0);
		CU_ASSERT(vrestore(&a2, &sa, &r) == 0); /* a generation of its own */
		CU_ASSERT(vrestore(&b2, &sa, &r) == 1);
		CU_ASSERT_EQUAL(vtime_vmm_vcpu_tsc(&a2, r.host_tsc), sa.guest_tsc);
		CU_ASSERT_EQUAL(vtime_vmm_clock(&vm2, r.host_tsc), snap.kvmclock_ns);
		CU_ASSERT(vtime_vmm_stable(&vm2));
		/* The hypervisor kept its creation offset: adopt it exactly. */
		CU_ASSERT(adopt(&a2, 0 - c.host_tsc, &r) == 0);
		CU_ASSERT(!vtime_vmm_stable(&vm2));
		CU_ASSERT(adopt(&b2, 0 - c.host_tsc, &r) == 1);
		CU_ASSERT(vtime_vmm_stable(&vm2));
		CU_ASSERT_EQUAL(vtime_vmm_vcpu_tsc(&b2, r.host_tsc), r.host_tsc - c.host_tsc);
		/* kvmclock still continues from the saved value (freeze). */
		CU_ASSERT_EQUAL(vtime_vmm_clock(&vm2, r.host_tsc), snap.kvmclock_ns);
	}
}

static void test_snapshot_restore(void)
{
	for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++)
		for (int hw = 0; hw < 2; hw++)
			for (int pol = 0; pol < 2; pol++)
				for (int keep = 0; keep < 2; keep++)
					restore_case(starts[k], hw, pol ? VTIME_RESUME_ADVANCE : VTIME_RESUME_FREEZE, keep);
}

static void test_wall_clock(void)
{
	const uint64_t hz = 2600000000u, rt0 = 1795540977ull * NS + 123456789u;
	struct vtime_vmm vm;
	struct vtime_vmm_config cfg = cfg_of(hz, 0, false);
	struct vtime_vmm_now n = at(0, hz, 0, rt0), m = at(0, hz, 3 * hz, rt0);
	struct vtime_pvclock_wall_clock wc;
	uint32_t sec, nsec;

	memset(&wc, 0, sizeof(wc));
	CU_ASSERT_FATAL(vtime_vmm_init(&vm, &cfg, &n) == 0);
	vtime_vmm_wall(&vm, &m, &sec, &nsec);
	CU_ASSERT(sec == 1795540977u && nsec >= 123456789u && nsec <= 123456790u); /* realtime at kvmclock 0 (+1 ns floor) */
	CU_ASSERT(wpub(&vm, &wc, &m) == 2);
	CU_ASSERT(vtime_pvclock_wall_read(&wc, 0, &sec, &nsec) == 0);
	CU_ASSERT(vtime_pvclock_wall_ns(sec, nsec, vtime_vmm_clock(&vm, m.host_tsc)) == m.realtime_ns);
	/* kvmclock set far ahead of realtime: the wall record saturates at 0. */
	vtime_vmm_set_clock(&vm, &m, m.realtime_ns + NS);
	vtime_vmm_wall(&vm, &m, &sec, &nsec);
	CU_ASSERT(sec == 0 && nsec == 0);
}

/* kvmclock itself crossing 2^64 (set near the top by a restore). */
static void test_clock_wrap(void)
{
	const uint64_t hz = 2600000000u;
	struct vtime_vmm vm;
	struct vtime_vmm_vcpu a;
	struct vtime_pvclock_vcpu_time_info ra;
	struct vtime_vmm_config cfg = cfg_of(hz, 0, false);
	struct vtime_vmm_now n = at(5, hz, 0, 0);

	memset(&ra, 0, sizeof(ra));
	CU_ASSERT_FATAL(vtime_vmm_init(&vm, &cfg, &n) == 0);
	vtime_vmm_vcpu_init(&vm, &a);
	vtime_vmm_vcpu_set_record(&a, &ra);
	wtsc(&a, 0, &n, true);
	vtime_vmm_set_clock(&vm, &n, UINT64_MAX - NS / 2);
	CU_ASSERT(pub(&a, &n) > 0);
	CU_ASSERT(llabs(sdiff(vtime_vmm_clock(&vm, n.host_tsc + hz), NS / 2 - 1)) <= 1);
	CU_ASSERT_EQUAL(guest_read(&a, &ra, n.host_tsc + hz), vtime_vmm_clock(&vm, n.host_tsc + hz));
}

/* A restore checks every field of the states first (the byte images and
 * their headers are tests/core/test_state.c's). */
static void test_restore_rejects(void)
{
	struct vtime_vmm vm, vm2;
	struct vtime_vmm_vcpu a, a2;
	struct vtime_vmm_now n = { 1000, 5000, 1700000000000000000ull };
	struct vtime_vmm_config cfg = { 2000000000ull, 0, VTIME_VMM_TSC_AUTO, false, 0, 0, { 0 } };
	struct vtime_vmm_state st, bad;
	struct vtime_vmm_vcpu_state cs, cbad;

	CU_ASSERT_FATAL(vtime_vmm_init(&vm, &cfg, &n) == 0);
	CU_ASSERT_FATAL(vtime_vmm_vcpu_init(&vm, &a) == 0);
	CU_ASSERT(wtsc(&a, 0, &n, true) == 0);
	CU_ASSERT(vtime_vmm_save(&vm, &n, &st) == 0);
	CU_ASSERT(vtime_vmm_vcpu_save(&a, &n, &cs) == 0);
	CU_ASSERT_FATAL(vtime_vmm_init(&vm2, &cfg, &n) == 0);
	bad = st;
	bad.guest_hz = 0;
	CU_ASSERT(vtime_vmm_restore(&vm2, &bad, &n, VTIME_RESUME_FREEZE, VTIME_VMM_RESTORE_SNAPSHOT) == VTIME_EPROTO);
	bad = st;
	bad.host_hz = 0;
	CU_ASSERT(vtime_vmm_restore(&vm2, &bad, &n, VTIME_RESUME_FREEZE, VTIME_VMM_RESTORE_SNAPSHOT) == VTIME_EPROTO);
	bad = st;
	bad.mode = 9;
	CU_ASSERT(vtime_vmm_restore(&vm2, &bad, &n, VTIME_RESUME_FREEZE, VTIME_VMM_RESTORE_SNAPSHOT) == VTIME_EPROTO);
	bad = st;
	bad.guest_hz = st.guest_hz + 1; /* a VM of another rate */
	CU_ASSERT(vtime_vmm_restore(&vm2, &bad, &n, VTIME_RESUME_FREEZE, VTIME_VMM_RESTORE_SNAPSHOT) == VTIME_EINVAL);
	CU_ASSERT(vtime_vmm_restore(&vm2, &st, &n, (enum vtime_resume_policy)2, VTIME_VMM_RESTORE_SNAPSHOT) == VTIME_EINVAL);
	CU_ASSERT(vtime_vmm_restore(&vm2, &st, &n, VTIME_RESUME_FREEZE, VTIME_VMM_RESTORE_SNAPSHOT) == 0);
	CU_ASSERT_FATAL(vtime_vmm_vcpu_init(&vm2, &a2) == 0);
	cbad = cs;
	cbad.flags = 0x80;
	CU_ASSERT(vrestore(&a2, &cbad, &n) == VTIME_EPROTO);
	cbad = cs;
	cbad.version = 4; /* a version without a record */
	cbad.flags = 0;
	CU_ASSERT(vrestore(&a2, &cbad, &n) == VTIME_EPROTO);
	CU_ASSERT(!a2.written); /* untouched */
	CU_ASSERT(vrestore(&a2, &cs, &n) >= 0);
}

/* Versions continue from the record across 2^31 and more versions after a
 * restore (also from a saved version of 0xffffffff, whose floor, 0, once
 * meant "no floor": fuzz_vmm_state found a junk record then continued
 * 2^31 + 3 versions on, i.e. behind the saved one), cheaply: between real publishes the record's version word is
 * moved on by 2^29 (as if 2^28 publishes had happened), six times (3 x 2^30
 * versions), on memory carried over and on memory that lost the record,
 * with saved versions near 0, near 2^31 and near the u32 wrap. Every publish
 * must give the record's version + 2: never a rewind to one already
 * published. (Before: the restore's floor stayed armed, and once the record
 * was 2^31 past it the serial comparison flipped and the record was
 * rewound to the floor.) */
static void test_versions_after_restore(void)
{
	static const uint32_t saved[] = { 1000, 0x7ffffff0u, 0xfffffff0u, 0xffffffffu };
	const uint64_t hz = 2600000000u;
	for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++)
		for (size_t sv = 0; sv < sizeof saved / sizeof saved[0]; sv++)
			for (int keep = 0; keep < 3; keep++) {
				struct vtime_vmm vm;
				struct vtime_vmm_vcpu a;
				struct vtime_pvclock_vcpu_time_info rec;
				struct vtime_vmm_config cfg = cfg_of(hz, 0, false);
				struct vtime_vmm_now n = at(starts[k], hz, 0, 0);
				struct vtime_vmm_state st;
				struct vtime_vmm_vcpu_state cs = { 0 }; /* reserved fields zero */
				uint32_t page, v;

				memset(&rec, 0, sizeof rec);
				CU_ASSERT_FATAL(vtime_vmm_init(&vm, &cfg, &n) == 0);
				CU_ASSERT_FATAL(vtime_vmm_save(&vm, &n, &st) == 0);
				cs.guest_tsc = 12345;
				cs.version = saved[sv];
				cs.flags = VTIME_VMM_VCPU_STATE_RECORD;
				if (keep == 1)
					set_version(&rec, saved[sv]); /* guest memory carried over */
				if (keep == 2) /* junk: 2^31 + 1 past the saved version */
					set_version(&rec, saved[sv] + 0x80000001u);
				CU_ASSERT_FATAL(vtime_vmm_restore(&vm, &st, &n, VTIME_RESUME_FREEZE, VTIME_VMM_RESTORE_SNAPSHOT) == 0);
				CU_ASSERT_FATAL(vtime_vmm_vcpu_init(&vm, &a) == 0);
				CU_ASSERT_FATAL(vtime_vmm_vcpu_set_record(&a, &rec) == 0);
				CU_ASSERT_FATAL(vrestore(&a, &cs, &n) >= 0);
				CU_ASSERT_FATAL(vtime_vmm_vcpu_publish(&a, &n, &v) == 0);
				CU_ASSERT((int32_t)(v - saved[sv]) > 0); /* above what the guest saw */
				CU_ASSERT((v & 1u) == 0);
				for (int step = 0; step < 6; step++) {
					page = v + (1u << 29);
					set_version(&rec, page); /* 2^28 publishes later */
					n = at(starts[k], hz, (uint64_t)(step + 1) * hz, 0);
					CU_ASSERT_FATAL(vtime_vmm_vcpu_publish(&a, &n, &v) == 0);
					CU_ASSERT_EQUAL(v, page + 2u);
					CU_ASSERT_EQUAL(get_version(&rec), v);
				}
				CU_ASSERT(vtime_vmm_vcpu_save(&a, &n, &cs) == 0);
				CU_ASSERT_EQUAL(cs.version, v);
			}
}

/* The first version after a restore is serially after the saved one (2 to
 * 2^31 - 1 on), whatever the record memory holds: junk at every distance
 * from the floor, even and odd saved versions (fuzz_vmm_state found junk
 * 2^31 - 1 past the floor of an odd save continued 2^31 + 3 on, i.e.
 * serially behind it). */
static void test_first_version_after_restore(void)
{
	static const uint32_t saved[] = { 0x7ffeffffu, 0x7fff0000u, 1000, 0xffffffffu, 3 };
	static const uint32_t junk[] = { 0, 1, 2, 0x7ffffff0u, 0x7ffffff1u, 0x7ffffffeu, 0x7fffffffu, 0x80000000u,
					 0x80000001u, 0xfffffffeu, 0xffffffffu };
	const uint64_t hz = 2600000000u;
	for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++)
	for (size_t a = 0; a < sizeof saved / sizeof saved[0]; a++)
		for (size_t j = 0; j < sizeof junk / sizeof junk[0]; j++) {
			struct vtime_vmm vm;
			struct vtime_vmm_vcpu v;
			struct vtime_pvclock_vcpu_time_info rec;
			struct vtime_vmm_config cfg = cfg_of(hz, 0, false);
			struct vtime_vmm_now n = at(starts[k], hz, 0, 0);
			struct vtime_vmm_state st;
			struct vtime_vmm_vcpu_state cs = { 5, saved[a], VTIME_VMM_VCPU_STATE_RECORD, { 0 } };
			uint32_t floor = (saved[a] + 1u) & ~1u, ver = 0;

			memset(&rec, 0, sizeof rec);
			set_version(&rec, floor + junk[j]);
			CU_ASSERT_FATAL(vtime_vmm_init(&vm, &cfg, &n) == 0);
			CU_ASSERT_FATAL(vtime_vmm_save(&vm, &n, &st) == 0);
			CU_ASSERT_FATAL(vtime_vmm_restore(&vm, &st, &n, VTIME_RESUME_FREEZE, VTIME_VMM_RESTORE_SNAPSHOT) == 0);
			vtime_vmm_vcpu_init(&vm, &v);
			vtime_vmm_vcpu_set_record(&v, &rec);
			CU_ASSERT_FATAL(vrestore(&v, &cs, &n) >= 0);
			CU_ASSERT_FATAL(vtime_vmm_vcpu_publish(&v, &n, &ver) == 0);
			CU_ASSERT((uint32_t)(ver - saved[a]) >= 2 && (uint32_t)(ver - saved[a]) <= 0x7fffffffu);
			if (!((uint32_t)(ver - saved[a]) >= 2 && (uint32_t)(ver - saved[a]) <= 0x7fffffffu))
				printf("\n  saved %#x, record %#x: first version %#x", saved[a], floor + junk[j], ver);
		}
}

/* Rates whose TSC-to-ns shift the readers reject are refused: a record
 * carrying one would read as corrupt to every guest (vtime's reader
 * returns VTIME_EPROTO). Native mode publishes the host rate, the others
 * the guest rate. Each edge of VTIME_PVCLOCK_HZ_MIN..MAX, from 0 and near
 * 2^64: inside, the published record reads back. (Before: 100 Hz, 500 Hz
 * and 20 THz were accepted with shifts 24, 21 and -14.) */
static void test_rates_beyond_abi(void)
{
	static const struct { uint64_t host, guest; int err; } cases[] = {
		{ 100, 0, VTIME_ERANGE },
		{ 500, 0, VTIME_ERANGE },
		{ VTIME_PVCLOCK_HZ_MIN - 1, 0, VTIME_ERANGE },
		{ VTIME_PVCLOCK_HZ_MIN, 0, 0 },
		{ 20000000000000ull, 0, VTIME_ERANGE },
		{ VTIME_PVCLOCK_HZ_MAX + 1, 0, VTIME_ERANGE },
		{ VTIME_PVCLOCK_HZ_MAX, 0, 0 },
		{ 2600000000ull, 100, VTIME_ERANGE },                   /* emulated, guest too slow */
		{ 2600000000ull, 20000000000000ull, VTIME_ERANGE },     /* catch-up, guest too fast */
		{ 2600000000ull, VTIME_PVCLOCK_HZ_MIN, 0 },             /* emulated at the edge */
		{ 1000, VTIME_PVCLOCK_HZ_MAX, 0 },                      /* catch-up at the edge */
		{ 100, 1000000000ull, 0 },                              /* a slow host, a publishable guest rate */
	};
	for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++)
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			struct vtime_vmm vm;
			struct vtime_vmm_vcpu a;
			struct vtime_pvclock_vcpu_time_info rec;
			struct vtime_pvclock_reading rd;
			struct vtime_vmm_config cfg = cfg_of(cases[i].host, cases[i].guest, false);
			struct vtime_vmm_now n = { starts[k], 0, 0 };
			uint64_t gt;
			struct vtime_counter ctr = { NULL, &gt };
			int err = vtime_vmm_init(&vm, &cfg, &n);

			CU_ASSERT_EQUAL(err, cases[i].err);
			if (err != cases[i].err)
				printf("\n  host %llu guest %llu: %d", (unsigned long long)cases[i].host,
				       (unsigned long long)cases[i].guest, err);
			if (err)
				continue;
			CU_ASSERT(vm.guest_to_ns.shift >= VTIME_PVCLOCK_SHIFT_MIN &&
				  vm.guest_to_ns.shift <= VTIME_PVCLOCK_SHIFT_MAX);
			memset(&rec, 0, sizeof rec);
			vtime_vmm_vcpu_init(&vm, &a);
			vtime_vmm_vcpu_set_record(&a, &rec);
			CU_ASSERT(wtsc(&a, 0, &n, true) == 0);
			CU_ASSERT(pub(&a, &n) > 0);
			gt = vtime_vmm_vcpu_tsc(&a, n.host_tsc);
			ctr.read = fixed_counter;
			CU_ASSERT_EQUAL(vtime_pvclock_read(&rec, &ctr, 0, &rd), 0);
		}
}

/* vtime_vmm_stable() is O(1) (a count kept by the TSC writes): it must agree
 * with the definition, walked here over every vCPU, through a random mix of
 * writes (matching and not), host-initiated zeros, adoptions, new vCPUs and
 * restores. */
static bool stable_by_walk(const struct vtime_vmm *vm)
{
	if (vm->mode == VTIME_VMM_TSC_CATCHUP || vm->nr_vcpus == 0)
		return false;
	for (const struct vtime_vmm_vcpu *v = vm->vcpus; v; v = v->next)
		if (!v->written || v->gen != vm->cur_gen)
			return false;
	return true;
}

static void test_stable_matches_walk(void)
{
	const uint64_t hz = 2600000000u;
	for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
		static struct vtime_vmm_vcpu v[16];
		struct vtime_vmm vm;
		struct vtime_vmm_config cfg = cfg_of(hz, 0, false);
		uint64_t t = 0, x = 0x9e3779b97f4a7c15ull + k;
		unsigned nv = 0, mismatches = 0, stable_seen = 0;
		struct vtime_vmm_now n = at(starts[k], hz, t, 0);

		CU_ASSERT_FATAL(vtime_vmm_init(&vm, &cfg, &n) == 0);
		for (int i = 0; i < 20000; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			t += x % (hz / 4);
			n = at(starts[k], hz, t, 0);
			unsigned op = (unsigned)(x >> 40) % 64, who = nv ? (unsigned)(x >> 20) % nv : 0;
			if (op >= 16)
				op = 1; /* mostly matching writes, so stable VMs happen */
			if (nv == 0 || (op == 0 && nv < 16)) {
				vtime_vmm_vcpu_init(&vm, &v[nv++]);
			} else if (op < 8) { /* a write near the others' TSC: usually matches */
				uint64_t g = vtime_vmm_vcpu_tsc(&v[(who + 1) % nv], n.host_tsc);
				wtsc(&v[who], g + (x >> 58) * (hz / 500), &n, false);
			} else if (op < 10) {
				wtsc(&v[who], 0, &n, true);
			} else if (op < 12) {
				wtsc(&v[who], x >> 3, &n, false); /* anywhere */
			} else if (op < 14) {
				adopt(&v[who], v[(who + 1) % nv].tsc_offset, &n);
			} else if (op == 14) {
				struct vtime_vmm_state st;
				struct vtime_vmm_vcpu_state cs;
				if (v[who].written && vtime_vmm_save(&vm, &n, &st) == 0 &&
				    vtime_vmm_vcpu_save(&v[who], &n, &cs) == 0) {
					CU_ASSERT(vtime_vmm_restore(&vm, &st, &n, VTIME_RESUME_FREEZE, VTIME_VMM_RESTORE_SNAPSHOT) == 0);
					CU_ASSERT(vrestore(&v[who], &cs, &n) >= 0);
				}
			} else {
				adopt(&v[who], x, &n);
			}
			if (vtime_vmm_stable(&vm) != stable_by_walk(&vm))
				mismatches++;
			stable_seen += stable_by_walk(&vm);
		}
		CU_ASSERT_EQUAL(mismatches, 0);
		printf("\n  from %#llx: %u vCPUs, stable in %u of 20000 states, %u mismatches", (unsigned long long)starts[k], nv, stable_seen, mismatches);
		CU_ASSERT(stable_seen > 100 && stable_seen < 19900); /* both answers were exercised */
		if (stable_seen <= 100 || stable_seen >= 19900)
			printf("\n  stable in %u of 20000 states", stable_seen);
	}
}

/* Soak (test_vmm --soak): the versions after a restore across 2^30 + 2^20
 * real publishes (VTIME_SOAK_PUBLISHES), 2^31 + 2^21 versions: past the
 * point where the old restore floor flipped and rewound the record. Every
 * publish must give the previous version + 2. About 10-20 s. */
static void test_soak_versions(void)
{
	const char *env = getenv("VTIME_SOAK_PUBLISHES");
	unsigned long long n = env && *env ? strtoull(env, NULL, 0) : (1ull << 30) + (1ull << 20), bad = 0;
	const uint64_t hz = 2600000000u;
	struct vtime_vmm vm;
	struct vtime_vmm_vcpu a;
	struct vtime_pvclock_vcpu_time_info rec;
	struct vtime_vmm_config cfg = cfg_of(hz, 0, false);
	struct vtime_vmm_now now = at(starts[1], hz, 0, 0);
	struct vtime_vmm_state st;
	struct vtime_vmm_vcpu_state cs = { 12345, 1000, VTIME_VMM_VCPU_STATE_RECORD, { 0 } };
	uint32_t v, prev;

	memset(&rec, 0, sizeof rec); /* memory lost: the floor applies */
	CU_ASSERT_FATAL(vtime_vmm_init(&vm, &cfg, &now) == 0);
	CU_ASSERT_FATAL(vtime_vmm_save(&vm, &now, &st) == 0);
	CU_ASSERT_FATAL(vtime_vmm_restore(&vm, &st, &now, VTIME_RESUME_FREEZE, VTIME_VMM_RESTORE_SNAPSHOT) == 0);
	CU_ASSERT_FATAL(vtime_vmm_vcpu_init(&vm, &a) == 0);
	CU_ASSERT_FATAL(vtime_vmm_vcpu_set_record(&a, &rec) == 0);
	CU_ASSERT_FATAL(vrestore(&a, &cs, &now) >= 0);
	CU_ASSERT_FATAL(vtime_vmm_vcpu_publish(&a, &now, &prev) == 0);
	CU_ASSERT_EQUAL(prev, 1002);
	for (unsigned long long i = 1; i < n; i++) {
		now.host_tsc += 2600;
		if (vtime_vmm_vcpu_publish(&a, &now, &v) != 0 || v != prev + 2u)
			bad++;
		prev = v;
	}
	printf("\n  %llu publishes after a restore (%llu versions, through 2^31 past the floor): %llu out of sequence, "
	       "last version %u",
	       n, 2 * n, bad, prev);
	CU_ASSERT_EQUAL(bad, 0);
}

static const struct vt_test_case soak_cases[] = {
	{ "versions across 2^30 real publishes after a restore", test_soak_versions },
	{ NULL, NULL },
};

static const struct vt_test_case cases[] = {
	{ "restore checks every field", test_restore_rejects },
	{ "mode selection and published scale", test_mode_selection },
	{ "TSC matching: KVM's 1-second rule", test_tsc_matching },
	{ "native records: readings equal the VM clock", test_native_records },
	{ "scaled TSC against the 128-bit formula", test_scaled },
	{ "catch-up TSC: forward only, on target at updates", test_catchup },
	{ "emulated TSC: virtual rate, never backwards across vCPUs", test_emulated },
	{ "pause/resume freeze and advance, GUEST_STOPPED", test_pause_resume },
	{ "snapshot/restore onto a host with another TSC rate", test_snapshot_restore },
	{ "restore into created vCPUs, adopting the hypervisor's offset", test_restore_after_creation },
	{ "wall clock record", test_wall_clock },
	{ "kvmclock crossing 2^64", test_clock_wrap },
	{ "versions continue across 2^31+ publishes after a restore", test_versions_after_restore },
	{ "the first version after a restore is after the saved one, over any junk", test_first_version_after_restore },
	{ "rates beyond the pvclock ABI refused", test_rates_beyond_abi },
	{ "stable (O(1)) agrees with a walk over every vCPU", test_stable_matches_walk },
	{ NULL, NULL },
};

static const struct vt_test_suite suites[] = {
	{ "vmm", cases },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	static const struct vt_test_suite soak_suites[] = { { "vmm soak", soak_cases }, { NULL, NULL } };
	return vt_test_main(vt_test_soak(argc, argv) ? soak_suites : suites);
}
