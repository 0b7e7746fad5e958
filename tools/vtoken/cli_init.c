/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-vtoken init: personalise a fresh token state (no keys: keys come from GENERATE). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cli.h"
#include "cli_piv.h"
#include "keys.h"
#include "recovery.h"
#include "rv.h"
#include "state.h"
#include "util.h"
#include "vcard.h"

static void init_usage(FILE *f)
{
	fprintf(f,
		"Usage: vnpki-vtoken init --state FILE --serial HEX16 --label LABEL\n"
		"                         (--pin PIN | --pin-file FILE) [OPTIONS]\n"
		"Personalise a new virtual token (no keys; generate them through the middleware).\n\n"
		"  --state FILE          state file to create\n"
		"  --serial HEX16        token serial, 8 bytes as 16 hex digits\n"
		"  --label LABEL         token label, UTF-8, at most 32 bytes\n"
		"  --pin PIN             initial user PIN\n"
		"  --pin-file FILE       read the initial user PIN from FILE (first line)\n"
		"  --pin-tries N         PIN tries (1-15, default 3)\n"
		"  --unblock-tries N     unblock tries (1-255, default 10)\n"
		"  --pin-min N           shortest PIN (default 6)\n"
		"  --pin-max N           longest PIN (default 16, at most 64)\n"
		"  --recovery-key FILE   32-byte master key (raw or hex): stores the token's\n"
		"                        unblock key K_token = KBKDF(K_master, serial)\n"
		"  --device TYPE         pki-token (default) or sim-pki\n"
		"  --short-only          no extended-length APDUs (Nc 255, Ne 256)\n"
		"  --profile NAME        card profile: vntoken (default), piv (PIV.md), sim (a UICC\n"
		"                        with the SIM PKI applet, T=0: SIMPKI.md) or blank (no\n"
		"                        applet we know)\n"
		"  --t0                  T=0 behaviour (short APDUs, 61xx, 6Cxx); on for sim\n"
		"  --puk PUK             piv: the PUK, 6-8 characters (default 12345678);\n"
		"                        sim: 8 digits (default: drawn and printed)\n"
		"  --mgmt-key HEX        piv: management key 9B, 48 hex digits 3DES (default\n"
		"                        010203040506070801020304050607080102030405060708),\n"
		"                        32 AES-128, 64 AES-256\n"
		"  --piv-key SLOT:ALG    piv: generate a key with a self-signed certificate,\n"
		"                        e.g. 9a:rsa2048, 9c:p256 (repeatable)\n"
		"  --force               overwrite an existing state file\n");
}

struct init_args {
	const char *state, *serial, *label, *pin, *pin_file, *recovery, *device;
	const char *puk;
	int t0;
	unsigned pin_tries, unblock_tries, pin_min, pin_max;
	int force, short_only;
	const char *profile;
	struct vnp_vt_piv_init piv;
};

static int parse_args(int argc, char **argv, struct init_args *a)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "serial", required_argument, NULL, 'n' },
		{ "label", required_argument, NULL, 'l' },
		{ "pin", required_argument, NULL, 'p' },
		{ "pin-file", required_argument, NULL, 'P' },
		{ "pin-tries", required_argument, NULL, 't' },
		{ "unblock-tries", required_argument, NULL, 'u' },
		{ "pin-min", required_argument, NULL, 'm' },
		{ "pin-max", required_argument, NULL, 'M' },
		{ "recovery-key", required_argument, NULL, 'r' },
		{ "device", required_argument, NULL, 'd' },
		{ "short-only", no_argument, NULL, 'S' },
		{ "t0", no_argument, NULL, '0' },
		{ "force", no_argument, NULL, 'f' },
		{ "profile", required_argument, NULL, 'R' },
		{ "puk", required_argument, NULL, 'K' },
		{ "mgmt-key", required_argument, NULL, 'G' },
		{ "piv-key", required_argument, NULL, 'Y' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': a->state = optarg; break;
		case 'n': a->serial = optarg; break;
		case 'l': a->label = optarg; break;
		case 'p': a->pin = optarg; break;
		case 'P': a->pin_file = optarg; break;
		case 'r': a->recovery = optarg; break;
		case 'd': a->device = optarg; break;
		case 'f': a->force = 1; break;
		case 'S': a->short_only = 1; break;
		case 'R': a->profile = optarg; break;
		case '0': a->t0 = 1; break;
		case 'K': a->puk = optarg; a->piv.puk = optarg; break;
		case 'G': a->piv.mgmt_key = optarg; break;
		case 'Y':
			if (a->piv.nkeys == VT_PIV_INIT_KEYS_MAX) {
				fprintf(stderr, "vnpki-vtoken init: too many --piv-key\n");
				return -1;
			}
			a->piv.keys[a->piv.nkeys++] = optarg;
			break;
		case 't': bad |= vnp_vt_cli_uint("--pin-tries", optarg, 1, 15, &a->pin_tries); break;
		case 'u':
			bad |= vnp_vt_cli_uint("--unblock-tries", optarg, 1, 255, &a->unblock_tries);
			break;
		case 'm': bad |= vnp_vt_cli_uint("--pin-min", optarg, 1, 64, &a->pin_min); break;
		case 'M': bad |= vnp_vt_cli_uint("--pin-max", optarg, 1, 64, &a->pin_max); break;
		case 'h': init_usage(stdout); return 1;
		default: return -1;
		}
	}
	if (bad)
		return -1;
	if (optind < argc) {
		fprintf(stderr, "vnpki-vtoken init: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!a->state || !a->serial || !a->label || (!a->pin == !a->pin_file)) {
		fprintf(stderr, "vnpki-vtoken init: --state, --serial, --label and one of --pin "
				"or --pin-file are required (see --help)\n");
		return -1;
	}
	if (a->profile && !vnp_vt_profile_known(a->profile)) {
		fprintf(stderr, "vnpki-vtoken init: --profile is vntoken, piv, sim or blank\n");
		return -1;
	}
	if (a->profile && strcmp(a->profile, "piv") == 0 && a->pin_max == 16)
		a->pin_max = 8; /* PIV PINs: 6 to 8 digits */
	if (a->pin_min > a->pin_max) {
		fprintf(stderr, "vnpki-vtoken init: --pin-min is larger than --pin-max\n");
		return -1;
	}
	return 0;
}

