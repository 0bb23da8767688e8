// SPDX-License-Identifier: GPL-2.0
/* NTPv4 header codec, era-aware timestamps, short format, EF framing. */
#include <string.h>

#include "kselftest_harness.h"
#include "ntp.h"

#define NS 1000000000LL
/* Unix seconds of era boundaries and landmarks. */
#define T1900 (-2208988800LL)			/* era 0 starts */
#define T1968 ((1LL << 31) - 2208988800LL)	/* 1968-01-20 03:14:08 */
#define T2036 ((1LL << 32) - 2208988800LL)	/* 2036-02-07 06:28:16, era 1 */
#define T2100 4102444800LL			/* 2100-01-01 */

TEST(header_round_trip)
{
	struct ntp_header h = {
		.leap = NTP_LEAP_UNSYNC, .version = 4, .mode = NTP_MODE_CLIENT,
		.stratum = 2, .poll = 6, .precision = -20,
		.root_delay = 0x00012345, .root_dispersion = 0x0000abcd,
		.refid = { 'G', 'P', 'S', 0 },
		.ref_ts = 0x0102030405060708ULL, .orig_ts = 0x1112131415161718ULL,
		.rx_ts = 0x2122232425262728ULL, .tx_ts = 0xf1f2f3f4f5f6f7f8ULL,
	};
	uint8_t buf[NTP_HEADER_LEN];
	struct ntp_header d;

	ntp_header_encode(&h, buf);
	EXPECT_EQ(0xe3, buf[0]);	/* 11 100 011 */
	EXPECT_EQ(2, buf[1]);
	EXPECT_EQ(6, buf[2]);
	EXPECT_EQ(0xec, buf[3]);
	EXPECT_EQ(0x01, buf[5]);
	EXPECT_EQ(0x45, buf[7]);
	EXPECT_EQ('G', buf[12]);
	EXPECT_EQ(0x01, buf[16]);
	EXPECT_EQ(0x18, buf[31]);
	EXPECT_EQ(0xf8, buf[47]);
	ASSERT_EQ(0, ntp_header_decode(&d, buf, sizeof(buf)));
	EXPECT_EQ(h.leap, d.leap);
	EXPECT_EQ(h.version, d.version);
	EXPECT_EQ(h.mode, d.mode);
	EXPECT_EQ(h.stratum, d.stratum);
	EXPECT_EQ(h.poll, d.poll);
	EXPECT_EQ(h.precision, d.precision);
	EXPECT_EQ(h.root_delay, d.root_delay);
	EXPECT_EQ(h.root_dispersion, d.root_dispersion);
	EXPECT_EQ(0, memcmp(h.refid, d.refid, 4));
	EXPECT_EQ(h.ref_ts, d.ref_ts);
	EXPECT_EQ(h.orig_ts, d.orig_ts);
	EXPECT_EQ(h.rx_ts, d.rx_ts);
	EXPECT_EQ(h.tx_ts, d.tx_ts);
	EXPECT_EQ(-1, ntp_header_decode(&d, buf, NTP_HEADER_LEN - 1));
	EXPECT_EQ(-1, ntp_header_decode(&d, NULL, NTP_HEADER_LEN));

	/* Out-of-range bit fields are masked, not spilled into neighbours. */
	h.leap = 0xff;
	h.version = 0xff;
	h.mode = 0xf8 | 4;
	ntp_header_encode(&h, buf);
	EXPECT_EQ(0xfc, buf[0]);
}

