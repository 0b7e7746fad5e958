/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The configuration file (format in include/config.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "hexcodec.h"
#include "log.h"
#include "rv.h"
#include "secret.h"
#include "usb_quirks.h"
#include "vnp_build_config.h"

#define CONF_FILE_MAX (1024 * 1024)

/* Fill cfg with the built-in defaults: pcsc only, the installed vtoken plugin, logging off,
 * cache in $XDG_CACHE_HOME/vnpki (or ~/.cache/vnpki). */
void vnp_config_defaults(struct vnp_config *cfg)
{
	const char *xdg = secure_getenv("XDG_CACHE_HOME");
	const char *home = secure_getenv("HOME");

	memset(cfg, 0, sizeof(*cfg));
	cfg->use_pcsc = true;
	cfg->pcsc_first = true;
	cfg->piv_mgmt_alg = 0x03; /* SP 800-78-4: 3DES, the PIV default */
	snprintf(cfg->vtoken_plugin, sizeof(cfg->vtoken_plugin), "%s", VNP_VTOKEN_PLUGIN_DEFAULT);
	if (xdg && *xdg == '/')
		snprintf(cfg->cache_dir, sizeof(cfg->cache_dir), "%s/vnpki", xdg);
	else if (home && *home == '/')
		snprintf(cfg->cache_dir, sizeof(cfg->cache_dir), "%s/.cache/vnpki", home);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* A comment starts with '#' at the start of the line or after blank space, so that a path
 * may contain '#'. */
static void strip_comment(char *s)
{
	for (char *p = s; *p; p++) {
		if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

static bool valid_key(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '.' ||
		      *k == '_' || *k == '-'))
			return false;
	return true;
}

static int set_string(char *dst, size_t cap, const char *val)
{
	size_t n = strlen(val);

	if (n >= cap)
		return VNP_E_CONFIG;
	memcpy(dst, val, n + 1);
	return VNP_OK;
}

/* readers = name[, name...]: the backends to use, in order. */
static int parse_readers(struct vnp_config *cfg, char *val, const char **ret_why)
{
	int pos_pcsc = -1, pos_vtoken = -1, pos = 0;
	bool usb = false;
	bool ccidsock = false;
	char *next;

	for (char *tok = val; tok; tok = next, pos++) {
		next = strchr(tok, ',');
		if (next)
			*next++ = '\0';
		tok = trim(tok);
		if (!strcmp(tok, "pcsc")) {
			pos_pcsc = pos;
		} else if (!strcmp(tok, "vtoken")) {
			pos_vtoken = pos;
		} else if (!strcmp(tok, "usb")) {
			usb = true;
		} else if (!strcmp(tok, "ccidsock")) {
			ccidsock = true;
		} else if (!*tok) {
			*ret_why = "empty reader name";
			return VNP_E_CONFIG;
		} else {
			vnp_warn("config: unknown reader backend '%s' ignored", tok);
		}
	}
	cfg->use_pcsc = pos_pcsc >= 0;
	cfg->use_vtoken = pos_vtoken >= 0;
	cfg->use_usb = usb;
	cfg->use_ccidsock = ccidsock;
	cfg->pcsc_first = pos_pcsc >= 0 && (pos_vtoken < 0 || pos_pcsc < pos_vtoken);
	return VNP_OK;
}

/* ccidsock.path = PATH, one line per socket; like vtoken.state, a file that names it replaces
 * the list of the files read before. */
static int parse_ccidsock_path(struct vnp_config *cfg, const char *val, bool *seen,
			       const char **ret_why)
{
	if (!*seen)
		cfg->n_ccidsock = 0;
	*seen = true;
	if (!*val) {
		*ret_why = "empty ccidsock.path";
		return VNP_E_CONFIG;
	}
	if (cfg->n_ccidsock >= VNP_CONF_MAX_CCIDSOCK) {
		*ret_why = "too many ccidsock.path lines";
		return VNP_E_CONFIG;
	}
	if (set_string(cfg->ccidsock_path[cfg->n_ccidsock], PATH_MAX, val) != VNP_OK)
		return VNP_E_CONFIG;
	cfg->n_ccidsock++;
	return VNP_OK;
}

/* piv.management_key = HEX (16, 24 or 32 bytes): kept in a vnp_secret. A key that cfg had
 * before this parse (orig) stays owned by orig; a key set earlier in the same text is freed. */
static int parse_mgmt_key(struct vnp_config *cfg, const struct vnp_config *orig, const char *val,
			  const char **ret_why)
{
	struct vnp_secret k = { 0 };
	size_t n = strlen(val), o = 0;
	int rv;

	*ret_why = "piv.management_key: 32, 48 or 64 hex digits";
	if (n != 32 && n != 48 && n != 64)
		return VNP_E_CONFIG;
	rv = vnp_secret_new(n / 2, &k);
	if (rv)
		return rv;
	/* n digits give n / 2 bytes only when none is a separator */
	if (vnp_hex_decode(val, n, k.p, n / 2, &o) != VNP_OK || o != n / 2) {
		vnp_secret_free(&k);
		return VNP_E_CONFIG;
	}
	k.len = o;
	if (cfg->piv_mgmt_key.p && cfg->piv_mgmt_key.p != orig->piv_mgmt_key.p)
		vnp_secret_free(&cfg->piv_mgmt_key);
	cfg->piv_mgmt_key = k;
	return VNP_OK;
}

static int parse_mgmt_alg(struct vnp_config *cfg, const char *val, const char **ret_why)
{
	static const struct {
		const char *name;
		uint8_t id;
	} algs[] = { { "3des", 0x03 }, { "aes128", 0x08 }, { "aes192", 0x0A }, { "aes256", 0x0C } };

	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (!strcmp(val, algs[i].name)) {
			cfg->piv_mgmt_alg = algs[i].id;
			return VNP_OK;
		}
	}
	*ret_why = "piv.management_key_alg: 3des, aes128, aes192 or aes256";
	return VNP_E_CONFIG;
}

static int parse_line(struct vnp_config *cfg, const struct vnp_config *orig, char *line,
		      bool state_seen[2], const char **ret_why, const char *origin, unsigned lineno)
{
	char *eq, *key, *val;
	size_t vlen;

	strip_comment(line);
	line = trim(line);
	if (!*line)
		return VNP_OK;
	eq = strchr(line, '=');
	if (!eq) {
		*ret_why = "expected 'key = value'";
		return VNP_E_CONFIG;
	}
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	if (!valid_key(key)) {
		*ret_why = "invalid key";
		return VNP_E_CONFIG;
	}
	vlen = strlen(val);
	if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
		val[vlen - 1] = '\0';
		val++;
	}
	*ret_why = "value too long";
	if (!strcmp(key, "readers"))
		return parse_readers(cfg, val, ret_why);
	if (!strcmp(key, "vtoken.state")) {
		/* A file that names vtoken.state replaces the list of the files read before it. */
		if (!state_seen[0])
			cfg->n_vtoken_state = 0;
		state_seen[0] = true;
		if (!*val) {
			*ret_why = "empty vtoken.state";
			return VNP_E_CONFIG;
		}
		if (cfg->n_vtoken_state >= VNP_CONF_MAX_VTOKENS) {
			*ret_why = "too many vtoken.state lines";
			return VNP_E_CONFIG;
		}
		if (set_string(cfg->vtoken_state[cfg->n_vtoken_state], PATH_MAX, val) != VNP_OK)
			return VNP_E_CONFIG;
		cfg->n_vtoken_state++;
		return VNP_OK;
	}
	if (!strcmp(key, "ccidsock.path"))
		return parse_ccidsock_path(cfg, val, &state_seen[1], ret_why);
	if (!strcmp(key, "vtoken.plugin"))
		return set_string(cfg->vtoken_plugin, sizeof(cfg->vtoken_plugin), val);
	if (!strcmp(key, "log"))
		return set_string(cfg->log, sizeof(cfg->log), val);
	if (!strcmp(key, "log.file"))
		return set_string(cfg->log_file, sizeof(cfg->log_file), val);
	if (!strcmp(key, "usb.only"))
		return set_string(cfg->usb_only, sizeof(cfg->usb_only), val);
	if (!strcmp(key, "usb.quirks")) {
		if (vnp_usb_quirks_check(val) != VNP_OK) {
			*ret_why = "malformed usb.quirks (vvvv:pppp flag..., ...)";
			return VNP_E_CONFIG;
		}
		return set_string(cfg->usb_quirks, sizeof(cfg->usb_quirks), val);
	}
	if (!strcmp(key, "cache.dir"))
		return set_string(cfg->cache_dir, sizeof(cfg->cache_dir), val);
	if (!strcmp(key, "cache")) {
		if (strcmp(val, "on") && strcmp(val, "off")) {
			*ret_why = "cache must be on or off";
			return VNP_E_CONFIG;
		}
		cfg->cache_off = !strcmp(val, "off");
		return VNP_OK;
	}
	if (!strcmp(key, "cache.piv")) {
		if (strcmp(val, "chuid") && strcmp(val, "off")) {
			*ret_why = "cache.piv must be chuid or off";
			return VNP_E_CONFIG;
		}
		cfg->cache_piv_chuid = !strcmp(val, "chuid");
		return VNP_OK;
	}
	if (!strcmp(key, "piv.management_key"))
		return parse_mgmt_key(cfg, orig, val, ret_why);
	if (!strcmp(key, "piv.management_key_alg"))
		return parse_mgmt_alg(cfg, val, ret_why);
	vnp_warn("config: %s:%u: unknown key '%s' ignored", origin, lineno, key);
	return VNP_OK;
}

