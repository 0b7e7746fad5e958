/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-vtoken show of a PIV card: slots, data objects by tag, PIN/PUK counters. */
#include <stdio.h>
#include <string.h>
#include <openssl/x509.h>

#include "applet_piv.h"
#include "cli_piv.h"
#include "keys.h"
#include "rv.h"
#include "tlv.h"
#include "util.h"

static const char *mgmt_name(const struct vnp_vt_data *d)
{
	const struct vnp_vt_obj *o = d->objs[PIV_REF_MGMT];

	if (!o || o->value_len < 1)
		return "none";
	switch (o->value[0]) {
	case PIV_ALG_3DES: return "3des";
	case PIV_ALG_AES128: return "aes128";
	case PIV_ALG_AES192: return "aes192";
	case PIV_ALG_AES256: return "aes256";
	default: return "unknown";
	}
}

/* The certificate's subject in one line (buf), or "" when the container has none. */
static const char *cert_subject(const struct vnp_vt_obj *o, char *buf, size_t cap)
{
	struct vnp_tlv t;
	const unsigned char *p;
	X509 *x;

	buf[0] = '\0';
	if (vnp_tlv_find(o->value, o->value_len, 0x70, &t) != VNP_OK)
		return buf;
	p = t.value;
	x = d2i_X509(NULL, &p, (long)t.len);
	if (x) {
		X509_NAME_oneline(X509_get_subject_name(x), buf, (int)cap);
		X509_free(x);
	}
	return buf;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void show_json(const struct vnp_vt_data *d)
{
	char subj[256], label[VNP_VT_TOKEN_LABEL_MAX + 1];
	const char *sep = "";
	unsigned r;

	memcpy(label, d->label, d->label_len);
	label[d->label_len] = '\0';
	printf("{\"profile\": \"piv\", \"serial\": \"");
	vnp_vt_hex_write(stdout, d->serial, sizeof(d->serial));
	printf("\", \"label\": ");
	json_str(label);
	printf(", \"generation\": %llu, \"counter\": %lu,\n", (unsigned long long)d->generation,
	       (unsigned long)d->counter);
	printf(" \"pin\": {\"tries_left\": %u, \"max_tries\": %u},\n", d->pin_tries,
	       d->pin_max_tries);
	printf(" \"puk\": {\"tries_left\": %u, \"max_tries\": %u},\n", d->unblock_tries,
	       d->unblock_max);
	printf(" \"management_key\": \"%s\", \"extended\": %s,\n \"keys\": [", mgmt_name(d),
	       d->extended ? "true" : "false");
	for (r = 0; r <= VNP_VT_KEY_REF_MAX; r++) {
		const struct vnp_vt_key *k = d->keys[r];
		if (!k)
			continue;
		printf("%s\n  {\"slot\": \"%02X\", \"alg\": \"%s\", \"always_authenticate\": %s}",
		       sep, vnp_vt_piv_key_of_ref((uint8_t)r), vnp_vt_alg_name(k->alg),
		       (k->flags & 1) ? "true" : "false");
		sep = ",";
	}
	printf("],\n \"objects\": [");
	sep = "";
	for (r = VNP_VT_CERT_REF_MIN; r <= VNP_VT_DATA_REF_MAX; r++) {
		const struct piv_obj_map *m = vnp_vt_piv_obj_by_ref((uint8_t)r);
		const struct vnp_vt_obj *o = d->objs[r];
		if (!o || !m)
			continue;
		printf("%s\n  {\"tag\": \"%X\", \"name\": ", sep, m->tag);
		json_str(m->name);
		printf(", \"pin\": %s, \"length\": %zu", m->pin ? "true" : "false", o->value_len);
		if (m->key) {
			printf(", \"subject\": ");
			json_str(cert_subject(o, subj, sizeof(subj)));
		}
		putchar('}');
		sep = ",";
	}
	printf("]}\n");
}

static void show_text(const struct vnp_vt_data *d)
{
	char subj[256];
	unsigned r;

	printf("profile:     piv (SP 800-73-4)\nserial:      ");
	vnp_vt_hex_write(stdout, d->serial, sizeof(d->serial));
	printf("\nlabel:       %.*s\n", (int)d->label_len, (const char *)d->label);
	printf("counter:     %lu (generation %llu)\n", (unsigned long)d->counter,
	       (unsigned long long)d->generation);
	printf("PIN:         %u of %u tries left\n", d->pin_tries, d->pin_max_tries);
	printf("PUK:         %u of %u tries left\n", d->unblock_tries, d->unblock_max);
	printf("mgmt key 9B: %s\n", mgmt_name(d));
	printf("APDUs:       %s, Nc %u, Ne %u\n", d->extended ? "extended" : "short only",
	       d->max_nc, d->max_ne);
	for (r = 0; r <= VNP_VT_KEY_REF_MAX; r++) {
		const struct vnp_vt_key *k = d->keys[r];
		uint8_t slot = vnp_vt_piv_key_of_ref((uint8_t)r);
		if (!k)
			continue;
		printf("key %02X:      %-8s %s%s\n", slot, vnp_vt_alg_name(k->alg),
		       vnp_vt_piv_key_name(slot), (k->flags & 1) ? ", PIN always" : "");
	}
	for (r = VNP_VT_CERT_REF_MIN; r <= VNP_VT_DATA_REF_MAX; r++) {
		const struct piv_obj_map *m = vnp_vt_piv_obj_by_ref((uint8_t)r);
		const struct vnp_vt_obj *o = d->objs[r];
		if (!o || !m)
			continue;
		printf("object %-6X %5zu bytes  %s%s", m->tag, o->value_len, m->name,
		       m->pin ? " (PIN)" : "");
		if (m->key)
			printf(": %s", cert_subject(o, subj, sizeof(subj)));
		putchar('\n');
	}
}

void vnp_vt_piv_show(const struct vnp_vt_data *d, bool json)
{
	if (json)
		show_json(d);
	else
		show_text(d);
}
