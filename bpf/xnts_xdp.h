/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xnts XDP program, the one source of every variant. The variants are thin
 * .bpf.c files that set defines and include this file:
 *   bpf/xnts.bpf.c                  plain NTP only
 *   bpf/xnts_nts.bpf.c              XNTS_NTS: NTS too (bpf/xnts_nts.h, kfuncs)
 *   bpf/xnts_rxts.bpf.c             XNTS_RX_METADATA: NIC receive timestamps
 *   tools/xnts_nts_nocrypto.bpf.c   XNTS_NTS + XNTS_NTS_NO_CRYPTO: benchmark only
 *
 * It answers plain NTPv3/v4 client requests (mode 3, exactly 48 bytes of UDP
 * payload) in the driver with XDP_TX. Everything it does not fully
 * understand goes up with XDP_PASS; it drops only on an allow/deny list
 * action "ignore". Requests with extension fields (NTS) go up to the
 * userspace server, or, in the NTS variant, to nts_serve(). Documentation/
 * xdp.md describes the behaviour; the map layouts are in xnts_shared.h.
 *
 * The life of a request: xnts_xdp() -> request_parse() validates Ethernet,
 * IPv4 or IPv6, UDP, the served port, lengths and addresses once for both
 * families -> by payload length: serve_plain() (48 bytes) or nts_serve()
 * (more) -> ntp_respond() (policy, time state, response header) ->
 * reply_finish() (addresses, ports, lengths, checksums, XDP_TX).
 *
 * Time: the receive timestamp is the NIC's RX metadata timestamp when built
 * with XNTS_RX_METADATA and it is non-zero, otherwise bpf_ktime_get_tai_ns()
 * as soon as the packet is known to be UDP to a served port. The transmit
 * timestamp of a plain answer is read after everything else is written; only
 * the final checksum fold follows it. TAI minus the published TAI offset is
 * UTC.
 */
#ifndef XNTS_XDP_H
#define XNTS_XDP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xnts_shared.h"

#define NSEC_PER_SEC		1000000000ULL
#define RESP_TTL		64
#define IP_MF_OFFSET		0x3fff		/* MF flag and fragment offset bits */


char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xnts_time_state);
} xnts_time SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xnts_xdp_config);
} xnts_config SEC(".maps");

/* The allow and deny lists: an LPM trie per list and family. */
#define LPM_LIST(key_type)						\
	struct {							\
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);			\
		__uint(map_flags, BPF_F_NO_PREALLOC);			\
		__uint(max_entries, XNTS_LPM_ENTRIES_DEFAULT);		\
		__type(key, key_type);					\
		__type(value, __u8);					\
	}

LPM_LIST(struct xnts_lpm4_key) xnts_allow4 SEC(".maps"), xnts_deny4 SEC(".maps");
LPM_LIST(struct xnts_lpm6_key) xnts_allow6 SEC(".maps"), xnts_deny6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XNTS_RATE_ENTRIES_DEFAULT);
	__type(key, struct xnts_client_key);
	__type(value, struct xnts_rate_state);
} xnts_rate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XNTS_LOCAL_ENTRIES);
	__type(key, struct xnts_local_key);
	__type(value, __u8);
} xnts_local SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XNTS_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} xnts_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XNTS_XSK_QUEUES_MAX);
	__type(key, __u32);
	__type(value, __u32);
} xnts_xsk SEC(".maps");

/* RFC 5905 section 7.3 packet header, without extension fields. */
struct ntp_hdr {
	__u8 li_vn_mode;
	__u8 stratum;
	__s8 poll;
	__s8 precision;
	__be32 root_delay;
	__be32 root_dispersion;
	__be32 refid;
	__be32 reference[2];
	__be32 origin[2];
	__be32 receive[2];
	__be32 transmit[2];
};

_Static_assert(sizeof(struct ntp_hdr) == NTP_HEADER_LEN, "NTP header size");

