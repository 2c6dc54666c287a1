/* SPDX-License-Identifier: MIT */
/* Oracles for the VMClock and Hyper-V tests, written apart from the core
 * and differently from it:
 *  - VMClock: the time as one exact signed integer in units of
 *    2^-(64 + shift) s, (time_sec * 2^64 + time_frac_sec) * 2^shift +
 *    d * period with d the signed counter difference, then one arithmetic
 *    shift right (floor, also for a negative sum); the error terms as
 *    -floor(-M / 2^(64 + shift)) (the ceiling). 512-bit two's complement
 *    numbers in 32-bit limbs, so the same oracle runs in the -m32 build.
 *    (The core instead shifts the product first and rounds by hand.)
 *  - KVM's Hyper-V page from a pvclock record (arch/x86/kvm/hyperv.c,
 *    compute_tsc_page_parameters) transcribed as plain 128-bit arithmetic:
 *    with unsigned __int128 where the compiler has it, and again with the
 *    limbs of tests/core/vt_oracle.h (for -m32), the two cross-checked. */
#ifndef VT_ABI_ORACLE_H
#define VT_ABI_ORACLE_H

#include <stdbool.h>
#include <stdint.h>
#include <vtime/pvclock.h>
#include <vtime/vmclock.h>

#include "core/vt_oracle.h"

/* ---- 512-bit two's complement, w[0] least significant ---- */
#define OB_LIMBS 16
typedef struct {
	uint32_t w[OB_LIMBS];
} obig;

static inline obig ob_zero(void)
{
	obig r;
	for (int i = 0; i < OB_LIMBS; i++)
		r.w[i] = 0;
	return r;
}

static inline obig ob_u64(uint64_t v)
{
	obig r = ob_zero();
	r.w[0] = (uint32_t)v;
	r.w[1] = (uint32_t)(v >> 32);
	return r;
}

static inline bool ob_neg_p(obig a) { return (a.w[OB_LIMBS - 1] >> 31) != 0; }

static inline obig ob_add(obig a, obig b)
{
	uint64_t c = 0;
	for (int i = 0; i < OB_LIMBS; i++) {
		uint64_t t = (uint64_t)a.w[i] + b.w[i] + c;
		a.w[i] = (uint32_t)t;
		c = t >> 32;
	}
	return a;
}

static inline obig ob_neg(obig a)
{
	for (int i = 0; i < OB_LIMBS; i++)
		a.w[i] = ~a.w[i];
	return ob_add(a, ob_u64(1));
}

/* a * m for a >= 0 (schoolbook over 32-bit halves of m) */
static inline obig ob_mul_u64(obig a, uint64_t m)
{
	uint32_t mm[2] = { (uint32_t)m, (uint32_t)(m >> 32) };
	obig r = ob_zero();
	for (int j = 0; j < 2; j++) {
		uint64_t c = 0;
		for (int i = 0; i + j < OB_LIMBS; i++) {
			uint64_t t = (uint64_t)a.w[i] * mm[j] + r.w[i + j] + c;
			r.w[i + j] = (uint32_t)t;
			c = t >> 32;
		}
	}
	return r;
}

/* a * 2^n, 0 <= n < 512 */
static inline obig ob_shl(obig a, unsigned n)
{
	obig r = ob_zero();
	for (int i = OB_LIMBS - 1; i >= 0; i--) {
		int src = i - (int)(n / 32);
		unsigned b = n % 32;
		uint32_t v = 0;
		if (src >= 0) {
			v = a.w[src] << b;
			if (b && src > 0)
				v |= a.w[src - 1] >> (32 - b);
		}
		r.w[i] = v;
	}
	return r;
}

/* floor(a / 2^n) (arithmetic shift), 0 <= n < 512 */
static inline obig ob_sar(obig a, unsigned n)
{
	uint32_t fill = ob_neg_p(a) ? 0xffffffffu : 0;
	obig r;
	for (int i = 0; i < OB_LIMBS; i++) {
		unsigned src = (unsigned)i + n / 32, b = n % 32;
		uint32_t lo = src < OB_LIMBS ? a.w[src] : fill;
		uint32_t hi = src + 1 < OB_LIMBS ? a.w[src + 1] : fill;
		r.w[i] = b ? (lo >> b) | (hi << (32 - b)) : lo;
	}
	return r;
}

/* true when 0 <= a < 2^(32 * limbs) */
static inline bool ob_fits(obig a, int limbs)
{
	for (int i = limbs; i < OB_LIMBS; i++)
		if (a.w[i])
			return false;
	return true;
}

static inline uint64_t ob_word64(obig a, int k) /* bits 64k .. 64k+63 */
{
	return ((uint64_t)a.w[2 * k + 1] << 32) | a.w[2 * k];
}

/* ---- VMClock ---- */

/* The counter difference as a signed 512-bit number: d < 2^63 ahead,
 * otherwise behind by 2^64 - d. */
static inline obig oracle_vmclock_d(const struct vtime_vmclock_abi *s, uint64_t counter)
{
	uint64_t d = counter - s->counter_value;
	if (d < (1ull << 63))
		return ob_u64(d);
	return ob_neg(ob_u64(0 - d));
}

