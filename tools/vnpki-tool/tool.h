/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-tool: shared declarations. The tool is a client of the PKCS#11 module like any
 * application: it loads the module with dlopen and uses the standard functions and the
 * "Vendor VNPKI" interface (include/vnpki/vnpki.h); it never links the module's code. */
#ifndef VNP_TOOL_H
#define VNP_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <p11-kit/pkcs11.h>
#include "vnpki/vnpki.h"
#include "secret.h"

/* Exit codes (documented in README.md and `vnpki-tool --help`). */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,    /* the operation failed */
	EXIT_USAGE = 2,     /* bad command line, or input rejected before the token was asked */
	EXIT_NO_TOKEN = 3,  /* no token, or the token / object asked for was not found */
	EXIT_PIN_WRONG = 4, /* PIN (or response code) incorrect */
	EXIT_PIN_LOCKED = 5, /* PIN locked, or the token is terminated */
	EXIT_REFUSED = 6,   /* refused: e.g. a certificate that matches no key on the token */
};

/* Command-line state shared by all subcommands. */
struct tool {
	const char *module_path; /* --module, VNPKI_MODULE, else the built-in default */
	bool have_slot;          /* --slot given */
	CK_SLOT_ID slot;
	const char *serial;      /* --serial */
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	const struct vnp_ext_functions *ext; /* NULL when the module has no vendor interface */
	bool initialized;
};

/* ---- p11_client.c ---- */

/* Load the module, C_Initialize it and look up the vendor interface. On failure prints
 * why and returns an exit code; EXIT_OK on success. */
int vnp_tool_load(struct tool *t);
/* C_Finalize and dlclose. Safe on a tool that never loaded. */
void vnp_tool_unload(struct tool *t);
/* The slots that hold a token (malloc'd array in *ret, count in *ret_n). Exit code. */
int vnp_tool_token_slots(struct tool *t, CK_SLOT_ID **ret, CK_ULONG *ret_n);
/* The token's serial as printable text (from the vendor details, else CK_TOKEN_INFO). */
void vnp_tool_serial(struct tool *t, CK_SLOT_ID slot, const CK_TOKEN_INFO *ti,
		     char out[40]);
/* The one token the command works on: --slot, --serial, or the only one present. Prints
 * why when there is none or several. Exit code. */
int vnp_tool_pick_slot(struct tool *t, CK_SLOT_ID *ret);
/* All objects matching tmpl (malloc'd handles in *ret). CK_RV. */
CK_RV vnp_tool_find(struct tool *t, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
		    CK_OBJECT_HANDLE **ret, CK_ULONG *ret_n);
/* One attribute's value, malloc'd (plus a NUL byte not counted in *ret_len). CK_RV. */
CK_RV vnp_tool_attr(struct tool *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
		    CK_ATTRIBUTE_TYPE type, uint8_t **ret, CK_ULONG *ret_len);
/* The standard name of a return value ("CKR_PIN_INCORRECT"), or "CKR_0x...". */
const char *vnp_tool_rv_name(CK_RV rv, char buf[32]);
/* The exit code for a failed call (EXIT_PIN_WRONG, EXIT_PIN_LOCKED, EXIT_NO_TOKEN, ...). */
int vnp_tool_rv_exit(CK_RV rv);
/* A blank-padded PKCS#11 text field as a NUL-terminated string without trailing blanks. */
void vnp_tool_unpad(const CK_UTF8CHAR *field, size_t n, char *out);
/* C_Login(CKU_USER) with a PIN read from --pin/--pin-file/VNPKI_PIN/the terminal; prints
 * the reason on failure (tries left, locked). Exit code. */
struct pin_opts;
int vnp_tool_login_user(struct tool *t, CK_SLOT_ID slot, CK_SESSION_HANDLE s,
			const struct pin_opts *po);

/* ---- pin_input.c ---- */

/* Where a PIN comes from, in order: --pin VALUE (warned about), --pin-file FILE, the
 * environment variable, the terminal (no echo). */
struct pin_opts {
	const char *value; /* --pin: visible in ps */
	const char *file;  /* --pin-file */
};

enum pin_kind { PIN_USER, PIN_NEW, PIN_RESPONSE_CODE, PIN_PUK };

/* Read a secret of the given kind (its environment variable and prompt). confirm: when
 * asked on the terminal, ask twice and require the same answer. *ret is a vnp_secret
 * holding the text without a trailing newline (free with vnp_secret_free). Exit code. */
int vnp_pin_read(enum pin_kind kind, const struct pin_opts *po, bool confirm,
		 struct vnp_secret *ret);
/* Remember that the --pin warning was printed (print it at most once per run). */
void vnp_pin_warn_cmdline(const char *option);

/* ---- device.c: what list/status/inventory show about a token ---- */

