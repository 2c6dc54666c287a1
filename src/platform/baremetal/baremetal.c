/* SPDX-License-Identifier: MIT */
/* Bare-metal x86-64 guest shim. Freestanding, ring 0 (RDMSR/WRMSR). */
#include <stddef.h>
#include <stdint.h>

#include <vtime/clamp.h>
#include <vtime/error.h>
#include <vtime/hyperv.h>
#include <vtime/pvclock.h>
#include <vtime/vmclock.h>

#include <vtime/arch.h>

#include "vt_atomic.h"
#include "vt_pvclock_read.h"
#include "vtime_baremetal.h"

static inline void vt_cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ __volatile__("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static void vt_bm_cpuid_insn(void *ctx, uint32_t leaf, uint32_t r[4])
{
	(void)ctx;
	vt_cpuid(leaf, &r[0], &r[1], &r[2], &r[3]);
}

static inline void vt_wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ __volatile__("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t vt_rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* The record reader's counter: ordered after the record loads before it. */
static inline uint64_t vt_bm_rdtsc_ordered(void *ctx)
{
	(void)ctx;
	return vtime_arch_counter_ordered();
}

int vtime_bm_detect_with(struct vtime_bm_features *f, vtime_bm_cpuid_fn cpuid, void *ctx)
{
	uint32_t r[4];

	if (!f)
		return VTIME_EINVAL;
	if (!cpuid)
		cpuid = vt_bm_cpuid_insn;
	f->hypervisor = f->kvm = f->clocksource2 = f->stable_advertised = false;
	f->base = 0;
	f->kvm_features = 0;
	f->hyperv = f->hv_ref_tsc = f->hv_ref_count = false;
	f->hv_base = f->hv_features = 0;
	cpuid(ctx, 1, r);
	f->hypervisor = (r[2] & VTIME_CPUID_HYPERVISOR_BIT) != 0;
	if (!f->hypervisor)
		return VTIME_ENODEV;
	/* KVM may sit at a later base when it also emulates another hypervisor
	 * (Hyper-V at 0x40000000, KVM at 0x40000100). */
	for (uint32_t base = VTIME_KVM_CPUID_BASE; base <= VTIME_KVM_CPUID_BASE_LAST; base += VTIME_KVM_CPUID_BASE_STEP) {
		cpuid(ctx, base, r);
		if (!f->kvm && r[1] == VTIME_KVM_SIGNATURE_EBX && r[2] == VTIME_KVM_SIGNATURE_ECX &&
		    r[3] == VTIME_KVM_SIGNATURE_EDX && r[0] >= base + VTIME_KVM_CPUID_FEATURES_OFF) {
			f->kvm = true;
			f->base = base;
		}
		/* Hyper-V: the vendor signature and the TLFS interface "Hv#1" */
		if (!f->hyperv && r[1] == VTIME_HV_SIGNATURE_EBX && r[2] == VTIME_HV_SIGNATURE_ECX &&
		    r[3] == VTIME_HV_SIGNATURE_EDX) {
			uint32_t max = r[0], i[4];

			cpuid(ctx, base + (VTIME_HV_CPUID_INTERFACE - VTIME_HV_CPUID_VENDOR), i);
			if (max >= base + (VTIME_HV_CPUID_INTERFACE - VTIME_HV_CPUID_VENDOR) &&
			    i[0] == VTIME_HV_INTERFACE_HV1) {
				f->hyperv = true;
				f->hv_base = base;
				if (max >= base + (VTIME_HV_CPUID_FEATURES - VTIME_HV_CPUID_VENDOR)) {
					cpuid(ctx, base + (VTIME_HV_CPUID_FEATURES - VTIME_HV_CPUID_VENDOR), i);
					f->hv_features = i[0];
				}
				f->hv_ref_tsc = (f->hv_features & VTIME_HV_ACCESS_REFERENCE_TSC) != 0;
				f->hv_ref_count = (f->hv_features & VTIME_HV_ACCESS_TIME_REF_COUNT) != 0;
			}
		}
	}
	if (!f->kvm)
		return VTIME_ENODEV;
	cpuid(ctx, f->base + VTIME_KVM_CPUID_FEATURES_OFF, r);
	f->kvm_features = r[0];
	f->clocksource2 = (r[0] & VTIME_KVM_FEATURE_CLOCKSOURCE2) != 0;
	f->stable_advertised = (r[0] & VTIME_KVM_FEATURE_CLOCKSOURCE_STABLE_BIT) != 0;
	return f->clocksource2 ? 0 : VTIME_ENODEV;
}

int vtime_bm_detect(struct vtime_bm_features *f)
{
	return vtime_bm_detect_with(f, NULL, NULL);
}

static int vt_bm_msr_register_cpu(void *ctx, unsigned cpu, uint64_t gpa)
{
	(void)ctx;
	(void)cpu;
	vt_wrmsr(VTIME_KVM_MSR_SYSTEM_TIME_NEW, gpa ? (gpa | VTIME_KVM_SYSTEM_TIME_ENABLE) : 0);
	return 0;
}

static int vt_bm_msr_register_wall(void *ctx, uint64_t gpa)
{
	(void)ctx;
	vt_wrmsr(VTIME_KVM_MSR_WALL_CLOCK_NEW, gpa);
	return 0;
}

static int vt_bm_msr_register_hv_tsc(void *ctx, uint64_t msr_value)
{
	(void)ctx;
	vt_wrmsr(VTIME_HV_X64_MSR_REFERENCE_TSC, msr_value);
	return 0;
}

static int vt_bm_msr_read_hv_ref_count(void *ctx, uint64_t *count)
{
	(void)ctx;
	*count = vt_rdmsr(VTIME_HV_X64_MSR_TIME_REF_COUNT);
	return 0;
}

int vtime_bm_init(struct vtime_bm_clock *c, const struct vtime_bm_config *cfg)
{
	if (!c || !cfg || !cfg->records || cfg->nr_cpus == 0 || (cfg->records_gpa & 3u) ||
	    ((uintptr_t)cfg->records & 3u) || (cfg->wall && (cfg->wall_gpa & 3u)) ||
	    (cfg->hv_page && ((cfg->hv_page_gpa & (VTIME_HV_TSC_PAGE_SIZE - 1)) || ((uintptr_t)cfg->hv_page & 7u))) ||
	    (cfg->vmclock && (((uintptr_t)cfg->vmclock & 7u) || cfg->vmclock_size < VTIME_VMCLOCK_ABI_SIZE)))
		return VTIME_EINVAL;
	c->cfg = *cfg;
	if (cfg->ops) {
		c->ops = *cfg->ops;
	} else {
		c->ops.register_cpu = vt_bm_msr_register_cpu;
		c->ops.register_wall = vt_bm_msr_register_wall;
		c->ops.ctx = NULL;
		c->ops.register_hv_tsc = NULL;
		c->ops.read_hv_ref_count = NULL;
	}
	/* Hyper-V hooks left NULL are the TLFS MSRs, whoever registers the records */
	if (!c->ops.register_hv_tsc)
		c->ops.register_hv_tsc = vt_bm_msr_register_hv_tsc;
	if (!c->ops.read_hv_ref_count)
		c->ops.read_hv_ref_count = vt_bm_msr_read_hv_ref_count;
	vt_store64(&c->vmclock_marker, 0);
	vt_store64(&c->vmclock_gen, 0);
	vt_store32(&c->vmclock_seq, 0);
	vt_store32(&c->vmclock_lock, 0);
	c->vmclock_primed = false;
	if (cfg->vmclock) {
		/* what the page says now is what the guest starts from: a change
		 * after init is an event, whoever reads first */
		struct vtime_vmclock_abi snap;

		if (vtime_vmclock_snapshot(cfg->vmclock, 0, &snap) == 0) {
			vt_store64(&c->vmclock_marker, snap.disruption_marker);
			vt_store64(&c->vmclock_gen, snap.vm_generation_counter);
			vt_store32(&c->vmclock_seq, snap.seq_count);
			c->vmclock_primed = true;
		}
	}
	/* Trust the stable bit only when CPUID said it is meaningful. */
	return vtime_clamp_init(&c->clamp, 0, cfg->stable_advertised ? VTIME_CLAMP_TRUST_STABLE : 0);
}

static volatile struct vtime_pvclock_vcpu_time_info *vt_bm_rec(struct vtime_bm_clock *c, unsigned cpu)
{
	return (volatile struct vtime_pvclock_vcpu_time_info *)((volatile char *)c->cfg.records +
								 (size_t)cpu * VTIME_PVCLOCK_RECORD_STRIDE);
}

int vtime_bm_cpu_register(struct vtime_bm_clock *c, unsigned cpu, bool enable)
{
	if (!c || cpu >= c->cfg.nr_cpus || !c->ops.register_cpu)
		return VTIME_EINVAL;
	return c->ops.register_cpu(c->ops.ctx, cpu,
				   enable ? c->cfg.records_gpa + (uint64_t)cpu * VTIME_PVCLOCK_RECORD_STRIDE : 0);
}

int vtime_bm_wall_register(struct vtime_bm_clock *c)
{
	if (!c || !c->cfg.wall || !c->ops.register_wall)
		return VTIME_EINVAL;
	return c->ops.register_wall(c->ops.ctx, c->cfg.wall_gpa);
}

int vtime_bm_read(struct vtime_bm_clock *c, unsigned cpu, struct vtime_bm_reading *out)
{
	volatile struct vtime_pvclock_vcpu_time_info *rec;
	struct vtime_pvclock_vcpu_time_info body;
	uint64_t tsc = 0;
	int err;

	if (!c || !out || cpu >= c->cfg.nr_cpus)
		return VTIME_EINVAL;
	rec = vt_bm_rec(c, cpu);
	err = vt_pvclock_read_window(rec, vt_bm_rdtsc_ordered, NULL, 0, &body, &tsc);
	if (err)
		return err;
	out->raw_ns = vt_pvclock_scale(&body, tsc);
	out->tsc = tsc;
	out->version = body.version;
	out->flags = body.flags;
	out->stopped = false;
	if ((body.flags & VTIME_PVCLOCK_GUEST_STOPPED) && vtime_pvclock_consume_stopped(rec)) {
		out->stopped = true;
		/* After a pause or restore the wall record may be stale: ask for
		 * a fresh one (written only on request). */
		if (c->cfg.wall && c->ops.register_wall)
			(void)c->ops.register_wall(c->ops.ctx, c->cfg.wall_gpa);
		if (c->cfg.on_stopped)
			c->cfg.on_stopped(c->cfg.stopped_ctx, cpu);
	}
	/* Skip the clamp's write only when the bit is both advertised (trusted at
	 * init) and set in this reading; a stable read still never goes below an
	 * earlier clamped one. */
	if (!c->cfg.clamp)
		out->ns = vtime_clamp_apply_stable(&c->clamp, out->raw_ns,
						   (body.flags & VTIME_PVCLOCK_TSC_STABLE) != 0);
	else if (c->cfg.stable_advertised && (body.flags & VTIME_PVCLOCK_TSC_STABLE))
		out->ns = out->raw_ns;
	else
		out->ns = c->cfg.clamp(c->cfg.clamp_ctx, out->raw_ns);
	return 0;
}

int vtime_bm_now(struct vtime_bm_clock *c, unsigned cpu, uint64_t *ns)
{
	struct vtime_bm_reading r;
	int err;

	if (!ns)
		return VTIME_EINVAL;
	err = vtime_bm_read(c, cpu, &r);
	if (!err)
		*ns = r.ns;
	return err;
}

int vtime_bm_wall_now(struct vtime_bm_clock *c, unsigned cpu, uint64_t *ns)
{
	uint32_t sec, nsec;
	uint64_t now;
	int err;

	if (!c || !ns || !c->cfg.wall)
		return VTIME_EINVAL;
	if ((err = vtime_pvclock_wall_read(c->cfg.wall, 0, &sec, &nsec)))
		return err;
	if ((err = vtime_bm_now(c, cpu, &now)))
		return err;
	*ns = vtime_pvclock_wall_ns(sec, nsec, now);
	return 0;
}

/* ---- Hyper-V reference TSC page ---- */

int vtime_bm_hv_register(struct vtime_bm_clock *c, bool enable)
{
	if (!c || !c->cfg.hv_page)
		return VTIME_EINVAL;
	return c->ops.register_hv_tsc(c->ops.ctx, enable ? (c->cfg.hv_page_gpa & ~(uint64_t)(VTIME_HV_TSC_PAGE_SIZE - 1)) |
							     VTIME_HV_MSR_REFERENCE_TSC_ENABLE
						       : 0);
}

int vtime_bm_hv_read(struct vtime_bm_clock *c, struct vtime_bm_hv_reading *out)
{
	const struct vtime_counter ctr = { vt_bm_rdtsc_ordered, NULL };
	struct vtime_hv_tsc_reading r;
	uint64_t count = 0;
	int err;

	if (!c || !out || !c->cfg.hv_page)
		return VTIME_EINVAL;
	err = vtime_hv_tsc_page_read(c->cfg.hv_page, &ctr, 0, &r);
	if (err == 0) {
		out->time = r.time;
		out->tsc = r.tsc;
		out->sequence = r.sequence;
		out->from_msr = false;
		return 0;
	}
	if (err != VTIME_ENOTVALID)
		return err;
	/* invalid (or being rewritten): the TLFS fallback */
	if ((err = c->ops.read_hv_ref_count(c->ops.ctx, &count)))
		return err;
	out->time = count;
	out->tsc = 0;
	out->sequence = 0;
	out->from_msr = true;
	return 0;
}

/* ---- VMClock ---- */

/* Notes what a read (or snapshot) of seq_count seq saw: an event when it is
 * newer than what was noted last and its marker differs, once for every
 * CPU. The fast path is two loads; the lock (a CAS, and a CAS to release
 * it: full barriers, no barrier of its own) only when something differs. */
static void vt_bm_vmclock_note(struct vtime_bm_clock *c, unsigned cpu, uint32_t seq, uint64_t marker, uint64_t gen,
			       struct vtime_bm_vmclock_reading *out)
{
	uint32_t unlocked = 0, held = 1;

	out->disrupted = out->new_generation = false;
	if (c->vmclock_primed && vt_load64(&c->vmclock_marker) == marker && vt_load64(&c->vmclock_gen) == gen)
		return; /* a torn pair of loads only takes the locked path below */
	while (!vt_cas32(&c->vmclock_lock, &unlocked, 1)) {
		unlocked = 0;
		vt_cpu_relax();
	}
	if (!c->vmclock_primed) {
		c->vmclock_primed = true; /* the first read primes what was seen */
	} else if ((int32_t)(seq - vt_load32(&c->vmclock_seq)) > 0) {
		if (marker != vt_load64(&c->vmclock_marker)) {
			out->disrupted = true;
			out->new_generation = gen != vt_load64(&c->vmclock_gen);
			if (c->cfg.on_disrupted)
				c->cfg.on_disrupted(c->cfg.disrupted_ctx, cpu, marker, gen, out->new_generation);
		}
	} else {
		(void)vt_cas32(&c->vmclock_lock, &held, 0); /* an older copy than the last noted */
		return;
	}
	vt_store64(&c->vmclock_marker, marker);
	vt_store64(&c->vmclock_gen, gen);
	vt_store32(&c->vmclock_seq, seq);
	(void)vt_cas32(&c->vmclock_lock, &held, 0);
}

int vtime_bm_vmclock_read(struct vtime_bm_clock *c, unsigned cpu, struct vtime_bm_vmclock_reading *out)
{
	const struct vtime_counter ctr = { vt_bm_rdtsc_ordered, NULL };
	struct vtime_vmclock_abi snap;
	int err, serr;

	if (!c || !out || !c->cfg.vmclock || cpu >= c->cfg.nr_cpus)
		return VTIME_EINVAL;
	err = vtime_vmclock_read(c->cfg.vmclock, &ctr, 0, &out->r);
	if (err == 0) {
		vt_bm_vmclock_note(c, cpu, out->r.seq, out->r.disruption_marker, out->r.vm_generation_counter, out);
		return 0;
	}
	/* no time on this page (marker-only, unreliable...): still watch the marker */
	out->disrupted = out->new_generation = false;
	serr = vtime_vmclock_snapshot(c->cfg.vmclock, 0, &snap);
	if (serr == 0) {
		struct vtime_vmclock_reading z = { 0 };

		z.disruption_marker = snap.disruption_marker;
		z.vm_generation_counter = snap.vm_generation_counter;
		z.flags = snap.flags;
		z.seq = snap.seq_count;
		z.clock_status = snap.clock_status;
		z.counter_id = snap.counter_id;
		z.time_type = snap.time_type;
		out->r = z;
		vt_bm_vmclock_note(c, cpu, snap.seq_count, snap.disruption_marker, snap.vm_generation_counter, out);
	}
	return err;
}