/* Parse text (the contents of one configuration file; origin names it in warnings) into cfg.
 * Keys present override cfg; cfg is left unchanged on error.
 * Returns VNP_OK, VNP_E_ARGS, VNP_E_NOMEM, or VNP_E_CONFIG with a warning naming origin:line. */
int vnp_config_parse_string(struct vnp_config *cfg, const char *text, const char *origin)
{
	struct vnp_config *tmp = NULL;
	char *copy = NULL;
	bool state_seen[2] = { false, false }; /* vtoken.state, ccidsock.path */
	unsigned lineno = 0;
	int rv = VNP_OK;
	char *p;

	if (!cfg || !text)
		return VNP_E_ARGS;
	if (!origin)
		origin = "<string>";
	tmp = malloc(sizeof(*tmp));
	copy = strdup(text);
	if (!tmp || !copy) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	*tmp = *cfg;
	p = copy;
	while (p) {
		char *nl = strchr(p, '\n');
		const char *why = "malformed line";

		if (nl)
			*nl = '\0';
		lineno++;
		rv = parse_line(tmp, cfg, p, state_seen, &why, origin, lineno);
		if (rv != VNP_OK) {
			vnp_warn("config: %s:%u: %s", origin, lineno, why);
			goto out;
		}
		p = nl ? nl + 1 : NULL;
	}
	if (cfg->piv_mgmt_key.p != tmp->piv_mgmt_key.p)
		vnp_secret_free(&cfg->piv_mgmt_key);
	*cfg = *tmp;
out:
	/* tmp and copy both allocated: *tmp was set from *cfg */
	if (rv != VNP_OK && tmp && copy && tmp->piv_mgmt_key.p != cfg->piv_mgmt_key.p)
		vnp_secret_free(&tmp->piv_mgmt_key);
	if (copy) {
		vnp_wipe(copy, strlen(text)); /* may hold the management key */
		free(copy);
	}
	free(tmp);
	return rv;
}

