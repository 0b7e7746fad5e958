/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Objects: the token's directory shown as PKCS #11 objects, their attributes, and the
 * read-only object functions (C_GetAttributeValue, C_FindObjects*, C_GetObjectSize,
 * C_SetAttributeValue, C_CopyObject).
 *
 * A key pair of the directory shows as a CKO_PRIVATE_KEY and a CKO_PUBLIC_KEY object;
 * certificates and data objects show as one each. Certificate and data values are read
 * from the card when first needed and then kept. Objects are not modifiable and not
 * copyable: C_SetAttributeValue and C_CopyObject return CKR_ACTION_PROHIBITED. */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "p11.h"
#include "cache.h"
#include "mech.h"
#include "log.h"
#include "rv.h"

/* ---- object list ---- */

static void obj_clear(struct vnp_p11_obj *o)
{
	free(o->value);
	if (o->x509) {
		vnp_x509_clear(o->x509);
		free(o->x509);
	}
	free(o->spki);
	o->value = NULL;
	o->x509 = NULL;
	o->spki = NULL;
}

void vnp_objects_free(struct vnp_p11_obj *objs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		obj_clear(&objs[i]);
	free(objs);
}

static bool same_value(const struct vnp_obj *a, const struct vnp_obj *b)
{
	if (a->kind != b->kind || a->length != b->length || a->has_hash != b->has_hash)
		return false;
	return !a->has_hash || !memcmp(a->hash, b->hash, sizeof(a->hash));
}

/* The old object still describes the same card object (a reference can be reused after a
 * delete). */
static bool same_identity(const struct vnp_obj *a, const struct vnp_obj *b)
{
	if (a->kind != b->kind || a->id_len != b->id_len || memcmp(a->id, b->id, a->id_len))
		return false;
	if (a->kind != VNP_OBJ_KEY)
		return true;
	return a->pub.alg == b->pub.alg && a->pub.modulus_len == b->pub.modulus_len &&
	       !memcmp(a->pub.modulus, b->pub.modulus, a->pub.modulus_len) &&
	       a->pub.ec_point_len == b->pub.ec_point_len &&
	       !memcmp(a->pub.ec_point, b->pub.ec_point, a->pub.ec_point_len);
}

/* Fill n from entry e as class cls, taking over the handle (and cached value, when it is
 * still the same) of the old object with the same class and reference. */
static void obj_from_entry(struct vnp_token *tok, struct vnp_p11_obj *n, const struct vnp_obj *e,
			   CK_OBJECT_CLASS cls)
{
	struct vnp_p11_obj *old = vnp_object_by_ref(tok, cls, e->ref);

	memset(n, 0, sizeof(*n));
	n->cls = cls;
	n->meta = *e;
	if (old && same_identity(&old->meta, e)) {
		n->handle = old->handle;
		if (old->value_loaded && same_value(&old->meta, e)) {
			n->value_loaded = true;
			n->value = old->value;
			n->value_len = old->value_len;
			n->x509 = old->x509;
			old->value = NULL;
			old->x509 = NULL;
			old->value_loaded = false;
		}
	} else {
		n->handle = vnp_lib.next_object++;
	}
}

/* Rebuild tok->objs from dir. */
CK_RV vnp_objects_build(struct vnp_token *tok, const struct vnp_dir *dir)
{
	struct vnp_p11_obj *objs;
	size_t n = 0;

	objs = calloc(2 * dir->count + 1, sizeof(*objs));
	if (!objs)
		return CKR_HOST_MEMORY;
	for (size_t i = 0; i < dir->count; i++) {
		const struct vnp_obj *e = &dir->objs[i];

		switch (e->kind) {
		case VNP_OBJ_KEY:
			obj_from_entry(tok, &objs[n++], e, CKO_PRIVATE_KEY);
			obj_from_entry(tok, &objs[n++], e, CKO_PUBLIC_KEY);
			break;
		case VNP_OBJ_CERT:
			obj_from_entry(tok, &objs[n++], e, CKO_CERTIFICATE);
			break;
		case VNP_OBJ_DATA:
			obj_from_entry(tok, &objs[n++], e, CKO_DATA);
			break;
		}
	}
	vnp_objects_free(tok->objs, tok->n_objs);
	tok->objs = objs;
	tok->n_objs = n;
	return CKR_OK;
}

