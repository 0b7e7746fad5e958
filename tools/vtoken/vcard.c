/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The card OS: APDU parsing, command chaining, GET RESPONSE, applet dispatch. */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "capdu.h"
#include "compiler.h"
#include "rv.h"
#include "vcard.h"

/* T=1, historical bytes "VNPKI-VT", TCK (APPLET.md). */
static const uint8_t vcard_atr[] = { 0x3B, 0x88, 0x80, 0x01, 0x56, 0x4E, 0x50,
				     0x4B, 0x49, 0x2D, 0x56, 0x54, 0x6C };

size_t vnp_vcard_atr(uint8_t *atr)
{
	memcpy(atr, vcard_atr, sizeof(vcard_atr));
	return sizeof(vcard_atr);
}

static void drop_pending(struct vnp_vcard *card)
{
	if (card->pending) {
		OPENSSL_clear_free(card->pending, card->pending_len);
		card->pending = NULL;
	}
	card->pending_len = card->pending_off = 0;
}

static void drop_chain(struct vnp_vcard *card)
{
	if (card->chain) {
		OPENSSL_cleanse(card->chain, card->chain_len);
		free(card->chain);
		card->chain = NULL;
	}
	card->chain_len = 0;
	card->chaining = false;
}

void vnp_vcard_reset(struct vnp_vcard *card)
{
	if (!card)
		return;
	drop_pending(card);
	drop_chain(card);
	if (card->applet && card->applet->deselect)
		card->applet->deselect(card);
	card->applet = NULL;
}

int vnp_vcard_open(const char *path, struct vnp_vcard **ret)
{
	struct vnp_vcard *card;
	int rv;

	if (!path || !ret)
		return VNP_E_ARGS;
	card = calloc(1, sizeof(*card));
	if (!card)
		return VNP_E_NOMEM;
	rv = vnp_vt_state_load(path, &card->st);
	if (rv != VNP_OK) {
		free(card);
		return rv == VNP_E_NOMEM ? rv : (rv == VNP_E_IO ? VNP_E_IO : VNP_E_MALFORMED);
	}
	*ret = card;
	return VNP_OK;
}

void vnp_vcard_close(struct vnp_vcard *card)
{
	if (!card)
		return;
	vnp_vcard_reset(card);
	vnp_vt_state_free(card->st);
	OPENSSL_cleanse(card, sizeof(*card));
	free(card);
}

/* SELECT by DF name (ISO 7816-4 §11.2.2); P2 0C: no answer data. */
static uint16_t do_select(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			  struct vnp_buf *out)
{
	const struct vnp_vt_applet *const *list;
	size_t i, count;
	uint16_t sw;

	if (c->p1 != 0x04 || (c->p2 != 0x00 && c->p2 != 0x0C))
		return 0x6A86;
	list = vnp_vcard_applets(card, &count);
	for (i = 0; i < count; i++) {
		const struct vnp_vt_applet *a = list[i];
		bool partial = a->aid_min_len && c->lc >= a->aid_min_len && c->lc <= a->aid_len;
		if ((a->aid_len != c->lc && !partial) || memcmp(a->aid, c->data, c->lc) != 0)
			continue;
		if (card->applet && card->applet != a && card->applet->deselect)
			card->applet->deselect(card);
		card->applet = a;
		sw = a->select(card, out);
		if (c->p2 == 0x0C)
			out->len = 0;
		return sw;
	}
	return 0x6A82;
}

static uint16_t do_get_challenge(const struct vnp_vt_cmd *c, struct vnp_buf *out)
{
	uint8_t rnd[256];

	if (c->p1 || c->p2)
		return 0x6A86;
	if (c->lc || !c->has_le || c->ne > sizeof(rnd))
		return 0x6700;
	if (RAND_bytes(rnd, (int)c->ne) != 1)
		return 0x6F00;
	vnp_buf_put(out, rnd, c->ne);
	return 0x9000;
}

static uint16_t dispatch(struct vnp_vcard *card, const struct vnp_vt_cmd *c, struct vnp_buf *out)
{
	if (c->ins == 0xA4)
		return do_select(card, c, out);
	if (c->ins == 0x84)
		return do_get_challenge(c, out);
	if (!card->applet)
		return 0x6D00;
	return card->applet->process(card, c, out);
}

/* Copy up to room bytes of answer to resp; keep the rest for GET RESPONSE. */
static uint16_t deliver(struct vnp_vcard *card, const uint8_t *data, size_t len, size_t room,
			uint16_t sw, uint8_t *resp, size_t *n)
{
	size_t rest;

	if (len <= room) {
		if (len)
			memcpy(resp, data, len);
		*n = len;
		return sw;
	}
	if (sw != 0x9000) { /* warnings and errors carry no chained answer */
		memcpy(resp, data, room);
		*n = room;
		return sw;
	}
	memcpy(resp, data, room);
	*n = room;
	rest = len - room;
	card->pending = OPENSSL_malloc(rest);
	if (!card->pending) {
		*n = 0;
		return 0x6F00;
	}
	memcpy(card->pending, data + room, rest);
	card->pending_len = rest;
	card->pending_off = 0;
	return (uint16_t)(0x6100 | (rest >= 256 ? 0 : rest));
}

