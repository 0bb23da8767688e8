// SPDX-License-Identifier: GPL-2.0
/*
 * ke_proto: whole NTS-KE exchanges, server and client side, over a real
 * in-memory TLS 1.3 session: both ends derive the same keys, the cookies
 * carry them and open with the keyset, the NTP server and port arrive; and
 * every failure the server answers with its Error record, the client turns
 * into a message.
 */
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"
#include "cookie.h"
#include "keyset.h"
#include "ke_proto.h"
#include "nts_ke_keys.h"
#include "testutil.h"
#include "tls_pair.h"

#define HEX(s, buf) hex_decode(s, buf, sizeof(buf))
#define NP "8001 0002 0000"
#define EOM "8000 0000"

FIXTURE(ke)
{
	SSL_CTX *cctx, *sctx;
	SSL *c, *s;
	struct keyset *ks;
	struct ke_proto_req req;
	struct ke_proto_result res;
	struct ke_proto_resp resp;
	struct ke_proto_client_result cr;
	uint8_t msg[8192];
	size_t msg_len;
	uint8_t out[8192];
	size_t out_len;
	char err[256];
};

FIXTURE_SETUP(ke)
{
	struct keyset_config kc;

	memset(self, 0, sizeof(*self));
	ASSERT_EQ(0, tls_pair(&self->cctx, &self->sctx, &self->c, &self->s));
	keyset_config_default(&kc);
	self->ks = keyset_new(&kc);
	ASSERT_NE(NULL, self->ks);
	ASSERT_EQ(0, keyset_load(self->ks, 1700000000));
	ke_proto_req_init(&self->req, KE_PROTO_MAX_REQUEST);
	ASSERT_EQ(0, ke_proto_resp_init(&self->resp));
}

FIXTURE_TEARDOWN(ke)
{
	ke_proto_resp_free(&self->resp);
	keyset_free(self->ks);
	SSL_free(self->c);
	SSL_free(self->s);
	SSL_CTX_free(self->cctx);
	SSL_CTX_free(self->sctx);
}

/* Feed the request, let the server answer, feed the answer to the client. */
static int exchange(FIXTURE_DATA(ke) *self, const struct ke_proto_server_params *params)
{
	if (ke_proto_feed(&self->req, self->msg, self->msg_len) != 1)
		return -10;
	self->out_len = ke_proto_respond(&self->req, self->s, self->ks, params, self->out,
					 sizeof(self->out), &self->res);
	if (!self->out_len)
		return -11;
	if (ke_proto_resp_feed(&self->resp, self->out, self->out_len) != 1)
		return -12;
	return ke_proto_client_finish(&self->resp, self->c, &self->cr, self->err,
				      sizeof(self->err));
}

TEST_F(ke, full_exchange)
{
	const struct ke_proto_server_params params = { .ntp_server = "time.nts.test",
						       .ntp_port = 1123 };
	struct nts_keys ckeys, skeys;

	self->msg_len = ke_proto_client_request(self->msg, sizeof(self->msg));
	ASSERT_GT(self->msg_len, 0);
	ASSERT_EQ(0, exchange(self, &params)) {
		TH_LOG("%s", self->err);
	}
	EXPECT_EQ(KE_PROTO_OK, self->res.outcome);
	/* AEAD 30 first in the client's list and the server's preference. */
	EXPECT_EQ(AEAD_AES_128_GCM_SIV, self->res.aead);
	EXPECT_EQ(NTS_MAX_COOKIES, self->res.cookies);
	EXPECT_EQ(keyset_current(self->ks)->id, self->res.key_id);
	EXPECT_STREQ("time.nts.test", self->cr.ntp_server);
	EXPECT_EQ(1123, self->cr.ntp_port);
	ASSERT_EQ(NTS_MAX_COOKIES, self->cr.n_cookies);
	/* Both ends' exporter agrees, and every cookie carries those keys. */
	ckeys = self->cr.keys;
	EXPECT_EQ(AEAD_AES_128_GCM_SIV, ckeys.aead);
	ASSERT_EQ(0, nts_ke_export_keys(self->s, AEAD_AES_128_GCM_SIV, &skeys));
	EXPECT_EQ(0, memcmp(&ckeys, &skeys, sizeof(ckeys)));
	for (unsigned int i = 0; i < self->cr.n_cookies; i++) {
		struct nts_keys k;

		EXPECT_EQ(cookie_len(AEAD_AES_128_GCM_SIV), self->cr.cookie_len[i]);
		ASSERT_EQ(COOKIE_OK, cookie_open(self->ks, self->cr.cookies[i],
						 self->cr.cookie_len[i], &k));
		EXPECT_EQ(0, memcmp(&k, &ckeys, sizeof(k)));
		/* Each cookie is sealed with a fresh nonce. */
		if (i)
			EXPECT_NE(0, memcmp(self->cr.cookies[i], self->cr.cookies[i - 1],
					    self->cr.cookie_len[i]));
	}
	EXPECT_STREQ("ok", ke_proto_outcome_name(self->res.outcome));
}

