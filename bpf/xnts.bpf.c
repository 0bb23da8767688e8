// SPDX-License-Identifier: GPL-2.0
/*
 * xnts XDP program: answers plain NTPv3/v4 client requests (mode 3, exactly
 * 48 bytes of UDP payload) in the driver with XDP_TX. Everything it does not
 * fully understand goes up with XDP_PASS; it drops only on an allow/deny list
 * action "ignore". Requests with extension fields (NTS) go up to the
 * userspace server. Documentation/xdp.md describes the behaviour; the map
 * layouts are in xnts_shared.h.
 *
 * Time: the receive timestamp is the NIC's RX metadata timestamp when built
 * with XNTS_RX_METADATA and it is non-zero, otherwise bpf_ktime_get_tai_ns()
 * as soon as the packet is known to be UDP to a served port. The transmit
 * timestamp is read after everything else is written; only the final
 * checksum fold follows it. TAI minus the published TAI offset is UTC.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xnts_shared.h"

#define NTP_LEN			48
#define NTP_UNIX_DELTA		2208988800ULL	/* 1900-01-01 to 1970-01-01 in seconds */
#define NSEC_PER_SEC		1000000000ULL
#define RESP_TTL		64
#define NTP_MODE_CLIENT		3
#define NTP_MODE_SERVER		4
#define STRATUM_UNSYNC		16
#define IP_MF_OFFSET		0x3fff		/* MF flag and fragment offset bits */
#define KISS_DENY		0x44454e59	/* "DENY" */
#define KISS_RATE		0x52415445	/* "RATE" */

#define barrier()		asm volatile("" ::: "memory")
#define READ_ONCE_U32(x)	(*(volatile __u32 *)&(x))

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
	__type(value, struct xnts_config);
} xnts_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XNTS_LPM_ENTRIES_DEFAULT);
	__type(key, struct xnts_lpm4_key);
	__type(value, __u8);
} xnts_allow4 SEC(".maps"), xnts_deny4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XNTS_LPM_ENTRIES_DEFAULT);
	__type(key, struct xnts_lpm6_key);
	__type(value, __u8);
} xnts_allow6 SEC(".maps"), xnts_deny6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XNTS_RATE_ENTRIES_DEFAULT);
	__type(key, struct xnts_client_key);
	__type(value, struct xnts_rate_state);
} xnts_rate SEC(".maps");

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

/* One 802.1Q/802.1ad tag; linux/if_vlan.h's struct vlan_hdr is kernel-internal. */
struct vlan_tag {
	__be16 tci;
	__be16 encap_proto;
};

struct pseudo4 {
	__be32 saddr;
	__be32 daddr;
	__u8 zero;
	__u8 proto;
	__be16 len;
};

struct pseudo6 {
	struct in6_addr saddr;
	struct in6_addr daddr;
	__be32 len;
	__u8 zero[3];
	__u8 next;
};

/* What the protocol step decided; the family step carries it out. */
enum verdict {
	V_PASS,
	V_DROP,
	V_ANSWER,
	V_KISS,		/* NTS variant only: a kiss-o'-death was written */
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
	void *data;
	int ret;

	/* No socket on this queue (socket path, or none bound yet): leave the frame as it is. */
	if (!bpf_map_lookup_elem(&xnts_xsk, &q))
		return XDP_PASS;
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
		return XDP_PASS;
	m = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if ((void *)(m + 1) > data)
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

