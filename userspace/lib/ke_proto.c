// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cookie.h"
#include "keyset.h"
#include "ke_proto.h"
#include "nts_ke_keys.h"

void ke_proto_req_init(struct ke_proto_req *r, size_t max)
{
	if (max > sizeof(r->buf))
		max = sizeof(r->buf);
	nts_ke_parser_init(&r->parser, r->buf, max, NTS_KE_MAX_RECORDS);
}

static int feed(struct nts_ke_parser *p, const uint8_t *data, size_t len)
{
	ssize_t n = nts_ke_parser_feed(p, data, len);

	if (n < 0)
		return -1;
	return nts_ke_parser_done(p) ? 1 : 0;
}

int ke_proto_feed(struct ke_proto_req *r, const uint8_t *data, size_t len)
{
	return feed(&r->parser, data, len);
}

const char *ke_proto_outcome_name(enum ke_proto_outcome o)
{
	switch (o) {
	case KE_PROTO_OK:
		return "ok";
	case KE_PROTO_NO_MATCH:
		return "no common protocol or AEAD";
	case KE_PROTO_BAD_REQUEST:
		return "bad request";
	case KE_PROTO_CRITICAL:
		return "unrecognised critical record";
	case KE_PROTO_INTERNAL:
		return "internal error";
	}
	return "?";
}

static size_t error_reply(uint16_t code, uint8_t *out, size_t cap,
			  struct ke_proto_result *res)
{
	ssize_t n = nts_ke_build_error(out, cap, code);

	res->outcome = code == NTS_KE_ERR_UNRECOGNIZED_CRITICAL ? KE_PROTO_CRITICAL :
		       code == NTS_KE_ERR_BAD_REQUEST ? KE_PROTO_BAD_REQUEST :
		       KE_PROTO_INTERNAL;
	return n > 0 ? (size_t)n : 0;
}

size_t ke_proto_respond(struct ke_proto_req *r, SSL *ssl, const struct keyset *ks,
			const struct ke_proto_server_params *params, uint8_t *out,
			size_t cap, struct ke_proto_result *res)
{
	uint8_t cookies[NTS_KE_COOKIES][COOKIE_MAX_LEN];
	struct nts_ke_cookie refs[NTS_KE_COOKIES];
	const struct keyset_key *cur;
	struct keyset_key key;
	struct nts_ke_request req;
	struct nts_ke_reply reply;
	struct nts_keys keys;
	const uint8_t *msg;
	size_t len;
	ssize_t n;
	int ret;

	memset(res, 0, sizeof(*res));
	res->aead = -1;
	if (r->parser.status < 0)
		/* Too long, too many records or a broken record header. */
		return error_reply(NTS_KE_ERR_BAD_REQUEST, out, cap, res);
	msg = nts_ke_parser_message(&r->parser, &len);
	ret = nts_ke_parse_request(msg, len, &req);
	if (ret)
		return error_reply(nts_ke_error_code(ret), out, cap, res);
	nts_ke_negotiate(&req, params->aeads, params->n_aeads, &reply);
	reply.server = params->ntp_server;
	reply.port = params->ntp_port ? params->ntp_port : -1;
	if (!reply.ntpv4 || reply.aead < 0) {
		/* RFC 8915 4.1.2/4.1.5: empty lists say "nothing acceptable". */
		res->outcome = KE_PROTO_NO_MATCH;
		reply.server = NULL;
		reply.port = -1;
		n = nts_ke_build_response(out, cap, &reply);
		return n > 0 ? (size_t)n : 0;
	}
	/* A copy, so that no read-side section spans the TLS exporter. */
	keyset_read_lock();
	cur = keyset_current(ks);
	if (cur)
		key = *cur;
	keyset_read_unlock();
	/*
	 * AES-128-GCM-SIV keys follow RFC 8915 only for clients that asked with
	 * record 1024; the rest get chrony 4.4-4.6's, as chrony's server does.
	 */
	if (!cur || nts_ke_export_keys_as(ssl, (uint16_t)reply.aead,
					  reply.aead == AEAD_AES_128_GCM_SIV &&
					  !reply.compliant_128gcm ? AEAD_AES_SIV_CMAC_256 :
					  (uint16_t)reply.aead, &keys)) {
		OPENSSL_cleanse(&key, sizeof(key));
		return error_reply(NTS_KE_ERR_INTERNAL, out, cap, res);
	}
	for (int i = 0; i < NTS_KE_COOKIES; i++) {
		ret = cookie_seal(&key, &keys, cookies[i], sizeof(cookies[i]));
		if (ret < 0) {
			OPENSSL_cleanse(&keys, sizeof(keys));
			OPENSSL_cleanse(&key, sizeof(key));
			return error_reply(NTS_KE_ERR_INTERNAL, out, cap, res);
		}
		refs[i].data = cookies[i];
		refs[i].len = (size_t)ret;
	}
	OPENSSL_cleanse(&keys, sizeof(keys));
	res->key_id = key.id;
	OPENSSL_cleanse(&key, sizeof(key));
	reply.cookies = refs;
	reply.n_cookies = NTS_KE_COOKIES;
	n = nts_ke_build_response(out, cap, &reply);
	if (n <= 0)
		return error_reply(NTS_KE_ERR_INTERNAL, out, cap, res);
	res->outcome = KE_PROTO_OK;
	res->aead = reply.aead;
	res->cookies = NTS_KE_COOKIES;
	return (size_t)n;
}

