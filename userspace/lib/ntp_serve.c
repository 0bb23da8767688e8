// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cookie.h"
#include "keyset.h"
#include "ntp.h"
#include "ntp_policy.h"
#include "ntp_serve.h"
#include "nts_ntp.h"

static const char *const names[NTP_SERVE_N_OUTCOMES] = {
	[NTP_SERVE_PLAIN] = "plain",
	[NTP_SERVE_NTS] = "nts",
	[NTP_SERVE_NAK] = "nak",
	/* The kiss and list names are the status counters' since before. */
	[NTP_SERVE_RATE] = "rate_limited",
	[NTP_SERVE_DENY] = "denied",
	[NTP_SERVE_DROP_INVALID] = "drop_invalid",
	[NTP_SERVE_DROP_NTS] = "drop_nts_malformed",
	[NTP_SERVE_DROP_NO_NTS] = "drop_nts_unconfigured",
	[NTP_SERVE_DROP_IGNORED] = "ignored",
	[NTP_SERVE_DROP_POLICY] = "drop_policy",
	[NTP_SERVE_DROP_ERROR] = "drop_error",
};

const char *ntp_serve_outcome_name(enum ntp_serve_outcome o)
{
	return o < NTP_SERVE_N_OUTCOMES ? names[o] : "?";
}

uint64_t ntp_serve_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ntp_ts_from_timespec(&ts);
}

uint64_t ntp_serve_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int ntp_serve_ctx_init(struct ntp_serve_ctx *c, const struct keyset *ks)
{
	memset(c, 0, sizeof(*c));
	c->ks = ks;
	c->versions = (1U << 3) | (1U << 4);
	c->tx_now = ntp_serve_now;
	c->mono_ms = ntp_serve_mono_ms;
	c->session = aead_new();
	c->cookie = aead_new();
	if (!c->session || !c->cookie) {
		ntp_serve_ctx_fini(c);
		return -1;
	}
	return 0;
}

void ntp_serve_ctx_fini(struct ntp_serve_ctx *c)
{
	aead_free(c->session);
	aead_free(c->cookie);
	memset(c, 0, sizeof(*c));
}

enum kiss {
	KISS_NONE,
	KISS_RATE,
	KISS_DENY,
};

/* The response header as the XDP program writes it (bpf/xnts.bpf.c). */
static void fill_header(struct ntp_header *h, const struct ntp_header *rq, uint64_t rx_ts,
			const struct ntp_serve_state *st, enum kiss kiss)
{
	memset(h, 0, sizeof(*h));
	h->version = rq->version;
	h->mode = NTP_MODE_SERVER;
	h->poll = rq->poll;
	h->precision = st->precision;
	h->orig_ts = rq->tx_ts;
	h->rx_ts = rx_ts;
	if (kiss != KISS_NONE) {
		h->leap = NTP_LEAP_UNSYNC;
		h->stratum = 0;
		memcpy(h->refid, kiss == KISS_RATE ? "RATE" : "DENY", 4);
		return;
	}
	h->leap = st->leap & 3;
	h->stratum = st->stratum;
	memcpy(h->refid, st->refid, 4);
	h->root_delay = st->root_delay;
	h->root_dispersion = st->root_dispersion;
	h->ref_ts = st->reference_time;
}

static enum ntp_serve_outcome serve_nts_keys(struct ntp_serve_ctx *c,
					     struct nts_ntp_request *r, uint64_t rx_ts,
					     const struct ntp_serve_state *st, uint8_t *out,
					     size_t cap, size_t *out_len)
{
	/* Back to back, as nts_ntp_server_response() reads them. */
	uint8_t cookies[NTS_NTP_MAX_COOKIES * COOKIE_MAX_LEN];
	/* Whole-packet sized: however many encrypted fields a valid request has. */
	uint8_t plain[NTS_NTP_MAX_PACKET];
	const struct keyset_key *cur;
	struct ntp_header h;
	struct nts_keys keys;
	enum cookie_result cr;
	unsigned int n, sent;
	size_t clen;
	int ret;

	cr = cookie_open_siv(c->cookie, c->ks, r->cookie, r->cookie_len, &keys);
	if (cr == COOKIE_ERROR)
		return NTP_SERVE_DROP_ERROR;
	fill_header(&h, &r->hdr, rx_ts, st, KISS_NONE);
	if (cr != COOKIE_OK)
		goto nak;
	if (nts_ntp_server_verify(r, c->session, &keys, plain, sizeof(plain)) != NTS_NTP_OK)
		goto nak;
	clen = cookie_len(keys.aead);
	cur = keyset_current(c->ks);
	n = nts_ntp_response_cookies(r, clen);
	for (unsigned int i = 0; i < n; i++) {
		if (cookie_seal_siv(c->cookie, cur, &keys, cookies + i * clen, clen) < 0) {
			OPENSSL_cleanse(&keys, sizeof(keys));
			return NTP_SERVE_DROP_ERROR;
		}
	}
	h.tx_ts = c->tx_now();
	ret = nts_ntp_server_response(out, cap, out_len, &h, r, c->session, &keys, cookies, clen, n,
				      NULL, &sent);
	OPENSSL_cleanse(&keys, sizeof(keys));
	return ret == NTS_NTP_OK ? NTP_SERVE_NTS : NTP_SERVE_DROP_ERROR;
nak:
	OPENSSL_cleanse(&keys, sizeof(keys));
	h.tx_ts = c->tx_now();
	ret = nts_ntp_server_nak(out, cap, out_len, &h, r);
	return ret == NTS_NTP_OK ? NTP_SERVE_NAK : NTP_SERVE_DROP_ERROR;
}

