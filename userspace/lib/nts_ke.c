// SPDX-License-Identifier: GPL-2.0
/*
 * NTS-KE records and messages (RFC 8915 section 4). The rules applied here
 * are listed in nts_ke.h; this file only notes why where it is not obvious.
 */
#include <arpa/inet.h>
#include <string.h>

#include "nts_ke.h"
#include "aead.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

const char *nts_ke_strerror(int result)
{
	switch (result) {
	case NTS_KE_OK: return "ok";
	case NTS_KE_E_TRUNCATED: return "message truncated";
	case NTS_KE_E_TOO_LONG: return "message too long";
	case NTS_KE_E_TOO_MANY: return "too many records";
	case NTS_KE_E_BAD_EOM: return "malformed End of Message record";
	case NTS_KE_E_TRAILING: return "data after End of Message";
	case NTS_KE_E_MALFORMED: return "malformed record";
	case NTS_KE_E_DUPLICATE: return "duplicate record";
	case NTS_KE_E_MISSING: return "mandatory record missing";
	case NTS_KE_E_UNKNOWN_CRITICAL: return "unrecognized critical record";
	case NTS_KE_E_FORBIDDEN: return "record not allowed in this message";
	case NTS_KE_E_SERVER_ERROR: return "server sent an Error record";
	case NTS_KE_E_SERVER_WARNING: return "server sent a Warning record";
	case NTS_KE_E_NO_PROTOCOL: return "no common next protocol";
	case NTS_KE_E_NO_AEAD: return "no common AEAD algorithm";
	case NTS_KE_E_NOT_OFFERED: return "server chose something not offered";
	case NTS_KE_E_NO_COOKIES: return "no cookies in response";
	case NTS_KE_E_NOSPACE: return "output buffer too small";
	case NTS_KE_E_INVALID: return "invalid argument";
	}
	return "unknown result";
}

uint16_t nts_ke_error_code(int result)
{
	if (result == NTS_KE_E_UNKNOWN_CRITICAL)
		return NTS_KE_ERR_UNRECOGNIZED_CRITICAL;
	return NTS_KE_ERR_BAD_REQUEST;
}

ssize_t nts_ke_record_decode(const uint8_t *buf, size_t len, struct nts_ke_record *rec)
{
	uint16_t th, bl;

	if (!buf || len < NTS_KE_HDR_LEN)
		return NTS_KE_E_TRUNCATED;
	th = get16(buf);
	bl = get16(buf + 2);
	if (len - NTS_KE_HDR_LEN < bl)
		return NTS_KE_E_TRUNCATED;
	rec->type = th & NTS_KE_TYPE_MASK;
	rec->critical = !!(th & NTS_KE_CRITICAL);
	rec->len = bl;
	rec->body = buf + NTS_KE_HDR_LEN;
	return NTS_KE_HDR_LEN + (ssize_t)bl;
}

ssize_t nts_ke_record_encode(uint8_t *out, size_t cap, uint16_t type, bool critical,
			     const void *body, size_t body_len)
{
	if (type > NTS_KE_TYPE_MASK || body_len > NTS_KE_MAX_BODY || (body_len && !body))
		return NTS_KE_E_INVALID;
	if (!out || cap < NTS_KE_HDR_LEN + body_len)
		return NTS_KE_E_NOSPACE;
	put16(out, type | (critical ? NTS_KE_CRITICAL : 0));
	put16(out + 2, (uint16_t)body_len);
	if (body_len)
		memcpy(out + NTS_KE_HDR_LEN, body, body_len);
	return NTS_KE_HDR_LEN + (ssize_t)body_len;
}

ssize_t nts_ke_record_encode_u16s(uint8_t *out, size_t cap, uint16_t type, bool critical,
				  const uint16_t *vals, size_t n)
{
	size_t i;

	if (n > NTS_KE_MAX_BODY / 2 || (n && !vals) || type > NTS_KE_TYPE_MASK)
		return NTS_KE_E_INVALID;
	if (!out || cap < NTS_KE_HDR_LEN + 2 * n)
		return NTS_KE_E_NOSPACE;
	put16(out, type | (critical ? NTS_KE_CRITICAL : 0));
	put16(out + 2, (uint16_t)(2 * n));
	for (i = 0; i < n; i++)
		put16(out + NTS_KE_HDR_LEN + 2 * i, vals[i]);
	return NTS_KE_HDR_LEN + 2 * (ssize_t)n;
}

