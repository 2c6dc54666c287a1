/* SPDX-License-Identifier: MIT */
/* What the machine offers: CPUID leaves, the kernel's clocksource, the host
 * pvclock page. Async-signal-safe (lazy init may run in a handler). */
#include <string.h>
#include <unistd.h>
#include <vtime/error.h>
#include <vtime/kvm_abi.h>
#include <vtime/linux.h>
#include <vtime/scale.h>

#include "vt_user.h"
#include "vt_user_counter.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__cpuid_count(leaf, 0, r[0], r[1], r[2], r[3]);
}

static void probe_cpuid(struct vtime_machine *m)
{
	uint32_t r[4], max_basic, max_ext;

	cpuid(0, r);
	max_basic = r[0];
	cpuid(1, r);
	m->hypervisor = (r[2] & VTIME_CPUID_HYPERVISOR_BIT) != 0;
	cpuid(0x80000000u, r);
	max_ext = r[0];
	if (max_ext >= 0x80000001u) {
		cpuid(0x80000001u, r);
		m->rdtscp = (r[3] >> 27) & 1u;
	}
	if (max_ext >= 0x80000007u) {
		cpuid(0x80000007u, r);
		m->invariant_tsc = (r[3] >> 8) & 1u;
	}
	/* Leaves above the maximum return another leaf's data on Intel: check. */
	if (max_basic >= 0x15) {
		cpuid(0x15, r);
		m->cpuid15[0] = r[0];
		m->cpuid15[1] = r[1];
		m->cpuid15[2] = r[2];
		if (r[0] && r[1] && r[2])
			m->cpuid15_hz = (uint64_t)r[2] * r[1] / r[0];
	}
	if (max_basic >= 0x16) {
		cpuid(0x16, r);
		m->cpuid16_mhz = r[0] & 0xffffu;
	}
	if (!m->hypervisor)
		return;
	cpuid(VTIME_KVM_CPUID_BASE, r);
	m->hv_max_leaf = r[0];
	memcpy(m->hv_signature, &r[1], 4);
	memcpy(m->hv_signature + 4, &r[2], 4);
	memcpy(m->hv_signature + 8, &r[3], 4);
	m->hv_signature[12] = '\0';
	for (int i = 0; i < 12; i++) /* keep it printable */
		if (m->hv_signature[i] && (m->hv_signature[i] < 0x20 || m->hv_signature[i] > 0x7e))
			m->hv_signature[i] = '?';
	m->kvm = r[1] == VTIME_KVM_SIGNATURE_EBX && r[2] == VTIME_KVM_SIGNATURE_ECX && r[3] == VTIME_KVM_SIGNATURE_EDX;
	if (m->kvm && m->hv_max_leaf >= VTIME_KVM_CPUID_BASE + VTIME_KVM_CPUID_FEATURES_OFF) {
		cpuid(VTIME_KVM_CPUID_BASE + VTIME_KVM_CPUID_FEATURES_OFF, r);
		m->kvm_features = r[0];
		m->kvm_clocksource = (r[0] & (VTIME_KVM_FEATURE_CLOCKSOURCE | VTIME_KVM_FEATURE_CLOCKSOURCE2)) != 0;
		m->kvm_stable_bit = (r[0] & VTIME_KVM_FEATURE_CLOCKSOURCE_STABLE_BIT) != 0;
	}
	/* The timing leaf (VMware's, adopted by ACRN, VirtualBox, QEMU): kHz. */
	if (m->hv_max_leaf >= 0x40000010u) {
		cpuid(0x40000010u, r);
		m->hv_tsc_hz = (uint64_t)r[0] * 1000u;
		m->hv_apic_hz = (uint64_t)r[1] * 1000u;
	}
}
#else
static void probe_cpuid(struct vtime_machine *m)
{
	(void)m;
}
#endif

/* The counter's frequency where the platform states it. */
static void probe_counter_hz(struct vtime_machine *m)
{
#if VTIME_ARCH_COUNTER_HZ
	if (!vt_ctr_user())
		return; /* armv7 without user access: CNTFRQ would trap too */
	m->arch_counter_hz = vtime_arch_counter_hz();
#if defined(__aarch64__)
	m->arch_counter_hz_source = "CNTFRQ_EL0";
#elif defined(__arm__)
	m->arch_counter_hz_source = "CNTFRQ";
	if (!m->arch_counter_hz)
		m->arch_counter_hz_source = NULL; /* firmware did not set it */
#else
	m->arch_counter_hz_source = "architectural (TOD clock: 4096 units per us)";
#endif
#elif defined(__riscv)
	/* the device tree's /cpus/timebase-frequency: one big-endian cell
	 * (two on some boards) */
	unsigned char b[16];
	size_t n = 0;

	if (vt_user_read_file("/proc/device-tree/cpus/timebase-frequency", (char *)b, sizeof b, &n) == 0 &&
	    (n == 4 || n == 8)) {
		uint64_t v = 0;
		for (size_t i = 0; i < n; i++)
			v = v << 8 | b[i];
		m->arch_counter_hz = v;
		m->arch_counter_hz_source = "device tree timebase-frequency";
	}
#else
	(void)m;
#endif
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

/* "cpu MHz\t\t: 1996.248" of the first CPU in /proc/cpuinfo, in kHz. */
static uint64_t cpuinfo_khz(void)
{
	char buf[768]; /* "cpu MHz" is in the first lines: small stack for signal handlers */
	const char *p;
	uint64_t khz = 0, frac = 0;
	int fd = 0;

	if (vt_user_read_file("/proc/cpuinfo", buf, sizeof buf, NULL) != 0)
		return 0;
	p = strstr(buf, "cpu MHz");
	if (!p || !(p = strchr(p, ':')))
		return 0;
	for (p++; *p == ' ' || *p == '\t'; p++)
		;
	for (; *p >= '0' && *p <= '9'; p++)
		khz = khz * 10 + (uint64_t)(*p - '0');
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9' && fd < 3; p++, fd++)
			frac = frac * 10 + (uint64_t)(*p - '0');
	while (fd++ < 3)
		frac *= 10;
	return khz * 1000 + frac;
}

int vtime_machine_probe(struct vtime_machine *m)
{
	struct vtime_pvclock_vcpu_time_info rec;

	if (!m)
		return VTIME_EINVAL;
	memset(m, 0, sizeof *m);
	m->arch = VT_CTR_ARCH;
	/* "none" where this process may not read it (armv7: vt_user_counter.h) */
	m->counter = vt_ctr_user() ? VTIME_ARCH_COUNTER_NAME : "none";
	probe_cpuid(m);
	probe_counter_hz(m);
	/* unreadable: left empty ("unknown") */
	(void)vt_user_read_file("/sys/devices/system/clocksource/clocksource0/current_clocksource", m->clocksource,
				sizeof m->clocksource, NULL);
	trim(m->clocksource);
	(void)vt_user_read_file("/sys/devices/system/clocksource/clocksource0/available_clocksource",
				m->clocksources, sizeof m->clocksources, NULL);
	trim(m->clocksources);
	m->ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	m->cpuinfo_khz = cpuinfo_khz();
	if (vtime_host_page_find(&m->page) == 0 && vtime_pvclock_snapshot(m->page.rec, 0, &rec) == 0) {
		struct vtime_scale s = { rec.tsc_to_system_mul, rec.tsc_shift };
		m->page_hz = vtime_scale_source_hz(&s);
		m->page_flags = rec.flags;
	}
	return 0;
}
