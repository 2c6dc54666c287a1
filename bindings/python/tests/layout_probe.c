/* SPDX-License-Identifier: MIT */
/* Prints "struct field offset size" for every struct the Python binding
 * mirrors with ctypes, so its unittest can compare layouts with the C ones. */
#include <stddef.h>
#include <stdio.h>
#include <vtime/pvclock.h>
#include <vtime/scale.h>
#ifdef VT_HAVE_CLOCK
#include <vtime/clock.h>
#endif

#define F(s, f) printf("%s %s %zu %zu\n", #s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f))
#define S(s) printf("%s sizeof %zu %zu\n", #s, sizeof(struct s), sizeof(struct s))

int main(void)
{
	S(vtime_pvclock_vcpu_time_info);
	F(vtime_pvclock_vcpu_time_info, version);
	F(vtime_pvclock_vcpu_time_info, tsc_timestamp);
	F(vtime_pvclock_vcpu_time_info, system_time);
	F(vtime_pvclock_vcpu_time_info, tsc_to_system_mul);
	F(vtime_pvclock_vcpu_time_info, tsc_shift);
	F(vtime_pvclock_vcpu_time_info, flags);
	S(vtime_pvclock_wall_clock);
	F(vtime_pvclock_wall_clock, sec);
	F(vtime_pvclock_wall_clock, nsec);
	S(vtime_scale);
	F(vtime_scale, mul);
	F(vtime_scale, shift);
#ifdef VT_HAVE_CLOCK
	S(vtime_clock_info);
	F(vtime_clock_info, source);
	F(vtime_clock_info, source_name);
	F(vtime_clock_info, forced);
	F(vtime_clock_info, why);
	F(vtime_clock_info, freq_source);
	F(vtime_clock_info, nominal_hz);
	F(vtime_clock_info, freq_hz);
	F(vtime_clock_info, freq_ppm);
	F(vtime_clock_info, tracking_error_ns);
	F(vtime_clock_info, recal_interval_ns);
	F(vtime_clock_info, recalibrations);
	F(vtime_clock_info, steps);
	F(vtime_clock_info, fallbacks);
	F(vtime_clock_info, fallback_reason);
	F(vtime_clock_info, init_ns);
	F(vtime_clock_info, page_stable);
	F(vtime_clock_info, counter);
	F(vtime_clock_info, kernel_rate_known);
	F(vtime_clock_info, kernel_rate_ppm);
	F(vtime_clock_info, rate_changes);
	F(vtime_clock_info, probe_interval_ns);
	F(vtime_clock_info, realtime_unc_ns);
	F(vtime_clock_info, realtime_steps);
	F(vtime_clock_info, reserved);
#endif
	return 0;
}
