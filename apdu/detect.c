/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Detection order from the ATR. A wrong guess costs one SELECT answered 6A82; a right one
 * saves the SELECTs of the drivers before it. Nothing here talks to the card. */
#include <string.h>

#include "applet/piv_int.h"
#include "applet/simpki_int.h"
#include "compiler.h"
#include "detect.h"

/* Historical bytes of the virtual vntoken (tools/vtoken/APPLET.md). */
static const uint8_t vntoken_hist[] = { 'V', 'N', 'P', 'K', 'I', '-', 'V', 'T' };

/* The default order; a vntoken ATR keeps it (vntoken first). */
static const struct vnp_card_driver *const order_other[] = {
	&vnp_driver_vntoken, &vnp_driver_piv, &vnp_driver_simpki,
};
static const struct vnp_card_driver *const order_piv[] = {
	&vnp_driver_piv, &vnp_driver_vntoken, &vnp_driver_simpki,
};
static const struct vnp_card_driver *const order_t0[] = {
	&vnp_driver_simpki, &vnp_driver_vntoken, &vnp_driver_piv,
};

/* Whether the historical bytes h[k] contain the text t. */
static bool has_text(const uint8_t *h, size_t k, const char *t)
{
	size_t n = strlen(t);

	for (size_t i = 0; i + n <= k; i++)
		if (memcmp(h + i, t, n) == 0)
			return true;
	return false;
}

enum vnp_atr_class vnp_atr_classify(const uint8_t *atr, size_t len)
{
	size_t i = 2, k;
	uint8_t y;
	bool other_proto = false, first = true;

	if (!atr || len < 2 || (atr[0] != 0x3B && atr[0] != 0x3F))
		return VNP_ATR_OTHER;
	k = atr[1] & 0x0F;
	y = atr[1] >> 4;
	for (;;) {
		uint8_t td;

		/* TAi, TBi, TCi present per bits 5-7 of the previous T0/TDi */
		i += (size_t)((y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1));
		if (!(y & 0x08))
			break;
		if (i >= len)
			return VNP_ATR_OTHER;
		td = atr[i++];
		if ((td & 0x0F) != 0 && (td & 0x0F) != 15)
			other_proto = true; /* T=1 (or another) offered */
		if ((td & 0x0F) == 15 && first)
			other_proto = true; /* TD1 may not name T=15 (7816-3 §8.2.3) */
		first = false;
		y = td >> 4;
	}
	if (i + k > len)
		return VNP_ATR_OTHER;
	if (k == sizeof(vntoken_hist) && memcmp(atr + i, vntoken_hist, k) == 0)
		return VNP_ATR_VNTOKEN;
	if (has_text(atr + i, k, "PIV") || has_text(atr + i, k, "Yubikey"))
		return VNP_ATR_PIV;
	return other_proto ? VNP_ATR_OTHER : VNP_ATR_T0_ONLY;
}

size_t vnp_card_detect_order(const uint8_t *atr, size_t len,
			     const struct vnp_card_driver **ret, size_t cap)
{
	const struct vnp_card_driver *const *list;
	size_t n, i;

	switch (vnp_atr_classify(atr, len)) {
	case VNP_ATR_PIV:
		list = order_piv;
		n = VNP_ARRAY_SIZE(order_piv);
		break;
	case VNP_ATR_T0_ONLY:
		list = order_t0;
		n = VNP_ARRAY_SIZE(order_t0);
		break;
	case VNP_ATR_VNTOKEN:
	case VNP_ATR_OTHER:
	default:
		list = order_other;
		n = VNP_ARRAY_SIZE(order_other);
		break;
	}
	for (i = 0; i < n && i < cap; i++)
		ret[i] = list[i];
	return i;
}
