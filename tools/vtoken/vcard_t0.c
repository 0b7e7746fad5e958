/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* T=0 answers of the virtual card (ISO/IEC 7816-3 §10.3.4: case 4 is sent as case 3 and
 * its answer fetched with GET RESPONSE; case 2 with a wrong Le gets 6Cxx; ISO/IEC 7816-4
 * §5.3.4: 61xx). Short APDUs only: vcard.c refuses extended lengths beforehand. */
#include <string.h>
#include <openssl/crypto.h>

#include "compiler.h"
#include "vcard.h"

#define SHORT_NE_MAX 256u

static void drop(struct vnp_vcard *card)
{
	if (card->pending)
		OPENSSL_clear_free(card->pending, card->pending_len);
	card->pending = NULL;
	card->pending_len = card->pending_off = 0;
}

/* Keep data[off..len) for GET RESPONSE; 61xx (00: 256 or more) or 6F00. */
static uint16_t keep(struct vnp_vcard *card, const uint8_t *data, size_t len, size_t off)
{
	size_t rest = len - off;

	drop(card);
	card->pending = OPENSSL_malloc(rest);
	if (!card->pending)
		return 0x6F00;
	memcpy(card->pending, data + off, rest);
	card->pending_len = rest;
	return (uint16_t)(0x6100 | (rest >= SHORT_NE_MAX ? 0 : rest));
}

uint16_t vnp_vcard_t0_deliver(struct vnp_vcard *card, bool has_data, bool has_le, size_t ne,
			      const uint8_t *data, size_t len, uint16_t sw, uint8_t *resp,
			      size_t *n)
{
	*n = 0;
	if (sw != 0x9000 || len == 0)
		return sw; /* a T=0 card sends no data with a warning or an error */
	if (has_data || !has_le)
		return keep(card, data, len, 0); /* case 3/4: the data waits for GET RESPONSE */
	/* case 2 */
	if (len == ne || len > SHORT_NE_MAX) {
		size_t give = VNP_MIN(len, ne);

		memcpy(resp, data, give);
		*n = give;
		return give == len ? 0x9000 : keep(card, data, len, give);
	}
	return (uint16_t)(0x6C00 | (len & 0xFF)); /* wrong Le: Na (00 = 256); answer dropped */
}

uint16_t vnp_vcard_t0_get_response(struct vnp_vcard *card, bool has_le, size_t ne,
				   uint8_t *resp, size_t *n)
{
	size_t left = card->pending_len - card->pending_off;
	size_t want = has_le ? ne : SHORT_NE_MAX;

	*n = 0;
	if (want > left && left < SHORT_NE_MAX)
		return (uint16_t)(0x6C00 | left); /* the pending bytes stay */
	want = VNP_MIN(want, left);
	memcpy(resp, card->pending + card->pending_off, want);
	*n = want;
	card->pending_off += want;
	left -= want;
	if (left == 0) {
		drop(card);
		return 0x9000;
	}
	return (uint16_t)(0x6100 | (left >= SHORT_NE_MAX ? 0 : left));
}