TEST(timestamp_landmarks)
{
	/* 1900: era 0 second 0. */
	EXPECT_EQ(0ULL, ntp_ts_from_ns(T1900 * NS));
	EXPECT_EQ(T1900 * NS, ntp_ts_to_ns(0, T1900 * NS));
	EXPECT_EQ(T1900 * NS, ntp_ts_to_ns(0, -30LL * 365 * 86400 * NS));
	/* Unix epoch. */
	EXPECT_EQ((uint64_t)2208988800ULL << 32, ntp_ts_from_ns(0));
	EXPECT_EQ(0, ntp_ts_to_ns((uint64_t)2208988800ULL << 32, 0));
	/* 1968: the top bit of the seconds sets; still era 0. */
	EXPECT_EQ(0x80000000ULL << 32, ntp_ts_from_ns(T1968 * NS));
	EXPECT_EQ(T1968 * NS, ntp_ts_to_ns(0x80000000ULL << 32, 0));
	EXPECT_EQ(0, ntp_era_of_ns(T1968 * NS));
	/* 2036: the seconds wrap to 0 in era 1. */
	EXPECT_EQ(0ULL, ntp_ts_from_ns(T2036 * NS));
	EXPECT_EQ(1, ntp_era_of_ns(T2036 * NS));
	EXPECT_EQ(0, ntp_era_of_ns(T2036 * NS - 1));
	EXPECT_EQ(T2036 * NS, ntp_ts_to_ns(0, T2036 * NS));
	EXPECT_EQ(T2036 * NS, ntp_ts_to_ns(0, 1700000000LL * NS));
	/* The same bits read near 1900 are 1900: the reference picks. */
	EXPECT_EQ(T1900 * NS, ntp_ts_to_ns(0, T1900 * NS + 5 * NS));
	/* Last second of era 0 seen from just after the wrap. */
	EXPECT_EQ((T2036 - 1) * NS, ntp_ts_to_ns(0xffffffffULL << 32, T2036 * NS + NS));
	/* One second after the wrap seen from just before it. */
	EXPECT_EQ((T2036 + 1) * NS, ntp_ts_to_ns(1ULL << 32, (T2036 - 1) * NS));
	/* 2100, era 1. */
	EXPECT_EQ((uint64_t)(T2100 + 2208988800LL - (1LL << 32)) << 32,
		  ntp_ts_from_ns(T2100 * NS));
	EXPECT_EQ(1, ntp_era_of_ns(T2100 * NS));
	EXPECT_EQ(T2100 * NS, ntp_ts_to_ns(ntp_ts_from_ns(T2100 * NS), T2100 * NS));
	EXPECT_EQ(T2100 * NS, ntp_ts_to_ns(ntp_ts_from_ns(T2100 * NS), T2036 * NS));
	/* Before 1900 is era -1. */
	EXPECT_EQ(-1, ntp_era_of_ns(T1900 * NS - 1));
	/* Half a second is exactly 2^31 fraction units. */
	EXPECT_EQ(((uint64_t)2208988800ULL << 32) | 0x80000000ULL,
		  ntp_ts_from_ns(NS / 2));
}

TEST(timestamp_round_trip)
{
	static const int64_t base[] = { T1900, T1968, 0, 1700000000, T2036, T2100 };
	static const int64_t delta_ns[] = {
		0, 1, 999999999, -1, 86400 * NS + 123456789, -86400 * NS - 7,
		60LL * 365 * 86400 * NS, -60LL * 365 * 86400 * NS,
	};

	for (unsigned int i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		for (unsigned int j = 0; j < sizeof(delta_ns) / sizeof(delta_ns[0]); j++) {
			int64_t t = base[i] * NS + delta_ns[j];
			/* References up to 60 years away still pick the era. */
			int64_t refs[] = { t, t + 60LL * 365 * 86400 * NS,
					   t - 60LL * 365 * 86400 * NS };
			uint64_t ts = ntp_ts_from_ns(t);

			for (unsigned int k = 0; k < 3; k++) {
				EXPECT_EQ(t, ntp_ts_to_ns(ts, refs[k]));
			}
			/* 70 years off is more than half an era: wrong era. */
			EXPECT_NE(t, ntp_ts_to_ns(ts, t + 70LL * 365 * 86400 * NS));
		}
	}
	/* Extremes saturate rather than overflow. */
	EXPECT_EQ(INT64_MAX, ntp_ts_to_ns(3842426244ULL << 32, INT64_MAX));
	EXPECT_EQ(INT64_MIN, ntp_ts_to_ns(575551355ULL << 32, INT64_MIN));
}

