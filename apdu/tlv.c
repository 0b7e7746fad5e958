/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* BER-TLV parsing and building (ISO/IEC 7816-4 §5.2, X.690 §8.1). */
#include <stdlib.h>
#include <string.h>

#include "rv.h"
#include "secret.h"
#include "tlv.h"

#define TLV_TAG_MAX_BYTES 3

/* Tag field: X.690 §8.1.2. Low 5 bits all set → subsequent bytes, b8 = "more follows". */
static int parse_tag(const uint8_t **p, const uint8_t *end, uint32_t *ret_tag, bool *ret_cons)
{
	const uint8_t *q = *p;
	uint32_t tag;
	unsigned n = 1;

	if (q >= end)
		return VNP_E_MALFORMED;
	tag = *q;
	*ret_cons = (*q & 0x20) != 0;
	if ((*q & 0x1F) == 0x1F) {
		do {
			q++;
			n++;
			if (q >= end || n > TLV_TAG_MAX_BYTES)
				return VNP_E_MALFORMED;
			tag = (tag << 8) | *q;
		} while (*q & 0x80);
	}
	*p = q + 1;
	*ret_tag = tag;
	return VNP_OK;
}

/* Length field: X.690 §8.1.3; 80 (indefinite) and 84.. are refused. */
static int parse_len(const uint8_t **p, const uint8_t *end, size_t *ret_len)
{
	const uint8_t *q = *p;
	size_t len, n, i;

	if (q >= end)
		return VNP_E_MALFORMED;
	if (*q < 0x80) {
		*ret_len = *q;
		*p = q + 1;
		return VNP_OK;
	}
	n = *q & 0x7F;
	if (n == 0 || n > 3)
		return VNP_E_MALFORMED;
	q++;
	if ((size_t)(end - q) < n)
		return VNP_E_MALFORMED;
	len = 0;
	for (i = 0; i < n; i++)
		len = (len << 8) | q[i];
	*p = q + n;
	*ret_len = len;
	return VNP_OK;
}

int vnp_tlv_next(const uint8_t **p, const uint8_t *end, struct vnp_tlv *ret)
{
	const uint8_t *q;
	struct vnp_tlv t;
	int rv;

	if (!p || !*p || !end || !ret || *p > end)
		return VNP_E_ARGS;
	q = *p;
	while (q < end && (*q == 0x00 || *q == 0xFF))
		q++;
	if (q == end) {
		*p = q;
		return VNP_E_NOT_FOUND;
	}
	rv = parse_tag(&q, end, &t.tag, &t.constructed);
	if (rv)
		return rv;
	rv = parse_len(&q, end, &t.len);
	if (rv)
		return rv;
	if (t.len > (size_t)(end - q))
		return VNP_E_MALFORMED;
	t.value = q;
	*p = q + t.len;
	*ret = t;
	return VNP_OK;
}

int vnp_tlv_find(const uint8_t *buf, size_t len, uint32_t tag, struct vnp_tlv *ret)
{
	const uint8_t *p = buf, *end;
	struct vnp_tlv t;
	int rv;

	if (!buf && len)
		return VNP_E_ARGS;
	if (!buf)
		return VNP_E_NOT_FOUND;
	end = buf + len;
	for (;;) {
		rv = vnp_tlv_next(&p, end, &t);
		if (rv)
			return rv;
		if (t.tag == tag) {
			if (ret)
				*ret = t;
			return VNP_OK;
		}
	}
}

int vnp_tlv_uint(const struct vnp_tlv *t, uint32_t *ret)
{
	uint32_t v = 0;
	size_t i;

	if (!t || !ret)
		return VNP_E_ARGS;
	if (t->constructed || t->len < 1 || t->len > 4 || !t->value)
		return VNP_E_MALFORMED;
	for (i = 0; i < t->len; i++)
		v = (v << 8) | t->value[i];
	*ret = v;
	return VNP_OK;
}

