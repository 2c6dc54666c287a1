/* SPDX-License-Identifier: MIT */
/* The VMM core driven by a hostile schedule while the guest scribbles on its
 * own records: any configuration (rates at and beyond the ABI, every TSC
 * mode), host time starting anywhere (wrapping past 2^64), up to 6 vCPUs,
 * then TSC writes and adoptions, publishes (one vCPU or all), guest
 * scribbles and GUEST_STOPPED consumption, pause/resume, clock sets,
 * version fast-forwards (as if 2^k publishes had happened: cheap 2^31+) and
 * save/restore into a fresh VM through the byte images, with the record
 * memory carried over or lost. Checked:
 *   - init accepts only rates whose records readers accept;
 *   - versions: each publish gives ((page + 1) | 1) + 1 where page is what
 *     the record holds (after a restore, lifted once to the saved version
 *     when behind it); never one of the last versions published (unless the
 *     guest wrote the version word itself); after a restore the first lies
 *     2 to 2^31 - 1 after the saved one (serially after it);
 *   - every record the VMM published reads back (mul, shift valid);
 *   - TSC_STABLE is set exactly when every vCPU shares one generation (a
 *     walk over the vCPUs, against the O(1) count);
 *   - GUEST_STOPPED: set by the publish after a stop request, kept until the
 *     guest consumes it, consumed exactly once;
 *   - native mode: a guest reading at any later counter equals the VM clock;
 *   - emulated mode: a vCPU's trapped RDTSC never goes back;
 *   - the VM's VMClock and Hyper-V pages (selector bits 8, 16), the guest
 *     scribbling on them too (op 5 with bit 7): each publish_all moves
 *     seq_count ((s + 1) | 1) + 1 from what the page holds; the disruption
 *     marker continues from the page (or from the saved value after a
 *     restore, if the page is behind) and changes exactly once per resume
 *     and per restore, the generation exactly once per snapshot restore
 *     (a state saved before that publish carries the new generation);
 *     UNRELIABLE exactly when the records lack TSC_STABLE; in native mode
 *     VMClock time at a guest TSC is the VM's realtime view within 3 ns;
 *     the Hyper-V page is vtime_hv_tsc_page_from_pvclock() of a vCPU's
 *     record bit for bit, sequence 0 where that gives no page, otherwise
 *     the next valid sequence after the page's (or the VMM's last), never
 *     0xFFFFFFFF. */
#include <vtime/error.h>
#include <vtime/hyperv.h>
#include <vtime/pvclock.h>
#include <vtime/vmclock.h>
#include <vtime/vmm.h>

#include "fuzz.h"

#define MAXV 6
#define RECENT 32

struct vcpu_model {
	uint8_t mem[64] __attribute__((aligned(64))); /* the guest's record */
	bool registered;
	bool pending_min;      /* restored: the first publish lifts the record */
	uint32_t min;
	bool first_after_restore;
	uint32_t saved;
	bool stop_req;         /* a GUEST_STOPPED request not yet published */
	bool body_clean;       /* no guest scribble on the body since the last publish */
	bool published;
	uint32_t recent[RECENT];
	unsigned nrecent;
	uint64_t last_rdtsc, last_rdtsc_off, last_rdtsc_host;
	uint64_t since_rdtsc; /* guest cycles since that RDTSC, at most (saturating) */
	bool have_rdtsc;
};

struct world {
	struct vtime_vmm vm;
	struct vtime_vmm_vcpu v[MAXV];
	struct vcpu_model m[MAXV];
	unsigned n;
	struct vtime_vmm_config cfg;
	struct vtime_vmm_now now;
	bool paused;
	uint64_t since_master; /* host ticks since the master reference moved */
	/* the pages (a model of what the next VMClock publish owes) */
	uint8_t vmc[0x80] __attribute__((aligned(8)));
	struct vtime_hv_tsc_page hv;
	bool vmc_on, hv_on;
	unsigned vmc_events;
	uint64_t vmc_floor[2];
	bool vmc_floor_pending;
};

