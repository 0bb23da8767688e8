// SPDX-License-Identifier: GPL-2.0
/*
 * ntp_serve(): the server's whole decision in one call, driven through every
 * outcome: plain, NTS, NAK, RATE and DENY kisses, and each drop reason, with
 * the access policy (deny list, allow list, rate limit) and require-nts in
 * the same call. Also: a request carrying any NTS field but not well formed
 * is never answered as plain NTP (issue 13 item 7), and a valid request with
 * many encrypted fields is answered, not NAKed (issue 13 item 6).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "kselftest_harness.h"
#include "cookie.h"
#include "keyset.h"
#include "ntp.h"
#include "ntp_policy.h"
#include "ntp_serve.h"
#include "nts_ntp.h"

#define PKT NTS_NTP_MAX_PACKET
#define RX_TS 0xeb00000011111111ULL
#define TX_TS 0xeb00000022222222ULL
#define CLIENT_TX 0xe000000012345678ULL

static uint64_t fake_mono;

static uint64_t fixed_tx(void)
{
	return TX_TS;
}

static uint64_t fake_mono_ms(void)
{
	return fake_mono;
}

static const struct ntp_serve_state server_state = {
	.leap = NTP_LEAP_NONE,
	.stratum = 2,
	.precision = -24,
	.root_delay = 0x00000321,
	.root_dispersion = 0x00000a0b,
	.refid = { 192, 0, 2, 1 },
	.reference_time = 0xeb0000001234abcdULL,
};

FIXTURE(serve)
{
	struct keyset *ks;
	struct ntp_serve_ctx ctx;
	struct aead *caead;
	struct sockaddr_in from4;
	struct sockaddr_in6 from6;
	uint8_t req[PKT];
	size_t req_len;
	uint8_t uid[NTS_NTP_UID_LEN];
	struct nts_keys keys;
	uint8_t out[PKT];
	size_t out_len;
};

FIXTURE_SETUP(serve)
{
	struct keyset_config kc;

	memset(self, 0, sizeof(*self));
	keyset_config_default(&kc);
	self->ks = keyset_new(&kc);
	ASSERT_NE(NULL, self->ks);
	ASSERT_EQ(0, keyset_load(self->ks, 1700000000));
	ASSERT_EQ(0, ntp_serve_ctx_init(&self->ctx, self->ks));
	self->ctx.tx_now = fixed_tx;
	self->ctx.mono_ms = fake_mono_ms;
	fake_mono = 1000000;
	self->caead = aead_new();
	ASSERT_NE(NULL, self->caead);
	self->from4.sin_family = AF_INET;
	self->from4.sin_port = htons(40000);
	inet_pton(AF_INET, "192.0.2.10", &self->from4.sin_addr);
	self->from6.sin6_family = AF_INET6;
	self->from6.sin6_port = htons(40000);
	inet_pton(AF_INET6, "2001:db8::10", &self->from6.sin6_addr);
}

FIXTURE_TEARDOWN(serve)
{
	ntp_policy_free(self->ctx.policy);
	ntp_serve_ctx_fini(&self->ctx);
	aead_free(self->caead);
	keyset_free(self->ks);
}

static struct ntp_header client_header(int version, int mode)
{
	struct ntp_header h = { 0 };

	h.version = (uint8_t)version;
	h.mode = (uint8_t)mode;
	h.poll = 6;
	h.precision = -18;
	h.tx_ts = CLIENT_TX;
	return h;
}

/* A plain request, 48 bytes, into self->req. */
static void plain_req(FIXTURE_DATA(serve) *self, int version, int mode)
{
	struct ntp_header h = client_header(version, mode);

	ntp_header_encode(&h, self->req);
	/* Client junk in fields the server must not echo. */
	memset(self->req + 4, 0x5a, 12);
	self->req_len = NTP_HEADER_LEN;
}

