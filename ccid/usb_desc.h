/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Walking a USB configuration descriptor (USB 2.0 §9.6.3-§9.6.6) to find a CCID interface
 * (CCID 1.1 §4, §5): its bulk-IN, bulk-OUT and optional interrupt-IN endpoints and its
 * 54-byte class descriptor. Pure functions over bytes, every length checked against the
 * buffer: a descriptor that lies about its length is an error, never an over-read.
 * Private to ccid/. */
#ifndef VNP_USB_DESC_H
#define VNP_USB_DESC_H

#include <stddef.h>
#include <stdint.h>

#include "ccid_desc.h"

#define VNP_USB_DT_CONFIG 0x02
#define VNP_USB_DT_INTERFACE 0x04
#define VNP_USB_DT_ENDPOINT 0x05
#define VNP_USB_CLASS_CCID 0x0B
#define VNP_USB_CLASS_VENDOR 0xFF

/* One CCID interface found in a configuration. */
struct vnp_usb_ccid_if {
	uint8_t bInterfaceNumber;
	uint8_t bAlternateSetting;
	uint8_t bInterfaceClass;     /* 0x0B, or 0xFF for a vendor-class reader (quirk) */
	uint8_t ep_bulk_in;          /* endpoint addresses; bit 7 set for IN */
	uint8_t ep_bulk_out;
	uint8_t ep_intr_in;          /* 0 when the interface has no interrupt endpoint */
	uint16_t bulk_in_max_packet; /* wMaxPacketSize of bulk-IN */
	uint8_t class_desc[VNP_CCID_DESC_LEN]; /* copied verbatim; parse with ccid_desc.h */
};

/* Flags for vnp_usb_desc_find_ccid (from the quirks table, ccid/usb_quirks.h). */
#define VNP_USB_FIND_VENDOR_CLASS 0x1u /* also accept class 0xFF interfaces */

/* Find the index-th (0 = first) CCID interface (alternate setting 0) in the configuration
 * descriptor cfg (len bytes: the 9-byte header and the wTotalLength - 9 bytes that follow).
 * An interface qualifies when its class is 0x0B (or 0xFF with VNP_USB_FIND_VENDOR_CLASS),
 * it has a bulk-IN and a bulk-OUT endpoint, and a descriptor of type 0x21 and length 0x36
 * lies within its block (before or after its endpoints: some readers put it last).
 * Errors: VNP_E_ARGS (NULL), VNP_E_MALFORMED (header not a configuration descriptor,
 * wTotalLength larger than len or smaller than 9, a descriptor with bLength < 2 or running
 * past wTotalLength, a short interface or endpoint descriptor), VNP_E_NOT_FOUND (well formed,
 * no such CCID interface). *ret is set only on VNP_OK. Pure. */
int vnp_usb_desc_find_ccid(const uint8_t *cfg, size_t len, unsigned flags, unsigned index,
			   struct vnp_usb_ccid_if *ret);

#endif
