/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing objects: C_CreateObject (X.509 certificates and data objects) and
 * C_DestroyObject. Both need a read/write session and the user logged in (the card asks
 * for the user PIN). Only token objects exist: CKA_TOKEN absent is taken as true (the
 * token holds nothing else), CKA_TOKEN false gives CKR_TEMPLATE_INCONSISTENT.
 *
 * Destroying a private key deletes the key pair (the card stores pairs); destroying the
 * public key alone is refused with CKR_ACTION_PROHIBITED (CKA_DESTROYABLE false). */
#include <stdlib.h>
#include <string.h>

#include "p11.h"
#include "mech.h"
#include "log.h"
#include "rv.h"

/* CKA_LABEL / CKA_APPLICATION into a NUL-terminated buffer of VNP_LABEL_MAX + 1. */
static CK_RV template_string(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type,
			     char out[VNP_LABEL_MAX + 1])
{
	const CK_ATTRIBUTE *a = vnp_attr_find(t, n, type);

	out[0] = 0;
	if (!a)
		return CKR_OK;
	if (a->ulValueLen > VNP_LABEL_MAX || memchr(a->pValue, 0, a->ulValueLen))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	memcpy(out, a->pValue, a->ulValueLen);
	out[a->ulValueLen] = 0;
	return CKR_OK;
}

static CK_RV template_id(const CK_ATTRIBUTE *t, CK_ULONG n, uint8_t id[VNP_ID_MAX],
			 size_t *ret_len)
{
	const CK_ATTRIBUTE *a = vnp_attr_find(t, n, CKA_ID);

	*ret_len = 0;
	if (!a)
		return CKR_OK;
	if (a->ulValueLen > VNP_ID_MAX)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	memcpy(id, a->pValue, a->ulValueLen);
	*ret_len = a->ulValueLen;
	return CKR_OK;
}

/* Read a CK_BBOOL attribute with a default. */
static CK_RV template_bool(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type,
			   bool dflt, bool *ret)
{
	const CK_ATTRIBUTE *a = vnp_attr_find(t, n, type);
	CK_BBOOL b;
	CK_RV rv;

	*ret = dflt;
	if (!a)
		return CKR_OK;
	rv = vnp_attr_bool(a, &b);
	if (rv == CKR_OK)
		*ret = b;
	return rv;
}

/* CKA_CERTIFICATE_CATEGORY: 2 (authority, a CA certificate) is stored on the card; 0
 * (unspecified), 1 (token user: shown from a key with the same CKA_ID) and 3 (other entity)
 * are accepted and stored as "not authority". */
static CK_RV template_category(const CK_ATTRIBUTE *t, CK_ULONG n, bool *ret_authority)
{
	const CK_ATTRIBUTE *a = vnp_attr_find(t, n, CKA_CERTIFICATE_CATEGORY);
	CK_ULONG cat = 0;
	CK_RV rv;

	*ret_authority = false;
	if (!a)
		return CKR_OK;
	rv = vnp_attr_ulong(a, &cat);
	if (rv == CKR_OK && cat > 3)
		rv = CKR_ATTRIBUTE_VALUE_INVALID;
	if (rv == CKR_OK)
		*ret_authority = cat == 2;
	return rv;
}

/* Attribute types C_CreateObject accepts (others: CKR_ATTRIBUTE_TYPE_INVALID; vendor
 * attributes are ignored). Values that only describe the certificate (CKA_SUBJECT, ...) are
 * accepted and recomputed from CKA_VALUE. */
static CK_RV check_types(const CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_CLASS cls)
{
	for (CK_ULONG i = 0; i < n; i++) {
		switch (t[i].type) {
		case CKA_CLASS: case CKA_TOKEN: case CKA_PRIVATE: case CKA_MODIFIABLE:
		case CKA_LABEL: case CKA_VALUE: case CKA_COPYABLE: case CKA_DESTROYABLE:
			continue;
		case CKA_ID: case CKA_CERTIFICATE_TYPE: case CKA_SUBJECT: case CKA_ISSUER:
		case CKA_SERIAL_NUMBER: case CKA_TRUSTED: case CKA_CERTIFICATE_CATEGORY:
		case CKA_START_DATE: case CKA_END_DATE: case CKA_CHECK_VALUE: case CKA_URL:
		case CKA_JAVA_MIDP_SECURITY_DOMAIN:
			if (cls == CKO_CERTIFICATE)
				continue;
			return CKR_ATTRIBUTE_TYPE_INVALID;
		case CKA_APPLICATION: case CKA_OBJECT_ID:
			if (cls == CKO_DATA)
				continue;
			return CKR_ATTRIBUTE_TYPE_INVALID;
		default:
			if (t[i].type & CKA_VENDOR_DEFINED)
				continue;
			return CKR_ATTRIBUTE_TYPE_INVALID;
		}
	}
	return CKR_OK;
}

