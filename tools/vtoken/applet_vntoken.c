/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vntoken applet: SELECT answer, command dispatch, shared helpers. */
#include <string.h>

#include "applet_vntoken.h"
#include "compiler.h"
#include "keys.h"
#include "rv.h"

static const uint8_t vnt_aid[] = { 0xF0, 0x56, 0x4E, 0x50, 0x4B, 0x49, 0x54, 0x4B };
static const uint8_t vnt_algs[] = { VNP_VT_ALG_RSA2048, VNP_VT_ALG_RSA3072, VNP_VT_ALG_P256,
				    VNP_VT_ALG_P384 };

uint16_t vnp_vt_vnt_lock(struct vnp_vcard *card)
{
	int rv = vnp_vt_state_lock(card->st);

	if (rv != VNP_OK) {
		vnp_vt_state_unlock(card->st);
		return 0x6581;
	}
	return 0;
}

uint16_t vnp_vt_vnt_save(struct vnp_vcard *card)
{
	return vnp_vt_state_save_locked(card->st) == VNP_OK ? 0 : 0x6581;
}

int vnp_vt_vnt_put_key(struct vnp_buf *out, uint8_t ref, const struct vnp_vt_key *k)
{
	size_t mark = vnp_tlv_open(out, 0xA0);
	int rv;

	vnp_tlv_put_uint(out, 0x80, ref, 1);
	vnp_tlv_put_uint(out, 0x81, k->alg, 1);
	vnp_tlv_put(out, 0x82, k->id, k->id_len);
	vnp_tlv_put(out, 0x83, k->label, k->label_len);
	vnp_tlv_put_uint(out, 0x84, k->usage, 1);
	vnp_tlv_put_uint(out, 0x88, k->flags, 1);
	rv = vnp_vt_key_put_public(k->pkey, k->alg, out);
	vnp_tlv_close(out, mark);
	return rv;
}

static uint16_t vnt_select(struct vnp_vcard *card, struct vnp_buf *out)
{
	const struct vnp_vt_data *d = &card->st->d;
	bool ext = d->extended && !vnp_vcard_is_t0(card); /* T=0: short APDUs only */
	size_t nc = ext ? d->max_nc : VNP_MIN(d->max_nc, 255u);
	size_t ne = ext ? d->max_ne : VNP_MIN(d->max_ne, 256u);
	uint8_t flags = 0x22; /* command chaining, SIGN / SIGN BATCH (80 2B) */
	uint8_t policy[3] = { d->pin_min, d->pin_max, d->pin_max_tries };
	uint8_t tries[2] = { d->pin_tries, d->unblock_tries };
	size_t mark;

	card->vnt.mse_set = false; /* re-SELECT keeps the PIN state, drops the MSE */
	if (ext)
		flags |= 0x01;
	if (d->pin_initial)
		flags |= 0x04;
	if (d->terminated)
		flags |= 0x08;
	if (d->has_challenge)
		flags |= 0x10;
	mark = vnp_tlv_open(out, 0x6F);
	vnp_tlv_put_uint(out, 0x80, 0x0100, 2);
	vnp_tlv_put(out, 0x81, d->serial, sizeof(d->serial));
	vnp_tlv_put_uint(out, 0x82, (uint32_t)nc, 2);
	vnp_tlv_put_uint(out, 0x83, (uint32_t)ne, 2);
	vnp_tlv_put_uint(out, 0x84, flags, 1);
	vnp_tlv_put(out, 0x85, vnt_algs, sizeof(vnt_algs));
	vnp_tlv_put(out, 0x86, d->label, d->label_len);
	vnp_tlv_put_uint(out, 0x87, d->counter, 4);
	vnp_tlv_put(out, 0x88, policy, sizeof(policy));
	vnp_tlv_put(out, 0x89, tries, sizeof(tries));
	vnp_tlv_put_uint(out, 0x8A, d->device, 1);
	vnp_tlv_put_uint(out, 0x8B, d->unblock_max, 1);
	vnp_tlv_close(out, mark);
	return 0x9000; /* also when terminated: flag bit 3 says so */
}

static void vnt_deselect(struct vnp_vcard *card)
{
	memset(&card->vnt, 0, sizeof(card->vnt));
}

/* What a terminated applet still answers (APPLET.md "Recovery"): GET DIRECTORY, READ
 * OBJECT of public objects and the VERIFY status forms (SELECT and GET RESPONSE never
 * reach the applet's process). */
static bool allowed_when_terminated(const struct vnp_vcard *card, const struct vnp_vt_cmd *c)
{
	const struct vnp_vt_obj *o;

	switch (c->ins) {
	case 0xCA:
		return true;
	case 0xB0:
		if (c->p1 < VNP_VT_CERT_REF_MIN || c->p1 > VNP_VT_DATA_REF_MAX)
			return true; /* key pairs: the public key */
		o = card->st->d.objs[c->p1];
		return !o || !o->priv;
	case 0x20:
		return c->p1 == 0x00 && c->lc == 0;
	default:
		return false;
	}
}

static uint16_t vnt_process(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			    struct vnp_buf *out)
{
	if (card->st->d.terminated && !allowed_when_terminated(card, c))
		return 0x6283;
	switch (c->ins) {
	case 0xCA: return vnp_vt_vnt_directory(card, c, out);
	case 0xB0: return vnp_vt_vnt_read(card, c, out);
	case 0x20: return vnp_vt_vnt_verify(card, c);
	case 0x24: return vnp_vt_vnt_change(card, c);
	case 0x47: return vnp_vt_vnt_generate(card, c, out);
	case 0x22: return vnp_vt_vnt_mse(card, c);
	case 0x2A: return vnp_vt_vnt_pso(card, c, out);
	case 0x2B: return vnp_vt_vnt_sign(card, c, out);
	case 0xE0: return vnp_vt_vnt_create(card, c, out);
	case 0xE4: return vnp_vt_vnt_delete(card, c);
	case 0x50: return vnp_vt_vnt_unblock_challenge(card, c, out);
	case 0x2C: return vnp_vt_vnt_reset_retry(card, c);
	default: return 0x6D00;
	}
}

const struct vnp_vt_applet vnp_vt_applet_vntoken = {
	.name = "vntoken",
	.aid = vnt_aid,
	.aid_len = sizeof(vnt_aid),
	.select = vnt_select,
	.process = vnt_process,
	.deselect = vnt_deselect,
};
