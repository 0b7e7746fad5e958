/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The on-disk enumeration cache (pkcs11/cache.h), through the module's entry points (TAP):
 * cold and warm enumeration APDU counts (vendor interface), a certificate renewed by another
 * process shows at once, a corrupt or truncated cache file is ignored and rewritten, the
 * directory and file modes, a cache directory that is not private or not ours is not used,
 * no private data object in the file, and `cache = off`. Each "start" is a fresh
 * C_Initialize, i.e. what a new process sees. */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "harness.h"

static CK_FUNCTION_LIST_3_0_PTR f;
static const struct vnp_ext_functions *ext;
static CK_BBOOL yes = CK_TRUE;
static char cache_dir[300], cache_file[400], conf_path[300];
static const CK_BYTE p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const CK_BYTE key_id[] = { 0x01 };

#define PIN "123456"
#define SERIAL "5654000000000071"
#define PRIVATE_LABEL "secret-note-label"

struct enum_result {
	CK_RV rv;
	uint64_t apdus;
	unsigned certs;
	unsigned char value[4096]; /* the value of the certificate with CKA_ID 01 */
	CK_ULONG value_len;
};

/* A self-signed P-256 certificate with subject CN=cn (DER, OPENSSL_free). */
static unsigned char *make_cert(const char *cn, int *ret_len)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	unsigned char *der = NULL;

	*ret_len = 0;
	if (!k || !x)
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 11);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, k);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (X509_sign(x, k, EVP_sha256()) > 0)
		*ret_len = i2d_X509(x, &der);
out:
	X509_free(x);
	EVP_PKEY_free(k);
	return der;
}

static CK_SLOT_ID first_slot(void)
{
	CK_SLOT_ID s[4];
	CK_ULONG n = 4;

	return f->C_GetSlotList(CK_TRUE, s, &n) == CKR_OK && n ? s[0] : (CK_SLOT_ID)~0UL;
}

/* Open a logged-in R/W session on a fresh library. */
static CK_RV start_rw(CK_SESSION_HANDLE *h)
{
	CK_RV rv = f->C_Initialize(NULL);

	if (rv == CKR_OK)
		rv = f->C_OpenSession(first_slot(), CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
				      h);
	if (rv == CKR_OK)
		rv = f->C_Login(*h, CKU_USER, (CK_UTF8CHAR_PTR)PIN, strlen(PIN));
	return rv;
}

/* Replace the certificate with CKA_ID 01 by a new one for cn; *ret_der gets a copy. */
static CK_RV write_cert(CK_SESSION_HANDLE h, const char *cn, unsigned char *ret_der,
			CK_ULONG *ret_len)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_ATTRIBUTE find[] = { { CKA_CLASS, &cls, sizeof(cls) },
				{ CKA_ID, (void *)key_id, sizeof(key_id) } };
	CK_OBJECT_HANDLE old[4], obj;
	CK_ULONG n = 0;
	int len = 0;
	unsigned char *der = make_cert(cn, &len);
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },   { CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) },
		{ CKA_TOKEN, &yes, 1 },             { CKA_VALUE, der, (CK_ULONG)len },
		{ CKA_LABEL, (char *)cn, strlen(cn) }, { CKA_ID, (void *)key_id, sizeof(key_id) },
	};
	CK_RV rv;

	if (!der || (size_t)len > 4096)
		return CKR_GENERAL_ERROR;
	rv = f->C_FindObjectsInit(h, find, 2);
	if (rv == CKR_OK)
		rv = f->C_FindObjects(h, old, 4, &n);
	f->C_FindObjectsFinal(h);
	for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++)
		rv = f->C_DestroyObject(h, old[i]);
	if (rv == CKR_OK)
		rv = f->C_CreateObject(h, t, 6, &obj);
	memcpy(ret_der, der, (size_t)len);
	*ret_len = (CK_ULONG)len;
	OPENSSL_free(der);
	return rv;
}

/* What an application does at start: C_Initialize -> C_GetSlotList -> C_GetTokenInfo ->
 * C_OpenSession -> C_FindObjects (all) -> CKA_VALUE of each certificate; then C_Finalize. */
