// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ke_client.h"
#include "ke_proto.h"
#include "log.h"
#include "tls.h"

#define BACKOFF_MIN_MS 1000ULL
#define BACKOFF_MAX_MS 3600000ULL

struct ke_client {
	struct loop *loop;
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	char host[256];
	uint16_t port;
	uint32_t timeout_ms;
	enum ke_client_state state;
	/* What status shows until a finished exchange has settled. */
	enum ke_client_state running;
	int pending;
	int addr_idx;
	struct resolve_req res;
	struct loop_op io;
	struct loop_op timer;
	void (*done)(struct ke_client *c, void *arg);
	void *arg;
	uint8_t req[512];
	size_t req_len, req_off;
	struct ke_proto_resp resp;
	struct ke_result result;
	char error[256];
	unsigned int failures;
	uint64_t retry_at;
	int ktls;
};

static const char *const state_names[] = {
	[KEC_IDLE] = "idle",
	[KEC_RESOLVING] = "resolving",
	[KEC_CONNECTING] = "connecting",
	[KEC_HANDSHAKE] = "handshake",
	[KEC_EXCHANGE] = "exchange",
	[KEC_DONE] = "done",
	[KEC_FAILED] = "failed",
};

const char *ke_client_state_name(enum ke_client_state s)
{
	return s <= KEC_FAILED ? state_names[s] : "?";
}

enum ke_client_state ke_client_state(const struct ke_client *c)
{
	/* "done" only once the source holds the result that done() hands over. */
	if ((c->state == KEC_DONE || c->state == KEC_FAILED) && c->pending)
		return c->running;
	return c->state;
}

const struct ke_result *ke_client_result(const struct ke_client *c)
{
	return c->state == KEC_DONE ? &c->result : NULL;
}

const char *ke_client_error(const struct ke_client *c)
{
	return c->error;
}

uint64_t ke_client_retry_at(const struct ke_client *c)
{
	return c->retry_at;
}

unsigned int ke_client_failures(const struct ke_client *c)
{
	return c->failures;
}

int ke_client_ktls(const struct ke_client *c)
{
	return c->ktls;
}

