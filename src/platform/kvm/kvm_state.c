/* SPDX-License-Identifier: MIT */
/* The KVM clock snapshot's byte image (vt_state.h's pattern). Freestanding:
 * no /dev/kvm and no libc here, so the image is encoded and decoded the same
 * way on every host (the byte-order test builds this file on s390x). */
#include <vtime/error.h>
#include <vtime/kvm.h>

#include "vt_kvm_state.h"
#include "vt_state.h"

/* The reserved fields of save and every vCPU up to nr_vcpus are zero. */
bool vt_kvm_save_reserved_zero(const struct vtime_kvm_save *save)
{
	uint64_t any = 0;

	for (unsigned i = 0; i < sizeof save->reserved / sizeof save->reserved[0]; i++)
		any |= save->reserved[i];
	for (unsigned v = 0; v < save->nr_vcpus && v < VTIME_KVM_SAVE_MAX_VCPUS; v++)
		for (unsigned i = 0; i < sizeof save->vcpu[v].reserved / sizeof save->vcpu[v].reserved[0]; i++)
			any |= save->vcpu[v].reserved[i];
	return any == 0;
}

int vtime_kvm_save_encode(const struct vtime_kvm_save *save, void *buf, size_t len, size_t *used)
{
	struct vt_state_cur c;
	int err;

	if (!save || save->nr_vcpus > VTIME_KVM_SAVE_MAX_VCPUS || !vt_kvm_save_reserved_zero(save))
		return VTIME_EINVAL;
	if ((err = vt_state_begin_write(&c, buf, len, VTIME_KVM_SAVE_MAGIC, VTIME_KVM_SAVE_VERSION,
					VTIME_KVM_SAVE_BYTES(save->nr_vcpus))))
		return err;
	vt_state_put(&c, save->nr_vcpus, 4);
	vt_state_put(&c, save->clock_flags, 4);
	vt_state_put(&c, save->clock_ns, 8);
	vt_state_put(&c, save->realtime_ns, 8);
	vt_state_put(&c, save->wall_clock, 8);
	for (unsigned i = 0; i < save->nr_vcpus; i++) {
		const struct vtime_kvm_save_vcpu *v = &save->vcpu[i];
		vt_state_put(&c, v->tsc, 8);
		vt_state_put(&c, v->system_time, 8);
		vt_state_put(&c, v->tsc_khz, 4);
		vt_state_put(&c, v->version, 4);
	}
	if ((err = vt_state_end(&c)))
		return err;
	if (used)
		*used = VTIME_KVM_SAVE_BYTES(save->nr_vcpus);
	return 0;
}

int vtime_kvm_save_decode(struct vtime_kvm_save *save, const void *buf, size_t len)
{
	struct vtime_kvm_save d;
	struct vt_state_cur c;
	uint16_t version;
	uint32_t size, n;
	int err;

	if (!save)
		return VTIME_EINVAL;
	if ((err = vt_state_begin_read(&c, buf, len, VTIME_KVM_SAVE_MAGIC, VTIME_KVM_SAVE_VERSION, &version, &size)))
		return err;
	n = (uint32_t)vt_state_get(&c, 4);
	if (n > VTIME_KVM_SAVE_MAX_VCPUS || size != VTIME_KVM_SAVE_BYTES(n))
		return VTIME_EPROTO;
	d = (struct vtime_kvm_save){ 0 };
	d.nr_vcpus = n;
	d.clock_flags = (uint32_t)vt_state_get(&c, 4);
	d.clock_ns = vt_state_get(&c, 8);
	d.realtime_ns = vt_state_get(&c, 8);
	d.wall_clock = vt_state_get(&c, 8);
	for (unsigned i = 0; i < n; i++) {
		struct vtime_kvm_save_vcpu *v = &d.vcpu[i];
		v->tsc = vt_state_get(&c, 8);
		v->system_time = vt_state_get(&c, 8);
		v->tsc_khz = (uint32_t)vt_state_get(&c, 4);
		v->version = (uint32_t)vt_state_get(&c, 4);
	}
	if ((err = vt_state_end(&c)))
		return err;
	*save = d; /* unchanged on every failure */
	return 0;
}
