/* SPDX-License-Identifier: MIT */
/* The VMM core's VM-wide pages (issue 14, item 2): the VMClock page and the
 * Hyper-V reference TSC page published from the master clock beside the
 * kvmclock records, with simulated host counters:
 *   - VMClock time at any guest TSC = the VM's realtime view + the kvmclock
 *     record's time within 3 ns (every TSC mode, rates from 954 Hz to
 *     8 THz, counters from 0 and across 2^64, 2^40 ticks either side);
 *   - the Hyper-V page equals vtime_hv_tsc_page_from_pvclock() of every
 *     record bit for bit, sequence 0 where KVM publishes none, the sequence
 *     continuing (never restarting) across invalidations and restores, and
 *     TIME_REF_COUNT as KVM computes it;
 *   - the disruption marker once per resume and per restore, the generation
 *     counter once per snapshot restore or clone, never on pause, live
 *     migration or ordinary publishes, continuing above the saved values
 *     onto a page that lost them;
 *   - DISRUPTION_SOON / IMMINENT, the status and error terms, UNRELIABLE
 *     when the vCPUs do not share a TSC, and restore's checks of the
 *     version 2 fields. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vtime/error.h>
#include <vtime/hyperv.h>
#include <vtime/pvclock.h>
#include <vtime/vmclock.h>
#include <vtime/vmm.h>

#include "vt_test.h"

#define NS 1000000000ull
#define RT0 1764000000123456789ull /* host realtime at the first reading */

/* Guest memory of one VM: two records, the wall clock, the two pages. */
struct mem {
	struct vtime_pvclock_vcpu_time_info rec[2] __attribute__((aligned(64)));
	uint8_t pad[64];
	struct vtime_vmclock_abi vmclock __attribute__((aligned(4096)));
	uint8_t vmclock_rest[4096 - sizeof(struct vtime_vmclock_abi)];
	struct vtime_hv_tsc_page hv __attribute__((aligned(4096)));
};

struct vm2 {
	struct vtime_vmm vm;
	struct vtime_vmm_vcpu v[2];
	struct mem *m;
	uint64_t hz;
};

/* A host reading at host counter tsc for a host of hz ticks per second
 * starting at counter t0 (ns and realtime advance exactly with it). */
static struct vtime_vmm_now at(uint64_t hz, uint64_t t0, uint64_t tsc)
{
	struct vtime_vmm_now n;
	uint64_t d = tsc - t0; /* no __int128: the -m32 build runs this too */
	uint64_t ns = d / hz * NS + (uint64_t)((long double)(d % hz) * NS / hz);

	n.host_tsc = tsc;
	n.host_ns = 1000000 + (uint64_t)ns;
	n.realtime_ns = RT0 + (uint64_t)ns;
	return n;
}

static void vm2_init(struct vm2 *x, struct vtime_vmm_config *cfg, const struct vtime_vmm_now *n, bool pages)
{
	if (!x->m) {
		x->m = aligned_alloc(4096, sizeof *x->m);
		CU_ASSERT_FATAL(x->m != NULL);
		memset(x->m, 0, sizeof *x->m);
	}
	CU_ASSERT_FATAL(vtime_vmm_init(&x->vm, cfg, n) == 0);
	for (unsigned i = 0; i < 2; i++) {
		CU_ASSERT_FATAL(vtime_vmm_vcpu_init(&x->vm, &x->v[i]) == 0);
		CU_ASSERT_FATAL(vtime_vmm_vcpu_set_record(&x->v[i], &x->m->rec[i]) == 0);
	}
	if (pages) {
		CU_ASSERT_FATAL(vtime_vmm_vmclock_set_page(&x->vm, &x->m->vmclock, 4096) == 0);
		CU_ASSERT_FATAL(vtime_vmm_hv_set_page(&x->vm, &x->m->hv) == 0);
	}
}

static void vm2_boot(struct vm2 *x, struct vtime_vmm_config *cfg, const struct vtime_vmm_now *n)
{
	vm2_init(x, cfg, n, true);
	for (unsigned i = 0; i < 2; i++)
		CU_ASSERT_FATAL(vtime_vmm_vcpu_write_tsc(&x->v[i], 0, n, true, NULL) == 0);
	CU_ASSERT_FATAL(vtime_vmm_publish_all(&x->vm, n) == 0);
}

static struct vtime_vmclock_abi vmclock_snap(const struct vm2 *x)
{
	struct vtime_vmclock_abi s;

	memset(&s, 0, sizeof s);
	CU_ASSERT(vtime_vmclock_snapshot(&x->m->vmclock, 0, &s) == 0);
	return s;
}

static struct vtime_pvclock_vcpu_time_info rec_snap(const struct vm2 *x, unsigned i)
{
	struct vtime_pvclock_vcpu_time_info r;

	memset(&r, 0, sizeof r);
	CU_ASSERT(vtime_pvclock_snapshot(&x->m->rec[i], 0, &r) == 0);
	return r;
}

/* VMClock time at counter c in ns since the epoch (or UINT64_MAX). */
static uint64_t vmclock_ns(const struct vtime_vmclock_abi *s, uint64_t c)
{
	uint64_t sec;
	uint32_t nsec;

	if (vtime_vmclock_time(s, c, &sec, &nsec))
		return UINT64_MAX;
	return sec * NS + nsec;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	return vt_test_rand(&rng);
}

