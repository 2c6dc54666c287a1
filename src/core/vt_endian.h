/* SPDX-License-Identifier: MIT */
/* The pvclock ABI is little-endian. These convert between a record's stored
 * byte order and the host's; they compile to nothing on little-endian hosts. */
#ifndef VT_ENDIAN_H
#define VT_ENDIAN_H

#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define VT_BIG_ENDIAN 1
static inline uint32_t vt_le32(uint32_t v) { return __builtin_bswap32(v); }
static inline uint64_t vt_le64(uint64_t v) { return __builtin_bswap64(v); }
#else
#define VT_BIG_ENDIAN 0
static inline uint32_t vt_le32(uint32_t v) { return v; }
static inline uint64_t vt_le64(uint64_t v) { return v; }
#endif

#endif
