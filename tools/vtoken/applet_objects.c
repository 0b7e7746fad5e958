/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vntoken: GET DIRECTORY, READ OBJECT, CREATE OBJECT, DELETE OBJECT. */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "applet_vntoken.h"
#include "keys.h"
#include "rv.h"

static int put_obj(struct vnp_vcard *card, struct vnp_buf *out, uint8_t ref,
		   const struct vnp_vt_obj *o)
{
	uint8_t md[32];
	size_t mdlen = 0;
	size_t mark;

	if (!EVP_Q_digest(card->st->libctx, "SHA256", NULL, o->value, o->value_len, md, &mdlen))
		return VNP_E_CRYPTO;
	mark = vnp_tlv_open(out, o->type);
	vnp_tlv_put_uint(out, 0x80, ref, 1);
	vnp_tlv_put(out, 0x82, o->id, o->id_len);
	vnp_tlv_put(out, 0x83, o->label, o->label_len);
	if (o->type == VNP_VT_OBJ_DATA)
		vnp_tlv_put(out, 0x89, o->app, o->app_len);
	vnp_tlv_put_uint(out, 0x8A, (uint32_t)o->value_len, 2);
	vnp_tlv_put_uint(out, 0x8B, o->priv ? 1 : 0, 1);
	vnp_tlv_put(out, 0x8D, md, sizeof(md));
	if (o->type == VNP_VT_OBJ_CERT && o->category)
		vnp_tlv_put_uint(out, 0x8E, o->category, 1);
	vnp_tlv_close(out, mark);
	return VNP_OK;
}

uint16_t vnp_vt_vnt_directory(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			      struct vnp_buf *out)
{
	const struct vnp_vt_data *d = &card->st->d;
	size_t mark, r;

	if (c->p1 != 0x01 || c->p2 != 0x00)
		return 0x6A86;
	if (c->lc)
		return 0x6700;
	mark = vnp_tlv_open(out, 0x71);
	vnp_tlv_put_uint(out, 0x87, d->counter, 4);
	for (r = VNP_VT_KEY_REF_MIN; r <= VNP_VT_KEY_REF_MAX; r++)
		if (d->keys[r] && vnp_vt_vnt_put_key(out, (uint8_t)r, d->keys[r]) != VNP_OK)
			return 0x6F00;
	for (r = VNP_VT_CERT_REF_MIN; r <= VNP_VT_DATA_REF_MAX; r++)
		if (d->objs[r] && put_obj(card, out, (uint8_t)r, d->objs[r]) != VNP_OK)
			return 0x6F00;
	vnp_tlv_close(out, mark);
	return 0x9000;
}

uint16_t vnp_vt_vnt_read(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			 struct vnp_buf *out)
{
	const struct vnp_vt_data *d = &card->st->d;
	const struct vnp_vt_obj *o;

	if (c->p2 != 0x00)
		return 0x6A86;
	if (c->lc)
		return 0x6700;
	if (c->p1 >= VNP_VT_KEY_REF_MIN && c->p1 <= VNP_VT_KEY_REF_MAX && d->keys[c->p1])
		return vnp_vt_key_put_public(d->keys[c->p1]->pkey, d->keys[c->p1]->alg, out) ==
				       VNP_OK
			       ? 0x9000
			       : 0x6F00;
	if (c->p1 < VNP_VT_CERT_REF_MIN || c->p1 > VNP_VT_DATA_REF_MAX || !d->objs[c->p1])
		return 0x6A82;
	o = d->objs[c->p1];
	if (o->priv && !card->vnt.pin_verified)
		return 0x6982;
	vnp_buf_put(out, o->value, o->value_len);
	return 0x9000;
}

