/* SPDX-License-Identifier: MIT */
/* Atomics backend for the deterministic simulation: plain single-threaded
 * memory operations, each preceded by vt_sim_point(), where the simulator
 * may run another agent's whole operation (a feed inside a read window, a
 * read inside a publish window, a clamp inside another clamp's CAS). */
#ifndef VT_SIM_ATOMIC_H
#define VT_SIM_ATOMIC_H

#include <stdbool.h>
#include <stdint.h>

#define VT_ATOMIC_BACKEND_NAME "sim"

void vt_sim_point(void);

static inline uint8_t vt_load8(const volatile uint8_t *p) { vt_sim_point(); return *p; }
static inline uint32_t vt_load32(const volatile uint32_t *p) { vt_sim_point(); return *p; }
static inline uint64_t vt_load64(const volatile uint64_t *p) { vt_sim_point(); return *p; }
static inline void vt_store8(volatile uint8_t *p, uint8_t v) { vt_sim_point(); *p = v; }
static inline void vt_store32(volatile uint32_t *p, uint32_t v) { vt_sim_point(); *p = v; }
static inline void vt_store64(volatile uint64_t *p, uint64_t v) { vt_sim_point(); *p = v; }
/* one simulated thread runs at a time: operations are sequentially consistent */
static inline void vt_rmb(void) { __asm__ __volatile__("" ::: "memory"); }
static inline void vt_wmb(void) { __asm__ __volatile__("" ::: "memory"); }
static inline void vt_mb(void) { __asm__ __volatile__("" ::: "memory"); }

static inline bool vt_cas64(volatile uint64_t *p, uint64_t *expected, uint64_t desired)
{
	vt_sim_point();
	if (*p == *expected) {
		*p = desired;
		return true;
	}
	*expected = *p;
	return false;
}

static inline uint8_t vt_fetch_and8(volatile uint8_t *p, uint8_t mask)
{
	vt_sim_point();
	uint8_t old = *p;
	*p = old & mask;
	return old;
}

static inline uint64_t vt_fetch_add64(volatile uint64_t *p, uint64_t v)
{
	vt_sim_point();
	uint64_t old = *p;
	*p = old + v;
	return old;
}

static inline void vt_cpu_relax(void) { vt_sim_point(); }

#endif
