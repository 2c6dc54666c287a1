/* SPDX-License-Identifier: MIT */
/* minivmm: see minivmm.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>
#include <vtime/arch.h>

#include <vtime/error.h>
#include <vtime/hyperv.h>
#include <vtime/vmclock.h>

#include "minivmm.h"

/* The host TSC, ordered after earlier loads (vtime's one counter read). */
uint64_t minivmm_rdtsc(void)
{
	return vtime_arch_counter_ordered();
}

static uint64_t ts_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t minivmm_mono_raw_ns(void)
{
	return ts_ns(CLOCK_MONOTONIC_RAW);
}

uint64_t minivmm_realtime_ns(void)
{
	return ts_ns(CLOCK_REALTIME);
}

void minivmm_now(struct vtime_vmm_now *now)
{
	/* Keep the tightest of a few (raw, tsc) pairs: preemption between the two
	 * reads would skew the master reference. */
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 5; i++) {
		uint64_t t0 = minivmm_rdtsc(), ns = minivmm_mono_raw_ns(), t1 = minivmm_rdtsc();
		if (t1 - t0 < best) {
			best = t1 - t0;
			now->host_tsc = t0 + (t1 - t0) / 2;
			now->host_ns = ns;
		}
	}
	now->realtime_ns = minivmm_realtime_ns();
}

long minivmm_load_image(const char *path, void **buf)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -1;
	*buf = malloc(MINIVMM_LOG - MINIVMM_ENTRY);
	n = *buf ? (long)fread(*buf, 1, MINIVMM_LOG - MINIVMM_ENTRY, f) : -1;
	fclose(f);
	return n > 0 ? n : -1;
}

int minivmm_probe(char *why, size_t len)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, len, "cannot open /dev/kvm: %s", strerror(errno));
		return -1;
	}
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		snprintf(why, len, "unexpected KVM API version");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

#define FAIL(vm, ...)                                                                    \
	do {                                                                             \
		snprintf((vm)->cpu[0].why, sizeof((vm)->cpu[0].why), __VA_ARGS__);       \
		return -1;                                                               \
	} while (0)

static int setup_cpuid(struct minivmm *vm, int vcpu_fd)
{
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e[256];
	} c;

	memset(&c, 0, sizeof(c));
	c.hdr.nent = 256;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, &c) < 0)
		return -1;
	for (unsigned i = 0; i < c.hdr.nent; i++) {
		struct kvm_cpuid_entry2 *e = &c.e[i];
		/* VMM mode: no kvmclock MSRs in CPUID, the guest registers by port
		 * and the VMM publishes; the stable bit stays advertised. */
		if (e->function == 0x40000001u && vm->mode == MINIVMM_MODE_VMM)
			e->eax &= ~((1u << 0) | (1u << 3)); /* CLOCKSOURCE, CLOCKSOURCE2 */
	}
	if (vm->mode == MINIVMM_MODE_VMM) {
		/* Hyper-V at 0x40000000 and KVM behind it at 0x40000100, as KVM lays
		 * out its leaves when it offers Hyper-V enlightenments. This KVM
		 * emulates none (KVM_CAP_HYPERV 0): the Hyper-V MSRs come to us. */
		unsigned n = c.hdr.nent;

		for (unsigned i = 0; i < n; i++) {
			struct kvm_cpuid_entry2 *e = &c.e[i];
			if (e->function == 0x40000000u)
				e->eax = 0x40000101u;
			if ((e->function & 0xffffff00u) == 0x40000000u)
				e->function += 0x100u;
		}
		for (uint32_t leaf = VTIME_HV_CPUID_VENDOR; leaf <= 0x40000005u && n < 256; leaf++, n++) {
			struct kvm_cpuid_entry2 *e = &c.e[n];
			memset(e, 0, sizeof(*e));
			e->function = leaf;
			if (leaf == VTIME_HV_CPUID_VENDOR) {
				e->eax = 0x40000005u;
				e->ebx = VTIME_HV_SIGNATURE_EBX;
				e->ecx = VTIME_HV_SIGNATURE_ECX;
				e->edx = VTIME_HV_SIGNATURE_EDX;
			} else if (leaf == VTIME_HV_CPUID_INTERFACE) {
				e->eax = VTIME_HV_INTERFACE_HV1;
			} else if (leaf == VTIME_HV_CPUID_FEATURES) {
				e->eax = VTIME_HV_ACCESS_REFERENCE_TSC | VTIME_HV_ACCESS_TIME_REF_COUNT;
			}
		}
		c.hdr.nent = n;
	}
	return ioctl(vcpu_fd, KVM_SET_CPUID2, &c);
}

