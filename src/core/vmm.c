/* SPDX-License-Identifier: MIT */
/* Host/VMM clock state: see include/vtime/vmm.h. Freestanding, no floats. */
#include <vtime/error.h>
#include <vtime/hyperv.h>
#include <vtime/pvclock.h>
#include <vtime/scale.h>
#include <vtime/tsc.h>
#include <vtime/vmclock.h>
#include <vtime/vmm.h>

#include "vt_atomic.h"
#include "vt_endian.h"
#include "vt_math.h"
#include "vt_state.h"
#include "vt_vmclock.h"

#define VT_VMM_DEFAULT_TOLERANCE_PPM 250u
#define VT_VMM_NSEC 1000000000ull

/* Scale a signed counter delta: negative deltas scale their magnitude. */
static uint64_t vt_scale_signed(const struct vtime_scale *s, uint64_t base, uint64_t from, uint64_t to)
{
	uint64_t d = to - from;
	if ((int64_t)d >= 0)
		return base + vtime_scale_apply(s, d);
	return base - vtime_scale_apply(s, from - to);
}

uint64_t vtime_vmm_clock(const struct vtime_vmm *vm, uint64_t host_tsc)
{
	return vt_scale_signed(&vm->host_to_ns, vm->master_ns, vm->master_tsc, host_tsc);
}

/* Guest TSC before the per-vCPU offset. */
static uint64_t vt_vmm_base(const struct vtime_vmm *vm, uint64_t host_tsc)
{
	switch (vm->mode) {
	case VTIME_VMM_TSC_SCALED:
		return vtime_tsc_ratio_apply(host_tsc, vm->ratio, vm->frac_bits);
	case VTIME_VMM_TSC_EMULATED:
		/* Guest cycles at the virtual rate since the master reference. */
		return vt_scale_signed(&vm->ns_to_guest, vm->master_emu, vm->master_ns,
				       vtime_vmm_clock(vm, host_tsc));
	default:
		return host_tsc;
	}
}

/* Moves the master reference to now keeping kvmclock and the emulated base
 * continuous, then sets kvmclock at now to ns. */
static void vt_vmm_anchor(struct vtime_vmm *vm, uint64_t host_tsc, uint64_t ns)
{
	uint64_t emu = vt_vmm_base(vm, host_tsc);

	if (vm->mode == VTIME_VMM_TSC_EMULATED)
		vm->master_emu = emu;
	vm->master_tsc = host_tsc;
	vm->master_ns = ns;
}

static bool vt_within_ppm(uint64_t a, uint64_t b, uint32_t ppm)
{
	uint64_t diff = a > b ? a - b : b - a;
	struct vt_u128 lhs = vt_mul64(diff, 1000000u), rhs = vt_mul64(b, ppm);

	return lhs.hi < rhs.hi || (lhs.hi == rhs.hi && lhs.lo <= rhs.lo);
}

/* The VM's realtime view follows the host's realtime from now on:
 * realtime = rt_offset_ns + kvmclock. */
static void vt_vmm_rt_sync(struct vtime_vmm *vm, const struct vtime_vmm_now *now)
{
	vm->rt_offset_ns = now->realtime_ns - vtime_vmm_clock(vm, now->host_tsc);
}

static void vt_vmm_pages_init(struct vtime_vmm *vm, const struct vtime_vmm_now *now)
{
	static const struct vtime_vmclock_abi zero;

	vt_vmm_rt_sync(vm, now);
	vm->vmclock = (volatile struct vtime_vmclock_abi *)0;
	vm->vmclock_body = zero;
	vm->vmclock_body.clock_status = VTIME_VMCLOCK_STATUS_UNKNOWN;
	for (unsigned i = 0; i < 4; i++)
		vm->vmclock_err[i] = VTIME_VMCLOCK_UNKNOWN;
	vm->vmclock_sync_ns = now->host_ns;
	vm->vmclock_disruption = 0;
	vm->vmclock_floor[0] = vm->vmclock_floor[1] = 0;
	vm->vmclock_events = 0;
	vm->vmclock_floor_pending = false;
	vm->hv_valid = false;
	vm->hv_seq = 0;
	vm->hv_page = (volatile struct vtime_hv_tsc_page *)0;
	vm->hv_scale = 0;
	vm->hv_offset = 0;
}