TEST(timestamp_timespec)
{
	struct timespec t = { .tv_sec = T2036 - 1, .tv_nsec = 999999999 }, out;
	struct timespec ref = { .tv_sec = T2036 + 3600, .tv_nsec = 0 };
	struct timespec odd = { .tv_sec = 10, .tv_nsec = -1 };
	uint64_t ts = ntp_ts_from_timespec(&t);

	EXPECT_EQ(0xffffffffULL, ts >> 32);
	ntp_ts_to_timespec(ts, &ref, &out);
	EXPECT_EQ(t.tv_sec, out.tv_sec);
	EXPECT_EQ(t.tv_nsec, out.tv_nsec);
	t.tv_sec = T2100;
	t.tv_nsec = 1;
	ts = ntp_ts_from_timespec(&t);
	ntp_ts_to_timespec(ts, &ref, &out);
	EXPECT_EQ(T2100, out.tv_sec);
	EXPECT_EQ(1, out.tv_nsec);
	t.tv_sec = T1900;
	t.tv_nsec = 0;
	ref.tv_sec = T1968;
	ntp_ts_to_timespec(ntp_ts_from_timespec(&t), &ref, &out);
	EXPECT_EQ(T1900, out.tv_sec);
	/* Unnormalised nsec is folded into seconds. */
	EXPECT_EQ(ntp_ts_from_ns(10 * NS - 1), ntp_ts_from_timespec(&odd));
	/* Agrees with the ns form. */
	t.tv_sec = 1700000000;
	t.tv_nsec = 123456789;
	EXPECT_EQ(ntp_ts_from_ns(1700000000LL * NS + 123456789), ntp_ts_from_timespec(&t));
}

TEST(short_format)
{
	EXPECT_EQ(0x00010000U, ntp_short_from_ns(NS));
	EXPECT_EQ(0x00018000U, ntp_short_from_ns(NS + NS / 2));
	EXPECT_EQ(0U, ntp_short_from_ns(0));
	EXPECT_EQ(0U, ntp_short_from_ns(-5));
	EXPECT_EQ(1U, ntp_short_from_ns(1));	/* rounded up: a bound */
	EXPECT_EQ(0xffffffffU, ntp_short_from_ns(65536 * NS));
	EXPECT_EQ(0xffffffffU, ntp_short_from_ns(INT64_MAX));
	EXPECT_EQ(NS, ntp_short_to_ns(0x00010000));
	EXPECT_EQ(NS / 4, ntp_short_to_ns(0x00004000));
	EXPECT_EQ(15258, ntp_short_to_ns(1));
	EXPECT_EQ(65535 * NS + (NS * 65535 >> 16), ntp_short_to_ns(0xffffffff));
	/* to_ns truncates and from_ns rounds up, so short -> ns -> short is exact. */
	for (uint32_t s = 0; s < 0x40000; s += 977) {
		EXPECT_EQ(s, ntp_short_from_ns(ntp_short_to_ns(s)));
	}
	EXPECT_EQ(0xffffffffU, ntp_short_from_ns(ntp_short_to_ns(0xffffffff)));
}

/* Build a test packet: header then fields given as (type, len) with body 0xab. */
static size_t put_ef(uint8_t *p, size_t off, uint16_t type, uint16_t len)
{
	ntp_put16(p + off, type);
	ntp_put16(p + off + 2, len);
	if (len > 4)
		memset(p + off + 4, 0xab, len - 4);
	return off + (len < 4 ? 4 : len);
}

static int walk(const uint8_t *p, size_t len, unsigned int flags, size_t start,
		unsigned int *fields, unsigned int *macs)
{
	struct ntp_ef_iter it;
	struct ntp_ef ef;
	int st;

	*fields = 0;
	*macs = 0;
	ntp_ef_iter_init(&it, p, len, start, flags);
	for (int guard = 0; guard < 1000; guard++) {
		st = ntp_ef_next(&it, &ef);
		if (st == NTP_EF_FIELD)
			(*fields)++;
		else if (st == NTP_EF_MAC)
			(*macs)++;
		else
			return st;
	}
	return 99;
}

