// SPDX-License-Identifier: GPL-2.0
/*
 * Strict TOML 1.0 parser. A validation pass over the raw bytes first rejects
 * invalid UTF-8 and control characters anywhere (TOML allows only tab and
 * LF/CRLF raw), so the recursive-descent parser below only sees clean text.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "toml.h"
#include "utf8.h"

struct parser {
	const char *name;
	const unsigned char *s;
	size_t n, i;
	unsigned int line, col;
	char *err;
	size_t errlen;
	bool failed;
	unsigned int depth;
};

/* A dynamically grown byte buffer for decoded strings. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static int errf_at(struct parser *p, unsigned int line, unsigned int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int errf_at(struct parser *p, unsigned int line, unsigned int col, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return -1;
	p->failed = true;
	if (!p->err || !p->errlen)
		return -1;
	n = snprintf(p->err, p->errlen, "%s:%u:%u: ", p->name, line, col);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

#define errf(p, ...) errf_at(p, (p)->line, (p)->col, __VA_ARGS__)

static int sbuf_put(struct sbuf *b, const void *d, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 32;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Length of the valid UTF-8 sequence at s, or 0 (overlong, surrogate, >U+10FFFF). */
static size_t utf8_valid(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, k;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Reject invalid UTF-8 and raw control characters before parsing. */
static int validate_text(struct parser *p)
{
	unsigned int line = 1, col = 1;
	size_t i = 0;

	while (i < p->n) {
		unsigned char c = p->s[i];
		size_t l;

		if (c == '\n') {
			line++, col = 1, i++;
			continue;
		}
		if (c == '\r') {
			if (i + 1 < p->n && p->s[i + 1] == '\n') {
				i++;
				continue;
			}
			return errf_at(p, line, col, "carriage return not followed by newline");
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return errf_at(p, line, col, "control character U+%04X not allowed", c);
		l = utf8_valid(p->s + i, p->n - i);
		if (!l)
			return errf_at(p, line, col, "invalid UTF-8");
		i += l;
		col++;
	}
	return 0;
}

static int peek(const struct parser *p)
{
	return p->i < p->n ? p->s[p->i] : -1;
}

static int peek_at(const struct parser *p, size_t off)
{
	return p->i + off < p->n ? p->s[p->i + off] : -1;
}

/* Consume one byte, keeping line and column (in characters) current. */
static void adv(struct parser *p)
{
	unsigned char c;

	if (p->i >= p->n)
		return;
	c = p->s[p->i++];
	if (c == '\n') {
		p->line++;
		p->col = 1;
	} else if ((c & 0xc0) != 0x80) {
		p->col++;
	}
}

static void advn(struct parser *p, size_t n)
{
	while (n--)
		adv(p);
}

static void skip_ws(struct parser *p)
{
	while (peek(p) == ' ' || peek(p) == '\t')
		adv(p);
}

static bool at_newline(const struct parser *p)
{
	return peek(p) == '\n' || (peek(p) == '\r' && peek_at(p, 1) == '\n');
}

static void skip_newline(struct parser *p)
{
	if (peek(p) == '\r')
		adv(p);
	adv(p);
}

static void skip_comment(struct parser *p)
{
	if (peek(p) != '#')
		return;
	while (p->i < p->n && !at_newline(p))
		adv(p);
}

/* Whitespace, comments and newlines, as allowed between array elements. */
static void skip_ws_nl(struct parser *p)
{
	for (;;) {
		skip_ws(p);
		skip_comment(p);
		if (!at_newline(p))
			return;
		skip_newline(p);
	}
}

/* ---- tree ---- */

static struct toml_node *node_new(struct parser *p, enum toml_type type,
				  unsigned int line, unsigned int col)
{
	struct toml_node *n = calloc(1, sizeof(*n));

	if (!n) {
		errf_at(p, line, col, "out of memory");
		return NULL;
	}
	n->type = type;
	n->line = line;
	n->col = col;
	return n;
}

void toml_free(struct toml_node *node)
{
	while (node) {
		struct toml_node *next = node->next;

		toml_free(node->child);
		free(node->key);
		/* Values may be secrets (accepted-pool-authentication-tokens). */
		if (node->str)
			OPENSSL_cleanse(node->str, node->len);
		free(node->str);
		free(node);
		node = next;
	}
}

static int node_append(struct parser *p, struct toml_node *parent, struct toml_node *child)
{
	if (parent->count >= TOML_MAX_ENTRIES)
		return errf_at(p, child->line, child->col, "more than %d entries in one %s",
			       TOML_MAX_ENTRIES, toml_type_name(parent->type));
	if (parent->last)
		parent->last->next = child;
	else
		parent->child = child;
	parent->last = child;
	parent->count++;
	return 0;
}

struct toml_node *toml_get(const struct toml_node *table, const char *key)
{
	struct toml_node *c;

	if (!table || table->type != TOML_TABLE)
		return NULL;
	for (c = table->child; c; c = c->next)
		if (c->key && !strcmp(c->key, key))
			return c;
	return NULL;
}

const char *toml_type_name(enum toml_type type)
{
	switch (type) {
	case TOML_TABLE: return "table";
	case TOML_ARRAY: return "array";
	case TOML_STRING: return "string";
	case TOML_INT: return "integer";
	case TOML_FLOAT: return "float";
	case TOML_BOOL: return "boolean";
	}
	return "?";
}

/* ---- strings ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* An escape after the backslash, which has been consumed. */
static int parse_escape(struct parser *p, struct sbuf *b, unsigned int line, unsigned int col)
{
	int c = peek(p);
	char out[4];
	uint32_t cp = 0;
	int digits, k;

	switch (c) {
	case 'b': out[0] = '\b'; break;
	case 't': out[0] = '\t'; break;
	case 'n': out[0] = '\n'; break;
	case 'f': out[0] = '\f'; break;
	case 'r': out[0] = '\r'; break;
	case '"': out[0] = '"'; break;
	case '\\': out[0] = '\\'; break;
	case 'u':
	case 'U':
		digits = c == 'u' ? 4 : 8;
		adv(p);
		for (k = 0; k < digits; k++) {
			int h = hexval(peek(p));

			if (h < 0)
				return errf_at(p, line, col, "\\%c escape needs %d hex digits",
					       c, digits);
			cp = (cp << 4) | (uint32_t)h;
			adv(p);
		}
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return errf_at(p, line, col,
				       "escape \\%c%0*X is not a Unicode scalar value", c,
				       digits, cp);
		if (sbuf_put(b, out, utf8_put(out, cp)))
			return errf_at(p, line, col, "out of memory");
		return 0;
	default:
		return errf_at(p, line, col, "invalid escape sequence");
	}
	adv(p);
	if (sbuf_put(b, out, 1))
		return errf_at(p, line, col, "out of memory");
	return 0;
}

/* Copy one (possibly multi-byte) character of raw text. */
static int put_raw(struct parser *p, struct sbuf *b)
{
	size_t l = utf8_valid(p->s + p->i, p->n - p->i);

	if (sbuf_put(b, p->s + p->i, l))
		return errf(p, "out of memory");
	advn(p, l);
	return 0;
}

/*
 * A string of any of the four forms at the current position. multiline_ok is
 * false for keys. On success b holds the decoded text.
 */
static int parse_string(struct parser *p, struct sbuf *b, bool multiline_ok)
{
	unsigned int line = p->line, col = p->col;
	int q = peek(p);
	bool basic = q == '"';
	bool ml = peek_at(p, 1) == q && peek_at(p, 2) == q;

	b->len = 0;
	if (sbuf_put(b, "", 0))
		return errf(p, "out of memory");
	if (ml && !multiline_ok)
		return errf(p, "multi-line string not allowed as a key");
	if (!ml) {
		adv(p);
		for (;;) {
			int c = peek(p);

			if (c < 0 || at_newline(p))
				return errf_at(p, line, col, "unterminated string");
			if (c == q) {
				adv(p);
				return 0;
			}
			if (basic && c == '\\') {
				unsigned int el = p->line, ec = p->col;

				adv(p);
				if (parse_escape(p, b, el, ec))
					return -1;
				continue;
			}
			if (put_raw(p, b))
				return -1;
		}
	}
	advn(p, 3);
	/* A newline right after the opening delimiter is trimmed. */
	if (at_newline(p))
		skip_newline(p);
	for (;;) {
		int c = peek(p);

		if (c < 0)
			return errf_at(p, line, col, "unterminated multi-line string");
		if (c == q && peek_at(p, 1) == q && peek_at(p, 2) == q) {
			size_t run = 3;

			while (run < 6 && peek_at(p, run) == q)
				run++;
			if (run > 5)
				return errf(p, "too many quotes at the end of a multi-line string");
			/* Up to two quotes just before the closing delimiter are content. */
			if (sbuf_put(b, p->s + p->i, run - 3))
				return errf(p, "out of memory");
			advn(p, run);
			return 0;
		}
		if (basic && c == '\\') {
			unsigned int el = p->line, ec = p->col;
			size_t k = 1;

			/* Line-ending backslash: skip whitespace and newlines. */
			while (peek_at(p, k) == ' ' || peek_at(p, k) == '\t')
				k++;
			if (peek_at(p, k) == '\n' ||
			    (peek_at(p, k) == '\r' && peek_at(p, k + 1) == '\n')) {
				advn(p, k);
				while (peek(p) == ' ' || peek(p) == '\t' || at_newline(p))
					adv(p);
				continue;
			}
			adv(p);
			if (parse_escape(p, b, el, ec))
				return -1;
			continue;
		}
		if (c == '\r') {
			/* CRLF (validated) becomes LF, as TOML lets parsers normalise. */
			if (sbuf_put(b, "\n", 1))
				return errf(p, "out of memory");
			advn(p, 2);
			continue;
		}
		if (put_raw(p, b))
			return -1;
	}
}

/* ---- keys ---- */

static bool is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

struct key_part {
	char *s;
	unsigned int line, col;
};

struct key {
	struct key_part part[TOML_MAX_DEPTH];
	unsigned int n;
};

static void key_clear(struct key *k)
{
	for (unsigned int i = 0; i < k->n; i++)
		free(k->part[i].s);
	k->n = 0;
}

/* A dotted key: simple keys separated by '.', whitespace allowed around dots. */
static int parse_key(struct parser *p, struct key *k)
{
	struct sbuf b = { 0 };

	k->n = 0;
	for (;;) {
		struct key_part *kp;
		int c;

		skip_ws(p);
		c = peek(p);
		if (k->n + p->depth >= TOML_MAX_DEPTH) {
			errf(p, "key nested deeper than %d", TOML_MAX_DEPTH);
			goto fail;
		}
		kp = &k->part[k->n];
		kp->line = p->line;
		kp->col = p->col;
		if (c == '"' || c == '\'') {
			if (parse_string(p, &b, false))
				goto fail;
			if (strlen(b.p) != b.len) {
				errf_at(p, kp->line, kp->col, "key contains U+0000");
				goto fail;
			}
			kp->s = strdup(b.p);
		} else if (is_bare(c)) {
			size_t st = p->i;

			while (is_bare(peek(p)))
				adv(p);
			kp->s = strndup((const char *)p->s + st, p->i - st);
		} else {
			if (c < 0 || at_newline(p))
				errf(p, "expected a key");
			else
				errf(p, "invalid character '%c' in key",
				     c >= 0x20 && c < 0x7f ? c : '?');
			goto fail;
		}
		if (!kp->s) {
			errf(p, "out of memory");
			goto fail;
		}
		k->n++;
		skip_ws(p);
		if (peek(p) != '.')
			break;
		adv(p);
	}
	free(b.p);
	return 0;
fail:
	free(b.p);
	key_clear(k);
	return -1;
}

/* ---- numbers, booleans ---- */

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/*
 * Check digits with single underscores between digits, base given by isd.
 * Returns the stripped copy length written into out, or -1.
 */
static int strip_digits(const char *s, size_t n, bool (*isd)(int), char *out, size_t *olen)
{
	size_t k;

	if (!n || !isd((unsigned char)s[0]) || !isd((unsigned char)s[n - 1]))
		return -1;
	for (k = 0; k < n; k++) {
		if (s[k] == '_') {
			if (!isd((unsigned char)s[k + 1]))
				return -1;
			continue;
		}
		if (!isd((unsigned char)s[k]))
			return -1;
		out[(*olen)++] = s[k];
	}
	return 0;
}

static bool is_hex(int c)
{
	return hexval(c) >= 0;
}

static bool is_oct(int c)
{
	return c >= '0' && c <= '7';
}

static bool is_bin(int c)
{
	return c == '0' || c == '1';
}

static bool looks_like_datetime(const char *t, size_t n)
{
	/* YYYY-MM-DD... or HH:MM:SS... */
	if (n >= 5 && is_digit(t[0]) && is_digit(t[1]) && is_digit(t[2]) && is_digit(t[3]) &&
	    t[4] == '-')
		return true;
	return n >= 3 && is_digit(t[0]) && is_digit(t[1]) && t[2] == ':';
}

static int parse_number(struct parser *p, struct toml_node *v, const char *t, size_t n)
{
	char buf[128];
	size_t bl = 0, k = 0;
	bool neg = false, sign = false;

	if (n >= sizeof(buf))
		return errf_at(p, v->line, v->col, "number too long");
	if (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-';
		sign = true;
		k = 1;
	}
	if (n - k == 3 && (!memcmp(t + k, "inf", 3) || !memcmp(t + k, "nan", 3))) {
		v->type = TOML_FLOAT;
		v->f = t[k] == 'i' ? INFINITY : NAN;
		if (neg)
			v->f = -v->f;
		return 0;
	}
	if (n - k >= 2 && t[k] == '0' && (t[k + 1] == 'x' || t[k + 1] == 'o' || t[k + 1] == 'b')) {
		int base = t[k + 1] == 'x' ? 16 : t[k + 1] == 'o' ? 8 : 2;
		bool (*isd)(int) = base == 16 ? is_hex : base == 8 ? is_oct : is_bin;
		uint64_t val = 0;

		if (sign)
			return errf_at(p, v->line, v->col, "sign not allowed on %s integer",
				       base == 16 ? "hexadecimal" : base == 8 ? "octal" : "binary");
		if (strip_digits(t + k + 2, n - k - 2, isd, buf, &bl))
			return errf_at(p, v->line, v->col, "invalid %s integer",
				       base == 16 ? "hexadecimal" : base == 8 ? "octal" : "binary");
		for (size_t j = 0; j < bl; j++) {
			if (val > (uint64_t)INT64_MAX / base)
				return errf_at(p, v->line, v->col, "integer out of range");
			val = val * base + (uint64_t)hexval(buf[j]);
			if (val > (uint64_t)INT64_MAX)
				return errf_at(p, v->line, v->col, "integer out of range");
		}
		v->type = TOML_INT;
		v->i = (int64_t)val;
		return 0;
	}
	/* Decimal integer or float: split into int part, fraction, exponent. */
	{
		size_t ie = k, fe, ee;
		bool isfloat = false;
		uint64_t val = 0;

		while (ie < n && (is_digit(t[ie]) || t[ie] == '_'))
			ie++;
		if (ie == k)
			return errf_at(p, v->line, v->col, "invalid value");
		if (t[k] == '0' && ie - k > 1)
			return errf_at(p, v->line, v->col, "leading zeros are not allowed");
		if (sign)
			buf[bl++] = t[0];
		if (strip_digits(t + k, ie - k, is_digit, buf, &bl))
			return errf_at(p, v->line, v->col, "invalid underscore in number");
		fe = ie;
		if (fe < n && t[fe] == '.') {
			size_t st = ++fe;

			isfloat = true;
			while (fe < n && (is_digit(t[fe]) || t[fe] == '_'))
				fe++;
			buf[bl++] = '.';
			if (strip_digits(t + st, fe - st, is_digit, buf, &bl))
				return errf_at(p, v->line, v->col,
					       "a decimal point must be followed by digits");
		}
		ee = fe;
		if (ee < n && (t[ee] == 'e' || t[ee] == 'E')) {
			size_t st = ++ee;

			isfloat = true;
			buf[bl++] = 'e';
			if (ee < n && (t[ee] == '+' || t[ee] == '-'))
				buf[bl++] = t[ee++], st++;
			while (ee < n && (is_digit(t[ee]) || t[ee] == '_'))
				ee++;
			if (strip_digits(t + st, ee - st, is_digit, buf, &bl))
				return errf_at(p, v->line, v->col, "invalid exponent");
		}
		if (ee != n)
			return errf_at(p, v->line, v->col, "invalid value");
		buf[bl] = '\0';
		if (isfloat) {
			char *end;

			errno = 0;
			v->type = TOML_FLOAT;
			v->f = strtod(buf, &end);
			if (*end || (errno == ERANGE && isinf(v->f)))
				return errf_at(p, v->line, v->col, "float out of range");
			return 0;
		}
		for (size_t j = sign; j < bl; j++) {
			uint64_t d = (uint64_t)(buf[j] - '0');
			uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;

			if (val > (lim - d) / 10)
				return errf_at(p, v->line, v->col, "integer out of range");
			val = val * 10 + d;
		}
		v->type = TOML_INT;
		v->i = neg ? (int64_t)(0 - val) : (int64_t)val;
		return 0;
	}
}

/* ---- values ---- */

static int parse_value(struct parser *p, struct toml_node *v);
static int parse_keyval(struct parser *p, struct toml_node *table);

static int parse_array(struct parser *p, struct toml_node *v)
{
	v->type = TOML_ARRAY;
	v->flags = TOML_F_INLINE;
	adv(p);
	for (;;) {
		struct toml_node *e;

		skip_ws_nl(p);
		if (peek(p) == ']') {
			adv(p);
			return 0;
		}
		if (peek(p) < 0)
			return errf_at(p, v->line, v->col, "unterminated array");
		e = node_new(p, TOML_BOOL, p->line, p->col);
		if (!e)
			return -1;
		if (node_append(p, v, e)) {
			free(e);
			return -1;
		}
		if (parse_value(p, e))
			return -1;
		skip_ws_nl(p);
		if (peek(p) == ',') {
			adv(p);
			continue;
		}
		if (peek(p) == ']') {
			adv(p);
			return 0;
		}
		if (peek(p) < 0)
			return errf_at(p, v->line, v->col, "unterminated array");
		return errf(p, "expected ',' or ']' in array");
	}
}

static int parse_inline_table(struct parser *p, struct toml_node *v)
{
	v->type = TOML_TABLE;
	v->flags = 0;
	adv(p);
	skip_ws(p);
	if (peek(p) == '}') {
		adv(p);
		v->flags = TOML_F_INLINE;
		return 0;
	}
	for (;;) {
		skip_ws(p);
		if (at_newline(p))
			return errf(p, "newline not allowed in inline table");
		if (peek(p) == '}')
			return errf(p, "trailing comma not allowed in inline table");
		if (parse_keyval(p, v))
			return -1;
		skip_ws(p);
		if (peek(p) == ',') {
			adv(p);
			continue;
		}
		if (peek(p) == '}') {
			adv(p);
			v->flags = TOML_F_INLINE;
			return 0;
		}
		if (peek(p) < 0)
			return errf_at(p, v->line, v->col, "unterminated inline table");
		if (at_newline(p))
			return errf(p, "newline not allowed in inline table");
		return errf(p, "expected ',' or '}' in inline table");
	}
}

static int parse_value(struct parser *p, struct toml_node *v)
{
	int c = peek(p);
	size_t st;

	v->line = p->line;
	v->col = p->col;
	if (c == '"' || c == '\'') {
		struct sbuf b = { 0 };

		v->type = TOML_STRING;
		if (parse_string(p, &b, true)) {
			free(b.p);
			return -1;
		}
		v->str = b.p;
		v->len = b.len;
		return 0;
	}
	if (c == '[' || c == '{') {
		int r;

		if (++p->depth > TOML_MAX_DEPTH)
			return errf(p, "values nested deeper than %d", TOML_MAX_DEPTH);
		r = c == '[' ? parse_array(p, v) : parse_inline_table(p, v);
		p->depth--;
		return r;
	}
	st = p->i;
	while (is_bare(peek(p)) || peek(p) == '+' || peek(p) == '.' || peek(p) == ':')
		adv(p);
	if (p->i == st) {
		if (c < 0 || at_newline(p) || c == '#')
			return errf(p, "expected a value");
		return errf(p, "invalid value");
	}
	{
		const char *t = (const char *)p->s + st;
		size_t n = p->i - st;

		if ((n == 4 && !memcmp(t, "true", 4)) || (n == 5 && !memcmp(t, "false", 5))) {
			v->type = TOML_BOOL;
			v->b = n == 4;
			return 0;
		}
		if (looks_like_datetime(t, n))
			return errf_at(p, v->line, v->col,
				       "date and time values are not supported");
		return parse_number(p, v, t, n);
	}
}

/* ---- tables and key/value pairs ---- */

static struct toml_node *find_child(const struct toml_node *t, const char *key)
{
	return toml_get(t, key);
}

static struct toml_node *new_entry(struct parser *p, struct toml_node *parent,
				   const struct key_part *kp, enum toml_type type,
				   unsigned int flags)
{
	struct toml_node *n = node_new(p, type, kp->line, kp->col);

	if (!n)
		return NULL;
	n->key = strdup(kp->s);
	n->key_line = kp->line;
	n->key_col = kp->col;
	n->flags = flags;
	if (!n->key) {
		free(n);
		errf_at(p, kp->line, kp->col, "out of memory");
		return NULL;
	}
	if (node_append(p, parent, n)) {
		toml_free(n);
		return NULL;
	}
	return n;
}

/*
 * key = value into table. Intermediate parts of a dotted key create or reuse
 * tables that were themselves created by dotted keys; anything else (a
 * [header] table, an inline table, a value) cannot be extended this way.
 */
static int parse_keyval(struct parser *p, struct toml_node *table)
{
	struct key k;
	struct toml_node *t = table, *v;
	unsigned int i;

	if (parse_key(p, &k))
		return -1;
	for (i = 0; i + 1 < k.n; i++) {
		struct toml_node *c = find_child(t, k.part[i].s);

		if (!c) {
			c = new_entry(p, t, &k.part[i], TOML_TABLE, TOML_F_DOTTED);
			if (!c)
				goto fail;
		} else if (c->type != TOML_TABLE || !(c->flags & TOML_F_DOTTED)) {
			errf_at(p, k.part[i].line, k.part[i].col,
				"cannot add keys to '%s' (defined at %u:%u)", k.part[i].s,
				c->key_line, c->key_col);
			goto fail;
		}
		t = c;
	}
	v = find_child(t, k.part[i].s);
	if (v) {
		errf_at(p, k.part[i].line, k.part[i].col,
			"duplicate key '%s' (first defined at %u:%u)", k.part[i].s,
			v->key_line, v->key_col);
		goto fail;
	}
	skip_ws(p);
	if (peek(p) != '=') {
		errf(p, "expected '=' after key '%s'", k.part[i].s);
		goto fail;
	}
	adv(p);
	skip_ws(p);
	v = new_entry(p, t, &k.part[i], TOML_BOOL, 0);
	if (!v)
		goto fail;
	p->depth += k.n;
	if (parse_value(p, v)) {
		p->depth -= k.n;
		goto fail;
	}
	p->depth -= k.n;
	key_clear(&k);
	return 0;
fail:
	key_clear(&k);
	return -1;
}

/* What a node is, with its article, for error messages. */
static const char *what_is(const struct toml_node *n)
{
	switch (n->type) {
	case TOML_TABLE: return n->flags & TOML_F_INLINE ? "an inline table" : "a table";
	case TOML_ARRAY: return n->flags & TOML_F_AOT ? "an array of tables" : "a static array";
	case TOML_STRING: return "a string";
	case TOML_INT: return "an integer";
	case TOML_FLOAT: return "a float";
	case TOML_BOOL: return "a boolean";
	}
	return "a value";
}

/* [a.b.c] or [[a.b.c]]: returns the table that following keys go into. */
static struct toml_node *parse_header(struct parser *p, struct toml_node *root)
{
	unsigned int hl = p->line, hc = p->col;
	bool aot = peek_at(p, 1) == '[';
	struct toml_node *t = root, *c;
	struct key k;
	unsigned int i;

	advn(p, aot ? 2 : 1);
	if (parse_key(p, &k))
		return NULL;
	if (peek(p) != ']' || (aot && peek_at(p, 1) != ']')) {
		errf(p, "expected '%s' to close the table header", aot ? "]]" : "]");
		goto fail;
	}
	advn(p, aot ? 2 : 1);
	for (i = 0; i + 1 < k.n; i++) {
		c = find_child(t, k.part[i].s);
		if (!c) {
			c = new_entry(p, t, &k.part[i], TOML_TABLE, TOML_F_IMPLICIT);
			if (!c)
				goto fail;
		} else if (c->type == TOML_ARRAY && (c->flags & TOML_F_AOT)) {
			c = c->last;
		} else if (c->type != TOML_TABLE || (c->flags & TOML_F_INLINE)) {
			errf_at(p, k.part[i].line, k.part[i].col,
				"cannot add a table into '%s' (defined at %u:%u as %s)",
				k.part[i].s, c->key_line, c->key_col, what_is(c));
			goto fail;
		}
		t = c;
	}
	c = find_child(t, k.part[i].s);
	if (aot) {
		struct toml_node *e;

		if (!c) {
			c = new_entry(p, t, &k.part[i], TOML_ARRAY, TOML_F_AOT);
			if (!c)
				goto fail;
		} else if (c->type != TOML_ARRAY || !(c->flags & TOML_F_AOT)) {
			errf_at(p, k.part[i].line, k.part[i].col,
				"'%s' is already defined at %u:%u as %s, not an array of tables",
				k.part[i].s, c->key_line, c->key_col, what_is(c));
			goto fail;
		}
		e = node_new(p, TOML_TABLE, hl, hc);
		if (!e)
			goto fail;
		e->flags = TOML_F_HEADER;
		if (node_append(p, c, e)) {
			free(e);
			goto fail;
		}
		t = e;
	} else {
		if (!c) {
			c = new_entry(p, t, &k.part[i], TOML_TABLE, TOML_F_HEADER);
			if (!c)
				goto fail;
			c->line = hl;
			c->col = hc;
		} else if (c->type == TOML_TABLE && c->flags == TOML_F_IMPLICIT) {
			c->flags = TOML_F_HEADER;
			c->line = hl;
			c->col = hc;
		} else {
			errf_at(p, k.part[i].line, k.part[i].col,
				"'%s' is already defined at %u:%u", k.part[i].s, c->key_line,
				c->key_col);
			goto fail;
		}
		t = c;
	}
	key_clear(&k);
	return t;
fail:
	key_clear(&k);
	return NULL;
}

static int end_of_line(struct parser *p)
{
	skip_ws(p);
	skip_comment(p);
	if (p->i >= p->n)
		return 0;
	if (!at_newline(p))
		return errf(p, "expected end of line");
	skip_newline(p);
	return 0;
}

struct toml_node *toml_parse(const char *name, const char *buf, size_t len,
			     char *err, size_t errlen)
{
	struct parser p = {
		.name = name ? name : "<input>",
		.s = (const unsigned char *)buf,
		.n = len,
		.line = 1,
		.col = 1,
		.err = err,
		.errlen = errlen,
	};
	struct toml_node *root, *cur;

	if (err && errlen)
		err[0] = '\0';
	if (len > TOML_MAX_INPUT) {
		errf(&p, "input larger than %d bytes", TOML_MAX_INPUT);
		return NULL;
	}
	if (!buf && len) {
		errf(&p, "no input");
		return NULL;
	}
	if (validate_text(&p))
		return NULL;
	/* A UTF-8 byte order mark is tolerated. */
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		p.i = 3;
	root = node_new(&p, TOML_TABLE, 1, 1);
	if (!root)
		return NULL;
	root->flags = TOML_F_HEADER;
	cur = root;
	while (p.i < p.n) {
		skip_ws(&p);
		if (peek(&p) == '#' || at_newline(&p) || p.i >= p.n) {
			if (end_of_line(&p))
				goto fail;
			continue;
		}
		if (peek(&p) == '[') {
			cur = parse_header(&p, root);
			if (!cur)
				goto fail;
		} else if (parse_keyval(&p, cur)) {
			goto fail;
		}
		if (end_of_line(&p))
			goto fail;
	}
	return root;
fail:
	toml_free(root);
	return NULL;
}
