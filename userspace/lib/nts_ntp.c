// SPDX-License-Identifier: GPL-2.0
/* NTS extension fields and protocol steps for NTPv4: see nts_ntp.h. */
#include <string.h>

#include <openssl/crypto.h>

#include "nonce.h"
#include "nts_ntp.h"

/* Fixed part of an authenticator we build: lengths, nonce, AEAD tag. */
static size_t auth_fixed_body(int aead)
{
	return 4 + aead_nonce_len(aead) + AEAD_TAG_LEN;
}

static const uint8_t kiss_ntsn[4] = { 'N', 'T', 'S', 'N' };

const char *nts_ntp_strerror(int result)
{
	static const char *const msg[NTS_NTP_ERR_COUNT] = {
		[0] = "ok",
		[-NTS_NTP_ERR_ARG] = "bad arguments",
		[-NTS_NTP_ERR_SHORT] = "shorter than an NTP header",
		[-NTS_NTP_ERR_VERSION] = "not NTPv4",
		[-NTS_NTP_ERR_MODE] = "wrong mode",
		[-NTS_NTP_ERR_FORMAT] = "malformed extension fields",
		[-NTS_NTP_ERR_MAC] = "legacy MAC present",
		[-NTS_NTP_ERR_NO_UID] = "no unique identifier",
		[-NTS_NTP_ERR_DUP_UID] = "more than one unique identifier",
		[-NTS_NTP_ERR_UID_LEN] = "unique identifier too short",
		[-NTS_NTP_ERR_NO_COOKIE] = "no cookie",
		[-NTS_NTP_ERR_DUP_COOKIE] = "more than one cookie",
		[-NTS_NTP_ERR_PLACEHOLDER] = "placeholder size differs from cookie",
		[-NTS_NTP_ERR_NO_AUTH] = "no authenticator",
		[-NTS_NTP_ERR_AUTH_FORMAT] = "malformed authenticator",
		[-NTS_NTP_ERR_AEAD] = "unsupported AEAD",
		[-NTS_NTP_ERR_AUTH] = "authentication failed",
		[-NTS_NTP_ERR_INNER] = "bad encrypted extension fields",
		[-NTS_NTP_ERR_UID_MISMATCH] = "unique identifier mismatch",
		[-NTS_NTP_ERR_COOKIES] = "bad cookies in response",
		[-NTS_NTP_ERR_NAK_FORMAT] = "NAK with cookie or authenticator",
		[-NTS_NTP_ERR_SPACE] = "does not fit",
		[-NTS_NTP_ERR_CRYPTO] = "crypto failure",
	};

	if (result == NTS_NTP_NAK)
		return "NTS NAK";
	if (result > 0 || result <= -NTS_NTP_ERR_COUNT || !msg[-result])
		return "unknown";
	return msg[-result];
}

