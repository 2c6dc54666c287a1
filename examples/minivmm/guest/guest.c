/* SPDX-License-Identifier: MIT */
/* minivmm guest kernel: 64-bit, no interrupts, one loop per test. Each cpu
 * registers its kvmclock record through the bare-metal shim and reports
 * readings in the shared page (struct minivmm_shared). In VMM mode it also
 * finds Hyper-V in CPUID and registers the reference TSC page
 * (HV_X64_MSR_REFERENCE_TSC), and reads the VMClock region the VMM reports
 * (where a real guest would take ACPI AMZNC10C's _CRS). */
#include <stddef.h>
#include <stdint.h>

#include <vtime/error.h>

#include "../minivmm_abi.h"
#include "vtime_baremetal.h"

/* The compiler may emit these even freestanding. */
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;
	while (n--)
		*dp++ = *sp++;
	return d;
}
void *memset(void *d, int c, size_t n)
{
	unsigned char *dp = d;
	while (n--)
		*dp++ = (unsigned char)c;
	return d;
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ __volatile__("outl %0, %1" ::"a"(v), "Nd"(port) : "memory");
}

static inline __attribute__((noreturn)) void halt_forever(void)
{
	for (;;)
		__asm__ __volatile__("hlt");
}

#define SHARED ((struct minivmm_shared *)(uintptr_t)MINIVMM_SHARED)
#define LOG ((struct minivmm_log *)(uintptr_t)MINIVMM_LOG)

/* One clock for the whole guest, set up by cpu 0 before the others start. */
static struct vtime_bm_clock clk __attribute__((aligned(64)));
static volatile uint32_t clk_ready;

static int port_register_cpu(void *ctx, unsigned cpu, uint64_t gpa)
{
	(void)ctx;
	(void)cpu;
	outl(MINIVMM_PORT_REG_CPU, (uint32_t)gpa);
	return 0;
}

static int port_register_wall(void *ctx, uint64_t gpa)
{
	(void)ctx;
	outl(MINIVMM_PORT_REG_WALL, (uint32_t)gpa);
	return 0;
}

/* Without MSR exits the VMM takes the Hyper-V MSRs by port. */
static int port_register_hv_tsc(void *ctx, uint64_t msr_value)
{
	(void)ctx;
	outl(MINIVMM_PORT_HV_TSC, (uint32_t)msr_value); /* the page is below 4 GiB */
	return 0;
}

static int port_read_hv_ref_count(void *ctx, uint64_t *count)
{
	(void)ctx;
	outl(MINIVMM_PORT_HV_COUNT, 0);
	*count = __atomic_load_n(&SHARED->hv_ref_count, __ATOMIC_ACQUIRE);
	return 0;
}

/* VMM mode: the records by port; the Hyper-V MSRs are real MSRs (NULL
 * hooks: WRMSR/RDMSR, which exit to the VMM) unless it says otherwise. */
static struct vtime_bm_hv_ops port_ops = { port_register_cpu, port_register_wall, NULL, NULL, NULL };

static void on_disrupted(void *ctx, unsigned cpu, uint64_t marker, uint64_t generation, bool new_generation)
{
	(void)ctx;
	(void)cpu;
	(void)marker;
	(void)generation;
	/* A real kernel would step its clock from the page here, and on a new
	 * generation reseed its random numbers. */
	__atomic_fetch_add(&SHARED->abis.callbacks, 1u, __ATOMIC_RELAXED);
	if (new_generation)
		__atomic_fetch_add(&SHARED->abis.gen_callbacks, 1u, __ATOMIC_RELAXED);
}

static void on_stopped(void *ctx, unsigned cpu)
{
	(void)ctx;
	/* A real kernel would touch its soft-lockup and RCU watchdogs here. */
	__atomic_fetch_add(&SHARED->cpu[cpu].stopped, 1u, __ATOMIC_RELAXED);
}

static __attribute__((noreturn)) void fail(unsigned cpu, int err)
{
	SHARED->cpu[cpu].err = err;
	outl(MINIVMM_PORT_ERROR, (uint32_t)err);
	halt_forever();
}