/* VMClock(C) - (rt_offset + record(C)) seen, counters behind [0] and ahead
 * [1] of the reference. The bound: ahead, floor(VMClock) loses < 1 ns and
 * the ceil of time_frac_sec adds < 2^-64 s, the record's floor (and its
 * pre-shift of the delta for a negative shift) loses < 2 ns: -1..+2; behind,
 * the ceil of the signed product mirrors it: -3..0. So |diff| <= 3 ns. */
static int64_t diff_lo[2], diff_hi[2];

/* Largest |VMClock(C) - (rt_offset + record(C))| over counters around the
 * reference, both directions, for the records of x. */
static int64_t worst_vmclock_vs_records(const struct vm2 *x)
{
	struct vtime_vmclock_abi s = vmclock_snap(x);
	int64_t worst = 0;

	for (unsigned i = 0; i < 2; i++) {
		struct vtime_pvclock_vcpu_time_info r = rec_snap(x, i);

		CU_ASSERT(s.counter_value == r.tsc_timestamp);
		for (int k = 0; k < 4000; k++) {
			uint64_t d = k < 64 ? (uint64_t)k : rnd() >> (24 + rnd() % 40); /* up to 2^40 */
			uint64_t c = (k & 1) ? r.tsc_timestamp + d : r.tsc_timestamp - (d >> 4);
			uint64_t kvm = vtime_pvclock_time(&r, c);
			int64_t diff = (int64_t)(vmclock_ns(&s, c) - (x->vm.rt_offset_ns + kvm));

			if (!(k & 1) && kvm == 0 && c != r.tsc_timestamp)
				continue; /* kvmclock cannot go below 0 (it saturates); realtime can */
			if (diff < diff_lo[k & 1])
				diff_lo[k & 1] = diff;
			if (diff > diff_hi[k & 1])
				diff_hi[k & 1] = diff;
			if (diff < 0)
				diff = -diff;
			if (diff > worst)
				worst = diff;
		}
	}
	return worst;
}

/* ---- VMClock consistent with the kvmclock records ---- */

static void test_vmclock_matches_records(void)
{
	static const uint64_t rates[] = { 954, 10000000ull, 1000000000ull, 2599999000ull, 3000000000ull,
					  4100000000ull, 8192000000000ull };
	static const uint64_t starts[] = { 1000, 0xffffffff00000000ull };
	int64_t worst = 0;

	for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
		for (size_t b = 0; b < 2; b++) {
			for (int mode = 0; mode < 3; mode++) {
				struct vm2 x = { 0 };
				struct vtime_vmm_config cfg = { 0 };
				struct vtime_vmm_now n0, n1;
				struct vtime_vmclock_abi s;
				int64_t w;

				cfg.host_hz = rates[r];
				/* native; a scaled guest at 3/4 of the host; emulated at half */
				if (mode == 1) {
					cfg.guest_hz = rates[r] / 4 * 3;
					cfg.mode = VTIME_VMM_TSC_SCALED;
					cfg.hw_scaling = true;
				} else if (mode == 2) {
					cfg.guest_hz = rates[r] / 2;
					cfg.mode = VTIME_VMM_TSC_EMULATED;
				}
				n0 = at(rates[r], starts[b], starts[b]);
				if (vtime_vmm_init(&x.vm, &cfg, &n0) != 0)
					continue; /* a guest rate beyond the pvclock ABI */
				vm2_boot(&x, &cfg, &n0);
				s = vmclock_snap(&x);
				CU_ASSERT(s.counter_id == VTIME_VMCLOCK_COUNTER_X86_TSC);
				CU_ASSERT(s.time_type == VTIME_VMCLOCK_TIME_UTC);
				CU_ASSERT(vtime_vmclock_usable(&s) == 0);
				/* at init the VM's realtime is the host's */
				CU_ASSERT(x.vm.rt_offset_ns == RT0);
				w = worst_vmclock_vs_records(&x);
				/* later, after the master moved */
				n1 = at(rates[r], starts[b], starts[b] + rates[r] * 7 + 12345);
				CU_ASSERT(vtime_vmm_update_master(&x.vm, &n1) == 0);
				CU_ASSERT(vtime_vmm_publish_all(&x.vm, &n1) == 0);
				w = w > worst_vmclock_vs_records(&x) ? w : worst_vmclock_vs_records(&x);
				CU_ASSERT(w <= 3);
				if (w > 3)
					printf("\n  rate %llu start %llx mode %d: %lld ns", (unsigned long long)rates[r],
					       (unsigned long long)starts[b], mode, (long long)w);
				worst = w > worst ? w : worst;
				free(x.m);
			}
		}
	}
	printf("\n  measured: VMClock - (realtime view + kvmclock record) over 7 rates x 2 starts x 3 TSC modes x 2 "
	       "publishes x 2 vCPUs x 4000 counters: %+lld..%+lld ns ahead of the reference, %+lld..%+lld ns behind "
	       "(bound +-3 ns)\n",
	       (long long)diff_lo[1], (long long)diff_hi[1], (long long)diff_lo[0], (long long)diff_hi[0]);
	CU_ASSERT(worst <= 3);
}

/* ---- Hyper-V page from the records, KVM's rules ---- */

static void check_hv_equals_records(const struct vm2 *x)
{
	struct vtime_hv_tsc_reading h;

	for (unsigned i = 0; i < 2; i++) {
		struct vtime_pvclock_vcpu_time_info r = rec_snap(x, i);
		uint64_t scale = 0;
		int64_t offset = 0;
		int err = vtime_hv_tsc_page_from_pvclock(&r, &scale, &offset);
		int got = vtime_hv_tsc_page_snapshot(&x->m->hv, 0, &h);

		if (err) {
			CU_ASSERT(got == VTIME_ENOTVALID);
			continue;
		}
		CU_ASSERT_FATAL(got == 0);
		CU_ASSERT(h.tsc_scale == scale);
		CU_ASSERT(h.tsc_offset == offset);
	}
}

