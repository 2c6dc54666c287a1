/* SPDX-License-Identifier: MIT */
/* The bare-metal guest shim on the host (x86-64): baremetal.c compiled into
 * a normal process with a fake CPUID table and fake registration hooks (no
 * WRMSR/RDMSR is ever executed), reading pages published here with the
 * real TSC. Detection of KVM and Hyper-V at any hypervisor base, the
 * Hyper-V page's registration value and its TIME_REF_COUNT fallback, the
 * VMClock reader and its once-per-change disruption events, also with two
 * reader threads racing a writer. minivmm (suite kvm) runs the same shim
 * in a real guest. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vtime/arch.h>
#include <vtime/error.h>
#include <vtime/hyperv.h>
#include <vtime/pvclock.h>
#include <vtime/scale.h>
#include <vtime/vmclock.h>

#include "vt_test.h"
#include "vtime_baremetal.h"

/* ---- a fake CPUID ---- */

struct leaf {
	uint32_t leaf, r[4];
};

struct table {
	const struct leaf *v;
	size_t n;
	unsigned calls;
};

static void fake_cpuid(void *ctx, uint32_t leaf, uint32_t r[4])
{
	struct table *t = ctx;

	t->calls++;
	r[0] = r[1] = r[2] = r[3] = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].leaf == leaf)
			memcpy(r, t->v[i].r, sizeof t->v[i].r);
}

#define HV_BIT (1u << 31)
#define KVM_SIG VTIME_KVM_SIGNATURE_EBX, VTIME_KVM_SIGNATURE_ECX, VTIME_KVM_SIGNATURE_EDX
#define HV_SIG VTIME_HV_SIGNATURE_EBX, VTIME_HV_SIGNATURE_ECX, VTIME_HV_SIGNATURE_EDX
#define KVM_FEAT (VTIME_KVM_FEATURE_CLOCKSOURCE2 | VTIME_KVM_FEATURE_CLOCKSOURCE_STABLE_BIT)

static int detect(const struct leaf *v, size_t n, struct vtime_bm_features *f)
{
	struct table t = { v, n, 0 };

	memset(f, 0x5a, sizeof *f);
	return vtime_bm_detect_with(f, fake_cpuid, &t);
}

static void test_detect(void)
{
	struct vtime_bm_features f;
	/* KVM alone (what this machine's KVM offers) */
	static const struct leaf kvm[] = {
		{ 1, { 0, 0, HV_BIT, 0 } },
		{ 0x40000000, { 0x40000001, KVM_SIG } },
		{ 0x40000001, { KVM_FEAT, 0, 0, 0 } },
	};
	/* KVM offering Hyper-V enlightenments: Hyper-V first, KVM behind it */
	static const struct leaf both[] = {
		{ 1, { 0, 0, HV_BIT, 0 } },
		{ 0x40000000, { 0x40000005, HV_SIG } },
		{ 0x40000001, { VTIME_HV_INTERFACE_HV1, 0, 0, 0 } },
		{ 0x40000003, { VTIME_HV_ACCESS_REFERENCE_TSC | VTIME_HV_ACCESS_TIME_REF_COUNT, 0, 0, 0 } },
		{ 0x40000100, { 0x40000101, KVM_SIG } },
		{ 0x40000101, { KVM_FEAT, 0, 0, 0 } },
	};
	/* Hyper-V only, without the reference TSC privilege */
	static const struct leaf hv_only[] = {
		{ 1, { 0, 0, HV_BIT, 0 } },
		{ 0x40000000, { 0x40000006, HV_SIG } },
		{ 0x40000001, { VTIME_HV_INTERFACE_HV1, 0, 0, 0 } },
		{ 0x40000003, { VTIME_HV_ACCESS_TIME_REF_COUNT, 0, 0, 0 } },
	};
	/* the vendor string without the TLFS interface: not Hyper-V */
	static const struct leaf no_hv1[] = {
		{ 1, { 0, 0, HV_BIT, 0 } },
		{ 0x40000000, { 0x40000005, HV_SIG } },
		{ 0x40000001, { 0x12345678, 0, 0, 0 } },
		{ 0x40000003, { VTIME_HV_ACCESS_REFERENCE_TSC, 0, 0, 0 } },
	};
	/* Hyper-V whose highest leaf stops before the features: no privileges */
	static const struct leaf short_hv[] = {
		{ 1, { 0, 0, HV_BIT, 0 } },
		{ 0x40000000, { 0x40000001, HV_SIG } },
		{ 0x40000001, { VTIME_HV_INTERFACE_HV1, 0, 0, 0 } },
		{ 0x40000003, { VTIME_HV_ACCESS_REFERENCE_TSC, 0, 0, 0 } },
	};
	/* signatures but no hypervisor bit: bare metal, look no further */
	static const struct leaf metal[] = {
		{ 1, { 0, 0, 0, 0 } },
		{ 0x40000000, { 0x40000005, HV_SIG } },
	};

	CU_ASSERT(detect(kvm, 3, &f) == 0);
	CU_ASSERT(f.kvm && f.base == 0x40000000u && f.clocksource2 && f.stable_advertised);
	CU_ASSERT(!f.hyperv && !f.hv_ref_tsc && !f.hv_ref_count && f.hv_base == 0 && f.hv_features == 0);

	CU_ASSERT(detect(both, 6, &f) == 0);
	CU_ASSERT(f.kvm && f.base == 0x40000100u);
	CU_ASSERT(f.hyperv && f.hv_base == 0x40000000u && f.hv_ref_tsc && f.hv_ref_count);
	CU_ASSERT(f.hv_features == (VTIME_HV_ACCESS_REFERENCE_TSC | VTIME_HV_ACCESS_TIME_REF_COUNT));

	CU_ASSERT(detect(hv_only, 4, &f) == VTIME_ENODEV); /* no kvmclock */
	CU_ASSERT(!f.kvm && f.hyperv && !f.hv_ref_tsc && f.hv_ref_count);

	CU_ASSERT(detect(no_hv1, 4, &f) == VTIME_ENODEV);
	CU_ASSERT(!f.hyperv && !f.hv_ref_tsc);

	CU_ASSERT(detect(short_hv, 4, &f) == VTIME_ENODEV);
	CU_ASSERT(f.hyperv && f.hv_features == 0 && !f.hv_ref_tsc);

	CU_ASSERT(detect(metal, 2, &f) == VTIME_ENODEV);
	CU_ASSERT(!f.hypervisor && !f.hyperv && !f.kvm);
	CU_ASSERT(vtime_bm_detect_with(NULL, fake_cpuid, NULL) == VTIME_EINVAL);
}

