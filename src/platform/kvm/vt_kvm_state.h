/* SPDX-License-Identifier: MIT */
/* Private to the KVM shim: checks shared by the snapshot's encoder
 * (kvm_state.c) and its restore (kvm.c). */
#ifndef VT_KVM_STATE_H
#define VT_KVM_STATE_H

#include <stdbool.h>
#include <vtime/kvm.h>

/* True when every reserved field of save (and of its first nr_vcpus vCPUs)
 * is zero: fields a later vtime defines are never silently dropped. */
bool vt_kvm_save_reserved_zero(const struct vtime_kvm_save *save);

#endif