static void enumerate(struct enum_result *r)
{
	CK_SESSION_HANDLE h;
	CK_TOKEN_INFO ti;
	CK_OBJECT_HANDLE objs[64];
	CK_ULONG n = 0;
	CK_SLOT_ID slot;
	struct vnp_ext_apdu_stats st;

	memset(r, 0, sizeof(*r));
	r->rv = f->C_Initialize(NULL);
	if (r->rv != CKR_OK)
		return;
	slot = first_slot();
	r->rv = f->C_GetTokenInfo(slot, &ti);
	if (r->rv == CKR_OK)
		r->rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h);
	if (r->rv == CKR_OK)
		r->rv = f->C_FindObjectsInit(h, NULL, 0);
	if (r->rv == CKR_OK)
		r->rv = f->C_FindObjects(h, objs, 64, &n);
	if (r->rv == CKR_OK)
		r->rv = f->C_FindObjectsFinal(h);
	for (CK_ULONG i = 0; r->rv == CKR_OK && i < n; i++) {
		CK_OBJECT_CLASS cls = 0;
		CK_BYTE id[8];
		unsigned char val[4096];
		CK_ATTRIBUTE a[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_ID, id, sizeof(id) } };
		CK_ATTRIBUTE v = { CKA_VALUE, val, sizeof(val) };

		if (f->C_GetAttributeValue(h, objs[i], a, 2) != CKR_OK || cls != CKO_CERTIFICATE)
			continue;
		r->certs++;
		r->rv = f->C_GetAttributeValue(h, objs[i], &v, 1);
		if (r->rv == CKR_OK && a[1].ulValueLen == 1 && id[0] == key_id[0]) {
			memcpy(r->value, val, v.ulValueLen);
			r->value_len = v.ulValueLen;
		}
	}
	if (ext->get_apdu_stats(slot, &st) == CKR_OK)
		r->apdus = st.apdus;
	else
		r->apdus = ~(uint64_t)0;
	f->C_Finalize(NULL);
}

static int file_mode(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static int file_contains(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "rb");
	static char buf[1 << 20];
	size_t n;

	if (!fp)
		return -1;
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	return memmem(buf, n, needle, strlen(needle)) != NULL;
}

/* Another process (fork; its cache elsewhere) renews the certificate: this process's cache
 * knows nothing of it. */
static int renew_elsewhere(const char *cn, unsigned char *ret_der, CK_ULONG *ret_len)
{
	int fds[2], status = 0;
	pid_t pid;
	ssize_t got;

	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char other[400];
		unsigned char der[4096];
		CK_ULONG len = 0;
		CK_SESSION_HANDLE h;
		CK_RV rv;

		close(fds[0]);
		snprintf(other, sizeof(other), "%s-other", cache_dir);
		setenv("VNPKI_CACHE_DIR", other, 1);
		rv = start_rw(&h);
		if (rv == CKR_OK)
			rv = write_cert(h, cn, der, &len);
		f->C_Finalize(NULL);
		if (rv == CKR_OK && write(fds[1], der, len) != (ssize_t)len)
			rv = CKR_GENERAL_ERROR;
		_exit(rv == CKR_OK ? 0 : 1);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return -1;
	}
	*ret_len = 0;
	while ((got = read(fds[0], ret_der + *ret_len, 4096 - *ret_len)) > 0)
		*ret_len += (CK_ULONG)got;
	close(fds[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int setup_token(void)
{
	const char *d = h_make_dir("cache");

	if (!d || h_init_token("--serial " SERIAL " --label cache --pin " PIN) != 0)
		return -1;
	snprintf(cache_dir, sizeof(cache_dir), "%s/cache", d);
	snprintf(cache_file, sizeof(cache_file), "%s/vntoken-%s", cache_dir, SERIAL);
	snprintf(conf_path, sizeof(conf_path), "%s/vnpki.conf", d);
	return 0;
}

/* A warm start (directory from the cache), then an ECDSA signature with key 01. */
static CK_RV sign_warm(void)
{
	CK_SESSION_HANDLE h;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof(cls) },
			     { CKA_ID, (void *)key_id, sizeof(key_id) } };
	CK_OBJECT_HANDLE key;
	CK_ULONG n = 0;
	CK_MECHANISM m = { CKM_ECDSA_SHA256, NULL, 0 };
	CK_BYTE sig[128];
	CK_ULONG sig_len = sizeof(sig);
	CK_RV rv = start_rw(&h);

	if (rv == CKR_OK)
		rv = f->C_FindObjectsInit(h, t, 2);
	if (rv == CKR_OK)
		rv = f->C_FindObjects(h, &key, 1, &n);
	f->C_FindObjectsFinal(h);
	if (rv == CKR_OK && n != 1)
		rv = CKR_KEY_HANDLE_INVALID;
	if (rv == CKR_OK)
		rv = f->C_SignInit(h, &m, key);
	if (rv == CKR_OK)
		rv = f->C_Sign(h, (CK_BYTE_PTR) "data", 4, sig, &sig_len);
	f->C_Finalize(NULL);
	return rv;
}

