/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the vnpki-vtoken subcommands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int vnp_vt_cli_uint(const char *opt, const char *s, unsigned min, unsigned max, unsigned *ret)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "vnpki-vtoken: %s wants a number from %u to %u, not '%s'\n", opt,
			min, max, s);
		return -1;
	}
	*ret = (unsigned)v;
	return 0;
}

int vnp_vt_cli_read_file(const char *path, uint8_t *buf, size_t cap, size_t *ret_len)
{
	FILE *f = fopen(path, "rbe");
	size_t n;
	int c;

	if (!f) {
		fprintf(stderr, "vnpki-vtoken: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, cap, f);
	c = fgetc(f);
	if (ferror(f) || c != EOF) {
		fprintf(stderr, "vnpki-vtoken: cannot read %s (or longer than %zu bytes)\n", path,
			cap);
		fclose(f);
		return -1;
	}
	fclose(f);
	*ret_len = n;
	return 0;
}