int vtime_vmm_init(struct vtime_vmm *vm, const struct vtime_vmm_config *cfg, const struct vtime_vmm_now *now)
{
	uint64_t guest_hz, pub_hz;
	uint32_t mode;
	uint32_t tol;
	int err;

	if (!vm || !cfg || !now || cfg->host_hz == 0 || cfg->mode > VTIME_VMM_TSC_EMULATED ||
	    !vt_zero64(cfg->reserved, sizeof cfg->reserved / sizeof cfg->reserved[0]))
		return VTIME_EINVAL;
	guest_hz = cfg->guest_hz ? cfg->guest_hz : cfg->host_hz;
	tol = cfg->tolerance_ppm ? cfg->tolerance_ppm : VT_VMM_DEFAULT_TOLERANCE_PPM;
	mode = cfg->mode;
	if (mode == VTIME_VMM_TSC_AUTO) {
		if (vt_within_ppm(guest_hz, cfg->host_hz, tol))
			mode = VTIME_VMM_TSC_NATIVE;
		else if (cfg->hw_scaling)
			mode = VTIME_VMM_TSC_SCALED;
		else if (guest_hz > cfg->host_hz)
			mode = VTIME_VMM_TSC_CATCHUP;
		else
			mode = VTIME_VMM_TSC_EMULATED;
	}
	if (mode == VTIME_VMM_TSC_SCALED && !cfg->hw_scaling)
		return VTIME_ENOTSUP;
	if (mode == VTIME_VMM_TSC_CATCHUP && guest_hz < cfg->host_hz)
		return VTIME_EINVAL; /* catch-up can only move the TSC forward */
	vm->host_hz = cfg->host_hz;
	vm->guest_hz = guest_hz;
	vm->mode = mode;
	vm->frac_bits = cfg->frac_bits ? cfg->frac_bits : VTIME_TSC_FRAC_BITS_VMX;
	vm->ratio = vtime_tsc_ratio_default(vm->frac_bits);
	pub_hz = guest_hz;
	if (mode == VTIME_VMM_TSC_NATIVE) {
		pub_hz = cfg->host_hz; /* the guest TSC really runs at the host rate */
	} else if (mode == VTIME_VMM_TSC_SCALED) {
		if ((err = vtime_tsc_ratio_init(&vm->ratio, vt_div64(guest_hz, 1000u), vt_div64(cfg->host_hz, 1000u), vm->frac_bits)))
			return err;
		pub_hz = vtime_tsc_ratio_apply(cfg->host_hz, vm->ratio, vm->frac_bits);
	}
	if ((err = vtime_scale_init(&vm->host_to_ns, cfg->host_hz, VTIME_NSEC_PER_SEC)) ||
	    (err = vtime_scale_init(&vm->guest_to_ns, pub_hz, VTIME_NSEC_PER_SEC)) ||
	    (err = vtime_scale_init(&vm->ns_to_guest, VTIME_NSEC_PER_SEC, pub_hz)))
		return err;
	/* The records carry guest_to_ns: a shift the readers reject would make
	 * every record "corrupt" to the guest. */
	if (vm->guest_to_ns.shift < VTIME_PVCLOCK_SHIFT_MIN || vm->guest_to_ns.shift > VTIME_PVCLOCK_SHIFT_MAX)
		return VTIME_ERANGE;
	vm->master_tsc = now->host_tsc;
	vm->master_ns = 0; /* a new VM's kvmclock starts at 0 */
	vm->master_emu = 0;
	vm->last_tsc_write = 0;
	vm->last_tsc_ns = now->host_ns;
	vm->last_tsc_hz = 0; /* the first write always starts a generation */
	vm->cur_tsc_offset = vm->cur_tsc_write = vm->cur_tsc_ns = 0;
	vm->cur_gen = 0;
	vm->nr_in_gen = vm->nr_vcpus = 0;
	vm->vcpus = (struct vtime_vmm_vcpu *)0;
	vt_store64(&vm->emu_last, 0);
	vm->paused = false;
	vm->pause_ns = vm->restore_elapsed_ns = 0;
	for (unsigned i = 0; i < sizeof vm->reserved / sizeof vm->reserved[0]; i++)
		vm->reserved[i] = 0;
	vt_vmm_pages_init(vm, now);
	return 0;
}

int vtime_vmm_set_clock(struct vtime_vmm *vm, const struct vtime_vmm_now *now, uint64_t ns)
{
	if (!vm || !now)
		return VTIME_EINVAL;
	vt_vmm_anchor(vm, now->host_tsc, ns);
	vt_vmm_rt_sync(vm, now); /* the VM's realtime does not step with kvmclock */
	return 0;
}

int vtime_vmm_update_master(struct vtime_vmm *vm, const struct vtime_vmm_now *now)
{
	if (!vm || !now)
		return VTIME_EINVAL;
	vt_vmm_anchor(vm, now->host_tsc, vtime_vmm_clock(vm, now->host_tsc));
	return 0;
}

int vtime_vmm_vcpu_init(struct vtime_vmm *vm, struct vtime_vmm_vcpu *vcpu)
{
	if (!vm || !vcpu)
		return VTIME_EINVAL;
	vcpu->vm = vm;
	vcpu->tsc_offset = 0;
	vcpu->this_write = vcpu->this_ns = 0;
	vcpu->gen = 0;
	vcpu->written = vcpu->stop_request = vcpu->min_pending = false;
	vcpu->min_version = 0;
	vcpu->rec = (volatile struct vtime_pvclock_vcpu_time_info *)0;
	for (unsigned i = 0; i < sizeof vcpu->reserved / sizeof vcpu->reserved[0]; i++)
		vcpu->reserved[i] = 0;
	vcpu->next = vm->vcpus;
	vm->vcpus = vcpu;
	vm->nr_vcpus++;
	return 0;
}

int vtime_vmm_vcpu_set_record(struct vtime_vmm_vcpu *vcpu, volatile struct vtime_pvclock_vcpu_time_info *rec)
{
	if (!vcpu)
		return VTIME_EINVAL;
	vcpu->rec = rec;
	return 0;
}

/* Bookkeeping shared by TSC writes and adoptions (KVM's generation tracking):
 * a synchronised vCPU joins the current generation, anything else opens one. */
static void vt_vmm_commit_tsc(struct vtime_vmm_vcpu *vcpu, uint64_t value, uint64_t offset, bool sync,
			      const struct vtime_vmm_now *now)
{
	struct vtime_vmm *vm = vcpu->vm;

	if (!sync) {
		vm->cur_gen++;
		vm->cur_tsc_offset = offset;
		vm->cur_tsc_write = value;
		vm->cur_tsc_ns = vtime_vmm_clock(vm, now->host_tsc);
		vm->nr_in_gen = 1; /* this vCPU opened it */
	} else if (!vcpu->written || vcpu->gen != vm->cur_gen) {
		vm->nr_in_gen++; /* joins it (counted once: its gen is now cur_gen) */
	}
	vm->last_tsc_ns = now->host_ns;
	vm->last_tsc_write = value;
	vm->last_tsc_hz = vm->guest_hz;
	vcpu->tsc_offset = offset;
	vcpu->gen = vm->cur_gen;
	vcpu->this_write = vm->cur_tsc_write;
	vcpu->this_ns = vm->cur_tsc_ns;
	vcpu->written = true;
}