static bool is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

/* LDH labels of 1..63 bytes, no leading or trailing hyphen, one final dot allowed. */
static bool host_name_valid(const char *s, size_t len)
{
	size_t i, label = 0;

	if (s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!is_ldh(s[i]))
			return false;
		if (label == 0 && s[i] == '-')
			return false;
		if (++label > 63)
			return false;
	}
	return label != 0 && s[len - 1] != '-';
}

bool nts_ke_server_name_valid(const char *s, size_t len)
{
	char tmp[NTS_KE_MAX_SERVER_LEN + 1];
	uint8_t addr[16];
	bool numeric = true;
	size_t i;

	if (!s || len == 0 || len > NTS_KE_MAX_SERVER_LEN)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] == '\0')
			return false;
		if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '.')
			numeric = false;
	}
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (memchr(s, ':', len))
		return inet_pton(AF_INET6, tmp, addr) == 1;
	/* All digits and dots is not a host name (no numeric TLD): must be IPv4. */
	if (numeric)
		return inet_pton(AF_INET, tmp, addr) == 1;
	return host_name_valid(s, len);
}

/* ---- streaming parser ---- */

void nts_ke_parser_init(struct nts_ke_parser *p, uint8_t *buf, size_t cap,
			unsigned int max_records)
{
	memset(p, 0, sizeof(*p));
	p->buf = buf;
	p->cap = buf ? cap : 0;
	p->max_records = max_records;
}

void nts_ke_parser_reset(struct nts_ke_parser *p)
{
	nts_ke_parser_init(p, p->buf, p->cap, p->max_records);
}

/*
 * Look at the record starting at scan: check its header as soon as it is
 * complete, finish it when its body is there. Returns how many more bytes
 * the record needs (0 after completing one or on a status change).
 */
static size_t parser_step(struct nts_ke_parser *p)
{
	size_t avail = p->len - p->scan;
	uint16_t th, bl;

	if (avail < NTS_KE_HDR_LEN) {
		if (p->scan + NTS_KE_HDR_LEN > p->cap) {
			p->status = NTS_KE_E_TOO_LONG;
			return 0;
		}
		return NTS_KE_HDR_LEN - avail;
	}
	th = get16(p->buf + p->scan);
	bl = get16(p->buf + p->scan + 2);
	if (p->n_records >= p->max_records) {
		p->status = NTS_KE_E_TOO_MANY;
		return 0;
	}
	if ((th & NTS_KE_TYPE_MASK) == NTS_KE_REC_EOM && (bl || !(th & NTS_KE_CRITICAL))) {
		p->status = NTS_KE_E_BAD_EOM;
		return 0;
	}
	if (p->cap - p->scan - NTS_KE_HDR_LEN < bl) {
		p->status = NTS_KE_E_TOO_LONG;
		return 0;
	}
	if (avail < NTS_KE_HDR_LEN + (size_t)bl)
		return NTS_KE_HDR_LEN + bl - avail;
	p->n_records++;
	p->scan += NTS_KE_HDR_LEN + bl;
	if ((th & NTS_KE_TYPE_MASK) == NTS_KE_REC_EOM)
		p->status = 1;
	return 0;
}

ssize_t nts_ke_parser_feed(struct nts_ke_parser *p, const uint8_t *data, size_t len)
{
	size_t taken = 0;

	if (p->status < 0)
		return p->status;
	if (len && !data)
		return NTS_KE_E_INVALID;
	/* Each pass completes a record (bounded by max_records) or copies >= 1 byte. */
	while (p->status == 0) {
		size_t need = parser_step(p), n;

		if (p->status != 0)
			break;
		if (need == 0)
			continue;
		if (taken == len)
			break;
		n = len - taken < need ? len - taken : need;
		memcpy(p->buf + p->len, data + taken, n);
		p->len += n;
		taken += n;
	}
	if (p->status < 0)
		return p->status;
	return (ssize_t)taken;
}

int nts_ke_parser_next(struct nts_ke_parser *p, struct nts_ke_record *rec)
{
	ssize_t r;

	if (p->emit >= p->scan)
		return 0;
	r = nts_ke_record_decode(p->buf + p->emit, p->scan - p->emit, rec);
	if (r < 0)
		return r;	/* cannot happen: scan only passes whole records */
	p->emit += (size_t)r;
	return 1;
}

