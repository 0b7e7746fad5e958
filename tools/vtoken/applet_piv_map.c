/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PIV: the data object and key tables (SP 800-73-4 part 1 Tables 3 and 4b), their
 * mapping onto the token state (PIV.md), default objects, the ATR. */
#include <string.h>
#include <openssl/crypto.h>

#include "applet_piv.h"
#include "rv.h"
#include "tlv.h"

/* Certificates live at 0x40 | state key ref; other objects at 0x80 | low tag byte. */
static const struct piv_obj_map objs[] = {
	{ 0x5FC107, 0x87, 0x53, false, 0, "Card Capability Container" },
	{ 0x5FC102, 0x82, 0x53, false, 0, "Card Holder Unique Identifier" },
	{ 0x5FC105, 0x5A, 0x53, false, PIV_KEY_AUTH, "X.509 Certificate for PIV Authentication" },
	{ 0x5FC103, 0x83, 0x53, true, 0, "Cardholder Fingerprints" },
	{ 0x5FC106, 0x86, 0x53, false, 0, "Security Object" },
	{ 0x5FC108, 0x88, 0x53, true, 0, "Cardholder Facial Image" },
	{ 0x5FC10A, 0x5C, 0x53, false, PIV_KEY_SIGN, "X.509 Certificate for Digital Signature" },
	{ 0x5FC10B, 0x5D, 0x53, false, PIV_KEY_KM, "X.509 Certificate for Key Management" },
	{ 0x5FC109, 0x89, 0x53, true, 0, "Printed Information" },
	{ 0x5FC101, 0x5E, 0x53, false, PIV_KEY_CAUTH, "X.509 Certificate for Card Authentication" },
	{ 0x7E, 0xB0, 0x7E, false, 0, "Discovery Object" },
	{ 0x5FC10C, 0x8C, 0x53, false, 0, "Key History Object" },
	{ 0x5FC121, 0xA1, 0x53, true, 0, "Cardholder Iris Images" },
	{ 0x7F61, 0xB1, 0x7F61, false, 0, "Biometric Information Templates Group Template" },
	{ 0x5FC122, 0xA2, 0x53, false, 0, "Secure Messaging Certificate Signer" },
	{ 0x5FC123, 0xA3, 0x53, true, 0, "Pairing Code Reference Data Container" },
};

/* Retired key management certificates 1..20: tags 5FC10D..5FC120, keys 82..95. */
#define RETIRED(i) { 0x5FC10D + (i), 0x42 + (i), 0x53, false, 0x82 + (i), \
		     "X.509 Certificate for Retired Key Management" }
static const struct piv_obj_map retired[20] = {
	RETIRED(0), RETIRED(1), RETIRED(2), RETIRED(3), RETIRED(4), RETIRED(5), RETIRED(6),
	RETIRED(7), RETIRED(8), RETIRED(9), RETIRED(10), RETIRED(11), RETIRED(12), RETIRED(13),
	RETIRED(14), RETIRED(15), RETIRED(16), RETIRED(17), RETIRED(18), RETIRED(19),
};

