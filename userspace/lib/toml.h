/* SPDX-License-Identifier: GPL-2.0 */
/*
 * toml: a strict TOML 1.0 parser producing a tree of nodes.
 *
 * Contract:
 * - toml_parse() parses a whole document held in memory (the system layer's
 *   toml_load() reads a file first, userspace/sys/load.h). It returns the root
 *   table, or NULL with "FILE:LINE:COL: message" in err (line and column are
 *   1-based; the column counts Unicode characters, not bytes).
 * - Everything TOML 1.0 calls invalid is rejected: duplicate keys, tables
 *   defined twice, keys added into inline tables or static arrays, invalid
 *   UTF-8, control characters, malformed numbers and strings.
 * - Date and time values (offset date-time, local date-time, local date,
 *   local time) are rejected with a "not supported" error; nothing in the
 *   xnts configuration uses them.
 * - Newlines inside multi-line strings are returned as LF, also when the
 *   file uses CRLF. A UTF-8 byte order mark at the start is skipped.
 * - Dotted keys (a.b = 1) extend only tables that dotted keys created in the
 *   same table; tables implied by a [header] (a.b in [a.b.c]) cannot be
 *   extended by dotted keys later. TOML 1.0 leaves this case ambiguous
 *   (toml-lang/toml#771, #846); we take the strict reading.
 * - Every node records the line:column of its value and, if it is a table
 *   entry, of its key, so that later layers can point at what they reject.
 * - Strings are NUL terminated and also carry their length; a string may hold
 *   U+0000 (through \u0000), so users that want C strings must compare len
 *   with strlen(). Keys may not hold U+0000.
 * - Bounds: input size TOML_MAX_INPUT, nesting depth TOML_MAX_DEPTH (header
 *   and dotted key components plus array/inline-table nesting), entries per
 *   table or array TOML_MAX_ENTRIES.
 * - The tree is owned by the caller and released with toml_free().
 */
#ifndef XNTS_TOML_H
#define XNTS_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOML_MAX_INPUT (1024 * 1024)
#define TOML_MAX_DEPTH 64
#define TOML_MAX_ENTRIES 4096

enum toml_type {
	TOML_TABLE,
	TOML_ARRAY,
	TOML_STRING,
	TOML_INT,
	TOML_FLOAT,
	TOML_BOOL,
};

struct toml_node {
	enum toml_type type;
	unsigned int line, col;		/* where the value or header starts */
	unsigned int key_line, key_col;	/* where its key was written */
	char *key;			/* NULL for array elements and root */
	unsigned int flags;		/* TOML_F_*, parser bookkeeping */
	struct toml_node *next;		/* next entry of the parent */
	/* TOML_TABLE and TOML_ARRAY: entries in document order. */
	struct toml_node *child, *last;
	size_t count;
	/* Scalars. */
	char *str;
	size_t len;
	int64_t i;
	double f;
	bool b;
};

/* How a table or array came to exist (TOML 1.0 redefinition rules). */
#define TOML_F_IMPLICIT 0x01	/* parent of a [header] only */
#define TOML_F_HEADER 0x02	/* defined by a [header] */
#define TOML_F_DOTTED 0x04	/* created by a dotted key */
#define TOML_F_INLINE 0x08	/* inline table or static array: sealed */
#define TOML_F_AOT 0x10		/* array of tables ([[header]]) */

struct toml_node *toml_parse(const char *name, const char *buf, size_t len,
			     char *err, size_t errlen);
void toml_free(struct toml_node *node);

/* Entry key of a table (exact match), or NULL. */
struct toml_node *toml_get(const struct toml_node *table, const char *key);
/* "table", "array", "string", "integer", "float", "boolean". */
const char *toml_type_name(enum toml_type type);

#endif