/* ---- fake registration hooks ---- */

struct hooks {
	uint64_t hv_msr;      /* last value written to HV_X64_MSR_REFERENCE_TSC */
	unsigned hv_writes;
	uint64_t ref_count;   /* what TIME_REF_COUNT reads */
	unsigned count_reads;
	int count_err;
};

static int h_cpu(void *ctx, unsigned cpu, uint64_t gpa)
{
	(void)ctx;
	(void)cpu;
	(void)gpa;
	return 0;
}

static int h_wall(void *ctx, uint64_t gpa)
{
	(void)ctx;
	(void)gpa;
	return 0;
}

static int h_hv_tsc(void *ctx, uint64_t v)
{
	struct hooks *h = ctx;
	h->hv_msr = v;
	h->hv_writes++;
	return 0;
}

static int h_ref_count(void *ctx, uint64_t *count)
{
	struct hooks *h = ctx;
	h->count_reads++;
	*count = h->ref_count;
	return h->count_err;
}

static struct vtime_pvclock_vcpu_time_info records[2] __attribute__((aligned(64)));
static struct vtime_hv_tsc_page hv_page __attribute__((aligned(4096)));
static struct vtime_vmclock_abi vmclock[4096 / sizeof(struct vtime_vmclock_abi) + 1] __attribute__((aligned(4096)));
static struct vtime_bm_clock clk __attribute__((aligned(64)));

static void config(struct vtime_bm_config *cfg, struct vtime_bm_hv_ops *ops, struct hooks *h)
{
	memset(cfg, 0, sizeof *cfg);
	memset(ops, 0, sizeof *ops);
	ops->register_cpu = h_cpu;
	ops->register_wall = h_wall;
	ops->register_hv_tsc = h_hv_tsc;
	ops->read_hv_ref_count = h_ref_count;
	ops->ctx = h;
	cfg->records = records;
	cfg->records_gpa = 0x10000;
	cfg->nr_cpus = 2;
	cfg->ops = ops;
	cfg->hv_page = &hv_page;
	cfg->hv_page_gpa = 0x7654321000ull;
	cfg->vmclock = vmclock;
	cfg->vmclock_size = 4096;
}

/* The page for a 2.6 GHz TSC from a pvclock record at the current TSC, as
 * a VMM would publish it. */
