/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `list` (every token) and `status` (one token, more detail): device type, label, serial,
 * PIN state with exact counts, and each certificate with its validity and the renewal
 * deadline. Text or --json. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "messages.h"

static enum vnp_msg_id type_msg(const struct device *d)
{
	if (!d->have_details)
		return MSG_TYPE_UNKNOWN;
	switch (d->details.device_type) {
	case VNPKI_DEVICE_PKI_TOKEN: return MSG_TYPE_PKI_TOKEN;
	case VNPKI_DEVICE_SIM_PKI: return MSG_TYPE_SIM_PKI;
	case VNPKI_DEVICE_PIV: return MSG_TYPE_PIV;
	default: return MSG_TYPE_UNKNOWN;
	}
}

static void print_pin_state(const struct device *d)
{
	const struct vnp_ext_pin_counters *c = &d->counters;

	if (vnp_device_pin_locked(d))
		vnp_say(MSG_L_PIN_LOCKED);
	else if (d->have_counters && c->user_tries_left >= 0 && c->user_tries_max > 0)
		vnp_say(MSG_L_PIN_TRIES, c->user_tries_left, c->user_tries_max);
	else if (d->ti.flags & CKF_USER_PIN_FINAL_TRY)
		vnp_say(MSG_L_PIN_FINAL_TRY);
	else if (d->ti.flags & CKF_USER_PIN_COUNT_LOW)
		vnp_say(MSG_L_PIN_COUNT_LOW);
	else
		vnp_say(MSG_L_PIN_OK);
	if (d->have_counters && c->unblock_tries_left >= 0 && c->unblock_tries_max > 0)
		vnp_say(MSG_L_UNBLOCK_TRIES, c->unblock_tries_left, c->unblock_tries_max);
	if (vnp_device_terminated(d))
		vnp_say(MSG_L_TERMINATED);
	else if (d->have_details && d->details.unblock_pending)
		vnp_say(MSG_L_UNBLOCK_PENDING);
	if (strcmp(vnp_device_pin_word(d), "to-be-changed") == 0)
		vnp_say(MSG_L_PIN_TO_CHANGE);
}

static void print_cert(const struct device_cert *c, size_t idx, bool detail, time_t now)
{
	char nb[32], na[32], dl[32], *id;
	long days;

	if (!c->parsed) {
		vnp_say(MSG_L_CERT_UNPARSED, idx);
		return;
	}
	vnp_time_iso(c->facts.not_before, nb);
	vnp_time_iso(c->facts.not_after, na);
	vnp_time_iso(vnp_cert_renewal_deadline(&c->facts), dl);
	days = vnp_cert_days_left(&c->facts, now);
	vnp_say(MSG_L_CERT, idx, c->facts.subject);
	vnp_say(MSG_L_ISSUER, c->facts.issuer);
	vnp_say(MSG_L_SERIAL_NUMBER, c->facts.serial_hex);
	vnp_say(MSG_L_VALIDITY, nb, na);
	if (now > c->facts.not_after)
		vnp_say(MSG_L_EXPIRED, -days);
	else if (now < c->facts.not_before)
		vnp_say(MSG_L_NOT_YET_VALID);
	else
		vnp_say(MSG_L_DAYS_LEFT, days);
	if (c->facts.is_ca)
		vnp_say(MSG_L_CA_CERT);
	else if (now > vnp_cert_renewal_deadline(&c->facts))
		vnp_say(MSG_L_RENEWAL_CLOSED, dl);
	else
		vnp_say(MSG_L_RENEWAL_BY, dl);
	if (detail) {
		id = c->id ? vnp_hex(c->id, c->id_len) : NULL;
		vnp_say(MSG_L_CERT_LABEL, c->label ? c->label : "");
		vnp_say(MSG_L_CERT_ID, id ? id : "");
		free(id);
	}
}

static void print_device(const struct device *d, bool detail, time_t now)
{
	vnp_say(MSG_L_DEVICE, (unsigned long)d->slot, vnp_msg(type_msg(d)), d->label);
	vnp_say(MSG_L_TOKEN_SERIAL, d->serial);
	if (detail) {
		vnp_say(MSG_L_MODEL, d->model);
		vnp_say(MSG_L_PIN_POLICY, (unsigned long)d->ti.ulMinPinLen,
			(unsigned long)d->ti.ulMaxPinLen);
	}
	print_pin_state(d);
	if (d->ncerts == 0)
		vnp_say(MSG_L_NO_CERTS);
	for (size_t i = 0; i < d->ncerts; i++)
		print_cert(&d->certs[i], i + 1, detail, now);
}

