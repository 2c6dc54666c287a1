/* SPDX-License-Identifier: MIT */
/* Reading a guest's records out of guest memory (the KVM shim), with the
 * memory, its size and the guest-physical addresses (MSR values) all from
 * the guest: vtime_kvm_guest_record() and vtime_kvm_guest_record_read().
 *   - nothing outside mem[0, size) is ever read (ASan: mem is allocated
 *     at exactly its size);
 *   - a gpa not 8-byte aligned is EINVAL, a record not wholly inside is
 *     ERANGE, a disabled MSR ENODEV; otherwise the pointer is mem + gpa;
 *   - the copy is the record's little-endian fields, or the reader's
 *     protocol error for it (EAGAIN, ENODATA, EPROTO). */
#include <vtime/error.h>
#include <vtime/kvm.h>
#include <vtime/pvclock.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	size_t mem_size = fz_u16(&f) % 4097u;
	uint8_t *mem = malloc(mem_size ? mem_size : 1);
	unsigned probes = 0;

	if (!mem)
		return 0;
	for (size_t i = 0; i < mem_size; i++)
		mem[i] = fz_left(&f) > 24 ? fz_u8(&f) : (uint8_t)(i * 7u); /* keep some bytes for the probes */
	while (fz_left(&f) && probes++ < 32) {
		uint8_t sel = fz_u8(&f);
		uint64_t gpa;
		volatile struct vtime_pvclock_vcpu_time_info *rec = NULL;
		struct vtime_pvclock_vcpu_time_info out;
		int err, want;

		switch (sel & 3u) {
		case 0: gpa = (uint64_t)mem_size - (fz_u8(&f) % 64u); break; /* around the end */
		case 1: gpa = (uint64_t)(fz_u16(&f) % 4097u) & ~(uint64_t)7; break;
		case 2: gpa = fz_edge64(&f); break;
		default: gpa = fz_u16(&f); break;
		}
		err = vtime_kvm_guest_record(mem, mem_size, gpa, &rec);
		want = (gpa & 7u) ? VTIME_EINVAL
		       : (gpa > mem_size || mem_size - gpa < 32) ? VTIME_ERANGE
								  : 0;
		FZ_CHECK(err == want, "guest_record(size %zu, gpa %llu) = %d, want %d", mem_size, FZ_U(gpa), err, want);
		if (!err)
			FZ_CHECK(rec == (volatile struct vtime_pvclock_vcpu_time_info *)(void *)(mem + gpa), "wrong pointer");
		FZ_CHECK(vtime_kvm_guest_record(NULL, mem_size, gpa, &rec) == VTIME_EINVAL, "NULL mem");

		/* the same through the MSR value (gpa | enable) */
		{
			uint64_t msr = (sel & 4u) ? gpa : gpa | 1u;
			memset(&out, 0x5a, sizeof out);
			err = vtime_kvm_guest_record_read(mem, mem_size, msr, &out);
			if (!(msr & 1u)) {
				FZ_CHECK(err == VTIME_ENODEV, "disabled MSR read: %d", err);
				continue;
			}
			gpa = msr & ~(uint64_t)1;
			want = (gpa & 7u) ? VTIME_EINVAL : (gpa > mem_size || mem_size - gpa < 32) ? VTIME_ERANGE : 0;
			if (want == 0) {
				const uint8_t *r = mem + gpa;
				uint32_t v = (uint32_t)fz_le(r, 4), mul = (uint32_t)fz_le(r + 24, 4);
				int8_t sh = (int8_t)r[28];
				if (v & 1u)
					want = VTIME_EAGAIN;
				else if (mul == 0)
					want = (v == 0 && fz_le(r + 8, 8) == 0 && fz_le(r + 16, 8) == 0) ? VTIME_ENODATA : VTIME_EPROTO;
				else if (sh < VTIME_PVCLOCK_SHIFT_MIN || sh > VTIME_PVCLOCK_SHIFT_MAX)
					want = VTIME_EPROTO;
				FZ_CHECK(err == want, "record_read at %llu = %d, want %d", FZ_U(gpa), err, want);
				if (err == 0)
					FZ_CHECK(out.version == v && out.tsc_timestamp == fz_le(r + 8, 8) &&
							 out.system_time == fz_le(r + 16, 8) && out.tsc_to_system_mul == mul &&
							 out.tsc_shift == sh && out.flags == r[29],
						 "the copy is not the record");
			} else {
				FZ_CHECK(err == want, "record_read at %llu = %d, want %d", FZ_U(gpa), err, want);
			}
		}
	}
	free(mem);
	return 0;
}
