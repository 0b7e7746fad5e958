/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every user-facing string of vnpki-tool, in one table (messages.c), so that a translation
 * (Vietnamese first) can be added as a second table. Machine-readable output (JSON keys,
 * CSV headers, state words) is not translated. */
#ifndef VNP_TOOL_MESSAGES_H
#define VNP_TOOL_MESSAGES_H

#include <stdio.h>

#include "compiler.h"

enum vnp_msg_id {
#define VNP_MSG(id, text) id,
#include "messages_en.def"
#undef VNP_MSG
	MSG_COUNT
};

/* Choose the language from LANGUAGE / LC_ALL / LC_MESSAGES / LANG (English when there is
 * no table for it). */
void vnp_msg_init(void);
/* The text of a message. */
const char *vnp_msg(enum vnp_msg_id id);
/* printf the message to stdout. */
void vnp_say(enum vnp_msg_id id, ...);
/* "vnpki-tool: " + the message + newline, to stderr. */
void vnp_err(enum vnp_msg_id id, ...);
/* A help text (no arguments) to f. */
void vnp_usage(enum vnp_msg_id id, FILE *f);

#endif
