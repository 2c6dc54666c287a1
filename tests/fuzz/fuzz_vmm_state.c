/* SPDX-License-Identifier: MIT */
/* The VMM core's saved state from a snapshot file anyone could have
 * written (vmm.h, the one saved-state pattern):
 *   - vtime_vmm_state_decode() / vtime_vmm_vcpu_state_decode(): an accepted
 *     image re-encodes to the same bytes, decode(encode(x)) == x;
 *   - vtime_vmm_restore() / vtime_vmm_vcpu_restore() accept exactly what
 *     their documentation allows (EPROTO: a zero rate, an unknown mode or
 *     flag, a VMClock marker or generation without its flag, a Hyper-V
 *     sequence of 0xFFFFFFFF, a version without a record; EINVAL: another
 *     guest rate, an unknown policy or restore kind) and change nothing when
 *     they refuse;
 *   - after a restore the first published version lies serially after the
 *     saved one (by 2 to 2^31 - 1), whatever version the record memory
 *     holds (carried over, lost, junk), and the record is one the reader
 *     accepts. */
#include <vtime/error.h>
#include <vtime/pvclock.h>
#include <vtime/vmm.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	struct vtime_vmm_state st, back;
	struct vtime_vmm_vcpu_state cs, cback;
	uint8_t img[VTIME_VMM_STATE_BYTES], cimg[VTIME_VMM_VCPU_STATE_BYTES];
	int err;

	/* the input as images */
	if (size) {
		err = vtime_vmm_state_decode(&st, data, size);
		FZ_CHECK(err == 0 || err == VTIME_EPROTO || err == VTIME_ENOTSUP, "decode %d", err);
		if (!err && size >= 6 && (data[4] | data[5] << 8) == VTIME_VMM_STATE_VERSION) {
			FZ_CHECK(vtime_vmm_state_encode(&st, img, sizeof img) == 0 && memcmp(img, data, sizeof img) == 0,
				 "an accepted VM image does not re-encode to itself");
		} else if (!err) { /* an older version: its fields survive, the new ones are 0 */
			FZ_CHECK(vtime_vmm_state_encode(&st, img, sizeof img) == 0 &&
					 vtime_vmm_state_decode(&back, img, sizeof img) == 0 &&
					 memcmp(&back, &st, sizeof st) == 0 && st.flags == 0 && st.hv_sequence == 0 &&
					 st.vmclock_marker == 0 && st.vmclock_generation == 0,
				 "an accepted older VM image does not carry over");
		}
		err = vtime_vmm_vcpu_state_decode(&cs, data, size);
		FZ_CHECK(err == 0 || err == VTIME_EPROTO || err == VTIME_ENOTSUP, "vcpu decode %d", err);
		if (!err) {
			FZ_CHECK(vtime_vmm_vcpu_state_encode(&cs, cimg, sizeof cimg) == 0 &&
					 memcmp(cimg, data, sizeof cimg) == 0,
				 "an accepted vCPU image does not re-encode to itself");
		}
	}
	/* states from the input's fields */
	{
		uint8_t fix = fz_u8(&f);
		memset(&st, 0, sizeof st); /* reserved fields zero (docs/abi.md) */
		memset(&cs, 0, sizeof cs);
		st.kvmclock_ns = fz_edge64(&f);
		st.realtime_ns = fz_edge64(&f);
		st.guest_hz = (fix & 1u) ? 2600000000ull : fz_edge64(&f);
		st.host_hz = (fix & 2u) ? 2600000000ull : fz_edge64(&f);
		st.nr_vcpus = fz_u32(&f);
		st.mode = (fix & 4u) ? fz_u8(&f) % 5u : fz_u32(&f);
		st.flags = (fix & 32u) ? fz_u8(&f) % 4u : fz_u32(&f);
		st.vmclock_marker = (fix & 64u) ? 0 : fz_edge64(&f);
		st.vmclock_generation = (fix & 64u) ? 0 : fz_edge64(&f);
		st.hv_sequence = (fix & 128u) ? 0 : (uint32_t)fz_edge64(&f);
		cs.guest_tsc = fz_edge64(&f);
		cs.version = (fix & 8u) ? (uint32_t)fz_edge64(&f) : fz_u32(&f);
		cs.flags = (fix & 16u) ? (uint32_t)VTIME_VMM_VCPU_STATE_RECORD : fz_u32(&f);
	}
	FZ_CHECK(vtime_vmm_state_encode(&st, img, sizeof img) == 0, "encode");
	/* a field a later version defines is never dropped silently */
	st.reserved[st.kvmclock_ns & 3u] = st.realtime_ns | 1u;
	FZ_CHECK(vtime_vmm_state_encode(&st, img, sizeof img) == VTIME_EINVAL, "encode took a reserved field");
	st.reserved[st.kvmclock_ns & 3u] = 0;
	FZ_CHECK(vtime_vmm_state_encode(&st, img, sizeof img) == 0, "encode");
	FZ_CHECK(vtime_vmm_state_decode(&back, img, sizeof img) == 0 && memcmp(&back, &st, sizeof st) == 0,
		 "VM state: decode(encode(x)) != x");
	FZ_CHECK(vtime_vmm_vcpu_state_encode(&cs, cimg, sizeof cimg) == 0, "vcpu encode");
	FZ_CHECK(vtime_vmm_vcpu_state_decode(&cback, cimg, sizeof cimg) == 0 && cback.guest_tsc == cs.guest_tsc &&
			 cback.version == cs.version && cback.flags == cs.flags,
		 "vCPU state: decode(encode(x)) != x");

	/* restore into a VM set up on "this" host */
	{
		static struct vtime_vmm vm, keep;
		static struct vtime_vmm_vcpu v, vkeep;
		struct vtime_vmm_config cfg;
		struct vtime_vmm_now now;
		struct vtime_pvclock_vcpu_time_info rec, copy;
		enum vtime_resume_policy pol = (enum vtime_resume_policy)(fz_u8(&f) % 3u);
		enum vtime_vmm_restore_kind kind = (enum vtime_vmm_restore_kind)(fz_u8(&f) % 3u);
		uint32_t page = 0, ver = 0;
		int want;

		memset(&cfg, 0, sizeof cfg);
		cfg.host_hz = fz_bool(&f) ? 3000000000ull : fz_edge64(&f);
		cfg.guest_hz = fz_bool(&f) ? st.guest_hz : fz_edge64(&f);
		cfg.hw_scaling = fz_bool(&f);
		now.host_tsc = fz_edge64(&f);
		now.host_ns = fz_edge64(&f);
		now.realtime_ns = fz_edge64(&f);
		if (vtime_vmm_init(&vm, &cfg, &now) != 0)
			return 0;
		FZ_CHECK(vm.guest_to_ns.shift >= VTIME_PVCLOCK_SHIFT_MIN && vm.guest_to_ns.shift <= VTIME_PVCLOCK_SHIFT_MAX,
			 "init accepted a rate whose records readers reject (shift %d)", vm.guest_to_ns.shift);
		keep = vm;
		now.host_tsc += fz_u32(&f);
		now.realtime_ns += fz_edge64(&f);
		err = vtime_vmm_restore(&vm, &st, &now, pol, kind);
		if ((pol != VTIME_RESUME_FREEZE && pol != VTIME_RESUME_ADVANCE) ||
		    (kind != VTIME_VMM_RESTORE_SNAPSHOT && kind != VTIME_VMM_RESTORE_MIGRATION))
			want = VTIME_EINVAL;
		else if (st.guest_hz == 0 || st.host_hz == 0 || st.mode < VTIME_VMM_TSC_NATIVE ||
			 st.mode > VTIME_VMM_TSC_EMULATED ||
			 (st.flags & ~(uint32_t)(VTIME_VMM_STATE_VMCLOCK | VTIME_VMM_STATE_HV)) ||
			 st.hv_sequence == 0xffffffffu ||
			 ((st.vmclock_marker || st.vmclock_generation) && !(st.flags & VTIME_VMM_STATE_VMCLOCK)))
			want = VTIME_EPROTO;
		else if (st.guest_hz != vm.guest_hz)
			want = VTIME_EINVAL;
		else
			want = 0;
		FZ_CHECK(err == want, "restore = %d, its documentation says %d", err, want);
		if (err) {
			FZ_CHECK(memcmp(&vm, &keep, sizeof vm) == 0, "a refused restore changed the VM");
			return 0;
		}
		FZ_CHECK(vtime_vmm_vcpu_init(&vm, &v) == 0, "vcpu init");
		memset(&rec, 0, sizeof rec);
		switch (fz_u8(&f) % 3u) {
		case 0: page = cs.version; break;            /* memory carried over */
		case 1: page = 0; break;                     /* memory lost: zeros */
		default: page = fz_u32(&f); break;           /* junk */
		}
		{ /* records are little-endian on every host */
			uint8_t *b = (uint8_t *)&rec.version;
			b[0] = (uint8_t)page, b[1] = (uint8_t)(page >> 8), b[2] = (uint8_t)(page >> 16), b[3] = (uint8_t)(page >> 24);
		}
		FZ_CHECK(vtime_vmm_vcpu_set_record(&v, &rec) == 0, "set_record");
		vkeep = v;
		err = vtime_vmm_vcpu_restore(&v, &cs, &now, NULL);
		want = ((cs.flags & ~VTIME_VMM_VCPU_STATE_RECORD) || (cs.version && !(cs.flags & VTIME_VMM_VCPU_STATE_RECORD)))
			       ? VTIME_EPROTO
			       : 0;
		FZ_CHECK(err == want, "vcpu restore = %d, documentation says %d", err, want);
		if (err) {
			FZ_CHECK(memcmp(&v, &vkeep, sizeof v) == 0, "a refused vCPU restore changed it");
			return 0;
		}
		FZ_CHECK(vtime_vmm_vcpu_publish(&v, &now, &ver) == 0, "publish after restore");
		FZ_CHECK((ver & 1u) == 0, "odd version %u published", ver);
		if (cs.version)
			FZ_CHECK((uint32_t)(ver - cs.version) >= 2 && (uint32_t)(ver - cs.version) <= 0x7fffffffu,
				 "first version %u after a save at %u (record held %u): not after it", ver, cs.version, page);
		FZ_CHECK(vtime_pvclock_snapshot(&rec, 1, &copy) == 0, "the published record is not one readers accept");
		FZ_CHECK(copy.flags & VTIME_PVCLOCK_GUEST_STOPPED, "GUEST_STOPPED not requested by the restore");
	}
	return 0;
}