static struct world W;

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static volatile struct vtime_pvclock_vcpu_time_info *rec_of(unsigned i)
{
	return (volatile struct vtime_pvclock_vcpu_time_info *)(void *)W.m[i].mem;
}

static bool stable_by_walk(const struct vtime_vmm *vm)
{
	if (vm->mode == VTIME_VMM_TSC_CATCHUP || vm->nr_vcpus == 0)
		return false;
	for (const struct vtime_vmm_vcpu *v = vm->vcpus; v; v = v->next)
		if (!v->written || v->gen != vm->cur_gen)
			return false;
	return true;
}

/* What a publish of vCPU i must produce, then the checks after it. */
static uint32_t expect_version(unsigned i)
{
	struct vcpu_model *m = &W.m[i];
	uint32_t page = rd32(m->mem);
	if (m->pending_min && (uint32_t)(page - m->min) > 0x7ffffff0u) /* vmm.h: the floor's window */
		page = m->min;
	return ((page + 1u) | 1u) + 1u;
}

static void after_publish(unsigned i, uint32_t want, uint32_t got, bool stable, bool stopped_before)
{
	struct vcpu_model *m = &W.m[i];
	struct vtime_pvclock_vcpu_time_info copy;
	uint8_t flags = m->mem[29];

	FZ_CHECK(got == want, "vCPU %u published version %u, the record said %u", i, got, want);
	for (unsigned k = 0; k < m->nrecent; k++)
		FZ_CHECK(m->recent[k] != got, "vCPU %u reused version %u", i, got);
	if (m->first_after_restore)
		FZ_CHECK((uint32_t)(got - m->saved) >= 2 && (uint32_t)(got - m->saved) <= 0x7fffffffu,
			 "vCPU %u: first version %u after a save at %u", i, got, m->saved);
	m->first_after_restore = false;
	m->pending_min = false;
	if (m->nrecent == RECENT)
		memmove(m->recent, m->recent + 1, (RECENT - 1) * sizeof m->recent[0]), m->nrecent--;
	m->recent[m->nrecent++] = got;
	FZ_CHECK(vtime_pvclock_snapshot(rec_of(i), 1, &copy) == 0, "vCPU %u: a published record does not read back", i);
	FZ_CHECK(!!(flags & VTIME_PVCLOCK_TSC_STABLE) == stable, "vCPU %u: TSC_STABLE %d, every vCPU in one generation: %d",
		 i, !!(flags & VTIME_PVCLOCK_TSC_STABLE), stable);
	FZ_CHECK(!!(flags & VTIME_PVCLOCK_GUEST_STOPPED) == (stopped_before || m->stop_req),
		 "vCPU %u: GUEST_STOPPED %d, expected %d", i, !!(flags & VTIME_PVCLOCK_GUEST_STOPPED),
		 stopped_before || m->stop_req);
	m->stop_req = false;
	m->body_clean = true;
	m->published = true;
	/* native: a guest reading at a later counter is the VM clock */
	if (W.vm.mode == VTIME_VMM_TSC_NATIVE) {
		uint64_t h = W.now.host_tsc + (uint64_t)i * 977u, g = vtime_vmm_vcpu_tsc(&W.v[i], h), ns = 0;
		struct vtime_counter ctr = { fz_fixed_counter, &g };
		struct vtime_pvclock_reading rd;
		if (fz_sdiff(h, W.vm.master_tsc) >= 0) {
			FZ_CHECK(vtime_pvclock_read(rec_of(i), &ctr, 1, &rd) == 0, "read");
			ns = vtime_vmm_clock(&W.vm, h);
			FZ_CHECK(rd.ns == ns, "vCPU %u: guest reads %llu, VM clock %llu", i, FZ_U(rd.ns), FZ_U(ns));
		}
	}
}

