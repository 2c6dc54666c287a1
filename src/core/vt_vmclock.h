/* SPDX-License-Identifier: MIT */
/* Private to the core: the VMClock writer with floors for the two markers,
 * for the VMM core's first publish after a restore onto a page that may have
 * lost what the guest saw (include/vtime/vmclock.h has the public writer). */
#ifndef VT_VMCLOCK_H
#define VT_VMCLOCK_H

#include <stdint.h>
#include <vtime/vmclock.h>

/* vtime_vmclock_publish(), except that the disruption marker and the
 * generation counter first continue from floor[0] and floor[1] when those
 * are ahead (serial order) of the page's values; then the events apply as
 * usual, all inside the one seq window. floor NULL: none. */
uint32_t vt_vmclock_publish_floor(volatile struct vtime_vmclock_abi *clk, const struct vtime_vmclock_abi *body,
				  unsigned events, const uint64_t *floor);

#endif
