/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Persistent state of one virtual token: file format, atomic save, locking, reload.
 *
 * Format: UTF-8 text, one "key=value" per line, '#' comments. Numbers are decimal,
 * references two hex digits, byte strings lowercase hex. Keys:
 *   format=1 generation serial label device pin_min pin_max pin_max_tries pin_tries
 *   [profile] (vntoken when absent, or piv: PIV.md maps the PIV card onto these lines)
 *   unblock_max unblock_tries pin_initial pin_salt pin_hash [unblock_key]
 *   [unblock_challenge] terminated counter extended max_nc max_ne
 *   [t0] [puk_salt puk_hash]   (profile sim: SIMPKI.md)
 *   key.RR.{alg,id,label,usage,flags,der}   (der: PKCS#8 PrivateKeyInfo)
 *   obj.RR.{type,id,label,app,private,category,value}
 * unblock_challenge is the pending recovery challenge (RECOVERY.md step 2): it lives here
 * so that it survives unplugging; terminated=1 once the unblock counter is spent.
 * The PIN is kept as PBKDF2-HMAC-SHA256(pin, pin_salt), never in clear. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "keys.h"
#include "rv.h"
#include "state.h"
#include "util.h"

#define STATE_FILE_MAX (64u << 20)

void vnp_vt_key_free(struct vnp_vt_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	OPENSSL_clear_free(k->der, k->der_len);
	OPENSSL_clear_free(k, sizeof(*k));
}

void vnp_vt_obj_free(struct vnp_vt_obj *o)
{
	if (!o)
		return;
	OPENSSL_clear_free(o->value, o->value_len);
	OPENSSL_clear_free(o, sizeof(*o));
}

static void data_clear(struct vnp_vt_data *d)
{
	size_t i;

	for (i = 0; i < sizeof(d->keys) / sizeof(d->keys[0]); i++)
		vnp_vt_key_free(d->keys[i]);
	for (i = 0; i < sizeof(d->objs) / sizeof(d->objs[0]); i++)
		vnp_vt_obj_free(d->objs[i]);
	OPENSSL_cleanse(d, sizeof(*d));
}

static void data_defaults(struct vnp_vt_data *d)
{
	memset(d, 0, sizeof(*d));
	d->device = 1;
	d->pin_min = 6;
	d->pin_max = 16;
	d->pin_max_tries = d->pin_tries = 3;
	d->unblock_max = d->unblock_tries = 10;
	d->pin_initial = true;
	d->extended = true;
	d->max_nc = 0xFFFF;
	d->max_ne = 0xFFFF;
}

/* ---- parsing ---- */

static int parse_num(const char *v, size_t vlen, unsigned long max, unsigned long *ret)
{
	unsigned long n = 0;
	size_t i;

	if (vlen == 0 || vlen > 10)
		return VNP_E_MALFORMED;
	for (i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '9')
			return VNP_E_MALFORMED;
		n = n * 10 + (unsigned long)(v[i] - '0');
	}
	if (n > max)
		return VNP_E_MALFORMED;
	*ret = n;
	return VNP_OK;
}

static int parse_u8(const char *v, size_t vlen, uint8_t *ret)
{
	unsigned long n;
	int rv = parse_num(v, vlen, 255, &n);

	if (rv == VNP_OK)
		*ret = (uint8_t)n;
	return rv;
}

static int parse_bool(const char *v, size_t vlen, bool *ret)
{
	uint8_t n;
	int rv = parse_u8(v, vlen, &n);

	if (rv == VNP_OK && n > 1)
		rv = VNP_E_MALFORMED;
	if (rv == VNP_OK)
		*ret = n;
	return rv;
}

/* Exactly `want` bytes of hex (want 0: any length up to cap). */
static int parse_hex(const char *v, size_t vlen, uint8_t *out, size_t cap, size_t want,
		     size_t *ret_len)
{
	size_t n = 0;
	int rv = vnp_hex_decode(v, vlen, out, cap, &n);

	if (rv != VNP_OK)
		return VNP_E_MALFORMED;
	if (want && n != want)
		return VNP_E_MALFORMED;
	if (ret_len)
		*ret_len = n;
	return VNP_OK;
}