void vnp_buf_init(struct vnp_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void vnp_buf_free(struct vnp_buf *b)
{
	if (!b)
		return;
	if (b->p) {
		vnp_wipe(b->p, b->cap);
		free(b->p);
	}
	vnp_buf_init(b);
}

/* Make room for n more bytes. Never realloc: the old block is wiped before it is freed. */
static bool reserve(struct vnp_buf *b, size_t n)
{
	size_t cap;
	uint8_t *np;

	if (b->failed)
		return false;
	if (n <= b->cap - b->len)
		return true;
	if (n > SIZE_MAX / 2 - b->len) {
		b->failed = true;
		return false;
	}
	cap = b->cap ? b->cap : 64;
	while (cap - b->len < n)
		cap *= 2;
	np = malloc(cap);
	if (!np) {
		b->failed = true;
		return false;
	}
	if (b->p) {
		memcpy(np, b->p, b->len);
		vnp_wipe(b->p, b->cap);
		free(b->p);
	}
	b->p = np;
	b->cap = cap;
	return true;
}

void vnp_buf_put(struct vnp_buf *b, const void *data, size_t len)
{
	if (!b || len == 0 || !reserve(b, len))
		return;
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

void vnp_buf_u8(struct vnp_buf *b, uint8_t v)
{
	vnp_buf_put(b, &v, 1);
}

static void put_tag(struct vnp_buf *b, uint32_t tag)
{
	if (tag > 0xFFFF)
		vnp_buf_u8(b, (uint8_t)(tag >> 16));
	if (tag > 0xFF)
		vnp_buf_u8(b, (uint8_t)(tag >> 8));
	vnp_buf_u8(b, (uint8_t)tag);
}

/* Encoded size of a BER length field for len. */
static size_t len_size(size_t len)
{
	if (len < 0x80)
		return 1;
	if (len <= 0xFF)
		return 2;
	if (len <= 0xFFFF)
		return 3;
	return 4;
}

static void encode_len(uint8_t *out, size_t len)
{
	switch (len_size(len)) {
	case 1:
		out[0] = (uint8_t)len;
		break;
	case 2:
		out[0] = 0x81;
		out[1] = (uint8_t)len;
		break;
	case 3:
		out[0] = 0x82;
		out[1] = (uint8_t)(len >> 8);
		out[2] = (uint8_t)len;
		break;
	default:
		out[0] = 0x83;
		out[1] = (uint8_t)(len >> 16);
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		break;
	}
}

void vnp_tlv_put(struct vnp_buf *b, uint32_t tag, const void *value, size_t len)
{
	uint8_t l[4];

	if (!b || b->failed)
		return;
	if (len > 0xFFFFFF) {
		b->failed = true;
		return;
	}
	put_tag(b, tag);
	encode_len(l, len);
	vnp_buf_put(b, l, len_size(len));
	vnp_buf_put(b, value, len);
}

void vnp_tlv_put_uint(struct vnp_buf *b, uint32_t tag, uint32_t v, unsigned nbytes)
{
	uint8_t be[4];
	unsigned i;

	if (!b || b->failed)
		return;
	if (nbytes < 1 || nbytes > 4) {
		b->failed = true;
		return;
	}
	for (i = 0; i < nbytes; i++)
		be[i] = (uint8_t)(v >> (8 * (nbytes - 1 - i)));
	vnp_tlv_put(b, tag, be, nbytes);
}

/* The mark is the offset of a one-byte length placeholder; close widens it when needed. */
size_t vnp_tlv_open(struct vnp_buf *b, uint32_t tag)
{
	size_t mark;

	if (!b || b->failed)
		return 0;
	put_tag(b, tag);
	mark = b->len;
	vnp_buf_u8(b, 0);
	return mark;
}

void vnp_tlv_close(struct vnp_buf *b, size_t mark)
{
	size_t content, extra;

	if (!b || b->failed)
		return;
	if (mark >= b->len) {
		b->failed = true;
		return;
	}
	content = b->len - mark - 1;
	if (content > 0xFFFFFF) {
		b->failed = true;
		return;
	}
	extra = len_size(content) - 1;
	if (extra) {
		if (!reserve(b, extra))
			return;
		memmove(b->p + mark + 1 + extra, b->p + mark + 1, content);
		b->len += extra;
	}
	encode_len(b->p + mark, content);
}
