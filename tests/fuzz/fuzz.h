/* SPDX-License-Identifier: MIT */
/* Shared pieces of the fuzz harnesses (tests/fuzz/fuzz_*.c). Each harness
 * defines LLVMFuzzerTestOneInput() and checks invariants with FZ_CHECK,
 * which prints what broke and aborts: libFuzzer then keeps the input as a
 * crash, and the replay driver (replay.c, linked with every harness in the
 * normal build) fails the test suite on it. Inputs are read with a cursor
 * that yields zeros once the bytes run out, so every input is a scenario. */
#ifndef VT_FUZZ_H
#define VT_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(cond, ...)                                                                      \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: invariant broken: %s\n  ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                            \
			fputc('\n', stderr);                                                     \
			abort();                                                                 \
		}                                                                                \
	} while (0)

#define FZ_U(x) ((unsigned long long)(x))

/* VTIME_FUZZ_TRACE=1 fuzz_replay_NAME NAME FILE: what the harness did. */
static inline bool fz_tracing(void)
{
	static int on = -1;
	if (on < 0)
		on = getenv("VTIME_FUZZ_TRACE") != NULL;
	return on;
}
#define FZ_TRACE(...)                                       \
	do {                                                \
		if (fz_tracing())                           \
			fprintf(stderr, __VA_ARGS__);       \
	} while (0)

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline struct fz fz_init(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	return f;
}

static inline size_t fz_left(const struct fz *f)
{
	return f->n;
}

/* bytes little-endian bytes as an integer (zeros past the end) */
static inline uint64_t fz_bytes(struct fz *f, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++) {
		uint64_t b = 0;
		if (f->n) {
			b = *f->p++;
			f->n--;
		}
		v |= b << (8 * i);
	}
	return v;
}

/* A counter hook reading the uint64_t its context points at. */
static inline uint64_t fz_fixed_counter(void *ctx)
{
	return *(const uint64_t *)ctx;
}

/* n little-endian bytes at p as an integer (byte images, any host). */
static inline uint64_t fz_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline uint8_t fz_u8(struct fz *f) { return (uint8_t)fz_bytes(f, 1); }
static inline uint16_t fz_u16(struct fz *f) { return (uint16_t)fz_bytes(f, 2); }
static inline uint32_t fz_u32(struct fz *f) { return (uint32_t)fz_bytes(f, 4); }
static inline uint64_t fz_u64(struct fz *f) { return fz_bytes(f, 8); }
static inline bool fz_bool(struct fz *f) { return fz_u8(f) & 1u; }

/* A 64-bit value biased towards the edges arithmetic breaks at: small,
 * just below 2^64, around 2^63 and 2^32, a power of two +- a little, or raw. */
static inline uint64_t fz_edge64(struct fz *f)
{
	uint8_t sel = fz_u8(f);
	uint64_t small = fz_u8(f);
	switch (sel & 7u) {
	case 0: return fz_u64(f);
	case 1: return small;
	case 2: return UINT64_MAX - small;
	case 3: return ((uint64_t)1 << 63) + small - 128;
	case 4: return ((uint64_t)1 << 32) + small - 128;
	case 5: return fz_u16(f);
	case 6: return ((uint64_t)1 << (small & 63)) + (uint64_t)(sel >> 3) - 16;
	default: return fz_u32(f);
	}
}

/* Serial order modulo 2^64 (what the clocks use). */
static inline int64_t fz_sdiff(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b);
}

#endif
