/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xnts_wire: the numbers of the wire formats (RFC 5905 NTP, RFC 8915 NTS)
 * and of xnts's own cookie, written once for every side that needs them: the
 * XDP program (clang -target bpf), the userspace core, the daemon, xntsctl
 * and the tests. Needs only linux/types.h, so that BPF can include it.
 *
 * Contract:
 * - Constants only, plus static inline helpers that derive from them; no
 *   state, no I/O.
 * - The cookie layout per session AEAD comes from one table,
 *   XNTS_COOKIE_AEADS(); adding an AEAD is one row there (id, key length).
 * - The XDP counters come from one list, XNTS_COUNTERS(); their names in the
 *   status, xntsctl and the tests are generated from it.
 */
#ifndef XNTS_WIRE_H
#define XNTS_WIRE_H

#include <linux/types.h>

/* NTP (RFC 5905) */
#define NTP_HEADER_LEN		48
#define NTP_VERSION		4
/* Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch). */
#define NTP_UNIX_OFFSET		2208988800LL
#define NTP_STRATUM_UNSYNC	16

/* Leap indicator (RFC 5905 figure 9). */
enum ntp_leap {
	NTP_LEAP_NONE = 0,
	NTP_LEAP_INSERT = 1,	/* last minute of the day has 61 s */
	NTP_LEAP_DELETE = 2,	/* last minute of the day has 59 s */
	NTP_LEAP_UNSYNC = 3,	/* clock not synchronised */
};

enum ntp_mode {
	NTP_MODE_RESERVED = 0,
	NTP_MODE_SYM_ACTIVE = 1,
	NTP_MODE_SYM_PASSIVE = 2,
	NTP_MODE_CLIENT = 3,
	NTP_MODE_SERVER = 4,
	NTP_MODE_BROADCAST = 5,
	NTP_MODE_CONTROL = 6,
	NTP_MODE_PRIVATE = 7,
};

/*
 * Kiss codes (RFC 5905 7.4, RFC 8915 5.7): the four ASCII bytes of the
 * refid, as a host-order number of the big-endian word.
 */
#define NTP_KOD_DENY		0x44454e59	/* "DENY" */
#define NTP_KOD_RATE		0x52415445	/* "RATE" */
#define NTP_KOD_NTSN		0x4e54534e	/* "NTSN" */

/* NTS extension fields in NTP (RFC 8915 5.7, IANA NTP extension field types). */
#define NTS_EF_UID		0x0104
#define NTS_EF_COOKIE		0x0204
#define NTS_EF_PLACEHOLDER	0x0304
#define NTS_EF_AUTH		0x0404

/* A response carries at most this many cookies; a server hands out as many. */
#define NTS_MAX_COOKIES		8

/*
 * xnts's cookie (Documentation/cookie-format.md), sealed with
 * AES-SIV-CMAC-256 under a master key:
 *
 *   0       4        20        36            36 + k
 *   key_id | nonce   | SIV tag  | C2S key     | S2C key
 *   4 B BE | 16 B    | 16 B     | k bytes     | k bytes
 *
 * where k is the session AEAD's key length. The cookie's length names the
 * AEAD, so every row must have its own key length. A row says what a cookie
 * of that length carries; whether a path can use the AEAD is its own
 * business (userspace: siv_key_len(); XDP: the module's kfuncs, others go
 * up to userspace).
 *
 * One row per session AEAD: X(IANA AEAD id, session key length).
 */
#define XNTS_COOKIE_AEADS(X)						\
	X(15, 32)	/* AEAD_AES_SIV_CMAC_256 */			\
	X(17, 64)	/* AEAD_AES_SIV_CMAC_512 */			\
	X(30, 16)	/* AEAD_AES_128_GCM_SIV */

#define XNTS_COOKIE_ID_OFF	0
#define XNTS_COOKIE_ID_LEN	4
#define XNTS_COOKIE_NONCE_OFF	(XNTS_COOKIE_ID_OFF + XNTS_COOKIE_ID_LEN)	/* 4 */
#define XNTS_COOKIE_NONCE_LEN	16
#define XNTS_COOKIE_TAG_OFF	(XNTS_COOKIE_NONCE_OFF + XNTS_COOKIE_NONCE_LEN) /* 20 */
#define XNTS_COOKIE_TAG_LEN	16
/* Where the C2S key starts; S2C follows it. */
#define XNTS_COOKIE_KEYS_OFF	(XNTS_COOKIE_TAG_OFF + XNTS_COOKIE_TAG_LEN)	/* 36 */
#define XNTS_COOKIE_S2C_OFF(keylen)	(XNTS_COOKIE_KEYS_OFF + (keylen))
#define XNTS_COOKIE_LEN(keylen)		(XNTS_COOKIE_KEYS_OFF + 2 * (keylen))

