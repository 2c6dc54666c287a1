/* SPDX-License-Identifier: MIT */
/* vtime status: what this machine offers and what vtime chose. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>
#include <vtime/arch.h>
#include <vtime/clock.h>
#include <vtime/linux.h>
#include <vtime/vtime.h>

#include "vt_tool.h"

static uint64_t mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Counter frequency as CLOCK_MONOTONIC sees it, over about ms milliseconds. */
double vt_measure_hz(unsigned ms)
{
	uint64_t x[2], n[2];

	for (int k = 0; k < 2; k++) {
		uint64_t best = UINT64_MAX;
		if (k == 1) {
			struct timespec ts = { 0, (long)ms * 1000000L };
			nanosleep(&ts, NULL);
		}
		for (int i = 0; i < 20; i++) {
			uint64_t a = vtime_arch_counter_ordered(), m = mono(), b = vtime_arch_counter_ordered();
			if (b - a < best) {
				best = b - a;
				x[k] = a + (b - a) / 2;
				n[k] = m;
			}
		}
	}
	return (double)(x[1] - x[0]) * 1e9 / (double)(n[1] - n[0]);
}

struct src {
	const char *name;
	const char *key;
	double hz; /* 0: absent */
	const char *note;
};

/* The kernel's TSC-related CPU flags (/proc/cpuinfo), space separated. */
static void tsc_flags(char *out, size_t n)
{
	static const char *want[] = { "constant_tsc", "nonstop_tsc", "tsc_known_freq", "tsc_reliable",
				      "tsc_adjust", "tsc_deadline_timer", "rdtscp", NULL };
	char line[8192];
	FILE *f = fopen("/proc/cpuinfo", "r");

	out[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		strcat(line, " ");
		for (int i = 0; want[i]; i++) {
			char pat[40];
			snprintf(pat, sizeof pat, " %s ", want[i]);
			if (strstr(line, pat) && strlen(out) + strlen(want[i]) + 2 < n) {
				if (out[0])
					strcat(out, " ");
				strcat(out, want[i]);
			}
		}
		break;
	}
	fclose(f);
}

static double ppm(double a, double b)
{
	return a > 0 && b > 0 ? (a / b - 1.0) * 1e6 : NAN;
}

