/* SPDX-License-Identifier: MIT */
/* minivmm guest kernel: 64-bit, no interrupts, one loop per test. Each cpu
 * registers its kvmclock record through the bare-metal shim and reports
 * readings in the shared page (struct minivmm_shared). */
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

static inline void halt_forever(void)
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

static const struct vtime_bm_hv_ops port_ops = { port_register_cpu, port_register_wall, NULL };

static void on_stopped(void *ctx, unsigned cpu)
{
	(void)ctx;
	/* A real kernel would touch its soft-lockup and RCU watchdogs here. */
	__atomic_fetch_add(&SHARED->cpu[cpu].stopped, 1u, __ATOMIC_RELAXED);
}

static void fail(unsigned cpu, int err)
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
	if (!f.kvm)
		fail(0, VTIME_ENODEV);
	if (vtime_bm_init(&clk, &cfg))
		fail(0, VTIME_EINVAL);
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
	default:
		fail(cpu, VTIME_EINVAL);
	}
	outl(MINIVMM_PORT_DONE, cpu);
	halt_forever();
}
