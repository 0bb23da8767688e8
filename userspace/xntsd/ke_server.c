// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "config.h"
#include "ke_server.h"
#include "ke_proto.h"
#include "keyset.h"
#include "log.h"
#include "netaddr.h"
#include "tls.h"

#define KE_MAX_RESPONSE 4096
/* Files are often replaced in several steps; reload once they settle. */
#define RELOAD_SETTLE_MS 200

enum conn_state { C_HANDSHAKE, C_READ, C_WRITE, C_SHUTDOWN, C_CLOSING };

struct ke_conn {
	struct ke_server *srv;
	struct ke_conn *next, *prev;
	SSL *ssl;
	int fd;
	int pending;
	enum conn_state state;
	struct loop_op io;
	struct loop_op timer;
	struct ke_proto_req req;
	size_t out_len, out_off;
	uint8_t out[KE_MAX_RESPONSE];
};

struct ke_server {
	struct loop *loop;
	const struct config_nts_ke_server *cfg;
	struct ke_proto_server_params params;
	struct netaddr listen;
	struct keyset *ks;
	SSL_CTX *ctx;
	int lfd;
	struct loop_op accept_op;
	int accept_armed;
	struct ke_conn *conns;
	struct ke_server_stats st;
	char name[80];
	/* certificate watching */
	int ifd;
	struct loop_op inotify_op;
	struct loop_op settle_op;
	int settle_armed;
	char ibuf[4096] __attribute__((aligned(8)));
};

const struct ke_server_stats *ke_server_stats(const struct ke_server *s)
{
	return &s->st;
}

const char *ke_server_listen_name(const struct ke_server *s)
{
	return s->name;
}

static void conn_step(struct ke_conn *c);

