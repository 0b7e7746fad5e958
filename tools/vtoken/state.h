/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Persistent state of one virtual token: one text file of key=value lines (hex values),
 * written atomically (temp file, fsync, rename, fsync dir) under an exclusive flock on
 * "<state>.lock", and re-read whenever another process replaced it. */
#ifndef VNP_VT_STATE_H
#define VNP_VT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#define VNP_VT_SERIAL_LEN 8
#define VNP_VT_TOKEN_LABEL_MAX 32
#define VNP_VT_ID_MAX 64
#define VNP_VT_LABEL_MAX 128
#define VNP_VT_APP_MAX 128
#define VNP_VT_VALUE_MAX 65535
#define VNP_VT_PIN_SALT_LEN 16
#define VNP_VT_PIN_HASH_LEN 32
#define VNP_VT_KEY_REF_MIN 0x01
#define VNP_VT_KEY_REF_MAX 0x1F
#define VNP_VT_CERT_REF_MIN 0x40
#define VNP_VT_CERT_REF_MAX 0x7F
#define VNP_VT_DATA_REF_MIN 0x80
#define VNP_VT_DATA_REF_MAX 0xBF

/* key algorithm references (APPLET.md, capability tag 85) */
#define VNP_VT_ALG_RSA2048 0x01
#define VNP_VT_ALG_RSA3072 0x02
#define VNP_VT_ALG_P256 0x11
#define VNP_VT_ALG_P384 0x12

#define VNP_VT_CHALLENGE_LEN 7 /* unblock challenge (RECOVERY.md) */
#define VNP_VT_UNBLOCK_KEY_LEN 32

/* card profiles (state line profile=; vntoken when absent) */
#define VNP_VT_PROFILE_VNTOKEN 0
#define VNP_VT_PROFILE_PIV 1

#define VNP_VT_OBJ_CERT 0xA2
#define VNP_VT_OBJ_DATA 0xA1

struct vnp_vt_key {
	uint8_t alg;
	uint8_t id[VNP_VT_ID_MAX];
	size_t id_len;
	uint8_t label[VNP_VT_LABEL_MAX];
	size_t label_len;
	uint8_t usage; /* bit 0 sign, bit 1 decrypt */
	uint8_t flags; /* bit 0 always authenticate, bit 1 generated on card */
	uint8_t *der;  /* PKCS#8 PrivateKeyInfo */
	size_t der_len;
	EVP_PKEY *pkey;
};

struct vnp_vt_obj {
	uint8_t type; /* VNP_VT_OBJ_CERT or VNP_VT_OBJ_DATA */
	uint8_t id[VNP_VT_ID_MAX];
	size_t id_len;
	uint8_t label[VNP_VT_LABEL_MAX];
	size_t label_len;
	uint8_t app[VNP_VT_APP_MAX];
	size_t app_len;
	bool priv;
	uint8_t category; /* certificates: CKA_CERTIFICATE_CATEGORY (0 unspecified, 2 authority) */
	uint8_t *value;
	size_t value_len;
};

/* Everything the file holds. */
struct vnp_vt_data {
	uint64_t generation; /* +1 on every save */
	uint8_t serial[VNP_VT_SERIAL_LEN];
	uint8_t label[VNP_VT_TOKEN_LABEL_MAX];
	size_t label_len;
	uint8_t device; /* 1 PKI token, 2 SIM PKI */
	uint8_t profile; /* VNP_VT_PROFILE_*: which applets the card runs */
	uint8_t pin_min, pin_max, pin_max_tries, pin_tries;
	uint8_t unblock_max, unblock_tries;
	bool pin_initial;
	uint8_t pin_salt[VNP_VT_PIN_SALT_LEN];
	uint8_t pin_hash[VNP_VT_PIN_HASH_LEN];
	bool has_unblock_key;
	uint8_t unblock_key[VNP_VT_UNBLOCK_KEY_LEN]; /* K_token */
	bool has_challenge;                          /* an unblock request is pending */
	uint8_t challenge[VNP_VT_CHALLENGE_LEN];
	bool terminated; /* unblock counter spent: dead for good (unblock_tries == 0) */
	uint32_t counter;        /* content change counter */
	bool extended;
	uint16_t max_nc, max_ne;
	struct vnp_vt_key *keys[VNP_VT_KEY_REF_MAX + 1];   /* by ref */
	struct vnp_vt_obj *objs[VNP_VT_DATA_REF_MAX + 1];  /* by ref, 0x40..0xBF used */
};

struct vnp_vt_state {
	char *path;
	char *lock_path;
	int lock_fd;   /* >= 0 while the exclusive lock is held */
	OSSL_LIB_CTX *libctx;
	OSSL_PROVIDER *prov;
	bool stale;    /* memory may differ from the file: reload before use */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct vnp_vt_data d;
};

/* A blank state (defaults, no file yet) for path, for `init`. Returns VNP_OK, VNP_E_NOMEM,
 * VNP_E_CRYPTO (no OpenSSL library context). */
int vnp_vt_state_new(const char *path, struct vnp_vt_state **ret);
/* Open and read the state file at path. VNP_E_IO when missing or unreadable,
 * VNP_E_MALFORMED when it does not parse. */
int vnp_vt_state_load(const char *path, struct vnp_vt_state **ret);
/* Wipe and free; NULL is a no-op. Releases the lock if held. */
void vnp_vt_state_free(struct vnp_vt_state *st);
/* Re-read the file when it changed on disk (inode, size, mtime) or memory is stale.
 * VNP_OK, or the load error (memory then is kept and marked stale). */
int vnp_vt_state_refresh(struct vnp_vt_state *st);
/* Take the exclusive lock, then refresh. VNP_OK or VNP_E_IO. */
int vnp_vt_state_lock(struct vnp_vt_state *st);
void vnp_vt_state_unlock(struct vnp_vt_state *st);
/* Write memory to the file (generation + 1); the lock must be held. On failure memory is
 * put back to what the file holds (nothing changed) and VNP_E_IO is returned. */
int vnp_vt_state_save_locked(struct vnp_vt_state *st);
/* Create the file for a new state: takes the lock; VNP_E_ARGS when the file exists and
 * !force. */
int vnp_vt_state_create(struct vnp_vt_state *st, bool force);

/* Object helpers */
void vnp_vt_key_free(struct vnp_vt_key *k);
void vnp_vt_obj_free(struct vnp_vt_obj *o);

#endif
