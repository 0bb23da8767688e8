/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NTS (RFC 8915) in XDP: included by xnts.bpf.c when built with XNTS_NTS
 * (bpf/xnts_nts.bpf.c). Needs the kfuncs of kmod/xnts_siv.ko; the loader
 * picks this variant only when they exist. Documentation/xdp.md, "NTS".
 *
 * Contract:
 * - A request is handled here only in the shape xnts's and chrony's clients
 *   send: NTPv4 mode 3, fields UID (body >= 32), one cookie of 100 or 164
 *   bytes, placeholders of the cookie's size, and the authenticator as the
 *   last field with an empty plaintext. Framing follows userspace's
 *   nts_ntp.c rules. Anything else, and every internal failure before the
 *   packet is rewritten, goes up unchanged (XDP_PASS).
 * - Unknown key id, a cookie that does not open or an authenticator that does
 *   not verify: an NTSN NAK with the UID echoed. Otherwise a response built
 *   in place: header | UID | authenticator sealing 1 + placeholders fresh
 *   cookies under the current master key, never longer than the request.
 * - Nonces come from the module's xnts_siv_random() (get_random_bytes).
 */
#include "../kmod/xnts_siv.h"

#define NTS_EBADMSG		74	/* the kfuncs' -EBADMSG (asm-generic/errno.h) */

#define NTS_MAX_PAYLOAD		1536	/* longer requests go up */
#define NTS_BUF			2048	/* scratch size, a power of two for masking */
#define NTS_SLACK		512	/* so a masked offset plus a csum chunk fits */
#define NTS_MAX_FIELDS		16
#define NTS_MAX_UID_FIELD	260
#define NTS_MAX_NONCE		64
#define NTS_MAX_EXTRA		64
#define NTS_MAX_COOKIES		8
#define NTS_NONCE		16
#define NTS_TAG			16
#define NTS_EF_UID		0x0104
#define NTS_EF_COOKIE		0x0204
#define NTS_EF_PLACEHOLDER	0x0304
#define NTS_EF_AUTH		0x0404
#define NTS_KISS_NTSN		0x4e54534e	/* "NTSN" */
/* Response authenticator: header(4) lengths(4) nonce(16) tag(16). */
#define NTS_AUTH_FIXED		40

/* Where the fields of a parsed request are, as offsets into the UDP payload. */
struct nts_req {
	__u32 len;
	__u32 uid_off, uid_flen;	/* the whole UID field */
	__u32 ck_off, ck_len;		/* the cookie's body */
	__u32 ph_len, n_ph;
	__u32 auth_off;			/* AD length */
	__u32 nonce_off, nonce_len;
	__u32 tag_off;
};

struct nts_scratch {
	struct xnts_siv_key c2s;
	struct xnts_siv_key s2c;
	__u8 rnd[NTS_NONCE * (1 + NTS_MAX_COOKIES)];
	__u8 ck[168];			/* the cookie being opened */
	__u8 req[NTS_BUF + NTS_SLACK];	/* the request's UDP payload */
	__u8 w[NTS_BUF + NTS_SLACK];	/* AEAD work: AD | nonce | tag | text */
	struct nts_req r;		/* the parsed request */
	__u32 out_len;			/* the response's UDP payload length */
	__u64 sum;			/* and its ones' complement sum */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XNTS_NTS_KEYS_MAX);
	__type(key, __u32);
	__type(value, struct xnts_siv_key);
} xnts_nts_keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xnts_nts_current);
} xnts_nts_current SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nts_scratch);
} xnts_nts_scratch SEC(".maps");

/* What handle_ipv4/6 hand to nts_serve() when they return NTS_GO. */
#define NTS_GO			(-1)

struct nts_args {
	struct request rq;
	__u64 rx, asum;
	__u32 l3off, poff, len;
};