int vtime_vmm_vcpu_write_tsc(struct vtime_vmm_vcpu *vcpu, uint64_t value, const struct vtime_vmm_now *now,
			     bool host_initiated, bool *synced)
{
	struct vtime_vmm *vm;
	uint64_t elapsed, offset;
	bool sync = false;

	if (!vcpu || !vcpu->vm || !now)
		return VTIME_EINVAL;
	vm = vcpu->vm;
	offset = value - vt_vmm_base(vm, now->host_tsc);
	elapsed = now->host_ns - vm->last_tsc_ns;
	if (value == 0 && host_initiated) {
		sync = true; /* vCPU creation/reset: join the others */
	} else {
		/* Within +-1 s (in guest cycles) of the last write extrapolated to now. */
		uint64_t exp = vm->last_tsc_write + vtime_scale_apply(&vm->ns_to_guest, elapsed);
		sync = value < exp + vm->guest_hz && value + vm->guest_hz > exp;
	}
	sync = sync && vm->last_tsc_hz == vm->guest_hz;
	if (sync)
		offset = vm->cur_tsc_offset;
	vt_vmm_commit_tsc(vcpu, value, offset, sync, now);
	if (synced)
		*synced = sync;
	return 0;
}

int vtime_vmm_vcpu_adopt_offset(struct vtime_vmm_vcpu *vcpu, uint64_t offset, const struct vtime_vmm_now *now,
				bool *synced)
{
	struct vtime_vmm *vm;
	bool same;

	if (!vcpu || !vcpu->vm || !now)
		return VTIME_EINVAL;
	vm = vcpu->vm;
	same = vm->last_tsc_hz == vm->guest_hz && offset == vm->cur_tsc_offset;
	vt_vmm_commit_tsc(vcpu, vt_vmm_base(vm, now->host_tsc) + offset, offset, same, now);
	if (synced)
		*synced = same;
	return 0;
}

uint64_t vtime_vmm_vcpu_tsc(const struct vtime_vmm_vcpu *vcpu, uint64_t host_tsc)
{
	return vt_vmm_base(vcpu->vm, host_tsc) + vcpu->tsc_offset;
}

uint64_t vtime_vmm_vcpu_rdtsc(struct vtime_vmm_vcpu *vcpu, uint64_t host_tsc)
{
	struct vtime_vmm *vm = vcpu->vm;
	uint64_t base = vt_vmm_base(vm, host_tsc), seen;

	if (vm->mode != VTIME_VMM_TSC_EMULATED)
		return base + vcpu->tsc_offset;
	/* One VM-wide high-water mark on the base: vCPUs sharing an offset never
	 * see the TSC go backwards, whatever host CPU computed it. */
	seen = vt_load64(&vm->emu_last);
	for (;;) {
		/* serial order: also right when the guest cycles pass 2^64 */
		if ((int64_t)(base - seen) <= 0) {
			base = seen;
			break;
		}
		if (vt_cas64(&vm->emu_last, &seen, base))
			break;
	}
	return base + vcpu->tsc_offset;
}

bool vtime_vmm_stable(const struct vtime_vmm *vm)
{
	/* nr_in_gen counts distinct vCPUs (each joins once per generation), so
	 * equality means every vCPU is written and in the current generation */
	return vm->mode != VTIME_VMM_TSC_CATCHUP && vm->nr_vcpus != 0 && vm->nr_in_gen == vm->nr_vcpus;
}

/* What every record of the VM shares at now (computed once per publish_all). */
struct vt_vmm_common {
	uint64_t base_at_master; /* guest TSC before offsets at the master reference */
	uint64_t ns;             /* kvmclock at now (catch-up) */
	uint8_t flags;
};

static void vt_vmm_common(const struct vtime_vmm *vm, const struct vtime_vmm_now *now, struct vt_vmm_common *c)
{
	c->flags = vtime_vmm_stable(vm) ? VTIME_PVCLOCK_TSC_STABLE : 0;
	if (vm->mode == VTIME_VMM_TSC_CATCHUP) {
		c->ns = vtime_vmm_clock(vm, now->host_tsc);
		c->base_at_master = 0;
	} else {
		c->ns = 0;
		c->base_at_master = vt_vmm_base(vm, vm->master_tsc);
	}
}

static void vt_vmm_fill(struct vtime_vmm_vcpu *vcpu, const struct vtime_vmm_now *now, const struct vt_vmm_common *c,
			struct vtime_pvclock_vcpu_time_info *body)
{
	const struct vtime_vmm *vm = vcpu->vm;

	body->version = 0;
	body->pad0 = 0;
	body->pad[0] = body->pad[1] = 0;
	body->tsc_to_system_mul = vm->guest_to_ns.mul;
	body->tsc_shift = vm->guest_to_ns.shift;
	body->flags = c->flags;
	if (vm->mode == VTIME_VMM_TSC_CATCHUP) {
		/* Where the guest TSC should be at now, at the virtual rate. */
		uint64_t target = vcpu->this_write + vtime_scale_apply(&vm->ns_to_guest, c->ns - vcpu->this_ns);
		uint64_t cur = now->host_tsc + vcpu->tsc_offset;

		if ((int64_t)(target - cur) > 0)
			vcpu->tsc_offset += target - cur; /* forward only */
		body->tsc_timestamp = now->host_tsc + vcpu->tsc_offset;
		body->system_time = c->ns;
		return;
	}
	body->tsc_timestamp = c->base_at_master + vcpu->tsc_offset;
	body->system_time = vm->master_ns;
}

int vtime_vmm_vcpu_compute(struct vtime_vmm_vcpu *vcpu, const struct vtime_vmm_now *now,
			   struct vtime_pvclock_vcpu_time_info *body)
{
	struct vt_vmm_common c;

