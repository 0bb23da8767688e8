// SPDX-License-Identifier: GPL-2.0
/*
 * NTS-KE codec (RFC 8915 section 4) and key exporter (section 5.1): exact
 * wire bytes, every record type, critical-bit rules, the streaming parser
 * at every split point, bounds, and keys over a real in-memory TLS 1.3 link.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "cookie.h"
#include "ke_proto.h"
#include "keyset.h"
#include "kselftest_harness.h"
#include "nts_ke.h"
#include "nts_ke_keys.h"
#include "testutil.h"
#include "tls_pair.h"

#define HEX(s, buf) hex_decode(s, buf, sizeof(buf))

/* Request pieces. */
#define NP "8001 0002 0000"
#define AEADS "8004 0004 000f 0011"
#define EOM "8000 0000"
/* What our client offers: 30, 15, 17, then chrony's record 1024. */
#define OFFER "8004 0006 001e 000f 0011" "0400 0000"
/* Response pieces. */
#define RAEAD "8004 0002 000f"
#define COOKIE "0005 0004 deadbeef"

/* ---- records ---- */

TEST(record_every_type_roundtrip)
{
	static const struct {
		uint16_t type;
		bool crit;
		const char *body;
		const char *wire;
	} v[] = {
		{ NTS_KE_REC_EOM, true, "", "8000 0000" },
		{ NTS_KE_REC_NEXT_PROTO, true, "0000", "8001 0002 0000" },
		{ NTS_KE_REC_ERROR, true, "0001", "8002 0002 0001" },
		{ NTS_KE_REC_WARNING, true, "0007", "8003 0002 0007" },
		{ NTS_KE_REC_AEAD, true, "000f 0011", "8004 0004 000f 0011" },
		{ NTS_KE_REC_COOKIE, false, "0102 0304 05", "0005 0005 0102 0304 05" },
		{ NTS_KE_REC_SERVER, false, "6e74 702e 6c6f 63", "0006 0007 6e74702e6c6f63" },
		{ NTS_KE_REC_PORT, true, "007b", "8007 0002 007b" },
		{ 0x7fff, false, "aa", "7fff 0001 aa" },
		{ 0x7fff, true, "", "ffff 0000" },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t body[64], wire[64], out[64];
		long bl = HEX(v[i].body, body), wl = HEX(v[i].wire, wire);
		struct nts_ke_record rec;

		ASSERT_GE(bl, 0);
		ASSERT_EQ(wl, NTS_KE_HDR_LEN + bl);
		EXPECT_EQ(wl, nts_ke_record_encode(out, sizeof(out), v[i].type, v[i].crit, body,
						   bl));
		EXPECT_EQ(0, memcmp(out, wire, wl));
		/* Exactly sized and one byte short. */
		EXPECT_EQ(wl, nts_ke_record_encode(out, wl, v[i].type, v[i].crit, body, bl));
		EXPECT_EQ(NTS_KE_E_NOSPACE,
			  nts_ke_record_encode(out, wl - 1, v[i].type, v[i].crit, body, bl));
		ASSERT_EQ(wl, nts_ke_record_decode(wire, wl, &rec));
		EXPECT_EQ(v[i].type, rec.type);
		EXPECT_EQ(v[i].crit, rec.critical);
		EXPECT_EQ(bl, rec.len);
		EXPECT_EQ(0, memcmp(rec.body, body, bl));
		/* Any shorter input is a truncated record. */
		for (long cut = 0; cut < wl; cut++)
			EXPECT_EQ(NTS_KE_E_TRUNCATED, nts_ke_record_decode(wire, cut, &rec));
	}
}

TEST(record_encode_limits)
{
	static uint8_t big[NTS_KE_HDR_LEN + NTS_KE_MAX_BODY + 1], src[NTS_KE_MAX_BODY + 1];
	uint16_t ids[3] = { 1, 0x8000, 0xffff };
	uint8_t want[16];
	long wl = HEX("0004 0006 0001 8000 ffff", want);

	EXPECT_EQ(NTS_KE_E_INVALID, nts_ke_record_encode(big, sizeof(big), 0x8000, false, NULL, 0));
	EXPECT_EQ(NTS_KE_E_INVALID,
		  nts_ke_record_encode(big, sizeof(big), 1, false, src, NTS_KE_MAX_BODY + 1));
	EXPECT_EQ(NTS_KE_HDR_LEN + NTS_KE_MAX_BODY,
		  nts_ke_record_encode(big, sizeof(big), 1, false, src, NTS_KE_MAX_BODY));
	EXPECT_EQ(0xff, big[2]);
	EXPECT_EQ(0xff, big[3]);
	EXPECT_EQ(NTS_KE_E_INVALID, nts_ke_record_encode(big, sizeof(big), 1, false, NULL, 3));
	EXPECT_EQ(wl, nts_ke_record_encode_u16s(big, sizeof(big), NTS_KE_REC_AEAD, false, ids, 3));
	EXPECT_EQ(0, memcmp(big, want, wl));
	EXPECT_EQ(NTS_KE_E_NOSPACE,
		  nts_ke_record_encode_u16s(big, 9, NTS_KE_REC_AEAD, false, ids, 3));
}

TEST(server_names)
{
	static const struct {
		const char *s;
		bool ok;
	} v[] = {
		{ "ntp.example.com", true }, { "ntp.example.com.", true },
		{ "xn--bcher-kva.example", true }, { "a", true }, { "a-b.c", true },
		{ "192.0.2.1", true }, { "2001:db8::1", true }, { "::1", true },
		{ "::ffff:192.0.2.1", true },
		{ "", false }, { ".", false }, { "a..b", false }, { ".a", false },
		{ "-a.b", false }, { "a-.b", false }, { "a.b-", false }, { "a b", false },
		{ "a_b.c", false }, { "bücher.example", false }, { "[2001:db8::1]", false },
		{ "fe80::1%eth0", false }, { "1.2.3", false }, { "256.1.1.1", false },
		{ "1.2.3.4.5", false }, { "2001:db8::g", false }, { "a..", false },
	};
	char label64[80], longname[300];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		bool got = nts_ke_server_name_valid(v[i].s, strlen(v[i].s));

		if (got != v[i].ok)
			TH_LOG("%s", v[i].s);
		EXPECT_EQ(v[i].ok, got);
	}
	EXPECT_FALSE(nts_ke_server_name_valid("a\0b", 3));
	memset(label64, 'a', 64);
	label64[64] = '\0';
	EXPECT_FALSE(nts_ke_server_name_valid(label64, 64));
	EXPECT_TRUE(nts_ke_server_name_valid(label64, 63));
	/* 4 * 63 + 3 dots = 255 > 253 */
	for (int i = 0; i < 4; i++) {
		memset(longname + 64 * i, 'b', 63);
		longname[64 * i + 63] = '.';
	}
	EXPECT_FALSE(nts_ke_server_name_valid(longname, 255));
	EXPECT_TRUE(nts_ke_server_name_valid(longname + 4, 249));
}

/* ---- client request: build and parse ---- */

TEST(request_exact_bytes)
{
	struct nts_ke_offer offer;
	uint8_t out[128], want[128];
	long wl;

	nts_ke_offer_default(&offer);
	wl = HEX(NP OFFER EOM, want);
	ASSERT_EQ(wl, nts_ke_build_request(out, sizeof(out), &offer));
	EXPECT_EQ(0, memcmp(out, want, wl));
	EXPECT_EQ(NTS_KE_E_NOSPACE, nts_ke_build_request(out, wl - 1, &offer));

	offer.server = "ntp.local";
	offer.port = 4123;
	wl = HEX(NP OFFER "0006 0009 6e74702e6c6f63616c" "0007 0002 101b" EOM, want);
	ASSERT_EQ(wl, nts_ke_build_request(out, sizeof(out), &offer));
	EXPECT_EQ(0, memcmp(out, want, wl));

	/* What we would not be able to use is never offered. */
	offer.port = 0;
	EXPECT_EQ(NTS_KE_E_INVALID, nts_ke_build_request(out, sizeof(out), &offer));
	offer.port = -1;
	offer.server = "bad name";
	EXPECT_EQ(NTS_KE_E_INVALID, nts_ke_build_request(out, sizeof(out), &offer));
	offer.server = NULL;
	offer.aeads[1] = 16;
	EXPECT_EQ(NTS_KE_E_INVALID, nts_ke_build_request(out, sizeof(out), &offer));
	offer.n_aeads = 0;
	EXPECT_EQ(NTS_KE_E_INVALID, nts_ke_build_request(out, sizeof(out), &offer));
}

