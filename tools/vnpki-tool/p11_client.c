/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loading the module (dlopen, C_GetFunctionList, C_Initialize, the "Vendor VNPKI"
 * interface through C_GetInterface), picking a token, finding objects and reading
 * attributes. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "messages.h"

#ifndef VNP_TOOL_MODULE_DEFAULT
#define VNP_TOOL_MODULE_DEFAULT "libvnpki-pkcs11.so"
#endif

int vnp_tool_load(struct tool *t)
{
	CK_C_GetFunctionList get_list;
	CK_C_GetInterface get_iface;
	CK_INTERFACE_PTR iface = NULL;
	CK_VERSION v = { VNPKI_INTERFACE_VERSION_MAJOR, VNPKI_INTERFACE_VERSION_MINOR };
	CK_C_INITIALIZE_ARGS init = { 0 };
	const char *path = t->module_path;
	char name[32];
	CK_RV rv;

	if (!path)
		path = secure_getenv("VNPKI_MODULE");
	if (!path || !*path)
		path = VNP_TOOL_MODULE_DEFAULT;
	t->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!t->dl) {
		vnp_err(MSG_MODULE_LOAD, path, dlerror());
		return EXIT_FAILED;
	}
	*(void **)&get_list = dlsym(t->dl, "C_GetFunctionList");
	if (!get_list || get_list(&t->f) != CKR_OK || !t->f) {
		vnp_err(MSG_MODULE_LOAD, path, "C_GetFunctionList");
		return EXIT_FAILED;
	}
	init.flags = CKF_OS_LOCKING_OK;
	rv = t->f->C_Initialize(&init);
	if (rv != CKR_OK) {
		vnp_err(MSG_CALL_FAILED, "C_Initialize", vnp_tool_rv_name(rv, name));
		return EXIT_FAILED;
	}
	t->initialized = true;
	*(void **)&get_iface = dlsym(t->dl, "C_GetInterface");
	if (get_iface && get_iface((CK_UTF8CHAR_PTR)VNPKI_INTERFACE_NAME, &v, &iface, 0) == CKR_OK &&
	    iface && iface->pFunctionList)
		t->ext = iface->pFunctionList;
	return EXIT_OK;
}

void vnp_tool_unload(struct tool *t)
{
	if (t->initialized)
		t->f->C_Finalize(NULL);
	t->initialized = false;
	if (t->dl)
		dlclose(t->dl);
	t->dl = NULL;
	t->f = NULL;
	t->ext = NULL;
}

int vnp_tool_token_slots(struct tool *t, CK_SLOT_ID **ret, CK_ULONG *ret_n)
{
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0;
	char name[32];
	CK_RV rv;

	for (int tries = 0; tries < 4; tries++) {
		rv = t->f->C_GetSlotList(CK_TRUE, NULL, &n);
		if (rv != CKR_OK)
			break;
		free(slots);
		slots = calloc(n ? n : 1, sizeof(*slots));
		if (!slots) {
			rv = CKR_HOST_MEMORY;
			break;
		}
		rv = t->f->C_GetSlotList(CK_TRUE, slots, &n);
		if (rv != CKR_BUFFER_TOO_SMALL)
			break;
	}
	if (rv != CKR_OK) {
		free(slots);
		vnp_err(MSG_CALL_FAILED, "C_GetSlotList", vnp_tool_rv_name(rv, name));
		return EXIT_FAILED;
	}
	*ret = slots;
	*ret_n = n;
	return EXIT_OK;
}

void vnp_tool_unpad(const CK_UTF8CHAR *field, size_t n, char *out)
{
	while (n && (field[n - 1] == ' ' || field[n - 1] == 0))
		n--;
	memcpy(out, field, n);
	out[n] = 0;
}

void vnp_tool_serial(struct tool *t, CK_SLOT_ID slot, const CK_TOKEN_INFO *ti, char out[40])
{
	struct vnp_ext_token_details d;
	char *hex;

	if (t->ext && t->ext->get_token_details && t->ext->get_token_details(slot, &d) == CKR_OK &&
	    d.serial_len && d.serial_len <= sizeof(d.serial)) {
		hex = vnp_hex(d.serial, d.serial_len);
		if (hex) {
			snprintf(out, 40, "%s", hex);
			free(hex);
			return;
		}
	}
	vnp_tool_unpad(ti->serialNumber, sizeof(ti->serialNumber), out);
}

/* Case-insensitive serial comparison that ignores ':' and '-'. */
static bool serial_eq(const char *a, const char *b)
{
	for (;;) {
		while (*a == ':' || *a == '-')
			a++;
		while (*b == ':' || *b == '-')
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		if ((*a | 0x20) != (*b | 0x20))
			return false;
		a++;
		b++;
	}
}