int cmd_status(const struct vt_opts *o)
{
	struct vtime_machine m;
	struct vtime_clock_info ci;
	struct vtime_pvclock_vcpu_time_info rec;
	bool have_rec, x86;
	struct timex tx;
	int ntp_state;
	struct src s[8];
	int ns = 0, lw;
	double measured;
	char buf[64], flags[160];

	if (o->argc) {
		vt_err("usage: vtime status [--json]");
		return VT_EXIT_USAGE;
	}
	vtime_machine_probe(&m);
	vtime_clock_info(&ci);
	/* armv7: counter "none" where this process may not read CNTVCT */
	measured = strcmp(m.counter, "none") != 0 ? vt_measure_hz(200) : 0;
	vtime_clock_info(&ci); /* after 200 ms the line has been recalibrated a few times */
	have_rec = m.page.rec && vtime_pvclock_snapshot(m.page.rec, 0, &rec) == 0;
	tsc_flags(flags, sizeof flags);
	memset(&tx, 0, sizeof tx); /* modes 0: reads the kernel's NTP state, changes nothing */
	ntp_state = adjtimex(&tx);

	x86 = !strcmp(m.arch, "x86");
	s[ns++] = (struct src){ "measured vs CLOCK_MONOTONIC (200 ms)", "measured", measured, "reference" };
	s[ns++] = (struct src){ "vtime tracked", "vtime_tracked", ci.freq_hz, ci.freq_source };
	if (x86) {
		s[ns++] = (struct src){ "host pvclock page (mul, shift)", "pvclock_page", (double)m.page_hz,
					m.page.rec ? "" : m.page.why };
		s[ns++] = (struct src){ "CPUID 0x40000010 (hypervisor)", "cpuid_40000010", (double)m.hv_tsc_hz,
					m.hv_max_leaf >= 0x40000010u ? "" : "leaf not offered" };
		s[ns++] = (struct src){ "CPUID 0x15 (crystal ratio)", "cpuid_15", (double)m.cpuid15_hz,
					m.cpuid15_hz ? "" : "not enumerated or zero" };
		s[ns++] = (struct src){ "/proc/cpuinfo cpu MHz", "cpuinfo", (double)m.cpuinfo_khz * 1000.0,
					"kernel's estimate, kHz precision" };
		if (m.cpuid16_mhz)
			s[ns++] = (struct src){ "CPUID 0x16 base MHz (not the TSC)", "cpuid_16", m.cpuid16_mhz * 1e6, "" };
	} else if (strcmp(m.arch, "none") != 0) {
		s[ns++] = (struct src){ !strcmp(m.arch, "aarch64") ? "CNTFRQ_EL0"
					: !strcmp(m.arch, "armv7") ? "CNTFRQ"
					: !strcmp(m.arch, "riscv64") ? "device tree timebase-frequency"
								      : "the architecture (TOD: 4096 per us)",
					"arch_counter", (double)m.arch_counter_hz,
					m.arch_counter_hz ? "" : "not stated: measured" };
	}

	if (o->json) {
		struct vt_json j;
		vj_begin(&j, stdout);
		vj_obj(&j, "machine");
		vj_str(&j, "arch", m.arch);
		vj_str(&j, "counter", m.counter);
		if (x86) {
			vj_bool(&j, "hypervisor", m.hypervisor);
			vj_str(&j, "hv_signature", m.hv_signature);
			vj_u64(&j, "hv_max_leaf", m.hv_max_leaf);
			vj_bool(&j, "kvm", m.kvm);
			vj_u64(&j, "kvm_features", m.kvm_features);
			vj_bool(&j, "kvm_clocksource", m.kvm_clocksource);
			vj_bool(&j, "kvm_stable_bit", m.kvm_stable_bit);
			vj_bool(&j, "invariant_tsc", m.invariant_tsc);
			vj_bool(&j, "rdtscp", m.rdtscp);
			vj_str(&j, "kernel_tsc_flags", flags);
		} else {
			vj_u64(&j, "counter_hz", m.arch_counter_hz);
			vj_str(&j, "counter_hz_source", m.arch_counter_hz_source ? m.arch_counter_hz_source : "");
		}
		vj_str(&j, "clocksource", m.clocksource);
		vj_str(&j, "clocksources", m.clocksources);
		vj_i64(&j, "cpus", m.ncpus);
		vj_end_obj(&j);
		vj_obj(&j, "pvclock");
		vj_bool(&j, "present", have_rec);
		if (have_rec) {
			vj_str(&j, "mapping", m.page.mapping);
			vj_u64(&j, "records", m.page.nrecords);
			vj_u64(&j, "version", rec.version);
			vj_u64(&j, "tsc_timestamp", rec.tsc_timestamp);
			vj_u64(&j, "system_time", rec.system_time);
			vj_u64(&j, "mul", rec.tsc_to_system_mul);
			vj_i64(&j, "shift", rec.tsc_shift);
			vj_u64(&j, "flags", rec.flags);
			vj_bool(&j, "tsc_stable", rec.flags & VTIME_PVCLOCK_TSC_STABLE);
		} else {
			vj_str(&j, "why", m.page.why);
		}
		vj_end_obj(&j);
		vj_arr(&j, "frequency_sources");
		for (int i = 0; i < ns; i++) {
			vj_obj(&j, NULL);
			vj_str(&j, "name", s[i].key);
			vj_str(&j, "label", s[i].name);
			if (s[i].hz > 0)
				vj_dbl(&j, "hz", s[i].hz);
			else
				vj_null(&j, "hz");
			vj_obj(&j, "ppm_vs");
			for (int k = 0; k < ns; k++)
				if (k != i && s[i].hz > 0 && s[k].hz > 0)
					vj_dbl(&j, s[k].key, ppm(s[i].hz, s[k].hz));
			vj_end_obj(&j);
			vj_end_obj(&j);
		}
		vj_end_arr(&j);
		vj_obj(&j, "vtime");
		vj_str(&j, "source", ci.source_name);
		vj_bool(&j, "forced", ci.forced);
		vj_str(&j, "why", ci.why);
		vj_str(&j, "freq_source", ci.freq_source);
		vj_u64(&j, "nominal_hz", ci.nominal_hz);
		vj_dbl(&j, "freq_hz", ci.freq_hz);
		vj_dbl(&j, "freq_ppm", ci.freq_ppm);
		vj_i64(&j, "tracking_error_ns", ci.tracking_error_ns);
		vj_u64(&j, "recal_interval_ns", ci.recal_interval_ns);
		vj_u64(&j, "recalibrations", ci.recalibrations);
		vj_u64(&j, "steps", ci.steps);
		vj_u64(&j, "fallbacks", ci.fallbacks);
		vj_str(&j, "fallback_reason", ci.fallback_reason);
		vj_u64(&j, "init_ns", ci.init_ns);
		vj_str(&j, "counter", ci.counter);
		vj_bool(&j, "kernel_rate_known", ci.kernel_rate_known);
		vj_dbl(&j, "kernel_rate_ppm", ci.kernel_rate_ppm);
		vj_u64(&j, "rate_changes", ci.rate_changes);
		vj_u64(&j, "probe_interval_ns", ci.probe_interval_ns);
		vj_u64(&j, "realtime_unc_ns", ci.realtime_unc_ns);
		vj_u64(&j, "realtime_steps", ci.realtime_steps);
		vj_end_obj(&j);
		vj_obj(&j, "kernel_ntp");
		vj_bool(&j, "readable", ntp_state >= 0);
		if (ntp_state >= 0) {
			vj_i64(&j, "state", ntp_state);
			vj_dbl(&j, "freq_ppm", tx.freq / 65536.0);
			vj_i64(&j, "tick_us", tx.tick);
			vj_i64(&j, "offset", tx.offset);
			vj_u64(&j, "status", (uint64_t)tx.status);
			vj_bool(&j, "unsync", (tx.status & STA_UNSYNC) != 0);
			vj_i64(&j, "maxerror_us", tx.maxerror);
			vj_i64(&j, "esterror_us", tx.esterror);
		}
		vj_end_obj(&j);
		vt_pages_status(&j);
		vj_finish(&j);
		return VT_EXIT_OK;
	}

	printf("Machine\n");
	printf("  architecture        %s, %ld CPUs online\n", m.arch, m.ncpus);
	if (x86) {
		if (m.hypervisor)
			printf("  hypervisor          %s (CPUID 0x40000000, max leaf 0x%08x)\n",
			       m.hv_signature[0] ? m.hv_signature : "(no signature)", m.hv_max_leaf);
		else
			printf("  hypervisor          none reported (CPUID 1 ECX bit 31 clear)\n");
		if (m.kvm)
			printf("  KVM features        0x%08x: kvmclock MSRs %s, TSC_STABLE meaningful (bit 24) %s\n",
			       m.kvm_features, m.kvm_clocksource ? "yes" : "no", m.kvm_stable_bit ? "yes" : "no");
		printf("  TSC                 invariant %s (CPUID 0x80000007 EDX bit 8), rdtscp %s\n",
		       m.invariant_tsc ? "yes" : "no", m.rdtscp ? "yes" : "no");
		printf("  kernel TSC flags    %s\n", flags[0] ? flags : "none (/proc/cpuinfo)");
	} else if (!strcmp(m.arch, "aarch64")) {
		printf("  counter             cntvct_el0 (the generic timer's virtual count), CNTFRQ_EL0 %llu Hz\n",
		       (unsigned long long)m.arch_counter_hz);
	} else if (!strcmp(m.arch, "armv7")) {
		if (strcmp(m.counter, "none") != 0) {
			printf("  counter             CNTVCT (the generic timer's virtual count, mrrc p15, 1, c14): user "
			       "access enabled by the kernel\n");
			if (m.arch_counter_hz)
				printf("  CNTFRQ              %llu Hz\n", (unsigned long long)m.arch_counter_hz);
			else
				printf("  CNTFRQ              0 (not set by firmware): measured\n");
		} else {
			printf("  counter             CNTVCT not readable by this process as far as vtime can tell (no evtstrm "
			       "in AT_HWCAP, or no vDSO reading it): clock_gettime only\n");
		}
	} else if (!strcmp(m.arch, "riscv64")) {
		printf("  counter             the time CSR (rdtime), %s\n",
		       m.arch_counter_hz ? "timebase-frequency from the device tree" : "no device-tree timebase: measured");
		if (m.arch_counter_hz)
			printf("  timebase            %llu Hz\n", (unsigned long long)m.arch_counter_hz);
	} else if (!strcmp(m.arch, "s390x")) {
		printf("  counter             the TOD clock (stckf), bit 51 = 1 us: 4096 units per us\n");
	} else {
		printf("  counter             none vtime knows on this architecture (clock_gettime only)\n");
	}
	printf("  kernel clocksource  %s (available: %s)\n", m.clocksource[0] ? m.clocksource : "unknown",
	       m.clocksources[0] ? m.clocksources : "unknown");
	if (ntp_state >= 0)
		printf("  kernel NTP state    freq %+.3f ppm, tick %ld us, %s, maxerror %ld us, esterror %ld us\n",
		       tx.freq / 65536.0, (long)tx.tick, tx.status & STA_UNSYNC ? "unsynchronised" : "synchronised",
		       (long)tx.maxerror, (long)tx.esterror);
	else
		printf("  kernel NTP state    adjtimex(2) refused (a seccomp profile?): rate changes are only measured\n");
	if (!x86)
		goto freq;
	printf("\nHost pvclock page\n");
	if (have_rec) {
		printf("  mapping             %s, %u published record%s\n", m.page.mapping, m.page.nrecords,
		       m.page.nrecords == 1 ? "" : "s");
		printf("  CPU 0 record        version %u, tsc_timestamp %llu, system_time %llu\n", rec.version,
		       (unsigned long long)rec.tsc_timestamp, (unsigned long long)rec.system_time);
		printf("  scale               mul %u, shift %d -> %llu Hz\n", rec.tsc_to_system_mul, rec.tsc_shift,
		       (unsigned long long)m.page_hz);
		printf("  flags               0x%02x%s%s\n", rec.flags,
		       rec.flags & VTIME_PVCLOCK_TSC_STABLE ? " TSC_STABLE" : " (no TSC_STABLE)",
		       rec.flags & VTIME_PVCLOCK_GUEST_STOPPED ? " GUEST_STOPPED" : "");
	} else {
		printf("  none: %s\n", m.page.why);
	}
freq:
	/* The label column is as wide as the longest label (CPUID 0x16's is
	 * long): every row and the header line up. */
	lw = (int)strlen("Counter frequency sources") - 2;
	for (int i = 0; i < ns; i++)
		if ((int)strlen(s[i].name) > lw)
			lw = (int)strlen(s[i].name);
	printf("\n%-*s %16s  %15s  %15s\n", lw + 2, "Counter frequency sources", "Hz", "ppm vs measured",
	       x86 ? "ppm vs page" : "");
	for (int i = 0; i < ns; i++) {
		if (s[i].hz > 0) {
			double a = ppm(s[i].hz, measured), b = ppm(s[i].hz, (double)m.page_hz);
			snprintf(buf, sizeof buf, "%.0f", s[i].hz);
			printf("  %-*s %16s  %+15.3f  ", lw, s[i].name, buf, i == 0 ? 0.0 : a);
			if (!x86)
				printf("%15s", "");
			else if (isnan(b))
				printf("%15s", "-");
			else
				printf("%+15.3f", b);
			printf("%s%s\n", s[i].note[0] ? "  " : "", s[i].note);
		} else {
			printf("  %-*s %16s  %s\n", lw, s[i].name, "absent", s[i].note);
		}
	}
	printf("\nvtime's choice\n");
	printf("  source              %s%s\n", ci.source_name, ci.forced ? " (forced by VTIME_CLOCK_SOURCE)" : "");
	printf("  why                 %s\n", ci.why);
	printf("  frequency from      %s (%llu Hz)\n", ci.freq_source, (unsigned long long)ci.nominal_hz);
	printf("  tracked frequency   %.0f Hz +- %.3f ppm (CLOCK_MONOTONIC's view)\n", ci.freq_hz, ci.freq_ppm);
	printf("  tracking error      %+lld ns at the last recalibration (interval %.0f ms)\n",
	       (long long)ci.tracking_error_ns, ci.recal_interval_ns / 1e6);
	printf("  recalibrations      %llu, steps %llu, fallbacks %llu%s%s\n", (unsigned long long)ci.recalibrations,
	       (unsigned long long)ci.steps, (unsigned long long)ci.fallbacks, ci.fallback_reason[0] ? ": " : "",
	       ci.fallback_reason);
	printf("  counter             %s\n", ci.counter);
	printf("  kernel's rate       %s", ci.kernel_rate_known ? "" : "unknown (adjtimex refused)\n");
	if (ci.kernel_rate_known)
		printf("%+.3f ppm vs the raw clocksource (adjtimex), %llu changes followed\n", ci.kernel_rate_ppm,
		       (unsigned long long)ci.rate_changes);
	if (ci.probe_interval_ns)
		printf("  probe interval      %.1f ms (the line is checked against CLOCK_MONOTONIC this often)\n",
		       ci.probe_interval_ns / 1e6);
	if (ci.source != VTIME_SOURCE_CLOCK_GETTIME)
		printf("  realtime offset     +- %llu ns, %llu steps followed\n", (unsigned long long)ci.realtime_unc_ns,
		       (unsigned long long)ci.realtime_steps);
	printf("  initialisation      %.1f us\n", ci.init_ns / 1e3);
	vt_pages_status(NULL);
	return VT_EXIT_OK;
}
