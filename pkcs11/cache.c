/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The on-disk enumeration cache (rules in cache.h).
 *
 * File format (all integers big-endian; "bytes" = u32 length + the bytes):
 *   "VNPKIC01" | bytes driver | bytes serial | bytes label | u32 counter | u32 flags |
 *   u32 n | n objects | SHA-256 of everything before it (32 bytes)
 * object: u8 kind | u8 ref | bytes id | bytes label | u32 usage | u32 key_flags | u8 alg |
 *   bytes modulus | bytes exponent | bytes ec_point | u32 length | u8 has_hash | 32 hash |
 *   bytes application | u8 private | u8 authority | bytes value (empty: not cached)
 * The trailer catches a truncated or damaged file (no fsync before the rename: a crash may
 * leave a short file, which is then ignored and rewritten). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/sha.h>

#include "cache.h"
#include "log.h"
#include "mech.h"
#include "rv.h"

#define CACHE_MAGIC "VNPKIC01"
#define CACHE_MAGIC_LEN 8
#define CACHE_FILE_MAX (4u * 1024 * 1024)
#define CACHE_MAX_OBJS 1024
#define CACHE_PARTIAL 0x1u

struct vnp_cache {
	struct vnp_dir dir;
	uint8_t **values; /* per directory entry: certificate value or NULL */
	size_t *value_lens;
	bool partial;
};

/* Drivers whose applet moves a change counter, carried in the SELECT answer, on every write:
 * (serial, counter) names the content (vntoken). PIV has no counter and no command that
 * vouches for the certificates in one APDU: its driver gives a hash of the CHUID instead, which
 * SP 800-73-4 does not make change when a certificate is renewed. PIV cards are therefore
 * cached only when the configuration says the issuer rewrites the CHUID with every
 * certificate (`cache.piv = chuid`); otherwise every start reads them. */
static bool cacheable(const char *drv_name)
{
	if (!drv_name)
		return false;
	if (!strcmp(drv_name, "vntoken"))
		return true;
	return !strcmp(drv_name, "piv") && vnp_lib.cfg.cache_piv_chuid;
}

static const char *cache_dir(void)
{
	const char *env = secure_getenv("VNPKI_CACHE_DIR");

	if (vnp_lib.cfg.cache_off)
		return NULL;
	if (env && *env == '/')
		return env;
	return vnp_lib.cfg.cache_dir[0] == '/' ? vnp_lib.cfg.cache_dir : NULL;
}

bool vnp_cache_path(const char *drv_name, const uint8_t *serial, size_t serial_len, char *buf,
		    size_t cap)
{
	const char *dir = cache_dir();
	char hex[2 * VNP_SERIAL_MAX + 1];
	int n;

	if (!dir || !drv_name || serial_len == 0 || serial_len > VNP_SERIAL_MAX)
		return false;
	for (size_t i = 0; i < serial_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", serial[i]);
	n = snprintf(buf, cap, "%s/%s-%s", dir, drv_name, hex);
	return n > 0 && (size_t)n < cap;
}

/* The directory is ours, a real directory, and nobody else may write into it. */
static bool dir_safe(const char *dir, const struct stat *st)
{
	if (!S_ISDIR(st->st_mode) || st->st_uid != geteuid() || (st->st_mode & 022)) {
		vnp_warn("cache: %s is not a private directory of this user: cache not used", dir);
		return false;
	}
	return true;
}

/* Make dir (mode 0700; its parent too, as ~/.cache may not exist yet) and check it. */
static bool dir_ready(const char *dir)
{
	struct stat st;
	char parent[PATH_MAX];
	char *slash;

	if (lstat(dir, &st) == 0)
		return dir_safe(dir, &st);
	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (mkdir(parent, 0700) != 0 && errno != EEXIST)
			return false;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return false;
	return lstat(dir, &st) == 0 && dir_safe(dir, &st);
}

/* ---- writing ---- */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

static void w_raw(struct wbuf *w, const void *p, size_t n)
{
	uint8_t *np;
	size_t cap;

	if (w->failed)
		return;
	if (w->len + n > w->cap) {
		cap = w->cap ? w->cap : 4096;
		while (cap < w->len + n)
			cap *= 2;
		np = realloc(w->p, cap);
		if (!np) {
			w->failed = true;
			return;
		}
		w->p = np;
		w->cap = cap;
	}
	if (n)
		memcpy(w->p + w->len, p, n);
	w->len += n;
}

static void w_u8(struct wbuf *w, unsigned v)
{
	uint8_t b = (uint8_t)v;

	w_raw(w, &b, 1);
}

static void w_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	w_raw(w, b, 4);
}

static void w_bytes(struct wbuf *w, const void *p, size_t n)
{
	w_u32(w, (uint32_t)n);
	w_raw(w, p, n);
}

