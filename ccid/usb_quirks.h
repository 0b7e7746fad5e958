/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-device quirks of USB CCID readers and tokens, keyed by VID:PID: one built-in table
 * (usb_quirks.c) plus entries from the configuration (`usb.quirks`), and the `usb.only`
 * filter. Pure functions. Private to ccid/. */
#ifndef VNP_USB_QUIRKS_H
#define VNP_USB_QUIRKS_H

#include <stdbool.h>
#include <stdint.h>

enum {
	/* The interface declares the vendor class 0xFF but carries a CCID class descriptor
	 * (readers and tokens made before CCID 1.0 was final). */
	VNP_USB_Q_VENDOR_CLASS = 1u << 0,
	/* Do not use the interrupt endpoint (it never reports, or reports wrongly): card
	 * presence is asked with GetSlotStatus instead. */
	VNP_USB_Q_NO_INTERRUPT = 1u << 1,
	/* Never touch this device. */
	VNP_USB_Q_IGNORE = 1u << 2,
};

/* Quirk flags for vid:pid: the built-in table OR'ed with the entries of extra (may be NULL;
 * the text of `usb.quirks`: "vvvv:pppp flag[ flag...][, vvvv:pppp ...]" with flags
 * vendor-class, no-interrupt, ignore). Malformed entries of extra are skipped (the
 * configuration check, vnp_usb_quirks_check, reports them). */
unsigned vnp_usb_quirks_lookup(uint16_t vid, uint16_t pid, const char *extra);

/* VNP_OK when text is a well-formed `usb.quirks` value, VNP_E_CONFIG otherwise. */
int vnp_usb_quirks_check(const char *text);

/* true when list (the text of `usb.only`: "vvvv:pppp[, vvvv:pppp...]", hex) is NULL or empty,
 * or names vid:pid. */
bool vnp_usb_id_allowed(const char *list, uint16_t vid, uint16_t pid);

#endif
