/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The public key of a key generated on a PIV card, kept on the host until a certificate in
 * the slot carries it: a PIV card cannot give a public key back, so without this a new key
 * would vanish when the generating process ends. File: <cache.dir>/piv-<serial>-<ref>.pub
 * holding the card's GENERATE answer (7F49 ...), 0600 in a 0700 directory, written
 * atomically. Public data only; the card stays the authority (a key replaced by another
 * application shows the old public key until a certificate is written). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "piv_int.h"
#include "rv.h"

#define PUBFILE_MAX 1024

static bool path_of(const struct vnp_card *card, const struct piv_state *st, uint8_t ref,
		    char *out, size_t cap)
{
	char hex[2 * VNP_SERIAL_MAX + 1];
	int n;

	if (!card->cfg || !card->cfg->cache_dir[0] || !st->serial_len)
		return false;
	for (size_t i = 0; i < st->serial_len; i++)
		snprintf(hex + 2 * i, 3, "%02X", st->serial[i]);
	n = snprintf(out, cap, "%s/piv-%s-%02X.pub", card->cfg->cache_dir, hex, ref);
	return n > 0 && (size_t)n < cap;
}

void vnp_piv_pubfile_save(const struct vnp_card *card, const struct piv_state *st,
			  uint8_t key_ref, const uint8_t *answer, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	struct stat sb;
	ssize_t w;
	int fd;

	if (!path_of(card, st, key_ref, path, sizeof(path)) || len > PUBFILE_MAX)
		return;
	if (mkdir(card->cfg->cache_dir, 0700) != 0 && errno != EEXIST)
		goto fail;
	if (stat(card->cfg->cache_dir, &sb) != 0 || sb.st_uid != geteuid() ||
	    (sb.st_mode & 0022))
		goto fail; /* someone else's or a writable-by-others directory */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		goto fail;
	w = write(fd, answer, len);
	if (w != (ssize_t)len || fsync(fd) != 0) {
		close(fd);
		(void)unlink(tmp);
		goto fail;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		(void)unlink(tmp);
		goto fail;
	}
	return;
fail:
	vnp_warn("%s: PIV: cannot keep the new public key in %s: it shows until this process "
		 "ends; write a certificate to the slot", card->io.who, card->cfg->cache_dir);
}

int vnp_piv_pubfile_load(const struct vnp_card *card, const struct piv_state *st,
			 uint8_t key_ref, struct vnp_pubkey *ret)
{
	char path[PATH_MAX];
	uint8_t buf[PUBFILE_MAX + 1];
	struct stat sb;
	ssize_t n;
	int fd, rv = VNP_E_NOT_FOUND;

	if (!path_of(card, st, key_ref, path, sizeof(path)))
		return VNP_E_NOT_FOUND;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return VNP_E_NOT_FOUND;
	if (fstat(fd, &sb) == 0 && sb.st_uid == geteuid() && !(sb.st_mode & 0022)) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0 && n <= PUBFILE_MAX &&
		    vnp_piv_parse_genkey(buf, (size_t)n, VNP_ALG_NONE, ret) == VNP_OK)
			rv = VNP_OK;
	}
	close(fd);
	return rv;
}

void vnp_piv_pubfile_remove(const struct vnp_card *card, const struct piv_state *st,
			    uint8_t key_ref)
{
	char path[PATH_MAX];

	if (path_of(card, st, key_ref, path, sizeof(path)))
		(void)unlink(path);
}
