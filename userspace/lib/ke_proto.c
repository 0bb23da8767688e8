// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cookie.h"
#include "keyset.h"
#include "ke_proto.h"
#include "nts_ke_keys.h"

void ke_proto_req_init(struct ke_proto_req *r, size_t max)
{
	if (max > sizeof(r->buf))
		max = sizeof(r->buf);
	r->may_keep_alive = false;
	r->pool_only = false;
	nts_ke_parser_init(&r->parser, r->buf, max, NTS_KE_MAX_RECORDS);
}

int ke_proto_token_digest(const void *token, size_t len,
			  uint8_t out[KE_PROTO_TOKEN_DIGEST])
{
	unsigned int n = 0;

	if (!EVP_Digest(token, len, out, &n, EVP_sha256(), NULL) ||
	    n != KE_PROTO_TOKEN_DIGEST)
		return -1;
	return 0;
}

/*
 * Digests have one length whatever the token's, and every configured token
 * is compared, so the time taken says nothing about which bytes matched.
 */
static bool token_accepted(const struct ke_proto_server_params *params,
			   const uint8_t *tok, size_t len)
{
	uint8_t d[KE_PROTO_TOKEN_DIGEST];
	int miss = 1;

	if (!tok || !params->n_tokens || ke_proto_token_digest(tok, len, d))
		return false;
	for (unsigned int i = 0; i < params->n_tokens; i++)
		miss &= !!CRYPTO_memcmp(d, params->tokens[i], sizeof(d));
	OPENSSL_cleanse(d, sizeof(d));
	return !miss;
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

int ke_proto_feed_used(struct ke_proto_req *r, const uint8_t *data, size_t len,
		       size_t *used)
{
	ssize_t n = nts_ke_parser_feed(&r->parser, data, len);

	*used = n < 0 ? len : (size_t)n;
	if (n < 0)
		return -1;
	return nts_ke_parser_done(&r->parser) ? 1 : 0;
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
	case KE_PROTO_NOT_PERMITTED:
		return "pool request without an accepted token";
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

/*
 * NTS_MAX_COOKIES cookies for keys under the keyset's current key, and the
 * answer around them. 0, or an Error code to answer with instead.
 */
static int seal_reply(const struct keyset *ks, const struct nts_keys *keys,
		      struct nts_ke_reply *reply, uint8_t *out, size_t cap,
		      struct ke_proto_result *res, size_t *len)
{
	uint8_t cookies[NTS_MAX_COOKIES][COOKIE_MAX_LEN];
	struct nts_ke_cookie refs[NTS_MAX_COOKIES];
	const struct keyset_key *cur;
	struct keyset_key key;
	ssize_t n;
	int ret;

	/* A copy, so that no read-side section spans the TLS exporter. */
	keyset_read_lock();
	cur = keyset_current(ks);
	if (cur)
		key = *cur;
	keyset_read_unlock();
	if (!cur)
		return NTS_KE_ERR_INTERNAL;
	for (int i = 0; i < NTS_MAX_COOKIES; i++) {
		ret = cookie_seal(&key, keys, cookies[i], sizeof(cookies[i]));
		if (ret < 0) {
			OPENSSL_cleanse(&key, sizeof(key));
			return NTS_KE_ERR_INTERNAL;
		}
		refs[i].data = cookies[i];
		refs[i].len = (size_t)ret;
	}
	res->key_id = key.id;
	OPENSSL_cleanse(&key, sizeof(key));
	reply->cookies = refs;
	reply->n_cookies = NTS_MAX_COOKIES;
	n = nts_ke_build_response(out, cap, reply);
	if (n <= 0)
		return NTS_KE_ERR_INTERNAL;
	res->outcome = KE_PROTO_OK;
	res->aead = reply->aead;
	res->cookies = NTS_MAX_COOKIES;
	*len = (size_t)n;
	return 0;
}

static size_t no_match(struct nts_ke_reply *reply, uint8_t *out, size_t cap,
		       struct ke_proto_result *res)
{
	ssize_t n;

	/* RFC 8915 4.1.2/4.1.5: empty lists say "nothing acceptable". */
	res->outcome = KE_PROTO_NO_MATCH;
	reply->server = NULL;
	reply->port = -1;
	reply->keep_alive = false;
	n = nts_ke_build_response(out, cap, reply);
	return n > 0 ? (size_t)n : 0;
}

/* A pool's request whose token was accepted (ke_proto.h). */
static size_t respond_pool(struct ke_proto_req *r, const struct nts_ke_request *req,
			   const struct keyset *ks,
			   const struct ke_proto_server_params *params, uint8_t *out,
			   size_t cap, struct ke_proto_result *res)
{
	static const uint16_t def[NTS_KE_N_AEADS] = NTS_KE_DEFAULT_AEADS;
	static const uint16_t protos[1] = { NTS_PROTO_NTPV4 };
	struct nts_ke_reply reply;
	struct nts_keys keys;
	size_t klen, len = 0;
	bool keep;
	ssize_t n;
	int code;

	res->keep_alive_asked = req->keep_alive;
	keep = req->keep_alive && r->may_keep_alive;
	if (req->kind == NTS_KE_REQ_SUPPORT) {
		n = nts_ke_build_support(out, cap, req->wants_protos ? protos : NULL, 1,
					 req->wants_aeads ? (params->aeads ? params->aeads : def) :
					 NULL, params->aeads ? params->n_aeads : NTS_KE_N_AEADS,
					 keep);
		if (n <= 0)
			return error_reply(NTS_KE_ERR_INTERNAL, out, cap, res);
		res->outcome = KE_PROTO_OK;
		res->keep_alive = keep;
		return (size_t)n;
	}
	nts_ke_negotiate(req, params->aeads, params->n_aeads, &reply);
	if (!reply.ntpv4 || reply.aead < 0)
		return no_match(&reply, out, cap, res);
	klen = aead_key_len(reply.aead);
	if (req->fixed_key_len != 2 * klen)
		return error_reply(NTS_KE_ERR_BAD_REQUEST, out, cap, res);
	/* The pool holds these keys; it gave them to a client over its own TLS. */
	memset(&keys, 0, sizeof(keys));
	keys.aead = (uint16_t)reply.aead;
	memcpy(keys.c2s, req->fixed_key, klen);
	memcpy(keys.s2c, req->fixed_key + klen, klen);
	reply.compliant_128gcm = false;
	reply.server = params->ntp_server;
	reply.port = params->ntp_port ? params->ntp_port : -1;
	reply.keep_alive = keep;
	code = seal_reply(ks, &keys, &reply, out, cap, res, &len);
	OPENSSL_cleanse(&keys, sizeof(keys));
	if (code)
		return error_reply((uint16_t)code, out, cap, res);
	res->keep_alive = keep;
	return len;
}

static size_t respond(struct ke_proto_req *r, SSL *ssl, const struct keyset *ks,
		      const struct ke_proto_server_params *params, uint8_t *out, size_t cap,
		      struct ke_proto_result *res)
{
	struct nts_ke_request req;
	struct nts_ke_reply reply;
	struct nts_keys keys;
	const uint8_t *msg;
	size_t len = 0, ret_len;
	int ret;

	memset(res, 0, sizeof(*res));
	res->aead = -1;
	if (r->parser.status < 0)
		/* Too long, too many records or a broken record header. */
		return error_reply(NTS_KE_ERR_BAD_REQUEST, out, cap, res);
	msg = nts_ke_parser_message(&r->parser, &len);
	ret = nts_ke_parse_request(msg, len, &req);
	res->pool_records = req.n_pool_records > 0;
	res->denied = req.n_denied;
	res->kind = req.kind;
	if (ret)
		return error_reply(nts_ke_error_code(ret), out, cap, res);
	if (req.kind != NTS_KE_REQ_EXCHANGE) {
		if (!token_accepted(params, req.auth, req.auth_len)) {
			ret_len = error_reply(NTS_KE_ERR_BAD_REQUEST, out, cap, res);
			res->outcome = KE_PROTO_NOT_PERMITTED;
			return ret_len;
		}
		return respond_pool(r, &req, ks, params, out, cap, res);
	}
	/* A connection kept alive is the pool's, for pool requests only. */
	if (r->pool_only)
		return error_reply(NTS_KE_ERR_BAD_REQUEST, out, cap, res);
	nts_ke_negotiate(&req, params->aeads, params->n_aeads, &reply);
	reply.server = params->ntp_server;
	reply.port = params->ntp_port ? params->ntp_port : -1;
	if (!reply.ntpv4 || reply.aead < 0)
		return no_match(&reply, out, cap, res);
	/*
	 * AES-128-GCM-SIV keys follow RFC 8915 only for clients that asked with
	 * record 1024; the rest get chrony 4.4-4.6's, as chrony's server does.
	 */
	if (nts_ke_export_keys_as(ssl, (uint16_t)reply.aead,
				  reply.aead == AEAD_AES_128_GCM_SIV &&
				  !reply.compliant_128gcm ? AEAD_AES_SIV_CMAC_256 :
				  (uint16_t)reply.aead, &keys))
		return error_reply(NTS_KE_ERR_INTERNAL, out, cap, res);
	ret = seal_reply(ks, &keys, &reply, out, cap, res, &len);
	OPENSSL_cleanse(&keys, sizeof(keys));
	if (ret)
		return error_reply((uint16_t)ret, out, cap, res);
	return len;
}

size_t ke_proto_respond(struct ke_proto_req *r, SSL *ssl, const struct keyset *ks,
			const struct ke_proto_server_params *params, uint8_t *out,
			size_t cap, struct ke_proto_result *res)
{
	size_t n = respond(r, ssl, ks, params, out, cap, res);

	/*
	 * A pool's Fixed Key Request carries keys in the clear, and a kept
	 * connection holds this buffer for hours: wipe the request, whatever
	 * the answer was.
	 */
	OPENSSL_cleanse(r->buf, r->parser.len);
	return n;
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
