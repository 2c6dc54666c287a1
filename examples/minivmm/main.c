/* SPDX-License-Identifier: MIT */
/* minivmm example: boots the guest kernel on 2 vCPUs; each registers its
 * kvmclock record and reports readings. Usage:
 *   minivmm [kvm|vmm] [guest.bin]
 * kvm: KVM publishes the records; vmm: this VMM publishes them with vtime. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minivmm.h"

#ifndef MINIVMM_GUEST_BIN
#define MINIVMM_GUEST_BIN "minivmm-guest.bin"
#endif

int main(int argc, char **argv)
{
	enum minivmm_mode mode = MINIVMM_MODE_KVM;
	const char *path = MINIVMM_GUEST_BIN;
	struct vtime_kvm_clock kc;
	struct minivmm vm;
	char why[256];
	void *img = NULL;
	long n;
	int rc = 0;

	if (argc > 1)
		mode = strcmp(argv[1], "vmm") == 0 ? MINIVMM_MODE_VMM : MINIVMM_MODE_KVM;
	if (argc > 2)
		path = argv[2];
	if (minivmm_probe(why, sizeof(why)) < 0) {
		fprintf(stderr, "minivmm: %s\n", why);
		return 77;
	}
	n = minivmm_load_image(path, &img);
	if (n < 0) {
		fprintf(stderr, "minivmm: cannot read guest image %s\n", path);
		return 1;
	}
	if (minivmm_create(&vm, mode, 2, img, (size_t)n, MINIVMM_TEST_BOOT, 5) < 0 || minivmm_start(&vm) < 0) {
		fprintf(stderr, "minivmm: %s\n", vm.cpu[0].why);
		minivmm_destroy(&vm);
		return 1;
	}
	if (minivmm_wait(&vm, 5000) < 0) {
		fprintf(stderr, "minivmm: guest did not finish\n");
		rc = 1;
	}
	printf("mode %s, CPUID 0x40000001 eax 0x%08x, stable advertised %u\n", mode == MINIVMM_MODE_VMM ? "vmm" : "kvm",
	       vm.shared->features, vm.shared->stable_advertised);
	for (unsigned i = 0; i < vm.nr_cpus; i++) {
		struct minivmm_cpu *c = &vm.shared->cpu[i];
		if (vm.cpu[i].state != MV_DONE) {
			printf("cpu %u: %s\n", i, vm.cpu[i].why);
			rc = 1;
			continue;
		}
		printf("cpu %u: %llu readings, first %llu ns, last %llu ns, version %u, flags 0x%x, wall %llu ns\n", i,
		       (unsigned long long)c->reads, (unsigned long long)c->first_ns, (unsigned long long)c->last_ns,
		       c->version, c->flags, (unsigned long long)c->wall_ns);
	}
	if (mode == MINIVMM_MODE_KVM && vtime_kvm_clock_get(vm.vm_fd, &kc) == 0)
		printf("KVM_GET_CLOCK after the run: %llu ns (flags 0x%x)\n", (unsigned long long)kc.clock_ns, kc.flags);
	minivmm_destroy(&vm);
	free(img);
	return rc;
}
