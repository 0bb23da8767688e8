// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "config.h"
#include "ke_limit.h"
#include "ke_server.h"
#include "ke_proto.h"
#include "keyset.h"
#include "log.h"
#include "netaddr.h"
#include "tls.h"

#define KE_MAX_RESPONSE 4096
/* Files are often replaced in several steps; reload once they settle. */
#define RELOAD_SETTLE_MS 200
/* Accept errors that mean "out of something": wait, doubling, up to 1 s. */
#define BACKOFF_MIN_MS 10
#define BACKOFF_MAX_MS 1000
/* Connections taken per readiness event before other work gets a turn. */
#define ACCEPT_BATCH 8
/* At most one line about refused connections per worker this often. */
#define REFUSAL_LOG_MS 10000
/* Descriptors beyond the connections: rings, sockets, files, the rest. */
#define NOFILE_BASE 1024

enum conn_state { C_HANDSHAKE, C_READ, C_WRITE, C_SHUTDOWN, C_CLOSING };

struct ke_worker;

struct ke_conn {
	struct ke_worker *w;
	struct ke_conn *next, *prev;
	SSL *ssl;
	int fd;
	int pending;
	enum conn_state state;
	struct ke_limit_ticket ticket;
	struct loop_op io;
	struct loop_op timer;
	struct ke_proto_req req;
	/*
	 * The timer's end: the key exchange timeout, then for a connection
	 * kept alive for a pool its idle or total bound (deadline_why).
	 */
	uint64_t start_ms, deadline_ms, timer_at_ms;
	uint64_t *deadline_why;	/* counter that an expiry increments */
	int timer_rearm;	/* a cancel is on its way to move the timer earlier */
	int longlived;		/* holds one of longlived-connections */
	int keep;		/* the answer being written keeps the connection */
	unsigned int requests;
	size_t carry_len;	/* bytes read after the end of a request */
	uint8_t carry[1024];
	size_t out_len, out_off;
	uint8_t out[KE_MAX_RESPONSE];
};

/*
 * A worker thread with its own ring: it accepts from the shared listener (a
 * poll on it wakes every idle worker; the first accept4() wins), admits
 * through the limiter and runs each connection to its end.
 */
struct ke_worker {
	struct ke_server *srv;
	pthread_t tid;
	int started;
	int efd;
	uint64_t ev;
	int stopping;
	int deferred;		/* ring with DEFER_TASKRUN, enabled by the worker */
	struct loop loop;
	struct loop_op stop_op;
	struct loop_op accept_op;
	int accept_armed;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct loop_op backoff_op;
	unsigned int backoff_ms;
	uint64_t refusal_log_ms;
	uint64_t refused_logged;
	struct ke_conn *conns;
	/* Written by this worker only; read racily for status. */
	struct ke_server_stats st;
};

struct ke_server {
	struct loop *loop;	/* the main loop: certificate watching only */
	const struct config_nts_ke_server *cfg;
	struct ke_proto_server_params params;
	struct netaddr listen;
	struct keyset *ks;
	/* Swapped on reload; workers take a reference under the lock. */
	pthread_mutex_t ctx_lock;
	SSL_CTX *ctx;
	int lfd;
	struct ke_limit *limit;
	unsigned int n_workers;
	struct ke_worker *w;
	_Atomic uint32_t last_key_id;
	_Atomic unsigned int longlived;	/* connections kept alive, all workers */
	uint64_t reloads_ok, reloads_failed;
	char name[80];
	/* certificate watching */
	int ifd;
	struct loop_op inotify_op;
	struct loop_op settle_op;
	int settle_armed;
	char ibuf[4096] __attribute__((aligned(8)));
};

