/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `import-cert FILE`: write a renewal (or changed-details) certificate for a key already on
 * the token, and the CA certificates that come with it. Everything is checked before the
 * first write: a certificate that matches no key refuses the whole file (exit 6) and the
 * token is not touched. The new certificate is created first and only then are the old
 * certificates with the same CKA_ID destroyed, so a failed write never loses the old one. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "tool.h"
#include "cert_file.h"
#include "messages.h"

#define LABEL_MAX 128 /* bytes of UTF-8 the module keeps */

struct token_cert {
	CK_OBJECT_HANDLE h;
	uint8_t *der, *id;
	CK_ULONG der_len, id_len;
	char *label;
};

struct token_key {
	CK_OBJECT_HANDLE h;
	uint8_t *id;
	CK_ULONG id_len;
	char *label;
};

struct item {
	X509 *x;
	unsigned char *der;
	int der_len;
	struct cert_facts facts;
	bool ca, already, refused;
	const struct token_key *key;
	char label[LABEL_MAX + 1];
};

struct import {
	struct tool *t;
	CK_SESSION_HANDLE s;
	struct token_cert *certs;
	size_t ncerts;
	struct token_key *pubs, *privs;
	size_t npubs, nprivs;
	struct item *items;
	size_t nitems;
};

static void free_keys(struct token_key *k, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(k[i].id);
		free(k[i].label);
	}
	free(k);
}

static void free_certs(struct token_cert *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].der);
		free(c[i].id);
		free(c[i].label);
	}
	free(c);
}

static CK_RV read_keys(struct import *im, CK_OBJECT_CLASS cls, struct token_key **ret,
		       size_t *ret_n)
{
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_OBJECT_HANDLE *h = NULL;
	struct token_key *k;
	CK_ULONG n = 0, len;
	CK_RV rv;

	rv = vnp_tool_find(im->t, im->s, tmpl, 1, &h, &n);
	if (rv != CKR_OK)
		return rv;
	k = calloc(n ? n : 1, sizeof(*k));
	if (!k) {
		free(h);
		return CKR_HOST_MEMORY;
	}
	for (CK_ULONG i = 0; i < n; i++) {
		k[i].h = h[i];
		if (vnp_tool_attr(im->t, im->s, h[i], CKA_ID, &k[i].id, &k[i].id_len) != CKR_OK)
			k[i].id = NULL;
		if (vnp_tool_attr(im->t, im->s, h[i], CKA_LABEL, (uint8_t **)&k[i].label, &len) != CKR_OK)
			k[i].label = NULL;
	}
	free(h);
	*ret = k;
	*ret_n = n;
	return CKR_OK;
}

static CK_RV read_certs(struct import *im)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_OBJECT_HANDLE *h = NULL;
	CK_ULONG n = 0, len;
	CK_RV rv;

	rv = vnp_tool_find(im->t, im->s, tmpl, 1, &h, &n);
	if (rv != CKR_OK)
		return rv;
	im->certs = calloc(n ? n : 1, sizeof(*im->certs));
	if (!im->certs) {
		free(h);
		return CKR_HOST_MEMORY;
	}
	for (CK_ULONG i = 0; i < n; i++) {
		struct token_cert *c = &im->certs[im->ncerts];

		c->h = h[i];
		if (vnp_tool_attr(im->t, im->s, h[i], CKA_VALUE, &c->der, &c->der_len) != CKR_OK)
			continue;
		im->ncerts++;
		if (vnp_tool_attr(im->t, im->s, h[i], CKA_ID, &c->id, &c->id_len) != CKR_OK)
			c->id = NULL;
		if (vnp_tool_attr(im->t, im->s, h[i], CKA_LABEL, (uint8_t **)&c->label, &len) != CKR_OK)
			c->label = NULL;
	}
	free(h);
	return CKR_OK;
}

