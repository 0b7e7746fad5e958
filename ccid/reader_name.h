/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reader names "<prefix><index>" of the backends with numbered readers (vtoken, ccidsock).
 * Private to ccid/. */
#ifndef VNP_READER_NAME_H
#define VNP_READER_NAME_H

/* The index in name, which must be prefix then a decimal number below n. VNP_E_NO_DEVICE
 * when it is not. */
int vnp_reader_name_index(const char *name, const char *prefix, unsigned n, unsigned *ret_idx);

#endif
