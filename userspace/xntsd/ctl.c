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
	char req[CTL_MAX_REQUEST + 1];
	struct sbuf out;
	size_t off;
};

struct ctl {
	struct loop *loop;
	int fd;
	char path[108];
	struct loop_op accept_op;
	unsigned int n_conns;
	unsigned long long refused;
	ctl_render_fn render;
	void *arg;
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
	char *nl;

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
	nl = memchr(c->req, '\n', c->len);
	if (!nl && c->len < CTL_MAX_REQUEST) {
		c->pending++;
		loop_read(c->ctl->loop, &c->io, c->fd, c->req + c->len,
			  (unsigned int)(CTL_MAX_REQUEST - c->len));
		return;
	}
	if (nl)
		*nl = 0;
	/* The timer stays: a client that never reads its answer is cut off too. */
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

	if (res >= 0 && ctl->n_conns >= CTL_MAX_CONNS) {
		if (!ctl->refused++)
			log_warn("control socket: %u connections open, closing new ones",
				 ctl->n_conns);
		close(res);
	} else if (res >= 0) {
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(res);
		} else {
			ctl->n_conns++;
			c->ctl = ctl;
			c->fd = res;
			c->io.cb = conn_io;
			c->timer.cb = conn_timer;
			sbuf_init(&c->out, 16 << 20);
			c->pending = 2;
			loop_read(ctl->loop, &c->io, c->fd, c->req, CTL_MAX_REQUEST);
			loop_timeout_ms(ctl->loop, &c->timer, CTL_TIMEOUT_MS);
		}
	}
	if (res == -ECANCELED)
		return;
	if (!(flags & IORING_CQE_F_MORE))
		io_uring_prep_multishot_accept(loop_sqe(ctl->loop, &ctl->accept_op),
					       ctl->fd, NULL, NULL, SOCK_CLOEXEC);
}

struct ctl *ctl_new(struct loop *l, const char *path, mode_t mode,
		    ctl_render_fn render, void *arg, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl *ctl;
	mode_t old;
	int r;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "observation-path %s: too long", path);
		return NULL;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ctl->loop = l;
	ctl->render = render;
	ctl->arg = arg;
	ctl->accept_op.cb = accept_done;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	memcpy(sun.sun_path, path, strlen(path));
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* A stale socket from an earlier run would make bind fail. */
	unlink(path);
	/* bind() creates the node with 0777 & ~umask: exactly mode, from the start. */
	old = umask(~mode & 0777);
	r = ctl->fd < 0 ? -1 : bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r || listen(ctl->fd, CTL_MAX_CONNS)) {
		snprintf(err, errlen, "observation-path %s: %s", path, strerror(errno));
		if (ctl->fd >= 0)
			close(ctl->fd);
		free(ctl);
		return NULL;
	}
	io_uring_prep_multishot_accept(loop_sqe(l, &ctl->accept_op), ctl->fd, NULL,
				       NULL, SOCK_CLOEXEC);
	return ctl;
}

unsigned long long ctl_refused(const struct ctl *ctl)
{
	return ctl ? ctl->refused : 0;
}

void ctl_free(struct ctl *ctl)
{
	if (!ctl)
		return;
	close(ctl->fd);
	unlink(ctl->path);
	free(ctl);
}