static int read_pin(const struct init_args *a, uint8_t *pin, size_t cap, size_t *ret_len)
{
	size_t n;

	if (a->pin) {
		n = strlen(a->pin);
		if (n > cap)
			n = cap + 1;
		else
			memcpy(pin, a->pin, n);
	} else {
		if (vnp_vt_cli_read_file(a->pin_file, pin, cap, &n) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			if (pin[i] == '\n' || pin[i] == '\r') {
				n = i;
				break;
			}
	}
	*ret_len = n;
	return 0;
}

static int read_recovery(struct vnp_vt_state *st, const char *path)
{
	uint8_t raw[130], master[VNP_RECOVERY_KEY_LEN];
	size_t n = 0, m = 0;
	int rv = -1;

	if (vnp_vt_cli_read_file(path, raw, sizeof(raw), &n) < 0)
		return -1;
	if (n == 32) {
		memcpy(master, raw, 32);
	} else {
		while (n && (raw[n - 1] == '\n' || raw[n - 1] == '\r' || raw[n - 1] == ' '))
			n--;
		if (vnp_hex_decode((const char *)raw, n, master, sizeof(master), &m) != VNP_OK ||
		    m != 32) {
			fprintf(stderr, "vnpki-vtoken init: %s holds neither 32 raw bytes nor 64 "
					"hex digits\n", path);
			goto out;
		}
	}
	if (vnp_recovery_token_key(master, st->d.serial, st->d.unblock_key) != VNP_OK) {
		fprintf(stderr, "vnpki-vtoken init: KBKDF failed\n");
		goto out;
	}
	st->d.has_unblock_key = true;
	rv = 0;
out:
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(master, sizeof(master));
	return rv;
}

/* --profile, --t0, --puk (vcard_profile.c, SIMPKI.md). */
static int fill_profile(struct vnp_vt_state *st, const struct init_args *a)
{
	struct vnp_vt_data *d = &st->d;
	uint8_t puk[8], rnd[8];
	size_t i;
	int rv = -1;

	d->profile = vnp_vt_profile_of(a->profile);
	d->t0 = a->t0;
	if (d->t0) { /* T=0: short APDUs only */
		d->extended = false;
		d->max_nc = 255;
		d->max_ne = 256;
	}
	if (a->puk && d->profile != VNP_VT_PROFILE_SIM && d->profile != VNP_VT_PROFILE_PIV) {
		fprintf(stderr, "vnpki-vtoken init: --puk is for --profile sim or piv\n");
		return -1;
	}
	if (d->profile != VNP_VT_PROFILE_SIM)
		return 0;
	d->device = 2;
	d->t0 = true;
	d->extended = false;
	d->max_nc = 255;
	d->max_ne = 256;
	if (d->pin_max > 16) {
		fprintf(stderr, "vnpki-vtoken init: a SIM PKI PIN has at most 16 bytes\n");
		return -1;
	}
	if (a->puk) {
		if (strlen(a->puk) != 8 || strspn(a->puk, "0123456789") != 8) {
			fprintf(stderr, "vnpki-vtoken init: --puk wants 8 digits\n");
			return -1;
		}
		memcpy(puk, a->puk, 8);
	} else {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			goto out;
		for (i = 0; i < 8; i++)
			puk[i] = (uint8_t)('0' + rnd[i] % 10);
		printf("PUK: %.8s\n", (const char *)puk);
	}
	if (RAND_bytes(d->puk_salt, sizeof(d->puk_salt)) != 1 ||
	    vnp_vt_pin_hash(st->libctx, d->puk_salt, sizeof(d->puk_salt), puk, 8, d->puk_hash) !=
		    VNP_OK) {
		fprintf(stderr, "vnpki-vtoken init: PUK hashing failed\n");
		goto out;
	}
	d->has_puk = true;
	rv = 0;
out:
	OPENSSL_cleanse(puk, sizeof(puk));
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return rv;
}

static int fill(struct vnp_vt_state *st, const struct init_args *a)
{
	struct vnp_vt_data *d = &st->d;
	uint8_t pin[65];
	size_t n = 0, i;
	int rv = -1;

	if (strlen(a->serial) != 16 ||
	    vnp_hex_decode(a->serial, 16, d->serial, sizeof(d->serial), &n) != VNP_OK || n != 8) {
		fprintf(stderr, "vnpki-vtoken init: --serial wants 16 hex digits\n");
		return -1;
	}
	n = strlen(a->label);
	if (n == 0 || n > VNP_VT_TOKEN_LABEL_MAX) {
		fprintf(stderr, "vnpki-vtoken init: --label wants 1 to 32 bytes\n");
		return -1;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)a->label[i] < 0x20 || a->label[i] == 0x7F) {
			fprintf(stderr, "vnpki-vtoken init: --label has a control character\n");
			return -1;
		}
	memcpy(d->label, a->label, n);
	d->label_len = n;
	if (a->device && strcmp(a->device, "pki-token") != 0 && strcmp(a->device, "sim-pki") != 0) {
		fprintf(stderr, "vnpki-vtoken init: --device is pki-token or sim-pki\n");
		return -1;
	}
	d->device = a->device && strcmp(a->device, "sim-pki") == 0 ? 2 : 1;
	d->pin_min = (uint8_t)a->pin_min;
	d->pin_max = (uint8_t)a->pin_max;
	d->pin_max_tries = d->pin_tries = (uint8_t)a->pin_tries;
	d->unblock_max = d->unblock_tries = (uint8_t)a->unblock_tries;
	d->pin_initial = true;
	if (a->short_only) {
		d->extended = false;
		d->max_nc = 255;
		d->max_ne = 256;
	}
	if (fill_profile(st, a) < 0)
		goto out;
	if (read_pin(a, pin, 64, &n) < 0)
		goto out;
	if (n < d->pin_min || n > d->pin_max) {
		fprintf(stderr, "vnpki-vtoken init: the PIN must have %u to %u bytes\n", d->pin_min,
			d->pin_max);
		goto out;
	}
	if (a->profile && strcmp(a->profile, "piv") == 0 && !vnp_vt_piv_pin_ok(pin, n)) {
		fprintf(stderr, "vnpki-vtoken init: a PIV PIN has 6 to 8 digits\n");
		goto out;
	}
	if (RAND_bytes(d->pin_salt, sizeof(d->pin_salt)) != 1 ||
	    vnp_vt_pin_hash(st->libctx, d->pin_salt, sizeof(d->pin_salt), pin, n, d->pin_hash) !=
		    VNP_OK) {
		fprintf(stderr, "vnpki-vtoken init: PIN hashing failed\n");
		goto out;
	}
	if (a->recovery && read_recovery(st, a->recovery) < 0)
		goto out;
	rv = 0;
out:
	OPENSSL_cleanse(pin, sizeof(pin));
	return rv;
}

