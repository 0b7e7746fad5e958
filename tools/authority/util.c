/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-authority: messages, file reading and the master key file. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "authority.h"
#include "hexcodec.h"
#include "messages.h"
#include "rv.h"

void au_err(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* input echoed back (codes, JSON values, paths) must not break the one-line rule */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7F)
			*p = '?';
	fprintf(stderr, AU_PROG ": %s\n", line);
}

int au_bad_option(const char *cmd, int c, char **argv)
{
	const char *opt = optind > 0 ? argv[optind - 1] : "?";

	if (c == ':')
		au_err(AU_E_MISSING_VALUE, cmd, opt);
	else
		au_err(AU_E_UNKNOWN_OPTION, cmd, opt);
	return AU_EXIT_USAGE;
}

void au_hex(const uint8_t *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

int au_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int au_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len,
		 unsigned *ret_mode)
{
	struct stat sb;
	char *buf = NULL;
	size_t len = 0;
	int fd, rv = AU_EXIT_FAIL;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		au_err(AU_E_OPEN, path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) < 0) {
		au_err(AU_E_READ, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		au_err(AU_E_NOT_REGULAR, path);
		rv = AU_EXIT_USAGE;
		goto out;
	}
	if ((size_t)sb.st_size > max) {
		au_err(AU_E_TOO_LARGE, path);
		rv = AU_EXIT_USAGE;
		goto out;
	}
	buf = malloc(max + 1);
	if (!buf) {
		au_err(AU_E_READ, path, strerror(ENOMEM));
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf + len, max + 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			au_err(AU_E_READ, path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > max) {
			au_err(AU_E_TOO_LARGE, path);
			rv = AU_EXIT_USAGE;
			goto out;
		}
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	if (ret_mode)
		*ret_mode = (unsigned)sb.st_mode;
	buf = NULL;
	rv = AU_EXIT_OK;
out:
	if (buf)
		OPENSSL_clear_free(buf, max + 1);
	if (fd >= 0)
		close(fd);
	return rv;
}

#define MASTER_FILE_MAX 256

int au_read_master(const char *path, uint8_t key[VNP_RECOVERY_KEY_LEN])
{
	uint8_t tmp[VNP_RECOVERY_KEY_LEN];
	char *buf = NULL;
	size_t len = 0, n = 0;
	unsigned mode = 0;
	int rv;

	rv = au_read_file(path, MASTER_FILE_MAX, &buf, &len, &mode);
	if (rv != AU_EXIT_OK)
		goto out;
	if (mode & (S_IRWXG | S_IRWXO))
		au_err(AU_W_MASTER_MODE, path);
	rv = AU_EXIT_USAGE;
	if (len == VNP_RECOVERY_KEY_LEN) {
		memcpy(tmp, buf, sizeof(tmp));
	} else {
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
				   buf[len - 1] == ' ' || buf[len - 1] == '\t'))
			len--;
		if (len != 2 * VNP_RECOVERY_KEY_LEN) {
			au_err(AU_E_MASTER_FORMAT, path);
			goto out;
		}
		/* 64 characters give 32 bytes only when none is a separator */
		if (vnp_hex_decode(buf, len, tmp, sizeof(tmp), &n) != VNP_OK || n != sizeof(tmp)) {
			au_err(AU_E_MASTER_FORMAT, path);
			goto out;
		}
	}
	memcpy(key, tmp, sizeof(tmp));
	rv = AU_EXIT_OK;
out:
	OPENSSL_cleanse(tmp, sizeof(tmp));
	if (buf)
		OPENSSL_clear_free(buf, MASTER_FILE_MAX + 1);
	return rv;
}
