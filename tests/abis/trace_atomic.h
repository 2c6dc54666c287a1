/* SPDX-License-Identifier: MIT */
/* Atomics backend for the protocol test: plain single-threaded memory
 * operations that are logged (stores and barriers, in program order) and
 * each preceded by vt_trace_point(), where the test may run another
 * agent's whole operation: a reader at every step of a writer, a writer at
 * every step of a reader. One agent runs at a time, so the interleavings
 * are sequentially consistent and exhaustive at operation granularity. */
#ifndef VT_TRACE_ATOMIC_H
#define VT_TRACE_ATOMIC_H

#include <stdbool.h>
#include <stdint.h>

#define VT_ATOMIC_BACKEND_NAME "trace"

struct vt_trace_op {
	char kind;               /* 's' store, 'w' wmb, 'r' rmb, 'm' mb */
	unsigned size;           /* store width in bytes */
	const volatile void *p;  /* store address */
	uint64_t v;              /* value stored (as in memory) */
};

#define VT_TRACE_MAX 512
extern struct vt_trace_op vt_trace_log[VT_TRACE_MAX];
extern unsigned vt_trace_len;  /* ops logged since the test cleared it */
extern bool vt_trace_logging;  /* log only the agent under test */
void vt_trace_point(void);

static inline void vt_trace_add(char kind, const volatile void *p, uint64_t v, unsigned size)
{
	if (vt_trace_logging && vt_trace_len < VT_TRACE_MAX) {
		struct vt_trace_op op = { kind, size, p, v };
		vt_trace_log[vt_trace_len++] = op;
	}
}

static inline uint8_t vt_load8(const volatile uint8_t *p) { vt_trace_point(); return *p; }
static inline uint32_t vt_load32(const volatile uint32_t *p) { vt_trace_point(); return *p; }
static inline uint64_t vt_load64(const volatile uint64_t *p) { vt_trace_point(); return *p; }
static inline void vt_store8(volatile uint8_t *p, uint8_t v) { vt_trace_point(); vt_trace_add('s', p, v, 1); *p = v; }
static inline void vt_store32(volatile uint32_t *p, uint32_t v) { vt_trace_point(); vt_trace_add('s', p, v, 4); *p = v; }
static inline void vt_store64(volatile uint64_t *p, uint64_t v) { vt_trace_point(); vt_trace_add('s', p, v, 8); *p = v; }
static inline void vt_rmb(void) { vt_trace_add('r', 0, 0, 0); }
static inline void vt_wmb(void) { vt_trace_add('w', 0, 0, 0); }
static inline void vt_mb(void) { vt_trace_add('m', 0, 0, 0); }

static inline bool vt_cas32(volatile uint32_t *p, uint32_t *expected, uint32_t desired)
{
	vt_trace_point();
	if (*p == *expected) {
		*p = desired;
		return true;
	}
	*expected = *p;
	return false;
}

static inline bool vt_cas64(volatile uint64_t *p, uint64_t *expected, uint64_t desired)
{
	vt_trace_point();
	if (*p == *expected) {
		*p = desired;
		return true;
	}
	*expected = *p;
	return false;
}

static inline uint8_t vt_fetch_and8(volatile uint8_t *p, uint8_t mask)
{
	uint8_t old;
	vt_trace_point();
	old = *p;
	*p = old & mask;
	return old;
}

static inline uint8_t vt_fetch_or8(volatile uint8_t *p, uint8_t bits)
{
	uint8_t old;
	vt_trace_point();
	old = *p;
	*p = old | bits;
	return old;
}

static inline uint64_t vt_fetch_add64(volatile uint64_t *p, uint64_t v)
{
	uint64_t old;
	vt_trace_point();
	old = *p;
	*p = old + v;
	return old;
}

static inline void vt_cpu_relax(void) { vt_trace_point(); }

#endif
