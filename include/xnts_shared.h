/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xnts_shared: the contract between the XDP program (xnts.bpf.c) and the
 * userspace that loads and feeds it. Map names, key and value layouts and
 * constants live here and nowhere else. All structs have explicit padding so
 * that BPF and x86-64 userspace agree on every offset.
 *
 * Maps (names as in the object and the skeleton):
 *   xnts_time      ARRAY[1] (BPF_F_MMAPABLE) of struct xnts_time_state. The
 *                  daemon writes it through mmap with xnts_time_state_publish()
 *                  (a seqcount: the program never uses a half-written state).
 *   xnts_config    ARRAY[1] of struct xnts_xdp_config: ports, versions, policy,
 *                  rate limit. Written with bpf_map_update_elem() at setup.
 *   xnts_allow4/6  LPM_TRIE, struct xnts_lpm4_key/xnts_lpm6_key -> __u8.
 *   xnts_deny4/6   Same layout. The allowlist is consulted only when
 *                  XNTS_CFG_ALLOWLIST is set in the config.
 *   xnts_local     HASH struct xnts_local_key -> __u8: the (address, port)
 *                  pairs this host serves. With XNTS_CFG_LOCAL_ONLY set, a
 *                  request to any other destination is passed untouched
 *                  (forwarded traffic, someone else's server).
 *   xnts_rate      LRU_HASH struct xnts_client_key -> struct xnts_rate_state.
 *   xnts_xsk       XSKMAP[XNTS_XSK_QUEUES_MAX] by RX queue: the daemon's AF_XDP
 *                  sockets. A request the program hands to userspace goes to
 *                  the socket of its queue, if there is one, with struct
 *                  xnts_xsk_meta in front; otherwise up the stack.
 *   xnts_counters  PERCPU_ARRAY[XNTS_CNT_MAX] of __u64, indexed by
 *                  enum xnts_counter (xnts_wire.h); userspace sums the
 *                  per-CPU values.
 *
 * A zero-filled time state or config makes the program inert: no port is
 * served, and a zero heartbeat is stale with the stale action "pass".
 */
#ifndef XNTS_SHARED_H
#define XNTS_SHARED_H

#include <linux/types.h>

#include "xnts_ratelimit.h"
#include "xnts_seqcount.h"
#include "xnts_wire.h"

#define XNTS_MAX_PORTS 4

/* What the program does while the daemon's heartbeat is older than the timeout. */
enum xnts_stale_action {
	XNTS_STALE_PASS = 0,	/* every request goes up to userspace (the safe default) */
	XNTS_STALE_UNSYNC = 1,	/* keep answering, with LI=3 and stratum 16 */
};

/* Allow/deny list action, the meaning ntpd-rs gives them. */
enum xnts_action {
	XNTS_ACT_IGNORE = 0,	/* drop the request (XDP_DROP) */
	XNTS_ACT_DENY = 1,	/* answer with a DENY kiss-o'-death */
};

/*
 * Published by the daemon. Byte order: host order unless noted. The heartbeat
 * is CLOCK_MONOTONIC (bpf_ktime_get_ns()), so that a step of the system clock
 * neither makes a dead daemon look alive nor a live one look dead; the rate
 * limiter uses the same clock.
 */
struct xnts_time_state {
	__u32 seq;			/* seqcount: odd while the daemon writes */
	__u8 leap;			/* enum ntp_leap */
	__u8 stratum;			/* 1..15 when synchronised */
	__s8 precision;			/* log2 seconds, e.g. -24 */
	__u8 stale_action;		/* enum xnts_stale_action */
	__u32 root_delay;		/* NTP short format (16.16 seconds) */
	__u32 root_dispersion;		/* NTP short format */
	__u32 refid;			/* network order: exactly the 4 bytes sent */
	__s32 tai_offset;		/* TAI - UTC in seconds (adjtimex tai), e.g. 37 */
	__u64 reference_time;		/* NTP 32.32 timestamp of the last clock update */
	__u64 heartbeat_ns;		/* CLOCK_MONOTONIC ns of the last publication */
	__u64 heartbeat_timeout_ns;	/* older than this: stale (0: always stale) */
	/*
	 * Appended (the fields above keep their layout): the PHC-to-system
	 * mapping of the PTP hardware clock /dev/ptp<phc_index>, from the
	 * daemon's phc source, so that a NIC receive timestamp (raw PHC time,
	 * e.g. from bpf_xdp_metadata_rx_timestamp) can be turned into
	 * CLOCK_REALTIME ns without a call to userspace:
	 *   d   = phc - phc_ref_off_ns - phc_ref_sys_ns
	 *   sys = phc - phc_ref_off_ns + ((d * phc_slope_q32) >> 32)
	 * where the fit says PHC - system = phc_ref_off_ns + r * (system -
	 * phc_ref_sys_ns), so phc_slope_q32 = (1 / (1 + r) - 1) * 2^32: exact
	 * but for its rounding (0.25 ns per second of d). d is small (the
	 * state is republished with every heartbeat); the product fits in
	 * 64 bits for |d| up to 2^41 ns, about 36 minutes, at 1000 ppm.
	 * phc_index < 0: no mapping; use the kernel's receive time instead.
	 */
	__s64 phc_ref_sys_ns;		/* CLOCK_REALTIME ns where the fit is anchored */
	__s64 phc_ref_off_ns;		/* PHC - CLOCK_REALTIME there, ns */
	__s64 phc_slope_q32;		/* 1 / (1 + r) - 1, times 2^32 (r: PHC rate) */
	__s32 phc_index;		/* N of /dev/ptpN, -1: no mapping */
	__u32 phc_pad;
};

/* Config flags. */
#define XNTS_CFG_ALLOWLIST	(1U << 0)	/* allowlist in force: unlisted clients get allow_action */
#define XNTS_CFG_LOCAL_ONLY	(1U << 1)	/* answer only (address, port) pairs in xnts_local */

struct xnts_xdp_config {
	__be16 ports[XNTS_MAX_PORTS];	/* UDP ports served, network order; 0 = unused slot */
	__u8 versions;			/* bit n: answer NTP version n; only 3 and 4 are honoured */
	__u8 flags;			/* XNTS_CFG_* */
	__u8 allow_action;		/* enum xnts_action for clients not on the allowlist */
	__u8 deny_action;		/* enum xnts_action for clients on the denylist */
	/*
	 * Per-client rate limit, xnts_ratelimit.h: rate-limiting-cutoff-ms *
	 * 1000000, rate-limiting-burst and rate-limiting-ipv6-prefix.
	 * rate_interval_ns = 0: no limit.
	 */
	__u32 rate_burst;		/* 0 is treated as 1 */
	__u64 rate_interval_ns;
	__u8 rate_v6_prefix;		/* IPv6 clients share a bucket per prefix */
	__u8 pad[7];
};

struct xnts_lpm4_key {
	__u32 prefixlen;		/* 0..32 */
	__u8 addr[4];
};

struct xnts_lpm6_key {
	__u32 prefixlen;		/* 0..128 */
	__u8 addr[16];
};

/* Rate-limit key (xnts_rate_key()): IPv4 as ::ffff:a.b.c.d, IPv6 masked to the prefix. */
struct xnts_client_key {
	__u8 addr[16];
};

/* A destination this host serves: its address (IPv4 as ::ffff:a.b.c.d) and UDP port. */
struct xnts_local_key {
	__u8 addr[16];
	__be16 port;			/* network order */
	__u16 pad;			/* 0 */
};

/* xnts_rate_admit()'s state: the earliest time the bucket is full again. */
struct xnts_rate_state {
	__u64 tat_ns;			/* CLOCK_MONOTONIC */
};

/*
 * NTS variant: master keys by cookie key id. The map key is the id's 4 bytes
 * as they stand in the cookie (big endian), the value a struct xnts_siv_key
 * (kmod/xnts_siv.h) with aead 15 and the 32-byte master key.
 * xnts_nts_current[0] names the key that seals fresh cookies.
 */
#define XNTS_NTS_KEYS_MAX		64

struct xnts_nts_current {
	__u32 key_id;			/* as in the cookie: big-endian bytes */
	__u32 valid;			/* 0: no current key, NTS goes to userspace */
};

/*
 * AF_XDP: what the program puts in the metadata area, right in front of a
 * frame it redirects to xnts_xsk: its receive time, so that the worker need
 * not guess it.
 */
#define XNTS_XSK_QUEUES_MAX		64
#define XNTS_XSK_META_MAGIC		0x78736b31	/* "xsk1" */

struct xnts_xsk_meta {
	__u64 rx_tai_ns;		/* CLOCK_TAI ns, as the program reads it */
	__u32 magic;			/* XNTS_XSK_META_MAGIC */
	__u32 pad;
};

#define XNTS_RATE_ENTRIES_DEFAULT	65536
#define XNTS_LPM_ENTRIES_DEFAULT	1024
#define XNTS_LOCAL_ENTRIES		1024

/*
 * addr (4 bytes for IPv4, 16 for IPv6) as 16 bytes, IPv4 as ::ffff:a.b.c.d:
 * the form of every address in a map key above.
 */
static __always_inline void xnts_addr16(__u8 out[16], const void *addr, int v6)
{
	if (v6) {
		__builtin_memcpy(out, addr, 16);
		return;
	}
	__builtin_memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	__builtin_memcpy(out + 12, addr, 4);
}

/*
 * Every struct above crosses the kernel/user boundary: the same sizes and
 * offsets in BPF and in x86-64 userspace, or the build fails.
 */
#define XNTS_ASSERT_LAYOUT(type, size) _Static_assert(sizeof(type) == (size), #type " size")
#define XNTS_ASSERT_OFF(type, field, off) \
	_Static_assert(__builtin_offsetof(type, field) == (off), #type "." #field " offset")
XNTS_ASSERT_LAYOUT(struct xnts_time_state, 80);
XNTS_ASSERT_OFF(struct xnts_time_state, leap, 4);
XNTS_ASSERT_OFF(struct xnts_time_state, refid, 16);
XNTS_ASSERT_OFF(struct xnts_time_state, tai_offset, 20);
XNTS_ASSERT_OFF(struct xnts_time_state, reference_time, 24);
XNTS_ASSERT_OFF(struct xnts_time_state, heartbeat_ns, 32);
XNTS_ASSERT_OFF(struct xnts_time_state, phc_ref_sys_ns, 48);
XNTS_ASSERT_OFF(struct xnts_time_state, phc_index, 72);
XNTS_ASSERT_LAYOUT(struct xnts_xdp_config, 32);
XNTS_ASSERT_OFF(struct xnts_xdp_config, versions, 8);
XNTS_ASSERT_OFF(struct xnts_xdp_config, rate_burst, 12);
XNTS_ASSERT_OFF(struct xnts_xdp_config, rate_interval_ns, 16);
XNTS_ASSERT_OFF(struct xnts_xdp_config, rate_v6_prefix, 24);
XNTS_ASSERT_LAYOUT(struct xnts_lpm4_key, 8);
XNTS_ASSERT_LAYOUT(struct xnts_lpm6_key, 20);
XNTS_ASSERT_LAYOUT(struct xnts_client_key, 16);
XNTS_ASSERT_LAYOUT(struct xnts_rate_state, 8);
XNTS_ASSERT_LAYOUT(struct xnts_local_key, 20);
XNTS_ASSERT_OFF(struct xnts_local_key, port, 16);
XNTS_ASSERT_LAYOUT(struct xnts_nts_current, 8);
XNTS_ASSERT_LAYOUT(struct xnts_xsk_meta, 16);

/*
 * The one PHC-to-system mapping, integer only so that the program can run
 * it too (see struct xnts_time_state for the derivation): a raw PHC time
 * (ns) to CLOCK_REALTIME ns, for a fit anchored at ref_sys_ns where PHC -
 * system was ref_off_ns, with slope_q32 = (1 / (1 + rate) - 1) * 2^32.
 * Exact to 1 ns for |phc - ref_off_ns - ref_sys_ns| below about 4 s, and the
 * product fits in 64 bits up to 2^41 ns (36 minutes) at 1000 ppm.
 */
static inline __s64 xnts_phc_map_sys(__s64 ref_sys_ns, __s64 ref_off_ns, __s64 slope_q32,
				     __s64 phc_ns)
{
	__s64 d = phc_ns - ref_off_ns - ref_sys_ns;

	return phc_ns - ref_off_ns + ((d * slope_q32 + (1LL << 31)) >> 32);
}

/*
 * A raw PHC time (ns, e.g. a NIC receive timestamp) of /dev/ptp<phc_index>
 * as CLOCK_REALTIME ns, with the mapping in ts (see struct xnts_time_state).
 * Returns 0 when ts holds no mapping.
 */
static inline __s64 xnts_phc_to_sys(const struct xnts_time_state *ts, __s64 phc_ns)
{
	if (ts->phc_index < 0 || !ts->phc_ref_sys_ns)
		return 0;
	return xnts_phc_map_sys(ts->phc_ref_sys_ns, ts->phc_ref_off_ns, ts->phc_slope_q32, phc_ns);
}

#if !defined(__bpf__) && !defined(__BPF__)
#include <string.h>

/*
 * Publish a new time state into the mmap()ed xnts_time value. Single writer.
 * The seq field of *src is ignored. Readers in the program retry or pass while
 * seq is odd or changes under them (xnts_seqcount.h).
 */
static inline void xnts_time_state_publish(struct xnts_time_state *dst,
					   const struct xnts_time_state *src)
{
	__u32 seq = xnts_seq_write_begin(&dst->seq);

	memcpy((char *)dst + sizeof(dst->seq), (const char *)src + sizeof(src->seq),
	       sizeof(*dst) - sizeof(dst->seq));
	xnts_seq_write_end(&dst->seq, seq);
}
#endif

#endif /* XNTS_SHARED_H */
