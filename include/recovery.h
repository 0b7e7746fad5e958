/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Mẫu 06 recovery protocol (../shared/design/RECOVERY.md): request and response
 * codes, and the keys behind them. Pure functions over bytes (OpenSSL 3 for KBKDF and
 * CMAC); used by the virtual token, the module, vnpki-tool and vnpki-authority.
 * Implemented in ccid/recovery.c (ccid/ is the bottom layer that holds the basics). */
#ifndef VNP_RECOVERY_H
#define VNP_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#define VNP_RECOVERY_SERIAL_LEN 8
#define VNP_RECOVERY_CHALLENGE_LEN 7
#define VNP_RECOVERY_REQUEST_LEN 15  /* serial || challenge */
#define VNP_RECOVERY_RESPONSE_LEN 10
#define VNP_RECOVERY_KEY_LEN 32      /* K_master and K_token */
/* "XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-C" and NUL: enough for any code of up to 15 bytes */
#define VNP_CODE_MAX 40

/* A code: the bytes as Crockford base32 (alphabet 0123456789ABCDEFGHJKMNPQRSTVWXYZ), most
 * significant bit first, 5 bits per character (n * 8 bits, padded with zero bits to a
 * multiple of 5), in groups of 4 joined by '-', then '-' and one check character: the bytes
 * read as one big-endian integer modulo 37, indexed into the alphabet followed by "*~$=U".
 * Writes a NUL-terminated string. VNP_E_BUFFER_TOO_SMALL, VNP_E_ARGS. */
int vnp_code_encode(const uint8_t *bytes, size_t n, char *out, size_t out_size);

/* Read a code of exactly n bytes. Accepts lower case, ignores '-' and spaces, reads 'O' as 0
 * and 'I'/'L' as 1. VNP_E_INVALID_DATA: a character outside the alphabet or the wrong
 * number of characters (or non-zero padding bits); VNP_E_CODE_CHECK: the check character
 * does not match (a typo). bytes is written only on success. */
int vnp_code_decode(const char *code, uint8_t *bytes, size_t n);

/* K_token = KBKDF counter mode, CMAC-AES-256 (NIST SP 800-108), key = K_master,
 * label = "vnpki unblock key", context = serial, L = 256. VNP_E_CRYPTO. */
int vnp_recovery_token_key(const uint8_t master[VNP_RECOVERY_KEY_LEN],
			   const uint8_t serial[VNP_RECOVERY_SERIAL_LEN],
			   uint8_t ret_key[VNP_RECOVERY_KEY_LEN]);

/* The first 10 bytes of CMAC-AES-256(K_token, "vnpki unblock response" || serial ||
 * challenge). VNP_E_CRYPTO. */
int vnp_recovery_response(const uint8_t token_key[VNP_RECOVERY_KEY_LEN],
			  const uint8_t serial[VNP_RECOVERY_SERIAL_LEN],
			  const uint8_t challenge[VNP_RECOVERY_CHALLENGE_LEN],
			  uint8_t ret_response[VNP_RECOVERY_RESPONSE_LEN]);

#endif
