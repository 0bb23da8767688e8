// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

void sbuf_init(struct sbuf *s, size_t max)
{
	memset(s, 0, sizeof(*s));
	s->max = max;
}

void sbuf_free(struct sbuf *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

int sbuf_failed(const struct sbuf *s)
{
	return s->failed;
}

static int reserve(struct sbuf *s, size_t extra)
{
	size_t need = s->len + extra + 1, cap = s->cap ? s->cap : 256;
	char *p;

	if (s->failed)
		return -1;
	if (need <= s->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	/* Doubling may overshoot max; what is needed may still fit. */
	if (cap > s->max)
		cap = s->max;
	if (need > cap || !(p = realloc(s->buf, cap))) {
		s->failed = 1;
		return -1;
	}
	s->buf = p;
	s->cap = cap;
	return 0;
}

void sbuf_printf(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(s, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(s->buf + s->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	s->len += (size_t)n;
}

void sbuf_json_str(struct sbuf *s, const char *str)
{
	sbuf_printf(s, "\"");
	for (; str && *str; str++) {
		unsigned char ch = (unsigned char)*str;

		if (ch == '"' || ch == '\\')
			sbuf_printf(s, "\\%c", ch);
		else if (ch < 0x20)
			sbuf_printf(s, "\\u%04x", ch);
		else
			sbuf_printf(s, "%c", ch);
	}
	sbuf_printf(s, "\"");
}