void ke_server_stats(const struct ke_server *s, struct ke_server_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < s->n_workers; i++) {
		const struct ke_server_stats *w = &s->w[i].st;

		out->accepted += w->accepted;
		out->refused_limit += w->refused_limit;
		out->refused_client += w->refused_client;
		out->refused_rate += w->refused_rate;
		out->accept_errors += w->accept_errors;
		out->accept_backoffs += w->accept_backoffs;
		out->handshakes_ok += w->handshakes_ok;
		out->handshakes_failed += w->handshakes_failed;
		out->fail_tls += w->fail_tls;
		out->fail_alpn += w->fail_alpn;
		out->fail_timeout += w->fail_timeout;
		out->fail_bad_request += w->fail_bad_request;
		out->fail_critical += w->fail_critical;
		out->fail_no_match += w->fail_no_match;
		out->fail_internal += w->fail_internal;
		out->responses += w->responses;
		out->cookies_issued += w->cookies_issued;
		out->ktls_send += w->ktls_send;
		out->ktls_recv += w->ktls_recv;
		out->pool_fixed_key += w->pool_fixed_key;
		out->pool_support += w->pool_support;
		out->pool_refused_token += w->pool_refused_token;
		out->pool_bad_request += w->pool_bad_request;
		out->pool_deny_records += w->pool_deny_records;
		out->longlived_opened += w->longlived_opened;
		out->longlived_requests += w->longlived_requests;
		out->longlived_refused_limit += w->longlived_refused_limit;
		out->longlived_closed_requests += w->longlived_closed_requests;
		out->longlived_closed_idle += w->longlived_closed_idle;
		out->longlived_closed_duration += w->longlived_closed_duration;
	}
	out->longlived_active = atomic_load_explicit(&s->longlived, memory_order_relaxed);
	out->reloads_ok = s->reloads_ok;
	out->reloads_failed = s->reloads_failed;
	out->active = s->limit ? ke_limit_active(s->limit) : 0;
	out->clients = s->limit ? ke_limit_clients(s->limit) : 0;
	out->workers = s->n_workers;
	out->last_key_id = atomic_load_explicit(&s->last_key_id, memory_order_relaxed);
}

const char *ke_server_listen_name(const struct ke_server *s)
{
	return s->name;
}

static void conn_step(struct ke_conn *c);

/* A slot of longlived-connections, shared by all workers: 1 if taken. */
static int longlived_take(struct ke_server *s)
{
	unsigned int n = atomic_load_explicit(&s->longlived, memory_order_relaxed);

	do {
		if (n >= s->cfg->longlived_connections)
			return 0;
	} while (!atomic_compare_exchange_weak_explicit(&s->longlived, &n, n + 1,
							memory_order_relaxed,
							memory_order_relaxed));
	return 1;
}

static void longlived_put(struct ke_server *s)
{
	atomic_fetch_sub_explicit(&s->longlived, 1, memory_order_relaxed);
}

static void conn_release(struct ke_conn *c)
{
	if (c->longlived)
		longlived_put(c->w->srv);
	c->longlived = 0;
	ke_limit_release(c->w->srv->limit, &c->ticket);
}

static void timer_arm(struct ke_conn *c, uint64_t now)
{
	c->pending++;
	c->timer_at_ms = c->deadline_ms;
	loop_timeout_ms(&c->w->loop, &c->timer, c->deadline_ms > now ?
			c->deadline_ms - now : 0);
}

/* Move the end; a timer set to end later is cancelled and set again. */
static void set_deadline(struct ke_conn *c, uint64_t when, uint64_t *why)
{
	c->deadline_ms = when;
	c->deadline_why = why;
	if (when < c->timer_at_ms && !c->timer_rearm) {
		c->timer_rearm = 1;
		loop_timeout_cancel(&c->w->loop, &c->timer);
	}
}

static void conn_maybe_free(struct ke_conn *c)
{
	struct ke_worker *w = c->w;

	if (c->state != C_CLOSING || c->pending)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	SSL_free(c->ssl);
	close(c->fd);
	conn_release(c);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

static void conn_close(struct ke_conn *c)
{
	if (c->state == C_CLOSING)
		return;
	c->state = C_CLOSING;
	/* Pending poll and timer complete with -ECANCELED, then we free. */
	loop_cancel(&c->w->loop, &c->io);
	loop_timeout_cancel(&c->w->loop, &c->timer);
	conn_maybe_free(c);
}

static void conn_fail(struct ke_conn *c, uint64_t *counter, const char *why)
{
	struct ke_worker *w = c->w;
	char e[256];

	w->st.handshakes_failed++;
	(*counter)++;
	if (counter == &w->st.fail_tls)
		log_debug("nts-ke %s: connection failed: %s: %s", w->srv->name, why,
			  tls_error_string(e, sizeof(e)));
	else
		log_debug("nts-ke %s: connection failed: %s", w->srv->name, why);
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
		conn_fail(c, &c->w->st.fail_internal, strerror(-res));
		return;
	}
	conn_step(c);
}

