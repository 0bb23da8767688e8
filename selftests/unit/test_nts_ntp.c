// SPDX-License-Identifier: GPL-2.0
/*
 * NTS extension fields for NTP: client -> server -> client round trips for
 * both AEADs, tampering, NAKs and every malformed-request rule of nts_ntp.h.
 */
#include <string.h>

#include <openssl/rand.h>

#include "kselftest_harness.h"
#include "nts_ntp.h"

#define PKT NTS_NTP_MAX_PACKET

struct xchg {
	uint8_t req[PKT];
	size_t req_len;
	uint8_t uid[NTS_NTP_UID_LEN];
	uint8_t resp[PKT];
	size_t resp_len;
	uint8_t splain[PKT];
	uint8_t cplain[PKT];
	struct nts_ntp_request r;
	struct nts_ntp_response c;
	unsigned int sent;
};

FIXTURE(nts)
{
	struct aead *siv;
	struct nts_keys keys;
	size_t cookie_len;
	uint8_t cookie[256];
	uint8_t fresh[NTS_NTP_MAX_COOKIES * 256];
	struct xchg x;
};

FIXTURE_VARIANT(nts)
{
	int aead;
	size_t cookie_len;	/* the project's cookie size for the AEAD */
};

FIXTURE_VARIANT_ADD(nts, aead15)
{
	.aead = AEAD_AES_SIV_CMAC_256,
	.cookie_len = 100,
};

FIXTURE_VARIANT_ADD(nts, aead17)
{
	.aead = AEAD_AES_SIV_CMAC_512,
	.cookie_len = 164,
};

FIXTURE_SETUP(nts)
{
	self->siv = aead_new();
	ASSERT_NE(NULL, self->siv);
	self->keys.aead = (uint16_t)variant->aead;
	self->cookie_len = variant->cookie_len;
	ASSERT_EQ(1, RAND_bytes(self->keys.c2s, sizeof(self->keys.c2s)));
	ASSERT_EQ(1, RAND_bytes(self->keys.s2c, sizeof(self->keys.s2c)));
	ASSERT_EQ(1, RAND_bytes(self->cookie, sizeof(self->cookie)));
	ASSERT_EQ(1, RAND_bytes(self->fresh, sizeof(self->fresh)));
}

FIXTURE_TEARDOWN(nts)
{
	aead_free(self->siv);
}

static const struct ntp_header client_hdr = {
	.leap = NTP_LEAP_UNSYNC, .version = 4, .mode = NTP_MODE_CLIENT,
	.poll = 6, .tx_ts = 0xeb0e1c2d3e4f5a6bULL,
};

static struct ntp_header server_hdr(const struct ntp_header *req)
{
	struct ntp_header h = {
		.leap = NTP_LEAP_NONE, .stratum = 2, .poll = req->poll,
		.precision = -24, .root_delay = 0x100, .root_dispersion = 0x200,
		.refid = { 192, 0, 2, 1 }, .ref_ts = 0xeb0e1c2000000000ULL,
		.orig_ts = req->tx_ts, .rx_ts = 0xeb0e1c2e00000000ULL,
		.tx_ts = 0xeb0e1c2e00001000ULL,
	};

	return h;
}

static int make_request(FIXTURE_DATA(nts) *self, unsigned int n_ph)
{
	struct xchg *x = &self->x;

	return nts_ntp_client_request(x->req, sizeof(x->req), &x->req_len, &client_hdr,
				      self->siv, &self->keys, self->cookie,
				      self->cookie_len, n_ph, x->uid);
}

/* Server side over x->req: parse, verify, respond with cookies of clen. */
static int serve(FIXTURE_DATA(nts) *self, size_t clen)
{
	struct xchg *x = &self->x;
	struct ntp_header h;
	int err;

	err = nts_ntp_server_parse(x->req, x->req_len, &x->r);
	if (err)
		return err;
	err = nts_ntp_server_verify(&x->r, self->siv, &self->keys, x->splain,
				    sizeof(x->splain));
	if (err)
		return err;
	h = server_hdr(&x->r.hdr);
	return nts_ntp_server_response(x->resp, sizeof(x->resp), &x->resp_len, &h, &x->r,
				       self->siv, &self->keys, self->fresh, clen,
				       NTS_NTP_MAX_COOKIES, NULL, &x->sent);
}

static int client_check(FIXTURE_DATA(nts) *self, const uint8_t *pkt, size_t len)
{
	struct xchg *x = &self->x;

	return nts_ntp_client_response(pkt, len, x->uid, sizeof(x->uid), self->siv,
				       &self->keys, x->cplain, sizeof(x->cplain), &x->c);
}

/* Start a hand-made packet: header of mode, returns its length. */
static size_t hand_header(uint8_t *p, int mode)
{
	struct ntp_header h = client_hdr;

	h.mode = (uint8_t)mode;
	ntp_header_encode(&h, p);
	return NTP_HEADER_LEN;
}

/*
 * Append an authenticator over p[0..*len) with key c2s or s2c: nonce_len
 * bytes of nonce, extra bytes of additional padding, sealing pt.
 */
