/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vntoken applet (tools/vtoken/APPLET.md): constants and the template parsers shared by
 * applet/vntoken.c, vntoken_parse.c, vntoken_cmd.c (and simpki.c). Private to apdu/. */
#ifndef VNP_VNTOKEN_INT_H
#define VNP_VNTOKEN_INT_H

#include <stddef.h>
#include <stdint.h>
#include "card.h"

#define VNT_TAG_FCI 0x6F
#define VNT_TAG_DIR 0x71
#define VNT_TAG_KEY 0xA0
#define VNT_TAG_DATA 0xA1
#define VNT_TAG_CERT 0xA2
#define VNT_TAG_PUBKEY 0x7F49

/* Parse a SELECT answer (capability template 6F) into ret. VNP_E_MALFORMED when it does not
 * parse or a field has the wrong size. */
int vnp_vntoken_parse_caps(const uint8_t *buf, size_t len, struct vnp_token_info *ret);
/* Parse the value of a key template A0 (directory entry or GENERATE answer). Keys with an
 * algorithm reference this driver does not know give VNP_E_NOT_SUPPORTED. */
int vnp_vntoken_parse_key(const uint8_t *val, size_t len, struct vnp_obj *ret);
/* Parse the value of a certificate (A2) or data object (A1) template. */
int vnp_vntoken_parse_object(enum vnp_obj_kind kind, const uint8_t *val, size_t len,
			     struct vnp_obj *ret);
/* Parse a GET DIRECTORY answer (template 71); *ret is malloc'd (vnp_dir_free). */
int vnp_vntoken_parse_dir(const uint8_t *buf, size_t len, struct vnp_dir **ret);

/* vntoken_cmd.c, used by the vntoken and SIM PKI drivers. */
struct vnp_apdu;
struct vnp_sw_entry;
/* Read the directory (template 71) with cmd (its header; the whole answer); *ret as
 * vnp_vntoken_parse_dir. */
int vnp_vnt_read_dir(struct vnp_card *card, const struct vnp_sw_entry *sw,
		     const struct vnp_apdu *cmd, struct vnp_dir **ret);
/* GENERATE (00 47 00 00) with the key template A0 of req (id_len checked by the caller);
 * the answer's key template into ret (resp_cap: the answer buffer's size). */
int vnp_vnt_generate(struct vnp_card *card, const struct vnp_sw_entry *sw,
		     const struct vnp_keygen *req, size_t resp_cap, struct vnp_obj *ret);
/* Write a certificate or data object: the object template (80 kind, 82, 83, 89, 8B, 8E,
 * 8C value) sent with cmd's header (Le 256), the answer 80 01 ref into *ret_ref. */
int vnp_vnt_write_object(struct vnp_card *card, const struct vnp_sw_entry *sw,
			 const struct vnp_apdu *cmd, const struct vnp_obj *meta,
			 const uint8_t *value, size_t len, uint8_t *ret_ref);

#endif
