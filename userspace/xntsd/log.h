/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log: levelled logging to stderr, one line per message, prefixed with the
 * level. The level is process-wide; messages below it cost one comparison.
 */
#ifndef XNTS_LOG_H
#define XNTS_LOG_H

#include <stdio.h>

enum log_level { LOGL_TRACE, LOGL_DEBUG, LOGL_INFO, LOGL_WARN, LOGL_ERROR };

extern enum log_level log_threshold;

/* 0 and *out set for trace/debug/info/warn/error, -1 otherwise. */
int log_parse_level(const char *name, enum log_level *out);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same line format to another stream (a component's own log file). */
void log_msg_file(FILE *f, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_at(lvl, ...)                                    \
	do {                                                \
		if ((lvl) >= log_threshold)                 \
			log_msg((lvl), __VA_ARGS__);        \
	} while (0)
#define log_trace(...) log_at(LOGL_TRACE, __VA_ARGS__)
#define log_debug(...) log_at(LOGL_DEBUG, __VA_ARGS__)
#define log_info(...) log_at(LOGL_INFO, __VA_ARGS__)
#define log_warn(...) log_at(LOGL_WARN, __VA_ARGS__)
#define log_error(...) log_at(LOGL_ERROR, __VA_ARGS__)

#endif