static int parse_hex_alloc(const char *v, size_t vlen, uint8_t **ret, size_t *ret_len)
{
	uint8_t *p;
	size_t n = 0;

	if (*ret)
		return VNP_E_MALFORMED; /* duplicate line */
	p = OPENSSL_malloc(vlen / 2 + 1);
	if (!p)
		return VNP_E_NOMEM;
	if (parse_hex(v, vlen, p, vlen / 2 + 1, 0, &n) != VNP_OK) {
		OPENSSL_free(p);
		return VNP_E_MALFORMED;
	}
	*ret = p;
	*ret_len = n;
	return VNP_OK;
}

static bool key_is(const char *k, size_t klen, const char *name)
{
	return strlen(name) == klen && memcmp(k, name, klen) == 0;
}

static int parse_key_field(struct vnp_vt_key *k, const char *f, size_t flen, const char *v,
			   size_t vlen)
{
	if (key_is(f, flen, "alg"))
		return parse_hex(v, vlen, &k->alg, 1, 1, NULL);
	if (key_is(f, flen, "id"))
		return parse_hex(v, vlen, k->id, sizeof(k->id), 0, &k->id_len);
	if (key_is(f, flen, "label"))
		return parse_hex(v, vlen, k->label, sizeof(k->label), 0, &k->label_len);
	if (key_is(f, flen, "usage"))
		return parse_hex(v, vlen, &k->usage, 1, 1, NULL);
	if (key_is(f, flen, "flags"))
		return parse_hex(v, vlen, &k->flags, 1, 1, NULL);
	if (key_is(f, flen, "der"))
		return parse_hex_alloc(v, vlen, &k->der, &k->der_len);
	return VNP_OK; /* unknown field: ignored (forward compatible) */
}

static int parse_obj_field(struct vnp_vt_obj *o, const char *f, size_t flen, const char *v,
			   size_t vlen)
{
	if (key_is(f, flen, "type"))
		return parse_hex(v, vlen, &o->type, 1, 1, NULL);
	if (key_is(f, flen, "id"))
		return parse_hex(v, vlen, o->id, sizeof(o->id), 0, &o->id_len);
	if (key_is(f, flen, "label"))
		return parse_hex(v, vlen, o->label, sizeof(o->label), 0, &o->label_len);
	if (key_is(f, flen, "app"))
		return parse_hex(v, vlen, o->app, sizeof(o->app), 0, &o->app_len);
	if (key_is(f, flen, "private"))
		return parse_bool(v, vlen, &o->priv);
	if (key_is(f, flen, "category"))
		return parse_hex(v, vlen, &o->category, 1, 1, NULL);
	if (key_is(f, flen, "value")) {
		int rv = parse_hex_alloc(v, vlen, &o->value, &o->value_len);
		if (rv == VNP_OK && o->value_len > VNP_VT_VALUE_MAX)
			rv = VNP_E_MALFORMED;
		return rv;
	}
	return VNP_OK;
}

/* "key.RR.field" or "obj.RR.field" */
static int parse_ref_line(struct vnp_vt_data *d, const char *k, size_t klen, const char *v,
			  size_t vlen)
{
	uint8_t ref;
	size_t n;
	bool is_key = k[0] == 'k';

	if (klen < 8 || k[3] != '.' || k[6] != '.' ||
	    parse_hex(k + 4, 2, &ref, 1, 1, &n) != VNP_OK)
		return VNP_E_MALFORMED;
	if (is_key) {
		if (ref < VNP_VT_KEY_REF_MIN || ref > VNP_VT_KEY_REF_MAX)
			return VNP_E_MALFORMED;
		if (!d->keys[ref] && !(d->keys[ref] = OPENSSL_zalloc(sizeof(struct vnp_vt_key))))
			return VNP_E_NOMEM;
		return parse_key_field(d->keys[ref], k + 7, klen - 7, v, vlen);
	}
	if (ref < VNP_VT_CERT_REF_MIN || ref > VNP_VT_DATA_REF_MAX)
		return VNP_E_MALFORMED;
	if (!d->objs[ref] && !(d->objs[ref] = OPENSSL_zalloc(sizeof(struct vnp_vt_obj))))
		return VNP_E_NOMEM;
	return parse_obj_field(d->objs[ref], k + 7, klen - 7, v, vlen);
}