int vnp_tool_pick_slot(struct tool *t, CK_SLOT_ID *ret)
{
	CK_SLOT_ID *slots = NULL;
	CK_TOKEN_INFO ti;
	CK_ULONG n = 0, i, found = 0;
	char serial[40];
	int rc;

	rc = vnp_tool_token_slots(t, &slots, &n);
	if (rc != EXIT_OK)
		return rc;
	rc = EXIT_NO_TOKEN;
	for (i = 0; i < n; i++) {
		if (t->have_slot && slots[i] != t->slot)
			continue;
		if (t->serial) {
			if (t->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
				continue;
			vnp_tool_serial(t, slots[i], &ti, serial);
			if (!serial_eq(serial, t->serial))
				continue;
		}
		if (found++ == 0)
			*ret = slots[i];
	}
	if (found == 1)
		rc = EXIT_OK;
	else if (found > 1) {
		vnp_err(MSG_SEVERAL_TOKENS);
		rc = EXIT_USAGE;
	} else if (t->have_slot || t->serial)
		vnp_err(MSG_TOKEN_NOT_FOUND);
	else
		vnp_err(MSG_NO_TOKEN);
	free(slots);
	return rc;
}

CK_RV vnp_tool_find(struct tool *t, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
		    CK_OBJECT_HANDLE **ret, CK_ULONG *ret_n)
{
	CK_OBJECT_HANDLE *all = NULL, *grown;
	CK_ULONG count = 0, got = 0, cap = 0;
	CK_RV rv;

	rv = t->f->C_FindObjectsInit(s, tmpl, n);
	if (rv != CKR_OK)
		return rv;
	do {
		if (count + 16 > cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(all, cap * sizeof(*all));
			if (!grown) {
				rv = CKR_HOST_MEMORY;
				break;
			}
			all = grown;
		}
		rv = t->f->C_FindObjects(s, all + count, 16, &got);
		if (rv != CKR_OK)
			break;
		count += got;
	} while (got == 16);
	t->f->C_FindObjectsFinal(s);
	if (rv != CKR_OK) {
		free(all);
		return rv;
	}
	*ret = all;
	*ret_n = count;
	return CKR_OK;
}

CK_RV vnp_tool_attr(struct tool *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
		    CK_ATTRIBUTE_TYPE type, uint8_t **ret, CK_ULONG *ret_len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	CK_RV rv;

	rv = t->f->C_GetAttributeValue(s, h, &a, 1);
	if (rv != CKR_OK)
		return rv;
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return CKR_ATTRIBUTE_TYPE_INVALID;
	a.pValue = calloc(1, a.ulValueLen + 1);
	if (!a.pValue)
		return CKR_HOST_MEMORY;
	rv = t->f->C_GetAttributeValue(s, h, &a, 1);
	if (rv != CKR_OK) {
		free(a.pValue);
		return rv;
	}
	*ret = a.pValue;
	*ret_len = a.ulValueLen;
	return CKR_OK;
}

int vnp_tool_rv_exit(CK_RV rv)
{
	switch (rv) {
	case CKR_OK: return EXIT_OK;
	case CKR_PIN_INCORRECT: return EXIT_PIN_WRONG;
	case CKR_PIN_LOCKED: return EXIT_PIN_LOCKED;
	case CKR_TOKEN_NOT_PRESENT: case CKR_DEVICE_REMOVED: case CKR_SLOT_ID_INVALID:
	case CKR_TOKEN_NOT_RECOGNIZED:
		return EXIT_NO_TOKEN;
	case CKR_PIN_LEN_RANGE: case CKR_PIN_INVALID:
		return EXIT_USAGE;
	default: return EXIT_FAILED;
	}
}

const char *vnp_tool_rv_name(CK_RV rv, char buf[32])
{
	static const struct { CK_RV rv; const char *name; } names[] = {
		{ CKR_OK, "CKR_OK" },
		{ CKR_HOST_MEMORY, "CKR_HOST_MEMORY" },
		{ CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID" },
		{ CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR" },
		{ CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED" },
		{ CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD" },
		{ CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID" },
		{ CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID" },
		{ CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR" },
		{ CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY" },
		{ CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED" },
		{ CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED" },
		{ CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID" },
		{ CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT" },
		{ CKR_PIN_INVALID, "CKR_PIN_INVALID" },
		{ CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE" },
		{ CKR_PIN_LOCKED, "CKR_PIN_LOCKED" },
		{ CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY" },
		{ CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE" },
		{ CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT" },
		{ CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT" },
		{ CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED" },
		{ CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN" },
		{ CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN" },
		{ CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED" },
		{ CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID" },
		{ CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL" },
		{ CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED" },
		{ CKR_ACTION_PROHIBITED, "CKR_ACTION_PROHIBITED" },
		{ CKR_FUNCTION_REJECTED, "CKR_FUNCTION_REJECTED" },
		{ CKR_PIN_TOO_WEAK, "CKR_PIN_TOO_WEAK" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].rv == rv)
			return names[i].name;
	snprintf(buf, 32, "CKR_0x%08lX", (unsigned long)rv);
	return buf;
}

/* Tell why a C_Login(CKU_USER) failed, with the counters when the module has them. */
static void explain_login(struct tool *t, CK_SLOT_ID slot, CK_RV rv)
{
	struct vnp_ext_pin_counters c;
	char name[32];

	if (rv == CKR_PIN_INCORRECT) {
		if (t->ext && t->ext->get_pin_counters && t->ext->get_pin_counters(slot, &c) == CKR_OK &&
		    c.user_tries_left >= 0)
			vnp_err(MSG_PIN_INCORRECT_LEFT, c.user_tries_left);
		else
			vnp_err(MSG_PIN_INCORRECT);
	} else if (rv == CKR_PIN_LOCKED) {
		vnp_err(MSG_PIN_LOCKED_HINT);
	} else {
		vnp_err(MSG_CALL_FAILED, "C_Login", vnp_tool_rv_name(rv, name));
	}
}

int vnp_tool_login_user(struct tool *t, CK_SLOT_ID slot, CK_SESSION_HANDLE s,
			const struct pin_opts *po)
{
	struct vnp_secret pin = { 0 };
	CK_RV rv;
	int rc;

	rc = vnp_pin_read(PIN_USER, po, false, &pin);
	if (rc != EXIT_OK)
		return rc;
	rv = t->f->C_Login(s, CKU_USER, pin.p, (CK_ULONG)pin.len);
	vnp_secret_free(&pin);
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
		return EXIT_OK;
	explain_login(t, slot, rv);
	return vnp_tool_rv_exit(rv);
}