/* Build the card's object description from the template; *ret_value points into it. */
static CK_RV parse_create(const CK_ATTRIBUTE *t, CK_ULONG n, struct vnp_obj *meta,
			  const CK_ATTRIBUTE **ret_value)
{
	const CK_ATTRIBUTE *a;
	CK_OBJECT_CLASS cls;
	CK_ULONG ctype;
	bool token, priv, b;
	struct vnp_x509 x;
	CK_RV rv;

	memset(meta, 0, sizeof(*meta));
	a = vnp_attr_find(t, n, CKA_CLASS);
	if (!a)
		return CKR_TEMPLATE_INCOMPLETE;
	rv = vnp_attr_ulong(a, &cls);
	if (rv != CKR_OK)
		return rv;
	if (cls != CKO_CERTIFICATE && cls != CKO_DATA)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	rv = check_types(t, n, cls);
	if (rv == CKR_OK)
		rv = template_bool(t, n, CKA_TOKEN, true, &token);
	if (rv == CKR_OK)
		rv = template_bool(t, n, CKA_PRIVATE, false, &priv);
	if (rv == CKR_OK)
		rv = template_bool(t, n, CKA_MODIFIABLE, false, &b);
	if (rv != CKR_OK)
		return rv;
	if (!token)
		return CKR_TEMPLATE_INCONSISTENT;
	rv = template_string(t, n, CKA_LABEL, meta->label);
	if (rv != CKR_OK)
		return rv;
	a = vnp_attr_find(t, n, CKA_VALUE);
	*ret_value = a;
	if (cls == CKO_CERTIFICATE) {
		meta->kind = VNP_OBJ_CERT;
		if (priv)
			return CKR_TEMPLATE_INCONSISTENT; /* certificates are public on this token */
		a = vnp_attr_find(t, n, CKA_CERTIFICATE_TYPE);
		if (!a || !*ret_value)
			return CKR_TEMPLATE_INCOMPLETE;
		rv = vnp_attr_ulong(a, &ctype);
		if (rv != CKR_OK)
			return rv;
		if (ctype != CKC_X_509)
			return CKR_ATTRIBUTE_VALUE_INVALID;
		rv = template_bool(t, n, CKA_TRUSTED, false, &b);
		if (rv == CKR_OK && b)
			rv = CKR_ATTRIBUTE_READ_ONLY; /* only the SO may set CKA_TRUSTED */
		if (rv != CKR_OK)
			return rv;
		rv = template_category(t, n, &meta->authority);
		if (rv != CKR_OK)
			return rv;
		memset(&x, 0, sizeof(x));
		rv = vnp_x509_parse((*ret_value)->pValue, (*ret_value)->ulValueLen, &x);
		vnp_x509_clear(&x);
		if (rv != CKR_OK)
			return rv;
		return template_id(t, n, meta->id, &meta->id_len);
	}
	meta->kind = VNP_OBJ_DATA;
	meta->private_obj = priv;
	return template_string(t, n, CKA_APPLICATION, meta->application);
}

static CK_RV write_ok(const struct vnp_session *s, const struct vnp_token *tok)
{
	if (!(s->flags & CKF_RW_SESSION))
		return CKR_SESSION_READ_ONLY;
	if (!tok->user_logged_in)
		return CKR_USER_NOT_LOGGED_IN;
	return CKR_OK;
}

