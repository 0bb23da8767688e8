/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nts_ntp: NTS extension fields for NTPv4 (RFC 8915 section 5) and the four
 * protocol steps over byte buffers: client request, server parse/verify,
 * server response or NAK, client verify.
 *
 * Contract:
 * - No I/O, no heap. Parsed structs point into the caller's packet and
 *   plaintext buffers, which must outlive them. Output buffers must not
 *   overlap input packets. The caller's struct aead (one per thread,
 *   reused for every packet) seals and opens with keys->aead: 15, 17 or 30.
 * - Every step returns an enum nts_ntp_result: 0 success, NTS_NTP_NAK (>0)
 *   for a NAK the client accepted, a distinct negative code per failure so a
 *   server can count outcomes (index counters by -code, < NTS_NTP_ERR_COUNT).
 * - Packets are NTPv4 only; requests mode 3, responses mode 4. A legacy MAC
 *   trailer is refused. Extension-field framing follows ntp.h strictly for
 *   the whole packet, including any fields after the authenticator.
 *
 * Rules decided here (RFC 8915 section 5.7 unless noted):
 * - Only fields before the first NTS Authenticator (0x0404) are trusted. Any
 *   field after it is unauthenticated: it is counted in n_unauth and
 *   otherwise ignored, as if absent (the packet is not rejected for it).
 * - Request: exactly one Unique Identifier (body >= 32 bytes) and exactly one
 *   NTS Cookie before the authenticator. Placeholders before it, and those
 *   inside the ciphertext (RFC 8915 allows encrypted placeholders), must
 *   each have a body as long as the cookie's; contents are ignored.
 *   A UID, cookie or authenticator inside the ciphertext is refused.
 * - Authenticator body: nonce_len(2) | ct_len(2) | nonce | ct | padding.
 *   nonce_len >= 1, ct_len >= 16 (the AEAD tag), nonce and ciphertext each
 *   zero-padded to 4, and for requests the padded nonce plus the additional
 *   padding must be >= N_REQ (RFC 8915 5.6: 16 for AES-SIV, 12 for
 *   AES-128-GCM-SIV). Parsing checks the smaller bound; verify, which knows
 *   the AEAD from the cookie, checks the AEAD's own and its nonce size
 *   (exactly 12 bytes for GCM-SIV).
 *   All padding must be zero, so no unauthenticated byte is malleable.
 *   AD is the packet from byte 0 to the start of the authenticator field.
 * - Response: header | UID echoed | authenticator with a 16-byte nonce (12
 *   for GCM-SIV) whose
 *   plaintext is the new cookies as NTS Cookie fields (padded to 4 only, as
 *   RFC 8915 5.6 allows inside the ciphertext). It is never longer than the
 *   authenticated part of the request, and holds at most 1 + placeholders
 *   cookies; nts_ntp_response_cookies() says how many to mint.
 * - NAK: mode 4, stratum 0, refid "NTSN", leap 3, UID echoed, nothing else.
 *   The client accepts a NAK only if it carries exactly one UID matching the
 *   request and no cookie or authenticator; then it returns NTS_NTP_NAK.
 * - Client: the UID must match (before any crypto), the authenticator must
 *   verify with S2C; cookies are taken only from inside the ciphertext, at
 *   most NTS_NTP_MAX_COOKIES, each 1..NTS_NTP_MAX_COOKIE_LEN bytes.
 *   Unencrypted cookies or placeholders in a response are ignored.
 *   The origin-timestamp check is the caller's (plain NTP) business.
 */
#ifndef XNTS_NTS_NTP_H
#define XNTS_NTS_NTP_H

#include <stddef.h>
#include <stdint.h>

#include "nts.h"
#include "ntp.h"
#include "aead.h"

#define NTS_NTP_EF_UID 0x0104
#define NTS_NTP_EF_COOKIE 0x0204
#define NTS_NTP_EF_PLACEHOLDER 0x0304
#define NTS_NTP_EF_AUTH 0x0404