static void publish_hv(uint64_t system_time, uint32_t *seq)
{
	struct vtime_pvclock_vcpu_time_info rec = { 0 };
	struct vtime_scale s;
	uint64_t scale;
	int64_t offset;

	CU_ASSERT_FATAL(vtime_scale_init(&s, 2600000000ull, 1000000000ull) == 0);
	rec.tsc_to_system_mul = s.mul;
	rec.tsc_shift = s.shift;
	rec.flags = VTIME_PVCLOCK_TSC_STABLE;
	rec.tsc_timestamp = vtime_arch_counter_ordered();
	rec.system_time = system_time;
	CU_ASSERT_FATAL(vtime_hv_tsc_page_from_pvclock(&rec, &scale, &offset) == 0);
	*seq = vtime_hv_tsc_page_publish(&hv_page, scale, offset, *seq);
}

static void test_hyperv(void)
{
	struct vtime_bm_config cfg;
	struct vtime_bm_hv_ops ops;
	struct hooks h = { 0 };
	struct vtime_bm_hv_reading r, r2;
	uint32_t seq = 0;

	config(&cfg, &ops, &h);
	CU_ASSERT_FATAL(vtime_bm_init(&clk, &cfg) == 0);
	/* registration: the page frame and the enable bit; 0 disables */
	CU_ASSERT(vtime_bm_hv_register(&clk, true) == 0);
	CU_ASSERT(h.hv_msr == (0x7654321000ull | VTIME_HV_MSR_REFERENCE_TSC_ENABLE));
	CU_ASSERT(vtime_bm_hv_register(&clk, false) == 0);
	CU_ASSERT(h.hv_msr == 0 && h.hv_writes == 2);
	/* a zeroed page is invalid: the TLFS fallback, TIME_REF_COUNT */
	memset(&hv_page, 0, sizeof hv_page);
	h.ref_count = 123456789;
	CU_ASSERT(vtime_bm_hv_read(&clk, &r) == 0);
	CU_ASSERT(r.from_msr && r.time == 123456789 && r.sequence == 0 && r.tsc == 0 && h.count_reads == 1);
	h.count_err = VTIME_EIO;
	CU_ASSERT(vtime_bm_hv_read(&clk, &r) == VTIME_EIO);
	h.count_err = 0;
	/* a valid page: the formula at the TSC read inside the window */
	publish_hv(5000000000ull, &seq);
	CU_ASSERT(vtime_bm_hv_read(&clk, &r) == 0);
	CU_ASSERT(!r.from_msr && r.sequence == seq && r.tsc != 0);
	CU_ASSERT(r.time == vtime_hv_tsc_page_time(hv_page.tsc_scale, hv_page.tsc_offset, r.tsc));
	CU_ASSERT(r.time >= 50000000 && r.time < 50000000 + 10000000); /* 5 s, read within a second */
	CU_ASSERT(vtime_bm_hv_read(&clk, &r2) == 0 && r2.time >= r.time);
	CU_ASSERT(h.count_reads == 2);
	/* invalidated: back to the MSR */
	seq = vtime_hv_tsc_page_invalidate(&hv_page, seq);
	CU_ASSERT(vtime_bm_hv_read(&clk, &r) == 0 && r.from_msr);
	/* configuration checks */
	cfg.hv_page_gpa = 0x1234;
	CU_ASSERT(vtime_bm_init(&clk, &cfg) == VTIME_EINVAL);
	cfg.hv_page = NULL;
	CU_ASSERT(vtime_bm_init(&clk, &cfg) == 0);
	CU_ASSERT(vtime_bm_hv_register(&clk, true) == VTIME_EINVAL);
	CU_ASSERT(vtime_bm_hv_read(&clk, &r) == VTIME_EINVAL);
	/* the TLFS MSRs are the default for hooks left NULL */
	config(&cfg, &ops, &h);
	ops.register_hv_tsc = NULL;
	ops.read_hv_ref_count = NULL;
	CU_ASSERT(vtime_bm_init(&clk, &cfg) == 0);
	CU_ASSERT(clk.ops.register_hv_tsc != NULL && clk.ops.register_hv_tsc != h_hv_tsc);
	CU_ASSERT(clk.ops.read_hv_ref_count != NULL && clk.ops.read_hv_ref_count != h_ref_count);
}

/* ---- VMClock ---- */

struct events {
	unsigned n, gen;
	uint64_t marker, generation;
};