static CK_RV create_locked(struct vnp_token *tok, const CK_ATTRIBUTE *t, CK_ULONG n,
			   CK_OBJECT_HANDLE *ret)
{
	static const uint8_t empty[1];
	const CK_ATTRIBUTE *value = NULL;
	const uint8_t *vp;
	struct vnp_p11_obj *o;
	struct vnp_obj meta;
	size_t vlen;
	uint8_t ref = 0;
	CK_RV rv;
	int vrv;

	rv = parse_create(t, n, &meta, &value);
	if (rv != CKR_OK)
		return rv;
	if (!tok->card.drv->write_object)
		return CKR_FUNCTION_NOT_SUPPORTED;
	vp = value && value->ulValueLen ? value->pValue : empty;
	vlen = value ? value->ulValueLen : 0;
	vnp_token_io_begin(tok);
	vrv = vnp_token_io_end(tok, tok->card.drv->write_object(&tok->card, &meta, vp, vlen, &ref));
	if (vrv == VNP_E_INVALID_DATA || vrv == VNP_E_WRONG_LENGTH)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (vrv != VNP_OK)
		return vnp_ck_rv(vrv);
	rv = vnp_token_reload_locked(tok);
	if (rv != CKR_OK)
		return rv;
	o = vnp_object_by_ref(tok, meta.kind == VNP_OBJ_CERT ? CKO_CERTIFICATE : CKO_DATA, ref);
	if (!o)
		return CKR_GENERAL_ERROR;
	*ret = o->handle;
	return CKR_OK;
}

CK_RV vnp_C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate,
			 CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phObject)
{
	struct vnp_session *s;
	struct vnp_slot *slot = NULL;
	struct vnp_token *tok;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = vnp_session_get_locked(hSession, &s, &slot, &tok);
	if (rv == CKR_OK && (!phObject || !pTemplate || !ulCount))
		rv = CKR_ARGUMENTS_BAD;
	if (rv == CKR_OK)
		rv = vnp_template_check(pTemplate, ulCount);
	if (rv == CKR_OK)
		rv = vnp_template_conflicts(pTemplate, ulCount);
	if (rv == CKR_OK)
		rv = write_ok(s, tok);
	if (rv == CKR_OK)
		rv = create_locked(tok, pTemplate, ulCount, phObject);
	if (vnp_slot_reap_locked(slot))
		rv = CKR_DEVICE_REMOVED;
	vnp_leave(rv);
out:
	vnp_trace("C_CreateObject", rv, "hSession=%lu, ulCount=%lu, *phObject=%lu",
		  (unsigned long)hSession, (unsigned long)ulCount,
		  rv == CKR_OK ? (unsigned long)*phObject : 0ul);
	return rv;
}

static CK_RV destroy_locked(struct vnp_token *tok, struct vnp_p11_obj *o)
{
	struct vnp_obj meta = o->meta;
	int vrv;

	if (o->cls == CKO_PUBLIC_KEY)
		return CKR_ACTION_PROHIBITED;
	if (o->cls == CKO_PRIVATE_KEY && (o->meta.key_flags & VNP_KEY_FIXED))
		return CKR_ACTION_PROHIBITED; /* CKA_DESTROYABLE false: e.g. a PIV key */
	if (!tok->card.drv->delete_object)
		return CKR_FUNCTION_NOT_SUPPORTED;
	vnp_token_io_begin(tok);
	vrv = vnp_token_io_end(tok, tok->card.drv->delete_object(&tok->card, &meta));
	if (vrv != VNP_OK)
		return vnp_ck_rv(vrv);
	return vnp_token_reload_locked(tok);
}

CK_RV vnp_C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
	struct vnp_session *s;
	struct vnp_slot *slot = NULL;
	struct vnp_token *tok;
	struct vnp_p11_obj *o = NULL;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = vnp_session_get_locked(hSession, &s, &slot, &tok);
	if (rv == CKR_OK) {
		o = vnp_object_get(tok, hObject);
		if (!o)
			rv = CKR_OBJECT_HANDLE_INVALID;
	}
	if (rv == CKR_OK)
		rv = write_ok(s, tok);
	if (rv == CKR_OK)
		rv = destroy_locked(tok, o);
	if (vnp_slot_reap_locked(slot))
		rv = CKR_DEVICE_REMOVED;
	vnp_leave(rv);
out:
	vnp_trace("C_DestroyObject", rv, "hSession=%lu, hObject=%lu", (unsigned long)hSession,
		  (unsigned long)hObject);
	return rv;
}