/* Parse a CREATE OBJECT template into o (value borrowed from the command). */
static uint16_t parse_template(const struct vnp_vt_cmd *c, struct vnp_vt_obj *o,
			       const uint8_t **ret_value)
{
	const uint8_t *p = c->data, *end = c->data + c->lc;
	struct vnp_tlv t;
	bool have_value = false;
	int rv;

	while ((rv = vnp_tlv_next(&p, end, &t)) == VNP_OK) {
		switch (t.tag) {
		case 0x80:
			if (t.len != 1 || (t.value[0] != VNP_VT_OBJ_CERT &&
					   t.value[0] != VNP_VT_OBJ_DATA))
				return 0x6A80;
			o->type = t.value[0];
			break;
		case 0x82:
			if (t.len > sizeof(o->id))
				return 0x6A80;
			memcpy(o->id, t.value, t.len);
			o->id_len = t.len;
			break;
		case 0x83:
			if (t.len > sizeof(o->label))
				return 0x6A80;
			memcpy(o->label, t.value, t.len);
			o->label_len = t.len;
			break;
		case 0x89:
			if (t.len > sizeof(o->app))
				return 0x6A80;
			memcpy(o->app, t.value, t.len);
			o->app_len = t.len;
			break;
		case 0x8B:
			if (t.len != 1 || t.value[0] > 1)
				return 0x6A80;
			o->priv = t.value[0];
			break;
		case 0x8E: /* CKA_CERTIFICATE_CATEGORY, certificates only */
			if (t.len != 1 || t.value[0] > 3)
				return 0x6A80;
			o->category = t.value[0];
			break;
		case 0x8C:
			if (t.len > VNP_VT_VALUE_MAX)
				return 0x6A80;
			*ret_value = t.value;
			o->value_len = t.len;
			have_value = true;
			break;
		default:
			return 0x6A80;
		}
	}
	if (rv != VNP_E_NOT_FOUND || !o->type || !have_value)
		return 0x6A80;
	if (o->type == VNP_VT_OBJ_CERT && o->value_len == 0)
		return 0x6A80;
	if (o->type != VNP_VT_OBJ_CERT && o->category)
		return 0x6A80;
	return 0;
}

uint16_t vnp_vt_vnt_create(struct vnp_vcard *card, const struct vnp_vt_cmd *c,
			   struct vnp_buf *out)
{
	struct vnp_vt_obj *o;
	const uint8_t *value = NULL;
	struct vnp_vt_data *d;
	unsigned r, lo, hi;
	uint16_t sw;

	if (c->p1 || c->p2)
		return 0x6A86;
	if (c->lc == 0)
		return 0x6700;
	if (!card->vnt.pin_verified)
		return 0x6982;
	o = OPENSSL_zalloc(sizeof(*o));
	if (!o)
		return 0x6F00;
	sw = parse_template(c, o, &value);
	if (sw)
		goto out;
	o->value = OPENSSL_malloc(o->value_len ? o->value_len : 1);
	if (!o->value) {
		sw = 0x6F00;
		goto out;
	}
	if (o->value_len)
		memcpy(o->value, value, o->value_len);
	lo = o->type == VNP_VT_OBJ_CERT ? VNP_VT_CERT_REF_MIN : VNP_VT_DATA_REF_MIN;
	hi = o->type == VNP_VT_OBJ_CERT ? VNP_VT_CERT_REF_MAX : VNP_VT_DATA_REF_MAX;
	sw = vnp_vt_vnt_lock(card);
	if (sw)
		goto out;
	d = &card->st->d;
	for (r = lo; r <= hi && d->objs[r]; r++)
		;
	if (r > hi) {
		sw = 0x6A84;
		goto unlock;
	}
	d->objs[r] = o;
	d->counter++;
	sw = vnp_vt_vnt_save(card); /* on failure the reload freed o */
	o = NULL;
	if (sw == 0) {
		vnp_tlv_put_uint(out, 0x80, r, 1);
		sw = 0x9000;
	}
unlock:
	vnp_vt_state_unlock(card->st);
out:
	vnp_vt_obj_free(o);
	return sw;
}

uint16_t vnp_vt_vnt_delete(struct vnp_vcard *card, const struct vnp_vt_cmd *c)
{
	struct vnp_vt_data *d;
	uint8_t ref = c->p1;
	uint16_t sw;

	if (c->p2)
		return 0x6A86;
	if (c->lc)
		return 0x6700;
	if (!card->vnt.pin_verified)
		return 0x6982;
	if (ref < VNP_VT_KEY_REF_MIN || ref > VNP_VT_DATA_REF_MAX)
		return 0x6A82;
	sw = vnp_vt_vnt_lock(card);
	if (sw)
		return sw;
	d = &card->st->d;
	if (ref <= VNP_VT_KEY_REF_MAX && d->keys[ref]) {
		vnp_vt_key_free(d->keys[ref]);
		d->keys[ref] = NULL;
	} else if (ref >= VNP_VT_CERT_REF_MIN && d->objs[ref]) {
		vnp_vt_obj_free(d->objs[ref]);
		d->objs[ref] = NULL;
	} else {
		sw = 0x6A82;
		goto out;
	}
	d->counter++;
	sw = vnp_vt_vnt_save(card);
	if (sw == 0)
		sw = 0x9000;
out:
	vnp_vt_state_unlock(card->st);
	return sw;
}