	if (!vcpu || !vcpu->vm || !now || !body)
		return VTIME_EINVAL;
	if (!vcpu->written)
		return VTIME_ESTATE;
	vt_vmm_common(vcpu->vm, now, &c);
	vt_vmm_fill(vcpu, now, &c, body);
	return 0;
}

/* A record version the first publish after a restore must not continue
 * from: anything but the floor itself or a little less than 2^31 past it.
 * Then the version published next lies 2 to 2^31 - 1 after the saved one
 * (serially after it, also when the memory holds junk). */
static bool vt_vmm_behind_floor(uint32_t page, uint32_t floor)
{
	return (uint32_t)(page - floor) > 0x7ffffff0u;
}

/* Writes body (flags without GUEST_STOPPED) into vcpu's record. */
static uint32_t vt_vmm_publish_body(struct vtime_vmm_vcpu *vcpu, struct vtime_pvclock_vcpu_time_info *body)
{
	if (vcpu->stop_request)
		body->flags |= VTIME_PVCLOCK_GUEST_STOPPED;
	/* First publish after a restore onto memory that lost the record (its
	 * version behind the saved one): continue above the versions the guest
	 * has seen. Once only: from then on the record itself carries the
	 * versions forward, and a comparison kept for longer would flip after
	 * 2^31 versions and rewind the record to one already published. */
	if (vcpu->min_pending) {
		if (vt_vmm_behind_floor(vt_le32(vt_load32(&vcpu->rec->version)), vcpu->min_version))
			vt_store32(&vcpu->rec->version, vt_le32(vcpu->min_version));
		vcpu->min_pending = false;
	}
	vcpu->stop_request = false;
	return vtime_pvclock_publish(vcpu->rec, body);
}

int vtime_vmm_vcpu_publish(struct vtime_vmm_vcpu *vcpu, const struct vtime_vmm_now *now, uint32_t *version)
{
	uint32_t v;
	struct vtime_pvclock_vcpu_time_info body;
	int err;

	if (!vcpu || !now)
		return VTIME_EINVAL;
	if (!vcpu->rec)
		return VTIME_ENODEV;
	if ((err = vtime_vmm_vcpu_compute(vcpu, now, &body)))
		return err;
	v = vt_vmm_publish_body(vcpu, &body);
	if (version)
		*version = v;
	return 0;
}

/* ---- the VM-wide pages ---- */

/* The record every vCPU of the current TSC generation carries (all of them
 * when the VM is stable), without GUEST_STOPPED. */
static void vt_vmm_vm_record(const struct vtime_vmm *vm, const struct vt_vmm_common *c,
			     struct vtime_pvclock_vcpu_time_info *rec)
{
	rec->version = 0;
	rec->pad0 = 0;
	rec->pad[0] = rec->pad[1] = 0;
	rec->tsc_to_system_mul = vm->guest_to_ns.mul;
	rec->tsc_shift = vm->guest_to_ns.shift;
	rec->flags = c->flags;
	rec->tsc_timestamp = c->base_at_master + vm->cur_tsc_offset;
	rec->system_time = vm->master_ns;
}

/* The records' rate as a VMClock period: ns per tick = mul * 2^shift / 2^32,
 * so period = floor(mul * 2^(32 + shift + s) / 10^9) in 2^-(64 + s) s, with
 * the largest s that keeps it in 64 bits (the product's high half below
 * 10^9). shift >= VTIME_PVCLOCK_SHIFT_MIN (init refuses less): 32 + shift
 * >= 20, and s = 0 always fits (mul << 52 < 2^84). */
static void vt_vmm_vmclock_period(const struct vtime_vmm *vm, struct vtime_vmclock_abi *b)
{
	struct vt_u128 m = { 0, vm->guest_to_ns.mul };
	unsigned e = (unsigned)(32 + vm->guest_to_ns.shift), s = 0;
	uint64_t period = 0;

	while (e + s + 1 < 128 && vt_shl128(m, e + s + 1).hi < VT_VMM_NSEC)
		s++;
	(void)vt_div128(vt_shl128(m, e + s), VT_VMM_NSEC, &period, (uint64_t *)0);
	b->counter_period_shift = (uint8_t)s;
	b->counter_period_frac_sec = period;
}

/* ceil(a * ppb / 10^9), saturating (ppb <= 10^9 keeps it <= a). */
static uint64_t vt_vmm_ppb(uint64_t a, uint64_t ppb)
{
	uint64_t q = 0, r = 0;

	if (!vt_div128(vt_mul64(a, ppb), VT_VMM_NSEC, &q, &r))
		return UINT64_MAX;
	return q + (r != 0 && q != UINT64_MAX);
}