TEST(ef_iterator_valid)
{
	uint8_t p[512] = { 0 };
	struct ntp_ef_iter it;
	struct ntp_ef ef;
	unsigned int n, m;
	size_t len;

	len = put_ef(p, NTP_HEADER_LEN, 0x1234, 16);
	len = put_ef(p, len, 0x0404, 40);
	ntp_ef_iter_init(&it, p, len, NTP_HEADER_LEN, 0);
	ASSERT_EQ(NTP_EF_FIELD, ntp_ef_next(&it, &ef));
	EXPECT_EQ(0x1234, ef.type);
	EXPECT_EQ(16, ef.len);
	EXPECT_EQ(NTP_HEADER_LEN, ef.off);
	EXPECT_EQ(12, ef.body_len);
	EXPECT_EQ(p + NTP_HEADER_LEN + 4, ef.body);
	ASSERT_EQ(NTP_EF_FIELD, ntp_ef_next(&it, &ef));
	EXPECT_EQ(0x0404, ef.type);
	EXPECT_EQ(64, ef.off);
	EXPECT_EQ(NTP_EF_END, ntp_ef_next(&it, &ef));
	EXPECT_EQ(NTP_EF_END, ntp_ef_next(&it, &ef));
	/* A bare header has no fields. */
	EXPECT_EQ(NTP_EF_END, walk(p, NTP_HEADER_LEN, 0, NTP_HEADER_LEN, &n, &m));
	EXPECT_EQ(0, n);
	/* A single field of exactly 28 is the minimum last field. */
	len = put_ef(p, NTP_HEADER_LEN, 0x1, 28);
	EXPECT_EQ(NTP_EF_END, walk(p, len, 0, NTP_HEADER_LEN, &n, &m));
	EXPECT_EQ(1, n);
	/* Start past the end is an argument error. */
	EXPECT_EQ(NTP_EF_ERR_ARG, walk(p, 10, 0, NTP_HEADER_LEN, &n, &m));
}

TEST(ef_iterator_errors)
{
	uint8_t p[4096] = { 0 };
	unsigned int n, m;
	size_t len;

	/* Truncated: 1..3 bytes where a field header should be. */
	for (size_t extra = 1; extra < 4; extra++) {
		EXPECT_EQ(NTP_EF_ERR_TRUNCATED,
			  walk(p, NTP_HEADER_LEN + extra, 0, NTP_HEADER_LEN, &n, &m));
	}
	/* Misaligned packet: a good field then 2 stray bytes. */
	len = put_ef(p, NTP_HEADER_LEN, 0x1, 32);
	EXPECT_EQ(NTP_EF_ERR_TRUNCATED, walk(p, len + 2, 0, NTP_HEADER_LEN, &n, &m));
	EXPECT_EQ(1, n);
	/* Length below 4 (0 would otherwise loop forever). */
	for (uint16_t l = 0; l < 4; l++) {
		len = put_ef(p, NTP_HEADER_LEN, 0x1, 32);
		ntp_put16(p + NTP_HEADER_LEN + 2, l);
		EXPECT_EQ(NTP_EF_ERR_LEN, walk(p, len, 0, NTP_HEADER_LEN, &n, &m));
	}
	/* Length not a multiple of 4. */
	len = put_ef(p, NTP_HEADER_LEN, 0x1, 32);
	ntp_put16(p + NTP_HEADER_LEN + 2, 30);
	EXPECT_EQ(NTP_EF_ERR_ALIGN, walk(p, len, 0, NTP_HEADER_LEN, &n, &m));
	/* Length 12 < 16 (then a valid last field). */
	len = put_ef(p, NTP_HEADER_LEN, 0x1, 12);
	len = put_ef(p, len, 0x2, 28);
	EXPECT_EQ(NTP_EF_ERR_SHORT, walk(p, len, 0, NTP_HEADER_LEN, &n, &m));
	/* ...which is allowed inside an NTS ciphertext. */
	EXPECT_EQ(NTP_EF_END, walk(p, len, NTP_EF_INNER, NTP_HEADER_LEN, &n, &m));
	EXPECT_EQ(2, n);
	/* Overrun and oversize. */
	len = put_ef(p, NTP_HEADER_LEN, 0x1, 32);
	ntp_put16(p + NTP_HEADER_LEN + 2, 36);
	EXPECT_EQ(NTP_EF_ERR_OVERRUN, walk(p, len, 0, NTP_HEADER_LEN, &n, &m));
	ntp_put16(p + NTP_HEADER_LEN + 2, 0xfffc);
	EXPECT_EQ(NTP_EF_ERR_OVERRUN, walk(p, len, 0, NTP_HEADER_LEN, &n, &m));
	EXPECT_EQ(NTP_EF_ERR_OVERRUN, walk(p, len, NTP_EF_INNER, NTP_HEADER_LEN, &n, &m));
	/* Last field 16 (no MAC possible) is too short for RFC 7822. */
	len = put_ef(p, NTP_HEADER_LEN, 0x1, 16);
	EXPECT_EQ(NTP_EF_ERR_LAST_SHORT, walk(p, len, 0, NTP_HEADER_LEN, &n, &m));
	len = put_ef(p, len, 0x1, 16);
	EXPECT_EQ(NTP_EF_ERR_LAST_SHORT, walk(p, len, 0, NTP_HEADER_LEN, &n, &m));
	EXPECT_EQ(1, n);
	/* Too many fields. */
	len = NTP_HEADER_LEN;
	for (int i = 0; i < NTP_EF_MAX_FIELDS; i++)
		len = put_ef(p, len, 0x1, 16);
	len = put_ef(p, len, 0x1, 28);
	EXPECT_EQ(NTP_EF_ERR_TOO_MANY, walk(p, len, 0, NTP_HEADER_LEN, &n, &m));
	EXPECT_EQ(NTP_EF_MAX_FIELDS, n);
	/* One less is fine. */
	len = NTP_HEADER_LEN;
	for (int i = 0; i < NTP_EF_MAX_FIELDS - 1; i++)
		len = put_ef(p, len, 0x1, 16);
	len = put_ef(p, len, 0x1, 28);
	EXPECT_EQ(NTP_EF_END, walk(p, len, 0, NTP_HEADER_LEN, &n, &m));
	EXPECT_EQ(NTP_EF_MAX_FIELDS, n);
}