TEST(request_parse_ok)
{
	struct nts_ke_request req;
	uint8_t m[256];
	long n;

	n = HEX(NP AEADS EOM, m);
	ASSERT_EQ(0, nts_ke_parse_request(m, n, &req));
	EXPECT_EQ(1, req.n_protos);
	EXPECT_EQ(0, req.protos[0]);
	ASSERT_EQ(2, req.n_aeads);
	EXPECT_EQ(15, req.aeads[0]);
	EXPECT_EQ(17, req.aeads[1]);
	EXPECT_FALSE(req.has_server);
	EXPECT_FALSE(req.has_port);
	EXPECT_EQ(0, req.n_ignored);

	/* The request chrony 4.3 sends (captured on loopback): AEAD 15 only. */
	n = HEX("8001 0002 0000 8004 0002 000f 8000 0000", m);
	ASSERT_EQ(0, nts_ke_parse_request(m, n, &req));
	ASSERT_EQ(1, req.n_aeads);
	EXPECT_EQ(15, nts_ke_select_aead(&req, NULL, 0));
	EXPECT_FALSE(req.compliant_128gcm);

	/* Record 1024 is recognised only as chrony sends it: no C, no body. */
	n = HEX(NP "8004 0004 001e 000f" "0400 0000" EOM, m);
	ASSERT_EQ(0, nts_ke_parse_request(m, n, &req));
	EXPECT_TRUE(req.compliant_128gcm);
	EXPECT_EQ(0, req.n_ignored);
	n = HEX(NP "8004 0004 001e 000f" "0400 0001 00" EOM, m);
	ASSERT_EQ(0, nts_ke_parse_request(m, n, &req));
	EXPECT_FALSE(req.compliant_128gcm);
	EXPECT_EQ(1, req.n_ignored);
	n = HEX(NP "8004 0004 001e 000f" "8400 0000" EOM, m);
	EXPECT_EQ(NTS_KE_E_UNKNOWN_CRITICAL, nts_ke_parse_request(m, n, &req));

	/* Unknown non-critical records are skipped wherever they are. */
	n = HEX("0123 0003 abcdef" NP "7fff 0000" AEADS "000b 0001 00" EOM, m);
	ASSERT_EQ(0, nts_ke_parse_request(m, n, &req));
	EXPECT_EQ(3, req.n_ignored);
	EXPECT_EQ(2, req.n_aeads);

	/* AEAD may come without C; server and port with or without it. */
	n = HEX(NP "0004 0002 0011" "8006 000a 3139322e302e322e3130" "0007 0002 007b" EOM, m);
	ASSERT_EQ(0, nts_ke_parse_request(m, n, &req));
	EXPECT_EQ(1, req.n_aeads);
	EXPECT_EQ(17, req.aeads[0]);
	EXPECT_TRUE(req.has_server);
	EXPECT_STREQ("192.0.2.10", req.server);
	EXPECT_TRUE(req.has_port);
	EXPECT_EQ(123, req.port);

	/* No NTPv4 offered: AEAD is not mandatory. */
	n = HEX("8001 0002 8000" EOM, m);
	ASSERT_EQ(0, nts_ke_parse_request(m, n, &req));
	EXPECT_EQ(0x8000, req.protos[0]);
	EXPECT_FALSE(req.has_aead);
}

TEST(request_parse_bad)
{
	static const struct {
		const char *name;
		const char *hex;
		int want;
	} v[] = {
		{ "empty input", "", NTS_KE_E_TRUNCATED },
		{ "only EOM", EOM, NTS_KE_E_MISSING },
		{ "missing next protocol", AEADS EOM, NTS_KE_E_MISSING },
		{ "missing AEAD with NTPv4", NP EOM, NTS_KE_E_MISSING },
		{ "empty next protocol", "8001 0000" AEADS EOM, NTS_KE_E_MALFORMED },
		{ "next protocol without C", "0001 0002 0000" AEADS EOM, NTS_KE_E_MALFORMED },
		{ "odd next protocol", "8001 0003 000000" AEADS EOM, NTS_KE_E_MALFORMED },
		{ "duplicate next protocol", NP NP AEADS EOM, NTS_KE_E_DUPLICATE },
		{ "duplicate AEAD", NP AEADS AEADS EOM, NTS_KE_E_DUPLICATE },
		{ "empty AEAD", NP "8004 0000" EOM, NTS_KE_E_MALFORMED },
		{ "odd AEAD", NP "8004 0003 000f00" EOM, NTS_KE_E_MALFORMED },
		{ "error record", NP AEADS "8002 0002 0001" EOM, NTS_KE_E_FORBIDDEN },
		{ "warning record", NP AEADS "8003 0002 0000" EOM, NTS_KE_E_FORBIDDEN },
		{ "cookie record", NP AEADS COOKIE EOM, NTS_KE_E_FORBIDDEN },
		{ "port of 3 bytes", NP AEADS "0007 0003 00007b" EOM, NTS_KE_E_MALFORMED },
		{ "port of 1 byte", NP AEADS "0007 0001 7b" EOM, NTS_KE_E_MALFORMED },
		{ "port 0", NP AEADS "0007 0002 0000" EOM, NTS_KE_E_MALFORMED },
		{ "duplicate port", NP AEADS "0007 0002 007b 0007 0002 007b" EOM,
		  NTS_KE_E_DUPLICATE },
		{ "empty server", NP AEADS "0006 0000" EOM, NTS_KE_E_MALFORMED },
		{ "server with space", NP AEADS "0006 0003 612062" EOM, NTS_KE_E_MALFORMED },
		{ "server with NUL", NP AEADS "0006 0003 610062" EOM, NTS_KE_E_MALFORMED },
		{ "server UTF-8", NP AEADS "0006 0003 61c3bc" EOM, NTS_KE_E_MALFORMED },
		{ "duplicate server", NP AEADS "0006 0001 61 0006 0001 62" EOM,
		  NTS_KE_E_DUPLICATE },
		{ "EOM with body", NP AEADS "8000 0001 00", NTS_KE_E_BAD_EOM },
		{ "EOM without C", NP AEADS "0000 0000", NTS_KE_E_BAD_EOM },
		{ "data after EOM", NP AEADS EOM "00", NTS_KE_E_TRAILING },
		{ "second message", NP AEADS EOM NP AEADS EOM, NTS_KE_E_TRAILING },
		{ "no EOM", NP AEADS, NTS_KE_E_TRUNCATED },
		{ "cut header", NP AEADS "8000 00", NTS_KE_E_TRUNCATED },
		{ "body overruns", NP "8004 0010 000f" EOM, NTS_KE_E_TRUNCATED },
		{ "unknown critical", NP AEADS "8010 0000" EOM, NTS_KE_E_UNKNOWN_CRITICAL },
		{ "unknown critical first", "ffff 0001 00" NP AEADS EOM,
		  NTS_KE_E_UNKNOWN_CRITICAL },
	};
	struct nts_ke_request req;
	uint8_t m[256];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		long n = HEX(v[i].hex, m);
		int got;

		ASSERT_GE(n, 0);
		got = nts_ke_parse_request(m, n, &req);
		if (got != v[i].want)
			TH_LOG("%s: %s", v[i].name, nts_ke_strerror(got));
		EXPECT_EQ(v[i].want, got);
		EXPECT_EQ(v[i].want == NTS_KE_E_UNKNOWN_CRITICAL ? 0 : 1,
			  nts_ke_error_code(got));
	}
}

