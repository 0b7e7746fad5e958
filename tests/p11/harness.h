/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The harness of the module tests (TAP): ok() / RV() output, loading $VNPKI_MODULE, and a
 * fresh virtual token made with $VNPKI_VTOKEN_BIN, reached through the vtoken reader
 * ($VNPKI_VTOKEN_PLUGIN) named in a VNPKI_CONF file the harness writes. */
#ifndef VNPKI_TESTS_P11_HARNESS_H
#define VNPKI_TESTS_P11_HARNESS_H

#include "vnpki/pkcs11v3.h"
#include "vnpki/vnpki.h"

/* ---- TAP ---- */
extern int n_test, n_fail;

void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define RV(call, want) rv_is(#call, (call), (want))
int rv_is(const char *what, CK_RV got, CK_RV want);

/* One of two allowed return values. */
#define RV2(call, w1, w2) rv_is2(#call, (call), (w1), (w2))
int rv_is2(const char *what, CK_RV got, CK_RV w1, CK_RV w2);

/* ---- the virtual token ---- */
/* Makes the test's directory /tmp/vnpki-<tag>-XXXXXX; NULL when $VNPKI_VTOKEN_BIN or
 * $VNPKI_VTOKEN_PLUGIN is unset or the directory cannot be made. */
const char *h_make_dir(const char *tag);
/* "<dir>/state": the token's state file. */
const char *h_state_path(void);
/* Runs `vnpki-vtoken init --state <dir>/state <opts>`, then writes <dir>/vnpki.conf naming
 * the state and the plugin and points VNPKI_CONF at it. 0, or -1. */
int h_init_token(const char *opts);

/* ---- the module ---- */
/* Checks $VNPKI_MODULE is set and runs the test's setup (which makes the token): 0, or -1
 * after "Bail out!". */
int h_setup(int (*setup)(void));
/* h_setup(setup), h_load_module() into *mod, then h_pkcs11_3_0(): the 3.0 function list, or
 * NULL after "Bail out!". */
CK_FUNCTION_LIST_3_0_PTR h_start(int (*setup)(void), void **mod, CK_C_GetInterface *get_if);
/* dlopen()s $VNPKI_MODULE; NULL (after "Bail out!") when it cannot. */
void *h_load_module(void);
/* The "PKCS 11" interface (3.0) through C_GetInterface (returned in *get_if when get_if is
 * not NULL); NULL after "Bail out!". */
CK_FUNCTION_LIST_3_0_PTR h_pkcs11_3_0(void *mod, CK_C_GetInterface *get_if);
/* The vendor interface (VNPKI_INTERFACE_NAME 1.0), checked as one subtest. */
const struct vnp_ext_functions *h_vendor(CK_C_GetInterface get_if);

/* End of the test: the TAP plan, dlclose(mod), and the test's directory removed when all
 * passed. The exit status. */
int h_finish(void *mod);

#endif