/* A cookie for fresh session keys of aead, as NTS-KE would have handed out. */
static size_t make_cookie(FIXTURE_DATA(serve) *self, int aead, uint8_t *cookie)
{
	int n;

	memset(&self->keys, 0, sizeof(self->keys));
	self->keys.aead = (uint16_t)aead;
	for (size_t i = 0; i < aead_key_len(aead); i++) {
		self->keys.c2s[i] = (uint8_t)(i * 3 + 1);
		self->keys.s2c[i] = (uint8_t)(i * 5 + 2);
	}
	n = cookie_seal(keyset_current(self->ks), &self->keys, cookie, COOKIE_MAX_LEN);
	return n > 0 ? (size_t)n : 0;
}

/* A well-formed NTS request with n_ph placeholders, as the client library builds it. */
static int nts_req(FIXTURE_DATA(serve) *self, int aead, unsigned int n_ph)
{
	struct ntp_header h = client_header(4, NTP_MODE_CLIENT);
	uint8_t cookie[COOKIE_MAX_LEN];
	size_t clen = make_cookie(self, aead, cookie);

	if (!clen)
		return -1;
	return nts_ntp_client_request(self->req, PKT, &self->req_len, &h,
				      self->caead, &self->keys, cookie,
				      clen, n_ph, self->uid);
}

static enum ntp_serve_outcome serve_from(FIXTURE_DATA(serve) *self, const struct sockaddr *sa)
{
	return ntp_serve(&self->ctx, self->req, self->req_len, sa, RX_TS, &server_state,
			 self->out, sizeof(self->out), &self->out_len);
}

static enum ntp_serve_outcome serve(FIXTURE_DATA(serve) *self)
{
	return serve_from(self, (const struct sockaddr *)&self->from4);
}

static void set_policy(struct __test_metadata *_metadata, FIXTURE_DATA(serve) *self,
		       const struct ntp_policy_config *pc)
{
	ntp_policy_free(self->ctx.policy);
	self->ctx.policy = ntp_policy_new(pc);
	ASSERT_NE(NULL, self->ctx.policy);
}

/* The answer decodes as a 48-byte server header for our request. */
static void check_header(struct __test_metadata *_metadata, FIXTURE_DATA(serve) *self,
			 struct ntp_header *h)
{
	ASSERT_EQ(0, ntp_header_decode(h, self->out, self->out_len));
	EXPECT_EQ(NTP_MODE_SERVER, h->mode);
	EXPECT_EQ(6, h->poll);
	EXPECT_EQ(-24, h->precision);
	EXPECT_EQ(CLIENT_TX, h->orig_ts);
	EXPECT_EQ(RX_TS, h->rx_ts);
	EXPECT_EQ(TX_TS, h->tx_ts);
}

static void check_kiss(struct __test_metadata *_metadata, FIXTURE_DATA(serve) *self,
		       const char *code)
{
	struct ntp_header h;

	ASSERT_EQ(NTP_HEADER_LEN, self->out_len);
	check_header(_metadata, self, &h);
	EXPECT_EQ(NTP_LEAP_UNSYNC, h.leap);
	EXPECT_EQ(0, h.stratum);
	EXPECT_EQ(0, memcmp(h.refid, code, 4));
	EXPECT_EQ(0, h.root_delay);
	EXPECT_EQ(0, h.root_dispersion);
	EXPECT_EQ(0, h.ref_ts);
}

static void check_dropped(struct __test_metadata *_metadata, FIXTURE_DATA(serve) *self,
			  enum ntp_serve_outcome want, enum ntp_serve_outcome got)
{
	EXPECT_EQ(want, got) {
		TH_LOG("want %s, got %s", ntp_serve_outcome_name(want),
		       ntp_serve_outcome_name(got));
	}
	EXPECT_EQ(0, self->out_len);
}