static uint64_t vt_vmm_sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static uint32_t vt_vmm_vmclock_write(struct vtime_vmm *vm, const struct vtime_vmm_now *now,
				     const struct vt_vmm_common *c)
{
	struct vtime_vmclock_abi b = vm->vmclock_body;
	uint64_t counter, ns, t, sec, err[2], since;
	uint32_t seq;

	vt_vmm_vmclock_period(vm, &b);
	b.flags &= ~(VTIME_VMCLOCK_FLAG_PERIOD_MAXERROR_VALID | VTIME_VMCLOCK_FLAG_PERIOD_ESTERROR_VALID);
	b.counter_period_maxerror_rate_frac_sec = b.counter_period_esterror_rate_frac_sec = 0;
	if (vm->vmclock_err[2] != VTIME_VMCLOCK_UNKNOWN) {
		b.counter_period_maxerror_rate_frac_sec = vt_vmm_ppb(b.counter_period_frac_sec, vm->vmclock_err[2]);
		b.flags |= VTIME_VMCLOCK_FLAG_PERIOD_MAXERROR_VALID;
	}
	if (vm->vmclock_err[3] != VTIME_VMCLOCK_UNKNOWN) {
		b.counter_period_esterror_rate_frac_sec = vt_vmm_ppb(b.counter_period_frac_sec, vm->vmclock_err[3]);
		b.flags |= VTIME_VMCLOCK_FLAG_PERIOD_ESTERROR_VALID;
	}
	/* the stated errors grown by the rate over the host ns since the sync */
	since = (int64_t)(now->host_ns - vm->vmclock_sync_ns) > 0 ? now->host_ns - vm->vmclock_sync_ns : 0;
	for (unsigned i = 0; i < 2; i++) {
		err[i] = vm->vmclock_err[i];
		if (err[i] != VTIME_VMCLOCK_UNKNOWN && vm->vmclock_err[2 + i] != VTIME_VMCLOCK_UNKNOWN)
			err[i] = vt_vmm_sat_add(err[i], vt_vmm_ppb(since, vm->vmclock_err[2 + i])); /* saturated: UNKNOWN */
	}
	if (vm->mode == VTIME_VMM_TSC_CATCHUP) {
		counter = now->host_tsc + vm->cur_tsc_offset; /* UNRELIABLE below: never stable */
		ns = c->ns;
	} else {
		counter = c->base_at_master + vm->cur_tsc_offset;
		ns = vm->master_ns;
	}
	t = vm->rt_offset_ns + ns;
	sec = vt_div64(t, VT_VMM_NSEC);
	(void)vtime_vmclock_set_time(&b, counter, sec, (uint32_t)(t - sec * VT_VMM_NSEC), err[0], err[1]);
	b.flags |= vm->vmclock_disruption | VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT;
	if (!(c->flags & VTIME_PVCLOCK_TSC_STABLE))
		b.clock_status = VTIME_VMCLOCK_STATUS_UNRELIABLE; /* the vCPUs do not share one TSC */
	seq = vt_vmclock_publish_floor(vm->vmclock, &b, vm->vmclock_events,
				       vm->vmclock_floor_pending ? vm->vmclock_floor : (const uint64_t *)0);
	vm->vmclock_events = 0;
	vm->vmclock_floor_pending = false;
	return seq;
}

static uint32_t vt_vmm_hv_write(struct vtime_vmm *vm, const struct vt_vmm_common *c)
{
	struct vtime_pvclock_vcpu_time_info rec;
	uint64_t scale;
	int64_t offset;

	vt_vmm_vm_record(vm, c, &rec);
	if (vtime_hv_tsc_page_from_pvclock(&rec, &scale, &offset) != 0) {
		/* KVM publishes no page for this record: guests use the MSR */
		vm->hv_seq = vtime_hv_tsc_page_invalidate(vm->hv_page, vm->hv_seq);
		vm->hv_valid = false;
		return 0;
	}
	vm->hv_seq = vtime_hv_tsc_page_publish(vm->hv_page, scale, offset, vm->hv_seq);
	vm->hv_scale = scale;
	vm->hv_offset = offset;
	vm->hv_valid = true;
	return vm->hv_seq;
}

int vtime_vmm_vmclock_set_page(struct vtime_vmm *vm, volatile struct vtime_vmclock_abi *page, uint32_t size)
{
	int err;

	if (!vm)
		return VTIME_EINVAL;
	if (!page) {
		vm->vmclock = page;
		return 0;
	}
	if (size < VTIME_VMCLOCK_ABI_SIZE || ((uintptr_t)page & 7u))
		return VTIME_EINVAL;
	err = vtime_vmclock_check(page, size);
	if (err == VTIME_ENODEV) {
		(void)vtime_vmclock_init(page, size, VTIME_VMCLOCK_COUNTER_X86_TSC, VTIME_VMCLOCK_TIME_UTC);
	} else if (err || vt_load8(&page->counter_id) != VTIME_VMCLOCK_COUNTER_X86_TSC ||
		   vt_load8(&page->time_type) != VTIME_VMCLOCK_TIME_UTC) {
		return VTIME_EPROTO; /* another layout: re-initialising it would lose its markers */
	}
	vm->vmclock = page;
	return 0;
}

int vtime_vmm_vmclock_sync(struct vtime_vmm *vm, const struct vtime_vmm_now *now,
			   const struct vtime_vmm_vmclock_status *st)
{
	const uint64_t flags = VTIME_VMCLOCK_FLAG_TAI_OFFSET_VALID | VTIME_VMCLOCK_FLAG_NOTIFICATION_PRESENT;

	if (!vm || !now)
		return VTIME_EINVAL;
	if (st) {
		if (st->clock_status > VTIME_VMCLOCK_STATUS_UNRELIABLE || st->leap_indicator > VTIME_VMCLOCK_LEAP_POST_NEG ||
		    (st->flags & ~flags) || st->pad[0] || st->pad[1] || st->pad[2] || st->pad[3] ||
		    (st->period_maxerror_ppb > VT_VMM_NSEC && st->period_maxerror_ppb != VTIME_VMCLOCK_UNKNOWN) ||
		    (st->period_esterror_ppb > VT_VMM_NSEC && st->period_esterror_ppb != VTIME_VMCLOCK_UNKNOWN))
			return VTIME_EINVAL;
		vm->vmclock_body.clock_status = st->clock_status;
		vm->vmclock_body.leap_indicator = st->leap_indicator;
		vm->vmclock_body.tai_offset_sec = st->tai_offset_sec;
		vm->vmclock_body.flags = st->flags;
		vm->vmclock_err[0] = st->time_maxerror_ns;
		vm->vmclock_err[1] = st->time_esterror_ns;
		vm->vmclock_err[2] = st->period_maxerror_ppb;
		vm->vmclock_err[3] = st->period_esterror_ppb;
		vm->vmclock_sync_ns = now->host_ns;
	}
	vt_vmm_rt_sync(vm, now);
	return 0;
}