static void test_cold_warm(void)
{
	struct enum_result cold, warm;
	unsigned char der[4096];
	CK_ULONG der_len = 0;
	CK_SESSION_HANDLE h;
	CK_MECHANISM m = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE tpub[] = { { CKA_TOKEN, &yes, 1 },
				{ CKA_EC_PARAMS, (void *)p256, sizeof(p256) } };
	CK_ATTRIBUTE tpriv[] = { { CKA_SIGN, &yes, 1 }, { CKA_ID, (void *)key_id, 1 } };
	CK_OBJECT_HANDLE pub, priv;

	RV(start_rw(&h), CKR_OK);
	RV(f->C_GenerateKeyPair(h, &m, tpub, 2, tpriv, 2, &pub, &priv), CKR_OK);
	RV(write_cert(h, "cache first", der, &der_len), CKR_OK);
	f->C_Finalize(NULL);

	unlink(cache_file);
	enumerate(&cold);
	ok(cold.rv == CKR_OK && cold.certs == 1, "cold enumeration: one certificate (rv 0x%lx)",
	   (unsigned long)cold.rv);
	ok(cold.apdus >= 3, "cold: SELECT, GET DIRECTORY, READ OBJECT at least (%llu APDUs)",
	   (unsigned long long)cold.apdus);
	ok(cold.value_len == der_len && !memcmp(cold.value, der, der_len),
	   "cold: the certificate written");
	ok(file_mode(cache_dir) == 0700, "cache directory mode 0700 (%o)", file_mode(cache_dir));
	ok(file_mode(cache_file) == 0600, "cache file mode 0600 (%o)", file_mode(cache_file));

	enumerate(&warm);
	ok(warm.rv == CKR_OK && warm.certs == 1, "warm enumeration: one certificate");
	ok(warm.apdus == 1, "warm: SELECT only (%llu APDUs; target <= 2)",
	   (unsigned long long)warm.apdus);
	ok(warm.value_len == der_len && !memcmp(warm.value, der, der_len),
	   "warm: the same certificate value");
	ok(sign_warm() == CKR_OK, "after a warm start the cached key signs");
}

static void test_renewal(void)
{
	struct enum_result r;
	unsigned char der[4096];
	CK_ULONG len = 0;

	ok(renew_elsewhere("cache renewed", der, &len) == 0 && len > 0,
	   "another process renews the certificate (its cache elsewhere)");
	enumerate(&r);
	ok(r.rv == CKR_OK && r.certs == 1 && r.value_len == len && !memcmp(r.value, der, len),
	   "the renewed certificate shows, not the cached one");
	ok(r.apdus >= 3, "the counter moved: the directory and certificate re-read (%llu APDUs)",
	   (unsigned long long)r.apdus);
	enumerate(&r);
	ok(r.rv == CKR_OK && r.apdus == 1 && r.value_len == len && !memcmp(r.value, der, len),
	   "then warm again with the new certificate (%llu APDUs)", (unsigned long long)r.apdus);
}

static void corrupt(const char *how)
{
	int fd;
	struct stat st;

	if (stat(cache_file, &st) != 0)
		return;
	if (!strcmp(how, "truncated")) {
		if (truncate(cache_file, st.st_size / 2) != 0)
			return;
	} else if (!strcmp(how, "flipped")) {
		fd = open(cache_file, O_RDWR);
		if (fd >= 0) {
			unsigned char b = 0;

			if (pread(fd, &b, 1, st.st_size / 2) == 1) {
				b ^= 0x40;
				if (pwrite(fd, &b, 1, st.st_size / 2) != 1)
					b = 0;
			}
			close(fd);
		}
	} else if (!strcmp(how, "empty")) {
		if (truncate(cache_file, 0) != 0)
			return;
	} else if (!strcmp(how, "garbage")) {
		FILE *fp = fopen(cache_file, "wb");

		if (fp) {
			for (int i = 0; i < 5000; i++)
				fputc((i * 131 + 7) & 0xff, fp);
			fclose(fp);
		}
	}
}

