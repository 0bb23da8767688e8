// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the NTS-KE codec.
 *
 * Input layout: n = data[0] % 8, then n chunk sizes (each byte + 1), then
 * the bytes of the stream. The stream goes through the streaming parser in
 * chunks of those sizes (cycled; n = 0 means one chunk), and whatever message
 * comes out is parsed as a client request and as a server response. The
 * stream itself is also parsed directly as a complete message.
 *
 * Beyond memory safety, it checks that the two views agree: a message the
 * direct parse accepts must stream to completion, a streamed message must
 * never fail the direct parse on framing, and any request we accept must
 * lead to a response we build and then accept ourselves.
 */
#include <stdlib.h>
#include <string.h>

#include "nts_ke.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t buf[NTS_KE_MAX_MSG];
static uint8_t out[NTS_KE_MAX_MSG];
static struct nts_ke_request req;
static struct nts_ke_response resp;

static bool framing_error(int r)
{
	return r == NTS_KE_E_TRUNCATED || r == NTS_KE_E_TRAILING || r == NTS_KE_E_BAD_EOM ||
	       r == NTS_KE_E_TOO_LONG || r == NTS_KE_E_TOO_MANY;
}

/* Server side of one exchange on an accepted request; must round-trip. */
static void answer(const struct nts_ke_offer *offer)
{
	static const uint8_t cookie[100] = { 1, 2, 3 };
	struct nts_ke_cookie c = { cookie, sizeof(cookie) };
	struct nts_ke_reply reply;
	ssize_t n;
	int r;

	nts_ke_negotiate(&req, NULL, 0, &reply);
	if (reply.aead >= 0) {
		reply.cookies = &c;
		reply.n_cookies = 1;
	}
	if (req.has_server && reply.ntpv4)
		reply.server = req.server;
	if (req.has_port && reply.ntpv4)
		reply.port = req.port;
	n = nts_ke_build_response(out, sizeof(out), &reply);
	if (n < 0)
		abort();
	r = nts_ke_parse_response(out, (size_t)n, offer, &resp);
	if (!reply.ntpv4 && r != NTS_KE_E_NO_PROTOCOL)
		abort();
	if (reply.ntpv4 && reply.aead < 0 && r != NTS_KE_E_NO_AEAD)
		abort();
	if (reply.aead >= 0 && (r != 0 || resp.aead != reply.aead || resp.n_cookies != 1))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t sizes[8], nsz, off = 0, taken = 0, mlen, len, k = 0;
	const uint8_t *msg, *m;
	struct nts_ke_offer offer;
	struct nts_ke_parser p;
	struct nts_ke_record rec;
	int direct, st, r;

	if (size < 1)
		return 0;
	nsz = data[0] % 8;
	if (size < 1 + nsz)
		return 0;
	for (size_t i = 0; i < nsz; i++)
		sizes[i] = (size_t)data[1 + i] + 1;
	msg = data + 1 + nsz;
	len = size - 1 - nsz;
	if (nsz == 0) {
		sizes[0] = len ? len : 1;
		nsz = 1;
	}
	nts_ke_offer_default(&offer);

	nts_ke_parser_init(&p, buf, sizeof(buf), NTS_KE_MAX_RECORDS);
	while (off < len) {
		size_t c = sizes[k++ % nsz];
		ssize_t t;

		if (c > len - off)
			c = len - off;
		t = nts_ke_parser_feed(&p, msg + off, c);
		if (t < 0)
			break;
		if ((size_t)t > c)
			abort();
		taken += (size_t)t;
		while (nts_ke_parser_next(&p, &rec) == 1)
			if (rec.body < buf || rec.body + rec.len > buf + p.len)
				abort();
		if ((size_t)t < c) {
			if (!nts_ke_parser_done(&p))
				abort();
			break;
		}
		off += c;
	}
	st = nts_ke_parser_eof(&p);

	direct = nts_ke_parse_request(msg, len, &req);
	if (direct == 0 && (st != 0 || taken != len))
		abort();
	if (direct == 0)
		answer(&offer);
	r = nts_ke_parse_response(msg, len, &offer, &resp);
	if (r == 0 && (st != 0 || taken != len))
		abort();

	if (st != 0)
		return 0;
	m = nts_ke_parser_message(&p, &mlen);
	if (mlen != taken || memcmp(m, msg, mlen))
		abort();
	r = nts_ke_parse_request(m, mlen, &req);
	if (framing_error(r))
		abort();
	if (r == 0)
		answer(&offer);
	r = nts_ke_parse_response(m, mlen, &offer, &resp);
	if (framing_error(r))
		abort();
	if (resp.n_cookies > NTS_KE_MAX_COOKIES || strlen(resp.server) > NTS_KE_MAX_SERVER_LEN)
		abort();
	if (r == 0 && (!resp.has_aead || !resp.n_cookies))
		abort();
	return 0;
}