static void teardown_io(struct ke_client *c)
{
	ke_proto_resp_free(&c->resp);
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

/*
 * Finishing waits for every pending op to come back, so that no completion
 * can arrive for an exchange that is already over.
 */
static void finish(struct ke_client *c, enum ke_client_state st)
{
	if (c->state == KEC_DONE || c->state == KEC_FAILED || c->state == KEC_IDLE)
		return;
	c->running = c->state;
	c->state = st;
	loop_cancel(c->loop, &c->io);
	loop_timeout_cancel(c->loop, &c->timer);
	if (c->res.job) {
		/* The lookup may block for long; its thread finishes on its own. */
		resolve_cancel(&c->res);
		c->pending--;
	}
	if (st == KEC_FAILED) {
		uint64_t backoff = BACKOFF_MIN_MS << (c->failures < 12 ? c->failures : 12);

		c->failures++;
		if (backoff > BACKOFF_MAX_MS)
			backoff = BACKOFF_MAX_MS;
		c->retry_at = loop_now_ms() + backoff;
		log_warn("nts-ke client %s:%u: %s (retry in %llu s)", c->host, c->port,
			 c->error, (unsigned long long)(backoff / 1000));
	} else {
		c->failures = 0;
		c->retry_at = 0;
	}
	if (!c->pending) {
		teardown_io(c);
		c->done(c, c->arg);
	}
}

static void fail(struct ke_client *c, const char *fmt, const char *detail)
{
	snprintf(c->error, sizeof(c->error), fmt, detail);
	finish(c, KEC_FAILED);
}

static void settle(struct ke_client *c)
{
	/* The last pending op of a finished exchange reports it. */
	if ((c->state == KEC_DONE || c->state == KEC_FAILED) && !c->pending) {
		teardown_io(c);
		c->done(c, c->arg);
	}
}

static void step(struct ke_client *c);
static void try_connect(struct ke_client *c);

static int wait_ssl(struct ke_client *c, int ret)
{
	int e = SSL_get_error(c->ssl, ret);

	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		return -1;
	c->pending++;
	loop_poll(c->loop, &c->io, c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
	return 0;
}

static void io_done(struct loop_op *op, int res, unsigned int flags)
{
	struct ke_client *c = (struct ke_client *)((char *)op - offsetof(struct ke_client, io));

	(void)flags;
	c->pending--;
	if (c->state == KEC_DONE || c->state == KEC_FAILED) {
		settle(c);
		return;
	}
	if (c->state == KEC_CONNECTING) {
		if (res < 0) {
			snprintf(c->error, sizeof(c->error), "connect: %s", strerror(-res));
			/* Each address gets a fresh SSL; this one's must go with it. */
			SSL_free(c->ssl);
			c->ssl = NULL;
			close(c->fd);
			c->fd = -1;
			c->addr_idx++;
			try_connect(c);
			return;
		}
		c->state = KEC_HANDSHAKE;
	} else if (res < 0) {
		fail(c, "poll: %s", strerror(-res));
		return;
	}
	step(c);
}

static void timer_done(struct loop_op *op, int res, unsigned int flags)
{
	struct ke_client *c = (struct ke_client *)((char *)op - offsetof(struct ke_client, timer));

	(void)flags;
	c->pending--;
	if (res == -ETIME && c->state != KEC_DONE && c->state != KEC_FAILED) {
		fail(c, "%s", "key exchange timed out");
		return;
	}
	settle(c);
}

static void step(struct ke_client *c)
{
	char e[256];
	uint8_t buf[1024];
	size_t n;
	int ret;

	for (;;) {
		ERR_clear_error();
		switch (c->state) {
		case KEC_HANDSHAKE:
			ret = SSL_connect(c->ssl);
			if (ret != 1) {
				if (wait_ssl(c, ret)) {
					long v = SSL_get_verify_result(c->ssl);

					if (v != X509_V_OK)
						fail(c, "certificate verification failed: %s",
						     X509_verify_cert_error_string(v));
					else
						fail(c, "TLS handshake: %s",
						     tls_error_string(e, sizeof(e)));
				}
				return;
			}
			if (!tls_alpn_ok(c->ssl)) {
				fail(c, "%s", "server did not select ALPN ntske/1");
				return;
			}
			c->ktls = (int)BIO_get_ktls_send(SSL_get_wbio(c->ssl));
			c->state = KEC_EXCHANGE;
			break;
		case KEC_EXCHANGE:
			if (c->req_off < c->req_len) {
				ret = SSL_write_ex(c->ssl, c->req + c->req_off,
						   c->req_len - c->req_off, &n);
				if (ret != 1) {
					if (wait_ssl(c, ret))
						fail(c, "TLS write: %s",
						     tls_error_string(e, sizeof(e)));
					return;
				}
				c->req_off += n;
				break;
			}
			ret = SSL_read_ex(c->ssl, buf, sizeof(buf), &n);
			if (ret != 1) {
				if (wait_ssl(c, ret))
					fail(c, "%s", "connection closed before the response ended");
				return;
			}
			ret = ke_proto_resp_feed(&c->resp, buf, n);
			if (ret == 0)
				break;
			if (ret < 0 ||
			    ke_proto_client_finish(&c->resp, c->ssl, &c->result.ke, c->error,
						   sizeof(c->error))) {
				if (ret < 0)
					snprintf(c->error, sizeof(c->error),
						 "malformed NTS-KE response");
				finish(c, KEC_FAILED);
				return;
			}
			if (!c->result.ke.ntp_server[0])
				snprintf(c->result.ke.ntp_server,
					 sizeof(c->result.ke.ntp_server), "%s", c->host);
			c->error[0] = 0;
			SSL_shutdown(c->ssl);
			finish(c, KEC_DONE);
			return;
		default:
			return;
		}
	}
}

static void try_connect(struct ke_client *c)
{
	const struct sockaddr *sa;
	int one = 1;

	if (c->addr_idx >= c->res.count) {
		finish(c, KEC_FAILED);
		return;
	}
	sa = (const struct sockaddr *)&c->res.addr[c->addr_idx];
	c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		fail(c, "socket: %s", strerror(errno));
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memcpy(&c->result.ke_addr, sa, c->res.addr_len[c->addr_idx]);
	c->result.ke_addr_len = c->res.addr_len[c->addr_idx];
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    tls_client_set_host(c->ssl, c->host)) {
		fail(c, "%s", "TLS setup failed");
		return;
	}
	c->state = KEC_CONNECTING;
	c->pending++;
	io_uring_prep_connect(loop_sqe(c->loop, &c->io), c->fd, sa,
			      c->res.addr_len[c->addr_idx]);
}

static void resolved(struct resolve_req *r)
{
	struct ke_client *c = (struct ke_client *)((char *)r - offsetof(struct ke_client, res));

	c->pending--;
	if (c->state != KEC_RESOLVING) {
		settle(c);
		return;
	}
	if (r->error) {
		fail(c, "resolving: %s", gai_strerror(r->error));
		return;
	}
	c->addr_idx = 0;
	snprintf(c->error, sizeof(c->error), "no address reachable");
	try_connect(c);
}

void ke_client_start(struct ke_client *c)
{
	int ret;

	if (c->state != KEC_IDLE && c->state != KEC_DONE && c->state != KEC_FAILED)
		return;
	if (c->pending)
		return;	/* the previous exchange is still winding down */
	memset(&c->result, 0, sizeof(c->result));
	c->req_len = ke_proto_client_request(c->req, sizeof(c->req));
	c->req_off = 0;
	ke_proto_resp_free(&c->resp);
	if (ke_proto_resp_init(&c->resp)) {
		c->state = KEC_RESOLVING;
		fail(c, "%s", "out of memory");
		return;
	}
	c->state = KEC_RESOLVING;
	c->pending++;
	loop_timeout_ms(c->loop, &c->timer, c->timeout_ms);
	c->pending++;
	ret = resolve_start(c->loop, &c->res, c->host, c->port, SOCK_STREAM);
	if (ret) {
		c->pending--;
		fail(c, "resolving: %s", strerror(-ret));
	}
}

struct ke_client *ke_client_new(struct loop *l, const struct ke_client_params *p,
				void (*done)(struct ke_client *c, void *arg), void *arg,
				char *err, size_t errlen)
{
	struct ke_client *c = calloc(1, sizeof(*c));

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->ctx = tls_client_ctx_new(p->ca_path, p->pin, err, errlen);
	if (!c->ctx) {
		free(c);
		return NULL;
	}
	c->loop = l;
	c->fd = -1;
	snprintf(c->host, sizeof(c->host), "%s", p->host);
	c->port = p->port;
	c->timeout_ms = p->timeout_ms ? p->timeout_ms : 5000;
	c->done = done;
	c->arg = arg;
	c->io.cb = io_done;
	c->timer.cb = timer_done;
	c->res.done = resolved;
	c->state = KEC_IDLE;
	return c;
}

void ke_client_free(struct ke_client *c)
{
	if (!c)
		return;
	resolve_cancel(&c->res);
	teardown_io(c);
	SSL_CTX_free(c->ctx);
	OPENSSL_cleanse(&c->result, sizeof(c->result));
	free(c);
}