static int hand_auth(FIXTURE_DATA(nts) *self, uint8_t *p, size_t *len, int s2c,
		     size_t nonce_len, size_t extra, const uint8_t *pt, size_t pl)
{
	size_t npad = (nonce_len + 3) & ~(size_t)3, cpad = (AEAD_TAG_LEN + pl + 3) & ~(size_t)3;
	size_t ad_len = *len;
	uint8_t *b;

	b = ntp_ef_add(p, PKT, len, NTS_NTP_EF_AUTH, NULL, 4 + npad + cpad + extra, 28);
	if (!b)
		return -1;
	ntp_put16(b, (uint16_t)nonce_len);
	ntp_put16(b + 2, (uint16_t)(AEAD_TAG_LEN + pl));
	memset(b + 4, 0x42, nonce_len);
	return aead_seal_nts(self->siv, self->keys.aead, s2c ? self->keys.s2c : self->keys.c2s,
			     b + 4, nonce_len, p, ad_len, pt, pl, b + 4 + npad);
}

/* Hand-made request prefix: header, UID, cookie. */
static size_t hand_request(FIXTURE_DATA(nts) *self, uint8_t *p)
{
	size_t len = hand_header(p, NTP_MODE_CLIENT);

	memset(self->x.uid, 0x11, sizeof(self->x.uid));
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_UID, self->x.uid, NTS_NTP_UID_LEN, 16);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_COOKIE, self->cookie, self->cookie_len, 16);
	return len;
}

static int parse_verify(FIXTURE_DATA(nts) *self, const uint8_t *p, size_t len)
{
	struct xchg *x = &self->x;
	int err = nts_ntp_server_parse(p, len, &x->r);

	if (err)
		return err;
	return nts_ntp_server_verify(&x->r, self->siv, &self->keys, x->splain,
				     sizeof(x->splain));
}

TEST_F(nts, round_trip)
{
	static const unsigned int phs[] = { 0, 1, 7 };
	struct xchg *x = &self->x;

	for (unsigned int k = 0; k < 3; k++) {
		unsigned int n = phs[k];

		ASSERT_EQ(NTS_NTP_OK, make_request(self, n));
		/* header, UID, cookie, placeholders, authenticator */
		EXPECT_EQ(48 + 36 + (n + 1) * (4 + self->cookie_len) + 40, x->req_len);
		ASSERT_EQ(NTS_NTP_OK, serve(self, self->cookie_len));
		EXPECT_EQ(n, x->r.n_placeholders);
		EXPECT_EQ(self->cookie_len, x->r.cookie_len);
		EXPECT_EQ(0, memcmp(x->r.cookie, self->cookie, self->cookie_len));
		EXPECT_EQ(NTS_NTP_UID_LEN, x->r.uid_len);
		EXPECT_EQ(0, memcmp(x->r.uid, x->uid, NTS_NTP_UID_LEN));
		EXPECT_EQ(0, x->r.n_unauth);
		EXPECT_EQ(0, x->r.plain_len);
		EXPECT_EQ(n + 1, x->sent);
		EXPECT_EQ(n + 1, nts_ntp_response_cookies(&x->r, self->cookie_len));
		/* Same cookie size: exactly as long as the request. */
		EXPECT_EQ(x->req_len, x->resp_len);
		ASSERT_EQ(NTS_NTP_OK, client_check(self, x->resp, x->resp_len));
		EXPECT_EQ(n + 1, x->c.n_cookies);
		for (unsigned int i = 0; i < x->c.n_cookies; i++) {
			EXPECT_EQ(self->cookie_len, x->c.cookie_lens[i]);
			EXPECT_EQ(0, memcmp(x->c.cookies[i],
					    self->fresh + i * self->cookie_len,
					    self->cookie_len));
		}
		EXPECT_EQ(NTP_MODE_SERVER, x->c.hdr.mode);
		EXPECT_EQ(2, x->c.hdr.stratum);
		EXPECT_EQ(client_hdr.tx_ts, x->c.hdr.orig_ts);
		EXPECT_EQ(0, x->c.n_unauth);
	}
}

TEST_F(nts, response_never_longer)
{
	struct xchg *x = &self->x;
	struct ntp_header h;

	for (unsigned int n = 0; n <= NTS_NTP_MAX_PLACEHOLDERS; n++) {
		/* Bigger fresh cookies (a new master key format): fewer fit. */
		for (size_t clen = self->cookie_len; clen <= self->cookie_len + 60; clen += 12) {
			unsigned int want;

			ASSERT_EQ(NTS_NTP_OK, make_request(self, n));
			ASSERT_EQ(NTS_NTP_OK, nts_ntp_server_parse(x->req, x->req_len, &x->r));
			want = nts_ntp_response_cookies(&x->r, clen);
			EXPECT_LE(want, n + 1);
			if (clen == self->cookie_len) {
				EXPECT_EQ(n + 1, want);
			}
			if (want == 0) {
				EXPECT_EQ(NTS_NTP_ERR_SPACE, serve(self, clen));
				continue;
			}
			ASSERT_EQ(NTS_NTP_OK, serve(self, clen));
			EXPECT_EQ(want, x->sent);
			EXPECT_LE(x->resp_len, x->req_len);
			ASSERT_EQ(NTS_NTP_OK, client_check(self, x->resp, x->resp_len));
			EXPECT_EQ(want, x->c.n_cookies);
		}
	}
	/* With no placeholder a much larger cookie cannot fit at all. */
	ASSERT_EQ(NTS_NTP_OK, make_request(self, 0));
	EXPECT_EQ(NTS_NTP_ERR_SPACE, serve(self, self->cookie_len + 16));
	/* The server never sends more than it was handed. */
	ASSERT_EQ(NTS_NTP_OK, make_request(self, 7));
	ASSERT_EQ(NTS_NTP_OK, parse_verify(self, x->req, x->req_len));
	h = server_hdr(&x->r.hdr);
	ASSERT_EQ(NTS_NTP_OK, nts_ntp_server_response(x->resp, sizeof(x->resp),
		  &x->resp_len, &h, &x->r, self->siv, &self->keys, self->fresh,
		  self->cookie_len, 3, NULL, &x->sent));
	EXPECT_EQ(3, x->sent);
	/* A buffer too small for the response. */
	EXPECT_EQ(NTS_NTP_ERR_SPACE, nts_ntp_server_response(x->resp, 100,
		  &x->resp_len, &h, &x->r, self->siv, &self->keys, self->fresh,
		  self->cookie_len, 3, NULL, &x->sent));
}

