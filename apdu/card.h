/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The token model: what pkcs11/ asks of a card ("list objects", "sign these bytes with
 * key 2", "verify PIN"), behind one card driver vtable per applet. No CK_* type here. */
#ifndef VNP_CARD_H
#define VNP_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "apdu.h"

enum vnp_key_alg {
	VNP_ALG_NONE = 0,
	VNP_ALG_RSA2048 = 0x01,
	VNP_ALG_RSA3072 = 0x02,
	VNP_ALG_EC_P256 = 0x11,
	VNP_ALG_EC_P384 = 0x12,
};
#define VNP_ALG_IS_RSA(a) ((a) == VNP_ALG_RSA2048 || (a) == VNP_ALG_RSA3072)
#define VNP_ALG_IS_EC(a) ((a) == VNP_ALG_EC_P256 || (a) == VNP_ALG_EC_P384)

enum vnp_hash {
	VNP_HASH_NONE = 0,
	VNP_HASH_SHA1 = 1,
	VNP_HASH_SHA224 = 2,
	VNP_HASH_SHA256 = 3,
	VNP_HASH_SHA384 = 4,
	VNP_HASH_SHA512 = 5,
};

enum vnp_sig_scheme {
	/* input: the bytes to pad with PKCS#1 v1.5 type 1 (a DigestInfo, or raw data for
	 * CKM_RSA_PKCS), at most k - 11 bytes */
	VNP_SIG_RSA_PKCS1 = 1,
	/* input: a hash of the length of pss_hash */
	VNP_SIG_RSA_PSS = 2,
	/* input: a hash (any length; the card truncates to the order's bit length);
	 * output: r || s, each the size of the order */
	VNP_SIG_ECDSA = 3,
};

struct vnp_sign_params {
	enum vnp_sig_scheme scheme;
	enum vnp_hash pss_hash;
	enum vnp_hash pss_mgf1_hash;
	uint16_t pss_salt_len;
};

#define VNP_RSA_MAX_BYTES 384   /* RSA-3072 */
#define VNP_EC_POINT_MAX 97     /* 04 || X || Y for P-384 */
#define VNP_ID_MAX 64
#define VNP_LABEL_MAX 128       /* UTF-8 bytes, without the NUL */
#define VNP_SERIAL_MAX 16

struct vnp_pubkey {
	enum vnp_key_alg alg;
	uint8_t modulus[VNP_RSA_MAX_BYTES];
	size_t modulus_len;
	uint8_t exponent[8];
	size_t exponent_len;
	uint8_t ec_point[VNP_EC_POINT_MAX]; /* uncompressed, 04 || X || Y */
	size_t ec_point_len;
};

enum vnp_obj_kind {
	VNP_OBJ_KEY = 1,  /* a key pair: pkcs11/ shows a private and a public key object */
	VNP_OBJ_CERT = 2, /* an X.509 certificate, DER */
	VNP_OBJ_DATA = 3, /* an opaque data object */
};

#define VNP_USAGE_SIGN 0x01u
#define VNP_USAGE_DECRYPT 0x02u

#define VNP_KEY_ALWAYS_AUTH 0x01u /* a VERIFY is needed before each private-key operation */
#define VNP_KEY_LOCAL 0x02u       /* generated on the card */
#define VNP_KEY_FIXED 0x04u       /* the card cannot delete it (PIV): CKA_DESTROYABLE false */

struct vnp_obj {
	enum vnp_obj_kind kind;
	uint8_t ref;              /* the card's reference for the object */
	uint8_t id[VNP_ID_MAX];   /* CKA_ID */
	size_t id_len;
	char label[VNP_LABEL_MAX + 1];
	/* VNP_OBJ_KEY */
	unsigned usage;
	unsigned key_flags;
	struct vnp_pubkey pub;
	/* VNP_OBJ_CERT, VNP_OBJ_DATA */
	size_t length;            /* value length in bytes */
	uint8_t hash[32];         /* SHA-256 of the value, when has_hash */
	bool has_hash;
	char application[VNP_LABEL_MAX + 1]; /* VNP_OBJ_DATA: CKA_APPLICATION */
	bool private_obj;         /* reading needs the user PIN */
	bool authority;           /* VNP_OBJ_CERT: a CA certificate (CKA_CERTIFICATE_CATEGORY 2) */
};

/* The object directory, as read from the card. */
struct vnp_dir {
	uint32_t counter; /* content change counter: moves on every write */
	size_t count;
	struct vnp_obj *objs;
};
void vnp_dir_free(struct vnp_dir *dir); /* NULL is a no-op */

enum vnp_device_type {
	VNP_DEVICE_PKI_TOKEN = 1,
	VNP_DEVICE_SIM_PKI = 2,
	VNP_DEVICE_PIV = 3,
};

#define VNP_PIN_USER 0x81u
#define VNP_PIN_SO 0x82u /* unblock / PUK reference */

struct vnp_pin_info {
	int tries_left;    /* -1: unknown; 0: locked */
	unsigned max_tries;
	bool verified;     /* the card's security status says verified */
	bool initial;      /* still the PIN handed out at issuance (to be changed) */
};

/* What C_Login(CKU_SO) takes, and what the driver's unblock member gets as "response". */
enum vnp_so_kind {
	VNP_SO_RESPONSE_CODE = 0, /* the recovery response code of RECOVERY.md (vntoken) */
	VNP_SO_PUK = 1,           /* a PUK (PIV, SIM PKI): the bytes as typed; the driver pads */
};

struct vnp_token_info {
	enum vnp_device_type type;
	enum vnp_so_kind so_kind;
	unsigned puk_min, puk_max;             /* VNP_SO_PUK: PUK length policy, in bytes */
	uint8_t serial[VNP_SERIAL_MAX];
	size_t serial_len;
	char label[VNP_LABEL_MAX + 1];
	char manufacturer[33];
	char model[17];
	uint8_t version_major, version_minor; /* applet version */
	uint32_t counter;                      /* content change counter at SELECT */
	unsigned pin_min, pin_max;             /* PIN policy, in bytes */
	struct vnp_pin_info user_pin;          /* as known at SELECT (tries_left -1 if not told) */
	struct vnp_pin_info so_pin;            /* the unblock counter (vntoken) or PUK */
	bool terminated;                       /* unblock counter spent: the token is dead */
	bool challenge_pending;                /* an unblock request waits for its answer */
	uint32_t algs;                         /* bit (1 << index) per supported enum vnp_key_alg:
						* see vnp_alg_bit() */
	size_t max_cmd_data, max_resp_data;
	bool extended;
	bool sign_self; /* vntoken: SIGN / SIGN BATCH (80 2B) name key and scheme themselves */
};
static inline uint32_t vnp_alg_bit(enum vnp_key_alg a)
{
	switch (a) {
	case VNP_ALG_RSA2048: return 1u << 0;
	case VNP_ALG_RSA3072: return 1u << 1;
	case VNP_ALG_EC_P256: return 1u << 2;
	case VNP_ALG_EC_P384: return 1u << 3;
	case VNP_ALG_NONE: break;
	}
	return 0;
}

struct vnp_keygen {
	enum vnp_key_alg alg;
	uint8_t id[VNP_ID_MAX];
	size_t id_len;
	char label[VNP_LABEL_MAX + 1];
	unsigned usage;
	unsigned key_flags;
};

struct vnp_card;

/* One input of a batch signature (sign_batch). */
struct vnp_sign_item {
	const uint8_t *in;
	size_t in_len;
	uint8_t *out;
	size_t out_len; /* capacity on entry, signature length on VNP_OK */
	int rv;
};

/* One card driver per applet. Every member runs with the token lock held and brackets its
 * own APDUs in one transaction (vnp_card_begin/end), or sends one self-contained APDU
 * with vnp_card_run_one (no transaction). Members may be NULL when the applet
 * lacks the function (the caller returns "not supported"). Errors are enum vnp_rv. */
struct vnp_card_driver {
	const char *name;
	/* SELECT the applet and fill ret_info. VNP_E_NOT_FOUND when the card does not carry
	 * this applet. Spends no PIN try and writes nothing. Also used to re-select after a
	 * card reset. */
	int (*probe)(struct vnp_card *card, struct vnp_token_info *ret_info);
	void (*release)(struct vnp_card *card); /* free drv_data */
	int (*read_dir)(struct vnp_card *card, struct vnp_dir **ret);
	/* Read a whole certificate or data object value (malloc'd, caller frees). */
	int (*read_object)(struct vnp_card *card, const struct vnp_obj *obj, uint8_t **ret,
			   size_t *ret_len);
	/* Counter and security status without spending a try (VERIFY with no data). */
	int (*pin_status)(struct vnp_card *card, unsigned pin_ref, struct vnp_pin_info *ret);
	/* VERIFY. On VNP_E_PIN_INCORRECT / VNP_E_PIN_LOCKED *ret_tries_left says what the
	 * card said (-1 when it did not). */
	int (*verify)(struct vnp_card *card, unsigned pin_ref, const uint8_t *pin, size_t len,
		      int *ret_tries_left);
	/* Drop the verified state of the PIN. */
	int (*logout)(struct vnp_card *card, unsigned pin_ref);
	int (*change_pin)(struct vnp_card *card, unsigned pin_ref, const uint8_t *old_pin,
			  size_t old_len, const uint8_t *new_pin, size_t new_len,
			  int *ret_tries_left);
	/* Generate a key pair on the card; ret is the new key object (public key filled). */
	int (*generate_key)(struct vnp_card *card, const struct vnp_keygen *req,
			    struct vnp_obj *ret);
	/* Private-key signature. *out_len: capacity on entry, length on return. */
	int (*sign)(struct vnp_card *card, const struct vnp_obj *key,
		    const struct vnp_sign_params *params, const uint8_t *in, size_t in_len,
		    uint8_t *out, size_t *out_len);
	/* Optional. Sign n inputs with one key and scheme in as few APDUs as the card allows
	 * (one batch command when they fit). Each item's rv is set (VNP_OK: out/out_len
	 * filled, out_len being the capacity on entry); the return value is VNP_OK when the
	 * card answered for every item, or the error of a whole exchange (then the items it
	 * carried and those not sent yet carry it). Same PIN policy as sign: an always-authenticate key takes n == 1. */
	int (*sign_batch)(struct vnp_card *card, const struct vnp_obj *key,
			  const struct vnp_sign_params *params, struct vnp_sign_item *items,
			  size_t n);
	/* Create a certificate or data object. meta gives kind, id, label, application,
	 * private_obj; the card assigns the reference (*ret_ref). */
	int (*write_object)(struct vnp_card *card, const struct vnp_obj *meta,
			    const uint8_t *value, size_t len, uint8_t *ret_ref);
	/* Delete a key pair, certificate or data object. */
	int (*delete_object)(struct vnp_card *card, const struct vnp_obj *obj);
	int (*get_random)(struct vnp_card *card, uint8_t *buf, size_t len);
	/* Recovery (RECOVERY.md). Draw and store a new unblock challenge (replacing any older
	 * one); works on a locked token. VNP_E_TERMINATED. */
	int (*unblock_challenge)(struct vnp_card *card, uint8_t *ret_challenge, size_t len);
	/* RESET RETRY COUNTER with the 10-byte response (VNP_SO_RESPONSE_CODE) or the PUK as
	 * typed (VNP_SO_PUK: no challenge is needed; VNP_E_PIN_LOCKED when the PUK is blocked)
	 * and the new PIN. On success the PIN is set and its counter reset. VNP_E_PIN_INCORRECT with *ret_tries_left = unblock
	 * tries left (the challenge stays); VNP_E_TERMINATED when the counter is spent;
	 * VNP_E_PIN_LEN when the new PIN breaks the policy (nothing spent);
	 * VNP_E_CONDITIONS when no request is pending. */
	int (*unblock)(struct vnp_card *card, const uint8_t *response, size_t response_len,
		       const uint8_t *new_pin, size_t new_len, int *ret_tries_left);
};

struct vnp_config;

struct vnp_card {
	struct vnp_card_io io;
	const struct vnp_config *cfg; /* the module's configuration (may be NULL): driver options
				       * such as the PIV management key; outlives the card */
	const struct vnp_card_driver *drv;
	void *drv_data;
	bool in_transaction;
	unsigned tx_depth; /* nesting depth of vnp_card_begin (card.c only; zero-initialise) */
	bool reset_seen; /* set by vnp_card_begin when the card was reset (volatile state lost:
			  * PIN verification, security environment); pkcs11/ reads and clears it */
};

/* Start a transaction on the card. When the transport reports a reset, sets reset_seen,
 * re-probes the applet (SELECT) inside the transaction and returns VNP_OK. Returns
 * VNP_E_NO_CARD / VNP_E_NO_DEVICE when the card is gone. Nested calls are counted. */
int vnp_card_begin(struct vnp_card *card);
void vnp_card_end(struct vnp_card *card);

/* Run one self-contained command APDU: one that needs no card volatile state but the
 * applet selection and the PIN status (no MSE SET before it, no chain, no pending answer),
 * and that spends no PIN try (never VERIFY with data, CHANGE REFERENCE DATA, RESET RETRY
 * COUNTER). Outside a transaction, when it fits one exchange, it goes without one (PC/SC:
 * one SCardTransmit, one pcscd round trip); inside one, or when it does not fit, it runs
 * in a transaction. Optimistic recovery, once: when the card answers 6999, 6A82 or 6D00
 * ("applet not selected"), 6982 (security status) or the card was reset (reset_seen set),
 * the driver re-selects the applet (probe) in a transaction and the command is sent again
 * in it; when another client holds the card (VNP_E_SHARING), the command waits for a
 * transaction. Returns like vnp_apdu_run. */
struct vnp_sw_entry;
int vnp_card_run_one(struct vnp_card *card, struct vnp_apdu *a,
		     const struct vnp_sw_entry *applet_sw);

/* The most command data and answer data one APDU carries to and from the card without
 * chaining or GET RESPONSE (extended when both the reader and the card take it, within the
 * reader's and the card's buffer sizes). */
void vnp_card_io_limits(const struct vnp_card_io *io, size_t *ret_max_lc, size_t *ret_max_le);

/* Detection: try each known driver's probe in order (no PIN try, no write). Sets
 * card->drv. VNP_E_NOT_SUPPORTED when no driver knows the card. */
int vnp_card_detect(struct vnp_card *card, struct vnp_token_info *ret_info);

/* The driver's per-card state: drv_data, allocated zeroed (size bytes) on first use; NULL
 * when out of memory. */
void *vnp_card_drv_data(struct vnp_card *card, size_t size);
/* The release member of a driver whose drv_data is one malloc'd block: free it. */
void vnp_card_free_drv_data(struct vnp_card *card);

extern const struct vnp_card_driver vnp_driver_vntoken;
extern const struct vnp_card_driver vnp_driver_piv;

#endif
