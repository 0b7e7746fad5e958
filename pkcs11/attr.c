/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Attribute template helpers. */
#include <string.h>

#include "p11.h"

/* The first attribute of type in t[0..n), or NULL. t may be NULL when n is 0. */
const CK_ATTRIBUTE *vnp_attr_find(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type)
{
	for (CK_ULONG i = 0; t && i < n; i++)
		if (t[i].type == type)
			return &t[i];
	return NULL;
}

/* CK_BBOOL value of a; CKR_ATTRIBUTE_VALUE_INVALID when its size is not one byte. */
CK_RV vnp_attr_bool(const CK_ATTRIBUTE *a, CK_BBOOL *ret)
{
	if (!a->pValue || a->ulValueLen != sizeof(CK_BBOOL))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	*ret = *(const CK_BBOOL *)a->pValue ? CK_TRUE : CK_FALSE;
	return CKR_OK;
}

/* CK_ULONG value of a; CKR_ATTRIBUTE_VALUE_INVALID on a wrong size. */
CK_RV vnp_attr_ulong(const CK_ATTRIBUTE *a, CK_ULONG *ret)
{
	if (!a->pValue || a->ulValueLen != sizeof(CK_ULONG))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	memcpy(ret, a->pValue, sizeof(CK_ULONG));
	return CKR_OK;
}

/* Shape check of a template given to C_CreateObject, C_FindObjectsInit,
 * C_GenerateKeyPair. */
CK_RV vnp_template_check(const CK_ATTRIBUTE *t, CK_ULONG n)
{
	if (n && !t)
		return CKR_ARGUMENTS_BAD;
	for (CK_ULONG i = 0; i < n; i++)
		if (!t[i].pValue && t[i].ulValueLen)
			return CKR_ATTRIBUTE_VALUE_INVALID;
	return CKR_OK;
}

/* C_GetAttributeValue for one attribute whose value is val[0..len). */
CK_RV vnp_attr_out(CK_ATTRIBUTE *a, const void *val, size_t len)
{
	if (!a->pValue) {
		a->ulValueLen = len;
		return CKR_OK;
	}
	if (a->ulValueLen < len) {
		a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (len)
		memcpy(a->pValue, val, len);
	a->ulValueLen = len;
	return CKR_OK;
}

/* Length of the longest prefix of s (at most max bytes) that ends between UTF-8
 * characters. */
static size_t utf8_prefix(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	n = max;
	/* Back up over continuation bytes (10xxxxxx) to the start of the cut character. */
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/* Blank-padded, not NUL-terminated copy for CK_INFO / CK_TOKEN_INFO strings. */
void vnp_pad_utf8(CK_UTF8CHAR *dst, size_t dst_len, const char *src)
{
	const char *s = src ? src : "";
	size_t n = utf8_prefix(s, dst_len);

	memset(dst, ' ', dst_len);
	memcpy(dst, s, n);
}

CK_RV vnp_template_conflicts(const CK_ATTRIBUTE *t, CK_ULONG n)
{
	for (CK_ULONG i = 0; i < n; i++)
		for (CK_ULONG j = i + 1; j < n; j++)
			if (t[i].type == t[j].type &&
			    (t[i].ulValueLen != t[j].ulValueLen ||
			     (t[i].ulValueLen && memcmp(t[i].pValue, t[j].pValue, t[i].ulValueLen))))
				return CKR_TEMPLATE_INCONSISTENT;
	return CKR_OK;
}