/* One 802.1Q/802.1ad tag; linux/if_vlan.h's struct vlan_hdr is kernel-internal. */
struct vlan_tag {
	__be16 tci;
	__be16 encap_proto;
};

static __always_inline int count(enum xnts_counter c, int action)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&xnts_counters, &key);

	if (v)
		*v += 1;	/* per-CPU: no other writer */
	return action;
}

/*
 * A request on a served port that the program hands to userspace (already
 * counted by why): to the AF_XDP socket of its RX queue with the receive
 * time in front, or up the kernel stack when that queue has no socket.
 */
static __always_inline int to_userspace(struct xdp_md *ctx, __u64 rx)
{
	__u32 q = ctx->rx_queue_index;
	struct xnts_xsk_meta *m;
	int ret;

	/* No socket on this queue (socket path, none bound yet): leave the frame be. */
	if (!bpf_map_lookup_elem(&xnts_xsk, &q))
		return XDP_PASS;
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
		return XDP_PASS;
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > (void *)(long)ctx->data)
		return XDP_PASS;
	m->rx_tai_ns = rx;
	m->magic = XNTS_XSK_META_MAGIC;
	m->pad = 0;
	ret = bpf_redirect_map(&xnts_xsk, q, XDP_PASS);
	if (ret == XDP_REDIRECT)
		count(XNTS_CNT_REDIRECTED_XSK, 0);
	return ret;
}

#ifdef XNTS_RX_METADATA
/* Loads only in a device-bound program (BPF_F_XDP_DEV_BOUND_ONLY). */
extern int bpf_xdp_metadata_rx_timestamp(const struct xdp_md *ctx, __u64 *timestamp) __ksym;
#endif

/*
 * The receive time in CLOCK_TAI ns. A hardware timestamp is only correct if
 * the NIC's clock runs on TAI (the PTP convention); 0 means "none".
 */
static __always_inline __u64 rx_timestamp(struct xdp_md *ctx)
{
#ifdef XNTS_RX_METADATA
	__u64 ts = 0;

	if (!bpf_xdp_metadata_rx_timestamp(ctx, &ts) && ts)
		return ts;
#endif
	return bpf_ktime_get_tai_ns();
}

/* CLOCK_TAI ns to an NTP timestamp (era 0 arithmetic, wraps correctly in 2036). */
static __always_inline __u64 tai_to_ntp(__u64 tai_ns, __s32 tai_offset)
{
	__u64 ns = tai_ns - (__u64)((__s64)tai_offset * (__s64)NSEC_PER_SEC);
	__u64 sec = ns / NSEC_PER_SEC;
	__u64 rem = ns - sec * NSEC_PER_SEC;

	return ((sec + (__u64)NTP_UNIX_OFFSET) << 32) | (((rem << 32) / NSEC_PER_SEC) & 0xffffffffULL);
}

static __always_inline void put_ts(__be32 *dst, __u64 ntp)
{
	dst[0] = bpf_htonl((__u32)(ntp >> 32));
	dst[1] = bpf_htonl((__u32)ntp);
}

/*
 * A 16-bit field in host order that the verifier knows is < 65536: the 6.12
 * verifier loses all bounds on a byte swap, and pointer arithmetic then
 * fails. The barrier keeps clang from dropping the mask as redundant.
 */
static __always_inline __u32 ntohs_bounded(__be16 v)
{
	__u32 x = bpf_ntohs(v);

	barrier_var(x);
	return x & 0xffff;
}

