/* SPDX-License-Identifier: MIT */
/* The one saved-state pattern (ticks engine, VMM core, KVM clock snapshot):
 * an object saves into a plain host-order struct; *_encode() writes it as a
 * fixed little-endian byte image, *_decode() reads one back and checks its
 * header, and *_restore() validates every field before touching the object.
 *
 * Byte image: a 16-byte header, then the fields in struct order, each
 * little-endian at its natural size:
 *   0  le32 magic     distinct per kind, so one kind never restores as another
 *   4  le16 version   1.. ; a vtime reads every version up to its own
 *   6  le16 header    16 (room for a longer header later)
 *   8  le32 size      bytes of the whole image, header included
 *  12  le32 reserved  0
 * Decode: wrong magic, version 0, a size other than the version's, a header
 * length other than 16 or reserved bits set give VTIME_EPROTO; a later
 * version VTIME_ENOTSUP; a buffer shorter than the image VTIME_EPROTO.
 * Encode into a buffer too short: VTIME_ERANGE. */
#ifndef VT_STATE_H
#define VT_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <vtime/error.h>

#include "vt_endian.h"

#define VT_STATE_HEADER_BYTES 16u

/* Writer and reader over a byte image: a cursor that never runs past len. */
struct vt_state_cur {
	uint8_t *w;       /* writer's buffer (NULL for a reader) */
	const uint8_t *r; /* reader's buffer */
	size_t len, off;
};

static inline int vt_state_begin_write(struct vt_state_cur *c, void *buf, size_t len, uint32_t magic,
				       uint16_t version, uint32_t size)
{
	if (!buf)
		return VTIME_EINVAL;
	if (len < size)
		return VTIME_ERANGE;
	c->w = (uint8_t *)buf;
	c->r = (const uint8_t *)0;
	c->len = size;
	vt_put_le(c->w + 0, magic, 4);
	vt_put_le(c->w + 4, version, 2);
	vt_put_le(c->w + 6, VT_STATE_HEADER_BYTES, 2);
	vt_put_le(c->w + 8, size, 4);
	vt_put_le(c->w + 12, 0, 4);
	c->off = VT_STATE_HEADER_BYTES;
	return 0;
}

/* Checks the header against magic and the newest version known; *version
 * and *size receive what the image says (size checked against len). */
static inline int vt_state_begin_read(struct vt_state_cur *c, const void *buf, size_t len, uint32_t magic,
				      uint16_t newest, uint16_t *version, uint32_t *size)
{
	const uint8_t *p = (const uint8_t *)buf;
	uint32_t v, sz;

	if (!buf)
		return VTIME_EINVAL;
	if (len < VT_STATE_HEADER_BYTES || vt_get_le(p, 4) != magic || vt_get_le(p + 6, 2) != VT_STATE_HEADER_BYTES ||
	    vt_get_le(p + 12, 4) != 0)
		return VTIME_EPROTO;
	v = (uint32_t)vt_get_le(p + 4, 2);
	sz = (uint32_t)vt_get_le(p + 8, 4);
	if (v == 0)
		return VTIME_EPROTO;
	if (v > newest)
		return VTIME_ENOTSUP;
	if (sz < VT_STATE_HEADER_BYTES || sz > len)
		return VTIME_EPROTO;
	c->w = (uint8_t *)0;
	c->r = p;
	c->len = sz;
	c->off = VT_STATE_HEADER_BYTES;
	*version = (uint16_t)v;
	*size = sz;
	return 0;
}

static inline void vt_state_put(struct vt_state_cur *c, uint64_t v, unsigned bytes)
{
	if (c->off + bytes <= c->len)
		vt_put_le(c->w + c->off, v, bytes);
	c->off += bytes;
}

static inline uint64_t vt_state_get(struct vt_state_cur *c, unsigned bytes)
{
	uint64_t v = 0;

	if (c->off + bytes <= c->len)
		v = vt_get_le(c->r + c->off, bytes);
	c->off += bytes;
	return v;
}

/* 0 when the fields filled the image exactly (the sizes agree). */
static inline int vt_state_end(const struct vt_state_cur *c)
{
	return c->off == c->len ? 0 : VTIME_EPROTO;
}

#endif
