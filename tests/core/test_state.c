/* SPDX-License-Identifier: MIT */
/* The saved-state byte images (VMM core, vCPU, KVM clock snapshot; the
 * ticks engine's is in tests/ticks): each written out here by hand, byte by
 * byte. Every host must encode exactly these bytes and decode them to the
 * same fields; CI runs this on s390x too (suite portability), so a state
 * saved on one byte order restores on the other. Plus the header checks
 * and the restores' field checks, and the reserved fields of the public
 * configuration, report and saved-state structs (docs/abi.md). */
#include <stddef.h>
#include <string.h>
#include <vtime/error.h>
#include <vtime/calib.h>
#include <vtime/kvm.h>
#include <vtime/ticks.h>
#include <vtime/vmm.h>

#include "vt_test.h"

#define LE64(v) (uint8_t)(v), (uint8_t)((v) >> 8), (uint8_t)((v) >> 16), (uint8_t)((v) >> 24), \
		(uint8_t)((v) >> 32), (uint8_t)((v) >> 40), (uint8_t)((v) >> 48), (uint8_t)((v) >> 56)
#define LE32(v) (uint8_t)(v), (uint8_t)((v) >> 8), (uint8_t)((v) >> 16), (uint8_t)((v) >> 24)

static void test_vmm_image(void)
{
	static const uint8_t want[VTIME_VMM_STATE_BYTES] = {
		'V', 'T', 'V', 'M', 2, 0, 16, 0, 80, 0, 0, 0, 0, 0, 0, 0,
		LE64(0x0123456789abcdefull), LE64(0x17f0000000000001ull), LE64(2599999000ull),
		LE64(1996248000ull), LE32(4u), LE32(2u),
		LE64(0x8000000000000007ull), LE64(0x0000000300000002ull), LE32(0xfffffffeu),
		LE32(VTIME_VMM_STATE_VMCLOCK | VTIME_VMM_STATE_HV),
	};
	struct vtime_vmm_state st = { 0x0123456789abcdefull, 0x17f0000000000001ull, 2599999000ull, 1996248000ull, 4,
				      VTIME_VMM_TSC_SCALED, 0x8000000000000007ull, 0x0000000300000002ull, 0xfffffffeu,
				      VTIME_VMM_STATE_VMCLOCK | VTIME_VMM_STATE_HV, { 0 } };
	struct vtime_vmm_state back;
	uint8_t img[VTIME_VMM_STATE_BYTES + 4];

	CU_ASSERT_EQUAL(VTIME_VMM_TSC_SCALED, 2);
	CU_ASSERT_EQUAL(VTIME_VMM_STATE_VERSION, 2);
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
	CU_ASSERT_EQUAL(back.vmclock_marker, st.vmclock_marker);
	CU_ASSERT_EQUAL(back.vmclock_generation, st.vmclock_generation);
	CU_ASSERT_EQUAL(back.hv_sequence, st.hv_sequence);
	CU_ASSERT_EQUAL(back.flags, st.flags);
	CU_ASSERT_EQUAL(vtime_vmm_state_decode(&back, want, sizeof want - 1), VTIME_EPROTO);
}

/* A version 1 image (vtime before the VMClock and Hyper-V pages) still
 * decodes: the version 2 fields read 0 (no page, nothing the guest saw). */