static __always_inline __u16 csum_fold(__u64 s)
{
	s = (s & 0xffffffffULL) + (s >> 32);
	s = (s & 0xffffffffULL) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/*
 * Ones' complement sum (unfolded) of n 4-byte words, inline: for the few
 * words of a header or of addresses this is cheaper than a helper call.
 */
static __always_inline __u64 csum_words(const void *p, int n)
{
	const __u32 *w = p;
	__u64 s = 0;
	int i;

#pragma unroll
	for (i = 0; i < n; i++)
		s += w[i];
	return s;
}

/* Ones' complement sum (unfolded) of a constant-size, 4-byte multiple region. */
static __always_inline __u64 csum_add_mem(void *p, __u32 size, __u64 seed)
{
	__s64 r = bpf_csum_diff(0, 0, p, size, 0);

	return seed + (__u32)r;
}

/*
 * Reads a consistent copy of the time state (seqcount written by
 * xnts_time_state_publish(), include/xnts_seqcount.h).
 */
static __always_inline int read_time_state(struct xnts_time_state *out)
{
	__u32 zero = 0;
	struct xnts_time_state *ts = bpf_map_lookup_elem(&xnts_time, &zero);
	int i;

	if (!ts)
		return -1;
#pragma unroll
	for (i = 0; i < 3; i++) {
		__u32 s1 = xnts_seq_read_begin(&ts->seq);

		if (s1 & 1)
			continue;
		__builtin_memcpy(out, ts, sizeof(*out));
		if (!xnts_seq_read_retry(&ts->seq, s1))
			return 0;
	}
	return -1;
}

static __always_inline int port_served(const struct xnts_xdp_config *cfg, __be16 port)
{
	int i;

#pragma unroll
	for (i = 0; i < XNTS_MAX_PORTS; i++)
		if (cfg->ports[i] && cfg->ports[i] == port)
			return 1;
	return 0;
}

/* The rate limit of include/xnts_ratelimit.h; 1 = answer, 0 = over the limit. */
static __always_inline int rate_ok(const struct xnts_xdp_config *cfg,
				   const struct xnts_client_key *client, int v6, __u64 now)
{
	struct xnts_rate_state *st, fresh = { 0 };
	struct xnts_client_key k;

	if (!cfg->rate_interval_ns)
		return 1;
	xnts_rate_key(k.addr, client->addr, !v6, cfg->rate_v6_prefix);
	st = bpf_map_lookup_elem(&xnts_rate, &k);
	if (st) {
		/* Two CPUs racing on one client may both pass: an accepted imprecision. */
		fresh.tat_ns = st->tat_ns;
		if (!xnts_rate_admit(&fresh.tat_ns, now, cfg->rate_interval_ns, cfg->rate_burst))
			return 0;
		st->tat_ns = fresh.tat_ns;
		return 1;
	}
	xnts_rate_admit(&fresh.tat_ns, now, cfg->rate_interval_ns, cfg->rate_burst);
	bpf_map_update_elem(&xnts_rate, &k, &fresh, BPF_ANY);
	return 1;
}

/*
 * A request that passed request_parse(): offsets rather than packet
 * pointers, so that they survive bpf_xdp_adjust_tail() and calls.
 */
struct request {
	struct xnts_client_key client;	/* IPv4 as ::ffff:a.b.c.d */
	__u64 rx;			/* receive time, CLOCK_TAI ns */
	__u64 psum;			/* unfolded sum of the UDP pseudo header */
	__u32 l3off;			/* IP header: 14, or 18 behind one VLAN tag */
	__u32 poff;			/* UDP payload */
	__u32 len;			/* UDP payload length, >= NTP_HEADER_LEN */
	__u32 v6;
};

static __always_inline int lpm_match(void *map4, void *map6, const struct request *rq)
{
	if (rq->v6) {
		struct xnts_lpm6_key k = { .prefixlen = 128 };

		__builtin_memcpy(k.addr, rq->client.addr, 16);
		return bpf_map_lookup_elem(map6, &k) != 0;
	} else {
		struct xnts_lpm4_key k = { .prefixlen = 32 };

		__builtin_memcpy(k.addr, rq->client.addr + 12, 4);
		return bpf_map_lookup_elem(map4, &k) != 0;
	}
}

/* What ntp_respond() decided; the path that called it carries it out. */
enum verdict {
	V_PASS,		/* counted already */
	V_DROP,		/* counted already */
	V_TIME,		/* a time answer */
	V_TIME_UNSYNC,	/* a time answer with LI=3, stratum 16: heartbeat stale */
	V_KISS_RATE,
	V_KISS_DENY,
};

/* The counter of an answer that was sent; an NTS time answer has its own. */
static __always_inline enum xnts_counter verdict_counter(enum verdict v)
{
	if (v == V_KISS_RATE)
		return XNTS_CNT_RATE_LIMITED;
	if (v == V_KISS_DENY)
		return XNTS_CNT_DENIED;
	return v == V_TIME_UNSYNC ? XNTS_CNT_STALE_UNSYNC : XNTS_CNT_ANSWERED;
}

/*
 * The protocol step, common to every path: decide, and if answering, write
 * the whole NTP header n (the packet's, or a copy) except the transmit
 * timestamp (left zero). *tx_offset gets the TAI offset for the transmit
 * timestamp. Counts nothing but passes and drops.
 */
static __always_inline enum verdict ntp_respond(const struct request *rq, struct ntp_hdr *n,
						const struct xnts_xdp_config *cfg,
						__s32 *tx_offset)
{
	__u8 vn = (n->li_vn_mode >> 3) & 7;
	__u8 mode = n->li_vn_mode & 7;
	struct xnts_time_state ts;
	enum verdict v = V_TIME;
	__u64 mono;
	__u8 leap, stratum;
	int stale;

	if (mode != NTP_MODE_CLIENT || (vn != 3 && vn != 4) || !(cfg->versions & (1U << vn)))
		return count(XNTS_CNT_PASSED_INVALID, V_PASS);
	if (read_time_state(&ts))
		return count(XNTS_CNT_PASSED_BUSY, V_PASS);

	mono = bpf_ktime_get_ns();
	stale = mono > ts.heartbeat_ns && mono - ts.heartbeat_ns > ts.heartbeat_timeout_ns;
	if (stale && ts.stale_action != XNTS_STALE_UNSYNC)
		return count(XNTS_CNT_STALE_PASS, V_PASS);

	if (lpm_match(&xnts_deny4, &xnts_deny6, rq)) {
		if (cfg->deny_action != XNTS_ACT_DENY)
			return count(XNTS_CNT_IGNORED, V_DROP);
		v = V_KISS_DENY;
	} else if ((cfg->flags & XNTS_CFG_ALLOWLIST) &&
		   !lpm_match(&xnts_allow4, &xnts_allow6, rq)) {
		if (cfg->allow_action != XNTS_ACT_DENY)
			return count(XNTS_CNT_IGNORED, V_DROP);
		v = V_KISS_DENY;
	} else if (!rate_ok(cfg, &rq->client, rq->v6, mono)) {
		v = V_KISS_RATE;
	}

	/* The client's transmit timestamp becomes our origin before anything else moves. */
	n->origin[0] = n->transmit[0];
	n->origin[1] = n->transmit[1];
	n->transmit[0] = 0;
	n->transmit[1] = 0;
	put_ts(n->receive, tai_to_ntp(rq->rx, ts.tai_offset));
	n->precision = ts.precision;
	/* poll is echoed unchanged (RFC 5905 copies the client's poll). */

	if (v != V_TIME) {
		/* Kiss-o'-death (RFC 5905 7.4): stratum 0, the code in refid, no time claims. */
		leap = NTP_LEAP_UNSYNC;
		stratum = 0;
		n->refid = bpf_htonl(v == V_KISS_RATE ? NTP_KOD_RATE : NTP_KOD_DENY);
		n->root_delay = 0;
		n->root_dispersion = 0;
		n->reference[0] = 0;
		n->reference[1] = 0;
	} else {
		leap = ts.leap & 3;
		stratum = ts.stratum;
		if (stale) {
			leap = NTP_LEAP_UNSYNC;
			stratum = NTP_STRATUM_UNSYNC;
			v = V_TIME_UNSYNC;
		}
		n->refid = ts.refid;
		n->root_delay = bpf_htonl(ts.root_delay);
		n->root_dispersion = bpf_htonl(ts.root_dispersion);
		put_ts(n->reference, ts.reference_time);
	}
	n->li_vn_mode = (leap << 6) | (vn << 3) | NTP_MODE_SERVER;
	n->stratum = stratum;
	*tx_offset = ts.tai_offset;
	return v;
}

static __always_inline void swap_mac(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

static __always_inline int v4_unicast(__be32 a)
{
	__u32 h = bpf_ntohl(a);

	return h != 0 && h != 0xffffffff && (h >> 28) != 0xe;
}

static __always_inline int ipv6_ext_header(__u8 next)
{
	return next == 0 || next == 43 || next == 44 || next == 50 || next == 51 || next == 60 ||
	       next == 135 || next == 139 || next == 140 || next == 253 || next == 254;
}

/*
 * With XNTS_CFG_LOCAL_ONLY: 1 if (daddr, port) is one this host serves
 * (xnts_local), else 0 with *why set. A router or hypervisor with XDP on
 * its uplink then never answers in the name of the hosts behind it.
 */
static __always_inline int local_dest(const struct xnts_xdp_config *cfg, const void *daddr,
				      int v6, __be16 port, enum xnts_counter *why)
{
	struct xnts_local_key k = { .port = port };

	if (!(cfg->flags & XNTS_CFG_LOCAL_ONLY))
		return 1;
	xnts_addr16(k.addr, daddr, v6);
	if (bpf_map_lookup_elem(&xnts_local, &k))
		return 1;
	*why = XNTS_CNT_PASSED_NOT_LOCAL;
	return 0;
}

/*
 * The one validation of every request, IPv4 and IPv6 alike: Ethernet with at
 * most one VLAN tag, an IP header without options or extension headers, not
 * a fragment, UDP to a served port (with XNTS_CFG_LOCAL_ONLY: at an address
 * this host serves, local_dest()), exact lengths (no truncation, no trailing
 * bytes), at least an NTP header of payload, a source port, unicast addresses
 * and destination MAC, and a correct IPv4 header checksum. The UDP checksum
 * is the payload's: each path checks it over what it reads. Returns 1 and
 * fills *rq and *cfgp, or 0 with *why the counter of the pass.
 */
static __always_inline int request_parse(struct xdp_md *ctx, struct request *rq,
					 const struct xnts_xdp_config **cfgp,
					 enum xnts_counter *why)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	const struct xnts_xdp_config *cfg;
	struct ethhdr *eth = data;
	struct udphdr *udp;
	__u32 zero = 0, len;
	const void *daddr;
	__be16 proto;
	void *l3;
	int v6;

	*why = XNTS_CNT_PASSED_OTHER;
	if ((void *)(eth + 1) > end)
		return 0;
	proto = eth->h_proto;
	l3 = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_tag *tag = l3;

		if ((void *)(tag + 1) > end)
			return 0;
		proto = tag->encap_proto;
		l3 = tag + 1;
		if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
			*why = XNTS_CNT_PASSED_UNSUPPORTED;
			return 0;
		}
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > end)
			return 0;
		if (ip->version != 4 || ip->ihl < 5 || ip->protocol != IPPROTO_UDP)
			return 0;
		if (ip->ihl != 5 || (ip->frag_off & bpf_htons(IP_MF_OFFSET))) {
			*why = XNTS_CNT_PASSED_UNSUPPORTED;
			return 0;
		}
		udp = (void *)(ip + 1);
		daddr = &ip->daddr;
		v6 = 0;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > end || ip6->version != 6)
			return 0;
		if (ip6->nexthdr != IPPROTO_UDP) {
			if (ipv6_ext_header(ip6->nexthdr))
				*why = XNTS_CNT_PASSED_UNSUPPORTED;
			return 0;
		}
		udp = (void *)(ip6 + 1);
		daddr = &ip6->daddr;
		v6 = 1;
	} else {
		return 0;
	}
	if ((void *)(udp + 1) > end)
		return 0;
	cfg = bpf_map_lookup_elem(&xnts_config, &zero);
	if (!cfg || !port_served(cfg, udp->dest) || !local_dest(cfg, daddr, v6, udp->dest, why))
		return 0;
	rq->rx = rx_timestamp(ctx);
	*why = XNTS_CNT_PASSED_INVALID;
	if (!v6) {
		struct iphdr *ip = l3;

		len = ntohs_bounded(ip->tot_len);
		if ((void *)ip + len != end || len < sizeof(*ip) + sizeof(*udp) + NTP_HEADER_LEN)
			return 0;
		len -= sizeof(*ip);
		if (!v4_unicast(ip->saddr) || !v4_unicast(ip->daddr) ||
		    csum_fold(csum_words(ip, sizeof(*ip) / 4)))
			return 0;
		xnts_addr16(rq->client.addr, &ip->saddr, 0);
		rq->psum = csum_words(&ip->saddr, 2);
	} else {
		struct ipv6hdr *ip6 = l3;

		len = ntohs_bounded(ip6->payload_len);
		if ((void *)(ip6 + 1) + len != end || len < sizeof(*udp) + NTP_HEADER_LEN)
			return 0;
		/* No reply from or to multicast, or to the unspecified address. */
		if (ip6->saddr.in6_u.u6_addr8[0] == 0xff || ip6->daddr.in6_u.u6_addr8[0] == 0xff ||
		    !(ip6->saddr.in6_u.u6_addr32[0] | ip6->saddr.in6_u.u6_addr32[1] |
		      ip6->saddr.in6_u.u6_addr32[2] | ip6->saddr.in6_u.u6_addr32[3]))
			return 0;
		xnts_addr16(rq->client.addr, &ip6->saddr, 1);
		rq->psum = csum_words(&ip6->saddr, 8);
	}
	rq->v6 = v6;
	/* UDP length = IP payload; a reply to port 0 cannot be addressed. */
	if (ntohs_bounded(udp->len) != len || !udp->source || (eth->h_dest[0] & 1))
		return 0;
	/* The pseudo header's protocol and length; its addresses are in already. */
	rq->psum += bpf_htons(IPPROTO_UDP) + (__u32)udp->len;
	rq->l3off = l3 - data;
	rq->poff = (void *)(udp + 1) - data;
	rq->len = len - sizeof(*udp);
	*cfgp = cfg;
	return 1;
}

