/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sbuf: a bounded, growable text buffer for status and report output.
 * Appends never overflow: on allocation failure the buffer is marked failed
 * and further appends are ignored (sbuf_failed() tells).
 */
#ifndef XNTS_SBUF_H
#define XNTS_SBUF_H

#include <stddef.h>

struct sbuf {
	char *buf;
	size_t len, cap, max;
	int failed;
};

void sbuf_init(struct sbuf *s, size_t max);
void sbuf_free(struct sbuf *s);
void sbuf_printf(struct sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal, quotes included, with escapes. */
void sbuf_json_str(struct sbuf *s, const char *str);
int sbuf_failed(const struct sbuf *s);

#endif