	return ((sec + NTP_UNIX_DELTA) << 32) | (((rem << 32) / NSEC_PER_SEC) & 0xffffffffULL);
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

/* Ones' complement sum (unfolded) of a constant-size, 4-byte multiple region. */
static __always_inline __u64 csum_add_mem(void *p, __u32 size, __u64 seed)
{
	__s64 r = bpf_csum_diff(0, 0, p, size, 0);

	return seed + (__u32)r;
}

/*
 * Reads a consistent copy of the time state (seqcount written by
 * xnts_time_state_publish()). Relies on loads not being reordered with loads,
 * which holds on x86 (TSO); see Documentation/xdp.md.
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
		__u32 s1 = READ_ONCE_U32(ts->seq);

		barrier();
		if (s1 & 1)
			continue;
		__builtin_memcpy(out, ts, sizeof(*out));
		barrier();
		if (READ_ONCE_U32(ts->seq) == s1)
			return 0;
	}
	return -1;
}

static __always_inline int port_served(const struct xnts_config *cfg, __be16 port)
{
	int i;

#pragma unroll
	for (i = 0; i < XNTS_MAX_PORTS; i++)
		if (cfg->ports[i] && cfg->ports[i] == port)
			return 1;
	return 0;
}

/* Token bucket per client (GCRA form); 1 = answer, 0 = over the limit. */
static __always_inline int rate_ok(const struct xnts_config *cfg, const struct xnts_client_key *k,
				   __u64 now)
{
	__u64 t = cfg->rate_interval_ns;
	__u64 burst = cfg->rate_burst ? cfg->rate_burst : 1;
	struct xnts_rate_state *st, fresh;
	__u64 tat;

	if (!t)
		return 1;
	st = bpf_map_lookup_elem(&xnts_rate, k);
	if (!st) {
		fresh.tat_ns = now + t;
		bpf_map_update_elem(&xnts_rate, k, &fresh, BPF_ANY);
		return 1;
	}
	tat = st->tat_ns > now ? st->tat_ns : now;
	/* The bucket holds burst tokens: tat may run ahead of now by (burst - 1) * t. */
	if (tat - now > (burst - 1) * t)
		return 0;
	/* Two CPUs racing on one client may both pass: an accepted imprecision. */
	st->tat_ns = tat + t;
	return 1;
}

struct request {
	struct ntp_hdr *ntp;
	struct xnts_client_key client;
	int v6;
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

/*
 * The protocol step, common to both families: decide, and if answering, write
 * the whole NTP header except the transmit timestamp (left zero). *tx_offset
 * gets the TAI offset for the transmit timestamp. With nts set (NTS variant)
 * a kiss returns V_KISS, and a time answer is left for the caller to count.
 */
static __always_inline enum verdict ntp_respond(const struct request *rq,
						const struct xnts_config *cfg, __u64 rx_tai,
						__s32 *tx_offset, int nts)
{
	struct ntp_hdr *n = rq->ntp;
	__u8 vn = (n->li_vn_mode >> 3) & 7;
	__u8 mode = n->li_vn_mode & 7;
	struct xnts_time_state ts;
	__u64 mono;
	__u32 kiss = 0;
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
		kiss = bpf_htonl(KISS_DENY);
	} else if ((cfg->flags & XNTS_CFG_ALLOWLIST) &&
		   !lpm_match(&xnts_allow4, &xnts_allow6, rq)) {
		if (cfg->allow_action != XNTS_ACT_DENY)
			return count(XNTS_CNT_IGNORED, V_DROP);
		kiss = bpf_htonl(KISS_DENY);
	} else if (!rate_ok(cfg, &rq->client, mono)) {
		kiss = bpf_htonl(KISS_RATE);
	}

	/* The client's transmit timestamp becomes our origin before anything else moves. */
	n->origin[0] = n->transmit[0];
	n->origin[1] = n->transmit[1];
	n->transmit[0] = 0;
	n->transmit[1] = 0;
	put_ts(n->receive, tai_to_ntp(rx_tai, ts.tai_offset));
	n->precision = ts.precision;
	/* poll is echoed unchanged (RFC 5905 copies the client's poll). */