void minivmm_vmclock_status(struct vtime_vmm_vmclock_status *st)
{
	struct timex tx;
	int state;
	double freq_ppb;

	memset(st, 0, sizeof(*st));
	memset(&tx, 0, sizeof(tx));
	state = adjtimex(&tx); /* modes 0: reads, changes nothing */
	st->time_maxerror_ns = VTIME_VMCLOCK_UNKNOWN;
	st->time_esterror_ns = VTIME_VMCLOCK_UNKNOWN;
	st->period_maxerror_ppb = VTIME_VMCLOCK_UNKNOWN;
	st->period_esterror_ppb = VTIME_VMCLOCK_UNKNOWN;
	st->clock_status = VTIME_VMCLOCK_STATUS_UNKNOWN;
	if (state < 0)
		return;
	/* kvmclock runs at the raw TSC rate: off true time by about the NTP
	 * frequency correction (plus KVM's kHz rounding of the TSC rate, under
	 * 0.2 ppm at GHz rates); unsynchronised, the kernel's own 500 ppm. */
	freq_ppb = (double)(tx.freq < 0 ? -tx.freq : tx.freq) * 1000.0 / 65536.0;
	st->time_maxerror_ns = (uint64_t)tx.maxerror * 1000u;
	st->time_esterror_ns = (uint64_t)tx.esterror * 1000u;
	if (tx.status & STA_UNSYNC) {
		st->period_maxerror_ppb = 500000;
		/* 16 s is the kernel's cap: never synchronised (or long ago) */
		st->clock_status = tx.maxerror >= 16000000 ? VTIME_VMCLOCK_STATUS_UNKNOWN : VTIME_VMCLOCK_STATUS_FREERUNNING;
	} else {
		st->period_maxerror_ppb = (uint64_t)freq_ppb + 1000u;
		st->period_esterror_ppb = (uint64_t)freq_ppb / 10u + 200u;
		st->clock_status = VTIME_VMCLOCK_STATUS_SYNCHRONIZED;
	}
}

static void setup_memory_layout(struct minivmm *vm)
{
	uint64_t *pml4 = (uint64_t *)(vm->mem + MINIVMM_PML4);
	uint64_t *pdpt = (uint64_t *)(vm->mem + MINIVMM_PDPT);
	uint64_t *pd = (uint64_t *)(vm->mem + MINIVMM_PD);
	uint64_t *gdt = (uint64_t *)(vm->mem + MINIVMM_GDT);

	pml4[0] = MINIVMM_PDPT | 3u; /* present, writable */
	pdpt[0] = MINIVMM_PD | 3u;
	for (uint64_t i = 0; i < 512; i++)
		pd[i] = (i << 21) | 0x83u; /* 2 MiB page, present, writable */
	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffull; /* 64-bit code */
	gdt[2] = 0x00cf92000000ffffull; /* data */
}

static int setup_long_mode(struct minivmm *vm, struct minivmm_vcpu *c)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = 8, .type = 11, .present = 1,
				    .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1 };
	struct kvm_segment data = { .base = 0, .limit = 0xffffffff, .selector = 16, .type = 3, .present = 1,
				    .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1 };

	if (ioctl(c->fd, KVM_GET_SREGS, &s) < 0)
		FAIL(vm, "KVM_GET_SREGS: %s", strerror(errno));
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.gdt.base = MINIVMM_GDT;
	s.gdt.limit = 3 * 8 - 1;
	s.cr3 = MINIVMM_PML4;
	s.cr4 = 1u << 5;                  /* PAE */
	s.cr0 = 0x80000011u;              /* PG, ET, PE */
	s.efer = (1u << 8) | (1u << 10);  /* LME, LMA */
	if (ioctl(c->fd, KVM_SET_SREGS, &s) < 0)
		FAIL(vm, "KVM_SET_SREGS: %s", strerror(errno));
	memset(&r, 0, sizeof(r));
	r.rflags = 2;
	r.rip = MINIVMM_ENTRY;
	r.rsp = MINIVMM_STACK_TOP(c->id);
	r.rdi = c->id;
	if (ioctl(c->fd, KVM_SET_REGS, &r) < 0)
		FAIL(vm, "KVM_SET_REGS: %s", strerror(errno));
	return 0;
}