static void json_cert(struct jw *w, const struct device_cert *c, bool detail, time_t now)
{
	char nb[32], na[32], dl[32], *id;

	vnp_jw_obj(w, NULL);
	if (!c->parsed) {
		vnp_jw_bool(w, "parsed", false);
		vnp_jw_end_obj(w);
		return;
	}
	vnp_time_iso(c->facts.not_before, nb);
	vnp_time_iso(c->facts.not_after, na);
	vnp_time_iso(vnp_cert_renewal_deadline(&c->facts), dl);
	vnp_jw_str(w, "subject", c->facts.subject);
	vnp_jw_str(w, "common_name", c->facts.cn);
	vnp_jw_str(w, "issuer", c->facts.issuer);
	vnp_jw_str(w, "serial", c->facts.serial_hex);
	vnp_jw_str(w, "not_before", nb);
	vnp_jw_str(w, "not_after", na);
	vnp_jw_int(w, "days_left", vnp_cert_days_left(&c->facts, now));
	vnp_jw_bool(w, "expired", now > c->facts.not_after);
	vnp_jw_bool(w, "ca", c->facts.is_ca);
	vnp_jw_str(w, "renewal_deadline", dl);
	vnp_jw_bool(w, "renewal_window_open", now <= vnp_cert_renewal_deadline(&c->facts));
	if (detail) {
		id = c->id ? vnp_hex(c->id, c->id_len) : NULL;
		vnp_jw_str(w, "label", c->label ? c->label : "");
		vnp_jw_str(w, "id", id ? id : "");
		vnp_jw_int(w, "category", (long long)c->category);
		free(id);
	}
	vnp_jw_end_obj(w);
}

static void json_device(struct jw *w, const struct device *d, bool detail, time_t now)
{
	const struct vnp_ext_pin_counters *c = &d->counters;

	vnp_jw_obj(w, NULL);
	vnp_jw_int(w, "slot", (long long)d->slot);
	vnp_jw_str(w, "device_type", vnp_device_type_word(d));
	vnp_jw_str(w, "label", d->label);
	vnp_jw_str(w, "serial", d->serial);
	if (detail) {
		vnp_jw_str(w, "model", d->model);
		vnp_jw_int(w, "pin_min_len", (long long)d->ti.ulMinPinLen);
		vnp_jw_int(w, "pin_max_len", (long long)d->ti.ulMaxPinLen);
	}
	vnp_jw_str(w, "pin_state", vnp_device_pin_word(d));
	vnp_jw_int(w, "pin_tries_left", d->have_counters ? c->user_tries_left : -1);
	vnp_jw_int(w, "pin_tries_max", d->have_counters ? c->user_tries_max : -1);
	vnp_jw_int(w, "unblock_tries_left", d->have_counters ? c->unblock_tries_left : -1);
	vnp_jw_int(w, "unblock_tries_max", d->have_counters ? c->unblock_tries_max : -1);
	vnp_jw_bool(w, "pin_locked", vnp_device_pin_locked(d));
	vnp_jw_bool(w, "pin_to_be_changed", strcmp(vnp_device_pin_word(d), "to-be-changed") == 0);
	vnp_jw_str(w, "unblock_state", vnp_device_unblock_word(d));
	vnp_jw_bool(w, "terminated", vnp_device_terminated(d));
	vnp_jw_arr(w, "certificates");
	for (size_t i = 0; i < d->ncerts; i++)
		json_cert(w, &d->certs[i], detail, now);
	vnp_jw_end_arr(w);
	vnp_jw_end_obj(w);
}

static int run(struct tool *t, int argc, char **argv, bool one)
{
	static const struct option opts[] = { VNP_COMMON_OPTIONS,
					      { "json", no_argument, NULL, OPT_JSON },
					      { NULL, 0, NULL, 0 } };
	CK_SLOT_ID *slots = NULL, picked;
	CK_ULONG n = 0, i;
	struct device d;
	struct jw w;
	bool json = false;
	time_t now = time(NULL);
	int c, rc = EXIT_OK, r;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == OPT_JSON)
			json = true;
		else if (!vnp_common_option(t, c, optarg, &rc))
			rc = EXIT_USAGE;
		if (c == 'h' || rc != EXIT_OK) {
			vnp_usage(one ? MSG_HELP_STATUS : MSG_HELP_LIST, rc == EXIT_OK ? stdout : stderr);
			return rc;
		}
	}
	if (optind != argc) {
		vnp_usage(one ? MSG_HELP_STATUS : MSG_HELP_LIST, stderr);
		return EXIT_USAGE;
	}
	rc = vnp_tool_load(t);
	if (rc != EXIT_OK)
		return rc;
	if (one || t->have_slot || t->serial) {
		rc = vnp_tool_pick_slot(t, &picked);
		if (rc != EXIT_OK)
			return rc;
		slots = malloc(sizeof(*slots));
		if (!slots)
			return EXIT_FAILED;
		slots[0] = picked;
		n = 1;
	} else {
		rc = vnp_tool_token_slots(t, &slots, &n);
		if (rc != EXIT_OK)
			return rc;
	}
	if (json) {
		vnp_jw_init(&w, stdout);
		vnp_jw_obj(&w, NULL);
		vnp_jw_arr(&w, "devices");
	} else if (n == 0) {
		vnp_say(MSG_L_NO_DEVICES);
	}
	for (i = 0; i < n; i++) {
		r = vnp_device_load(t, slots[i], &d);
		if (r != EXIT_OK) {
			rc = r;
			continue;
		}
		if (json)
			json_device(&w, &d, one, now);
		else {
			if (i)
				vnp_say(MSG_BLANK_LINE);
			print_device(&d, one, now);
		}
		vnp_device_clear(&d);
	}
	if (json) {
		vnp_jw_end_arr(&w);
		vnp_jw_end_obj(&w);
		vnp_jw_done(&w);
	}
	free(slots);
	return rc;
}

int vnp_cmd_list(struct tool *t, int argc, char **argv)
{
	return run(t, argc, argv, false);
}

int vnp_cmd_status(struct tool *t, int argc, char **argv)
{
	return run(t, argc, argv, true);
}