	if (kiss) {
		/* Kiss-o'-death (RFC 5905 7.4): stratum 0, the code in refid, no time claims. */
		leap = XNTS_LEAP_UNSYNC;
		stratum = 0;
		n->refid = kiss;
		n->root_delay = 0;
		n->root_dispersion = 0;
		n->reference[0] = 0;
		n->reference[1] = 0;
		count(kiss == bpf_htonl(KISS_RATE) ? XNTS_CNT_RATE_LIMITED : XNTS_CNT_DENIED, 0);
	} else {
		leap = ts.leap & 3;
		stratum = ts.stratum;
		if (stale) {
			leap = XNTS_LEAP_UNSYNC;
			stratum = STRATUM_UNSYNC;
			if (!nts)
				count(XNTS_CNT_STALE_UNSYNC, 0);
		} else if (!nts) {
			count(XNTS_CNT_ANSWERED, 0);
		}
		n->refid = ts.refid;
		n->root_delay = bpf_htonl(ts.root_delay);
		n->root_dispersion = bpf_htonl(ts.root_dispersion);
		put_ts(n->reference, ts.reference_time);
	}
	n->li_vn_mode = (leap << 6) | (vn << 3) | NTP_MODE_SERVER;
	n->stratum = stratum;
	*tx_offset = ts.tai_offset;
	return nts && kiss ? V_KISS : V_ANSWER;
}

/*
 * The transmit timestamp, as late as possible: read the clock, store it, and
 * add it to the otherwise finished UDP checksum sum.
 */
static __always_inline void finish_udp(struct udphdr *udp, struct ntp_hdr *n, __u64 sum,
				       __s32 tai_offset)
{
	__u16 c;

	put_ts(n->transmit, tai_to_ntp(bpf_ktime_get_tai_ns(), tai_offset));
	sum += (__u32)n->transmit[0];
	sum += (__u32)n->transmit[1];
	c = csum_fold(sum);
	udp->check = c ? c : 0xffff;
}

static __always_inline void swap_mac(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

static __always_inline int udp_common_ok(struct udphdr *udp)
{
	/* A reply to port 0 cannot be addressed. */
	return udp->source != 0;
}

static __always_inline int v4_unicast(__be32 a)
{
	__u32 h = bpf_ntohl(a);

	return h != 0 && h != 0xffffffff && (h >> 28) != 0xe;
}

#ifdef XNTS_NTS
#include "xnts_nts.h"
#define NTS_PARAM , struct nts_args *na
#else
#define NTS_PARAM
#endif

static __always_inline int handle_ipv4(struct xdp_md *ctx, struct ethhdr *eth, struct iphdr *ip,
				       void *end, const struct xnts_config *cfg NTS_PARAM)
{
	struct ntp_hdr *ntp;
	struct udphdr *udp;
	struct request rq;
	struct pseudo4 ph;
	__u64 rx, sum, psum;
	__s32 tai_offset;
	__u16 tot, ulen;
	__u16 *ttl_proto;
	enum verdict v;
	__be32 addr;
	__be16 port;

	if ((void *)(ip + 1) > end)
		return count(XNTS_CNT_PASSED_OTHER, XDP_PASS);
	if (ip->version != 4 || ip->ihl < 5 || ip->protocol != IPPROTO_UDP)
		return count(XNTS_CNT_PASSED_OTHER, XDP_PASS);
	if (ip->ihl != 5 || (ip->frag_off & bpf_htons(IP_MF_OFFSET)))
		return count(XNTS_CNT_PASSED_UNSUPPORTED, XDP_PASS);
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > end)
		return count(XNTS_CNT_PASSED_OTHER, XDP_PASS);
	if (!port_served(cfg, udp->dest))
		return count(XNTS_CNT_PASSED_OTHER, XDP_PASS);

	rx = rx_timestamp(ctx);

	tot = ntohs_bounded(ip->tot_len);
	ulen = ntohs_bounded(udp->len);
	/* Exact lengths only: no truncation, no trailing bytes, UDP length = IP payload. */
	if ((void *)ip + tot != end || ulen != tot - sizeof(*ip) || ulen < sizeof(*udp))
		return count(XNTS_CNT_PASSED_INVALID, XDP_PASS);
	if (ulen > sizeof(*udp) + NTP_LEN) {
#ifdef XNTS_NTS
		if (!udp_common_ok(udp) || !v4_unicast(ip->saddr) || !v4_unicast(ip->daddr) ||
		    (eth->h_dest[0] & 1) || csum_fold(csum_add_mem(ip, sizeof(*ip), 0)))
			return count(XNTS_CNT_PASSED_INVALID, XDP_PASS);
		__builtin_memset(&rq.client, 0, sizeof(rq.client));
		rq.client.addr[10] = 0xff;
		rq.client.addr[11] = 0xff;
		__builtin_memcpy(rq.client.addr + 12, &ip->saddr, 4);
		rq.v6 = 0;
		rq.ntp = (void *)(udp + 1);
		if ((void *)(rq.ntp + 1) > end)
			return count(XNTS_CNT_PASSED_INVALID, XDP_PASS);
		na->rq = rq;
		na->rx = rx;
		na->l3off = (void *)ip - (void *)eth;
		na->poff = (void *)(udp + 1) - (void *)eth;
		na->len = ulen - sizeof(*udp);
		na->asum = csum_add_mem(&ip->saddr, 8, 0);
		return NTS_GO;
#else
		count(XNTS_CNT_PASSED_NTS, 0);
		return to_userspace(ctx, rx);
#endif
	}
	ntp = (void *)(udp + 1);
	if (ulen != sizeof(*udp) + NTP_LEN || (void *)(ntp + 1) > end)
		return count(XNTS_CNT_PASSED_INVALID, XDP_PASS);
	if (!udp_common_ok(udp) || !v4_unicast(ip->saddr) || !v4_unicast(ip->daddr) ||
	    (eth->h_dest[0] & 1))
		return count(XNTS_CNT_PASSED_INVALID, XDP_PASS);
	/* Checksums: never answer a corrupted request (UDP checksum 0 = none, IPv4 only). */
	if (csum_fold(csum_add_mem(ip, sizeof(*ip), 0)))
		return count(XNTS_CNT_PASSED_INVALID, XDP_PASS);
	ph.saddr = ip->saddr;
	ph.daddr = ip->daddr;
	ph.zero = 0;
	ph.proto = IPPROTO_UDP;
	ph.len = udp->len;
	psum = csum_add_mem(&ph, sizeof(ph), 0);
	if (udp->check && csum_fold(csum_add_mem(udp, sizeof(*udp) + NTP_LEN, psum)))
		return count(XNTS_CNT_PASSED_INVALID, XDP_PASS);

	__builtin_memset(&rq.client, 0, sizeof(rq.client));
	rq.client.addr[10] = 0xff;
	rq.client.addr[11] = 0xff;
	__builtin_memcpy(rq.client.addr + 12, &ip->saddr, 4);
	rq.v6 = 0;
	rq.ntp = ntp;
	v = ntp_respond(&rq, cfg, rx, &tai_offset, 0);
	if (v == V_PASS)
		return to_userspace(ctx, rx);
	if (v == V_DROP)
		return XDP_DROP;

	swap_mac(eth);
	addr = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = addr;
	/*
	 * Swapping the addresses leaves the header sum unchanged, so the verified
	 * checksum only needs the TTL change (RFC 1624 eqn. 3), on the 16-bit
	 * word that holds TTL and protocol.
	 */
	ttl_proto = (__u16 *)&ip->ttl;
	sum = (__u16)~ip->check + (__u16)~*ttl_proto;
	ip->ttl = RESP_TTL;
	sum += *ttl_proto;
	ip->check = csum_fold(sum);
	port = udp->source;
	udp->source = udp->dest;
	udp->dest = port;
	udp->check = 0;
	/* Nor does the pseudo header sum depend on the order of the addresses. */
	sum = csum_add_mem(udp, sizeof(*udp) + NTP_LEN, psum);
	finish_udp(udp, ntp, sum, tai_offset);
	return XDP_TX;
}

static __always_inline int ipv6_ext_header(__u8 next)
{
	return next == 0 || next == 43 || next == 44 || next == 50 || next == 51 || next == 60 ||
	       next == 135 || next == 139 || next == 140 || next == 253 || next == 254;
}

static __always_inline int handle_ipv6(struct xdp_md *ctx, struct ethhdr *eth, struct ipv6hdr *ip6,
				       void *end, const struct xnts_config *cfg NTS_PARAM)
{
	struct in6_addr tmp;
	struct ntp_hdr *ntp;
	struct udphdr *udp;
	struct request rq;
	struct pseudo6 ph;
	__s32 tai_offset;
	__u64 rx, sum;
	__u16 plen;
	__be16 port;
	enum verdict v;

	if ((void *)(ip6 + 1) > end || ip6->version != 6)
		return count(XNTS_CNT_PASSED_OTHER, XDP_PASS);
	if (ip6->nexthdr != IPPROTO_UDP)
		return count(ipv6_ext_header(ip6->nexthdr) ? XNTS_CNT_PASSED_UNSUPPORTED :
			     XNTS_CNT_PASSED_OTHER, XDP_PASS);
	udp = (void *)(ip6 + 1);
	if ((void *)(udp + 1) > end)
		return count(XNTS_CNT_PASSED_OTHER, XDP_PASS);
	if (!port_served(cfg, udp->dest))
		return count(XNTS_CNT_PASSED_OTHER, XDP_PASS);

	rx = rx_timestamp(ctx);

	plen = ntohs_bounded(ip6->payload_len);
	if ((void *)(ip6 + 1) + plen != end || bpf_ntohs(udp->len) != plen ||
	    plen < sizeof(*udp))
		return count(XNTS_CNT_PASSED_INVALID, XDP_PASS);
	if (plen > sizeof(*udp) + NTP_LEN) {
#ifdef XNTS_NTS
		if (!udp_common_ok(udp) || ip6->saddr.in6_u.u6_addr8[0] == 0xff ||
		    ip6->daddr.in6_u.u6_addr8[0] == 0xff || (eth->h_dest[0] & 1) ||
		    !(ip6->saddr.in6_u.u6_addr32[0] | ip6->saddr.in6_u.u6_addr32[1] |
		      ip6->saddr.in6_u.u6_addr32[2] | ip6->saddr.in6_u.u6_addr32[3]))
			return count(XNTS_CNT_PASSED_INVALID, XDP_PASS);
		__builtin_memcpy(rq.client.addr, &ip6->saddr, 16);
		rq.v6 = 1;
		rq.ntp = (void *)(udp + 1);
		if ((void *)(rq.ntp + 1) > end)
			return count(XNTS_CNT_PASSED_INVALID, XDP_PASS);
		na->rq = rq;
		na->rx = rx;
		na->l3off = (void *)ip6 - (void *)eth;
		na->poff = (void *)(udp + 1) - (void *)eth;
		na->len = plen - sizeof(*udp);
		na->asum = csum_add_mem(&ip6->saddr, 32, 0);
		return NTS_GO;
#else
		count(XNTS_CNT_PASSED_NTS, 0);
		return to_userspace(ctx, rx);
#endif
	}
	ntp = (void *)(udp + 1);
	if (plen != sizeof(*udp) + NTP_LEN || (void *)(ntp + 1) > end)
		return count(XNTS_CNT_PASSED_INVALID, XDP_PASS);
	/* No reply to port 0, from or to multicast, or to the unspecified address. */
	if (!udp_common_ok(udp) || ip6->saddr.in6_u.u6_addr8[0] == 0xff ||
	    ip6->daddr.in6_u.u6_addr8[0] == 0xff || (eth->h_dest[0] & 1) ||
	    !(ip6->saddr.in6_u.u6_addr32[0] | ip6->saddr.in6_u.u6_addr32[1] |
	      ip6->saddr.in6_u.u6_addr32[2] | ip6->saddr.in6_u.u6_addr32[3]))
		return count(XNTS_CNT_PASSED_INVALID, XDP_PASS);
	/* The UDP checksum is mandatory over IPv6 (RFC 8200 8.1). */
	__builtin_memcpy(&ph.saddr, &ip6->saddr, sizeof(ph.saddr));
	__builtin_memcpy(&ph.daddr, &ip6->daddr, sizeof(ph.daddr));
	ph.len = bpf_htonl(plen);
	ph.zero[0] = 0;
	ph.zero[1] = 0;
	ph.zero[2] = 0;
	ph.next = IPPROTO_UDP;
	sum = csum_add_mem(&ph, sizeof(ph), 0);
	if (!udp->check || csum_fold(csum_add_mem(udp, sizeof(*udp) + NTP_LEN, sum)))
		return count(XNTS_CNT_PASSED_INVALID, XDP_PASS);

	__builtin_memcpy(rq.client.addr, &ip6->saddr, 16);
	rq.v6 = 1;
	rq.ntp = ntp;
	v = ntp_respond(&rq, cfg, rx, &tai_offset, 0);
	if (v == V_PASS)
		return to_userspace(ctx, rx);
	if (v == V_DROP)
		return XDP_DROP;

	swap_mac(eth);
	__builtin_memcpy(&tmp, &ip6->saddr, sizeof(tmp));
	__builtin_memcpy(&ip6->saddr, &ip6->daddr, sizeof(tmp));
	__builtin_memcpy(&ip6->daddr, &tmp, sizeof(tmp));
	ip6->hop_limit = RESP_TTL;
	port = udp->source;
	udp->source = udp->dest;
	udp->dest = port;
	udp->check = 0;
	/* sum still holds the pseudo header, which swapping the addresses leaves unchanged. */
	sum = csum_add_mem(udp, sizeof(*udp) + NTP_LEN, sum);
	finish_udp(udp, ntp, sum, tai_offset);
	return XDP_TX;
}

SEC("xdp")
int xnts_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct xnts_config *cfg;
	__u32 zero = 0;
	void *l3;
	__be16 proto;