TEST_F(ke, aead17_and_default_server)
{
	const struct ke_proto_server_params params = { 0 };

	/* A client that offers only AEAD 17. */
	self->msg_len = (size_t)HEX(NP "8004 0002 0011" EOM, self->msg);
	ASSERT_EQ(0, ke_proto_feed(&self->req, self->msg, 4));
	ASSERT_EQ(1, ke_proto_feed(&self->req, self->msg + 4, self->msg_len - 4));
	self->out_len = ke_proto_respond(&self->req, self->s, self->ks, &params, self->out,
					 sizeof(self->out), &self->res);
	ASSERT_GT(self->out_len, 0);
	EXPECT_EQ(KE_PROTO_OK, self->res.outcome);
	EXPECT_EQ(AEAD_AES_SIV_CMAC_512, self->res.aead);
	/* The default client offer accepts 17 as well. */
	ASSERT_EQ(1, ke_proto_resp_feed(&self->resp, self->out, self->out_len));
	ASSERT_EQ(0, ke_proto_client_finish(&self->resp, self->c, &self->cr, self->err,
					    sizeof(self->err)));
	EXPECT_EQ(AEAD_AES_SIV_CMAC_512, self->cr.keys.aead);
	EXPECT_EQ(cookie_len(AEAD_AES_SIV_CMAC_512), self->cr.cookie_len[0]);
	/* No Server or Port record: empty name, port 0 (same host, 123). */
	EXPECT_STREQ("", self->cr.ntp_server);
	EXPECT_EQ(0, self->cr.ntp_port);
}

TEST_F(ke, request_fed_byte_by_byte)
{
	const struct ke_proto_server_params params = { 0 };
	size_t i;
	int r = 0;

	self->msg_len = ke_proto_client_request(self->msg, sizeof(self->msg));
	for (i = 0; i < self->msg_len; i++) {
		r = ke_proto_feed(&self->req, self->msg + i, 1);
		if (i + 1 < self->msg_len)
			ASSERT_EQ(0, r);
	}
	ASSERT_EQ(1, r);
	self->out_len = ke_proto_respond(&self->req, self->s, self->ks, &params, self->out,
					 sizeof(self->out), &self->res);
	EXPECT_EQ(KE_PROTO_OK, self->res.outcome);
}

/* The server's answer is exactly one Error record of code, then End of Message. */
static void expect_error(struct __test_metadata *_metadata, FIXTURE_DATA(ke) *self,
			 enum ke_proto_outcome outcome, uint16_t code)
{
	uint8_t want[16];
	char hex[64];
	long n;

