/* SPDX-License-Identifier: MIT */
/* kvmclock end to end on real KVM: the minivmm guest (bare-metal shim + core)
 * on 2 vCPUs, with KVM or vtime's VMM core publishing the records. Figures
 * are printed as "measured:" lines. Skips (77) only without /dev/kvm. No
 * fixed windows: each step waits (up to WAIT_MS) for the events it needs,
 * so the suite also passes on a host busy with other work and other VMs
 * (scripts/kvm-under-load.sh runs it so). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vtime/error.h>
#include <vtime/hyperv.h>
#include <vtime/kvm.h>
#include <vtime/vmclock.h>
#include <vtime/vmm.h>

#include "minivmm.h"
#include "vt_test.h"

static void *image;
static size_t image_size;

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Generous bounds for the waits below: the suite waits for the events it
 * needs (each vCPU's readings, each vCPU's first reading in a new epoch)
 * instead of fixed windows, so a host busy with other work or other VMs
 * only makes it slower. */
#define WAIT_MS 60000u

static uint64_t now_ms(void)
{
	return minivmm_mono_raw_ns() / 1000000u;
}

/* Waits until every vCPU has made at least `more` readings beyond base[]
 * (NULL: beyond 0) and, with epoch != 0, has seen that epoch. false on
 * timeout, saying which vCPU it waited for. */
static bool wait_readings(struct minivmm *vm, const uint64_t *base, uint64_t more, uint32_t epoch)
{
	uint64_t t0 = now_ms();
	for (;;) {
		unsigned waiting = vm->nr_cpus;
		for (unsigned i = 0; i < vm->nr_cpus; i++) {
			struct minivmm_cpu *c = &vm->shared->cpu[i];
			if (c->reads >= (base ? base[i] : 0) + more && (!epoch || c->epoch_seen == epoch))
				waiting--;
			else if (now_ms() - t0 > WAIT_MS) {
				printf("\n  cpu %u: %llu readings, epoch %u (waited %u ms for %llu more, epoch %u; state %d: %s)\n",
				       i, (unsigned long long)c->reads, c->epoch_seen, WAIT_MS, (unsigned long long)more, epoch,
				       (int)vm->cpu[i].state, vm->cpu[i].why);
				return false;
			}
		}
		if (!waiting)
			return true;
		sleep_ms(2);
	}
}

static void snapshot_reads(const struct minivmm *vm, uint64_t *out)
{
	for (unsigned i = 0; i < vm->nr_cpus; i++)
		out[i] = vm->shared->cpu[i].reads;
}

static const char *mode_name(enum minivmm_mode m)
{
	return m == MINIVMM_MODE_VMM ? "vmm" : "kvm";
}

static bool boot(struct minivmm *vm, enum minivmm_mode mode, uint32_t test, uint32_t iters)
{
	if (minivmm_create(vm, mode, 2, image, image_size, test, iters) < 0 || minivmm_start(vm) < 0) {
		printf("\n  create/start failed: %s\n", vm->cpu[0].why);
		return false;
	}
	return true;
}

static bool all_done(struct minivmm *vm)
{
	bool ok = true;
	for (unsigned i = 0; i < vm->nr_cpus; i++)
		if (vm->cpu[i].state != MV_DONE) {
			printf("\n  cpu %u: state %d: %s\n", i, (int)vm->cpu[i].state, vm->cpu[i].why);
			ok = false;
		}
	return ok;
}

/* ---- never decreasing across both vCPUs ---- */

static void mono(enum minivmm_mode mode)
{
	const uint32_t iters = 1500; /* each guest RDTSC costs ~0.15 ms on nested hosts */
	struct minivmm vm;
	struct minivmm_log *log;
	uint64_t n, switches = 0, bad = 0;

	uint64_t t0 = minivmm_mono_raw_ns();

	CU_ASSERT_FATAL(boot(&vm, mode, MINIVMM_TEST_MONO, iters));
	CU_ASSERT(minivmm_wait(&vm, WAIT_MS) == 0);
	printf("\n  (guest run %.1f ms)", (minivmm_mono_raw_ns() - t0) / 1e6);
	CU_ASSERT(all_done(&vm));
	log = (struct minivmm_log *)(vm.mem + MINIVMM_LOG);
	n = vm.shared->log_count;
	CU_ASSERT(n == 2u * iters);
	for (uint64_t i = 1; i < n; i++) {
		if (log[i].ns < log[i - 1].ns || log[i].raw_ns < log[i - 1].raw_ns)
			bad++;
		if (log[i].cpu != log[i - 1].cpu)
			switches++;
	}
	printf("\n  measured: %s mode: %llu readings ordered through a lock, %llu cpu switches, "
	       "%llu backwards (clamped), %llu backwards (raw record), stable advertised %u, flags 0x%x\n",
	       mode_name(mode), (unsigned long long)n, (unsigned long long)switches,
	       (unsigned long long)vm.shared->backwards, (unsigned long long)vm.shared->raw_backwards,
	       vm.shared->stable_advertised, vm.shared->cpu[0].flags);
	CU_ASSERT(vm.shared->backwards == 0);
	/* The stable bit is advertised and set: the guest skips the clamp, so the
	 * raw records themselves must never go backwards across vCPUs. */
	CU_ASSERT(vm.shared->stable_advertised == 1);
	CU_ASSERT(vm.shared->cpu[0].flags & VTIME_PVCLOCK_TSC_STABLE);
	CU_ASSERT(vm.shared->raw_backwards == 0);
	CU_ASSERT(bad == 0);
	CU_ASSERT(switches >= 10); /* both vCPUs really interleaved */
	minivmm_destroy(&vm);
}

