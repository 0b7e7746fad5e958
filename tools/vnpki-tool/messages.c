/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The message tables. English is complete; a translation is a second .def file with the
 * same ids in the same order, with the same printf conversions in each text (a missing or
 * NULL entry falls back to English). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "messages.h"

static const char *const messages_en[MSG_COUNT] = {
#define VNP_MSG(id, text) [id] = text,
#include "messages_en.def"
#undef VNP_MSG
};

/* Translations, by language prefix. None yet: add { "vi", messages_vi }. */
static const struct {
	const char *lang;
	const char *const *table;
} translations[] = {
	{ "en", messages_en },
};

static const char *const *current = messages_en;

void vnp_msg_init(void)
{
	static const char *const vars[] = { "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG" };
	const char *v = NULL;

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]) && !(v && *v); i++)
		v = getenv(vars[i]);
	current = messages_en;
	if (!v)
		return;
	for (size_t i = 0; i < sizeof(translations) / sizeof(translations[0]); i++)
		if (strncmp(v, translations[i].lang, strlen(translations[i].lang)) == 0)
			current = translations[i].table;
}

const char *vnp_msg(enum vnp_msg_id id)
{
	if ((unsigned)id >= MSG_COUNT)
		return "?";
	return current[id] ? current[id] : messages_en[id];
}

/* The formats come from the fixed tables above, never from input; clang cannot see that. */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

void vnp_say(enum vnp_msg_id id, ...)
{
	va_list ap;

	va_start(ap, id);
	vfprintf(stdout, vnp_msg(id), ap);
	va_end(ap);
}

void vnp_err(enum vnp_msg_id id, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("vnpki-tool: ", stderr);
	va_start(ap, id);
	vfprintf(stderr, vnp_msg(id), ap);
	va_end(ap);
	fputc('\n', stderr);
}

void vnp_usage(enum vnp_msg_id id, FILE *f)
{
	fputs(vnp_msg(id), f);
}
