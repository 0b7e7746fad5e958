/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* BER-TLV (ISO/IEC 7816-4 §5.2, X.690 length forms), bounds-checked everywhere. */
#ifndef VNP_TLV_H
#define VNP_TLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vnp_tlv {
	uint32_t tag;         /* tag bytes as a big-endian integer, e.g. 0x7F49 */
	bool constructed;
	const uint8_t *value;
	size_t len;
};

/* Parse the TLV at *p (not beyond end); on success advance *p past it. Tags up to 3 bytes,
 * lengths in short form or 81/82/83 long form. Returns VNP_OK, VNP_E_MALFORMED (truncated,
 * lying length, indefinite length, tag too long), or VNP_E_NOT_FOUND when *p == end.
 * Leading 00/FF padding bytes between objects are skipped. */
int vnp_tlv_next(const uint8_t **p, const uint8_t *end, struct vnp_tlv *ret);
/* Find the first top-level object with tag in buf. VNP_E_NOT_FOUND, VNP_E_MALFORMED. */
int vnp_tlv_find(const uint8_t *buf, size_t len, uint32_t tag, struct vnp_tlv *ret);
/* Big-endian unsigned value of a primitive object of 1..4 bytes; VNP_E_MALFORMED otherwise. */
int vnp_tlv_uint(const struct vnp_tlv *t, uint32_t *ret);

/* A growable output buffer for building TLV. After an allocation failure `failed` is set
 * and further calls do nothing. */
struct vnp_buf {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};
void vnp_buf_init(struct vnp_buf *b);
void vnp_buf_free(struct vnp_buf *b);        /* wipes, then frees */
void vnp_buf_put(struct vnp_buf *b, const void *data, size_t len);
void vnp_buf_u8(struct vnp_buf *b, uint8_t v);
/* Append tag, BER length and value. */
void vnp_tlv_put(struct vnp_buf *b, uint32_t tag, const void *value, size_t len);
/* Append a primitive object holding v big-endian in nbytes (1..4). */
void vnp_tlv_put_uint(struct vnp_buf *b, uint32_t tag, uint32_t v, unsigned nbytes);
/* Open a constructed object; returns a mark for vnp_tlv_close. */
size_t vnp_tlv_open(struct vnp_buf *b, uint32_t tag);
void vnp_tlv_close(struct vnp_buf *b, size_t mark);

#endif