static void test_mono_kvm(void)
{
	mono(MINIVMM_MODE_KVM);
}

static void test_mono_vmm(void)
{
	mono(MINIVMM_MODE_VMM);
}

/* ---- agreement with KVM_GET_CLOCK and rate vs CLOCK_MONOTONIC_RAW ---- */

struct sample {
	uint64_t c1, c2;      /* VM clock just before entry / just after exit */
	uint64_t s, gtsc;     /* guest reading between them, and its TSC */
	uint64_t lat;         /* guest-timed NULL exit round trip */
	uint64_t raw0, raw1;  /* host CLOCK_MONOTONIC_RAW before c1 / after c2 */
	uint64_t tsc0, tsc1;  /* host TSC paired with raw0 / raw1 */
};

struct agree {
	struct sample *v;
	size_t n, cap;
	struct sample cur;
};

static uint64_t vm_clock(struct minivmm *vm)
{
	struct vtime_kvm_clock c;

	if (vm->mode == MINIVMM_MODE_VMM)
		return vtime_vmm_clock(&vm->vt, minivmm_rdtsc());
	if (vtime_kvm_clock_get(vm->vm_fd, &c))
		return 0;
	return c.clock_ns;
}

/* (MONOTONIC_RAW, TSC) pair: the tightest bracket of 5, so a preemption
 * between the reads (a loaded host) cannot skew the rate measured from it. */
static void raw_pair(uint64_t *raw, uint64_t *tsc)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		uint64_t t0 = minivmm_rdtsc(), r = minivmm_mono_raw_ns(), t1 = minivmm_rdtsc();
		if (t1 - t0 < best) {
			best = t1 - t0;
			*raw = r;
			*tsc = t0 + (t1 - t0) / 2;
		}
	}
}