TEST_F(nts, request_byte_flips_rejected)
{
	struct xchg *x = &self->x;
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	uint8_t pkt[PKT];
	int bad = 0;

	ASSERT_EQ(NTS_NTP_OK, make_request(self, 2));
	ASSERT_EQ(NTS_NTP_OK, parse_verify(self, x->req, x->req_len));
	for (size_t i = 0; i < x->req_len; i++) {
		for (unsigned int m = 0; m < sizeof(masks); m++) {
			memcpy(pkt, x->req, x->req_len);
			pkt[i] ^= masks[m];
			if (parse_verify(self, pkt, x->req_len) == NTS_NTP_OK) {
				TH_LOG("flip 0x%02x at %zu accepted", masks[m], i);
				bad++;
			}
		}
	}
	EXPECT_EQ(0, bad);
	/* Truncation at every length is rejected too. */
	for (size_t l = 0; l < x->req_len; l++) {
		EXPECT_NE(NTS_NTP_OK, parse_verify(self, x->req, l));
	}
}

TEST_F(nts, response_byte_flips_rejected)
{
	struct xchg *x = &self->x;
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	uint8_t pkt[PKT];
	int bad = 0, err;

	ASSERT_EQ(NTS_NTP_OK, make_request(self, 2));
	ASSERT_EQ(NTS_NTP_OK, serve(self, self->cookie_len));
	for (size_t i = 0; i < x->resp_len; i++) {
		for (unsigned int m = 0; m < sizeof(masks); m++) {
			memcpy(pkt, x->resp, x->resp_len);
			pkt[i] ^= masks[m];
			err = client_check(self, pkt, x->resp_len);
			if (err >= 0) {
				TH_LOG("flip 0x%02x at %zu gave %d", masks[m], i, err);
				bad++;
			}
			if (x->c.n_cookies)
				bad++;
		}
	}
	EXPECT_EQ(0, bad);
	for (size_t l = 0; l < x->resp_len; l++) {
		EXPECT_GT(0, client_check(self, x->resp, l));
	}
}

TEST_F(nts, wrong_uid_and_keys)
{
	struct xchg *x = &self->x;
	struct nts_keys other = self->keys;
	struct ntp_header h;

	ASSERT_EQ(NTS_NTP_OK, make_request(self, 1));
	ASSERT_EQ(NTS_NTP_OK, serve(self, self->cookie_len));
	x->uid[5] ^= 1;
	EXPECT_EQ(NTS_NTP_ERR_UID_MISMATCH, client_check(self, x->resp, x->resp_len));
	EXPECT_EQ(NTS_NTP_ERR_UID_MISMATCH, nts_ntp_client_response(x->resp, x->resp_len,
		  x->uid, 16, self->siv, &self->keys, x->cplain, sizeof(x->cplain), &x->c));
	x->uid[5] ^= 1;
	ASSERT_EQ(NTS_NTP_OK, client_check(self, x->resp, x->resp_len));
	/* Wrong S2C at the client, wrong C2S at the server. */
	other.s2c[0] ^= 1;
	EXPECT_EQ(NTS_NTP_ERR_AUTH, nts_ntp_client_response(x->resp, x->resp_len, x->uid,
		  sizeof(x->uid), self->siv, &other, x->cplain, sizeof(x->cplain), &x->c));
	EXPECT_EQ(0, x->c.n_cookies);
	other = self->keys;
	/* The MAC half of the key: an empty plaintext never uses the CTR half. */
	other.c2s[1] ^= 0x80;
	ASSERT_EQ(NTS_NTP_OK, nts_ntp_server_parse(x->req, x->req_len, &x->r));
	EXPECT_EQ(NTS_NTP_ERR_AUTH, nts_ntp_server_verify(&x->r, self->siv, &other,
		  x->splain, sizeof(x->splain)));
	/* Keys swapped: the response is not valid under C2S. */
	other = self->keys;
	memcpy(other.s2c, self->keys.c2s, sizeof(other.s2c));
	EXPECT_EQ(NTS_NTP_ERR_AUTH, nts_ntp_client_response(x->resp, x->resp_len, x->uid,
		  sizeof(x->uid), self->siv, &other, x->cplain, sizeof(x->cplain), &x->c));
	/* Keys of an AEAD we do not have are refused, not misused. */
	other = self->keys;
	other.aead = 16;
	EXPECT_EQ(NTS_NTP_ERR_AEAD, nts_ntp_client_response(x->resp, x->resp_len, x->uid,
		  sizeof(x->uid), self->siv, &other, x->cplain, sizeof(x->cplain), &x->c));
	ASSERT_EQ(NTS_NTP_OK, nts_ntp_server_parse(x->req, x->req_len, &x->r));
	EXPECT_EQ(NTS_NTP_ERR_AEAD, nts_ntp_server_verify(&x->r, self->siv, &other,
		  x->splain, sizeof(x->splain)));
	ASSERT_EQ(NTS_NTP_OK, nts_ntp_server_parse(x->req, x->req_len, &x->r));
	/* Verify is once only; a response needs a verified request. */
	ASSERT_EQ(NTS_NTP_OK, nts_ntp_server_verify(&x->r, self->siv, &self->keys,
		  x->splain, sizeof(x->splain)));
	EXPECT_EQ(NTS_NTP_ERR_ARG, nts_ntp_server_verify(&x->r, self->siv, &self->keys,
		  x->splain, sizeof(x->splain)));
	ASSERT_EQ(NTS_NTP_OK, nts_ntp_server_parse(x->req, x->req_len, &x->r));
	h = server_hdr(&x->r.hdr);
	EXPECT_EQ(NTS_NTP_ERR_ARG, nts_ntp_server_response(x->resp, sizeof(x->resp),
		  &x->resp_len, &h, &x->r, self->siv, &self->keys, self->fresh,
		  self->cookie_len, 1, NULL, NULL));
}

