/* SPDX-License-Identifier: MIT */
/* Source selection (select.c) over a table of machines: what each offers
 * (architecture, CPUID bits, the kernel's clocksource, a host pvclock page
 * and its TSC_STABLE, a Hyper-V reference TSC page, a VMClock page) and
 * VTIME_CLOCK_SOURCE in, the source, the frequency claim, the host word the
 * fast paths watch and a reason out. Pure: runs the same on every host. */
#include <stdio.h>
#include <string.h>

#include "vt_clock_int.h"
#include "vt_select.h"
#include "vt_test.h"

enum { PAGE_NONE, PAGE_STABLE, PAGE_UNSTABLE };
enum { HV_NONE, HV_VALID, HV_INVALID };
enum { VMC_NONE, VMC_COUNTER, VMC_MARKER }; /* a page for this counter, or marker-only */

struct row {
	const char *what;
	const char *arch, *counter, *clocksource;
	bool invtsc, rdtscp, trust;
	int page;
	uint64_t arch_hz, hv_hz;
	const char *env;
	int want_mode;
	uint64_t want_hz;
	const char *why_has;  /* a phrase the reason must contain */
	const char *freq_has; /* ... and the frequency source */
	int hv;               /* HV_* (rows without: none) */
	int vmc;              /* VMC_* */
	int want_watch;       /* W_* + 1; 0: the pvclock page's version where there is one, else none */
};

#define HVHZ 2593906000ull  /* a Hyper-V page's tsc_scale gives this */
#define VMCHZ 2445406321ull /* a VMClock page's period gives this */

#define GHZ 2445406000ull

