/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `unblock`: enter the response code from the authorised agency and set a new PIN. The code
 * is checked on the host first (check character), so a typo spends no unblock try; then the
 * standard path: C_Login(CKU_SO, code), C_InitPIN(new PIN), C_Logout. On SIM PKI and PIV
 * devices the "code" is the PUK and is passed as typed. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "messages.h"
#include "rv.h"
#include "recovery.h"

/* Check a response code's form and check character; on success *canon holds the code as
 * the module reads it best (upper case, dashes). Exit code. */
static int check_code(const struct vnp_secret *code, struct vnp_secret *canon)
{
	uint8_t bytes[VNP_RECOVERY_RESPONSE_LEN];
	int rc = EXIT_USAGE, r;

	if (vnp_secret_new(VNP_CODE_MAX + 1, canon) != VNP_OK)
		return EXIT_FAILED;
	r = vnp_code_decode((const char *)code->p, bytes, sizeof(bytes));
	if (r == VNP_E_CODE_CHECK) {
		vnp_err(MSG_CODE_TYPO);
		goto out;
	}
	if (r != VNP_OK) {
		vnp_err(MSG_CODE_INVALID);
		goto out;
	}
	if (vnp_code_encode(bytes, sizeof(bytes), (char *)canon->p, canon->cap) != VNP_OK) {
		rc = EXIT_FAILED;
		goto out;
	}
	canon->len = strlen((const char *)canon->p);
	rc = EXIT_OK;
out:
	vnp_wipe(bytes, sizeof(bytes));
	if (rc != EXIT_OK)
		vnp_secret_free(canon);
	return rc;
}

static int explain_so_login(struct tool *t, CK_SLOT_ID slot, CK_RV rv, bool puk)
{
	struct vnp_ext_pin_counters c;
	char name[32];
	int left = -1;

	if (t->ext && t->ext->get_pin_counters && t->ext->get_pin_counters(slot, &c) == CKR_OK)
		left = c.unblock_tries_left;
	switch (rv) {
	case CKR_PIN_INCORRECT:
		if (left == 0)
			vnp_err(puk ? MSG_PUK_BLOCKED : MSG_TERMINATED_HINT);
		else if (left > 0)
			vnp_err(puk ? MSG_PUK_INCORRECT_LEFT : MSG_CODE_MISMATCH_LEFT, left);
		else
			vnp_err(puk ? MSG_PUK_INCORRECT : MSG_CODE_MISMATCH);
		return left == 0 ? EXIT_PIN_LOCKED : EXIT_PIN_WRONG;
	case CKR_PIN_LOCKED:
		vnp_err(puk ? MSG_PUK_BLOCKED : MSG_TERMINATED_HINT);
		return EXIT_PIN_LOCKED;
	case CKR_PIN_LEN_RANGE:
		vnp_err(MSG_CALL_FAILED, "C_Login", vnp_tool_rv_name(rv, name));
		return EXIT_USAGE;
	case CKR_USER_TYPE_INVALID:
	case CKR_FUNCTION_NOT_SUPPORTED:
		vnp_err(MSG_NO_UNBLOCK_SUPPORT);
		return EXIT_FAILED;
	default:
		vnp_err(MSG_CALL_FAILED, "C_Login", vnp_tool_rv_name(rv, name));
		return vnp_tool_rv_exit(rv);
	}
}