static void test_hv_page(void)
{
	struct vm2 x = { 0 };
	struct vtime_vmm_config cfg = { 0 };
	uint64_t hz = 2599999000ull, t0 = 0xfffffffff0000000ull;
	struct vtime_vmm_now n = at(hz, t0, t0);
	struct vtime_hv_tsc_reading h;
	uint32_t seq = 0, seq2 = 0;
	bool synced;

	cfg.host_hz = hz;
	vm2_boot(&x, &cfg, &n);
	CU_ASSERT_FATAL(vtime_hv_tsc_page_snapshot(&x.m->hv, 0, &h) == 0);
	CU_ASSERT(h.sequence == 1);
	check_hv_equals_records(&x);
	/* TIME_REF_COUNT through the page, at the guest TSC */
	n = at(hz, t0, t0 + hz * 3);
	CU_ASSERT(vtime_vmm_hv_ref_count(&x.vm, n.host_tsc) ==
		  vtime_hv_tsc_page_time(h.tsc_scale, h.tsc_offset, vtime_vmm_vcpu_tsc(&x.v[0], n.host_tsc)));
	{
		int64_t d = (int64_t)(vtime_vmm_hv_ref_count(&x.vm, n.host_tsc) * 100 - vtime_vmm_clock(&x.vm, n.host_tsc));
		CU_ASSERT(d > -200 && d < 200);
	}
	/* vCPU 1 leaves the generation: no TSC_STABLE, no page (sequence 0) */
	CU_ASSERT(vtime_vmm_vcpu_write_tsc(&x.v[1], vtime_vmm_vcpu_tsc(&x.v[1], n.host_tsc) + 10 * hz, &n, false,
					   &synced) == 0);
	CU_ASSERT(!synced);
	CU_ASSERT(vtime_vmm_publish_all(&x.vm, &n) == 0);
	CU_ASSERT(vtime_hv_tsc_page_snapshot(&x.m->hv, 0, &h) == VTIME_ENOTVALID);
	check_hv_equals_records(&x);
	CU_ASSERT(vtime_vmm_hv_ref_count(&x.vm, n.host_tsc) == vtime_vmm_clock(&x.vm, n.host_tsc) / 100);
	/* VMClock says UNRELIABLE meanwhile: the vCPUs do not share one TSC */
	{
		struct vtime_vmclock_abi s = vmclock_snap(&x);
		struct vtime_vmclock_reading rd;
		CU_ASSERT(s.clock_status == VTIME_VMCLOCK_STATUS_UNRELIABLE);
		CU_ASSERT(vtime_vmclock_convert(&s, s.counter_value, &rd) == VTIME_EUNRELIABLE);
	}
	/* vCPU 0 joins vCPU 1's generation: a page again, sequence 2 (continued) */
	CU_ASSERT(vtime_vmm_vcpu_write_tsc(&x.v[0], vtime_vmm_vcpu_tsc(&x.v[1], n.host_tsc), &n, false, &synced) == 0);
	CU_ASSERT(synced);
	CU_ASSERT(vtime_vmm_hv_publish(&x.vm, &n, &seq) == 0);
	CU_ASSERT(seq == 2);
	CU_ASSERT(vtime_vmm_publish_all(&x.vm, &n) == 0);
	check_hv_equals_records(&x);
	CU_ASSERT(vtime_hv_tsc_page_snapshot(&x.m->hv, 0, &h) == 0 && h.sequence == 3);
	CU_ASSERT(vmclock_snap(&x).clock_status == VTIME_VMCLOCK_STATUS_UNKNOWN);
	/* the sequence skips 0 and 0xFFFFFFFF */
	x.vm.hv_seq = 0xfffffffeu;
	x.m->hv.tsc_sequence = 0;
	CU_ASSERT(vtime_vmm_hv_publish(&x.vm, &n, &seq) == 0 && seq == 1);
	/* the guest disables the page: nothing written to it any more */
	CU_ASSERT(vtime_vmm_hv_set_page(&x.vm, NULL) == 0);
	CU_ASSERT(vtime_vmm_hv_publish(&x.vm, &n, &seq2) == VTIME_ENODEV);
	CU_ASSERT(vtime_vmm_publish_all(&x.vm, &n) == 0);
	CU_ASSERT(vtime_hv_tsc_page_snapshot(&x.m->hv, 0, &h) == 0 && h.sequence == 1); /* the page is little-endian */
	CU_ASSERT(vtime_vmm_hv_ref_count(&x.vm, n.host_tsc) == vtime_vmm_clock(&x.vm, n.host_tsc) / 100);
	CU_ASSERT(vtime_vmm_hv_set_page(&x.vm, (volatile struct vtime_hv_tsc_page *)((uint8_t *)&x.m->hv + 4)) ==
		  VTIME_EINVAL);
	free(x.m);

	/* catch-up mode never has TSC_STABLE: never a page */
	{
		struct vm2 y = { 0 };
		struct vtime_vmm_config c2 = { 0 };
		struct vtime_vmm_now m;

		c2.host_hz = 2000000000ull;
		c2.guest_hz = 2600000000ull;
		m = at(c2.host_hz, 5000, 5000);
		vm2_boot(&y, &c2, &m);
		CU_ASSERT(y.vm.mode == VTIME_VMM_TSC_CATCHUP);
		CU_ASSERT(vtime_hv_tsc_page_snapshot(&y.m->hv, 0, &h) == VTIME_ENOTVALID);
		CU_ASSERT(vmclock_snap(&y).clock_status == VTIME_VMCLOCK_STATUS_UNRELIABLE);
		check_hv_equals_records(&y);
		free(y.m);
	}
}