static bool same_id(const uint8_t *a, CK_ULONG alen, const uint8_t *b, CK_ULONG blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* Copy at most LABEL_MAX bytes without cutting a UTF-8 character. */
static void set_label(char out[LABEL_MAX + 1], const char *in)
{
	size_t n = strlen(in);

	if (n > LABEL_MAX) {
		n = LABEL_MAX;
		while (n && ((unsigned char)in[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, in, n);
	out[n] = 0;
}

static bool on_token(const struct import *im, const struct item *it)
{
	for (size_t i = 0; i < im->ncerts; i++)
		if (im->certs[i].der_len == (CK_ULONG)it->der_len &&
		    memcmp(im->certs[i].der, it->der, (size_t)it->der_len) == 0)
			return true;
	return false;
}

/* The key a certificate belongs to: a public key object with the same key and a private key
 * with its CKA_ID. */
static const struct token_key *find_key(struct import *im, X509 *x)
{
	for (size_t i = 0; i < im->npubs; i++) {
		if (!vnp_key_matches(im->t, im->s, im->pubs[i].h, x))
			continue;
		for (size_t j = 0; j < im->nprivs; j++)
			if (same_id(im->privs[j].id, im->privs[j].id_len, im->pubs[i].id,
				    im->pubs[i].id_len))
				return &im->privs[j];
	}
	return NULL;
}

static void pick_label(const struct import *im, struct item *it, const char *opt_label)
{
	const struct token_key *k = it->key;

	if (it->ca) {
		set_label(it->label, it->facts.cn[0] ? it->facts.cn : it->facts.subject);
		return;
	}
	if (opt_label) {
		set_label(it->label, opt_label);
		return;
	}
	for (size_t i = 0; i < im->ncerts; i++)
		if (im->certs[i].label && im->certs[i].label[0] &&
		    same_id(im->certs[i].id, im->certs[i].id_len, k->id, k->id_len)) {
			set_label(it->label, im->certs[i].label);
			return;
		}
	set_label(it->label, k->label ? k->label : it->facts.cn);
}

/* Everything the import will do, decided before the first write. Exit code. */
static int plan(struct import *im, STACK_OF(X509) *xs, const char *opt_label)
{
	time_t now = time(NULL);
	int refused = 0;

	im->items = calloc((size_t)sk_X509_num(xs), sizeof(*im->items));
	if (!im->items)
		return EXIT_FAILED;
	for (int i = 0; i < sk_X509_num(xs); i++) {
		struct item *it = &im->items[im->nitems];

		it->x = sk_X509_value(xs, i);
		it->der_len = i2d_X509(it->x, &it->der);
		im->nitems++;
		if (it->der_len <= 0 || !vnp_cert_facts(it->der, (size_t)it->der_len, &it->facts)) {
			vnp_err(MSG_IMPORT_UNPARSED, i + 1);
			return EXIT_USAGE;
		}
		it->ca = it->facts.is_ca;
		it->already = on_token(im, it);
		if (!it->ca) {
			it->key = find_key(im, it->x);
			if (!it->key) {
				it->refused = true;
				refused++;
				vnp_err(MSG_IMPORT_NO_KEY, it->facts.subject, it->facts.serial_hex);
				continue;
			}
			for (size_t j = 0; j + 1 < im->nitems; j++)
				if (!im->items[j].ca && im->items[j].key == it->key) {
					vnp_err(MSG_IMPORT_TWO_FOR_KEY, it->facts.subject);
					return EXIT_USAGE;
				}
			if (now > it->facts.not_after)
				vnp_err(MSG_IMPORT_EXPIRED, it->facts.subject, it->facts.serial_hex);
			else if (now < it->facts.not_before)
				vnp_err(MSG_IMPORT_NOT_YET_VALID, it->facts.subject, it->facts.serial_hex);
		}
		pick_label(im, it, opt_label);
	}
	if (refused) {
		vnp_err(MSG_IMPORT_REFUSED);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

static CK_RV create(struct import *im, const struct item *it, CK_OBJECT_HANDLE *ret)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_ULONG category = it->ca ? 2 : 1;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &no, sizeof(no) },
		{ CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) },
		{ CKA_CERTIFICATE_CATEGORY, &category, sizeof(category) },
		{ CKA_VALUE, it->der, (CK_ULONG)it->der_len },
		{ CKA_LABEL, (void *)it->label, (CK_ULONG)strlen(it->label) },
		{ CKA_ID, it->key ? it->key->id : NULL, it->key ? it->key->id_len : 0 },
	};
	CK_ULONG n = sizeof(tmpl) / sizeof(tmpl[0]);

	if (!it->key || !it->key->id_len)
		n--; /* CA certificates carry no CKA_ID */
	return im->t->f->C_CreateObject(im->s, tmpl, n, ret);
}

/* Destroy the certificates with the key's CKA_ID other than the one just written (handles
 * are looked up again: writing may renumber them). */
static int destroy_old(struct import *im, const struct item *it)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) },
				{ CKA_ID, it->key->id, it->key->id_len } };
	CK_OBJECT_HANDLE *h = NULL;
	CK_ULONG n = 0, len;
	uint8_t *der;
	char name[32];
	int rc = EXIT_OK;
	CK_RV rv;

	if (!it->key->id_len)
		return EXIT_OK;
	rv = vnp_tool_find(im->t, im->s, tmpl, 2, &h, &n);
	if (rv != CKR_OK) {
		vnp_err(MSG_IMPORT_OLD_KEPT, vnp_tool_rv_name(rv, name));
		return EXIT_FAILED;
	}
	for (CK_ULONG i = 0; i < n; i++) {
		if (vnp_tool_attr(im->t, im->s, h[i], CKA_VALUE, &der, &len) != CKR_OK)
			continue;
		if (len != (CK_ULONG)it->der_len || memcmp(der, it->der, len) != 0) {
			rv = im->t->f->C_DestroyObject(im->s, h[i]);
			if (rv != CKR_OK) {
				vnp_err(MSG_IMPORT_OLD_KEPT, vnp_tool_rv_name(rv, name));
				rc = EXIT_FAILED;
			} else {
				vnp_say(MSG_IMPORT_REMOVED_OLD);
			}
		}
		free(der);
	}
	free(h);
	return rc;
}

