/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* C_GenerateKeyPair: RSA (CKM_RSA_PKCS_KEY_PAIR_GEN, 2048/3072 bits, public exponent
 * 65537) and EC (CKM_EC_KEY_PAIR_GEN, the curves the token lists), generated on the card.
 * CKA_ID and CKA_LABEL come from the private template, else the public one; without a
 * CKA_ID the key gets the smallest one-byte ID no key uses. */
#include <string.h>

#include "p11.h"
#include "mech.h"
#include "log.h"
#include "rv.h"

static const CK_ATTRIBUTE *either(const CK_ATTRIBUTE *priv, CK_ULONG npriv,
				  const CK_ATTRIBUTE *pub, CK_ULONG npub, CK_ATTRIBUTE_TYPE type)
{
	const CK_ATTRIBUTE *a = vnp_attr_find(priv, npriv, type);

	return a ? a : vnp_attr_find(pub, npub, type);
}

static CK_RV bool_attr(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type, int *ret)
{
	const CK_ATTRIBUTE *a = vnp_attr_find(t, n, type);
	CK_BBOOL b;
	CK_RV rv;

	*ret = -1;
	if (!a)
		return CKR_OK;
	rv = vnp_attr_bool(a, &b);
	if (rv == CKR_OK)
		*ret = b;
	return rv;
}

static CK_RV rsa_alg(const struct vnp_token *tok, const CK_ATTRIBUTE *pub, CK_ULONG npub,
		     enum vnp_key_alg *ret)
{
	const CK_ATTRIBUTE *a = vnp_attr_find(pub, npub, CKA_MODULUS_BITS);
	const CK_ATTRIBUTE *e = vnp_attr_find(pub, npub, CKA_PUBLIC_EXPONENT);
	CK_ULONG bits;
	CK_RV rv;

	if (!a)
		return CKR_TEMPLATE_INCOMPLETE;
	rv = vnp_attr_ulong(a, &bits);
	if (rv != CKR_OK)
		return rv;
	if (bits == 2048)
		*ret = VNP_ALG_RSA2048;
	else if (bits == 3072)
		*ret = VNP_ALG_RSA3072;
	else
		return CKR_KEY_SIZE_RANGE;
	if (e) {
		const uint8_t *p = e->pValue;
		size_t n = e->ulValueLen;

		while (n && !*p) { /* big-endian, leading zeros allowed */
			p++;
			n--;
		}
		if (n != 3 || p[0] != 0x01 || p[1] != 0x00 || p[2] != 0x01)
			return CKR_TEMPLATE_INCONSISTENT;
	}
	if (!(tok->info.algs & vnp_alg_bit(*ret)))
		return CKR_KEY_SIZE_RANGE;
	return CKR_OK;
}

static CK_RV ec_alg(const struct vnp_token *tok, const CK_ATTRIBUTE *pub, CK_ULONG npub,
		    const CK_ATTRIBUTE *priv, CK_ULONG npriv, enum vnp_key_alg *ret)
{
	const CK_ATTRIBUTE *a = either(pub, npub, priv, npriv, CKA_EC_PARAMS);

	if (!a)
		return CKR_TEMPLATE_INCOMPLETE;
	*ret = vnp_ec_params_alg(a->pValue, a->ulValueLen);
	if (*ret == VNP_ALG_NONE || !(tok->info.algs & vnp_alg_bit(*ret)))
		return CKR_CURVE_NOT_SUPPORTED;
	return CKR_OK;
}

/* The smallest one-byte CKA_ID no key uses. */
static void default_id(const struct vnp_token *tok, struct vnp_keygen *req)
{
	for (unsigned id = 1; id < 256; id++) {
		bool used = false;

		for (size_t i = 0; i < tok->n_objs && !used; i++)
			used = tok->objs[i].cls == CKO_PRIVATE_KEY && tok->objs[i].meta.id_len == 1 &&
			       tok->objs[i].meta.id[0] == id;
		if (!used) {
			req->id[0] = (uint8_t)id;
			req->id_len = 1;
			return;
		}
	}
}

static CK_RV parse_keygen(const struct vnp_token *tok, const CK_MECHANISM *mech,
			  const CK_ATTRIBUTE *pub, CK_ULONG npub, const CK_ATTRIBUTE *priv,
			  CK_ULONG npriv, struct vnp_keygen *req)
{
	const CK_ATTRIBUTE *a;
	int tok_pub, tok_priv, sign, decrypt, aa;
	CK_RV rv;

	memset(req, 0, sizeof(*req));
	if (mech->mechanism == CKM_RSA_PKCS_KEY_PAIR_GEN)
		rv = rsa_alg(tok, pub, npub, &req->alg);
	else if (mech->mechanism == CKM_EC_KEY_PAIR_GEN)
		rv = ec_alg(tok, pub, npub, priv, npriv, &req->alg);
	else
		rv = CKR_MECHANISM_INVALID;
	if (rv != CKR_OK)
		return rv;
	if ((rv = bool_attr(pub, npub, CKA_TOKEN, &tok_pub)) != CKR_OK ||
	    (rv = bool_attr(priv, npriv, CKA_TOKEN, &tok_priv)) != CKR_OK ||
	    (rv = bool_attr(priv, npriv, CKA_SIGN, &sign)) != CKR_OK ||
	    (rv = bool_attr(priv, npriv, CKA_DECRYPT, &decrypt)) != CKR_OK ||
	    (rv = bool_attr(priv, npriv, CKA_ALWAYS_AUTHENTICATE, &aa)) != CKR_OK)
		return rv;
	if (tok_pub == 0 || tok_priv == 0)
		return CKR_TEMPLATE_INCONSISTENT; /* the token keeps no session keys */
	if (VNP_ALG_IS_EC(req->alg))
		decrypt = 0; /* no EC decryption: a CKA_DECRYPT request is ignored */
	req->usage = (sign != 0 ? VNP_USAGE_SIGN : 0) | (decrypt == 1 ? VNP_USAGE_DECRYPT : 0);
	if (!req->usage)
		return CKR_TEMPLATE_INCONSISTENT;
	if (aa == 1)
		req->key_flags |= VNP_KEY_ALWAYS_AUTH;
	a = either(priv, npriv, pub, npub, CKA_ID);
	if (a) {
		if (a->ulValueLen > VNP_ID_MAX || !a->ulValueLen)
			return CKR_ATTRIBUTE_VALUE_INVALID;
		memcpy(req->id, a->pValue, a->ulValueLen);
		req->id_len = a->ulValueLen;
	} else {
		default_id(tok, req);
	}
	a = either(priv, npriv, pub, npub, CKA_LABEL);
	if (a) {
		if (a->ulValueLen > VNP_LABEL_MAX)
			return CKR_ATTRIBUTE_VALUE_INVALID;
		memcpy(req->label, a->pValue, a->ulValueLen);
		req->label[a->ulValueLen] = 0;
	}
	return CKR_OK;
}