static const struct row rows[] = {
	/* x86 */
	{ "KVM guest, stable page", "x86", "tsc", "kvm-clock", true, true, true, PAGE_STABLE, 0, 0, NULL, M_TSC, GHZ,
	  "TSC_STABLE", "pvclock page", HV_NONE, VMC_NONE, 0 },
	{ "KVM guest, stable page, kernel on tsc", "x86", "tsc", "tsc", true, true, true, PAGE_STABLE, 0, 0, NULL, M_TSC,
	  GHZ, "TSC_STABLE", "pvclock page", HV_NONE, VMC_NONE, 0 },
	{ "KVM guest, page without TSC_STABLE", "x86", "tsc", "kvm-clock", false, true, true, PAGE_UNSTABLE, 0, 0, NULL,
	  M_PVCLOCK, GHZ, "no TSC_STABLE", "pvclock page", HV_NONE, VMC_NONE, 0 },
	{ "KVM guest, TSC_STABLE not declared meaningful", "x86", "tsc", "kvm-clock", false, true, false, PAGE_STABLE, 0,
	  0, NULL, M_PVCLOCK, GHZ, "not declared meaningful", "pvclock page", HV_NONE, VMC_NONE, 0 },
	{ "KVM guest, unstable page, no rdtscp", "x86", "tsc", "kvm-clock", false, false, true, PAGE_UNSTABLE, 0, 0,
	  NULL, M_GETTIME, GHZ, "no rdtscp", NULL, HV_NONE, VMC_NONE, 0 },
	{ "bare metal / TCG, invariant TSC, clocksource tsc", "x86", "tsc", "tsc", true, true, false, PAGE_NONE, 0, 0,
	  NULL, M_TSC, 0, "invariant TSC", "measured", HV_NONE, VMC_NONE, 0 },
	{ "VMware-style guest: CPUID 0x40000010 gives the TSC kHz", "x86", "tsc", "tsc", true, true, false, PAGE_NONE,
	  0, 2100000000ull, NULL, M_TSC, 2100000000ull, "invariant TSC", "0x40000010", HV_NONE, VMC_NONE, 0 },
	{ "clocksource hpet", "x86", "tsc", "hpet", true, true, false, PAGE_NONE, 0, 0, NULL, M_GETTIME, 0,
	  "hpet, not tsc", NULL, HV_NONE, VMC_NONE, 0 },
	{ "clocksource acpi_pm", "x86", "tsc", "acpi_pm", true, true, false, PAGE_NONE, 0, 0, NULL, M_GETTIME, 0,
	  "acpi_pm, not tsc", NULL, HV_NONE, VMC_NONE, 0 },
	{ "TCG -cpu max: TSC not invariant, clocksource tsc", "x86", "tsc", "tsc", false, true, false, PAGE_NONE, 0, 0,
	  NULL, M_GETTIME, 0, "not invariant", NULL, HV_NONE, VMC_NONE, 0 },
	{ "TCG -cpu qemu64: no rdtscp, no invariant TSC", "x86", "tsc", "tsc", false, false, false, PAGE_NONE, 0, 0,
	  NULL, M_GETTIME, 0, "not invariant", NULL, HV_NONE, VMC_NONE, 0 },
	{ "unknown clocksource (no sysfs)", "x86", "tsc", "", true, true, false, PAGE_NONE, 0, 0, NULL, M_GETTIME, 0,
	  "unknown", NULL, HV_NONE, VMC_NONE, 0 },
	/* other architectures: the kernel's clocksource is the counter */
	{ "arm64, arch_sys_counter", "aarch64", "cntvct_el0", "arch_sys_counter", false, false, false, PAGE_NONE,
	  62500000, 0, NULL, M_TSC, 62500000, "arch_sys_counter", "CNTFRQ_EL0", HV_NONE, VMC_NONE, 0 },
	{ "arm64, another clocksource", "aarch64", "cntvct_el0", "jiffies", false, false, false, PAGE_NONE, 62500000, 0,
	  NULL, M_GETTIME, 62500000, "jiffies, not arch_sys_counter", NULL, HV_NONE, VMC_NONE, 0 },
	{ "riscv64, riscv_clocksource, timebase from the device tree", "riscv64", "time", "riscv_clocksource", false,
	  false, false, PAGE_NONE, 10000000, 0, NULL, M_TSC, 10000000, "riscv_clocksource", "timebase", HV_NONE, VMC_NONE, 0 },
	{ "riscv64, riscv_clocksource, no device tree", "riscv64", "time", "riscv_clocksource", false, false, false,
	  PAGE_NONE, 0, 0, NULL, M_TSC, 0, "riscv_clocksource", "measured", HV_NONE, VMC_NONE, 0 },
	{ "s390x, the TOD clock", "s390x", "tod", "tod", false, false, false, PAGE_NONE, 4096000000ull, 0, NULL, M_TSC,
	  4096000000ull, "tod", "TOD", HV_NONE, VMC_NONE, 0 },
	/* armv7: the counter is "none" where the process may not read CNTVCT
	 * (no evtstrm in AT_HWCAP, or no vDSO reading it: counter.c) */
	{ "armv7, arch_sys_counter, user access established", "armv7", "cntvct", "arch_sys_counter", false, false,
	  false, PAGE_NONE, 62500000, 0, NULL, M_TSC, 62500000, "arch_sys_counter", "CNTFRQ", HV_NONE, VMC_NONE, 0 },
	{ "armv7, arch_sys_counter, CNTFRQ left 0 by firmware", "armv7", "cntvct", "arch_sys_counter", false, false,
	  false, PAGE_NONE, 0, 0, NULL, M_TSC, 0, "arch_sys_counter", "measured", HV_NONE, VMC_NONE, 0 },
	{ "armv7, another clocksource (a board timer)", "armv7", "cntvct", "mct-frc", false, false, false, PAGE_NONE,
	  24000000, 0, NULL, M_GETTIME, 24000000, "mct-frc, not arch_sys_counter", NULL, HV_NONE, VMC_NONE, 0 },
	{ "armv7, arch_sys_counter, user access not established", "armv7", "none", "arch_sys_counter", false, false,
	  false, PAGE_NONE, 0, 0, NULL, M_GETTIME, 0, "may not be readable", "none (no counter)", HV_NONE, VMC_NONE, 0 },
	{ "forced counter on armv7 without user access (would SIGILL)", "armv7", "none", "arch_sys_counter", false,
	  false, false, PAGE_NONE, 0, 0, "counter", M_GETTIME, 0, "may not be readable", NULL, HV_NONE, VMC_NONE, 0 },
	{ "forced counter on armv7 with user access, another clocksource", "armv7", "cntvct", "jiffies", false, false,
	  false, PAGE_NONE, 24000000, 0, "counter", M_TSC, 24000000, "forced", "CNTFRQ", HV_NONE, VMC_NONE, 0 },
	{ "no counter vtime knows", "none", "none", "arch_sys_counter", false, false, false, PAGE_NONE, 0, 0, NULL,
	  M_GETTIME, 0, "no user-readable counter", NULL, HV_NONE, VMC_NONE, 0 },
	/* VTIME_CLOCK_SOURCE */
	{ "forced tsc on hpet", "x86", "tsc", "hpet", true, true, false, PAGE_NONE, 0, 0, "tsc", M_TSC, 0,
	  "forced by VTIME_CLOCK_SOURCE=tsc", "measured", HV_NONE, VMC_NONE, 0 },
	{ "forced counter (tsc's other name) on arm64", "aarch64", "cntvct_el0", "jiffies", false, false, false,
	  PAGE_NONE, 62500000, 0, "counter", M_TSC, 62500000, "forced", "CNTFRQ_EL0", HV_NONE, VMC_NONE, 0 },
	{ "forced tsc-measured with a page", "x86", "tsc", "kvm-clock", true, true, true, PAGE_STABLE, 0, 0,
	  "tsc-measured", M_TSC, 0, "forced", "measured against CLOCK_MONOTONIC_RAW (forced)", HV_NONE, VMC_NONE, 0 },
	{ "forced pvclock, stable page", "x86", "tsc", "kvm-clock", true, true, true, PAGE_STABLE, 0, 0, "pvclock",
	  M_PVCLOCK, GHZ, "forced by VTIME_CLOCK_SOURCE=pvclock", NULL, HV_NONE, VMC_NONE, 0 },
	{ "forced pvclock, no page", "x86", "tsc", "tsc", true, true, false, PAGE_NONE, 0, 0, "pvclock", M_GETTIME, 0,
	  "no host page", NULL, HV_NONE, VMC_NONE, 0 },
	{ "forced pvclock, no rdtscp", "x86", "tsc", "kvm-clock", true, false, true, PAGE_STABLE, 0, 0, "pvclock",
	  M_GETTIME, GHZ, "no rdtscp", NULL, HV_NONE, VMC_NONE, 0 },
	{ "forced clock_gettime", "x86", "tsc", "tsc", true, true, true, PAGE_STABLE, 0, 0, "clock_gettime", M_GETTIME,
	  GHZ, "forced", NULL, HV_NONE, VMC_NONE, 0 },
	{ "forced tsc where there is no counter", "none", "none", "", false, false, false, PAGE_NONE, 0, 0, "tsc",
	  M_GETTIME, 0, "no user-readable counter", NULL, HV_NONE, VMC_NONE, 0 },
	{ "an unknown value", "x86", "tsc", "tsc", true, true, false, PAGE_NONE, 0, 0, "hpet", M_GETTIME, 0,
	  "not one of", NULL, HV_NONE, VMC_NONE, 0 },
	{ "auto spelled out", "aarch64", "cntvct_el0", "arch_sys_counter", false, false, false, PAGE_NONE, 24000000, 0,
	  "auto", M_TSC, 24000000, "arch_sys_counter", "CNTFRQ_EL0", HV_NONE, VMC_NONE, 0 },
	/* the Hyper-V reference TSC page (Hyper-V, Azure, VMMs with Hyper-V
	 * enlightenments): partition-wide, so it vouches for one TSC */
	{ "Hyper-V guest: valid page, clocksource hyperv_clocksource_tsc_page", "x86", "tsc",
	  "hyperv_clocksource_tsc_page", false, true, false, PAGE_NONE, 0, 0, NULL, M_TSC, HVHZ, "Hyper-V reference TSC page is valid",
	  "Hyper-V", HV_VALID, VMC_NONE, W_HV + 1 },
	{ "Hyper-V guest without rdtscp or invariant TSC bit", "x86", "tsc", "hyperv_clocksource_tsc_page", false, false,
	  false, PAGE_NONE, 0, 0, NULL, M_TSC, HVHZ, "one TSC", "tsc_scale", HV_VALID, VMC_NONE, W_HV + 1 },
	{ "Hyper-V page invalid (sequence 0: the host emulates the TSC)", "x86", "tsc", "hyperv_clocksource_tsc_page",
	  false, true, false, PAGE_NONE, 0, 0, NULL, M_GETTIME, 0, "invalid (sequence 0)", NULL, HV_INVALID, VMC_NONE,
	  W_HV + 1 },
	{ "Hyper-V page invalid, but the kernel runs on an invariant TSC", "x86", "tsc", "tsc", true, true, false,
	  PAGE_NONE, 0, 0, NULL, M_TSC, 0, "kernel itself uses it", "measured", HV_INVALID, VMC_NONE, W_HV + 1 },
	{ "KVM with Hyper-V enlightenments: stable pvclock page and a valid Hyper-V page", "x86", "tsc", "kvm-clock",
	  true, true, true, PAGE_STABLE, 0, 0, NULL, M_TSC, GHZ, "TSC_STABLE", "pvclock page", HV_VALID, VMC_NONE,
	  W_PVCLOCK + 1 },
	{ "pvclock page without TSC_STABLE, valid Hyper-V page", "x86", "tsc", "hyperv_clocksource_tsc_page", false,
	  true, true, PAGE_UNSTABLE, 0, 0, NULL, M_TSC, GHZ, "Hyper-V", "pvclock page", HV_VALID, VMC_NONE, W_PVCLOCK + 1 },
	{ "forced clock_gettime on a Hyper-V guest", "x86", "tsc", "hyperv_clocksource_tsc_page", false, true, false,
	  PAGE_NONE, 0, 0, "clock_gettime", M_GETTIME, HVHZ, "forced", NULL, HV_VALID, VMC_NONE, W_HV + 1 },
	{ "forced pvclock on a Hyper-V guest (no pvclock page)", "x86", "tsc", "hyperv_clocksource_tsc_page", false,
	  true, false, PAGE_NONE, 0, 0, "pvclock", M_GETTIME, HVHZ, "no host page", NULL, HV_VALID, VMC_NONE, W_HV + 1 },
	{ "Hyper-V page on arm64 (not an x86 ABI: ignored)", "aarch64", "cntvct_el0", "arch_sys_counter", false, false,
	  false, PAGE_NONE, 24000000, 0, NULL, M_TSC, 24000000, "arch_sys_counter", "CNTFRQ_EL0", HV_VALID, VMC_NONE,
	  W_HV + 1 },
	/* VMClock: a frequency claim and the bounded time's source; never a
	 * reason to trust the counter by itself */
	{ "KVM guest, stable page, VMClock for the TSC", "x86", "tsc", "kvm-clock", true, true, true, PAGE_STABLE, 0, 0,
	  NULL, M_TSC, GHZ, "TSC_STABLE", "pvclock page", HV_NONE, VMC_COUNTER, W_PVCLOCK + 1 },
	{ "VMClock for the TSC, no hypervisor page, kernel on an invariant TSC", "x86", "tsc", "tsc", true, true, false,
	  PAGE_NONE, 0, 0, NULL, M_TSC, VMCHZ, "invariant TSC", "VMClock", HV_NONE, VMC_COUNTER, W_VMCLOCK + 1 },
	{ "VMClock beside CPUID 0x40000010: the page's period comes first", "x86", "tsc", "tsc", true, true, false,
	  PAGE_NONE, 0, 2100000000ull, NULL, M_TSC, VMCHZ, "invariant TSC", "VMClock", HV_NONE, VMC_COUNTER,
	  W_VMCLOCK + 1 },
	{ "VMClock for the TSC, clocksource hpet: VMClock does not vouch", "x86", "tsc", "hpet", true, true, false,
	  PAGE_NONE, 0, 0, NULL, M_GETTIME, VMCHZ, "hpet, not tsc", NULL, HV_NONE, VMC_COUNTER, W_VMCLOCK + 1 },
	{ "VMClock marker-only (QEMU 9.2's device), clocksource tsc", "x86", "tsc", "tsc", true, true, false, PAGE_NONE,
	  0, 0, NULL, M_TSC, 0, "invariant TSC", "measured", HV_NONE, VMC_MARKER, W_VMCLOCK + 1 },
	{ "VMClock beside a valid Hyper-V page: the Hyper-V page is watched", "x86", "tsc", "hyperv_clocksource_tsc_page",
	  false, true, false, PAGE_NONE, 0, 0, NULL, M_TSC, HVHZ, "Hyper-V", "Hyper-V", HV_VALID, VMC_COUNTER, W_HV + 1 },
	{ "arm64 with VMClock for cntvct_el0 (its period before CNTFRQ_EL0)", "aarch64", "cntvct_el0", "arch_sys_counter",
	  false, false, false, PAGE_NONE, 62500000, 0, NULL, M_TSC, VMCHZ, "arch_sys_counter", "VMClock", HV_NONE,
	  VMC_COUNTER, W_VMCLOCK + 1 },
	{ "forced tsc-measured with VMClock", "x86", "tsc", "tsc", true, true, false, PAGE_NONE, 0, 0, "tsc-measured",
	  M_TSC, 0, "forced", "measured against CLOCK_MONOTONIC_RAW (forced)", HV_NONE, VMC_COUNTER, W_VMCLOCK + 1 },
};

