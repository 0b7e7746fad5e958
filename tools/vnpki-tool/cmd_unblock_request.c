/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `unblock-request`: the token draws a new challenge (vendor create_unblock_request); the
 * tool prints the request code and writes the request file to attach to form Mẫu 06. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "messages.h"

/* The subscriber's certificate: the first end-entity one, else the first. */
static const struct device_cert *first_cert(const struct device *d)
{
	for (size_t i = 0; i < d->ncerts; i++)
		if (d->certs[i].parsed && !d->certs[i].facts.is_ca)
			return &d->certs[i];
	for (size_t i = 0; i < d->ncerts; i++)
		if (d->certs[i].parsed)
			return &d->certs[i];
	return NULL;
}

static int write_file(const char *path, const struct device *d,
		      const struct vnp_ext_unblock_request *req, const char *serial)
{
	const struct device_cert *c = first_cert(d);
	char na[32], now[32];
	struct jw w;
	FILE *f;

	f = fopen(path, "we");
	if (!f) {
		vnp_err(MSG_CANNOT_WRITE, path, strerror(errno));
		return EXIT_FAILED;
	}
	vnp_time_iso(time(NULL), now);
	vnp_jw_init(&w, f);
	vnp_jw_obj(&w, NULL);
	vnp_jw_str(&w, "device_type", vnp_device_type_word(d));
	vnp_jw_str(&w, "serial", serial);
	vnp_jw_str(&w, "request_code", req->request_code);
	vnp_jw_str(&w, "label", d->label);
	if (c) {
		vnp_time_iso(c->facts.not_after, na);
		vnp_jw_str(&w, "subject", c->facts.subject);
		vnp_jw_str(&w, "certificate_serial", c->facts.serial_hex);
		vnp_jw_str(&w, "not_after", na);
	} else {
		vnp_jw_str(&w, "subject", NULL);
		vnp_jw_str(&w, "certificate_serial", NULL);
		vnp_jw_str(&w, "not_after", NULL);
	}
	vnp_jw_str(&w, "created", now);
	vnp_jw_end_obj(&w);
	vnp_jw_done(&w);
	if (ferror(f) | (fclose(f) != 0)) {
		vnp_err(MSG_CANNOT_WRITE, path, strerror(errno));
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

int vnp_cmd_unblock_request(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = { VNP_COMMON_OPTIONS,
					      { "out", required_argument, NULL, OPT_OUT },
					      { NULL, 0, NULL, 0 } };
	struct vnp_ext_unblock_request req;
	struct device d = { 0 };
	const char *out = NULL;
	char *serial = NULL, *defpath = NULL, name[32];
	CK_SLOT_ID slot;
	CK_RV rv;
	int c, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == OPT_OUT)
			out = optarg;
		else if (!vnp_common_option(t, c, optarg, &rc))
			rc = EXIT_USAGE;
		if (c == 'h' || rc != EXIT_OK) {
			vnp_usage(MSG_HELP_UNBLOCK_REQUEST, rc == EXIT_OK ? stdout : stderr);
			return rc;
		}
	}
	if (optind != argc) {
		vnp_usage(MSG_HELP_UNBLOCK_REQUEST, stderr);
		return EXIT_USAGE;
	}
	rc = vnp_tool_load(t);
	if (rc == EXIT_OK)
		rc = vnp_tool_pick_slot(t, &slot);
	if (rc == EXIT_OK)
		rc = vnp_device_load(t, slot, &d);
	if (rc != EXIT_OK)
		goto out;
	if (d.have_details && d.details.device_type == VNPKI_DEVICE_SIM_PKI) {
		vnp_err(MSG_SIM_RECOVERY);
		rc = EXIT_REFUSED;
		goto out;
	}
	if (vnp_device_terminated(&d)) {
		vnp_err(MSG_TERMINATED_HINT);
		rc = EXIT_PIN_LOCKED;
		goto out;
	}
	if (!t->ext || !t->ext->create_unblock_request) {
		vnp_err(MSG_NO_UNBLOCK_SUPPORT);
		rc = EXIT_FAILED;
		goto out;
	}
	memset(&req, 0, sizeof(req));
	rv = t->ext->create_unblock_request(slot, &req);
	if (rv == CKR_FUNCTION_NOT_SUPPORTED) {
		vnp_err(d.have_details && d.details.device_type == VNPKI_DEVICE_PIV ?
				MSG_PIV_RECOVERY : MSG_UNBLOCK_NOT_SUPPORTED_DEVICE);
		rc = EXIT_REFUSED;
		goto out;
	}
	if (rv != CKR_OK) {
		vnp_err(MSG_CALL_FAILED, "create_unblock_request", vnp_tool_rv_name(rv, name));
		rc = vnp_tool_rv_exit(rv);
		goto out;
	}
	req.request_code[sizeof(req.request_code) - 1] = 0;
	serial = vnp_hex(req.serial, sizeof(req.serial));
	if (!serial) {
		rc = EXIT_FAILED;
		goto out;
	}
	if (!out) {
		if (asprintf(&defpath, "vnpki-unblock-%s.json", serial) < 0) {
			defpath = NULL;
			rc = EXIT_FAILED;
			goto out;
		}
		out = defpath;
	}
	rc = write_file(out, &d, &req, serial);
	if (rc != EXIT_OK)
		goto out;
	vnp_say(MSG_REQUEST_CODE, req.request_code);
	vnp_say(MSG_REQUEST_FILE, out);
	vnp_say(MSG_REQUEST_EXPLAIN);
out:
	free(serial);
	free(defpath);
	vnp_device_clear(&d);
	return rc;
}