static void test_vmm_image_v1(void)
{
	static const uint8_t v1[VTIME_VMM_STATE_V1_BYTES] = {
		'V', 'T', 'V', 'M', 1, 0, 16, 0, 56, 0, 0, 0, 0, 0, 0, 0,
		LE64(0x0123456789abcdefull), LE64(0x17f0000000000001ull), LE64(2599999000ull),
		LE64(1996248000ull), LE32(4u), LE32(2u),
	};
	uint8_t bad[VTIME_VMM_STATE_BYTES];
	struct vtime_vmm_state back;

	memset(&back, 0x5a, sizeof back);
	CU_ASSERT_EQUAL(vtime_vmm_state_decode(&back, v1, sizeof v1), 0);
	CU_ASSERT_EQUAL(back.kvmclock_ns, 0x0123456789abcdefull);
	CU_ASSERT_EQUAL(back.realtime_ns, 0x17f0000000000001ull);
	CU_ASSERT_EQUAL(back.guest_hz, 2599999000ull);
	CU_ASSERT_EQUAL(back.host_hz, 1996248000ull);
	CU_ASSERT_EQUAL(back.nr_vcpus, 4);
	CU_ASSERT_EQUAL(back.mode, (uint32_t)VTIME_VMM_TSC_SCALED);
	CU_ASSERT_EQUAL(back.vmclock_marker, 0);
	CU_ASSERT_EQUAL(back.vmclock_generation, 0);
	CU_ASSERT_EQUAL(back.hv_sequence, 0);
	CU_ASSERT_EQUAL(back.flags, 0);
	CU_ASSERT_EQUAL(vtime_vmm_state_decode(&back, v1, sizeof v1 - 1), VTIME_EPROTO);
	/* each version has its own size: a version 1 header on 80 bytes, or a
	 * version 2 header on 56, is malformed */
	memset(bad, 0, sizeof bad);
	memcpy(bad, v1, sizeof v1);
	bad[8] = 80;
	CU_ASSERT_EQUAL(vtime_vmm_state_decode(&back, bad, sizeof bad), VTIME_EPROTO);
	memcpy(bad, v1, sizeof v1);
	bad[4] = 2;
	CU_ASSERT_EQUAL(vtime_vmm_state_decode(&back, bad, sizeof v1), VTIME_EPROTO);
}

