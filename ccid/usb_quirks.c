/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The quirks table of the usb backend (see usb_quirks.h). */
#include <stdlib.h>
#include <string.h>

#include "hexcodec.h"
#include "rv.h"
#include "usb_quirks.h"

struct quirk {
	uint16_t vid, pid;
	unsigned flags;
	const char *what;
};

/* Built-in entries. Keep sorted by VID then PID. A device that needs a quirk and is not here
 * can be given one in the configuration (`usb.quirks`) without a rebuild. */
static const struct quirk table[] = {
	/* pid.codes (1209) test PID 0001, never on a product: lets tests/usb present its synthetic
	 * token with the vendor class 0xFF. */
	{0x1209, 0x0001, VNP_USB_Q_VENDOR_CLASS, "test: the synthetic vendor-class token"},
};

static const char *const flag_names[] = {"vendor-class", "no-interrupt", "ignore"};

static int parse_hex4(const char *s, uint16_t *ret)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		int d = vnp_hex_nibble(s[i]);

		if (d < 0)
			return VNP_E_CONFIG;
		v = v * 16 + (unsigned)d;
	}
	*ret = (uint16_t)v;
	return VNP_OK;
}

/* Parse "vvvv:pppp" at *p; advance past it. */
static int parse_id(const char **p, uint16_t *vid, uint16_t *pid)
{
	const char *s = *p;

	while (*s == ' ' || *s == '\t')
		s++;
	if (strlen(s) < 9 || s[4] != ':' || parse_hex4(s, vid) != VNP_OK ||
	    parse_hex4(s + 5, pid) != VNP_OK)
		return VNP_E_CONFIG;
	*p = s + 9;
	return VNP_OK;
}

/* Walk text entry by entry ("id flags, id flags"). For each well-formed entry naming vid:pid
 * OR its flags into *acc. Returns VNP_E_CONFIG at the first malformed entry. */
static int walk(const char *text, uint16_t vid, uint16_t pid, unsigned *acc)
{
	const char *p = text;

	while (p && *p) {
		uint16_t v, d;
		unsigned flags = 0;
		const char *end;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		if (parse_id(&p, &v, &d) != VNP_OK)
			return VNP_E_CONFIG;
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		while (p < end) {
			size_t n;
			unsigned i;

			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (p == end)
				break;
			n = strcspn(p, " \t,");
			for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
				if (strlen(flag_names[i]) == n && !strncmp(p, flag_names[i], n))
					break;
			if (i == sizeof(flag_names) / sizeof(flag_names[0]))
				return VNP_E_CONFIG;
			flags |= 1u << i;
			p += n;
		}
		if (!flags)
			return VNP_E_CONFIG;
		if (v == vid && d == pid)
			*acc |= flags;
	}
	return VNP_OK;
}

unsigned vnp_usb_quirks_lookup(uint16_t vid, uint16_t pid, const char *extra)
{
	unsigned flags = 0;

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].vid == vid && table[i].pid == pid)
			flags |= table[i].flags;
	if (extra)
		(void)walk(extra, vid, pid, &flags); /* entries before a malformed one count */
	return flags;
}

int vnp_usb_quirks_check(const char *text)
{
	unsigned dummy = 0;

	if (!text)
		return VNP_OK;
	return walk(text, 0, 0, &dummy);
}

bool vnp_usb_id_allowed(const char *list, uint16_t vid, uint16_t pid)
{
	const char *p = list;

	if (!list || !*list)
		return true;
	while (*p) {
		uint16_t v, d;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		if (parse_id(&p, &v, &d) != VNP_OK)
			return false; /* a malformed filter lets nothing through */
		if (v == vid && d == pid)
			return true;
	}
	return false;
}
