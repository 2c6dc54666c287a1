/* SPDX-License-Identifier: MIT */
/* Shared-memory ABIs (pvclock, VMClock, Hyper-V) and vtime's saved states
 * are little-endian. vt_le*() convert between that and the host's order in
 * place (nothing on little-endian hosts); vt_put_le()/vt_get_le() write and
 * read byte images of any host.
 *
 * The host's order is VT_BIG_ENDIAN from the port contract (vt_port.h);
 * tests/core/test_pvclock.c checks it against the running machine, and
 * test_endian_swap.c runs the swapping reader and writer on any host. */
#ifndef VT_ENDIAN_H
#define VT_ENDIAN_H

#include <stdint.h>

#include "vt_port.h"

#if VT_BIG_ENDIAN
/* Plain shifts: compilers turn these into one byte-swap instruction. */
static inline uint32_t vt_le32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}
static inline uint64_t vt_le64(uint64_t v)
{
	return ((uint64_t)vt_le32((uint32_t)v) << 32) | vt_le32((uint32_t)(v >> 32));
}
#else
static inline uint32_t vt_le32(uint32_t v) { return v; }
static inline uint64_t vt_le64(uint64_t v) { return v; }
#endif

/* bytes (1..8) of v into p, least significant first */
static inline void vt_put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t vt_get_le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#endif
