/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-authority: the audit log, one tab-separated line per answered request:
 * TIME (ISO 8601, UTC) SERIAL (hex) REQUEST-CODE OPERATOR. The response code is never
 * logged: it is a secret until the subscriber uses it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "authority.h"
#include "messages.h"

int au_audit_append(const char *path, const uint8_t serial[VNP_RECOVERY_SERIAL_LEN],
		    const char *request_code, const char *operator_name)
{
	char when[32], serial_hex[2 * VNP_RECOVERY_SERIAL_LEN + 1], line[512];
	struct tm tm;
	time_t now = time(NULL);
	int fd = -1, n, rv = AU_EXIT_FAIL;

	if (!gmtime_r(&now, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm)) {
		au_err(AU_E_AUDIT, path, strerror(EINVAL));
		goto out;
	}
	au_hex(serial, VNP_RECOVERY_SERIAL_LEN, serial_hex);
	n = snprintf(line, sizeof(line), "%s\t%s\t%s\t%s\n", when, serial_hex, request_code,
		     operator_name);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		au_err(AU_E_AUDIT, path, strerror(ENAMETOOLONG));
		goto out;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		au_err(AU_E_AUDIT, path, strerror(errno));
		goto out;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			au_err(AU_E_AUDIT, path, strerror(errno));
			goto out;
		}
	}
	if (au_write_all(fd, line, (size_t)n) < 0 || fsync(fd) < 0) {
		au_err(AU_E_AUDIT, path, strerror(errno));
		goto out;
	}
	rv = close(fd);
	fd = -1;
	if (rv < 0) {
		au_err(AU_E_AUDIT, path, strerror(errno));
		rv = AU_EXIT_FAIL;
		goto out;
	}
	rv = AU_EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	return rv;
}
