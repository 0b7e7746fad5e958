/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Text for enum vnp_rv (STYLE.md §3): one table, one lookup. */
#include "rv.h"

/* Short English text for an enum vnp_rv value; never NULL. Unknown values get a generic text. */
const char *vnp_rv_text(int rv)
{
	switch ((enum vnp_rv)rv) {
	case VNP_OK: return "success";
	case VNP_E_TRANSPORT: return "reader I/O failed";
	case VNP_E_NO_DEVICE: return "reader not present";
	case VNP_E_NO_CARD: return "no card in the reader";
	case VNP_E_CARD_RESET: return "card was reset";
	case VNP_E_TIMEOUT: return "timeout";
	case VNP_E_NO_SERVICE: return "smart card service (pcscd) not available";
	case VNP_E_SHARING: return "reader in exclusive use by another application";
	case VNP_E_CARD: return "unexpected status word from card";
	case VNP_E_NOT_FOUND: return "applet, object or key not found";
	case VNP_E_WRONG_LENGTH: return "wrong length";
	case VNP_E_INVALID_DATA: return "invalid data in command";
	case VNP_E_NOT_SUPPORTED: return "command or parameters not supported";
	case VNP_E_CONDITIONS: return "conditions of use not satisfied";
	case VNP_E_CARD_FULL: return "not enough memory on card";
	case VNP_E_MALFORMED: return "malformed card answer";
	case VNP_E_TERMINATED: return "applet terminated";
	case VNP_E_MEMORY_FAILURE: return "card memory failure";
	case VNP_E_PIN_INCORRECT: return "PIN incorrect";
	case VNP_E_PIN_LOCKED: return "PIN blocked";
	case VNP_E_SECURITY_STATUS: return "security status not satisfied";
	case VNP_E_PIN_LEN: return "PIN length outside policy";
	case VNP_E_PIN_INVALID: return "PIN contains invalid characters";
	case VNP_E_ARGS: return "invalid arguments";
	case VNP_E_BUFFER_TOO_SMALL: return "buffer too small";
	case VNP_E_RANGE: return "value out of range";
	case VNP_E_CODE_CHECK: return "the code's check character does not match (a typo)";
	case VNP_E_NOMEM: return "out of memory";
	case VNP_E_INTERNAL: return "internal error";
	case VNP_E_CRYPTO: return "cryptographic library error";
	case VNP_E_CONFIG: return "configuration error";
	case VNP_E_IO: return "file I/O error";
	}
	return "unknown error";
}