static void on_disrupted(void *ctx, unsigned cpu, uint64_t marker, uint64_t generation, bool new_generation)
{
	struct events *e = ctx;
	(void)cpu;
	__atomic_fetch_add(&e->n, 1, __ATOMIC_RELAXED);
	if (new_generation)
		__atomic_fetch_add(&e->gen, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&e->marker, marker, __ATOMIC_RELAXED);
	__atomic_store_n(&e->generation, generation, __ATOMIC_RELAXED);
}

/* A page relating the TSC (2.6 GHz) to realtime 1764000000 s at the current TSC. */
static void vmclock_body(struct vtime_vmclock_abi *b)
{
	memset(b, 0, sizeof *b);
	CU_ASSERT(vtime_vmclock_set_period(b, 2600000000ull, 50000, 1000) == 0);
	CU_ASSERT(vtime_vmclock_set_time(b, vtime_arch_counter_ordered(), 1764000000ull, 5, 1000, 100) == 0);
	b->clock_status = VTIME_VMCLOCK_STATUS_SYNCHRONIZED;
	b->flags |= VTIME_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT;
}

static void test_vmclock(void)
{
	struct vtime_bm_config cfg;
	struct vtime_bm_hv_ops ops;
	struct hooks h = { 0 };
	struct events ev = { 0 };
	struct vtime_bm_vmclock_reading r;
	struct vtime_vmclock_abi b;

	config(&cfg, &ops, &h);
	cfg.on_disrupted = on_disrupted;
	cfg.disrupted_ctx = &ev;
	memset(vmclock, 0, sizeof vmclock);
	CU_ASSERT_FATAL(vtime_bm_init(&clk, &cfg) == 0);
	/* nothing there yet */
	CU_ASSERT(vtime_bm_vmclock_read(&clk, 0, &r) == VTIME_ENODEV);
	CU_ASSERT(vtime_vmclock_init(vmclock, 4096, VTIME_VMCLOCK_COUNTER_X86_TSC, VTIME_VMCLOCK_TIME_UTC) == 0);
	vmclock_body(&b);
	(void)vtime_vmclock_publish(vmclock, &b, VTIME_VMCLOCK_EV_DISRUPTED);
	/* laid out after init: the first read primes, no event */
	CU_ASSERT(vtime_bm_vmclock_read(&clk, 0, &r) == 0);
	CU_ASSERT(!r.disrupted && !r.new_generation && ev.n == 0);
	CU_ASSERT(r.r.sec >= 1764000000ull && r.r.sec < 1764000002ull);
	CU_ASSERT(r.r.clock_status == VTIME_VMCLOCK_STATUS_SYNCHRONIZED && r.r.counter != 0);
	CU_ASSERT(r.r.maxerror_ns >= 1000);
	/* a republish without an event: none */
	(void)vtime_vmclock_publish(vmclock, &b, 0);
	CU_ASSERT(vtime_bm_vmclock_read(&clk, 1, &r) == 0 && !r.disrupted && ev.n == 0);
	/* a disruption: one event, on the first read only, whichever cpu */
	(void)vtime_vmclock_publish(vmclock, &b, VTIME_VMCLOCK_EV_DISRUPTED);
	CU_ASSERT(vtime_bm_vmclock_read(&clk, 1, &r) == 0 && r.disrupted && !r.new_generation);
	CU_ASSERT(vtime_bm_vmclock_read(&clk, 0, &r) == 0 && !r.disrupted);
	CU_ASSERT(ev.n == 1 && ev.gen == 0 && ev.marker == 2);
	/* a snapshot restore: marker and generation */
	(void)vtime_vmclock_publish(vmclock, &b, VTIME_VMCLOCK_EV_NEW_GENERATION);
	CU_ASSERT(vtime_bm_vmclock_read(&clk, 0, &r) == 0 && r.disrupted && r.new_generation);
	CU_ASSERT(r.r.disruption_marker == 3 && r.r.vm_generation_counter == 1);
	CU_ASSERT(ev.n == 2 && ev.gen == 1 && ev.generation == 1);
	/* an unreliable page: the error, and the marker still watched */
	b.clock_status = VTIME_VMCLOCK_STATUS_UNRELIABLE;
	(void)vtime_vmclock_publish(vmclock, &b, VTIME_VMCLOCK_EV_DISRUPTED);
	CU_ASSERT(vtime_bm_vmclock_read(&clk, 0, &r) == VTIME_EUNRELIABLE);
	CU_ASSERT(r.disrupted && r.r.disruption_marker == 4 && ev.n == 3);
	CU_ASSERT(vtime_bm_vmclock_read(&clk, 1, &r) == VTIME_EUNRELIABLE && !r.disrupted);
	/* a page laid out before init: init primes from it; the first change
	 * after init is an event even if no read saw the page before */
	b.clock_status = VTIME_VMCLOCK_STATUS_SYNCHRONIZED;
	CU_ASSERT_FATAL(vtime_bm_init(&clk, &cfg) == 0);
	(void)vtime_vmclock_publish(vmclock, &b, VTIME_VMCLOCK_EV_DISRUPTED);
	CU_ASSERT(vtime_bm_vmclock_read(&clk, 0, &r) == 0 && r.disrupted && r.r.disruption_marker == 5 && ev.n == 4);
	CU_ASSERT(vtime_bm_vmclock_read(&clk, 9, &r) == VTIME_EINVAL); /* no such cpu */
	cfg.vmclock_size = 16;
	CU_ASSERT(vtime_bm_init(&clk, &cfg) == VTIME_EINVAL);
	cfg.vmclock = NULL;
	CU_ASSERT(vtime_bm_init(&clk, &cfg) == 0);
	CU_ASSERT(vtime_bm_vmclock_read(&clk, 0, &r) == VTIME_EINVAL);
}

