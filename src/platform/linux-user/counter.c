/* SPDX-License-Identifier: MIT */
/* Public counter hooks over the inline reads of vt_user_counter.h. */
#include <vtime/clock.h>
#include <vtime/linux.h>
#include <vtime/error.h>

#include "vt_user_counter.h"

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
