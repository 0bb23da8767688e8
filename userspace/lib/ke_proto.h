/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ke_proto: one NTS-KE exchange as the server and the client perform it,
 * on top of the record codec (nts_ke.h), the exporter (nts_ke_keys.h) and
 * cookies (cookie.h). No I/O: callers move the bytes over TLS themselves.
 *
 * Server: feed request bytes until ke_proto_feed() says the message ended
 * (or failed), then ke_proto_respond() builds the whole answer: the
 * negotiated protocol and AEAD (the first of the server's preference list,
 * default 30, 15, 17, that the client offered), NTS_MAX_COOKIES
 * cookies sealed under the keyset's current key, and the configured NTP
 * server and port; or an Error record (0 for an unrecognised critical
 * record, 1 for a bad request, 2 for an internal failure).
 * NTS pools (nts_ke.h lists the records): a request carrying an
 * Authentication token whose SHA-256 is in params->tokens may ask which
 * protocols and AEADs we take, or ask for cookies under the C2S/S2C keys it
 * supplies (sealed exactly as ours, so the NTP path opens them); tokens are
 * compared in constant time. Without an accepted token such a request gets
 * Error 1 (Bad Request, KE_PROTO_NOT_PERMITTED). Keep Alive is echoed only
 * on an accepted pool request, and only if the caller set may_keep_alive;
 * on a connection kept alive (pool_only) a plain exchange is a Bad Request.
 * Client: ke_proto_client_request() builds the request; feed the answer to
 * ke_proto_resp_feed(); ke_proto_client_finish() validates it against what
 * was offered and derives the session keys.
 */
#ifndef XNTS_KE_PROTO_H
#define XNTS_KE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "nts.h"
#include "nts_ke.h"

struct keyset;

#define KE_PROTO_MAX_REQUEST 4096

struct ke_proto_req {
	struct nts_ke_parser parser;
	bool may_keep_alive;	/* set by the caller before ke_proto_respond() */
	bool pool_only;		/* the connection was kept alive for a pool */
	uint8_t buf[KE_PROTO_MAX_REQUEST];
};

enum ke_proto_outcome {
	KE_PROTO_OK,
	KE_PROTO_NO_MATCH,	/* no common protocol or AEAD: empty lists sent */
	KE_PROTO_BAD_REQUEST,
	KE_PROTO_CRITICAL,	/* unrecognised critical record */
	KE_PROTO_INTERNAL,
	KE_PROTO_NOT_PERMITTED,	/* pool request without an accepted token */
};

struct ke_proto_result {
	enum ke_proto_outcome outcome;
	int aead;
	unsigned int cookies;
	uint32_t key_id;
	enum nts_ke_req_kind kind;
	bool pool_records;	/* the request carried records 8-14 */
	bool keep_alive_asked;	/* an accepted pool request asked to keep alive */
	bool keep_alive;	/* the answer says Keep Alive: keep the connection */
	unsigned int denied;	/* NTP Server Deny records (ignored by a server) */
};

#define KE_PROTO_TOKEN_DIGEST 32	/* SHA-256 */

/* Where the server tells clients to send NTP (NULL / 0: not sent). */
struct ke_proto_server_params {
	const char *ntp_server;
	uint16_t ntp_port;
	const uint16_t *aeads;	/* preference; NULL: NTS_KE_DEFAULT_AEADS */
	unsigned int n_aeads;
	/* SHA-256 of each accepted pool token (accepted-pool-authentication-tokens). */
	const uint8_t (*tokens)[KE_PROTO_TOKEN_DIGEST];
	unsigned int n_tokens;
};

/* SHA-256 of a token, for params->tokens; 0, or -1 if OpenSSL fails. */
int ke_proto_token_digest(const void *token, size_t len,
			  uint8_t out[KE_PROTO_TOKEN_DIGEST]);

/* max bounds the request; at most KE_PROTO_MAX_REQUEST. */
void ke_proto_req_init(struct ke_proto_req *r, size_t max);
/* 0: need more bytes; 1: message complete; -1: malformed or too long. */
int ke_proto_feed(struct ke_proto_req *r, const uint8_t *data, size_t len);
/*
 * The same, and *used says how many bytes of data the message took: on a
 * kept-alive connection the rest begins the next request.
 */
int ke_proto_feed_used(struct ke_proto_req *r, const uint8_t *data, size_t len,
		       size_t *used);
/*
 * Builds the answer into out; returns its length (0 only if cap is too
 * small). The request's bytes are wiped (a pool's carry keys): once only.
 */
size_t ke_proto_respond(struct ke_proto_req *r, SSL *ssl, const struct keyset *ks,
			const struct ke_proto_server_params *params, uint8_t *out,
			size_t cap, struct ke_proto_result *res);
const char *ke_proto_outcome_name(enum ke_proto_outcome o);

/* Client side. */
#define KE_PROTO_MAX_RESPONSE NTS_KE_MAX_MSG

struct ke_proto_resp {
	struct nts_ke_parser parser;
	struct nts_ke_offer offer;
	uint8_t *buf;
};

struct ke_proto_client_result {
	struct nts_keys keys;
	/*
	 * AEAD 30 without the server's record 1024: keys are chrony 4.4-4.6's
	 * derivation and alt_keys RFC 8915's, to switch to if the server's
	 * first answer is an NTS NAK (Documentation/nts-ke.md).
	 */
	bool has_alt_keys;
	struct nts_keys alt_keys;
	unsigned int n_cookies;
	uint16_t cookie_len[NTS_KE_MAX_COOKIES];
	uint8_t cookies[NTS_KE_MAX_COOKIES][NTS_KE_MAX_COOKIE_LEN];
	char ntp_server[NTS_KE_MAX_SERVER_LEN + 1];	/* empty: same host */
	uint16_t ntp_port;				/* 0: default */
};

size_t ke_proto_client_request(uint8_t *out, size_t cap);
/* 0 on success; -1 out of memory. */
int ke_proto_resp_init(struct ke_proto_resp *r);
void ke_proto_resp_free(struct ke_proto_resp *r);
/* 0: need more; 1: complete; -1: malformed. */
int ke_proto_resp_feed(struct ke_proto_resp *r, const uint8_t *data, size_t len);
/* 0, or -1 with a message in err. */
int ke_proto_client_finish(struct ke_proto_resp *r, SSL *ssl,
			   struct ke_proto_client_result *out, char *err, size_t errlen);

#endif