static void publish_one(unsigned i)
{
	uint32_t want = expect_version(i), got = 0;
	bool stable = stable_by_walk(&W.vm), stopped = W.m[i].mem[29] & VTIME_PVCLOCK_GUEST_STOPPED;
	int err = vtime_vmm_vcpu_publish(&W.v[i], &W.now, &got);

	if (!W.m[i].registered) {
		FZ_CHECK(err == VTIME_ENODEV, "publish without a record: %d", err);
		return;
	}
	if (!W.v[i].written) {
		FZ_CHECK(err == VTIME_ESTATE, "publish before a TSC write: %d", err);
		return;
	}
	FZ_CHECK(err == 0, "publish %d", err);
	after_publish(i, want, got, stable, stopped);
}

static void attach_pages(void)
{
	if (W.vmc_on) {
		int err = vtime_vmm_vmclock_set_page(&W.vm, (volatile struct vtime_vmclock_abi *)(void *)W.vmc,
						     sizeof W.vmc);
		/* a header the guest scribbled into another layout is refused */
		FZ_CHECK(err == 0 || err == VTIME_EPROTO, "vmclock_set_page %d", err);
		if (err)
			W.vmc_on = false;
	}
	if (W.hv_on)
		FZ_CHECK(vtime_vmm_hv_set_page(&W.vm, &W.hv) == 0, "hv_set_page");
}

struct page_before {
	uint32_t seq, hv_seq, hv_last;
	uint64_t marker, gen;
};

static void pages_before(struct page_before *b)
{
	b->seq = rd32(W.vmc + 0x0c);
	b->marker = rd64(W.vmc + 0x10);
	b->gen = rd64(W.vmc + 0x68);
	b->hv_seq = rd32((const uint8_t *)&W.hv);
	b->hv_last = W.vm.hv_seq;
}

static bool hv_valid_seq(uint32_t s)
{
	return s != 0 && s != 0xffffffffu;
}

