/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-authority respond: answer a request code (RECOVERY.md step 3). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "authority.h"
#include "messages.h"
#include "rv.h"

#define REQUEST_FILE_MAX 65536
#define OPERATOR_MAX 128

struct respond_args {
	const char *master;
	const char *request_file;
	const char *audit_log;
	const char *operator_name;
	bool json;
	char code[256]; /* the positional arguments joined by spaces */
};

static int parse_args(int argc, char **argv, struct respond_args *a)
{
	static const struct option options[] = {
		{ "master", required_argument, NULL, 'm' },
		{ "request", required_argument, NULL, 'r' },
		{ "audit-log", required_argument, NULL, 'a' },
		{ "operator", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t len = 0;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":m:r:a:o:jh", options, NULL)) != -1) {
		switch (c) {
		case 'm': a->master = optarg; break;
		case 'r': a->request_file = optarg; break;
		case 'a': a->audit_log = optarg; break;
		case 'o': a->operator_name = optarg; break;
		case 'j': a->json = true; break;
		case 'h': fputs(AU_USAGE_RESPOND, stdout); return -1;
		default: return au_bad_option("respond", c, argv);
		}
	}
	/* "ASA0 0000 ..." typed without quotes arrives as several arguments */
	for (int i = optind; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (len + n + 2 > sizeof(a->code)) {
			au_err(AU_E_CODE_INVALID, argv[i]);
			return AU_EXIT_USAGE;
		}
		if (len)
			a->code[len++] = ' ';
		memcpy(a->code + len, argv[i], n + 1);
		len += n;
	}
	if (!a->master) {
		au_err(AU_E_NEED_OPTION, "respond", "--master");
		return AU_EXIT_USAGE;
	}
	if (len && a->request_file) {
		au_err(AU_E_CODE_AND_FILE);
		return AU_EXIT_USAGE;
	}
	if (!len && !a->request_file) {
		au_err(AU_E_NO_CODE);
		return AU_EXIT_USAGE;
	}
	return AU_EXIT_OK;
}

/* Printable, one line, no tab: it becomes one field of the audit log. */
static bool operator_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > OPERATOR_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
			return false;
	return true;
}

static int decode_request(const char *code, uint8_t req[VNP_RECOVERY_REQUEST_LEN])
{
	int rv = vnp_code_decode(code, req, VNP_RECOVERY_REQUEST_LEN);

	if (rv == VNP_E_CODE_CHECK) {
		au_err(AU_E_CODE_CHECK, code);
		return AU_EXIT_USAGE;
	}
	if (rv != VNP_OK) {
		au_err(AU_E_CODE_INVALID, code);
		return AU_EXIT_USAGE;
	}
	return AU_EXIT_OK;
}

/* The request code from a vnpki-tool request file, cross-checked with its serial and
 * device type. */
static int read_request_file(const char *path, char *code, size_t code_size,
			     uint8_t req[VNP_RECOVERY_REQUEST_LEN])
{
	static const char *const keys[] = { "request_code", "serial", "device_type" };
	char values[3][64];
	bool found[3];
	char serial_hex[2 * VNP_RECOVERY_SERIAL_LEN + 1];
	const char *reason = NULL;
	char *text = NULL;
	size_t len = 0;
	int rv;

	rv = au_read_file(path, REQUEST_FILE_MAX, &text, &len, NULL);
	if (rv != AU_EXIT_OK)
		goto out;
	rv = AU_EXIT_USAGE;
	if (au_json_strings(text, len, keys, 3, values, found, &reason) != VNP_OK) {
		au_err(AU_E_JSON, path, reason);
		goto out;
	}
	if (!found[0]) {
		au_err(AU_E_JSON, path, AU_J_NO_CODE);
		goto out;
	}
	if (found[2] && strcmp(values[2], "pki-token") != 0) {
		au_err(AU_E_JSON_DEVICE, path, values[2]);
		goto out;
	}
	rv = decode_request(values[0], req);
	if (rv != AU_EXIT_OK)
		goto out;
	au_hex(req, VNP_RECOVERY_SERIAL_LEN, serial_hex);
	if (found[1] && strcasecmp(values[1], serial_hex) != 0) {
		au_err(AU_E_JSON_SERIAL, path, values[1]);
		rv = AU_EXIT_USAGE;
		goto out;
	}
	snprintf(code, code_size, "%s", values[0]);
	rv = AU_EXIT_OK;
out:
	if (text)
		OPENSSL_clear_free(text, REQUEST_FILE_MAX + 1);
	return rv;
}

