/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vnpki-authority: just enough JSON (RFC 8259) to read a request file: the whole text must
 * be one well-formed object; the string values of a few top-level members are returned. */
#include <string.h>

#include "authority.h"
#include "messages.h"
#include "rv.h"

#define MAX_DEPTH 16
#define VALUE_MAX 64

static const char j_too_long[] = AU_J_TOO_LONG;

struct parser {
	const char *p, *end;
	const char *reason;
};

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int fail(struct parser *ps, const char *reason)
{
	if (!ps->reason)
		ps->reason = reason;
	return -1;
}

static int hex4(struct parser *ps, unsigned *ret)
{
	unsigned v = 0;

	if (ps->end - ps->p < 4)
		return fail(ps, AU_J_SYNTAX);
	for (int i = 0; i < 4; i++) {
		char c = *ps->p++;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return fail(ps, AU_J_SYNTAX);
	}
	*ret = v;
	return 0;
}

/* Append code point cp as UTF-8 to out (when out is not NULL). */
static int put_utf8(struct parser *ps, unsigned cp, char *out, size_t *len)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (char)(0xF0 | cp >> 18);
		b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	if (out) {
		if (*len + n > VALUE_MAX - 1)
			return fail(ps, j_too_long);
		memcpy(out + *len, b, n);
	}
	*len += n;
	return 0;
}

/* A string at ps->p ('"'); unescaped into out (VALUE_MAX bytes) unless out is NULL. */
static int parse_string(struct parser *ps, char *out)
{
	size_t len = 0;

	if (ps->p >= ps->end || *ps->p != '"')
		return fail(ps, AU_J_SYNTAX);
	ps->p++;
	for (;;) {
		unsigned char c;
		unsigned cp;

		if (ps->p >= ps->end)
			return fail(ps, AU_J_SYNTAX);
		c = (unsigned char)*ps->p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(ps, AU_J_SYNTAX);
		if (c != '\\') {
			/* raw bytes, UTF-8 included, are kept as they are */
			if (out) {
				if (len + 1 > VALUE_MAX - 1)
					return fail(ps, j_too_long);
				out[len] = (char)c;
			}
			len++;
			continue;
		}
		if (ps->p >= ps->end)
			return fail(ps, AU_J_SYNTAX);
		switch (*ps->p++) {
		case '"': cp = '"'; break;
		case '\\': cp = '\\'; break;
		case '/': cp = '/'; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if (hex4(ps, &cp) < 0)
				return -1;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return fail(ps, AU_J_SYNTAX);
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				unsigned lo;

				if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
					return fail(ps, AU_J_SYNTAX);
				ps->p += 2;
				if (hex4(ps, &lo) < 0)
					return -1;
				if (lo < 0xDC00 || lo > 0xDFFF)
					return fail(ps, AU_J_SYNTAX);
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			}
			if (cp == 0)
				return fail(ps, AU_J_SYNTAX); /* no NUL inside our C strings */
			break;
		default:
			return fail(ps, AU_J_SYNTAX);
		}
		if (put_utf8(ps, cp, out, &len) < 0)
			return -1;
	}
	if (out)
		out[len] = '\0';
	return 0;
}

static int parse_number(struct parser *ps)
{
	const char *start;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end)
		return fail(ps, AU_J_SYNTAX);
	if (*ps->p == '0') {
		ps->p++;
	} else if (*ps->p >= '1' && *ps->p <= '9') {
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	} else {
		return fail(ps, AU_J_SYNTAX);
	}
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		start = ps->p;
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
		if (ps->p == start)
			return fail(ps, AU_J_SYNTAX);
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		start = ps->p;
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
		if (ps->p == start)
			return fail(ps, AU_J_SYNTAX);
	}
	return 0;
}

static int parse_literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return fail(ps, AU_J_SYNTAX);
	ps->p += n;
	return 0;
}

static int parse_value(struct parser *ps, int depth);

