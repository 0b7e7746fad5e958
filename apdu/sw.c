/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ISO/IEC 7816-4 §5.6 status words -> enum vnp_rv. Pure functions, no state. */
#include <stddef.h>

#include "compiler.h"
#include "rv.h"
#include "sw.h"

static const struct vnp_sw_entry iso_sw[] = {
	{ 0x9000, 0xFFFF, VNP_OK, "success" },
	{ 0x6100, 0xFF00, VNP_OK, "more response bytes available" },
	{ 0x6281, 0xFFFF, VNP_E_CARD, "part of returned data may be corrupted" },
	{ 0x6282, 0xFFFF, VNP_E_CARD, "end of file reached before reading Ne bytes" },
	{ 0x6283, 0xFFFF, VNP_E_TERMINATED, "selected file or applet terminated" },
	{ 0x6285, 0xFFFF, VNP_E_TERMINATED, "selected file in termination state" },
	{ 0x6300, 0xFFFF, VNP_E_CARD, "verification failed" },
	{ 0x6400, 0xFFFF, VNP_E_CARD, "execution error, state unchanged" },
	{ 0x6581, 0xFFFF, VNP_E_MEMORY_FAILURE, "memory failure" },
	{ 0x6700, 0xFFFF, VNP_E_WRONG_LENGTH, "wrong length" },
	{ 0x6881, 0xFFFF, VNP_E_NOT_SUPPORTED, "logical channel not supported" },
	{ 0x6882, 0xFFFF, VNP_E_NOT_SUPPORTED, "secure messaging not supported" },
	{ 0x6883, 0xFFFF, VNP_E_CARD, "last command of the chain expected" },
	{ 0x6884, 0xFFFF, VNP_E_NOT_SUPPORTED, "command chaining not supported" },
	{ 0x6981, 0xFFFF, VNP_E_NOT_SUPPORTED, "command incompatible with file structure" },
	{ 0x6982, 0xFFFF, VNP_E_SECURITY_STATUS, "security status not satisfied" },
	{ 0x6983, 0xFFFF, VNP_E_PIN_LOCKED, "authentication method blocked" },
	{ 0x6984, 0xFFFF, VNP_E_CARD, "reference data not usable" },
	{ 0x6985, 0xFFFF, VNP_E_CONDITIONS, "conditions of use not satisfied" },
	{ 0x6986, 0xFFFF, VNP_E_NOT_SUPPORTED, "command not allowed (no current EF)" },
	{ 0x6987, 0xFFFF, VNP_E_CARD, "expected secure messaging data objects missing" },
	{ 0x6988, 0xFFFF, VNP_E_CARD, "incorrect secure messaging data objects" },
	{ 0x6A80, 0xFFFF, VNP_E_INVALID_DATA, "incorrect parameters in the data field" },
	{ 0x6A81, 0xFFFF, VNP_E_NOT_SUPPORTED, "function not supported" },
	{ 0x6A82, 0xFFFF, VNP_E_NOT_FOUND, "file or application not found" },
	{ 0x6A83, 0xFFFF, VNP_E_NOT_FOUND, "record not found" },
	{ 0x6A84, 0xFFFF, VNP_E_CARD_FULL, "not enough memory space in the file" },
	{ 0x6A85, 0xFFFF, VNP_E_WRONG_LENGTH, "Nc inconsistent with TLV structure" },
	{ 0x6A86, 0xFFFF, VNP_E_NOT_SUPPORTED, "incorrect parameters P1-P2" },
	{ 0x6A87, 0xFFFF, VNP_E_WRONG_LENGTH, "Nc inconsistent with parameters P1-P2" },
	{ 0x6A88, 0xFFFF, VNP_E_NOT_FOUND, "referenced data or reference data not found" },
	{ 0x6A89, 0xFFFF, VNP_E_INVALID_DATA, "file already exists" },
	{ 0x6A8A, 0xFFFF, VNP_E_INVALID_DATA, "DF name already exists" },
	{ 0x6B00, 0xFFFF, VNP_E_NOT_SUPPORTED, "wrong parameters P1-P2" },
	{ 0x6C00, 0xFF00, VNP_E_WRONG_LENGTH, "wrong Le field" },
	{ 0x6D00, 0xFFFF, VNP_E_NOT_SUPPORTED, "instruction not supported" },
	{ 0x6E00, 0xFFFF, VNP_E_NOT_SUPPORTED, "class not supported" },
	{ 0x6F00, 0xFFFF, VNP_E_CARD, "no precise diagnosis" },
	{ 0, 0, 0, NULL },
};

static const struct vnp_sw_entry *lookup(const struct vnp_sw_entry *table, uint16_t sw)
{
	const struct vnp_sw_entry *e;

	if (!table)
		return NULL;
	for (e = table; e->mask != 0; e++)
		if ((sw & e->mask) == e->sw)
			return e;
	return NULL;
}

int vnp_sw_tries_left(uint16_t sw)
{
	if ((sw & 0xFFF0) == 0x63C0)
		return sw & 0x0F;
	return -1;
}

int vnp_sw_to_rv(uint16_t sw, const struct vnp_sw_entry *applet_table)
{
	const struct vnp_sw_entry *e;
	int tries;

	e = lookup(applet_table, sw);
	if (e)
		return e->rv;
	/* ISO/IEC 7816-4 §5.6: 63Cx, x = counter (tries left). */
	tries = vnp_sw_tries_left(sw);
	if (tries >= 0)
		return tries > 0 ? VNP_E_PIN_INCORRECT : VNP_E_PIN_LOCKED;
	e = lookup(iso_sw, sw);
	if (e)
		return e->rv;
	return VNP_E_CARD;
}

const char *vnp_sw_text(uint16_t sw)
{
	const struct vnp_sw_entry *e;

	if ((sw & 0xFFF0) == 0x63C0)
		return (sw & 0x0F) ? "verification failed, tries left in SW2 low nibble"
				   : "verification failed, no try left";
	e = lookup(iso_sw, sw);
	if (e)
		return e->text;
	return "unknown status word";
}