static bool obj_private(const struct vnp_p11_obj *o)
{
	return o->cls == CKO_PRIVATE_KEY || (o->cls == CKO_DATA && o->meta.private_obj);
}

static bool obj_visible(const struct vnp_token *tok, const struct vnp_p11_obj *o)
{
	return tok->user_logged_in || !obj_private(o);
}

struct vnp_p11_obj *vnp_object_get(struct vnp_token *tok, CK_OBJECT_HANDLE h)
{
	for (size_t i = 0; i < tok->n_objs; i++)
		if (tok->objs[i].handle == h)
			return obj_visible(tok, &tok->objs[i]) ? &tok->objs[i] : NULL;
	return NULL;
}

struct vnp_p11_obj *vnp_object_by_ref(struct vnp_token *tok, CK_OBJECT_CLASS cls, uint8_t ref)
{
	for (size_t i = 0; i < tok->n_objs; i++)
		if (tok->objs[i].cls == cls && tok->objs[i].meta.ref == ref)
			return &tok->objs[i];
	return NULL;
}

/* Read a certificate or data value from the card (once). */
static CK_RV obj_load_locked(struct vnp_token *tok, struct vnp_p11_obj *o)
{
	uint8_t *val = NULL;
	size_t len = 0;
	int vrv;

	if (o->value_loaded)
		return CKR_OK;
	if (!tok->card.drv->read_object)
		return CKR_FUNCTION_NOT_SUPPORTED;
	vnp_token_io_begin(tok);
	vrv = vnp_token_io_end(tok, tok->card.drv->read_object(&tok->card, &o->meta, &val, &len));
	if (vrv != VNP_OK)
		return vnp_ck_rv(vrv);
	vnp_object_set_value(tok, o, val, len);
	if (o->cls == CKO_CERTIFICATE)
		vnp_cache_store(tok);
	return CKR_OK;
}

void vnp_object_set_value(struct vnp_token *tok, struct vnp_p11_obj *o, uint8_t *val, size_t len)
{
	o->value = val;
	o->value_len = len;
	o->value_loaded = true;
	if (o->cls == CKO_CERTIFICATE) {
		o->x509 = calloc(1, sizeof(*o->x509));
		if (o->x509 && vnp_x509_parse(val, len, o->x509) != CKR_OK) {
			vnp_warn("%s: certificate 0x%02X does not parse", tok->card.io.who,
				 o->meta.ref);
			free(o->x509);
			o->x509 = NULL;
		}
	}
}

/* ---- attributes ---- */

struct aval {
	const void *p;
	size_t len;
	union {
		CK_BBOOL b;
		CK_ULONG ul;
		CK_DATE d;
		uint8_t buf[VNP_EC_POINT_MAX + 8];
	} u;
};

static CK_RV av_bool(struct aval *v, bool b)
{
	v->u.b = b ? CK_TRUE : CK_FALSE;
	v->p = &v->u.b;
	v->len = sizeof(CK_BBOOL);
	return CKR_OK;
}

static CK_RV av_ulong(struct aval *v, CK_ULONG ul)
{
	v->u.ul = ul;
	v->p = &v->u.ul;
	v->len = sizeof(CK_ULONG);
	return CKR_OK;
}

static CK_RV av_bytes(struct aval *v, const void *p, size_t len)
{
	v->p = len ? p : "";
	v->len = len;
	return CKR_OK;
}