int vnp_vt_cmd_init(int argc, char **argv)
{
	struct init_args a = { .pin_tries = 3, .unblock_tries = 10, .pin_min = 6, .pin_max = 16 };
	struct vnp_vt_state *st = NULL;
	int rv, code = VT_EXIT_FAIL;

	rv = parse_args(argc, argv, &a);
	if (rv)
		return rv > 0 ? VT_EXIT_OK : VT_EXIT_USAGE;
	if (vnp_vt_state_new(a.state, &st) != VNP_OK) {
		fprintf(stderr, "vnpki-vtoken init: out of memory or no OpenSSL provider\n");
		return VT_EXIT_FAIL;
	}
	if (fill(st, &a) < 0 || (a.profile && strcmp(a.profile, "piv") == 0 &&
				 vnp_vt_piv_personalise(st, &a.piv) < 0)) {
		code = VT_EXIT_USAGE;
		goto out;
	}
	rv = vnp_vt_state_create(st, a.force);
	if (rv == VNP_E_ARGS) {
		fprintf(stderr, "vnpki-vtoken init: %s exists; use --force to overwrite it\n",
			a.state);
		code = VT_EXIT_EXISTS;
		goto out;
	}
	if (rv != VNP_OK) {
		fprintf(stderr, "vnpki-vtoken init: cannot write %s\n", a.state);
		goto out;
	}
	code = VT_EXIT_OK;
out:
	vnp_vt_state_free(st);
	return code;
}