static void test_corrupt(void)
{
	static const char *const hows[] = { "truncated", "flipped", "empty", "garbage" };
	struct enum_result ref, r;

	enumerate(&ref);
	for (size_t i = 0; i < sizeof(hows) / sizeof(hows[0]); i++) {
		corrupt(hows[i]);
		enumerate(&r);
		ok(r.rv == CKR_OK && r.apdus >= 3 && r.value_len == ref.value_len &&
			   !memcmp(r.value, ref.value, ref.value_len),
		   "%s cache file: ignored, read from the card (%llu APDUs)", hows[i],
		   (unsigned long long)r.apdus);
		enumerate(&r);
		ok(r.rv == CKR_OK && r.apdus == 1, "%s cache file: rewritten, warm again", hows[i]);
	}
}

static void test_unsafe_dir(void)
{
	struct enum_result r;
	struct stat before, after;

	/* group/world-writable */
	stat(cache_file, &before);
	ok(chmod(cache_dir, 0777) == 0, "cache directory made world-writable");
	enumerate(&r);
	ok(r.rv == CKR_OK && r.apdus >= 3, "a world-writable cache directory is not used (%llu)",
	   (unsigned long long)r.apdus);
	ok(stat(cache_file, &after) == 0 && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec &&
		   after.st_ino == before.st_ino,
	   "and nothing is written into it");
	chmod(cache_dir, 0700);

	/* another owner (the test runs as root, or as the owner: chown to nobody either way
	 * when root; skipped otherwise) */
	if (geteuid() == 0) {
		ok(chown(cache_dir, 65534, 65534) == 0, "cache directory given to another user");
		enumerate(&r);
		ok(r.rv == CKR_OK && r.apdus >= 3,
		   "a cache directory of another user is not used (%llu)",
		   (unsigned long long)r.apdus);
		ok(chown(cache_dir, 0, 0) == 0, "given back");
	} else {
		printf("# not root: the other-owner case is not run\n");
	}
	enumerate(&r);
	ok(r.rv == CKR_OK && r.apdus == 1, "private again: warm (%llu)", (unsigned long long)r.apdus);

	/* the cache file is a symlink: refused (O_NOFOLLOW) */
	{
		char target[500];

		snprintf(target, sizeof(target), "%s.real", cache_file);
		rename(cache_file, target);
		ok(symlink(target, cache_file) == 0, "cache file replaced by a symlink");
		enumerate(&r);
		ok(r.rv == CKR_OK && r.apdus >= 3, "a symlinked cache file is not read (%llu)",
		   (unsigned long long)r.apdus);
		ok(file_mode(cache_file) == 0600, "and it is replaced by a private file (%o)",
		   file_mode(cache_file));
		unlink(target);
	}
}

static void test_private_data(void)
{
	CK_SESSION_HANDLE h;
	CK_OBJECT_CLASS cls = CKO_DATA;
	static const char secret_value[] = "do-not-cache-this-private-value";
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof(cls) },
			     { CKA_TOKEN, &yes, 1 },
			     { CKA_PRIVATE, &yes, 1 },
			     { CKA_LABEL, (char *)PRIVATE_LABEL, strlen(PRIVATE_LABEL) },
			     { CKA_VALUE, (char *)secret_value, strlen(secret_value) } };
	CK_OBJECT_HANDLE o;
	struct enum_result r;

	RV(start_rw(&h), CKR_OK);
	RV(f->C_CreateObject(h, t, 5, &o), CKR_OK);
	f->C_Finalize(NULL);
	enumerate(&r);
	enumerate(&r);
	ok(r.rv == CKR_OK && r.apdus <= 2 && r.value_len > 0,
	   "with a private data object on the token: warm is SELECT + GET DIRECTORY (%llu)",
	   (unsigned long long)r.apdus);
	ok(file_contains(cache_file, PRIVATE_LABEL) == 0 &&
		   file_contains(cache_file, secret_value) == 0,
	   "the cache file holds neither the private object's label nor its value");
	ok(file_contains(cache_file, "cache renewed") == 1,
	   "(it does hold the public certificate)");
}

