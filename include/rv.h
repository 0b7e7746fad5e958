/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal error model: one negative enum, grouped by layer (STYLE.md §3).
 * Every internal function returns VNP_OK (0) or one of these. pkcs11/rv.c maps
 * them to CKR_*; the caller overrides where context matters. */
#ifndef VNP_RV_H
#define VNP_RV_H

enum vnp_rv {
	VNP_OK = 0,

	/* transport (ccid/) */
	VNP_E_TRANSPORT = -100,     /* reader I/O failed */
	VNP_E_NO_DEVICE = -101,     /* the reader itself is gone */
	VNP_E_NO_CARD = -102,       /* no card in the reader / card removed */
	VNP_E_CARD_RESET = -103,    /* card was reset: volatile card state is lost */
	VNP_E_TIMEOUT = -104,
	VNP_E_NO_SERVICE = -105,    /* pcscd not running */
	VNP_E_SHARING = -106,       /* reader held exclusively by someone else */

	/* card (apdu/) */
	VNP_E_CARD = -200,          /* unexpected or unknown status word */
	VNP_E_NOT_FOUND = -201,     /* 6A82, 6A88: applet, object or key not found */
	VNP_E_WRONG_LENGTH = -202,  /* 6700 */
	VNP_E_INVALID_DATA = -203,  /* 6A80 */
	VNP_E_NOT_SUPPORTED = -204, /* 6D00, 6E00, 6A81, 6A86: command or parameters */
	VNP_E_CONDITIONS = -205,    /* 6985 */
	VNP_E_CARD_FULL = -206,     /* 6A84 */
	VNP_E_MALFORMED = -207,     /* card answer does not parse */
	VNP_E_TERMINATED = -208,    /* 6285 / applet terminated for good */
	VNP_E_MEMORY_FAILURE = -209,/* 6581 */

	/* authentication */
	VNP_E_PIN_INCORRECT = -300, /* 63Cx with x > 0 */
	VNP_E_PIN_LOCKED = -301,    /* 6983, or 63C0 */
	VNP_E_SECURITY_STATUS = -302,/* 6982: not logged in */
	VNP_E_PIN_LEN = -303,       /* PIN outside the token's policy (host check) */
	VNP_E_PIN_INVALID = -304,   /* PIN has characters the policy refuses */

	/* arguments */
	VNP_E_ARGS = -400,
	VNP_E_BUFFER_TOO_SMALL = -401,
	VNP_E_RANGE = -402,
	VNP_E_CODE_CHECK = -403,    /* a request/response code whose check character fails */

	/* internal */
	VNP_E_NOMEM = -500,
	VNP_E_INTERNAL = -501,
	VNP_E_CRYPTO = -502,
	VNP_E_CONFIG = -503,
	VNP_E_IO = -504,            /* host file I/O (state, cache, config) */
};

/* Short English text for an enum vnp_rv value; never NULL. Defined in ccid/rv_text.c. */
const char *vnp_rv_text(int rv);

#endif