TEST_F(serve, plain_v4_and_v3)
{
	struct ntp_header h;

	for (int vn = 3; vn <= 4; vn++) {
		plain_req(self, vn, NTP_MODE_CLIENT);
		ASSERT_EQ(NTP_SERVE_PLAIN, serve(self));
		ASSERT_EQ(NTP_HEADER_LEN, self->out_len);
		check_header(_metadata, self, &h);
		EXPECT_EQ(vn, h.version);
		EXPECT_EQ(NTP_LEAP_NONE, h.leap);
		EXPECT_EQ(2, h.stratum);
		EXPECT_EQ(0, memcmp(h.refid, server_state.refid, 4));
		EXPECT_EQ(0x321, h.root_delay);
		EXPECT_EQ(0xa0b, h.root_dispersion);
		EXPECT_EQ(server_state.reference_time, h.ref_ts);
	}
	/* IPv6 clients alike; and without a policy the sender may be NULL. */
	EXPECT_EQ(NTP_SERVE_PLAIN, serve_from(self, (const struct sockaddr *)&self->from6));
	EXPECT_EQ(NTP_SERVE_PLAIN, serve_from(self, NULL));
}

TEST_F(serve, plain_with_other_extension_fields)
{
	uint8_t body[16];

	/* RFC 7822: unknown fields are ignored; no NTS field, so plain. */
	memset(body, 0x33, sizeof(body));
	plain_req(self, 4, NTP_MODE_CLIENT);
	ASSERT_NE(NULL, ntp_ef_add(self->req, PKT, &self->req_len, 0x2005, body, sizeof(body),
				   16));
	ASSERT_NE(NULL, ntp_ef_add(self->req, PKT, &self->req_len, 0x7001, body, sizeof(body),
				   28));
	EXPECT_EQ(NTP_SERVE_PLAIN, serve(self));
	EXPECT_EQ(NTP_HEADER_LEN, self->out_len);
}

/* An NTS answer that the client side verifies, carrying cookies that open. */
static void check_nts(struct __test_metadata *_metadata, FIXTURE_DATA(serve) *self,
		      unsigned int want_cookies)
{
	static uint8_t plain[PKT];
	struct nts_ntp_response r;
	struct nts_keys k2;

	ASSERT_LE(self->out_len, self->req_len);
	ASSERT_EQ(NTS_NTP_OK, nts_ntp_client_response(self->out, self->out_len, self->uid,
						      sizeof(self->uid),
						      self->caead,
						      &self->keys, plain, sizeof(plain), &r));
	EXPECT_EQ(want_cookies, r.n_cookies);
	EXPECT_EQ(CLIENT_TX, r.hdr.orig_ts);
	EXPECT_EQ(RX_TS, r.hdr.rx_ts);
	EXPECT_EQ(TX_TS, r.hdr.tx_ts);
	EXPECT_EQ(2, r.hdr.stratum);
	for (unsigned int i = 0; i < r.n_cookies; i++) {
		ASSERT_EQ(COOKIE_OK, cookie_open(self->ks, r.cookies[i], r.cookie_lens[i], &k2));
		EXPECT_EQ(0, memcmp(&k2, &self->keys, sizeof(k2)));
	}
}

TEST_F(serve, nts_both_aeads_with_placeholders)
{
	static const int aeads[] = { AEAD_AES_SIV_CMAC_256, AEAD_AES_SIV_CMAC_512 };

	for (unsigned int a = 0; a < 2; a++) {
		for (unsigned int ph = 0; ph <= NTS_NTP_MAX_PLACEHOLDERS; ph += 3) {
			ASSERT_EQ(NTS_NTP_OK, nts_req(self, aeads[a], ph));
			ASSERT_EQ(NTP_SERVE_NTS, serve(self));
			check_nts(_metadata, self, 1 + ph);
		}
	}
}

/*
 * Issue 13 item 6: placeholders inside the ciphertext count as much as outer
 * ones; seven of them (plaintext over 700 bytes) must still be answered.
 */