static void conn_maybe_free(struct ke_conn *c)
{
	struct ke_server *s = c->srv;

	if (c->state != C_CLOSING || c->pending)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	SSL_free(c->ssl);
	close(c->fd);
	s->st.active--;
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

static void conn_close(struct ke_conn *c)
{
	if (c->state == C_CLOSING)
		return;
	c->state = C_CLOSING;
	/* Pending poll and timer complete with -ECANCELED, then we free. */
	loop_cancel(c->srv->loop, &c->io);
	loop_timeout_cancel(c->srv->loop, &c->timer);
	conn_maybe_free(c);
}

static void conn_fail(struct ke_conn *c, uint64_t *counter, const char *why)
{
	char e[256];

	c->srv->st.handshakes_failed++;
	(*counter)++;
	if (counter == &c->srv->st.fail_tls)
		log_debug("nts-ke %s: connection failed: %s: %s", c->srv->name, why,
			  tls_error_string(e, sizeof(e)));
	else
		log_debug("nts-ke %s: connection failed: %s", c->srv->name, why);
	ERR_clear_error();
	conn_close(c);
}

static void conn_io_done(struct loop_op *op, int res, unsigned int flags)
{
	struct ke_conn *c = (struct ke_conn *)((char *)op - offsetof(struct ke_conn, io));

	(void)flags;
	c->pending--;
	if (c->state == C_CLOSING) {
		conn_maybe_free(c);
		return;
	}
	if (res < 0 && res != -ECANCELED) {
		conn_fail(c, &c->srv->st.fail_internal, strerror(-res));
		return;
	}
	conn_step(c);
}

static void conn_timer_done(struct loop_op *op, int res, unsigned int flags)
{
	struct ke_conn *c = (struct ke_conn *)((char *)op - offsetof(struct ke_conn, timer));

	(void)flags;
	c->pending--;
	if (c->state == C_CLOSING) {
		conn_maybe_free(c);
		return;
	}
	if (res == -ETIME)
		conn_fail(c, &c->srv->st.fail_timeout, "key exchange timed out");
}

/* Wait for the socket to become ready for what OpenSSL asked for. */
static int conn_wait(struct ke_conn *c, int ssl_ret)
{
	int e = SSL_get_error(c->ssl, ssl_ret);

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->pending++;
		loop_poll(c->srv->loop, &c->io, c->fd,
			  e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
		return 0;
	}
	return -1;
}

static void conn_respond(struct ke_conn *c)
{
	struct ke_server *s = c->srv;
	struct ke_proto_result r;

	c->out_len = ke_proto_respond(&c->req, c->ssl, s->ks, &s->params, c->out,
				      sizeof(c->out), &r);
	switch (r.outcome) {
	case KE_PROTO_OK:
		s->st.handshakes_ok++;
		s->st.cookies_issued += r.cookies;
		s->st.last_key_id = r.key_id;
		break;
	case KE_PROTO_BAD_REQUEST:
		s->st.handshakes_failed++;
		s->st.fail_bad_request++;
		break;
	case KE_PROTO_NO_MATCH:
		s->st.handshakes_failed++;
		s->st.fail_no_match++;
		break;
	case KE_PROTO_CRITICAL:
		s->st.handshakes_failed++;
		s->st.fail_critical++;
		break;
	default:
		s->st.handshakes_failed++;
		s->st.fail_internal++;
		break;
	}
	if (!c->out_len) {
		conn_close(c);
		return;
	}
	s->st.responses++;
	if (BIO_get_ktls_send(SSL_get_wbio(c->ssl)))
		s->st.ktls_send++;
	if (BIO_get_ktls_recv(SSL_get_rbio(c->ssl)))
		s->st.ktls_recv++;
	c->out_off = 0;
	c->state = C_WRITE;
}

static void conn_step(struct ke_conn *c)
{
	uint8_t buf[1024];
	size_t n;
	int ret;

	for (;;) {
		ERR_clear_error();
		switch (c->state) {
		case C_HANDSHAKE:
			ret = SSL_accept(c->ssl);
			if (ret != 1) {
				if (conn_wait(c, ret))
					conn_fail(c, &c->srv->st.fail_tls, "TLS handshake");
				return;
			}
			if (!tls_alpn_ok(c->ssl)) {
				conn_fail(c, &c->srv->st.fail_alpn, "client did not offer ntske/1");
				return;
			}
			c->state = C_READ;
			break;
		case C_READ:
			ret = SSL_read_ex(c->ssl, buf, sizeof(buf), &n);
			if (ret != 1) {
				if (conn_wait(c, ret))
					conn_fail(c, &c->srv->st.fail_bad_request,
						  "connection ended before the request did");
				return;
			}
			if (ke_proto_feed(&c->req, buf, n)) {
				/* Complete, or malformed: both get an answer. */
				conn_respond(c);
				if (c->state == C_CLOSING)
					return;
			}
			break;
		case C_WRITE:
			if (c->out_off == c->out_len) {
				c->state = C_SHUTDOWN;
				break;
			}
			ret = SSL_write_ex(c->ssl, c->out + c->out_off,
					   c->out_len - c->out_off, &n);
			if (ret != 1) {
				if (conn_wait(c, ret))
					conn_fail(c, &c->srv->st.fail_tls, "TLS write");
				return;
			}
			c->out_off += n;
			break;
		case C_SHUTDOWN:
			/* One close_notify; the peer's reply is not waited for. */
			SSL_shutdown(c->ssl);
			conn_close(c);
			return;
		case C_CLOSING:
			return;
		}
	}
}

static void accept_one(struct ke_server *s, int fd)
{
	struct ke_conn *c;
	int one = 1;

	s->st.accepted++;
	if (s->st.active >= (uint32_t)s->cfg->concurrent_connections) {
		/* Refused at once, so a flood cannot starve the others. */
		s->st.refused_limit++;
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->srv = s;
	c->fd = fd;
	c->io.cb = conn_io_done;
	c->timer.cb = conn_timer_done;
	c->ssl = SSL_new(s->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
		SSL_free(c->ssl);
		close(fd);
		free(c);
		return;
	}
	ke_proto_req_init(&c->req, KE_PROTO_MAX_REQUEST);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->st.active++;
	c->pending++;
	loop_timeout_ms(s->loop, &c->timer, (uint64_t)s->cfg->key_exchange_timeout_ms);
	c->state = C_HANDSHAKE;
	conn_step(c);
}

static void arm_accept(struct ke_server *s)
{
	io_uring_prep_multishot_accept(loop_sqe(s->loop, &s->accept_op), s->lfd,
				       NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	s->accept_armed = 1;
}

static void accept_done(struct loop_op *op, int res, unsigned int flags)
{
	struct ke_server *s = (struct ke_server *)((char *)op -
						   offsetof(struct ke_server, accept_op));

	if (!(flags & IORING_CQE_F_MORE))
		s->accept_armed = 0;
	if (res >= 0)
		accept_one(s, res);
	else if (res != -ECANCELED)
		log_warn("nts-ke %s: accept: %s", s->name, strerror(-res));
	if (!s->accept_armed && res != -ECANCELED)
		arm_accept(s);
}

int ke_server_reload(struct ke_server *s)
{
	char err[512];
	SSL_CTX *ctx = tls_server_ctx_new(s->cfg->certificate_chain_path,
					  s->cfg->private_key_path, err, sizeof(err));

	if (!ctx) {
		s->st.reloads_failed++;
		log_error("nts-ke %s: certificate reload failed, still serving the "
			  "previous certificate: %s", s->name, err);
		return -1;
	}
	/* Connections in flight hold a reference to the old context. */
	SSL_CTX_free(s->ctx);
	s->ctx = ctx;
	s->st.reloads_ok++;
	log_info("nts-ke %s: certificate loaded from %s", s->name,
		 s->cfg->certificate_chain_path);
	return 0;
}

static void watch_dirs_of(struct ke_server *s, const char *path)
{
	char buf[PATH_MAX], real[PATH_MAX];
	const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
			      IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

	snprintf(buf, sizeof(buf), "%s", path);
	inotify_add_watch(s->ifd, dirname(buf), mask);
	/* The symlink's target directory sees in-place rewrites of the target. */
	if (realpath(path, real)) {
		inotify_add_watch(s->ifd, dirname(real), mask);
		inotify_add_watch(s->ifd, real, IN_CLOSE_WRITE | IN_ATTRIB);
	}
}

static void rewatch(struct ke_server *s)
{
	/* Watches on replaced targets go stale; start over on every reload. */
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd < 0)
		return;
	if (s->ifd >= 0)
		close(s->ifd);
	s->ifd = fd;
	watch_dirs_of(s, s->cfg->certificate_chain_path);
	watch_dirs_of(s, s->cfg->private_key_path);
}

static void arm_inotify(struct ke_server *s)
{
	loop_read(s->loop, &s->inotify_op, s->ifd, s->ibuf, sizeof(s->ibuf));
}

static void settle_done(struct loop_op *op, int res, unsigned int flags)
{
	struct ke_server *s = (struct ke_server *)((char *)op -
						   offsetof(struct ke_server, settle_op));

	(void)flags;
	s->settle_armed = 0;
	if (res != -ETIME)
		return;
	log_info("nts-ke %s: certificate files changed", s->name);
	ke_server_reload(s);
	rewatch(s);
	arm_inotify(s);
}

static int name_is(const char *path, const char *name, int real)
{
	char buf[PATH_MAX];

	if (real) {
		if (!realpath(path, buf))
			return 0;
	} else {
		snprintf(buf, sizeof(buf), "%s", path);
	}
	return !strcmp(basename(buf), name);
}

/*
 * Other files in the same directories (a key storage file, say) change too;
 * only events that name the chain, the key or their targets matter.
 */
static int relevant(struct ke_server *s, int len)
{
	const char *p = s->ibuf, *end = s->ibuf + len;

	while (p + sizeof(struct inotify_event) <= end) {
		const struct inotify_event *ev = (const struct inotify_event *)p;

		if (!ev->len || ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_Q_OVERFLOW))
			return 1;
		for (int real = 0; real < 2; real++)
			if (name_is(s->cfg->certificate_chain_path, ev->name, real) ||
			    name_is(s->cfg->private_key_path, ev->name, real))
				return 1;
		p += sizeof(struct inotify_event) + ev->len;
	}
	return 0;
}

static void inotify_done(struct loop_op *op, int res, unsigned int flags)
{
	struct ke_server *s = (struct ke_server *)((char *)op -
						   offsetof(struct ke_server, inotify_op));

	(void)flags;
	if (res == -ECANCELED || res == -EBADF)
		return;
	if (res < 0) {
		log_warn("nts-ke %s: inotify: %s", s->name, strerror(-res));
		return;
	}
	if (!relevant(s, res)) {
		arm_inotify(s);
		return;
	}
	if (!s->settle_armed) {
		s->settle_armed = 1;
		loop_timeout_ms(s->loop, &s->settle_op, RELOAD_SETTLE_MS);
		/* settle_done re-arms the read after re-watching. */
		return;
	}
	arm_inotify(s);
}

struct ke_server *ke_server_new(struct loop *l, const struct config_nts_ke_server *cfg,
				struct keyset *ks, char *err, size_t errlen)
{
	struct ke_server *s = calloc(1, sizeof(*s));
	int one = 1, zero = 0;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->loop = l;
	s->cfg = cfg;
	s->ks = ks;
	s->lfd = -1;
	s->ifd = -1;
	s->accept_op.cb = accept_done;
	s->inotify_op.cb = inotify_done;
	s->settle_op.cb = settle_done;
	s->params.ntp_server = cfg->ntp_server;
	s->params.ntp_port = cfg->ntp_port;
	s->params.aeads = cfg->aeads;
	s->params.n_aeads = cfg->n_aeads;
	netaddr_from_config(&cfg->listen, &s->listen);
	netaddr_format((struct sockaddr *)&s->listen.ss, s->name, sizeof(s->name));
	s->ctx = tls_server_ctx_new(cfg->certificate_chain_path, cfg->private_key_path,
				    err, errlen);
	if (!s->ctx)
		goto fail;
	s->lfd = socket(s->listen.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		goto fail_errno;
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s->listen.ss.ss_family == AF_INET6)
		setsockopt(s->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(s->lfd, (const struct sockaddr *)&s->listen.ss, s->listen.len) ||
	    listen(s->lfd, 1024))
		goto fail_errno;
	rewatch(s);
	arm_inotify(s);
	arm_accept(s);
	log_info("nts-ke: listening on %s", s->name);
	return s;
fail_errno:
	snprintf(err, errlen, "nts-ke-server listen %s: %s", s->name, strerror(errno));
fail:
	ke_server_free(s);
	return NULL;
}

void ke_server_free(struct ke_server *s)
{
	struct ke_conn *c, *next;

	if (!s)
		return;
	/* Only at exit, after the loop stopped: pending ops die with the ring. */
	for (c = s->conns; c; c = next) {
		next = c->next;
		SSL_free(c->ssl);
		close(c->fd);
		OPENSSL_cleanse(c, sizeof(*c));
		free(c);
	}
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->ifd >= 0)
		close(s->ifd);
	SSL_CTX_free(s->ctx);
	free(s);
}
