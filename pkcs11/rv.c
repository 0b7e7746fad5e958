/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* enum vnp_rv → CK_RV, CKR names, and the C_* call tracer. */
#include <stdarg.h>
#include <stdio.h>

#include "p11.h"
#include "log.h"
#include "rv.h"

/* The default mapping; callers override where the context says more (a wrong PIN during
 * C_Login, a missing card before any session exists). */
CK_RV vnp_ck_rv(int rv)
{
	switch (rv) {
	case VNP_OK: return CKR_OK;
	case VNP_E_NO_DEVICE:
	case VNP_E_NO_CARD:
	case VNP_E_CARD_RESET: return CKR_DEVICE_REMOVED;
	case VNP_E_TRANSPORT:
	case VNP_E_TIMEOUT:
	case VNP_E_NO_SERVICE:
	case VNP_E_SHARING: return CKR_DEVICE_ERROR;
	case VNP_E_CARD:
	case VNP_E_MALFORMED:
	case VNP_E_NOT_FOUND:
	case VNP_E_WRONG_LENGTH: return CKR_DEVICE_ERROR;
	case VNP_E_INVALID_DATA: return CKR_ARGUMENTS_BAD;
	case VNP_E_NOT_SUPPORTED: return CKR_FUNCTION_NOT_SUPPORTED;
	case VNP_E_CONDITIONS: return CKR_FUNCTION_REJECTED;
	case VNP_E_CARD_FULL: return CKR_DEVICE_MEMORY;
	case VNP_E_MEMORY_FAILURE: return CKR_DEVICE_ERROR;
	/* the card refuses everything but reading: C_Sign and the like fail as a device error;
	 * C_Login and C_InitPIN say CKR_PIN_LOCKED themselves */
	case VNP_E_TERMINATED: return CKR_DEVICE_ERROR;
	case VNP_E_PIN_INCORRECT: return CKR_PIN_INCORRECT;
	case VNP_E_PIN_LOCKED: return CKR_PIN_LOCKED;
	case VNP_E_SECURITY_STATUS: return CKR_USER_NOT_LOGGED_IN;
	case VNP_E_PIN_LEN: return CKR_PIN_LEN_RANGE;
	case VNP_E_PIN_INVALID: return CKR_PIN_INVALID;
	case VNP_E_ARGS: return CKR_ARGUMENTS_BAD;
	case VNP_E_BUFFER_TOO_SMALL: return CKR_BUFFER_TOO_SMALL;
	case VNP_E_RANGE: return CKR_DATA_LEN_RANGE;
	case VNP_E_NOMEM: return CKR_HOST_MEMORY;
	case VNP_E_CRYPTO:
	case VNP_E_INTERNAL:
	case VNP_E_CONFIG:
	case VNP_E_IO: return CKR_GENERAL_ERROR;
	}
	return CKR_GENERAL_ERROR;
}

#define N(x) { x, #x }
static const struct {
	CK_RV rv;
	const char *name;
} ckr_names[] = {
	N(CKR_OK), N(CKR_CANCEL), N(CKR_HOST_MEMORY), N(CKR_SLOT_ID_INVALID),
	N(CKR_GENERAL_ERROR), N(CKR_FUNCTION_FAILED), N(CKR_ARGUMENTS_BAD), N(CKR_NO_EVENT),
	N(CKR_NEED_TO_CREATE_THREADS), N(CKR_CANT_LOCK), N(CKR_ATTRIBUTE_READ_ONLY),
	N(CKR_ATTRIBUTE_SENSITIVE), N(CKR_ATTRIBUTE_TYPE_INVALID), N(CKR_ATTRIBUTE_VALUE_INVALID),
	N(CKR_ACTION_PROHIBITED), N(CKR_DATA_INVALID), N(CKR_DATA_LEN_RANGE), N(CKR_DEVICE_ERROR),
	N(CKR_DEVICE_MEMORY), N(CKR_DEVICE_REMOVED), N(CKR_FUNCTION_CANCELED),
	N(CKR_FUNCTION_NOT_PARALLEL), N(CKR_FUNCTION_NOT_SUPPORTED), N(CKR_KEY_HANDLE_INVALID),
	N(CKR_KEY_SIZE_RANGE), N(CKR_KEY_TYPE_INCONSISTENT), N(CKR_KEY_FUNCTION_NOT_PERMITTED),
	N(CKR_MECHANISM_INVALID), N(CKR_MECHANISM_PARAM_INVALID), N(CKR_OBJECT_HANDLE_INVALID),
	N(CKR_OPERATION_ACTIVE), N(CKR_OPERATION_NOT_INITIALIZED), N(CKR_PIN_INCORRECT),
	N(CKR_PIN_INVALID), N(CKR_PIN_LEN_RANGE), N(CKR_PIN_EXPIRED), N(CKR_PIN_LOCKED),
	N(CKR_SESSION_CLOSED), N(CKR_SESSION_COUNT), N(CKR_SESSION_HANDLE_INVALID),
	N(CKR_SESSION_PARALLEL_NOT_SUPPORTED), N(CKR_SESSION_READ_ONLY), N(CKR_SESSION_EXISTS),
	N(CKR_SESSION_READ_ONLY_EXISTS), N(CKR_SESSION_READ_WRITE_SO_EXISTS),
	N(CKR_SIGNATURE_INVALID), N(CKR_SIGNATURE_LEN_RANGE), N(CKR_TEMPLATE_INCOMPLETE),
	N(CKR_TEMPLATE_INCONSISTENT), N(CKR_TOKEN_NOT_PRESENT), N(CKR_TOKEN_NOT_RECOGNIZED),
	N(CKR_TOKEN_WRITE_PROTECTED), N(CKR_USER_ALREADY_LOGGED_IN), N(CKR_USER_NOT_LOGGED_IN),
	N(CKR_USER_PIN_NOT_INITIALIZED), N(CKR_USER_TYPE_INVALID),
	N(CKR_USER_ANOTHER_ALREADY_LOGGED_IN), N(CKR_USER_TOO_MANY_TYPES),
	N(CKR_DOMAIN_PARAMS_INVALID), N(CKR_CURVE_NOT_SUPPORTED), N(CKR_BUFFER_TOO_SMALL),
	N(CKR_RANDOM_SEED_NOT_SUPPORTED), N(CKR_RANDOM_NO_RNG), N(CKR_CRYPTOKI_NOT_INITIALIZED),
	N(CKR_CRYPTOKI_ALREADY_INITIALIZED), N(CKR_MUTEX_BAD), N(CKR_MUTEX_NOT_LOCKED),
	N(CKR_FUNCTION_REJECTED), N(CKR_OPERATION_CANCEL_FAILED),
};
#undef N

/* The CKR_ name of rv, or its hex value in a per-thread buffer. */
const char *vnp_ckr_name(CK_RV rv)
{
	static _Thread_local char buf[24];

	for (size_t i = 0; i < VNP_ARRAY_SIZE(ckr_names); i++)
		if (ckr_names[i].rv == rv)
			return ckr_names[i].name;
	snprintf(buf, sizeof(buf), "0x%lx", (unsigned long)rv);
	return buf;
}

/* One trace line per C_* call: "C_Xxx(args) = CKR_...". Callers never pass secrets in the
 * arguments: PINs are printed as "<redacted N bytes>" by the caller's format. */
void vnp_trace(const char *fn, CK_RV rv, const char *fmt, ...)
{
	char args[512];
	va_list ap;

	if (!vnp_log_enabled(VNP_LOG_P11))
		return;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	vnp_log(VNP_LOG_P11, "%s(%s) = %s", fn, args, vnp_ckr_name(rv));
}
