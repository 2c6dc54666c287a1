/* SPDX-License-Identifier: MIT */
/* Source selection (see vt_select.h). The auto rule: use the counter line
 * where every CPU shares one counter that the kernel itself trusts, i.e.
 *   - a KVM host page with TSC_STABLE that the hypervisor declares
 *     meaningful (CPUID 0x40000001 bit 24);
 *   - a valid Hyper-V reference TSC page: one scale and offset for the
 *     whole partition, so every vCPU's TSC is the same counter (the kernel
 *     maps it only when it uses it as clocksource);
 *   - or the kernel's current clocksource is that very counter: "tsc" with
 *     an invariant TSC on x86, "arch_sys_counter" (cntvct_el0) on arm64,
 *     "riscv_clocksource" (the time CSR) on riscv64, "tod" on s390x,
 *     "arch_sys_counter" (CNTVCT) on armv7 where this process may read it
 *     (the machine's counter is not "none": see vt_ctr_gate_probe() in
 *     counter.c for what establishes that without trapping);
 * the per-CPU host records through rdtscp where the host page does not
 * vouch for one TSC (Linux's vDSO gives up there); else clock_gettime.
 *
 * VMClock does not vouch for the counter: Linux does not take it as a
 * clocksource statement (its driver serves PTP), and a marker-only page
 * (QEMU's) has no counter at all. It gives a frequency claim (after the
 * hypervisor pages: the host's own measured period) and, read apart from
 * this choice, the bounded time's best source (vtime_bounded_now). Its
 * seq_count is the word the fast path watches where no hypervisor page
 * is mapped, so a migration the page reports reaches maintenance. */
#include <string.h>
#include <vtime/error.h>

#include "vt_clock_int.h"
#include "vt_select.h"
#include "vt_user.h"

const char *vt_select_counter_clocksource(const char *arch)
{
	if (!arch)
		return NULL;
	if (!strcmp(arch, "x86"))
		return "tsc";
	if (!strcmp(arch, "aarch64") || !strcmp(arch, "armv7"))
		return "arch_sys_counter";
	if (!strcmp(arch, "riscv64"))
		return "riscv_clocksource";
	if (!strcmp(arch, "s390x"))
		return "tod";
	return NULL;
}

static int parse_forced(const char *s)
{
	if (!s || !*s || !strcmp(s, "auto"))
		return F_AUTO;
	if (!strcmp(s, "tsc") || !strcmp(s, "counter"))
		return F_TSC;
	if (!strcmp(s, "tsc-measured") || !strcmp(s, "counter-measured"))
		return F_TSC_MEASURED;
	if (!strcmp(s, "pvclock"))
		return F_PVCLOCK;
	if (!strcmp(s, "clock_gettime"))
		return F_CLOCK_GETTIME;
	return F_BAD;
}

static void why(struct vt_select_out *o, const char *a, const char *b, const char *c)
{
	vt_user_strlcpy(o->why, a, sizeof o->why);
	if (b)
		vt_user_strlcat(o->why, b, sizeof o->why);
	if (c)
		vt_user_strlcat(o->why, c, sizeof o->why);
}

/* The counter frequency, most trusted claim first. */
static void frequency(const struct vt_select_in *in, struct vt_select_out *o)
{
	const struct vtime_machine *m = in->m;

	o->hz = 0;
	if (o->forced == F_TSC_MEASURED) {
		o->freq_source = "measured against CLOCK_MONOTONIC_RAW (forced)";
	} else if (in->page && in->page_hz) {
		o->hz = in->page_hz;
		o->freq_source = "host pvclock page (mul, shift)";
	} else if (in->hv && in->hv_valid && in->hv_hz) {
		o->hz = in->hv_hz;
		o->freq_source = "Hyper-V reference TSC page (tsc_scale)";
	} else if (in->vmc && in->vmc_counter && in->vmc_hz) {
		o->hz = in->vmc_hz;
		o->freq_source = "VMClock page (counter period)";
	} else if (m->hv_tsc_hz) {
		o->hz = m->hv_tsc_hz;
		o->freq_source = "CPUID 0x40000010";
	} else if (m->cpuid15_hz) {
		o->hz = m->cpuid15_hz;
		o->freq_source = "CPUID 0x15";
	} else if (m->arch_counter_hz) {
		o->hz = m->arch_counter_hz;
		o->freq_source = m->arch_counter_hz_source ? m->arch_counter_hz_source : "the architecture";
	} else if (!strcmp(m->arch, "none") || (m->counter && !strcmp(m->counter, "none"))) {
		o->freq_source = "none (no counter)";
	} else {
		o->freq_source = "measured against CLOCK_MONOTONIC_RAW";
	}
}

const char *vt_watch_name(int watch)
{
	return watch == W_PVCLOCK ? "pvclock" : watch == W_HV ? "hyperv" : watch == W_VMCLOCK ? "vmclock" : "none";
}

