// SPDX-License-Identifier: GPL-2.0
/* leap-seconds.list parser: see leapsec.h for the contract. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "leapsec.h"
#include "ntp.h"

#define HASH_WORDS 5
/* Room for the digits the hash covers: two 12-digit values per line. */
#define DIGITS_MAX ((LEAPSEC_MAX + 2) * 32)

struct parse {
	char digits[DIGITS_MAX];
	size_t n_digits;
	unsigned int line;
	char *err;
	size_t errlen;
};

static int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || !p->errlen)
		return -1;
	n = snprintf(p->err, p->errlen, "line %u: ", p->line);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *skip_blank(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++;
	return s;
}

/*
 * A decimal field of 1..12 digits. Its digits are appended to the hash input
 * when hashed is set. Returns the position after it, or NULL.
 */
static const char *number(struct parse *p, const char *s, const char *end, int64_t *out,
			  bool hashed)
{
	const char *start = s;
	int64_t v = 0;

	while (s < end && *s >= '0' && *s <= '9' && s - start < 12) {
		v = v * 10 + (*s - '0');
		s++;
	}
	if (s == start || (s < end && *s >= '0' && *s <= '9'))
		return NULL;
	if (s < end && *s != ' ' && *s != '\t' && *s != '\r' && *s != '#')
		return NULL;
	if (hashed) {
		if (p->n_digits + (size_t)(s - start) > sizeof(p->digits))
			return NULL;
		memcpy(p->digits + p->n_digits, start, s - start);
		p->n_digits += s - start;
	}
	*out = v;
	return s;
}

/* Rest of a line must be blank or a comment. */
static bool line_done(const char *s, const char *end)
{
	s = skip_blank(s, end);
	return s == end || *s == '#';
}

static int hex_word(const char **sp, const char *end, uint32_t *out)
{
	const char *s = *sp;
	uint32_t v = 0;
	int n = 0;

	while (s < end && n < 9) {
		int c = *s, d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			break;
		v = (v << 4) | (uint32_t)d;
		s++;
		n++;
	}
	if (n == 0 || n > 8)
		return -1;
	*sp = s;
	*out = v;
	return 0;
}

static int check_hash(struct parse *p, const uint32_t want[HASH_WORDS])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (!EVP_Digest(p->digits, p->n_digits, md, &md_len, EVP_sha1(), NULL) || md_len != 20)
		return fail(p, "SHA-1 unavailable");
	for (int i = 0; i < HASH_WORDS; i++) {
		uint32_t w = (uint32_t)md[4 * i] << 24 | (uint32_t)md[4 * i + 1] << 16 |
			     (uint32_t)md[4 * i + 2] << 8 | md[4 * i + 3];

		if (w != want[i])
			return fail(p, "hash does not match the data");
	}
	return 0;
}

static int parse_table(const char *buf, size_t len, struct leapsec_table *t, char *err,
		       size_t errlen)
{
	struct parse p = { .err = err, .errlen = errlen };
	const char *s = buf, *end = buf + len;
	uint32_t hash[HASH_WORDS];
	bool have_hash = false, have_expiry = false;
	int64_t updated = 0, expires = 0;

	memset(t, 0, sizeof(*t));
	if (err && errlen)
		err[0] = '\0';
	if (len > LEAPSEC_FILE_MAX)
		return fail(&p, "file larger than %d bytes", LEAPSEC_FILE_MAX);
	while (s < end) {
		const char *eol = memchr(s, '\n', end - s);
		const char *le = eol ? eol : end;
		int64_t a, b;

		p.line++;
		if (le - s > LEAPSEC_LINE_MAX)
			return fail(&p, "line longer than %d bytes", LEAPSEC_LINE_MAX);
		if (memchr(s, '\0', le - s))
			return fail(&p, "NUL byte");
		if (have_hash && !line_done(s, le))
			return fail(&p, "data after the hash line");
		if (le - s >= 2 && s[0] == '#' && (s[1] == '$' || s[1] == '@')) {
			const char *q = skip_blank(s + 2, le);
			bool is_update = s[1] == '$';

			if (is_update ? updated != 0 : have_expiry)
				return fail(&p, "repeated #%c line", s[1]);
			q = number(&p, q, le, &a, true);
			if (!q || !line_done(q, le) || a == 0)
				return fail(&p, "bad #%c time", s[1]);
			if (is_update)
				updated = a;
			else
				expires = a;
			have_expiry |= !is_update;
		} else if (le - s >= 2 && s[0] == '#' && s[1] == 'h') {
			const char *q = s + 2;

			for (int i = 0; i < HASH_WORDS; i++) {
				q = skip_blank(q, le);
				if (hex_word(&q, le, &hash[i]))
					return fail(&p, "bad hash word %d", i + 1);
			}
			if (!line_done(q, le))
				return fail(&p, "junk after the hash");
			have_hash = true;
		} else if (s < le && s[0] == '#') {
			/* comment */
		} else if (!line_done(s, le)) {
			const char *q = number(&p, skip_blank(s, le), le, &a, true);

			if (!q)
				return fail(&p, "bad NTP time");
			q = number(&p, skip_blank(q, le), le, &b, true);
			if (!q || !line_done(q, le) || b > 1000)
				return fail(&p, "bad TAI offset");
			if (t->n == LEAPSEC_MAX)
				return fail(&p, "more than %d entries", LEAPSEC_MAX);
			if (t->n && a <= t->e[t->n - 1].ntp)
				return fail(&p, "times not increasing");
			if (t->n && b != t->e[t->n - 1].tai + 1 && b != t->e[t->n - 1].tai - 1)
				return fail(&p, "TAI offset changes by other than one second");
			t->e[t->n].ntp = a;
			t->e[t->n].tai = (int)b;
			t->n++;
		}
		s = eol ? eol + 1 : end;
	}
	if (!have_expiry)
		return fail(&p, "no expiry (#@) line");
	if (!t->n)
		return fail(&p, "no leap second entries");
	if (have_hash && check_hash(&p, hash))
		return -1;
	t->updated = updated;
	t->expires = expires;
	t->has_hash = have_hash;
	return 0;
}

int leapsec_parse(const char *buf, size_t len, struct leapsec_table *t, char *err,
		  size_t errlen)
{
	int r = parse_table(buf, len, t, err, errlen);

	if (r)
		memset(t, 0, sizeof(*t));
	return r;
}

bool leapsec_expired(const struct leapsec_table *t, int64_t unix_now)
{
	return unix_now + NTP_UNIX_OFFSET >= t->expires;
}

int leapsec_tai_offset(const struct leapsec_table *t, int64_t unix_now)
{
	int64_t ntp = unix_now + NTP_UNIX_OFFSET;
	int tai = 0;

	for (size_t i = 0; i < t->n && t->e[i].ntp <= ntp; i++)
		tai = t->e[i].tai;
	return tai;
}

int leapsec_next(const struct leapsec_table *t, int64_t unix_now, int64_t *when)
{
	int64_t ntp = unix_now + NTP_UNIX_OFFSET;

	for (size_t i = 1; i < t->n; i++) {
		if (t->e[i].ntp > ntp) {
			*when = t->e[i].ntp - NTP_UNIX_OFFSET;
			return t->e[i].tai > t->e[i - 1].tai ? 1 : -1;
		}
	}
	return 0;
}
