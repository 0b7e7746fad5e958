/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Commands that carry the vntoken object templates (APPLET.md), sent the same way by the
 * vntoken and SIM PKI drivers: directory reads, key generation and object writes. */
#include <stdlib.h>
#include <string.h>

#include "iso_cmd.h"
#include "rv.h"
#include "tlv.h"
#include "vntoken_int.h"

#define INS_GENERATE 0x47

int vnp_vnt_generate(struct vnp_card *card, const struct vnp_sw_entry *sw,
		     const struct vnp_keygen *req, size_t resp_cap, struct vnp_obj *ret)
{
	struct vnp_buf b;
	struct vnp_apdu a;
	struct vnp_tlv t;
	uint8_t *buf = NULL;
	size_t mark;
	int rv;

	vnp_buf_init(&b);
	mark = vnp_tlv_open(&b, VNT_TAG_KEY);
	vnp_tlv_put_uint(&b, 0x81, (uint32_t)req->alg, 1);
	vnp_tlv_put(&b, 0x82, req->id, req->id_len);
	vnp_tlv_put(&b, 0x83, req->label, strnlen(req->label, VNP_LABEL_MAX));
	vnp_tlv_put_uint(&b, 0x84,
			 ((req->usage & VNP_USAGE_SIGN) ? 0x01u : 0) |
				 ((req->usage & VNP_USAGE_DECRYPT) ? 0x02u : 0),
			 1);
	vnp_tlv_put_uint(&b, 0x88, (req->key_flags & VNP_KEY_ALWAYS_AUTH) ? 0x01u : 0, 1);
	vnp_tlv_close(&b, mark);
	buf = malloc(resp_cap);
	if (b.failed || !buf) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	vnp_iso_apdu_init(&a, ISO_CLA, INS_GENERATE, 0x00, 0x00);
	a.data = b.p;
	a.lc = b.len;
	a.le = VNP_LE_MAX;
	a.resp = buf;
	a.resp_cap = resp_cap;
	rv = vnp_iso_run_tx(card, &a, sw);
	if (rv == VNP_OK) {
		rv = vnp_tlv_find(buf, a.resp_len, VNT_TAG_KEY, &t);
		if (rv == VNP_E_NOT_FOUND)
			rv = VNP_E_MALFORMED;
	}
	if (rv == VNP_OK) {
		rv = vnp_vntoken_parse_key(t.value, t.len, ret);
		if (rv == VNP_E_NOT_SUPPORTED)
			rv = VNP_E_MALFORMED;
	}
out:
	free(buf);
	vnp_buf_free(&b);
	return rv;
}

int vnp_vnt_write_object(struct vnp_card *card, const struct vnp_sw_entry *sw,
			 const struct vnp_apdu *cmd, const struct vnp_obj *meta,
			 const uint8_t *value, size_t len, uint8_t *ret_ref)
{
	uint8_t resp[16];
	struct vnp_buf b;
	struct vnp_apdu a = *cmd;
	struct vnp_tlv t;
	uint32_t ref = 0;
	int rv;

	if (!meta || (!value && len) || !ret_ref || meta->id_len > VNP_ID_MAX)
		return VNP_E_ARGS;
	if (meta->kind != VNP_OBJ_CERT && meta->kind != VNP_OBJ_DATA)
		return VNP_E_ARGS;
	vnp_buf_init(&b);
	vnp_tlv_put_uint(&b, 0x80, meta->kind == VNP_OBJ_CERT ? VNT_TAG_CERT : VNT_TAG_DATA, 1);
	if (meta->id_len)
		vnp_tlv_put(&b, 0x82, meta->id, meta->id_len);
	vnp_tlv_put(&b, 0x83, meta->label, strnlen(meta->label, VNP_LABEL_MAX));
	if (meta->kind == VNP_OBJ_DATA)
		vnp_tlv_put(&b, 0x89, meta->application,
			    strnlen(meta->application, VNP_LABEL_MAX));
	vnp_tlv_put_uint(&b, 0x8B, meta->private_obj ? 0x01 : 0x00, 1);
	if (meta->kind == VNP_OBJ_CERT && meta->authority)
		vnp_tlv_put_uint(&b, 0x8E, 0x02, 1); /* category: authority (CA certificate) */
	vnp_tlv_put(&b, 0x8C, value, len);
	rv = b.failed ? VNP_E_NOMEM : b.len > 0xFFFF ? VNP_E_RANGE : VNP_OK;
	if (rv == VNP_OK) {
		a.data = b.p;
		a.lc = b.len;
		a.le = 256;
		a.resp = resp;
		a.resp_cap = sizeof(resp);
		rv = vnp_iso_run_tx(card, &a, sw);
	}
	if (rv == VNP_OK) {
		rv = vnp_tlv_find(resp, a.resp_len, 0x80, &t);
		if (rv == VNP_OK)
			rv = t.len == 1 ? vnp_tlv_uint(&t, &ref) : VNP_E_MALFORMED;
		else if (rv == VNP_E_NOT_FOUND)
			rv = VNP_E_MALFORMED;
	}
	if (rv == VNP_OK)
		*ret_ref = (uint8_t)ref;
	vnp_buf_free(&b);
	return rv;
}

int vnp_vnt_read_dir(struct vnp_card *card, const struct vnp_sw_entry *sw,
		     const struct vnp_apdu *cmd, struct vnp_dir **ret)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rv;

	if (!ret)
		return VNP_E_ARGS;
	rv = vnp_iso_read_whole(card, sw, cmd, false, &buf, &len);
	if (rv == VNP_OK)
		rv = vnp_vntoken_parse_dir(buf, len, ret);
	free(buf);
	return rv;
}