TEST_F(serve, nts_many_encrypted_fields)
{
	static const int aeads[] = { AEAD_AES_SIV_CMAC_256, AEAD_AES_SIV_CMAC_512 };
	struct ntp_header h = client_header(4, NTP_MODE_CLIENT);
	uint8_t cookie[COOKIE_MAX_LEN], inner[PKT];

	for (unsigned int a = 0; a < 2; a++) {
		size_t clen = make_cookie(self, aeads[a], cookie), il = 0, len, ad_len;
		size_t pl, npad = NTS_NTP_NONCE_LEN, cpad;
		uint8_t *b;

		ASSERT_NE(0, clen);
		for (int i = 0; i < NTS_NTP_MAX_PLACEHOLDERS; i++)
			ASSERT_NE(NULL, ntp_ef_add(inner, PKT, &il, NTS_NTP_EF_PLACEHOLDER, NULL,
						   clen, 0));
		ASSERT_GT(il, 512);
		memset(self->uid, 0x11, sizeof(self->uid));
		ntp_header_encode(&h, self->req);
		len = NTP_HEADER_LEN;
		ntp_ef_add(self->req, PKT, &len, NTS_NTP_EF_UID, self->uid, NTS_NTP_UID_LEN, 16);
		ntp_ef_add(self->req, PKT, &len, NTS_NTP_EF_COOKIE, cookie, clen, 16);
		ad_len = len;
		pl = il;
		cpad = (AEAD_TAG_LEN + pl + 3) & ~(size_t)3;
		b = ntp_ef_add(self->req, PKT, &len, NTS_NTP_EF_AUTH, NULL, 4 + npad + cpad, 28);
		ASSERT_NE(NULL, b);
		ntp_put16(b, NTS_NTP_NONCE_LEN);
		ntp_put16(b + 2, (uint16_t)(AEAD_TAG_LEN + pl));
		memset(b + 4, 0x42, NTS_NTP_NONCE_LEN);
		ASSERT_EQ(0, aead_seal_nts(self->caead, self->keys.aead, self->keys.c2s, b + 4,
					   NTS_NTP_NONCE_LEN, self->req, ad_len, inner, pl,
					   b + 4 + npad));
		self->req_len = len;
		ASSERT_EQ(NTP_SERVE_NTS, serve(self));
		check_nts(_metadata, self, 1 + NTS_NTP_MAX_PLACEHOLDERS);
	}
}

TEST_F(serve, nak_bad_cookie_and_bad_authenticator)
{
	struct ntp_header h;
	struct nts_ntp_response r;
	uint8_t plain[PKT];
	struct nts_ntp_request q;

	/* A cookie whose tag does not verify. */
	ASSERT_EQ(NTS_NTP_OK, nts_req(self, AEAD_AES_SIV_CMAC_256, 0));
	ASSERT_EQ(NTS_NTP_OK, nts_ntp_server_parse(self->req, self->req_len, &q));
	self->req[q.cookie - self->req + q.cookie_len - 1] ^= 1;
	ASSERT_EQ(NTP_SERVE_NAK, serve(self));
	check_header(_metadata, self, &h);
	EXPECT_EQ(0, h.stratum);
	EXPECT_EQ(0, memcmp(h.refid, "NTSN", 4));
	EXPECT_EQ(NTS_NTP_NAK, nts_ntp_client_response(self->out, self->out_len, self->uid,
						       sizeof(self->uid), self->caead,
						       &self->keys, plain, sizeof(plain), &r));
	/* A cookie under a key id this server never had. */
	ASSERT_EQ(NTS_NTP_OK, nts_req(self, AEAD_AES_SIV_CMAC_256, 0));
	ASSERT_EQ(NTS_NTP_OK, nts_ntp_server_parse(self->req, self->req_len, &q));
	self->req[q.cookie - self->req] ^= 0x80;
	EXPECT_EQ(NTP_SERVE_NAK, serve(self));
	/* A good cookie, but the authenticator's ciphertext was changed. */
	ASSERT_EQ(NTS_NTP_OK, nts_req(self, AEAD_AES_SIV_CMAC_512, 0));
	ASSERT_EQ(NTS_NTP_OK, nts_ntp_server_parse(self->req, self->req_len, &q));
	self->req[q.ct - self->req] ^= 1;
	EXPECT_EQ(NTP_SERVE_NAK, serve(self));
	/* The NAK is never longer than the request. */
	EXPECT_LE(self->out_len, self->req_len);
}