static void conn_timer_done(struct loop_op *op, int res, unsigned int flags)
{
	struct ke_conn *c = (struct ke_conn *)((char *)op - offsetof(struct ke_conn, timer));

	uint64_t now;

	(void)flags;
	c->pending--;
	if (c->state == C_CLOSING) {
		conn_maybe_free(c);
		return;
	}
	c->timer_rearm = 0;
	if (res != -ETIME && res != -ECANCELED)
		return;
	now = loop_now_ms();
	if (now < c->deadline_ms) {
		timer_arm(c, now);
		return;
	}
	if (c->deadline_why == &c->w->st.fail_timeout) {
		conn_fail(c, &c->w->st.fail_timeout, "key exchange timed out");
		return;
	}
	/* A pool's connection reached its bound: a normal end, counted. */
	(*c->deadline_why)++;
	log_debug("nts-ke %s: closing a pool connection after %u requests (%s)",
		  c->w->srv->name, c->requests,
		  c->deadline_why == &c->w->st.longlived_closed_idle ? "idle" : "duration");
	conn_close(c);
}

/* Wait for the socket to become ready for what OpenSSL asked for. */
static int conn_wait(struct ke_conn *c, int ssl_ret)
{
	int e = SSL_get_error(c->ssl, ssl_ret);

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->pending++;
		loop_poll(&c->w->loop, &c->io, c->fd,
			  e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
		return 0;
	}
	return -1;
}

/*
 * The peer closed or reset the connection, with or without close_notify;
 * any other TLS failure is bad input.
 */
static int peer_closed(int e)
{
	return e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL ||
	       (e == SSL_ERROR_SSL &&
		ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING);
}

static void conn_respond(struct ke_conn *c)
{
	struct ke_worker *w = c->w;
	struct ke_server *s = w->srv;
	const struct config_nts_ke_server *cfg = s->cfg;
	struct ke_proto_result r;
	uint64_t now = loop_now_ms();
	int took = 0, within = 1;

	/*
	 * A pool may ask to keep the connection: a new one takes a slot first
	 * (given back if the answer does not keep it); one kept already stays
	 * within its bounds, the answer to its last request saying no more.
	 */
	if (c->longlived)
		within = c->requests + 1 < cfg->longlived_max_requests &&
			 now - c->start_ms < cfg->longlived_max_duration_ms;
	else if (s->params.n_tokens && cfg->longlived_max_requests > 1)
		took = longlived_take(s);	/* no tokens: no pool; 1: this is the last */
	c->req.may_keep_alive = c->longlived ? within : took;
	c->req.pool_only = c->longlived;
	/* ke_proto reads the keyset's current snapshot without a lock (keyset.h). */
	c->out_len = ke_proto_respond(&c->req, c->ssl, s->ks, &s->params, c->out,
				      sizeof(c->out), &r);
	c->requests++;
	c->keep = r.keep_alive;
	if (c->longlived) {
		w->st.longlived_requests++;
		if (r.keep_alive_asked && !within && c->requests >= cfg->longlived_max_requests)
			w->st.longlived_closed_requests++;
		else if (r.keep_alive_asked && !within)
			w->st.longlived_closed_duration++;
	} else if (r.keep_alive) {
		c->longlived = 1;
		w->st.longlived_opened++;
		w->st.longlived_requests++;
	} else {
		if (took)
			longlived_put(s);
		if (r.keep_alive_asked && cfg->longlived_max_requests <= 1)
			w->st.longlived_closed_requests++;
		else if (r.keep_alive_asked && !took)
			w->st.longlived_refused_limit++;
	}
	w->st.pool_deny_records += r.denied;
	if (r.pool_records && (r.outcome == KE_PROTO_BAD_REQUEST ||
			       r.outcome == KE_PROTO_CRITICAL))
		w->st.pool_bad_request++;
	switch (r.outcome) {
	case KE_PROTO_OK:
		w->st.handshakes_ok++;
		w->st.cookies_issued += r.cookies;
		if (r.kind == NTS_KE_REQ_FIXED_KEY)
			w->st.pool_fixed_key++;
		else if (r.kind == NTS_KE_REQ_SUPPORT)
			w->st.pool_support++;
		if (r.cookies)
			atomic_store_explicit(&s->last_key_id, r.key_id,
					      memory_order_relaxed);
		break;
	case KE_PROTO_NOT_PERMITTED:
		w->st.handshakes_failed++;
		w->st.pool_refused_token++;
		log_debug("nts-ke %s: pool request without an accepted token", s->name);
		break;
	case KE_PROTO_BAD_REQUEST:
		w->st.handshakes_failed++;
		w->st.fail_bad_request++;
		break;
	case KE_PROTO_NO_MATCH:
		w->st.handshakes_failed++;
		w->st.fail_no_match++;
		break;
	case KE_PROTO_CRITICAL:
		w->st.handshakes_failed++;
		w->st.fail_critical++;
		break;
	default:
		w->st.handshakes_failed++;
		w->st.fail_internal++;
		break;
	}
	if (!c->out_len) {
		conn_close(c);
		return;
	}
	w->st.responses++;
	if (BIO_get_ktls_send(SSL_get_wbio(c->ssl)))
		w->st.ktls_send++;
	if (BIO_get_ktls_recv(SSL_get_rbio(c->ssl)))
		w->st.ktls_recv++;
	c->out_off = 0;
	c->state = C_WRITE;
}

