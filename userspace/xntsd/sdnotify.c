// SPDX-License-Identifier: GPL-2.0
/* sdnotify: see sdnotify.h. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"

static int fd = -1;
static unsigned long long wd_ms;
static struct loop *wd_loop;
static struct loop_op wd_op;

static int parse_ull(const char *s, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || end == s || *end ? -1 : 0;
}

int sdnotify_open(char *err, size_t errlen)
{
	const char *path = getenv("NOTIFY_SOCKET"), *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	unsigned long long v;
	socklen_t len;
	size_t n;

	if (usec && (!pid || (!parse_ull(pid, &v) && v == (unsigned long long)getpid()))) {
		if (parse_ull(usec, &v) || !v) {
			snprintf(err, errlen, "WATCHDOG_USEC=%s: not a positive number", usec);
			return -1;
		}
		wd_ms = v / 2000 ? v / 2000 : 1;
	}
	if (!path || !*path)
		return 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "NOTIFY_SOCKET=%s: not a socket path or abstract name",
			 path);
		return -1;
	}
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, len)) {
		snprintf(err, errlen, "NOTIFY_SOCKET=%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
		return -1;
	}
	/* Children (none today) must not talk to the manager in our name. */
	unsetenv("NOTIFY_SOCKET");
	return 0;
}

void sdnotify_send(const char *msg)
{
	if (fd < 0)
		return;
	if (send(fd, msg, strlen(msg), MSG_NOSIGNAL) < 0)
		log_warn("sd_notify: %s", strerror(errno));
}

static void wd_done(struct loop_op *op, int res, unsigned int flags)
{
	(void)op;
	(void)flags;
	if (res != -ETIME)
		return;
	sdnotify_send("WATCHDOG=1");
	loop_timeout_ms(wd_loop, &wd_op, wd_ms);
}

void sdnotify_watchdog_start(struct loop *l)
{
	if (!wd_ms)
		return;
	wd_loop = l;
	wd_op.cb = wd_done;
	sdnotify_send("WATCHDOG=1");
	loop_timeout_ms(l, &wd_op, wd_ms);
}

unsigned long long sdnotify_watchdog_ms(void)
{
	return wd_ms;
}

void sdnotify_close(void)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
}
