/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vntoken applet templates (tools/vtoken/APPLET.md): capability template 6F, directory 71,
 * key A0, certificate A2, data object A1. Every field length is checked against its table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "rv.h"
#include "tlv.h"
#include "vntoken_int.h"

/* Copy a UTF-8 string field into a NUL-terminated buffer of cap bytes. */
static int copy_str(const struct vnp_tlv *t, char *out, size_t cap)
{
	if (t->constructed || t->len >= cap || memchr(t->value, 0, t->len))
		return VNP_E_MALFORMED;
	memcpy(out, t->value, t->len);
	out[t->len] = '\0';
	return VNP_OK;
}

static int copy_bytes(const struct vnp_tlv *t, uint8_t *out, size_t cap, size_t *ret_len)
{
	if (t->constructed || t->len > cap)
		return VNP_E_MALFORMED;
	memcpy(out, t->value, t->len);
	*ret_len = t->len;
	return VNP_OK;
}

/* Big-endian value of a primitive field of exactly n bytes. */
static int fixed_uint(const struct vnp_tlv *t, size_t n, uint32_t *ret)
{
	if (t->len != n)
		return VNP_E_MALFORMED;
	return vnp_tlv_uint(t, ret);
}

/* Duplicate-field guard: a field may appear once per template (a second copy would silently
 * override the first). Tags 80..9E use bits 0..30, 7F49 bit 31. False on a repeat. */
static bool first_time(uint32_t *seen, uint32_t tag)
{
	uint32_t bit;

	if (tag >= 0x80 && tag <= 0x9E)
		bit = 1u << (tag - 0x80);
	else if (tag == VNT_TAG_PUBKEY)
		bit = 1u << 31;
	else
		return true; /* not a tracked field */
	if (*seen & bit)
		return false;
	*seen |= bit;
	return true;
}

/* The public key must have the size of its algorithm: RSA modulus of exactly 256 / 384
 * bytes once leading zero bytes are dropped (they are), EC uncompressed point 04||X||Y of
 * 65 (P-256) or 97 (P-384) bytes. */
static int check_pub_size(struct vnp_pubkey *pub)
{
	size_t want, skip = 0;

	if (VNP_ALG_IS_RSA(pub->alg)) {
		want = pub->alg == VNP_ALG_RSA2048 ? 256 : 384;
		while (skip < pub->modulus_len && pub->modulus[skip] == 0)
			skip++;
		if (pub->modulus_len - skip != want || !pub->exponent_len)
			return VNP_E_MALFORMED;
		memmove(pub->modulus, pub->modulus + skip, want);
		pub->modulus_len = want;
		return VNP_OK;
	}
	want = pub->alg == VNP_ALG_EC_P256 ? 65 : 97;
	if (pub->ec_point_len != want || pub->ec_point[0] != 0x04)
		return VNP_E_MALFORMED;
	return VNP_OK;
}

static int alg_known(uint32_t a)
{
	switch (a) {
	case VNP_ALG_RSA2048:
	case VNP_ALG_RSA3072:
	case VNP_ALG_EC_P256:
	case VNP_ALG_EC_P384:
		return 1;
	default:
		return 0;
	}
}

int vnp_vntoken_parse_caps(const uint8_t *buf, size_t len, struct vnp_token_info *ret)
{
	struct vnp_token_info info;
	struct vnp_tlv fci, t;
	const uint8_t *p, *end;
	uint32_t v;
	size_t i;
	uint32_t seen = 0;
	bool have_version = false;
	int rv;

	rv = vnp_tlv_find(buf, len, VNT_TAG_FCI, &fci);
	if (rv == VNP_E_NOT_FOUND)
		rv = VNP_E_MALFORMED;
	if (rv)
		return rv;

	memset(&info, 0, sizeof(info));
	info.type = VNP_DEVICE_PKI_TOKEN;
	info.user_pin.tries_left = -1;
	info.so_pin.tries_left = -1;
	snprintf(info.manufacturer, sizeof(info.manufacturer), "vnpki");
	snprintf(info.model, sizeof(info.model), "vntoken");

	p = fci.value;
	end = fci.value + fci.len;
	while ((rv = vnp_tlv_next(&p, end, &t)) == VNP_OK) {
		if (!first_time(&seen, t.tag))
			return VNP_E_MALFORMED;
		switch (t.tag) {
		case 0x80:
			if (t.len != 2)
				return VNP_E_MALFORMED;
			info.version_major = t.value[0];
			info.version_minor = t.value[1];
			have_version = true;
			break;
		case 0x81:
			rv = copy_bytes(&t, info.serial, sizeof(info.serial), &info.serial_len);
			break;
		case 0x82:
			rv = fixed_uint(&t, 2, &v);
			info.max_cmd_data = v;
			break;
		case 0x83:
			rv = fixed_uint(&t, 2, &v);
			info.max_resp_data = v;
			break;
		case 0x84:
			rv = fixed_uint(&t, 1, &v);
			info.extended = (v & 0x01) != 0;
			info.user_pin.initial = (v & 0x04) != 0;
			info.terminated = (v & 0x08) != 0;
			info.challenge_pending = (v & 0x10) != 0;
			info.sign_self = (v & 0x20) != 0;
			break;
		case 0x85:
			for (i = 0; i < t.len; i++)
				info.algs |= vnp_alg_bit((enum vnp_key_alg)(alg_known(t.value[i]) ?
									     t.value[i] : 0));
			break;
		case 0x86:
			rv = copy_str(&t, info.label, sizeof(info.label));
			break;
		case 0x87:
			rv = fixed_uint(&t, 4, &v);
			info.counter = v;
			break;
		case 0x88:
			if (t.len != 3)
				return VNP_E_MALFORMED;
			info.pin_min = t.value[0];
			info.pin_max = t.value[1];
			info.user_pin.max_tries = t.value[2];
			break;
		case 0x89:
			if (t.len != 2)
				return VNP_E_MALFORMED;
			info.user_pin.tries_left = t.value[0];
			info.so_pin.tries_left = t.value[1];
			break;
		case 0x8B:
			rv = fixed_uint(&t, 1, &v);
			info.so_pin.max_tries = v;
			break;
		case 0x8A:
			rv = fixed_uint(&t, 1, &v);
			if (v == 0x02)
				info.type = VNP_DEVICE_SIM_PKI;
			break;
		default:
			break; /* later applet versions may add fields */
		}
		if (rv)
			return rv;
	}
	if (rv != VNP_E_NOT_FOUND)
		return rv;
	if (!have_version)
		return VNP_E_MALFORMED;
	if (info.terminated)
		info.so_pin.tries_left = 0;
	*ret = info;
	return VNP_OK;
}