TEST(request_list_bound)
{
	uint16_t ids[NTS_KE_MAX_IDS + 1] = { 0 };
	struct nts_ke_request req;
	uint8_t m[512];
	ssize_t n, a;

	for (int i = 0; i <= NTS_KE_MAX_IDS; i++)
		ids[i] = (uint16_t)(i == 0 ? 15 : 17);
	n = nts_ke_record_encode_u16s(m, sizeof(m), NTS_KE_REC_NEXT_PROTO, true,
				      (uint16_t[]){ 0 }, 1);
	a = nts_ke_record_encode_u16s(m + n, sizeof(m) - n, NTS_KE_REC_AEAD, true, ids,
				      NTS_KE_MAX_IDS);
	n += a;
	n += nts_ke_record_encode(m + n, sizeof(m) - n, NTS_KE_REC_EOM, true, NULL, 0);
	ASSERT_EQ(0, nts_ke_parse_request(m, n, &req));
	EXPECT_EQ(NTS_KE_MAX_IDS, req.n_aeads);

	n -= a + 4;
	n += nts_ke_record_encode_u16s(m + n, sizeof(m) - n, NTS_KE_REC_AEAD, true, ids,
				       NTS_KE_MAX_IDS + 1);
	n += nts_ke_record_encode(m + n, sizeof(m) - n, NTS_KE_REC_EOM, true, NULL, 0);
	EXPECT_EQ(NTS_KE_E_MALFORMED, nts_ke_parse_request(m, n, &req));
}

/* The message layer has the same bounds as the streaming parser. */
TEST(message_bounds)
{
	static uint8_t m[NTS_KE_MAX_MSG + 8], filler[NTS_KE_MAX_MSG];
	struct nts_ke_request req;
	size_t n = 0;

	/* NTS_KE_MAX_RECORDS records in all, End of Message included. */
	n += nts_ke_record_encode_u16s(m, sizeof(m), 1, true, (uint16_t[]){ 0 }, 1);
	n += nts_ke_record_encode_u16s(m + n, sizeof(m) - n, 4, true, (uint16_t[]){ 15 }, 1);
	for (int i = 2; i < NTS_KE_MAX_RECORDS - 1; i++)
		n += nts_ke_record_encode(m + n, sizeof(m) - n, 0x100, false, NULL, 0);
	n += nts_ke_record_encode(m + n, sizeof(m) - n, 0, true, NULL, 0);
	ASSERT_EQ(0, nts_ke_parse_request(m, n, &req));
	EXPECT_EQ(NTS_KE_MAX_RECORDS - 3, req.n_ignored);
	/* One more is too many. */
	n -= 4;
	n += nts_ke_record_encode(m + n, sizeof(m) - n, 0x100, false, NULL, 0);
	n += nts_ke_record_encode(m + n, sizeof(m) - n, 0, true, NULL, 0);
	EXPECT_EQ(NTS_KE_E_TOO_MANY, nts_ke_parse_request(m, n, &req));

	/* Exactly NTS_KE_MAX_MSG bytes is accepted, one more is not. */
	n = nts_ke_record_encode_u16s(m, sizeof(m), 1, true, (uint16_t[]){ 0 }, 1);
	n += nts_ke_record_encode_u16s(m + n, sizeof(m) - n, 4, true, (uint16_t[]){ 15 }, 1);
	n += nts_ke_record_encode(m + n, sizeof(m) - n, 0x100, false, filler,
				  NTS_KE_MAX_MSG - n - 8);
	n += nts_ke_record_encode(m + n, sizeof(m) - n, 0, true, NULL, 0);
	ASSERT_EQ(NTS_KE_MAX_MSG, n);
	EXPECT_EQ(0, nts_ke_parse_request(m, n, &req));
	m[n] = 0;
	EXPECT_EQ(NTS_KE_E_TOO_LONG, nts_ke_parse_request(m, n + 1, &req));
}

/* ---- server response: negotiation and bytes ---- */

TEST(negotiate_aead_preference)
{
	static const struct {
		const char *aeads;
		int want;
		int want_15_first;	/* with the server preference 15, 17, 30 */
	} v[] = {
		{ "000f 0011", 15, 15 }, { "0011 000f", 15, 15 }, { "0011", 17, 17 },
		{ "001e 0011", 30, 17 }, { "001e", 30, 30 }, { "000f 001e", 30, 15 },
		{ "0001 0002 0010", -1, -1 },
	};
	static const uint16_t pref[] = { 15, 17, 30 };
	struct nts_ke_request req;
	struct nts_ke_reply reply;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t m[64], a[32];
		long al = HEX(v[i].aeads, a), n;

		n = nts_ke_record_encode_u16s(m, sizeof(m), 1, true, (uint16_t[]){ 0 }, 1);
		n += nts_ke_record_encode(m + n, sizeof(m) - n, 4, true, a, al);
		n += nts_ke_record_encode(m + n, sizeof(m) - n, 0, true, NULL, 0);
		ASSERT_EQ(0, nts_ke_parse_request(m, n, &req));
		EXPECT_EQ(v[i].want, nts_ke_select_aead(&req, NULL, 0));
		EXPECT_EQ(v[i].want_15_first, nts_ke_select_aead(&req, pref, 3));
		/* A preference for an AEAD we do not have changes nothing. */
		EXPECT_EQ(v[i].want_15_first, nts_ke_select_aead(&req, (uint16_t[]){ 16, 15, 17,
								 30 }, 4));
		nts_ke_negotiate(&req, NULL, 0, &reply);
		EXPECT_TRUE(reply.ntpv4);
		EXPECT_EQ(v[i].want, reply.aead);
		EXPECT_FALSE(reply.compliant_128gcm);
		EXPECT_EQ(-1, reply.port);
		EXPECT_NULL(reply.server);
	}
}

TEST(response_exact_bytes)
{
	static const uint8_t c1[] = { 0xde, 0xad, 0xbe, 0xef }, c2[] = { 0x01, 0x02 };
	struct nts_ke_cookie cookies[2] = { { c1, sizeof(c1) }, { c2, sizeof(c2) } };
	struct nts_ke_reply reply = { .ntpv4 = true, .aead = 17, .cookies = cookies,
				      .n_cookies = 2, .port = -1 };
	uint8_t out[256], want[256];
	long wl;

	wl = HEX(NP "8004 0002 0011" COOKIE "0005 0002 0102" EOM, want);
	ASSERT_EQ(wl, nts_ke_build_response(out, sizeof(out), &reply));
	EXPECT_EQ(0, memcmp(out, want, wl));
	EXPECT_EQ(NTS_KE_E_NOSPACE, nts_ke_build_response(out, wl - 1, &reply));

	/* Server and port: the client must obey them, so C is set. */
	reply.server = "2001:db8::7";
	reply.port = 124;
	wl = HEX(NP "8004 0002 0011" "8006 000b 323030313a6462383a3a37" "8007 0002 007c"
		 COOKIE "0005 0002 0102" EOM, want);
	ASSERT_EQ(wl, nts_ke_build_response(out, sizeof(out), &reply));
	EXPECT_EQ(0, memcmp(out, want, wl));

	/* No acceptable AEAD: empty AEAD list, no cookies, no server or port. */
	reply = (struct nts_ke_reply){ .ntpv4 = true, .aead = -1, .port = 123,
				       .server = "ntp.example" };
	wl = HEX(NP "8004 0000" EOM, want);
	ASSERT_EQ(wl, nts_ke_build_response(out, sizeof(out), &reply));
	EXPECT_EQ(0, memcmp(out, want, wl));

	/* NTPv4 not requested: empty Next Protocol list only, no server or port. */
	reply = (struct nts_ke_reply){ .ntpv4 = false, .aead = -1, .port = 123,
				       .server = "ntp.example" };
	wl = HEX("8001 0000" EOM, want);
	ASSERT_EQ(wl, nts_ke_build_response(out, sizeof(out), &reply));
	EXPECT_EQ(0, memcmp(out, want, wl));

	/* Inconsistent replies are refused rather than sent. */
	reply = (struct nts_ke_reply){ .ntpv4 = true, .aead = 15, .port = -1 };
	EXPECT_EQ(NTS_KE_E_INVALID, nts_ke_build_response(out, sizeof(out), &reply));
	reply.cookies = cookies;
	reply.n_cookies = 1;
	reply.aead = 16;
	EXPECT_EQ(NTS_KE_E_INVALID, nts_ke_build_response(out, sizeof(out), &reply));
	reply.aead = 15;
	reply.port = 65536;
	EXPECT_EQ(NTS_KE_E_INVALID, nts_ke_build_response(out, sizeof(out), &reply));
	reply.port = -1;
	reply.server = "not a name";
	EXPECT_EQ(NTS_KE_E_INVALID, nts_ke_build_response(out, sizeof(out), &reply));
	reply.server = NULL;
	cookies[1].len = 0;
	reply.n_cookies = 2;
	EXPECT_EQ(NTS_KE_E_INVALID, nts_ke_build_response(out, sizeof(out), &reply));
	reply = (struct nts_ke_reply){ .ntpv4 = false, .aead = 15, .port = -1 };
	EXPECT_EQ(NTS_KE_E_INVALID, nts_ke_build_response(out, sizeof(out), &reply));
}