TEST_F(nts, nak)
{
	struct xchg *x = &self->x;
	struct ntp_header h, d;
	uint8_t pkt[PKT];
	size_t len;

	ASSERT_EQ(NTS_NTP_OK, make_request(self, 3));
	ASSERT_EQ(NTS_NTP_OK, nts_ntp_server_parse(x->req, x->req_len, &x->r));
	h = server_hdr(&x->r.hdr);
	ASSERT_EQ(NTS_NTP_OK, nts_ntp_server_nak(x->resp, sizeof(x->resp), &x->resp_len,
						 &h, &x->r));
	EXPECT_EQ(48 + 36, x->resp_len);
	EXPECT_LT(x->resp_len, x->req_len);
	ASSERT_EQ(0, ntp_header_decode(&d, x->resp, x->resp_len));
	EXPECT_EQ(0, d.stratum);
	EXPECT_EQ(NTP_LEAP_UNSYNC, d.leap);
	EXPECT_EQ(NTP_MODE_SERVER, d.mode);
	EXPECT_EQ(4, d.version);
	EXPECT_EQ(0, memcmp(d.refid, "NTSN", 4));
	EXPECT_EQ(client_hdr.tx_ts, d.orig_ts);
	EXPECT_TRUE(nts_ntp_is_nak(&d));
	EXPECT_EQ(NTS_NTP_NAK, client_check(self, x->resp, x->resp_len));
	EXPECT_TRUE(nts_ntp_is_nak(&x->c.hdr));
	EXPECT_EQ(0, x->c.n_cookies);
	/* A NAK for another request is discarded. */
	x->uid[0] ^= 1;
	EXPECT_EQ(NTS_NTP_ERR_UID_MISMATCH, client_check(self, x->resp, x->resp_len));
	x->uid[0] ^= 1;
	/* A NAK without UID is discarded. */
	EXPECT_EQ(NTS_NTP_ERR_NO_UID, client_check(self, x->resp, NTP_HEADER_LEN));
	/* A NAK must not carry a cookie or an authenticator. */
	memcpy(pkt, x->resp, x->resp_len);
	len = x->resp_len;
	ASSERT_NE(NULL, ntp_ef_add(pkt, PKT, &len, NTS_NTP_EF_COOKIE, self->cookie,
				   self->cookie_len, 28));
	EXPECT_EQ(NTS_NTP_ERR_NAK_FORMAT, client_check(self, pkt, len));
	len = x->resp_len;
	ASSERT_EQ(0, hand_auth(self, pkt, &len, 1, 16, 0, NULL, 0));
	EXPECT_EQ(NTS_NTP_ERR_NAK_FORMAT, client_check(self, pkt, len));
	/* Any other unauthenticated answer is refused: it needs an authenticator. */
	memcpy(pkt, x->resp, x->resp_len);
	pkt[1] = 1;
	EXPECT_EQ(NTS_NTP_ERR_NO_AUTH, client_check(self, pkt, x->resp_len));
	memcpy(pkt, x->resp, x->resp_len);
	memcpy(pkt + 12, "RATE", 4);
	EXPECT_EQ(NTS_NTP_ERR_NO_AUTH, client_check(self, pkt, x->resp_len));
	/* A NAK needs a parsed request with a UID. */
	memset(&x->r, 0, sizeof(x->r));
	EXPECT_EQ(NTS_NTP_ERR_ARG, nts_ntp_server_nak(x->resp, sizeof(x->resp),
						      &x->resp_len, &h, &x->r));
}

