/* SPDX-License-Identifier: MIT */
/* Bare-metal x86-64 guest shim. Freestanding, ring 0 (RDMSR/WRMSR). */
#include <stddef.h>
#include <stdint.h>

#include <vtime/clamp.h>
#include <vtime/error.h>
#include <vtime/pvclock.h>

#include <vtime/arch.h>

#include "vt_atomic.h"
#include "vt_pvclock_read.h"
#include "vtime_baremetal.h"

static inline void vt_cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ __volatile__("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static inline void vt_wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ __volatile__("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* The record reader's counter: ordered after the record loads before it. */
static inline uint64_t vt_bm_rdtsc_ordered(void *ctx)
{
	(void)ctx;
	return vtime_arch_counter_ordered();
}

int vtime_bm_detect(struct vtime_bm_features *f)
{
	uint32_t a, b, c, d;

	if (!f)
		return VTIME_EINVAL;
	f->hypervisor = f->kvm = f->clocksource2 = f->stable_advertised = false;
	f->base = 0;
	f->kvm_features = 0;
	vt_cpuid(1, &a, &b, &c, &d);
	f->hypervisor = (c & VTIME_CPUID_HYPERVISOR_BIT) != 0;
	if (!f->hypervisor)
		return VTIME_ENODEV;
	/* KVM may sit at a later base when it also emulates another hypervisor. */
	for (uint32_t base = VTIME_KVM_CPUID_BASE; base <= VTIME_KVM_CPUID_BASE_LAST; base += VTIME_KVM_CPUID_BASE_STEP) {
		vt_cpuid(base, &a, &b, &c, &d);
		if (b == VTIME_KVM_SIGNATURE_EBX && c == VTIME_KVM_SIGNATURE_ECX && d == VTIME_KVM_SIGNATURE_EDX &&
		    a >= base + VTIME_KVM_CPUID_FEATURES_OFF) {
			f->kvm = true;
			f->base = base;
			break;
		}
	}
	if (!f->kvm)
		return VTIME_ENODEV;
	vt_cpuid(f->base + VTIME_KVM_CPUID_FEATURES_OFF, &a, &b, &c, &d);
	f->kvm_features = a;
	f->clocksource2 = (a & VTIME_KVM_FEATURE_CLOCKSOURCE2) != 0;
	f->stable_advertised = (a & VTIME_KVM_FEATURE_CLOCKSOURCE_STABLE_BIT) != 0;
	return f->clocksource2 ? 0 : VTIME_ENODEV;
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

int vtime_bm_init(struct vtime_bm_clock *c, const struct vtime_bm_config *cfg)
{
	if (!c || !cfg || !cfg->records || cfg->nr_cpus == 0 || (cfg->records_gpa & 3u) ||
	    ((uintptr_t)cfg->records & 3u) || (cfg->wall && (cfg->wall_gpa & 3u)))
		return VTIME_EINVAL;
	c->cfg = *cfg;
	if (cfg->ops) {
		c->ops = *cfg->ops;
	} else {
		c->ops.register_cpu = vt_bm_msr_register_cpu;
		c->ops.register_wall = vt_bm_msr_register_wall;
		c->ops.ctx = NULL;
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