static int read_file(const char *path, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, rv = VNP_OK;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? VNP_E_IO : VNP_E_CONFIG;
	buf = malloc(CONF_FILE_MAX + 1);
	if (!buf) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, CONF_FILE_MAX - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rv = VNP_E_CONFIG;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == CONF_FILE_MAX) {
			rv = VNP_E_CONFIG;
			goto out;
		}
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		rv = VNP_E_CONFIG;
		goto out;
	}
	*ret = buf;
	buf = NULL;
out:
	if (buf) {
		vnp_wipe(buf, len); /* what was read may hold the management key */
		free(buf);
	}
	close(fd);
	return rv;
}

/* Parse the file at path into cfg (keys present override; cfg unchanged on error).
 * Returns VNP_OK; VNP_E_IO when the file does not exist; VNP_E_CONFIG when it cannot be read
 * or has a malformed line (a warning names the file and line); VNP_E_NOMEM. */
int vnp_config_parse_file(struct vnp_config *cfg, const char *path)
{
	char *text = NULL;
	int rv;

	if (!cfg || !path)
		return VNP_E_ARGS;
	rv = read_file(path, &text);
	if (rv == VNP_E_CONFIG)
		vnp_warn("config: cannot read %s", path);
	if (rv != VNP_OK)
		goto out;
	rv = vnp_config_parse_string(cfg, text, path);
out:
	if (text) {
		vnp_wipe(text, strlen(text));
		free(text);
	}
	return rv;
}

static int load_one(struct vnp_config *cfg, const char *path)
{
	int rv = vnp_config_parse_file(cfg, path);

	return rv == VNP_E_IO ? VNP_OK : rv; /* a missing file is not an error */
}

/* Fill defaults, then read VNP_SYSCONFDIR/vnpki/vnpki.conf, the user's
 * $XDG_CONFIG_HOME/vnpki/vnpki.conf (or ~/.config/...), then $VNPKI_CONF. ret is fully set on
 * VNP_OK. Returns VNP_OK, VNP_E_CONFIG (warning logged naming file and line), VNP_E_NOMEM. */
int vnp_config_load(struct vnp_config *ret)
{
	const char *xdg = secure_getenv("XDG_CONFIG_HOME");
	const char *home = secure_getenv("HOME");
	const char *env = secure_getenv("VNPKI_CONF");
	struct vnp_config *cfg;
	char path[PATH_MAX];
	int rv;

	if (!ret)
		return VNP_E_ARGS;
	cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return VNP_E_NOMEM;
	vnp_config_defaults(cfg);
	snprintf(path, sizeof(path), "%s/vnpki/vnpki.conf", VNP_SYSCONFDIR);
	rv = load_one(cfg, path);
	if (rv != VNP_OK)
		goto out;
	path[0] = '\0';
	if (xdg && *xdg == '/')
		snprintf(path, sizeof(path), "%s/vnpki/vnpki.conf", xdg);
	else if (home && *home == '/')
		snprintf(path, sizeof(path), "%s/.config/vnpki/vnpki.conf", home);
	if (path[0]) {
		rv = load_one(cfg, path);
		if (rv != VNP_OK)
			goto out;
	}
	if (env && *env) {
		rv = load_one(cfg, env);
		if (rv != VNP_OK)
			goto out;
	}
	*ret = *cfg;
out:
	if (rv != VNP_OK)
		vnp_config_free(cfg);
	free(cfg);
	return rv;
}

void vnp_config_free(struct vnp_config *cfg)
{
	if (!cfg)
		return;
	vnp_secret_free(&cfg->piv_mgmt_key);
	memset(&cfg->piv_mgmt_key, 0, sizeof(cfg->piv_mgmt_key));
}
