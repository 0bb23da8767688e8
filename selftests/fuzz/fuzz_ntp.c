// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the NTP codec and NTS extension fields: the input
 * is one datagram. It runs the extension-field iterator (outer and inner
 * rules), the server request path and the client response path with both
 * AEADs under fixed keys (fuzz_ntp_keys.h, so the seed corpus from
 * gen_corpus_ntp.c authenticates), and checks invariants beyond "no crash":
 * fields stay inside the buffer, and any request the server accepts yields
 * a response that is no longer than the request and that the client
 * accepts with exactly the cookies the server sent, plus a matching NAK.
 */
#include <stdlib.h>
#include <string.h>

#include "nts_ntp.h"
#include "fuzz_ntp_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static struct aead *sivs[2];
static struct nts_keys keys[2];

static void init(void)
{
	static const int aeads[2] = { AEAD_AES_SIV_CMAC_256, AEAD_AES_SIV_CMAC_512 };

	if (sivs[0])
		return;
	for (int i = 0; i < 2; i++) {
		sivs[i] = aead_new();
		CHECK(sivs[i]);
		fuzz_ntp_keys(&keys[i], aeads[i]);
	}
}

static void walk(const uint8_t *data, size_t size, size_t start, unsigned int flags)
{
	struct ntp_ef_iter it;
	struct ntp_ef ef;
	unsigned int n = 0;
	int st;

	ntp_ef_iter_init(&it, data, size, start, flags);
	while ((st = ntp_ef_next(&it, &ef)) == NTP_EF_FIELD || st == NTP_EF_MAC) {
		CHECK(ef.off >= start && ef.off + ef.len <= size);
		CHECK(ef.body >= data && ef.body + ef.body_len <= data + size);
		CHECK(ef.len % 4 == 0 || st == NTP_EF_MAC);
		CHECK(++n <= NTP_EF_MAX_FIELDS + 1);
	}
	CHECK(ntp_ef_next(&it, &ef) == st);
}

static void server_path(const uint8_t *data, size_t size, int k)
{
	static uint8_t plain[65536], resp[NTS_NTP_MAX_PACKET], cplain[NTS_NTP_MAX_PACKET];
	static uint8_t cookies[NTS_NTP_MAX_COOKIES * NTS_NTP_MAX_COOKIE_LEN];
	struct nts_ntp_request req;
	struct nts_ntp_response c;
	struct ntp_header h = { .stratum = 1, .refid = { 'G', 'P', 'S', 0 } };
	unsigned int sent = 0, want;
	size_t len = 0, clen;
	int err;

	if (nts_ntp_server_parse(data, size, &req))
		return;
	CHECK(req.uid && req.uid_len >= NTS_NTP_UID_LEN && req.cookie && req.ct);
	CHECK(req.auth_off < req.auth_end && req.auth_end <= size);
	/* Any parsed request can be NAKed, and the client takes that NAK. */
	err = nts_ntp_server_nak(resp, sizeof(resp), &len, &h, &req);
	if (err) {
		CHECK(err == NTS_NTP_ERR_SPACE);
		CHECK(NTP_HEADER_LEN + NTP_EF_HDR_LEN + req.uid_len > sizeof(resp));
	} else {
		CHECK(len < size);
		CHECK(nts_ntp_client_response(resp, len, req.uid, req.uid_len, sivs[k],
					      &keys[k], cplain, sizeof(cplain), &c) ==
		      NTS_NTP_NAK);
	}
	if (nts_ntp_server_verify(&req, sivs[k], &keys[k], plain, sizeof(plain)))
		return;
	clen = req.cookie_len <= NTS_NTP_MAX_COOKIE_LEN ? req.cookie_len : 100;
	for (size_t i = 0; i < sizeof(cookies); i++)
		cookies[i] = (uint8_t)(i * 7 + 3);
	want = nts_ntp_response_cookies(&req, clen);
	err = nts_ntp_server_response(resp, sizeof(resp), &len, &h, &req, sivs[k], &keys[k],
				      cookies, clen, NTS_NTP_MAX_COOKIES, NULL, &sent);
	if (!want) {
		CHECK(err == NTS_NTP_ERR_SPACE);
		return;
	}
	CHECK(err == NTS_NTP_OK);
	CHECK(sent == want && sent <= req.n_placeholders + 1);
	CHECK(len <= req.auth_end);
	err = nts_ntp_client_response(resp, len, req.uid, req.uid_len, sivs[k], &keys[k],
				      cplain, sizeof(cplain), &c);
	CHECK(err == NTS_NTP_OK);
	CHECK(c.n_cookies == sent);
	for (unsigned int i = 0; i < sent; i++) {
		CHECK(c.cookie_lens[i] == ((clen + 3) & ~(size_t)3));
		CHECK(!memcmp(c.cookies[i], cookies + i * clen, clen));
	}
}

static void client_path(const uint8_t *data, size_t size, int k)
{
	static uint8_t plain[65536];
	static const uint8_t fixed_uid[NTS_NTP_UID_LEN] = { 0x5a };
	const uint8_t *uid = fixed_uid;
	size_t uid_len = sizeof(fixed_uid);
	struct nts_ntp_response c;
	struct ntp_ef_iter it;
	struct ntp_ef ef;
	int err;

	/* Expect the packet's own first UID, to get past the match check. */
	ntp_ef_iter_init(&it, data, size, size >= NTP_HEADER_LEN ? NTP_HEADER_LEN : size, 0);
	while (ntp_ef_next(&it, &ef) == NTP_EF_FIELD) {
		if (ef.type == NTS_NTP_EF_UID && ef.body_len) {
			uid = ef.body;
			uid_len = ef.body_len;
			break;
		}
	}
	err = nts_ntp_client_response(data, size, uid, uid_len, sivs[k], &keys[k], plain,
				      sizeof(plain), &c);
	if (err != NTS_NTP_OK) {
		CHECK(c.n_cookies == 0);
		return;
	}
	CHECK(c.n_cookies <= NTS_NTP_MAX_COOKIES);
	for (unsigned int i = 0; i < c.n_cookies; i++) {
		CHECK(c.cookies[i] >= plain && c.cookies[i] + c.cookie_lens[i] <= plain + size);
		CHECK(c.cookie_lens[i] >= 1 && c.cookie_lens[i] <= NTS_NTP_MAX_COOKIE_LEN);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntp_header h;

	init();
	walk(data, size, size >= NTP_HEADER_LEN ? NTP_HEADER_LEN : 0, 0);
	walk(data, size, 0, NTP_EF_INNER);
	if (ntp_header_decode(&h, data, size) == 0) {
		uint8_t back[NTP_HEADER_LEN];

		ntp_header_encode(&h, back);
		CHECK(!memcmp(back, data, NTP_HEADER_LEN));
		(void)ntp_ts_to_ns(h.tx_ts, (int64_t)h.rx_ts);
	}
	for (int k = 0; k < 2; k++) {
		server_path(data, size, k);
		client_path(data, size, k);
	}
	return 0;
}