TEST_F(serve, rate_kiss)
{
	const struct ntp_policy_config pc = {
		.rate_limiting_cache_size = 64,
		.rate_limiting_cutoff_ms = 1000,
	};

	set_policy(_metadata, self, &pc);
	plain_req(self, 4, NTP_MODE_CLIENT);
	ASSERT_EQ(NTP_SERVE_PLAIN, serve(self));
	fake_mono += 999;
	ASSERT_EQ(NTP_SERVE_RATE, serve(self));
	check_kiss(_metadata, self, "RATE");
	/* Another client is not limited by the first. */
	EXPECT_EQ(NTP_SERVE_PLAIN, serve_from(self, (const struct sockaddr *)&self->from6));
	/* After the interval the first one gets time again. */
	fake_mono += 1;
	EXPECT_EQ(NTP_SERVE_PLAIN, serve(self));
	/* An NTS request inside the interval gets the plain RATE kiss. */
	ASSERT_EQ(NTS_NTP_OK, nts_req(self, AEAD_AES_SIV_CMAC_256, 2));
	ASSERT_EQ(NTP_SERVE_RATE, serve(self));
	check_kiss(_metadata, self, "RATE");
	EXPECT_EQ(4, self->out[0] >> 3 & 7);
}

TEST_F(serve, garbage_spends_no_rate)
{
	const struct ntp_policy_config pc = {
		.rate_limiting_cache_size = 64,
		.rate_limiting_cutoff_ms = 1000,
	};

	set_policy(_metadata, self, &pc);
	plain_req(self, 4, NTP_MODE_SERVER);
	check_dropped(_metadata, self, NTP_SERVE_DROP_INVALID, serve(self));
	plain_req(self, 4, NTP_MODE_CLIENT);
	EXPECT_EQ(NTP_SERVE_PLAIN, serve(self));
}

TEST_F(serve, deny_kiss_from_lists)
{
	struct ntp_policy_subnet deny = { .family = AF_INET, .addr = { 192, 0, 2, 0 },
					  .prefix = 24 };
	struct ntp_policy_subnet allow = { .family = AF_INET6, .addr = { 0x20, 0x01, 0x0d, 0xb8 },
					   .prefix = 32 };
	struct ntp_policy_config pc = {
		.denylist = { .set = true, .deny = true, .subnets = &deny, .n_subnets = 1 },
	};

	set_policy(_metadata, self, &pc);
	plain_req(self, 4, NTP_MODE_CLIENT);
	ASSERT_EQ(NTP_SERVE_DENY, serve(self));
	check_kiss(_metadata, self, "DENY");
	EXPECT_EQ(NTP_SERVE_PLAIN, serve_from(self, (const struct sockaddr *)&self->from6));
	/* NTS requests from a denied client get the kiss too, not time. */
	ASSERT_EQ(NTS_NTP_OK, nts_req(self, AEAD_AES_SIV_CMAC_256, 0));
	ASSERT_EQ(NTP_SERVE_DENY, serve(self));
	check_kiss(_metadata, self, "DENY");

	/* An allowlist: who is not on it is denied. */
	memset(&pc, 0, sizeof(pc));
	pc.allowlist = (struct ntp_policy_list){ .set = true, .deny = true, .subnets = &allow,
						 .n_subnets = 1 };
	set_policy(_metadata, self, &pc);
	plain_req(self, 4, NTP_MODE_CLIENT);
	ASSERT_EQ(NTP_SERVE_DENY, serve(self));
	check_kiss(_metadata, self, "DENY");
	EXPECT_EQ(NTP_SERVE_PLAIN, serve_from(self, (const struct sockaddr *)&self->from6));
}

