// SPDX-License-Identifier: GPL-2.0
/* NTPv4 header, timestamps and extension-field framing: see ntp.h. */
#include <stdio.h>
#include <string.h>

#include "ntp.h"

#define NS_PER_SEC 1000000000LL

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

void ntp_header_encode(const struct ntp_header *h, uint8_t *out)
{
	out[0] = (uint8_t)((h->leap & 3) << 6 | (h->version & 7) << 3 |
			   (h->mode & 7));
	out[1] = h->stratum;
	out[2] = (uint8_t)h->poll;
	out[3] = (uint8_t)h->precision;
	put32(out + 4, h->root_delay);
	put32(out + 8, h->root_dispersion);
	memcpy(out + 12, h->refid, 4);
	put64(out + 16, h->ref_ts);
	put64(out + 24, h->orig_ts);
	put64(out + 32, h->rx_ts);
	put64(out + 40, h->tx_ts);
}

int ntp_header_decode(struct ntp_header *h, const uint8_t *buf, size_t len)
{
	if (!buf || len < NTP_HEADER_LEN)
		return -1;
	h->leap = buf[0] >> 6;
	h->version = (buf[0] >> 3) & 7;
	h->mode = buf[0] & 7;
	h->stratum = buf[1];
	h->poll = (int8_t)buf[2];
	h->precision = (int8_t)buf[3];
	h->root_delay = get32(buf + 4);
	h->root_dispersion = get32(buf + 8);
	memcpy(h->refid, buf + 12, 4);
	h->ref_ts = get64(buf + 16);
	h->orig_ts = get64(buf + 24);
	h->rx_ts = get64(buf + 32);
	h->tx_ts = get64(buf + 40);
	return 0;
}

/* Floor division and its remainder, for negative times (before 1970). */
static int64_t floor_div(int64_t a, int64_t b, int64_t *rem)
{
	int64_t q = a / b, r = a % b;

	if (r < 0) {
		q--;
		r += b;
	}
	if (rem)
		*rem = r;
	return q;
}

/*
 * Rounding the fraction up makes ns -> fraction -> ns exact: one ns is
 * about 4.29 fraction units, so the truncating inverse lands back on it.
 */
static uint32_t frac_from_ns(int64_t nsec)
{
	return (uint32_t)((((uint64_t)nsec << 32) + NS_PER_SEC - 1) / NS_PER_SEC);
}

static int64_t ns_from_frac(uint32_t frac)
{
	return (int64_t)(((uint64_t)frac * NS_PER_SEC) >> 32);
}

static uint64_t ts_make(int64_t unix_sec, int64_t nsec)
{
	uint32_t sec = (uint32_t)(uint64_t)(unix_sec + NTP_UNIX_OFFSET);

	return (uint64_t)sec << 32 | frac_from_ns(nsec);
}

uint64_t ntp_ts_from_ns(int64_t unix_ns)
{
	int64_t nsec, sec = floor_div(unix_ns, NS_PER_SEC, &nsec);

	return ts_make(sec, nsec);
}

/*
 * The era is whatever puts the 32-bit seconds nearest the reference: the
 * signed 32-bit difference of the low words is the offset from it.
 */
static int64_t ts_unix_sec(uint64_t ts, int64_t ref_unix_sec)
{
	int64_t ref = ref_unix_sec + NTP_UNIX_OFFSET;
	int32_t diff = (int32_t)((uint32_t)(ts >> 32) - (uint32_t)(uint64_t)ref);

	return ref + diff - NTP_UNIX_OFFSET;
}

int64_t ntp_ts_to_ns(uint64_t ts, int64_t ref_unix_ns)
{
	int64_t sec = ts_unix_sec(ts, floor_div(ref_unix_ns, NS_PER_SEC, NULL));
	int64_t ns;

	if (__builtin_mul_overflow(sec, NS_PER_SEC, &ns) ||
	    __builtin_add_overflow(ns, ns_from_frac((uint32_t)ts), &ns))
		return sec < 0 ? INT64_MIN : INT64_MAX;
	return ns;
}

uint64_t ntp_ts_from_timespec(const struct timespec *t)
{
	int64_t sec = t->tv_sec, nsec = t->tv_nsec;

	if (nsec < 0 || nsec >= NS_PER_SEC)
		sec += floor_div(nsec, NS_PER_SEC, &nsec);
	return ts_make(sec, nsec);
}

void ntp_ts_to_timespec(uint64_t ts, const struct timespec *ref, struct timespec *out)
{
	out->tv_sec = (time_t)ts_unix_sec(ts, ref->tv_sec);
	out->tv_nsec = (long)ns_from_frac((uint32_t)ts);
}

int64_t ntp_era_of_ns(int64_t unix_ns)
{
	int64_t sec = floor_div(unix_ns, NS_PER_SEC, NULL) + NTP_UNIX_OFFSET;

	return floor_div(sec, 1LL << 32, NULL);
}

uint32_t ntp_short_from_ns(int64_t ns)
{
	if (ns <= 0)
		return 0;
	if (ns >= 65536 * NS_PER_SEC)
		return 0xffffffff;
	/* Rounded up: delay and dispersion are error bounds. */
	return (uint32_t)(((uint64_t)ns * 65536 + NS_PER_SEC - 1) / NS_PER_SEC);
}

int64_t ntp_short_to_ns(uint32_t s)
{
	return (int64_t)(((uint64_t)s * NS_PER_SEC) >> 16);
}

