/* SPDX-License-Identifier: MIT */
/* Test oracles: the reference algorithms of timekeeping-facts.md written the
 * slow, obvious way with an independent 128-bit type (four 32-bit limbs, so
 * the same oracle runs in the -m32 build; the core's vt_math.h is not used).
 * On targets with __int128 a test cross-checks the limbs against it. Plus a
 * seeded PRNG (VTIME_TEST_SEED overrides the seed). */
#ifndef VT_ORACLE_H
#define VT_ORACLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <vtime/pvclock.h>

/* ---- 128-bit unsigned as limbs, w[0] least significant ---- */
typedef struct {
	uint32_t w[4];
} o128;

static inline o128 o128_from(uint64_t v)
{
	o128 r = { { (uint32_t)v, (uint32_t)(v >> 32), 0, 0 } };
	return r;
}

static inline bool o128_fits64(o128 a) { return a.w[2] == 0 && a.w[3] == 0; }
static inline uint64_t o128_lo64(o128 a) { return ((uint64_t)a.w[1] << 32) | a.w[0]; }

static inline int o128_cmp(o128 a, o128 b)
{
	for (int i = 3; i >= 0; i--)
		if (a.w[i] != b.w[i])
			return a.w[i] < b.w[i] ? -1 : 1;
	return 0;
}

static inline o128 o128_mul(uint64_t a, uint64_t b)
{
	uint32_t x[2] = { (uint32_t)a, (uint32_t)(a >> 32) }, y[2] = { (uint32_t)b, (uint32_t)(b >> 32) };
	o128 r = { { 0, 0, 0, 0 } };
	for (int i = 0; i < 2; i++) {
		uint64_t carry = 0;
		for (int j = 0; j < 2; j++) {
			uint64_t t = (uint64_t)x[i] * y[j] + r.w[i + j] + carry;
			r.w[i + j] = (uint32_t)t;
			carry = t >> 32;
		}
		for (int k = i + 2; k < 4 && carry; k++) {
			uint64_t t = (uint64_t)r.w[k] + carry;
			r.w[k] = (uint32_t)t;
			carry = t >> 32;
		}
	}
	return r;
}

static inline o128 o128_shl1(o128 a)
{
	for (int i = 3; i > 0; i--)
		a.w[i] = (a.w[i] << 1) | (a.w[i - 1] >> 31);
	a.w[0] <<= 1;
	return a;
}

static inline o128 o128_shr1(o128 a)
{
	for (int i = 0; i < 3; i++)
		a.w[i] = (a.w[i] >> 1) | (a.w[i + 1] << 31);
	a.w[3] >>= 1;
	return a;
}

static inline o128 o128_shl(o128 a, unsigned n)
{
	while (n--)
		a = o128_shl1(a);
	return a;
}

static inline o128 o128_shr(o128 a, unsigned n)
{
	while (n--)
		a = o128_shr1(a);
	return a;
}

static inline o128 o128_sub(o128 a, o128 b)
{
	uint64_t borrow = 0;
	for (int i = 0; i < 4; i++) {
		uint64_t t = (uint64_t)a.w[i] - b.w[i] - borrow;
		a.w[i] = (uint32_t)t;
		borrow = (t >> 63) & 1;
	}
	return a;
}

/* floor(a / d), d != 0, bit by bit. */
static inline o128 o128_div(o128 a, uint64_t d)
{
	o128 q = { { 0, 0, 0, 0 } }, r = { { 0, 0, 0, 0 } }, dd = o128_from(d);
	for (int bit = 127; bit >= 0; bit--) {
		r = o128_shl1(r);
		r.w[0] |= (a.w[bit / 32] >> (bit % 32)) & 1u;
		if (o128_cmp(r, dd) >= 0) {
			r = o128_sub(r, dd);
			q.w[bit / 32] |= 1u << (bit % 32);
		}
	}
	return q;
}

/* ---- reference algorithms ---- */

/* delta shifted by shift as the reference does it for |shift| < 64 (mod 2^64);
 * 0 beyond (shifting every bit out), the value vtime defines there. */
static inline uint64_t oracle_shift(uint64_t delta, int shift)
{
	o128 v = o128_from(delta);
	if (shift <= -64 || shift >= 64)
		return 0;
	v = shift < 0 ? o128_shr(v, (unsigned)-shift) : o128_shl(v, (unsigned)shift);
	return o128_lo64(v);
}

/* floor(delta' * mul / 2^32) through the wide product. */
static inline uint64_t oracle_scale_apply(uint64_t delta, int shift, uint32_t mul)
{
	return o128_lo64(o128_shr(o128_mul(oracle_shift(delta, shift), mul), 32));
}

/* kvm_get_time_scale(scaled_hz = to, base_hz = from), step for step (facts 2).
 * Returns the shift and mul without range checks; from, to != 0. */