/* Two readers race a writer that disrupts the page n times, each time
 * waiting until a reader has seen it: exactly n events in all, whichever
 * thread saw each first. */
struct race {
	volatile int stop;
	unsigned reads[2], events[2];
};

static struct race race;

static void *reader(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;
	struct vtime_bm_vmclock_reading r;

	while (!__atomic_load_n(&race.stop, __ATOMIC_ACQUIRE)) {
		int err = vtime_bm_vmclock_read(&clk, me, &r);
		CU_ASSERT(err == 0 || err == VTIME_EAGAIN);
		/* the marker is watched even when the time read gave up (EAGAIN
		 * with the snapshot after it consistent): the event counts */
		race.events[me] += r.disrupted;
		if (err)
			continue;
		race.reads[me]++;
	}
	return NULL;
}

static void test_vmclock_race(void)
{
	const unsigned n = (unsigned)vt_test_iters(2000) / 10 + 20;
	struct vtime_bm_config cfg;
	struct vtime_bm_hv_ops ops;
	struct hooks h = { 0 };
	struct events ev = { 0 };
	struct vtime_vmclock_abi b;
	pthread_t t[2];

	config(&cfg, &ops, &h);
	cfg.on_disrupted = on_disrupted;
	cfg.disrupted_ctx = &ev;
	memset(vmclock, 0, sizeof vmclock);
	CU_ASSERT(vtime_vmclock_init(vmclock, 4096, VTIME_VMCLOCK_COUNTER_X86_TSC, VTIME_VMCLOCK_TIME_UTC) == 0);
	vmclock_body(&b);
	(void)vtime_vmclock_publish(vmclock, &b, 0);
	CU_ASSERT_FATAL(vtime_bm_init(&clk, &cfg) == 0);
	memset(&race, 0, sizeof race);
	for (uintptr_t i = 0; i < 2; i++)
		CU_ASSERT_FATAL(pthread_create(&t[i], NULL, reader, (void *)i) == 0);
	for (unsigned k = 1; k <= n; k++) {
		/* plain republishes between disruptions, then wait for the event */
		for (int j = 0; j < 3; j++)
			(void)vtime_vmclock_publish(vmclock, &b, 0);
		(void)vtime_vmclock_publish(vmclock, &b, k % 5 ? VTIME_VMCLOCK_EV_DISRUPTED : VTIME_VMCLOCK_EV_NEW_GENERATION);
		while (__atomic_load_n(&ev.n, __ATOMIC_ACQUIRE) < k)
			vtime_arch_relax();
	}
	__atomic_store_n(&race.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("\n  measured: %u disruptions, %u + %u reads: %u + %u events (%u with a new generation)\n", n,
	       race.reads[0], race.reads[1], race.events[0], race.events[1], ev.gen);
	CU_ASSERT(ev.n == n);
	CU_ASSERT(race.events[0] + race.events[1] == n);
	CU_ASSERT(ev.gen == n / 5);
}

static const struct vt_test_case cases[] = {
	{ "detection: KVM and Hyper-V at any base (fake CPUID)", test_detect },
	{ "Hyper-V: registration value, page reads, TIME_REF_COUNT fallback", test_hyperv },
	{ "VMClock: reads, one event per marker change, unreliable pages watched", test_vmclock },
	{ "VMClock: two readers racing a writer, exactly one event per change", test_vmclock_race },
	{ NULL, NULL },
};

int main(void)
{
	const struct vt_test_suite suites[] = { { "baremetal", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
