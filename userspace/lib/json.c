// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

struct parser {
	const char *start, *p, *end;
	char *err;
	size_t errlen;
	int failed;
};

static void fail(struct parser *ps, const char *what)
{
	if (!ps->failed)
		snprintf(ps->err, ps->errlen, "JSON: %s at byte %zu", what,
			 (size_t)(ps->p - ps->start));
	ps->failed = 1;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' ||
				   *ps->p == '\r'))
		ps->p++;
}

static int hex4(struct parser *ps, unsigned int *out)
{
	unsigned int v = 0;

	if (ps->end - ps->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = *ps->p++;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned int)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* At the opening quote. The decoded text is never longer than the source. */
static char *parse_string(struct parser *ps)
{
	const char *start = ++ps->p;
	char *out, *o;

	while (ps->p < ps->end && *ps->p != '"') {
		if (*ps->p == '\\' && ps->p + 1 < ps->end)
			ps->p++;
		ps->p++;
	}
	if (ps->p >= ps->end) {
		fail(ps, "unterminated string");
		return NULL;
	}
	out = malloc((size_t)(ps->p - start) + 1);
	if (!out) {
		fail(ps, "out of memory");
		return NULL;
	}
	ps->p = start;
	o = out;
	while (*ps->p != '"') {
		unsigned char c = (unsigned char)*ps->p++;
		unsigned int cp, lo;

		if (c < 0x20) {
			fail(ps, "control character in string");
			goto bad;
		}
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		c = (unsigned char)*ps->p++;
		switch (c) {
		case '"': case '\\': case '/':
			*o++ = (char)c;
			break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (hex4(ps, &cp))
				goto bad_escape;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u')
					goto bad_escape;
				ps->p += 2;
				if (hex4(ps, &lo) || lo < 0xdc00 || lo >= 0xe000)
					goto bad_escape;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				goto bad_escape;
			}
			if (!cp)	/* NUL would cut the string short */
				goto bad_escape;
			o += utf8_put(o, cp);
			break;
		default:
			goto bad_escape;
		}
	}
	ps->p++;
	*o = '\0';
	return out;
bad_escape:
	fail(ps, "bad escape in string");
bad:
	free(out);
	return NULL;
}

static int parse_number(struct parser *ps, struct json *j)
{
	const char *s = ps->p;
	char *endp;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
		return -1;
	while (ps->p < ps->end && ((*ps->p >= '0' && *ps->p <= '9') || *ps->p == '.' ||
				   *ps->p == 'e' || *ps->p == 'E' || *ps->p == '+' ||
				   *ps->p == '-'))
		ps->p++;
	j->str = strndup(s, (size_t)(ps->p - s));
	if (!j->str)
		return -1;
	errno = 0;
	j->num = strtod(j->str, &endp);
	if (*endp || endp == j->str)
		return -1;
	return 0;
}

static int literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
		return -1;
	ps->p += n;
	return 0;
}

static struct json *parse_value(struct parser *ps, int depth);

/* Elements or members up to close; objects read a key before each value. */
static int parse_container(struct parser *ps, struct json *j, char close, int depth)
{
	struct json **tail = &j->child;
	char *key = NULL;

	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return 0;
	}
	for (;;) {
		struct json *v;

		skip_ws(ps);
		if (close == '}') {
			if (ps->p >= ps->end || *ps->p != '"') {
				fail(ps, "expected a member name");
				return -1;
			}
			key = parse_string(ps);
			if (!key)
				return -1;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				free(key);
				fail(ps, "expected ':'");
				return -1;
			}
			ps->p++;
		}
		v = parse_value(ps, depth + 1);
		if (!v) {
			free(key);
			return -1;
		}
		v->key = key;
		key = NULL;
		*tail = v;
		tail = &v->next;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return 0;
		}
		fail(ps, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
		return -1;
	}
}

static struct json *parse_value(struct parser *ps, int depth)
{
	struct json *j;

	if (depth > JSON_MAX_DEPTH) {
		fail(ps, "nested too deeply");
		return NULL;
	}
	skip_ws(ps);
	if (ps->p >= ps->end) {
		fail(ps, "unexpected end");
		return NULL;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		fail(ps, "out of memory");
		return NULL;
	}
	switch (*ps->p) {
	case '{':
		j->type = JSON_OBJECT;
		if (parse_container(ps, j, '}', depth))
			goto bad;
		break;
	case '[':
		j->type = JSON_ARRAY;
		if (parse_container(ps, j, ']', depth))
			goto bad;
		break;
	case '"':
		j->type = JSON_STRING;
		j->str = parse_string(ps);
		if (!j->str)
			goto bad;
		break;
	case 't':
		j->type = JSON_TRUE;
		if (literal(ps, "true"))
			goto bad_token;
		break;
	case 'f':
		j->type = JSON_FALSE;
		if (literal(ps, "false"))
			goto bad_token;
		break;
	case 'n':
		j->type = JSON_NULL;
		if (literal(ps, "null"))
			goto bad_token;
		break;
	default:
		j->type = JSON_NUMBER;
		if (parse_number(ps, j))
			goto bad_token;
	}
	return j;
bad_token:
	fail(ps, "unexpected token");
bad:
	json_free(j);
	return NULL;
}

struct json *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct parser ps = { .start = text, .p = text, .end = text + len, .err = err,
			     .errlen = errlen };
	struct json *j = parse_value(&ps, 0);

	if (!j)
		return NULL;
	skip_ws(&ps);
	if (ps.p != ps.end) {
		fail(&ps, "trailing data");
		json_free(j);
		return NULL;
	}
	return j;
}

void json_free(struct json *j)
{
	while (j) {
		struct json *next = j->next;

		json_free(j->child);	/* depth is bounded by the parser */
		free(j->key);
		free(j->str);
		free(j);
		j = next;
	}
}

const struct json *json_get(const struct json *o, const char *key)
{
	if (!o || o->type != JSON_OBJECT)
		return NULL;
	for (const struct json *m = o->child; m; m = m->next)
		if (!strcmp(m->key, key))
			return m;
	return NULL;
}

double json_num(const struct json *o, const char *key, double dflt)
{
	const struct json *m = json_get(o, key);

	return m && m->type == JSON_NUMBER ? m->num : dflt;
}

const char *json_str(const struct json *o, const char *key, const char *dflt)
{
	const struct json *m = json_get(o, key);

	return m && m->type == JSON_STRING ? m->str : dflt;
}

int json_bool(const struct json *o, const char *key, int dflt)
{
	const struct json *m = json_get(o, key);

	if (m && m->type == JSON_TRUE)
		return 1;
	if (m && m->type == JSON_FALSE)
		return 0;
	return dflt;
}

unsigned long long json_u64(const struct json *o, const char *key, unsigned long long dflt)
{
	const struct json *m = json_get(o, key);
	unsigned long long v;
	char *endp;

	if (!m || m->type != JSON_NUMBER || m->str[0] == '-')
		return dflt;
	errno = 0;
	v = strtoull(m->str, &endp, 10);
	if (*endp || errno)
		return m->num >= 0 && m->num < 18446744073709551616.0 ?
			(unsigned long long)m->num : dflt;
	return v;
}

size_t json_len(const struct json *a)
{
	size_t n = 0;

	if (a && (a->type == JSON_ARRAY || a->type == JSON_OBJECT))
		for (const struct json *e = a->child; e; e = e->next)
			n++;
	return n;
}
