// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"

struct ctl_conn {
	struct ctl *ctl;
	int fd;
	int pending;
	int closing;
	struct loop_op io;
	struct loop_op timer;
	size_t len;
	struct sbuf out;
	size_t off;
	char req[];		/* proto.max_request + 1 */
};

struct ctl {
	struct loop *loop;
	int fd;
	char path[108];
	struct loop_op accept_op;
	struct ctl_proto proto;
	unsigned int n_conns;
	unsigned long long refused;
	ctl_render_fn render;
	void *arg;
};

static const struct ctl_proto control_proto = {
	.end = "\n",
	.max_request = CTL_MAX_REQUEST,
	.max_conns = CTL_MAX_CONNS,
	.timeout_ms = CTL_TIMEOUT_MS,
};

static void conn_free_if_idle(struct ctl_conn *c)
{
	if (c->pending)
		return;
	c->ctl->n_conns--;
	close(c->fd);
	sbuf_free(&c->out);
	free(c);
}

static void conn_end(struct ctl_conn *c)
{
	if (!c->closing) {
		c->closing = 1;
		loop_cancel(c->ctl->loop, &c->io);
		loop_timeout_cancel(c->ctl->loop, &c->timer);
	}
	conn_free_if_idle(c);
}

static void conn_send_more(struct ctl_conn *c)
{
	if (c->off >= c->out.len) {
		conn_end(c);
		return;
	}
	c->pending++;
	io_uring_prep_send(loop_sqe(c->ctl->loop, &c->io), c->fd, c->out.buf + c->off,
			   c->out.len - c->off, MSG_NOSIGNAL);
}

static void conn_io(struct loop_op *op, int res, unsigned int flags)
{
	struct ctl_conn *c = (struct ctl_conn *)((char *)op - offsetof(struct ctl_conn, io));
	size_t max = c->ctl->proto.max_request;
	char *end;

	(void)flags;
	c->pending--;
	if (c->closing || res <= 0) {
		conn_end(c);
		return;
	}
	if (c->out.buf || c->out.failed) {
		c->off += (size_t)res;
		conn_send_more(c);
		return;
	}
	c->len += (size_t)res;
	c->req[c->len] = 0;
	end = memmem(c->req, c->len, c->ctl->proto.end, strlen(c->ctl->proto.end));
	if (!end && c->len < max) {
		c->pending++;
		loop_read(c->ctl->loop, &c->io, c->fd, c->req + c->len,
			  (unsigned int)(max - c->len));
		return;
	}
	/* Too long without its end: rendered as it is, which the renderer refuses. */
	if (end)
		*end = 0;
	c->ctl->render(c->ctl->arg, c->req, &c->out);
	if (sbuf_failed(&c->out) || !c->out.buf) {
		conn_end(c);
		return;
	}
	conn_send_more(c);
}

static void conn_timer(struct loop_op *op, int res, unsigned int flags)
{
	struct ctl_conn *c = (struct ctl_conn *)((char *)op - offsetof(struct ctl_conn, timer));

	(void)flags;
	c->pending--;
	/* The whole exchange is bounded, sending included: a reader that stalls is cut off. */
	if (res == -ETIME) {
		conn_end(c);
		return;
	}
	if (c->closing)
		conn_free_if_idle(c);
}

static void accept_done(struct loop_op *op, int res, unsigned int flags)
{
	struct ctl *ctl = (struct ctl *)((char *)op - offsetof(struct ctl, accept_op));
	struct ctl_conn *c;

	if (res >= 0) {
		c = ctl->n_conns < ctl->proto.max_conns ?
			calloc(1, sizeof(*c) + ctl->proto.max_request + 1) : NULL;
		if (!c) {
			ctl->refused++;
			close(res);
		} else {
			ctl->n_conns++;
			c->ctl = ctl;
			c->fd = res;
			c->io.cb = conn_io;
			c->timer.cb = conn_timer;
			sbuf_init(&c->out, 16 << 20);
			c->pending = 2;
			loop_read(ctl->loop, &c->io, c->fd, c->req,
				  (unsigned int)ctl->proto.max_request);
			loop_timeout_ms(ctl->loop, &c->timer, ctl->proto.timeout_ms);
		}
	}
	if (res == -ECANCELED)
		return;
	if (!(flags & IORING_CQE_F_MORE))
		io_uring_prep_multishot_accept(loop_sqe(ctl->loop, &ctl->accept_op),
					       ctl->fd, NULL, NULL, SOCK_CLOEXEC);
}

static struct ctl *ctl_alloc(struct loop *l, const struct ctl_proto *proto,
			     ctl_render_fn render, void *arg)
{
	struct ctl *ctl = calloc(1, sizeof(*ctl));

	if (!ctl)
		return NULL;
	ctl->loop = l;
	ctl->proto = *proto;
	ctl->render = render;
	ctl->arg = arg;
	ctl->accept_op.cb = accept_done;
	ctl->fd = -1;
	return ctl;
}

static void ctl_start(struct ctl *ctl)
{
	io_uring_prep_multishot_accept(loop_sqe(ctl->loop, &ctl->accept_op), ctl->fd, NULL,
				       NULL, SOCK_CLOEXEC);
}

struct ctl *ctl_new(struct loop *l, const char *path, mode_t mode,
		    ctl_render_fn render, void *arg, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl *ctl;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "observation-path %s: too long", path);
		return NULL;
	}
	ctl = ctl_alloc(l, &control_proto, render, arg);
	if (!ctl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	memcpy(sun.sun_path, path, strlen(path));
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* A stale socket from an earlier run would make bind fail. */
	unlink(path);
	if (ctl->fd < 0 || bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    chmod(path, mode) || listen(ctl->fd, 16)) {
		snprintf(err, errlen, "observation-path %s: %s", path, strerror(errno));
		if (ctl->fd >= 0)
			close(ctl->fd);
		free(ctl);
		return NULL;
	}
	ctl_start(ctl);
	return ctl;
}

struct ctl *ctl_new_tcp(struct loop *l, const struct sockaddr *sa, socklen_t salen,
			const struct ctl_proto *proto, ctl_render_fn render, void *arg,
			char *err, size_t errlen)
{
	struct ctl *ctl = ctl_alloc(l, proto, render, arg);
	int one = 1;

	if (!ctl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ctl->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0 || setsockopt(ctl->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ctl->fd, sa, salen) || listen(ctl->fd, 16)) {
		snprintf(err, errlen, "%s", strerror(errno));
		if (ctl->fd >= 0)
			close(ctl->fd);
		free(ctl);
		return NULL;
	}
	ctl_start(ctl);
	return ctl;
}

unsigned long long ctl_refused(const struct ctl *ctl)
{
	return ctl->refused;
}

void ctl_free(struct ctl *ctl)
{
	if (!ctl)
		return;
	close(ctl->fd);
	if (ctl->path[0])
		unlink(ctl->path);
	free(ctl);
}