	snprintf(hex, sizeof(hex), "8002 0002 %04x 8000 0000", code);
	n = HEX(hex, want);
	EXPECT_EQ(outcome, self->res.outcome);
	EXPECT_EQ(-1, self->res.aead);
	ASSERT_EQ(n, self->out_len);
	EXPECT_EQ(0, memcmp(want, self->out, (size_t)n));
	/* And the client says so. */
	ASSERT_EQ(1, ke_proto_resp_feed(&self->resp, self->out, self->out_len));
	EXPECT_EQ(-1, ke_proto_client_finish(&self->resp, self->c, &self->cr, self->err,
					     sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "NTS-KE error"));
	EXPECT_EQ(0, self->cr.n_cookies);
}

static void respond(FIXTURE_DATA(ke) *self, const char *hex)
{
	const struct ke_proto_server_params params = { 0 };

	self->msg_len = (size_t)HEX(hex, self->msg);
	ke_proto_feed(&self->req, self->msg, self->msg_len);
	self->out_len = ke_proto_respond(&self->req, self->s, self->ks, &params, self->out,
					 sizeof(self->out), &self->res);
}

TEST_F(ke, bad_request)
{
	/* No Next Protocol record. */
	respond(self, "8004 0002 000f" EOM);
	expect_error(_metadata, self, KE_PROTO_BAD_REQUEST, NTS_KE_ERR_BAD_REQUEST);
	EXPECT_STREQ("bad request", ke_proto_outcome_name(self->res.outcome));
}

TEST_F(ke, bad_request_cookie_record_from_client)
{
	/* A client has no business sending a New Cookie record. */
	respond(self, NP "8004 0002 000f 0005 0004 deadbeef" EOM);
	EXPECT_NE(KE_PROTO_OK, self->res.outcome);
	EXPECT_EQ(0, self->res.cookies);
}

TEST_F(ke, unrecognised_critical_record)
{
	respond(self, NP "8004 0002 000f 8123 0000" EOM);
	expect_error(_metadata, self, KE_PROTO_CRITICAL, NTS_KE_ERR_UNRECOGNIZED_CRITICAL);
}

TEST_F(ke, too_long_request)
{
	const struct ke_proto_server_params params = { 0 };

	/* A bound smaller than the message: the parser gives up early. */
	ke_proto_req_init(&self->req, 16);
	self->msg_len = ke_proto_client_request(self->msg, sizeof(self->msg));
	ASSERT_GT(self->msg_len, 16);
	ASSERT_EQ(-1, ke_proto_feed(&self->req, self->msg, self->msg_len));
	self->out_len = ke_proto_respond(&self->req, self->s, self->ks, &params, self->out,
					 sizeof(self->out), &self->res);
	expect_error(_metadata, self, KE_PROTO_BAD_REQUEST, NTS_KE_ERR_BAD_REQUEST);
}

TEST_F(ke, no_common_aead)
{
	/* RFC 8915 4.1.5: nothing acceptable gives an empty AEAD list, no cookies. */
	respond(self, NP "8004 0002 0063" EOM);
	EXPECT_EQ(KE_PROTO_NO_MATCH, self->res.outcome);
	EXPECT_EQ(0, self->res.cookies);
	ASSERT_GT(self->out_len, 0);
	ASSERT_EQ(1, ke_proto_resp_feed(&self->resp, self->out, self->out_len));
	EXPECT_EQ(-1, ke_proto_client_finish(&self->resp, self->c, &self->cr, self->err,
					     sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "refused"));
}

TEST_F(ke, no_common_protocol)
{
	respond(self, "8001 0002 8000 8004 0002 000f" EOM);
	EXPECT_EQ(KE_PROTO_NO_MATCH, self->res.outcome);
	EXPECT_EQ(0, self->res.cookies);
}

TEST_F(ke, no_key_is_internal_error)
{
	struct keyset_config kc;

	keyset_free(self->ks);
	keyset_config_default(&kc);
	self->ks = keyset_new(&kc);	/* never loaded: no current key */
	ASSERT_NE(NULL, self->ks);
	respond(self, NP "8004 0002 000f" EOM);
	expect_error(_metadata, self, KE_PROTO_INTERNAL, NTS_KE_ERR_INTERNAL);
}