TEST_F(nts, placeholder_sizes)
{
	uint8_t p[PKT], inner[PKT];
	size_t len, il;

	/* Placeholder shorter than the cookie. */
	len = hand_request(self, p);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_PLACEHOLDER, NULL, self->cookie_len - 4, 16);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 16, 0, NULL, 0));
	EXPECT_EQ(NTS_NTP_ERR_PLACEHOLDER, parse_verify(self, p, len));
	/* Longer, and placed before the cookie. */
	len = hand_header(p, NTP_MODE_CLIENT);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_PLACEHOLDER, NULL, self->cookie_len + 4, 16);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_UID, self->x.uid, 32, 16);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_COOKIE, self->cookie, self->cookie_len, 16);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 16, 0, NULL, 0));
	EXPECT_EQ(NTS_NTP_ERR_PLACEHOLDER, parse_verify(self, p, len));
	/* Right size before the cookie: fine, contents ignored. */
	len = hand_header(p, NTP_MODE_CLIENT);
	memset(inner, 0x77, sizeof(inner));
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_PLACEHOLDER, inner, self->cookie_len, 16);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_UID, self->x.uid, 32, 16);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_COOKIE, self->cookie, self->cookie_len, 16);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 16, 0, NULL, 0));
	EXPECT_EQ(NTS_NTP_OK, parse_verify(self, p, len));
	EXPECT_EQ(1, self->x.r.n_placeholders);
	/* Two placeholders of different sizes. */
	len = hand_request(self, p);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_PLACEHOLDER, NULL, self->cookie_len, 16);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_PLACEHOLDER, NULL, self->cookie_len + 8, 16);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 16, 0, NULL, 0));
	EXPECT_EQ(NTS_NTP_ERR_PLACEHOLDER, parse_verify(self, p, len));
	/* Encrypted placeholders count; a wrong-size one is refused. */
	il = 0;
	ntp_ef_add(inner, PKT, &il, NTS_NTP_EF_PLACEHOLDER, NULL, self->cookie_len, 0);
	ntp_ef_add(inner, PKT, &il, NTS_NTP_EF_PLACEHOLDER, NULL, self->cookie_len, 0);
	ntp_ef_add(inner, PKT, &il, 0x7001, NULL, 0, 0);	/* tiny unknown: allowed */
	len = hand_request(self, p);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_PLACEHOLDER, NULL, self->cookie_len, 16);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 16, 0, inner, il));
	ASSERT_EQ(NTS_NTP_OK, parse_verify(self, p, len));
	EXPECT_EQ(3, self->x.r.n_placeholders);
	EXPECT_EQ(il, self->x.r.plain_len);
	EXPECT_EQ(4, nts_ntp_response_cookies(&self->x.r, self->cookie_len));
	il = 0;
	ntp_ef_add(inner, PKT, &il, NTS_NTP_EF_PLACEHOLDER, NULL, self->cookie_len - 4, 0);
	len = hand_request(self, p);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 16, 0, inner, il));
	EXPECT_EQ(NTS_NTP_ERR_PLACEHOLDER, parse_verify(self, p, len));
}

TEST_F(nts, missing_and_duplicate_fields)
{
	uint8_t p[PKT], inner[64];
	size_t len, il = 0;

	/* No authenticator. */
	len = hand_request(self, p);
	ntp_ef_add(p, PKT, &len, 0x7000, NULL, 24, 28);
	EXPECT_EQ(NTS_NTP_ERR_NO_AUTH, parse_verify(self, p, len));
	/* No UID. */
	len = hand_header(p, NTP_MODE_CLIENT);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_COOKIE, self->cookie, self->cookie_len, 16);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 16, 0, NULL, 0));
	EXPECT_EQ(NTS_NTP_ERR_NO_UID, parse_verify(self, p, len));
	/* No cookie. */
	len = hand_header(p, NTP_MODE_CLIENT);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_UID, self->x.uid, 32, 16);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 16, 0, NULL, 0));
	EXPECT_EQ(NTS_NTP_ERR_NO_COOKIE, parse_verify(self, p, len));
	/* Duplicate UID, duplicate cookie. */
	len = hand_request(self, p);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_UID, self->x.uid, 32, 16);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 16, 0, NULL, 0));
	EXPECT_EQ(NTS_NTP_ERR_DUP_UID, parse_verify(self, p, len));
	len = hand_request(self, p);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_COOKIE, self->cookie, self->cookie_len, 16);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 16, 0, NULL, 0));
	EXPECT_EQ(NTS_NTP_ERR_DUP_COOKIE, parse_verify(self, p, len));
	/* A malformed request gets no NAK, though its UID was seen. */
	EXPECT_NE(NULL, self->x.r.uid);
	EXPECT_EQ(NTS_NTP_ERR_ARG, nts_ntp_server_nak(p, PKT, &len, &client_hdr, &self->x.r));
	EXPECT_EQ(0, nts_ntp_response_cookies(&self->x.r, self->cookie_len));
	/* UID shorter than 32. */
	len = hand_header(p, NTP_MODE_CLIENT);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_UID, self->x.uid, 28, 16);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_COOKIE, self->cookie, self->cookie_len, 16);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 16, 0, NULL, 0));
	EXPECT_EQ(NTS_NTP_ERR_UID_LEN, parse_verify(self, p, len));
	/* A longer UID is fine and echoed whole. */
	len = hand_header(p, NTP_MODE_CLIENT);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_UID, self->cookie, 48, 16);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_COOKIE, self->cookie, self->cookie_len, 16);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 16, 0, NULL, 0));
	EXPECT_EQ(NTS_NTP_OK, parse_verify(self, p, len));
	EXPECT_EQ(48, self->x.r.uid_len);
	/* Legacy MAC after an otherwise good request. */
	len = hand_request(self, p);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 16, 0, NULL, 0));
	memset(p + len, 0, 20);
	EXPECT_EQ(NTS_NTP_ERR_MAC, parse_verify(self, p, len + 20));
	/* Framing error, header checks. */
	EXPECT_EQ(NTS_NTP_ERR_FORMAT, parse_verify(self, p, len + 8));
	EXPECT_EQ(NTS_NTP_ERR_SHORT, parse_verify(self, p, 47));
	p[0] = (uint8_t)((p[0] & ~0x38) | 3 << 3);
	EXPECT_EQ(NTS_NTP_ERR_VERSION, parse_verify(self, p, len));
	hand_header(p, NTP_MODE_SERVER);
	EXPECT_EQ(NTS_NTP_ERR_MODE, parse_verify(self, p, len));
	/* An encrypted UID or cookie is forbidden. */
	ntp_ef_add(inner, sizeof(inner), &il, NTS_NTP_EF_UID, self->x.uid, 32, 0);
	len = hand_request(self, p);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 16, 0, inner, il));
	EXPECT_EQ(NTS_NTP_ERR_INNER, parse_verify(self, p, len));
	il = 0;
	ntp_ef_add(inner, sizeof(inner), &il, NTS_NTP_EF_COOKIE, self->cookie, 40, 0);
	len = hand_request(self, p);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 16, 0, inner, il));
	EXPECT_EQ(NTS_NTP_ERR_INNER, parse_verify(self, p, len));
	/* Inner framing error. */
	ntp_put16(inner + 2, 6);
	len = hand_request(self, p);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 16, 0, inner, il));
	EXPECT_EQ(NTS_NTP_ERR_INNER, parse_verify(self, p, len));
}