int vnp_cmd_unblock(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		VNP_COMMON_OPTIONS,
		{ "code", required_argument, NULL, OPT_CODE },
		{ "code-file", required_argument, NULL, OPT_CODE_FILE },
		{ "new-pin", required_argument, NULL, OPT_NEW_PIN },
		{ "new-pin-file", required_argument, NULL, OPT_NEW_PIN_FILE },
		{ "puk", required_argument, NULL, OPT_PUK },
		{ "puk-file", required_argument, NULL, OPT_PUK_FILE },
		{ NULL, 0, NULL, 0 },
	};
	struct pin_opts code_po = { 0 }, new_po = { 0 }, puk_po = { 0 };
	struct vnp_secret code = { 0 }, canon = { 0 }, new_pin = { 0 };
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	struct device d = { 0 };
	bool puk, logged_in = false;
	char name[32];
	CK_SLOT_ID slot;
	CK_RV rv;
	int c, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_CODE: code_po.value = optarg; vnp_pin_warn_cmdline("--code"); break;
		case OPT_CODE_FILE: code_po.file = optarg; break;
		case OPT_NEW_PIN: new_po.value = optarg; vnp_pin_warn_cmdline("--new-pin"); break;
		case OPT_NEW_PIN_FILE: new_po.file = optarg; break;
		case OPT_PUK: puk_po.value = optarg; vnp_pin_warn_cmdline("--puk"); break;
		case OPT_PUK_FILE: puk_po.file = optarg; break;
		default:
			if (!vnp_common_option(t, c, optarg, &rc))
				rc = EXIT_USAGE;
		}
		if (c == 'h' || rc != EXIT_OK) {
			vnp_usage(MSG_HELP_UNBLOCK, rc == EXIT_OK ? stdout : stderr);
			return rc;
		}
	}
	if (optind != argc) {
		vnp_usage(MSG_HELP_UNBLOCK, stderr);
		return EXIT_USAGE;
	}
	rc = vnp_tool_load(t);
	if (rc == EXIT_OK)
		rc = vnp_tool_pick_slot(t, &slot);
	if (rc == EXIT_OK)
		rc = vnp_device_load(t, slot, &d);
	if (rc != EXIT_OK)
		goto out;
	puk = d.have_details && (d.details.device_type == VNPKI_DEVICE_SIM_PKI ||
				 d.details.device_type == VNPKI_DEVICE_PIV);
	if (vnp_device_terminated(&d)) {
		vnp_err(puk ? MSG_PUK_BLOCKED : MSG_TERMINATED_HINT);
		rc = EXIT_PIN_LOCKED;
		goto out;
	}
	if (!puk && (puk_po.value || puk_po.file)) {
		vnp_err(MSG_PUK_NOT_PUK_DEVICE);
		rc = EXIT_USAGE;
		goto out;
	}
	if (!puk && d.have_details && !d.details.unblock_pending)
		vnp_err(MSG_NO_PENDING_REQUEST);
	/* A PUK device reads --puk/--puk-file/VNPKI_PUK, then (as before) the --code forms. */
	if (puk && !code_po.value && !code_po.file &&
	    (puk_po.value || puk_po.file || secure_getenv("VNPKI_PUK") || !secure_getenv("VNPKI_RESPONSE_CODE")))
		rc = vnp_pin_read(PIN_PUK, &puk_po, false, &code);
	else
		rc = vnp_pin_read(PIN_RESPONSE_CODE, &code_po, false, &code);
	if (rc != EXIT_OK)
		goto out;
	if (puk) {
		rc = vnp_secret_dup(code.p, code.len + 1, &canon) == VNP_OK ? EXIT_OK : EXIT_FAILED;
		canon.len = code.len; /* without the NUL */
	} else {
		rc = check_code(&code, &canon);
	}
	if (rc != EXIT_OK)
		goto out;
	rc = vnp_pin_read(PIN_NEW, &new_po, true, &new_pin);
	if (rc != EXIT_OK)
		goto out;
	if (d.ti.ulMaxPinLen && (new_pin.len < d.ti.ulMinPinLen || new_pin.len > d.ti.ulMaxPinLen)) {
		vnp_err(MSG_PIN_LEN_RANGE, (unsigned long)d.ti.ulMinPinLen,
			(unsigned long)d.ti.ulMaxPinLen);
		rc = EXIT_USAGE;
		goto out;
	}
	rv = t->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK) {
		vnp_err(MSG_CALL_FAILED, "C_OpenSession", vnp_tool_rv_name(rv, name));
		rc = vnp_tool_rv_exit(rv);
		goto out;
	}
	rv = t->f->C_Login(s, CKU_SO, canon.p, (CK_ULONG)canon.len);
	if (rv != CKR_OK) {
		rc = explain_so_login(t, slot, rv, puk);
		goto out;
	}
	logged_in = true;
	rv = t->f->C_InitPIN(s, new_pin.p, (CK_ULONG)new_pin.len);
	if (rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_INVALID) {
		vnp_err(MSG_PIN_LEN_RANGE, (unsigned long)d.ti.ulMinPinLen,
			(unsigned long)d.ti.ulMaxPinLen);
		rc = EXIT_USAGE;
		goto out;
	}
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED) {
		rc = explain_so_login(t, slot, rv, puk);
		goto out;
	}
	if (rv != CKR_OK) {
		vnp_err(MSG_CALL_FAILED, "C_InitPIN", vnp_tool_rv_name(rv, name));
		if (!puk && d.have_details && !d.details.unblock_pending)
			vnp_err(MSG_NO_PENDING_HINT);
		rc = vnp_tool_rv_exit(rv);
		goto out;
	}
	vnp_say(MSG_UNBLOCKED);
out:
	if (logged_in)
		t->f->C_Logout(s);
	if (s != CK_INVALID_HANDLE)
		t->f->C_CloseSession(s);
	vnp_secret_free(&code);
	vnp_secret_free(&canon);
	vnp_secret_free(&new_pin);
	vnp_device_clear(&d);
	return rc;
}