size_t ke_proto_client_request(uint8_t *out, size_t cap)
{
	struct nts_ke_offer offer;
	ssize_t n;

	nts_ke_offer_default(&offer);
	n = nts_ke_build_request(out, cap, &offer);
	return n > 0 ? (size_t)n : 0;
}

int ke_proto_resp_init(struct ke_proto_resp *r)
{
	memset(r, 0, sizeof(*r));
	r->buf = malloc(KE_PROTO_MAX_RESPONSE);
	if (!r->buf)
		return -1;
	nts_ke_parser_init(&r->parser, r->buf, KE_PROTO_MAX_RESPONSE, NTS_KE_MAX_RECORDS);
	nts_ke_offer_default(&r->offer);
	return 0;
}

void ke_proto_resp_free(struct ke_proto_resp *r)
{
	free(r->buf);
	r->buf = NULL;
}

int ke_proto_resp_feed(struct ke_proto_resp *r, const uint8_t *data, size_t len)
{
	return feed(&r->parser, data, len);
}

int ke_proto_client_finish(struct ke_proto_resp *r, SSL *ssl,
			   struct ke_proto_client_result *out, char *err, size_t errlen)
{
	struct nts_ke_response *resp;
	const uint8_t *msg;
	size_t len;
	int ret;

	memset(out, 0, sizeof(*out));
	resp = malloc(sizeof(*resp));
	if (!resp) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	msg = nts_ke_parser_message(&r->parser, &len);
	ret = nts_ke_parse_response(msg, len, &r->offer, resp);
	if (ret) {
		if (resp->has_error)
			snprintf(err, errlen, "server sent NTS-KE error %u (%s)", resp->error,
				 resp->error == NTS_KE_ERR_UNRECOGNIZED_CRITICAL ?
				 "unrecognized critical record" :
				 resp->error == NTS_KE_ERR_BAD_REQUEST ? "bad request" :
				 resp->error == NTS_KE_ERR_INTERNAL ? "internal server error" :
				 "unknown");
		else
			snprintf(err, errlen, "NTS-KE response refused: %s",
				 nts_ke_strerror(ret));
		goto out;
	}
	/* As chrony's client: see ke_proto_client_result. */
	if (resp->aead == AEAD_AES_128_GCM_SIV && !resp->compliant_128gcm) {
		if (nts_ke_export_keys_as(ssl, resp->aead, AEAD_AES_SIV_CMAC_256, &out->keys) ||
		    nts_ke_export_keys(ssl, resp->aead, &out->alt_keys)) {
			snprintf(err, errlen, "TLS exporter failed");
			ret = -1;
			goto out;
		}
		out->has_alt_keys = true;
	} else if (nts_ke_export_keys(ssl, resp->aead, &out->keys)) {
		snprintf(err, errlen, "TLS exporter failed");
		ret = -1;
		goto out;
	}
	out->n_cookies = resp->n_cookies;
	memcpy(out->cookie_len, resp->cookie_len, sizeof(out->cookie_len));
	memcpy(out->cookies, resp->cookies, sizeof(out->cookies));
	if (resp->has_server)
		memcpy(out->ntp_server, resp->server, sizeof(out->ntp_server));
	if (resp->has_port)
		out->ntp_port = resp->port;
out:
	OPENSSL_cleanse(resp, sizeof(*resp));
	free(resp);
	return ret ? -1 : 0;
}