TEST_F(nts, authenticator_layout)
{
	struct xchg *x = &self->x;
	uint8_t p[PKT];
	size_t len, auth;

	/* An 8-byte nonce needs 8 bytes of additional padding in a request. */
	len = hand_request(self, p);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 8, 0, NULL, 0));
	EXPECT_EQ(NTS_NTP_ERR_AUTH_FORMAT, parse_verify(self, p, len));
	len = hand_request(self, p);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 8, 8, NULL, 0));
	EXPECT_EQ(NTS_NTP_OK, parse_verify(self, p, len));
	EXPECT_EQ(8, x->r.nonce_len);
	/* A 5-byte nonce is padded to 8, plus 8 more. */
	len = hand_request(self, p);
	ASSERT_EQ(0, hand_auth(self, p, &len, 0, 5, 8, NULL, 0));
	EXPECT_EQ(NTS_NTP_OK, parse_verify(self, p, len));
	/* ...and every padding byte must be zero. */
	auth = len - (4 + 4 + 8 + 16 + 8);
	p[auth + 8 + 6] = 1;	/* nonce padding */
	EXPECT_EQ(NTS_NTP_ERR_AUTH_FORMAT, parse_verify(self, p, len));
	p[auth + 8 + 6] = 0;
	p[len - 1] = 1;		/* additional padding */
	EXPECT_EQ(NTS_NTP_ERR_AUTH_FORMAT, parse_verify(self, p, len));
	p[len - 1] = 0;
	EXPECT_EQ(NTS_NTP_OK, parse_verify(self, p, len));
	/* Nonce length 0, ciphertext shorter than the tag, lengths overrun. */
	ntp_put16(p + auth + 4, 0);
	EXPECT_EQ(NTS_NTP_ERR_AUTH_FORMAT, parse_verify(self, p, len));
	ntp_put16(p + auth + 4, 5);
	ntp_put16(p + auth + 6, 12);
	EXPECT_EQ(NTS_NTP_ERR_AUTH_FORMAT, parse_verify(self, p, len));
	ntp_put16(p + auth + 6, 200);
	EXPECT_EQ(NTS_NTP_ERR_AUTH_FORMAT, parse_verify(self, p, len));
	ntp_put16(p + auth + 6, 16);
	ntp_put16(p + auth + 4, 0xffff);
	EXPECT_EQ(NTS_NTP_ERR_AUTH_FORMAT, parse_verify(self, p, len));
	/* A response may use a short nonce with no padding. */
	len = hand_header(p, NTP_MODE_SERVER);
	memset(x->uid, 0x33, sizeof(x->uid));
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_UID, x->uid, 32, 16);
	ASSERT_EQ(0, hand_auth(self, p, &len, 1, 4, 0, NULL, 0));
	EXPECT_EQ(NTS_NTP_OK, client_check(self, p, len));
	EXPECT_EQ(0, x->c.n_cookies);
}

TEST_F(nts, fields_after_authenticator_ignored)
{
	struct xchg *x = &self->x;
	struct ntp_header h;
	uint8_t pkt[PKT];
	size_t len;

	ASSERT_EQ(NTS_NTP_OK, make_request(self, 1));
	memcpy(pkt, x->req, x->req_len);
	len = x->req_len;
	/* Unauthenticated placeholders, a second UID and cookie: not counted. */
	for (int i = 0; i < 3; i++) {
		ASSERT_NE(NULL, ntp_ef_add(pkt, PKT, &len, NTS_NTP_EF_PLACEHOLDER, NULL,
					   self->cookie_len, 16));
	}
	ASSERT_NE(NULL, ntp_ef_add(pkt, PKT, &len, NTS_NTP_EF_UID, x->uid, 32, 16));
	ASSERT_NE(NULL, ntp_ef_add(pkt, PKT, &len, NTS_NTP_EF_COOKIE, self->cookie,
				   self->cookie_len, 28));
	ASSERT_EQ(NTS_NTP_OK, parse_verify(self, pkt, len));
	EXPECT_EQ(5, x->r.n_unauth);
	EXPECT_EQ(1, x->r.n_placeholders);
	EXPECT_EQ(x->req_len, x->r.auth_end);
	EXPECT_EQ(2, nts_ntp_response_cookies(&x->r, self->cookie_len));
	h = server_hdr(&x->r.hdr);
	ASSERT_EQ(NTS_NTP_OK, nts_ntp_server_response(x->resp, sizeof(x->resp), &x->resp_len,
		  &h, &x->r, self->siv, &self->keys, self->fresh, self->cookie_len, 8,
		  NULL, &x->sent));
	EXPECT_EQ(2, x->sent);
	EXPECT_LE(x->resp_len, x->req_len);
	/* Response with an unauthenticated cookie appended: ignored. */
	memcpy(pkt, x->resp, x->resp_len);
	len = x->resp_len;
	ASSERT_NE(NULL, ntp_ef_add(pkt, PKT, &len, NTS_NTP_EF_COOKIE, self->cookie,
				   self->cookie_len, 28));
	ASSERT_EQ(NTS_NTP_OK, client_check(self, pkt, len));
	EXPECT_EQ(2, x->c.n_cookies);
	EXPECT_EQ(1, x->c.n_unauth);
	EXPECT_EQ(0, memcmp(x->c.cookies[0], self->fresh, self->cookie_len));
	/* A UID only after the authenticator does not count. */
	len = hand_header(pkt, NTP_MODE_SERVER);
	ASSERT_EQ(0, hand_auth(self, pkt, &len, 1, 16, 0, NULL, 0));
	ntp_ef_add(pkt, PKT, &len, NTS_NTP_EF_UID, x->uid, 32, 16);
	EXPECT_EQ(NTS_NTP_ERR_NO_UID, client_check(self, pkt, len));
}

