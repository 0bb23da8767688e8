/* SPDX-License-Identifier: GPL-2.0 */
/*
 * json: a small, bounded JSON reader for the daemon's status document.
 *
 * json_parse() turns text into a tree of nodes or fails with a message; it
 * does no I/O. Depth is limited to JSON_MAX_DEPTH and every node is owned by
 * the tree (json_free() releases it). Numbers keep their text as well as a
 * double, so 64-bit counters are passed on exactly. Strings may hold any
 * bytes but NUL; \u escapes are decoded to UTF-8 (surrogate pairs included).
 *
 * The lookup helpers accept NULL anywhere, so a renderer can chain them over
 * a document that lacks a member and gets the fallback instead of a crash.
 */
#ifndef XNTS_JSON_H
#define XNTS_JSON_H

#include <stddef.h>

#define JSON_MAX_DEPTH 32

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY,
		 JSON_OBJECT };

struct json {
	enum json_type type;
	char *key;		/* member name inside an object, else NULL */
	char *str;		/* JSON_STRING: value; JSON_NUMBER: its text */
	double num;		/* JSON_NUMBER */
	struct json *child;	/* JSON_ARRAY, JSON_OBJECT: first element */
	struct json *next;	/* next sibling */
};

struct json *json_parse(const char *text, size_t len, char *err, size_t errlen);
void json_free(struct json *j);

/* The member key of object o, or NULL. */
const struct json *json_get(const struct json *o, const char *key);
/* Member key as a number / string / boolean, or dflt when absent or another type. */
double json_num(const struct json *o, const char *key, double dflt);
const char *json_str(const struct json *o, const char *key, const char *dflt);
int json_bool(const struct json *o, const char *key, int dflt);
/* A number member as unsigned 64-bit, exact for integer text; dflt otherwise. */
unsigned long long json_u64(const struct json *o, const char *key, unsigned long long dflt);
/* Number of elements of an array or members of an object (0 for others). */
size_t json_len(const struct json *a);

#endif