/*
 * Turns the request into the reply: swaps MACs, addresses and ports, sets
 * TTL, lengths and checksums, for a UDP payload of plen bytes (trimmed
 * already) whose unfolded sum is psum. late_tx: the payload is a plain NTP
 * header whose transmit timestamp is written here, as the last thing before
 * the checksum fold. The request's IPv4 header checksum was verified, so it
 * is updated, not recomputed (RFC 1624 eqn. 3); swapping the addresses
 * changes neither it nor the pseudo header's sum.
 */
static __always_inline int reply_finish(struct xdp_md *ctx, const struct request *rq, __u32 plen,
					__u64 psum, int late_tx, __s32 tai_offset)
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
	off = rq->l3off;
	barrier_var(off);
	off &= 0x1f;
	swap_mac(eth);
	if (rq->v6) {
		struct ipv6hdr *ip6 = data + off;
		struct in6_addr tmp;

		if ((void *)(ip6 + 1) > end)
			return XDP_DROP;
		__builtin_memcpy(&tmp, &ip6->saddr, sizeof(tmp));
		__builtin_memcpy(&ip6->saddr, &ip6->daddr, sizeof(tmp));
		__builtin_memcpy(&ip6->daddr, &tmp, sizeof(tmp));
		ip6->hop_limit = RESP_TTL;
		ip6->payload_len = bpf_htons(ulen);
		udp = (void *)(ip6 + 1);
	} else {
		struct iphdr *ip = data + off;
		__u16 *ttl_proto;
		__be32 addr;

		if ((void *)(ip + 1) > end)
			return XDP_DROP;
		addr = ip->saddr;
		ip->saddr = ip->daddr;
		ip->daddr = addr;
		ttl_proto = (__u16 *)&ip->ttl;
		sum = (__u16)~ip->check + (__u16)~*ttl_proto + (__u16)~ip->tot_len;
		ip->ttl = RESP_TTL;
		ip->tot_len = bpf_htons(sizeof(*ip) + ulen);
		sum += *ttl_proto + ip->tot_len;
		ip->check = csum_fold(sum);
		udp = (void *)(ip + 1);
	}
	if ((void *)(udp + 1) > end)
		return XDP_DROP;
	port = udp->source;
	udp->source = udp->dest;
	udp->dest = port;
	udp->len = bpf_htons(ulen);
	udp->check = 0;
	/* Pseudo header (its length is the new one) and UDP header, then the payload. */
	sum = rq->psum - (__u32)bpf_htons(rq->len + sizeof(*udp)) + 2 * (__u32)udp->len +
	      (__u32)udp->source + (__u32)udp->dest + psum;
	if (late_tx) {
		struct ntp_hdr *n = (void *)(udp + 1);

		if ((void *)(n + 1) > end)
			return XDP_DROP;
		put_ts(n->transmit, tai_to_ntp(bpf_ktime_get_tai_ns(), tai_offset));
		sum += (__u32)n->transmit[0];
		sum += (__u32)n->transmit[1];
	}
	c = csum_fold(sum);
	udp->check = c ? c : 0xffff;
	return XDP_TX;
}

