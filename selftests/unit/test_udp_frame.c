// SPDX-License-Identifier: GPL-2.0
/*
 * udp_frame: frames parsed and turned into replies in place. The expected
 * frames were built by an independent implementation (Python's struct, the
 * RFC 1071 sum), so the checksums here are not our own code checking itself.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "kselftest_harness.h"
#include "testutil.h"
#include "udp_frame.h"

/* 192.0.2.1:40000 -> 192.0.2.2:123, TTL 63, DF, a 60-byte NTP request. */
static const char req4[] =
	"020000000002020000000001080045000058123440003f11a55dc0000201c00002029c40007b00441695"
	"230006ec0000000000000000000000000000000000000000000000000000000000000000000000000123"
	"456789abcdefaaaaaaaaaaaaaaaaaaaaaaaa";
/* Its reply with the 48-byte payload 24 02 06 e8 00 01 .. 2b, TTL 64, DF clear. */
static const char resp4[] =
	"02000000000102000000000208004500004c123400004011e469c0000202c0000201007b9c400038e3ee"
	"240206e8000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425"
	"262728292a2b";
/* VLAN 7, [2001:db8::1]:40001 -> [2001:db8::2]:123, hop limit 60. */
static const char req6[] =
	"0200000000020200000000018100000786dd600000000044113c20010db8000000000000000000000001"
	"20010db80000000000000000000000029c41007b00443f23230006ec0000000000000000000000000000"
	"000000000000000000000000000000000000000000000123456789abcdefaaaaaaaaaaaaaaaaaaaaaaaa";
static const char resp6[] =
	"0200000000010200000000028100000786dd600000000038114020010db8000000000000000000000002"
	"20010db8000000000000000000000001007b9c4100380c7d240206e8000102030405060708090a0b0c0d"
	"0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b";

static uint8_t payload48[48];

static void make_payload(void)
{
	payload48[0] = 0x24;
	payload48[1] = 0x02;
	payload48[2] = 0x06;
	payload48[3] = 0xe8;
	for (int i = 0; i < 44; i++)
		payload48[4 + i] = (uint8_t)i;
}

static size_t load(const char *hex, uint8_t *buf, size_t cap)
{
	long n = hex_decode(hex, buf, cap);

	return n < 0 ? 0 : (size_t)n;
}

TEST(ipv4_parse_and_reply)
{
	uint8_t f[256], want[256];
	size_t n = load(req4, f, sizeof(f)), wn = load(resp4, want, sizeof(want));
	struct udp_frame uf;
	const struct sockaddr_in *src = (const void *)&uf.src, *dst = (const void *)&uf.dst;

	ASSERT_EQ(0, udp_frame_parse(f, n, &uf));
	EXPECT_EQ(AF_INET, uf.family);
	EXPECT_EQ(14, uf.l3_off);
	EXPECT_EQ(42, uf.payload_off);
	EXPECT_EQ(60, uf.payload_len);
	EXPECT_EQ(123, uf.dst_port);
	EXPECT_EQ(htonl(0xc0000201), src->sin_addr.s_addr);
	EXPECT_EQ(htons(40000), src->sin_port);
	EXPECT_EQ(htonl(0xc0000202), dst->sin_addr.s_addr);
	make_payload();
	memcpy(f + uf.payload_off, payload48, sizeof(payload48));
	ASSERT_EQ(wn, udp_frame_reply(f, &uf, sizeof(payload48)));
	EXPECT_EQ(0, memcmp(f, want, wn));
}

TEST(ipv6_vlan_parse_and_reply)
{
	uint8_t f[256], want[256];
	size_t n = load(req6, f, sizeof(f)), wn = load(resp6, want, sizeof(want));
	struct udp_frame uf;
	const struct sockaddr_in6 *src = (const void *)&uf.src;

	ASSERT_EQ(0, udp_frame_parse(f, n, &uf));
	EXPECT_EQ(AF_INET6, uf.family);
	EXPECT_EQ(18, uf.l3_off);
	EXPECT_EQ(66, uf.payload_off);
	EXPECT_EQ(60, uf.payload_len);
	EXPECT_EQ(htons(40001), src->sin6_port);
	EXPECT_EQ(0x01, src->sin6_addr.s6_addr[15]);
	make_payload();
	memcpy(f + uf.payload_off, payload48, sizeof(payload48));
	ASSERT_EQ(wn, udp_frame_reply(f, &uf, sizeof(payload48)));
	EXPECT_EQ(0, memcmp(f, want, wn));
}