TEST(ef_iterator_sticky_error)
{
	uint8_t p[128] = { 0 };
	struct ntp_ef_iter it;
	struct ntp_ef ef;
	size_t len = put_ef(p, NTP_HEADER_LEN, 0x1, 32);

	ntp_put16(p + NTP_HEADER_LEN + 2, 18);
	ntp_ef_iter_init(&it, p, len, NTP_HEADER_LEN, 0);
	EXPECT_EQ(NTP_EF_ERR_ALIGN, ntp_ef_next(&it, &ef));
	EXPECT_EQ(NTP_EF_ERR_ALIGN, ntp_ef_next(&it, &ef));
	EXPECT_STREQ("field length not a multiple of 4", ntp_ef_strerror(NTP_EF_ERR_ALIGN));
}

TEST(ef_mac_trailer)
{
	uint8_t p[256] = { 0 };
	struct ntp_ef_iter it;
	struct ntp_ef ef;
	unsigned int n, m;
	size_t len;

	/* Header + key id + MD5 digest: 68 bytes. */
	p[48] = 0x00; p[49] = 0x00; p[50] = 0x01; p[51] = 0x02;
	memset(p + 52, 0x5a, 16);
	ntp_ef_iter_init(&it, p, 68, NTP_HEADER_LEN, 0);
	ASSERT_EQ(NTP_EF_MAC, ntp_ef_next(&it, &ef));
	EXPECT_EQ(0x0102U, ef.mac_key_id);
	EXPECT_EQ(16, ef.body_len);
	EXPECT_EQ(p + 52, ef.body);
	EXPECT_EQ(20, ef.len);
	EXPECT_EQ(NTP_EF_END, ntp_ef_next(&it, &ef));
	/* SHA-1 MAC after a 16-byte field (legal before a MAC). */
	len = put_ef(p, NTP_HEADER_LEN, 0x1, 16);
	memset(p + len, 0x11, 24);
	EXPECT_EQ(NTP_EF_END, walk(p, len + 24, 0, NTP_HEADER_LEN, &n, &m));
	EXPECT_EQ(1, n);
	EXPECT_EQ(1, m);
	/* A 24-byte "field" at the end is a MAC by RFC 7822, never a field. */
	len = put_ef(p, NTP_HEADER_LEN, 0x1, 24);
	EXPECT_EQ(NTP_EF_END, walk(p, len, 0, NTP_HEADER_LEN, &n, &m));
	EXPECT_EQ(0, n);
	EXPECT_EQ(1, m);
	/* Inside a ciphertext there is no MAC: 20 bytes are a field. */
	len = put_ef(p, 0, 0x1, 20);
	EXPECT_EQ(NTP_EF_END, walk(p, len, NTP_EF_INNER, 0, &n, &m));
	EXPECT_EQ(1, n);
	EXPECT_EQ(0, m);
	/* Other short trailers are not MACs. */
	put_ef(p, NTP_HEADER_LEN, 0x1, 16);
	EXPECT_EQ(NTP_EF_ERR_LAST_SHORT, walk(p, NTP_HEADER_LEN + 16, 0, NTP_HEADER_LEN, &n, &m));
}