static int write_all(struct import *im)
{
	CK_OBJECT_HANDLE h;
	char name[32];
	int rc = EXIT_OK;
	CK_RV rv;

	/* end-entity certificates first, then the CA certificates */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < im->nitems; i++) {
			struct item *it = &im->items[i];

			if (it->ca != (pass == 1))
				continue;
			if (it->already) {
				vnp_say(MSG_IMPORT_ALREADY, it->facts.subject);
			} else {
				rv = create(im, it, &h);
				if (rv != CKR_OK) {
					vnp_err(MSG_IMPORT_WRITE_FAILED, it->facts.subject,
						vnp_tool_rv_name(rv, name));
					return vnp_tool_rv_exit(rv) == EXIT_NO_TOKEN ? EXIT_NO_TOKEN
										       : EXIT_FAILED;
				}
				vnp_say(it->ca ? MSG_IMPORT_WROTE_CA : MSG_IMPORT_WROTE, it->facts.subject,
					it->facts.serial_hex);
			}
			if (!it->ca && destroy_old(im, it) != EXIT_OK)
				rc = EXIT_FAILED;
		}
	}
	return rc;
}

int vnp_cmd_import_cert(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		VNP_COMMON_OPTIONS,
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "pin", required_argument, NULL, OPT_PIN },
		{ "pin-file", required_argument, NULL, OPT_PIN_FILE },
		{ NULL, 0, NULL, 0 },
	};
	struct import im = { .t = t, .s = CK_INVALID_HANDLE };
	struct pin_opts po = { 0 };
	STACK_OF(X509) *xs = NULL;
	const char *label = NULL;
	bool logged_in = false;
	char name[32];
	CK_SLOT_ID slot;
	CK_RV rv;
	int c, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_LABEL: label = optarg; break;
		case OPT_PIN: po.value = optarg; vnp_pin_warn_cmdline("--pin"); break;
		case OPT_PIN_FILE: po.file = optarg; break;
		default:
			if (!vnp_common_option(t, c, optarg, &rc))
				rc = EXIT_USAGE;
		}
		if (c == 'h' || rc != EXIT_OK) {
			vnp_usage(MSG_HELP_IMPORT_CERT, rc == EXIT_OK ? stdout : stderr);
			return rc;
		}
	}
	if (optind + 1 != argc) {
		vnp_usage(MSG_HELP_IMPORT_CERT, stderr);
		return EXIT_USAGE;
	}
	xs = vnp_cert_file_read(argv[optind]);
	if (!xs) {
		vnp_err(MSG_IMPORT_NO_CERTS, argv[optind]);
		return EXIT_USAGE;
	}
	rc = vnp_tool_load(t);
	if (rc == EXIT_OK)
		rc = vnp_tool_pick_slot(t, &slot);
	if (rc != EXIT_OK)
		goto out;
	rv = t->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &im.s);
	if (rv != CKR_OK) {
		vnp_err(MSG_CALL_FAILED, "C_OpenSession", vnp_tool_rv_name(rv, name));
		rc = vnp_tool_rv_exit(rv);
		goto out;
	}
	rc = vnp_tool_login_user(t, slot, im.s, &po);
	if (rc != EXIT_OK)
		goto out;
	logged_in = true;
	rv = read_certs(&im);
	if (rv == CKR_OK)
		rv = read_keys(&im, CKO_PUBLIC_KEY, &im.pubs, &im.npubs);
	if (rv == CKR_OK)
		rv = read_keys(&im, CKO_PRIVATE_KEY, &im.privs, &im.nprivs);
	if (rv != CKR_OK) {
		vnp_err(MSG_CALL_FAILED, "C_FindObjects", vnp_tool_rv_name(rv, name));
		rc = vnp_tool_rv_exit(rv);
		goto out;
	}
	rc = plan(&im, xs, label);
	if (rc == EXIT_OK)
		rc = write_all(&im);
out:
	if (logged_in)
		t->f->C_Logout(im.s);
	if (im.s != CK_INVALID_HANDLE)
		t->f->C_CloseSession(im.s);
	for (size_t i = 0; i < im.nitems; i++) {
		OPENSSL_free(im.items[i].der);
		vnp_cert_facts_clear(&im.items[i].facts);
	}
	free(im.items);
	free_certs(im.certs, im.ncerts);
	free_keys(im.pubs, im.npubs);
	free_keys(im.privs, im.nprivs);
	sk_X509_pop_free(xs, X509_free);
	return rc;
}