int nts_ke_parser_eof(const struct nts_ke_parser *p)
{
	if (p->status < 0)
		return p->status;
	return p->status == 1 ? NTS_KE_OK : NTS_KE_E_TRUNCATED;
}

bool nts_ke_parser_done(const struct nts_ke_parser *p)
{
	return p->status == 1;
}

const uint8_t *nts_ke_parser_message(const struct nts_ke_parser *p, size_t *len)
{
	*len = p->len;
	return p->buf;
}

/* ---- message layer ---- */

typedef int (*record_fn)(void *ctx, const struct nts_ke_record *rec);

/*
 * Walk a complete message: every record whole, End of Message last and
 * nothing after it. fn sees every record but End of Message; its first
 * failure ends the walk.
 */
static int walk_message(const uint8_t *msg, size_t len, record_fn fn, void *ctx)
{
	unsigned int n = 0;
	size_t off = 0;

	if (!msg)
		return NTS_KE_E_INVALID;
	if (len > NTS_KE_MAX_MSG)
		return NTS_KE_E_TOO_LONG;
	while (off < len) {
		struct nts_ke_record rec;
		ssize_t r = nts_ke_record_decode(msg + off, len - off, &rec);
		int ret;

		if (r < 0)
			return (int)r;
		if (++n > NTS_KE_MAX_RECORDS)
			return NTS_KE_E_TOO_MANY;
		off += (size_t)r;
		if (rec.type == NTS_KE_REC_EOM) {
			if (!rec.critical || rec.len)
				return NTS_KE_E_BAD_EOM;
			return off == len ? NTS_KE_OK : NTS_KE_E_TRAILING;
		}
		ret = fn(ctx, &rec);
		if (ret)
			return ret;
	}
	return NTS_KE_E_TRUNCATED;
}

/* A u16 list body: even length, at most max entries. */
static int get_u16s(const struct nts_ke_record *rec, uint16_t *vals, unsigned int max,
		    unsigned int *n)
{
	unsigned int i;

	if (rec->len % 2 || rec->len / 2 > max)
		return NTS_KE_E_MALFORMED;
	for (i = 0; i < rec->len / 2u; i++)
		vals[i] = get16(rec->body + 2 * i);
	*n = rec->len / 2;
	return NTS_KE_OK;
}

static int get_code(const struct nts_ke_record *rec, uint16_t *code)
{
	if (!rec->critical || rec->len != 2)
		return NTS_KE_E_MALFORMED;
	*code = get16(rec->body);
	return NTS_KE_OK;
}

static int get_server(const struct nts_ke_record *rec, char *out)
{
	if (!nts_ke_server_name_valid((const char *)rec->body, rec->len))
		return NTS_KE_E_MALFORMED;
	memcpy(out, rec->body, rec->len);
	out[rec->len] = '\0';
	return NTS_KE_OK;
}

static int get_port(const struct nts_ke_record *rec, uint16_t *port)
{
	if (rec->len != 2 || get16(rec->body) == 0)
		return NTS_KE_E_MALFORMED;
	*port = get16(rec->body);
	return NTS_KE_OK;
}

static bool ids_contain(const uint16_t *ids, unsigned int n, uint16_t id)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

struct walk_ctx {
	uint32_t seen;		/* bit per known record type */
	void *msg;
	const struct nts_ke_offer *offer;
};

/* Common duplicate check; New Cookie may repeat. */
static int mark_seen(struct walk_ctx *w, uint16_t type)
{
	if (type == NTS_KE_REC_COOKIE)
		return NTS_KE_OK;
	if (w->seen & (1u << type))
		return NTS_KE_E_DUPLICATE;
	w->seen |= 1u << type;
	return NTS_KE_OK;
}

/* Record 1024 as chrony sends it: not critical, no body. */
static bool is_compliant_128gcm(const struct nts_ke_record *rec)
{
	return rec->type == NTS_KE_REC_COMPLIANT_128GCM && !rec->critical && rec->len == 0;
}

