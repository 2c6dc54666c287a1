/* SPDX-License-Identifier: MIT */
/* Public counter hooks over the inline reads of vt_user_counter.h. */
#include <vtime/clock.h>
#include <vtime/linux.h>
#include <vtime/error.h>

#include "vt_user_counter.h"

#if VT_CTR_GATED
#include <string.h>
#include <sys/auxv.h>
#include <sys/utsname.h>

#include "vt_clock_int.h"

uint32_t vt_ctr_gate;
static const char *gate_why = "not probed yet";

/* Whether this process may read CNTVCT, decided without reading it:
 *  - under an arm64 kernel (uname: "aarch64", or "armv8l" with the 32-bit
 *    personality), yes: it sets CNTKCTL_EL1.EL0VCTEN, which covers AArch32
 *    processes too, and where an erratum makes it trap the counter it
 *    emulates the AArch32 read (arch/arm64/kernel/traps.c,
 *    compat_cntvct_read_handler);
 *  - under a 32-bit kernel, yes when AT_HWCAP has HWCAP_EVTSTRM (bit 21)
 *    and the vDSO exports __vdso_clock_gettime. The event stream is
 *    enabled by arch_timer_starting_cpu() (drivers/clocksource/
 *    arm_arch_timer.c) right after arch_counter_set_user_access(), which
 *    sets PL0VCTEN on every CPU unless the counter needs an erratum
 *    workaround, and every such workaround is an arm64-only Kconfig option;
 *    the vDSO's clock functions are removed at boot (arch/arm/kernel/
 *    vdso.c, cntvct_functional()) unless the device tree has an
 *    arm,armv7-timer or arm,armv8-timer node without
 *    arm,cpu-registers-not-fw-configured, i.e. unless the kernel itself
 *    trusts its userspace to read CNTVCT.
 * Otherwise no: a kernel without the event stream (configured out, or
 * clocksource.arm_arch_timer.evtstrm=0) may well have enabled access, but
 * nothing vtime can see without trapping says so. */
uint32_t vt_ctr_gate_probe(void)
{
	struct utsname u;
	uint32_t g;

	if (uname(&u) == 0 && (!strcmp(u.machine, "aarch64") || !strncmp(u.machine, "armv8", 5))) {
		g = 1;
		gate_why = "an arm64 kernel: it enables user access to the virtual counter";
	} else if (!(getauxval(AT_HWCAP) & (1ul << 21))) {
		g = 2;
		gate_why = "the kernel shows no sign of enabling user access to CNTVCT (no evtstrm in AT_HWCAP)";
	} else if (!vt_vdso_has("__vdso_clock_gettime")) {
		g = 2;
		gate_why = "the kernel's vDSO does not read CNTVCT (no __vdso_clock_gettime: the device tree "
			   "says the timer's registers are not configured by firmware, or there is no arch timer)";
	} else {
		g = 1;
		gate_why = "the kernel enabled user access to CNTVCT (evtstrm in AT_HWCAP) and its vDSO reads it";
	}
	vt_store32(&vt_ctr_gate, g);
	return g;
}

const char *vt_ctr_gate_why(void)
{
	if (vt_load32(&vt_ctr_gate) == 0)
		(void)vt_ctr_gate_probe();
	return gate_why;
}
#endif

static uint64_t hook_raw(void *ctx)
{
	(void)ctx;
	return vt_ctr_raw();
}

static uint64_t hook_ordered(void *ctx)
{
	(void)ctx;
	return vt_ctr_ordered();
}

#if VT_CTR_HAVE_CPU
#include <cpuid.h>

/* CPUID 0x80000001 EDX bit 27: RDTSCP. */
static int have_rdtscp(void)
{
	unsigned a, b, c, d;
	return __get_cpuid(0x80000001u, &a, &b, &c, &d) && (d & (1u << 27));
}

static uint64_t hook_rdtscp(void *ctx)
{
	uint32_t aux;
	(void)ctx;
	return vtime_arch_counter_aux(&aux);
}
#endif

int vtime_counter_get(enum vtime_counter_kind kind, struct vtime_counter *out)
{
	if (!out)
		return VTIME_EINVAL;
	out->ctx = 0;
	switch (kind) {
	case VTIME_COUNTER_RAW:
		out->read = hook_raw;
		return 0;
	case VTIME_COUNTER_ORDERED:
		out->read = hook_ordered;
		return 0;
	case VTIME_COUNTER_RDTSCP:
#if VT_CTR_HAVE_CPU
		if (!have_rdtscp())
			return VTIME_ENOTSUP;
		out->read = hook_rdtscp;
		return 0;
#else
		return VTIME_ENOTSUP;
#endif
	}
	return VTIME_EINVAL;
}

uint64_t vtime_counter_read_cpu(int *cpu)
{
	int c;
	uint64_t t = vt_ctr_cpu(&c);
	if (cpu)
		*cpu = c;
	return t;
}
