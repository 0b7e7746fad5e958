/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SIM PKI applet (SIMPKI.md): interindustry commands over the token state the vntoken
 * applet uses. SELECT answers an FCI; objects are GET DATA / PUT DATA data objects in the
 * proprietary range 0100-01FF; the PUK is the SO path. Key, object, PIN and signature
 * work is done by the vntoken applet's handlers (applet_*.c), with the commands
 * translated to their form. */
#include <string.h>
#include <openssl/crypto.h>

#include "applet_simpki.h"
#include "applet_vntoken.h"
#include "compiler.h"
#include "rv.h"

static const uint8_t sim_aid[] = { 0xF0, 0x56, 0x4E, 0x50, 0x4B, 0x49, 0x53, 0x49, 0x4D };
static const uint8_t sim_algs[] = { VNP_VT_ALG_RSA2048, VNP_VT_ALG_P256 };

static uint16_t sim_select(struct vnp_vcard *card, struct vnp_buf *out)
{
	const struct vnp_vt_data *d = &card->st->d;
	uint8_t flags = 0x02; /* command chaining; never extended length */
	uint8_t policy[3] = { d->pin_min, d->pin_max, d->pin_max_tries };
	uint8_t tries[2] = { d->pin_tries, d->unblock_tries };
	uint8_t puk_policy[2] = { SIM_PUK_LEN, SIM_PUK_LEN };
	size_t fci, prop;

	card->vnt.mse_set = false;
	if (d->pin_initial)
		flags |= 0x04;
	fci = vnp_tlv_open(out, 0x6F);
	vnp_tlv_put(out, 0x84, sim_aid, sizeof(sim_aid));
	prop = vnp_tlv_open(out, 0xA5);
	vnp_tlv_put_uint(out, 0x80, 0x0100, 2);
	vnp_tlv_put(out, 0x81, d->serial, sizeof(d->serial));
	vnp_tlv_put_uint(out, 0x82, 255, 2);
	vnp_tlv_put_uint(out, 0x83, 256, 2);
	vnp_tlv_put_uint(out, 0x84, flags, 1);
	vnp_tlv_put(out, 0x85, sim_algs, sizeof(sim_algs));
	vnp_tlv_put(out, 0x86, d->label, d->label_len);
	vnp_tlv_put_uint(out, 0x87, d->counter, 4);
	vnp_tlv_put(out, 0x88, policy, sizeof(policy));
	vnp_tlv_put(out, 0x89, tries, sizeof(tries));
	vnp_tlv_put_uint(out, 0x8A, 0x02, 1); /* device type: SIM PKI */
	vnp_tlv_put_uint(out, 0x8B, d->unblock_max, 1);
	vnp_tlv_put(out, 0x8C, puk_policy, sizeof(puk_policy));
	vnp_tlv_close(out, prop);
	vnp_tlv_close(out, fci);
	return 0x9000;
}

static void sim_deselect(struct vnp_vcard *card)
{
	memset(&card->vnt, 0, sizeof(card->vnt));
}

/* The PIN's length in a FF-padded block. */
static size_t unpadded(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] != 0xFF)
		i++;
	return i;
}

/* CHANGE REFERENCE DATA 00 24 00 81: old PIN || new PIN, each FF-padded to 16 bytes. */
static uint16_t sim_change(struct vnp_vcard *card, const struct vnp_vt_cmd *c)
{
	uint8_t data[1 + 2 * SIM_PIN_BLOCK];
	struct vnp_vt_cmd v = *c;
	size_t ol, nl;
	uint16_t sw;

	if (c->p1 != 0x00)
		return 0x6A86;
	if (c->p2 != 0x81)
		return 0x6A88;
	if (c->lc != 2 * SIM_PIN_BLOCK)
		return 0x6700;
	ol = unpadded(c->data, SIM_PIN_BLOCK);
	nl = unpadded(c->data + SIM_PIN_BLOCK, SIM_PIN_BLOCK);
	data[0] = (uint8_t)ol;
	memcpy(data + 1, c->data, ol);
	memcpy(data + 1 + ol, c->data + SIM_PIN_BLOCK, nl);
	v.data = data;
	v.lc = 1 + ol + nl;
	sw = vnp_vt_vnt_change(card, &v);
	OPENSSL_cleanse(data, sizeof(data));
	return sw;
}

/* GET DATA 00 CA 01 00: directory; 00 CA 01 ref: an object's value (a key: its public key). */
static uint16_t sim_get_data(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			     struct vnp_buf *out)
{
	struct vnp_vt_cmd v = *c;

	if (c->p1 != 0x01)
		return 0x6A88; /* no such data object */
	if (c->p2 == 0x00)
		return vnp_vt_vnt_directory(card, c, out);
	v.p1 = c->p2;
	v.p2 = 0x00;
	return vnp_vt_vnt_read(card, &v, out);
}

/* PUT DATA 00 DA 01 00 + object template: create (answer 80 01 ref); 00 DA 01 ref with no
 * data: delete. */
static uint16_t sim_put_data(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			     struct vnp_buf *out)
{
	struct vnp_vt_cmd v = *c;

	if (c->p1 != 0x01)
		return 0x6A88;
	if (c->p2 == 0x00) {
		v.p1 = 0x00;
		return vnp_vt_vnt_create(card, &v, out);
	}
	if (c->lc)
		return 0x6700;
	v.p1 = c->p2;
	v.p2 = 0x00;
	return vnp_vt_vnt_delete(card, &v);
}

/* GENERATE: RSA-2048 and P-256 only. */
static uint16_t sim_generate(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			     struct vnp_buf *out)
{
	struct vnp_tlv tmpl, alg;

	if (c->lc && vnp_tlv_find(c->data, c->lc, 0xA0, &tmpl) == VNP_OK &&
	    vnp_tlv_find(tmpl.value, tmpl.len, 0x81, &alg) == VNP_OK && alg.len == 1 &&
	    !memchr(sim_algs, alg.value[0], sizeof(sim_algs)))
		return 0x6A80;
	return vnp_vt_vnt_generate(card, c, out);
}

static uint16_t sim_verify(struct vnp_vcard *card, const struct vnp_vt_cmd *c)
{
	if (c->p2 == 0x82)
		return c->p1 == 0x00 && c->lc == 0 ? vnp_vt_sim_puk_status(card) : 0x6A88;
	return vnp_vt_vnt_verify(card, c);
}

static uint16_t sim_process(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			    struct vnp_buf *out)
{
	if (c->cla & 0x80)
		return 0x6E00; /* interindustry class only */
	/* A blocked PUK (unblock_tries 0; state.c also calls that "terminated") blocks RESET
	 * RETRY COUNTER for good and nothing else: the PIN keeps working. */
	switch (c->ins) {
	case 0xCA: return sim_get_data(card, c, out);
	case 0xDA: return sim_put_data(card, c, out);
	case 0x20: return sim_verify(card, c);
	case 0x24: return sim_change(card, c);
	case 0x2C: return vnp_vt_sim_reset_retry(card, c);
	case 0x47: return sim_generate(card, c, out);
	case 0x22: return vnp_vt_vnt_mse(card, c);
	case 0x2A: return vnp_vt_vnt_pso(card, c, out);
	default: return 0x6D00;
	}
}

const struct vnp_vt_applet vnp_vt_applet_simpki = {
	.name = "simpki",
	.aid = sim_aid,
	.aid_len = sizeof(sim_aid),
	.select = sim_select,
	.process = sim_process,
	.deselect = sim_deselect,
};