static CK_RV keygen_locked(struct vnp_session *s, struct vnp_token *tok, const CK_MECHANISM *mech,
			   const CK_ATTRIBUTE *pub, CK_ULONG npub, const CK_ATTRIBUTE *priv,
			   CK_ULONG npriv, CK_OBJECT_HANDLE *ret_pub, CK_OBJECT_HANDLE *ret_priv)
{
	struct vnp_p11_obj *opub, *opriv;
	struct vnp_keygen req;
	struct vnp_obj key;
	CK_RV rv;
	int vrv;

	if (!(s->flags & CKF_RW_SESSION))
		return CKR_SESSION_READ_ONLY;
	if (!tok->user_logged_in)
		return CKR_USER_NOT_LOGGED_IN;
	rv = parse_keygen(tok, mech, pub, npub, priv, npriv, &req);
	if (rv != CKR_OK)
		return rv;
	if (!tok->card.drv->generate_key)
		return CKR_FUNCTION_NOT_SUPPORTED;
	memset(&key, 0, sizeof(key));
	vnp_token_io_begin(tok);
	vrv = vnp_token_io_end(tok, tok->card.drv->generate_key(&tok->card, &req, &key));
	if (vrv == VNP_E_CARD_FULL)
		return CKR_DEVICE_MEMORY;
	if (vrv == VNP_E_INVALID_DATA)
		return CKR_TEMPLATE_INCONSISTENT; /* e.g. a CKA_ID that names no PIV slot */
	if (vrv != VNP_OK)
		return vnp_ck_rv(vrv);
	rv = vnp_token_reload_locked(tok);
	if (rv != CKR_OK)
		return rv;
	opub = vnp_object_by_ref(tok, CKO_PUBLIC_KEY, key.ref);
	opriv = vnp_object_by_ref(tok, CKO_PRIVATE_KEY, key.ref);
	if (!opub || !opriv)
		return CKR_GENERAL_ERROR;
	*ret_pub = opub->handle;
	*ret_priv = opriv->handle;
	return CKR_OK;
}

CK_RV vnp_C_GenerateKeyPair(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			    CK_ATTRIBUTE_PTR pPublicKeyTemplate, CK_ULONG ulPublicKeyAttributeCount,
			    CK_ATTRIBUTE_PTR pPrivateKeyTemplate,
			    CK_ULONG ulPrivateKeyAttributeCount, CK_OBJECT_HANDLE_PTR phPublicKey,
			    CK_OBJECT_HANDLE_PTR phPrivateKey)
{
	struct vnp_session *s;
	struct vnp_slot *slot = NULL;
	struct vnp_token *tok;
	CK_RV rv;

	rv = vnp_enter();
	if (rv != CKR_OK)
		goto out;
	rv = vnp_session_get_locked(hSession, &s, &slot, &tok);
	if (rv == CKR_OK && (!pMechanism || !phPublicKey || !phPrivateKey))
		rv = CKR_ARGUMENTS_BAD;
	if (rv == CKR_OK)
		rv = vnp_template_check(pPublicKeyTemplate, ulPublicKeyAttributeCount);
	if (rv == CKR_OK)
		rv = vnp_template_check(pPrivateKeyTemplate, ulPrivateKeyAttributeCount);
	if (rv == CKR_OK)
		rv = vnp_template_conflicts(pPublicKeyTemplate, ulPublicKeyAttributeCount);
	if (rv == CKR_OK)
		rv = vnp_template_conflicts(pPrivateKeyTemplate, ulPrivateKeyAttributeCount);
	if (rv == CKR_OK)
		rv = keygen_locked(s, tok, pMechanism, pPublicKeyTemplate,
				   ulPublicKeyAttributeCount, pPrivateKeyTemplate,
				   ulPrivateKeyAttributeCount, phPublicKey, phPrivateKey);
	if (vnp_slot_reap_locked(slot))
		rv = CKR_DEVICE_REMOVED;
	vnp_leave(rv);
out:
	vnp_trace("C_GenerateKeyPair", rv, "hSession=%lu, mechanism=0x%lx",
		  (unsigned long)hSession, pMechanism ? (unsigned long)pMechanism->mechanism : 0ul);
	return rv;
}
