/* SPDX-License-Identifier: MIT */
/* KVM shim: ioctls around the VM clock. No state of its own. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include <vtime/arch.h>
#include <vtime/error.h>
#include <vtime/kvm.h>
#include <vtime/pvclock.h>

#include "vt_atomic.h"
#include "vt_endian.h"
#include "vt_kvm_state.h"

/* A record's version word (little-endian, like every pvclock field). */
static uint32_t vt_kvm_version(const volatile struct vtime_pvclock_vcpu_time_info *rec)
{
	return vt_le32(vt_load32(&rec->version));
}

static void vt_kvm_set_version(volatile struct vtime_pvclock_vcpu_time_info *rec, uint32_t v)
{
	vt_store32(&rec->version, vt_le32(v));
}

/* Host TSC as KVM's offsets see it when the host cannot scale TSCs. */
static inline uint64_t vt_kvm_rdtsc(void)
{
	return vtime_arch_counter_ordered();
}

int vtime_kvm_clock_get(int vm_fd, struct vtime_kvm_clock *out)
{
	struct kvm_clock_data d;

	if (!out)
		return VTIME_EINVAL;
	memset(&d, 0, sizeof(d));
	if (ioctl(vm_fd, KVM_GET_CLOCK, &d) < 0)
		return VTIME_EIO;
	*out = (struct vtime_kvm_clock){ 0 };
	out->clock_ns = d.clock;
	out->flags = d.flags;
	out->realtime_ns = (d.flags & KVM_CLOCK_REALTIME) ? d.realtime : 0;
	out->host_tsc = (d.flags & KVM_CLOCK_HOST_TSC) ? d.host_tsc : 0;
	return 0;
}

int vtime_kvm_clock_set(int vm_fd, uint64_t clock_ns, uint64_t realtime_ns)
{
	struct kvm_clock_data d;

	memset(&d, 0, sizeof(d));
	d.clock = clock_ns;
	if (realtime_ns) {
		if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ADJUST_CLOCK) <= 0 ||
		    !(ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ADJUST_CLOCK) & KVM_CLOCK_REALTIME))
			return VTIME_ENOTSUP;
		d.flags = KVM_CLOCK_REALTIME;
		d.realtime = realtime_ns;
	}
	if (ioctl(vm_fd, KVM_SET_CLOCK, &d) < 0)
		return errno == EINVAL && realtime_ns ? VTIME_ENOTSUP : VTIME_EIO;
	return 0;
}

int vtime_kvm_clock_ctrl(int vcpu_fd)
{
	if (ioctl(vcpu_fd, KVM_KVMCLOCK_CTRL, 0) < 0)
		return errno == EINVAL ? VTIME_ENODATA : VTIME_EIO;
	return 0;
}

int vtime_kvm_tsc_khz_get(int vcpu_fd, uint32_t *khz)
{
	int r;

	if (!khz)
		return VTIME_EINVAL;
	r = ioctl(vcpu_fd, KVM_GET_TSC_KHZ, 0);
	if (r < 0)
		return errno == EIO ? VTIME_ENODEV : VTIME_EIO;
	*khz = (uint32_t)r;
	return 0;
}

int vtime_kvm_tsc_khz_set(int vcpu_fd, uint32_t khz)
{
	if (khz == 0)
		return VTIME_EINVAL;
	if (ioctl(vcpu_fd, KVM_SET_TSC_KHZ, (unsigned long)khz) < 0)
		return errno == EIO || errno == EINVAL ? VTIME_ENOTSUP : VTIME_EIO;
	return 0;
}

static int vt_kvm_tsc_attr(int vcpu_fd, unsigned long req, uint64_t *offset)
{
	struct kvm_device_attr a;

	memset(&a, 0, sizeof(a));
	a.group = KVM_VCPU_TSC_CTRL;
	a.attr = KVM_VCPU_TSC_OFFSET;
	a.addr = (uint64_t)(uintptr_t)offset;
	if (ioctl(vcpu_fd, KVM_HAS_DEVICE_ATTR, &a) < 0)
		return VTIME_ENOTSUP;
	if (ioctl(vcpu_fd, req, &a) < 0)
		return VTIME_EIO;
	return 0;
}

int vtime_kvm_tsc_offset_get(int vcpu_fd, uint64_t *offset)
{
	if (!offset)
		return VTIME_EINVAL;
	return vt_kvm_tsc_attr(vcpu_fd, KVM_GET_DEVICE_ATTR, offset);
}

int vtime_kvm_tsc_offset_set(int vcpu_fd, uint64_t offset)
{
	return vt_kvm_tsc_attr(vcpu_fd, KVM_SET_DEVICE_ATTR, &offset);
}

struct vt_kvm_msrs1 {
	struct kvm_msrs hdr;
	struct kvm_msr_entry e;
};