static void pages_after(const struct page_before *b, bool stable)
{
	FZ_TRACE("  pages: VMClock %d seq %u marker %llu gen %llu status %u; Hyper-V %d sequence %u\n", W.vmc_on,
		 rd32(W.vmc + 0x0c), FZ_U(rd64(W.vmc + 0x10)), FZ_U(rd64(W.vmc + 0x68)), W.vmc[0x22], W.hv_on,
		 rd32((const uint8_t *)&W.hv));
	if (W.vmc_on) {
		uint64_t m = b->marker, g = b->gen;
		struct vtime_vmclock_abi snap;
		uint8_t status = W.vmc[0x22];

		FZ_CHECK(rd32(W.vmc + 0x0c) == ((b->seq + 1u) | 1u) + 1u, "VMClock seq_count %u after %u",
			 rd32(W.vmc + 0x0c), b->seq);
		if (W.vmc_floor_pending) {
			if (fz_sdiff(W.vmc_floor[0], m) > 0)
				m = W.vmc_floor[0];
			if (fz_sdiff(W.vmc_floor[1], g) > 0)
				g = W.vmc_floor[1];
		}
		m += W.vmc_events ? 1u : 0u;
		g += (W.vmc_events & VTIME_VMCLOCK_EV_NEW_GENERATION) ? 1u : 0u;
		FZ_CHECK(rd64(W.vmc + 0x10) == m && rd64(W.vmc + 0x68) == g,
			 "VMClock marker %llu generation %llu, owed %llu %llu (page had %llu %llu, events %x)",
			 FZ_U(rd64(W.vmc + 0x10)), FZ_U(rd64(W.vmc + 0x68)), FZ_U(m), FZ_U(g), FZ_U(b->marker),
			 FZ_U(b->gen), W.vmc_events);
		FZ_CHECK(rd64(W.vmc + 0x18) & VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT, "no generation counter offered");
		FZ_CHECK((status == VTIME_VMCLOCK_STATUS_UNRELIABLE) == !stable, "VMClock status %u, records stable %d",
			 status, stable);
		W.vmc_events = 0;
		W.vmc_floor_pending = false;
		/* native: the page tells the VM's realtime view at every guest TSC */
		if (stable && W.vm.mode == VTIME_VMM_TSC_NATIVE && W.n && W.v[0].written &&
		    vtime_vmclock_snapshot((volatile struct vtime_vmclock_abi *)(void *)W.vmc, 1, &snap) == 0) {
			uint64_t h = W.now.host_tsc, c = vtime_vmm_vcpu_tsc(&W.v[0], h), sec;
			uint32_t nsec;
			if (fz_sdiff(h, W.vm.master_tsc) >= 0 && h - W.vm.master_tsc < ((uint64_t)1 << 40) &&
			    vtime_vmclock_time(&snap, c, &sec, &nsec) == 0) {
				int64_t d = fz_sdiff(sec * 1000000000u + nsec, W.vm.rt_offset_ns + vtime_vmm_clock(&W.vm, h));
				FZ_TRACE("  VMClock - realtime view at TSC %llu: %lld ns\n", FZ_U(c), (long long)d);
				FZ_CHECK(d >= -3 && d <= 3, "VMClock time %llu.%09u is %lld ns from the VM's realtime",
					 FZ_U(sec), nsec, (long long)d);
			}
		}
	}
	if (W.hv_on) {
		uint32_t s = rd32((const uint8_t *)&W.hv), base;
		struct vtime_pvclock_vcpu_time_info rec;
		struct vtime_hv_tsc_reading r;
		uint64_t scale;
		int64_t off;
		int want = 0;
		bool known = false;

		FZ_CHECK(s != 0xffffffffu, "Hyper-V sequence 0xFFFFFFFF published");
		for (unsigned i = 0; i < W.n; i++)
			if (W.m[i].registered && vtime_pvclock_snapshot(rec_of(i), 1, &rec) == 0) {
				want = vtime_hv_tsc_page_from_pvclock(&rec, &scale, &off);
				known = true;
				break;
			}
		if ((known && want != 0) || (!known && s == 0)) {
			FZ_CHECK(s == 0, "Hyper-V page valid (%u) where KVM publishes none (%d)", s, want);
			return;
		}
		base = hv_valid_seq(b->hv_seq) ? b->hv_seq : hv_valid_seq(b->hv_last) ? b->hv_last : 0;
		base++;
		if (!hv_valid_seq(base))
			base = 1;
		FZ_CHECK(s == base, "Hyper-V sequence %u after page %u, last %u", s, b->hv_seq, b->hv_last);
		FZ_CHECK(vtime_hv_tsc_page_snapshot(&W.hv, 1, &r) == 0, "the Hyper-V page does not read back");
		FZ_TRACE("  Hyper-V sequence %u, KVM's page checked: %d\n", s, known);
		if (known)
			FZ_CHECK(r.tsc_scale == scale && r.tsc_offset == off,
				 "Hyper-V page (%llx, %lld) is not KVM's for the record (%llx, %lld)", FZ_U(r.tsc_scale),
				 (long long)r.tsc_offset, FZ_U(scale), (long long)off);
	}
}

static void publish_all(void)
{
	uint32_t want[MAXV];
	bool stopped[MAXV], stable = stable_by_walk(&W.vm), all_written = true;
	struct page_before pb;
	int err;

	for (unsigned i = 0; i < W.n; i++) {
		want[i] = expect_version(i);
		stopped[i] = W.m[i].mem[29] & VTIME_PVCLOCK_GUEST_STOPPED;
		if (W.m[i].registered && !W.v[i].written)
			all_written = false;
	}
	pages_before(&pb);
	err = vtime_vmm_publish_all(&W.vm, &W.now);
	FZ_CHECK(err == (all_written ? 0 : VTIME_ESTATE), "publish_all %d (every vCPU written: %d)", err, all_written);
	/* with an unwritten vCPU the ones before it in the list were published:
	 * a record holding the predicted version was (it differs from the old) */
	for (unsigned i = 0; i < W.n; i++)
		if (W.m[i].registered && (all_written || rd32(W.m[i].mem) == want[i]))
			after_publish(i, want[i], rd32(W.m[i].mem), stable, stopped[i]);
	if (!err)
		pages_after(&pb, stable);
}

