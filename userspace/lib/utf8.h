/* SPDX-License-Identifier: GPL-2.0 */
/*
 * utf8: one code point (at most U+10FFFF, not a surrogate: the caller has
 * checked) written as UTF-8. Shared by the TOML and JSON readers, whose
 * escapes decode to it. Returns the bytes written, 1 to 4.
 */
#ifndef XNTS_UTF8_H
#define XNTS_UTF8_H

#include <stddef.h>
#include <stdint.h>

static inline size_t utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

#endif