static CK_RV attr_common(const struct vnp_p11_obj *o, CK_ATTRIBUTE_TYPE type, struct aval *v)
{
	switch (type) {
	case CKA_CLASS: return av_ulong(v, o->cls);
	case CKA_TOKEN: return av_bool(v, true);
	case CKA_PRIVATE: return av_bool(v, obj_private(o));
	case CKA_MODIFIABLE: return av_bool(v, false);
	case CKA_COPYABLE: return av_bool(v, false);
	case CKA_DESTROYABLE:
		return av_bool(v, o->cls != CKO_PUBLIC_KEY && !(o->cls == CKO_PRIVATE_KEY &&
								(o->meta.key_flags & VNP_KEY_FIXED)));
	case CKA_LABEL: return av_bytes(v, o->meta.label, strlen(o->meta.label));
	default: return CKR_ATTRIBUTE_TYPE_INVALID;
	}
}

static CK_RV obj_spki(struct vnp_p11_obj *o, const struct vnp_pubkey *pub, struct aval *v)
{
	CK_RV rv;

	if (!o->spki) {
		rv = vnp_pubkey_spki(pub, &o->spki, &o->spki_len);
		if (rv != CKR_OK)
			return rv;
	}
	return av_bytes(v, o->spki, o->spki_len);
}

static CK_RV attr_key(struct vnp_p11_obj *o, CK_ATTRIBUTE_TYPE type, struct aval *v)
{
	const struct vnp_obj *m = &o->meta;
	const struct vnp_pubkey *pub = &m->pub;
	bool rsa = VNP_ALG_IS_RSA(pub->alg), pv = o->cls == CKO_PRIVATE_KEY;
	bool local = m->key_flags & VNP_KEY_LOCAL;
	const uint8_t *der;
	size_t len;

	switch (type) {
	case CKA_KEY_TYPE: return av_ulong(v, rsa ? CKK_RSA : CKK_EC);
	case CKA_ID: return av_bytes(v, m->id, m->id_len);
	case CKA_START_DATE:
	case CKA_END_DATE:
	case CKA_SUBJECT: return av_bytes(v, NULL, 0);
	case CKA_DERIVE: return av_bool(v, false);
	case CKA_LOCAL: return av_bool(v, local);
	case CKA_KEY_GEN_MECHANISM:
		if (!local)
			return av_ulong(v, CK_UNAVAILABLE_INFORMATION);
		return av_ulong(v, rsa ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN);
	case CKA_PUBLIC_KEY_INFO: return obj_spki(o, pub, v);
	default: break;
	}
	if (rsa) {
		switch (type) {
		case CKA_MODULUS: return av_bytes(v, pub->modulus, pub->modulus_len);
		case CKA_PUBLIC_EXPONENT: return av_bytes(v, pub->exponent, pub->exponent_len);
		case CKA_MODULUS_BITS: return av_ulong(v, vnp_pubkey_bits(pub));
		case CKA_PRIVATE_EXPONENT:
		case CKA_PRIME_1:
		case CKA_PRIME_2:
		case CKA_EXPONENT_1:
		case CKA_EXPONENT_2:
		case CKA_COEFFICIENT:
			return pv ? CKR_ATTRIBUTE_SENSITIVE : CKR_ATTRIBUTE_TYPE_INVALID;
		default: break;
		}
	} else {
		switch (type) {
		case CKA_EC_PARAMS:
			der = vnp_ec_params_der(pub->alg, &len);
			return der ? av_bytes(v, der, len) : CKR_ATTRIBUTE_TYPE_INVALID;
		case CKA_EC_POINT:
			if (pv)
				return CKR_ATTRIBUTE_TYPE_INVALID;
			len = sizeof(v->u.buf);
			if (vnp_ec_point_der(pub, v->u.buf, &len) != CKR_OK)
				return CKR_GENERAL_ERROR;
			return av_bytes(v, v->u.buf, len);
		case CKA_VALUE:
			return pv ? CKR_ATTRIBUTE_SENSITIVE : CKR_ATTRIBUTE_TYPE_INVALID;
		default: break;
		}
	}
	if (pv) {
		switch (type) {
		case CKA_SENSITIVE: return av_bool(v, true);
		case CKA_DECRYPT: return av_bool(v, m->usage & VNP_USAGE_DECRYPT);
		case CKA_SIGN: return av_bool(v, m->usage & VNP_USAGE_SIGN);
		case CKA_SIGN_RECOVER:
		case CKA_UNWRAP:
		case CKA_EXTRACTABLE:
		case CKA_WRAP_WITH_TRUSTED: return av_bool(v, false);
		case CKA_ALWAYS_SENSITIVE:
		case CKA_NEVER_EXTRACTABLE: return av_bool(v, local);
		case CKA_ALWAYS_AUTHENTICATE: return av_bool(v, m->key_flags & VNP_KEY_ALWAYS_AUTH);
		default: return CKR_ATTRIBUTE_TYPE_INVALID;
		}
	}
	switch (type) {
	case CKA_ENCRYPT:
	case CKA_VERIFY_RECOVER:
	case CKA_WRAP:
	case CKA_TRUSTED: return av_bool(v, false);
	case CKA_VERIFY: return av_bool(v, m->usage & VNP_USAGE_SIGN);
	default: return CKR_ATTRIBUTE_TYPE_INVALID;
	}
}

