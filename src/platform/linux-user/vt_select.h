/* SPDX-License-Identifier: MIT */
/* Which source vtime_now_ns() uses, from what the machine offers: a pure
 * function (no I/O, no globals), tested over a table of machines
 * (tests/userspace/test_select.c). */
#ifndef VT_SELECT_H
#define VT_SELECT_H

#include <stdbool.h>
#include <stdint.h>
#include <vtime/linux.h>

struct vt_select_in {
	const struct vtime_machine *m;
	const char *env;       /* VTIME_CLOCK_SOURCE, NULL when unset */
	bool page;             /* a host pvclock page is usable (the machine's, or a test's) */
	bool page_stable;      /* its first record has TSC_STABLE */
	bool trust_stable;     /* the hypervisor says TSC_STABLE is meaningful */
	unsigned nrec;         /* records in the page */
	uint64_t page_hz;      /* the counter frequency the page gives, 0 if none */
	bool hv;               /* a Hyper-V reference TSC page is mapped (the machine's or a test's) */
	bool hv_valid;         /* ... and its sequence is valid */
	uint64_t hv_hz;        /* the TSC frequency its scale gives, 0 if none */
	bool vmc;              /* a VMClock page (/dev/vmclock0 or a test's) */
	bool vmc_counter;      /* ... relating this architecture's counter to time (counter_id) */
	uint64_t vmc_hz;       /* the counter frequency its period gives, 0 if none */
};

/* The host word the fast paths compare on every read, so that a rewrite
 * (migration, a new frequency) sends readers to maintenance: the pvclock
 * page's version, the Hyper-V page's sequence, VMClock's seq_count. */
enum vt_watch { W_NONE = 0, W_PVCLOCK = 1, W_HV = 2, W_VMCLOCK = 3 };

struct vt_select_out {
	int forced;              /* enum vt_forced (F_BAD: not a known value) */
	int mode;                /* M_TSC, M_PVCLOCK or M_GETTIME */
	uint64_t hz;             /* the counter frequency claimed, 0: it is measured */
	const char *freq_source; /* where hz comes from */
	const char *counter;     /* what the line reads, in the platform's terms */
	int watch;               /* enum vt_watch */
	bool hv_vouch;           /* the counter line rests on the Hyper-V page (watch its validity) */
	char why[192];           /* why this mode, one sentence */
};

/* Fills *out. Returns 0, or VTIME_EINVAL (NULL argument). */
const char *vt_watch_name(int watch);
int vt_select(const struct vt_select_in *in, struct vt_select_out *out);

/* The Linux clocksource that is the architecture's user-readable counter
 * ("tsc", "arch_sys_counter", "riscv_clocksource", "tod"), NULL if none. */
const char *vt_select_counter_clocksource(const char *arch);

#endif