/* Each row's cookie length as XNTS_COOKIE_LEN_<id>, e.g. XNTS_COOKIE_LEN_15. */
enum {
#define XNTS_COOKIE_LEN_ID_(id, kl) XNTS_COOKIE_LEN_##id = XNTS_COOKIE_LEN(kl),
	XNTS_COOKIE_AEADS(XNTS_COOKIE_LEN_ID_)
#undef XNTS_COOKIE_LEN_ID_
};

/* The longest cookie of the table, as a constant expression (sizeof). */
union xnts_cookie_sizes_ {
#define XNTS_COOKIE_SIZE_(id, kl) __u8 aead##id[XNTS_COOKIE_LEN(kl)];
	XNTS_COOKIE_AEADS(XNTS_COOKIE_SIZE_)
#undef XNTS_COOKIE_SIZE_
};
#define XNTS_COOKIE_MAX_LEN	sizeof(union xnts_cookie_sizes_)

/* Session key length of AEAD id, 0 if no cookie carries it. */
static inline __u32 xnts_cookie_key_len(__u32 aead)
{
#define XNTS_COOKIE_KL_(id, kl) if (aead == (id)) return (kl);
	XNTS_COOKIE_AEADS(XNTS_COOKIE_KL_)
#undef XNTS_COOKIE_KL_
	return 0;
}

/* The AEAD id a cookie of len bytes carries, 0 if none. */
static inline __u32 xnts_cookie_aead(__u32 len)
{
#define XNTS_COOKIE_AEAD_(id, kl) if (len == XNTS_COOKIE_LEN(kl)) return (id);
	XNTS_COOKIE_AEADS(XNTS_COOKIE_AEAD_)
#undef XNTS_COOKIE_AEAD_
	return 0;
}

/*
 * XDP counters: X(ENUM_SUFFIX, status name, meaning). enum xnts_counter is
 * XNTS_CNT_<ENUM_SUFFIX>; the status shows each as "<status name>". Append
 * only: the per-CPU array is indexed by position, and a pinned array of
 * another size is not adopted by a newer daemon.
 */
#define XNTS_COUNTERS(X)							\
	X(ANSWERED, answered, "time response sent (XDP_TX)")			\
	X(STALE_UNSYNC, stale_unsync, "time response with LI=3, stratum 16")	\
	X(RATE_LIMITED, rate_limited, "RATE kiss-o'-death sent")		\
	X(DENIED, denied, "DENY kiss-o'-death sent")				\
	X(IGNORED, ignored, "dropped by an allow/deny list action ignore")	\
	X(PASSED_NTS, passed_nts, "request with extension fields: to userspace") \
	X(PASSED_OTHER, passed_other, "not IP/UDP to a served port, or unparseable") \
	X(PASSED_UNSUPPORTED, passed_unsupported,				\
	  "IPv4 options, IPv6 extension headers, fragments, stacked VLAN tags") \
	X(PASSED_INVALID, passed_invalid,					\
	  "to a served port, not an answerable NTPv3/v4 client request")	\
	X(STALE_PASS, stale_pass, "passed: heartbeat stale, stale action pass") \
	X(PASSED_BUSY, passed_busy, "passed: time state missing or being rewritten") \
	X(NTS_ANSWERED, nts_answered, "NTS response sent (XDP_TX)")		\
	X(NTS_NAK_KEY, nts_nak_key, "NTSN NAK: cookie key id unknown")		\
	X(NTS_NAK_COOKIE, nts_nak_cookie, "NTSN NAK: cookie does not open")	\
	X(NTS_NAK_AUTH, nts_nak_auth, "NTSN NAK: authenticator does not verify") \
	X(NTS_ERROR, nts_error, "passed: no current key, or a kfunc failed")	\
	X(PASSED_NTS_AEAD, passed_nts_aead,					\
	  "NTS request whose cookie's AEAD has no kfunc (e.g. 30): to userspace") \
	X(PASSED_NOT_LOCAL, passed_not_local,					\
	  "to a served port but not to an address this host serves")		\
	X(REDIRECTED_XSK, redirected_xsk,					\
	  "of the requests handed to userspace, sent to an AF_XDP socket")

enum xnts_counter {
#define XNTS_CNT_ENUM_(up, name, doc) XNTS_CNT_##up,
	XNTS_COUNTERS(XNTS_CNT_ENUM_)
#undef XNTS_CNT_ENUM_
	XNTS_CNT_MAX
};

#endif /* XNTS_WIRE_H */