static int parse_line(struct vnp_vt_data *d, const char *k, size_t klen, const char *v,
		      size_t vlen, unsigned *seen)
{
	unsigned long n = 0;
	int rv;

	if (klen > 4 && (memcmp(k, "key.", 4) == 0 || memcmp(k, "obj.", 4) == 0))
		return parse_ref_line(d, k, klen, v, vlen);
	if (key_is(k, klen, "format"))
		return parse_num(v, vlen, 1, &n) == VNP_OK && n == 1 ? VNP_OK : VNP_E_MALFORMED;
	if (key_is(k, klen, "generation")) {
		rv = parse_num(v, vlen, 0xFFFFFFFFul, &n);
		d->generation = n;
		return rv;
	}
	if (key_is(k, klen, "serial")) {
		*seen |= 1;
		return parse_hex(v, vlen, d->serial, sizeof(d->serial), sizeof(d->serial), NULL);
	}
	if (key_is(k, klen, "label"))
		return parse_hex(v, vlen, d->label, sizeof(d->label), 0, &d->label_len);
	if (key_is(k, klen, "device"))
		return parse_u8(v, vlen, &d->device);
	if (key_is(k, klen, "profile")) {
		if (key_is(v, vlen, "vntoken"))
			d->profile = VNP_VT_PROFILE_VNTOKEN;
		else if (key_is(v, vlen, "piv"))
			d->profile = VNP_VT_PROFILE_PIV;
		else if (key_is(v, vlen, "sim"))
			d->profile = VNP_VT_PROFILE_SIM;
		else if (key_is(v, vlen, "blank"))
			d->profile = VNP_VT_PROFILE_BLANK;
		else
			return VNP_E_MALFORMED; /* an unknown card must not pass for another */
		return VNP_OK;
	}
	if (key_is(k, klen, "pin_min"))
		return parse_u8(v, vlen, &d->pin_min);
	if (key_is(k, klen, "pin_max"))
		return parse_u8(v, vlen, &d->pin_max);
	if (key_is(k, klen, "pin_max_tries"))
		return parse_u8(v, vlen, &d->pin_max_tries);
	if (key_is(k, klen, "pin_tries"))
		return parse_u8(v, vlen, &d->pin_tries);
	if (key_is(k, klen, "unblock_max"))
		return parse_u8(v, vlen, &d->unblock_max);
	if (key_is(k, klen, "unblock_tries"))
		return parse_u8(v, vlen, &d->unblock_tries);
	if (key_is(k, klen, "pin_initial"))
		return parse_bool(v, vlen, &d->pin_initial);
	if (key_is(k, klen, "pin_salt")) {
		*seen |= 2;
		return parse_hex(v, vlen, d->pin_salt, sizeof(d->pin_salt), sizeof(d->pin_salt),
				 NULL);
	}
	if (key_is(k, klen, "pin_hash")) {
		*seen |= 4;
		return parse_hex(v, vlen, d->pin_hash, sizeof(d->pin_hash), sizeof(d->pin_hash),
				 NULL);
	}
	if (key_is(k, klen, "unblock_key")) {
		d->has_unblock_key = true;
		return parse_hex(v, vlen, d->unblock_key, sizeof(d->unblock_key),
				 sizeof(d->unblock_key), NULL);
	}
	if (key_is(k, klen, "unblock_challenge")) {
		d->has_challenge = true;
		return parse_hex(v, vlen, d->challenge, sizeof(d->challenge), sizeof(d->challenge),
				 NULL);
	}
	if (key_is(k, klen, "terminated"))
		return parse_bool(v, vlen, &d->terminated);
	if (key_is(k, klen, "t0"))
		return parse_bool(v, vlen, &d->t0);
	if (key_is(k, klen, "puk_salt")) {
		d->has_puk = true;
		return parse_hex(v, vlen, d->puk_salt, sizeof(d->puk_salt), sizeof(d->puk_salt),
				 NULL);
	}
	if (key_is(k, klen, "puk_hash"))
		return parse_hex(v, vlen, d->puk_hash, sizeof(d->puk_hash), sizeof(d->puk_hash),
				 NULL);
	if (key_is(k, klen, "counter")) {
		rv = parse_num(v, vlen, 0xFFFFFFFFul, &n);
		d->counter = (uint32_t)n;
		return rv;
	}
	if (key_is(k, klen, "extended"))
		return parse_bool(v, vlen, &d->extended);
	if (key_is(k, klen, "max_nc") || key_is(k, klen, "max_ne")) {
		rv = parse_num(v, vlen, 0xFFFF, &n);
		if (rv == VNP_OK && n < 255)
			rv = VNP_E_MALFORMED;
		if (k[5] == 'c')
			d->max_nc = (uint16_t)n;
		else
			d->max_ne = (uint16_t)n;
		return rv;
	}
	return VNP_OK; /* unknown key: ignored */
}

