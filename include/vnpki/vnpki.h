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
#define VNPKI_INTERFACE_VERSION_MINOR 0

/* APDU counters of the token in a slot, since the token was connected or the last reset. */
struct vnp_ext_apdu_stats {
	uint64_t apdus;        /* command APDUs sent (GET RESPONSE and chained parts included) */
	uint64_t by_ins[256];  /* the same, per INS byte */
	uint64_t transactions; /* card transactions opened */
	uint64_t bytes_out, bytes_in;
};

/* PIN counters, read from the token without spending a try. -1: unknown. */
struct vnp_ext_pin_counters {
	int user_tries_left;
	int user_tries_max;
	int unblock_tries_left;
	int unblock_tries_max;
};

struct vnp_ext_functions {
	CK_VERSION version; /* 1.0 */
	/* Copy the APDU counters of the token in slot. CKR_TOKEN_NOT_PRESENT. */
	CK_RV (*get_apdu_stats)(CK_SLOT_ID slot, struct vnp_ext_apdu_stats *ret);
	/* Zero them. */
	CK_RV (*reset_apdu_stats)(CK_SLOT_ID slot);
	/* Read the PIN counters (one VERIFY without data per PIN: spends nothing). */
	CK_RV (*get_pin_counters)(CK_SLOT_ID slot, struct vnp_ext_pin_counters *ret);
	/* Reserved for the unblock-request functions (version 1.1); NULL in 1.0. */
	void *reserved[8];
};

#ifdef __cplusplus
}
#endif

#endif