const struct piv_obj_map *vnp_vt_piv_obj(uint32_t tag)
{
	size_t i;

	for (i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
		if (objs[i].tag == tag)
			return &objs[i];
	if (tag >= 0x5FC10D && tag <= 0x5FC120)
		return &retired[tag - 0x5FC10D];
	return NULL;
}

const struct piv_obj_map *vnp_vt_piv_obj_by_ref(uint8_t ref)
{
	size_t i;

	for (i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
		if (objs[i].ref == ref)
			return &objs[i];
	if (ref >= 0x42 && ref <= 0x55)
		return &retired[ref - 0x42u];
	return NULL;
}

uint8_t vnp_vt_piv_key_ref(uint8_t piv_key)
{
	switch (piv_key) {
	case PIV_KEY_AUTH:
	case PIV_KEY_SIGN:
	case PIV_KEY_KM:
	case PIV_KEY_CAUTH:
		return (uint8_t)(piv_key - 0x80); /* 1A 1C 1D 1E */
	default:
		if (piv_key >= PIV_KEY_RETIRED_FIRST && piv_key <= PIV_KEY_RETIRED_LAST)
			return (uint8_t)(piv_key - 0x80); /* 02..15 */
		return 0;
	}
}

uint8_t vnp_vt_piv_key_of_ref(uint8_t ref)
{
	uint8_t k = (uint8_t)(ref + 0x80);

	return ref && vnp_vt_piv_key_ref(k) == ref ? k : 0;
}

const char *vnp_vt_piv_key_name(uint8_t piv_key)
{
	switch (piv_key) {
	case PIV_KEY_AUTH: return "PIV Authentication";
	case PIV_KEY_MGMT: return "PIV Card Application Administration";
	case PIV_KEY_SIGN: return "Digital Signature";
	case PIV_KEY_KM: return "Key Management";
	case PIV_KEY_CAUTH: return "Card Authentication";
	default: return "Retired Key Management";
	}
}

uint8_t vnp_vt_piv_alg_to_vt(uint8_t piv_alg)
{
	switch (piv_alg) {
	case PIV_ALG_RSA2048: return VNP_VT_ALG_RSA2048;
	case PIV_ALG_RSA3072: return VNP_VT_ALG_RSA3072;
	case PIV_ALG_P256: return VNP_VT_ALG_P256;
	case PIV_ALG_P384: return VNP_VT_ALG_P384;
	default: return 0;
	}
}

uint8_t vnp_vt_piv_alg_from_vt(uint8_t vt_alg)
{
	switch (vt_alg) {
	case VNP_VT_ALG_RSA2048: return PIV_ALG_RSA2048;
	case VNP_VT_ALG_RSA3072: return PIV_ALG_RSA3072;
	case VNP_VT_ALG_P256: return PIV_ALG_P256;
	case VNP_VT_ALG_P384: return PIV_ALG_P384;
	default: return 0;
	}
}

bool vnp_vt_piv_mgmt_alg(uint8_t piv_alg, size_t *ret_key_len, size_t *ret_block)
{
	switch (piv_alg) {
	case PIV_ALG_3DES: *ret_key_len = 24; *ret_block = 8; return true;
	case PIV_ALG_AES128: *ret_key_len = 16; *ret_block = 16; return true;
	case PIV_ALG_AES192: *ret_key_len = 24; *ret_block = 16; return true;
	case PIV_ALG_AES256: *ret_key_len = 32; *ret_block = 16; return true;
	default: return false;
	}
}

int vnp_vt_piv_store(struct vnp_vt_data *d, uint8_t ref, const uint8_t *value, size_t len)
{
	const struct piv_obj_map *m = vnp_vt_piv_obj_by_ref(ref);
	struct vnp_vt_obj *o = OPENSSL_zalloc(sizeof(*o));
	size_t n;

	if (!o)
		return VNP_E_NOMEM;
	o->value = OPENSSL_malloc(len ? len : 1);
	if (!o->value) {
		OPENSSL_free(o);
		return VNP_E_NOMEM;
	}
	if (len)
		memcpy(o->value, value, len);
	o->value_len = len;
	o->type = ref <= VNP_VT_CERT_REF_MAX ? VNP_VT_OBJ_CERT : VNP_VT_OBJ_DATA;
	if (m) {
		/* id: the BER tag bytes; label: the SP 800-73-4 name */
		n = m->tag > 0xFFFF ? 3 : m->tag > 0xFF ? 2 : 1;
		for (size_t i = 0; i < n; i++)
			o->id[i] = (uint8_t)(m->tag >> (8 * (n - 1 - i)));
		o->id_len = n;
		n = strlen(m->name);
		n = n > sizeof(o->label) ? sizeof(o->label) : n;
		memcpy(o->label, m->name, n);
		o->label_len = n;
		o->priv = m->pin;
	} else {
		o->priv = true; /* PUK verifier, management key */
	}
	vnp_vt_obj_free(d->objs[ref]);
	d->objs[ref] = o;
	return VNP_OK;
}

/* ---- default objects ---- */

static const uint8_t piv_aid[] = { 0xA0, 0x00, 0x00, 0x03, 0x08, 0x00,
				   0x00, 0x10, 0x00, 0x01, 0x00 };

/* FASC-N (TIG SCEPACS): 40 five-bit characters, BCD b1..b4 then odd parity, LSB first. */
struct fascn_bits {
	uint8_t out[25];
	size_t bit;
	uint8_t lrc;
};

static void fascn_put(struct fascn_bits *f, uint8_t v)
{
	unsigned ones = 0, i;

	for (i = 0; i < 5; i++) {
		unsigned b;
		if (i < 4) {
			b = (v >> i) & 1;
			ones += b;
		} else {
			b = (ones & 1) ? 0 : 1; /* odd parity over the five bits */
		}
		if (b)
			f->out[f->bit / 8] |= (uint8_t)(0x80 >> (f->bit % 8));
		f->bit++;
	}
	f->lrc ^= v & 0x0F;
}

static void fascn_digits(struct fascn_bits *f, uint64_t n, unsigned count)
{
	uint8_t dig[20];
	unsigned i;

	for (i = 0; i < count; i++) {
		dig[count - 1 - i] = (uint8_t)(n % 10);
		n /= 10;
	}
	for (i = 0; i < count; i++)
		fascn_put(f, dig[i]);
}

/* Agency 9999, system 9999 (a non-federal issuer), credential and person identifier
 * from the serial. */
static void make_fascn(const uint8_t serial[8], uint8_t out[25])
{
	struct fascn_bits f;
	uint64_t s = 0;
	unsigned i;

	memset(&f, 0, sizeof(f));
	for (i = 0; i < 8; i++)
		s = (s << 8) | serial[i];
	fascn_put(&f, 0x0B);            /* SS */
	fascn_digits(&f, 9999, 4);      /* agency code */
	fascn_put(&f, 0x0D);            /* FS */
	fascn_digits(&f, 9999, 4);      /* system code */
	fascn_put(&f, 0x0D);
	fascn_digits(&f, s % 1000000u, 6); /* credential number */
	fascn_put(&f, 0x0D);
	fascn_digits(&f, 1, 1);         /* credential series */
	fascn_put(&f, 0x0D);
	fascn_digits(&f, 1, 1);         /* individual credential issue */
	fascn_put(&f, 0x0D);
	fascn_digits(&f, s % 10000000000ull, 10); /* person identifier */
	fascn_digits(&f, 1, 1);         /* organizational category */
	fascn_digits(&f, 9999, 4);      /* organizational identifier */
	fascn_digits(&f, 1, 1);         /* association category */
	fascn_put(&f, 0x0F);            /* ES */
	fascn_put(&f, f.lrc);           /* LRC */
	memcpy(out, f.out, sizeof(f.out));
}

static int store_buf(struct vnp_vt_data *d, uint8_t ref, struct vnp_buf *b)
{
	int rv = b->failed ? VNP_E_NOMEM : vnp_vt_piv_store(d, ref, b->p, b->len);

	vnp_buf_free(b);
	vnp_buf_init(b);
	return rv;
}

int vnp_vt_piv_default_objects(struct vnp_vt_data *d)
{
	static const uint8_t pin_policy[] = { 0x40, 0x00 }; /* PIV PIN only, no global PIN */
	static const char expiry[] = "20301231";
	uint8_t fascn[25], guid[16], card_id[21];
	struct vnp_buf b;
	int rv;

	vnp_buf_init(&b);
	/* CHUID (part 1 Table 9); the GUID is "VNPK" 00000000 || serial */
	make_fascn(d->serial, fascn);
	memcpy(guid, "VNPK", 4);
	memset(guid + 4, 0, 4);
	memcpy(guid + 8, d->serial, 8);
	vnp_tlv_put(&b, 0x30, fascn, sizeof(fascn));
	vnp_tlv_put(&b, 0x34, guid, sizeof(guid));
	vnp_tlv_put(&b, 0x35, expiry, 8);
	vnp_tlv_put(&b, 0x3E, NULL, 0);
	vnp_tlv_put(&b, 0xFE, NULL, 0);
	rv = store_buf(d, 0x82, &b);
	/* CCC (part 1 Table 8): card identifier = GSC-RID, manufacturer FF, type 02, serial */
	memcpy(card_id, "\xA0\x00\x00\x01\x16\xFF\x02", 7);
	memcpy(card_id + 7, d->serial, 8);
	memcpy(card_id + 15, "VNPKI", 6);
	if (rv == VNP_OK) {
		vnp_tlv_put(&b, 0xF0, card_id, sizeof(card_id));
		vnp_tlv_put_uint(&b, 0xF1, 0x21, 1);
		vnp_tlv_put_uint(&b, 0xF2, 0x21, 1);
		vnp_tlv_put(&b, 0xF3, NULL, 0);
		vnp_tlv_put_uint(&b, 0xF4, 0x00, 1);
		vnp_tlv_put_uint(&b, 0xF5, 0x10, 1);
		vnp_tlv_put(&b, 0xF6, NULL, 0);
		vnp_tlv_put(&b, 0xF7, NULL, 0);
		vnp_tlv_put(&b, 0xFA, NULL, 0);
		vnp_tlv_put(&b, 0xFB, NULL, 0);
		vnp_tlv_put(&b, 0xFC, NULL, 0);
		vnp_tlv_put(&b, 0xFD, NULL, 0);
		vnp_tlv_put(&b, 0xFE, NULL, 0);
		rv = store_buf(d, 0x87, &b);
	}
	/* Discovery object (part 1 Table 18) */
	if (rv == VNP_OK) {
		vnp_tlv_put(&b, 0x4F, piv_aid, sizeof(piv_aid));
		vnp_tlv_put(&b, 0x5F2F, pin_policy, sizeof(pin_policy));
		rv = store_buf(d, 0xB0, &b);
	}
	/* Printed information (part 1 Table 12): PIN-protected */
	if (rv == VNP_OK) {
		vnp_tlv_put(&b, 0x01, d->label, d->label_len);
		vnp_tlv_put(&b, 0x02, "VNPKI", 5);
		vnp_tlv_put(&b, 0x04, "2030DEC31", 9);
		vnp_tlv_put(&b, 0x05, d->serial, sizeof(d->serial));
		vnp_tlv_put(&b, 0x06, "VNPKI virtual", 13);
		vnp_tlv_put(&b, 0xFE, NULL, 0);
		rv = store_buf(d, 0x89, &b);
	}
	vnp_buf_free(&b);
	OPENSSL_cleanse(fascn, sizeof(fascn));
	return rv;
}

/* T=0 and T=1; historical bytes: category 80, card capabilities 73 (third byte: command
 * chaining, and extended Lc/Le unless short-only), issuer data 55 "VNPIV". */
size_t vnp_vt_piv_atr(const struct vnp_vt_data *d, uint8_t *atr)
{
	static const uint8_t head[] = { 0x3B, 0x8B, 0x80, 0x01, 0x80, 0x73, 0x00, 0x00 };
	static const uint8_t tail[] = { 0x55, 0x56, 0x4E, 0x50, 0x49, 0x56 };
	size_t n = 0, i;
	uint8_t tck = 0;

	memcpy(atr, head, sizeof(head));
	n = sizeof(head);
	atr[n++] = d->extended ? 0xC0 : 0x80;
	memcpy(atr + n, tail, sizeof(tail));
	n += sizeof(tail);
	for (i = 1; i < n; i++)
		tck ^= atr[i];
	atr[n++] = tck;
	return n;
}
