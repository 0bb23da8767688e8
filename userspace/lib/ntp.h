/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ntp: NTPv4 packet codec (RFC 5905) and extension-field framing (RFC 7822).
 *
 * Contract:
 * - Pure buffer code: no I/O, no allocation, no global state. Every length
 *   read from a packet is checked against the buffer before use.
 * - ntp_header_decode() needs NTP_HEADER_LEN bytes and never fails
 *   otherwise: it does not judge version or mode, callers do.
 *   ntp_header_encode() masks leap/version/mode to their bit widths.
 * - Timestamps are the 64-bit NTP format (32.32, seconds since the start of
 *   the era). Converting to absolute time needs an era: ntp_ts_to_ns() and
 *   ntp_ts_to_timespec() pick the one that puts the result closest to a
 *   reference time (RFC 5905 section 6), so any time within 68 years of the
 *   reference decodes correctly, across 2036. ns->ts->ns round trips exactly.
 * - Short format (root delay/dispersion) is unsigned 16.16 seconds.
 *
 * Extension-field rule (ntp_ef_next), outer fields of a packet:
 * - Each field is type(16) | length(16) | body; length counts the 4-byte
 *   header and the padding, must be a multiple of 4, must not run past the
 *   packet, and must be >= 16 (RFC 7822 section 3).
 * - With no MAC, the field that ends the packet must be >= 28 bytes (RFC 7822
 *   section 3). That is what makes a trailer of exactly 20 or 24 bytes
 *   unambiguous: at any field boundary where exactly 20 or 24 bytes remain,
 *   they are a legacy MAC (key id(4) | MD5(16) or SHA-1(20) digest), reported
 *   as NTP_EF_MAC and ending the walk. Fields before a MAC need only 16.
 * - RFC 8915 section 5.6 lets fields inside the NTS ciphertext be shorter:
 *   with NTP_EF_INNER a field needs only length >= 4 and a multiple of 4, and
 *   there is no MAC or last-field rule.
 * - At most NTP_EF_MAX_FIELDS fields are walked; the next one is an error.
 * - Errors are sticky: after one, ntp_ef_next() keeps returning it.
 *
 * Builders (ntp_ef_add) append a field padded with zeros to a multiple of 4
 * and to a minimum length, and fail without writing if it does not fit.
 */
#ifndef XNTS_NTP_H
#define XNTS_NTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define NTP_HEADER_LEN 48
#define NTP_VERSION 4
/* Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch). */
#define NTP_UNIX_OFFSET 2208988800LL