int minivmm_create_empty(struct minivmm *vm, enum minivmm_mode mode, unsigned nr_cpus)
{
	struct kvm_userspace_memory_region region;
	struct vtime_vmm_now now;
	int run_size;
	uint32_t khz = 0;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = -1;
	for (unsigned i = 0; i < MINIVMM_MAX_CPUS; i++)
		vm->cpu[i].fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	if (nr_cpus == 0 || nr_cpus > MINIVMM_MAX_CPUS)
		FAIL(vm, "bad cpu count");
	vm->nr_cpus = nr_cpus;
	vm->mode = mode;
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		FAIL(vm, "open /dev/kvm: %s", strerror(errno));
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		FAIL(vm, "KVM_CREATE_VM: %s", strerror(errno));
	if (mode == MINIVMM_MODE_VMM) {
		/* MSRs KVM does not know (or refuses, like the Hyper-V ones without
		 * its Hyper-V emulation) exit to us instead of raising #GP. */
		struct kvm_enable_cap cap;

		memset(&cap, 0, sizeof(cap));
		cap.cap = KVM_CAP_X86_USER_SPACE_MSR;
		cap.args[0] = KVM_MSR_EXIT_REASON_UNKNOWN | KVM_MSR_EXIT_REASON_INVAL;
		vm->msr_exits = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_USER_SPACE_MSR) > 0 &&
				ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) == 0;
	}
	(void)ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul);
	vm->mem_size = MINIVMM_MEM_SIZE;
	vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		FAIL(vm, "mmap guest memory: %s", strerror(errno));
	}
	vm->shared = (struct minivmm_shared *)(vm->mem + MINIVMM_SHARED);
	memset(&region, 0, sizeof(region));
	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = vm->mem_size;
	region.userspace_addr = (uint64_t)(uintptr_t)vm->mem;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		FAIL(vm, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0)
		FAIL(vm, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	for (unsigned i = 0; i < nr_cpus; i++) {
		struct minivmm_vcpu *c = &vm->cpu[i];
		c->id = i;
		c->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (c->fd < 0)
			FAIL(vm, "KVM_CREATE_VCPU: %s", strerror(errno));
		c->run_size = (size_t)run_size;
		c->run = mmap(NULL, c->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
		if (c->run == MAP_FAILED) {
			c->run = NULL;
			FAIL(vm, "mmap kvm_run: %s", strerror(errno));
		}
		if (setup_cpuid(vm, c->fd) < 0)
			FAIL(vm, "KVM_SET_CPUID2: %s", strerror(errno));
	}
	if (mode == MINIVMM_MODE_VMM) {
		struct vtime_vmm_config cfg;
		int err;

		/* The host counter is this process's rdtsc; KVM knows its rate. */
		if (vtime_kvm_tsc_khz_get(vm->cpu[0].fd, &khz))
			FAIL(vm, "KVM_GET_TSC_KHZ failed");
		memset(&cfg, 0, sizeof(cfg));
		cfg.host_hz = (uint64_t)khz * 1000u;
		cfg.mode = VTIME_VMM_TSC_AUTO;
		minivmm_now(&now);
		if ((err = vtime_vmm_init(&vm->vt, &cfg, &now)))
			FAIL(vm, "vtime_vmm_init: %s", vtime_strerror(err));
		for (unsigned i = 0; i < nr_cpus; i++) {
			struct minivmm_vcpu *c = &vm->cpu[i];
			uint64_t off;

			vtime_vmm_vcpu_init(&vm->vt, &c->vt);
			/* The core adopts KVM's exact offset. Imposing one instead is
			 * not honoured by every host: on this nested one the guest
			 * TSC stays the host TSC whatever the offset is set to. */
			if ((err = vtime_kvm_tsc_offset_get(c->fd, &off)))
				FAIL(vm, "KVM_VCPU_TSC_OFFSET: %s", vtime_strerror(err));
			minivmm_now(&now);
			if ((err = vtime_vmm_vcpu_adopt_offset(&c->vt, off, &now, NULL)))
				FAIL(vm, "vtime_vmm_vcpu_adopt_offset: %s", vtime_strerror(err));
			if (c->vt.tsc_offset != off)
				FAIL(vm, "vCPU %u TSC offset differs from vCPU 0's", i);
		}
	}
	return 0;
}

int minivmm_create(struct minivmm *vm, enum minivmm_mode mode, unsigned nr_cpus, const void *image,
		   size_t image_size, uint32_t test, uint32_t iters)
{
	if (minivmm_create_empty(vm, mode, nr_cpus) < 0)
		return -1;
	if (image_size > MINIVMM_LOG - MINIVMM_ENTRY)
		FAIL(vm, "guest image too large");
	memcpy(vm->mem + MINIVMM_ENTRY, image, image_size);
	setup_memory_layout(vm);
	vm->shared->mode = mode;
	vm->shared->test = test;
	vm->shared->nr_cpus = nr_cpus;
	vm->shared->iters = iters;
	vm->shared->poll_every = 64;
	for (unsigned i = 0; i < nr_cpus; i++)
		if (setup_long_mode(vm, &vm->cpu[i]) < 0)
			return -1;
	if (mode == MINIVMM_MODE_VMM) {
		/* The VMClock region, as a platform would describe it (ACPI
		 * AMZNC10C _CRS): laid out and published before the guest runs. */
		struct vtime_vmm_vmclock_status st;
		struct vtime_vmm_now now;
		int err;

		vm->shared->vmclock_gpa = MINIVMM_VMCLOCK;
		vm->shared->vmclock_size = 4096;
		vm->shared->hv_msr = vm->msr_exits;
		minivmm_vmclock_status(&st);
		minivmm_now(&now);
		if ((err = vtime_vmm_vmclock_set_page(&vm->vt, (volatile struct vtime_vmclock_abi *)(vm->mem + MINIVMM_VMCLOCK),
						      4096)) ||
		    (err = vtime_vmm_vmclock_sync(&vm->vt, &now, &st)) ||
		    (err = vtime_vmm_vmclock_publish(&vm->vt, &now, NULL)))
			FAIL(vm, "VMClock page: %s", vtime_strerror(err));
	}
	return 0;
}

static void kick_handler(int sig)
{
	(void)sig;
}

static uint32_t io_value(struct kvm_run *run)
{
	uint32_t v = 0;
	memcpy(&v, (uint8_t *)run + run->io.data_offset, run->io.size < 4 ? run->io.size : 4);
	return v;
}

static void finish(struct minivmm *vm, struct minivmm_vcpu *c, enum minivmm_cpu_state st)
{
	pthread_mutex_lock(&vm->lock);
	c->state = st;
	vm->finished++;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

/* Completes the pending OUT (KVM finishes I/O only on the next KVM_RUN) so
 * registers are consistent for a snapshot. */
static void complete_io(struct minivmm_vcpu *c)
{
	c->run->immediate_exit = 1;
	(void)ioctl(c->fd, KVM_RUN, 0);
	c->run->immediate_exit = 0;
}

static void park(struct minivmm *vm, struct minivmm_vcpu *c)
{
	complete_io(c);
	c->t_park = minivmm_mono_raw_ns();
	pthread_mutex_lock(&vm->lock);
	c->state = MV_PARKED;
	vm->parked++;
	pthread_cond_broadcast(&vm->cond);
	while (vm->pause_req && !vm->quit)
		pthread_cond_wait(&vm->cond, &vm->lock);
	vm->parked--;
	c->state = MV_RUNNING;
	pthread_mutex_unlock(&vm->lock);
	c->t_unpark = minivmm_mono_raw_ns();
}

static void vmm_mode_register(struct minivmm *vm, struct minivmm_vcpu *c, uint16_t port, uint32_t gpa)
{
	struct vtime_vmm_now now;

	pthread_mutex_lock(&vm->lock);
	minivmm_now(&now);
	if (port == MINIVMM_PORT_REG_CPU) {
		volatile struct vtime_pvclock_vcpu_time_info *rec = NULL;
		/* a record outside guest memory or misaligned is not registered */
		if (gpa && vtime_kvm_guest_record(vm->mem, vm->mem_size, gpa, &rec))
			rec = NULL;
		(void)vtime_vmm_vcpu_set_record(&c->vt, rec);
		if (rec)
			(void)vtime_vmm_vcpu_publish(&c->vt, &now, NULL);
	} else if (gpa && gpa + sizeof(struct vtime_pvclock_wall_clock) <= vm->mem_size && !(gpa & 3u)) {
		vm->wall_gpa = gpa;
		(void)vtime_vmm_wall_publish(&vm->vt, (volatile struct vtime_pvclock_wall_clock *)(vm->mem + gpa), &now,
					     NULL);
	}
	pthread_mutex_unlock(&vm->lock);
}

/* VMM mode: the guest enabled or disabled its Hyper-V reference TSC page. */
static void hv_register(struct minivmm *vm, uint64_t value)
{
	struct vtime_vmm_now now;
	uint64_t gpa = value & ~(uint64_t)(VTIME_HV_TSC_PAGE_SIZE - 1);
	volatile struct vtime_hv_tsc_page *page = NULL;

	pthread_mutex_lock(&vm->lock);
	if ((value & VTIME_HV_MSR_REFERENCE_TSC_ENABLE) && gpa + VTIME_HV_TSC_PAGE_SIZE <= vm->mem_size)
		page = (volatile struct vtime_hv_tsc_page *)(vm->mem + gpa);
	vm->hv_gpa = page ? gpa : 0;
	(void)vtime_vmm_hv_set_page(&vm->vt, page);
	if (page) {
		minivmm_now(&now);
		(void)vtime_vmm_hv_publish(&vm->vt, &now, NULL);
	}
	pthread_mutex_unlock(&vm->lock);
}

static uint64_t hv_ref_count(struct minivmm *vm)
{
	uint64_t v;

	pthread_mutex_lock(&vm->lock);
	v = vtime_vmm_hv_ref_count(&vm->vt, minivmm_rdtsc());
	pthread_mutex_unlock(&vm->lock);
	return v;
}

/* KVM_EXIT_X86_WRMSR / RDMSR: the Hyper-V MSRs this VMM emulates; any other
 * gets #GP (error 1). */
static void handle_msr(struct minivmm *vm, struct kvm_run *run)
{
	run->msr.error = 1;
	if (vm->mode != MINIVMM_MODE_VMM)
		return;
	if (run->exit_reason == KVM_EXIT_X86_WRMSR && run->msr.index == VTIME_HV_X64_MSR_REFERENCE_TSC) {
		hv_register(vm, run->msr.data);
		__atomic_fetch_add(&vm->msr_writes, 1, __ATOMIC_RELAXED);
		run->msr.error = 0;
	} else if (run->exit_reason == KVM_EXIT_X86_RDMSR && run->msr.index == VTIME_HV_X64_MSR_TIME_REF_COUNT) {
		run->msr.data = hv_ref_count(vm);
		__atomic_fetch_add(&vm->msr_reads, 1, __ATOMIC_RELAXED);
		run->msr.error = 0;
	}
}

static void *vcpu_thread(void *arg)
{
	struct minivmm_vcpu *c = arg;
	struct minivmm *vm = (struct minivmm *)((char *)(c - c->id) - offsetof(struct minivmm, cpu));

	c->t_first_run = minivmm_mono_raw_ns();

	for (;;) {
		struct kvm_run *run = c->run;
		int r;

		if (__atomic_load_n(&vm->quit, __ATOMIC_ACQUIRE))
			break;
		r = ioctl(c->fd, KVM_RUN, 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				run->immediate_exit = 0;
				continue;
			}
			snprintf(c->why, sizeof(c->why), "KVM_RUN: %s", strerror(errno));
			finish(vm, c, MV_ERROR);
			return NULL;
		}
		c->exits++;
		if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT) {
			uint32_t v = io_value(run);
			switch (run->io.port) {
			case MINIVMM_PORT_DONE:
				complete_io(c);
				finish(vm, c, MV_DONE);
				return NULL;
			case MINIVMM_PORT_ERROR:
				c->guest_err = (int32_t)v;
				snprintf(c->why, sizeof(c->why), "guest error %d (%s)", (int)(int32_t)v,
					 vtime_strerror((int32_t)v));
				finish(vm, c, MV_ERROR);
				return NULL;
			case MINIVMM_PORT_MARK:
				if (vm->on_mark)
					vm->on_mark(vm, c->id, v, vm->mark_ctx);
				break;
			case MINIVMM_PORT_POLL:
				if (__atomic_load_n(&vm->pause_req, __ATOMIC_ACQUIRE))
					park(vm, c);
				break;
			case MINIVMM_PORT_REG_CPU:
			case MINIVMM_PORT_REG_WALL:
				if (vm->mode == MINIVMM_MODE_VMM)
					vmm_mode_register(vm, c, run->io.port, v);
				break;
			case MINIVMM_PORT_NULL:
				break;
			case MINIVMM_PORT_HV_TSC:
				if (vm->mode == MINIVMM_MODE_VMM)
					hv_register(vm, v);
				break;
			case MINIVMM_PORT_HV_COUNT:
				if (vm->mode == MINIVMM_MODE_VMM)
					__atomic_store_n(&vm->shared->hv_ref_count, hv_ref_count(vm), __ATOMIC_RELEASE);
				break;
			default:
				snprintf(c->why, sizeof(c->why), "unexpected port 0x%x", run->io.port);
				finish(vm, c, MV_ERROR);
				return NULL;
			}
			continue;
		}
		if (run->exit_reason == KVM_EXIT_X86_WRMSR || run->exit_reason == KVM_EXIT_X86_RDMSR) {
			handle_msr(vm, run);
			if (run->msr.error) {
				snprintf(c->why, sizeof(c->why), "unexpected %s of MSR 0x%x",
					 run->exit_reason == KVM_EXIT_X86_WRMSR ? "WRMSR" : "RDMSR", run->msr.index);
				finish(vm, c, MV_ERROR);
				return NULL;
			}
			continue;
		}
		if (run->exit_reason == KVM_EXIT_HLT)
			snprintf(c->why, sizeof(c->why), "guest halted without DONE");
		else
			snprintf(c->why, sizeof(c->why), "unexpected exit %u (hw reason 0x%llx)", run->exit_reason,
				 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		finish(vm, c, MV_ERROR);
		return NULL;
	}
	return NULL;
}

int minivmm_start(struct minivmm *vm)
{
	static bool handler_set;

	if (!handler_set) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = kick_handler; /* no SA_RESTART: KVM_RUN returns EINTR */
		sigaction(SIGUSR1, &sa, NULL);
		handler_set = true;
	}
	for (unsigned i = 0; i < vm->nr_cpus; i++) {
		struct minivmm_vcpu *c = &vm->cpu[i];
		if (c->state == MV_DONE || c->state == MV_ERROR)
			continue;
		c->state = MV_RUNNING;
		if (pthread_create(&c->thread, NULL, vcpu_thread, c) != 0)
			FAIL(vm, "pthread_create failed");
		c->thread_started = true;
	}
	return 0;
}

