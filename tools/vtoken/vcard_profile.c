/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Card profiles of the virtual token: which applets the card OS can SELECT, its ATR, and
 * whether it behaves as a T=0 card. The profile is the state's "profile" line. */
#include <string.h>

#include "applet_piv.h"
#include "compiler.h"
#include "vcard.h"

/* A UICC's ATR (ETSI TS 102 221 §6.3 shape): TS 3B, T0 9F (TA1 TD1, 15 historical bytes),
 * TA1 96 (Fi 512 / Di 32), TD1 80 (T=0, TD2 follows), TD2 1F (T=15 global bytes: TA3),
 * TA3 C7 (clock stop, 1.8/3/5 V classes), historical bytes 80 31 E0 73 FE 21 1B 63 3A 20
 * 4E 83 00 90 00, then TCK (T=15 is named). T=0 is the only protocol. */
static const uint8_t uicc_atr[] = { 0x3B, 0x9F, 0x96, 0x80, 0x1F, 0xC7, 0x80, 0x31,
				    0xE0, 0x73, 0xFE, 0x21, 0x1B, 0x63, 0x3A, 0x20,
				    0x4E, 0x83, 0x00, 0x90, 0x00 };
/* A card with no applet we know: T=1, historical bytes "VNPKI-BLANK", TCK follows. */
static const uint8_t blank_atr[] = { 0x3B, 0x8B, 0x80, 0x01, 0x56, 0x4E, 0x50, 0x4B,
				     0x49, 0x2D, 0x42, 0x4C, 0x41, 0x4E, 0x4B };

static const struct vnp_vt_applet *const vntoken_applets[] = { &vnp_vt_applet_vntoken };
static const struct vnp_vt_applet *const piv_applets[] = { &vnp_vt_applet_piv };
static const struct vnp_vt_applet *const sim_applets[] = { &vnp_vt_applet_usim,
							   &vnp_vt_applet_simpki };

static const char *const names[] = {
	[VNP_VT_PROFILE_VNTOKEN] = "vntoken",
	[VNP_VT_PROFILE_PIV] = "piv",
	[VNP_VT_PROFILE_SIM] = "sim",
	[VNP_VT_PROFILE_BLANK] = "blank",
};

static bool is(const struct vnp_vcard *card, uint8_t profile)
{
	return card && card->st && card->st->d.profile == profile;
}

uint8_t vnp_vt_profile_of(const char *name)
{
	for (size_t i = 0; name && i < VNP_ARRAY_SIZE(names); i++)
		if (strcmp(name, names[i]) == 0)
			return (uint8_t)i;
	return VNP_VT_PROFILE_VNTOKEN;
}

bool vnp_vt_profile_known(const char *name)
{
	for (size_t i = 0; name && i < VNP_ARRAY_SIZE(names); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

const struct vnp_vt_applet *const *vnp_vcard_applets(const struct vnp_vcard *card,
						     size_t *ret_n)
{
	if (is(card, VNP_VT_PROFILE_PIV)) {
		*ret_n = VNP_ARRAY_SIZE(piv_applets);
		return piv_applets;
	}
	if (is(card, VNP_VT_PROFILE_SIM)) {
		*ret_n = VNP_ARRAY_SIZE(sim_applets);
		return sim_applets;
	}
	if (is(card, VNP_VT_PROFILE_BLANK)) {
		*ret_n = 0;
		return NULL;
	}
	*ret_n = VNP_ARRAY_SIZE(vntoken_applets);
	return vntoken_applets;
}

/* Copy an ATR that names T=1 or T=15 and append its check byte (XOR of T0..last). */
static size_t with_tck(const uint8_t *src, size_t len, uint8_t *atr)
{
	uint8_t tck = 0;

	memcpy(atr, src, len);
	for (size_t i = 1; i < len; i++)
		tck ^= src[i];
	atr[len] = tck;
	return len + 1;
}

size_t vnp_vcard_atr_of(const struct vnp_vcard *card, uint8_t *atr)
{
	if (is(card, VNP_VT_PROFILE_PIV))
		return vnp_vt_piv_atr(&card->st->d, atr);
	if (is(card, VNP_VT_PROFILE_SIM))
		return with_tck(uicc_atr, sizeof(uicc_atr), atr);
	if (is(card, VNP_VT_PROFILE_BLANK))
		return with_tck(blank_atr, sizeof(blank_atr), atr);
	return vnp_vcard_atr(atr);
}

bool vnp_vcard_is_t0(const struct vnp_vcard *card)
{
	return card && (card->force_t0 || (card->st && card->st->d.t0) ||
			is(card, VNP_VT_PROFILE_SIM));
}