static int parse_pubkey(const struct vnp_tlv *pk, struct vnp_pubkey *pub)
{
	const uint8_t *p = pk->value, *end = pk->value + pk->len;
	struct vnp_tlv t;
	uint32_t seen = 0;
	int rv;

	if (!pk->constructed)
		return VNP_E_MALFORMED;
	while ((rv = vnp_tlv_next(&p, end, &t)) == VNP_OK) {
		if (!first_time(&seen, t.tag))
			return VNP_E_MALFORMED;
		switch (t.tag) {
		case 0x81:
			rv = copy_bytes(&t, pub->modulus, sizeof(pub->modulus), &pub->modulus_len);
			break;
		case 0x82:
			rv = copy_bytes(&t, pub->exponent, sizeof(pub->exponent),
					&pub->exponent_len);
			break;
		case 0x86:
			rv = copy_bytes(&t, pub->ec_point, sizeof(pub->ec_point),
					&pub->ec_point_len);
			break;
		default:
			break;
		}
		if (rv)
			return rv;
	}
	return rv == VNP_E_NOT_FOUND ? VNP_OK : rv;
}

int vnp_vntoken_parse_key(const uint8_t *val, size_t len, struct vnp_obj *ret)
{
	const uint8_t *p = val, *end = val + len;
	struct vnp_obj o;
	struct vnp_tlv t;
	uint32_t v;
	uint32_t seen = 0;
	bool have_ref = false, have_alg = false;
	int rv;

	memset(&o, 0, sizeof(o));
	o.kind = VNP_OBJ_KEY;
	while ((rv = vnp_tlv_next(&p, end, &t)) == VNP_OK) {
		if (!first_time(&seen, t.tag))
			return VNP_E_MALFORMED;
		switch (t.tag) {
		case 0x80:
			rv = fixed_uint(&t, 1, &v);
			o.ref = (uint8_t)v;
			have_ref = true;
			break;
		case 0x81:
			rv = fixed_uint(&t, 1, &v);
			o.pub.alg = (enum vnp_key_alg)v;
			have_alg = true;
			break;
		case 0x82:
			rv = copy_bytes(&t, o.id, sizeof(o.id), &o.id_len);
			break;
		case 0x83:
			rv = copy_str(&t, o.label, sizeof(o.label));
			break;
		case 0x84:
			rv = fixed_uint(&t, 1, &v);
			o.usage = ((v & 0x01) ? VNP_USAGE_SIGN : 0) |
				  ((v & 0x02) ? VNP_USAGE_DECRYPT : 0);
			break;
		case 0x88:
			rv = fixed_uint(&t, 1, &v);
			o.key_flags = ((v & 0x01) ? VNP_KEY_ALWAYS_AUTH : 0) |
				      ((v & 0x02) ? VNP_KEY_LOCAL : 0);
			break;
		case VNT_TAG_PUBKEY:
			rv = parse_pubkey(&t, &o.pub);
			break;
		default:
			break;
		}
		if (rv)
			return rv;
	}
	if (rv != VNP_E_NOT_FOUND)
		return rv;
	if (!have_ref || !have_alg)
		return VNP_E_MALFORMED;
	if (!alg_known(o.pub.alg))
		return VNP_E_NOT_SUPPORTED;
	if (check_pub_size(&o.pub))
		return VNP_E_MALFORMED;
	*ret = o;
	return VNP_OK;
}