/* ---- disruption marker and generation counter ---- */

struct marks {
	uint64_t marker, gen;
	uint64_t flags;
};

static struct marks marks_of(const struct vm2 *x)
{
	struct vtime_vmclock_abi s = vmclock_snap(x);
	struct marks m = { s.disruption_marker, s.vm_generation_counter, s.flags };
	return m;
}

/* Saves x at n and restores it into y (fresh VMM) as kind, onto y's memory
 * (a copy of x's when carry, else zeroed: the pages lost). */
static void save_restore(struct vm2 *x, struct vm2 *y, const struct vtime_vmm_now *n, enum vtime_vmm_restore_kind kind,
			 bool carry)
{
	struct vtime_vmm_config cfg = { 0 };
	struct vtime_vmm_state st;
	struct vtime_vmm_vcpu_state cs[2];
	uint8_t img[VTIME_VMM_STATE_BYTES];

	cfg.host_hz = x->vm.host_hz;
	CU_ASSERT_FATAL(vtime_vmm_pause(&x->vm, n) == 0);
	CU_ASSERT_FATAL(vtime_vmm_save(&x->vm, n, &st) == 0);
	for (unsigned i = 0; i < 2; i++)
		CU_ASSERT_FATAL(vtime_vmm_vcpu_save(&x->v[i], n, &cs[i]) == 0);
	CU_ASSERT(st.flags == (VTIME_VMM_STATE_VMCLOCK | VTIME_VMM_STATE_HV));
	CU_ASSERT_FATAL(vtime_vmm_state_encode(&st, img, sizeof img) == 0);
	CU_ASSERT_FATAL(vtime_vmm_state_decode(&st, img, sizeof img) == 0);
	y->m = aligned_alloc(4096, sizeof *y->m);
	CU_ASSERT_FATAL(y->m != NULL);
	if (carry)
		memcpy(y->m, x->m, sizeof *y->m);
	else
		memset(y->m, 0, sizeof *y->m);
	vm2_init(y, &cfg, n, false);
	CU_ASSERT_FATAL(vtime_vmm_restore(&y->vm, &st, n, VTIME_RESUME_FREEZE, kind) == 0);
	for (unsigned i = 0; i < 2; i++)
		CU_ASSERT_FATAL(vtime_vmm_vcpu_restore(&y->v[i], &cs[i], n, NULL) == 0);
	/* the VMM attaches the pages after the restore (either order works) */
	CU_ASSERT_FATAL(vtime_vmm_vmclock_set_page(&y->vm, &y->m->vmclock, 4096) == 0);
	CU_ASSERT_FATAL(vtime_vmm_hv_set_page(&y->vm, &y->m->hv) == 0);
	CU_ASSERT_FATAL(vtime_vmm_publish_all(&y->vm, n) == 0);
}