/* Records 8-14 of a request (nts_ke.h); the critical bit is not checked. */
static int pool_record(struct walk_ctx *w, struct nts_ke_request *req,
		       const struct nts_ke_record *rec)
{
	int ret;

	req->n_pool_records++;
	/* Keep Alive and Server Deny may repeat; the others may not. */
	if (rec->type != NTS_KE_REC_KEEP_ALIVE && rec->type != NTS_KE_REC_SERVER_DENY) {
		ret = mark_seen(w, rec->type);
		if (ret)
			return ret;
	}
	switch (rec->type) {
	case NTS_KE_REC_KEEP_ALIVE:
		if (rec->len)
			return NTS_KE_E_MALFORMED;
		req->keep_alive = true;
		return NTS_KE_OK;
	case NTS_KE_REC_SUPPORTED_PROTOS:
		if (rec->len % 2)
			return NTS_KE_E_MALFORMED;
		req->wants_protos = true;
		return NTS_KE_OK;
	case NTS_KE_REC_SUPPORTED_AEADS:
		if (rec->len % 4)
			return NTS_KE_E_MALFORMED;
		req->wants_aeads = true;
		return NTS_KE_OK;
	case NTS_KE_REC_FIXED_KEY:
		if (!rec->len || rec->len % 2 || rec->len > 2 * AEAD_MAX_KEY_LEN)
			return NTS_KE_E_MALFORMED;
		req->fixed_key = rec->body;
		req->fixed_key_len = rec->len;
		return NTS_KE_OK;
	case NTS_KE_REC_SERVER_DENY:
		if (!nts_ke_server_name_valid((const char *)rec->body, rec->len))
			return NTS_KE_E_MALFORMED;
		req->n_denied++;
		return NTS_KE_OK;
	case NTS_KE_REC_AUTH:
		if (!rec->len || rec->len > NTS_KE_MAX_AUTH_LEN)
			return NTS_KE_E_MALFORMED;
		req->auth = rec->body;
		req->auth_len = rec->len;
		return NTS_KE_OK;
	}
	return NTS_KE_E_INVALID;
}

static int request_record(void *ctx, const struct nts_ke_record *rec)
{
	struct walk_ctx *w = ctx;
	struct nts_ke_request *req = w->msg;
	int ret;

	if (is_compliant_128gcm(rec)) {
		req->compliant_128gcm = true;
		return NTS_KE_OK;
	}
	if (rec->type > NTS_KE_REC_AUTH || rec->type == 11) {
		if (rec->critical)
			return NTS_KE_E_UNKNOWN_CRITICAL;
		req->n_ignored++;
		return NTS_KE_OK;
	}
	if (rec->type >= NTS_KE_REC_KEEP_ALIVE)
		return pool_record(w, req, rec);
	ret = mark_seen(w, rec->type);
	if (ret)
		return ret;
	switch (rec->type) {
	case NTS_KE_REC_NEXT_PROTO:
		if (!rec->critical || rec->len == 0)
			return NTS_KE_E_MALFORMED;
		return get_u16s(rec, req->protos, NTS_KE_MAX_IDS, &req->n_protos);
	case NTS_KE_REC_AEAD:
		if (rec->len == 0)
			return NTS_KE_E_MALFORMED;
		req->has_aead = true;
		return get_u16s(rec, req->aeads, NTS_KE_MAX_IDS, &req->n_aeads);
	case NTS_KE_REC_SERVER:
		req->has_server = true;
		return get_server(rec, req->server);
	case NTS_KE_REC_PORT:
		req->has_port = true;
		return get_port(rec, &req->port);
	default:	/* Error, Warning, New Cookie: server only */
		return NTS_KE_E_FORBIDDEN;
	}
}

int nts_ke_parse_request(const uint8_t *msg, size_t len, struct nts_ke_request *req)
{
	struct walk_ctx w = { .msg = req };
	int ret;

	if (!req)
		return NTS_KE_E_INVALID;
	memset(req, 0, sizeof(*req));
	ret = walk_message(msg, len, request_record, &w);
	if (ret)
		return ret;
	if (req->wants_protos || req->wants_aeads) {
		/* A pool's query: nothing of an exchange may come with it. */
		if (!req->auth)
			return NTS_KE_E_MISSING;
		if (req->fixed_key || w.seen & (1u << NTS_KE_REC_NEXT_PROTO |
						1u << NTS_KE_REC_AEAD))
			return NTS_KE_E_FORBIDDEN;
		req->kind = NTS_KE_REQ_SUPPORT;
		return NTS_KE_OK;
	}
	if (req->fixed_key) {
		if (!req->auth || !(w.seen & 1u << NTS_KE_REC_NEXT_PROTO) || !req->has_aead)
			return NTS_KE_E_MISSING;
		/* One protocol and one AEAD: the keys are for exactly that pair. */
		if (req->n_protos != 1 || req->n_aeads != 1)
			return NTS_KE_E_MALFORMED;
		req->kind = NTS_KE_REQ_FIXED_KEY;
		return NTS_KE_OK;
	}
	if (!(w.seen & 1u << NTS_KE_REC_NEXT_PROTO))
		return NTS_KE_E_MISSING;
	if (ids_contain(req->protos, req->n_protos, NTS_PROTO_NTPV4) && !req->has_aead)
		return NTS_KE_E_MISSING;
	return NTS_KE_OK;
}

