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
 *   xnts_config    ARRAY[1] of struct xnts_config: ports, versions, policy,
 *                  rate limit. Written with bpf_map_update_elem() at setup.
 *   xnts_allow4/6  LPM_TRIE, struct xnts_lpm4_key/xnts_lpm6_key -> __u8.
 *   xnts_deny4/6   Same layout. The allowlist is consulted only when
 *                  XNTS_CFG_ALLOWLIST is set in the config.
 *   xnts_rate      LRU_HASH struct xnts_client_key -> struct xnts_rate_state.
 *   xnts_counters  PERCPU_ARRAY[XNTS_CNT_MAX] of __u64, indexed by
 *                  enum xnts_counter; userspace sums the per-CPU values.
 *   xnts_xsk       XSKMAP[XNTS_XSK_QUEUES_MAX] by RX queue: the daemon's AF_XDP
 *                  sockets. A served-port request the program does not
 *                  answer goes to the socket of its queue, if there is one,
 *                  with struct xnts_xsk_meta in front; otherwise up the stack.
 *
 * A zero-filled time state or config makes the program inert: no port is
 * served, and a zero heartbeat is stale with the stale action "pass".
 */
#ifndef XNTS_SHARED_H
#define XNTS_SHARED_H

#include <linux/types.h>

#define XNTS_MAX_PORTS 4

/* Leap indicator values (RFC 5905 figure 9), as stored in xnts_time_state. */
enum xnts_leap {
	XNTS_LEAP_NONE = 0,
	XNTS_LEAP_INSERT = 1,	/* last minute of the day has 61 s */
	XNTS_LEAP_DELETE = 2,	/* last minute of the day has 59 s */
	XNTS_LEAP_UNSYNC = 3,	/* clock not synchronised */
};

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
	__u8 leap;			/* enum xnts_leap */
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

struct xnts_config {
	__be16 ports[XNTS_MAX_PORTS];	/* UDP ports served, network order; 0 = unused slot */
	__u8 versions;			/* bit n: answer NTP version n; only 3 and 4 are honoured */
	__u8 flags;			/* XNTS_CFG_* */
	__u8 allow_action;		/* enum xnts_action for clients not on the allowlist */
	__u8 deny_action;		/* enum xnts_action for clients on the denylist */
	/*
	 * Per-client rate limit as a token bucket: one request per
	 * rate_interval_ns is answered in the long run, up to rate_burst back to
	 * back. rate_burst = 1 makes rate_interval_ns the minimum interval between
	 * answered requests (ntpd-rs rate-limiting-cutoff-ms * 1000000). Requests
	 * over the limit get a RATE kiss-o'-death. rate_interval_ns = 0: no limit.
	 */
	__u32 rate_burst;		/* 0 is treated as 1 */
	__u64 rate_interval_ns;
};

struct xnts_lpm4_key {
	__u32 prefixlen;		/* 0..32 */
	__u8 addr[4];
};

struct xnts_lpm6_key {
	__u32 prefixlen;		/* 0..128 */
	__u8 addr[16];
};

/* Rate-limit key: the client's IPv6 address, IPv4 as ::ffff:a.b.c.d. */
struct xnts_client_key {
	__u8 addr[16];
};

/* GCRA form of the token bucket: the earliest time the bucket is full again. */
struct xnts_rate_state {
	__u64 tat_ns;			/* CLOCK_MONOTONIC */
};

enum xnts_counter {
	XNTS_CNT_ANSWERED = 0,		/* time response sent (XDP_TX) */
	XNTS_CNT_STALE_UNSYNC,		/* time response with LI=3, stratum 16 (also XDP_TX) */
	XNTS_CNT_RATE_LIMITED,		/* RATE kiss-o'-death sent */
	XNTS_CNT_DENIED,		/* DENY kiss-o'-death sent */
	XNTS_CNT_IGNORED,		/* dropped by an allow/deny list action "ignore" */
	XNTS_CNT_PASSED_NTS,		/* request with extension fields (NTS): to userspace */
	XNTS_CNT_PASSED_OTHER,		/* not IP/UDP to a served port, or unparseable headers */
	XNTS_CNT_PASSED_UNSUPPORTED,	/* IPv4 options, IPv6 extension headers, fragments,
					 * stacked VLAN tags */
	XNTS_CNT_PASSED_INVALID,	/* to a served port but not an answerable NTPv3/v4
					 * client request: lengths, checksums, addresses,
					 * port 0, version, mode */
	XNTS_CNT_STALE_PASS,		/* passed: heartbeat stale, stale action "pass" */
	XNTS_CNT_PASSED_BUSY,		/* passed: time state missing or being rewritten */
	/* The NTS variant (xnts_nts.bpf.c) only: */
	XNTS_CNT_NTS_ANSWERED,		/* NTS response sent (XDP_TX) */
	XNTS_CNT_NTS_NAK_KEY,		/* NTSN NAK: cookie key id not in xnts_nts_keys */
	XNTS_CNT_NTS_NAK_COOKIE,	/* NTSN NAK: cookie does not open */
	XNTS_CNT_NTS_NAK_AUTH,		/* NTSN NAK: authenticator does not verify */
	XNTS_CNT_NTS_ERROR,		/* passed: no current key, or a kfunc failed */
	/* Appended: */
	XNTS_CNT_REDIRECTED_XSK,	/* of the passed requests on a served port, sent to the
					 * queue's AF_XDP socket instead of the kernel stack */
	XNTS_CNT_MAX
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
 * AF_XDP: xnts_xsk is an XSKMAP by RX queue index. A frame the program
 * redirects there carries this in its metadata area, right in front of the
 * frame: the receive time the program read, so the worker need not guess it.
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

/*
 * A raw PHC time (ns, e.g. a NIC receive timestamp) of /dev/ptp<phc_index>
 * as CLOCK_REALTIME ns, with the mapping in ts (see struct xnts_time_state).
 * Returns 0 when ts holds no mapping. Integer only, for the program too.
 */
static inline __s64 xnts_phc_to_sys(const struct xnts_time_state *ts, __s64 phc_ns)
{
	__s64 d;

	if (ts->phc_index < 0 || !ts->phc_ref_sys_ns)
		return 0;
	d = phc_ns - ts->phc_ref_off_ns - ts->phc_ref_sys_ns;
	return phc_ns - ts->phc_ref_off_ns + ((d * ts->phc_slope_q32) >> 32);
}

#if !defined(__bpf__) && !defined(__BPF__)
#include <string.h>

/*
 * Publish a new time state into the mmap()ed xnts_time value. Single writer.
 * The seq field of *src is ignored. Readers in the program retry or pass while
 * seq is odd or changes under them.
 */
static inline void xnts_time_state_publish(struct xnts_time_state *dst,
					   const struct xnts_time_state *src)
{
	__u32 seq = __atomic_load_n(&dst->seq, __ATOMIC_RELAXED);

	__atomic_store_n(&dst->seq, seq | 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy((char *)dst + sizeof(dst->seq), (const char *)src + sizeof(src->seq),
	       sizeof(*dst) - sizeof(dst->seq));
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&dst->seq, (seq | 1) + 1, __ATOMIC_RELAXED);
}
#endif

#endif /* XNTS_SHARED_H */
