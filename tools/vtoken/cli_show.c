/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-vtoken show: print a token's serial, label, counters and objects. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_piv.h"
#include "keys.h"
#include "rv.h"
#include "state.h"
#include "util.h"

/* A JSON string of bytes (UTF-8 passed through, controls escaped). */
static void json_str(const uint8_t *s, size_t n)
{
	size_t i;

	putchar('"');
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			printf("\\%c", s[i]);
		else if (s[i] < 0x20 || s[i] == 0x7F)
			printf("\\u%04x", s[i]);
		else
			putchar(s[i]);
	}
	putchar('"');
}

static void json_hex(const uint8_t *s, size_t n)
{
	putchar('"');
	vnp_vt_hex_write(stdout, s, n);
	putchar('"');
}

static void show_json(const struct vnp_vt_data *d)
{
	unsigned r;
	const char *sep = "";

	printf("{\"serial\": ");
	json_hex(d->serial, sizeof(d->serial));
	printf(", \"label\": ");
	json_str(d->label, d->label_len);
	printf(", \"device\": \"%s\", \"generation\": %llu, \"counter\": %lu,\n",
	       d->device == 2 ? "sim-pki" : "pki-token", (unsigned long long)d->generation,
	       (unsigned long)d->counter);
	printf(" \"pin\": {\"tries_left\": %u, \"max_tries\": %u, \"min\": %u, \"max\": %u, "
	       "\"initial\": %s},\n", d->pin_tries, d->pin_max_tries, d->pin_min, d->pin_max,
	       d->pin_initial ? "true" : "false");
	printf(" \"unblock\": {\"tries_left\": %u, \"max_tries\": %u, \"key\": %s, "
	       "\"challenge_pending\": %s, \"terminated\": %s},\n",
	       d->unblock_tries, d->unblock_max, d->has_unblock_key ? "true" : "false",
	       d->has_challenge ? "true" : "false", d->terminated ? "true" : "false");
	printf(" \"extended\": %s, \"max_nc\": %u, \"max_ne\": %u,\n \"keys\": [",
	       d->extended ? "true" : "false", d->max_nc, d->max_ne);
	for (r = 0; r <= VNP_VT_KEY_REF_MAX; r++) {
		const struct vnp_vt_key *k = d->keys[r];
		if (!k)
			continue;
		printf("%s\n  {\"ref\": \"%02X\", \"alg\": \"%s\", \"id\": ", sep, r, vnp_vt_alg_name(k->alg));
		json_hex(k->id, k->id_len);
		printf(", \"label\": ");
		json_str(k->label, k->label_len);
		printf(", \"usage\": %u, \"flags\": %u}", k->usage, k->flags);
		sep = ",";
	}
	printf("],\n \"objects\": [");
	sep = "";
	for (r = VNP_VT_CERT_REF_MIN; r <= VNP_VT_DATA_REF_MAX; r++) {
		const struct vnp_vt_obj *o = d->objs[r];
		if (!o)
			continue;
		printf("%s\n  {\"ref\": \"%02X\", \"type\": \"%s\", \"id\": ", sep, r,
		       o->type == VNP_VT_OBJ_CERT ? "certificate" : "data");
		json_hex(o->id, o->id_len);
		printf(", \"label\": ");
		json_str(o->label, o->label_len);
		printf(", \"application\": ");
		json_str(o->app, o->app_len);
		printf(", \"private\": %s, \"length\": %zu", o->priv ? "true" : "false",
		       o->value_len);
		if (o->type == VNP_VT_OBJ_CERT)
			printf(", \"category\": %u", o->category);
		putchar('}');
		sep = ",";
	}
	printf("]}\n");
}

static void show_text(const struct vnp_vt_data *d)
{
	unsigned r;

	printf("serial:      ");
	vnp_vt_hex_write(stdout, d->serial, sizeof(d->serial));
	printf("\nlabel:       %.*s\n", (int)d->label_len, (const char *)d->label);
	printf("device:      %s\n", d->device == 2 ? "sim-pki" : "pki-token");
	printf("counter:     %lu (generation %llu)\n", (unsigned long)d->counter,
	       (unsigned long long)d->generation);
	printf("user PIN:    %u of %u tries left, length %u-%u%s\n", d->pin_tries,
	       d->pin_max_tries, d->pin_min, d->pin_max, d->pin_initial ? ", initial" : "");
	printf("unblock:     %u of %u tries left, %s%s%s\n", d->unblock_tries, d->unblock_max,
	       d->has_unblock_key ? "recovery key present" : "no recovery key",
	       d->has_challenge ? ", challenge pending" : "",
	       d->terminated ? ", TERMINATED" : "");
	printf("APDUs:       %s, Nc %u, Ne %u\n", d->extended ? "extended" : "short only",
	       d->max_nc, d->max_ne);
	for (r = 0; r <= VNP_VT_KEY_REF_MAX; r++) {
		const struct vnp_vt_key *k = d->keys[r];
		if (!k)
			continue;
		printf("key %02X:      %s id=", r, vnp_vt_alg_name(k->alg));
		vnp_vt_hex_write(stdout, k->id, k->id_len);
		printf(" label=\"%.*s\" usage=%u flags=%u\n", (int)k->label_len,
		       (const char *)k->label, k->usage, k->flags);
	}
	for (r = VNP_VT_CERT_REF_MIN; r <= VNP_VT_DATA_REF_MAX; r++) {
		const struct vnp_vt_obj *o = d->objs[r];
		if (!o)
			continue;
		printf("%s %02X: id=", o->type == VNP_VT_OBJ_CERT ? "cert" : "data", r);
		vnp_vt_hex_write(stdout, o->id, o->id_len);
		printf(" label=\"%.*s\" %zu bytes%s%s\n", (int)o->label_len,
		       (const char *)o->label, o->value_len, o->priv ? " private" : "",
		       o->type == VNP_VT_OBJ_CERT && o->category == 2 ? " authority" : "");
	}
}

int vnp_vt_cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vnp_vt_state *st = NULL;
	const char *path = NULL;
	int c, json = 0, rv;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'j': json = 1; break;
		case 'h':
			printf("Usage: vnpki-vtoken show --state FILE [--json]\n"
			       "Print the token's serial, label, counters and objects.\n");
			return VT_EXIT_OK;
		default: return VT_EXIT_USAGE;
		}
	}
	if (!path || optind < argc) {
		fprintf(stderr, "vnpki-vtoken show: --state FILE is required (see --help)\n");
		return VT_EXIT_USAGE;
	}
	rv = vnp_vt_state_load(path, &st);
	if (rv != VNP_OK) {
		fprintf(stderr, "vnpki-vtoken show: cannot read %s: %s\n", path,
			rv == VNP_E_IO ? "missing or unreadable" : "not a valid state file");
		return VT_EXIT_FAIL;
	}
	if (st->d.profile == VNP_VT_PROFILE_PIV)
		vnp_vt_piv_show(&st->d, json);
	else if (json)
		show_json(&st->d);
	else
		show_text(&st->d);
	vnp_vt_state_free(st);
	return VT_EXIT_OK;
}