int vnp_vntoken_parse_object(enum vnp_obj_kind kind, const uint8_t *val, size_t len,
			     struct vnp_obj *ret)
{
	const uint8_t *p = val, *end = val + len;
	struct vnp_obj o;
	struct vnp_tlv t;
	uint32_t v;
	uint32_t seen = 0;
	bool have_ref = false;
	int rv;

	memset(&o, 0, sizeof(o));
	o.kind = kind;
	while ((rv = vnp_tlv_next(&p, end, &t)) == VNP_OK) {
		if (!first_time(&seen, t.tag))
			return VNP_E_MALFORMED;
		switch (t.tag) {
		case 0x80:
			rv = fixed_uint(&t, 1, &v);
			o.ref = (uint8_t)v;
			have_ref = true;
			break;
		case 0x82:
			rv = copy_bytes(&t, o.id, sizeof(o.id), &o.id_len);
			break;
		case 0x83:
			rv = copy_str(&t, o.label, sizeof(o.label));
			break;
		case 0x89:
			rv = copy_str(&t, o.application, sizeof(o.application));
			break;
		case 0x8A:
			rv = vnp_tlv_uint(&t, &v);
			o.length = v;
			break;
		case 0x8B:
			rv = fixed_uint(&t, 1, &v);
			o.private_obj = v == 0x01;
			break;
		case 0x8D:
			if (t.len != sizeof(o.hash))
				return VNP_E_MALFORMED;
			memcpy(o.hash, t.value, sizeof(o.hash));
			o.has_hash = true;
			break;
		case 0x8E:
			/* certificate category: 02 authority, 00 or absent otherwise */
			rv = fixed_uint(&t, 1, &v);
			o.authority = kind == VNP_OBJ_CERT && v == 0x02;
			break;
		default:
			break;
		}
		if (rv)
			return rv;
	}
	if (rv != VNP_E_NOT_FOUND)
		return rv;
	if (!have_ref)
		return VNP_E_MALFORMED;
	*ret = o;
	return VNP_OK;
}

static bool is_entry(uint32_t tag)
{
	return tag == VNT_TAG_KEY || tag == VNT_TAG_CERT || tag == VNT_TAG_DATA;
}

int vnp_vntoken_parse_dir(const uint8_t *buf, size_t len, struct vnp_dir **ret)
{
	struct vnp_dir *dir = NULL;
	struct vnp_tlv tmpl, t;
	const uint8_t *p, *end;
	size_t n = 0;
	uint32_t v;
	bool have_counter = false;
	int rv;

	rv = vnp_tlv_find(buf, len, VNT_TAG_DIR, &tmpl);
	if (rv == VNP_E_NOT_FOUND)
		rv = VNP_E_MALFORMED;
	if (rv)
		goto out;
	end = tmpl.value + tmpl.len;

	/* First pass: check the framing and count the entries. */
	p = tmpl.value;
	while ((rv = vnp_tlv_next(&p, end, &t)) == VNP_OK)
		if (is_entry(t.tag))
			n++;
	if (rv != VNP_E_NOT_FOUND)
		goto out;

	rv = VNP_E_NOMEM;
	dir = calloc(1, sizeof(*dir));
	if (!dir)
		goto out;
	if (n) {
		dir->objs = calloc(n, sizeof(*dir->objs));
		if (!dir->objs)
			goto out;
	}

	p = tmpl.value;
	while ((rv = vnp_tlv_next(&p, end, &t)) == VNP_OK) {
		struct vnp_obj *o = is_entry(t.tag) ? &dir->objs[dir->count] : NULL;

		switch (t.tag) {
		case 0x87:
			if (have_counter) {
				rv = VNP_E_MALFORMED; /* two counters: which one is right? */
				break;
			}
			rv = fixed_uint(&t, 4, &v);
			dir->counter = v;
			have_counter = true;
			break;
		case VNT_TAG_KEY:
			rv = vnp_vntoken_parse_key(t.value, t.len, o);
			if (rv == VNP_OK)
				dir->count++;
			else if (rv == VNP_E_NOT_SUPPORTED)
				rv = VNP_OK; /* a key type this driver cannot use: not shown */
			break;
		case VNT_TAG_CERT:
		case VNT_TAG_DATA:
			rv = vnp_vntoken_parse_object(t.tag == VNT_TAG_CERT ? VNP_OBJ_CERT :
								      VNP_OBJ_DATA,
						      t.value, t.len, o);
			if (rv == VNP_OK)
				dir->count++;
			break;
		default:
			break;
		}
		if (rv)
			goto out;
	}
	if (rv != VNP_E_NOT_FOUND)
		goto out;
	rv = have_counter ? VNP_OK : VNP_E_MALFORMED;
out:
	if (rv == VNP_OK)
		*ret = dir;
	else
		vnp_dir_free(dir);
	return rv;
}