static int wait_until(struct minivmm *vm, unsigned timeout_ms, bool (*cond)(struct minivmm *))
{
	struct timespec dl;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000u;
	dl.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&vm->lock);
	while (!cond(vm) && rc == 0)
		rc = pthread_cond_timedwait(&vm->cond, &vm->lock, &dl);
	rc = cond(vm) ? 0 : -1;
	pthread_mutex_unlock(&vm->lock);
	return rc;
}

static bool all_finished(struct minivmm *vm)
{
	return vm->finished == vm->nr_cpus;
}

static bool all_parked(struct minivmm *vm)
{
	return vm->parked + vm->finished == vm->nr_cpus;
}

int minivmm_wait(struct minivmm *vm, unsigned timeout_ms)
{
	return wait_until(vm, timeout_ms, all_finished);
}

int minivmm_pause(struct minivmm *vm, unsigned timeout_ms)
{
	__atomic_store_n(&vm->pause_req, true, __ATOMIC_RELEASE);
	return wait_until(vm, timeout_ms, all_parked);
}

void minivmm_resume(struct minivmm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->pause_req = false;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

void minivmm_destroy(struct minivmm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->quit = true;
	vm->pause_req = false;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	for (unsigned i = 0; i < vm->nr_cpus; i++) {
		struct minivmm_vcpu *c = &vm->cpu[i];
		if (!c->thread_started)
			continue;
		if (c->run)
			c->run->immediate_exit = 1;
		pthread_kill(c->thread, SIGUSR1);
		pthread_join(c->thread, NULL);
		c->thread_started = false;
	}
	for (unsigned i = 0; i < MINIVMM_MAX_CPUS; i++) {
		struct minivmm_vcpu *c = &vm->cpu[i];
		if (c->run)
			munmap(c->run, c->run_size);
		if (c->fd >= 0)
			close(c->fd);
		c->run = NULL;
		c->fd = -1;
	}
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	vm->mem = NULL;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
}

int minivmm_snapshot(struct minivmm *vm, struct minivmm_snapshot *snap)
{
	int fds[MINIVMM_MAX_CPUS];
	int err;

	memset(snap, 0, sizeof(*snap));
	snap->nr_cpus = vm->nr_cpus;
	snap->mode = vm->mode;
	for (unsigned i = 0; i < vm->nr_cpus; i++) {
		fds[i] = vm->cpu[i].fd;
		snap->state[i] = vm->cpu[i].state;
		if (ioctl(fds[i], KVM_GET_REGS, &snap->regs[i]) < 0 || ioctl(fds[i], KVM_GET_SREGS, &snap->sregs[i]) < 0)
			FAIL(vm, "KVM_GET_REGS/SREGS: %s", strerror(errno));
	}
	if (vm->mode == MINIVMM_MODE_KVM) {
		struct vtime_kvm_save clock;
		if ((err = vtime_kvm_save_clock(vm->vm_fd, fds, vm->nr_cpus, vm->mem, vm->mem_size, &clock)) ||
		    (err = vtime_kvm_save_encode(&clock, snap->clock, sizeof snap->clock, NULL)))
			FAIL(vm, "vtime_kvm_save_clock: %s", vtime_strerror(err));
	} else {
		struct vtime_vmm_now now;
		struct vtime_vmm_state st;
		struct vtime_vmm_vcpu_state cst;

		pthread_mutex_lock(&vm->lock);
		minivmm_now(&now);
		if (!(err = vtime_vmm_save(&vm->vt, &now, &st)))
			err = vtime_vmm_state_encode(&st, snap->vt, sizeof snap->vt);
		for (unsigned i = 0; i < vm->nr_cpus && !err; i++) {
			struct minivmm_vcpu *c = &vm->cpu[i];
			if (!(err = vtime_vmm_vcpu_save(&c->vt, &now, &cst)))
				err = vtime_vmm_vcpu_state_encode(&cst, snap->vt_cpu[i], sizeof snap->vt_cpu[i]);
			snap->rec_gpa[i] = c->vt.rec ? (uint64_t)((const volatile uint8_t *)c->vt.rec - vm->mem) : 0;
		}
		snap->wall_gpa = vm->wall_gpa;
		snap->hv_gpa = vm->hv_gpa;
		pthread_mutex_unlock(&vm->lock);
		if (err)
			FAIL(vm, "vtime_vmm_save: %s", vtime_strerror(err));
	}
	snap->mem = malloc(vm->mem_size);
	if (!snap->mem)
		FAIL(vm, "out of memory");
	memcpy(snap->mem, vm->mem, vm->mem_size);
	snap->mem_size = vm->mem_size;
	return 0;
}

/* VMM mode: the core restores kvmclock (policy) and each vCPU's TSC; the
 * hypervisor's TSC offset is then adopted when it will not take the restored
 * one (this nested host does not): kvmclock still continues per the policy,
 * the records absorb the TSC. */
static int restore_vmm_mode(struct minivmm *vm, const struct minivmm_snapshot *snap, enum vtime_resume_policy policy,
			    enum vtime_vmm_restore_kind kind)
{
	struct vtime_vmm_vmclock_status vst;
	struct vtime_vmm_now now;
	struct vtime_vmm_state st;
	int err;

	minivmm_now(&now);
	if ((err = vtime_vmm_state_decode(&st, snap->vt, sizeof snap->vt)) ||
	    (err = vtime_vmm_restore(&vm->vt, &st, &now, policy, kind)))
		FAIL(vm, "vtime_vmm_restore: %s", vtime_strerror(err));
	/* The pages, in the guest memory just restored: VMClock at its fixed
	 * place, the Hyper-V page where the guest had enabled it. This host's
	 * realtime status is its own. */
	minivmm_vmclock_status(&vst);
	if ((err = vtime_vmm_vmclock_set_page(&vm->vt, (volatile struct vtime_vmclock_abi *)(vm->mem + MINIVMM_VMCLOCK),
					      4096)) ||
	    (err = vtime_vmm_vmclock_sync(&vm->vt, &now, &vst)) ||
	    (err = vtime_vmm_hv_set_page(&vm->vt, snap->hv_gpa ? (volatile struct vtime_hv_tsc_page *)(vm->mem + snap->hv_gpa)
							       : NULL)))
		FAIL(vm, "restoring the pages: %s", vtime_strerror(err));
	vm->hv_gpa = snap->hv_gpa;
	vm->shared->hv_msr = vm->msr_exits;
	for (unsigned i = 0; i < vm->nr_cpus; i++) {
		struct minivmm_vcpu *c = &vm->cpu[i];
		struct vtime_vmm_vcpu_state cst;
		uint64_t off;

		if ((err = vtime_vmm_vcpu_state_decode(&cst, snap->vt_cpu[i], sizeof snap->vt_cpu[i])) ||
		    (err = vtime_vmm_vcpu_restore(&c->vt, &cst, &now, NULL)))
			FAIL(vm, "vtime_vmm_vcpu_restore: %s", vtime_strerror(err));
		if (vtime_kvm_tsc_offset_set(c->fd, c->vt.tsc_offset) == 0 &&
		    vtime_kvm_tsc_offset_get(c->fd, &off) == 0 && off == c->vt.tsc_offset)
			continue; /* the hypervisor took the restored TSC */
		if ((err = vtime_kvm_tsc_offset_get(c->fd, &off)) ||
		    (err = vtime_vmm_vcpu_adopt_offset(&c->vt, off, &now, NULL)))
			FAIL(vm, "KVM_VCPU_TSC_OFFSET: %s", vtime_strerror(err));
	}
	for (unsigned i = 0; i < vm->nr_cpus; i++) {
		struct minivmm_vcpu *c = &vm->cpu[i];
		volatile struct vtime_pvclock_vcpu_time_info *rec;
		if (!snap->rec_gpa[i])
			continue;
		if ((err = vtime_kvm_guest_record(vm->mem, vm->mem_size, snap->rec_gpa[i], &rec)) ||
		    (err = vtime_vmm_vcpu_set_record(&c->vt, rec)))
			FAIL(vm, "vCPU %u record: %s", i, vtime_strerror(err));
	}
	if ((err = vtime_vmm_publish_all(&vm->vt, &now)))
		FAIL(vm, "vtime_vmm_publish_all: %s", vtime_strerror(err));
	if (snap->wall_gpa) {
		vm->wall_gpa = snap->wall_gpa;
		(void)vtime_vmm_wall_publish(&vm->vt, (volatile struct vtime_pvclock_wall_clock *)(vm->mem + snap->wall_gpa),
					     &now, NULL);
	}
	return 0;
}

int minivmm_restore(struct minivmm *vm, const struct minivmm_snapshot *snap, enum vtime_resume_policy policy)
{
	return minivmm_restore_as(vm, snap, policy, VTIME_VMM_RESTORE_SNAPSHOT);
}

int minivmm_restore_as(struct minivmm *vm, const struct minivmm_snapshot *snap, enum vtime_resume_policy policy,
		       enum vtime_vmm_restore_kind kind)
{
	int fds[MINIVMM_MAX_CPUS];
	int err;

	if (vm->nr_cpus != snap->nr_cpus || vm->mem_size != snap->mem_size || snap->mode != vm->mode)
		FAIL(vm, "snapshot does not fit this VM");
	memcpy(vm->mem, snap->mem, snap->mem_size);
	for (unsigned i = 0; i < vm->nr_cpus; i++) {
		fds[i] = vm->cpu[i].fd;
		if (ioctl(fds[i], KVM_SET_SREGS, &snap->sregs[i]) < 0 || ioctl(fds[i], KVM_SET_REGS, &snap->regs[i]) < 0)
			FAIL(vm, "KVM_SET_REGS/SREGS: %s", strerror(errno));
		if (snap->state[i] == MV_DONE || snap->state[i] == MV_ERROR) {
			vm->cpu[i].state = snap->state[i];
			vm->finished++;
		}
	}
	if (vm->mode == MINIVMM_MODE_KVM) {
		struct vtime_kvm_save clock;
		if ((err = vtime_kvm_save_decode(&clock, snap->clock, sizeof snap->clock)) ||
		    (err = vtime_kvm_restore_clock(vm->vm_fd, fds, vm->nr_cpus, vm->mem, vm->mem_size, &clock, policy)))
			FAIL(vm, "vtime_kvm_restore_clock: %s", vtime_strerror(err));
		return 0;
	}
	return restore_vmm_mode(vm, snap, policy == VTIME_RESUME_ADVANCE ? VTIME_RESUME_ADVANCE : VTIME_RESUME_FREEZE,
				kind);
}

void minivmm_snapshot_free(struct minivmm_snapshot *snap)
{
	free(snap->mem);
	snap->mem = NULL;
}