static uint16_t get_response(struct vnp_vcard *card, const struct vnp_vt_capdu *a, size_t room,
			     uint8_t *resp, size_t *n)
{
	size_t left, give;

	if (a->p1 || a->p2)
		return 0x6A86;
	if (a->lc)
		return 0x6700;
	if (!card->pending)
		return 0x6985;
	left = card->pending_len - card->pending_off;
	give = VNP_MIN(left, room);
	memcpy(resp, card->pending + card->pending_off, give);
	*n = give;
	card->pending_off += give;
	left -= give;
	if (left == 0) {
		drop_pending(card);
		return 0x9000;
	}
	return (uint16_t)(0x6100 | (left >= 256 ? 0 : left));
}

/* Append a chained part. */
static uint16_t chain_part(struct vnp_vcard *card, const struct vnp_vt_capdu *a)
{
	uint8_t hdr[4] = { (uint8_t)(a->cla & ~0x10), a->ins, a->p1, a->p2 };
	uint8_t *p;

	if (card->chaining && memcmp(hdr, card->chain_hdr, 4) != 0) {
		drop_chain(card);
		return 0x6883;
	}
	if (card->chain_len + a->lc > VNP_VT_CHAIN_MAX) {
		drop_chain(card);
		return 0x6700;
	}
	p = malloc(card->chain_len + a->lc + 1);
	if (!p) {
		drop_chain(card);
		return 0x6F00;
	}
	if (card->chain_len)
		memcpy(p, card->chain, card->chain_len);
	if (a->lc)
		memcpy(p + card->chain_len, a->data, a->lc);
	if (card->chain) {
		OPENSSL_cleanse(card->chain, card->chain_len);
		free(card->chain);
	}
	card->chain = p;
	card->chain_len += a->lc;
	memcpy(card->chain_hdr, hdr, 4);
	card->chaining = true;
	return 0x9000;
}

static uint16_t run(struct vnp_vcard *card, const struct vnp_vt_capdu *a, size_t room,
		    uint8_t *resp, size_t *n)
{
	struct vnp_vt_cmd c = { .cla = a->cla, .ins = a->ins, .p1 = a->p1, .p2 = a->p2,
				.data = a->data, .lc = a->lc, .ne = a->ne,
				.has_le = a->has_le };
	struct vnp_buf out;
	uint16_t sw;

	if (card->chaining) {
		sw = chain_part(card, a); /* same header check, then the last part */
		if (sw != 0x9000)
			return sw;
		c.cla &= (uint8_t)~0x10;
		c.data = card->chain;
		c.lc = card->chain_len;
		card->chaining = false;
	}
	vnp_buf_init(&out);
	sw = dispatch(card, &c, &out);
	if (out.failed) {
		sw = 0x6F00;
		out.len = 0;
	}
	if (vnp_vcard_is_t0(card)) /* Le beyond the caller's room: as if Le were the room */
		sw = vnp_vcard_t0_deliver(card, a->lc > 0, a->has_le, VNP_MIN(a->ne, room), out.p,
					  out.len, sw, resp, n);
	else
		sw = deliver(card, out.p, out.len, VNP_MIN(room, a->has_le ? a->ne : 0), sw, resp,
			     n);
	vnp_buf_free(&out);
	drop_chain(card);
	return sw;
}

int vnp_vcard_transmit(struct vnp_vcard *card, const uint8_t *cmd, size_t cmd_len,
		       uint8_t *resp, size_t *resp_len)
{
	struct vnp_vt_capdu a;
	struct vnp_vt_data *d;
	size_t n = 0, room;
	uint16_t sw;
	bool t0;

	if (!card || !resp || !resp_len || *resp_len < 2 || (!cmd && cmd_len))
		return VNP_E_ARGS;
	room = *resp_len - 2;
	if (vnp_vt_capdu_parse(cmd, cmd_len, &a) != VNP_OK) {
		drop_pending(card);
		drop_chain(card);
		sw = 0x6700;
		goto out;
	}
	if ((a.cla & ~0x10) != 0x00 && (a.cla & ~0x10) != 0x80) {
		drop_pending(card);
		drop_chain(card);
		sw = 0x6E00;
		goto out;
	}
	if (vnp_vt_state_refresh(card->st) != VNP_OK) {
		sw = 0x6F00;
		goto out;
	}
	d = &card->st->d;
	t0 = vnp_vcard_is_t0(card); /* T=0: short APDUs only, whatever the state says */
	room = VNP_MIN(room, d->extended && !t0 ? (size_t)d->max_ne : 256u);
	if ((a.extended && (!d->extended || t0)) ||
	    a.lc > (d->extended && !t0 ? d->max_nc : 255u)) {
		drop_pending(card);
		drop_chain(card);
		sw = 0x6700;
		goto out;
	}
	if (a.ins == 0xC0 && !(a.cla & 0x10) && !card->chaining && t0) {
		/* room <= 256 here: no Le means 256, and no answer goes beyond the room */
		sw = a.p1 || a.p2 ? 0x6A86 : a.lc ? 0x6700 : !card->pending ? 0x6985 :
			vnp_vcard_t0_get_response(card, true,
						  VNP_MIN(a.has_le ? a.ne : 256u, room), resp, &n);
		goto out;
	}
	if (a.ins == 0xC0 && !(a.cla & 0x10) && !card->chaining) {
		sw = get_response(card, &a, VNP_MIN(room, a.has_le ? a.ne : 256u), resp, &n);
		goto out;
	}
	drop_pending(card);
	if (a.cla & 0x10)
		sw = chain_part(card, &a);
	else
		sw = run(card, &a, room, resp, &n);
out:
	resp[n] = (uint8_t)(sw >> 8);
	resp[n + 1] = (uint8_t)sw;
	*resp_len = n + 2;
	return VNP_OK;
}