static void setup_clock(void)
{
	struct vtime_bm_features f;
	struct vtime_bm_config cfg;
	int det = vtime_bm_detect(&f);

	memset(&cfg, 0, sizeof(cfg));
	cfg.records = (volatile struct vtime_pvclock_vcpu_time_info *)(uintptr_t)MINIVMM_RECORDS;
	cfg.records_gpa = MINIVMM_RECORDS;
	cfg.nr_cpus = SHARED->nr_cpus;
	cfg.wall = (volatile struct vtime_pvclock_wall_clock *)(uintptr_t)MINIVMM_WALL;
	cfg.wall_gpa = MINIVMM_WALL;
	cfg.stable_advertised = f.kvm && f.stable_advertised;
	/* No CLOCKSOURCE2: the VMM publishes the records; register by port. */
	cfg.ops = det == 0 ? NULL : &port_ops;
	cfg.on_stopped = on_stopped;
	SHARED->features = f.kvm_features;
	SHARED->stable_advertised = cfg.stable_advertised;
	SHARED->hyperv = f.hyperv && f.hv_ref_tsc;
	SHARED->hv_base = f.hv_base;
	SHARED->kvm_base = f.base;
	if (!f.kvm)
		fail(0, VTIME_ENODEV);
	if (SHARED->hyperv) {
		cfg.hv_page = (volatile struct vtime_hv_tsc_page *)(uintptr_t)MINIVMM_HV_PAGE;
		cfg.hv_page_gpa = MINIVMM_HV_PAGE;
		if (!SHARED->hv_msr) {
			port_ops.register_hv_tsc = port_register_hv_tsc;
			port_ops.read_hv_ref_count = port_read_hv_ref_count;
		}
	}
	if (SHARED->vmclock_gpa) {
		/* the platform's region: identity-mapped here */
		cfg.vmclock = (const volatile struct vtime_vmclock_abi *)(uintptr_t)SHARED->vmclock_gpa;
		cfg.vmclock_size = SHARED->vmclock_size;
		cfg.on_disrupted = on_disrupted;
	}
	if (vtime_bm_init(&clk, &cfg))
		fail(0, VTIME_EINVAL);
	if (cfg.hv_page) {
		int err = vtime_bm_hv_register(&clk, true);
		if (err)
			fail(0, err);
	}
	if (cfg.vmclock) {
		/* what Linux's probe checks, and the counter this guest can read */
		struct vtime_vmclock_abi snap;
		int err = vtime_vmclock_check(cfg.vmclock, cfg.vmclock_size);

		if (!err)
			err = vtime_vmclock_snapshot(cfg.vmclock, 0, &snap);
		if (!err && snap.counter_id != VTIME_VMCLOCK_COUNTER_X86_TSC)
			err = VTIME_ENOTSUP;
		if (err)
			fail(0, err);
	}
}