struct cert_facts {
	char *subject;    /* RFC 2253, UTF-8, one line */
	char *issuer;
	char *cn;         /* subject commonName, UTF-8 ("" when none) */
	char *serial_hex; /* upper-case hex, no separators */
	time_t not_before, not_after;
	bool is_ca;       /* basicConstraints CA:TRUE */
};

struct device_cert {
	uint8_t *der;
	CK_ULONG der_len;
	uint8_t *id;
	CK_ULONG id_len;
	char *label;
	CK_ULONG category; /* CKA_CERTIFICATE_CATEGORY, 0 when unknown */
	struct cert_facts facts;
	bool parsed;
};

struct device {
	CK_SLOT_ID slot;
	CK_TOKEN_INFO ti;
	char label[3 * 32 + 1];
	char model[3 * 16 + 1];
	char serial[40];
	bool have_details;
	struct vnp_ext_token_details details;
	bool have_counters;
	struct vnp_ext_pin_counters counters;
	struct device_cert *certs;
	size_t ncerts;
};

/* Read a token's facts and certificates (one read-only session, no login). Exit code. */
int vnp_device_load(struct tool *t, CK_SLOT_ID slot, struct device *ret);
void vnp_device_clear(struct device *d);
/* Machine words for JSON/CSV: "pki-token", "sim-pki", "piv", "unknown". */
const char *vnp_device_type_word(const struct device *d);
/* "locked", "to-be-changed", "ok". */
const char *vnp_device_pin_word(const struct device *d);
/* "terminated", "pending", "none". */
const char *vnp_device_unblock_word(const struct device *d);
bool vnp_device_pin_locked(const struct device *d);
bool vnp_device_terminated(const struct device *d);

/* ---- cert_info.c ---- */

/* Parse a DER certificate's facts. false when it is not a certificate. */
bool vnp_cert_facts(const uint8_t *der, size_t len, struct cert_facts *ret);
void vnp_cert_facts_clear(struct cert_facts *c);
/* Whole days from now to notAfter (negative when expired). */
long vnp_cert_days_left(const struct cert_facts *c, time_t now);
/* The last day a renewal may be requested: notAfter - 30 days. */
time_t vnp_cert_renewal_deadline(const struct cert_facts *c);
/* "YYYY-MM-DDTHH:MM:SSZ" */
void vnp_time_iso(time_t t, char out[32]);

/* ---- output.c ---- */

/* A small JSON writer: nested objects/arrays, commas and string escaping. */
struct jw {
	FILE *f;
	int depth;
	bool need_comma[16];
};
void vnp_jw_init(struct jw *w, FILE *f);
void vnp_jw_obj(struct jw *w, const char *key);  /* key NULL inside arrays / at top */
void vnp_jw_arr(struct jw *w, const char *key);
void vnp_jw_end_obj(struct jw *w);
void vnp_jw_end_arr(struct jw *w);
void vnp_jw_str(struct jw *w, const char *key, const char *v); /* v NULL: null */
void vnp_jw_int(struct jw *w, const char *key, long long v);
void vnp_jw_bool(struct jw *w, const char *key, bool v);
/* Finish the document with a newline. */
void vnp_jw_done(struct jw *w);
/* One CSV field (RFC 4180 quoting) followed by sep (',' or '\n'). */
void vnp_csv_field(FILE *f, const char *v, char sep);
/* Hex of bytes, upper case, into a malloc'd string. */
char *vnp_hex(const uint8_t *p, size_t n);

/* ---- subcommands ---- */
int vnp_cmd_list(struct tool *t, int argc, char **argv);
int vnp_cmd_status(struct tool *t, int argc, char **argv);
int vnp_cmd_change_pin(struct tool *t, int argc, char **argv);
int vnp_cmd_unblock_request(struct tool *t, int argc, char **argv);
int vnp_cmd_unblock(struct tool *t, int argc, char **argv);
int vnp_cmd_import_cert(struct tool *t, int argc, char **argv);
int vnp_cmd_inventory(struct tool *t, int argc, char **argv);

/* ---- common option handling (main.c) ---- */

/* getopt_long codes of the options every subcommand takes. */
enum { OPT_MODULE = 0x100, OPT_SLOT, OPT_SERIAL, OPT_PIN, OPT_PIN_FILE, OPT_NEW_PIN,
       OPT_NEW_PIN_FILE, OPT_CODE, OPT_CODE_FILE, OPT_JSON, OPT_OUT, OPT_LABEL, OPT_FORMAT,
       OPT_PUK, OPT_PUK_FILE };
#define VNP_COMMON_OPTIONS                                                                 \
	{ "module", required_argument, NULL, OPT_MODULE },                                  \
	{ "slot", required_argument, NULL, OPT_SLOT },                                      \
	{ "serial", required_argument, NULL, OPT_SERIAL },                                  \
	{ "help", no_argument, NULL, 'h' }
/* Handle one of VNP_COMMON_OPTIONS. true when handled; *ret_exit set on an error. */
bool vnp_common_option(struct tool *t, int c, const char *arg, int *ret_exit);

#endif