TEST_F(serve, ignored_by_lists)
{
	struct ntp_policy_subnet net = { .family = AF_INET, .addr = { 192, 0, 2, 0 },
					 .prefix = 24 };
	struct ntp_policy_config pc = {
		.denylist = { .set = true, .deny = false, .subnets = &net, .n_subnets = 1 },
	};

	set_policy(_metadata, self, &pc);
	plain_req(self, 4, NTP_MODE_CLIENT);
	check_dropped(_metadata, self, NTP_SERVE_DROP_IGNORED, serve(self));
	ASSERT_EQ(NTS_NTP_OK, nts_req(self, AEAD_AES_SIV_CMAC_256, 0));
	check_dropped(_metadata, self, NTP_SERVE_DROP_IGNORED, serve(self));
	/* The denylist wins over the allowlist. */
	pc.allowlist = pc.denylist;
	pc.allowlist.deny = true;
	set_policy(_metadata, self, &pc);
	check_dropped(_metadata, self, NTP_SERVE_DROP_IGNORED, serve(self));
	/* Allowlist with action ignore: an IPv6 client off the list. */
	memset(&pc, 0, sizeof(pc));
	pc.allowlist = (struct ntp_policy_list){ .set = true, .subnets = &net, .n_subnets = 1 };
	set_policy(_metadata, self, &pc);
	plain_req(self, 4, NTP_MODE_CLIENT);
	EXPECT_EQ(NTP_SERVE_PLAIN, serve(self));
	check_dropped(_metadata, self, NTP_SERVE_DROP_IGNORED,
		      serve_from(self, (const struct sockaddr *)&self->from6));
	/* A policy needs the sender: without one nothing is answered. */
	check_dropped(_metadata, self, NTP_SERVE_DROP_ERROR, serve_from(self, NULL));
}

TEST_F(serve, require_nts)
{
	self->ctx.require_nts = true;
	self->ctx.require_nts_deny = true;
	plain_req(self, 4, NTP_MODE_CLIENT);
	ASSERT_EQ(NTP_SERVE_DENY, serve(self));
	check_kiss(_metadata, self, "DENY");
	ASSERT_EQ(NTS_NTP_OK, nts_req(self, AEAD_AES_SIV_CMAC_256, 0));
	EXPECT_EQ(NTP_SERVE_NTS, serve(self));
	self->ctx.require_nts_deny = false;
	plain_req(self, 3, NTP_MODE_CLIENT);
	check_dropped(_metadata, self, NTP_SERVE_DROP_POLICY, serve(self));
}