int nts_ke_select_aead(const struct nts_ke_request *req, const uint16_t *pref,
		       unsigned int n_pref)
{
	static const uint16_t def[NTS_KE_N_AEADS] = NTS_KE_DEFAULT_AEADS;
	unsigned int i;

	if (!pref) {
		pref = def;
		n_pref = NTS_KE_N_AEADS;
	}
	for (i = 0; i < n_pref; i++)
		if (aead_key_len(pref[i]) && ids_contain(req->aeads, req->n_aeads, pref[i]))
			return pref[i];
	return -1;
}

void nts_ke_negotiate(const struct nts_ke_request *req, const uint16_t *pref,
		      unsigned int n_pref, struct nts_ke_reply *reply)
{
	memset(reply, 0, sizeof(*reply));
	reply->ntpv4 = ids_contain(req->protos, req->n_protos, NTS_PROTO_NTPV4);
	reply->aead = reply->ntpv4 ? nts_ke_select_aead(req, pref, n_pref) : -1;
	reply->compliant_128gcm = reply->aead == AEAD_AES_128_GCM_SIV && req->compliant_128gcm;
	reply->port = -1;
}

/* Appends to a message under construction; stops at the first failure. */
struct builder {
	uint8_t *out;
	size_t cap;
	size_t len;
	int err;
};

static void add(struct builder *b, ssize_t r)
{
	if (b->err)
		return;
	if (r < 0)
		b->err = (int)r;
	else
		b->len += (size_t)r;
}

static void add_rec(struct builder *b, uint16_t type, bool crit, const void *body, size_t len)
{
	if (!b->err)
		add(b, nts_ke_record_encode(b->out + b->len, b->cap - b->len, type, crit, body,
					    len));
}

static void add_u16s(struct builder *b, uint16_t type, bool crit, const uint16_t *v, size_t n)
{
	if (!b->err)
		add(b, nts_ke_record_encode_u16s(b->out + b->len, b->cap - b->len, type, crit, v,
						 n));
}

static void add_u16(struct builder *b, uint16_t type, bool crit, uint16_t v)
{
	add_u16s(b, type, crit, &v, 1);
}

static ssize_t finish(struct builder *b)
{
	add_rec(b, NTS_KE_REC_EOM, true, NULL, 0);
	return b->err ? b->err : (ssize_t)b->len;
}

static bool server_arg_valid(const char *server)
{
	return !server || nts_ke_server_name_valid(server, strnlen(server,
								  NTS_KE_MAX_SERVER_LEN + 1));
}

ssize_t nts_ke_build_response(uint8_t *out, size_t cap, const struct nts_ke_reply *r)
{
	struct builder b = { .out = out, .cap = out ? cap : 0 };
	uint16_t proto = NTS_PROTO_NTPV4, aead;
	unsigned int i;

	if (!r || r->port > 0xffff || r->port == 0 || r->port < -1 || !server_arg_valid(r->server))
		return NTS_KE_E_INVALID;
	if (!r->ntpv4) {
		/* Nothing we can speak: an empty list says so, and nothing else applies. */
		if (r->aead >= 0 || r->n_cookies)
			return NTS_KE_E_INVALID;
		add_u16s(&b, NTS_KE_REC_NEXT_PROTO, true, NULL, 0);
		return finish(&b);
	}
	add_u16s(&b, NTS_KE_REC_NEXT_PROTO, true, &proto, 1);
	if (r->aead < 0) {
		if (r->n_cookies)
			return NTS_KE_E_INVALID;
		add_u16s(&b, NTS_KE_REC_AEAD, true, NULL, 0);
		return finish(&b);
	}
	if (!aead_key_len(r->aead) || r->n_cookies == 0 || !r->cookies)
		return NTS_KE_E_INVALID;
	aead = (uint16_t)r->aead;
	add_u16(&b, NTS_KE_REC_AEAD, true, aead);
	if (r->compliant_128gcm && aead == AEAD_AES_128_GCM_SIV)
		add_rec(&b, NTS_KE_REC_COMPLIANT_128GCM, false, NULL, 0);
	if (r->server)
		add_rec(&b, NTS_KE_REC_SERVER, true, r->server, strlen(r->server));
	if (r->port >= 0)
		add_u16(&b, NTS_KE_REC_PORT, true, (uint16_t)r->port);
	for (i = 0; i < r->n_cookies; i++) {
		if (r->cookies[i].len == 0)
			return NTS_KE_E_INVALID;
		add_rec(&b, NTS_KE_REC_COOKIE, false, r->cookies[i].data, r->cookies[i].len);
	}
	if (r->keep_alive)
		add_rec(&b, NTS_KE_REC_KEEP_ALIVE, false, NULL, 0);
	return finish(&b);
}