static void test_off(void)
{
	FILE *fp = fopen(conf_path, "a");
	struct enum_result r;

	if (fp) {
		fputs("cache = off\n", fp);
		fclose(fp);
	}
	unlink(cache_file);
	enumerate(&r);
	ok(r.rv == CKR_OK && r.apdus >= 3, "cache = off: read from the card (%llu)",
	   (unsigned long long)r.apdus);
	ok(file_mode(cache_file) == -1, "cache = off: nothing written");
	enumerate(&r);
	ok(r.rv == CKR_OK && r.apdus >= 3, "cache = off: every start reads the card");
}

/* A virtual PIV card with two certificates: not cached by default (no change counter; the
 * CHUID does not move with a renewal), cached by its CHUID with `cache.piv = chuid`. */
static void test_piv(void)
{
	char state[400], conf[400], cmd[1200], file[500];
	const char *bin = getenv("VNPKI_VTOKEN_BIN"), *plugin = getenv("VNPKI_VTOKEN_PLUGIN");
	struct enum_result cold, warm;
	FILE *fp;

	snprintf(state, sizeof(state), "%s-piv.state", cache_dir);
	snprintf(conf, sizeof(conf), "%s-piv.conf", cache_dir);
	snprintf(cmd, sizeof(cmd),
		 "'%s' init --state '%s' --serial 5654000000000072 --label piv --pin " PIN
		 " --profile piv --piv-key 9a:rsa2048 --piv-key 9e:p256 >/dev/null 2>&1",
		 bin, state);
	if (system(cmd) != 0) {
		printf("# no virtual PIV card (vnpki-vtoken init --profile piv): PIV cases not run\n");
		return;
	}
	fp = fopen(conf, "w");
	if (!fp)
		return;
	fprintf(fp, "readers = vtoken\nvtoken.state = %s\nvtoken.plugin = %s\n", state, plugin);
	fclose(fp);
	setenv("VNPKI_CONF", conf, 1);
	enumerate(&cold);
	enumerate(&warm);
	ok(cold.rv == CKR_OK && cold.certs == 2 && warm.rv == CKR_OK && warm.certs == 2,
	   "PIV: two certificates, twice");
	ok(warm.apdus == cold.apdus && cold.apdus >= 4,
	   "PIV, default: every start reads the card (%llu, then %llu APDUs)",
	   (unsigned long long)cold.apdus, (unsigned long long)warm.apdus);
	snprintf(cmd, sizeof(cmd), "ls '%s' | grep -q '^piv-'", cache_dir);
	ok(system(cmd) != 0, "PIV, default: no cache file");
	(void)file;
	fp = fopen(conf, "a");
	if (fp) {
		fputs("cache.piv = chuid\n", fp);
		fclose(fp);
	}
	enumerate(&cold);
	enumerate(&warm);
	/* SELECT + CHUID; today also the vntoken SELECT that detection tries first and the
	 * PIN status VERIFY of C_GetTokenInfo (PIV's SELECT does not tell the counter) */
	ok(warm.rv == CKR_OK && warm.certs == 2 && warm.apdus <= 4 && warm.apdus < cold.apdus,
	   "PIV, cache.piv = chuid: no certificate read at a warm start (%llu APDUs, cold %llu)",
	   (unsigned long long)warm.apdus, (unsigned long long)cold.apdus);
	ok(warm.value_len == cold.value_len && !memcmp(warm.value, cold.value, cold.value_len),
	   "PIV, cache.piv = chuid: the same certificate");
	setenv("VNPKI_CONF", conf_path, 1);
}

int main(void)
{
	void *mod;
	CK_C_GetInterface get_if = NULL;

	f = h_start(setup_token, &mod, &get_if);
	if (!f)
		return 1;
	ext = h_vendor(get_if);
	if (!ext) {
		printf("Bail out! no vendor interface\n");
		return 1;
	}
	test_cold_warm();
	test_renewal();
	test_corrupt();
	test_unsafe_dir();
	test_private_data();
	test_piv();
	test_off();
	return h_finish(mod);
}
