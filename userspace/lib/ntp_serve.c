// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cookie.h"
#include "keyset.h"
#include "ntp.h"
#include "ntp_serve.h"
#include "nts_ntp.h"

static const char *const names[NTP_SERVE_N_OUTCOMES] = {
	[NTP_SERVE_PLAIN] = "plain",
	[NTP_SERVE_NTS] = "nts",
	[NTP_SERVE_NAK] = "nak",
	[NTP_SERVE_KISS] = "kiss",
	[NTP_SERVE_DROP_INVALID] = "drop_invalid",
	[NTP_SERVE_DROP_NTS] = "drop_nts_malformed",
	[NTP_SERVE_DROP_NO_NTS] = "drop_nts_unconfigured",
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

int ntp_serve_ctx_init(struct ntp_serve_ctx *c, const struct keyset *ks)
{
	memset(c, 0, sizeof(*c));
	c->ks = ks;
	c->versions = (1U << 3) | (1U << 4);
	c->tx_now = ntp_serve_now;
	c->siv[0] = siv_new(SIV_AEAD_CMAC_256);
	c->siv[1] = siv_new(SIV_AEAD_CMAC_512);
	c->cookie_siv = siv_new(SIV_AEAD_CMAC_256);
	if (!c->siv[0] || !c->siv[1] || !c->cookie_siv) {
		ntp_serve_ctx_fini(c);
		return -1;
	}
	return 0;
}

void ntp_serve_ctx_fini(struct ntp_serve_ctx *c)
{
	siv_free(c->siv[0]);
	siv_free(c->siv[1]);
	siv_free(c->cookie_siv);
	memset(c, 0, sizeof(*c));
}

/* The response header as the XDP program writes it (bpf/xnts.bpf.c). */
static void fill_header(struct ntp_header *h, const struct ntp_header *rq, uint64_t rx_ts,
			const struct ntp_serve_state *st, enum ntp_serve_kiss kiss)
{
	memset(h, 0, sizeof(*h));
	h->version = rq->version;
	h->mode = NTP_MODE_SERVER;
	h->poll = rq->poll;
	h->precision = st->precision;
	h->orig_ts = rq->tx_ts;
	h->rx_ts = rx_ts;
	if (kiss != NTP_KISS_NONE) {
		h->leap = NTP_LEAP_UNSYNC;
		h->stratum = 0;
		memcpy(h->refid, kiss == NTP_KISS_RATE ? "RATE" : "DENY", 4);
		return;
	}
	h->leap = st->leap & 3;
	h->stratum = st->stratum;
	memcpy(h->refid, st->refid, 4);
	h->root_delay = st->root_delay;
	h->root_dispersion = st->root_dispersion;
	h->ref_ts = st->reference_time;
}

static enum ntp_serve_outcome serve_nts(struct ntp_serve_ctx *c, struct nts_ntp_request *r,
					uint64_t rx_ts, const struct ntp_serve_state *st,
					uint8_t *out, size_t cap, size_t *out_len)
{
	/* Back to back, as nts_ntp_server_response() reads them. */
	uint8_t cookies[NTS_MAX_COOKIES * COOKIE_MAX_LEN];
	uint8_t plain[512];
	const struct keyset_key *cur;
	struct ntp_header h;
	struct nts_keys keys;
	enum cookie_result cr;
	unsigned int n, sent;
	struct siv *siv;
	size_t clen;
	int ret;

	cr = cookie_open_siv(c->cookie_siv, c->ks, r->cookie, r->cookie_len, &keys);
	if (cr == COOKIE_ERROR)
		return NTP_SERVE_DROP_ERROR;
	fill_header(&h, &r->hdr, rx_ts, st, NTP_KISS_NONE);
	if (cr != COOKIE_OK)
		goto nak;
	siv = c->siv[keys.aead == SIV_AEAD_CMAC_512];
	if (nts_ntp_server_verify(r, siv, &keys, plain, sizeof(plain)) != NTS_NTP_OK)
		goto nak;
	clen = cookie_len(keys.aead);
	cur = keyset_current(c->ks);
	n = nts_ntp_response_cookies(r, clen);
	for (unsigned int i = 0; i < n; i++) {
		if (cookie_seal_siv(c->cookie_siv, cur, &keys, cookies + i * clen, clen) < 0) {
			OPENSSL_cleanse(&keys, sizeof(keys));
			return NTP_SERVE_DROP_ERROR;
		}
	}
	h.tx_ts = c->tx_now();
	ret = nts_ntp_server_response(out, cap, out_len, &h, r, siv, &keys, cookies, clen, n,
				      NULL, &sent);
	OPENSSL_cleanse(&keys, sizeof(keys));
	return ret == NTS_NTP_OK ? NTP_SERVE_NTS : NTP_SERVE_DROP_ERROR;
nak:
	OPENSSL_cleanse(&keys, sizeof(keys));
	h.tx_ts = c->tx_now();
	ret = nts_ntp_server_nak(out, cap, out_len, &h, r);
	return ret == NTS_NTP_OK ? NTP_SERVE_NAK : NTP_SERVE_DROP_ERROR;
}

enum ntp_serve_outcome ntp_serve(struct ntp_serve_ctx *c, const uint8_t *req, size_t len,
				 uint64_t rx_ts, const struct ntp_serve_state *st,
				 enum ntp_serve_kiss kiss, uint8_t *out, size_t cap,
				 size_t *out_len)
{
	struct nts_ntp_request r;
	struct ntp_header rq, h;
	int nts = 0, ret;

	*out_len = 0;
	if (ntp_header_decode(&rq, req, len) || rq.mode != NTP_MODE_CLIENT ||
	    !(c->versions & (1U << rq.version)) ||
	    (rq.version != 3 && rq.version != 4) || cap < NTP_HEADER_LEN)
		return NTP_SERVE_DROP_INVALID;
	if (len > NTP_HEADER_LEN) {
		ret = nts_ntp_server_parse(req, len, &r);
		if (ret == NTS_NTP_OK)
			nts = 1;
		else if (ret == NTS_NTP_ERR_MAC)
			return NTP_SERVE_DROP_INVALID;
		else if (ret != NTS_NTP_ERR_NO_UID && ret != NTS_NTP_ERR_NO_COOKIE)
			return NTP_SERVE_DROP_NTS;
		else if (ret == NTS_NTP_ERR_NO_COOKIE && r.uid)
			/* A Unique Identifier says NTS was meant: no cookie is malformed. */
			return NTP_SERVE_DROP_NTS;
	}
	if (!nts && c->require_nts) {
		if (!c->require_nts_deny)
			return NTP_SERVE_DROP_POLICY;
		kiss = NTP_KISS_DENY;
	}
	if (nts && kiss == NTP_KISS_NONE) {
		if (!c->ks)
			return NTP_SERVE_DROP_NO_NTS;
		return serve_nts(c, &r, rx_ts, st, out, cap, out_len);
	}
	fill_header(&h, &rq, rx_ts, st, kiss);
	h.tx_ts = c->tx_now();
	ntp_header_encode(&h, out);
	*out_len = NTP_HEADER_LEN;
	return kiss != NTP_KISS_NONE ? NTP_SERVE_KISS : NTP_SERVE_PLAIN;
}