/* Check the parsed objects and decode the private keys. */
static int finish(OSSL_LIB_CTX *libctx, struct vnp_vt_data *d)
{
	size_t r;
	int rv;

	if (d->pin_min == 0 || d->pin_min > d->pin_max || d->pin_max > 64 ||
	    d->pin_max_tries == 0 || d->pin_max_tries > 15 || d->pin_tries > d->pin_max_tries ||
	    d->unblock_max == 0 || d->unblock_tries > d->unblock_max)
		return VNP_E_MALFORMED;
	if (d->unblock_tries == 0)
		d->terminated = true; /* a spent counter never comes back */
	for (r = 0; r < sizeof(d->keys) / sizeof(d->keys[0]); r++) {
		struct vnp_vt_key *k = d->keys[r];
		if (!k)
			continue;
		if (!k->der)
			return VNP_E_MALFORMED;
		rv = vnp_vt_key_from_der(libctx, k->alg, k->der, k->der_len, &k->pkey);
		if (rv != VNP_OK)
			return rv;
	}
	for (r = 0; r < sizeof(d->objs) / sizeof(d->objs[0]); r++) {
		struct vnp_vt_obj *o = d->objs[r];
		if (!o)
			continue;
		if ((o->type != VNP_VT_OBJ_CERT && o->type != VNP_VT_OBJ_DATA) ||
		    (o->type == VNP_VT_OBJ_CERT) != (r <= VNP_VT_CERT_REF_MAX) ||
		    (o->category && o->type != VNP_VT_OBJ_CERT) || o->category > 3)
			return VNP_E_MALFORMED;
	}
	return VNP_OK;
}

static int parse_text(OSSL_LIB_CTX *libctx, char *text, size_t len, struct vnp_vt_data *d)
{
	char *p = text, *end = text + len, *nl, *eq;
	unsigned seen = 0;
	int rv = VNP_OK;

	data_defaults(d);
	while (p < end && rv == VNP_OK) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (nl > p && nl[-1] == '\r')
			nl[-1] = ' ';
		if (p < nl && *p != '#') {
			eq = memchr(p, '=', (size_t)(nl - p));
			if (!eq)
				rv = VNP_E_MALFORMED;
			else
				rv = parse_line(d, p, (size_t)(eq - p), eq + 1,
						(size_t)(nl - eq - 1), &seen);
		}
		p = nl + 1;
	}
	if (rv == VNP_OK && seen != 7)
		rv = VNP_E_MALFORMED;
	if (rv == VNP_OK)
		rv = finish(libctx, d);
	if (rv != VNP_OK)
		data_clear(d);
	return rv;
}

