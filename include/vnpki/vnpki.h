/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki vendor extension. Applications and vnpki's own tools find it next to the
 * standard function list:
 *
 *   CK_INTERFACE_PTR i;
 *   CK_VERSION v = { 1, 0 };
 *   if (C_GetInterface((CK_UTF8CHAR_PTR)VNPKI_INTERFACE_NAME, &v, &i, 0) == CKR_OK) {
 *           const struct vnp_ext_functions *ext = i->pFunctionList;
 *           ...
 *   }
 *
 * Every function needs C_Initialize first (CKR_CRYPTOKI_NOT_INITIALIZED otherwise) and
 * returns CKR_SLOT_ID_INVALID / CKR_TOKEN_NOT_PRESENT / CKR_ARGUMENTS_BAD like the
 * standard functions. Members that a given version does not implement are NULL. */
#ifndef VNPKI_VNPKI_H
#define VNPKI_VNPKI_H

#include <stdint.h>
#include "pkcs11v3.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VNPKI_INTERFACE_NAME "Vendor VNPKI"
#define VNPKI_INTERFACE_VERSION_MAJOR 1
#define VNPKI_INTERFACE_VERSION_MINOR 1

/* APDU counters of the token in a slot, since the token was connected or the last reset. */
struct vnp_ext_apdu_stats {
	uint64_t apdus;        /* command APDUs sent (GET RESPONSE and chained parts included) */
	uint64_t by_ins[256];  /* the same, per INS byte */
	uint64_t transactions; /* card transactions opened */
	uint64_t bytes_out, bytes_in;
	/* Since version 1.1 (version 1.0 fills the struct up to bytes_in only): */
	uint64_t reader_calls; /* reader calls: transmit, begin and end transaction (through
				* pcscd each is one round trip) */
	uint64_t sign_requests; /* C_Sign/C_SignFinal that went to the card */
	uint64_t sign_card_ops; /* card operations they took (fewer when batched) */
};

/* PIN counters, read from the token without spending a try. -1: unknown. */
struct vnp_ext_pin_counters {
	int user_tries_left;
	int user_tries_max;
	int unblock_tries_left;
	int unblock_tries_max;
};

/* Device types (struct vnp_ext_token_details.device_type). */
#define VNPKI_DEVICE_PKI_TOKEN 1
#define VNPKI_DEVICE_SIM_PKI 2
#define VNPKI_DEVICE_PIV 3

/* What C_GetTokenInfo cannot say. No APDU: as learnt at the last card access. */
struct vnp_ext_token_details {
	CK_ULONG device_type;     /* VNPKI_DEVICE_* */
	CK_BYTE serial[16];       /* the card's serial, binary */
	CK_ULONG serial_len;
	CK_BBOOL terminated;      /* unblock counter spent: hand the device back */
	CK_BBOOL unblock_pending; /* an unblock request waits for its response code */
	CK_BBOOL pin_initial;     /* the PIN is still the one handed out at issuance */
	CK_BYTE reserved[32];
};

/* An unblock request (RECOVERY.md step 2). */
struct vnp_ext_unblock_request {
	char request_code[48];    /* "XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-C", NUL-terminated */
	CK_BYTE serial[8];
	CK_BYTE challenge[7];
};

struct vnp_ext_functions {
	CK_VERSION version; /* 1.1; the module also lists 1.0 (its get_apdu_stats fills the
			     * struct as 1.0 defined it, up to bytes_in) */
	/* Copy the APDU counters of the token in slot. CKR_TOKEN_NOT_PRESENT. */
	CK_RV (*get_apdu_stats)(CK_SLOT_ID slot, struct vnp_ext_apdu_stats *ret);
	/* Zero them. */
	CK_RV (*reset_apdu_stats)(CK_SLOT_ID slot);
	/* Read the PIN counters (one VERIFY without data per PIN: spends nothing). */
	CK_RV (*get_pin_counters)(CK_SLOT_ID slot, struct vnp_ext_pin_counters *ret);
	/* Device type, serial and recovery state of the token in slot (no APDU). */
	CK_RV (*get_token_details)(CK_SLOT_ID slot, struct vnp_ext_token_details *ret);
	/* Create an unblock request: the token draws and keeps a new challenge (an older
	 * request stops working). Works on a locked token; needs no login.
	 * CKR_FUNCTION_NOT_SUPPORTED (the device's recovery goes elsewhere, e.g. SIM PKI),
	 * CKR_DEVICE_ERROR, CKR_TOKEN_NOT_PRESENT. */
	CK_RV (*create_unblock_request)(CK_SLOT_ID slot, struct vnp_ext_unblock_request *ret);
	/* Reserved for later versions; NULL. */
	void *reserved[6];
};

#ifdef __cplusplus
}
#endif

#endif