TEST(error_response_bytes)
{
	uint8_t out[16], want[16];
	struct nts_ke_offer offer;
	struct nts_ke_response resp;

	nts_ke_offer_default(&offer);
	for (uint16_t code = 0; code <= 2; code++) {
		long wl;
		char hex[64];

		snprintf(hex, sizeof(hex), "8002 0002 000%u" EOM, code);
		wl = HEX(hex, want);
		ASSERT_EQ(wl, nts_ke_build_error(out, sizeof(out), code));
		EXPECT_EQ(0, memcmp(out, want, wl));
		EXPECT_EQ(NTS_KE_E_SERVER_ERROR, nts_ke_parse_response(out, wl, &offer, &resp));
		EXPECT_TRUE(resp.has_error);
		EXPECT_EQ(code, resp.error);
	}
	EXPECT_EQ(NTS_KE_E_NOSPACE, nts_ke_build_error(out, 9, 1));
}

/* ---- full exchange through both message layers ---- */

TEST(exchange_roundtrip)
{
	uint8_t reqbuf[256], respbuf[2048], cbytes[NTS_MAX_COOKIES][100];
	struct nts_ke_cookie cookies[NTS_MAX_COOKIES];
	struct nts_ke_response resp;
	struct nts_ke_request req;
	struct nts_ke_reply reply;
	struct nts_ke_offer offer;
	ssize_t rl, sl;

	nts_ke_offer_default(&offer);
	offer.aeads[0] = 17;
	offer.aeads[1] = 15;
	offer.server = "ntp1.example.net";
	offer.port = 1123;
	rl = nts_ke_build_request(reqbuf, sizeof(reqbuf), &offer);
	ASSERT_GT(rl, 0);
	ASSERT_EQ(0, nts_ke_parse_request(reqbuf, rl, &req));
	EXPECT_STREQ("ntp1.example.net", req.server);
	EXPECT_EQ(1123, req.port);

	nts_ke_negotiate(&req, NULL, 0, &reply);
	ASSERT_EQ(15, reply.aead);
	for (int i = 0; i < NTS_MAX_COOKIES; i++) {
		memset(cbytes[i], 0x40 + i, sizeof(cbytes[i]));
		cookies[i] = (struct nts_ke_cookie){ cbytes[i], sizeof(cbytes[i]) };
	}
	reply.cookies = cookies;
	reply.n_cookies = NTS_MAX_COOKIES;
	reply.server = "192.0.2.5";
	reply.port = 10123;
	sl = nts_ke_build_response(respbuf, sizeof(respbuf), &reply);
	ASSERT_GT(sl, 0);

	ASSERT_EQ(0, nts_ke_parse_response(respbuf, sl, &offer, &resp));
	EXPECT_TRUE(resp.has_proto);
	EXPECT_EQ(NTS_PROTO_NTPV4, resp.proto);
	EXPECT_EQ(15, resp.aead);
	ASSERT_EQ(NTS_MAX_COOKIES, resp.n_cookies);
	EXPECT_EQ(0, resp.n_cookies_dropped);
	for (int i = 0; i < NTS_MAX_COOKIES; i++) {
		EXPECT_EQ(100, resp.cookie_len[i]);
		EXPECT_EQ(0, memcmp(resp.cookies[i], cbytes[i], 100));
	}
	EXPECT_TRUE(resp.has_server);
	EXPECT_STREQ("192.0.2.5", resp.server);
	EXPECT_TRUE(resp.has_port);
	EXPECT_EQ(10123, resp.port);
	EXPECT_FALSE(resp.has_error);
	EXPECT_FALSE(resp.has_warning);
}

TEST(response_parse_cases)
{
	static const struct {
		const char *name;
		const char *hex;
		bool only15;	/* offer AEAD 15 only */
		int want;
	} v[] = {
		{ "good", NP RAEAD COOKIE EOM, false, 0 },
		{ "AEAD 17", NP "8004 0002 0011" COOKIE EOM, false, 0 },
		{ "AEAD without C", NP "0004 0002 000f" COOKIE EOM, false, 0 },
		{ "unknown non-critical", "4321 0001 00" NP RAEAD COOKIE EOM, false, 0 },
		{ "17 not offered", NP "8004 0002 0011" COOKIE EOM, true, NTS_KE_E_NOT_OFFERED },
		{ "AEAD 30", NP "8004 0002 001e" COOKIE EOM, false, 0 },
		{ "30 not offered", NP "8004 0002 001e" COOKIE EOM, true, NTS_KE_E_NOT_OFFERED },
		{ "two AEADs", NP AEADS COOKIE EOM, false, NTS_KE_E_MALFORMED },
		{ "empty AEAD", NP "8004 0000" EOM, false, NTS_KE_E_NO_AEAD },
		{ "empty next protocol", "8001 0000" EOM, false, NTS_KE_E_NO_PROTOCOL },
		{ "next protocol 1", "8001 0002 0001" RAEAD COOKIE EOM, false,
		  NTS_KE_E_NOT_OFFERED },
		{ "next protocol without C", "0001 0002 0000" RAEAD COOKIE EOM, false,
		  NTS_KE_E_MALFORMED },
		{ "missing next protocol", RAEAD COOKIE EOM, false, NTS_KE_E_MISSING },
		{ "missing AEAD", NP COOKIE EOM, false, NTS_KE_E_MISSING },
		{ "no cookies", NP RAEAD EOM, false, NTS_KE_E_NO_COOKIES },
		{ "empty cookie", NP RAEAD "0005 0000" EOM, false, NTS_KE_E_MALFORMED },
		{ "duplicate next protocol", NP NP RAEAD COOKIE EOM, false, NTS_KE_E_DUPLICATE },
		{ "duplicate AEAD", NP RAEAD RAEAD COOKIE EOM, false, NTS_KE_E_DUPLICATE },
		{ "duplicate port", NP RAEAD COOKIE "8007 0002 007b 8007 0002 007b" EOM, false,
		  NTS_KE_E_DUPLICATE },
		{ "port 0", NP RAEAD COOKIE "8007 0002 0000" EOM, false, NTS_KE_E_MALFORMED },
		{ "long port", NP RAEAD COOKIE "8007 0004 0000 007b" EOM, false,
		  NTS_KE_E_MALFORMED },
		{ "bad server", NP RAEAD COOKIE "8006 0002 2e2e" EOM, false, NTS_KE_E_MALFORMED },
		{ "unknown critical", NP RAEAD COOKIE "c000 0000" EOM, false,
		  NTS_KE_E_UNKNOWN_CRITICAL },
		{ "error", "8002 0002 0001" EOM, false, NTS_KE_E_SERVER_ERROR },
		{ "error with success", NP RAEAD COOKIE "8002 0002 0002" EOM, false,
		  NTS_KE_E_SERVER_ERROR },
		{ "error without C", "0002 0002 0001" EOM, false, NTS_KE_E_MALFORMED },
		{ "error of 1 byte", "8002 0001 01" EOM, false, NTS_KE_E_MALFORMED },
		{ "error of 3 bytes", "8002 0003 000100" EOM, false, NTS_KE_E_MALFORMED },
		{ "warning", NP RAEAD COOKIE "8003 0002 1234" EOM, false,
		  NTS_KE_E_SERVER_WARNING },
		{ "warning without C", NP RAEAD COOKIE "0003 0002 1234" EOM, false,
		  NTS_KE_E_MALFORMED },
		{ "no EOM", NP RAEAD COOKIE, false, NTS_KE_E_TRUNCATED },
		{ "cut cookie", NP RAEAD "0005 0004 dead", false, NTS_KE_E_TRUNCATED },
		{ "EOM with body", NP RAEAD COOKIE "8000 0002 0000", false, NTS_KE_E_BAD_EOM },
		{ "trailing", NP RAEAD COOKIE EOM "8000", false, NTS_KE_E_TRAILING },
	};
	struct nts_ke_response resp;
	struct nts_ke_offer def, only15;
	uint8_t m[256];

	nts_ke_offer_default(&def);
	nts_ke_offer_default(&only15);
	only15.aeads[0] = 15;
	only15.n_aeads = 1;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		long n = HEX(v[i].hex, m);
		int got;

		ASSERT_GE(n, 0);
		got = nts_ke_parse_response(m, n, v[i].only15 ? &only15 : &def, &resp);
		if (got != v[i].want)
			TH_LOG("%s: %s", v[i].name, nts_ke_strerror(got));
		EXPECT_EQ(v[i].want, got);
	}

	ASSERT_EQ(NTS_KE_E_SERVER_WARNING,
		  nts_ke_parse_response(m, HEX(NP RAEAD COOKIE "8003 0002 1234" EOM, m), &def,
					&resp));
	EXPECT_TRUE(resp.has_warning);
	EXPECT_EQ(0x1234, resp.warning);
	ASSERT_EQ(0, nts_ke_parse_response(m, HEX("4321 0001 00" NP RAEAD COOKIE EOM, m), &def,
					   &resp));
	EXPECT_EQ(1, resp.n_ignored);
	EXPECT_EQ(1, resp.n_cookies);
	EXPECT_EQ(4, resp.cookie_len[0]);
	EXPECT_EQ(0xde, resp.cookies[0][0]);
}

