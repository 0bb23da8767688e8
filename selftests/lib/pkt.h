/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pkt: frames for the XDP tests and benchmarks, built and checked
 * byte by byte in network order (RFC 1071 sums), independently of how the
 * program computes its checksums.
 *
 * Contract:
 * - pkt_udp() builds Ethernet (optionally one 802.1Q tag), IPv4 (TOS 0xb8,
 *   id 0x1234, DF, TTL 17) or IPv6 (flow label 0x12345, hop limit 9), UDP
 *   from PKT_CLIENT_PORT to dport, then the payload, with valid checksums,
 *   from the PKT_* client to the PKT_* server addresses. Non-zero TOS, id and
 *   flow label let a test see that an answer keeps them.
 * - pkt_fix_csums() recomputes both checksums after a test changed bytes;
 *   pkt_csums_ok() checks them (a zero UDP checksum is not ok).
 * - Lengths are never checked beyond the buffer: plen must fit PKT_MAX.
 */
#ifndef XNTS_SELFTESTS_PKT_H
#define XNTS_SELFTESTS_PKT_H

#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 2048
#define PKT_CLIENT_PORT 40000

struct pkt {
	uint8_t b[PKT_MAX];
	size_t len;
	size_t l3;	/* offset of the IP header */
	size_t l4;	/* offset of the UDP header */
	int v6;
};

extern const uint8_t pkt_mac_srv[6], pkt_mac_cli[6];
extern const uint8_t pkt_v4_cli[4], pkt_v4_srv[4];
extern const uint8_t pkt_v6_cli[16], pkt_v6_srv[16];

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static inline uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static inline void put64(uint8_t *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, (uint32_t)v);
}

/* Ones' complement sum of n bytes in network order, unfolded, added to s. */
uint32_t pkt_sum16(const uint8_t *p, size_t n, uint32_t s);
uint16_t pkt_fold(uint32_t s);
/* Pseudo header plus the UDP bytes its length field covers (cut to the frame). */
uint32_t pkt_udp_sum(const struct pkt *p);
void pkt_fix_csums(struct pkt *p);
int pkt_csums_ok(const struct pkt *p);
void pkt_udp(struct pkt *p, int v6, int vlan, uint16_t dport, const uint8_t *payload,
	     size_t plen);

#endif