/* PLAIN or NTS (r parsed) for a request to answer, else why it is dropped. */
static enum ntp_serve_outcome classify(const uint8_t *req, size_t len,
				       struct nts_ntp_request *r)
{
	int ret;

	if (len == NTP_HEADER_LEN)
		return NTP_SERVE_PLAIN;
	ret = nts_ntp_server_parse(req, len, r);
	if (ret == NTS_NTP_OK)
		return NTP_SERVE_NTS;
	if (ret == NTS_NTP_ERR_MAC)
		return NTP_SERVE_DROP_INVALID;
	/*
	 * Plain only if no NTS field is there at all: a cookie, placeholder or
	 * authenticator without a Unique Identifier says NTS was meant, and a
	 * malformed NTS request is never answered as plain NTP. (NO_COOKIE
	 * comes only after a Unique Identifier.)
	 */
	if (ret == NTS_NTP_ERR_NO_UID && !r->cookie && !r->n_placeholders && !r->ct)
		return NTP_SERVE_PLAIN;
	return NTP_SERVE_DROP_NTS;
}

static enum ntp_serve_outcome answer_plain(struct ntp_serve_ctx *c, const struct ntp_header *rq,
					   uint64_t rx_ts, const struct ntp_serve_state *st,
					   enum kiss kiss, uint8_t *out, size_t *out_len)
{
	struct ntp_header h;

	fill_header(&h, rq, rx_ts, st, kiss);
	h.tx_ts = c->tx_now();
	ntp_header_encode(&h, out);
	*out_len = NTP_HEADER_LEN;
	return kiss == KISS_RATE ? NTP_SERVE_RATE :
	       kiss == KISS_DENY ? NTP_SERVE_DENY : NTP_SERVE_PLAIN;
}

/* Only NTS requests touch the keyset, and without a lock: the keys come
 * from a snapshot a rotation cannot free under us (keyset.h). */
static enum ntp_serve_outcome serve_nts(struct ntp_serve_ctx *c, struct nts_ntp_request *r,
					uint64_t rx_ts, const struct ntp_serve_state *st,
					uint8_t *out, size_t cap, size_t *out_len)
{
	enum ntp_serve_outcome o;

	keyset_read_lock();
	o = serve_nts_keys(c, r, rx_ts, st, out, cap, out_len);
	keyset_read_unlock();
	return o;
}

enum ntp_serve_outcome ntp_serve(struct ntp_serve_ctx *c, const uint8_t *req, size_t len,
				 const struct sockaddr *from, uint64_t rx_ts,
				 const struct ntp_serve_state *st, uint8_t *out, size_t cap,
				 size_t *out_len)
{
	struct nts_ntp_request r;
	enum kiss kiss = KISS_NONE;
	struct ntp_header rq;
	enum ntp_serve_outcome kind;

	*out_len = 0;
	/* 1: an acceptable client request at all. */
	if (ntp_header_decode(&rq, req, len) || rq.mode != NTP_MODE_CLIENT ||
	    !(c->versions & (1U << rq.version)) ||
	    (rq.version != 3 && rq.version != 4) || len > NTS_NTP_MAX_PACKET ||
	    cap < NTP_HEADER_LEN)
		return NTP_SERVE_DROP_INVALID;
	/* NTPv3 has no extension fields: more than a header is a MAC or junk. */
	if (rq.version == 3 && len != NTP_HEADER_LEN)
		return NTP_SERVE_DROP_INVALID;
	/* 2: plain or well-formed NTS; nothing in between is answered. */
	kind = classify(req, len, &r);
	if (kind != NTP_SERVE_PLAIN && kind != NTP_SERVE_NTS)
		return kind;
	/* 3: who asks. */
	if (c->policy) {
		if (!from)
			return NTP_SERVE_DROP_ERROR;
		switch (ntp_policy_check(c->policy, from, c->mono_ms())) {
		case NTP_POLICY_ANSWER:
			break;
		case NTP_POLICY_RATE:
			kiss = KISS_RATE;
			break;
		case NTP_POLICY_DENY:
			kiss = KISS_DENY;
			break;
		case NTP_POLICY_IGNORE:
			return NTP_SERVE_DROP_IGNORED;
		}
	}
	/* 4: plain NTP where only NTS is served. */
	if (kind == NTP_SERVE_PLAIN && c->require_nts) {
		if (!c->require_nts_deny)
			return NTP_SERVE_DROP_POLICY;
		kiss = KISS_DENY;
	}
	/* 5: NTS. */
	if (kind == NTP_SERVE_NTS && kiss == KISS_NONE) {
		if (!c->ks)
			return NTP_SERVE_DROP_NO_NTS;
		return serve_nts(c, &r, rx_ts, st, out, cap, out_len);
	}
	return answer_plain(c, &rq, rx_ts, st, kiss, out, out_len);
}