int vtime_vmm_vmclock_set_disruption(struct vtime_vmm *vm, uint64_t flags)
{
	if (!vm || (flags & ~(VTIME_VMCLOCK_FLAG_DISRUPTION_SOON | VTIME_VMCLOCK_FLAG_DISRUPTION_IMMINENT)))
		return VTIME_EINVAL;
	vm->vmclock_disruption = flags;
	return 0;
}

int vtime_vmm_vmclock_publish(struct vtime_vmm *vm, const struct vtime_vmm_now *now, uint32_t *seq)
{
	struct vt_vmm_common c;
	uint32_t v;

	if (!vm || !now)
		return VTIME_EINVAL;
	if (!vm->vmclock)
		return VTIME_ENODEV;
	vt_vmm_common(vm, now, &c);
	v = vt_vmm_vmclock_write(vm, now, &c);
	if (seq)
		*seq = v;
	return 0;
}

int vtime_vmm_hv_set_page(struct vtime_vmm *vm, volatile struct vtime_hv_tsc_page *page)
{
	if (!vm || ((uintptr_t)page & 7u))
		return VTIME_EINVAL;
	if (page != vm->hv_page)
		vm->hv_valid = false; /* nothing published on this page yet */
	vm->hv_page = page;
	return 0;
}

int vtime_vmm_hv_publish(struct vtime_vmm *vm, const struct vtime_vmm_now *now, uint32_t *sequence)
{
	struct vt_vmm_common c;
	uint32_t v;

	if (!vm || !now)
		return VTIME_EINVAL;
	if (!vm->hv_page)
		return VTIME_ENODEV;
	vt_vmm_common(vm, now, &c);
	v = vt_vmm_hv_write(vm, &c);
	if (sequence)
		*sequence = v;
	return 0;
}

uint64_t vtime_vmm_hv_ref_count(const struct vtime_vmm *vm, uint64_t host_tsc)
{
	/* KVM: through the page while it is valid (the guest's TSC of the
	 * shared generation), else the VM clock in 100 ns units */
	if (vm->hv_page && vm->hv_valid)
		return vtime_hv_tsc_page_time(vm->hv_scale, vm->hv_offset, vt_vmm_base(vm, host_tsc) + vm->cur_tsc_offset);
	return vt_div64(vtime_vmm_clock(vm, host_tsc), 100u);
}

int vtime_vmm_publish_all(struct vtime_vmm *vm, const struct vtime_vmm_now *now)
{
	struct vt_vmm_common c;

	if (!vm || !now)
		return VTIME_EINVAL;
	vt_vmm_common(vm, now, &c);
	for (struct vtime_vmm_vcpu *v = vm->vcpus; v; v = v->next) {
		struct vtime_pvclock_vcpu_time_info body;

		if (!v->rec)
			continue;
		if (!v->written)
			return VTIME_ESTATE;
		vt_vmm_fill(v, now, &c, &body);
		(void)vt_vmm_publish_body(v, &body);
	}
	if (vm->vmclock)
		(void)vt_vmm_vmclock_write(vm, now, &c);
	if (vm->hv_page)
		(void)vt_vmm_hv_write(vm, &c);
	return 0;
}

int vtime_vmm_wall(const struct vtime_vmm *vm, const struct vtime_vmm_now *now, uint32_t *sec, uint32_t *nsec)
{
	uint64_t k, wall, s;

	if (!vm || !now || !sec || !nsec)
		return VTIME_EINVAL;
	k = vtime_vmm_clock(vm, now->host_tsc);
	wall = now->realtime_ns > k ? now->realtime_ns - k : 0;
	s = vt_div64(wall, VTIME_NSEC_PER_SEC);
	*sec = (uint32_t)s; /* the ABI's u32: wraps in 2106 */
	*nsec = (uint32_t)(wall - s * VTIME_NSEC_PER_SEC);
	return 0;
}

int vtime_vmm_wall_publish(const struct vtime_vmm *vm, volatile struct vtime_pvclock_wall_clock *wc,
			   const struct vtime_vmm_now *now, uint32_t *version)
{
	uint32_t sec, nsec, v;
	int err;

	if (!wc)
		return VTIME_EINVAL;
	if ((err = vtime_vmm_wall(vm, now, &sec, &nsec)))
		return err;
	v = vtime_pvclock_wall_publish(wc, sec, nsec);
	if (version)
		*version = v;
	return 0;
}

int vtime_vmm_vcpu_request_stopped(struct vtime_vmm_vcpu *vcpu)
{
	if (!vcpu)
		return VTIME_EINVAL;
	vcpu->stop_request = true;
	return 0;
}

int vtime_vmm_pause(struct vtime_vmm *vm, const struct vtime_vmm_now *now)
{
	if (!vm || !now)
		return VTIME_EINVAL;
	if (vm->paused)
		return VTIME_ESTATE;
	vm->paused = true;
	vm->pause_ns = vtime_vmm_clock(vm, now->host_tsc);
	return 0;
}

int vtime_vmm_resume(struct vtime_vmm *vm, const struct vtime_vmm_now *now, enum vtime_resume_policy policy)
{
	if (!vm || !now || (policy != VTIME_RESUME_FREEZE && policy != VTIME_RESUME_ADVANCE))
		return VTIME_EINVAL;
	if (!vm->paused)
		return VTIME_ESTATE;
	vm->paused = false;
	if (policy == VTIME_RESUME_FREEZE) {
		/* kvmclock continues from the pause; the guest TSC keeps running
		 * (as with KVM_SET_CLOCK): the records absorb the difference, and
		 * no offset has to change in the hypervisor. */
		vt_vmm_anchor(vm, now->host_tsc, vm->pause_ns);
	} else {
		vtime_vmm_update_master(vm, now);
	}
	for (struct vtime_vmm_vcpu *v = vm->vcpus; v; v = v->next)
		v->stop_request = true;
	/* a disruption: VMClock's time is the host's realtime again, and the
	 * marker changes once, at the next publish */
	vt_vmm_rt_sync(vm, now);
	vm->vmclock_events |= VTIME_VMCLOCK_EV_DISRUPTED;
	return 0;
}

