/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nts_ke: the NTS Key Establishment record codec (RFC 8915 section 4).
 *
 * Buffer based, no I/O: the daemon's KE server and client feed the bytes they
 * read from TLS in and write out what is built here.
 *
 * Wire format of a record: C(1) | type(15) | body length(16) | body, network
 * order. A message is a sequence of records closed by End of Message.
 *
 * Rules per record, as RFC 8915 4.1 sets them and as this module applies them
 * ("C" = critical bit; a record whose C must be set but is clear is refused):
 *
 *   type name               C        body              sent by
 *   0    End of Message     must     empty             both, last record
 *   1    Next Protocol      must     u16 list          both, exactly once
 *   2    Error              must     u16 code          server only
 *   3    Warning            must     u16 code          server only
 *   4    AEAD Algorithm     may      u16 list          both, at most once
 *   5    New Cookie NTPv4   may      opaque, non-empty server only
 *   6    NTPv4 Server       may      ASCII host or IP  both, at most once
 *   7    NTPv4 Port         may      u16 port          both, at most once
 *
 * - A record type we do not know with C clear is skipped; with C set the whole
 *   message is refused (a server answers Error 0, a client gives up).
 * - A request must carry a non-empty Next Protocol list and, when NTPv4 (0)
 *   is in it, a non-empty AEAD list. Error, Warning and New Cookie are not
 *   allowed in a request. Any malformed, duplicated, forbidden or missing
 *   record makes the request a Bad Request (Error 1).
 * - A response lists a subset of the offered protocols (empty = none
 *   acceptable) and at most one AEAD (empty = none acceptable), which must be
 *   one the client offered. An Error record means the exchange failed and
 *   the TLS key material must be thrown away; a Warning is treated the same
 *   because no warning code is defined, and unknown codes count as errors.
 * - The server answers with Next Protocol [0] and the first AEAD of its own
 *   preference list (default 30, 15, 17) that the client offered.
 *   NTS_KE_MAX_IDS bounds the lists we accept in a request.
 * - Record 1024 (chrony's private "compliant AES-128-GCM-SIV export", non
 *   critical, empty) is understood both ways: a client offering 30 sends
 *   it, and a server that picks 30 for a client that sent it echoes it.
 *   Documentation/nts-ke.md says what it changes in the keys. With a body
 *   or the critical bit it is an unknown record.
 * - NTS pool records (draft-ietf-ntp-nts-keyexchange-pool-00, with the
 *   numbers ntpd-rs 1.9 uses; Documentation/nts-ke.md), requests only.
 *   Their critical bit is not checked, as ntpd-rs does not:
 *
 *   8    Keep Alive         (not)    empty             pool: keep TLS open
 *   9    Supported Next Proto (C)    u16 list, ignored pool: list protocols
 *   10   Supported AEADs    (C)      (u16 id, u16 key length) pairs, ignored
 *   12   Fixed Key Request  (C)      C2S key | S2C key, equal halves
 *   13   NTP Server Deny    (not)    host name, repeatable, ignored here
 *   14   Authentication     (not)    the pool's token, 1..NTS_KE_MAX_AUTH_LEN
 *
 *   A request is one of three kinds: a "support" query (9 and/or 10, with
 *   14, without 1, 4 or 12), a "fixed key" request (12 with 14 and exactly
 *   one protocol and one AEAD) or a plain RFC 8915 exchange, in which 8, 13
 *   and 14 change nothing. Anything else is a Bad Request. Whether the
 *   token is accepted is for the caller (ke_proto) to decide.
 * - Server names are an IPv4 dotted quad, an IPv6 literal (no brackets, no
 *   zone) or an ASCII host name (A-labels for IDNs), at most
 *   NTS_KE_MAX_SERVER_LEN bytes.
 * - We send C on End of Message, Next Protocol, Error, Warning and AEAD; on
 *   Server and Port only in responses (a client must obey them there, while a
 *   server may ignore a client's wish); never on New Cookie. A response
 *   carries Server and Port only together with cookies.
 * - A client keeps the first NTS_KE_MAX_COOKIES cookies and counts the rest
 *   as dropped; a cookie longer than NTS_KE_MAX_COOKIE_LEN is malformed.
 * - Records are checked in order and the first problem decides the result
 *   (so an unknown critical record before a malformed one gives Error 0).
 *   A response carrying Error or Warning reports that first, once the
 *   whole message is well formed.
 *
 * Results are 0 or a negative NTS_KE_E_* code; nts_ke_error_code() maps any
 * failure on a request (streaming or message layer) onto the Error record
 * code to answer with.
 */
#ifndef XNTS_NTS_KE_H
#define XNTS_NTS_KE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nts.h"

#define NTS_KE_REC_EOM 0
#define NTS_KE_REC_NEXT_PROTO 1
#define NTS_KE_REC_ERROR 2
#define NTS_KE_REC_WARNING 3
#define NTS_KE_REC_AEAD 4
#define NTS_KE_REC_COOKIE 5
#define NTS_KE_REC_SERVER 6
#define NTS_KE_REC_PORT 7
/* NTS pool extension records (see above). */
#define NTS_KE_REC_KEEP_ALIVE 8
#define NTS_KE_REC_SUPPORTED_PROTOS 9
#define NTS_KE_REC_SUPPORTED_AEADS 10
#define NTS_KE_REC_FIXED_KEY 12
#define NTS_KE_REC_SERVER_DENY 13
#define NTS_KE_REC_AUTH 14
#define NTS_KE_MAX_AUTH_LEN 1024
/* chrony's private record: AES-128-GCM-SIV keys exported as RFC 8915 says. */
#define NTS_KE_REC_COMPLIANT_128GCM 1024

#define NTS_KE_CRITICAL 0x8000
#define NTS_KE_TYPE_MASK 0x7fff
#define NTS_KE_HDR_LEN 4
#define NTS_KE_MAX_BODY 0xffff

/* Error record codes. */
#define NTS_KE_ERR_UNRECOGNIZED_CRITICAL 0
#define NTS_KE_ERR_BAD_REQUEST 1
#define NTS_KE_ERR_INTERNAL 2

/*
 * Default bounds. A request is a few dozen bytes and a response with eight
 * cookies well under 2 KiB, so 64 KiB is generous while still bounded.
 */
#define NTS_KE_MAX_MSG 65536
#define NTS_KE_MAX_RECORDS 1024
#define NTS_KE_MAX_IDS 32
#define NTS_KE_MAX_SERVER_LEN 255
#define NTS_KE_MAX_COOKIES 16
#define NTS_KE_MAX_COOKIE_LEN 512

enum nts_ke_result {
	NTS_KE_OK = 0,
	NTS_KE_E_TRUNCATED = -1,	/* input ended inside a record or before EOM */
	NTS_KE_E_TOO_LONG = -2,		/* message larger than the bound */
	NTS_KE_E_TOO_MANY = -3,		/* more records than the bound */
	NTS_KE_E_BAD_EOM = -4,		/* End of Message with a body or without C */
	NTS_KE_E_TRAILING = -5,		/* bytes after End of Message */
	NTS_KE_E_MALFORMED = -6,	/* bad body length, value or critical bit */
	NTS_KE_E_DUPLICATE = -7,	/* a once-only record appeared twice */
	NTS_KE_E_MISSING = -8,		/* a mandatory record is absent */
	NTS_KE_E_UNKNOWN_CRITICAL = -9,	/* unknown record type with C set */
	NTS_KE_E_FORBIDDEN = -10,	/* record not allowed in this direction */
	NTS_KE_E_SERVER_ERROR = -11,	/* response carries an Error record */
	NTS_KE_E_SERVER_WARNING = -12,	/* response carries a Warning record */
	NTS_KE_E_NO_PROTOCOL = -13,	/* server accepted none of our protocols */
	NTS_KE_E_NO_AEAD = -14,		/* server accepted none of our AEADs */
	NTS_KE_E_NOT_OFFERED = -15,	/* server picked something we did not offer */
	NTS_KE_E_NO_COOKIES = -16,	/* NTPv4 negotiated but no cookie given */
	NTS_KE_E_NOSPACE = -17,		/* output buffer too small */
	NTS_KE_E_INVALID = -18,		/* bad argument */
};

const char *nts_ke_strerror(int result);
/* Error record code answering a failed nts_ke_parse_request(). */
uint16_t nts_ke_error_code(int result);

/* One record; body points into the caller's or the parser's buffer. */
struct nts_ke_record {
	uint16_t type;		/* without the critical bit */
	bool critical;
	uint16_t len;
	const uint8_t *body;
};

/*
 * Decode one record from the start of buf. Returns the bytes it spans
 * (NTS_KE_HDR_LEN + body length) or NTS_KE_E_TRUNCATED.
 */
ssize_t nts_ke_record_decode(const uint8_t *buf, size_t len, struct nts_ke_record *rec);
/* Encode one record; returns its length, NTS_KE_E_NOSPACE or NTS_KE_E_INVALID. */
ssize_t nts_ke_record_encode(uint8_t *out, size_t cap, uint16_t type, bool critical,
			     const void *body, size_t body_len);
/* Encode a record whose body is a list of u16 (Next Protocol, AEAD, ...). */
ssize_t nts_ke_record_encode_u16s(uint8_t *out, size_t cap, uint16_t type, bool critical,
				  const uint16_t *vals, size_t n);

/* True if s is an acceptable NTPv4 Server Negotiation body (see above). */
bool nts_ke_server_name_valid(const char *s, size_t len);

/*
 * Streaming parser. Bytes go into a caller-supplied buffer whose size is
 * the message bound. feed() takes bytes only up to the end of the message
 * and checks each record header as soon as it is complete, so an oversized
 * or overlong message is refused before its body arrives. Errors are sticky.
 */
struct nts_ke_parser {
	uint8_t *buf;
	size_t cap;
	size_t len;		/* bytes held */
	size_t scan;		/* start of the record being completed */
	size_t emit;		/* start of the next record next() returns */
	unsigned int max_records;
	unsigned int n_records;	/* complete records */
	int status;		/* 0 open, 1 End of Message seen, < 0 error */
};

void nts_ke_parser_init(struct nts_ke_parser *p, uint8_t *buf, size_t cap,
			unsigned int max_records);
void nts_ke_parser_reset(struct nts_ke_parser *p);
/*
 * Returns the number of bytes taken from data (less than len only when the
 * message ended; the rest belongs to no message), or a negative NTS_KE_E_*.
 */
ssize_t nts_ke_parser_feed(struct nts_ke_parser *p, const uint8_t *data, size_t len);
/* Hands out the next complete record: 1 if rec was filled, 0 if none. */
int nts_ke_parser_next(struct nts_ke_parser *p, struct nts_ke_record *rec);
/* Call at end of input: 0 if a whole message arrived, else an error. */
int nts_ke_parser_eof(const struct nts_ke_parser *p);
bool nts_ke_parser_done(const struct nts_ke_parser *p);
/* The message so far (the whole message once done). */
const uint8_t *nts_ke_parser_message(const struct nts_ke_parser *p, size_t *len);

/* ---- Message layer: server side ---- */

enum nts_ke_req_kind {
	NTS_KE_REQ_EXCHANGE,	/* RFC 8915 key exchange */
	NTS_KE_REQ_FIXED_KEY,	/* pool: cookies for the keys it supplies */
	NTS_KE_REQ_SUPPORT,	/* pool: which protocols / AEADs we take */
};

struct nts_ke_request {
	enum nts_ke_req_kind kind;
	uint16_t protos[NTS_KE_MAX_IDS];
	unsigned int n_protos;
	uint16_t aeads[NTS_KE_MAX_IDS];	/* client preference order */
	unsigned int n_aeads;
	bool has_aead;
	bool has_server;
	char server[NTS_KE_MAX_SERVER_LEN + 1];
	bool has_port;
	uint16_t port;
	bool compliant_128gcm;		/* record 1024 present */
	unsigned int n_ignored;		/* unknown non-critical records */
	/* Pool records; pointers into the message. */
	unsigned int n_pool_records;	/* counted before any check fails */
	bool keep_alive;
	bool wants_protos, wants_aeads;
	const uint8_t *fixed_key;	/* C2S then S2C, fixed_key_len bytes */
	uint16_t fixed_key_len;
	const uint8_t *auth;		/* NULL: no Authentication record */
	uint16_t auth_len;
	unsigned int n_denied;
};

/*
 * Parse a complete client request (ending exactly with End of Message).
 * On failure answer with nts_ke_build_error(nts_ke_error_code(result)).
 */
int nts_ke_parse_request(const uint8_t *msg, size_t len, struct nts_ke_request *req);

struct nts_ke_cookie {
	const uint8_t *data;
	size_t len;
};

struct nts_ke_reply {
	bool ntpv4;		/* false: empty Next Protocol list and nothing else */
	int aead;		/* chosen AEAD, or -1: empty AEAD list, no cookies */
	const struct nts_ke_cookie *cookies;
	unsigned int n_cookies;
	const char *server;	/* NULL: no Server record; ignored without cookies */
	int port;		/* -1: no Port record; ignored without cookies */
	bool compliant_128gcm;	/* send record 1024 (only with AEAD 30) */
	bool keep_alive;	/* send Keep Alive (pool connections) */
};

/* The server's AEAD preference when none is configured. */
#define NTS_KE_DEFAULT_AEADS { 30, 15, 17 }
#define NTS_KE_N_AEADS 3

/*
 * The first AEAD of pref (n_pref entries; NULL: NTS_KE_DEFAULT_AEADS) that
 * the request offers and we support, else -1.
 */
int nts_ke_select_aead(const struct nts_ke_request *req, const uint16_t *pref,
		       unsigned int n_pref);
/*
 * Fill ntpv4, aead (as nts_ke_select_aead) and compliant_128gcm (AEAD 30
 * and the client asked) from the request; no cookies, server or port.
 */
void nts_ke_negotiate(const struct nts_ke_request *req, const uint16_t *pref,
		      unsigned int n_pref, struct nts_ke_reply *reply);
/* Returns the message length or a negative NTS_KE_E_*. */
ssize_t nts_ke_build_response(uint8_t *out, size_t cap, const struct nts_ke_reply *reply);
/*
 * Answer to a pool's support query: the protocol and AEAD lists (NULL:
 * not asked), then Keep Alive if keep_alive, then End of Message.
 */
ssize_t nts_ke_build_support(uint8_t *out, size_t cap, const uint16_t *protos,
			     unsigned int n_protos, const uint16_t *aeads,
			     unsigned int n_aeads, bool keep_alive);
/* Error record with code, then End of Message. */
ssize_t nts_ke_build_error(uint8_t *out, size_t cap, uint16_t code);

/* ---- Message layer: client side ---- */

struct nts_ke_offer {
	uint16_t aeads[NTS_KE_MAX_IDS];	/* our preference order */
	unsigned int n_aeads;
	const char *server;	/* NULL: no Server record */
	int port;		/* -1: no Port record */
};

/* AEADs 30, 15 then 17, no server, no port. */
void nts_ke_offer_default(struct nts_ke_offer *offer);
ssize_t nts_ke_build_request(uint8_t *out, size_t cap, const struct nts_ke_offer *offer);

struct nts_ke_response {
	bool has_proto;
	uint16_t proto;		/* NTS_PROTO_NTPV4 when usable */
	bool has_aead;
	uint16_t aead;
	unsigned int n_cookies;
	unsigned int n_cookies_dropped;	/* beyond NTS_KE_MAX_COOKIES */
	uint16_t cookie_len[NTS_KE_MAX_COOKIES];
	uint8_t cookies[NTS_KE_MAX_COOKIES][NTS_KE_MAX_COOKIE_LEN];
	bool has_server;
	char server[NTS_KE_MAX_SERVER_LEN + 1];
	bool has_port;
	uint16_t port;
	bool has_error;
	uint16_t error;
	bool has_warning;
	uint16_t warning;
	bool compliant_128gcm;	/* record 1024 present */
	unsigned int n_ignored;
};

/*
 * Parse a complete server response against what we offered. 0 means NTPv4
 * with an offered AEAD and at least one cookie were negotiated; otherwise a
 * negative code, with error/warning filled in where the server sent them.
 */
int nts_ke_parse_response(const uint8_t *msg, size_t len, const struct nts_ke_offer *offer,
			  struct nts_ke_response *resp);

#endif