static __always_inline __u32 nts_get16(const __u8 *b, __u32 off)
{
	return ((__u32)b[off & (NTS_BUF - 1)] << 8) | b[(off + 1) & (NTS_BUF - 1)];
}

/*
 * The authenticator's body at off, bl bytes: nts_ntp.c's auth_parse() rules,
 * narrowed to what clients send: a nonce of 16..64 bytes, a multiple of 4
 * (no padding), no additional padding, an empty plaintext. Other valid
 * forms go up to userspace.
 */
static __always_inline int nts_parse_auth(const __u8 *p, __u32 off, __u32 bl, struct nts_req *r)
{
	__u32 nl = nts_get16(p, off), cl = nts_get16(p, off + 2);

	if (nl < NTS_NONCE || nl > NTS_MAX_NONCE || (nl & 3) || cl != NTS_TAG ||
	    bl != 4 + nl + NTS_TAG)
		return -1;
	r->nonce_off = off + 4;
	r->nonce_len = nl;
	r->tag_off = off + 4 + nl;
	return 0;
}

struct nts_parse_ctx {
	const __u8 *p;
	struct nts_req r;
	__u32 pos;
	int err;
};

/* One extension field per call (bpf_loop: the verifier checks the body once). */
static int nts_parse_field(__u32 index, void *arg)
{
	struct nts_parse_ctx *c = arg;
	struct nts_req *r = &c->r;
	const __u8 *p = c->p;
	__u32 pos = c->pos, rem, type, flen;

	if (pos >= r->len)
		return 1;
	rem = r->len - pos;
	/* 20 or 24 bytes left: a legacy MAC; or fields after the authenticator */
	if (rem < 16 || rem == 20 || rem == 24 || r->auth_off)
		goto bad;
	type = nts_get16(p, pos);
	flen = nts_get16(p, pos + 2);
	if (flen < 16 || (flen & 3) || flen > rem || (flen == rem && flen < 28))
		goto bad;
	if (type == NTS_EF_UID) {
		if (r->uid_flen || flen < 4 + 32 || flen > NTS_MAX_UID_FIELD)
			goto bad;
		r->uid_off = pos;
		r->uid_flen = flen;
	} else if (type == NTS_EF_COOKIE) {
		if (r->ck_len)
			goto bad;
		r->ck_off = pos + 4;
		r->ck_len = flen - 4;
	} else if (type == NTS_EF_PLACEHOLDER) {
		if (r->n_ph && flen - 4 != r->ph_len)
			goto bad;
		r->ph_len = flen - 4;
		r->n_ph++;
	} else if (type == NTS_EF_AUTH) {
		if (nts_parse_auth(p, pos + 4, flen - 4, r))
			goto bad;
		r->auth_off = pos;
	} else {
		goto bad;
	}
	c->pos = pos + flen;
	return 0;
bad:
	c->err = 1;
	return 1;
}

/* Framing and NTS fields of the payload copy; 0 if XDP can handle it. */
static __always_inline int nts_parse(const __u8 *p, struct nts_req *out, __u32 len)
{
	struct nts_parse_ctx c = { .p = p, .pos = NTP_LEN };

	if ((p[0] & 0x3f) != ((4 << 3) | NTP_MODE_CLIENT))
		return -1;
	c.r.len = len;
	if (bpf_loop(NTS_MAX_FIELDS + 1, nts_parse_field, &c, 0) < 0 || c.err)
		return -1;
	if (c.pos != len || !c.r.uid_flen || !c.r.auth_off)
		return -1;
	if (c.r.ck_len != 100 && c.r.ck_len != 164)
		return -1;
	if (c.r.n_ph && c.r.ph_len != c.r.ck_len)
		return -1;
	*out = c.r;
	return 0;
}