static void test_disruption_generation(void)
{
	struct vm2 x = { 0 }, y = { 0 }, z = { 0 }, w = { 0 };
	struct vtime_vmm_config cfg = { 0 };
	uint64_t hz = 3000000000ull, t0 = 77;
	struct vtime_vmm_now n = at(hz, t0, t0), n2;
	struct marks m0, m;
	struct vtime_hv_tsc_reading h0, h;
	bool synced;

	cfg.host_hz = hz;
	vm2_boot(&x, &cfg, &n);
	m0 = marks_of(&x);
	CU_ASSERT(m0.marker == 0 && m0.gen == 0);
	CU_ASSERT(m0.flags & VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT);
	/* ordinary updates: nothing changes */
	for (int k = 1; k <= 5; k++) {
		n = at(hz, t0, t0 + (uint64_t)k * hz / 10);
		CU_ASSERT(vtime_vmm_update_master(&x.vm, &n) == 0);
		CU_ASSERT(vtime_vmm_vcpu_write_tsc(&x.v[k & 1], vtime_vmm_vcpu_tsc(&x.v[k & 1], n.host_tsc), &n, false,
						   &synced) == 0);
		CU_ASSERT(synced);
		CU_ASSERT(vtime_vmm_publish_all(&x.vm, &n) == 0);
		CU_ASSERT(vtime_vmm_vmclock_publish(&x.vm, &n, NULL) == 0);
	}
	m = marks_of(&x);
	CU_ASSERT(m.marker == 0 && m.gen == 0);
	/* pause/resume, both policies: the marker once per resume, however many
	 * publishes follow; the generation never */
	for (int k = 0; k < 4; k++) {
		n = at(hz, t0, n.host_tsc + hz);
		CU_ASSERT(vtime_vmm_pause(&x.vm, &n) == 0);
		CU_ASSERT(vtime_vmm_publish_all(&x.vm, &n) == 0); /* while paused: no change */
		CU_ASSERT(marks_of(&x).marker == (uint64_t)k);
		n = at(hz, t0, n.host_tsc + hz / 3);
		CU_ASSERT(vtime_vmm_resume(&x.vm, &n, k & 1 ? VTIME_RESUME_ADVANCE : VTIME_RESUME_FREEZE) == 0);
		for (int p = 0; p < 3; p++)
			CU_ASSERT(vtime_vmm_publish_all(&x.vm, &n) == 0);
		m = marks_of(&x);
		CU_ASSERT(m.marker == (uint64_t)k + 1);
		CU_ASSERT(m.gen == 0);
		/* the realtime view is the host's again after each resume */
		CU_ASSERT(x.vm.rt_offset_ns + vtime_vmm_clock(&x.vm, n.host_tsc) == n.realtime_ns);
	}
	CU_ASSERT(vtime_hv_tsc_page_snapshot(&x.m->hv, 0, &h0) == 0);

	/* snapshot restore with guest memory carried: generation +1, marker +1 */
	n2 = at(hz, t0, n.host_tsc + hz);
	save_restore(&x, &y, &n2, VTIME_VMM_RESTORE_SNAPSHOT, true);
	m = marks_of(&y);
	CU_ASSERT(m.marker == 5 && m.gen == 1);
	CU_ASSERT(vtime_vmm_publish_all(&y.vm, &n2) == 0);
	CU_ASSERT(marks_of(&y).marker == 5 && marks_of(&y).gen == 1);
	CU_ASSERT(vtime_hv_tsc_page_snapshot(&y.m->hv, 0, &h) == 0);
	CU_ASSERT(h.sequence > h0.sequence);
	check_hv_equals_records(&y);
	CU_ASSERT(worst_vmclock_vs_records(&y) <= 3);

	/* live migration of y onto memory that lost the pages: the marker and
	 * the Hyper-V sequence continue above what the guest saw, the
	 * generation stays */
	h0 = h;
	n2 = at(hz, t0, n2.host_tsc + hz);
	save_restore(&y, &z, &n2, VTIME_VMM_RESTORE_MIGRATION, false);
	m = marks_of(&z);
	CU_ASSERT(m.marker == 6 && m.gen == 1);
	CU_ASSERT(vtime_hv_tsc_page_snapshot(&z.m->hv, 0, &h) == 0);
	CU_ASSERT(h.sequence == h0.sequence + 1);

	/* a clone of z, memory lost too: generation +1 from the saved value */
	n2 = at(hz, t0, n2.host_tsc + hz);
	save_restore(&z, &w, &n2, VTIME_VMM_RESTORE_SNAPSHOT, false);
	m = marks_of(&w);
	CU_ASSERT(m.marker == 7 && m.gen == 2);
	/* saved before the first publish after a restore: the floors count */
	{
		struct vtime_vmm_state st;
		struct vm2 v = { 0 };
		struct vtime_vmm_config c2 = { 0 };

		c2.host_hz = hz;
		CU_ASSERT(vtime_vmm_save(&w.vm, &n2, &st) == 0);
		v.m = aligned_alloc(4096, sizeof *v.m);
		memset(v.m, 0, sizeof *v.m);
		vm2_init(&v, &c2, &n2, true);
		st.vmclock_marker = 40;
		st.vmclock_generation = 9;
		CU_ASSERT(vtime_vmm_restore(&v.vm, &st, &n2, VTIME_RESUME_ADVANCE, VTIME_VMM_RESTORE_SNAPSHOT) == 0);
		CU_ASSERT(vtime_vmm_save(&v.vm, &n2, &st) == 0);
		/* the marker's change is owed by any later restore; the new
		 * generation is saved (test_clone_saved_before_publish) */
		CU_ASSERT(st.vmclock_marker == 40 && st.vmclock_generation == 10);
		free(v.m);
	}
	free(x.m);
	free(y.m);
	free(z.m);
	free(w.m);
}

/* Restores st and cs into y (a fresh VMM on memory m: a copy of the saved
 * VM's), attaches the pages, publishes nothing. */
static void restore_only(struct vm2 *y, const struct mem *m, const struct vtime_vmm_state *st,
			 const struct vtime_vmm_vcpu_state cs[2], const struct vtime_vmm_now *n,
			 enum vtime_vmm_restore_kind kind)
{
	struct vtime_vmm_config cfg = { 0 };

	cfg.host_hz = st->host_hz;
	y->m = aligned_alloc(4096, sizeof *y->m);
	CU_ASSERT_FATAL(y->m != NULL);
	memcpy(y->m, m, sizeof *y->m);
	vm2_init(y, &cfg, n, false);
	CU_ASSERT_FATAL(vtime_vmm_restore(&y->vm, st, n, VTIME_RESUME_FREEZE, kind) == 0);
	for (unsigned i = 0; i < 2; i++)
		CU_ASSERT_FATAL(vtime_vmm_vcpu_restore(&y->v[i], &cs[i], n, NULL) == 0);
	CU_ASSERT_FATAL(vtime_vmm_vmclock_set_page(&y->vm, &y->m->vmclock, 4096) == 0);
	CU_ASSERT_FATAL(vtime_vmm_hv_set_page(&y->vm, &y->m->hv) == 0);
}

/* A clone (snapshot restore) saved again before its first VMClock publish
 * (restore, then snapshot or migrate at once, before a vCPU ran) is still a
 * new generation: the state carries the generation the publish owed, so
 * a live migration of it does not run the clone with the generation of the
 * VM it was cloned from (found by fuzz_vmm_publish, regression
 * clone-saved-before-publish-loses-generation: the saved state held the
 * old generation, and the migrated clone published it). */