static void lock(volatile uint32_t *l)
{
	while (__atomic_exchange_n(l, 1u, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(l, __ATOMIC_RELAXED))
			__asm__ __volatile__("pause");
}

static void unlock(volatile uint32_t *l)
{
	__atomic_store_n(l, 0u, __ATOMIC_RELEASE);
}

static void read_or_fail(unsigned cpu, struct vtime_bm_reading *r)
{
	int err = vtime_bm_read(&clk, cpu, r);
	if (err)
		fail(cpu, err);
}

static void note(unsigned cpu, const struct vtime_bm_reading *r)
{
	struct minivmm_cpu *c = &SHARED->cpu[cpu];
	uint64_t last = c->last_ns;

	uint32_t epoch = __atomic_load_n(&SHARED->epoch, __ATOMIC_ACQUIRE);

	if (epoch != c->epoch_seen) {
		/* First reading after a resume or restore: the step it saw. */
		uint32_t sec, nsec;

		c->epoch_step = (int64_t)(r->ns - last);
		c->epoch_ns = r->ns;
		/* The guest's wall clock at that reading (wall record + kvmclock). */
		if (vtime_pvclock_wall_read(clk.cfg.wall, 0, &sec, &nsec) == 0)
			c->epoch_wall_ns = vtime_pvclock_wall_ns(sec, nsec, r->ns);
		c->epoch_seen = epoch;
	}
	if (c->reads == 0)
		c->first_ns = r->ns;
	else if (r->ns < last)
		c->backwards++;
	else if (r->ns - last > c->max_gap)
		c->max_gap = r->ns - last;
	c->last_ns = r->ns;
	c->raw_ns = r->raw_ns;
	c->tsc = r->tsc;
	c->flags = r->flags;
	c->version = r->version;
	c->reads++;
}

static void test_boot(unsigned cpu)
{
	struct vtime_bm_reading r;
	uint64_t wall;

	for (uint32_t i = 0; i < SHARED->iters; i++) {
		read_or_fail(cpu, &r);
		note(cpu, &r);
	}
	if (vtime_bm_wall_now(&clk, cpu, &wall) == 0)
		SHARED->cpu[cpu].wall_ns = wall;
}

static void test_mono(unsigned cpu)
{
	struct vtime_bm_reading r;

	for (uint32_t i = 0; i < SHARED->iters; i++) {
		lock(&SHARED->lock);
		read_or_fail(cpu, &r);
		if (r.ns < SHARED->last_ns)
			SHARED->backwards++;
		if (r.raw_ns < SHARED->last_raw_ns)
			SHARED->raw_backwards++;
		SHARED->last_ns = r.ns;
		SHARED->last_raw_ns = r.raw_ns;
		if (SHARED->log_count < MINIVMM_LOG_CAP) {
			struct minivmm_log *e = &LOG[SHARED->log_count];
			e->ns = r.ns;
			e->raw_ns = r.raw_ns;
			e->cpu = cpu;
			e->flags = r.flags;
			SHARED->log_count++;
		}
		unlock(&SHARED->lock);
		note(cpu, &r);
	}
}

static void test_agree(unsigned cpu)
{
	struct vtime_bm_reading a, b, s;
	uint64_t next = 0;

	if (cpu != 0)
		return;
	while (!__atomic_load_n(&SHARED->stop, __ATOMIC_ACQUIRE)) {
		read_or_fail(cpu, &a);
		if (a.ns < next)
			continue; /* about 1 ms between samples */
		outl(MINIVMM_PORT_NULL, 0);
		read_or_fail(cpu, &b);
		SHARED->sample_lat = b.ns - a.ns;
		outl(MINIVMM_PORT_MARK, 0);
		read_or_fail(cpu, &s);
		SHARED->sample_ns = s.ns;
		SHARED->sample_tsc = s.tsc;
		outl(MINIVMM_PORT_MARK, 1);
		note(cpu, &s);
		next = s.ns + 1000000u;
	}
}

static void test_loop(unsigned cpu)
{
	struct vtime_bm_reading r;
	uint32_t n = 0, every = SHARED->poll_every ? SHARED->poll_every : 64u;

	while (!__atomic_load_n(&SHARED->stop, __ATOMIC_ACQUIRE)) {
		read_or_fail(cpu, &r);
		note(cpu, &r);
		if (++n == every) {
			n = 0;
			outl(MINIVMM_PORT_POLL, cpu);
		}
	}
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* The three clocks: one round of readings ordered across cpus by the lock
 * (each with its own TSC read, ~0.15 ms apiece on nested hosts), then the
 * three formulas at one counter value from snapshots of the same pages. */
static void test_abis(unsigned cpu)
{
	struct minivmm_abis *A = &SHARED->abis;
	struct minivmm_abis_cpu *me = &A->cpu[cpu];
	const volatile struct vtime_pvclock_vcpu_time_info *rec =
		(const volatile struct vtime_pvclock_vcpu_time_info *)((uintptr_t)MINIVMM_RECORDS +
								       cpu * VTIME_PVCLOCK_RECORD_STRIDE);
	uint32_t n = 0;

	if (!clk.cfg.hv_page || !clk.cfg.vmclock)
		fail(cpu, VTIME_ENODEV);
	if (me->rounds == 0) {
		/* TIME_REF_COUNT (the page's fallback; an RDMSR exit to the VMM)
		 * between two page readings */
		struct vtime_bm_hv_reading h1, h2;
		uint64_t count = 0;
		int err;

		if ((err = vtime_bm_hv_read(&clk, &h1)) || (err = clk.ops.read_hv_ref_count(clk.ops.ctx, &count)) ||
		    (err = vtime_bm_hv_read(&clk, &h2)))
			fail(cpu, err);
		me->msr_after_page = (int64_t)(count - h1.time);
		me->page_after_msr = (int64_t)(h2.time - count);
		me->vk_min = me->hk_min = me->vw_min = me->vm_step_min = INT64_MAX;
		me->vk_max = me->hk_max = me->vw_max = INT64_MIN;
	}
	while (!__atomic_load_n(&SHARED->stop, __ATOMIC_ACQUIRE)) {
		struct vtime_bm_reading p;
		struct vtime_bm_hv_reading h;
		struct vtime_bm_vmclock_reading v;
		struct vtime_pvclock_vcpu_time_info body;
		struct vtime_hv_tsc_reading hs;
		struct vtime_vmclock_abi vs;
		uint64_t vns, k, vat, sec;
		uint32_t wsec, wnsec, nsec;
		int err;

		lock(&SHARED->lock);
		read_or_fail(cpu, &p);
		if ((err = vtime_bm_hv_read(&clk, &h)))
			fail(cpu, err);
		if ((err = vtime_bm_vmclock_read(&clk, cpu, &v)))
			fail(cpu, err);
		vns = v.r.sec * 1000000000ull + v.r.nsec;
		if (A->rounds) {
			A->pv_back += p.raw_ns < A->last_pv;
			A->hv_back += h.time < A->last_hv;
			A->vm_back += v.r.disruption_marker == A->last_marker && vns < A->last_vm;
		}
		A->last_pv = p.raw_ns;
		A->last_hv = h.time;
		A->last_vm = vns;
		A->last_marker = v.r.disruption_marker;
		A->rounds++;
		unlock(&SHARED->lock);

		if (me->rounds) {
			me->pv_back += p.raw_ns < me->last_pv;
			me->hv_back += h.time < me->last_hv;
			if (v.r.disruption_marker != me->marker) {
				me->marker_changes++;
				me->vm_step_min = min64(me->vm_step_min, (int64_t)(vns - me->last_vm));
				me->vk_spread = max64(me->vk_spread, me->vk_max - me->vk_min);
				me->vk_min = INT64_MAX; /* VMClock's realtime view re-synced: a new offset */
				me->vk_max = INT64_MIN;
			} else {
				me->vm_back += vns < me->last_vm;
			}
			me->gen_changes += v.r.vm_generation_counter != me->gen;
		}
		me->marker = v.r.disruption_marker;
		me->gen = v.r.vm_generation_counter;
		me->events += v.disrupted;
		me->gen_events += v.new_generation;
		me->hv_from_msr += h.from_msr;
		me->last_pv = p.raw_ns;
		me->last_hv = h.time;
		me->last_vm = vns;
		me->maxerror_ns = v.r.maxerror_ns;
		me->status = v.r.clock_status;

		/* The three at one counter: the VMClock reading's. */
		if ((err = vtime_pvclock_snapshot(rec, 0, &body)) ||
		    (err = vtime_hv_tsc_page_snapshot(clk.cfg.hv_page, 0, &hs)) ||
		    (err = vtime_vmclock_snapshot(clk.cfg.vmclock, 0, &vs)) ||
		    (err = vtime_vmclock_time(&vs, v.r.counter, &sec, &nsec)) ||
		    (err = vtime_pvclock_wall_read(clk.cfg.wall, 0, &wsec, &wnsec)))
			fail(cpu, err);
		k = vtime_pvclock_time(&body, v.r.counter);
		vat = sec * 1000000000ull + nsec;
		me->vm_k = k;
		me->vk_min = min64(me->vk_min, (int64_t)(vat - k));
		me->vk_max = max64(me->vk_max, (int64_t)(vat - k));
		{
			int64_t hk = (int64_t)(vtime_hv_tsc_page_time(hs.tsc_scale, hs.tsc_offset, v.r.counter) * 100u - k);
			int64_t vw = (int64_t)(vat - vtime_pvclock_wall_ns(wsec, wnsec, k));

			me->hk_min = min64(me->hk_min, hk);
			me->hk_max = max64(me->hk_max, hk);
			me->vw_min = min64(me->vw_min, vw);
			me->vw_max = max64(me->vw_max, vw);
		}
		me->rounds++;
		if (++n == 2) {
			n = 0;
			outl(MINIVMM_PORT_POLL, cpu);
		}
	}
	me->vk_spread = max64(me->vk_spread, me->vk_max - me->vk_min);
}

void guest_main(unsigned cpu);
void guest_main(unsigned cpu)
{
	if (cpu == 0) {
		setup_clock();
		__atomic_store_n(&clk_ready, 1u, __ATOMIC_RELEASE);
	} else {
		while (!__atomic_load_n(&clk_ready, __ATOMIC_ACQUIRE))
			__asm__ __volatile__("pause");
	}
	if (vtime_bm_cpu_register(&clk, cpu, true))
		fail(cpu, VTIME_EINVAL);
	if (cpu == 0)
		(void)vtime_bm_wall_register(&clk);
	/* Start together so the tests overlap on both cpus. */
	__atomic_fetch_add(&SHARED->ready, 1u, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&SHARED->ready, __ATOMIC_ACQUIRE) < SHARED->nr_cpus)
		__asm__ __volatile__("pause");

	switch (SHARED->test) {
	case MINIVMM_TEST_BOOT:
		test_boot(cpu);
		break;
	case MINIVMM_TEST_MONO:
		test_mono(cpu);
		break;
	case MINIVMM_TEST_AGREE:
		test_agree(cpu);
		break;
	case MINIVMM_TEST_LOOP:
		test_loop(cpu);
		break;
	case MINIVMM_TEST_ABIS:
		test_abis(cpu);
		break;
	default:
		fail(cpu, VTIME_EINVAL);
	}
	outl(MINIVMM_PORT_DONE, cpu);
	halt_forever();
}
