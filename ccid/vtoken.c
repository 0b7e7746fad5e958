/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The in-process virtual token reader: one reader per configured state file, backed by the
 * plugin named in the configuration (ccid/vtoken_plugin.h). The module carries no emulator:
 * the plugin is dlopen()ed here, only when the configuration asks for it. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "poll_wait.h"
#include "reader_name.h"
#include "rv.h"
#include "secret.h"
#include "transport.h"
#include "vnp_build_config.h"
#include "vtoken_plugin.h"

#define VTOKEN_NAME_PREFIX "vnpki virtual token "
#define VTOKEN_RESP_MIN 65538 /* the plugin's contract: response capacity */

struct vtoken_slot {
	char state[PATH_MAX];
	bool last_present;
	uint32_t events;
	/* list() powers the card on only when the state file changed since the last probe */
	bool probed;
	bool last_present_probe;
	struct stat probed_st;
	uint8_t atr[VNP_ATR_MAX];
	size_t atr_len;
};

struct vnp_backend {
	void *dl;
	const struct vnp_vtoken_plugin *plugin;
	pthread_mutex_t lock; /* guards slots[] presence, events and probe cache, cancelled */
	pthread_cond_t wake;  /* signalled by cancel() */
	bool cancelled;
	unsigned n;
	struct vtoken_slot slots[VNP_CONF_MAX_VTOKENS];
};

struct vnp_reader {
	struct vnp_backend *be;
	struct vnp_vcard *card;
	unsigned idx;
};

static const char *plugin_path(const struct vnp_config *cfg)
{
	const char *env = secure_getenv("VNPKI_VTOKEN_PLUGIN");

	if (env && *env)
		return env;
	if (cfg && cfg->vtoken_plugin[0])
		return cfg->vtoken_plugin;
	return VNP_VTOKEN_PLUGIN_DEFAULT;
}

static int vt_open(const struct vnp_config *cfg, struct vnp_backend **ret)
{
	const char *path = plugin_path(cfg);
	struct vnp_backend *be = NULL;
	vnp_vtoken_plugin_fn fn;
	void *sym;
	int rv = VNP_OK;

	if (!ret)
		return VNP_E_ARGS;
	be = calloc(1, sizeof(*be));
	if (!be)
		return VNP_E_NOMEM;
	pthread_mutex_init(&be->lock, NULL);
	vnp_wake_init(&be->wake);
	be->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!be->dl) {
		vnp_warn("vtoken: cannot load plugin %s: %s", path, dlerror());
		rv = VNP_E_CONFIG;
		goto out;
	}
	sym = dlsym(be->dl, VNP_VTOKEN_PLUGIN_SYMBOL);
	if (!sym) {
		vnp_warn("vtoken: plugin %s has no %s: %s", path, VNP_VTOKEN_PLUGIN_SYMBOL, dlerror());
		rv = VNP_E_CONFIG;
		goto out;
	}
	fn = (vnp_vtoken_plugin_fn)sym;
	be->plugin = fn();
	if (!be->plugin || be->plugin->abi != VNP_VTOKEN_PLUGIN_ABI || !be->plugin->open ||
	    !be->plugin->close || !be->plugin->atr || !be->plugin->transmit) {
		vnp_warn("vtoken: plugin %s: unsupported ABI %u (want %u)", path,
			 be->plugin ? be->plugin->abi : 0u, (unsigned)VNP_VTOKEN_PLUGIN_ABI);
		rv = VNP_E_CONFIG;
		goto out;
	}
	for (unsigned i = 0; cfg && i < cfg->n_vtoken_state && i < VNP_CONF_MAX_VTOKENS; i++)
		snprintf(be->slots[be->n++].state, PATH_MAX, "%s", cfg->vtoken_state[i]);
	vnp_log(VNP_LOG_READER, "vtoken: loaded %s, %u reader(s)", path, be->n);
	*ret = be;
	be = NULL;
out:
	if (be) {
		if (be->dl)
			dlclose(be->dl);
		pthread_mutex_destroy(&be->lock);
		pthread_cond_destroy(&be->wake);
		free(be);
	}
	return rv;
}

static void vt_close(struct vnp_backend *be)
{
	if (!be)
		return;
	dlclose(be->dl);
	pthread_mutex_destroy(&be->lock);
	pthread_cond_destroy(&be->wake);
	free(be);
}