TEST_F(nts, response_cookie_bounds)
{
	struct xchg *x = &self->x;
	uint8_t p[PKT], inner[PKT];
	size_t len, il = 0;

	memset(x->uid, 0x44, sizeof(x->uid));
	/* Nine encrypted cookies: more than the client takes. */
	for (int i = 0; i < NTS_NTP_MAX_COOKIES + 1; i++)
		ntp_ef_add(inner, PKT, &il, NTS_NTP_EF_COOKIE, self->fresh, 100, 0);
	len = hand_header(p, NTP_MODE_SERVER);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_UID, x->uid, 32, 16);
	ASSERT_EQ(0, hand_auth(self, p, &len, 1, 16, 0, inner, il));
	EXPECT_EQ(NTS_NTP_ERR_COOKIES, client_check(self, p, len));
	EXPECT_EQ(0, x->c.n_cookies);
	/* An empty cookie. */
	il = 0;
	ntp_ef_add(inner, PKT, &il, NTS_NTP_EF_COOKIE, NULL, 0, 0);
	len = hand_header(p, NTP_MODE_SERVER);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_UID, x->uid, 32, 16);
	ASSERT_EQ(0, hand_auth(self, p, &len, 1, 16, 0, inner, il));
	EXPECT_EQ(NTS_NTP_ERR_COOKIES, client_check(self, p, len));
	/* An encrypted UID in a response. */
	il = 0;
	ntp_ef_add(inner, PKT, &il, NTS_NTP_EF_UID, x->uid, 32, 0);
	len = hand_header(p, NTP_MODE_SERVER);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_UID, x->uid, 32, 16);
	ASSERT_EQ(0, hand_auth(self, p, &len, 1, 16, 0, inner, il));
	EXPECT_EQ(NTS_NTP_ERR_INNER, client_check(self, p, len));
	/* Plaintext buffer too small for the cookies. */
	il = 0;
	ntp_ef_add(inner, PKT, &il, NTS_NTP_EF_COOKIE, self->fresh, 100, 0);
	len = hand_header(p, NTP_MODE_SERVER);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_UID, x->uid, 32, 16);
	ASSERT_EQ(0, hand_auth(self, p, &len, 1, 16, 0, inner, il));
	EXPECT_EQ(NTS_NTP_ERR_SPACE, nts_ntp_client_response(p, len, x->uid, 32, self->siv,
		  &self->keys, x->cplain, 50, &x->c));
	EXPECT_EQ(NTS_NTP_OK, client_check(self, p, len));
	EXPECT_EQ(1, x->c.n_cookies);
	/* Two UIDs in a response. */
	len = hand_header(p, NTP_MODE_SERVER);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_UID, x->uid, 32, 16);
	ntp_ef_add(p, PKT, &len, NTS_NTP_EF_UID, x->uid, 32, 16);
	ASSERT_EQ(0, hand_auth(self, p, &len, 1, 16, 0, NULL, 0));
	EXPECT_EQ(NTS_NTP_ERR_DUP_UID, client_check(self, p, len));
}

TEST_F(nts, client_request_limits)
{
	uint8_t uid1[NTS_NTP_UID_LEN], nonce1[NTS_NTP_NONCE_LEN];
	struct xchg *x = &self->x;

	EXPECT_EQ(NTS_NTP_ERR_ARG, make_request(self, NTS_NTP_MAX_PLACEHOLDERS + 1));
	EXPECT_EQ(NTS_NTP_ERR_SPACE, nts_ntp_client_request(x->req, 200, &x->req_len,
		  &client_hdr, self->siv, &self->keys, self->cookie, self->cookie_len, 1,
		  x->uid));
	EXPECT_EQ(NTS_NTP_ERR_ARG, nts_ntp_client_request(x->req, PKT, &x->req_len,
		  &client_hdr, self->siv, &self->keys, self->cookie, 0, 1, x->uid));
	/* An odd-sized cookie is padded; placeholders match the padded size. */
	ASSERT_EQ(NTS_NTP_OK, nts_ntp_client_request(x->req, PKT, &x->req_len,
		  &client_hdr, self->siv, &self->keys, self->cookie, 97, 2, x->uid));
	ASSERT_EQ(NTS_NTP_OK, parse_verify(self, x->req, x->req_len));
	EXPECT_EQ(100, x->r.cookie_len);
	EXPECT_EQ(2, x->r.n_placeholders);
	/* Two requests never share a UID or nonce. */
	ASSERT_EQ(NTS_NTP_OK, make_request(self, 0));
	memcpy(uid1, x->uid, sizeof(uid1));
	memcpy(nonce1, x->req + x->req_len - 32, sizeof(nonce1));
	ASSERT_EQ(NTS_NTP_OK, make_request(self, 0));
	EXPECT_NE(0, memcmp(uid1, x->uid, sizeof(uid1)));
	EXPECT_NE(0, memcmp(nonce1, x->req + x->req_len - 32, sizeof(nonce1)));
}

