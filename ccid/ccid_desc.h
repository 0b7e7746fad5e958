/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CCID class descriptor (CCID specification 1.1 §5.1, table 5.1-1): 54 bytes from the
 * device, parsed with every field bounds-checked. Private to ccid/. */
#ifndef VNP_CCID_DESC_H
#define VNP_CCID_DESC_H

#include <stddef.h>
#include <stdint.h>

#define VNP_CCID_DESC_LEN 0x36
#define VNP_CCID_DESC_TYPE 0x21

/* dwFeatures exchange level bits (§5.1) */
#define VNP_CCID_FEAT_TPDU 0x00010000u
#define VNP_CCID_FEAT_SHORT_APDU 0x00020000u
#define VNP_CCID_FEAT_EXT_APDU 0x00040000u
#define VNP_CCID_FEAT_LEVEL_MASK 0x00070000u

/* dwProtocols bits */
#define VNP_CCID_PROTO_T0 0x00000001u
#define VNP_CCID_PROTO_T1 0x00000002u

/* Sanity bounds on dwMaxCCIDMessageLength: a header plus one byte, and 1 MiB (a value the
 * device made up; the spec's largest useful message is 10 + 65544). */
#define VNP_CCID_MSG_LEN_MIN 11u
#define VNP_CCID_MSG_LEN_MAX 0x100000u

enum vnp_ccid_level {
	VNP_CCID_LEVEL_CHARACTER = 0,
	VNP_CCID_LEVEL_TPDU,
	VNP_CCID_LEVEL_SHORT_APDU,
	VNP_CCID_LEVEL_EXTENDED_APDU,
};

/* Field names as in the specification. */
struct vnp_ccid_desc {
	uint8_t bLength;
	uint8_t bDescriptorType;
	uint16_t bcdCCID;
	uint8_t bMaxSlotIndex;
	uint8_t bVoltageSupport;
	uint32_t dwProtocols;
	uint32_t dwDefaultClock;
	uint32_t dwMaximumClock;
	uint8_t bNumClockSupported;
	uint32_t dwDataRate;
	uint32_t dwMaxDataRate;
	uint8_t bNumDataRatesSupported;
	uint32_t dwMaxIFSD;
	uint32_t dwSynchProtocols;
	uint32_t dwMechanical;
	uint32_t dwFeatures;
	uint32_t dwMaxCCIDMessageLength;
	uint8_t bClassGetResponse;
	uint8_t bClassEnvelope;
	uint16_t wLcdLayout;
	uint8_t bPINSupport;
	uint8_t bMaxCCIDBusySlots;
	enum vnp_ccid_level level; /* derived from dwFeatures */
};

/* Parse the class descriptor at buf (len bytes available; extra bytes after it are ignored).
 * Errors (VNP_E_MALFORMED, *ret_desc untouched): len < 0x36, bLength != 0x36, bDescriptorType
 * != 0x21, dwProtocols without T=0 or T=1, dwMaxCCIDMessageLength outside
 * [VNP_CCID_MSG_LEN_MIN, VNP_CCID_MSG_LEN_MAX]. VNP_E_ARGS for NULL pointers. Pure. */
int vnp_ccid_desc_parse(const uint8_t *buf, size_t len, struct vnp_ccid_desc *ret_desc);

/* Exchange level declared by dwFeatures: extended APDU, else short APDU, else TPDU, else
 * character level. Pure. */
enum vnp_ccid_level vnp_ccid_desc_level(uint32_t dwFeatures);

#endif
