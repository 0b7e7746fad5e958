/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CCID socket: a CCID device's pipes over one unix SOCK_SEQPACKET connection (the
 * virtual token's `vnpki-vtoken serve-ccid`, the module's `ccidsock` reader backend).
 * Every packet is one kind byte and a payload; packet boundaries are message boundaries.
 *   host -> device  'D' (empty)              the class descriptor, please
 *   device -> host  'D' + 54 bytes           the CCID class descriptor (CCID 1.1 §5.1)
 *   host -> device  'O' + PC_to_RDR message  one bulk-OUT transfer
 *   device -> host  'I' + RDR_to_PC message  one bulk-IN transfer (time extensions included)
 *   device -> host  'N' + interrupt message  RDR_to_PC_NotifySlotChange, any time
 * The device serves one host connection at a time (like a claimed USB interface); others
 * wait in the listen queue. Closing the connection powers the card off. See
 * tools/vtoken/CCID.md. */
#ifndef VNP_CCID_SOCK_PROTO_H
#define VNP_CCID_SOCK_PROTO_H

#define VNP_CCIDSOCK_DESC 'D'
#define VNP_CCIDSOCK_BULK_OUT 'O'
#define VNP_CCIDSOCK_BULK_IN 'I'
#define VNP_CCIDSOCK_INTR 'N'

#endif