static void w_obj(struct wbuf *w, const struct vnp_obj *o, const uint8_t *value, size_t value_len)
{
	w_u8(w, o->kind);
	w_u8(w, o->ref);
	w_bytes(w, o->id, o->id_len);
	w_bytes(w, o->label, strlen(o->label));
	w_u32(w, o->usage);
	w_u32(w, o->key_flags);
	w_u8(w, o->pub.alg);
	w_bytes(w, o->pub.modulus, o->pub.modulus_len);
	w_bytes(w, o->pub.exponent, o->pub.exponent_len);
	w_bytes(w, o->pub.ec_point, o->pub.ec_point_len);
	w_u32(w, (uint32_t)o->length);
	w_u8(w, o->has_hash);
	w_raw(w, o->hash, sizeof(o->hash));
	w_bytes(w, o->application, strlen(o->application));
	w_u8(w, o->private_obj);
	w_u8(w, o->authority);
	w_bytes(w, value, value ? value_len : 0);
}

/* A certificate value worth keeping: loaded, and the directory's hash vouches for it. */
static bool value_cacheable(const struct vnp_p11_obj *o)
{
	uint8_t md[SHA256_DIGEST_LENGTH];

	if (o->cls != CKO_CERTIFICATE || !o->value_loaded || !o->value || !o->value_len ||
	    !o->meta.has_hash)
		return false;
	SHA256(o->value, o->value_len, md);
	return !memcmp(md, o->meta.hash, sizeof(md));
}

static int write_file(const char *path, const uint8_t *p, size_t len)
{
	char tmp[PATH_MAX];
	int fd, rv = VNP_E_IO;
	size_t done = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return VNP_E_IO;
	fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
	if (fd < 0)
		return VNP_E_IO;
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		done += (size_t)n;
	}
	if (fchmod(fd, 0600) != 0 || close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == 0)
		rv = VNP_OK;
out:
	if (fd >= 0)
		close(fd);
	if (rv != VNP_OK)
		unlink(tmp);
	return rv;
}

void vnp_cache_store(const struct vnp_token *tok)
{
	struct wbuf w = { 0 };
	char path[PATH_MAX];
	uint8_t md[SHA256_DIGEST_LENGTH];
	uint32_t n = 0, flags = 0;
	const char *drv = tok->card.drv ? tok->card.drv->name : NULL;

	if (!cacheable(drv) ||
	    !vnp_cache_path(drv, tok->info.serial, tok->info.serial_len, path, sizeof(path)))
		return;
	if (!dir_ready(cache_dir()))
		return;
	for (size_t i = 0; i < tok->n_objs; i++) {
		const struct vnp_p11_obj *o = &tok->objs[i];

		if (o->cls == CKO_PUBLIC_KEY) /* the private key's entry carries the pair */
			continue;
		if (o->meta.kind == VNP_OBJ_DATA && o->meta.private_obj)
			flags |= CACHE_PARTIAL;
		else
			n++;
	}
	w_raw(&w, CACHE_MAGIC, CACHE_MAGIC_LEN);
	w_bytes(&w, drv, strlen(drv));
	w_bytes(&w, tok->info.serial, tok->info.serial_len);
	w_bytes(&w, tok->info.label, strlen(tok->info.label));
	/* PIV: the directory has no counter; the key is the CHUID hash of the SELECT time */
	w_u32(&w, strcmp(drv, "piv") ? tok->dir_counter : tok->info.counter);
	w_u32(&w, flags);
	w_u32(&w, n);
	for (size_t i = 0; i < tok->n_objs; i++) {
		const struct vnp_p11_obj *o = &tok->objs[i];

		if (o->cls == CKO_PUBLIC_KEY || (o->meta.kind == VNP_OBJ_DATA && o->meta.private_obj))
			continue;
		if (value_cacheable(o))
			w_obj(&w, &o->meta, o->value, o->value_len);
		else
			w_obj(&w, &o->meta, NULL, 0);
	}
	if (!w.failed) {
		SHA256(w.p, w.len, md);
		w_raw(&w, md, sizeof(md));
	}
	if (w.failed || w.len > CACHE_FILE_MAX || write_file(path, w.p, w.len) != VNP_OK)
		vnp_log(VNP_LOG_P11, "cache: cannot write %s", path);
	else
		vnp_log(VNP_LOG_P11, "cache: wrote %s (counter %u, %u entries%s)", path,
			(unsigned)tok->dir_counter, (unsigned)n,
			(flags & CACHE_PARTIAL) ? ", partial" : "");
	free(w.p);
}

/* ---- reading ---- */

struct rbuf {
	const uint8_t *p;
	size_t len, pos;
	bool bad;
};

static const uint8_t *r_raw(struct rbuf *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || n > r->len - r->pos) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->pos;
	r->pos += n;
	return p;
}