enum ntp_leap {
	NTP_LEAP_NONE = 0,
	NTP_LEAP_INSERT = 1,
	NTP_LEAP_DELETE = 2,
	NTP_LEAP_UNSYNC = 3,
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

struct ntp_header {
	uint8_t leap;		/* 2 bits */
	uint8_t version;	/* 3 bits */
	uint8_t mode;		/* 3 bits */
	uint8_t stratum;
	int8_t poll;		/* log2 seconds */
	int8_t precision;	/* log2 seconds */
	uint32_t root_delay;	/* short format 16.16 */
	uint32_t root_dispersion; /* short format 16.16 */
	uint8_t refid[4];	/* as on the wire: kiss codes are ASCII */
	uint64_t ref_ts;	/* timestamp format 32.32 */
	uint64_t orig_ts;
	uint64_t rx_ts;
	uint64_t tx_ts;
};

/*
 * A reference ID as text for status output: printable ASCII as it is, a
 * backslash doubled, any other byte as \xNN; the zero padding after an
 * ASCII identifier (RFC 5905 7.3) is dropped. out holds NTP_REFID_TEXT.
 */
#define NTP_REFID_TEXT 17
void ntp_refid_text(const uint8_t refid[4], char out[NTP_REFID_TEXT]);

void ntp_header_encode(const struct ntp_header *h, uint8_t *out);
/* 0 on success, -1 if len < NTP_HEADER_LEN. */
int ntp_header_decode(struct ntp_header *h, const uint8_t *buf, size_t len);

/* Big-endian helpers, shared by the NTS modules. */
static inline uint16_t ntp_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void ntp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Timestamps. ns values are nanoseconds since the Unix epoch. */
uint64_t ntp_ts_from_ns(int64_t unix_ns);
/* Saturates at INT64_MIN/INT64_MAX if the result does not fit. */
int64_t ntp_ts_to_ns(uint64_t ts, int64_t ref_unix_ns);
uint64_t ntp_ts_from_timespec(const struct timespec *t);
void ntp_ts_to_timespec(uint64_t ts, const struct timespec *ref, struct timespec *out);
/* Era (0 = 1900..2036, 1 = 2036..2172, -1 before 1900) of a Unix time. */
int64_t ntp_era_of_ns(int64_t unix_ns);

/* Short format. Negative input gives 0; too large saturates at 0xffffffff. */
uint32_t ntp_short_from_ns(int64_t ns);
int64_t ntp_short_to_ns(uint32_t s);

/* Extension fields. */
#define NTP_EF_HDR_LEN 4
#define NTP_EF_MIN_LEN 16
#define NTP_EF_MIN_LAST_LEN 28
#define NTP_EF_MAX_LEN 0xfffc
#define NTP_EF_MAX_FIELDS 32
#define NTP_MAC_MD5_LEN 20
#define NTP_MAC_SHA1_LEN 24

/* Flags for ntp_ef_iter_init(). */
#define NTP_EF_INNER 0x1	/* RFC 8915 5.6 plaintext: relaxed lengths, no MAC */

enum ntp_ef_status {
	NTP_EF_FIELD = 0,	/* *ef describes the next field */
	NTP_EF_END = 1,		/* no more fields */
	NTP_EF_MAC = 2,		/* *ef describes a legacy MAC trailer; then END */
	NTP_EF_ERR_TRUNCATED = -1,	/* 1..3 bytes left: no room for a header */
	NTP_EF_ERR_LEN = -2,		/* length field < 4 */
	NTP_EF_ERR_ALIGN = -3,		/* length not a multiple of 4 */
	NTP_EF_ERR_SHORT = -4,		/* length < 16 (outer fields) */
	NTP_EF_ERR_OVERRUN = -5,	/* length runs past the packet */
	NTP_EF_ERR_LAST_SHORT = -6,	/* last field < 28 and no MAC */
	NTP_EF_ERR_TOO_MANY = -7,	/* more than NTP_EF_MAX_FIELDS */
	NTP_EF_ERR_ARG = -8,		/* start offset beyond the buffer */
};

struct ntp_ef {
	uint16_t type;		/* 0 for a MAC */
	uint16_t len;		/* whole field (or MAC) length on the wire */
	size_t off;		/* offset of the field in the buffer */
	const uint8_t *body;	/* after the 4-byte header; MAC: the digest */
	size_t body_len;
	uint32_t mac_key_id;	/* NTP_EF_MAC only */
};

struct ntp_ef_iter {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	unsigned int count;
	unsigned int flags;
	int state;	/* 0 running, else the sticky END/MAC-done/error code */
};

/*
 * Walk fields in buf[start..len). For a packet start is NTP_HEADER_LEN
 * (offsets then stay packet offsets); for an NTS plaintext, 0 + NTP_EF_INNER.
 */
void ntp_ef_iter_init(struct ntp_ef_iter *it, const uint8_t *buf, size_t len,
		      size_t start, unsigned int flags);
/* Returns an enum ntp_ef_status. */
int ntp_ef_next(struct ntp_ef_iter *it, struct ntp_ef *ef);
const char *ntp_ef_strerror(int status);

/* Wire length of a field with body_len bytes, padded to 4 and to min_len. */
size_t ntp_ef_field_len(size_t body_len, size_t min_len);
/*
 * Append a field at buf[*len]: header, body_len bytes of body (zeros if body
 * is NULL), zero padding to ntp_ef_field_len(body_len, min_len). Returns a
 * pointer to the body inside buf and advances *len, or NULL (nothing
 * written) if it does not fit in cap or exceeds NTP_EF_MAX_LEN.
 */
uint8_t *ntp_ef_add(uint8_t *buf, size_t cap, size_t *len, uint16_t type,
		    const void *body, size_t body_len, size_t min_len);

#endif
