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
 *   - emulated mode: a vCPU's trapped RDTSC never goes back. */
#include <vtime/error.h>
#include <vtime/pvclock.h>
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
};

static struct world W;

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
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

static uint64_t fixed_counter(void *ctx)
{
	return *(const uint64_t *)ctx;
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
		struct vtime_counter ctr = { fixed_counter, &g };
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

static void publish_all(void)
{
	uint32_t want[MAXV];
	bool stopped[MAXV], stable = stable_by_walk(&W.vm), all_written = true;
	int err;

	for (unsigned i = 0; i < W.n; i++) {
		want[i] = expect_version(i);
		stopped[i] = W.m[i].mem[29] & VTIME_PVCLOCK_GUEST_STOPPED;
		if (W.m[i].registered && !W.v[i].written)
			all_written = false;
	}
	err = vtime_vmm_publish_all(&W.vm, &W.now);
	FZ_CHECK(err == (all_written ? 0 : VTIME_ESTATE), "publish_all %d (every vCPU written: %d)", err, all_written);
	/* with an unwritten vCPU the ones before it in the list were published:
	 * a record holding the predicted version was (it differs from the old) */
	for (unsigned i = 0; i < W.n; i++)
		if (W.m[i].registered && (all_written || rd32(W.m[i].mem) == want[i]))
			after_publish(i, want[i], rd32(W.m[i].mem), stable, stopped[i]);
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
	FZ_CHECK(vtime_vmm_restore(&W.vm, &st, &W.now, pol,
				   fz_bool(f) ? VTIME_VMM_RESTORE_SNAPSHOT : VTIME_VMM_RESTORE_MIGRATION) == 0, "restore of a state save produced");
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
		case 5: { /* the guest scribbles on its record */
			unsigned off = fz_u8(&f) % 32u;
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
			if (!err)
				W.since_master = 0;
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