/* Ones' complement sum of b[off..off+len), len a multiple of 4, <= NTS_BUF. */
static __always_inline __u64 nts_csum(__u8 *b, __u32 off, __u32 len, __u64 sum)
{
	int i;

	for (i = 0; i < NTS_BUF / NTS_SLACK; i++) {
		__u32 n = len > NTS_SLACK ? NTS_SLACK : len;

		if (!n)
			break;
		sum += (__u32)bpf_csum_diff(0, 0, (void *)(b + (off & (NTS_BUF - 1))), n, 0);
		off += n;
		len -= n;
	}
	return sum;
}

enum nts_outcome {
	NTS_ERR = -1,		/* pass, packet unchanged (restored) */
	NTS_OK = 0,
	NTS_NAK_KEY,
	NTS_NAK_COOKIE,
	NTS_NAK_AUTH,
};

/* Copies a session key (32 or 64 bytes) out of the opened cookie. */
static __always_inline void nts_take_keys(struct nts_scratch *s, __u32 clen)
{
	if (clen == 100) {
		s->c2s.aead = XNTS_SIV_AEAD_CMAC_256;
		s->s2c.aead = XNTS_SIV_AEAD_CMAC_256;
		__builtin_memcpy(s->c2s.key, s->ck + 36, 32);
		__builtin_memcpy(s->s2c.key, s->ck + 68, 32);
	} else {
		s->c2s.aead = XNTS_SIV_AEAD_CMAC_512;
		s->s2c.aead = XNTS_SIV_AEAD_CMAC_512;
		__builtin_memcpy(s->c2s.key, s->ck + 36, 64);
		__builtin_memcpy(s->s2c.key, s->ck + 100, 64);
	}
	s->c2s.reserved = 0;
	s->s2c.reserved = 0;
}

/* Opens the cookie and verifies the authenticator with C2S. */
static __always_inline int nts_check(struct xdp_md *ctx, struct nts_scratch *s,
				     const struct nts_req *r, __u32 poff)
{
	struct xnts_siv_key *mk;
	__u64 clen, a, nl, total;
	__u32 kid;
	int ret;

	clen = r->ck_len;
	barrier_var(clen);
	if (clen < 100 || clen > 164)
		return NTS_ERR;
	if (bpf_xdp_load_bytes(ctx, poff + r->ck_off, s->ck, clen))
		return NTS_ERR;
	__builtin_memcpy(&kid, s->ck, 4);
	mk = bpf_map_lookup_elem(&xnts_nts_keys, &kid);
	if (!mk)
		return NTS_NAK_KEY;
	ret = xnts_siv_open(mk, s->ck, clen, 4, NTS_NONCE);
	if (ret == -NTS_EBADMSG)
		return NTS_NAK_COOKIE;
	if (ret)
		return NTS_ERR;
	nts_take_keys(s, clen);

	/* w = request before the authenticator | nonce | tag */
	a = r->auth_off;
	nl = r->nonce_len;
	barrier_var(a);
	barrier_var(nl);
	if (a < NTP_LEN + 36 || a > NTS_MAX_PAYLOAD || nl < 1 || nl > NTS_MAX_NONCE)
		return NTS_ERR;
	/* The header as the client sent it: the packet's now holds our answer. */
	__builtin_memcpy(s->w, s->req, NTP_LEN);
	if (bpf_xdp_load_bytes(ctx, poff + NTP_LEN, s->w + NTP_LEN, a - NTP_LEN))
		return NTS_ERR;
	if (bpf_xdp_load_bytes(ctx, poff + r->nonce_off, s->w + a, nl))
		return NTS_ERR;
	if (bpf_xdp_load_bytes(ctx, poff + r->tag_off, s->w + a + nl, NTS_TAG))
		return NTS_ERR;
	total = a + nl + NTS_TAG;
	barrier_var(total);
	if (total < 1 || total > NTS_BUF)
		return NTS_ERR;
	ret = xnts_siv_open(&s->c2s, s->w, total, a, nl);
	if (ret == -NTS_EBADMSG)
		return NTS_NAK_AUTH;
	return ret ? NTS_ERR : NTS_OK;
}

