/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Status words -> enum vnp_rv. Pure: no side effects. */
#ifndef VNP_SW_H
#define VNP_SW_H

#include <stdint.h>

struct vnp_sw_entry {
	uint16_t sw, mask; /* matches when (sw & mask) == entry.sw */
	int rv;
	const char *text;
};

/* Map sw to a vnp_rv: the applet table (terminated by an entry with mask 0) is consulted
 * first, then the ISO table. 9000 -> VNP_OK; 63Cx -> VNP_E_PIN_INCORRECT (x > 0) or
 * VNP_E_PIN_LOCKED (x == 0); unknown -> VNP_E_CARD. */
int vnp_sw_to_rv(uint16_t sw, const struct vnp_sw_entry *applet_table);
/* Human text for a SW ("verification failed, 2 tries left" is not built here); never NULL. */
const char *vnp_sw_text(uint16_t sw);
/* Tries left from 63Cx, or -1 when sw is not 63Cx. */
int vnp_sw_tries_left(uint16_t sw);

#endif
