/* SPDX-License-Identifier: MIT */
/* The KVM shim's checks that need no /dev/kvm: where a guest record may sit
 * in guest memory, and the restore refusing a snapshot field by field
 * before it issues any ioctl (the fds below are not even open). */
#include <stdint.h>
#include <string.h>
#include <vtime/error.h>
#include <vtime/kvm.h>

#include "vt_test.h"

static _Alignas(64) uint8_t mem[4096];

static void test_guest_record(void)
{
	volatile struct vtime_pvclock_vcpu_time_info *rec = NULL;

	CU_ASSERT_EQUAL(vtime_kvm_guest_record(mem, sizeof mem, 64, &rec), 0);
	CU_ASSERT_PTR_EQUAL(rec, (volatile void *)(mem + 64));
	CU_ASSERT_EQUAL(vtime_kvm_guest_record(mem, sizeof mem, sizeof mem - 32, &rec), 0);
	/* 4-byte aligned is KVM's ABI, but a 64-bit field could straddle a line */
	CU_ASSERT_EQUAL(vtime_kvm_guest_record(mem, sizeof mem, 4, &rec), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_kvm_guest_record(mem, sizeof mem, 60, &rec), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_kvm_guest_record(mem, sizeof mem, sizeof mem - 24, &rec), VTIME_ERANGE);
	CU_ASSERT_EQUAL(vtime_kvm_guest_record(mem, sizeof mem, sizeof mem, &rec), VTIME_ERANGE);
	CU_ASSERT_EQUAL(vtime_kvm_guest_record(mem, sizeof mem, UINT64_MAX & ~7ull, &rec), VTIME_ERANGE);
	CU_ASSERT_EQUAL(vtime_kvm_guest_record(NULL, sizeof mem, 64, &rec), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_kvm_guest_record(mem, sizeof mem, 64, NULL), VTIME_EINVAL);
}

static void test_restore_rejects(void)
{
	const int fds[2] = { -1, -1 };
	struct vtime_kvm_save save, bad;
	uint8_t img[VTIME_KVM_SAVE_BYTES(1)];

	memset(&save, 0, sizeof save);
	save.nr_vcpus = 2;
	save.clock_flags = VTIME_KVM_CLOCK_TSC_STABLE;
	save.vcpu[0] = (struct vtime_kvm_save_vcpu){ .tsc = 1000, .system_time = 64 | 1, .tsc_khz = 2000000, .version = 2 };
	save.vcpu[1] = (struct vtime_kvm_save_vcpu){ .tsc = 1000, .system_time = 128 | 1, .tsc_khz = 2000000, .version = 2 };
	bad = save;
	bad.clock_flags |= 0x100;
	CU_ASSERT_EQUAL(vtime_kvm_restore_clock(-1, fds, 2, mem, sizeof mem, &bad, VTIME_RESUME_FREEZE), VTIME_EPROTO);
	/* fields of a later vtime (reserved here) are never dropped silently */
	bad = save;
	bad.reserved[3] = 1;
	CU_ASSERT_EQUAL(vtime_kvm_restore_clock(-1, fds, 2, mem, sizeof mem, &bad, VTIME_RESUME_FREEZE), VTIME_EPROTO);
	bad = save;
	bad.vcpu[1].reserved[0] = 1;
	CU_ASSERT_EQUAL(vtime_kvm_restore_clock(-1, fds, 2, mem, sizeof mem, &bad, VTIME_RESUME_FREEZE), VTIME_EPROTO);
	bad.nr_vcpus = 1; /* past nr_vcpus the array is not looked at */
	CU_ASSERT_EQUAL(vtime_kvm_save_encode(&bad, img, sizeof img, NULL), 0);
	bad = save;
	bad.vcpu[1].tsc_khz = 0;
	CU_ASSERT_EQUAL(vtime_kvm_restore_clock(-1, fds, 2, mem, sizeof mem, &bad, VTIME_RESUME_FREEZE), VTIME_EPROTO);
	bad = save;
	bad.vcpu[1].system_time = 132 | 1; /* misaligned record */
	CU_ASSERT_EQUAL(vtime_kvm_restore_clock(-1, fds, 2, mem, sizeof mem, &bad, VTIME_RESUME_FREEZE), VTIME_EPROTO);
	bad = save;
	bad.vcpu[0].system_time = (sizeof mem) | 1; /* outside guest memory */
	CU_ASSERT_EQUAL(vtime_kvm_restore_clock(-1, fds, 2, mem, sizeof mem, &bad, VTIME_RESUME_FREEZE), VTIME_EPROTO);
	CU_ASSERT_EQUAL(vtime_kvm_restore_clock(-1, fds, 1, mem, sizeof mem, &save, VTIME_RESUME_FREEZE), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_kvm_restore_clock(-1, fds, 2, mem, sizeof mem, &save, (enum vtime_resume_policy)3),
			VTIME_EINVAL);
	/* a valid snapshot gets as far as the first ioctl on the bad fd */
	CU_ASSERT_EQUAL(vtime_kvm_restore_clock(-1, fds, 2, mem, sizeof mem, &save, VTIME_RESUME_FREEZE), VTIME_EIO);
}

static const struct vt_test_case cases[] = {
	{ "guest records: inside memory, 8-byte aligned", test_guest_record },
	{ "restore checks every snapshot field first", test_restore_rejects },
	{ NULL, NULL },
};

int main(void)
{
	const struct vt_test_suite suites[] = { { "kvm shim", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