static bool has_key_with_id(const struct vnp_token *tok, const struct vnp_obj *m)
{
	for (size_t i = 0; i < tok->n_objs; i++) {
		const struct vnp_obj *k = &tok->objs[i].meta;

		if (tok->objs[i].cls == CKO_PRIVATE_KEY && k->id_len == m->id_len &&
		    !memcmp(k->id, m->id, m->id_len))
			return true;
	}
	return false;
}

static CK_RV attr_cert(struct vnp_token *tok, struct vnp_p11_obj *o, CK_ATTRIBUTE_TYPE type,
		       struct aval *v)
{
	const struct vnp_x509 *x;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	CK_RV rv;

	switch (type) {
	case CKA_CERTIFICATE_TYPE: return av_ulong(v, CKC_X_509);
	case CKA_TRUSTED: return av_bool(v, false);
	case CKA_CERTIFICATE_CATEGORY:
		/* 2 authority (stored on the card), 1 token user (a key with the same CKA_ID),
		 * 0 unspecified */
		return av_ulong(v, o->meta.authority ? 2 : has_key_with_id(tok, &o->meta) ? 1 : 0);
	case CKA_ID: return av_bytes(v, o->meta.id, o->meta.id_len);
	case CKA_URL:
	case CKA_HASH_OF_SUBJECT_PUBLIC_KEY:
	case CKA_HASH_OF_ISSUER_PUBLIC_KEY: return av_bytes(v, NULL, 0);
	case CKA_JAVA_MIDP_SECURITY_DOMAIN: return av_ulong(v, 0);
	case CKA_VALUE:
	case CKA_CHECK_VALUE:
	case CKA_SUBJECT:
	case CKA_ISSUER:
	case CKA_SERIAL_NUMBER:
	case CKA_START_DATE:
	case CKA_END_DATE:
	case CKA_PUBLIC_KEY_INFO: break;
	default: return CKR_ATTRIBUTE_TYPE_INVALID;
	}
	rv = obj_load_locked(tok, o);
	if (rv != CKR_OK)
		return rv;
	x = o->x509;
	switch (type) {
	case CKA_VALUE: return av_bytes(v, o->value, o->value_len);
	case CKA_CHECK_VALUE:
		/* First three bytes of the SHA-1 of the value (PKCS #11 2.40 §4.6.3). */
		if (!EVP_Digest(o->value, o->value_len, md, &mdlen, EVP_sha1(), NULL))
			return CKR_GENERAL_ERROR;
		memcpy(v->u.buf, md, 3);
		return av_bytes(v, v->u.buf, 3);
	case CKA_SUBJECT: return x ? av_bytes(v, x->subject, x->subject_len) : av_bytes(v, NULL, 0);
	case CKA_ISSUER: return x ? av_bytes(v, x->issuer, x->issuer_len) : av_bytes(v, NULL, 0);
	case CKA_SERIAL_NUMBER:
		return x ? av_bytes(v, x->serial, x->serial_len) : av_bytes(v, NULL, 0);
	case CKA_START_DATE:
		if (!x)
			return av_bytes(v, NULL, 0);
		v->u.d = x->start_date;
		return av_bytes(v, &v->u.d, sizeof(CK_DATE));
	case CKA_END_DATE:
		if (!x)
			return av_bytes(v, NULL, 0);
		v->u.d = x->end_date;
		return av_bytes(v, &v->u.d, sizeof(CK_DATE));
	case CKA_PUBLIC_KEY_INFO:
		if (!x || x->pub.alg == VNP_ALG_NONE)
			return av_bytes(v, NULL, 0);
		return obj_spki(o, &x->pub, v);
	default: return CKR_ATTRIBUTE_TYPE_INVALID;
	}
}