static void test_clone_saved_before_publish(void)
{
	struct vm2 x = { 0 }, y = { 0 }, z = { 0 }, w = { 0 };
	struct vtime_vmm_config cfg = { 0 };
	uint64_t hz = 2600000000ull, t0 = 1000;
	struct vtime_vmm_now n = at(hz, t0, t0);
	struct vtime_vmm_state st, st2;
	struct vtime_vmm_vcpu_state cs[2], cs2[2];

	cfg.host_hz = hz;
	vm2_boot(&x, &cfg, &n);
	CU_ASSERT(marks_of(&x).gen == 0 && marks_of(&x).marker == 0);
	n = at(hz, t0, t0 + hz);
	CU_ASSERT_FATAL(vtime_vmm_pause(&x.vm, &n) == 0);
	CU_ASSERT_FATAL(vtime_vmm_save(&x.vm, &n, &st) == 0);
	for (unsigned i = 0; i < 2; i++)
		CU_ASSERT_FATAL(vtime_vmm_vcpu_save(&x.v[i], &n, &cs[i]) == 0);
	CU_ASSERT(st.vmclock_generation == 0);
	/* the clone y: restored, saved again before anything is published */
	restore_only(&y, x.m, &st, cs, &n, VTIME_VMM_RESTORE_SNAPSHOT);
	CU_ASSERT_FATAL(vtime_vmm_save(&y.vm, &n, &st2) == 0);
	for (unsigned i = 0; i < 2; i++)
		CU_ASSERT_FATAL(vtime_vmm_vcpu_save(&y.v[i], &n, &cs2[i]) == 0);
	CU_ASSERT(st2.vmclock_generation == 1);
	/* migrated: the clone's guest sees a generation other than x's */
	restore_only(&z, y.m, &st2, cs2, &n, VTIME_VMM_RESTORE_MIGRATION);
	CU_ASSERT_FATAL(vtime_vmm_publish_all(&z.vm, &n) == 0);
	CU_ASSERT(marks_of(&z).gen == 1);
	CU_ASSERT(marks_of(&z).marker == 1);
	/* cloned again instead: two clone events, two new generations */
	restore_only(&w, y.m, &st2, cs2, &n, VTIME_VMM_RESTORE_SNAPSHOT);
	CU_ASSERT_FATAL(vtime_vmm_publish_all(&w.vm, &n) == 0);
	CU_ASSERT(marks_of(&w).gen == 2);
	/* and the original, resumed, keeps its own */
	CU_ASSERT_FATAL(vtime_vmm_resume(&x.vm, &n, VTIME_RESUME_FREEZE) == 0);
	CU_ASSERT_FATAL(vtime_vmm_publish_all(&x.vm, &n) == 0);
	CU_ASSERT(marks_of(&x).gen == 0);
	free(x.m);
	free(y.m);
	free(z.m);
	free(w.m);
}

/* ---- SOON / IMMINENT, status and errors ---- */

