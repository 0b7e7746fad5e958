/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-vtoken subcommands. Each returns an exit code (see README.md). */
#ifndef VNP_VT_CLI_H
#define VNP_VT_CLI_H

#define VT_EXIT_OK 0
#define VT_EXIT_FAIL 1    /* runtime failure (I/O, crypto, card) */
#define VT_EXIT_USAGE 2   /* bad command line */
#define VT_EXIT_EXISTS 3  /* init: the state exists and --force was not given */

int vnp_vt_cmd_init(int argc, char **argv);
int vnp_vt_cmd_serve(int argc, char **argv);
int vnp_vt_cmd_serve_ccid(int argc, char **argv); /* cli_serve_ccid.c */
int vnp_vt_cmd_show(int argc, char **argv);
int vnp_vt_cmd_apdu(int argc, char **argv);



#include <stddef.h>
#include <stdint.h>

/* cli_common.c */
/* Parse an unsigned option value in [min, max]; prints an error naming opt. 0 or -1. */
int vnp_vt_cli_uint(const char *opt, const char *s, unsigned min, unsigned max, unsigned *ret);
/* Read a whole small file (at most cap bytes) into buf. 0 or -1 (error printed). */
int vnp_vt_cli_read_file(const char *path, uint8_t *buf, size_t cap, size_t *ret_len);
#endif
