/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `inventory`: every connected device and its certificates, for the IT staff's hand-back
 * counts. JSON (one object per device) or CSV (one row per device and certificate; a
 * device without certificates still gets a row). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "messages.h"

static const char *const csv_header[] = {
	"slot", "device_type", "label", "serial", "pin_state", "pin_tries_left", "pin_tries_max",
	"unblock_state", "unblock_tries_left", "unblock_tries_max", "terminated",
	"cert_subject_cn", "cert_serial", "not_before", "not_after", "days_left",
};

static void csv_num(FILE *f, long long v, char sep)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", v);
	vnp_csv_field(f, buf, sep);
}

static void csv_row(const struct device *d, const struct device_cert *c, time_t now)
{
	const struct vnp_ext_pin_counters *k = &d->counters;
	char nb[32], na[32];

	csv_num(stdout, (long long)d->slot, ',');
	vnp_csv_field(stdout, vnp_device_type_word(d), ',');
	vnp_csv_field(stdout, d->label, ',');
	vnp_csv_field(stdout, d->serial, ',');
	vnp_csv_field(stdout, vnp_device_pin_word(d), ',');
	csv_num(stdout, d->have_counters ? k->user_tries_left : -1, ',');
	csv_num(stdout, d->have_counters ? k->user_tries_max : -1, ',');
	vnp_csv_field(stdout, vnp_device_unblock_word(d), ',');
	csv_num(stdout, d->have_counters ? k->unblock_tries_left : -1, ',');
	csv_num(stdout, d->have_counters ? k->unblock_tries_max : -1, ',');
	vnp_csv_field(stdout, vnp_device_terminated(d) ? "yes" : "no", ',');
	if (c && c->parsed) {
		vnp_time_iso(c->facts.not_before, nb);
		vnp_time_iso(c->facts.not_after, na);
		vnp_csv_field(stdout, c->facts.cn, ',');
		vnp_csv_field(stdout, c->facts.serial_hex, ',');
		vnp_csv_field(stdout, nb, ',');
		vnp_csv_field(stdout, na, ',');
		csv_num(stdout, vnp_cert_days_left(&c->facts, now), '\n');
	} else {
		for (int i = 0; i < 4; i++)
			vnp_csv_field(stdout, "", ',');
		vnp_csv_field(stdout, "", '\n');
	}
}

static void json_device(struct jw *w, const struct device *d, time_t now)
{
	const struct vnp_ext_pin_counters *k = &d->counters;
	char nb[32], na[32];

	vnp_jw_obj(w, NULL);
	vnp_jw_int(w, "slot", (long long)d->slot);
	vnp_jw_str(w, "device_type", vnp_device_type_word(d));
	vnp_jw_str(w, "label", d->label);
	vnp_jw_str(w, "serial", d->serial);
	vnp_jw_str(w, "pin_state", vnp_device_pin_word(d));
	vnp_jw_int(w, "pin_tries_left", d->have_counters ? k->user_tries_left : -1);
	vnp_jw_int(w, "pin_tries_max", d->have_counters ? k->user_tries_max : -1);
	vnp_jw_str(w, "unblock_state", vnp_device_unblock_word(d));
	vnp_jw_int(w, "unblock_tries_left", d->have_counters ? k->unblock_tries_left : -1);
	vnp_jw_int(w, "unblock_tries_max", d->have_counters ? k->unblock_tries_max : -1);
	vnp_jw_bool(w, "terminated", vnp_device_terminated(d));
	vnp_jw_arr(w, "certificates");
	for (size_t i = 0; i < d->ncerts; i++) {
		const struct device_cert *c = &d->certs[i];

		if (!c->parsed)
			continue;
		vnp_time_iso(c->facts.not_before, nb);
		vnp_time_iso(c->facts.not_after, na);
		vnp_jw_obj(w, NULL);
		vnp_jw_str(w, "subject_cn", c->facts.cn);
		vnp_jw_str(w, "serial", c->facts.serial_hex);
		vnp_jw_str(w, "not_before", nb);
		vnp_jw_str(w, "not_after", na);
		vnp_jw_int(w, "days_left", vnp_cert_days_left(&c->facts, now));
		vnp_jw_bool(w, "ca", c->facts.is_ca);
		vnp_jw_end_obj(w);
	}
	vnp_jw_end_arr(w);
	vnp_jw_end_obj(w);
}

int vnp_cmd_inventory(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = { VNP_COMMON_OPTIONS,
					      { "format", required_argument, NULL, OPT_FORMAT },
					      { "json", no_argument, NULL, OPT_JSON },
					      { NULL, 0, NULL, 0 } };
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0;
	struct device d;
	struct jw w;
	bool csv = false;
	time_t now = time(NULL);
	int c, rc = EXIT_OK, r;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == OPT_JSON)
			csv = false;
		else if (c == OPT_FORMAT && strcmp(optarg, "json") == 0)
			csv = false;
		else if (c == OPT_FORMAT && strcmp(optarg, "csv") == 0)
			csv = true;
		else if (c == OPT_FORMAT)
			rc = EXIT_USAGE;
		else if (!vnp_common_option(t, c, optarg, &rc))
			rc = EXIT_USAGE;
		if (c == 'h' || rc != EXIT_OK) {
			vnp_usage(MSG_HELP_INVENTORY, rc == EXIT_OK ? stdout : stderr);
			return rc;
		}
	}
	if (optind != argc) {
		vnp_usage(MSG_HELP_INVENTORY, stderr);
		return EXIT_USAGE;
	}
	rc = vnp_tool_load(t);
	if (rc == EXIT_OK)
		rc = vnp_tool_token_slots(t, &slots, &n);
	if (rc != EXIT_OK)
		return rc;
	if (csv) {
		for (size_t i = 0; i < sizeof(csv_header) / sizeof(csv_header[0]); i++)
			vnp_csv_field(stdout, csv_header[i],
				      i + 1 == sizeof(csv_header) / sizeof(csv_header[0]) ? '\n' : ',');
	} else {
		vnp_jw_init(&w, stdout);
		vnp_jw_obj(&w, NULL);
		vnp_jw_arr(&w, "devices");
	}
	for (CK_ULONG i = 0; i < n; i++) {
		if (t->have_slot && slots[i] != t->slot)
			continue;
		r = vnp_device_load(t, slots[i], &d);
		if (r != EXIT_OK) {
			rc = r;
			continue;
		}
		if (t->serial && strcasecmp(t->serial, d.serial) != 0) {
			vnp_device_clear(&d);
			continue;
		}
		if (!csv)
			json_device(&w, &d, now);
		else if (d.ncerts == 0)
			csv_row(&d, NULL, now);
		for (size_t j = 0; csv && j < d.ncerts; j++)
			csv_row(&d, &d.certs[j], now);
		vnp_device_clear(&d);
	}
	if (!csv) {
		vnp_jw_end_arr(&w);
		vnp_jw_end_obj(&w);
		vnp_jw_done(&w);
	}
	fflush(stdout);
	free(slots);
	return rc;
}