static const char *default_operator(void)
{
	const char *user = getenv("USER");

	return user && operator_ok(user) ? user : "unknown";
}

int au_cmd_respond(int argc, char **argv)
{
	struct respond_args a = { .audit_log = AU_AUDIT_DEFAULT };
	uint8_t req[VNP_RECOVERY_REQUEST_LEN], master[VNP_RECOVERY_KEY_LEN];
	uint8_t token_key[VNP_RECOVERY_KEY_LEN], response[VNP_RECOVERY_RESPONSE_LEN];
	char request_code[VNP_CODE_MAX], response_code[VNP_CODE_MAX];
	char serial_hex[2 * VNP_RECOVERY_SERIAL_LEN + 1], out[256];
	int rv, n;

	memset(response_code, 0, sizeof(response_code));
	memset(out, 0, sizeof(out));
	memset(master, 0, sizeof(master));
	memset(token_key, 0, sizeof(token_key));
	memset(response, 0, sizeof(response));
	rv = parse_args(argc, argv, &a);
	if (rv != AU_EXIT_OK) {
		if (rv < 0)
			rv = AU_EXIT_OK; /* --help */
		goto out;
	}
	if (a.operator_name && !operator_ok(a.operator_name)) {
		au_err(AU_E_BAD_OPERATOR);
		rv = AU_EXIT_USAGE;
		goto out;
	}
	if (a.request_file)
		rv = read_request_file(a.request_file, a.code, sizeof(a.code), req);
	else
		rv = decode_request(a.code, req);
	if (rv != AU_EXIT_OK)
		goto out;
	rv = au_read_master(a.master, master);
	if (rv != AU_EXIT_OK)
		goto out;

	rv = AU_EXIT_FAIL;
	if (vnp_recovery_token_key(master, req, token_key) != VNP_OK ||
	    vnp_recovery_response(token_key, req, req + VNP_RECOVERY_SERIAL_LEN, response) !=
		    VNP_OK ||
	    vnp_code_encode(req, sizeof(req), request_code, sizeof(request_code)) != VNP_OK ||
	    vnp_code_encode(response, sizeof(response), response_code, sizeof(response_code)) !=
		    VNP_OK) {
		au_err(AU_E_CRYPTO);
		goto out;
	}
	au_hex(req, VNP_RECOVERY_SERIAL_LEN, serial_hex);
	if (a.json)
		n = snprintf(out, sizeof(out),
			     "{\"serial\": \"%s\", \"request_code\": \"%s\", "
			     "\"response_code\": \"%s\"}\n",
			     serial_hex, request_code, response_code);
	else
		n = snprintf(out, sizeof(out), "%s\n", response_code);
	if (n < 0 || (size_t)n >= sizeof(out)) {
		au_err(AU_E_CRYPTO);
		goto out;
	}
	/* the agency must be able to report every answer it gave: log first */
	rv = au_audit_append(a.audit_log, req, request_code,
			     a.operator_name ? a.operator_name : default_operator());
	if (rv != AU_EXIT_OK)
		goto out;
	if (fflush(stdout) != 0 || au_write_all(STDOUT_FILENO, out, (size_t)n) < 0) {
		au_err(AU_E_STDOUT, strerror(errno));
		rv = AU_EXIT_FAIL;
		goto out;
	}
	rv = AU_EXIT_OK;
out:
	OPENSSL_cleanse(master, sizeof(master));
	OPENSSL_cleanse(token_key, sizeof(token_key));
	OPENSSL_cleanse(response, sizeof(response));
	OPENSSL_cleanse(response_code, sizeof(response_code));
	OPENSSL_cleanse(out, sizeof(out));
	return rv;
}
