/* SPDX-License-Identifier: MIT */
/* What one re-injected timer interrupt costs the host CPU (benchmark, not a
 * test). A minimal real-mode KVM guest idles in `sti; hlt; jmp`; its timer
 * handler acknowledges with one port write (as an EOI or an RTC register C
 * read does) and returns. With the userspace irqchip every step is an exit
 * to this process, so the loop measures the whole path a VMM pays per
 * interrupt: KVM_INTERRUPT, entry, handler, acknowledgement exit, halt exit.
 * Baseline in the same run: a bare KVM_RUN round trip (halt exit, no
 * interrupt). Exits 77 (meson: skipped) without /dev/kvm. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM 0x10000
#define VEC 0x20
#define ACK_PORT 0x10

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int vcpu;
static struct kvm_run *run;

static int run_until(unsigned reason)
{
	if (ioctl(vcpu, KVM_RUN, 0) < 0) {
		perror("KVM_RUN");
		return -1;
	}
	if (run->exit_reason != reason) {
		fprintf(stderr, "bench_inject: exit %u, expected %u\n", run->exit_reason, reason);
		return -1;
	}
	return 0;
}

int main(void)
{
	static const uint8_t code[] = { 0xfb, 0xf4, 0xeb, 0xfd };      /* 0x1000: sti; hlt; jmp hlt */
	static const uint8_t handler[] = { 0xe6, ACK_PORT, 0xcf };     /* 0x1010: out 0x10, al; iret */
	const char *e = getenv("VTIME_BENCH_ITERS");
	unsigned long n = e && *e ? strtoul(e, NULL, 0) / 100 : 20000ul, acks = 0;
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_interrupt irq = { VEC };
	uint64_t t0;
	double bare, inject;
	uint8_t *mem;
	int kvm, vm, sz;

	if (n < 1000)
		n = 1000;
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("bench_inject: skipped: /dev/kvm: %s\n", strerror(errno));
		return 77;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm < 0 || mem == MAP_FAILED) {
		perror("bench_inject: KVM_CREATE_VM/mmap");
		return 1;
	}
	memcpy(mem + 0x1000, code, sizeof code);
	memcpy(mem + 0x1010, handler, sizeof handler);
	mem[VEC * 4 + 0] = 0x10; /* IVT entry: offset 0x1010, segment 0 */
	mem[VEC * 4 + 1] = 0x10;
	region = (struct kvm_userspace_memory_region){ 0, 0, 0, MEM, (uint64_t)(uintptr_t)mem };
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0 || vcpu < 0 || sz <= 0) {
		perror("bench_inject: vcpu setup");
		return 1;
	}
	run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) {
		perror("bench_inject: kvm_run/sregs");
		return 1;
	}
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	memset(&regs, 0, sizeof regs);
	regs.rip = 0x1000;
	regs.rsp = 0x8000;
	regs.rflags = 0x2;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0) {
		perror("bench_inject: set regs");
		return 1;
	}
	if (run_until(KVM_EXIT_HLT))
		return 1;

	/* baseline: resume from halt, straight back to halt */
	t0 = now_ns();
	for (unsigned long i = 0; i < n; i++)
		if (run_until(KVM_EXIT_HLT))
			return 1;
	bare = (double)(now_ns() - t0) / n;

	/* one timer interrupt: inject, handler acks (I/O exit), back to halt */
	t0 = now_ns();
	for (unsigned long i = 0; i < n; i++) {
		if (!run->ready_for_interrupt_injection || !run->if_flag) {
			fprintf(stderr, "bench_inject: vCPU not ready for an interrupt\n");
			return 1;
		}
		if (ioctl(vcpu, KVM_INTERRUPT, &irq) < 0) {
			perror("KVM_INTERRUPT");
			return 1;
		}
		if (run_until(KVM_EXIT_IO))
			return 1;
		acks += run->io.port == ACK_PORT;
		if (run_until(KVM_EXIT_HLT))
			return 1;
	}
	inject = (double)(now_ns() - t0) / n;
	if (acks != n) {
		fprintf(stderr, "bench_inject: %lu acknowledgements for %lu interrupts\n", acks, n);
		return 1;
	}
	printf("iterations %lu (KVM, userspace irqchip, real-mode guest)\n", n);
	printf("bare KVM_RUN round trip (halt exit)           %8.0f ns\n", bare);
	printf("one injected timer interrupt, acknowledged    %8.0f ns (%.1fx a round trip)\n", inject,
	       inject / bare);
	printf("=> slew re-injecting a 1 s backlog of a 1 kHz timer: %.1f ms of host CPU\n", inject * 1000 / 1e6);
	return 0;
}