static void conn_step(struct ke_conn *c)
{
	struct ke_server_stats *st = &c->w->st;
	const struct config_nts_ke_server *cfg = c->w->srv->cfg;
	uint8_t buf[sizeof(c->carry)];
	size_t n, used;
	uint64_t now, end;
	int ret, e;

	for (;;) {
		ERR_clear_error();
		switch (c->state) {
		case C_HANDSHAKE:
			ret = SSL_accept(c->ssl);
			if (ret != 1) {
				if (conn_wait(c, ret))
					conn_fail(c, &st->fail_tls, "TLS handshake");
				return;
			}
			if (!tls_alpn_ok(c->ssl)) {
				conn_fail(c, &st->fail_alpn, "client did not offer ntske/1");
				return;
			}
			c->state = C_READ;
			break;
		case C_READ:
			if (c->carry_len) {
				/* A pool sent its next request before our answer. */
				n = c->carry_len;
				memcpy(buf, c->carry, n);
				OPENSSL_cleanse(c->carry, n);
				c->carry_len = 0;
			} else {
				ret = SSL_read_ex(c->ssl, buf, sizeof(buf), &n);
				if (ret != 1) {
					e = SSL_get_error(c->ssl, ret);
					if (c->longlived && !c->req.parser.len &&
					    peer_closed(e)) {
						/* The pool closed between requests. */
						conn_close(c);
						return;
					}
					if (conn_wait(c, ret))
						conn_fail(c, &st->fail_bad_request, "connection "
							  "ended before the request did");
					return;
				}
			}
			ret = ke_proto_feed_used(&c->req, buf, n, &used);
			if (ret > 0 && used < n) {
				c->carry_len = n - used;
				memcpy(c->carry, buf + used, c->carry_len);
			}
			/* A pool's request carries keys; ke_proto wipes its own copy. */
			OPENSSL_cleanse(buf, n);
			if (ret) {
				/* Complete, or malformed: both get an answer. */
				conn_respond(c);
				if (c->state == C_CLOSING)
					return;
			}
			break;
		case C_WRITE:
			if (c->out_off == c->out_len && c->keep) {
				/* Kept alive: the next request, within the bounds. */
				now = loop_now_ms();
				end = c->start_ms + cfg->longlived_max_duration_ms;
				if (now + cfg->longlived_idle_timeout_ms < end)
					set_deadline(c, now + cfg->longlived_idle_timeout_ms,
						     &st->longlived_closed_idle);
				else
					set_deadline(c, end, &st->longlived_closed_duration);
				ke_proto_req_init(&c->req, KE_PROTO_MAX_REQUEST);
				c->keep = 0;
				c->out_len = c->out_off = 0;
				c->state = C_READ;
				/*
				 * A pool that pipelines would otherwise hold this
				 * worker for all its requests: let others run first.
				 */
				c->pending++;
				loop_poll(&c->w->loop, &c->io, c->fd, POLLOUT);
				return;
			}
			if (c->out_off == c->out_len) {
				c->state = C_SHUTDOWN;
				break;
			}
			ret = SSL_write_ex(c->ssl, c->out + c->out_off,
					   c->out_len - c->out_off, &n);
			if (ret != 1) {
				if (conn_wait(c, ret))
					conn_fail(c, &st->fail_tls, "TLS write");
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

static SSL *new_ssl(struct ke_server *s)
{
	SSL *ssl;

	pthread_mutex_lock(&s->ctx_lock);
	ssl = SSL_new(s->ctx);
	pthread_mutex_unlock(&s->ctx_lock);
	return ssl;
}

/* One line per REFUSAL_LOG_MS at most, whatever the flood. */
static void log_refusal(struct ke_worker *w, const char *why, uint64_t now)
{
	uint64_t total = w->st.refused_limit + w->st.refused_client + w->st.refused_rate;
	char addr[80];

	if (w->refusal_log_ms && now - w->refusal_log_ms < REFUSAL_LOG_MS)
		return;
	netaddr_format((struct sockaddr *)&w->peer, addr, sizeof(addr));
	log_warn("nts-ke %s: refused %llu connection(s) since the last report, the "
		 "latest from %s (%s)", w->srv->name,
		 (unsigned long long)(total - w->refused_logged), addr, why);
	w->refusal_log_ms = now;
	w->refused_logged = total;
}

static void accept_one(struct ke_worker *w, int fd)
{
	struct ke_server *s = w->srv;
	struct ke_limit_ticket t;
	struct ke_conn *c;
	uint64_t now = loop_now_ms();
	const char *why;
	int one = 1;

	w->st.accepted++;
	/* Refused at once, so a flood from one place cannot starve the others. */
	switch (ke_limit_admit(s->limit, (struct sockaddr *)&w->peer, now, &t)) {
	case KE_LIMIT_OK:
		goto admitted;
	case KE_LIMIT_TOTAL:
		w->st.refused_limit++;
		why = "concurrent-connections";
		break;
	case KE_LIMIT_RATE:
		w->st.refused_rate++;
		why = "per-client-accept-rate";
		break;
	case KE_LIMIT_CLIENT:
		w->st.refused_client++;
		why = "per-client-connections";
		break;
	default:
		w->st.refused_client++;
		why = "client table full";
		break;
	}
	close(fd);
	log_refusal(w, why, now);
	return;
admitted:
	c = calloc(1, sizeof(*c));
	if (!c)
		goto fail;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->w = w;
	c->fd = fd;
	c->ticket = t;
	c->io.cb = conn_io_done;
	c->timer.cb = conn_timer_done;
	c->ssl = new_ssl(s);
	if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
		SSL_free(c->ssl);
		free(c);
		goto fail;
	}
	ke_proto_req_init(&c->req, KE_PROTO_MAX_REQUEST);
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	c->start_ms = now;
	c->deadline_ms = now + s->cfg->key_exchange_timeout_ms;
	c->deadline_why = &w->st.fail_timeout;
	timer_arm(c, now);
	c->state = C_HANDSHAKE;
	conn_step(c);
	return;
fail:
	w->st.fail_internal++;
	ke_limit_release(s->limit, &t);
	close(fd);
}

/*
 * Readiness, not IORING_OP_ACCEPT: an accept's wakeup is exclusive and
 * goes to the same worker each time, even while it is busy in a handshake
 * and another one idles. A poll wakes every idle worker; the first to call
 * accept4() takes the connection, the others find nothing and wait again.
 */
static void arm_accept(struct ke_worker *w)
{
	loop_poll(&w->loop, &w->accept_op, w->srv->lfd, POLLIN);
	w->accept_armed = 1;
}

static void backoff_done(struct loop_op *op, int res, unsigned int flags)
{
	struct ke_worker *w = (struct ke_worker *)((char *)op -
						   offsetof(struct ke_worker, backoff_op));

	(void)res;
	(void)flags;
	if (!w->stopping)
		arm_accept(w);
}

/* Out of descriptors, buffers or memory: accepting again at once would spin. */
static void backoff(struct ke_worker *w, int err)
{
	if (!w->backoff_ms)
		log_warn("nts-ke %s: accept: %s; pausing accepts", w->srv->name,
			 strerror(err));
	w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (w->backoff_ms > BACKOFF_MAX_MS)
		w->backoff_ms = BACKOFF_MAX_MS;
	w->st.accept_backoffs++;
	loop_timeout_ms(&w->loop, &w->backoff_op, w->backoff_ms);
}

static void accept_done(struct loop_op *op, int res, unsigned int flags)
{
	struct ke_worker *w = (struct ke_worker *)((char *)op -
						   offsetof(struct ke_worker, accept_op));

	(void)flags;
	w->accept_armed = 0;
	if (w->stopping) {
		loop_stop(&w->loop);
		return;
	}
	if (res < 0 && res != -ECANCELED) {
		w->st.accept_errors++;
		backoff(w, -res);
		return;
	}
	/* A few per wakeup, so that connections in flight get their turn. */
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd;

		w->peer_len = sizeof(w->peer);
		fd = accept4(w->srv->lfd, (struct sockaddr *)&w->peer, &w->peer_len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			w->backoff_ms = 0;
			accept_one(w, fd);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		w->st.accept_errors++;
		/* That connection is gone; the next one may be fine. */
		if (errno == ECONNABORTED || errno == EINTR || errno == EPROTO)
			continue;
		backoff(w, errno);
		return;
	}
	arm_accept(w);
}

static void stop_done(struct loop_op *op, int res, unsigned int flags)
{
	struct ke_worker *w = (struct ke_worker *)((char *)op -
						   offsetof(struct ke_worker, stop_op));

	(void)res;
	(void)flags;
	w->stopping = 1;
	if (!w->accept_armed) {
		loop_stop(&w->loop);
		return;
	}
	/* A ring's teardown is asynchronous: cancel what watches the listener. */
	io_uring_prep_cancel_fd(loop_sqe(&w->loop, NULL), w->srv->lfd, 0);
}

static void *worker_main(void *arg)
{
	struct ke_worker *w = arg;
	struct ke_conn *c, *next;

	/* liburing 2.3 declares io_uring_enable_rings() but does not export it. */
	if (w->deferred && syscall(__NR_io_uring_register, w->loop.ring.ring_fd,
				   IORING_REGISTER_ENABLE_RINGS, NULL, 0))
		log_error("nts-ke %s: cannot enable a worker's ring", w->srv->name);
	loop_read(&w->loop, &w->stop_op, w->efd, &w->ev, sizeof(w->ev));
	arm_accept(w);
	loop_run(&w->loop);
	for (c = w->conns; c; c = next) {
		next = c->next;
		SSL_free(c->ssl);
		close(c->fd);
		conn_release(c);
		OPENSSL_cleanse(c, sizeof(*c));
		free(c);
	}
	w->conns = NULL;
	return NULL;
}

static int worker_start(struct ke_server *s, struct ke_worker *w)
{
	w->srv = s;
	w->stop_op.cb = stop_done;
	w->accept_op.cb = accept_done;
	w->backoff_op.cb = backoff_done;
	w->efd = eventfd(0, EFD_CLOEXEC);
	if (w->efd < 0)
		return -1;
	/*
	 * Completions are processed only when the worker asks for them, not
	 * by interrupting a handshake in progress; the ring is bound to the
	 * worker thread, which enables it. Older kernels get a plain ring.
	 */
	memset(&w->loop, 0, sizeof(w->loop));
	w->deferred = !io_uring_queue_init(1024, &w->loop.ring, IORING_SETUP_R_DISABLED |
					   IORING_SETUP_SINGLE_ISSUER |
					   IORING_SETUP_DEFER_TASKRUN);
	if (!w->deferred && loop_init(&w->loop, 1024)) {
		close(w->efd);
		w->efd = -1;
		return -1;
	}
	if (pthread_create(&w->tid, NULL, worker_main, w)) {
		loop_exit(&w->loop);
		close(w->efd);
		w->efd = -1;
		return -1;
	}
	w->started = 1;
	return 0;
}

static void worker_stop(struct ke_worker *w)
{
	uint64_t one = 1;

	if (!w->started)
		return;
	if (write(w->efd, &one, sizeof(one)) != sizeof(one))
		log_error("nts-ke %s: cannot stop a worker", w->srv->name);
	pthread_join(w->tid, NULL);
	loop_exit(&w->loop);
	close(w->efd);
	w->started = 0;
}

/*
 * Every connection is a descriptor: make sure the limits can be reached
 * before the process runs out of them. Needs add up over servers.
 */
static void raise_nofile(const char *name, unsigned int conns)
{
	static rlim_t need = NOFILE_BASE;
	struct rlimit rl;

	need += conns;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur >= need)
		return;
	if (rl.rlim_max < need) {
		struct rlimit want = { need, need };

		/* Raising the hard limit needs CAP_SYS_RESOURCE (root has it). */
		if (!setrlimit(RLIMIT_NOFILE, &want))
			return;
	}
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	if (setrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < need)
		log_warn("nts-ke %s: open file limit %llu is below the %llu that "
			 "concurrent-connections needs", name,
			 (unsigned long long)rl.rlim_cur, (unsigned long long)need);
}

int ke_server_reload(struct ke_server *s)
{
	char err[512];
	SSL_CTX *old, *ctx = tls_server_ctx_new(s->cfg->certificate_chain_path,
						s->cfg->private_key_path, err, sizeof(err));

	if (!ctx) {
		s->reloads_failed++;
		log_error("nts-ke %s: certificate reload failed, still serving the "
			  "previous certificate: %s", s->name, err);
		return -1;
	}
	/* Connections in flight hold a reference to the old context. */
	pthread_mutex_lock(&s->ctx_lock);
	old = s->ctx;
	s->ctx = ctx;
	pthread_mutex_unlock(&s->ctx_lock);
	SSL_CTX_free(old);
	s->reloads_ok++;
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
				struct keyset *ks,
				char *err, size_t errlen)
{
	struct ke_server *s = calloc(1, sizeof(*s));
	struct ke_limit_config lc = {
		.max_total = cfg->concurrent_connections,
		.per_client = cfg->per_client_connections,
		.rate = cfg->per_client_accept_rate,
		.burst = cfg->per_client_accept_burst,
	};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
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
	pthread_mutex_init(&s->ctx_lock, NULL);
	s->inotify_op.cb = inotify_done;
	s->settle_op.cb = settle_done;
	s->params.ntp_server = cfg->ntp_server;
	s->params.ntp_port = cfg->ntp_port;
	s->params.aeads = cfg->aeads;
	s->params.n_aeads = cfg->n_aeads;
	s->params.tokens = (const uint8_t (*)[KE_PROTO_TOKEN_DIGEST])cfg->pool_token_digests;
	s->params.n_tokens = cfg->n_pool_tokens;
	netaddr_from_config(&cfg->listen, &s->listen);
	netaddr_format((struct sockaddr *)&s->listen.ss, s->name, sizeof(s->name));
	s->limit = ke_limit_new(&lc);
	if (!s->limit) {
		snprintf(err, errlen, "nts-ke-server %s: out of memory", s->name);
		goto fail;
	}
	s->ctx = tls_server_ctx_new(cfg->certificate_chain_path, cfg->private_key_path,
				    err, errlen);
	if (!s->ctx)
		goto fail;
	raise_nofile(s->name, cfg->concurrent_connections);
	s->lfd = socket(s->listen.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		goto fail_errno;
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s->listen.ss.ss_family == AF_INET6)
		setsockopt(s->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(s->lfd, (const struct sockaddr *)&s->listen.ss, s->listen.len) ||
	    listen(s->lfd, 1024))
		goto fail_errno;
	s->n_workers = cfg->workers ? cfg->workers : (unsigned int)(ncpu > 0 ? ncpu : 1);
	s->w = calloc(s->n_workers, sizeof(*s->w));
	if (!s->w) {
		snprintf(err, errlen, "nts-ke-server %s: out of memory", s->name);
		goto fail;
	}
	for (unsigned int i = 0; i < s->n_workers; i++) {
		s->w[i].efd = -1;
		if (worker_start(s, &s->w[i])) {
			snprintf(err, errlen, "nts-ke-server %s: cannot start a worker: %s",
				 s->name, strerror(errno));
			goto fail;
		}
	}
	rewatch(s);
	arm_inotify(s);
	log_info("nts-ke: listening on %s, %u workers", s->name, s->n_workers);
	return s;
fail_errno:
	snprintf(err, errlen, "nts-ke-server listen %s: %s", s->name, strerror(errno));
fail:
	ke_server_free(s);
	return NULL;
}

void ke_server_free(struct ke_server *s)
{
	if (!s)
		return;
	/* Workers end their connections and give the listener back first. */
	for (unsigned int i = 0; s->w && i < s->n_workers; i++)
		worker_stop(&s->w[i]);
	free(s->w);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->ifd >= 0)
		close(s->ifd);
	SSL_CTX_free(s->ctx);
	ke_limit_free(s->limit);
	pthread_mutex_destroy(&s->ctx_lock);
	free(s);
}
