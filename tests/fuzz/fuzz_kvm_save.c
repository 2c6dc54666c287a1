/* SPDX-License-Identifier: MIT */
/* The KVM clock snapshot from a snapshot file anyone could have written:
 *   - vtime_kvm_save_decode(): an accepted image re-encodes to the same
 *     bytes; decode(encode(x)) == x; more than VTIME_KVM_SAVE_MAX_VCPUS
 *     vCPUs is refused by both;
 *   - vtime_kvm_restore_clock() checks every field before its first
 *     ioctl: EINVAL for arguments that do not match, EPROTO for unknown
 *     clock flags, a vCPU with tsc_khz 0, or an enabled record outside the
 *     guest memory or not 8-byte aligned, with guest memory untouched;
 *     a state that passes reaches the ioctls (here on closed fds: EIO). */
#include <vtime/error.h>
#include <vtime/kvm.h>

#include "fuzz.h"

static struct vtime_kvm_save S, B;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	static uint8_t img[VTIME_KVM_SAVE_BYTES(VTIME_KVM_SAVE_MAX_VCPUS)], img2[sizeof img];
	size_t used = 0;
	int err;

	if (size) {
		err = vtime_kvm_save_decode(&S, data, size);
		FZ_CHECK(err == 0 || err == VTIME_EPROTO || err == VTIME_ENOTSUP, "decode %d", err);
		if (!err) {
			FZ_CHECK(vtime_kvm_save_encode(&S, img, sizeof img, &used) == 0, "re-encode");
			FZ_CHECK(used <= size && memcmp(img, data, used) == 0, "an accepted image does not re-encode to itself");
		}
	}
	memset(&S, 0, sizeof S);
	S.nr_vcpus = fz_u8(&f) % (VTIME_KVM_SAVE_MAX_VCPUS + 4u);
	S.clock_flags = fz_bool(&f) ? fz_u32(&f) : (fz_u8(&f) & 0xeu);
	S.clock_ns = fz_edge64(&f);
	S.realtime_ns = fz_edge64(&f);
	S.wall_clock = fz_edge64(&f);
	for (unsigned i = 0; i < VTIME_KVM_SAVE_MAX_VCPUS && i < S.nr_vcpus; i++) {
		S.vcpu[i].tsc = fz_edge64(&f);
		S.vcpu[i].system_time = fz_bool(&f) ? fz_edge64(&f) : (fz_u16(&f) % 8192u) | 1u;
		S.vcpu[i].tsc_khz = fz_bool(&f) ? fz_u32(&f) : 2600000u;
		S.vcpu[i].version = fz_u32(&f);
	}
	err = vtime_kvm_save_encode(&S, img, sizeof img, &used);
	if (S.nr_vcpus > VTIME_KVM_SAVE_MAX_VCPUS) {
		FZ_CHECK(err == VTIME_EINVAL, "encode of %u vCPUs: %d", S.nr_vcpus, err);
		return 0;
	}
	FZ_CHECK(err == 0 && used == VTIME_KVM_SAVE_BYTES(S.nr_vcpus), "encode %d", err);
	FZ_CHECK(vtime_kvm_save_decode(&B, img, used) == 0 && memcmp(&B, &S, sizeof S) == 0, "decode(encode(x)) != x");
	FZ_CHECK(vtime_kvm_save_decode(&B, img, used - 1) == VTIME_EPROTO, "a truncated image was accepted");
	FZ_CHECK(vtime_kvm_save_encode(&B, img2, sizeof img2, NULL) == 0 && memcmp(img, img2, used) == 0, "encoding");

	/* restore's checks, before any ioctl (the fds are closed ones) */
	{
		int fds[VTIME_KVM_SAVE_MAX_VCPUS];
		size_t mem_size = fz_u16(&f) % 8193u;
		uint8_t *mem = malloc(mem_size ? mem_size : 1), *copy = malloc(mem_size ? mem_size : 1);
		bool with_mem = fz_bool(&f);
		unsigned n = fz_bool(&f) ? S.nr_vcpus : fz_u8(&f) % 70u;
		enum vtime_resume_policy pol = (enum vtime_resume_policy)(fz_u8(&f) % 3u);
		int want = 0;

		if (!mem || !copy) {
			free(mem);
			free(copy);
			return 0;
		}
		for (size_t i = 0; i < mem_size; i++)
			mem[i] = (uint8_t)(i * 13u);
		memcpy(copy, mem, mem_size);
		for (unsigned i = 0; i < VTIME_KVM_SAVE_MAX_VCPUS; i++)
			fds[i] = -1;
		if (n != S.nr_vcpus || n > VTIME_KVM_SAVE_MAX_VCPUS || (pol != VTIME_RESUME_FREEZE && pol != VTIME_RESUME_ADVANCE))
			want = VTIME_EINVAL;
		else if (S.clock_flags & ~(uint32_t)(VTIME_KVM_CLOCK_TSC_STABLE | VTIME_KVM_CLOCK_REALTIME | VTIME_KVM_CLOCK_HOST_TSC))
			want = VTIME_EPROTO;
		else
			for (unsigned i = 0; i < n && !want; i++) {
				uint64_t st = S.vcpu[i].system_time, gpa = st & ~(uint64_t)1;
				if (S.vcpu[i].tsc_khz == 0)
					want = VTIME_EPROTO;
				else if ((st & 1u) && with_mem && ((gpa & 7u) || gpa > mem_size || mem_size - gpa < 32))
					want = VTIME_EPROTO;
			}
		err = vtime_kvm_restore_clock(-1, fds, n, with_mem ? mem : NULL, mem_size, &S, pol);
		if (want) {
			FZ_CHECK(err == want, "restore_clock = %d, its checks say %d", err, want);
			FZ_CHECK(memcmp(mem, copy, mem_size) == 0, "a refused restore touched guest memory");
		} else {
			FZ_CHECK(err == VTIME_EIO || err == VTIME_ENOTSUP, "restore_clock on closed fds = %d (checks passed)", err);
		}
		free(mem);
		free(copy);
	}
	return 0;
}
