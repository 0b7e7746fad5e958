/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Certificates from a file (DER, PEM bundle, PKCS#7 PEM/DER) and matching a certificate's
 * public key with a key on the token. */
#ifndef VNP_TOOL_CERT_FILE_H
#define VNP_TOOL_CERT_FILE_H

#include <stdbool.h>
#include <openssl/x509.h>

#include "tool.h"

/* All certificates in the file, in file order; NULL when it holds none or cannot be read. */
STACK_OF(X509) *vnp_cert_file_read(const char *path);

/* Whether the public key object h on the token (CKA_MODULUS + CKA_PUBLIC_EXPONENT, or
 * CKA_EC_POINT) is the certificate's public key. */
bool vnp_key_matches(struct tool *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, X509 *x);

#endif