#define NTS_NTP_UID_LEN 32		/* what we send; also the minimum */
#define NTS_NTP_NONCE_LEN 16		/* what we send with AES-SIV */
#define NTS_NTP_NONCE_REQ 16		/* N_REQ of RFC 8915 5.6 for AES-SIV */
#define NTS_NTP_NONCE_REQ_MIN 12	/* N_REQ for AES-128-GCM-SIV */
#define NTS_NTP_MAX_COOKIES 8
#define NTS_NTP_MAX_COOKIE_LEN 1024
/* Largest packet we build; responses are also bounded by the request. */
#define NTS_NTP_MAX_PACKET 2048
/* Placeholders a client may ask for in one request. */
#define NTS_NTP_MAX_PLACEHOLDERS (NTS_NTP_MAX_COOKIES - 1)

enum nts_ntp_result {
	NTS_NTP_OK = 0,
	NTS_NTP_NAK = 1,			/* client: matching NTSN NAK */
	NTS_NTP_ERR_ARG = -1,			/* bad call */
	NTS_NTP_ERR_SHORT = -2,			/* shorter than an NTP header */
	NTS_NTP_ERR_VERSION = -3,		/* not NTPv4 */
	NTS_NTP_ERR_MODE = -4,			/* not mode 3 (request) / 4 */
	NTS_NTP_ERR_FORMAT = -5,		/* extension-field framing */
	NTS_NTP_ERR_MAC = -6,			/* legacy MAC trailer */
	NTS_NTP_ERR_NO_UID = -7,
	NTS_NTP_ERR_DUP_UID = -8,
	NTS_NTP_ERR_UID_LEN = -9,		/* UID body < 32 */
	NTS_NTP_ERR_NO_COOKIE = -10,
	NTS_NTP_ERR_DUP_COOKIE = -11,
	NTS_NTP_ERR_PLACEHOLDER = -12,		/* placeholder size != cookie */
	NTS_NTP_ERR_NO_AUTH = -13,
	NTS_NTP_ERR_AUTH_FORMAT = -14,		/* authenticator body layout */
	NTS_NTP_ERR_AEAD = -15,			/* unsupported AEAD in keys */
	NTS_NTP_ERR_AUTH = -16,			/* AEAD verification failed */
	NTS_NTP_ERR_INNER = -17,		/* bad or forbidden encrypted field */
	NTS_NTP_ERR_UID_MISMATCH = -18,		/* client: not our request */
	NTS_NTP_ERR_COOKIES = -19,		/* client: cookie count/size */
	NTS_NTP_ERR_NAK_FORMAT = -20,		/* NTSN with cookie/authenticator */
	NTS_NTP_ERR_SPACE = -21,		/* builder: does not fit */
	NTS_NTP_ERR_CRYPTO = -22,		/* RNG or seal failure */
	NTS_NTP_ERR_COUNT = 23			/* bound for counter arrays */
};

const char *nts_ntp_strerror(int result);

/* Server view of a request, filled by nts_ntp_server_parse(). */
struct nts_ntp_request {
	struct ntp_header hdr;
	const uint8_t *pkt;
	size_t len;			/* whole datagram */
	size_t auth_off;		/* start of authenticator = AD length */
	size_t auth_end;		/* end of authenticator: trusted length */
	const uint8_t *uid;
	size_t uid_len;
	const uint8_t *cookie;		/* opaque; the cookie module opens it */
	size_t cookie_len;
	unsigned int n_placeholders;	/* outer; verify adds encrypted ones */
	unsigned int n_unauth;		/* fields after the authenticator */
	const uint8_t *nonce;
	size_t nonce_len;
	size_t nonce_room;		/* padded nonce + additional padding */
	const uint8_t *ct;		/* AEAD output */
	size_t ct_len;
	const uint8_t *plain;		/* after verify: decrypted inner fields */
	size_t plain_len;
	int aead;			/* set by nts_ntp_server_verify() */
	int parsed;			/* set when nts_ntp_server_parse() succeeds */
	int verified;			/* set by nts_ntp_server_verify() */
};