	if ((void *)(eth + 1) > end)
		return count(XNTS_CNT_PASSED_OTHER, XDP_PASS);
	proto = eth->h_proto;
	l3 = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct vlan_tag *tag = l3;

		if ((void *)(tag + 1) > end)
			return count(XNTS_CNT_PASSED_OTHER, XDP_PASS);
		proto = tag->encap_proto;
		l3 = tag + 1;
		if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD))
			return count(XNTS_CNT_PASSED_UNSUPPORTED, XDP_PASS);
	}
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		return count(XNTS_CNT_PASSED_OTHER, XDP_PASS);
	cfg = bpf_map_lookup_elem(&xnts_config, &zero);
	if (!cfg)
		return count(XNTS_CNT_PASSED_OTHER, XDP_PASS);
#ifdef XNTS_NTS
	{
		/* One call site for the NTS path, so the verifier walks it once. */
		struct nts_args na;
		int ret;

		if (proto == bpf_htons(ETH_P_IP))
			ret = handle_ipv4(ctx, eth, l3, end, cfg, &na);
		else
			ret = handle_ipv6(ctx, eth, l3, end, cfg, &na);
		if (ret != NTS_GO)
			return ret;
		return nts_serve(ctx, &na.rq, cfg, na.rx, na.l3off, na.poff, na.len, na.asum);
	}
#else
	if (proto == bpf_htons(ETH_P_IP))
		return handle_ipv4(ctx, eth, l3, end, cfg);
	return handle_ipv6(ctx, eth, l3, end, cfg);
#endif
}