TEST(ef_builder)
{
	static uint8_t big[70000];
	uint8_t p[96];
	const size_t cap = 80;
	size_t bl = 0;
	uint8_t body[5] = { 1, 2, 3, 4, 5 };
	struct ntp_ef_iter it;
	struct ntp_ef ef;
	size_t len = NTP_HEADER_LEN;
	uint8_t *b;

	memset(p, 0xee, sizeof(p));
	EXPECT_EQ(12, ntp_ef_field_len(5, 0));
	EXPECT_EQ(16, ntp_ef_field_len(5, 16));
	EXPECT_EQ(28, ntp_ef_field_len(5, 26));
	EXPECT_EQ(40, ntp_ef_field_len(36, 28));
	b = ntp_ef_add(p, cap, &len, 0x0104, body, sizeof(body), NTP_EF_MIN_LEN);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(NTP_HEADER_LEN + 16, len);
	EXPECT_EQ(p + NTP_HEADER_LEN + 4, b);
	EXPECT_EQ(0x01, p[48]);
	EXPECT_EQ(0x04, p[49]);
	EXPECT_EQ(0, p[50]);
	EXPECT_EQ(16, p[51]);
	EXPECT_EQ(0, memcmp(b, body, 5));
	for (int i = 5; i < 12; i++) {
		EXPECT_EQ(0, b[i]);
	}
	/* Does not fit: nothing written, len unchanged. */
	EXPECT_EQ(NULL, ntp_ef_add(p, cap, &len, 0x1, NULL, 0, 28));
	EXPECT_EQ(NTP_HEADER_LEN + 16, len);
	EXPECT_EQ(0xee, p[NTP_HEADER_LEN + 16]);
	/* Exactly fits. */
	b = ntp_ef_add(p, cap, &len, 0x2, NULL, 12, 0);
	ASSERT_NE(NULL, b);
	EXPECT_EQ(cap, len);
	EXPECT_EQ(0, b[11]);
	/* Over the 16-bit length. */
	EXPECT_EQ(NULL, ntp_ef_add(big, sizeof(big), &bl, 0x1, NULL, 0xfff9, 0));
	EXPECT_EQ(0, bl);
	EXPECT_NE(NULL, ntp_ef_add(big, sizeof(big), &bl, 0x1, NULL, 0xfff8, 0));
	EXPECT_EQ(0xfffc, bl);
	/* What it builds, the iterator reads back (inner rules: 16 at end). */
	ntp_ef_iter_init(&it, p, len, NTP_HEADER_LEN, NTP_EF_INNER);
	EXPECT_EQ(NTP_EF_FIELD, ntp_ef_next(&it, &ef));
	EXPECT_EQ(0x0104, ef.type);
	EXPECT_EQ(NTP_EF_FIELD, ntp_ef_next(&it, &ef));
	EXPECT_EQ(NTP_EF_END, ntp_ef_next(&it, &ef));
}

/* Reference IDs in status text: no raw byte from the network gets through. */
TEST(refid_text)
{
	static const struct {
		uint8_t in[4];
		const char *out;
	} v[] = {
		{ "GPS ", "GPS " },
		{ { 'G', 'P', 'S', 0 }, "GPS" },		/* RFC 5905 zero padding */
		{ "RATE", "RATE" },
		{ { 0xc0, 0x00, 0x02, 0x01 }, "\\xc0\\x00\\x02\\x01" },	/* an IPv4 refid */
		{ { 0, 0, 0, 0 }, "\\x00\\x00\\x00\\x00" },
		{ { 'A', '\n', 0x1b, 'B' }, "A\\x0a\\x1bB" },
		{ { '\\', '"', 0x7f, 0xff }, "\\\\\"\\x7f\\xff" },
		{ { 'X', 0, 'Y', 0 }, "X\\x00Y" },
	};
	char out[NTP_REFID_TEXT];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(out, 'Z', sizeof(out));
		ntp_refid_text(v[i].in, out);
		EXPECT_STREQ(v[i].out, out);
	}
}

TEST_HARNESS_MAIN
