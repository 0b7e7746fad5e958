/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-authority keygen: a new master key file. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "authority.h"
#include "messages.h"

int au_cmd_keygen(int argc, char **argv)
{
	static const struct option options[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint8_t key[VNP_RECOVERY_KEY_LEN];
	char line[2 * VNP_RECOVERY_KEY_LEN + 2];
	const char *out_path = NULL;
	bool created = false;
	int c, fd = -1, rv = AU_EXIT_USAGE;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:h", options, NULL)) != -1) {
		switch (c) {
		case 'o': out_path = optarg; break;
		case 'h':
			fputs(AU_USAGE_KEYGEN, stdout);
			rv = AU_EXIT_OK;
			goto out;
		default:
			rv = au_bad_option("keygen", c, argv);
			goto out;
		}
	}
	if (optind < argc) {
		au_err(AU_E_EXTRA_ARGS, "keygen", argv[optind]);
		goto out;
	}
	if (!out_path) {
		au_err(AU_E_NEED_OPTION, "keygen", "--out");
		goto out;
	}
	rv = AU_EXIT_FAIL;
	if (RAND_priv_bytes(key, sizeof(key)) != 1) {
		au_err(AU_E_RANDOM);
		goto out;
	}
	au_hex(key, sizeof(key), line);
	line[2 * VNP_RECOVERY_KEY_LEN] = '\n';
	line[2 * VNP_RECOVERY_KEY_LEN + 1] = '\0';
	fd = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		if (errno == EEXIST) {
			au_err(AU_E_EXISTS, out_path);
			rv = AU_EXIT_REFUSED;
		} else {
			au_err(AU_E_OPEN, out_path, strerror(errno));
		}
		goto out;
	}
	created = true;
	if (fchmod(fd, 0600) < 0 || au_write_all(fd, line, 2 * VNP_RECOVERY_KEY_LEN + 1) < 0 ||
	    fsync(fd) < 0) {
		au_err(AU_E_WRITE, out_path, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		au_err(AU_E_WRITE, out_path, strerror(errno));
		goto out;
	}
	fd = -1;
	created = false;
	fprintf(stderr, AU_N_KEYGEN "\n", out_path);
	rv = AU_EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(out_path); /* never leave a half-written key behind */
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(line, sizeof(line));
	return rv;
}