int nts_ntp_is_nak(const struct ntp_header *hdr)
{
	return hdr->stratum == 0 && !memcmp(hdr->refid, kiss_ntsn, 4);
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static int all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/*
 * Authenticator body: nonce_len | ct_len | nonce | pad | ct | pad | extra.
 * Every padding byte must be zero; a request must carry at least N_REQ
 * bytes of padded nonce plus additional padding (RFC 8915 5.6).
 */
static int auth_parse(const struct ntp_ef *ef, int request, const uint8_t **nonce,
		      size_t *nonce_len, const uint8_t **ct, size_t *ct_len, size_t *nonce_room)
{
	const uint8_t *b = ef->body;
	size_t bl = ef->body_len, nl, cl, npad, cpad, extra;

	if (bl < 4)
		return NTS_NTP_ERR_AUTH_FORMAT;
	nl = ntp_get16(b);
	cl = ntp_get16(b + 2);
	npad = pad4(nl);
	cpad = pad4(cl);
	if (nl < 1 || cl < AEAD_TAG_LEN || npad + cpad > bl - 4)
		return NTS_NTP_ERR_AUTH_FORMAT;
	extra = bl - 4 - npad - cpad;
	/* The AEAD is known only from the cookie: verify applies its own N_REQ. */
	if (request && npad + extra < NTS_NTP_NONCE_REQ_MIN)
		return NTS_NTP_ERR_AUTH_FORMAT;
	if (nonce_room)
		*nonce_room = npad + extra;
	if (!all_zero(b + 4 + nl, npad - nl) ||
	    !all_zero(b + 4 + npad + cl, cpad - cl + extra))
		return NTS_NTP_ERR_AUTH_FORMAT;
	*nonce = b + 4;
	*nonce_len = nl;
	*ct = b + 4 + npad;
	*ct_len = cl;
	return 0;
}

/*
 * N_REQ of RFC 8915 5.6 for an AEAD: min(16, N_MAX), so 16 for AES-SIV and
 * 12 for AES-128-GCM-SIV, whose nonce is exactly 12 bytes.
 */
static size_t nonce_req(int aead)
{
	return aead == AEAD_AES_128_GCM_SIV ? AEAD_GCM_SIV_NONCE_LEN : NTS_NTP_NONCE_REQ;
}

static int check_header(const uint8_t *pkt, size_t len, struct ntp_header *h, int mode)
{
	if (ntp_header_decode(h, pkt, len))
		return NTS_NTP_ERR_SHORT;
	if (h->version != NTP_VERSION)
		return NTS_NTP_ERR_VERSION;
	if (h->mode != mode)
		return NTS_NTP_ERR_MODE;
	return 0;
}

int nts_ntp_client_request(uint8_t *out, size_t cap, size_t *out_len,
			   const struct ntp_header *hdr, struct aead *aead,
			   const struct nts_keys *keys, const uint8_t *cookie,
			   size_t cookie_len, unsigned int n_placeholders,
			   uint8_t uid[NTS_NTP_UID_LEN])
{
	struct ntp_header h;
	size_t len = 0, auth_off, ph_len, nl;
	uint8_t *body;

	if (!out || !out_len || !hdr || !aead || !keys || !cookie || !uid ||
	    !cookie_len || cookie_len > NTS_NTP_MAX_COOKIE_LEN ||
	    n_placeholders > NTS_NTP_MAX_PLACEHOLDERS)
		return NTS_NTP_ERR_ARG;
	nl = aead_nonce_len(keys->aead);
	if (!nl)
		return NTS_NTP_ERR_AEAD;
	if (cap < NTP_HEADER_LEN)
		return NTS_NTP_ERR_SPACE;
	h = *hdr;
	h.version = NTP_VERSION;
	h.mode = NTP_MODE_CLIENT;
	ntp_header_encode(&h, out);
	len = NTP_HEADER_LEN;
	if (nonce_fill(uid, NTS_NTP_UID_LEN))
		return NTS_NTP_ERR_CRYPTO;
	if (!ntp_ef_add(out, cap, &len, NTS_NTP_EF_UID, uid, NTS_NTP_UID_LEN,
			NTP_EF_MIN_LEN))
		return NTS_NTP_ERR_SPACE;
	/* A placeholder's body must be as long as the cookie's, padding included. */
	ph_len = ntp_ef_field_len(cookie_len, NTP_EF_MIN_LEN) - NTP_EF_HDR_LEN;
	if (!ntp_ef_add(out, cap, &len, NTS_NTP_EF_COOKIE, cookie, cookie_len,
			NTP_EF_MIN_LEN))
		return NTS_NTP_ERR_SPACE;
	for (unsigned int i = 0; i < n_placeholders; i++)
		if (!ntp_ef_add(out, cap, &len, NTS_NTP_EF_PLACEHOLDER, NULL,
				ph_len, NTP_EF_MIN_LEN))
			return NTS_NTP_ERR_SPACE;
	auth_off = len;
	/* 12 + 16 bytes for GCM-SIV is a multiple of 4: no padding is needed. */
	body = ntp_ef_add(out, cap, &len, NTS_NTP_EF_AUTH, NULL, auth_fixed_body(keys->aead),
			  NTP_EF_MIN_LAST_LEN);
	if (!body)
		return NTS_NTP_ERR_SPACE;
	ntp_put16(body, (uint16_t)nl);
	ntp_put16(body + 2, AEAD_TAG_LEN);
	if (nonce_fill(body + 4, nl))
		return NTS_NTP_ERR_CRYPTO;
	if (aead_seal_nts(aead, keys->aead, keys->c2s, body + 4, nl, out, auth_off, NULL, 0,
			  body + 4 + nl))
		return NTS_NTP_ERR_CRYPTO;
	*out_len = len;
	return NTS_NTP_OK;
}

int nts_ntp_server_parse(const uint8_t *pkt, size_t len, struct nts_ntp_request *req)
{
	size_t ph_len = 0;
	struct ntp_ef_iter it;
	struct ntp_ef ef;
	int st, err;

	if (!req)
		return NTS_NTP_ERR_ARG;
	memset(req, 0, sizeof(*req));
	if (!pkt)
		return NTS_NTP_ERR_ARG;
	err = check_header(pkt, len, &req->hdr, NTP_MODE_CLIENT);
	if (err)
		return err;
	req->pkt = pkt;
	req->len = len;
	ntp_ef_iter_init(&it, pkt, len, NTP_HEADER_LEN, 0);
	while ((st = ntp_ef_next(&it, &ef)) == NTP_EF_FIELD) {
		if (req->ct) {
			/* After the authenticator nothing is trusted. */
			req->n_unauth++;
			continue;
		}
		switch (ef.type) {
		case NTS_NTP_EF_UID:
			if (req->uid)
				return NTS_NTP_ERR_DUP_UID;
			if (ef.body_len < NTS_NTP_UID_LEN)
				return NTS_NTP_ERR_UID_LEN;
			req->uid = ef.body;
			req->uid_len = ef.body_len;
			break;
		case NTS_NTP_EF_COOKIE:
			if (req->cookie)
				return NTS_NTP_ERR_DUP_COOKIE;
			req->cookie = ef.body;
			req->cookie_len = ef.body_len;
			break;
		case NTS_NTP_EF_PLACEHOLDER:
			if (req->n_placeholders && ef.body_len != ph_len)
				return NTS_NTP_ERR_PLACEHOLDER;
			ph_len = ef.body_len;
			req->n_placeholders++;
			break;
		case NTS_NTP_EF_AUTH:
			err = auth_parse(&ef, 1, &req->nonce, &req->nonce_len,
					 &req->ct, &req->ct_len, &req->nonce_room);
			if (err)
				return err;
			req->auth_off = ef.off;
			req->auth_end = ef.off + ef.len;
			break;
		default:
			/* Authenticated but unknown: ignored. */
			break;
		}
	}
	if (st == NTP_EF_MAC)
		return NTS_NTP_ERR_MAC;
	if (st != NTP_EF_END)
		return NTS_NTP_ERR_FORMAT;
	if (!req->uid)
		return NTS_NTP_ERR_NO_UID;
	if (!req->cookie)
		return NTS_NTP_ERR_NO_COOKIE;
	if (req->n_placeholders && ph_len != req->cookie_len)
		return NTS_NTP_ERR_PLACEHOLDER;
	if (!req->ct)
		return NTS_NTP_ERR_NO_AUTH;
	req->parsed = 1;
	return NTS_NTP_OK;
}

int nts_ntp_server_verify(struct nts_ntp_request *req, struct aead *aead,
			  const struct nts_keys *keys, uint8_t *plain, size_t plain_cap)
{
	struct ntp_ef_iter it;
	struct ntp_ef ef;
	size_t pl;
	int st;

	/* Once only: a second pass would count placeholders twice. */
	if (!req || !req->parsed || req->verified || !aead || !keys)
		return NTS_NTP_ERR_ARG;
	if (!aead_key_len(keys->aead))
		return NTS_NTP_ERR_AEAD;
	/* Now that the AEAD is known: its nonce size and its N_REQ. */
	if (!aead_nonce_ok(keys->aead, req->nonce_len) ||
	    req->nonce_room < nonce_req(keys->aead))
		return NTS_NTP_ERR_AUTH_FORMAT;
	pl = req->ct_len - AEAD_TAG_LEN;
	if (pl && (!plain || pl > plain_cap))
		return NTS_NTP_ERR_SPACE;
	if (aead_open_nts(aead, keys->aead, keys->c2s, req->nonce, req->nonce_len, req->pkt,
			  req->auth_off, req->ct, req->ct_len, plain))
		return NTS_NTP_ERR_AUTH;
	ntp_ef_iter_init(&it, plain, pl, 0, NTP_EF_INNER);
	while ((st = ntp_ef_next(&it, &ef)) == NTP_EF_FIELD) {
		switch (ef.type) {
		case NTS_NTP_EF_UID:
		case NTS_NTP_EF_COOKIE:
		case NTS_NTP_EF_AUTH:
			/* RFC 8915 5.7: these must not be encrypted. */
			return NTS_NTP_ERR_INNER;
		case NTS_NTP_EF_PLACEHOLDER:
			if (ef.body_len != req->cookie_len)
				return NTS_NTP_ERR_PLACEHOLDER;
			req->n_placeholders++;
			break;
		default:
			break;
		}
	}
	if (st != NTP_EF_END)
		return NTS_NTP_ERR_INNER;
	req->plain = plain;
	req->plain_len = pl;
	req->aead = keys->aead;
	req->verified = 1;
	return NTS_NTP_OK;
}

/* Before verify the AEAD is unknown: assume the longest nonce we send. */
static size_t response_fixed_len(const struct nts_ntp_request *req)
{
	size_t fixed = req->verified ? auth_fixed_body(req->aead) :
			4 + NTS_NTP_NONCE_LEN + AEAD_TAG_LEN;

	return NTP_HEADER_LEN + ntp_ef_field_len(req->uid_len, NTP_EF_MIN_LEN) +
	       ntp_ef_field_len(fixed, NTP_EF_MIN_LAST_LEN);
}

unsigned int nts_ntp_response_cookies(const struct nts_ntp_request *req, size_t cookie_len)
{
	size_t limit, fixed, per, n;

	if (!req || !req->parsed || !cookie_len || cookie_len > NTS_NTP_MAX_COOKIE_LEN)
		return 0;
	limit = req->auth_end < NTS_NTP_MAX_PACKET ? req->auth_end : NTS_NTP_MAX_PACKET;
	fixed = response_fixed_len(req);
	if (fixed > limit)
		return 0;
	per = ntp_ef_field_len(cookie_len, 0);
	n = (limit - fixed) / per;
	if (n > (size_t)req->n_placeholders + 1)
		n = (size_t)req->n_placeholders + 1;
	if (n > NTS_NTP_MAX_COOKIES)
		n = NTS_NTP_MAX_COOKIES;
	return (unsigned int)n;
}

int nts_ntp_server_response(uint8_t *out, size_t cap, size_t *out_len,
			    const struct ntp_header *hdr, const struct nts_ntp_request *req,
			    struct aead *aead, const struct nts_keys *keys,
			    const uint8_t *cookies, size_t cookie_len,
			    unsigned int n_cookies, const uint8_t *nonce,
			    unsigned int *n_sent)
{
	uint8_t pt[NTS_NTP_MAX_PACKET];
	size_t pl = 0, len, auth_off, nl;
	struct ntp_header h;
	unsigned int n;
	uint8_t *body;

	if (!out || !out_len || !hdr || !req || !req->verified || !aead || !keys ||
	    !cookies || !cookie_len || cookie_len > NTS_NTP_MAX_COOKIE_LEN)
		return NTS_NTP_ERR_ARG;
	nl = aead_nonce_len(keys->aead);
	if (!nl || keys->aead != req->aead)
		return NTS_NTP_ERR_AEAD;
	n = nts_ntp_response_cookies(req, cookie_len);
	if (n > n_cookies)
		n = n_cookies;
	if (!n)
		return NTS_NTP_ERR_SPACE;
	for (unsigned int i = 0; i < n; i++)
		if (!ntp_ef_add(pt, sizeof(pt), &pl, NTS_NTP_EF_COOKIE,
				cookies + (size_t)i * cookie_len, cookie_len, 0))
			return NTS_NTP_ERR_SPACE;
	if (cap < NTP_HEADER_LEN)
		return NTS_NTP_ERR_SPACE;
	h = *hdr;
	h.version = NTP_VERSION;
	h.mode = NTP_MODE_SERVER;
	ntp_header_encode(&h, out);
	len = NTP_HEADER_LEN;
	if (!ntp_ef_add(out, cap, &len, NTS_NTP_EF_UID, req->uid, req->uid_len,
			NTP_EF_MIN_LEN))
		return NTS_NTP_ERR_SPACE;
	auth_off = len;
	body = ntp_ef_add(out, cap, &len, NTS_NTP_EF_AUTH, NULL, auth_fixed_body(keys->aead) + pl,
			  NTP_EF_MIN_LAST_LEN);
	if (!body)
		return NTS_NTP_ERR_SPACE;
	/* Defensive: the cookie count above already guarantees this. */
	if (len > req->auth_end)
		return NTS_NTP_ERR_SPACE;
	ntp_put16(body, (uint16_t)nl);
	ntp_put16(body + 2, (uint16_t)(AEAD_TAG_LEN + pl));
	if (nonce)
		memcpy(body + 4, nonce, nl);
	else if (nonce_fill(body + 4, nl))
		return NTS_NTP_ERR_CRYPTO;
	if (aead_seal_nts(aead, keys->aead, keys->s2c, body + 4, nl, out, auth_off, pt, pl,
			  body + 4 + nl))
		return NTS_NTP_ERR_CRYPTO;
	*out_len = len;
	if (n_sent)
		*n_sent = n;
	return NTS_NTP_OK;
}

int nts_ntp_server_nak(uint8_t *out, size_t cap, size_t *out_len,
		       const struct ntp_header *hdr, const struct nts_ntp_request *req)
{
	struct ntp_header h;
	size_t len;

	if (!out || !out_len || !hdr || !req || !req->parsed)
		return NTS_NTP_ERR_ARG;
	if (cap < NTP_HEADER_LEN)
		return NTS_NTP_ERR_SPACE;
	h = *hdr;
	h.leap = NTP_LEAP_UNSYNC;
	h.version = NTP_VERSION;
	h.mode = NTP_MODE_SERVER;
	h.stratum = 0;
	h.root_delay = 0;
	h.root_dispersion = 0;
	memcpy(h.refid, kiss_ntsn, 4);
	ntp_header_encode(&h, out);
	len = NTP_HEADER_LEN;
	if (!ntp_ef_add(out, cap, &len, NTS_NTP_EF_UID, req->uid, req->uid_len,
			NTP_EF_MIN_LAST_LEN))
		return NTS_NTP_ERR_SPACE;
	*out_len = len;
	return NTS_NTP_OK;
}

int nts_ntp_client_response(const uint8_t *pkt, size_t len, const uint8_t *uid,
			    size_t uid_len, struct aead *aead, const struct nts_keys *keys,
			    uint8_t *plain, size_t plain_cap, struct nts_ntp_response *resp)
{
	const uint8_t *ruid = NULL, *nonce = NULL, *ct = NULL;
	size_t ruid_len = 0, nonce_len = 0, ct_len = 0, auth_off = 0, pl;
	int st, err, saw_cookie = 0, saw_auth = 0;
	struct ntp_ef_iter it;
	struct ntp_ef ef;

	if (!resp)
		return NTS_NTP_ERR_ARG;
	memset(resp, 0, sizeof(*resp));
	if (!pkt || !uid || !uid_len || !aead || !keys)
		return NTS_NTP_ERR_ARG;
	err = check_header(pkt, len, &resp->hdr, NTP_MODE_SERVER);
	if (err)
		return err;
	ntp_ef_iter_init(&it, pkt, len, NTP_HEADER_LEN, 0);
	while ((st = ntp_ef_next(&it, &ef)) == NTP_EF_FIELD) {
		saw_cookie |= ef.type == NTS_NTP_EF_COOKIE;
		saw_auth |= ef.type == NTS_NTP_EF_AUTH;
		if (ct) {
			resp->n_unauth++;
			continue;
		}
		switch (ef.type) {
		case NTS_NTP_EF_UID:
			if (ruid)
				return NTS_NTP_ERR_DUP_UID;
			ruid = ef.body;
			ruid_len = ef.body_len;
			break;
		case NTS_NTP_EF_AUTH:
			err = auth_parse(&ef, 0, &nonce, &nonce_len, &ct, &ct_len, NULL);
			if (err)
				return err;
			auth_off = ef.off;
			break;
		default:
			/* Unencrypted cookies, placeholders, unknown fields. */
			resp->n_ignored++;
			break;
		}
	}
	if (st == NTP_EF_MAC)
		return NTS_NTP_ERR_MAC;
	if (st != NTP_EF_END)
		return NTS_NTP_ERR_FORMAT;
	if (nts_ntp_is_nak(&resp->hdr) && (saw_cookie || saw_auth))
		return NTS_NTP_ERR_NAK_FORMAT;
	if (!ruid)
		return NTS_NTP_ERR_NO_UID;
	if (ruid_len != uid_len || CRYPTO_memcmp(ruid, uid, uid_len))
		return NTS_NTP_ERR_UID_MISMATCH;
	if (nts_ntp_is_nak(&resp->hdr))
		return NTS_NTP_NAK;
	if (!ct)
		return NTS_NTP_ERR_NO_AUTH;
	if (!aead_key_len(keys->aead))
		return NTS_NTP_ERR_AEAD;
	if (!aead_nonce_ok(keys->aead, nonce_len))
		return NTS_NTP_ERR_AUTH_FORMAT;
	pl = ct_len - AEAD_TAG_LEN;
	if (pl && (!plain || pl > plain_cap))
		return NTS_NTP_ERR_SPACE;
	if (aead_open_nts(aead, keys->aead, keys->s2c, nonce, nonce_len, pkt, auth_off, ct,
			  ct_len, plain))
		return NTS_NTP_ERR_AUTH;
	ntp_ef_iter_init(&it, plain, pl, 0, NTP_EF_INNER);
	while ((st = ntp_ef_next(&it, &ef)) == NTP_EF_FIELD) {
		switch (ef.type) {
		case NTS_NTP_EF_COOKIE:
			if (resp->n_cookies >= NTS_NTP_MAX_COOKIES || !ef.body_len ||
			    ef.body_len > NTS_NTP_MAX_COOKIE_LEN)
				goto bad_cookies;
			resp->cookies[resp->n_cookies] = ef.body;
			resp->cookie_lens[resp->n_cookies] = ef.body_len;
			resp->n_cookies++;
			break;
		case NTS_NTP_EF_UID:
		case NTS_NTP_EF_AUTH:
			goto bad_inner;
		default:
			resp->n_ignored++;
			break;
		}
	}
	if (st != NTP_EF_END)
		goto bad_inner;
	return NTS_NTP_OK;
bad_cookies:
	err = NTS_NTP_ERR_COOKIES;
	goto fail;
bad_inner:
	err = NTS_NTP_ERR_INNER;
fail:
	resp->n_cookies = 0;
	memset(resp->cookies, 0, sizeof(resp->cookies));
	return err;
}
