/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Interindustry commands shared by the vntoken and SIM PKI drivers (iso_cmd.h). */
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "iso_cmd.h"
#include "log.h"
#include "rv.h"
#include "secret.h"

#define INS_SELECT 0xA4
#define INS_VERIFY 0x20
#define INS_MSE 0x22
#define INS_PSO 0x2A
#define INS_GET_CHALLENGE 0x84

void vnp_iso_apdu_init(struct vnp_apdu *a, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2)
{
	memset(a, 0, sizeof(*a));
	a->cla = cla;
	a->ins = ins;
	a->p1 = p1;
	a->p2 = p2;
}

int vnp_iso_run_tx(struct vnp_card *card, struct vnp_apdu *a, const struct vnp_sw_entry *sw)
{
	int rv = vnp_card_begin(card);

	if (rv)
		return rv;
	rv = vnp_apdu_run(&card->io, a, sw);
	vnp_card_end(card);
	return rv;
}

int vnp_iso_select(struct vnp_card *card, const struct vnp_sw_entry *sw, const uint8_t *aid,
		   size_t aid_len, uint8_t *buf, size_t cap, size_t *ret_len)
{
	struct vnp_apdu a;
	int rv;

	vnp_iso_apdu_init(&a, ISO_CLA, INS_SELECT, 0x04, 0x00);
	a.data = aid;
	a.lc = aid_len;
	a.le = 256;
	a.resp = buf;
	a.resp_cap = cap;
	rv = vnp_iso_run_tx(card, &a, sw);
	if (rv == VNP_OK)
		*ret_len = a.resp_len;
	return rv;
}

int vnp_iso_read_whole(struct vnp_card *card, const struct vnp_sw_entry *sw,
		       const struct vnp_apdu *cmd, bool secret, uint8_t **ret, size_t *ret_len)
{
	struct vnp_apdu a = *cmd;
	uint8_t *buf, *val;
	int rv;

	buf = malloc(VNP_LE_MAX);
	if (!buf)
		return VNP_E_NOMEM;
	a.le = VNP_LE_MAX;
	a.resp = buf;
	a.resp_cap = VNP_LE_MAX;
	rv = vnp_iso_run_tx(card, &a, sw);
	if (rv == VNP_OK) {
		val = malloc(a.resp_len ? a.resp_len : 1);
		if (val) {
			memcpy(val, buf, a.resp_len);
			*ret = val;
			*ret_len = a.resp_len;
		} else {
			rv = VNP_E_NOMEM;
		}
	}
	if (secret)
		vnp_wipe(buf, VNP_LE_MAX);
	free(buf);
	return rv;
}

int vnp_iso_tries_from_sw(uint16_t sw)
{
	return sw == ISO_SW_PIN_BLOCKED ? 0 : vnp_sw_tries_left(sw);
}

int vnp_iso_pin_query(struct vnp_card *card, const struct vnp_sw_entry *sw, unsigned pin_ref,
		      int tries_verified, struct vnp_pin_info *info, uint16_t *ret_sw)
{
	struct vnp_apdu a;
	int rv;

	vnp_iso_apdu_init(&a, ISO_CLA, INS_VERIFY, 0x00, (uint8_t)pin_ref);
	rv = vnp_iso_run_tx(card, &a, sw);
	*ret_sw = a.sw;
	if (rv == VNP_OK) {
		info->verified = true;
		info->tries_left = tries_verified;
	} else if (vnp_iso_tries_from_sw(a.sw) >= 0) {
		info->tries_left = vnp_iso_tries_from_sw(a.sw);
		rv = VNP_OK;
	}
	return rv;
}

int vnp_iso_pin_cmd(struct vnp_card *card, const struct vnp_sw_entry *sw, uint8_t ins,
		    unsigned pin_ref, const uint8_t *data, size_t len, uint16_t *ret_sw)
{
	struct vnp_apdu a;
	int rv;

	vnp_iso_apdu_init(&a, ISO_CLA, ins, 0x00, (uint8_t)pin_ref);
	a.data = data;
	a.lc = len;
	a.flags = VNP_APDU_SENSITIVE;
	rv = vnp_iso_run_tx(card, &a, sw);
	*ret_sw = a.sw;
	return rv;
}

int vnp_iso_logout(struct vnp_card *card, const struct vnp_sw_entry *sw, unsigned pin_ref)
{
	struct vnp_apdu a;

	vnp_iso_apdu_init(&a, ISO_CLA, INS_VERIFY, 0xFF, (uint8_t)pin_ref);
	return vnp_iso_run_tx(card, &a, sw);
}