int vtime_kvm_msr_get(int vcpu_fd, uint32_t index, uint64_t *value)
{
	struct vt_kvm_msrs1 m;

	if (!value)
		return VTIME_EINVAL;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.e.index = index;
	if (ioctl(vcpu_fd, KVM_GET_MSRS, &m) != 1)
		return VTIME_EIO;
	*value = m.e.data;
	return 0;
}

int vtime_kvm_msr_set(int vcpu_fd, uint32_t index, uint64_t value)
{
	struct vt_kvm_msrs1 m;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.e.index = index;
	m.e.data = value;
	if (ioctl(vcpu_fd, KVM_SET_MSRS, &m) != 1)
		return VTIME_EIO;
	return 0;
}

int vtime_kvm_guest_record(void *mem, size_t mem_size, uint64_t gpa,
			   volatile struct vtime_pvclock_vcpu_time_info **rec)
{
	if (!mem || !rec || (gpa & 7u))
		return VTIME_EINVAL;
	if (gpa > mem_size || mem_size - gpa < sizeof(struct vtime_pvclock_vcpu_time_info))
		return VTIME_ERANGE;
	*rec = (volatile struct vtime_pvclock_vcpu_time_info *)((char *)mem + gpa);
	return 0;
}

int vtime_kvm_guest_record_read(const void *mem, size_t mem_size, uint64_t msr,
				struct vtime_pvclock_vcpu_time_info *out)
{
	volatile struct vtime_pvclock_vcpu_time_info *rec;
	int err;

	if (!out)
		return VTIME_EINVAL;
	if (!(msr & VTIME_KVM_SYSTEM_TIME_ENABLE))
		return VTIME_ENODEV;
	if ((err = vtime_kvm_guest_record((void *)(uintptr_t)mem, mem_size, msr & ~(uint64_t)1, &rec)))
		return err;
	return vtime_pvclock_snapshot(rec, 0, out);
}

int vtime_kvm_save_clock(int vm_fd, const int *vcpu_fds, unsigned nr_vcpus, const void *mem, size_t mem_size,
			 struct vtime_kvm_save *out)
{
	struct vtime_kvm_clock c;
	int err;

	if (!out || (nr_vcpus && !vcpu_fds) || nr_vcpus > VTIME_KVM_SAVE_MAX_VCPUS)
		return VTIME_EINVAL;
	memset(out, 0, sizeof(*out));
	out->nr_vcpus = nr_vcpus;
	for (unsigned i = 0; i < nr_vcpus; i++) {
		struct vtime_kvm_save_vcpu *v = &out->vcpu[i];
		volatile struct vtime_pvclock_vcpu_time_info *rec;

		if ((err = vtime_kvm_msr_get(vcpu_fds[i], VTIME_MSR_IA32_TSC, &v->tsc)) ||
		    (err = vtime_kvm_msr_get(vcpu_fds[i], VTIME_KVM_MSR_SYSTEM_TIME_NEW, &v->system_time)) ||
		    (err = vtime_kvm_tsc_khz_get(vcpu_fds[i], &v->tsc_khz)))
			return err;
		rec = NULL;
		if ((v->system_time & VTIME_KVM_SYSTEM_TIME_ENABLE) && mem &&
		    vtime_kvm_guest_record((void *)(uintptr_t)mem, mem_size, v->system_time & ~(uint64_t)1, &rec))
			rec = NULL;
		v->version = rec ? vt_kvm_version(rec) : 0;
	}
	if (nr_vcpus && vtime_kvm_msr_get(vcpu_fds[0], VTIME_KVM_MSR_WALL_CLOCK_NEW, &out->wall_clock))
		out->wall_clock = 0;
	/* The clock last: it is the value a freeze restore continues from. */
	if ((err = vtime_kvm_clock_get(vm_fd, &c)))
		return err;
	out->clock_ns = c.clock_ns;
	out->clock_flags = c.flags;
	if (c.flags & VTIME_KVM_CLOCK_REALTIME) {
		out->realtime_ns = c.realtime_ns;
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		out->realtime_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	}
	return 0;
}

