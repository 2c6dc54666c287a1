/* SPDX-License-Identifier: MIT */
/* Source selection (select.c) over a table of machines: what each offers
 * (architecture, CPUID bits, the kernel's clocksource, a host page and its
 * TSC_STABLE) and VTIME_CLOCK_SOURCE in, the source, the frequency claim
 * and a reason out. Pure: runs the same on every host. */
#include <stdio.h>
#include <string.h>

#include "vt_clock_int.h"
#include "vt_select.h"
#include "vt_test.h"

enum { PAGE_NONE, PAGE_STABLE, PAGE_UNSTABLE };

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
};

#define GHZ 2445406000ull

static const struct row rows[] = {
	/* x86 */
	{ "KVM guest, stable page", "x86", "tsc", "kvm-clock", true, true, true, PAGE_STABLE, 0, 0, NULL, M_TSC, GHZ,
	  "TSC_STABLE", "pvclock page" },
	{ "KVM guest, stable page, kernel on tsc", "x86", "tsc", "tsc", true, true, true, PAGE_STABLE, 0, 0, NULL, M_TSC,
	  GHZ, "TSC_STABLE", "pvclock page" },
	{ "KVM guest, page without TSC_STABLE", "x86", "tsc", "kvm-clock", false, true, true, PAGE_UNSTABLE, 0, 0, NULL,
	  M_PVCLOCK, GHZ, "no TSC_STABLE", "pvclock page" },
	{ "KVM guest, TSC_STABLE not declared meaningful", "x86", "tsc", "kvm-clock", false, true, false, PAGE_STABLE, 0,
	  0, NULL, M_PVCLOCK, GHZ, "not declared meaningful", "pvclock page" },
	{ "KVM guest, unstable page, no rdtscp", "x86", "tsc", "kvm-clock", false, false, true, PAGE_UNSTABLE, 0, 0,
	  NULL, M_GETTIME, GHZ, "no rdtscp", NULL },
	{ "bare metal / TCG, invariant TSC, clocksource tsc", "x86", "tsc", "tsc", true, true, false, PAGE_NONE, 0, 0,
	  NULL, M_TSC, 0, "invariant TSC", "measured" },
	{ "VMware-style guest: CPUID 0x40000010 gives the TSC kHz", "x86", "tsc", "tsc", true, true, false, PAGE_NONE,
	  0, 2100000000ull, NULL, M_TSC, 2100000000ull, "invariant TSC", "0x40000010" },
	{ "clocksource hpet", "x86", "tsc", "hpet", true, true, false, PAGE_NONE, 0, 0, NULL, M_GETTIME, 0,
	  "hpet, not tsc", NULL },
	{ "clocksource acpi_pm", "x86", "tsc", "acpi_pm", true, true, false, PAGE_NONE, 0, 0, NULL, M_GETTIME, 0,
	  "acpi_pm, not tsc", NULL },
	{ "TCG -cpu max: TSC not invariant, clocksource tsc", "x86", "tsc", "tsc", false, true, false, PAGE_NONE, 0, 0,
	  NULL, M_GETTIME, 0, "not invariant", NULL },
	{ "TCG -cpu qemu64: no rdtscp, no invariant TSC", "x86", "tsc", "tsc", false, false, false, PAGE_NONE, 0, 0,
	  NULL, M_GETTIME, 0, "not invariant", NULL },
	{ "unknown clocksource (no sysfs)", "x86", "tsc", "", true, true, false, PAGE_NONE, 0, 0, NULL, M_GETTIME, 0,
	  "unknown", NULL },
	/* other architectures: the kernel's clocksource is the counter */
	{ "arm64, arch_sys_counter", "aarch64", "cntvct_el0", "arch_sys_counter", false, false, false, PAGE_NONE,
	  62500000, 0, NULL, M_TSC, 62500000, "arch_sys_counter", "CNTFRQ_EL0" },
	{ "arm64, another clocksource", "aarch64", "cntvct_el0", "jiffies", false, false, false, PAGE_NONE, 62500000, 0,
	  NULL, M_GETTIME, 62500000, "jiffies, not arch_sys_counter", NULL },
	{ "riscv64, riscv_clocksource, timebase from the device tree", "riscv64", "time", "riscv_clocksource", false,
	  false, false, PAGE_NONE, 10000000, 0, NULL, M_TSC, 10000000, "riscv_clocksource", "timebase" },
	{ "riscv64, riscv_clocksource, no device tree", "riscv64", "time", "riscv_clocksource", false, false, false,
	  PAGE_NONE, 0, 0, NULL, M_TSC, 0, "riscv_clocksource", "measured" },
	{ "s390x, the TOD clock", "s390x", "tod", "tod", false, false, false, PAGE_NONE, 4096000000ull, 0, NULL, M_TSC,
	  4096000000ull, "tod", "TOD" },
	{ "no counter vtime knows", "none", "none", "arch_sys_counter", false, false, false, PAGE_NONE, 0, 0, NULL,
	  M_GETTIME, 0, "no user-readable counter", NULL },
	/* VTIME_CLOCK_SOURCE */
	{ "forced tsc on hpet", "x86", "tsc", "hpet", true, true, false, PAGE_NONE, 0, 0, "tsc", M_TSC, 0,
	  "forced by VTIME_CLOCK_SOURCE=tsc", "measured" },
	{ "forced counter (tsc's other name) on arm64", "aarch64", "cntvct_el0", "jiffies", false, false, false,
	  PAGE_NONE, 62500000, 0, "counter", M_TSC, 62500000, "forced", "CNTFRQ_EL0" },
	{ "forced tsc-measured with a page", "x86", "tsc", "kvm-clock", true, true, true, PAGE_STABLE, 0, 0,
	  "tsc-measured", M_TSC, 0, "forced", "measured against CLOCK_MONOTONIC_RAW (forced)" },
	{ "forced pvclock, stable page", "x86", "tsc", "kvm-clock", true, true, true, PAGE_STABLE, 0, 0, "pvclock",
	  M_PVCLOCK, GHZ, "forced by VTIME_CLOCK_SOURCE=pvclock", NULL },
	{ "forced pvclock, no page", "x86", "tsc", "tsc", true, true, false, PAGE_NONE, 0, 0, "pvclock", M_GETTIME, 0,
	  "no host page", NULL },
	{ "forced pvclock, no rdtscp", "x86", "tsc", "kvm-clock", true, false, true, PAGE_STABLE, 0, 0, "pvclock",
	  M_GETTIME, GHZ, "no rdtscp", NULL },
	{ "forced clock_gettime", "x86", "tsc", "tsc", true, true, true, PAGE_STABLE, 0, 0, "clock_gettime", M_GETTIME,
	  GHZ, "forced", NULL },
	{ "forced tsc where there is no counter", "none", "none", "", false, false, false, PAGE_NONE, 0, 0, "tsc",
	  M_GETTIME, 0, "no user-readable counter", NULL },
	{ "an unknown value", "x86", "tsc", "tsc", true, true, false, PAGE_NONE, 0, 0, "hpet", M_GETTIME, 0,
	  "not one of", NULL },
	{ "auto spelled out", "aarch64", "cntvct_el0", "arch_sys_counter", false, false, false, PAGE_NONE, 24000000, 0,
	  "auto", M_TSC, 24000000, "arch_sys_counter", "CNTFRQ_EL0" },
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
		CU_ASSERT_EQUAL_FATAL(vt_select(&in, &out), 0);
		ok = out.mode == r->want_mode && out.hz == r->want_hz && strstr(out.why, r->why_has) &&
		     (!r->freq_has || strstr(out.freq_source, r->freq_has)) &&
		     (out.mode != M_PVCLOCK || !strcmp(out.counter, "kvmclock"));
		printf("\n  %-58s %-13s %s%s", r->what, mode_name(out.mode), out.why, ok ? "" : "  <-- WRONG");
		if (!ok) {
			printf(" (want %s, %llu Hz, \"%s\"; got %llu Hz from %s)", mode_name(r->want_mode),
			       (unsigned long long)r->want_hz, r->why_has, (unsigned long long)out.hz,
			       out.freq_source);
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
	CU_ASSERT_PTR_NULL(vt_select_counter_clocksource("none"));
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