TEST_F(ke, answer_does_not_fit)
{
	const struct ke_proto_server_params params = { 0 };

	self->msg_len = ke_proto_client_request(self->msg, sizeof(self->msg));
	ASSERT_EQ(1, ke_proto_feed(&self->req, self->msg, self->msg_len));
	/* Room for an Error record only: that is what is sent. */
	self->out_len = ke_proto_respond(&self->req, self->s, self->ks, &params, self->out, 64,
					 &self->res);
	EXPECT_EQ(KE_PROTO_INTERNAL, self->res.outcome);
	EXPECT_EQ(10, self->out_len);	/* Error(2) and End of Message */
	/* Not even that: nothing. */
	self->out_len = ke_proto_respond(&self->req, self->s, self->ks, &params, self->out, 4,
					 &self->res);
	EXPECT_EQ(0, self->out_len);
}

TEST_F(ke, client_refuses_what_it_did_not_offer)
{
	uint8_t resp[64];
	long n;

	/* AEAD 16 was never offered. */
	n = HEX(NP "8004 0002 0010 0005 0004 deadbeef" EOM, resp);
	ASSERT_EQ(1, ke_proto_resp_feed(&self->resp, resp, (size_t)n));
	EXPECT_EQ(-1, ke_proto_client_finish(&self->resp, self->c, &self->cr, self->err,
					     sizeof(self->err)));
	EXPECT_NE(NULL, strstr(self->err, "refused"));
	EXPECT_EQ(0, self->cr.n_cookies);
}

TEST_F(ke, client_malformed_response)
{
	uint8_t resp[16];
	long n;

	/* A record that runs past End of Message framing: the parser refuses. */
	n = HEX("8001 0003 0000", resp);
	EXPECT_EQ(0, ke_proto_resp_feed(&self->resp, resp, (size_t)n));
	n = HEX("00 8000 0001 00", resp);
	EXPECT_EQ(-1, ke_proto_resp_feed(&self->resp, resp, (size_t)n));
}

TEST(outcome_names)
{
	for (int o = KE_PROTO_OK; o <= KE_PROTO_NOT_PERMITTED; o++)
		EXPECT_STRNE("?", ke_proto_outcome_name(o));
	EXPECT_STREQ("?", ke_proto_outcome_name(KE_PROTO_NOT_PERMITTED + 1));
}

/* NTS pools: a token's digest in the params, a request with that token. */
#define AUTH "000e 0003 746f6b"			/* "tok" */
#define KEEP "0008 0000"
#define FIXED15 "800c 0040" \
	"0101010101010101010101010101010101010101010101010101010101010101" \
	"0202020202020202020202020202020202020202020202020202020202020202"

static size_t pool_respond(FIXTURE_DATA(ke) *self, const char *hex, bool may_keep,
			   const struct ke_proto_server_params *params)
{
	ssize_t n = HEX(hex, self->msg);

	ke_proto_req_init(&self->req, KE_PROTO_MAX_REQUEST);
	self->req.may_keep_alive = may_keep;
	if (n <= 0 || ke_proto_feed(&self->req, self->msg, (size_t)n) != 1)
		return 0;
	return ke_proto_respond(&self->req, self->s, self->ks, params, self->out,
				sizeof(self->out), &self->res);
}

