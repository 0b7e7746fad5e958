/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every message vnpki-authority prints, in one place, so that a translation (messages_vi.h)
 * can replace this header. Kept as string literals so the compiler checks the formats. */
#ifndef VNP_AU_MESSAGES_H
#define VNP_AU_MESSAGES_H

#define AU_PROG "vnpki-authority"

#define AU_USAGE_MAIN \
	"Usage: vnpki-authority COMMAND [OPTIONS]\n" \
	"Answer Mẫu 06 unblock requests for vnpki PKI tokens (the authorised agency's tool).\n" \
	"\n" \
	"Commands:\n" \
	"  keygen       create a new master key file\n" \
	"  respond      answer a request code with its response code\n" \
	"  personalise  give a virtual token (vnpki-vtoken state file) its recovery key\n" \
	"  help         show this text\n" \
	"\n" \
	"Run 'vnpki-authority COMMAND --help' for the options of a command.\n" \
	"Exit status: 0 done, 1 operation failed, 2 usage or malformed input, 3 refused.\n"

#define AU_USAGE_KEYGEN \
	"Usage: vnpki-authority keygen --out FILE\n" \
	"Create a new 32-byte master key, written as 64 hex digits to FILE (mode 0600).\n" \
	"An existing FILE is never overwritten.\n"

#define AU_USAGE_RESPOND \
	"Usage: vnpki-authority respond --master FILE (REQUEST-CODE | --request FILE.json)\n" \
	"                               [--audit-log FILE] [--operator NAME] [--json]\n" \
	"Print the response code for a request code (any case, dashes and spaces optional).\n" \
	"  --master FILE      the master key (64 hex digits or 32 raw bytes)\n" \
	"  --request FILE     the request file written by vnpki-tool (JSON)\n" \
	"  --audit-log FILE   where to append the audit line\n" \
	"                     (default ./vnpki-authority-audit.log)\n" \
	"  --operator NAME    who answers (default $USER)\n" \
	"  --json             print {\"serial\", \"request_code\", \"response_code\"}\n" \
	"The answer is logged (time, serial, request code, operator; never the response)\n" \
	"before it is printed; when the log cannot be written nothing is printed.\n"

#define AU_USAGE_PERSONALISE \
	"Usage: vnpki-authority personalise --master FILE --state STATE-FILE [--force]\n" \
	"Store the recovery key of a virtual token (vnpki-vtoken state file), derived from\n" \
	"the master key and the token's serial.\n" \
	"  --force            replace a recovery key the token already has\n"

/* errors: one line each, after "vnpki-authority: " */
#define AU_E_UNKNOWN_COMMAND "unknown command '%s' (see --help)"
#define AU_E_NO_COMMAND "no command given (see --help)"
#define AU_E_UNKNOWN_OPTION "%s: unknown option '%s' (see --help)"
#define AU_E_MISSING_VALUE "%s: option '%s' needs a value (see --help)"
#define AU_E_EXTRA_ARGS "%s: unexpected argument '%s' (see --help)"
#define AU_E_NEED_OPTION "%s: %s is required (see --help)"
#define AU_E_CODE_AND_FILE "respond: give a request code or --request FILE, not both"
#define AU_E_NO_CODE "respond: give a request code or --request FILE (see --help)"
#define AU_E_CODE_CHECK "request code %s: the check character does not match (a typo?)"
#define AU_E_CODE_INVALID "request code %s: not a request code (24 characters and a check character)"
#define AU_E_BAD_OPERATOR "respond: --operator must be printable text without tabs"
#define AU_E_OPEN "%s: %s"
#define AU_E_READ "%s: cannot read: %s"
#define AU_E_WRITE "%s: cannot write: %s"
#define AU_E_NOT_REGULAR "%s: not a regular file"
#define AU_E_TOO_LARGE "%s: too large"
#define AU_E_MASTER_FORMAT "%s: holds neither 64 hex digits nor 32 raw bytes"
#define AU_E_EXISTS "%s exists; refusing to overwrite it"
#define AU_E_RANDOM "keygen: the random generator failed"
#define AU_E_CRYPTO "the key derivation failed"
#define AU_E_JSON "%s: not a valid request file: %s"
#define AU_E_JSON_SERIAL "%s: the serial %s does not match the request code's serial"
#define AU_E_JSON_DEVICE "%s: device type '%s' is not answered here (only pki-token)"
#define AU_E_AUDIT "audit log %s: %s; no response given"
#define AU_E_STDOUT "cannot write the response: %s"
#define AU_E_STATE_LOAD "%s: cannot read the token state: %s"
#define AU_E_STATE_SAVE "%s: cannot save the token state: %s"
#define AU_E_HAS_KEY "token %s already has a recovery key; use --force to replace it"

/* JSON reasons */
#define AU_J_SYNTAX "syntax error"
#define AU_J_NOT_OBJECT "not a JSON object"
#define AU_J_DEPTH "nested too deeply"
#define AU_J_NO_CODE "no \"request_code\" string"
#define AU_J_DUPLICATE "a member is given twice"
#define AU_J_NOT_STRING "\"request_code\", \"serial\" or \"device_type\" is not a string"
#define AU_J_TOO_LONG "a value is too long"

/* warnings and notes */
#define AU_W_MASTER_MODE "warning: %s can be read by group or others (chmod 600 it)"
#define AU_N_KEYGEN "master key written to %s; keep it offline and backed up"
#define AU_N_PERSONALISED "token %s: recovery key set"

#endif