/* vtime_vmclock_time() as specified: returns 0 or VTIME_ERANGE. */
static inline int oracle_vmclock_time(const struct vtime_vmclock_abi *s, uint64_t counter, uint64_t *sec,
				      uint32_t *nsec)
{
	unsigned sh = s->counter_period_shift;
	obig base = ob_add(ob_shl(ob_u64(s->time_sec), 64), ob_u64(s->time_frac_sec));
	obig d = oracle_vmclock_d(s, counter), prod, total;
	bool neg = ob_neg_p(d);

	prod = ob_mul_u64(neg ? ob_neg(d) : d, s->counter_period_frac_sec);
	if (neg)
		prod = ob_neg(prod);
	total = ob_sar(ob_add(ob_shl(base, sh), prod), sh);
	if (ob_neg_p(total) || !ob_fits(total, 4))
		return VTIME_ERANGE;
	*sec = ob_word64(total, 1);
	/* floor(frac * 10^9 / 2^64) */
	*nsec = (uint32_t)ob_word64(ob_sar(ob_mul_u64(ob_u64(ob_word64(total, 0)), 1000000000ull), 64), 0);
	return 0;
}

/* ceil(|d| * rate * 10^9 / 2^(64 + shift)), saturated to UINT64_MAX */
static inline uint64_t oracle_vmclock_rate_ns(const struct vtime_vmclock_abi *s, uint64_t counter, uint64_t rate)
{
	obig d = oracle_vmclock_d(s, counter), m;
	if (ob_neg_p(d))
		d = ob_neg(d);
	m = ob_mul_u64(ob_mul_u64(d, rate), 1000000000ull);
	m = ob_neg(ob_sar(ob_neg(m), 64u + s->counter_period_shift));
	return ob_fits(m, 2) ? ob_word64(m, 0) : UINT64_MAX;
}

static inline uint64_t oracle_sat_add(uint64_t a, uint64_t b)
{
	return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

static inline void oracle_vmclock_error(const struct vtime_vmclock_abi *s, uint64_t counter, uint64_t *maxe,
					uint64_t *este)
{
	*maxe = UINT64_MAX;
	*este = UINT64_MAX;
	if (s->flags & VTIME_VMCLOCK_FLAG_TIME_MAXERROR_VALID)
		*maxe = oracle_sat_add(s->time_maxerror_nanosec,
				       (s->flags & VTIME_VMCLOCK_FLAG_PERIOD_MAXERROR_VALID)
					       ? oracle_vmclock_rate_ns(s, counter, s->counter_period_maxerror_rate_frac_sec)
					       : 0);
	if (s->flags & VTIME_VMCLOCK_FLAG_TIME_ESTERROR_VALID)
		*este = oracle_sat_add(s->time_esterror_nanosec,
				       (s->flags & VTIME_VMCLOCK_FLAG_PERIOD_ESTERROR_VALID)
					       ? oracle_vmclock_rate_ns(s, counter, s->counter_period_esterror_rate_frac_sec)
					       : 0);
}

/* ---- KVM's Hyper-V page (compute_tsc_page_parameters), transcribed ----
 * Its arithmetic: 64-bit max_mul = 100 << (32 - shift) (bits beyond 2^64
 * lost), tsc_scale = mul_u64_u32_div(1 << (32 + shift), mul, 100),
 * tsc_offset = system_time / 100 (do_div: unsigned) minus
 * mul_u64_u64_shr(tsc_timestamp, tsc_scale, 64). Defined for shifts
 * [-31, 31] only (the C shifts are undefined beyond); returns true when KVM
 * publishes a page. */
#ifdef __SIZEOF_INT128__
static inline bool kvm_hv_page_i128(const struct vtime_pvclock_vcpu_time_info *hv_clock, uint64_t *tsc_scale,
				    int64_t *tsc_offset)
{
	typedef unsigned __int128 u128;
	uint64_t max_mul, offset;

	if (!(hv_clock->flags & VTIME_PVCLOCK_TSC_STABLE))
		return false;
	max_mul = 100ull << (32 - hv_clock->tsc_shift);
	if (hv_clock->tsc_to_system_mul >= max_mul)
		return false;
	*tsc_scale = (uint64_t)(((u128)(1ull << (32 + hv_clock->tsc_shift)) * hv_clock->tsc_to_system_mul) / 100);
	offset = hv_clock->system_time / 100;
	offset -= (uint64_t)(((u128)hv_clock->tsc_timestamp * *tsc_scale) >> 64);
	*tsc_offset = (int64_t)offset;
	return true;
}
#endif

/* The same with the 32-bit limbs of vt_oracle.h (o128). */
static inline bool kvm_hv_page_limbs(const struct vtime_pvclock_vcpu_time_info *hv_clock, uint64_t *tsc_scale,
				     int64_t *tsc_offset)
{
	uint32_t max_mul_lo, max_mul_hi;
	o128 max_mul, q, t;
	unsigned up = (unsigned)(32 - hv_clock->tsc_shift);

	if (!(hv_clock->flags & VTIME_PVCLOCK_TSC_STABLE))
		return false;
	/* 100 << up, kept to 64 bits */
	max_mul = o128_shl(o128_from(100), up);
	max_mul_lo = max_mul.w[0];
	max_mul_hi = max_mul.w[1];
	if (max_mul_hi == 0 && hv_clock->tsc_to_system_mul >= max_mul_lo)
		return false;
	q = o128_div(o128_mul(1ull << (32 + hv_clock->tsc_shift), hv_clock->tsc_to_system_mul), 100);
	*tsc_scale = o128_lo64(q);
	t = o128_shr(o128_mul(hv_clock->tsc_timestamp, *tsc_scale), 64);
	*tsc_offset = (int64_t)(o128_lo64(o128_div(o128_from(hv_clock->system_time), 100)) - o128_lo64(t));
	return true;
}

#endif