TEST_F(ke, pool_fixed_key_cookies_carry_the_pools_keys)
{
	uint8_t tokens[2][KE_PROTO_TOKEN_DIGEST];
	struct ke_proto_server_params params = { .ntp_server = "ntp.pool.test",
						 .tokens = tokens, .n_tokens = 2 };
	const uint8_t *p = self->out, *end;
	unsigned int cookies = 0, keep = 0;
	struct nts_keys k;

	ASSERT_EQ(0, ke_proto_token_digest("other", 5, tokens[0]));
	ASSERT_EQ(0, ke_proto_token_digest("tok", 3, tokens[1]));
	self->out_len = pool_respond(self, AUTH FIXED15 NP "8004 0002 000f" KEEP EOM, true,
				     &params);
	ASSERT_GT(self->out_len, 0);
	EXPECT_EQ(KE_PROTO_OK, self->res.outcome);
	EXPECT_EQ(NTS_KE_REQ_FIXED_KEY, self->res.kind);
	EXPECT_TRUE(self->res.keep_alive);
	EXPECT_EQ(NTS_MAX_COOKIES, self->res.cookies);
	for (end = self->out + self->out_len; p + 4 <= end;) {
		struct nts_ke_record rec;
		ssize_t r = nts_ke_record_decode(p, (size_t)(end - p), &rec);

		ASSERT_GT(r, 0);
		if (rec.type == NTS_KE_REC_COOKIE) {
			ASSERT_EQ(COOKIE_OK, cookie_open(self->ks, rec.body, rec.len, &k));
			EXPECT_EQ(15, k.aead);
			for (int i = 0; i < 32; i++) {
				EXPECT_EQ(1, k.c2s[i]);
				EXPECT_EQ(2, k.s2c[i]);
			}
			cookies++;
		}
		keep += rec.type == NTS_KE_REC_KEEP_ALIVE && !rec.critical;
		p += r;
	}
	EXPECT_EQ(NTS_MAX_COOKIES, cookies);
	EXPECT_EQ(1, keep);
	/* Without room to keep the connection, the answer says nothing of it. */
	self->out_len = pool_respond(self, AUTH FIXED15 NP "8004 0002 000f" KEEP EOM, false,
				     &params);
	EXPECT_EQ(KE_PROTO_OK, self->res.outcome);
	EXPECT_TRUE(self->res.keep_alive_asked);
	EXPECT_FALSE(self->res.keep_alive);
}

TEST_F(ke, pool_requests_refused_without_the_token)
{
	uint8_t tokens[1][KE_PROTO_TOKEN_DIGEST];
	struct ke_proto_server_params params = { .tokens = tokens, .n_tokens = 1 };
	struct ke_proto_server_params none = { 0 };
	uint8_t want[16];
	ssize_t w = HEX("8002 0002 0001" EOM, want);

	ASSERT_EQ(0, ke_proto_token_digest("tok", 3, tokens[0]));
	/* A wrong token, a prefix of the right one, one longer, none at all. */
	static const char *const bad[] = {
		"000e 0003 746f6a" FIXED15 NP "8004 0002 000f" EOM,
		"000e 0002 746f" "8009 0000" EOM,
		"000e 0004 746f6b6b" "8009 0000" EOM,
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		self->out_len = pool_respond(self, bad[i], true, &params);
		EXPECT_EQ(KE_PROTO_NOT_PERMITTED, self->res.outcome);
		ASSERT_EQ((size_t)w, self->out_len);
		EXPECT_EQ(0, memcmp(want, self->out, self->out_len));
		EXPECT_FALSE(self->res.keep_alive);
	}
	/* No tokens configured: nothing is accepted. */
	self->out_len = pool_respond(self, AUTH "8009 0000" EOM, true, &none);
	EXPECT_EQ(KE_PROTO_NOT_PERMITTED, self->res.outcome);
	self->out_len = pool_respond(self, "8009 0000" EOM, true, &params);
	EXPECT_EQ(KE_PROTO_BAD_REQUEST, self->res.outcome);
	EXPECT_TRUE(self->res.pool_records);
}