static CK_RV attr_data(struct vnp_token *tok, struct vnp_p11_obj *o, CK_ATTRIBUTE_TYPE type,
		       struct aval *v)
{
	CK_RV rv;

	switch (type) {
	case CKA_APPLICATION:
		return av_bytes(v, o->meta.application, strlen(o->meta.application));
	case CKA_OBJECT_ID: return av_bytes(v, NULL, 0);
	case CKA_VALUE:
		rv = obj_load_locked(tok, o);
		if (rv != CKR_OK)
			return rv;
		return av_bytes(v, o->value, o->value_len);
	default: return CKR_ATTRIBUTE_TYPE_INVALID;
	}
}

/* The value of attribute type of o. CKR_OK, CKR_ATTRIBUTE_TYPE_INVALID,
 * CKR_ATTRIBUTE_SENSITIVE, or the error of reading the value from the card. */
static CK_RV attr_get_locked(struct vnp_token *tok, struct vnp_p11_obj *o,
			     CK_ATTRIBUTE_TYPE type, struct aval *v)
{
	CK_RV rv = attr_common(o, type, v);

	if (rv != CKR_ATTRIBUTE_TYPE_INVALID)
		return rv;
	switch (o->cls) {
	case CKO_PRIVATE_KEY:
	case CKO_PUBLIC_KEY: return attr_key(o, type, v);
	case CKO_CERTIFICATE: return attr_cert(tok, o, type, v);
	case CKO_DATA: return attr_data(tok, o, type, v);
	default: return CKR_ATTRIBUTE_TYPE_INVALID;
	}
}

static bool is_soft_error(CK_RV rv)
{
	return rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE;
}

/* ---- entry points ---- */

/* Look up session and object for the object functions. */
static CK_RV session_object(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
			    struct vnp_session **ret_s, struct vnp_slot **ret_slot,
			    struct vnp_token **ret_tok, struct vnp_p11_obj **ret_o)
{
	CK_RV rv = vnp_session_get_locked(hSession, ret_s, ret_slot, ret_tok);

	if (rv != CKR_OK)
		return rv;
	*ret_o = vnp_object_get(*ret_tok, hObject);
	return *ret_o ? CKR_OK : CKR_OBJECT_HANDLE_INVALID;
}

static CK_RV get_attributes_locked(struct vnp_token *tok, struct vnp_p11_obj *o,
				   CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
	CK_RV rv = CKR_OK, r;
	struct aval v;

	for (CK_ULONG i = 0; i < n; i++) {
		memset(&v, 0, sizeof(v));
		r = attr_get_locked(tok, o, t[i].type, &v);
		if (is_soft_error(r)) {
			t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
		} else if (r != CKR_OK) {
			return r; /* the card failed: nothing sensible to report per attribute */
		} else {
			r = vnp_attr_out(&t[i], v.p, v.len);
		}
		if (rv == CKR_OK)
			rv = r;
	}
	return rv;
}