void ntp_ef_iter_init(struct ntp_ef_iter *it, const uint8_t *buf, size_t len,
		      size_t start, unsigned int flags)
{
	it->buf = buf;
	it->len = len;
	it->pos = start;
	it->count = 0;
	it->flags = flags;
	it->state = (start > len || (!buf && len)) ? NTP_EF_ERR_ARG : 0;
}

static int ef_stop(struct ntp_ef_iter *it, int status)
{
	it->state = status;
	return status;
}

int ntp_ef_next(struct ntp_ef_iter *it, struct ntp_ef *ef)
{
	int inner = it->flags & NTP_EF_INNER;
	size_t rem, flen;

	if (it->state)
		return it->state;
	rem = it->len - it->pos;
	if (rem == 0)
		return ef_stop(it, NTP_EF_END);
	if (!inner && (rem == NTP_MAC_MD5_LEN || rem == NTP_MAC_SHA1_LEN)) {
		const uint8_t *p = it->buf + it->pos;

		ef->type = 0;
		ef->len = (uint16_t)rem;
		ef->off = it->pos;
		ef->mac_key_id = (uint32_t)ntp_get16(p) << 16 | ntp_get16(p + 2);
		ef->body = p + 4;
		ef->body_len = rem - 4;
		it->pos = it->len;
		/* The walk ends after the MAC; report it once. */
		it->state = NTP_EF_END;
		return NTP_EF_MAC;
	}
	if (rem < NTP_EF_HDR_LEN)
		return ef_stop(it, NTP_EF_ERR_TRUNCATED);
	if (it->count >= NTP_EF_MAX_FIELDS)
		return ef_stop(it, NTP_EF_ERR_TOO_MANY);
	flen = ntp_get16(it->buf + it->pos + 2);
	if (flen < NTP_EF_HDR_LEN)
		return ef_stop(it, NTP_EF_ERR_LEN);
	if (flen % 4)
		return ef_stop(it, NTP_EF_ERR_ALIGN);
	if (!inner && flen < NTP_EF_MIN_LEN)
		return ef_stop(it, NTP_EF_ERR_SHORT);
	if (flen > rem)
		return ef_stop(it, NTP_EF_ERR_OVERRUN);
	if (!inner && flen == rem && flen < NTP_EF_MIN_LAST_LEN)
		return ef_stop(it, NTP_EF_ERR_LAST_SHORT);
	ef->type = ntp_get16(it->buf + it->pos);
	ef->len = (uint16_t)flen;
	ef->off = it->pos;
	ef->body = it->buf + it->pos + NTP_EF_HDR_LEN;
	ef->body_len = flen - NTP_EF_HDR_LEN;
	ef->mac_key_id = 0;
	it->pos += flen;
	it->count++;
	return NTP_EF_FIELD;
}

const char *ntp_ef_strerror(int status)
{
	switch (status) {
	case NTP_EF_FIELD:
		return "field";
	case NTP_EF_END:
		return "end";
	case NTP_EF_MAC:
		return "legacy MAC";
	case NTP_EF_ERR_TRUNCATED:
		return "truncated field header";
	case NTP_EF_ERR_LEN:
		return "field length below 4";
	case NTP_EF_ERR_ALIGN:
		return "field length not a multiple of 4";
	case NTP_EF_ERR_SHORT:
		return "field shorter than 16 bytes";
	case NTP_EF_ERR_OVERRUN:
		return "field runs past the packet";
	case NTP_EF_ERR_LAST_SHORT:
		return "last field shorter than 28 bytes";
	case NTP_EF_ERR_TOO_MANY:
		return "too many fields";
	case NTP_EF_ERR_ARG:
		return "bad arguments";
	default:
		return "unknown";
	}
}

size_t ntp_ef_field_len(size_t body_len, size_t min_len)
{
	size_t n;

	if (body_len > SIZE_MAX - 8 || min_len > SIZE_MAX - 8)
		return SIZE_MAX;
	n = (NTP_EF_HDR_LEN + body_len + 3) & ~(size_t)3;
	if (n < min_len)
		n = (min_len + 3) & ~(size_t)3;
	return n;
}

uint8_t *ntp_ef_add(uint8_t *buf, size_t cap, size_t *len, uint16_t type,
		    const void *body, size_t body_len, size_t min_len)
{
	size_t flen = ntp_ef_field_len(body_len, min_len);
	uint8_t *p;

	if (!buf || *len > cap || flen > NTP_EF_MAX_LEN || flen > cap - *len)
		return NULL;
	p = buf + *len;
	ntp_put16(p, type);
	ntp_put16(p + 2, (uint16_t)flen);
	if (body)
		memmove(p + NTP_EF_HDR_LEN, body, body_len);
	else
		memset(p + NTP_EF_HDR_LEN, 0, body_len);
	memset(p + NTP_EF_HDR_LEN + body_len, 0, flen - NTP_EF_HDR_LEN - body_len);
	*len += flen;
	return p + NTP_EF_HDR_LEN;
}

void ntp_refid_text(const uint8_t refid[4], char out[NTP_REFID_TEXT])
{
	size_t n = 4, o = 0;

	while (n > 1 && !refid[n - 1] && refid[0] >= 0x20 && refid[0] < 0x7f)
		n--;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = refid[i];

		if (b == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (b >= 0x20 && b < 0x7f) {
			out[o++] = (char)b;
		} else {
			snprintf(out + o, NTP_REFID_TEXT - o, "\\x%02x", b);
			o += 4;
		}
	}
	out[o] = '\0';
}