TEST(response_cookie_bounds)
{
	static uint8_t m[NTS_KE_MAX_MSG], c[NTS_KE_MAX_COOKIE_LEN + NTS_KE_MAX_COOKIES + 4];
	struct nts_ke_cookie cookies[NTS_KE_MAX_COOKIES + 4];
	struct nts_ke_reply reply = { .ntpv4 = true, .aead = 15, .port = -1 };
	struct nts_ke_response resp;
	struct nts_ke_offer offer;
	ssize_t n;

	nts_ke_offer_default(&offer);
	for (size_t i = 0; i < sizeof(c); i++)
		c[i] = (uint8_t)i;
	for (int i = 0; i < NTS_KE_MAX_COOKIES + 4; i++)
		cookies[i] = (struct nts_ke_cookie){ c + i, NTS_KE_MAX_COOKIE_LEN };
	reply.cookies = cookies;
	reply.n_cookies = NTS_KE_MAX_COOKIES + 4;
	n = nts_ke_build_response(m, sizeof(m), &reply);
	ASSERT_GT(n, 0);
	ASSERT_EQ(0, nts_ke_parse_response(m, n, &offer, &resp));
	EXPECT_EQ(NTS_KE_MAX_COOKIES, resp.n_cookies);
	EXPECT_EQ(4, resp.n_cookies_dropped);
	EXPECT_EQ(0, memcmp(resp.cookies[NTS_KE_MAX_COOKIES - 1], c + NTS_KE_MAX_COOKIES - 1,
			    NTS_KE_MAX_COOKIE_LEN));

	/* A cookie longer than we can store or send is refused. */
	cookies[0].len = NTS_KE_MAX_COOKIE_LEN + 1;
	reply.n_cookies = 1;
	n = nts_ke_build_response(m, sizeof(m), &reply);
	ASSERT_GT(n, 0);
	EXPECT_EQ(NTS_KE_E_MALFORMED, nts_ke_parse_response(m, n, &offer, &resp));
}

/* ---- streaming parser ---- */

/* A response with every record type the client accepts, 9 records. */
#define STREAM_MSG NP RAEAD "8006 0003 613262" "8007 0002 1234" COOKIE \
	"0005 0001 aa" "0042 0002 0102" "0099 0000" EOM

/* Feed in chunks from sizes[] (cycled), pulling records after each feed. */
static int stream(struct nts_ke_parser *p, const uint8_t *m, size_t len,
		  const size_t *sizes, size_t n_sizes, unsigned int *records, size_t *taken)
{
	struct nts_ke_record rec;
	size_t off = 0, k = 0;

	*records = 0;
	*taken = 0;
	while (off < len) {
		size_t c = sizes[k++ % n_sizes];
		ssize_t r;

		if (c > len - off)
			c = len - off;
		r = nts_ke_parser_feed(p, m + off, c);
		if (r < 0)
			return (int)r;
		if ((size_t)r > c)
			return 100;
		off += c;
		*taken += (size_t)r;
		while (nts_ke_parser_next(p, &rec) == 1) {
			/* Records come out in order, whole, and point at the buffer. */
			if (rec.body < p->buf || rec.body + rec.len > p->buf + p->len)
				return 101;
			(*records)++;
		}
		if ((size_t)r < c)
			break;
	}
	return nts_ke_parser_eof(p);
}

TEST(stream_one_byte_at_a_time)
{
	static uint8_t buf[NTS_KE_MAX_MSG];
	struct nts_ke_parser p;
	struct nts_ke_record rec;
	uint8_t m[256];
	long n = HEX(STREAM_MSG, m);
	unsigned int seen = 0;
	size_t len;

	nts_ke_parser_init(&p, buf, sizeof(buf), NTS_KE_MAX_RECORDS);
	for (long i = 0; i < n; i++) {
		EXPECT_FALSE(nts_ke_parser_done(&p));
		EXPECT_EQ(NTS_KE_E_TRUNCATED, nts_ke_parser_eof(&p));
		ASSERT_EQ(1, nts_ke_parser_feed(&p, m + i, 1));
		while (nts_ke_parser_next(&p, &rec) == 1) {
			/* A record is handed out the moment its last byte arrives. */
			EXPECT_EQ(i + 1, rec.body + rec.len - buf);
			seen++;
		}
	}
	EXPECT_EQ(9, seen);
	EXPECT_TRUE(nts_ke_parser_done(&p));
	EXPECT_EQ(0, nts_ke_parser_eof(&p));
	EXPECT_TRUE(nts_ke_parser_message(&p, &len) == buf);
	EXPECT_EQ(n, len);
	EXPECT_EQ(0, memcmp(buf, m, n));
	/* Once done, nothing more is taken. */
	EXPECT_EQ(0, nts_ke_parser_feed(&p, m, 4));

	nts_ke_parser_reset(&p);
	EXPECT_FALSE(nts_ke_parser_done(&p));
	EXPECT_EQ(0, p.len);
}

TEST(stream_every_split_point)
{
	static uint8_t buf[NTS_KE_MAX_MSG];
	struct nts_ke_response resp;
	struct nts_ke_offer offer;
	struct nts_ke_parser p;
	uint8_t m[256];
	long n = HEX(STREAM_MSG, m);
	unsigned int recs;
	size_t taken, len;
	const uint8_t *msg;

	nts_ke_offer_default(&offer);
	/* One cut at every position, then two cuts at every pair of positions. */
	for (long i = 0; i <= n; i++) {
		for (long j = i; j <= n; j++) {
			size_t sizes[3] = { i, j - i, n - j };
			size_t nz[3], k = 0;

			for (int s = 0; s < 3; s++)
				if (sizes[s])
					nz[k++] = sizes[s];
			nts_ke_parser_init(&p, buf, sizeof(buf), NTS_KE_MAX_RECORDS);
			ASSERT_EQ(0, stream(&p, m, n, nz, k, &recs, &taken));
			ASSERT_EQ(9, recs);
			ASSERT_EQ(n, taken);
		}
	}
	msg = nts_ke_parser_message(&p, &len);
	ASSERT_EQ(0, nts_ke_parse_response(msg, len, &offer, &resp));
	EXPECT_EQ(2, resp.n_cookies);
	EXPECT_EQ(2, resp.n_ignored);
	EXPECT_STREQ("a2b", resp.server);
	EXPECT_EQ(0x1234, resp.port);
}

TEST(stream_random_chunks)
{
	static uint8_t buf[NTS_KE_MAX_MSG], m[NTS_KE_MAX_MSG];
	uint8_t cb[NTS_MAX_COOKIES][100];
	struct nts_ke_cookie cookies[NTS_MAX_COOKIES];
	struct nts_ke_reply reply = { .ntpv4 = true, .aead = 17, .port = -1 };
	struct nts_ke_parser p;
	unsigned int seed = 12345, recs;
	size_t taken;
	ssize_t n;

	for (int i = 0; i < NTS_MAX_COOKIES; i++) {
		memset(cb[i], i, sizeof(cb[i]));
		cookies[i] = (struct nts_ke_cookie){ cb[i], sizeof(cb[i]) };
	}
	reply.cookies = cookies;
	reply.n_cookies = NTS_MAX_COOKIES;
	reply.server = "ntp.example.org";
	n = nts_ke_build_response(m, sizeof(m), &reply);
	ASSERT_GT(n, 0);
	/* Followed by junk that must not be taken. */
	memset(m + n, 0x80, 64);
	for (int iter = 0; iter < 2000; iter++) {
		size_t sizes[16];

		for (int k = 0; k < 16; k++)
			sizes[k] = 1 + rand_r(&seed) % (iter % 2 ? 7 : 300);
		nts_ke_parser_init(&p, buf, sizeof(buf), NTS_KE_MAX_RECORDS);
		ASSERT_EQ(0, stream(&p, m, n + 64, sizes, 16, &recs, &taken));
		ASSERT_EQ(4 + NTS_MAX_COOKIES, recs);
		ASSERT_EQ(n, taken);
		ASSERT_EQ(0, memcmp(buf, m, n));
	}
}