/* Every single-bit flip in the IP or UDP headers or payload is refused or harmless. */
TEST(corruption_refused)
{
	uint8_t f[256], g[256];
	size_t n = load(req4, f, sizeof(f));
	struct udp_frame uf;

	for (size_t i = 14; i < n; i++) {
		for (int b = 0; b < 8; b++) {
			memcpy(g, f, n);
			g[i] ^= (uint8_t)(1 << b);
			/* TTL is not covered by any checksum the receiver checks... */
			if (i == 14 + 8)
				continue;
			EXPECT_NE(0, udp_frame_parse(g, n, &uf)) {
				TH_LOG("byte %zu bit %d accepted", i, b);
			}
		}
	}
	n = load(req6, f, sizeof(f));
	for (size_t i = 58; i < n; i++) {	/* UDP header and payload: checksummed */
		memcpy(g, f, n);
		g[i] ^= 0x10;
		EXPECT_NE(0, udp_frame_parse(g, n, &uf));
	}
}

TEST(shapes_refused)
{
	uint8_t f[256], g[256];
	size_t n = load(req4, f, sizeof(f));
	struct udp_frame uf;

	/* Truncated anywhere. */
	for (size_t k = 0; k < n; k++)
		EXPECT_EQ(UDP_FRAME_SHORT, udp_frame_parse(f, k, &uf));
	/* Trailing Ethernet padding is fine. */
	memcpy(g, f, n);
	EXPECT_EQ(0, udp_frame_parse(g, n + 6, &uf));
	/* More fragments, and an offset. */
	memcpy(g, f, n);
	g[14 + 6] = 0x20;
	EXPECT_EQ(UDP_FRAME_UNSUPPORTED, udp_frame_parse(g, n, &uf));
	memcpy(g, f, n);
	g[14 + 7] = 0x01;
	EXPECT_EQ(UDP_FRAME_UNSUPPORTED, udp_frame_parse(g, n, &uf));
	/* IPv4 options. */
	memcpy(g, f, n);
	g[14] = 0x46;
	EXPECT_EQ(UDP_FRAME_UNSUPPORTED, udp_frame_parse(g, n, &uf));
	/* TCP. */
	memcpy(g, f, n);
	g[14 + 9] = IPPROTO_TCP;
	EXPECT_EQ(UDP_FRAME_NOT_UDP, udp_frame_parse(g, n, &uf));
	/* ARP. */
	memcpy(g, f, n);
	g[12] = 0x08;
	g[13] = 0x06;
	EXPECT_EQ(UDP_FRAME_NOT_UDP, udp_frame_parse(g, n, &uf));
	/* IPv6 with a hop-by-hop header first. */
	n = load(req6, f, sizeof(f));
	memcpy(g, f, n);
	g[18 + 6] = 0;
	EXPECT_EQ(UDP_FRAME_UNSUPPORTED, udp_frame_parse(g, n, &uf));
	/* Stacked VLAN tags. */
	memcpy(g, f, n);
	g[16] = 0x81;
	g[17] = 0x00;
	EXPECT_EQ(UDP_FRAME_UNSUPPORTED, udp_frame_parse(g, n, &uf));
	/* IPv6 with a zero UDP checksum. */
	memcpy(g, f, n);
	g[58 + 6] = g[58 + 7] = 0;
	EXPECT_EQ(UDP_FRAME_CHECKSUM, udp_frame_parse(g, n, &uf));
}

/* Sources no reply may go to; the IPv4 header checksum is redone for each. */
TEST(sources_refused)
{
	static const uint8_t bad4[][4] = { { 0, 0, 0, 0 }, { 127, 0, 0, 1 },
					   { 224, 0, 0, 1 }, { 255, 255, 255, 255 } };
	uint8_t f[256];
	size_t n = load(req4, f, sizeof(f));
	struct udp_frame uf;

	for (size_t k = 0; k < sizeof(bad4) / sizeof(bad4[0]); k++) {
		uint32_t sum = 0;

		load(req4, f, sizeof(f));
		memcpy(f + 14 + 12, bad4[k], 4);
		f[14 + 10] = f[14 + 11] = 0;
		for (int i = 0; i < 20; i += 2)
			sum += (uint32_t)(f[14 + i] << 8 | f[14 + i + 1]);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		f[14 + 10] = (uint8_t)(~sum >> 8);
		f[14 + 11] = (uint8_t)~sum;
		EXPECT_EQ(UDP_FRAME_ADDRESS, udp_frame_parse(f, n, &uf));
	}
}

TEST_HARNESS_MAIN