static uint8_t r_u8(struct rbuf *r)
{
	const uint8_t *p = r_raw(r, 1);

	return p ? p[0] : 0;
}

static uint32_t r_u32(struct rbuf *r)
{
	const uint8_t *p = r_raw(r, 4);

	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

/* A length-prefixed field of at most cap bytes: pointer and length, or NULL (r->bad). */
static const uint8_t *r_bytes(struct rbuf *r, size_t cap, size_t *ret_len)
{
	uint32_t n = r_u32(r);
	const uint8_t *p;

	if (n > cap) {
		r->bad = true;
		return NULL;
	}
	p = r_raw(r, n);
	*ret_len = p ? n : 0;
	return p;
}

static void r_copy(struct rbuf *r, void *dst, size_t cap, size_t *ret_len)
{
	size_t n = 0;
	const uint8_t *p = r_bytes(r, cap, &n);

	if (p && n)
		memcpy(dst, p, n);
	*ret_len = n;
}

static void r_str(struct rbuf *r, char *dst, size_t cap)
{
	size_t n = 0;

	r_copy(r, dst, cap - 1, &n);
	dst[n] = '\0';
	if (memchr(dst, '\0', n))
		r->bad = true;
}

static bool same_field(struct rbuf *r, const void *want, size_t want_len)
{
	size_t n = 0;
	const uint8_t *p = r_bytes(r, CACHE_FILE_MAX, &n);

	return p && n == want_len && (!n || !memcmp(p, want, n));
}

/* A key's public half as the drivers give it: a known algorithm and the sizes it implies
 * (the drivers check this on what the card says; the cache must not be laxer). */
static bool pub_ok(const struct vnp_pubkey *pub)
{
	if (VNP_ALG_IS_RSA(pub->alg))
		return pub->modulus_len == (pub->alg == VNP_ALG_RSA2048 ? 256u : 384u) &&
		       pub->exponent_len;
	if (VNP_ALG_IS_EC(pub->alg))
		return pub->ec_point_len == (pub->alg == VNP_ALG_EC_P256 ? 65u : 97u) &&
		       pub->ec_point[0] == 0x04;
	return false;
}

static bool r_obj(struct rbuf *r, struct vnp_obj *o, uint8_t **ret_value, size_t *ret_value_len)
{
	const uint8_t *v;
	size_t n = 0;
	unsigned kind;

	memset(o, 0, sizeof(*o));
	kind = r_u8(r);
	if (kind != VNP_OBJ_KEY && kind != VNP_OBJ_CERT && kind != VNP_OBJ_DATA)
		return false;
	o->kind = (enum vnp_obj_kind)kind;
	o->ref = r_u8(r);
	r_copy(r, o->id, sizeof(o->id), &o->id_len);
	r_str(r, o->label, sizeof(o->label));
	o->usage = r_u32(r);
	o->key_flags = r_u32(r);
	o->pub.alg = (enum vnp_key_alg)r_u8(r);
	r_copy(r, o->pub.modulus, sizeof(o->pub.modulus), &o->pub.modulus_len);
	r_copy(r, o->pub.exponent, sizeof(o->pub.exponent), &o->pub.exponent_len);
	r_copy(r, o->pub.ec_point, sizeof(o->pub.ec_point), &o->pub.ec_point_len);
	o->length = r_u32(r);
	o->has_hash = r_u8(r) != 0;
	v = r_raw(r, sizeof(o->hash));
	if (v)
		memcpy(o->hash, v, sizeof(o->hash));
	r_str(r, o->application, sizeof(o->application));
	o->private_obj = r_u8(r) != 0;
	o->authority = r_u8(r) != 0;
	v = r_bytes(r, CACHE_FILE_MAX, &n);
	if (r->bad || (o->kind == VNP_OBJ_DATA && o->private_obj) ||
	    (o->kind == VNP_OBJ_KEY && !pub_ok(&o->pub)))
		return false;
	*ret_value = NULL;
	*ret_value_len = 0;
	if (n && o->kind == VNP_OBJ_CERT) {
		*ret_value = malloc(n);
		if (!*ret_value)
			return false;
		memcpy(*ret_value, v, n);
		*ret_value_len = n;
	}
	return true;
}

void vnp_cache_free(struct vnp_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->dir.count; i++)
		free(c->values[i]);
	free(c->values);
	free(c->value_lens);
	free(c->dir.objs);
	free(c);
}

/* Read the whole file, refusing what is not a private regular file of ours. */
static uint8_t *read_file(const char *path, size_t *ret_len)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) || st.st_size <= 0 || (size_t)st.st_size > CACHE_FILE_MAX)
		goto out;
	buf = malloc((size_t)st.st_size);
	if (!buf)
		goto out;
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (done != (size_t)st.st_size) {
		free(buf);
		buf = NULL;
	}
