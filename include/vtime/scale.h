/* SPDX-License-Identifier: MIT */
/* Fixed-point frequency scaling, bit-exact with KVM's kvm_get_time_scale()
 * and Xen's set_time_scale() (for a 1 GHz target). */
#ifndef VTIME_SCALE_H
#define VTIME_SCALE_H

#include <stdint.h>
#include <vtime/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* to_ticks = ((from_ticks shifted left by shift, right if negative) * mul) >> 32 */
struct vtime_scale {
	uint32_t mul;
	int8_t shift;
};

#define VTIME_NSEC_PER_SEC 1000000000ull

/* Computes the scale converting from_hz ticks into to_hz ticks, exactly as
 * kvm_get_time_scale(to_hz, from_hz) does. TSC->ns: (tsc_hz, 1e9); ns->TSC:
 * (1e9, tsc_hz). Returns 0, VTIME_EINVAL (NULL or 0 Hz) or VTIME_ERANGE
 * (shift would leave [-63, 63]). */
VTIME_API int vtime_scale_init(struct vtime_scale *s, uint64_t from_hz, uint64_t to_hz);

/* ((delta shifted by s->shift, mod 2^64) * mul) >> 32 with the full 96-bit
 * product: exact for every delta, no __int128 needed. Pure; s must point at
 * a scale. */
VTIME_API uint64_t vtime_scale_apply(const struct vtime_scale *s, uint64_t delta);

/* Source frequency in Hz of a to-ns scale: floor(1e9 * 2^(32-shift) / mul).
 * Exact whenever the frequency is below mul and survived the pre-shift (e.g.
 * 2599999000 from mul 3303822267, shift -1). 0 for mul 0; saturates at
 * UINT64_MAX. */
VTIME_API uint64_t vtime_scale_source_hz(const struct vtime_scale *s);

#ifdef __cplusplus
}
#endif
#endif