TEST_F(serve, drop_invalid)
{
	static uint8_t big[PKT + 28];
	uint8_t mac[20];

	/* Every mode but 3, every version below 3 and above 4. */
	for (int vn = 0; vn <= 7; vn++) {
		for (int mode = 0; mode <= 7; mode++) {
			if ((vn == 3 || vn == 4) && mode == NTP_MODE_CLIENT)
				continue;
			plain_req(self, vn, mode);
			check_dropped(_metadata, self, NTP_SERVE_DROP_INVALID, serve(self));
		}
	}
	/* A version the configuration turned off. */
	self->ctx.versions = 1U << 4;
	plain_req(self, 3, NTP_MODE_CLIENT);
	check_dropped(_metadata, self, NTP_SERVE_DROP_INVALID, serve(self));
	/* The versions mask cannot turn on what is never served. */
	self->ctx.versions = 0xff;
	plain_req(self, 2, NTP_MODE_CLIENT);
	check_dropped(_metadata, self, NTP_SERVE_DROP_INVALID, serve(self));
	plain_req(self, 5, NTP_MODE_CLIENT);
	check_dropped(_metadata, self, NTP_SERVE_DROP_INVALID, serve(self));
	/* Short. */
	plain_req(self, 4, NTP_MODE_CLIENT);
	self->req_len = NTP_HEADER_LEN - 1;
	check_dropped(_metadata, self, NTP_SERVE_DROP_INVALID, serve(self));
	/* A legacy MAC, v4 and v3. */
	memset(mac, 0x11, sizeof(mac));
	for (int vn = 3; vn <= 4; vn++) {
		plain_req(self, vn, NTP_MODE_CLIENT);
		memcpy(self->req + NTP_HEADER_LEN, mac, sizeof(mac));
		self->req_len = NTP_HEADER_LEN + sizeof(mac);
		check_dropped(_metadata, self, NTP_SERVE_DROP_INVALID, serve(self));
	}
	/* NTPv3 has no extension fields. */
	plain_req(self, 3, NTP_MODE_CLIENT);
	ASSERT_NE(NULL, ntp_ef_add(self->req, PKT, &self->req_len, 0x2005, mac, 16, 16));
	check_dropped(_metadata, self, NTP_SERVE_DROP_INVALID, serve(self));
	/* Longer than any request we serve. */
	plain_req(self, 4, NTP_MODE_CLIENT);
	self->req_len = NTP_HEADER_LEN;
	/* Four fields of 500 bytes: exactly NTS_NTP_MAX_PACKET, still served. */
	while (self->req_len + 500 <= PKT)
		ASSERT_NE(NULL, ntp_ef_add(self->req, PKT, &self->req_len, 0x2005, NULL, 496, 16));
	ASSERT_EQ(PKT, self->req_len);
	EXPECT_EQ(NTP_SERVE_PLAIN, serve(self));
	memcpy(big, self->req, self->req_len);
	ASSERT_NE(NULL, ntp_ef_add(big, sizeof(big), &self->req_len, 0x2005, NULL, 12, 28));
	ASSERT_GT(self->req_len, PKT);
	check_dropped(_metadata, self, NTP_SERVE_DROP_INVALID,
		      ntp_serve(&self->ctx, big, self->req_len, NULL, RX_TS, &server_state,
				self->out, sizeof(self->out), &self->out_len));
	/* No room for an answer. */
	plain_req(self, 4, NTP_MODE_CLIENT);
	check_dropped(_metadata, self, NTP_SERVE_DROP_INVALID,
		      ntp_serve(&self->ctx, self->req, self->req_len, NULL, RX_TS, &server_state,
				self->out, NTP_HEADER_LEN - 1, &self->out_len));
}

/*
 * Issue 13 item 7: any NTS field (UID, cookie, placeholder, authenticator) in
 * a request that is not a well-formed NTS request: no answer at all, never a
 * plain one. Each also from a denied client: malformed beats policy.
 */
