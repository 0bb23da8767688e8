// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the server core, ntp_serve(), with a keyset: any
 * datagram in; the answer must never be longer than the request, and an NTS
 * answer must verify with the client side of the library under the keys its
 * cookie carried, and every cookie it returns must open. A plain answer
 * goes only to a request without any NTS extension field.
 */
#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "fuzz_serve_keys.h"
#include "ntp.h"
#include "ntp_serve.h"
#include "nts_ntp.h"

static struct keyset *ks;
static struct ntp_serve_ctx ctx;
static struct aead *client_siv[2];

static uint64_t fixed_now(void)
{
	return 0xeb00000012345678ULL;
}

static void check_nts(const uint8_t *req, size_t len, const uint8_t *resp, size_t rlen)
{
	struct nts_ntp_response r;
	struct nts_ntp_request q;
	struct nts_keys keys, k2;
	uint8_t plain[2048];

	if (nts_ntp_server_parse(req, len, &q) != NTS_NTP_OK ||
	    cookie_open(ks, q.cookie, q.cookie_len, &keys) != COOKIE_OK)
		abort();
	if (nts_ntp_client_response(resp, rlen, q.uid, q.uid_len,
				    client_siv[keys.aead == AEAD_AES_SIV_CMAC_512], &keys, plain,
				    sizeof(plain), &r) != NTS_NTP_OK || !r.n_cookies)
		abort();
	for (unsigned int i = 0; i < r.n_cookies; i++)
		if (cookie_open(ks, r.cookies[i], r.cookie_lens[i], &k2) != COOKIE_OK ||
		    memcmp(&k2, &keys, sizeof(keys)))
			abort();
}

/* Issue 13 item 7: nothing carrying an NTS field is answered as plain NTP. */
static void check_plain(const uint8_t *req, size_t len)
{
	struct ntp_ef_iter it;
	struct ntp_ef ef;

	ntp_ef_iter_init(&it, req, len, NTP_HEADER_LEN, 0);
	while (ntp_ef_next(&it, &ef) == NTP_EF_FIELD)
		if (ef.type == NTS_NTP_EF_UID || ef.type == NTS_NTP_EF_COOKIE ||
		    ef.type == NTS_NTP_EF_PLACEHOLDER || ef.type == NTS_NTP_EF_AUTH)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntp_serve_state st = { .stratum = 2, .precision = -20 };
	enum ntp_serve_outcome o;
	uint8_t out[2048];
	size_t olen;

	if (!ks) {
		ks = fuzz_serve_keyset();
		client_siv[0] = aead_new();
		client_siv[1] = aead_new();
		if (!ks || !client_siv[0] || !client_siv[1] || ntp_serve_ctx_init(&ctx, ks))
			abort();
		ctx.tx_now = fixed_now;
	}
	o = ntp_serve(&ctx, data, size, NULL, fixed_now(), &st, out, sizeof(out), &olen);
	if (olen > size || (olen && olen < NTP_HEADER_LEN))
		abort();
	if ((o == NTP_SERVE_PLAIN || o == NTP_SERVE_RATE || o == NTP_SERVE_DENY) &&
	    olen != NTP_HEADER_LEN)
		abort();
	if (o == NTP_SERVE_NTS)
		check_nts(data, size, out, olen);
	if (o == NTP_SERVE_PLAIN)
		check_plain(data, size);
	return 0;
}
