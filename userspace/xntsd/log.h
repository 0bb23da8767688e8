/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log: levelled logging to stderr or a file ([observability] log-path), one
 * line per message, prefixed with the level (in colour when ansi-colors is
 * on). The level is process-wide; messages below it cost one comparison.
 * Each line is one write(2) with O_APPEND, so lines stay whole across
 * threads, and log_reopen() swaps the file in place for logrotate.
 */
#ifndef XNTS_LOG_H
#define XNTS_LOG_H

#include <stdio.h>

enum log_level { LOGL_TRACE, LOGL_DEBUG, LOGL_INFO, LOGL_WARN, LOGL_ERROR };

extern enum log_level log_threshold;

/* 0 and *out set for trace/debug/info/warn/error, -1 otherwise. */
int log_parse_level(const char *name, enum log_level *out);
/*
 * Log to path (appended, created 0640) instead of stderr; NULL keeps stderr.
 * colors: 1 on, 0 off, -1 when the destination is a terminal. 0, or -1 with
 * errno set when the file cannot be opened.
 */
int log_setup(const char *path, int colors);
/* Open the log file again (SIGHUP, after logrotate moved it). 0, or -1 with
 * errno set, in which case the old file stays in use. */
int log_reopen(void);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same line format (no colours) to another stream: a component's own log file. */
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