/* Power a card on over slot idx's state file. VNP_E_NO_CARD when the file is missing. */
static int power_on(struct vnp_backend *be, unsigned idx, struct vnp_vcard **ret)
{
	int rv;

	if (access(be->slots[idx].state, F_OK) != 0)
		return VNP_E_NO_CARD;
	rv = be->plugin->open(be->slots[idx].state, ret);
	if (rv == VNP_E_IO)
		return VNP_E_NO_CARD;
	return rv < 0 ? rv : VNP_OK;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Presence and ATR of slot idx: the state file exists and the plugin powers the card on.
 * Called with be->lock held; the plugin is asked again only when the file changed. */
static void probe_locked(struct vnp_backend *be, unsigned idx, struct vnp_reader_state *st)
{
	struct vtoken_slot *slot = &be->slots[idx];
	struct vnp_vcard *card = NULL;
	struct stat sb;

	if (stat(slot->state, &sb) != 0) {
		slot->probed = false;
		return;
	}
	if (!slot->probed || !same_file(&sb, &slot->probed_st)) {
		slot->atr_len = 0;
		slot->probed = true;
		slot->probed_st = sb;
		slot->last_present_probe = false;
		if (be->plugin->open(slot->state, &card) == VNP_OK) {
			uint8_t atr[VNP_ATR_MAX + 32];
			size_t n = be->plugin->atr(card, atr);

			slot->atr_len = n > VNP_ATR_MAX ? VNP_ATR_MAX : n;
			memcpy(slot->atr, atr, slot->atr_len);
			slot->last_present_probe = true;
			be->plugin->close(card);
		}
	}
	st->card_present = slot->last_present_probe;
	memcpy(st->atr, slot->atr, slot->atr_len);
	st->atr_len = st->card_present ? slot->atr_len : 0;
}

static int vt_list(struct vnp_backend *be, struct vnp_reader_state *out, size_t max,
		   size_t *ret_count)
{
	size_t count = 0;

	if (!be || !ret_count || (max && !out))
		return VNP_E_ARGS;
	pthread_mutex_lock(&be->lock);
	for (unsigned i = 0; i < be->n && count < max; i++) {
		struct vnp_reader_state *st = &out[count++];

		memset(st, 0, sizeof(*st));
		snprintf(st->name, sizeof(st->name), VTOKEN_NAME_PREFIX "%u", i);
		probe_locked(be, i, st);
		if (st->card_present != be->slots[i].last_present) {
			be->slots[i].last_present = st->card_present;
			be->slots[i].events++;
			vnp_log(VNP_LOG_READER, "vtoken: %s: card %s", st->name,
				st->card_present ? "inserted" : "removed");
		}
		st->event_count = be->slots[i].events;
	}
	pthread_mutex_unlock(&be->lock);
	*ret_count = count;
	return VNP_OK;
}

static int vt_connect(struct vnp_backend *be, const char *name, struct vnp_reader **ret,
		      struct vnp_reader_caps *ret_caps)
{
	struct vnp_reader *r = NULL;
	unsigned idx;
	int rv;

	if (!be || !name || !ret)
		return VNP_E_ARGS;
	rv = vnp_reader_name_index(name, VTOKEN_NAME_PREFIX, be->n, &idx);
	if (rv != VNP_OK)
		goto out;
	r = calloc(1, sizeof(*r));
	if (!r) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	r->be = be;
	r->idx = idx;
	rv = power_on(be, idx, &r->card);
	if (rv != VNP_OK)
		goto out;
	if (ret_caps) {
		ret_caps->extended = true;
		ret_caps->max_cmd = 65536;
		ret_caps->max_resp = 65536 + 2; /* data + SW */
		ret_caps->t0 = false;
	}
	vnp_log(VNP_LOG_READER, "vtoken: %s: connected (%s)", name, be->slots[idx].state);
	*ret = r;
	r = NULL;
out:
	free(r);
	return rv;
}

static void vt_disconnect(struct vnp_reader *r)
{
	if (!r)
		return;
	if (r->card)
		r->be->plugin->close(r->card);
	vnp_log(VNP_LOG_READER, "vtoken: reader %u: disconnected", r->idx);
	free(r);
}

static int vt_atr(struct vnp_reader *r, uint8_t *atr, size_t *atr_len)
{
	uint8_t buf[VNP_ATR_MAX + 32];
	size_t n;

	if (!r || !atr || !atr_len)
		return VNP_E_ARGS;
	n = r->be->plugin->atr(r->card, buf);
	if (n > VNP_ATR_MAX || n > *atr_len)
		return VNP_E_BUFFER_TOO_SMALL;
	memcpy(atr, buf, n);
	*atr_len = n;
	return VNP_OK;
}

/* The virtual card is private to this process: there is nobody to exclude. Removing the state
 * file removes the card. */
static int vt_begin(struct vnp_reader *r)
{
	if (!r)
		return VNP_E_ARGS;
	if (access(r->be->slots[r->idx].state, F_OK) != 0)
		return VNP_E_NO_CARD;
	return VNP_OK;
}

static void vt_end(struct vnp_reader *r)
{
	(void)r;
}

static int vt_transmit(struct vnp_reader *r, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
		       size_t *resp_len)
{
	uint8_t *tmp = NULL;
	size_t n;
	int rv;

	if (!r || !cmd || !resp || !resp_len)
		return VNP_E_ARGS;
	if (*resp_len >= VTOKEN_RESP_MIN) {
		rv = r->be->plugin->transmit(r->card, cmd, cmd_len, resp, resp_len);
		goto out;
	}
	/* The plugin wants a full-size buffer; bounce through one and wipe it. */
	tmp = malloc(VTOKEN_RESP_MIN);
	if (!tmp) {
		rv = VNP_E_NOMEM;
		goto out;
	}
	n = VTOKEN_RESP_MIN;
	rv = r->be->plugin->transmit(r->card, cmd, cmd_len, tmp, &n);
	if (rv == VNP_OK && n > *resp_len)
		rv = VNP_E_BUFFER_TOO_SMALL;
	if (rv == VNP_OK) {
		memcpy(resp, tmp, n);
		*resp_len = n;
	}
	vnp_wipe(tmp, VTOKEN_RESP_MIN);
out:
	free(tmp);
	if (rv > 0)
		rv = VNP_E_TRANSPORT;
	/* The state file went away during the APDU: the card was pulled. A real reader fails
	 * the transmit then; the plugin answers with an error status word, which is not to be
	 * believed (it is not the card's answer). */
	if (rv != VNP_E_NOMEM && rv != VNP_E_BUFFER_TOO_SMALL &&
	    access(r->be->slots[r->idx].state, F_OK) != 0)
		rv = VNP_E_NO_CARD;
	return rv;
}

/* What wait_event() compares: the state file's presence and identity (a card is a file). */
static void file_ids(const struct vnp_backend *be, ino_t *ids)
{
	struct stat sb;

	for (unsigned i = 0; i < be->n; i++)
		ids[i] = stat(be->slots[i].state, &sb) == 0 ? sb.st_ino | 1 : 0;
}

/* Poll the state files every VTOKEN_POLL_MS on a condition variable that cancel() signals. */
#define VTOKEN_POLL_MS 150

struct vt_seen {
	const struct vnp_backend *be;
	ino_t before[VNP_CONF_MAX_VTOKENS];
};

/* With be->lock held: did a state file come, go or change since seen's? */
static bool vt_changed(void *arg)
{
	struct vt_seen *seen = arg;
	ino_t now[VNP_CONF_MAX_VTOKENS];

	file_ids(seen->be, now);
	return memcmp(seen->before, now, seen->be->n * sizeof(*now)) != 0;
}

static int vt_wait_event(struct vnp_backend *be, unsigned timeout_ms, bool *cancelled)
{
	struct vt_seen seen;

	seen.be = be;
	file_ids(be, seen.before);
	return vnp_poll_wait(&be->lock, &be->wake, &be->cancelled, timeout_ms, VTOKEN_POLL_MS,
			     vt_changed, &seen, cancelled);
}

static void vt_cancel(struct vnp_backend *be)
{
	vnp_poll_cancel(&be->lock, &be->wake, &be->cancelled);
}

/* The vtoken reader backend (see transport.h for the contract of each member). */
const struct vnp_reader_ops vnp_reader_vtoken = {
	.name = "vtoken",
	.open = vt_open,
	.close = vt_close,
	.list = vt_list,
	.connect = vt_connect,
	.disconnect = vt_disconnect,
	.atr = vt_atr,
	.begin = vt_begin,
	.end = vt_end,
	.transmit = vt_transmit,
	.wait_event = vt_wait_event,
	.cancel = vt_cancel,
};