int vt_select(const struct vt_select_in *in, struct vt_select_out *o)
{
	const struct vtime_machine *m;
	const char *cs, *want;
	bool x86;

	if (!in || !o || !in->m || !in->m->arch)
		return VTIME_EINVAL;
	m = in->m;
	memset(o, 0, sizeof *o);
	o->forced = parse_forced(in->env);
	o->mode = M_GETTIME;
	o->counter = m->counter ? m->counter : "none";
	cs = m->clocksource;
	want = vt_select_counter_clocksource(m->arch);
	x86 = !strcmp(m->arch, "x86");
	frequency(in, o);
	o->watch = in->page ? W_PVCLOCK : in->hv ? W_HV : in->vmc ? W_VMCLOCK : W_NONE;

	if (o->forced == F_BAD) {
		why(o, "VTIME_CLOCK_SOURCE is not one of auto, tsc, tsc-measured, pvclock, clock_gettime: ",
		    "using clock_gettime", NULL);
	} else if (o->forced == F_CLOCK_GETTIME) {
		why(o, "forced by VTIME_CLOCK_SOURCE=clock_gettime", NULL, NULL);
	} else if (!strcmp(m->arch, "none")) {
		why(o, "no user-readable counter vtime knows on this architecture", NULL, NULL);
	} else if (!strcmp(m->arch, "armv7") && !strcmp(o->counter, "none")) {
		/* forced or not: reading CNTVCT without access raises SIGILL */
		why(o, "CNTVCT may not be readable here: the kernel has not shown it enabled user access (evtstrm ",
		    "in AT_HWCAP and a vDSO that reads CNTVCT, or an arm64 kernel)", NULL);
	} else if (o->forced == F_TSC || o->forced == F_TSC_MEASURED) {
		o->mode = M_TSC;
		why(o, "forced by VTIME_CLOCK_SOURCE=", in->env, NULL);
	} else if (o->forced == F_PVCLOCK) {
		if (in->page && (m->rdtscp || in->nrec == 1)) {
			o->mode = M_PVCLOCK;
			o->counter = "kvmclock";
			why(o, "forced by VTIME_CLOCK_SOURCE=pvclock", NULL, NULL);
		} else if (!in->page) {
			why(o, "VTIME_CLOCK_SOURCE=pvclock but no host page: ", m->page.why, NULL);
		} else {
			why(o, "VTIME_CLOCK_SOURCE=pvclock but no rdtscp to pick this CPU's record", NULL, NULL);
		}
	} else if (x86 && in->page && in->page_stable && in->trust_stable) {
		o->mode = M_TSC;
		why(o, "the host page says every vCPU shares one TSC (TSC_STABLE, CPUID 0x40000001 bit 24)", NULL, NULL);
	} else if (x86 && in->hv && in->hv_valid) {
		o->mode = M_TSC;
		o->hv_vouch = true;
		why(o, "the Hyper-V reference TSC page is valid: one scale and offset for every vCPU, one TSC",
		    NULL, NULL);
	} else if (x86 && in->page && m->rdtscp) {
		o->mode = M_PVCLOCK;
		o->counter = "kvmclock";
		why(o, in->page_stable ? "TSC_STABLE is not declared meaningful (CPUID 0x40000001 bit 24)"
				       : "the host page has no TSC_STABLE",
		    ": per-CPU pvclock records through rdtscp, clamped", NULL);
	} else if (x86 && want && !strcmp(cs, want) && m->invariant_tsc) {
		o->mode = M_TSC;
		why(o, "invariant TSC, and the kernel itself uses it as clocksource", NULL, NULL);
	} else if (!x86 && want && !strcmp(cs, want)) {
		o->mode = M_TSC;
		why(o, "the kernel's clocksource is ", want, NULL);
		vt_user_strlcat(o->why, ", the counter userspace reads (", sizeof o->why);
		vt_user_strlcat(o->why, o->counter, sizeof o->why);
		vt_user_strlcat(o->why, ")", sizeof o->why);
	} else if (x86) {
		if (in->hv && !in->hv_valid)
			why(o, "the Hyper-V reference TSC page is invalid (sequence 0) and the kernel's clocksource is ",
			    cs[0] ? cs : "unknown", ", not tsc: nothing vouches for the TSC");
		else if (in->page)
			why(o, "the host page has no trusted TSC_STABLE and there is no rdtscp to pick this CPU's record",
			    NULL, NULL);
		else if (!m->invariant_tsc)
			why(o, "the TSC is not invariant (CPUID 0x80000007 EDX bit 8) and there is no host page", NULL,
			    NULL);
		else
			why(o, "no counter known to be synchronised across CPUs: the kernel's clocksource is ",
			    cs[0] ? cs : "unknown", ", not tsc, and there is no host page");
	} else if (want) {
		why(o, "the kernel's clocksource is ", cs[0] ? cs : "unknown", ", not ");
		vt_user_strlcat(o->why, want, sizeof o->why);
		vt_user_strlcat(o->why, " (the counter userspace reads)", sizeof o->why);
	} else {
		why(o, "no counter known to be synchronised across CPUs", NULL, NULL);
	}
	return 0;
}