CK_RV vnp_C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
			      CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	struct vnp_session *s;
	struct vnp_slot *slot = NULL;
	struct vnp_token *tok;
	struct vnp_p11_obj *o;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = session_object(hSession, hObject, &s, &slot, &tok, &o);
	if (rv == CKR_OK && (!pTemplate || !ulCount))
		rv = CKR_ARGUMENTS_BAD;
	if (rv == CKR_OK)
		rv = get_attributes_locked(tok, o, pTemplate, ulCount);
	if (vnp_slot_reap_locked(slot))
		rv = CKR_DEVICE_REMOVED;
	vnp_leave(rv);
out:
	vnp_trace("C_GetAttributeValue", rv, "hSession=%lu, hObject=%lu, ulCount=%lu",
		  (unsigned long)hSession, (unsigned long)hObject, (unsigned long)ulCount);
	return rv;
}

/* Exact match of every template attribute. Errors reading a value from the card are
 * returned; an attribute the object lacks (or hides) means no match. */
static CK_RV match_locked(struct vnp_token *tok, struct vnp_p11_obj *o, const CK_ATTRIBUTE *t,
			  CK_ULONG n, bool *ret)
{
	struct aval v;
	CK_RV rv;

	*ret = false;
	for (CK_ULONG i = 0; i < n; i++) {
		memset(&v, 0, sizeof(v));
		rv = attr_get_locked(tok, o, t[i].type, &v);
		if (is_soft_error(rv))
			return CKR_OK;
		if (rv != CKR_OK)
			return rv;
		if (v.len != t[i].ulValueLen || (v.len && memcmp(v.p, t[i].pValue, v.len)))
			return CKR_OK;
	}
	*ret = true;
	return CKR_OK;
}

static CK_RV find_init_locked(struct vnp_session *s, struct vnp_token *tok,
			      const CK_ATTRIBUTE *t, CK_ULONG n)
{
	CK_OBJECT_HANDLE *found;
	size_t nf = 0;
	bool m;
	CK_RV rv;

	found = calloc(tok->n_objs + 1, sizeof(*found));
	if (!found)
		return CKR_HOST_MEMORY;
	for (size_t i = 0; i < tok->n_objs; i++) {
		struct vnp_p11_obj *o = &tok->objs[i];

		if (!obj_visible(tok, o))
			continue;
		rv = match_locked(tok, o, t, n, &m);
		if (rv != CKR_OK) {
			free(found);
			return rv;
		}
		if (m)
			found[nf++] = o->handle;
	}
	s->found = found;
	s->n_found = nf;
	s->found_pos = 0;
	s->find_active = true;
	return CKR_OK;
}

CK_RV vnp_C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate,
			    CK_ULONG ulCount)
{
	struct vnp_session *s;
	struct vnp_slot *slot = NULL;
	struct vnp_token *tok;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	/* An enumeration starts here: a removed card closes the session instead of showing the
	 * objects we still remember (reader status only, no APDU). */
	vnp_slots_refresh_locked();
	rv = vnp_session_get_locked(hSession, &s, &slot, &tok);
	if (rv == CKR_OK)
		rv = vnp_template_check(pTemplate, ulCount);
	if (rv == CKR_OK && s->find_active)
		rv = CKR_OPERATION_ACTIVE;
	if (rv == CKR_OK)
		rv = find_init_locked(s, tok, pTemplate, ulCount);
	if (vnp_slot_reap_locked(slot))
		rv = CKR_DEVICE_REMOVED;
	vnp_leave(rv);
out:
	vnp_trace("C_FindObjectsInit", rv, "hSession=%lu, ulCount=%lu", (unsigned long)hSession,
		  (unsigned long)ulCount);
	return rv;
}

