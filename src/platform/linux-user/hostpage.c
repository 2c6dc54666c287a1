/* SPDX-License-Identifier: MIT */
/* Finding and probing the host pvclock page mapped into every process. */
#include <errno.h>
#include <string.h>
#include <vtime/clock.h>
#include <vtime/linux.h>
#include <vtime/error.h>

#include "vt_pvclock_read.h"
#include "vt_user.h"


static int fail(struct vtime_host_page *hp, int err, const char *a, const char *b)
{
	hp->err = err;
	hp->rec = NULL;
	vt_user_strlcpy(hp->why, a, sizeof hp->why);
	if (b)
		vt_user_strlcat(hp->why, b, sizeof hp->why);
	return err;
}

int vtime_host_page_find(struct vtime_host_page *hp)
{
	/* Records are copied 8 at a time: lazy init may run on a small signal stack. */
	unsigned char copy[8 * VTIME_PVCLOCK_RECORD_STRIDE];
	struct vtime_pvclock_vcpu_time_info body;
	int err;

	if (!hp)
		return VTIME_EINVAL;
	memset(hp, 0, sizeof *hp);
	hp->mapping = "";
#if !defined(__x86_64__) && !defined(__i386__)
	return fail(hp, VTIME_ENOTSUP, "the pvclock page exists only on x86 KVM guests", NULL);
#endif
	err = vt_user_vvar_page(0, 1, &hp->addr, &hp->mapping); /* [vvar_vclock] page 0, pre-6.13 [vvar] page 1 */
	if (err == VTIME_EIO)
		return fail(hp, VTIME_EIO, "cannot read /proc/self/maps", NULL);
	if (err)
		return fail(hp, VTIME_ENODEV,
			    "no [vvar_vclock] or multi-page [vvar] mapping in /proc/self/maps "
			    "(no vDSO, or not a Linux KVM guest)", NULL);
	err = vt_user_safe_copy(copy, hp->addr, sizeof copy);
	if (err == VTIME_ENODEV)
		return fail(hp, VTIME_ENODEV, hp->mapping,
			    ": the pvclock page is not backed (reading it would raise SIGBUS): "
			    "the kernel never used kvm-clock (not a KVM guest, or kvm-clock disabled)");
	if (err)
		return fail(hp, VTIME_EIO, "could not copy the pvclock page through a pipe", NULL);
	/* The copy is the kernel's view; validate it like a live record. */
	err = vtime_pvclock_snapshot((const volatile struct vtime_pvclock_vcpu_time_info *)copy, 0, &body);
	if (err == VTIME_ENODATA)
		return fail(hp, err, hp->mapping, ": CPU 0's pvclock record was never published (all zero)");
	if (err == VTIME_EPROTO)
		return fail(hp, err, hp->mapping, ": CPU 0's pvclock record is invalid (multiplier 0 or shift out of range)");
	if (err)
		return fail(hp, err, hp->mapping, ": CPU 0's pvclock record stayed odd (writer stuck)");
	hp->nrecords = 1;
	while (hp->nrecords < VTIME_HOST_PAGE_MAX_CPUS) {
		unsigned i = hp->nrecords % 8;
		const struct vtime_pvclock_vcpu_time_info *r;
		if (i == 0 && vt_user_safe_copy(copy, hp->addr + hp->nrecords * VTIME_PVCLOCK_RECORD_STRIDE,
						sizeof copy) != 0)
			break;
		r = (const void *)(copy + i * VTIME_PVCLOCK_RECORD_STRIDE);
		if (r->version == 0 || r->tsc_to_system_mul == 0)
			break;
		hp->nrecords++;
	}
	hp->rec = (const volatile struct vtime_pvclock_vcpu_time_info *)hp->addr;
	return 0;
}

int vtime_host_page_record(const struct vtime_host_page *hp, unsigned cpu,
			   const volatile struct vtime_pvclock_vcpu_time_info **rec)
{
	if (!hp || !rec)
		return VTIME_EINVAL;
	if (!hp->rec)
		return VTIME_ENODEV;
	if (cpu >= hp->nrecords)
		return VTIME_ERANGE;
	*rec = (const volatile struct vtime_pvclock_vcpu_time_info *)(hp->addr + cpu * VTIME_PVCLOCK_RECORD_STRIDE);
	return 0;
}