/*
 * AEAD 30 end to end: 12-byte nonces both ways (N_REQ is 12, so a request
 * needs no additional padding), ciphertext || tag, and a response exactly
 * as long as a request whose placeholders are 68-byte cookies.
 */
TEST(gcm_siv_exchange)
{
	static const struct ntp_header ch = {
		.leap = NTP_LEAP_UNSYNC, .version = 4, .mode = NTP_MODE_CLIENT, .tx_ts = 7,
	};
	struct ntp_header sh = { .version = 4, .mode = NTP_MODE_SERVER, .stratum = 2 };
	uint8_t req[PKT], resp[PKT], splain[PKT], cplain[PKT], uid[NTS_NTP_UID_LEN];
	uint8_t cookie[68], fresh[8 * 68];
	struct nts_keys keys = { .aead = AEAD_AES_128_GCM_SIV }, siv15;
	struct aead *a = aead_new();
	struct nts_ntp_request r;
	struct nts_ntp_response c;
	size_t req_len, resp_len;
	unsigned int sent;

	ASSERT_NE(NULL, a);
	ASSERT_EQ(1, RAND_bytes(keys.c2s, 16));
	ASSERT_EQ(1, RAND_bytes(keys.s2c, 16));
	ASSERT_EQ(1, RAND_bytes(cookie, sizeof(cookie)));
	ASSERT_EQ(1, RAND_bytes(fresh, sizeof(fresh)));
	for (unsigned int ph = 0; ph <= NTS_NTP_MAX_PLACEHOLDERS; ph += 7) {
		ASSERT_EQ(NTS_NTP_OK, nts_ntp_client_request(req, PKT, &req_len, &ch, a, &keys,
			  cookie, 68, ph, uid));
		ASSERT_EQ(NTS_NTP_OK, nts_ntp_server_parse(req, req_len, &r));
		EXPECT_EQ(12, r.nonce_len);
		EXPECT_EQ(12, r.nonce_room);
		/* A 12-byte nonce without padding is too short for AES-SIV's N_REQ. */
		siv15 = keys;
		siv15.aead = AEAD_AES_SIV_CMAC_256;
		EXPECT_EQ(NTS_NTP_ERR_AUTH_FORMAT, nts_ntp_server_verify(&r, a, &siv15, splain,
			  sizeof(splain)));
		ASSERT_EQ(NTS_NTP_OK, nts_ntp_server_verify(&r, a, &keys, splain, sizeof(splain)));
		EXPECT_EQ(ph + 1, nts_ntp_response_cookies(&r, 68));
		ASSERT_EQ(NTS_NTP_OK, nts_ntp_server_response(resp, PKT, &resp_len, &sh, &r, a,
			  &keys, fresh, 68, 8, NULL, &sent));
		EXPECT_EQ(ph + 1, sent);
		EXPECT_EQ(req_len, resp_len);
		ASSERT_EQ(NTS_NTP_OK, nts_ntp_client_response(resp, resp_len, uid, sizeof(uid),
			  a, &keys, cplain, sizeof(cplain), &c));
		ASSERT_EQ(ph + 1, c.n_cookies);
		EXPECT_EQ(0, memcmp(c.cookies[ph], fresh + ph * 68, 68));
		/* The authenticator's last 16 bytes are the tag: damage is caught. */
		resp[resp_len - 1] ^= 1;
		EXPECT_EQ(NTS_NTP_ERR_AUTH, nts_ntp_client_response(resp, resp_len, uid,
			  sizeof(uid), a, &keys, cplain, sizeof(cplain), &c));
		/* Under AEAD 30 a 16-byte nonce is refused before any crypto. */
		siv15.aead = AEAD_AES_SIV_CMAC_256;
		ASSERT_EQ(NTS_NTP_OK, nts_ntp_client_request(req, PKT, &req_len, &ch, a, &siv15,
			  cookie, 68, ph, uid));
		ASSERT_EQ(NTS_NTP_OK, nts_ntp_server_parse(req, req_len, &r));
		EXPECT_EQ(16, r.nonce_len);
		EXPECT_EQ(NTS_NTP_ERR_AUTH_FORMAT, nts_ntp_server_verify(&r, a, &keys, splain,
			  sizeof(splain)));
	}
	aead_free(a);
}

TEST(strerror_distinct)
{
	for (int a = NTS_NTP_NAK; a > -NTS_NTP_ERR_COUNT; a--) {
		EXPECT_STRNE("unknown", nts_ntp_strerror(a));
		for (int b = a - 1; b > -NTS_NTP_ERR_COUNT; b--) {
			EXPECT_STRNE(nts_ntp_strerror(a), nts_ntp_strerror(b));
		}
	}
	EXPECT_STREQ("unknown", nts_ntp_strerror(-NTS_NTP_ERR_COUNT));
	EXPECT_STREQ("unknown", nts_ntp_strerror(2));
}

TEST_HARNESS_MAIN