/* Client view of a response, filled by nts_ntp_client_response(). */
struct nts_ntp_response {
	struct ntp_header hdr;
	unsigned int n_cookies;
	const uint8_t *cookies[NTS_NTP_MAX_COOKIES];	/* into plain buffer */
	size_t cookie_lens[NTS_NTP_MAX_COOKIES];
	unsigned int n_unauth;		/* fields after the authenticator */
	unsigned int n_ignored;		/* authenticated fields not used */
};

/*
 * Client: build header | UID | cookie | n_placeholders placeholders |
 * authenticator (empty plaintext, sealed with C2S) into out. hdr is encoded
 * with version 4 and mode 3 forced. The fresh random UID is written to uid
 * for matching the response. n_placeholders <= NTS_NTP_MAX_PLACEHOLDERS.
 */
int nts_ntp_client_request(uint8_t *out, size_t cap, size_t *out_len,
			   const struct ntp_header *hdr, struct aead *aead,
			   const struct nts_keys *keys, const uint8_t *cookie,
			   size_t cookie_len, unsigned int n_placeholders,
			   uint8_t uid[NTS_NTP_UID_LEN]);

/* Server step 1: framing and NTS fields; no crypto. */
int nts_ntp_server_parse(const uint8_t *pkt, size_t len, struct nts_ntp_request *req);
/*
 * Server step 2, once the caller opened req->cookie into keys: verify with
 * C2S, decrypt into plain (capacity plain_cap >= req->ct_len - 16), check
 * the inner fields and add encrypted placeholders to req->n_placeholders.
 */
int nts_ntp_server_verify(struct nts_ntp_request *req, struct aead *aead,
			  const struct nts_keys *keys, uint8_t *plain, size_t plain_cap);

/*
 * How many cookies of cookie_len the response to req holds: min(1 +
 * placeholders, NTS_NTP_MAX_COOKIES, what fits in the request's length).
 * 0 if not even one fits.
 */
unsigned int nts_ntp_response_cookies(const struct nts_ntp_request *req, size_t cookie_len);

/*
 * Server step 3: response to a request nts_ntp_server_verify() accepted. cookies holds n_cookies
 * cookies of cookie_len bytes back to back; only the first
 * nts_ntp_response_cookies() are used (count in *n_sent, may be NULL).
 * hdr is encoded with version 4 and mode 4 forced. nonce: NULL for a
 * random one (nonce.h), else aead_nonce_len(keys->aead) bytes (tests
 * only). keys must be those the request was verified with.
 */
int nts_ntp_server_response(uint8_t *out, size_t cap, size_t *out_len,
			    const struct ntp_header *hdr, const struct nts_ntp_request *req,
			    struct aead *aead, const struct nts_keys *keys,
			    const uint8_t *cookies, size_t cookie_len,
			    unsigned int n_cookies, const uint8_t *nonce,
			    unsigned int *n_sent);

/*
 * Server: NTS NAK for a request nts_ntp_server_parse() accepted but whose
 * cookie or authenticator failed (malformed requests get no answer).
 * hdr supplies the timestamps, poll and precision; leap 3, version 4,
 * mode 4, stratum 0, refid "NTSN", zero root delay/dispersion are forced.
 */
int nts_ntp_server_nak(uint8_t *out, size_t cap, size_t *out_len,
		       const struct ntp_header *hdr, const struct nts_ntp_request *req);

/*
 * Client: check a response to the request that used uid and keys. Cookies
 * are decrypted into plain (plain_cap should be >= len). Returns NTS_NTP_OK
 * (resp filled), NTS_NTP_NAK (resp->hdr filled, no cookies) or an error.
 */
int nts_ntp_client_response(const uint8_t *pkt, size_t len, const uint8_t *uid,
			    size_t uid_len, struct aead *aead, const struct nts_keys *keys,
			    uint8_t *plain, size_t plain_cap, struct nts_ntp_response *resp);

/* True if hdr is a kiss-o'-death with code "NTSN". */
int nts_ntp_is_nak(const struct ntp_header *hdr);

#endif