int vnp_iso_scheme_refs(const struct vnp_sign_params *params, uint8_t *ret_alg,
			uint8_t *ret_hash, uint16_t *ret_salt)
{
	*ret_hash = 0;
	*ret_salt = 0;
	switch (params->scheme) {
	case VNP_SIG_RSA_PKCS1:
		*ret_alg = ISO_ALGREF_RSA_PKCS1;
		return VNP_OK;
	case VNP_SIG_RSA_PSS:
		if (params->pss_hash == VNP_HASH_NONE || params->pss_mgf1_hash != params->pss_hash)
			return VNP_E_NOT_SUPPORTED;
		*ret_alg = ISO_ALGREF_RSA_PSS;
		*ret_hash = (uint8_t)params->pss_hash; /* hash references equal enum vnp_hash */
		*ret_salt = params->pss_salt_len;
		return VNP_OK;
	case VNP_SIG_ECDSA:
		*ret_alg = ISO_ALGREF_ECDSA;
		return VNP_OK;
	}
	return VNP_E_NOT_SUPPORTED;
}

/* MSE SET (00 22 41 B6) for key and scheme, unless the card already holds it. */
static int set_env(struct vnp_card *card, const struct vnp_sw_entry *sw, struct vnp_iso_env *env,
		   uint8_t key, uint8_t alg, uint8_t hash, uint16_t salt, bool *ret_skipped)
{
	uint8_t data[16];
	struct vnp_apdu a;
	size_t n = 0;
	int rv;

	*ret_skipped = env->valid && env->key == key && env->alg == alg && env->hash == hash &&
		       env->salt == salt;
	if (*ret_skipped)
		return VNP_OK;
	env->valid = false;
	data[n++] = 0x84;
	data[n++] = 0x01;
	data[n++] = key;
	data[n++] = 0x80;
	data[n++] = 0x01;
	data[n++] = alg;
	if (alg == ISO_ALGREF_RSA_PSS) {
		data[n++] = 0x81;
		data[n++] = 0x01;
		data[n++] = hash;
		data[n++] = 0x85;
		data[n++] = 0x02;
		data[n++] = (uint8_t)(salt >> 8);
		data[n++] = (uint8_t)salt;
	}
	vnp_iso_apdu_init(&a, ISO_CLA, INS_MSE, 0x41, 0xB6);
	a.data = data;
	a.lc = n;
	rv = vnp_apdu_run(&card->io, &a, sw);
	if (rv)
		return rv;
	*env = (struct vnp_iso_env){ true, key, alg, hash, salt };
	return VNP_OK;
}

/* PSO: COMPUTE DIGITAL SIGNATURE (00 2A 9E 9A). */
static int pso_cds(struct vnp_card *card, const struct vnp_sw_entry *sw, size_t le,
		   const uint8_t *in, size_t in_len, uint8_t *out, size_t cap, size_t *ret_len,
		   uint16_t *ret_sw)
{
	struct vnp_apdu a;
	int rv;

	vnp_iso_apdu_init(&a, ISO_CLA, INS_PSO, 0x9E, 0x9A);
	a.data = in;
	a.lc = in_len;
	a.le = le;
	a.resp = out;
	a.resp_cap = cap;
	rv = vnp_apdu_run(&card->io, &a, sw);
	*ret_sw = a.sw;
	if (rv == VNP_OK)
		*ret_len = a.resp_len;
	return rv;
}

int vnp_iso_sign_mse_pso(struct vnp_card *card, const struct vnp_sw_entry *sw,
			 struct vnp_iso_env *env, uint8_t key, uint8_t alg, uint8_t hash,
			 uint16_t salt, size_t pso_le, const uint8_t *in, size_t in_len,
			 uint8_t *out, size_t *out_len)
{
	bool skipped = false;
	uint16_t card_sw = 0;
	size_t len = 0;
	int rv;

	rv = vnp_card_begin(card);
	if (rv)
		return rv;
	rv = set_env(card, sw, env, key, alg, hash, salt, &skipped);
	if (rv == VNP_OK)
		rv = pso_cds(card, sw, pso_le, in, in_len, out, *out_len, &len, &card_sw);
	if (rv == VNP_E_CONDITIONS && card_sw == ISO_SW_CONDITIONS && skipped) {
		/* The card lost the environment we thought it held: set it again, once. */
		vnp_log(VNP_LOG_CARD, "%s: security environment lost, MSE SET again",
			card->io.who);
		env->valid = false;
		rv = set_env(card, sw, env, key, alg, hash, salt, &skipped);
		if (rv == VNP_OK)
			rv = pso_cds(card, sw, pso_le, in, in_len, out, *out_len, &len, &card_sw);
	}
	if (rv == VNP_OK)
		*out_len = len;
	vnp_card_end(card);
	return rv;
}

int vnp_iso_get_challenge(struct vnp_card *card, const struct vnp_sw_entry *sw, uint8_t *buf,
			  size_t len)
{
	struct vnp_apdu a;
	size_t off = 0, n;
	int rv;

	rv = vnp_card_begin(card);
	if (rv)
		return rv;
	while (off < len) {
		n = VNP_MIN(len - off, 256u);
		vnp_iso_apdu_init(&a, ISO_CLA, INS_GET_CHALLENGE, 0x00, 0x00);
		a.le = n;
		a.resp = buf + off;
		a.resp_cap = n;
		rv = vnp_apdu_run(&card->io, &a, sw);
		if (rv == VNP_OK && a.resp_len != n)
			rv = VNP_E_MALFORMED;
		if (rv)
			break;
		off += n;
	}
	vnp_card_end(card);
	return rv;
}
