/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-authority: the authorised agency's side of the Mẫu 06 recovery protocol
 * (shared/design/RECOVERY.md). Shared declarations of the tool's files. */
#ifndef VNP_AU_AUTHORITY_H
#define VNP_AU_AUTHORITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recovery.h"

/* exit status */
enum {
	AU_EXIT_OK = 0,
	AU_EXIT_FAIL = 1,    /* operational failure: I/O, crypto */
	AU_EXIT_USAGE = 2,   /* usage error or malformed input */
	AU_EXIT_REFUSED = 3, /* refused: would overwrite */
};

#define AU_AUDIT_DEFAULT "vnpki-authority-audit.log"

/* Subcommands: argv[0] is the command name. Return an exit status. */
int au_cmd_keygen(int argc, char **argv);
int au_cmd_respond(int argc, char **argv);
int au_cmd_personalise(int argc, char **argv);

/* "vnpki-authority: <message>\n" on stderr. */
void au_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The getopt failure at argv[optind - 1] as one line (opterr must be 0); returns
 * AU_EXIT_USAGE. c is what getopt_long returned ('?' or ':'). */
int au_bad_option(const char *cmd, int c, char **argv);

/* Read a whole regular file of at most max bytes into a new buffer (NUL-terminated; the
 * caller wipes and frees it). When ret_mode is not NULL it gets st_mode. Prints the reason
 * and returns an exit status on failure. */
int au_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len,
		 unsigned *ret_mode);

/* Read the master key file (64 hex digits, optional trailing white space, or 32 raw bytes);
 * warns when group or others may read it. Returns an exit status; key is written only on
 * success. */
int au_read_master(const char *path, uint8_t key[VNP_RECOVERY_KEY_LEN]);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void au_hex(const uint8_t *bytes, size_t n, char *out);

/* Write all of buf to fd (retries short writes and EINTR). 0, or -1 with errno set. */
int au_write_all(int fd, const void *buf, size_t len);

/* Find the top-level string members named keys[i] in a JSON object text; values[i] gets
 * the unescaped UTF-8 value (NUL-terminated, "" and found[i] false when absent). Rejects
 * text that is not one well-formed JSON object, a listed member given twice or not a
 * string, or a value longer than 63 bytes. VNP_OK, or VNP_E_MALFORMED with
 * *ret_reason set to a message. */
int au_json_strings(const char *text, size_t len, const char *const *keys, size_t nkeys,
		    char (*values)[64], bool *found, const char **ret_reason);

/* Append one audit line "TIME\tSERIAL\tREQUEST-CODE\tOPERATOR\n" to path (created 0600),
 * under an exclusive flock, then fsync. Prints the reason and returns AU_EXIT_FAIL on
 * failure, AU_EXIT_OK on success. */
int au_audit_append(const char *path, const uint8_t serial[VNP_RECOVERY_SERIAL_LEN],
		    const char *request_code, const char *operator_name);

/* Give the virtual token at state_path its K_token derived from master, under the state's
 * lock. ret_serial gets the token serial. Refuses (AU_EXIT_REFUSED) a token that already
 * has a key unless force. Prints the reason; returns an exit status. */
int au_vtoken_set_key(const char *state_path, const uint8_t master[VNP_RECOVERY_KEY_LEN],
		      bool force, uint8_t ret_serial[VNP_RECOVERY_SERIAL_LEN]);

#endif