static void add_vcpu(struct fz *f)
{
	unsigned i = W.n;
	if (i == MAXV)
		return;
	memset(&W.m[i], 0, sizeof W.m[i]);
	FZ_CHECK(vtime_vmm_vcpu_init(&W.vm, &W.v[i]) == 0, "vcpu_init");
	W.n++;
	if (fz_bool(f)) {
		wr32(W.m[i].mem, fz_bool(f) ? fz_u32(f) : 0); /* whatever the page held */
		FZ_CHECK(vtime_vmm_vcpu_set_record(&W.v[i], rec_of(i)) == 0, "set_record");
		W.m[i].registered = true;
	}
	if (fz_bool(f))
		FZ_CHECK(vtime_vmm_vcpu_write_tsc(&W.v[i], 0, &W.now, true, NULL) == 0, "write_tsc");
}

static void save_restore(struct fz *f)
{
	struct vtime_vmm_state st;
	struct vtime_vmm_vcpu_state cs[MAXV];
	uint8_t img[VTIME_VMM_STATE_BYTES], cimg[MAXV][VTIME_VMM_VCPU_STATE_BYTES];
	enum vtime_resume_policy pol = fz_bool(f) ? VTIME_RESUME_ADVANCE : VTIME_RESUME_FREEZE;
	bool lose = fz_bool(f);
	struct vtime_vmm_config cfg2 = W.cfg;

	for (unsigned i = 0; i < W.n; i++)
		if (!W.v[i].written)
			return; /* a vCPU never written has no state to save */
	FZ_CHECK(vtime_vmm_save(&W.vm, &W.now, &st) == 0, "save");
	if (W.vmc_on) { /* what the guest saw, and a generation a restore owed it */
		uint64_t m = rd64(W.vmc + 0x10), g = rd64(W.vmc + 0x68);
		if (W.vmc_floor_pending) {
			if (fz_sdiff(W.vmc_floor[0], m) > 0)
				m = W.vmc_floor[0];
			if (fz_sdiff(W.vmc_floor[1], g) > 0)
				g = W.vmc_floor[1];
		}
		g += (W.vmc_events & VTIME_VMCLOCK_EV_NEW_GENERATION) ? 1u : 0u;
		FZ_CHECK(st.vmclock_marker == m && st.vmclock_generation == g,
			 "saved marker %llu generation %llu, the guest is at %llu %llu (events owed %x)",
			 FZ_U(st.vmclock_marker), FZ_U(st.vmclock_generation), FZ_U(m), FZ_U(g), W.vmc_events);
	}
	FZ_CHECK(vtime_vmm_state_encode(&st, img, sizeof img) == 0, "encode");
	for (unsigned i = 0; i < W.n; i++) {
		FZ_CHECK(vtime_vmm_vcpu_save(&W.v[i], &W.now, &cs[i]) == 0, "vcpu_save");
		FZ_CHECK(vtime_vmm_vcpu_state_encode(&cs[i], cimg[i], sizeof cimg[i]) == 0, "vcpu encode");
	}
	/* later, maybe on a host with another counter rate */
	W.now.host_tsc += fz_u32(f) % 1000000u;
	W.now.host_ns += fz_u32(f);
	W.now.realtime_ns += fz_edge64(f) >> 8;
	W.since_master = 0;
	if (fz_bool(f)) {
		cfg2.host_hz = fz_edge64(f);
		cfg2.guest_hz = W.vm.guest_hz;
		cfg2.mode = VTIME_VMM_TSC_AUTO;
	}
	if (vtime_vmm_init(&W.vm, &cfg2, &W.now) != 0)
		FZ_CHECK(vtime_vmm_init(&W.vm, &W.cfg, &W.now) == 0, "re-init with the first configuration");
	FZ_CHECK(vtime_vmm_state_decode(&st, img, sizeof img) == 0, "decode");
	{
		bool snapshot = fz_bool(f);
		FZ_CHECK(vtime_vmm_restore(&W.vm, &st, &W.now, pol,
					   snapshot ? VTIME_VMM_RESTORE_SNAPSHOT : VTIME_VMM_RESTORE_MIGRATION) == 0,
			 "restore of a state save produced");
		/* what a publish owed before the save is in the state or replaced
		 * by the restore's own event (which changes the marker too) */
		W.vmc_events = snapshot ? VTIME_VMCLOCK_EV_NEW_GENERATION : VTIME_VMCLOCK_EV_DISRUPTED;
		W.vmc_floor[0] = st.vmclock_marker;
		W.vmc_floor[1] = st.vmclock_generation;
		W.vmc_floor_pending = (st.flags & VTIME_VMM_STATE_VMCLOCK) != 0;
		FZ_CHECK(!!(st.flags & VTIME_VMM_STATE_VMCLOCK) == W.vmc_on, "saved state: VMClock flag %x", st.flags);
		if (lose) { /* the pages' memory is lost with the records' */
			memset(W.vmc, 0, sizeof W.vmc);
			memset(&W.hv, 0, sizeof W.hv);
		}
		attach_pages();
	}
	for (unsigned i = 0; i < W.n; i++) {
		struct vcpu_model *m = &W.m[i];
		FZ_CHECK(vtime_vmm_vcpu_init(&W.vm, &W.v[i]) == 0, "vcpu_init");
		if (lose) {
			memset(m->mem, 0, sizeof m->mem);
			m->nrecent = 0; /* a guest on fresh memory saw none of them */
		}
		if (m->registered)
			FZ_CHECK(vtime_vmm_vcpu_set_record(&W.v[i], rec_of(i)) == 0, "set_record");
		FZ_CHECK(vtime_vmm_vcpu_state_decode(&cs[i], cimg[i], sizeof cimg[i]) == 0, "vcpu decode");
		FZ_CHECK(vtime_vmm_vcpu_restore(&W.v[i], &cs[i], &W.now, NULL) == 0, "vcpu_restore");
		m->pending_min = cs[i].version != 0;
		m->min = (cs[i].version + 1u) & ~1u;
		m->saved = cs[i].version;
		m->first_after_restore = cs[i].version != 0;
		m->stop_req = true;
		m->have_rdtsc = false;
	}
	W.paused = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	uint8_t sel = fz_u8(&f);
	int err;

	memset(&W, 0, sizeof W);
	W.cfg.host_hz = (sel & 1u) ? fz_edge64(&f) : 1000000000ull + fz_u32(&f);
	W.cfg.guest_hz = (sel & 2u) ? fz_edge64(&f) : (sel & 4u) ? W.cfg.host_hz + fz_u16(&f) * 1000ull : 0;
	W.cfg.mode = (enum vtime_vmm_tsc_mode)(fz_u8(&f) % 6u);
	W.cfg.hw_scaling = fz_bool(&f);
	W.cfg.frac_bits = fz_bool(&f) ? 32u : 0u;
	W.cfg.tolerance_ppm = fz_u8(&f);
	W.now.host_tsc = fz_edge64(&f);
	W.now.host_ns = fz_edge64(&f);
	W.now.realtime_ns = fz_edge64(&f);
	err = vtime_vmm_init(&W.vm, &W.cfg, &W.now);
	FZ_TRACE("init host %llu guest %llu mode %u hw %d: %d (mode %u)\n", FZ_U(W.cfg.host_hz), FZ_U(W.cfg.guest_hz),
		 W.cfg.mode, W.cfg.hw_scaling, err, W.vm.mode);
	if (err)
		return 0;
	FZ_CHECK(W.vm.guest_to_ns.shift >= VTIME_PVCLOCK_SHIFT_MIN && W.vm.guest_to_ns.shift <= VTIME_PVCLOCK_SHIFT_MAX,
		 "init accepted host %llu Hz guest %llu Hz: records would carry shift %d", FZ_U(W.cfg.host_hz),
		 FZ_U(W.cfg.guest_hz), W.vm.guest_to_ns.shift);
	W.vmc_on = (sel & 8u) != 0;
	W.hv_on = (sel & 16u) != 0;
	attach_pages();
	add_vcpu(&f);
	while (fz_left(&f)) {
		uint8_t op = fz_u8(&f);
		unsigned i = W.n ? fz_u8(&f) % W.n : 0, j = W.n ? fz_u8(&f) % W.n : 0;
		struct vcpu_model *m = &W.m[i];

		FZ_TRACE("op %u vcpu %u/%u: host_tsc %llu mode %u master (%llu, %llu) clock %llu paused %d\n", op % 16u, i, j,
			 FZ_U(W.now.host_tsc), W.vm.mode, FZ_U(W.vm.master_tsc), FZ_U(W.vm.master_ns),
			 FZ_U(vtime_vmm_clock(&W.vm, W.now.host_tsc)), W.paused);
		switch (op % 16u) {
		case 0: { /* time passes, inside the domain (vmm.h): a VMM re-anchors
			   * before 2^63 ns of VM time have gone by */
			uint64_t dt = (op & 0x80u) ? fz_edge64(&f) >> 2 : fz_u32(&f);
			uint64_t lim = W.vm.host_hz > UINT64_MAX / 2305843009u ? (uint64_t)1 << 62
									       : W.vm.host_hz * 2305843009u; /* 2^61 ns */
			if (lim > (uint64_t)1 << 62)
				lim = (uint64_t)1 << 62;
			dt %= lim;
			if (W.since_master + dt >= lim) {
				FZ_CHECK(vtime_vmm_update_master(&W.vm, &W.now) == 0, "update_master");
				W.since_master = 0;
			}
			W.since_master += dt;
			{
				/* guest cycles gone by, at most (the emulated guest may run faster) */
				uint64_t r = W.vm.guest_hz / W.vm.host_hz + 1, g = dt > UINT64_MAX / r ? UINT64_MAX : dt * r;
				for (unsigned k = 0; k < W.n; k++)
					W.m[k].since_rdtsc = W.m[k].since_rdtsc + g < g ? UINT64_MAX : W.m[k].since_rdtsc + g;
			}
			W.now.host_tsc += dt;
			W.now.host_ns += dt / 3;
			W.now.realtime_ns += dt / 3;
			break;
		}
		case 1:
			publish_all();
			break;
		case 2:
			publish_one(i);
			break;
		case 3: { /* a TSC write: near another vCPU's TSC, or anywhere */
			uint64_t val = W.v[j].written ? vtime_vmm_vcpu_tsc(&W.v[j], W.now.host_tsc) : 0;
			val = (op & 0x80u) ? fz_edge64(&f) : val + (uint64_t)(int64_t)(int16_t)fz_u16(&f) * 4096;
			FZ_CHECK(vtime_vmm_vcpu_write_tsc(&W.v[i], val, &W.now, op & 0x40u, NULL) == 0, "write_tsc");
			m->have_rdtsc = false;
			break;
		}
		case 4:
			FZ_CHECK(vtime_vmm_vcpu_adopt_offset(&W.v[i], (op & 0x80u) ? fz_edge64(&f) : W.v[j].tsc_offset, &W.now,
							      NULL) == 0,
				 "adopt");
			m->have_rdtsc = false;
			break;
		case 5: { /* the guest scribbles on its record (or on a page) */
			unsigned off = fz_u8(&f) % 32u;
			if ((op & 0x80u) && (W.vmc_on || W.hv_on)) {
				if (W.vmc_on && (!W.hv_on || (op & 0x40u)))
					W.vmc[(off * 7u + (op & 7u)) % 0x70u] = fz_u8(&f);
				else
					((uint8_t *)&W.hv)[off % 24u] = fz_u8(&f);
				break;
			}
			m->mem[off] = fz_u8(&f);
			if (off < 4)
				m->nrecent = 0; /* it wrote the version word: its own versions now */
			else
				m->body_clean = false;
			break;
		}
		case 6: { /* the guest consumes GUEST_STOPPED */
			bool had = m->mem[29] & VTIME_PVCLOCK_GUEST_STOPPED;
			bool got = vtime_pvclock_consume_stopped(rec_of(i));
			FZ_CHECK(got == had, "consume returned %d with the bit %d", got, had);
			FZ_CHECK(!(m->mem[29] & VTIME_PVCLOCK_GUEST_STOPPED), "GUEST_STOPPED still set after consume");
			FZ_CHECK(!vtime_pvclock_consume_stopped(rec_of(i)), "consumed twice");
			break;
		}
		case 7:
			err = vtime_vmm_pause(&W.vm, &W.now);
			FZ_CHECK(err == (W.paused ? VTIME_ESTATE : 0), "pause %d", err);
			W.paused = true;
			break;
		case 8:
			err = vtime_vmm_resume(&W.vm, &W.now, (op & 0x80u) ? VTIME_RESUME_ADVANCE : VTIME_RESUME_FREEZE);
			FZ_CHECK(err == (W.paused ? 0 : VTIME_ESTATE), "resume %d", err);
			if (!err) {
				W.since_master = 0;
				W.vmc_events |= VTIME_VMCLOCK_EV_DISRUPTED;
			}
			if (W.paused)
				for (unsigned k = 0; k < W.n; k++)
					W.m[k].stop_req = true;
			W.paused = false;
			break;
		case 9:
			FZ_CHECK(vtime_vmm_vcpu_request_stopped(&W.v[i]) == 0, "request_stopped");
			m->stop_req = true;
			break;
		case 10:
			FZ_CHECK(vtime_vmm_update_master(&W.vm, &W.now) == 0, "update_master");
			W.since_master = 0;
			break;
		case 11:
			FZ_CHECK(vtime_vmm_set_clock(&W.vm, &W.now, fz_edge64(&f)) == 0, "set_clock");
			W.since_master = 0;
			break;
		case 12: { /* 2^k publishes later, cheaply: the version word moves on by 2^k */
			uint32_t k = fz_u8(&f) % 31u, page = rd32(m->mem);
			if (!m->published || m->pending_min)
				break; /* only from a version this VMM published */
			wr32(m->mem, page + (2u << k));
			m->nrecent = 0; /* 2^k versions ago; the set keeps the last few only */
			break;
		}
		case 13:
			save_restore(&f);
			break;
		case 14:
			add_vcpu(&f);
			break;
		default: { /* a trapped RDTSC (emulated mode: never backwards) */
			uint64_t h = W.now.host_tsc, r;
			if (!W.v[i].written)
				break;
			r = vtime_vmm_vcpu_rdtsc(&W.v[i], h);
			FZ_TRACE("  rdtsc at %llu: %llu (offset %llu, emu_last %llu)\n", FZ_U(h), FZ_U(r), FZ_U(W.v[i].tsc_offset),
				 FZ_U(W.vm.emu_last));
			/* compared in serial order: inside the domain, i.e. fewer than
			 * 2^62 guest cycles since the last one */
			if (W.vm.mode == VTIME_VMM_TSC_EMULATED && m->have_rdtsc && m->last_rdtsc_off == W.v[i].tsc_offset &&
			    fz_sdiff(h, m->last_rdtsc_host) >= 0 && m->since_rdtsc < ((uint64_t)1 << 62))
				FZ_CHECK(fz_sdiff(r, m->last_rdtsc) >= 0, "vCPU %u: RDTSC went back from %llu to %llu", i,
					 FZ_U(m->last_rdtsc), FZ_U(r));
			m->last_rdtsc = r;
			m->last_rdtsc_off = W.v[i].tsc_offset;
			m->last_rdtsc_host = h;
			m->since_rdtsc = 0;
			m->have_rdtsc = true;
			break;
		}
		}
		FZ_CHECK(vtime_vmm_stable(&W.vm) == stable_by_walk(&W.vm), "vtime_vmm_stable() %d, walk %d",
			 vtime_vmm_stable(&W.vm), stable_by_walk(&W.vm));
	}
	return 0;
}
