/* SPDX-License-Identifier: MIT */
/* minivmm: a small KVM VMM for the vtime guest kernel (guest/). Two vCPUs
 * in long mode, no interrupt controller, port I/O to talk. Used by the
 * example program and by the tests in tests/kvm. */
#ifndef MINIVMM_H
#define MINIVMM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vtime/kvm.h>
#include <vtime/vmm.h>

#include "minivmm_abi.h"

enum minivmm_cpu_state { MV_RUNNING, MV_PARKED, MV_DONE, MV_ERROR };

struct minivmm;

/* Called on the vCPU thread at each MARK exit (AGREE test). */
typedef void (*minivmm_mark_fn)(struct minivmm *vm, unsigned cpu, uint32_t value, void *ctx);

struct minivmm_vcpu {
	int fd;
	struct kvm_run *run;
	size_t run_size;
	unsigned id;
	pthread_t thread;
	bool thread_started;
	enum minivmm_cpu_state state;
	int32_t guest_err;
	uint64_t exits;
	/* Host CLOCK_MONOTONIC_RAW: first KVM_RUN of the thread, last park and
	 * the wake-up after it (guest-visible stop intervals). */
	uint64_t t_first_run, t_park, t_unpark;
	char why[128];
	struct vtime_vmm_vcpu vt; /* VMM mode */
};

struct minivmm {
	int kvm_fd, vm_fd;
	uint8_t *mem;
	size_t mem_size;
	unsigned nr_cpus;
	enum minivmm_mode mode;
	struct minivmm_shared *shared;
	struct minivmm_vcpu cpu[MINIVMM_MAX_CPUS];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool pause_req, quit;
	unsigned parked, finished;
	minivmm_mark_fn on_mark;
	void *mark_ctx;
	/* VMM mode: vtime's core publishes the records, the Hyper-V page and
	 * VMClock. */
	struct vtime_vmm vt;
	uint64_t wall_gpa;
	uint64_t hv_gpa;  /* the guest's reference TSC page (0: not enabled) */
	bool msr_exits;   /* unknown MSRs exit to us (KVM_CAP_X86_USER_SPACE_MSR) */
	uint64_t msr_writes, msr_reads; /* Hyper-V MSR accesses handled */
};

/* A host reading for the core: rdtsc bracketed by CLOCK_MONOTONIC_RAW, and
 * CLOCK_REALTIME. */
void minivmm_now(struct vtime_vmm_now *now);
uint64_t minivmm_rdtsc(void);
uint64_t minivmm_mono_raw_ns(void);
uint64_t minivmm_realtime_ns(void);

/* Loads the flat guest image from path. Returns its size or -1. */
long minivmm_load_image(const char *path, void **buf);

/* 0 if /dev/kvm can run us, else -1 with a reason in why. */
int minivmm_probe(char *why, size_t len);

/* Creates the VM, loads image, sets up vCPUs for test. err < 0 on failure
 * with a message in vm->cpu[0].why. */
int minivmm_create(struct minivmm *vm, enum minivmm_mode mode, unsigned nr_cpus, const void *image,
		   size_t image_size, uint32_t test, uint32_t iters);

/* Creates a VM with the same shape but no image and no vCPU registers
 * (restore target). */
int minivmm_create_empty(struct minivmm *vm, enum minivmm_mode mode, unsigned nr_cpus);

int minivmm_start(struct minivmm *vm);
/* Waits for every vCPU to finish (DONE or ERROR); -1 on timeout. */
int minivmm_wait(struct minivmm *vm, unsigned timeout_ms);
/* Parks every running vCPU at its next POLL exit (I/O completed). */
int minivmm_pause(struct minivmm *vm, unsigned timeout_ms);
void minivmm_resume(struct minivmm *vm);
/* Stops and joins the vCPU threads, frees everything. */
void minivmm_destroy(struct minivmm *vm);

/* Snapshot of a paused VM: memory, registers, clock. */
struct minivmm_snapshot {
	uint8_t *mem;
	size_t mem_size;
	unsigned nr_cpus;
	enum minivmm_mode mode;
	struct kvm_regs regs[MINIVMM_MAX_CPUS];
	struct kvm_sregs sregs[MINIVMM_MAX_CPUS];
	enum minivmm_cpu_state state[MINIVMM_MAX_CPUS];
	/* The clock state as vtime's byte images, as a VMM writes them into
	 * its snapshot file (little-endian, versioned: any host restores them). */
	uint8_t clock[VTIME_KVM_SAVE_BYTES(MINIVMM_MAX_CPUS)]; /* KVM mode */
	/* VMM mode: vtime's own records. */
	uint8_t vt[VTIME_VMM_STATE_BYTES];
	uint8_t vt_cpu[MINIVMM_MAX_CPUS][VTIME_VMM_VCPU_STATE_BYTES];
	uint64_t rec_gpa[MINIVMM_MAX_CPUS]; /* 0: not registered */
	uint64_t wall_gpa;
	uint64_t hv_gpa; /* the Hyper-V page the guest enabled (0: none) */
};

int minivmm_snapshot(struct minivmm *vm, struct minivmm_snapshot *snap);
/* Builds vm (created with minivmm_create_empty in the snapshot's mode) from
 * snap. KVM mode: vtime_kvm_restore_clock(). VMM mode: vtime_vmm_restore()
 * and the vCPU restores; the policy values are the same (freeze 0, advance 1). */
int minivmm_restore(struct minivmm *vm, const struct minivmm_snapshot *snap, enum vtime_resume_policy policy);
/* The same, saying what the restore is (VMM mode: what VMClock tells the
 * guest); minivmm_restore() is a snapshot restore. */
int minivmm_restore_as(struct minivmm *vm, const struct minivmm_snapshot *snap, enum vtime_resume_policy policy,
		       enum vtime_vmm_restore_kind kind);

/* VMM mode: what this host knows about its CLOCK_REALTIME (adjtimex read
 * with modes 0), for vtime_vmm_vmclock_sync(). */
void minivmm_vmclock_status(struct vtime_vmm_vmclock_status *st);
void minivmm_snapshot_free(struct minivmm_snapshot *snap);

#endif