ssize_t nts_ke_build_support(uint8_t *out, size_t cap, const uint16_t *protos,
			     unsigned int n_protos, const uint16_t *aeads,
			     unsigned int n_aeads, bool keep_alive)
{
	struct builder b = { .out = out, .cap = out ? cap : 0 };
	uint16_t pairs[2 * NTS_KE_MAX_IDS];
	unsigned int i;

	if (n_protos > NTS_KE_MAX_IDS || n_aeads > NTS_KE_MAX_IDS)
		return NTS_KE_E_INVALID;
	if (aeads) {
		for (i = 0; i < n_aeads; i++) {
			if (!aead_key_len(aeads[i]))
				return NTS_KE_E_INVALID;
			pairs[2 * i] = aeads[i];
			pairs[2 * i + 1] = (uint16_t)aead_key_len(aeads[i]);
		}
		add_u16s(&b, NTS_KE_REC_SUPPORTED_AEADS, true, pairs, 2 * n_aeads);
	}
	if (protos)
		add_u16s(&b, NTS_KE_REC_SUPPORTED_PROTOS, true, protos, n_protos);
	if (keep_alive)
		add_rec(&b, NTS_KE_REC_KEEP_ALIVE, false, NULL, 0);
	return finish(&b);
}

ssize_t nts_ke_build_error(uint8_t *out, size_t cap, uint16_t code)
{
	struct builder b = { .out = out, .cap = out ? cap : 0 };

	add_u16(&b, NTS_KE_REC_ERROR, true, code);
	return finish(&b);
}

void nts_ke_offer_default(struct nts_ke_offer *offer)
{
	memset(offer, 0, sizeof(*offer));
	offer->aeads[0] = AEAD_AES_128_GCM_SIV;
	offer->aeads[1] = AEAD_AES_SIV_CMAC_256;
	offer->aeads[2] = AEAD_AES_SIV_CMAC_512;
	offer->n_aeads = 3;
	offer->port = -1;
}

static bool offer_valid(const struct nts_ke_offer *o)
{
	unsigned int i;

	if (!o || o->n_aeads == 0 || o->n_aeads > NTS_KE_MAX_IDS)
		return false;
	for (i = 0; i < o->n_aeads; i++)
		if (!aead_key_len(o->aeads[i]))
			return false;
	return o->port >= -1 && o->port != 0 && o->port <= 0xffff && server_arg_valid(o->server);
}

ssize_t nts_ke_build_request(uint8_t *out, size_t cap, const struct nts_ke_offer *o)
{
	struct builder b = { .out = out, .cap = out ? cap : 0 };
	uint16_t proto = NTS_PROTO_NTPV4;

	if (!offer_valid(o))
		return NTS_KE_E_INVALID;
	add_u16s(&b, NTS_KE_REC_NEXT_PROTO, true, &proto, 1);
	add_u16s(&b, NTS_KE_REC_AEAD, true, o->aeads, o->n_aeads);
	/* Ask for RFC 8915 keys with 30, as chrony 4.6.1 and later do. */
	if (ids_contain(o->aeads, o->n_aeads, AEAD_AES_128_GCM_SIV))
		add_rec(&b, NTS_KE_REC_COMPLIANT_128GCM, false, NULL, 0);
	/* Only a wish: the server may ignore these, so they are not critical. */
	if (o->server)
		add_rec(&b, NTS_KE_REC_SERVER, false, o->server, strlen(o->server));
	if (o->port >= 0)
		add_u16(&b, NTS_KE_REC_PORT, false, (uint16_t)o->port);
	return finish(&b);
}