struct nts_cookie_ctx {
	struct nts_scratch *s;
	struct xnts_siv_key *mk;
	__u32 kid, base, per, clen;
	int err;
};

/* Seals cookie i at w[base + i * per]: EF header, key id, nonce, tag, keys. */
static int nts_seal_cookie(__u32 i, void *arg)
{
	struct nts_cookie_ctx *x = arg;
	struct nts_scratch *s = x->s;
	__u64 off = x->base + (i & 7) * x->per;
	__u8 *c;

	barrier_var(off);
	if (off > NTS_BUF - 168)
		goto bad;
	c = s->w + off;
	c[0] = NTS_EF_COOKIE >> 8;
	c[1] = NTS_EF_COOKIE & 0xff;
	c[2] = 0;
	c[3] = 4 + x->clen;
	__builtin_memcpy(c + 4, &x->kid, 4);
	__builtin_memcpy(c + 8, s->rnd + NTS_NONCE * (1 + (i & 7)), NTS_NONCE);
	if (x->clen == 100) {
		__builtin_memcpy(c + 40, s->c2s.key, 32);
		__builtin_memcpy(c + 72, s->s2c.key, 32);
		if (xnts_siv_seal(x->mk, c + 4, 100, 4, NTS_NONCE))
			goto bad;
		return 0;
	}
	__builtin_memcpy(c + 40, s->c2s.key, 64);
	__builtin_memcpy(c + 104, s->s2c.key, 64);
	if (xnts_siv_seal(x->mk, c + 4, 164, 4, NTS_NONCE))
		goto bad;
	return 0;
bad:
	x->err = 1;
	return 1;
}

/*
 * Builds the NTS response from the response header the plain path left in
 * the packet (w[0..48]): UID echoed, authenticator over fresh cookies.
 * Writes it over the packet's payload; *out_len and *sum get its length and
 * ones' complement sum.
 */
