// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <linux/net_tstamp.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <linux/errqueue.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "config_map.h"
#include "log.h"
#include "netaddr.h"
#include "ntp.h"
#include "ntp_policy.h"
#include "phc_source.h"
#include "source.h"

/* RFC 5905 frequency tolerance, for the dispersion of a sample. */
#define PHI 15e-6

const char *source_mode_name(enum config_source_mode m)
{
	switch (m) {
	case CONFIG_SOURCE_SERVER:
		return "server";
	case CONFIG_SOURCE_POOL:
		return "pool";
	case CONFIG_SOURCE_NTS:
		return "nts";
	case CONFIG_SOURCE_PHC:
		return "phc";
	}
	return "?";
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int source_poll(const struct source *s)
{
	return s->n_assoc ? s->assoc[0].poll : s->cfg->initial_poll;
}

static void arm_poll(struct source *s, uint64_t ms)
{
	if (s->poll_armed || s->stopping)
		return;
	s->poll_armed = 1;
	loop_timeout_ms(s->loop, &s->poll_op, ms);
}

static void ntp_start_ke(struct source *s)
{
	uint64_t now = loop_now_ms(), at = ke_client_retry_at(s->ke);

	if (at > now) {
		arm_poll(s, at - now);
		return;
	}
	ke_client_start(s->ke);
}

/* ---- receive ---- */

static void arm_recv(struct assoc *a)
{
	memset(&a->msg, 0, sizeof(a->msg));
	a->iov.iov_base = a->rbuf;
	a->iov.iov_len = sizeof(a->rbuf);
	a->msg.msg_iov = &a->iov;
	a->msg.msg_iovlen = 1;
	a->msg.msg_control = a->ctrl;
	a->msg.msg_controllen = sizeof(a->ctrl);
	a->pending++;
	io_uring_prep_recvmsg(loop_sqe(a->src->loop, &a->recv_op), a->fd, &a->msg, 0);
}

static void fail_sample(struct assoc *a, const char *why)
{
	a->invalid++;
	snprintf(a->last_error, sizeof(a->last_error), "%s", why);
	log_debug("source %s (%s): response refused: %s", a->src->name, a->name, why);
}

static double ts_diff(uint64_t a, uint64_t b)
{
	/* Differences of NTP timestamps are era-safe as signed 32.32 values. */
	return (double)(int64_t)(a - b) / 4294967296.0;
}

static void take_cookies(struct source *s, const struct nts_ntp_response *r)
{
	for (unsigned int i = 0; i < r->n_cookies && s->jar_n < SOURCE_JAR_MAX; i++) {
		if (r->cookie_lens[i] > NTS_NTP_MAX_COOKIE_LEN)
			continue;
		memcpy(s->jar[s->jar_n], r->cookies[i], r->cookie_lens[i]);
		s->jar_len[s->jar_n++] = (uint16_t)r->cookie_lens[i];
	}
}

static void process(struct assoc *a, size_t len)
{
	struct source *s = a->src;
	struct nts_ntp_response resp;
	struct timespec t4s = { 0 };
	struct ntp_header h;
	uint8_t plain[2048];
	struct cmsghdr *c;
	uint64_t t4;
	double delay;
	int ret;

	for (c = CMSG_FIRSTHDR(&a->msg); c; c = CMSG_NXTHDR(&a->msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
			struct scm_timestamping tss;

			memcpy(&tss, CMSG_DATA(c), sizeof(tss));
			t4s = tss.ts[0];
		}
	}
	if (!t4s.tv_sec)
		clock_gettime(CLOCK_REALTIME, &t4s);
	t4 = ntp_ts_from_timespec(&t4s);
	if (!a->waiting) {
		fail_sample(a, "unexpected response (duplicate or late)");
		return;
	}
	if (ntp_header_decode(&h, a->rbuf, len) || h.mode != NTP_MODE_SERVER) {
		fail_sample(a, "not an NTP server response");
		return;
	}
	if (h.orig_ts != a->t1) {
		fail_sample(a, "origin timestamp does not match our request");
		return;
	}
	if (s->cfg->mode == CONFIG_SOURCE_NTS) {
		ret = nts_ntp_client_response(a->rbuf, len, a->uid, sizeof(a->uid), s->aead,
					      &s->keys, plain, sizeof(plain), &resp);
		if (ret == NTS_NTP_NAK && s->have_alt_keys) {
			/*
			 * The server named AEAD 30 without record 1024 and then
			 * NAKs the first request: it derives keys as RFC 8915
			 * says, not as chrony 4.4-4.6 do. Keep the cookies and
			 * switch keys once (Documentation/nts-ke.md).
			 */
			a->waiting = 0;
			a->naks++;
			s->keys = s->alt_keys;
			s->have_alt_keys = 0;
			OPENSSL_cleanse(&s->alt_keys, sizeof(s->alt_keys));
			snprintf(a->last_error, sizeof(a->last_error),
				 "NTS NAK: switched to RFC 8915 AES-128-GCM-SIV keys");
			log_info("source %s: NTS NAK with chrony 4.4-4.6 AES-128-GCM-SIV keys, "
				 "switching to RFC 8915 keys", s->name);
			return;
		}
		if (ret == NTS_NTP_NAK) {
			/*
			 * Anyone on the path can send one: keep waiting for the
			 * real answer, and decide at the next poll.
			 */
			a->naks++;
			s->nak_pending = 1;
			snprintf(a->last_error, sizeof(a->last_error),
				 "NTS NAK: new key exchange unless an authenticated response "
				 "arrives by the next poll");
			log_info("source %s: NTS NAK (unauthenticated), keeping the cookies "
				 "until the next poll", s->name);
			return;
		}
		if (ret != NTS_NTP_OK) {
			fail_sample(a, nts_ntp_strerror(ret));
			return;
		}
		take_cookies(s, &resp);
		/* These keys work: the other derivation is never needed. */
		if (s->have_alt_keys) {
			s->have_alt_keys = 0;
			OPENSSL_cleanse(&s->alt_keys, sizeof(s->alt_keys));
		}
		s->nak_pending = 0;
	}
	a->waiting = 0;
	if (h.stratum == 0) {
		char code[NTP_REFID_TEXT];

		a->kisses++;
		/* The code is the server's bytes: escaped before anyone reads it. */
		ntp_refid_text(h.refid, code);
		snprintf(a->last_error, sizeof(a->last_error), "kiss-o'-death %s", code);
		if (!memcmp(h.refid, "RATE", 4) &&
		    a->poll < s->cfg->poll_limits.max)
			a->poll++;
		return;
	}
	if (h.stratum >= 16 || h.leap == NTP_LEAP_UNSYNC) {
		fail_sample(a, "server is not synchronized");
		return;
	}
	if (!h.tx_ts || !h.rx_ts) {
		fail_sample(a, "zero timestamp");
		return;
	}
	delay = ts_diff(t4, a->t1) - ts_diff(h.tx_ts, h.rx_ts);
	if (delay < 0)
		delay = 0;
	a->last.offset = (ts_diff(h.rx_ts, a->t1) + ts_diff(h.tx_ts, t4)) / 2;
	a->last.delay = delay;
	a->last.dispersion = ldexp(1.0, h.precision) + ldexp(1.0, -20) +
			     PHI * ts_diff(t4, a->t1);
	a->last.stratum = h.stratum;
	a->last.leap = h.leap;
	memcpy(a->last.refid, h.refid, 4);
	a->last.root_delay = (double)h.root_delay / 65536.0;
	a->last.root_dispersion = (double)h.root_dispersion / 65536.0;
	a->last.when_ns = (int64_t)t4s.tv_sec * 1000000000 + t4s.tv_nsec;
	a->last.mono_ns = mono_ns();
	a->have_sample = 1;
	a->received++;
	a->reach |= 1;
	a->last_error[0] = 0;
	if (++a->good_in_row >= 4 && a->poll < s->cfg->poll_limits.max) {
		a->poll++;
		a->good_in_row = 0;
	}
	log_debug("source %s (%s): offset %+.6f delay %.6f stratum %u", s->name, a->name,
		  a->last.offset, a->last.delay, h.stratum);
	if (s->on_sample)
		s->on_sample(s, a, s->arg);
}

static void recv_done(struct loop_op *op, int res, unsigned int flags)
{
	struct assoc *a = (struct assoc *)((char *)op - offsetof(struct assoc, recv_op));

	(void)flags;
	a->pending--;
	if (a->src->stopping || res == -ECANCELED)
		return;
	if (res >= 0)
		process(a, (size_t)res);
	else if (res != -ECONNREFUSED)
		snprintf(a->last_error, sizeof(a->last_error), "receive: %s", strerror(-res));
	else
		snprintf(a->last_error, sizeof(a->last_error), "port unreachable");
	arm_recv(a);
}

/* ---- send ---- */

static void send_done(struct loop_op *op, int res, unsigned int flags)
{
	struct assoc *a = (struct assoc *)((char *)op - offsetof(struct assoc, send_op));

	(void)flags;
	a->pending--;
	if (res < 0 && !a->src->stopping)
		snprintf(a->last_error, sizeof(a->last_error), "send: %s", strerror(-res));
}

static void send_request(struct assoc *a)
{
	struct source *s = a->src;
	struct ntp_header h = { 0 };
	struct timespec now;
	unsigned int ph;
	size_t len = NTP_HEADER_LEN;
	int ret;

	h.leap = NTP_LEAP_UNSYNC;
	h.version = 4;
	h.mode = NTP_MODE_CLIENT;
	h.poll = (int8_t)a->poll;
	h.precision = -20;
	clock_gettime(CLOCK_REALTIME, &now);
	a->t1 = ntp_ts_from_timespec(&now);
	h.tx_ts = a->t1;
	if (s->cfg->mode == CONFIG_SOURCE_NTS) {
		unsigned int n;

		/*
		 * Ask for as many cookies as bring the jar back to full, but
		 * only as many placeholders as the packet holds: the cookie is
		 * spent only once the request is built, never for a failure.
		 * Oldest cookie first: taking the newest would leave the key
		 * exchange's cookies at the bottom of the jar to age past the
		 * server's stale keys, and the first losses would then dig them
		 * out and earn a NAK.
		 */
		ph = SOURCE_JAR_MAX - s->jar_n;
		do {
			len = NTP_HEADER_LEN;
			ret = nts_ntp_client_request(a->sbuf, sizeof(a->sbuf), &len, &h, s->aead,
						     &s->keys, s->jar[0], s->jar_len[0], ph, a->uid);
		} while (ret == NTS_NTP_ERR_SPACE && ph-- > 0);
		if (ret != NTS_NTP_OK) {
			snprintf(a->last_error, sizeof(a->last_error), "request: %s",
				 nts_ntp_strerror(ret));
			return;
		}
		n = --s->jar_n;
		memmove(s->jar[0], s->jar[1], n * sizeof(s->jar[0]));
		memmove(&s->jar_len[0], &s->jar_len[1], n * sizeof(s->jar_len[0]));
		OPENSSL_cleanse(s->jar[n], sizeof(s->jar[n]));
	} else {
		ntp_header_encode(&h, a->sbuf);
	}
	a->waiting = 1;
	a->sent++;
	a->pending++;
	io_uring_prep_send(loop_sqe(s->loop, &a->send_op), a->fd, a->sbuf, len, 0);
	/* T1 is our transmit time: the send must not wait for the next loop turn. */
	loop_submit(s->loop);
}

static void poll_done(struct loop_op *op, int res, unsigned int flags)
{
	struct source *s = (struct source *)((char *)op - offsetof(struct source, poll_op));

	(void)flags;
	s->poll_armed = 0;
	if (res != -ETIME || s->stopping)
		return;
	if (s->cfg->mode == CONFIG_SOURCE_NTS && s->nak_pending) {
		log_info("source %s: NTS NAK and no authenticated response since, new key "
			 "exchange", s->name);
		s->nak_pending = 0;
		s->have_session = 0;
		s->jar_n = 0;
		for (unsigned int i = 0; i < s->n_assoc; i++)
			s->assoc[i].waiting = 0;
		ntp_start_ke(s);
		return;
	}
	if (s->cfg->mode == CONFIG_SOURCE_NTS && (!s->have_session || !s->jar_n)) {
		if (s->have_session)
			log_info("source %s: out of cookies, new key exchange", s->name);
		s->have_session = 0;
		ntp_start_ke(s);
		return;
	}
	for (unsigned int i = 0; i < s->n_assoc; i++) {
		struct assoc *a = &s->assoc[i];

		if (a->waiting) {
			a->lost++;
			a->good_in_row = 0;
			if (a->poll > s->cfg->poll_limits.min)
				a->poll--;
		}
		a->reach <<= 1;
		if (s->cfg->mode != CONFIG_SOURCE_NTS || s->jar_n)
			send_request(a);
	}
	arm_poll(s, 1000ULL << (source_poll(s) > 0 ? source_poll(s) : 0));
}

/* ---- associations ---- */

static int assoc_open(struct source *s, struct assoc *a, const struct sockaddr *sa,
		      socklen_t len)
{
	int tsflags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;

	if (a->fd < 0) {
		a->src = s;
		a->send_op.cb = send_done;
		a->recv_op.cb = recv_done;
		a->poll = s->cfg->initial_poll;
		if (a->poll < s->cfg->poll_limits.min)
			a->poll = s->cfg->poll_limits.min;
		if (a->poll > s->cfg->poll_limits.max)
			a->poll = s->cfg->poll_limits.max;
		a->fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (a->fd < 0)
			return -1;
		setsockopt(a->fd, SOL_SOCKET, SO_TIMESTAMPING, &tsflags, sizeof(tsflags));
	} else {
		struct sockaddr_storage cur;
		socklen_t cl = sizeof(cur);

		/* A new server of another family needs a new socket. */
		if (getsockname(a->fd, (struct sockaddr *)&cur, &cl) ||
		    cur.ss_family != sa->sa_family) {
			snprintf(a->last_error, sizeof(a->last_error),
				 "server changed address family");
			return -1;
		}
	}
	if (connect(a->fd, sa, len))
		return -1;
	memcpy(&a->addr, sa, len);
	a->addr_len = len;
	netaddr_format(sa, a->name, sizeof(a->name));
	a->waiting = 0;
	if (!a->pending)
		arm_recv(a);
	return 0;
}

/* A pool's `ignore` list: addresses never to be used. */
static bool pool_ignores(const struct config_source *c, const struct sockaddr *sa)
{
	struct ntp_policy_subnet sn;

	for (size_t i = 0; i < c->n_ignore; i++) {
		config_map_subnet(&c->ignore[i], &sn);
		if (ntp_policy_subnet_match(&sn, sa))
			return true;
	}
	return false;
}

static void resolved(struct resolve_req *r)
{
	struct source *s = (struct source *)((char *)r - offsetof(struct source, res));
	unsigned int want;

	s->resolving = 0;
	if (s->stopping)
		return;
	if (r->error) {
		log_warn("source %s: cannot resolve %s: %s", s->name, r->host,
			 gai_strerror(r->error));
		if (s->n_assoc)
			snprintf(s->assoc[0].last_error, sizeof(s->assoc[0].last_error),
				 "resolve: %s", gai_strerror(r->error));
		/* Try again later; a name may appear once the network is up. */
		s->resolved = 0;
		arm_poll(s, 10000);
		return;
	}
	if (s->cfg->mode == CONFIG_SOURCE_NTS) {
		/* One association, re-pointed after every key exchange. */
		for (int i = 0; i < r->count; i++) {
			if (!assoc_open(s, &s->assoc[0], (struct sockaddr *)&r->addr[i],
					r->addr_len[i])) {
				s->n_assoc = 1;
				break;
			}
			log_warn("source %s: %s: %s", s->name, r->host, strerror(errno));
		}
	} else {
		want = s->cfg->mode == CONFIG_SOURCE_POOL ? s->cfg->count : 1;
		if (want > SOURCE_MAX_ASSOC)
			want = SOURCE_MAX_ASSOC;
		for (int i = 0; i < r->count && s->n_assoc < want; i++) {
			struct assoc *a = &s->assoc[s->n_assoc];

			if (pool_ignores(s->cfg, (struct sockaddr *)&r->addr[i]))
				continue;
			if (assoc_open(s, a, (struct sockaddr *)&r->addr[i], r->addr_len[i])) {
				log_warn("source %s: %s: %s", s->name, r->host, strerror(errno));
				continue;
			}
			s->n_assoc++;
		}
	}
	s->resolved = 1;
	if (!s->poll_armed)
		arm_poll(s, 0);
}

static void resolve(struct source *s, const char *host, uint16_t port)
{
	int ret;

	if (s->resolving)
		return;
	s->resolving = 1;
	s->res.done = resolved;
	ret = resolve_start(s->loop, &s->res, host, port, SOCK_DGRAM);
	if (ret) {
		s->resolving = 0;
		log_warn("source %s: resolve: %s", s->name, strerror(-ret));
		arm_poll(s, 10000);
	}
}

static void ke_done(struct ke_client *c, void *arg)
{
	struct source *s = arg;
	const struct ke_result *r = ke_client_result(c);

	if (s->stopping)
		return;
	if (!r) {
		s->ke_failed++;
		ntp_start_ke(s);
		return;
	}
	s->ke_ok++;
	if (!s->aead)
		s->aead = aead_new();
	OPENSSL_cleanse(&s->keys, sizeof(s->keys));
	s->keys = r->ke.keys;
	OPENSSL_cleanse(&s->alt_keys, sizeof(s->alt_keys));
	s->have_alt_keys = r->ke.has_alt_keys;
	if (s->have_alt_keys)
		s->alt_keys = r->ke.alt_keys;
	s->jar_n = r->ke.n_cookies < SOURCE_JAR_MAX ? r->ke.n_cookies : SOURCE_JAR_MAX;
	s->nak_pending = 0;
	for (unsigned int i = 0; i < s->jar_n; i++) {
		s->jar_len[i] = r->ke.cookie_len[i];
		memcpy(s->jar[i], r->ke.cookies[i], r->ke.cookie_len[i]);
	}
	snprintf(s->ntp_server, sizeof(s->ntp_server), "%s", r->ke.ntp_server);
	s->ntp_port = r->ke.ntp_port ? r->ke.ntp_port : CONFIG_NTP_PORT;
	s->have_session = s->aead != NULL;
	log_info("source %s: NTS-KE done: AEAD %u, %u cookies, NTP at %s port %u%s",
		 s->name, s->keys.aead, s->jar_n, s->ntp_server, s->ntp_port,
		 ke_client_ktls(c) ? ", kTLS" : "");
	/* The negotiated server may differ from before: look it up again. */
	resolve(s, s->ntp_server, s->ntp_port);
}

int source_init(struct source *s, struct loop *l, const struct config_source *cfg,
		char *err, size_t errlen)
{
	struct ke_client_params p = { 0 };

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->loop = l;
	s->poll_op.cb = poll_done;
	for (int i = 0; i < SOURCE_MAX_ASSOC; i++)
		s->assoc[i].fd = -1;
	snprintf(s->name, sizeof(s->name), "%s:%u", cfg->host, cfg->port);
	if (cfg->mode == CONFIG_SOURCE_PHC)
		return phc_source_init(s, err, errlen);
	if (cfg->mode != CONFIG_SOURCE_NTS)
		return 0;
	p.host = cfg->host;
	p.port = cfg->port;
	p.ca_path = cfg->certificate_authority;
	p.pin = cfg->has_pin ? cfg->pin : NULL;
	s->ke = ke_client_new(l, &p, ke_done, s, err, errlen);
	return s->ke ? 0 : -1;
}

void source_start(struct source *s)
{
	if (s->phc)
		phc_source_start(s);
	else if (s->ke)
		ke_client_start(s->ke);
	else
		resolve(s, s->cfg->host, s->cfg->port);
}

void source_fini(struct source *s)
{
	phc_source_fini(s);
	s->stopping = 1;
	resolve_cancel(&s->res);
	ke_client_free(s->ke);
	s->ke = NULL;
	aead_free(s->aead);
	s->aead = NULL;
	for (unsigned int i = 0; i < SOURCE_MAX_ASSOC; i++)
		if (s->assoc[i].fd >= 0)
			close(s->assoc[i].fd);
	OPENSSL_cleanse(&s->keys, sizeof(s->keys));
	OPENSSL_cleanse(&s->alt_keys, sizeof(s->alt_keys));
	OPENSSL_cleanse(s->jar, sizeof(s->jar));
}

static void assoc_json(const struct assoc *a, struct sbuf *out)
{
	sbuf_printf(out, "{\"address\":");
	sbuf_json_str(out, a->name);
	sbuf_printf(out, ",\"poll\":%d,\"reach\":%u,\"sent\":%llu,\"received\":%llu,"
		    "\"invalid\":%llu,\"lost\":%llu,\"naks\":%llu,\"kisses\":%llu",
		    a->poll, a->reach, (unsigned long long)a->sent,
		    (unsigned long long)a->received, (unsigned long long)a->invalid,
		    (unsigned long long)a->lost, (unsigned long long)a->naks,
		    (unsigned long long)a->kisses);
	if (a->have_sample)
		sbuf_printf(out, ",\"offset\":%.9f,\"delay\":%.9f,\"dispersion\":%.9f,"
			    "\"stratum\":%u,\"leap\":%u,\"refid\":\"%02x%02x%02x%02x\","
			    "\"age\":%.1f",
			    a->last.offset, a->last.delay, a->last.dispersion, a->last.stratum,
			    a->last.leap, a->last.refid[0], a->last.refid[1], a->last.refid[2],
			    a->last.refid[3], (double)(mono_ns() - a->last.mono_ns) / 1e9);
	sbuf_printf(out, ",\"error\":");
	sbuf_json_str(out, a->last_error);
	sbuf_printf(out, "}");
}

void source_status_json(const struct source *s, struct sbuf *out)
{
	sbuf_printf(out, "{\"address\":");
	sbuf_json_str(out, s->name);
	sbuf_printf(out, ",\"mode\":\"%s\",\"authenticated\":%s", source_mode_name(s->cfg->mode),
		    s->cfg->mode == CONFIG_SOURCE_NTS ? "true" : "false");
	if (s->ke) {
		sbuf_printf(out, ",\"nts_ke\":{\"state\":\"%s\",\"ok\":%llu,\"failed\":%llu,"
			    "\"consecutive_failures\":%u,\"ktls\":%s,\"error\":",
			    ke_client_state_name(ke_client_state(s->ke)),
			    (unsigned long long)s->ke_ok, (unsigned long long)s->ke_failed,
			    ke_client_failures(s->ke), ke_client_ktls(s->ke) ? "true" : "false");
		sbuf_json_str(out, ke_client_error(s->ke));
		sbuf_printf(out, ",\"aead\":%u,\"cookies\":%u,\"ntp_server\":",
			    s->have_session ? s->keys.aead : 0, s->jar_n);
		sbuf_json_str(out, s->ntp_server);
		sbuf_printf(out, ",\"ntp_port\":%u}", s->ntp_port);
	}
	if (s->phc)
		phc_source_status_json(s, out);
	sbuf_printf(out, ",\"associations\":[");
	for (unsigned int i = 0; i < s->n_assoc; i++) {
		sbuf_printf(out, "%s", i ? "," : "");
		assoc_json(&s->assoc[i], out);
	}
	sbuf_printf(out, "]}");
}
