/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The configuration file. Read in order: /etc/vnpki/vnpki.conf, then
 * $XDG_CONFIG_HOME/vnpki/vnpki.conf (~/.config/...), then the file named by $VNPKI_CONF;
 * a later file overrides the keys it sets. Format, one per line, '#' comments:
 *   readers = pcsc, vtoken        # backends, in order (default: pcsc)
 *   vtoken.state = /path/file     # a virtual token's state file; repeat for several
 *   vtoken.plugin = /path/libvnpki-vtoken.so   # default: VNP_VTOKEN_PLUGIN_DEFAULT
 *   ccidsock.path = /path/sock    # a CCID device socket (readers = ccidsock); repeat for several
 *   log = p11,apdu                # like VNP_DEBUG
 *   log.file = /path              # like VNP_DEBUG_FILE
 *   cache.dir = /path             # default: $XDG_CACHE_HOME/vnpki ($VNPKI_CACHE_DIR wins)
 *   cache = off                   # no enumeration cache (default: on)
 *   cache.piv = chuid             # also cache PIV cards, keyed by their CHUID (default: off;
 *                                 # only for issuers that rewrite the CHUID with every
 *                                 # certificate: see pkcs11/cache.c)
 *   piv.management_key = HEX      # PIV card management key (9B): enables key generation and
 *                                 # certificate writes on PIV cards; a secret (never logged)
 *   piv.management_key_alg = 3des # 3des (default), aes128, aes192, aes256
 *   usb.only = 1209:0001, ...     # usb backend: use only these VID:PID (default: all)
 *   usb.quirks = vvvv:pppp flag ..., ...   # usb backend: extra quirks (ccid/usb_quirks.h)
 * Unknown keys are ignored with a warning; a malformed line is an error (VNP_E_CONFIG). */
#ifndef VNP_CONFIG_H
#define VNP_CONFIG_H

#include <stdbool.h>
#include <limits.h>
#include <stdint.h>

#include "secret.h"

#define VNP_CONF_MAX_VTOKENS 8
#define VNP_CONF_MAX_CCIDSOCK 8

struct vnp_config {
	bool use_pcsc;
	bool use_vtoken;
	bool pcsc_first;  /* order of the backends: true when pcsc is listed before vtoken */
	unsigned n_vtoken_state;
	char vtoken_state[VNP_CONF_MAX_VTOKENS][PATH_MAX];
	char vtoken_plugin[PATH_MAX];
	bool use_ccidsock; /* opened after pcsc and vtoken */
	unsigned n_ccidsock;
	char ccidsock_path[VNP_CONF_MAX_CCIDSOCK][PATH_MAX];
	char log[128];
	char log_file[PATH_MAX];
	char cache_dir[PATH_MAX];
	bool cache_off;   /* `cache = off` */
	bool cache_piv_chuid; /* `cache.piv = chuid` */
	struct vnp_secret piv_mgmt_key; /* empty when not configured; owned: vnp_config_free */
	uint8_t piv_mgmt_alg;           /* SP 800-78-4 id: 03 3DES, 08/0A/0C AES-128/192/256 */
	bool use_usb;     /* the usb backend (CCID over libusb); opened after pcsc and vtoken */
	char usb_only[512];
	char usb_quirks[512];
};

/* Fill cfg with the built-in defaults only (pcsc on, nothing else); reads no file. */
void vnp_config_defaults(struct vnp_config *cfg);
/* Fill defaults, then read the files above. Returns VNP_OK, or VNP_E_CONFIG with a warning
 * logged naming the file and line. A missing file is not an error. */
int vnp_config_load(struct vnp_config *ret);
/* Release what cfg owns (the management key secret) and wipe it. NULL is a no-op. */
void vnp_config_free(struct vnp_config *cfg);
/* Parse one file into cfg (keys present override). Exposed for unit tests. */
int vnp_config_parse_file(struct vnp_config *cfg, const char *path);
int vnp_config_parse_string(struct vnp_config *cfg, const char *text, const char *origin);

#endif