TEST_F(serve, drop_nts_fields_never_plain)
{
	static const uint16_t types[] = { NTS_NTP_EF_UID, NTS_NTP_EF_COOKIE,
					  NTS_NTP_EF_PLACEHOLDER, NTS_NTP_EF_AUTH };
	struct ntp_policy_subnet deny = { .family = AF_INET, .addr = { 192, 0, 2, 0 },
					  .prefix = 24 };
	const struct ntp_policy_config pc = {
		.denylist = { .set = true, .deny = true, .subnets = &deny, .n_subnets = 1 },
	};
	uint8_t body[64];
	struct nts_ntp_request q;

	memset(body, 0x44, sizeof(body));
	for (int pass = 0; pass < 2; pass++) {
		/* Each NTS field alone. */
		for (unsigned int t = 0; t < 4; t++) {
			plain_req(self, 4, NTP_MODE_CLIENT);
			ASSERT_NE(NULL, ntp_ef_add(self->req, PKT, &self->req_len, types[t], body,
						   sizeof(body), 16));
			check_dropped(_metadata, self, NTP_SERVE_DROP_NTS, serve(self));
		}
		/* Cookie and placeholder but no UID; UID and cookie but no authenticator. */
		plain_req(self, 4, NTP_MODE_CLIENT);
		ntp_ef_add(self->req, PKT, &self->req_len, NTS_NTP_EF_COOKIE, body, 64, 16);
		ntp_ef_add(self->req, PKT, &self->req_len, NTS_NTP_EF_PLACEHOLDER, body, 64, 16);
		check_dropped(_metadata, self, NTP_SERVE_DROP_NTS, serve(self));
		plain_req(self, 4, NTP_MODE_CLIENT);
		ntp_ef_add(self->req, PKT, &self->req_len, NTS_NTP_EF_UID, body, 32, 16);
		ntp_ef_add(self->req, PKT, &self->req_len, NTS_NTP_EF_COOKIE, body, 64, 16);
		check_dropped(_metadata, self, NTP_SERVE_DROP_NTS, serve(self));
		/* A UID that is too short, next to a valid-looking cookie. */
		plain_req(self, 4, NTP_MODE_CLIENT);
		ntp_ef_add(self->req, PKT, &self->req_len, NTS_NTP_EF_UID, body, 16, 16);
		ntp_ef_add(self->req, PKT, &self->req_len, NTS_NTP_EF_COOKIE, body, 64, 16);
		check_dropped(_metadata, self, NTP_SERVE_DROP_NTS, serve(self));
		/* A real request with a second UID before the authenticator... */
		ASSERT_EQ(NTS_NTP_OK, nts_req(self, AEAD_AES_SIV_CMAC_256, 0));
		ASSERT_EQ(NTS_NTP_OK, nts_ntp_server_parse(self->req, self->req_len, &q));
		memmove(self->req + q.auth_off + 4, self->req + q.auth_off,
			self->req_len - q.auth_off);
		self->req_len += 4;
		memcpy(self->req + q.auth_off, "\x01\x04\x00\x04", 4);
		check_dropped(_metadata, self, NTP_SERVE_DROP_NTS, serve(self));
		/* ...or with its UID moved behind the authenticator (unauthenticated). */
		ASSERT_EQ(NTS_NTP_OK, nts_req(self, AEAD_AES_SIV_CMAC_256, 0));
		self->req[NTP_HEADER_LEN + 1] = 0x77;	/* UID becomes an unknown field */
		ntp_ef_add(self->req, PKT, &self->req_len, NTS_NTP_EF_UID, body, 32, 16);
		check_dropped(_metadata, self, NTP_SERVE_DROP_NTS, serve(self));
		/* Broken extension-field framing. */
		plain_req(self, 4, NTP_MODE_CLIENT);
		ntp_ef_add(self->req, PKT, &self->req_len, NTS_NTP_EF_UID, body, 32, 16);
		self->req[NTP_HEADER_LEN + 3] = 0x26;	/* length not a multiple of 4 */
		check_dropped(_metadata, self, NTP_SERVE_DROP_NTS, serve(self));
		set_policy(_metadata, self, &pc);
	}
}

TEST_F(serve, drop_nts_unconfigured)
{
	ASSERT_EQ(NTS_NTP_OK, nts_req(self, AEAD_AES_SIV_CMAC_256, 1));
	self->ctx.ks = NULL;
	check_dropped(_metadata, self, NTP_SERVE_DROP_NO_NTS, serve(self));
	/* Plain NTP is still served. */
	plain_req(self, 4, NTP_MODE_CLIENT);
	EXPECT_EQ(NTP_SERVE_PLAIN, serve(self));
}

TEST(outcome_names)
{
	for (int i = 0; i < NTP_SERVE_N_OUTCOMES; i++) {
		ASSERT_NE(NULL, ntp_serve_outcome_name(i));
		EXPECT_NE(0, strcmp("?", ntp_serve_outcome_name(i)));
		for (int j = 0; j < i; j++)
			EXPECT_NE(0, strcmp(ntp_serve_outcome_name(i), ntp_serve_outcome_name(j)));
	}
	EXPECT_EQ(0, strcmp("?", ntp_serve_outcome_name(NTP_SERVE_N_OUTCOMES)));
}

TEST_HARNESS_MAIN