static void on_mark(struct minivmm *vm, unsigned cpu, uint32_t value, void *ctx)
{
	struct agree *a = ctx;
	(void)cpu;
	if (value == 0) {
		raw_pair(&a->cur.raw0, &a->cur.tsc0);
		a->cur.c1 = vm_clock(vm); /* last thing before re-entering */
		return;
	}
	a->cur.c2 = vm_clock(vm); /* first thing after the exit */
	raw_pair(&a->cur.raw1, &a->cur.tsc1);
	a->cur.s = vm->shared->sample_ns;
	a->cur.gtsc = vm->shared->sample_tsc;
	a->cur.lat = vm->shared->sample_lat;
	if (a->n < a->cap)
		a->v[a->n++] = a->cur;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static uint64_t median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

/* Index of the sample with the tightest raw bracket among [from, to). */
static size_t tightest(const struct agree *a, size_t from, size_t to)
{
	size_t best = from;
	for (size_t i = from; i < to; i++)
		if (a->v[i].raw1 - a->v[i].raw0 < a->v[best].raw1 - a->v[best].raw0)
			best = i;
	return best;
}

static void agree(enum minivmm_mode mode)
{
	struct agree a = { 0 };
	struct minivmm vm;
	uint64_t *before, *after, *lat, outside = 0;
	size_t n, f, l;
	long double g_rate, h_rate, ppm_tsc, dur, ppm_br, bound;

	a.cap = 20000;
	a.v = calloc(a.cap, sizeof(*a.v));
	CU_ASSERT_FATAL(a.v != NULL);
	if (minivmm_create(&vm, mode, 2, image, image_size, MINIVMM_TEST_AGREE, 0) < 0) {
		printf("\n  create failed: %s\n", vm.cpu[0].why);
		CU_FAIL_FATAL("create");
	}
	vm.on_mark = on_mark;
	vm.mark_ctx = &a;
	CU_ASSERT_FATAL(minivmm_start(&vm) == 0);
	{
		/* at least 1.5 s and 300 samples (about 1 ms apart when the host is
		 * idle; fewer per second when it is busy) */
		uint64_t t0 = now_ms();
		while ((now_ms() - t0 < 1500 || __atomic_load_n(&a.n, __ATOMIC_RELAXED) < 300) && now_ms() - t0 < WAIT_MS)
			sleep_ms(10);
	}
	__atomic_store_n(&vm.shared->stop, 1u, __ATOMIC_RELEASE);
	CU_ASSERT(minivmm_wait(&vm, WAIT_MS) == 0);
	CU_ASSERT(all_done(&vm));
	n = a.n;
	CU_ASSERT_FATAL(n >= 100);
	before = calloc(n, sizeof(*before));
	after = calloc(n, sizeof(*after));
	lat = calloc(n, sizeof(*lat));
	CU_ASSERT_FATAL(before && after && lat);
	for (size_t i = 0; i < n; i++) {
		struct sample *s = &a.v[i];
		if (s->s < s->c1 || s->s > s->c2)
			outside++;
		before[i] = s->s - s->c1;
		after[i] = s->c2 - s->s;
		lat[i] = s->lat;
	}
	/* Rate through the shared TSC: guest kvmclock per guest tick over host
	 * MONOTONIC_RAW per host tick (guest TSC = host TSC + a constant). */
	f = tightest(&a, 0, n / 20);
	l = tightest(&a, n - n / 20, n);
	g_rate = (long double)(a.v[l].s - a.v[f].s) / (long double)(a.v[l].gtsc - a.v[f].gtsc);
	h_rate = (long double)(a.v[l].raw0 - a.v[f].raw0) / (long double)(a.v[l].tsc0 - a.v[f].tsc0);
	ppm_tsc = (g_rate / h_rate - 1.0L) * 1e6L;
	/* Directly: guest readings against bracketing host raw readings. */
	{
		long double mf = ((long double)a.v[f].raw0 + (long double)a.v[f].raw1) / 2.0L;
		long double ml = ((long double)a.v[l].raw0 + (long double)a.v[l].raw1) / 2.0L;
		dur = ml - mf;
		ppm_br = ((long double)(a.v[l].s - a.v[f].s) / dur - 1.0L) * 1e6L;
		bound = ((long double)(a.v[f].raw1 - a.v[f].raw0) + (long double)(a.v[l].raw1 - a.v[l].raw0)) / 2.0L /
			dur * 1e6L;
	}
	{
		uint64_t mb = median(before, n), ma = median(after, n), ml = median(lat, n);
		uint64_t xb = before[n - 1], xa = after[n - 1];
		printf("\n  measured: %s mode: %zu samples; guest reading inside [clock before entry, clock after exit] "
		       "in %zu/%zu; entry->reading median %llu ns (max %llu), reading->exit median %llu ns (max %llu); "
		       "NULL-exit round trip median %llu ns\n",
		       mode_name(mode), n, n - (size_t)outside, n, (unsigned long long)mb, (unsigned long long)xb,
		       (unsigned long long)ma, (unsigned long long)xa, (unsigned long long)ml);
		printf("  measured: %s mode: rate vs CLOCK_MONOTONIC_RAW over %.3Lf s: %+.4Lf ppm (via shared TSC), "
		       "%+.4Lf ppm (direct, bracket error +-%.4Lf ppm)\n",
		       mode_name(mode), dur / 1e9L, ppm_tsc, ppm_br, bound);
		CU_ASSERT(outside == 0);
		CU_ASSERT(mb <= ml);
		CU_ASSERT(ma <= ml);
	}
	CU_ASSERT(dur >= 1e9L);
	CU_ASSERT(fabsl(ppm_tsc) < 1.0L);
	CU_ASSERT(fabsl(ppm_br) < 1.0L + bound);
	free(before);
	free(after);
	free(lat);
	free(a.v);
	minivmm_destroy(&vm);
}

static void test_agree_kvm(void)
{
	agree(MINIVMM_MODE_KVM);
}

static void test_agree_vmm(void)
{
	agree(MINIVMM_MODE_VMM);
}

/* ---- pause, GUEST_STOPPED, resume ---- */

/* Guest wall clock (read at its first reading after a resume or restore)
 * minus host realtime at the same kvmclock value. */
/* How far v lies outside [lo, hi] (0 inside). */
static int64_t outside(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? v - lo : v > hi ? v - hi : 0;
}

/* Host realtime at the moment the VM clock read ns: bracketed by two
 * realtime reads, so a preemption of this thread widens the bracket
 * instead of showing up as an error. */
static void clock_and_realtime(struct minivmm *vm, uint64_t *clk, uint64_t *rt0, uint64_t *rt1)
{
	*rt0 = minivmm_realtime_ns();
	*clk = vm_clock(vm);
	*rt1 = minivmm_realtime_ns();
}

static int64_t guest_wall_error(struct minivmm *vm, unsigned cpu)
{
	struct minivmm_cpu *c = &vm->shared->cpu[cpu];
	uint64_t clk, rt0, rt1;

	clock_and_realtime(vm, &clk, &rt0, &rt1);
	/* the guest's wall clock at its epoch reading, carried forward to the
	 * VM clock read here, is host realtime then: within [rt0, rt1] */
	return outside((int64_t)(c->epoch_wall_ns + (clk - c->epoch_ns)), (int64_t)rt0, (int64_t)rt1);
}

static void check_stopped_consumed(struct minivmm *vm, unsigned cpu)
{
	struct vtime_pvclock_vcpu_time_info r;
	uint64_t gpa = MINIVMM_RECORDS + (uint64_t)cpu * VTIME_PVCLOCK_RECORD_STRIDE;

	CU_ASSERT(vtime_kvm_guest_record_read(vm->mem, vm->mem_size, gpa | 1u, &r) == 0);
	CU_ASSERT((r.flags & VTIME_PVCLOCK_GUEST_STOPPED) == 0);
}

/* Host scheduling noise: a vCPU thread preempted inside KVM_RUN right around
 * the resume makes the guest see that time too (correctly). Timing checks
 * take the best of up to 5 runs (a busy host preempts more often); every
 * other check holds in every run. */
#define TIMING_ATTEMPTS 5

static int64_t worst(int64_t a, int64_t b)
{
	if (a < 0)
		a = -a;
	if (b < 0)
		b = -b;
	return a > b ? a : b;
}

static int64_t pause_resume(enum minivmm_mode mode, enum vtime_resume_policy policy)
{
	int64_t worst_excess = 0;

	struct vtime_vmm_now n0 = { 0 }, n1 = { 0 };
	struct minivmm vm;
	uint64_t t0, t1, before[MINIVMM_MAX_CPUS];

	if (!boot(&vm, mode, MINIVMM_TEST_LOOP, 0)) {
		CU_FAIL("boot");
		return INT64_MAX;
	}
	CU_ASSERT_FATAL(wait_readings(&vm, NULL, 50, 0)); /* both vCPUs running */
	CU_ASSERT_FATAL(minivmm_pause(&vm, WAIT_MS) == 0);
	t0 = minivmm_mono_raw_ns();
	if (mode == MINIVMM_MODE_VMM) {
		minivmm_now(&n0);
		CU_ASSERT(vtime_vmm_pause(&vm.vt, &n0) == 0);
	}
	sleep_ms(300);
	if (mode == MINIVMM_MODE_KVM) {
		/* Before resuming: the guest must learn it was stopped. */
		for (unsigned i = 0; i < vm.nr_cpus; i++)
			CU_ASSERT(vtime_kvm_clock_ctrl(vm.cpu[i].fd) == 0);
	} else {
		minivmm_now(&n1);
		CU_ASSERT(vtime_vmm_resume(&vm.vt, &n1, policy) == 0);
		CU_ASSERT(vtime_vmm_publish_all(&vm.vt, &n1) == 0);
	}
	t1 = minivmm_mono_raw_ns();
	vm.shared->epoch++;
	snapshot_reads(&vm, before);
	minivmm_resume(&vm);
	/* each vCPU's first reading in the new epoch, and some after it */
	CU_ASSERT(wait_readings(&vm, before, 50, vm.shared->epoch));
	__atomic_store_n(&vm.shared->stop, 1u, __ATOMIC_RELEASE);
	CU_ASSERT(minivmm_wait(&vm, WAIT_MS) == 0);
	CU_ASSERT(all_done(&vm));
	for (unsigned i = 0; i < vm.nr_cpus; i++) {
		struct minivmm_cpu *c = &vm.shared->cpu[i];
		/* The vCPU was out of the guest from its park to its wake-up; with
		 * freeze kvmclock did not count [pause, resume] of that. */
		int64_t stopped = (int64_t)(vm.cpu[i].t_unpark - vm.cpu[i].t_park);
		int64_t frozen = policy == VTIME_RESUME_FREEZE ? (int64_t)(n1.host_ns - n0.host_ns) : 0;
		int64_t step = c->epoch_step, excess = step - (stopped - frozen);

		printf("\n  measured: %s mode (%s): cpu %u: paused %.3f ms (vCPU out %.3f ms, clock frozen %.3f ms), "
		       "guest step at resume %.3f ms, excess over expected %+.3f ms, GUEST_STOPPED seen %u time(s), "
		       "%llu reads, %llu backwards",
		       mode_name(mode), policy == VTIME_RESUME_FREEZE ? "freeze" : "advance", i, (t1 - t0) / 1e6,
		       stopped / 1e6, frozen / 1e6, step / 1e6, excess / 1e6, c->stopped, (unsigned long long)c->reads,
		       (unsigned long long)c->backwards);
		int64_t werr = guest_wall_error(&vm, i);

		printf(", guest wall clock error %+.3f ms", werr / 1e6);
		CU_ASSERT(werr > -1000000 && werr < 1000000);
		CU_ASSERT(c->stopped == 1);
		CU_ASSERT(c->backwards == 0);
		CU_ASSERT(c->epoch_seen == vm.shared->epoch);
		CU_ASSERT(step >= 0);
		worst_excess = worst(worst_excess, excess);
		if (policy == VTIME_RESUME_ADVANCE) {
			CU_ASSERT(step >= (int64_t)(t1 - t0));
		}
		check_stopped_consumed(&vm, i);
	}
	printf("\n");
	minivmm_destroy(&vm);
	return worst_excess;
}

static void pause_timed(enum minivmm_mode mode, enum vtime_resume_policy policy)
{
	int64_t best = INT64_MAX;
	int n = 0;

	while (n < TIMING_ATTEMPTS && best >= 1000000) {
		int64_t w = pause_resume(mode, policy);
		best = w < best ? w : best;
		n++;
	}
	printf("  measured: best |excess| %.3f ms after %d run(s)\n", best / 1e6, n);
	CU_ASSERT(best < 1000000);
}

static void test_pause_kvm(void)
{
	pause_timed(MINIVMM_MODE_KVM, VTIME_RESUME_ADVANCE); /* KVM's clock runs on */
}

static void test_pause_vmm_freeze(void)
{
	pause_timed(MINIVMM_MODE_VMM, VTIME_RESUME_FREEZE);
}

static void test_pause_vmm_advance(void)
{
	pause_timed(MINIVMM_MODE_VMM, VTIME_RESUME_ADVANCE);
}

/* ---- snapshot and restore into a new VM ---- */

static int64_t snapshot_restore(enum minivmm_mode mode, enum vtime_resume_policy policy)
{
	int64_t worst_excess = 0;
	struct minivmm vm, vm2;
	struct minivmm_snapshot snap;
	struct vtime_kvm_save ck;
	struct vtime_vmm_state vs;
	struct vtime_vmm_vcpu_state vcs[MINIVMM_MAX_CPUS];
	uint64_t last[MINIVMM_MAX_CPUS], t_call, t_set, rt_set, saved, saved_rt, before[MINIVMM_MAX_CPUS];
	uint32_t wsec, wnsec;
	int64_t wall_err, clock_err, clock_run;

	if (!boot(&vm, mode, MINIVMM_TEST_LOOP, 0)) {
		CU_FAIL("boot");
		return INT64_MAX;
	}
	CU_ASSERT_FATAL(wait_readings(&vm, NULL, 50, 0)); /* both vCPUs running */
	CU_ASSERT_FATAL(minivmm_pause(&vm, WAIT_MS) == 0);
	CU_ASSERT_FATAL(minivmm_snapshot(&vm, &snap) == 0);
	for (unsigned i = 0; i < vm.nr_cpus; i++)
		last[i] = vm.shared->cpu[i].last_ns;
	/* what the snapshot's byte images hold */
	if (mode == MINIVMM_MODE_KVM) {
		CU_ASSERT_FATAL(vtime_kvm_save_decode(&ck, snap.clock, sizeof snap.clock) == 0);
		saved = ck.clock_ns;
		saved_rt = ck.realtime_ns;
	} else {
		CU_ASSERT_FATAL(vtime_vmm_state_decode(&vs, snap.vt, sizeof snap.vt) == 0);
		for (unsigned i = 0; i < vm.nr_cpus; i++)
			CU_ASSERT_FATAL(vtime_vmm_vcpu_state_decode(&vcs[i], snap.vt_cpu[i], sizeof snap.vt_cpu[i]) == 0);
		saved = vs.kvmclock_ns;
		saved_rt = vs.realtime_ns;
	}
	minivmm_destroy(&vm);
	sleep_ms(200);

	if (minivmm_create_empty(&vm2, mode, 2) < 0) {
		printf("\n  create failed: %s\n", vm2.cpu[0].why);
		CU_FAIL_FATAL("create");
	}
	t_call = minivmm_mono_raw_ns();
	if (minivmm_restore(&vm2, &snap, policy) < 0) {
		printf("\n  restore failed: %s\n", vm2.cpu[0].why);
		CU_FAIL_FATAL("restore");
	}
	t_set = minivmm_mono_raw_ns();
	rt_set = minivmm_realtime_ns();
	/* Clock level: after the restore the VM clock reads the saved value
	 * (freeze) or the saved value plus the real pause (advance), plus the
	 * time it ran since it was set. This thread may be preempted anywhere
	 * here on a busy host: the allowance is that run time as measured,
	 * between the restore call (freeze) or the realtime read (advance) and
	 * the end of the clock read, not a fixed window. */
	{
		uint64_t clk = vm_clock(&vm2), t_read = minivmm_mono_raw_ns();
		clock_err = (int64_t)(clk - saved) - (policy == VTIME_RESUME_ADVANCE ? (int64_t)(rt_set - saved_rt) : 0);
		clock_run = (int64_t)(t_read - (policy == VTIME_RESUME_ADVANCE ? t_set : t_call));
	}
	vm2.shared->epoch++;
	snapshot_reads(&vm2, before);
	CU_ASSERT_FATAL(minivmm_start(&vm2) == 0);
	/* each vCPU's first reading in the restored VM, and some after it */
	CU_ASSERT(wait_readings(&vm2, before, 50, vm2.shared->epoch));
	/* Wall record rewritten after the restore: wall + kvmclock = host realtime. */
	CU_ASSERT(vtime_pvclock_wall_read((volatile struct vtime_pvclock_wall_clock *)(vm2.mem + MINIVMM_WALL), 0, &wsec,
					  &wnsec) == 0);
	{
		uint64_t clk, rt0, rt1;
		clock_and_realtime(&vm2, &clk, &rt0, &rt1);
		wall_err = outside((int64_t)vtime_pvclock_wall_ns(wsec, wnsec, clk), (int64_t)rt0, (int64_t)rt1);
	}
	__atomic_store_n(&vm2.shared->stop, 1u, __ATOMIC_RELEASE);
	CU_ASSERT(minivmm_wait(&vm2, WAIT_MS) == 0);
	CU_ASSERT(all_done(&vm2));
	printf("\n  measured: %s mode snapshot/restore (%s): VM clock right after restore minus expected: %+.3f ms "
	       "(it may have run %.3f ms since it was set); guest wall clock error after restore %+.3f ms",
	       mode_name(mode), policy == VTIME_RESUME_FREEZE ? "freeze" : "advance", clock_err / 1e6, clock_run / 1e6,
	       wall_err / 1e6);
	/* +-1 ms: realtime slews against the raw base */
	CU_ASSERT(clock_err > -1000000 && clock_err < 1000000 + clock_run);
	CU_ASSERT(wall_err > -1000000 && wall_err < 1000000);
	for (unsigned i = 0; i < vm2.nr_cpus; i++) {
		struct minivmm_cpu *c = &vm2.shared->cpu[i];
		int64_t step = c->epoch_step;
		uint64_t first = last[i] + (uint64_t)step;
		/* The clock ran from the restore until this vCPU's first entry. */
		int64_t wait = (int64_t)(vm2.cpu[i].t_first_run - t_set);
		int64_t real = (int64_t)(rt_set - saved_rt);
		uint64_t msr = mode == MINIVMM_MODE_KVM ? ck.vcpu[i].system_time : snap.rec_gpa[i] | 1u;
		uint32_t v0 = mode == MINIVMM_MODE_KVM ? ck.vcpu[i].version : vcs[i].version;
		int64_t gap = (int64_t)(first - saved);
		int64_t excess = gap - wait - (policy == VTIME_RESUME_ADVANCE ? real : 0);
		struct vtime_pvclock_vcpu_time_info r;

		CU_ASSERT(vtime_kvm_guest_record_read(vm2.mem, vm2.mem_size, msr, &r) == 0);
		printf("\n  measured: %s mode snapshot/restore (%s): cpu %u: first reading after restore minus saved clock "
		       "%.3f ms (real pause %.3f ms, restore->first entry %.3f ms, excess %+.3f ms), step over the last "
		       "reading before save %.3f ms, %llu backwards, record version %u -> %u",
		       mode_name(mode), policy == VTIME_RESUME_FREEZE ? "freeze" : "advance", i, gap / 1e6,
		       real / 1e6, wait / 1e6, excess / 1e6, step / 1e6, (unsigned long long)c->backwards, v0, r.version);
		{
			int64_t werr = guest_wall_error(&vm2, i);
			printf(", GUEST_STOPPED seen %u, guest wall clock error %+.3f ms", c->stopped, werr / 1e6);
			CU_ASSERT(werr > -1000000 && werr < 1000000);
		}
		CU_ASSERT(c->stopped == 1); /* requested by the restore */
		CU_ASSERT(c->backwards == 0);
		CU_ASSERT(c->epoch_seen == vm2.shared->epoch);
		CU_ASSERT(step >= 0);
		CU_ASSERT(gap >= 0);
		worst_excess = worst(worst_excess, excess);
		/* Versions continue: never one the guest has seen before. */
		CU_ASSERT(r.version > v0);
	}
	printf("\n");
	minivmm_destroy(&vm2);
	minivmm_snapshot_free(&snap);
	return worst_excess;
}

static void snapshot_timed(enum minivmm_mode mode, enum vtime_resume_policy policy)
{
	int64_t best = INT64_MAX;
	int n = 0;

	while (n < TIMING_ATTEMPTS && best >= 1000000) {
		int64_t w = snapshot_restore(mode, policy);
		best = w < best ? w : best;
		n++;
	}
	printf("  measured: best |excess| %.3f ms after %d run(s)\n", best / 1e6, n);
	CU_ASSERT(best < 1000000);
}

static void test_snapshot_freeze(void)
{
	snapshot_timed(MINIVMM_MODE_KVM, VTIME_RESUME_FREEZE);
}

static void test_snapshot_advance(void)
{
	snapshot_timed(MINIVMM_MODE_KVM, VTIME_RESUME_ADVANCE);
}

static void test_snapshot_vmm_freeze(void)
{
	snapshot_timed(MINIVMM_MODE_VMM, VTIME_RESUME_FREEZE);
}

static void test_snapshot_vmm_advance(void)
{
	snapshot_timed(MINIVMM_MODE_VMM, VTIME_RESUME_ADVANCE);
}

/* ---- the three ABIs in one guest: kvmclock, Hyper-V page, VMClock ---- */

/* VMM mode publishes all three from one master clock; the guest reads them
 * through vtime's readers on both vCPUs (struct minivmm_abis). Bounds:
 * Hyper-V * 100 - kvmclock at one counter in (-200, +100] ns (KVM's floors
 * of system_time / 100 and of the two products), VMClock - kvmclock at one
 * counter the VM's realtime view within 3 ns (vmm.h), and no clock ever
 * below an earlier reading, per vCPU or across vCPUs (VMClock: between
 * disruptions, which re-sync it to host realtime). */

#define HK_LO -200
#define HK_HI 100

/* Host realtime minus the VM's VMClock time now, extrapolated from the
 * guest's last VMClock reading with the VM clock. */
static int64_t vmclock_vs_host(struct minivmm *vm, unsigned cpu)
{
	const struct minivmm_abis_cpu *c = &vm->shared->abis.cpu[cpu];
	uint64_t k = vtime_vmm_clock(&vm->vt, minivmm_rdtsc()), rt = minivmm_realtime_ns();

	return (int64_t)(rt - (c->last_vm + (k - c->vm_k)));
}

static const char *vmclock_status_name(uint32_t s)
{
	static const char *const names[] = { "UNKNOWN", "INITIALIZING", "SYNCHRONIZED", "FREERUNNING", "UNRELIABLE" };
	return s < 5 ? names[s] : "?";
}

/* The checks that hold at the end of every phase (the vCPUs stopped or
 * parked: the guest writes its report fields one by one); prints the
 * measured lines. */
static void abis_report(struct minivmm *vm, const char *phase)
{
	const struct minivmm_abis *A = &vm->shared->abis;

	printf("\n  measured: %s: guest found Hyper-V at 0x%x (KVM at 0x%x), page registered by %s (%llu WRMSR, "
	       "%llu RDMSR exits); %llu lock-ordered rounds; backwards across vCPUs: kvmclock %llu, Hyper-V %llu, "
	       "VMClock %llu",
	       phase, vm->shared->hv_base, vm->shared->kvm_base,
	       vm->shared->hv_msr ? "WRMSR 0x40000021 (exit to the VMM)" : "port I/O", (unsigned long long)vm->msr_writes,
	       (unsigned long long)vm->msr_reads, (unsigned long long)A->rounds, (unsigned long long)A->pv_back,
	       (unsigned long long)A->hv_back, (unsigned long long)A->vm_back);
	CU_ASSERT(vm->shared->hyperv == 1);
	CU_ASSERT(vm->shared->hv_base == VTIME_HV_CPUID_VENDOR);
	CU_ASSERT(vm->shared->kvm_base == 0x40000100u);
	CU_ASSERT(A->pv_back == 0 && A->hv_back == 0 && A->vm_back == 0);
	for (unsigned i = 0; i < vm->nr_cpus; i++) {
		const struct minivmm_abis_cpu *c = &A->cpu[i];
		int64_t rt_err = vmclock_vs_host(vm, i);

		printf("\n  measured: %s: cpu %u: %llu rounds; at one counter Hyper-V*100 - kvmclock %+lld..%+lld ns, "
		       "VMClock - kvmclock spread %lld ns (now %lld..%lld vs the VMM's realtime offset %llu), "
		       "VMClock - pvclock wall clock %+lld..%+lld ns; VMClock vs host realtime %+.3f us, status %s, "
		       "maxerror %llu ns; backwards kvmclock %llu, Hyper-V %llu, VMClock %llu; Hyper-V from MSR %u",
		       phase, i, (unsigned long long)c->rounds, (long long)c->hk_min, (long long)c->hk_max,
		       (long long)c->vk_spread, (long long)c->vk_min, (long long)c->vk_max,
		       (unsigned long long)vm->vt.rt_offset_ns, (long long)c->vw_min, (long long)c->vw_max, rt_err / 1e3,
		       vmclock_status_name(c->status), (unsigned long long)c->maxerror_ns, (unsigned long long)c->pv_back,
		       (unsigned long long)c->hv_back, (unsigned long long)c->vm_back, c->hv_from_msr);
		CU_ASSERT(c->rounds >= 20);
		CU_ASSERT(c->hk_min > HK_LO && c->hk_max <= HK_HI);
		CU_ASSERT(c->vk_spread <= 6);
		CU_ASSERT(c->vk_min >= (int64_t)vm->vt.rt_offset_ns - 3 && c->vk_max <= (int64_t)vm->vt.rt_offset_ns + 3);
		CU_ASSERT(c->vw_min > -100000 && c->vw_max < 100000);
		CU_ASSERT(rt_err > -1000000 && rt_err < 1000000);
		CU_ASSERT(c->pv_back == 0 && c->hv_back == 0 && c->vm_back == 0);
		CU_ASSERT(c->hv_from_msr == 0);
		/* TIME_REF_COUNT (RDMSR, computed by the VMM through the page) lies
		 * between two page readings around it */
		printf("\n  measured: %s: cpu %u: TIME_REF_COUNT - page reading before it %+lld, page reading after it - "
		       "TIME_REF_COUNT %+lld (100 ns units)",
		       phase, i, (long long)c->msr_after_page, (long long)c->page_after_msr);
		CU_ASSERT(c->msr_after_page >= 0 && c->page_after_msr >= 0);
		CU_ASSERT(c->status != VTIME_VMCLOCK_STATUS_UNRELIABLE);
	}
}

static bool abis_boot(struct minivmm *vm)
{
	if (!boot(vm, MINIVMM_MODE_VMM, MINIVMM_TEST_ABIS, 0))
		return false;
	return true;
}

/* Waits until every vCPU has finished `more` rounds of the three readers
 * beyond where it is now (under load a vCPU may run rarely: no fixed
 * window). false on timeout, saying which vCPU it waited for. */
static bool abis_wait_rounds(struct minivmm *vm, uint64_t more)
{
	uint64_t base[MINIVMM_MAX_CPUS], t0 = now_ms();

	for (unsigned i = 0; i < vm->nr_cpus; i++)
		base[i] = vm->shared->abis.cpu[i].rounds;
	for (;;) {
		unsigned waiting = vm->nr_cpus;
		for (unsigned i = 0; i < vm->nr_cpus; i++) {
			uint64_t r = vm->shared->abis.cpu[i].rounds;
			if (r >= base[i] + more)
				waiting--;
			else if (now_ms() - t0 > WAIT_MS) {
				printf("\n  cpu %u: %llu rounds (waited %u ms for %llu more; state %d: %s)\n", i,
				       (unsigned long long)r, WAIT_MS, (unsigned long long)more, (int)vm->cpu[i].state,
				       vm->cpu[i].why);
				return false;
			}
		}
		if (!waiting)
			return true;
		sleep_ms(2);
	}
}

static void abis_stop(struct minivmm *vm)
{
	__atomic_store_n(&vm->shared->stop, 1u, __ATOMIC_RELEASE);
	CU_ASSERT(minivmm_wait(vm, 10000) == 0);
	CU_ASSERT(all_done(vm));
}

static void test_abis_agree(void)
{
	struct minivmm vm;
	const struct minivmm_abis *A;

	CU_ASSERT_FATAL(abis_boot(&vm));
	CU_ASSERT(abis_wait_rounds(&vm, 40));
	abis_stop(&vm);
	abis_report(&vm, "three ABIs, no disruption");
	A = &vm.shared->abis;
	for (unsigned i = 0; i < vm.nr_cpus; i++) {
		CU_ASSERT(A->cpu[i].marker_changes == 0 && A->cpu[i].gen_changes == 0);
		CU_ASSERT(A->cpu[i].events == 0);
	}
	CU_ASSERT(A->callbacks == 0);
	if (vm.msr_exits) {
		CU_ASSERT(vm.msr_writes == 1); /* one enable of the partition-wide page */
	}
	printf("\n");
	minivmm_destroy(&vm);
}

/* Pauses vm (vCPUs parked) for ms, then resumes it with policy. */
static void abis_pause(struct minivmm *vm, unsigned ms, enum vtime_resume_policy policy)
{
	struct vtime_vmm_now n;

	CU_ASSERT_FATAL(minivmm_pause(vm, 5000) == 0);
	minivmm_now(&n);
	CU_ASSERT(vtime_vmm_pause(&vm->vt, &n) == 0);
	sleep_ms(ms);
	minivmm_now(&n);
	CU_ASSERT(vtime_vmm_resume(&vm->vt, &n, policy) == 0);
	CU_ASSERT(vtime_vmm_publish_all(&vm->vt, &n) == 0);
	minivmm_resume(vm);
}

/* Snapshots vm, destroys it, restores it as kind into *out after ms. */
static void abis_move(struct minivmm *vm, struct minivmm *out, unsigned ms, enum vtime_resume_policy policy,
		      enum vtime_vmm_restore_kind kind)
{
	struct minivmm_snapshot snap;

	CU_ASSERT_FATAL(minivmm_pause(vm, 5000) == 0);
	CU_ASSERT_FATAL(minivmm_snapshot(vm, &snap) == 0);
	minivmm_destroy(vm);
	sleep_ms(ms);
	if (minivmm_create_empty(out, MINIVMM_MODE_VMM, 2) < 0 || minivmm_restore_as(out, &snap, policy, kind) < 0) {
		printf("\n  restore failed: %s\n", out->cpu[0].why);
		CU_FAIL_FATAL("restore");
	}
	minivmm_snapshot_free(&snap);
	CU_ASSERT_FATAL(minivmm_start(out) == 0);
}

static void test_abis_disruptions(void)
{
	struct minivmm vm[3];
	const struct minivmm_abis *A;
	struct vtime_vmclock_abi page;
	uint32_t events = 0, gen_events = 0;
	/* per event: the marker and generation counts a vCPU must have seen */
	static const char *const what[] = { "pause/resume freeze", "pause/resume advance",
					    "snapshot restore (freeze) into a new VM",
					    "live migration (advance) into a new VM" };
	uint32_t want_marker = 0, want_gen = 0;

	/* every vCPU reads between two disruptions (it must see each once) */
	CU_ASSERT_FATAL(abis_boot(&vm[0]));
	CU_ASSERT_FATAL(abis_wait_rounds(&vm[0], 10));
	abis_pause(&vm[0], 100, VTIME_RESUME_FREEZE);
	CU_ASSERT_FATAL(abis_wait_rounds(&vm[0], 5));
	abis_pause(&vm[0], 100, VTIME_RESUME_ADVANCE);
	CU_ASSERT_FATAL(abis_wait_rounds(&vm[0], 5));
	/* a consistent report needs the vCPUs parked (between rounds); parking
	 * without vtime_vmm_pause() is no disruption, only a slow exit */
	CU_ASSERT_FATAL(minivmm_pause(&vm[0], 5000) == 0);
	abis_report(&vm[0], "after two pause/resume");
	A = &vm[0].shared->abis;
	for (unsigned i = 0; i < 2; i++) {
		CU_ASSERT(A->cpu[i].marker_changes == 2);
		CU_ASSERT(A->cpu[i].gen_changes == 0);
	}
	minivmm_resume(&vm[0]);
	abis_move(&vm[0], &vm[1], 100, VTIME_RESUME_FREEZE, VTIME_VMM_RESTORE_SNAPSHOT);
	CU_ASSERT_FATAL(abis_wait_rounds(&vm[1], 5));
	abis_move(&vm[1], &vm[2], 100, VTIME_RESUME_ADVANCE, VTIME_VMM_RESTORE_MIGRATION);
	CU_ASSERT_FATAL(abis_wait_rounds(&vm[2], 20));
	abis_stop(&vm[2]);
	abis_report(&vm[2], "after two pause/resume, a snapshot restore and a live migration");
	A = &vm[2].shared->abis;
	want_marker = 4; /* one per event */
	want_gen = 1;    /* the snapshot restore only */
	for (unsigned i = 0; i < vm[2].nr_cpus; i++) {
		const struct minivmm_abis_cpu *c = &A->cpu[i];

		printf("\n  measured: disruptions (%s; %s; %s; %s): cpu %u saw the marker change %u times (want %u), "
		       "the generation %u times (want %u); smallest VMClock step at a change %+.3f ms; shim events "
		       "first seen on this cpu: %u (%u with a new generation)",
		       what[0], what[1], what[2], what[3], i, c->marker_changes, want_marker, c->gen_changes, want_gen,
		       c->vm_step_min / 1e6, c->events, c->gen_events);
		CU_ASSERT(c->marker_changes == want_marker);
		CU_ASSERT(c->gen_changes == want_gen);
		CU_ASSERT(c->vm_step_min > 0);
		events += c->events;
		gen_events += c->gen_events;
	}
	printf("\n  measured: disruptions: on_disrupted called %u times (%u with a new generation) for 4 events "
	       "(1 snapshot restore)\n",
	       A->callbacks, A->gen_callbacks);
	CU_ASSERT(vtime_vmclock_snapshot((volatile struct vtime_vmclock_abi *)(vm[2].mem + MINIVMM_VMCLOCK), 0, &page) == 0);
	printf("  measured: disruptions: page marker %llu, generation %llu, flags 0x%llx\n",
	       (unsigned long long)page.disruption_marker, (unsigned long long)page.vm_generation_counter,
	       (unsigned long long)page.flags);
	CU_ASSERT(events == want_marker && gen_events == want_gen);
	CU_ASSERT(A->callbacks == want_marker && A->gen_callbacks == want_gen);
	CU_ASSERT(page.disruption_marker == want_marker && page.vm_generation_counter == want_gen);
	minivmm_destroy(&vm[2]);
}

static const struct vt_test_case kvm_cases[] = {
	{ "never decreasing across vCPUs, KVM publishes", test_mono_kvm },
	{ "never decreasing across vCPUs, VMM publishes", test_mono_vmm },
	{ "agrees with KVM_GET_CLOCK, rate vs MONOTONIC_RAW", test_agree_kvm },
	{ "VMM-published clock: bracketed, rate vs MONOTONIC_RAW", test_agree_vmm },
	{ "pause 300 ms + KVMCLOCK_CTRL: GUEST_STOPPED once", test_pause_kvm },
	{ "VMM pause/resume freeze: GUEST_STOPPED once, no jump", test_pause_vmm_freeze },
	{ "VMM pause/resume advance: GUEST_STOPPED once, jump", test_pause_vmm_advance },
	{ "snapshot/restore freeze into a new VM", test_snapshot_freeze },
	{ "snapshot/restore advance into a new VM", test_snapshot_advance },
	{ "VMM-published: snapshot/restore freeze into a new VM", test_snapshot_vmm_freeze },
	{ "VMM-published: snapshot/restore advance into a new VM", test_snapshot_vmm_advance },
	{ "kvmclock, Hyper-V page, VMClock: agree, never backwards", test_abis_agree },
	{ "kvmclock, Hyper-V page, VMClock: marker/generation once per event", test_abis_disruptions },
	{ NULL, NULL },
};

static const struct vt_test_suite suites[] = {
	{ "kvm", kvm_cases },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : MINIVMM_GUEST_BIN;
	char why[256];
	long n;

	if (minivmm_probe(why, sizeof(why)) < 0) {
		printf("SKIP: %s (these tests need a working /dev/kvm)\n", why);
		return 77;
	}
	n = minivmm_load_image(path, &image);
	if (n < 0) {
		printf("cannot read guest image %s\n", path);
		return 1;
	}
	image_size = (size_t)n;
	return vt_test_main(suites);
}