static void test_vcpu_image(void)
{
	static const uint8_t want[VTIME_VMM_VCPU_STATE_BYTES] = {
		'V', 'T', 'V', 'C', 1, 0, 16, 0, 32, 0, 0, 0, 0, 0, 0, 0,
		LE64(0xfffffffffffff000ull), LE32(0x80000002u), LE32(VTIME_VMM_VCPU_STATE_RECORD),
	};
	struct vtime_vmm_vcpu_state st = { 0xfffffffffffff000ull, 0x80000002u, VTIME_VMM_VCPU_STATE_RECORD, { 0 } };
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
	struct vtime_vmm_state st = { 1, 2, 3, 4, 5, VTIME_VMM_TSC_NATIVE, 0, 0, 0, 0, { 0 } }, out, keep;
	uint8_t img[VTIME_VMM_STATE_BYTES], bad[sizeof img];
	static const struct { unsigned off; uint8_t val; int err; } cases[] = {
		{ 0, 'v', VTIME_EPROTO },  /* magic */
		{ 4, 0, VTIME_EPROTO },    /* version 0 */
		{ 4, 3, VTIME_ENOTSUP },   /* a later version */
		{ 4, 1, VTIME_EPROTO },    /* version 1 with version 2's size */
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

/* docs/abi.md: reserved fields. Saved state: save and decode write zeros,
 * encode refuses anything else (EINVAL), restore too (EPROTO).
 * Configuration: init refuses non-zero (EINVAL). Reports: zeroed. */
static void test_reserved(void)
{
	const struct vtime_vmm_now now = { 1000000, 1000, 1700000000000000000ull };
	struct vtime_vmm_config cfg = { .host_hz = 2000000000ull };
	struct vtime_calib_config cc;
	struct vtime_vmm vm, vm2;
	struct vtime_vmm_vcpu vcpu, vcpu2;
	struct vtime_vmm_state st;
	struct vtime_vmm_vcpu_state vs;
	struct vtime_ticks t;
	struct vtime_ticks_state ts;
	struct vtime_ticks_counters tc;
	struct vtime_calib e;
	struct vtime_calib_stats cs;
	uint8_t img[128];
	bool synced;

	CU_ASSERT_EQUAL(sizeof(struct vtime_vmm_config), 64);
	CU_ASSERT_EQUAL(sizeof(struct vtime_vmm_state), 96);
	CU_ASSERT_EQUAL(sizeof(struct vtime_vmm_vcpu_state), 32);
	CU_ASSERT_EQUAL(sizeof(struct vtime_ticks), 128);
	CU_ASSERT_EQUAL(sizeof(struct vtime_ticks_counters), 64);
	CU_ASSERT_EQUAL(sizeof(struct vtime_ticks_state), 120);
	CU_ASSERT_EQUAL(sizeof(struct vtime_ticks_guest), 32);
	CU_ASSERT_EQUAL(offsetof(struct vtime_vmm_config, reserved), 32);
	CU_ASSERT_EQUAL(offsetof(struct vtime_vmm_state, reserved), 64);
	CU_ASSERT_EQUAL(offsetof(struct vtime_vmm_vcpu_state, reserved), 16);
	CU_ASSERT_EQUAL(offsetof(struct vtime_ticks_state, reserved), 88);
	CU_ASSERT_EQUAL(offsetof(struct vtime_ticks_counters, reserved), 40);

	/* configuration */
	cfg.reserved[3] = 1;
	CU_ASSERT_EQUAL(vtime_vmm_init(&vm, &cfg, &now), VTIME_EINVAL);
	cfg.reserved[3] = 0;
	memset(&vm, 0x5a, sizeof vm);
	CU_ASSERT_EQUAL_FATAL(vtime_vmm_init(&vm, &cfg, &now), 0);
	memset(&vcpu, 0x5a, sizeof vcpu);
	CU_ASSERT_EQUAL_FATAL(vtime_vmm_vcpu_init(&vm, &vcpu), 0);
	CU_ASSERT_EQUAL(vtime_vmm_vcpu_write_tsc(&vcpu, 0, &now, true, &synced), 0);
	CU_ASSERT_EQUAL(vtime_calib_config_default(&cc), 0);
	CU_ASSERT_EQUAL(cc.reserved[0] | cc.reserved[1] | cc.reserved[2] | cc.reserved[3], 0);
	cc.reserved[1] = 1;
	CU_ASSERT_EQUAL(vtime_calib_init(&e, &cc), VTIME_EINVAL);
	cc.reserved[1] = 0;
	CU_ASSERT_EQUAL_FATAL(vtime_calib_init(&e, &cc), 0);

	/* reports */
	memset(&cs, 0x5a, sizeof cs);
	CU_ASSERT_EQUAL(vtime_calib_stats_get(&e, &cs), 0);
	CU_ASSERT_EQUAL(cs.reserved[0] | cs.reserved[1] | cs.reserved[2] | cs.reserved[3], 0);
	CU_ASSERT_EQUAL_FATAL(vtime_ticks_init(&t, 1000000, VTIME_TICKS_SLEW, 0), 0);
	memset(&tc, 0x5a, sizeof tc);
	CU_ASSERT_EQUAL(vtime_ticks_counters(&t, &tc), 0);
	CU_ASSERT_EQUAL(tc.reserved[0] | tc.reserved[1] | tc.reserved[2], 0);

	/* the VMM's saved state */
	memset(&st, 0x5a, sizeof st);
	CU_ASSERT_EQUAL(vtime_vmm_save(&vm, &now, &st), 0);
	CU_ASSERT_EQUAL(st.reserved[0] | st.reserved[1] | st.reserved[2] | st.reserved[3], 0);
	CU_ASSERT_EQUAL(vtime_vmm_state_encode(&st, img, sizeof img), 0);
	memset(&st, 0x5a, sizeof st);
	CU_ASSERT_EQUAL(vtime_vmm_state_decode(&st, img, VTIME_VMM_STATE_BYTES), 0);
	CU_ASSERT_EQUAL(st.reserved[0] | st.reserved[1] | st.reserved[2] | st.reserved[3], 0);
	st.reserved[2] = 7;
	CU_ASSERT_EQUAL(vtime_vmm_state_encode(&st, img, sizeof img), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmm_init(&vm2, &cfg, &now), 0);
	CU_ASSERT_EQUAL(vtime_vmm_restore(&vm2, &st, &now, VTIME_RESUME_FREEZE, VTIME_VMM_RESTORE_SNAPSHOT),
			VTIME_EPROTO);
	st.reserved[2] = 0;
	CU_ASSERT_EQUAL(vtime_vmm_restore(&vm2, &st, &now, VTIME_RESUME_FREEZE, VTIME_VMM_RESTORE_SNAPSHOT), 0);
	memset(&vs, 0x5a, sizeof vs);
	CU_ASSERT_EQUAL(vtime_vmm_vcpu_save(&vcpu, &now, &vs), 0);
	CU_ASSERT_EQUAL(vs.reserved[0] | vs.reserved[1], 0);
	CU_ASSERT_EQUAL(vtime_vmm_vcpu_state_encode(&vs, img, sizeof img), 0);
	memset(&vs, 0x5a, sizeof vs);
	CU_ASSERT_EQUAL(vtime_vmm_vcpu_state_decode(&vs, img, VTIME_VMM_VCPU_STATE_BYTES), 0);
	CU_ASSERT_EQUAL(vs.reserved[0] | vs.reserved[1], 0);
	vs.reserved[1] = 1;
	CU_ASSERT_EQUAL(vtime_vmm_vcpu_state_encode(&vs, img, sizeof img), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_vmm_vcpu_init(&vm2, &vcpu2), 0);
	CU_ASSERT_EQUAL(vtime_vmm_vcpu_restore(&vcpu2, &vs, &now, &synced), VTIME_EPROTO);
	vs.reserved[1] = 0;
	CU_ASSERT_EQUAL(vtime_vmm_vcpu_restore(&vcpu2, &vs, &now, &synced), 0);

	/* the ticks engine's saved state */
	memset(&ts, 0x5a, sizeof ts);
	CU_ASSERT_EQUAL(vtime_ticks_save(&t, 500000, &ts), 0);
	CU_ASSERT_EQUAL(ts.reserved[0] | ts.reserved[1] | ts.reserved[2] | ts.reserved[3], 0);
	CU_ASSERT_EQUAL(vtime_ticks_state_encode(&ts, img, sizeof img), 0);
	memset(&ts, 0x5a, sizeof ts);
	CU_ASSERT_EQUAL(vtime_ticks_state_decode(&ts, img, VTIME_TICKS_STATE_BYTES), 0);
	CU_ASSERT_EQUAL(ts.reserved[0] | ts.reserved[1] | ts.reserved[2] | ts.reserved[3], 0);
	ts.reserved[0] = 1;
	CU_ASSERT_EQUAL(vtime_ticks_state_encode(&ts, img, sizeof img), VTIME_EINVAL);
	CU_ASSERT_EQUAL(vtime_ticks_restore(&t, &ts, 0), VTIME_EPROTO);
	ts.reserved[0] = 0;
	CU_ASSERT_EQUAL(vtime_ticks_restore(&t, &ts, 0), 0);
}

static const struct vt_test_case cases[] = {
	{ "VMM state image (version 2), known bytes both ways", test_vmm_image },
	{ "VMM state image version 1 still decodes", test_vmm_image_v1 },
	{ "vCPU state image, known bytes both ways", test_vcpu_image },
	{ "KVM clock snapshot image, known bytes both ways", test_kvm_image },
	{ "malformed headers refused, output untouched", test_headers },
	{ "reserved fields: zeroed by save, decode and reports; refused by encode, restore, init", test_reserved },
	{ NULL, NULL },
};

int main(void)
{
	const struct vt_test_suite suites[] = { { "saved states", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
