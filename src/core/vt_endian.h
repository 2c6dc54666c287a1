/* SPDX-License-Identifier: MIT */
/* The pvclock ABI is little-endian. These convert between a record's stored
 * byte order and the host's; they compile to nothing on little-endian hosts.
 *
 * Note for ports: the choice is made at compile time from __BYTE_ORDER__
 * (GCC, Clang). A compiler without it is assumed little-endian unless the
 * build passes -DVT_BIG_ENDIAN=1; tests/core/test_pvclock.c checks the
 * choice against the running machine, and test_endian_swap.c runs the
 * swapping reader and writer on any host. */
#ifndef VT_ENDIAN_H
#define VT_ENDIAN_H

#include <stdint.h>

#ifndef VT_BIG_ENDIAN
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define VT_BIG_ENDIAN 1
#else
#define VT_BIG_ENDIAN 0
#endif
#endif

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

#endif