static int response_record(void *ctx, const struct nts_ke_record *rec)
{
	struct walk_ctx *w = ctx;
	struct nts_ke_response *resp = w->msg;
	uint16_t ids[NTS_KE_MAX_IDS];
	unsigned int n, i;
	int ret;

	if (is_compliant_128gcm(rec)) {
		resp->compliant_128gcm = true;
		return NTS_KE_OK;
	}
	if (rec->type > NTS_KE_REC_PORT) {
		if (rec->critical)
			return NTS_KE_E_UNKNOWN_CRITICAL;
		resp->n_ignored++;
		return NTS_KE_OK;
	}
	ret = mark_seen(w, rec->type);
	if (ret)
		return ret;
	switch (rec->type) {
	case NTS_KE_REC_NEXT_PROTO:
		if (!rec->critical)
			return NTS_KE_E_MALFORMED;
		ret = get_u16s(rec, ids, NTS_KE_MAX_IDS, &n);
		if (ret)
			return ret;
		/* A subset of what we offered, and we offer only NTPv4. */
		for (i = 0; i < n; i++)
			if (ids[i] != NTS_PROTO_NTPV4)
				return NTS_KE_E_NOT_OFFERED;
		resp->has_proto = n > 0;
		resp->proto = NTS_PROTO_NTPV4;
		return NTS_KE_OK;
	case NTS_KE_REC_ERROR:
		resp->has_error = true;
		return get_code(rec, &resp->error);
	case NTS_KE_REC_WARNING:
		resp->has_warning = true;
		return get_code(rec, &resp->warning);
	case NTS_KE_REC_AEAD:
		ret = get_u16s(rec, ids, 1, &n);
		if (ret)
			return ret;
		if (n && !ids_contain(w->offer->aeads, w->offer->n_aeads, ids[0]))
			return NTS_KE_E_NOT_OFFERED;
		resp->has_aead = n > 0;
		resp->aead = n ? ids[0] : 0;
		return NTS_KE_OK;
	case NTS_KE_REC_COOKIE:
		if (rec->len == 0 || rec->len > NTS_KE_MAX_COOKIE_LEN)
			return NTS_KE_E_MALFORMED;
		if (resp->n_cookies == NTS_KE_MAX_COOKIES) {
			resp->n_cookies_dropped++;
			return NTS_KE_OK;
		}
		memcpy(resp->cookies[resp->n_cookies], rec->body, rec->len);
		resp->cookie_len[resp->n_cookies++] = rec->len;
		return NTS_KE_OK;
	case NTS_KE_REC_SERVER:
		resp->has_server = true;
		return get_server(rec, resp->server);
	case NTS_KE_REC_PORT:
		resp->has_port = true;
		return get_port(rec, &resp->port);
	default:	/* End of Message never reaches here */
		return NTS_KE_E_MALFORMED;
	}
}

int nts_ke_parse_response(const uint8_t *msg, size_t len, const struct nts_ke_offer *offer,
			  struct nts_ke_response *resp)
{
	struct walk_ctx w = { .msg = resp, .offer = offer };
	int ret;

	if (!resp || !offer || !offer_valid(offer))
		return NTS_KE_E_INVALID;
	memset(resp, 0, sizeof(*resp));
	ret = walk_message(msg, len, response_record, &w);
	if (ret)
		return ret;
	/* The server's verdict first: with an Error the rest does not matter. */
	if (resp->has_error)
		return NTS_KE_E_SERVER_ERROR;
	if (resp->has_warning)
		return NTS_KE_E_SERVER_WARNING;
	if (!(w.seen & 1u << NTS_KE_REC_NEXT_PROTO))
		return NTS_KE_E_MISSING;
	if (!resp->has_proto)
		return NTS_KE_E_NO_PROTOCOL;
	if (!(w.seen & 1u << NTS_KE_REC_AEAD))
		return NTS_KE_E_MISSING;
	if (!resp->has_aead)
		return NTS_KE_E_NO_AEAD;
	if (resp->n_cookies == 0)
		return NTS_KE_E_NO_COOKIES;
	return NTS_KE_OK;
}