/*
 * The request's UDP header, followed by at least an NTP header, or NULL.
 * From the offset, so that it holds after calls and tail adjustments.
 */
static __always_inline struct udphdr *udp_at(struct xdp_md *ctx, const struct request *rq)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 off = rq->poff - sizeof(struct udphdr);
	struct udphdr *udp;

	/* 14 + 20 up to 18 + 40: masked so the verifier sees a bound. */
	barrier_var(off);
	off &= 0x7f;
	udp = data + off;
	if ((void *)(udp + 1) + sizeof(struct ntp_hdr) > end)
		return NULL;
	return udp;
}

/* A plain NTP request: exactly an NTP header of payload. */
static __always_inline int serve_plain(struct xdp_md *ctx, const struct request *rq,
				       const struct xnts_xdp_config *cfg)
{
	struct udphdr *udp = udp_at(ctx, rq);
	struct ntp_hdr *n;
	enum verdict v;
	__s32 tai_offset;

	if (!udp)
		return count(XNTS_CNT_PASSED_INVALID, XDP_PASS);
	n = (void *)(udp + 1);
	/* Never answer a corrupted request (UDP checksum 0 = none, IPv4 only). */
	if ((udp->check || rq->v6) &&
	    (!udp->check || csum_fold(csum_add_mem(udp, sizeof(*udp) + NTP_HEADER_LEN, rq->psum))))
		return count(XNTS_CNT_PASSED_INVALID, XDP_PASS);

	v = ntp_respond(rq, n, cfg, &tai_offset);
	if (v == V_PASS)
		return to_userspace(ctx, rq->rx);
	if (v == V_DROP)
		return XDP_DROP;
	return count(verdict_counter(v),
		     reply_finish(ctx, rq, NTP_HEADER_LEN, csum_add_mem(n, NTP_HEADER_LEN, 0), 1,
				  tai_offset));
}

#ifdef XNTS_NTS
#include "xnts_nts.h"
#endif

SEC("xdp")
int xnts_xdp(struct xdp_md *ctx)
{
	const struct xnts_xdp_config *cfg;
	enum xnts_counter why;
	struct request rq;

	if (!request_parse(ctx, &rq, &cfg, &why))
		return count(why, XDP_PASS);
	if (rq.len == NTP_HEADER_LEN)
		return serve_plain(ctx, &rq, cfg);
#ifdef XNTS_NTS
	return nts_serve(ctx, &rq, cfg);
#else
	count(XNTS_CNT_PASSED_NTS, 0);
	return to_userspace(ctx, rq.rx);
#endif
}

#endif /* XNTS_XDP_H */