static __always_inline int nts_build(struct xdp_md *ctx, struct nts_scratch *s,
				     const struct nts_req *r, __u32 poff, __s32 tai_offset,
				     __u32 *out_len, __u64 *sum)
{
	__u32 clen = r->ck_len, per = 4 + clen, n, kid;
	struct nts_cookie_ctx cx;
	struct xnts_nts_current *cur;
	struct xnts_siv_key *mk;
	__u64 a, pl, total;
	__u8 ef[8];
	__u32 zero = 0;

	cur = bpf_map_lookup_elem(&xnts_nts_current, &zero);
	if (!cur || !cur->valid)
		return NTS_ERR;
	kid = cur->key_id;
	mk = bpf_map_lookup_elem(&xnts_nts_keys, &kid);
	if (!mk)
		return NTS_ERR;
	if (xnts_siv_random(s->rnd, sizeof(s->rnd)))
		return NTS_ERR;

	a = NTP_LEN + r->uid_flen;
	barrier_var(a);
	if (a < NTP_LEN + 36 || a > NTP_LEN + NTS_MAX_UID_FIELD)
		return NTS_ERR;
	/* 1 + placeholders cookies, at most 8, and never longer than the request. */
	if (a + NTS_AUTH_FIXED + per > r->len)
		return NTS_ERR;
	n = (r->len - a - NTS_AUTH_FIXED) / per;
	if (n > r->n_ph + 1)
		n = r->n_ph + 1;
	if (n > NTS_MAX_COOKIES)
		n = NTS_MAX_COOKIES;

	if (bpf_xdp_load_bytes(ctx, poff, s->w, NTP_LEN))
		return NTS_ERR;
	if (bpf_xdp_load_bytes(ctx, poff + r->uid_off, s->w + NTP_LEN, a - NTP_LEN))
		return NTS_ERR;
	__builtin_memcpy(s->w + a, s->rnd, NTS_NONCE);
	cx.s = s;
	cx.mk = mk;
	cx.kid = kid;
	cx.base = a + NTS_NONCE + NTS_TAG;
	cx.per = per;
	cx.clen = clen;
	cx.err = 0;
	if (bpf_loop(n, nts_seal_cookie, &cx, 0) != n || cx.err)
		return NTS_ERR;
	pl = n * per;
	/* The transmit timestamp is authenticated, so it is taken before sealing. */
	put_ts((__be32 *)(s->w + 40), tai_to_ntp(bpf_ktime_get_tai_ns(), tai_offset));
	total = a + NTS_NONCE + NTS_TAG + pl;
	barrier_var(total);
	if (total < 1 || total > NTS_BUF)
		return NTS_ERR;
	if (xnts_siv_seal(&s->s2c, s->w, total, a, NTS_NONCE))
		return NTS_ERR;

	ef[0] = NTS_EF_AUTH >> 8;
	ef[1] = NTS_EF_AUTH & 0xff;
	ef[2] = (8 + NTS_NONCE + NTS_TAG + pl) >> 8;
	ef[3] = (8 + NTS_NONCE + NTS_TAG + pl) & 0xff;
	ef[4] = 0;
	ef[5] = NTS_NONCE;
	ef[6] = (NTS_TAG + pl) >> 8;
	ef[7] = (NTS_TAG + pl) & 0xff;
	total -= a;
	barrier_var(total);
	if (total < NTS_NONCE + NTS_TAG || total > NTS_BUF - NTP_LEN - NTS_MAX_UID_FIELD)
		return NTS_ERR;
	if (bpf_xdp_store_bytes(ctx, poff, s->w, a) ||
	    bpf_xdp_store_bytes(ctx, poff + a, ef, sizeof(ef)) ||
	    bpf_xdp_store_bytes(ctx, poff + a + 8, s->w + a, total))
		return NTS_ERR;
	*sum = nts_csum(s->w, 0, a + total, csum_add_mem(ef, sizeof(ef), 0));
	*out_len = a + 8 + total;
	return NTS_OK;
}

/* The NAK (or a kiss, with uid_flen 0): header rewritten, the UID echoed. */
static __always_inline int nts_build_short(struct xdp_md *ctx, struct nts_scratch *s,
					   const struct nts_req *r, __u32 poff, __s32 tai_offset,
					   int nak, __u32 *out_len, __u64 *sum)
{
	__u64 len = NTP_LEN;

	if (bpf_xdp_load_bytes(ctx, poff, s->w, NTP_LEN))
		return NTS_ERR;
	if (nak) {
		len += r->uid_flen;
		barrier_var(len);
		if (len < NTP_LEN + 36 || len > NTP_LEN + NTS_MAX_UID_FIELD)
			return NTS_ERR;
		if (bpf_xdp_load_bytes(ctx, poff + r->uid_off, s->w + NTP_LEN, len - NTP_LEN))
			return NTS_ERR;
		/* RFC 8915 5.7: kiss code NTSN; the client checks the UID only. */
		s->w[0] = (XNTS_LEAP_UNSYNC << 6) | (4 << 3) | NTP_MODE_SERVER;
		s->w[1] = 0;
		__builtin_memset(s->w + 4, 0, 8);
		*(__be32 *)(s->w + 12) = bpf_htonl(NTS_KISS_NTSN);
	}
	put_ts((__be32 *)(s->w + 40), tai_to_ntp(bpf_ktime_get_tai_ns(), tai_offset));
	if (bpf_xdp_store_bytes(ctx, poff, s->w, len))
		return NTS_ERR;
	*sum = nts_csum(s->w, 0, len, 0);
	*out_len = len;
	return NTS_OK;
}

/*
 * Swaps addresses and ports and sets lengths and checksums for a UDP payload
 * of plen bytes whose sum is psum, after the tail was trimmed.
 */