/* An object or array at ps->p; members are skipped. */
static int parse_container(struct parser *ps, int depth)
{
	char close = *ps->p == '{' ? '}' : ']';
	bool object = close == '}';

	if (depth >= MAX_DEPTH)
		return fail(ps, AU_J_DEPTH);
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return 0;
	}
	for (;;) {
		if (object) {
			skip_ws(ps);
			if (parse_string(ps, NULL) < 0)
				return -1;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p++ != ':')
				return fail(ps, AU_J_SYNTAX);
		}
		if (parse_value(ps, depth + 1) < 0)
			return -1;
		skip_ws(ps);
		if (ps->p >= ps->end)
			return fail(ps, AU_J_SYNTAX);
		if (*ps->p == close) {
			ps->p++;
			return 0;
		}
		if (*ps->p++ != ',')
			return fail(ps, AU_J_SYNTAX);
	}
}

static int parse_value(struct parser *ps, int depth)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, AU_J_SYNTAX);
	switch (*ps->p) {
	case '{':
	case '[':
		return parse_container(ps, depth);
	case '"':
		return parse_string(ps, NULL);
	case 't':
		return parse_literal(ps, "true");
	case 'f':
		return parse_literal(ps, "false");
	case 'n':
		return parse_literal(ps, "null");
	default:
		return parse_number(ps);
	}
}

int au_json_strings(const char *text, size_t len, const char *const *keys, size_t nkeys,
		    char (*values)[64], bool *found, const char **ret_reason)
{
	struct parser ps = { .p = text, .end = text + len, .reason = NULL };
	char name[VALUE_MAX];
	int rv = VNP_E_MALFORMED;

	for (size_t i = 0; i < nkeys; i++) {
		values[i][0] = '\0';
		found[i] = false;
	}
	/* a UTF-8 byte order mark is tolerated */
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
		ps.p += 3;
	skip_ws(&ps);
	if (ps.p >= ps.end || *ps.p != '{') {
		fail(&ps, AU_J_NOT_OBJECT);
		goto out;
	}
	ps.p++;
	skip_ws(&ps);
	if (ps.p < ps.end && *ps.p == '}') {
		ps.p++;
		goto done;
	}
	for (;;) {
		size_t k = nkeys;
		const char *save;

		skip_ws(&ps);
		save = ps.p;
		/* a name longer than ours cannot be one of ours: parse it without keeping it */
		if (parse_string(&ps, name) < 0) {
			if (ps.reason != j_too_long)
				goto out;
			ps.reason = NULL;
			ps.p = save;
			if (parse_string(&ps, NULL) < 0)
				goto out;
			name[0] = '\0';
		}
		for (size_t i = 0; i < nkeys && name[0]; i++)
			if (!strcmp(name, keys[i]))
				k = i;
		skip_ws(&ps);
		if (ps.p >= ps.end || *ps.p++ != ':') {
			fail(&ps, AU_J_SYNTAX);
			goto out;
		}
		skip_ws(&ps);
		if (k < nkeys) {
			if (found[k]) {
				fail(&ps, AU_J_DUPLICATE);
				goto out;
			}
			if (ps.p >= ps.end || *ps.p != '"') {
				fail(&ps, AU_J_NOT_STRING);
				goto out;
			}
			if (parse_string(&ps, values[k]) < 0)
				goto out;
			found[k] = true;
		} else if (parse_value(&ps, 1) < 0) {
			goto out;
		}
		skip_ws(&ps);
		if (ps.p >= ps.end) {
			fail(&ps, AU_J_SYNTAX);
			goto out;
		}
		if (*ps.p == '}') {
			ps.p++;
			break;
		}
		if (*ps.p++ != ',') {
			fail(&ps, AU_J_SYNTAX);
			goto out;
		}
	}
done:
	skip_ws(&ps);
	if (ps.p != ps.end) {
		fail(&ps, AU_J_SYNTAX);
		goto out;
	}
	rv = VNP_OK;
out:
	if (rv != VNP_OK && ret_reason)
		*ret_reason = ps.reason ? ps.reason : AU_J_SYNTAX;
	return rv;
}