CK_RV vnp_C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject,
			CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount)
{
	struct vnp_session *s;
	struct vnp_token *tok;
	CK_ULONG n = 0;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = vnp_session_get_locked(hSession, &s, NULL, &tok);
	if (rv == CKR_OK && (!phObject || !pulObjectCount))
		rv = CKR_ARGUMENTS_BAD;
	if (rv == CKR_OK && !s->find_active)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	if (rv == CKR_OK) {
		while (n < ulMaxObjectCount && s->found_pos < s->n_found) {
			CK_OBJECT_HANDLE h = s->found[s->found_pos++];

			if (vnp_object_get(tok, h)) /* destroyed since FindObjectsInit? */
				phObject[n++] = h;
		}
		*pulObjectCount = n;
	}
	vnp_leave(rv);
out:
	vnp_trace("C_FindObjects", rv, "hSession=%lu, max=%lu, found=%lu",
		  (unsigned long)hSession, (unsigned long)ulMaxObjectCount, (unsigned long)n);
	return rv;
}

CK_RV vnp_C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
	struct vnp_session *s;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = vnp_session_get_locked(hSession, &s, NULL, NULL);
	if (rv == CKR_OK && !s->find_active)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	if (rv == CKR_OK) {
		free(s->found);
		s->found = NULL;
		s->n_found = s->found_pos = 0;
		s->find_active = false;
	}
	vnp_leave(rv);
out:
	vnp_trace("C_FindObjectsFinal", rv, "hSession=%lu", (unsigned long)hSession);
	return rv;
}

/* Size of the value for certificates and data objects; CK_UNAVAILABLE_INFORMATION for
 * keys. */
CK_RV vnp_C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
			  CK_ULONG_PTR pulSize)
{
	struct vnp_session *s;
	struct vnp_slot *slot;
	struct vnp_token *tok;
	struct vnp_p11_obj *o;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = session_object(hSession, hObject, &s, &slot, &tok, &o);
	if (rv == CKR_OK && !pulSize)
		rv = CKR_ARGUMENTS_BAD;
	if (rv == CKR_OK)
		*pulSize = o->cls == CKO_CERTIFICATE || o->cls == CKO_DATA
				   ? (CK_ULONG)o->meta.length
				   : CK_UNAVAILABLE_INFORMATION;
	vnp_leave(rv);
out:
	vnp_trace("C_GetObjectSize", rv, "hSession=%lu, hObject=%lu", (unsigned long)hSession,
		  (unsigned long)hObject);
	return rv;
}

/* Objects are not modifiable (CKA_MODIFIABLE false). */
CK_RV vnp_C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
			      CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	struct vnp_session *s;
	struct vnp_slot *slot;
	struct vnp_token *tok;
	struct vnp_p11_obj *o;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = session_object(hSession, hObject, &s, &slot, &tok, &o);
	if (rv == CKR_OK && (!pTemplate || !ulCount))
		rv = CKR_ARGUMENTS_BAD;
	if (rv == CKR_OK)
		rv = CKR_ACTION_PROHIBITED;
	vnp_leave(rv);
out:
	vnp_trace("C_SetAttributeValue", rv, "hSession=%lu, hObject=%lu", (unsigned long)hSession,
		  (unsigned long)hObject);
	return rv;
}

/* Objects are not copyable (CKA_COPYABLE false). */
CK_RV vnp_C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
		       CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
		       CK_OBJECT_HANDLE_PTR phNewObject)
{
	struct vnp_session *s;
	struct vnp_slot *slot;
	struct vnp_token *tok;
	struct vnp_p11_obj *o;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = session_object(hSession, hObject, &s, &slot, &tok, &o);
	if (rv == CKR_OK && (!phNewObject || (!pTemplate && ulCount)))
		rv = CKR_ARGUMENTS_BAD;
	if (rv == CKR_OK)
		rv = CKR_ACTION_PROHIBITED;
	vnp_leave(rv);
out:
	vnp_trace("C_CopyObject", rv, "hSession=%lu, hObject=%lu", (unsigned long)hSession,
		  (unsigned long)hObject);
	return rv;
}