static __always_inline int nts_finish(struct xdp_md *ctx, __u32 l3off, int v6, __u32 plen,
				      __u64 psum)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct udphdr *udp;
	__u16 ulen = sizeof(*udp) + plen, c;
	__u64 sum, off;
	__be16 port;

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	/* 14 or 18 (one VLAN tag): masked so the verifier sees a bound. */
	off = l3off;
	barrier_var(off);
	off &= 0x1f;
	swap_mac(eth);
	if (v6) {
		struct ipv6hdr *ip6 = data + off;
		struct in6_addr tmp;

		if ((void *)(ip6 + 1) > end)
			return XDP_DROP;
		__builtin_memcpy(&tmp, &ip6->saddr, sizeof(tmp));
		__builtin_memcpy(&ip6->saddr, &ip6->daddr, sizeof(tmp));
		__builtin_memcpy(&ip6->daddr, &tmp, sizeof(tmp));
		ip6->hop_limit = RESP_TTL;
		ip6->payload_len = bpf_htons(ulen);
		sum = csum_add_mem(&ip6->saddr, 32, 0);
		udp = (void *)(ip6 + 1);
	} else {
		struct iphdr *ip = data + off;
		__be32 addr;

		if ((void *)(ip + 1) > end)
			return XDP_DROP;
		addr = ip->saddr;
		ip->saddr = ip->daddr;
		ip->daddr = addr;
		ip->ttl = RESP_TTL;
		ip->tot_len = bpf_htons(sizeof(*ip) + ulen);
		ip->check = 0;
		ip->check = csum_fold(csum_add_mem(ip, sizeof(*ip), 0));
		sum = csum_add_mem(&ip->saddr, 8, 0);
		udp = (void *)(ip + 1);
	}
	if ((void *)(udp + 1) > end)
		return XDP_DROP;
	port = udp->source;
	udp->source = udp->dest;
	udp->dest = port;
	udp->len = bpf_htons(ulen);
	udp->check = 0;
	sum += bpf_htons(IPPROTO_UDP) + (__u32)udp->len;
	sum = csum_add_mem(udp, sizeof(*udp), sum + psum);
	c = csum_fold(sum);
	udp->check = c ? c : 0xffff;
	return XDP_TX;
}

/*
 * The crypto and the response, after policy: a global function, so the
 * verifier checks it once, whatever path led to it, and knows nothing of
 * its arguments or of the scratch map (every length is bounded here). The
 * parsed request is in the scratch map; the response length and its sum go
 * back there. Returns an enum nts_outcome.
 */
__attribute__((noinline)) int nts_work(struct xdp_md *ctx, __u32 poff, __s32 tai_offset,
				       __u32 kiss)
{
	struct nts_scratch *s;
	__u32 zero = 0;
	int ret, act;

	s = bpf_map_lookup_elem(&xnts_nts_scratch, &zero);
	if (!s)
		return NTS_ERR;
	if (kiss) {
		ret = nts_build_short(ctx, s, &s->r, poff, tai_offset, 0, &s->out_len, &s->sum);
	} else {
		ret = nts_check(ctx, s, &s->r, poff);
		if (ret == NTS_OK)
			ret = nts_build(ctx, s, &s->r, poff, tai_offset, &s->out_len, &s->sum);
		if (ret > NTS_OK) {
			act = ret;
			ret = nts_build_short(ctx, s, &s->r, poff, tai_offset, 1, &s->out_len,
					      &s->sum);
			if (ret == NTS_OK)
				ret = act;
		}
	}
	/* Session keys do not outlive the packet in the scratch map. */
	__builtin_memset(&s->c2s, 0, sizeof(s->c2s));
	__builtin_memset(&s->s2c, 0, sizeof(s->s2c));
	__builtin_memset(s->ck, 0, sizeof(s->ck));
	return ret;
}

