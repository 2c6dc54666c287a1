/* SPDX-License-Identifier: MIT */
/* The start-up check of a claimed counter frequency (host page, CPUID,
 * CNTFRQ_EL0, the TOD clock's architecture): two bracketed samples of
 * CLOCK_MONOTONIC_RAW (the raw clocksource: NTP's adjustments of
 * CLOCK_MONOTONIC are no reason to refuse a claim) 100-500 us apart. A
 * claim off by more than 1000 ppm plus three times the measurement's own
 * uncertainty is refused, and the frequency is measured instead. A slow
 * clocksource (brackets of microseconds) cannot decide within 0.5 ms: the
 * claim is then kept, and the run-time rate check (maint.c) catches a
 * wrong one within its first samples. */
#include "vt_clock_int.h"
#include "vt_freqchk.h"

double vt_rate_off_ppm(const struct vt_sample *s0, const struct vt_sample *s1, double ns_per_x, double *unc_ppm)
{
	double dn = (double)(s1->ns - s0->ns), dx = (double)(s1->x - s0->x);

	if (dn <= 0 || dx <= 0) {
		*unc_ppm = 1e9;
		return 0;
	}
	/* half a bracket at each end */
	*unc_ppm = ((double)(s0->b - s0->a) + (double)(s1->b - s1->a)) / 2 * ns_per_x / dn * 1e6;
	return (dn / (dx * ns_per_x) - 1.0) * 1e6;
}

void vt_freq_check(uint64_t hz, const struct vt_sample *s0, struct vt_freqchk *out)
{
	double unc = 1e9, ppm = 0;

	out->verdict = 0;
	for (uint64_t wait = 100000u; wait <= 500000u; wait += 100000u) {
		while (vt_clk(CLOCK_MONOTONIC_RAW) - s0->ns < wait)
			vt_cpu_relax();
		vt_sample_ctr(CLOCK_MONOTONIC_RAW, 3, &out->s1);
		ppm = vt_rate_off_ppm(s0, &out->s1, 1e9 / (double)hz, &unc);
		if (unc <= 400.0)
			break;
	}
	out->ppm = ppm;
	out->unc_ppm = unc;
	if (ppm > VT_RATE_BAD_PPM + 3 * unc || ppm < -VT_RATE_BAD_PPM - 3 * unc)
		out->verdict = -1;
	else if (unc <= 400.0)
		out->verdict = 1;
}
