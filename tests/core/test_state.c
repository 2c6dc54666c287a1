/* SPDX-License-Identifier: MIT */
/* The saved-state byte images (VMM core, vCPU, KVM clock snapshot; the
 * ticks engine's is in tests/ticks): each written out here by hand, byte by
 * byte. Every host must encode exactly these bytes and decode them to the
 * same fields; CI runs this on s390x too (suite portability), so a state
 * saved on one byte order restores on the other. Plus the header checks
 * and the restores' field checks. */
#include <string.h>
#include <vtime/error.h>
#include <vtime/kvm.h>
#include <vtime/vmm.h>

#include "vt_test.h"

#define LE64(v) (uint8_t)(v), (uint8_t)((v) >> 8), (uint8_t)((v) >> 16), (uint8_t)((v) >> 24), \
		(uint8_t)((v) >> 32), (uint8_t)((v) >> 40), (uint8_t)((v) >> 48), (uint8_t)((v) >> 56)
#define LE32(v) (uint8_t)(v), (uint8_t)((v) >> 8), (uint8_t)((v) >> 16), (uint8_t)((v) >> 24)

static void test_vmm_image(void)
{
	static const uint8_t want[VTIME_VMM_STATE_BYTES] = {
		'V', 'T', 'V', 'M', 1, 0, 16, 0, 56, 0, 0, 0, 0, 0, 0, 0,
		LE64(0x0123456789abcdefull), LE64(0x17f0000000000001ull), LE64(2599999000ull),
		LE64(1996248000ull), LE32(4u), LE32(2u),
	};
	struct vtime_vmm_state st = { 0x0123456789abcdefull, 0x17f0000000000001ull, 2599999000ull, 1996248000ull, 4,
				      VTIME_VMM_TSC_SCALED };
	struct vtime_vmm_state back;
	uint8_t img[VTIME_VMM_STATE_BYTES + 4];

	CU_ASSERT_EQUAL(VTIME_VMM_TSC_SCALED, 2);
	CU_ASSERT_EQUAL(vtime_vmm_state_encode(&st, img, VTIME_VMM_STATE_BYTES - 1), VTIME_ERANGE);
	CU_ASSERT_EQUAL(vtime_vmm_state_encode(&st, img, sizeof img), 0);
	CU_ASSERT_EQUAL(memcmp(img, want, sizeof want), 0);
	memset(&back, 0x5a, sizeof back);
	CU_ASSERT_EQUAL(vtime_vmm_state_decode(&back, want, sizeof want), 0);
	CU_ASSERT_EQUAL(back.kvmclock_ns, st.kvmclock_ns);
	CU_ASSERT_EQUAL(back.realtime_ns, st.realtime_ns);
	CU_ASSERT_EQUAL(back.guest_hz, st.guest_hz);
	CU_ASSERT_EQUAL(back.host_hz, st.host_hz);
	CU_ASSERT_EQUAL(back.nr_vcpus, 4);
	CU_ASSERT_EQUAL(back.mode, (uint32_t)VTIME_VMM_TSC_SCALED);
	CU_ASSERT_EQUAL(vtime_vmm_state_decode(&back, want, sizeof want - 1), VTIME_EPROTO);
}

static void test_vcpu_image(void)
{
	static const uint8_t want[VTIME_VMM_VCPU_STATE_BYTES] = {
		'V', 'T', 'V', 'C', 1, 0, 16, 0, 32, 0, 0, 0, 0, 0, 0, 0,
		LE64(0xfffffffffffff000ull), LE32(0x80000002u), LE32(VTIME_VMM_VCPU_STATE_RECORD),
	};
	struct vtime_vmm_vcpu_state st = { 0xfffffffffffff000ull, 0x80000002u, VTIME_VMM_VCPU_STATE_RECORD };
	struct vtime_vmm_vcpu_state back;
	uint8_t img[VTIME_VMM_VCPU_STATE_BYTES];

	CU_ASSERT_EQUAL(vtime_vmm_vcpu_state_encode(&st, img, sizeof img), 0);
	CU_ASSERT_EQUAL(memcmp(img, want, sizeof want), 0);
	memset(&back, 0, sizeof back);
	CU_ASSERT_EQUAL(vtime_vmm_vcpu_state_decode(&back, want, sizeof want), 0);
	CU_ASSERT_EQUAL(back.guest_tsc, st.guest_tsc);
	CU_ASSERT_EQUAL(back.version, st.version);
	CU_ASSERT_EQUAL(back.flags, st.flags);
	/* one kind never restores as another */
	CU_ASSERT_EQUAL(vtime_vmm_state_decode((struct vtime_vmm_state *)&(struct vtime_vmm_state){ 0 }, want,
					       sizeof want),
			VTIME_EPROTO);
}

