/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Machine-readable output: a small JSON writer and CSV fields. UTF-8 passes through;
 * control characters are escaped. */
#include <stdlib.h>
#include <string.h>

#include "tool.h"

void vnp_jw_init(struct jw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
}

static void json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* Comma, newline and indentation before a member or element; then its key. */
static void member(struct jw *w, const char *key)
{
	if (w->depth > 0) {
		if (w->need_comma[w->depth])
			fputc(',', w->f);
		fputc('\n', w->f);
		for (int i = 0; i < w->depth; i++)
			fputs("  ", w->f);
	}
	w->need_comma[w->depth] = true;
	if (key) {
		json_string(w->f, key);
		fputs(": ", w->f);
	}
}

static void open_(struct jw *w, const char *key, char c)
{
	member(w, key);
	fputc(c, w->f);
	if (w->depth + 1 < (int)(sizeof(w->need_comma) / sizeof(w->need_comma[0])))
		w->depth++;
	w->need_comma[w->depth] = false;
}

static void close_(struct jw *w, char c)
{
	bool had = w->need_comma[w->depth];

	if (w->depth > 0)
		w->depth--;
	if (had) {
		fputc('\n', w->f);
		for (int i = 0; i < w->depth; i++)
			fputs("  ", w->f);
	}
	fputc(c, w->f);
}

void vnp_jw_obj(struct jw *w, const char *key) { open_(w, key, '{'); }
void vnp_jw_arr(struct jw *w, const char *key) { open_(w, key, '['); }
void vnp_jw_end_obj(struct jw *w) { close_(w, '}'); }
void vnp_jw_end_arr(struct jw *w) { close_(w, ']'); }

void vnp_jw_str(struct jw *w, const char *key, const char *v)
{
	member(w, key);
	if (v)
		json_string(w->f, v);
	else
		fputs("null", w->f);
}

void vnp_jw_int(struct jw *w, const char *key, long long v)
{
	member(w, key);
	fprintf(w->f, "%lld", v);
}

void vnp_jw_bool(struct jw *w, const char *key, bool v)
{
	member(w, key);
	fputs(v ? "true" : "false", w->f);
}

void vnp_jw_done(struct jw *w)
{
	fputc('\n', w->f);
	fflush(w->f);
}

void vnp_csv_field(FILE *f, const char *v, char sep)
{
	if (!v)
		v = "";
	if (strpbrk(v, ",\"\r\n")) {
		fputc('"', f);
		for (; *v; v++) {
			if (*v == '"')
				fputc('"', f);
			fputc(*v, f);
		}
		fputc('"', f);
	} else {
		fputs(v, f);
	}
	fputc(sep, f);
}

char *vnp_hex(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	char *s = malloc(2 * n + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * n] = 0;
	return s;
}
