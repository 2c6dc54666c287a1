/* SPDX-License-Identifier: MIT */
/* Wide integer helpers for the core. Portable C with no __int128 and no
 * libgcc division helpers (__udivdi3 is not available in every kernel), so
 * the same code runs on 32-bit targets and in kernels. */
#ifndef VT_MATH_H
#define VT_MATH_H

#include <stdbool.h>
#include <stdint.h>

#include "vt_port.h"

struct vt_u128 {
	uint64_t hi, lo;
};

/* Full 64x64 -> 128 product from four 32x32 -> 64 products. */
static inline struct vt_u128 vt_mul64(uint64_t a, uint64_t b)
{
	uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
	uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
	uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl; /* < 3 * 2^32: no overflow */
	struct vt_u128 r;
	r.lo = (mid << 32) | (uint32_t)ll;
	r.hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
	return r;
}

/* (a >> n) truncated to 64 bits, 0 <= n < 128. */
static inline uint64_t vt_shr128(struct vt_u128 a, unsigned n)
{
	if (n == 0)
		return a.lo;
	if (n < 64)
		return (a.lo >> n) | (a.hi << (64 - n));
	return a.hi >> (n - 64);
}

/* a >> n as 128 bits for any n (0 from 128 on); *lost: a bit shifted out
 * was 1 (for rounding up). */
static inline struct vt_u128 vt_shr128_sticky(struct vt_u128 a, unsigned n, bool *lost)
{
	struct vt_u128 r;

	if (n == 0) {
		*lost = false;
		return a;
	}
	if (n < 64) {
		*lost = (a.lo << (64 - n)) != 0;
		r.lo = (a.lo >> n) | (a.hi << (64 - n));
		r.hi = a.hi >> n;
	} else if (n < 128) {
		*lost = a.lo != 0 || (n > 64 && (a.hi << (128 - n)) != 0);
		r.lo = a.hi >> (n - 64);
		r.hi = 0;
	} else {
		*lost = a.lo != 0 || a.hi != 0;
		r.lo = r.hi = 0;
	}
	return r;
}

/* a << n for 0 <= n < 128 (bits shifted out are lost). */
static inline struct vt_u128 vt_shl128(struct vt_u128 a, unsigned n)
{
	struct vt_u128 r;
	if (n == 0)
		return a;
	if (n < 64) {
		r.hi = (a.hi << n) | (a.lo >> (64 - n));
		r.lo = a.lo << n;
	} else {
		r.hi = a.lo << (n - 64);
		r.lo = 0;
	}
	return r;
}

/* v shifted left by shift (right if negative), mod 2^64: 0 once |shift| >= 64
 * instead of C's undefined behaviour, so a corrupt shift cannot trap. */
static inline uint64_t vt_shift64(uint64_t v, int shift)
{
	if (shift < 0)
		return shift > -64 ? v >> -shift : 0;
	return shift < 64 ? v << shift : 0;
}

/* floor((d * mul) / 2^32) with the full 96-bit product, as two 32x32 products. */
static inline uint64_t vt_mul_frac32(uint64_t d, uint32_t mul)
{
	return (d >> 32) * mul + (((d & 0xffffffffu) * mul) >> 32);
}

/* floor(a / d) for d != 0 when the quotient fits in 64 bits (a.hi < d);
 * returns false (and leaves *q alone) otherwise. x86-64 uses one divq;
 * elsewhere a restoring division (64 steps), fine off the fast paths. */
static inline bool vt_div128(struct vt_u128 a, uint64_t d, uint64_t *q, uint64_t *rem)
{
	uint64_t r, quo;

	if (d == 0 || a.hi >= d)
		return false;
#if VT_DIVQ_X86_64
	/* One divq: a.hi < d above, so the quotient fits and it cannot fault. */
	__asm__("divq %4" : "=a"(quo), "=d"(r) : "a"(a.lo), "d"(a.hi), "rm"(d) : "cc");
#else
	r = a.hi;
	quo = 0;
	for (int i = 63; i >= 0; i--) {
		uint64_t carry = r >> 63;
		r = (r << 1) | ((a.lo >> i) & 1u);
		quo <<= 1;
		if (carry || r >= d) {
			r -= d;
			quo |= 1u;
		}
	}
#endif
	*q = quo;
	if (rem)
		*rem = r;
	return true;
}

/* floor(n / d), d != 0, never a libgcc helper: a native 64-bit divide
 * where the port has one, a 32-bit one when both operands fit, else the
 * loop above. */
static inline uint64_t vt_div64(uint64_t n, uint64_t d)
{
#if VT_DIV64_NATIVE
	return n / d;
#else
	struct vt_u128 a = { 0, n };
	uint64_t q = 0;
#if VT_DIV32_NATIVE
	if ((n >> 32) == 0 && (d >> 32) == 0)
		return (uint32_t)n / (uint32_t)d;
#endif
	(void)vt_div128(a, d, &q, (uint64_t *)0);
	return q;
#endif
}

/* Whether the n words at p are all zero: the reserved fields of public
 * configuration and saved-state structs (docs/abi.md). */
static inline bool vt_zero64(const uint64_t *p, unsigned n)
{
	uint64_t any = 0;

	for (unsigned i = 0; i < n; i++)
		any |= p[i];
	return any == 0;
}

#endif