static void test_flags_status_errors(void)
{
	struct vm2 x = { 0 };
	struct vtime_vmm_config cfg = { 0 };
	uint64_t hz = 2600000000ull, t0 = 1;
	struct vtime_vmm_now n = at(hz, t0, t0);
	struct vtime_vmm_vmclock_status st;
	struct vtime_vmclock_abi s;
	struct vtime_vmclock_reading rd;

	cfg.host_hz = hz;
	vm2_boot(&x, &cfg, &n);
	s = vmclock_snap(&x);
	CU_ASSERT(s.clock_status == VTIME_VMCLOCK_STATUS_UNKNOWN);
	CU_ASSERT(vtime_vmclock_maxerror(&s, s.counter_value) == VTIME_VMCLOCK_UNKNOWN);
	CU_ASSERT((s.flags & (VTIME_VMCLOCK_FLAG_DISRUPTION_SOON | VTIME_VMCLOCK_FLAG_DISRUPTION_IMMINENT)) == 0);
	/* raise, then clear */
	CU_ASSERT(vtime_vmm_vmclock_set_disruption(&x.vm, VTIME_VMCLOCK_FLAG_DISRUPTION_SOON) == 0);
	CU_ASSERT(vtime_vmm_vmclock_publish(&x.vm, &n, NULL) == 0);
	CU_ASSERT(vmclock_snap(&x).flags & VTIME_VMCLOCK_FLAG_DISRUPTION_SOON);
	CU_ASSERT(vtime_vmm_vmclock_set_disruption(&x.vm, VTIME_VMCLOCK_FLAG_DISRUPTION_SOON |
								  VTIME_VMCLOCK_FLAG_DISRUPTION_IMMINENT) == 0);
	CU_ASSERT(vtime_vmm_publish_all(&x.vm, &n) == 0);
	CU_ASSERT((vmclock_snap(&x).flags & (VTIME_VMCLOCK_FLAG_DISRUPTION_SOON | VTIME_VMCLOCK_FLAG_DISRUPTION_IMMINENT)) ==
		  (VTIME_VMCLOCK_FLAG_DISRUPTION_SOON | VTIME_VMCLOCK_FLAG_DISRUPTION_IMMINENT));
	CU_ASSERT(vtime_vmm_vmclock_set_disruption(&x.vm, 0) == 0);
	CU_ASSERT(vtime_vmm_publish_all(&x.vm, &n) == 0);
	CU_ASSERT((vmclock_snap(&x).flags & (VTIME_VMCLOCK_FLAG_DISRUPTION_SOON | VTIME_VMCLOCK_FLAG_DISRUPTION_IMMINENT)) ==
		  0);
	CU_ASSERT(vtime_vmm_vmclock_set_disruption(&x.vm, VTIME_VMCLOCK_FLAG_TIME_MONOTONIC) == VTIME_EINVAL);
	CU_ASSERT(vmclock_snap(&x).disruption_marker == 0); /* announcing is not a disruption */

	/* a status: synchronised within 50 us, the rate within 20 ppm (est 5 us, 1 ppm) */
	memset(&st, 0, sizeof st);
	st.clock_status = VTIME_VMCLOCK_STATUS_SYNCHRONIZED;
	st.time_maxerror_ns = 50000;
	st.time_esterror_ns = 5000;
	st.period_maxerror_ppb = 20000;
	st.period_esterror_ppb = 1000;
	st.flags = VTIME_VMCLOCK_FLAG_TAI_OFFSET_VALID;
	st.tai_offset_sec = 37;
	CU_ASSERT(vtime_vmm_vmclock_sync(&x.vm, &n, &st) == 0);
	CU_ASSERT(vtime_vmm_publish_all(&x.vm, &n) == 0);
	s = vmclock_snap(&x);
	CU_ASSERT(s.clock_status == VTIME_VMCLOCK_STATUS_SYNCHRONIZED);
	CU_ASSERT(s.time_maxerror_nanosec == 50000 && s.time_esterror_nanosec == 5000);
	CU_ASSERT(vtime_vmclock_convert(&s, s.counter_value + hz, &rd) == 0);
	CU_ASSERT(rd.valid == (VTIME_VMCLOCK_HAVE_TAI | VTIME_VMCLOCK_HAVE_UTC));
	CU_ASSERT(rd.tai_sec == rd.utc_sec + 37);
	/* one second later: 50 us + 20 us of drift, 5 us + 1 us */
	CU_ASSERT(rd.maxerror_ns >= 70000 && rd.maxerror_ns <= 70002);
	CU_ASSERT(rd.esterror_ns >= 6000 && rd.esterror_ns <= 6002);
	/* published 10 s after the sync: the time errors grew with the rate */
	n = at(hz, t0, t0 + 10 * hz);
	CU_ASSERT(vtime_vmm_update_master(&x.vm, &n) == 0);
	CU_ASSERT(vtime_vmm_publish_all(&x.vm, &n) == 0);
	s = vmclock_snap(&x);
	CU_ASSERT(s.time_maxerror_nanosec == 250000);
	CU_ASSERT(s.time_esterror_nanosec == 15000);
	/* the realtime view did not move: VMClock still agrees with the records */
	CU_ASSERT(worst_vmclock_vs_records(&x) <= 3);
	CU_ASSERT(x.vm.rt_offset_ns == RT0);
	/* a sync without a status moves only the realtime view */
	n.realtime_ns += 3000;
	CU_ASSERT(vtime_vmm_vmclock_sync(&x.vm, &n, NULL) == 0);
	CU_ASSERT(x.vm.rt_offset_ns - RT0 - 3000 + 10 <= 20); /* kvmclock's KVM-exact scale: a few ns off 10 s */
	CU_ASSERT(vtime_vmm_publish_all(&x.vm, &n) == 0);
	CU_ASSERT(vmclock_snap(&x).time_maxerror_nanosec == 250000);
	CU_ASSERT(worst_vmclock_vs_records(&x) <= 3);
	/* refusals */
	st.clock_status = 5;
	CU_ASSERT(vtime_vmm_vmclock_sync(&x.vm, &n, &st) == VTIME_EINVAL);
	st.clock_status = VTIME_VMCLOCK_STATUS_FREERUNNING;
	st.flags = VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT;
	CU_ASSERT(vtime_vmm_vmclock_sync(&x.vm, &n, &st) == VTIME_EINVAL);
	st.flags = 0;
	st.leap_indicator = 6;
	CU_ASSERT(vtime_vmm_vmclock_sync(&x.vm, &n, &st) == VTIME_EINVAL);
	st.leap_indicator = 0;
	st.pad[2] = 1;
	CU_ASSERT(vtime_vmm_vmclock_sync(&x.vm, &n, &st) == VTIME_EINVAL);
	st.pad[2] = 0;
	st.period_maxerror_ppb = NS + 1;
	CU_ASSERT(vtime_vmm_vmclock_sync(&x.vm, &n, &st) == VTIME_EINVAL);
	st.period_maxerror_ppb = VTIME_VMCLOCK_UNKNOWN;
	CU_ASSERT(vtime_vmm_vmclock_sync(&x.vm, &n, &st) == 0);
	CU_ASSERT(vtime_vmm_vmclock_sync(NULL, &n, &st) == VTIME_EINVAL);
	CU_ASSERT(vtime_vmm_vmclock_sync(&x.vm, NULL, &st) == VTIME_EINVAL);
	CU_ASSERT(vtime_vmm_vmclock_publish(&x.vm, &n, NULL) == 0);
	s = vmclock_snap(&x);
	CU_ASSERT(s.clock_status == VTIME_VMCLOCK_STATUS_FREERUNNING);
	CU_ASSERT(!(s.flags & VTIME_VMCLOCK_FLAG_PERIOD_MAXERROR_VALID));
	CU_ASSERT(s.flags & VTIME_VMCLOCK_FLAG_PERIOD_ESTERROR_VALID);
	CU_ASSERT(!(s.flags & VTIME_VMCLOCK_FLAG_TAI_OFFSET_VALID));
	free(x.m);
}

/* ---- attaching pages; restore's checks of the version 2 fields ---- */

