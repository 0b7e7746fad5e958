/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device end of the CCID socket (ccid/ccid_sock_proto.h): a CCID device engine served on
 * a unix SOCK_SEQPACKET socket, one host connection at a time. Used by
 * `vnpki-vtoken serve-ccid` and by tests that run a device in a thread. */
#ifndef VNP_VT_CCID_SOCK_SERVE_H
#define VNP_VT_CCID_SOCK_SERVE_H

#include "ccid_dev.h"

/* Create a listening socket at path (an old socket file there is removed first).
 * Returns the file descriptor, or -1 with errno set. */
int vnp_vt_ccid_sock_listen(const char *path);

/* Serve d on the listening socket lfd until *stop is set (checked every 200 ms): accept a
 * host, answer its packets, send slot changes, power the card off when it hangs up, accept
 * the next. Does not close lfd. VNP_OK, VNP_E_NOMEM. */
int vnp_vt_ccid_sock_serve(struct vnp_vt_ccid_dev *d, int lfd, const _Atomic int *stop);

#endif