int vtime_vmm_save(const struct vtime_vmm *vm, const struct vtime_vmm_now *now, struct vtime_vmm_state *st)
{
	if (!vm || !now || !st)
		return VTIME_EINVAL;
	st->kvmclock_ns = vtime_vmm_clock(vm, now->host_tsc);
	st->realtime_ns = now->realtime_ns;
	st->guest_hz = vm->guest_hz;
	st->host_hz = vm->host_hz;
	st->nr_vcpus = vm->nr_vcpus;
	st->mode = vm->mode;
	st->vmclock_marker = st->vmclock_generation = 0;
	st->flags = 0;
	st->reserved[0] = st->reserved[1] = st->reserved[2] = st->reserved[3] = 0;
	if (vm->vmclock) {
		uint64_t m = vt_le64(vt_load64(&vm->vmclock->disruption_marker));
		uint64_t g = vt_le64(vt_load64(&vm->vmclock->vm_generation_counter));

		/* restored but not published since: the page may still be behind */
		if (vm->vmclock_floor_pending) {
			if ((int64_t)(vm->vmclock_floor[0] - m) > 0)
				m = vm->vmclock_floor[0];
			if ((int64_t)(vm->vmclock_floor[1] - g) > 0)
				g = vm->vmclock_floor[1];
		}
		/* a snapshot restore (or clone) not published yet: the VM is a new
		 * generation already, and a state saved now must say so, or a
		 * migration of it would run the clone with the generation of the
		 * VM it was cloned from (the change owed is never seen) */
		if (vm->vmclock_events & VTIME_VMCLOCK_EV_NEW_GENERATION)
			g++;
		st->vmclock_marker = m;
		st->vmclock_generation = g;
		st->flags |= VTIME_VMM_STATE_VMCLOCK;
	}
	st->hv_sequence = vm->hv_seq;
	if (vm->hv_page) {
		uint32_t seq = vt_le32(vt_load32(&vm->hv_page->tsc_sequence));

		if (seq != 0 && seq != 0xffffffffu)
			st->hv_sequence = seq;
		st->flags |= VTIME_VMM_STATE_HV;
	}
	return 0;
}

int vtime_vmm_vcpu_save(const struct vtime_vmm_vcpu *vcpu, const struct vtime_vmm_now *now,
			struct vtime_vmm_vcpu_state *st)
{
	if (!vcpu || !vcpu->vm || !now || !st)
		return VTIME_EINVAL;
	if (!vcpu->written)
		return VTIME_ESTATE;
	st->guest_tsc = vtime_vmm_vcpu_tsc(vcpu, now->host_tsc);
	st->version = vcpu->rec ? vt_le32(vt_load32(&vcpu->rec->version)) : 0;
	/* restored but not published since: the record may still be behind */
	if (vcpu->min_pending && vt_vmm_behind_floor(st->version, vcpu->min_version))
		st->version = vcpu->min_version;
	st->flags = vcpu->rec ? VTIME_VMM_VCPU_STATE_RECORD : 0;
	st->reserved[0] = st->reserved[1] = 0;
	return 0;
}

int vtime_vmm_restore(struct vtime_vmm *vm, const struct vtime_vmm_state *st, const struct vtime_vmm_now *now,
		      enum vtime_resume_policy policy, enum vtime_vmm_restore_kind kind)
{
	const uint32_t flags = VTIME_VMM_STATE_VMCLOCK | VTIME_VMM_STATE_HV;
	uint64_t elapsed = 0;

	if (!vm || !st || !now || (policy != VTIME_RESUME_FREEZE && policy != VTIME_RESUME_ADVANCE) ||
	    (kind != VTIME_VMM_RESTORE_SNAPSHOT && kind != VTIME_VMM_RESTORE_MIGRATION))
		return VTIME_EINVAL;
	if (st->guest_hz == 0 || st->host_hz == 0 || st->mode < VTIME_VMM_TSC_NATIVE ||
	    st->mode > VTIME_VMM_TSC_EMULATED || (st->flags & ~flags) || st->hv_sequence == 0xffffffffu ||
	    ((st->vmclock_marker || st->vmclock_generation) && !(st->flags & VTIME_VMM_STATE_VMCLOCK)) ||
	    !vt_zero64(st->reserved, sizeof st->reserved / sizeof st->reserved[0]))
		return VTIME_EPROTO;
	if (st->guest_hz != vm->guest_hz)
		return VTIME_EINVAL;
	if (policy == VTIME_RESUME_ADVANCE && now->realtime_ns > st->realtime_ns)
		elapsed = now->realtime_ns - st->realtime_ns;
	vm->restore_elapsed_ns = elapsed;
	vt_vmm_anchor(vm, now->host_tsc, st->kvmclock_ns + elapsed);
	/* The restored TSC is authoritative: the next write opens a generation
	 * instead of merging with writes made when the vCPUs were created. */
	vm->last_tsc_hz = 0;
	/* The pages: the VM's realtime is the host's; VMClock says what
	 * happened (once, at the next publish) and continues above what the
	 * guest saw; the Hyper-V sequence continues above the saved one. */
	vt_vmm_rt_sync(vm, now);
	vm->vmclock_events |= kind == VTIME_VMM_RESTORE_SNAPSHOT ? VTIME_VMCLOCK_EV_NEW_GENERATION
								 : VTIME_VMCLOCK_EV_DISRUPTED;
	vm->vmclock_floor[0] = st->vmclock_marker;
	vm->vmclock_floor[1] = st->vmclock_generation;
	vm->vmclock_floor_pending = (st->flags & VTIME_VMM_STATE_VMCLOCK) != 0;
	vm->hv_seq = st->hv_sequence;
	return 0;
}