out:
	close(fd);
	*ret_len = buf ? done : 0;
	return buf;
}

struct vnp_cache *vnp_cache_load(const char *drv_name, const struct vnp_token_info *info)
{
	char path[PATH_MAX];
	uint8_t md[SHA256_DIGEST_LENGTH];
	struct vnp_cache *c = NULL;
	struct rbuf r = { 0 };
	uint8_t *buf;
	size_t len = 0;
	uint32_t n, flags;
	const char *why = "corrupt";
	struct stat st;

	if (!cacheable(drv_name) ||
	    !vnp_cache_path(drv_name, info->serial, info->serial_len, path, sizeof(path)))
		return NULL;
	if (lstat(cache_dir(), &st) != 0 || !dir_safe(cache_dir(), &st))
		return NULL;
	buf = read_file(path, &len);
	if (!buf) {
		vnp_log(VNP_LOG_P11, "cache: no usable %s", path);
		return NULL;
	}
	r.p = buf;
	r.len = len;
	if (len < CACHE_MAGIC_LEN + SHA256_DIGEST_LENGTH ||
	    memcmp(buf, CACHE_MAGIC, CACHE_MAGIC_LEN))
		goto bad;
	SHA256(buf, len - SHA256_DIGEST_LENGTH, md);
	if (memcmp(md, buf + len - SHA256_DIGEST_LENGTH, sizeof(md)))
		goto bad;
	r.len = len - SHA256_DIGEST_LENGTH;
	r.pos = CACHE_MAGIC_LEN;
	why = "stale";
	if (!same_field(&r, drv_name, strlen(drv_name)) ||
	    !same_field(&r, info->serial, info->serial_len) ||
	    !same_field(&r, info->label, strlen(info->label)) || r_u32(&r) != info->counter)
		goto bad;
	why = "corrupt";
	flags = r_u32(&r);
	n = r_u32(&r);
	if (r.bad || n > CACHE_MAX_OBJS)
		goto bad;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto bad;
	c->dir.counter = info->counter;
	c->partial = flags & CACHE_PARTIAL;
	c->dir.objs = calloc(n ? n : 1, sizeof(*c->dir.objs));
	c->values = calloc(n ? n : 1, sizeof(*c->values));
	c->value_lens = calloc(n ? n : 1, sizeof(*c->value_lens));
	if (!c->dir.objs || !c->values || !c->value_lens)
		goto bad;
	for (uint32_t i = 0; i < n; i++) {
		if (!r_obj(&r, &c->dir.objs[i], &c->values[i], &c->value_lens[i]))
			goto bad;
		c->dir.count++;
	}
	if (r.pos != r.len)
		goto bad;
	free(buf);
	vnp_log(VNP_LOG_P11, "cache: %s: counter %u, %zu entries%s", path, (unsigned)info->counter,
		c->dir.count, c->partial ? " (partial)" : "");
	return c;
bad:
	vnp_log(VNP_LOG_P11, "cache: %s is %s: ignored", path, why);
	vnp_cache_free(c);
	free(buf);
	return NULL;
}

struct vnp_dir *vnp_cache_dir(const struct vnp_cache *c)
{
	struct vnp_dir *d;

	if (!c || c->partial)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->objs = calloc(c->dir.count ? c->dir.count : 1, sizeof(*d->objs));
	if (!d->objs) {
		free(d);
		return NULL;
	}
	if (c->dir.count)
		memcpy(d->objs, c->dir.objs, c->dir.count * sizeof(*d->objs));
	d->count = c->dir.count;
	d->counter = c->dir.counter;
	return d;
}

size_t vnp_cache_apply(const struct vnp_cache *c, struct vnp_token *tok)
{
	uint8_t md[SHA256_DIGEST_LENGTH];
	size_t given = 0;

	if (!c)
		return 0;
	for (size_t i = 0; i < tok->n_objs; i++) {
		struct vnp_p11_obj *o = &tok->objs[i];

		if (o->cls != CKO_CERTIFICATE || o->value_loaded || !o->meta.has_hash)
			continue;
		for (size_t j = 0; j < c->dir.count; j++) {
			const struct vnp_obj *e = &c->dir.objs[j];
			uint8_t *copy;

			if (!c->values[j] || e->kind != VNP_OBJ_CERT || e->ref != o->meta.ref ||
			    memcmp(e->hash, o->meta.hash, sizeof(md)))
				continue;
			SHA256(c->values[j], c->value_lens[j], md);
			if (memcmp(md, o->meta.hash, sizeof(md)))
				break;
			copy = malloc(c->value_lens[j]);
			if (copy) {
				memcpy(copy, c->values[j], c->value_lens[j]);
				vnp_object_set_value(tok, o, copy, c->value_lens[j]);
				given++;
			}
			break;
		}
	}
	return given;
}