int vtime_kvm_restore_clock(int vm_fd, const int *vcpu_fds, unsigned nr_vcpus, void *mem, size_t mem_size,
			    const struct vtime_kvm_save *save, enum vtime_resume_policy policy)
{
	volatile struct vtime_pvclock_vcpu_time_info *recs[VTIME_KVM_SAVE_MAX_VCPUS];
	uint64_t elapsed = 0;
	int err, scaling;

	if (!save || nr_vcpus != save->nr_vcpus || (nr_vcpus && !vcpu_fds) || nr_vcpus > VTIME_KVM_SAVE_MAX_VCPUS ||
	    (policy != VTIME_RESUME_FREEZE && policy != VTIME_RESUME_ADVANCE))
		return VTIME_EINVAL;
	/* every field before anything changes */
	if (save->clock_flags & ~(uint32_t)(VTIME_KVM_CLOCK_TSC_STABLE | VTIME_KVM_CLOCK_REALTIME | VTIME_KVM_CLOCK_HOST_TSC) ||
	    !vt_kvm_save_reserved_zero(save))
		return VTIME_EPROTO;
	for (unsigned i = 0; i < nr_vcpus; i++) {
		const struct vtime_kvm_save_vcpu *v = &save->vcpu[i];
		recs[i] = NULL;
		if (v->tsc_khz == 0)
			return VTIME_EPROTO;
		if ((v->system_time & VTIME_KVM_SYSTEM_TIME_ENABLE) && mem &&
		    vtime_kvm_guest_record(mem, mem_size, v->system_time & ~(uint64_t)1, &recs[i]))
			return VTIME_EPROTO;
	}
	/* With TSC scaling the offset applies to the scaled host TSC: leave
	 * that to KVM's MSR path. */
	scaling = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_CONTROL) > 0;
	if (policy == VTIME_RESUME_ADVANCE) {
		struct timespec ts;
		uint64_t now;

		clock_gettime(CLOCK_REALTIME, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		elapsed = now > save->realtime_ns ? now - save->realtime_ns : 0;
	}
	for (unsigned i = 0; i < nr_vcpus; i++) {
		const struct vtime_kvm_save_vcpu *v = &save->vcpu[i];
		uint64_t tsc = v->tsc;
		volatile struct vtime_pvclock_vcpu_time_info *rec = recs[i];

		/* Advance: the TSC moves by the pause at the saved rate (elapsed * khz / 1e6). */
		if (elapsed)
			tsc += (elapsed / 1000000u) * v->tsc_khz + (elapsed % 1000000u) * v->tsc_khz / 1000000u;
		/* Memory not carried over: never let KVM reuse a version the guest saw. */
		if (rec && v->version && (uint32_t)(vt_kvm_version(rec) - v->version) > 0x7fffffffu)
			vt_kvm_set_version(rec, (v->version + 2u) & ~1u);
		/* The offset attribute sets the TSC exactly; a host write of
		 * IA32_TSC goes through KVM's 1-second matching rule and, this soon
		 * after the vCPUs were created, would land on their TSC instead. */
		if ((scaling || vtime_kvm_tsc_offset_set(vcpu_fds[i], tsc - vt_kvm_rdtsc()) != 0) &&
		    (err = vtime_kvm_msr_set(vcpu_fds[i], VTIME_MSR_IA32_TSC, tsc)))
			return err;
		if ((err = vtime_kvm_msr_set(vcpu_fds[i], VTIME_KVM_MSR_SYSTEM_TIME_NEW, v->system_time)))
			return err;
	}
	/* Freeze: the clock continues from the saved value. Advance: KVM adds
	 * (realtime now - saved realtime) at the ioctl itself, but only in
	 * master-clock mode; a VM whose vCPUs never ran is not there yet, so
	 * then the elapsed time is measured here, just before the ioctl. */
	if (policy == VTIME_RESUME_ADVANCE) {
		struct vtime_kvm_clock c;
		uint64_t clock = save->clock_ns;

		if ((err = vtime_kvm_clock_get(vm_fd, &c)))
			return err;
		if (c.flags & VTIME_KVM_CLOCK_TSC_STABLE) {
			err = vtime_kvm_clock_set(vm_fd, clock, save->realtime_ns);
		} else {
			struct timespec ts;
			uint64_t now;

			clock_gettime(CLOCK_REALTIME, &ts);
			now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
			if (now > save->realtime_ns)
				clock += now - save->realtime_ns;
			err = vtime_kvm_clock_set(vm_fd, clock, 0);
		}
	} else {
		err = vtime_kvm_clock_set(vm_fd, save->clock_ns, 0);
	}
	if (err)
		return err;
	/* Wall record rewritten after the clock is set, so it pairs host realtime
	 * with the restored kvmclock (a stale one is the "stuck wall clock"). */
	if (save->wall_clock && nr_vcpus &&
	    (err = vtime_kvm_msr_set(vcpu_fds[0], VTIME_KVM_MSR_WALL_CLOCK_NEW, save->wall_clock)))
		return err;
	/* The guest was stopped: let it tell its watchdogs (GUEST_STOPPED). */
	for (unsigned i = 0; i < nr_vcpus; i++)
		if ((save->vcpu[i].system_time & VTIME_KVM_SYSTEM_TIME_ENABLE) && (err = vtime_kvm_clock_ctrl(vcpu_fds[i])) &&
		    err != VTIME_ENODATA)
			return err;
	return 0;
}