TEST(stream_message_too_long)
{
	uint8_t buf[64], m[256];
	struct nts_ke_parser p;
	long n;

	/* The oversized header is refused before any of its body arrives. */
	n = HEX(NP "0005 0064", m);
	nts_ke_parser_init(&p, buf, sizeof(buf), NTS_KE_MAX_RECORDS);
	EXPECT_EQ(NTS_KE_E_TOO_LONG, nts_ke_parser_feed(&p, m, n));
	/* Sticky. */
	EXPECT_EQ(NTS_KE_E_TOO_LONG, nts_ke_parser_feed(&p, m, 1));
	EXPECT_EQ(NTS_KE_E_TOO_LONG, nts_ke_parser_eof(&p));

	/* Many small records that add up past the bound, fed byte by byte. */
	for (int i = 0; i < 20; i++)
		hex_decode("4001 0000", m + 4 * i, 4);
	nts_ke_parser_init(&p, buf, sizeof(buf), NTS_KE_MAX_RECORDS);
	for (int i = 0; i < 63; i++)
		ASSERT_EQ(1, nts_ke_parser_feed(&p, m + i, 1));
	/* Full without End of Message: no further record can fit. */
	EXPECT_EQ(NTS_KE_E_TOO_LONG, nts_ke_parser_feed(&p, m + 63, 1));

	/* A message of exactly the bound fits. */
	n = HEX("0005 0038", m);
	memset(m + 4, 0x55, 0x38);
	hex_decode(EOM, m + 4 + 0x38, 4);
	nts_ke_parser_init(&p, buf, sizeof(buf), NTS_KE_MAX_RECORDS);
	EXPECT_EQ(64, nts_ke_parser_feed(&p, m, 64));
	EXPECT_EQ(0, nts_ke_parser_eof(&p));
	/* A header whose body would end one byte past the bound: refused at once. */
	HEX("0005 003d", m);
	nts_ke_parser_init(&p, buf, sizeof(buf), NTS_KE_MAX_RECORDS);
	EXPECT_EQ(3, nts_ke_parser_feed(&p, m, 3));
	EXPECT_EQ(NTS_KE_E_TOO_LONG, nts_ke_parser_feed(&p, m + 3, 1));
	HEX("0005 003c", m);
	nts_ke_parser_init(&p, buf, sizeof(buf), NTS_KE_MAX_RECORDS);
	EXPECT_EQ(4, nts_ke_parser_feed(&p, m, 4));
	/* One more byte in the first body leaves no room for End of Message. */
	HEX("0005 0039", m);
	nts_ke_parser_init(&p, buf, sizeof(buf), NTS_KE_MAX_RECORDS);
	EXPECT_EQ(NTS_KE_E_TOO_LONG, nts_ke_parser_feed(&p, m, 65));
}

TEST(stream_too_many_records)
{
	static uint8_t buf[NTS_KE_MAX_MSG];
	struct nts_ke_parser p;
	uint8_t m[64];
	long n = HEX("4001 0000 4001 0000 4001 0000" EOM, m);

	nts_ke_parser_init(&p, buf, sizeof(buf), 4);
	EXPECT_EQ(n, nts_ke_parser_feed(&p, m, n));
	EXPECT_EQ(0, nts_ke_parser_eof(&p));
	nts_ke_parser_init(&p, buf, sizeof(buf), 3);
	EXPECT_EQ(NTS_KE_E_TOO_MANY, nts_ke_parser_feed(&p, m, n));
	EXPECT_EQ(NTS_KE_E_TOO_MANY, nts_ke_parser_eof(&p));
}

TEST(stream_truncated)
{
	static uint8_t buf[NTS_KE_MAX_MSG];
	struct nts_ke_parser p;
	uint8_t m[64];
	long n = HEX(NP AEADS EOM, m);

	/* Every strict prefix, empty included, is a truncated message at EOF. */
	for (long cut = 0; cut < n; cut++) {
		nts_ke_parser_init(&p, buf, sizeof(buf), NTS_KE_MAX_RECORDS);
		ASSERT_EQ(cut, nts_ke_parser_feed(&p, m, cut));
		EXPECT_FALSE(nts_ke_parser_done(&p));
		EXPECT_EQ(NTS_KE_E_TRUNCATED, nts_ke_parser_eof(&p));
	}
}

TEST(stream_bad_eom)
{
	static uint8_t buf[NTS_KE_MAX_MSG];
	struct nts_ke_parser p;
	uint8_t m[64];
	long n;

	n = HEX(NP "8000 0001 00", m);
	nts_ke_parser_init(&p, buf, sizeof(buf), NTS_KE_MAX_RECORDS);
	/* Known bad from its header: no need to wait for the body. */
	EXPECT_EQ(NTS_KE_E_BAD_EOM, nts_ke_parser_feed(&p, m, n - 1));
	n = HEX(NP "0000 0000", m);
	nts_ke_parser_init(&p, buf, sizeof(buf), NTS_KE_MAX_RECORDS);
	EXPECT_EQ(NTS_KE_E_BAD_EOM, nts_ke_parser_feed(&p, m, n));
	EXPECT_EQ(NTS_KE_E_BAD_EOM, nts_ke_parser_eof(&p));
}

/* ---- key export over an in-memory TLS 1.3 connection ---- */

/*
 * AEAD 30 both ways: our offer carries record 1024, the server echoes it
 * when it picks 30 for a client that asked, and the client sees it. A
 * server without it (chrony 4.4-4.6) leaves the flag clear.
 */
TEST(gcm_siv_compliant_record_round_trip)
{
	struct nts_ke_cookie cookie = { (const uint8_t *)"0123456789abcdef", 16 };
	uint8_t reqbuf[256], respbuf[512], m[128];
	struct nts_ke_response resp;
	struct nts_ke_request req;
	struct nts_ke_reply reply;
	struct nts_ke_offer offer;
	ssize_t rl, sl;
	long n;

	nts_ke_offer_default(&offer);
	rl = nts_ke_build_request(reqbuf, sizeof(reqbuf), &offer);
	ASSERT_GT(rl, 0);
	ASSERT_EQ(0, nts_ke_parse_request(reqbuf, rl, &req));
	EXPECT_TRUE(req.compliant_128gcm);
	nts_ke_negotiate(&req, NULL, 0, &reply);
	ASSERT_EQ(30, reply.aead);
	EXPECT_TRUE(reply.compliant_128gcm);
	reply.cookies = &cookie;
	reply.n_cookies = 1;
	sl = nts_ke_build_response(respbuf, sizeof(respbuf), &reply);
	ASSERT_GT(sl, 0);
	ASSERT_EQ(0, nts_ke_parse_response(respbuf, sl, &offer, &resp));
	EXPECT_EQ(30, resp.aead);
	EXPECT_TRUE(resp.compliant_128gcm);
	EXPECT_EQ(0, resp.n_ignored);

	/* The record is never sent with another AEAD. */
	nts_ke_negotiate(&req, (uint16_t[]){ 15 }, 1, &reply);
	ASSERT_EQ(15, reply.aead);
	EXPECT_FALSE(reply.compliant_128gcm);
	reply.compliant_128gcm = true;
	reply.cookies = &cookie;
	reply.n_cookies = 1;
	sl = nts_ke_build_response(respbuf, sizeof(respbuf), &reply);
	ASSERT_GT(sl, 0);
	ASSERT_EQ(0, nts_ke_parse_response(respbuf, sl, &offer, &resp));
	EXPECT_FALSE(resp.compliant_128gcm);

	/* chrony 4.4-4.6 answer 30 without it. */
	n = HEX(NP "8004 0002 001e" COOKIE EOM, m);
	ASSERT_EQ(0, nts_ke_parse_response(m, n, &offer, &resp));
	EXPECT_EQ(30, resp.aead);
	EXPECT_FALSE(resp.compliant_128gcm);
}