static const char *mode_name(int m)
{
	return m == M_TSC ? "tsc" : m == M_PVCLOCK ? "pvclock" : m == M_GETTIME ? "clock_gettime" : "?";
}

static void test_table(void)
{
	unsigned bad = 0;

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		struct vtime_machine m;
		struct vt_select_in in;
		struct vt_select_out out;
		int want_watch;
		bool ok;

		memset(&m, 0, sizeof m);
		m.arch = r->arch;
		m.counter = r->counter;
		strcpy(m.clocksource, r->clocksource);
		m.invariant_tsc = r->invtsc;
		m.rdtscp = r->rdtscp;
		m.kvm_stable_bit = r->trust;
		m.arch_counter_hz = r->arch_hz;
		m.arch_counter_hz_source = !r->arch_hz ? NULL
				: !strcmp(r->arch, "aarch64") ? "CNTFRQ_EL0"
				: !strcmp(r->arch, "armv7") ? "CNTFRQ"
				: !strcmp(r->arch, "s390x") ? "architectural (TOD clock: 4096 units per us)"
							    : "device tree timebase-frequency";
		m.hv_tsc_hz = r->hv_hz;
		strcpy(m.page.why, "no [vvar_vclock] or [vvar] mapping");
		memset(&in, 0, sizeof in);
		in.m = &m;
		in.env = r->env;
		in.page = r->page != PAGE_NONE;
		in.page_stable = r->page == PAGE_STABLE;
		in.trust_stable = r->trust;
		in.nrec = 2;
		in.page_hz = in.page ? GHZ : 0;
		/* a Hyper-V page is an x86 ABI: discovery finds none elsewhere */
		in.hv = r->hv != HV_NONE && !strcmp(r->arch, "x86");
		in.hv_valid = in.hv && r->hv == HV_VALID;
		in.hv_hz = in.hv_valid ? HVHZ : 0;
		in.vmc = r->vmc != VMC_NONE;
		in.vmc_counter = r->vmc == VMC_COUNTER;
		in.vmc_hz = in.vmc_counter ? VMCHZ : 0;
		want_watch = r->want_watch ? r->want_watch - 1 : in.page ? W_PVCLOCK : W_NONE;
		if (!in.hv && want_watch == W_HV)
			want_watch = in.vmc ? W_VMCLOCK : W_NONE;
		CU_ASSERT_EQUAL_FATAL(vt_select(&in, &out), 0);
		ok = out.mode == r->want_mode && out.hz == r->want_hz && strstr(out.why, r->why_has) &&
		     (!r->freq_has || strstr(out.freq_source, r->freq_has)) &&
		     (out.mode != M_PVCLOCK || !strcmp(out.counter, "kvmclock")) && out.watch == want_watch &&
		     out.hv_vouch == (out.mode == M_TSC && in.hv_valid && !(in.page && in.page_stable && in.trust_stable) &&
				      (!r->env || !strcmp(r->env, "auto")));
		printf("\n  %-58s %-13s watch %-8s %s%s", r->what, mode_name(out.mode), vt_watch_name(out.watch), out.why,
		       ok ? "" : "  <-- WRONG");
		if (!ok) {
			printf(" (want %s, %llu Hz, \"%s\", watch %s; got %llu Hz from %s, vouch %d)", mode_name(r->want_mode),
			       (unsigned long long)r->want_hz, r->why_has, vt_watch_name(want_watch),
			       (unsigned long long)out.hz, out.freq_source, out.hv_vouch);
			bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_args(void)
{
	struct vtime_machine m;
	struct vt_select_in in;
	struct vt_select_out out;

	CU_ASSERT_EQUAL(vt_select(NULL, &out), VTIME_EINVAL);
	memset(&in, 0, sizeof in);
	CU_ASSERT_EQUAL(vt_select(&in, &out), VTIME_EINVAL); /* no machine */
	memset(&m, 0, sizeof m);
	in.m = &m;
	CU_ASSERT_EQUAL(vt_select(&in, &out), VTIME_EINVAL); /* no architecture */
	m.arch = "x86";
	CU_ASSERT_EQUAL(vt_select(&in, NULL), VTIME_EINVAL);
	CU_ASSERT_STRING_EQUAL(vt_select_counter_clocksource("aarch64"), "arch_sys_counter");
	CU_ASSERT_STRING_EQUAL(vt_select_counter_clocksource("armv7"), "arch_sys_counter");
	CU_ASSERT_PTR_NULL(vt_select_counter_clocksource("none"));
	CU_ASSERT_STRING_EQUAL(vt_watch_name(W_HV), "hyperv");
	CU_ASSERT_STRING_EQUAL(vt_watch_name(W_VMCLOCK), "vmclock");
	CU_ASSERT_STRING_EQUAL(vt_watch_name(42), "none");
}

int main(void)
{
	static const struct vt_test_case cases[] = {
		{ "a table of machines", test_table },
		{ "arguments", test_args },
		{ NULL, NULL },
	};
	static const struct vt_test_suite suites[] = { { "select", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