static inline void oracle_scale_init(uint64_t from, uint64_t to, int *shift, uint32_t *mul)
{
	o128 b = o128_from(from), s = o128_from(to), two_s = o128_shl1(o128_from(to));
	o128 lim32 = o128_from(0xffffffffull);
	int sh = 0;
	while (o128_cmp(b, two_s) > 0 || o128_cmp(b, lim32) > 0) {
		b = o128_shr1(b);
		sh--;
	}
	while (o128_cmp(b, s) <= 0 || o128_cmp(s, lim32) > 0) {
		if (o128_cmp(s, lim32) > 0 || (b.w[0] & 0x80000000u))
			s = o128_shr1(s);
		else
			b = o128_shl1(b);
		sh++;
	}
	*shift = sh;
	*mul = (uint32_t)o128_lo64(o128_div(o128_shl(s, 32), o128_lo64(b)));
}

/* floor(1e9 * 2^(32 - shift) / mul), saturating at UINT64_MAX; 0 for mul 0. */
static inline uint64_t oracle_from_hz(int shift, uint32_t mul)
{
	o128 n = o128_from(1000000000ull), q;
	int e = 32 - shift;
	if (mul == 0)
		return 0;
	if (e >= 0) {
		if (e > 96)
			return UINT64_MAX;
		n = o128_shl(n, (unsigned)e);
		q = o128_div(n, mul);
	} else {
		/* floor(floor(n / 2^k) / m) == floor(n / (2^k m)) */
		q = o128_div(o128_shr(n, (unsigned)-e), mul);
	}
	return o128_fits64(q) ? o128_lo64(q) : UINT64_MAX;
}

static inline o128 o128_mul32(o128 a, uint32_t m)
{
	uint64_t carry = 0;
	for (int i = 0; i < 4; i++) {
		uint64_t t = (uint64_t)a.w[i] * m + carry;
		a.w[i] = (uint32_t)t;
		carry = t >> 32;
	}
	return a;
}

/* The guest reference formula for a delta < 2^63 (wrapping like the
 * reference); behind the record, vtime's definition: system_time minus the
 * exact (unwrapped) scaled gap, saturating at 0. */
static inline uint64_t oracle_pvclock_time(const struct vtime_pvclock_vcpu_time_info *r, uint64_t tsc)
{
	uint64_t delta = tsc - r->tsc_timestamp, gap = r->tsc_timestamp - tsc, st = r->system_time;
	int sh = r->tsc_shift;
	o128 g, p;

	if (delta < (1ull << 63))
		return st + oracle_scale_apply(delta, sh, r->tsc_to_system_mul);
	if (sh <= -64 || sh >= 64)
		return st; /* absurd shift: everything shifted out, as scale_apply */
	g = sh < 0 ? o128_shr(o128_from(gap), (unsigned)-sh) : o128_shl(o128_from(gap), (unsigned)sh);
	if (g.w[3] != 0) /* >= 2^96 ticks: the scaled gap exceeds 2^64 unless mul is 0 */
		return r->tsc_to_system_mul ? 0 : st;
	p = o128_shr(o128_mul32(g, r->tsc_to_system_mul), 32);
	if (!o128_fits64(p) || o128_lo64(p) >= st)
		return 0;
	return st - o128_lo64(p);
}

/* floor(2^n * guest / host); false when it does not fit in 64 bits. */
static inline bool oracle_tsc_ratio(uint64_t guest, uint64_t host, unsigned n, uint64_t *ratio)
{
	o128 q = o128_div(o128_shl(o128_from(guest), n), host);
	if (!o128_fits64(q))
		return false;
	*ratio = o128_lo64(q);
	return true;
}

static inline uint64_t oracle_tsc_apply(uint64_t tsc, uint64_t ratio, unsigned n)
{
	return o128_lo64(o128_shr(o128_mul(tsc, ratio), n));
}

/* ---- PRNG (splitmix64), seeded once per process ---- */
static uint64_t vt_rng_state;

static inline void vt_rng_seed(void)
{
	const char *s = getenv("VTIME_TEST_SEED");
	vt_rng_state = (s && *s) ? strtoull(s, NULL, 0) : 0x7674696d65ull; /* "vtime" */
	printf("\n  VTIME_TEST_SEED=0x%llx\n", (unsigned long long)vt_rng_state);
}

static inline uint64_t vt_rng(void)
{
	uint64_t z = (vt_rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A value of random bit length 1..64 (log-uniform), never 0. */
static inline uint64_t vt_rng_mag(void)
{
	unsigned bits = 1 + (unsigned)(vt_rng() % 64);
	uint64_t v = vt_rng() >> (64 - bits);
	return v | (1ull << (bits - 1));
}

/* Deltas that stress the arithmetic: small, around 2^32, near 2^63 and 2^64,
 * or uniform. */
static inline uint64_t vt_rng_delta(void)
{
	uint64_t small = vt_rng() % 4096;
	switch (vt_rng() % 6) {
	case 0: return small;
	case 1: return (1ull << 32) - 2048 + small;
	case 2: return (1ull << 63) - 1 - small;
	case 3: return UINT64_MAX - small;
	case 4: return vt_rng_mag();
	default: return vt_rng();
	}
}

#endif