TEST(export_keys_tls13)
{
	static const uint8_t ctx30[5] = { 0x00, 0x00, 0x00, 30, 0x00 };
	static const char label30[] = "EXPORTER-network-time-security";
	struct nts_keys k30, q30;
	uint8_t want30[16];
	SSL_CTX *cctx = NULL, *sctx = NULL;
	SSL *c = NULL, *s = NULL;
	struct nts_keys kc[2], ks[2];
	const uint16_t aeads[2] = { AEAD_AES_SIV_CMAC_256, AEAD_AES_SIV_CMAC_512 };
	const unsigned char *proto;
	unsigned int plen;

	if (tls_pair(&cctx, &sctx, &c, &s)) {
		ERR_print_errors_fp(stderr);
		ASSERT_TRUE(0);
	}
	ASSERT_EQ(TLS1_3_VERSION, SSL_version(c));
	SSL_get0_alpn_selected(s, &proto, &plen);
	ASSERT_EQ(7, plen);
	EXPECT_EQ(0, memcmp(proto, "ntske/1", 7));
	EXPECT_EQ(X509_V_OK, SSL_get_verify_result(c));

	for (int a = 0; a < 2; a++) {
		size_t kl = aead_key_len(aeads[a]);
		uint8_t want[AEAD_MAX_KEY_LEN];
		/* Context written out here by hand from RFC 8915 5.1. */
		uint8_t ctx[5] = { 0x00, 0x00, 0x00, (uint8_t)aeads[a], 0x00 };
		static const char label[] = "EXPORTER-network-time-security";

		memset(&kc[a], 0xa5, sizeof(kc[a]));
		ASSERT_EQ(0, nts_ke_export_keys(c, aeads[a], &kc[a]));
		ASSERT_EQ(0, nts_ke_export_keys(s, aeads[a], &ks[a]));
		EXPECT_EQ(aeads[a], kc[a].aead);
		EXPECT_EQ(aeads[a], ks[a].aead);
		/* Both ends agree. */
		EXPECT_EQ(0, memcmp(kc[a].c2s, ks[a].c2s, kl));
		EXPECT_EQ(0, memcmp(kc[a].s2c, ks[a].s2c, kl));
		/* The two directions differ. */
		EXPECT_NE(0, memcmp(kc[a].c2s, kc[a].s2c, kl));
		/* Exactly what the exporter gives for the RFC's label and context. */
		ASSERT_EQ(1, SSL_export_keying_material(c, want, kl, label, strlen(label), ctx,
							sizeof(ctx), 1));
		EXPECT_EQ(0, memcmp(want, kc[a].c2s, kl));
		ctx[4] = 0x01;
		ASSERT_EQ(1, SSL_export_keying_material(s, want, kl, label, strlen(label), ctx,
							sizeof(ctx), 1));
		EXPECT_EQ(0, memcmp(want, ks[a].s2c, kl));
		/* Bytes past the key length are left zero. */
		for (size_t i = kl; i < AEAD_MAX_KEY_LEN; i++)
			EXPECT_EQ(0, kc[a].c2s[i]);
	}
	EXPECT_EQ(32, aead_key_len(15));
	/* The AEAD id is in the context: the keys differ between AEADs. */
	EXPECT_NE(0, memcmp(kc[0].c2s, kc[1].c2s, 32));
	EXPECT_NE(0, memcmp(kc[0].s2c, kc[1].s2c, 32));

	/* An AEAD we do not support yields no keys, and a wiped struct. */
	memset(&kc[0], 0xa5, sizeof(kc[0]));
	EXPECT_EQ(-1, nts_ke_export_keys(c, 16, &kc[0]));
	EXPECT_EQ(0, kc[0].c2s[0]);
	EXPECT_EQ(0, kc[0].aead);
	EXPECT_EQ(-1, nts_ke_export_keys(NULL, 15, &kc[0]));

	/*
	 * AEAD 30: 16-byte keys. RFC 8915 puts 30 in the context; chrony
	 * 4.4-4.6 put 15 there (Documentation/nts-ke.md).
	 */
	ASSERT_EQ(0, nts_ke_export_keys(c, 30, &k30));
	ASSERT_EQ(0, nts_ke_export_keys_as(s, 30, 15, &q30));
	EXPECT_EQ(30, k30.aead);
	EXPECT_EQ(30, q30.aead);
	ASSERT_EQ(1, SSL_export_keying_material(s, want30, 16, label30, strlen(label30), ctx30,
						sizeof(ctx30), 1));
	EXPECT_EQ(0, memcmp(want30, k30.c2s, 16));
	EXPECT_EQ(0, k30.c2s[16]);
	/* The quirk: AEAD 15 in the context, 16 bytes long. */
	ASSERT_EQ(1, SSL_export_keying_material(c, want30, 16, label30, strlen(label30),
						(const uint8_t[]){ 0, 0, 0, 15, 1 }, 5, 1));
	EXPECT_EQ(0, memcmp(want30, q30.s2c, 16));
	EXPECT_NE(0, memcmp(q30.c2s, k30.c2s, 16));
	EXPECT_EQ(-1, nts_ke_export_keys_as(s, 30, 16, &q30));
	EXPECT_EQ(0, q30.aead);

	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

/*
 * One whole NTS-KE exchange on AEAD 30 through ke_proto over a real TLS 1.3
 * session, as a chrony 4.4-4.6 client would run it (no record 1024) and as
 * chrony 4.6.1+ and our client do (with it): the keys sealed in the
 * server's cookies, the client's keys and its spare keys must be the two
 * derivations Documentation/nts-ke.md describes.
 */
static void ke30_exchange(struct __test_metadata *_metadata, int with_1024)
{
	static uint8_t resp[8192];
	uint8_t req[64];
	struct ke_proto_server_params params = { 0 };
	struct ke_proto_client_result *cr = calloc(1, sizeof(*cr));
	struct ke_proto_req *kr = calloc(1, sizeof(*kr));
	struct nts_keys rfc, quirk, in_cookie;
	struct ke_proto_result res;
	struct keyset_config cfg;
	struct ke_proto_resp kc;
	SSL_CTX *cctx, *sctx;
	struct keyset *ks;
	char err[128];
	SSL *c, *s;
	size_t n;
	long rl;

	ASSERT_TRUE(cr && kr);
	keyset_config_default(&cfg);
	ks = keyset_new(&cfg);
	ASSERT_NE(NULL, ks);
	ASSERT_EQ(0, keyset_load(ks, 1700000000));
	ASSERT_EQ(0, tls_pair(&cctx, &sctx, &c, &s));
	rl = with_1024 ? HEX(NP "8004 0002 001e" "0400 0000" EOM, req) :
			 HEX(NP "8004 0002 001e" EOM, req);
	ke_proto_req_init(kr, KE_PROTO_MAX_REQUEST);
	ASSERT_EQ(1, ke_proto_feed(kr, req, (size_t)rl));
	n = ke_proto_respond(kr, s, ks, &params, resp, sizeof(resp), &res);
	ASSERT_GT(n, 0);
	ASSERT_EQ(KE_PROTO_OK, res.outcome);
	ASSERT_EQ(30, res.aead);

	ASSERT_EQ(0, ke_proto_resp_init(&kc));
	ASSERT_EQ(1, ke_proto_resp_feed(&kc, resp, n));
	ASSERT_EQ(0, ke_proto_client_finish(&kc, c, cr, err, sizeof(err))) TH_LOG("%s", err);
	ke_proto_resp_free(&kc);
	ASSERT_EQ(NTS_MAX_COOKIES, cr->n_cookies);
	ASSERT_EQ(68, cr->cookie_len[0]);
	ASSERT_EQ(COOKIE_OK, cookie_open(ks, cr->cookies[0], 68, &in_cookie));

	ASSERT_EQ(0, nts_ke_export_keys(c, 30, &rfc));
	ASSERT_EQ(0, nts_ke_export_keys_as(c, 30, 15, &quirk));
	EXPECT_EQ(30, cr->keys.aead);
	EXPECT_EQ(30, in_cookie.aead);
	if (with_1024) {
		/* The server echoed 1024: RFC 8915 keys on both sides, no spare. */
		EXPECT_FALSE(cr->has_alt_keys);
		EXPECT_EQ(0, memcmp(cr->keys.c2s, rfc.c2s, 16));
		EXPECT_EQ(0, memcmp(cr->keys.s2c, rfc.s2c, 16));
		EXPECT_EQ(0, memcmp(in_cookie.c2s, rfc.c2s, 16));
		EXPECT_EQ(0, memcmp(in_cookie.s2c, rfc.s2c, 16));
	} else {
		/* chrony 4.4-4.6's keys in the cookie; the client starts with
		 * those and keeps the RFC ones as its spare. */
		EXPECT_TRUE(cr->has_alt_keys);
		EXPECT_EQ(0, memcmp(in_cookie.c2s, quirk.c2s, 16));
		EXPECT_EQ(0, memcmp(in_cookie.s2c, quirk.s2c, 16));
		EXPECT_EQ(0, memcmp(cr->keys.c2s, quirk.c2s, 16));
		EXPECT_EQ(0, memcmp(cr->alt_keys.c2s, rfc.c2s, 16));
		EXPECT_EQ(0, memcmp(cr->alt_keys.s2c, rfc.s2c, 16));
		EXPECT_EQ(30, cr->alt_keys.aead);
	}
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	keyset_free(ks);
	free(cr);
	free(kr);
}

TEST(ke_proto_aead30_without_record_1024)
{
	ke30_exchange(_metadata, 0);
}

TEST(ke_proto_aead30_with_record_1024)
{
	ke30_exchange(_metadata, 1);
}

TEST(export_keys_needs_handshake)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;
	struct nts_keys k;

	ASSERT_NE(NULL, ctx);
	ssl = SSL_new(ctx);
	ASSERT_NE(NULL, ssl);
	EXPECT_EQ(-1, nts_ke_export_keys(ssl, 15, &k));
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

/* NTS pool records as ntpd-rs 1.9 sends them (nts_ke.h). */
#define AUTH "000e 0003 746f6b"			/* "tok", no C */
#define KEEP "0008 0000"
#define KEYS64 \
	"0101010101010101010101010101010101010101010101010101010101010101" \
	"0202020202020202020202020202020202020202020202020202020202020202"
#define FIXED15 "800c 0040" KEYS64

TEST(request_pool_kinds)
{
	struct nts_ke_request req;
	uint8_t m[512];
	ssize_t n;

	/* A support query: lists asked for (empty bodies), token, keep alive. */
	n = HEX(AUTH "8009 0000" "800a 0000" KEEP EOM, m);
	ASSERT_EQ(0, nts_ke_parse_request(m, n, &req));
	EXPECT_EQ(NTS_KE_REQ_SUPPORT, req.kind);
	EXPECT_TRUE(req.wants_protos);
	EXPECT_TRUE(req.wants_aeads);
	EXPECT_TRUE(req.keep_alive);
	ASSERT_EQ(3, req.auth_len);
	EXPECT_EQ(0, memcmp("tok", req.auth, 3));
	EXPECT_EQ(4, req.n_pool_records);

	/* A fixed key request: keys split in halves, one protocol, one AEAD. */
	n = HEX(AUTH FIXED15 NP "8004 0002 000f" KEEP EOM, m);
	ASSERT_EQ(0, nts_ke_parse_request(m, n, &req));
	EXPECT_EQ(NTS_KE_REQ_FIXED_KEY, req.kind);
	ASSERT_EQ(64, req.fixed_key_len);
	EXPECT_EQ(1, req.fixed_key[0]);
	EXPECT_EQ(2, req.fixed_key[63]);
	EXPECT_EQ(15, req.aeads[0]);

	/* In a plain exchange, keep alive, deny and a token change nothing. */
	n = HEX(NP AEADS KEEP "000d 0009 612e6578616d706c65" AUTH EOM, m);
	ASSERT_EQ(0, nts_ke_parse_request(m, n, &req));
	EXPECT_EQ(NTS_KE_REQ_EXCHANGE, req.kind);
	EXPECT_EQ(1, req.n_denied);
	EXPECT_EQ(0, req.n_ignored);
	/* Critical bits are not checked on these, as ntpd-rs does not. */
	n = HEX("800e 0003 746f6b" "0009 0000" EOM, m);
	ASSERT_EQ(0, nts_ke_parse_request(m, n, &req));
	EXPECT_EQ(NTS_KE_REQ_SUPPORT, req.kind);
	EXPECT_FALSE(req.wants_aeads);
}

TEST(request_pool_bad)
{
	static const struct {
		const char *name;
		const char *hex;
		int want;
	} v[] = {
		{ "support without token", "8009 0000" EOM, NTS_KE_E_MISSING },
		{ "support with next protocol", AUTH "8009 0000" NP EOM, NTS_KE_E_FORBIDDEN },
		{ "support with fixed key", AUTH "800a 0000" FIXED15 EOM, NTS_KE_E_FORBIDDEN },
		{ "fixed key without token", FIXED15 NP "8004 0002 000f" EOM, NTS_KE_E_MISSING },
		{ "fixed key without AEAD", AUTH FIXED15 NP EOM, NTS_KE_E_MISSING },
		{ "fixed key without next protocol", AUTH FIXED15 "8004 0002 000f" EOM,
		  NTS_KE_E_MISSING },
		{ "fixed key longer than two of the longest keys",
		  AUTH "800c 0082" KEYS64 KEYS64 "0000" NP "8004 0002 000f" EOM,
		  NTS_KE_E_MALFORMED },
		{ "fixed key, two AEADs", AUTH FIXED15 NP AEADS EOM, NTS_KE_E_MALFORMED },
		{ "fixed key of odd length", AUTH "800c 0003 010203" NP "8004 0002 000f" EOM,
		  NTS_KE_E_MALFORMED },
		{ "fixed key empty", AUTH "800c 0000" NP "8004 0002 000f" EOM,
		  NTS_KE_E_MALFORMED },
		{ "two fixed keys", AUTH FIXED15 FIXED15 NP "8004 0002 000f" EOM,
		  NTS_KE_E_DUPLICATE },
		{ "two tokens", AUTH AUTH "8009 0000" EOM, NTS_KE_E_DUPLICATE },
		{ "empty token", "000e 0000" "8009 0000" EOM, NTS_KE_E_MALFORMED },
		{ "keep alive with a body", NP AEADS "0008 0001 00" EOM, NTS_KE_E_MALFORMED },
		{ "odd protocol list", AUTH "8009 0001 00" EOM, NTS_KE_E_MALFORMED },
		{ "AEAD list not in pairs", AUTH "800a 0002 000f" EOM, NTS_KE_E_MALFORMED },
		{ "deny of a bad name", NP AEADS "000d 0003 612062" EOM, NTS_KE_E_MALFORMED },
		{ "record 11 critical", NP AEADS "800b 0000" EOM, NTS_KE_E_UNKNOWN_CRITICAL },
	};
	struct nts_ke_request req;
	uint8_t m[512];

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		ssize_t n = HEX(v[i].hex, m);

		EXPECT_EQ(v[i].want, nts_ke_parse_request(m, (size_t)n, &req)) {
			TH_LOG("%s", v[i].name);
		}
		EXPECT_EQ(NTS_KE_ERR_BAD_REQUEST == nts_ke_error_code(v[i].want),
			  v[i].want != NTS_KE_E_UNKNOWN_CRITICAL);
	}
}

TEST(support_response_bytes)
{
	static const uint16_t protos[] = { 0 }, aeads[] = { 30, 15, 17 };
	uint8_t out[128], want[128];
	ssize_t n, w;

	n = nts_ke_build_support(out, sizeof(out), protos, 1, aeads, 3, true);
	w = HEX("800a 000c 001e 0010 000f 0020 0011 0040" "8009 0002 0000" "0008 0000" EOM,
		want);
	ASSERT_EQ(w, n);
	EXPECT_EQ(0, memcmp(out, want, (size_t)n));
	n = nts_ke_build_support(out, sizeof(out), NULL, 0, aeads, 1, false);
	w = HEX("800a 0004 001e 0010" EOM, want);
	ASSERT_EQ(w, n);
	EXPECT_EQ(0, memcmp(out, want, (size_t)n));
}

TEST_HARNESS_MAIN
