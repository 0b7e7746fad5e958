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
 *   cache.dir = /path             # default: $XDG_CACHE_HOME/vnpki
 *   usb.only = 1209:0001, ...     # usb backend: use only these VID:PID (default: all)
 *   usb.quirks = vvvv:pppp flag ..., ...   # usb backend: extra quirks (ccid/usb_quirks.h)
 * Unknown keys are ignored with a warning; a malformed line is an error (VNP_E_CONFIG). */
#ifndef VNP_CONFIG_H
#define VNP_CONFIG_H

#include <stdbool.h>
#include <limits.h>

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
	bool use_usb;     /* the usb backend (CCID over libusb); opened after pcsc and vtoken */
	char usb_only[512];
	char usb_quirks[512];
};

/* Fill cfg with the built-in defaults only (pcsc on, nothing else); reads no file. */
void vnp_config_defaults(struct vnp_config *cfg);
/* Fill defaults, then read the files above. Returns VNP_OK, or VNP_E_CONFIG with a warning
 * logged naming the file and line. A missing file is not an error. */
int vnp_config_load(struct vnp_config *ret);
/* Parse one file into cfg (keys present override). Exposed for unit tests. */
int vnp_config_parse_file(struct vnp_config *cfg, const char *path);
int vnp_config_parse_string(struct vnp_config *cfg, const char *text, const char *origin);

#endif