/* Read and parse the file; ret_sb describes the file that was read. */
static int load_file(struct vnp_vt_state *st, struct vnp_vt_data *d, struct stat *ret_sb)
{
	char *text = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, rv = VNP_E_IO;

	fd = open(st->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return VNP_E_IO;
	if (fstat(fd, ret_sb) < 0 || !S_ISREG(ret_sb->st_mode) ||
	    (size_t)ret_sb->st_size > STATE_FILE_MAX)
		goto out;
	text = OPENSSL_malloc((size_t)ret_sb->st_size + 1);
	if (!text) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	while (len < (size_t)ret_sb->st_size) {
		n = read(fd, text + len, (size_t)ret_sb->st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		len += (size_t)n;
	}
	rv = parse_text(st->libctx, text, len, d);
out:
	if (text)
		OPENSSL_clear_free(text, (size_t)ret_sb->st_size + 1);
	close(fd);
	return rv;
}

static void set_ident(struct vnp_vt_state *st, const struct stat *sb)
{
	st->dev = sb->st_dev;
	st->ino = sb->st_ino;
	st->size = sb->st_size;
	st->mtime = sb->st_mtim;
}

static bool same_ident(const struct vnp_vt_state *st, const struct stat *sb)
{
	return st->dev == sb->st_dev && st->ino == sb->st_ino && st->size == sb->st_size &&
	       st->mtime.tv_sec == sb->st_mtim.tv_sec && st->mtime.tv_nsec == sb->st_mtim.tv_nsec;
}

/* Take a shared lock on the lock file for one read, unless this instance already holds
 * the exclusive one. Returns the fd to close afterwards, -1 when none was taken. */
static int read_lock(const struct vnp_vt_state *st)
{
	int fd;

	if (st->lock_fd >= 0)
		return -1;
	fd = open(st->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1; /* a read-only place: read without the lock, as before */
	while (flock(fd, LOCK_SH) < 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

int vnp_vt_state_refresh(struct vnp_vt_state *st)
{
	struct vnp_vt_data d;
	struct stat sb;
	int rv, fd;

	if (!st->stale && stat(st->path, &sb) == 0 && same_ident(st, &sb))
		return VNP_OK;
	/* A writer holds the exclusive lock across a whole command (a VERIFY saves the spent
	 * try, then the restored counter): reading under the shared lock never sees the
	 * state between two saves of one command, as no card would show it. */
	fd = read_lock(st);
	rv = load_file(st, &d, &sb);
	if (fd >= 0)
		close(fd);
	if (rv != VNP_OK) {
		st->stale = true;
		return rv;
	}
	data_clear(&st->d);
	st->d = d;
	OPENSSL_cleanse(&d, sizeof(d));
	set_ident(st, &sb);
	st->stale = false;
	return VNP_OK;
}

static char *concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb + 1);
	}
	return s;
}

int vnp_vt_state_new(const char *path, struct vnp_vt_state **ret)
{
	struct vnp_vt_state *st = calloc(1, sizeof(*st));

	if (!st)
		return VNP_E_NOMEM;
	st->lock_fd = -1;
	st->path = strdup(path);
	st->lock_path = concat(path, ".lock");
	if (!st->path || !st->lock_path) {
		vnp_vt_state_free(st);
		return VNP_E_NOMEM;
	}
	st->libctx = vnp_vt_libctx_new(&st->prov);
	if (!st->libctx) {
		vnp_vt_state_free(st);
		return VNP_E_CRYPTO;
	}
	data_defaults(&st->d);
	st->stale = true;
	*ret = st;
	return VNP_OK;
}

int vnp_vt_state_load(const char *path, struct vnp_vt_state **ret)
{
	struct vnp_vt_state *st = NULL;
	int rv = vnp_vt_state_new(path, &st);

	if (rv != VNP_OK)
		return rv;
	rv = vnp_vt_state_refresh(st);
	if (rv != VNP_OK) {
		vnp_vt_state_free(st);
		return rv;
	}
	*ret = st;
	return VNP_OK;
}

void vnp_vt_state_free(struct vnp_vt_state *st)
{
	if (!st)
		return;
	vnp_vt_state_unlock(st);
	data_clear(&st->d);
	vnp_vt_libctx_free(st->libctx, st->prov);
	free(st->path);
	free(st->lock_path);
	free(st);
}

int vnp_vt_state_lock(struct vnp_vt_state *st)
{
	int fd;

	if (st->lock_fd >= 0)
		return VNP_E_INTERNAL;
	fd = open(st->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return VNP_E_IO;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return VNP_E_IO;
		}
	}
	st->lock_fd = fd;
	return vnp_vt_state_refresh(st);
}

void vnp_vt_state_unlock(struct vnp_vt_state *st)
{
	if (st->lock_fd >= 0) {
		close(st->lock_fd); /* releases the flock */
		st->lock_fd = -1;
	}
}

static void write_hex_line(FILE *f, const char *key, const uint8_t *buf, size_t len)
{
	fprintf(f, "%s=", key);
	vnp_vt_hex_write(f, buf, len);
	fputc('\n', f);
}

static void write_ref_hex(FILE *f, const char *kind, unsigned ref, const char *field,
			  const uint8_t *buf, size_t len)
{
	fprintf(f, "%s.%02x.%s=", kind, ref, field);
	vnp_vt_hex_write(f, buf, len);
	fputc('\n', f);
}

static void write_text(FILE *f, const struct vnp_vt_data *d)
{
	unsigned r;

	fprintf(f, "# vnpki virtual token state (vnpki-vtoken show prints it)\nformat=1\n");
	fprintf(f, "generation=%llu\n", (unsigned long long)d->generation);
	write_hex_line(f, "serial", d->serial, sizeof(d->serial));
	write_hex_line(f, "label", d->label, d->label_len);
	if (d->profile == VNP_VT_PROFILE_PIV)
		fprintf(f, "profile=piv\n");
	else if (d->profile == VNP_VT_PROFILE_SIM)
		fprintf(f, "profile=sim\n");
	else if (d->profile == VNP_VT_PROFILE_BLANK)
		fprintf(f, "profile=blank\n");
	fprintf(f, "device=%u\npin_min=%u\npin_max=%u\npin_max_tries=%u\npin_tries=%u\n",
		d->device, d->pin_min, d->pin_max, d->pin_max_tries, d->pin_tries);
	fprintf(f, "unblock_max=%u\nunblock_tries=%u\npin_initial=%d\n", d->unblock_max,
		d->unblock_tries, d->pin_initial);
	write_hex_line(f, "pin_salt", d->pin_salt, sizeof(d->pin_salt));
	write_hex_line(f, "pin_hash", d->pin_hash, sizeof(d->pin_hash));
	if (d->has_unblock_key)
		write_hex_line(f, "unblock_key", d->unblock_key, sizeof(d->unblock_key));
	if (d->has_challenge)
		write_hex_line(f, "unblock_challenge", d->challenge, sizeof(d->challenge));
	fprintf(f, "terminated=%d\n", d->terminated);
	if (d->t0)
		fprintf(f, "t0=1\n");
	if (d->has_puk) {
		write_hex_line(f, "puk_salt", d->puk_salt, sizeof(d->puk_salt));
		write_hex_line(f, "puk_hash", d->puk_hash, sizeof(d->puk_hash));
	}
	fprintf(f, "counter=%lu\nextended=%d\nmax_nc=%u\nmax_ne=%u\n", (unsigned long)d->counter,
		d->extended, d->max_nc, d->max_ne);
	for (r = 0; r < sizeof(d->keys) / sizeof(d->keys[0]); r++) {
		const struct vnp_vt_key *k = d->keys[r];
		if (!k)
			continue;
		fprintf(f, "key.%02x.alg=%02x\n", r, k->alg);
		write_ref_hex(f, "key", r, "id", k->id, k->id_len);
		write_ref_hex(f, "key", r, "label", k->label, k->label_len);
		fprintf(f, "key.%02x.usage=%02x\nkey.%02x.flags=%02x\n", r, k->usage, r, k->flags);
		write_ref_hex(f, "key", r, "der", k->der, k->der_len);
	}
	for (r = 0; r < sizeof(d->objs) / sizeof(d->objs[0]); r++) {
		const struct vnp_vt_obj *o = d->objs[r];
		if (!o)
			continue;
		fprintf(f, "obj.%02x.type=%02x\n", r, o->type);
		write_ref_hex(f, "obj", r, "id", o->id, o->id_len);
		write_ref_hex(f, "obj", r, "label", o->label, o->label_len);
		write_ref_hex(f, "obj", r, "app", o->app, o->app_len);
		fprintf(f, "obj.%02x.private=%d\n", r, o->priv);
		if (o->type == VNP_VT_OBJ_CERT)
			fprintf(f, "obj.%02x.category=%02x\n", r, o->category);
		write_ref_hex(f, "obj", r, "value", o->value, o->value_len);
	}
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return VNP_E_IO;
		buf += n;
		len -= (size_t)n;
	}
	return VNP_OK;
}