TEST_F(ke, pool_support_and_key_lengths)
{
	uint8_t tokens[1][KE_PROTO_TOKEN_DIGEST];
	static const uint16_t aeads[] = { 17 };
	struct ke_proto_server_params params = { .tokens = tokens, .n_tokens = 1,
						 .aeads = aeads, .n_aeads = 1 };
	uint8_t want[64];
	ssize_t w;

	ASSERT_EQ(0, ke_proto_token_digest("tok", 3, tokens[0]));
	self->out_len = pool_respond(self, AUTH "8009 0000" "800a 0000" EOM, true, &params);
	EXPECT_EQ(KE_PROTO_OK, self->res.outcome);
	EXPECT_EQ(NTS_KE_REQ_SUPPORT, self->res.kind);
	w = HEX("800a 0004 0011 0040" "8009 0002 0000" EOM, want);
	ASSERT_EQ((size_t)w, self->out_len);
	EXPECT_EQ(0, memcmp(want, self->out, self->out_len));
	/* AEAD 15 is not in this server's list: empty AEAD list, no cookies. */
	self->out_len = pool_respond(self, AUTH FIXED15 NP "8004 0002 000f" EOM, true, &params);
	EXPECT_EQ(KE_PROTO_NO_MATCH, self->res.outcome);
	/* 64 bytes of keys are two AEAD 15 keys, not two AEAD 17 ones. */
	self->out_len = pool_respond(self, AUTH FIXED15 NP "8004 0002 0011" EOM, true, &params);
	EXPECT_EQ(KE_PROTO_BAD_REQUEST, self->res.outcome);
	/* A kept-alive connection serves the pool's requests only. */
	ke_proto_req_init(&self->req, KE_PROTO_MAX_REQUEST);
	self->req.pool_only = true;
	self->msg_len = ke_proto_client_request(self->msg, sizeof(self->msg));
	ASSERT_EQ(1, ke_proto_feed(&self->req, self->msg, self->msg_len));
	self->out_len = ke_proto_respond(&self->req, self->s, self->ks, &params, self->out,
					 sizeof(self->out), &self->res);
	EXPECT_EQ(KE_PROTO_BAD_REQUEST, self->res.outcome);
}

/*
 * The parser's buffer lives as long as the connection (a pool keeps it for
 * hours): the pool's keys must not stay in it, whatever the answer was.
 */
TEST_F(ke, pool_keys_wiped_from_the_request)
{
	uint8_t tokens[1][KE_PROTO_TOKEN_DIGEST];
	struct ke_proto_server_params params = { .tokens = tokens, .n_tokens = 1 };
	static const struct {
		const char *hex;
		enum ke_proto_outcome outcome;
	} cases[] = {
		{ AUTH FIXED15 NP "8004 0002 000f" KEEP EOM, KE_PROTO_OK },
		{ "000e 0003 746f6a" FIXED15 NP "8004 0002 000f" EOM, KE_PROTO_NOT_PERMITTED },
		{ AUTH FIXED15 NP "8004 0002 0011" EOM, KE_PROTO_BAD_REQUEST },
		{ AUTH FIXED15 NP "8004 0002 000f" "000d 0003 612062" EOM, KE_PROTO_BAD_REQUEST },
	};
	uint8_t c2s[32], s2c[32];

	memset(c2s, 1, sizeof(c2s));
	memset(s2c, 2, sizeof(s2c));
	ASSERT_EQ(0, ke_proto_token_digest("tok", 3, tokens[0]));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		self->out_len = pool_respond(self, cases[i].hex, true, &params);
		ASSERT_GT(self->out_len, 0);
		EXPECT_EQ(cases[i].outcome, self->res.outcome);
		EXPECT_EQ(NULL, memmem(self->req.buf, sizeof(self->req.buf), c2s, sizeof(c2s)));
		EXPECT_EQ(NULL, memmem(self->req.buf, sizeof(self->req.buf), s2c, sizeof(s2c)));
	}
}

TEST_F(ke, feed_used_leaves_the_next_request)
{
	size_t used = 0;
	ssize_t n = HEX(AUTH "8009 0000" EOM AUTH "800a 0000" EOM, self->msg);

	ASSERT_EQ(1, ke_proto_feed_used(&self->req, self->msg, (size_t)n, &used));
	EXPECT_EQ(15u, used);	/* 7 + 4 + 4: the first message only */
}

TEST_HARNESS_MAIN