static void test_kvm_image(void)
{
	static const uint8_t want[VTIME_KVM_SAVE_BYTES(2)] = {
		'V', 'T', 'M', 'K', 1, 0, 16, 0, 96, 0, 0, 0, 0, 0, 0, 0,
		LE32(2u), LE32(VTIME_KVM_CLOCK_TSC_STABLE | VTIME_KVM_CLOCK_REALTIME),
		LE64(123456789012ull), LE64(0x1800000000000007ull), LE64(0x9000ull),
		LE64(0x1122334455667788ull), LE64(0x8001ull), LE32(2599999u), LE32(6u),
		LE64(0x1122334455667799ull), LE64(0x8041ull), LE32(2599999u), LE32(8u),
	};
	struct vtime_kvm_save save, back;
	uint8_t img[VTIME_KVM_SAVE_BYTES(VTIME_KVM_SAVE_MAX_VCPUS)];
	size_t used = 0;

	memset(&save, 0, sizeof save);
	save.nr_vcpus = 2;
	save.clock_flags = VTIME_KVM_CLOCK_TSC_STABLE | VTIME_KVM_CLOCK_REALTIME;
	save.clock_ns = 123456789012ull;
	save.realtime_ns = 0x1800000000000007ull;
	save.wall_clock = 0x9000;
	save.vcpu[0] = (struct vtime_kvm_save_vcpu){ .tsc = 0x1122334455667788ull, .system_time = 0x8001,
						     .tsc_khz = 2599999, .version = 6 };
	save.vcpu[1] = (struct vtime_kvm_save_vcpu){ .tsc = 0x1122334455667799ull, .system_time = 0x8041,
						     .tsc_khz = 2599999, .version = 8 };
	CU_ASSERT_EQUAL(vtime_kvm_save_encode(&save, img, VTIME_KVM_SAVE_BYTES(2) - 1, &used), VTIME_ERANGE);
	save.vcpu[1].reserved[1] = 1; /* a field this version does not know: not dropped silently */
	CU_ASSERT_EQUAL(vtime_kvm_save_encode(&save, img, sizeof img, &used), VTIME_EINVAL);
	save.vcpu[1].reserved[1] = 0;
	save.reserved[0] = 1;
	CU_ASSERT_EQUAL(vtime_kvm_save_encode(&save, img, sizeof img, &used), VTIME_EINVAL);
	save.reserved[0] = 0;
	CU_ASSERT_EQUAL(vtime_kvm_save_encode(&save, img, sizeof img, &used), 0);
	CU_ASSERT_EQUAL(used, sizeof want);
	CU_ASSERT_EQUAL(memcmp(img, want, sizeof want), 0);
	memset(&back, 0x5a, sizeof back);
	CU_ASSERT_EQUAL(vtime_kvm_save_decode(&back, want, sizeof want), 0);
	CU_ASSERT_EQUAL(memcmp(&back, &save, sizeof save), 0); /* vCPUs past nr_vcpus zeroed */
	/* a size that does not match nr_vcpus, too many vCPUs, a truncated image */
	memcpy(img, want, sizeof want);
	img[16] = 3;
	CU_ASSERT_EQUAL(vtime_kvm_save_decode(&back, img, sizeof want), VTIME_EPROTO);
	CU_ASSERT_EQUAL(vtime_kvm_save_decode(&back, want, sizeof want - 1), VTIME_EPROTO);
	save.nr_vcpus = VTIME_KVM_SAVE_MAX_VCPUS + 1;
	CU_ASSERT_EQUAL(vtime_kvm_save_encode(&save, img, sizeof img, &used), VTIME_EINVAL);
	save.nr_vcpus = VTIME_KVM_SAVE_MAX_VCPUS;
	CU_ASSERT_EQUAL(vtime_kvm_save_encode(&save, img, sizeof img, &used), 0);
	CU_ASSERT_EQUAL(used, VTIME_KVM_SAVE_BYTES(VTIME_KVM_SAVE_MAX_VCPUS));
	CU_ASSERT_EQUAL(vtime_kvm_save_decode(&back, img, sizeof img), 0);
	CU_ASSERT_EQUAL(back.nr_vcpus, VTIME_KVM_SAVE_MAX_VCPUS);
}

/* The header checks every decoder shares (vt_state.h), on the VMM image. */
static void test_headers(void)
{
	struct vtime_vmm_state st = { 1, 2, 3, 4, 5, VTIME_VMM_TSC_NATIVE }, out, keep;
	uint8_t img[VTIME_VMM_STATE_BYTES], bad[sizeof img];
	static const struct { unsigned off; uint8_t val; int err; } cases[] = {
		{ 0, 'v', VTIME_EPROTO },  /* magic */
		{ 4, 0, VTIME_EPROTO },    /* version 0 */
		{ 4, 2, VTIME_ENOTSUP },   /* a later version */
		{ 5, 1, VTIME_ENOTSUP },   /* version 257 */
		{ 6, 8, VTIME_EPROTO },    /* header length */
		{ 8, 48, VTIME_EPROTO },   /* size of another layout */
		{ 9, 1, VTIME_EPROTO },    /* size beyond the buffer */
		{ 15, 0x80, VTIME_EPROTO }, /* reserved */
	};

	CU_ASSERT_EQUAL(vtime_vmm_state_encode(&st, img, sizeof img), 0);
	CU_ASSERT_EQUAL(vtime_vmm_state_encode(NULL, img, sizeof img), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmm_state_encode(&st, NULL, sizeof img), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmm_state_decode(NULL, img, sizeof img), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmm_state_decode(&out, NULL, sizeof img), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmm_state_decode(&out, img, 15), VTIME_EPROTO);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memcpy(bad, img, sizeof img);
		bad[cases[i].off] = cases[i].val;
		memset(&out, 0x5a, sizeof out);
		keep = out;
		CU_ASSERT_EQUAL(vtime_vmm_state_decode(&out, bad, sizeof bad), cases[i].err);
		CU_ASSERT_EQUAL(memcmp(&out, &keep, sizeof out), 0); /* untouched on failure */
	}
}

static const struct vt_test_case cases[] = {
	{ "VMM state image, known bytes both ways", test_vmm_image },
	{ "vCPU state image, known bytes both ways", test_vcpu_image },
	{ "KVM clock snapshot image, known bytes both ways", test_kvm_image },
	{ "malformed headers refused, output untouched", test_headers },
	{ NULL, NULL },
};

int main(void)
{
	const struct vt_test_suite suites[] = { { "saved states", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