static void test_pages_and_restore_checks(void)
{
	struct vm2 x = { 0 }, y = { 0 };
	struct vtime_vmm_config cfg = { 0 };
	uint64_t hz = 2000000000ull;
	struct vtime_vmm_now n = at(hz, 0, 0);
	struct vtime_vmm_state st, bad;
	static struct vtime_vmclock_abi other __attribute__((aligned(8)));

	cfg.host_hz = hz;
	vm2_boot(&x, &cfg, &n);
	CU_ASSERT(vtime_vmm_vmclock_set_page(&x.vm, &x.m->vmclock, VTIME_VMCLOCK_ABI_SIZE - 1) == VTIME_EINVAL);
	CU_ASSERT(vtime_vmm_vmclock_set_page(NULL, &x.m->vmclock, 4096) == VTIME_EINVAL);
	CU_ASSERT(vtime_vmm_vmclock_set_page(&x.vm,
					     (volatile struct vtime_vmclock_abi *)((uint8_t *)&x.m->vmclock + 4), 4096) ==
		  VTIME_EINVAL);
	/* a page laid out for another counter is not taken (nor re-laid out) */
	CU_ASSERT(vtime_vmclock_init(&other, sizeof other, VTIME_VMCLOCK_COUNTER_ARM_VCNT, VTIME_VMCLOCK_TIME_UTC) == 0);
	CU_ASSERT(vtime_vmm_vmclock_set_page(&x.vm, &other, sizeof other) == VTIME_EPROTO);
	CU_ASSERT(vtime_vmclock_init(&other, sizeof other, VTIME_VMCLOCK_COUNTER_X86_TSC, VTIME_VMCLOCK_TIME_TAI) == 0);
	CU_ASSERT(vtime_vmm_vmclock_set_page(&x.vm, &other, sizeof other) == VTIME_EPROTO);
	((volatile uint8_t *)&other.version)[0] = 2; /* little-endian version 2 */
	((volatile uint8_t *)&other.version)[1] = 0;
	other.time_type = VTIME_VMCLOCK_TIME_UTC;
	CU_ASSERT(vtime_vmm_vmclock_set_page(&x.vm, &other, sizeof other) == VTIME_EPROTO);
	CU_ASSERT(x.vm.vmclock == &x.m->vmclock);
	/* detached: publish_all leaves it alone */
	CU_ASSERT(vtime_vmm_vmclock_set_page(&x.vm, NULL, 0) == 0);
	{
		uint32_t seq = x.m->vmclock.seq_count;
		CU_ASSERT(vtime_vmm_publish_all(&x.vm, &n) == 0);
		CU_ASSERT(x.m->vmclock.seq_count == seq);
		CU_ASSERT(vtime_vmm_vmclock_publish(&x.vm, &n, NULL) == VTIME_ENODEV);
	}
	/* re-attached: the page (markers and all) is kept */
	CU_ASSERT(vtime_vmm_vmclock_set_page(&x.vm, &x.m->vmclock, 4096) == 0);

	CU_ASSERT(vtime_vmm_save(&x.vm, &n, &st) == 0);
	CU_ASSERT(st.flags == (VTIME_VMM_STATE_VMCLOCK | VTIME_VMM_STATE_HV));
	CU_ASSERT(st.hv_sequence == 2); /* boot, and the publish_all above */
	vm2_init(&y, &cfg, &n, true);
	bad = st;
	bad.flags |= 0x4;
	CU_ASSERT(vtime_vmm_restore(&y.vm, &bad, &n, VTIME_RESUME_FREEZE, VTIME_VMM_RESTORE_SNAPSHOT) == VTIME_EPROTO);
	bad = st;
	bad.flags = VTIME_VMM_STATE_HV;
	bad.vmclock_marker = 1;
	CU_ASSERT(vtime_vmm_restore(&y.vm, &bad, &n, VTIME_RESUME_FREEZE, VTIME_VMM_RESTORE_SNAPSHOT) == VTIME_EPROTO);
	bad.vmclock_marker = 0;
	bad.vmclock_generation = 1;
	CU_ASSERT(vtime_vmm_restore(&y.vm, &bad, &n, VTIME_RESUME_FREEZE, VTIME_VMM_RESTORE_SNAPSHOT) == VTIME_EPROTO);
	bad = st;
	bad.hv_sequence = 0xffffffffu;
	CU_ASSERT(vtime_vmm_restore(&y.vm, &bad, &n, VTIME_RESUME_FREEZE, VTIME_VMM_RESTORE_SNAPSHOT) == VTIME_EPROTO);
	CU_ASSERT(vtime_vmm_restore(&y.vm, &st, &n, VTIME_RESUME_FREEZE, (enum vtime_vmm_restore_kind)2) == VTIME_EINVAL);
	/* a version 1 state (no pages then): restores, nothing to continue from */
	bad = st;
	bad.vmclock_marker = bad.vmclock_generation = 0;
	bad.hv_sequence = bad.flags = 0;
	CU_ASSERT(vtime_vmm_restore(&y.vm, &bad, &n, VTIME_RESUME_FREEZE, VTIME_VMM_RESTORE_MIGRATION) == 0);
	CU_ASSERT(!y.vm.vmclock_floor_pending);
	free(x.m);
	free(y.m);
}

static const struct vt_test_case cases[] = {
	{ "VMClock = realtime view + kvmclock records within 3 ns", test_vmclock_matches_records },
	{ "Hyper-V page: KVM's page from the records, sequence rules, TIME_REF_COUNT", test_hv_page },
	{ "disruption marker once per resume/restore, generation once per snapshot restore", test_disruption_generation },
	{ "a clone saved before its first publish stays a new generation", test_clone_saved_before_publish },
	{ "DISRUPTION_SOON/IMMINENT, status, error terms", test_flags_status_errors },
	{ "attaching pages; restore checks the version 2 fields", test_pages_and_restore_checks },
	{ NULL, NULL },
};

int main(void)
{
	const struct vt_test_suite suites[] = { { "vmm pages", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