/*
 * Copies the UDP payload (len bytes at poff) into the scratch map, checks
 * the UDP checksum (asum: the pseudo header's addresses) and parses it.
 * Global, so verified once. 0: NTS request XDP handles; 1: bad checksum;
 * 2: anything else (up to userspace).
 */
__attribute__((noinline)) int nts_prepare(struct xdp_md *ctx, __u32 poff, __u32 len, __u64 asum,
					  __u32 v6)
{
	struct nts_scratch *s;
	struct udphdr uh;
	__u32 zero = 0;
	__u64 sum, n;

	s = bpf_map_lookup_elem(&xnts_nts_scratch, &zero);
	n = len;
	barrier_var(n);
	if (!s || n <= NTP_LEN || n > NTS_MAX_PAYLOAD || (n & 3))
		return 2;
	if (bpf_xdp_load_bytes(ctx, poff, s->req, n) ||
	    bpf_xdp_load_bytes(ctx, poff - sizeof(uh), &uh, sizeof(uh)))
		return 2;
	/* The UDP checksum over the whole request; IPv4 may send none. */
	if (uh.check || v6) {
		sum = asum + bpf_htons(IPPROTO_UDP) + (__u32)uh.len;
		sum = csum_add_mem(&uh, sizeof(uh), sum);
		if (!uh.check || csum_fold(nts_csum(s->req, 0, n, sum)))
			return 1;
	}
	return nts_parse(s->req, &s->r, n) ? 2 : 0;
}

/*
 * An NTS request whose IP and UDP headers the caller validated (lengths,
 * addresses, IPv4 header checksum). poff: UDP payload offset in the frame,
 * len: its length. asum: the sum of the pseudo header's addresses.
 */
static __always_inline int nts_serve(struct xdp_md *ctx, struct request *rq,
				     const struct xnts_config *cfg, __u64 rx, __u32 l3off,
				     __u32 poff, __u32 len, __u64 asum)
{
	struct nts_scratch *s;
	__u32 zero = 0, out_len;
	__u64 sum;
	__s32 tai_offset;
	enum verdict v;
	int ret;

	ret = nts_prepare(ctx, poff, len, asum, rq->v6);
	if (ret) {
		count(ret == 1 ? XNTS_CNT_PASSED_INVALID : XNTS_CNT_PASSED_NTS, 0);
		return to_userspace(ctx, rx);
	}

	/* Policy, time state and the response header, as for plain NTP. */
	v = ntp_respond(rq, cfg, rx, &tai_offset, 1);
	if (v == V_PASS)
		return to_userspace(ctx, rx);
	if (v == V_DROP)
		return XDP_DROP;
	ret = nts_work(ctx, poff, tai_offset, v == V_KISS);
	s = bpf_map_lookup_elem(&xnts_nts_scratch, &zero);
	if (!s)
		return count(XNTS_CNT_NTS_ERROR, XDP_DROP);
	if (ret < NTS_OK || ret > NTS_NAK_AUTH) {
		/* Put back what the plain path wrote over the header; userspace answers. */
		bpf_xdp_store_bytes(ctx, poff, s->req, NTP_LEN);
		count(XNTS_CNT_NTS_ERROR, 0);
		return to_userspace(ctx, rx);
	}
	out_len = s->out_len;
	sum = s->sum;
	if (out_len > len || bpf_xdp_adjust_tail(ctx, (int)out_len - (int)len))
		return count(XNTS_CNT_NTS_ERROR, XDP_DROP);
	if (v != V_KISS)
		count(ret == NTS_OK ? XNTS_CNT_NTS_ANSWERED :
		      ret == NTS_NAK_KEY ? XNTS_CNT_NTS_NAK_KEY :
		      ret == NTS_NAK_COOKIE ? XNTS_CNT_NTS_NAK_COOKIE : XNTS_CNT_NTS_NAK_AUTH, 0);
	return nts_finish(ctx, l3off, rq->v6, out_len, sum);
}