int vtime_vmm_vcpu_restore(struct vtime_vmm_vcpu *vcpu, const struct vtime_vmm_vcpu_state *st,
			   const struct vtime_vmm_now *now, bool *synced)
{
	struct vtime_vmm *vm;
	uint64_t value;
	int err;

	if (!vcpu || !vcpu->vm || !st || !now)
		return VTIME_EINVAL;
	if ((st->flags & ~VTIME_VMM_VCPU_STATE_RECORD) || (st->version && !(st->flags & VTIME_VMM_VCPU_STATE_RECORD)) ||
	    !vt_zero64(st->reserved, sizeof st->reserved / sizeof st->reserved[0]))
		return VTIME_EPROTO;
	vm = vcpu->vm;
	value = st->guest_tsc + vtime_scale_apply(&vm->ns_to_guest, vm->restore_elapsed_ns);
	if ((err = vtime_vmm_vcpu_write_tsc(vcpu, value, now, true, synced)))
		return err;
	/* Versions continue above what the guest saw; the next one is odd. */
	vcpu->min_version = (st->version + 1u) & ~1u;
	vcpu->min_pending = st->version != 0;
	vcpu->stop_request = true;
	return 0;
}

int vtime_vmm_state_encode(const struct vtime_vmm_state *st, void *buf, size_t len)
{
	struct vt_state_cur c;
	int err;

	if (!st || !vt_zero64(st->reserved, sizeof st->reserved / sizeof st->reserved[0]))
		return VTIME_EINVAL;
	if ((err = vt_state_begin_write(&c, buf, len, VTIME_VMM_STATE_MAGIC, VTIME_VMM_STATE_VERSION,
					VTIME_VMM_STATE_BYTES)))
		return err;
	vt_state_put(&c, st->kvmclock_ns, 8);
	vt_state_put(&c, st->realtime_ns, 8);
	vt_state_put(&c, st->guest_hz, 8);
	vt_state_put(&c, st->host_hz, 8);
	vt_state_put(&c, st->nr_vcpus, 4);
	vt_state_put(&c, st->mode, 4);
	vt_state_put(&c, st->vmclock_marker, 8);
	vt_state_put(&c, st->vmclock_generation, 8);
	vt_state_put(&c, st->hv_sequence, 4);
	vt_state_put(&c, st->flags, 4);
	return vt_state_end(&c);
}

int vtime_vmm_state_decode(struct vtime_vmm_state *st, const void *buf, size_t len)
{
	struct vt_state_cur c;
	struct vtime_vmm_state d;
	uint16_t version;
	uint32_t size;
	int err;

	if (!st)
		return VTIME_EINVAL;
	if ((err = vt_state_begin_read(&c, buf, len, VTIME_VMM_STATE_MAGIC, VTIME_VMM_STATE_VERSION, &version,
				       &size)))
		return err;
	if (size != (version == 1 ? VTIME_VMM_STATE_V1_BYTES : VTIME_VMM_STATE_BYTES))
		return VTIME_EPROTO;
	d.kvmclock_ns = vt_state_get(&c, 8);
	d.realtime_ns = vt_state_get(&c, 8);
	d.guest_hz = vt_state_get(&c, 8);
	d.host_hz = vt_state_get(&c, 8);
	d.nr_vcpus = (uint32_t)vt_state_get(&c, 4);
	d.mode = (uint32_t)vt_state_get(&c, 4);
	d.vmclock_marker = d.vmclock_generation = 0;
	d.hv_sequence = d.flags = 0;
	d.reserved[0] = d.reserved[1] = d.reserved[2] = d.reserved[3] = 0;
	if (version >= 2) {
		d.vmclock_marker = vt_state_get(&c, 8);
		d.vmclock_generation = vt_state_get(&c, 8);
		d.hv_sequence = (uint32_t)vt_state_get(&c, 4);
		d.flags = (uint32_t)vt_state_get(&c, 4);
	}
	if ((err = vt_state_end(&c)))
		return err;
	*st = d;
	return 0;
}

int vtime_vmm_vcpu_state_encode(const struct vtime_vmm_vcpu_state *st, void *buf, size_t len)
{
	struct vt_state_cur c;
	int err;

	if (!st || !vt_zero64(st->reserved, sizeof st->reserved / sizeof st->reserved[0]))
		return VTIME_EINVAL;
	if ((err = vt_state_begin_write(&c, buf, len, VTIME_VMM_VCPU_STATE_MAGIC, VTIME_VMM_VCPU_STATE_VERSION,
					VTIME_VMM_VCPU_STATE_BYTES)))
		return err;
	vt_state_put(&c, st->guest_tsc, 8);
	vt_state_put(&c, st->version, 4);
	vt_state_put(&c, st->flags, 4);
	return vt_state_end(&c);
}

int vtime_vmm_vcpu_state_decode(struct vtime_vmm_vcpu_state *st, const void *buf, size_t len)
{
	struct vt_state_cur c;
	struct vtime_vmm_vcpu_state d;
	uint16_t version;
	uint32_t size;
	int err;

	if (!st)
		return VTIME_EINVAL;
	if ((err = vt_state_begin_read(&c, buf, len, VTIME_VMM_VCPU_STATE_MAGIC, VTIME_VMM_VCPU_STATE_VERSION,
				       &version, &size)))
		return err;
	if (size != VTIME_VMM_VCPU_STATE_BYTES)
		return VTIME_EPROTO;
	d.guest_tsc = vt_state_get(&c, 8);
	d.version = (uint32_t)vt_state_get(&c, 4);
	d.flags = (uint32_t)vt_state_get(&c, 4);
	d.reserved[0] = d.reserved[1] = 0;
	if ((err = vt_state_end(&c)))
		return err;
	*st = d;
	return 0;
}
