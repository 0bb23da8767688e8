// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

enum log_level log_threshold = LOGL_INFO;

/* Where lines go: stderr until log_setup() names a file. */
static int log_fd = STDERR_FILENO;
static char *log_path;
static int log_colors;

/* SGR colours per level: trace and debug dim, info green, warn yellow,
 * error red. */
static const char *const colors_of[] = { "2", "2", "32", "33", "31" };

static const char *const names[] = { "trace", "debug", "info", "warn", "error" };

int log_parse_level(const char *name, enum log_level *out)
{
	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static int open_log(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

int log_setup(const char *path, int want_colors)
{
	if (path) {
		int fd = open_log(path);

		if (fd < 0)
			return -1;
		log_path = strdup(path);
		if (!log_path) {
			close(fd);
			errno = ENOMEM;
			return -1;
		}
		log_fd = fd;
	}
	log_colors = want_colors < 0 ? isatty(log_fd) : want_colors;
	return 0;
}

int log_reopen(void)
{
	int fd;

	if (!log_path)
		return 0;
	fd = open_log(log_path);
	if (fd < 0)
		return -1;
	/* dup2 swaps the file under log_fd atomically: a thread writing at the
	 * same moment writes whole to the old file or to the new one. */
	if (dup2(fd, log_fd) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

/* One line, newline included, into line; its length. */
static size_t format_line(char *line, size_t cap, int colors, enum log_level level,
			  const char *fmt, va_list ap)
{
	struct timespec ts;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (colors)
		n = snprintf(line, cap, "%02d:%02d:%02d.%03ld \033[%sm%-5s\033[0m ",
			     tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
			     colors_of[level], names[level]);
	else
		n = snprintf(line, cap, "%02d:%02d:%02d.%03ld %-5s ", tm.tm_hour,
			     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, names[level]);
	vsnprintf(line + n, cap - (size_t)n, fmt, ap);
	n = (int)strlen(line);
	if (n > (int)cap - 2)
		n = (int)cap - 2;
	line[n] = '\n';
	line[n + 1] = '\0';
	return (size_t)n + 1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = format_line(line, sizeof(line), log_colors, level, fmt, ap);
	va_end(ap);
	/* One write per line keeps lines whole across worker threads. */
	if (write(log_fd, line, n) < 0)
		return;	/* nowhere left to report it */
}

void log_msg_file(FILE *f, enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	format_line(line, sizeof(line), 0, level, fmt, ap);
	va_end(ap);
	fputs(line, f);
}
