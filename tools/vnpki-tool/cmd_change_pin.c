/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `change-pin`: old PIN, new PIN twice, C_SetPIN. Explains a wrong old PIN (with the tries
 * left), a new PIN outside the token's length policy, and a locked PIN. */
#include <getopt.h>
#include <stdlib.h>

#include "tool.h"
#include "messages.h"

static void explain(struct tool *t, CK_SLOT_ID slot, CK_RV rv)
{
	struct vnp_ext_pin_counters c;
	CK_TOKEN_INFO ti;
	char name[32];

	switch (rv) {
	case CKR_PIN_INCORRECT:
		if (t->ext && t->ext->get_pin_counters && t->ext->get_pin_counters(slot, &c) == CKR_OK &&
		    c.user_tries_left >= 0) {
			if (c.user_tries_left == 0)
				vnp_err(MSG_PIN_NOW_LOCKED);
			else
				vnp_err(MSG_PIN_INCORRECT_LEFT, c.user_tries_left);
		} else {
			vnp_err(MSG_PIN_INCORRECT);
		}
		break;
	case CKR_PIN_LEN_RANGE:
		if (t->f->C_GetTokenInfo(slot, &ti) == CKR_OK)
			vnp_err(MSG_PIN_LEN_RANGE, (unsigned long)ti.ulMinPinLen,
				(unsigned long)ti.ulMaxPinLen);
		else
			vnp_err(MSG_PIN_LEN_RANGE_NOPOLICY);
		break;
	case CKR_PIN_INVALID:
	case CKR_PIN_TOO_WEAK:
		vnp_err(MSG_PIN_INVALID);
		break;
	case CKR_PIN_LOCKED:
		vnp_err(MSG_PIN_LOCKED_HINT);
		break;
	default:
		vnp_err(MSG_CALL_FAILED, "C_SetPIN", vnp_tool_rv_name(rv, name));
	}
}

int vnp_cmd_change_pin(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		VNP_COMMON_OPTIONS,
		{ "pin", required_argument, NULL, OPT_PIN },
		{ "pin-file", required_argument, NULL, OPT_PIN_FILE },
		{ "new-pin", required_argument, NULL, OPT_NEW_PIN },
		{ "new-pin-file", required_argument, NULL, OPT_NEW_PIN_FILE },
		{ NULL, 0, NULL, 0 },
	};
	struct pin_opts old_po = { 0 }, new_po = { 0 };
	struct vnp_secret old_pin = { 0 }, new_pin = { 0 };
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_TOKEN_INFO ti;
	CK_SLOT_ID slot;
	CK_RV rv;
	int c, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_PIN: old_po.value = optarg; vnp_pin_warn_cmdline("--pin"); break;
		case OPT_PIN_FILE: old_po.file = optarg; break;
		case OPT_NEW_PIN: new_po.value = optarg; vnp_pin_warn_cmdline("--new-pin"); break;
		case OPT_NEW_PIN_FILE: new_po.file = optarg; break;
		default:
			if (!vnp_common_option(t, c, optarg, &rc))
				rc = EXIT_USAGE;
		}
		if (c == 'h' || rc != EXIT_OK) {
			vnp_usage(MSG_HELP_CHANGE_PIN, rc == EXIT_OK ? stdout : stderr);
			return rc;
		}
	}
	if (optind != argc) {
		vnp_usage(MSG_HELP_CHANGE_PIN, stderr);
		return EXIT_USAGE;
	}
	rc = vnp_tool_load(t);
	if (rc == EXIT_OK)
		rc = vnp_tool_pick_slot(t, &slot);
	if (rc != EXIT_OK)
		goto out;
	rc = vnp_pin_read(PIN_USER, &old_po, false, &old_pin);
	if (rc == EXIT_OK)
		rc = vnp_pin_read(PIN_NEW, &new_po, true, &new_pin);
	if (rc != EXIT_OK)
		goto out;
	/* Check the policy on the host first: a PIN of the wrong length spends no try. */
	if (t->f->C_GetTokenInfo(slot, &ti) == CKR_OK && ti.ulMaxPinLen &&
	    (new_pin.len < ti.ulMinPinLen || new_pin.len > ti.ulMaxPinLen)) {
		vnp_err(MSG_PIN_LEN_RANGE, (unsigned long)ti.ulMinPinLen, (unsigned long)ti.ulMaxPinLen);
		rc = EXIT_USAGE;
		goto out;
	}
	rv = t->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
	if (rv == CKR_OK)
		rv = t->f->C_SetPIN(s, old_pin.p, (CK_ULONG)old_pin.len, new_pin.p,
				    (CK_ULONG)new_pin.len);
	if (rv != CKR_OK) {
		explain(t, slot, rv);
		rc = vnp_tool_rv_exit(rv);
		goto out;
	}
	vnp_say(MSG_PIN_CHANGED);
out:
	vnp_secret_free(&old_pin);
	vnp_secret_free(&new_pin);
	if (s != CK_INVALID_HANDLE)
		t->f->C_CloseSession(s);
	return rc;
}