static int fsync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rv = VNP_E_IO;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return VNP_E_NOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd) == 0)
			rv = VNP_OK;
		close(fd);
	}
	free(dir);
	return rv;
}

/* Serialise, write "<path>.tmp", fsync, rename, fsync the directory. */
static int write_file(struct vnp_vt_state *st)
{
	char *text = NULL, *tmp = NULL;
	size_t len = 0;
	FILE *f;
	struct stat sb;
	int fd = -1, rv = VNP_E_NOMEM;

	f = open_memstream(&text, &len);
	if (!f)
		return VNP_E_NOMEM;
	write_text(f, &st->d);
	if (fclose(f) != 0 || !text)
		goto out;
	tmp = concat(st->path, ".tmp");
	if (!tmp)
		goto out;
	rv = VNP_E_IO;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		goto out;
	if (write_all(fd, text, len) != VNP_OK || fsync(fd) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, st->path) != 0)
		goto out;
	(void)fsync_dir(st->path);
	if (stat(st->path, &sb) == 0)
		set_ident(st, &sb);
	rv = VNP_OK;
out:
	if (fd >= 0) {
		close(fd);
		(void)unlink(tmp);
	} else if (rv != VNP_OK && tmp) {
		(void)unlink(tmp);
	}
	if (text) {
		OPENSSL_cleanse(text, len);
		free(text);
	}
	free(tmp);
	return rv;
}

int vnp_vt_state_save_locked(struct vnp_vt_state *st)
{
	int rv;

	if (st->lock_fd < 0)
		return VNP_E_INTERNAL;
	st->d.generation++;
	rv = write_file(st);
	if (rv != VNP_OK) {
		/* Put memory back to what the file holds: nothing changed. */
		st->stale = true;
		(void)vnp_vt_state_refresh(st);
		return VNP_E_IO;
	}
	st->stale = false;
	return VNP_OK;
}

int vnp_vt_state_create(struct vnp_vt_state *st, bool force)
{
	struct stat sb;
	int rv;

	if (st->lock_fd >= 0)
		return VNP_E_INTERNAL;
	rv = VNP_E_IO;
	st->lock_fd = open(st->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd < 0)
		return VNP_E_IO;
	if (flock(st->lock_fd, LOCK_EX) < 0)
		goto out;
	if (!force && lstat(st->path, &sb) == 0) {
		rv = VNP_E_ARGS;
		goto out;
	}
	st->d.generation++;
	rv = write_file(st);
	if (rv == VNP_OK)
		st->stale = false;
out:
	vnp_vt_state_unlock(st);
	return rv;
}
