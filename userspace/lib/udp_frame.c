// SPDX-License-Identifier: GPL-2.0
/* udp_frame: see udp_frame.h for the contract. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "udp_frame.h"

#define ETH_HLEN_ 14
#define ETH_ALEN_ 6
#define VLAN_HLEN_ 4
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8
#define IPV4_HLEN 20
#define IPV6_HLEN 40
#define UDP_HLEN 8
#define REPLY_TTL 64

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* One's complement sum of big-endian 16-bit words, an odd byte padded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* UDP checksum over the pseudo-header, the header and the payload. */
static uint16_t udp_csum(const uint8_t *src, const uint8_t *dst, size_t alen,
			 const uint8_t *udp, size_t ulen)
{
	uint32_t sum = 0;

	sum = csum_add(sum, src, alen);
	sum = csum_add(sum, dst, alen);
	sum += IPPROTO_UDP + (uint32_t)ulen;
	sum = csum_add(sum, udp, ulen);
	return csum_fold(sum);
}

static int bad_addr4(const uint8_t *a)
{
	return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

static int bad_addr6(const uint8_t *a)
{
	static const uint8_t zero[16];

	if (a[0] == 0xff)
		return 1;
	if (!memcmp(a, zero, 15))	/* :: and ::1 */
		return a[15] <= 1;
	return 0;
}

int udp_frame_parse(const uint8_t *f, size_t len, struct udp_frame *uf)
{
	const uint8_t *ip, *udp, *src, *dst;
	size_t off = 2 * ETH_ALEN_, iplen, ulen, alen;
	uint16_t et;

	if (len < ETH_HLEN_)
		return UDP_FRAME_SHORT;
	et = get16(f + off);
	off += 2;
	if (et == ETHERTYPE_8021Q || et == ETHERTYPE_8021AD) {
		if (len < off + VLAN_HLEN_)
			return UDP_FRAME_SHORT;
		et = get16(f + off + 2);
		off += VLAN_HLEN_;
		if (et == ETHERTYPE_8021Q || et == ETHERTYPE_8021AD)
			return UDP_FRAME_UNSUPPORTED;
	}
	ip = f + off;
	if (et == ETHERTYPE_IPV4) {
		if (len < off + IPV4_HLEN)
			return UDP_FRAME_SHORT;
		if ((ip[0] >> 4) != 4)
			return UDP_FRAME_NOT_UDP;
		if ((ip[0] & 0xf) != 5 || (get16(ip + 6) & 0x3fff))
			return UDP_FRAME_UNSUPPORTED;
		if (ip[9] != IPPROTO_UDP)
			return UDP_FRAME_NOT_UDP;
		iplen = get16(ip + 2);
		if (iplen < IPV4_HLEN + UDP_HLEN || off + iplen > len)
			return UDP_FRAME_SHORT;
		if (csum_fold(csum_add(0, ip, IPV4_HLEN)))
			return UDP_FRAME_CHECKSUM;
		udp = ip + IPV4_HLEN;
		ulen = iplen - IPV4_HLEN;
		src = ip + 12;
		dst = ip + 16;
		alen = 4;
		if (bad_addr4(src) || bad_addr4(dst))
			return UDP_FRAME_ADDRESS;
	} else if (et == ETHERTYPE_IPV6) {
		if (len < off + IPV6_HLEN)
			return UDP_FRAME_SHORT;
		if ((ip[0] >> 4) != 6)
			return UDP_FRAME_NOT_UDP;
		if (ip[6] != IPPROTO_UDP)
			return ip[6] == IPPROTO_TCP || ip[6] == IPPROTO_ICMPV6 ?
			       UDP_FRAME_NOT_UDP : UDP_FRAME_UNSUPPORTED;
		ulen = get16(ip + 4);
		if (ulen < UDP_HLEN || off + IPV6_HLEN + ulen > len)
			return UDP_FRAME_SHORT;
		udp = ip + IPV6_HLEN;
		src = ip + 8;
		dst = ip + 24;
		alen = 16;
		if (bad_addr6(src) || bad_addr6(dst))
			return UDP_FRAME_ADDRESS;
	} else {
		return UDP_FRAME_NOT_UDP;
	}
	/* The UDP length must agree with the IP payload exactly. */
	if (get16(udp + 4) != ulen)
		return UDP_FRAME_SHORT;
	if (!get16(udp) || !get16(udp + 2))
		return UDP_FRAME_ADDRESS;
	if (get16(udp + 6) || alen == 16) {
		if (!get16(udp + 6) || udp_csum(src, dst, alen, udp, ulen))
			return UDP_FRAME_CHECKSUM;
	}

	memset(uf, 0, sizeof(*uf));
	uf->l3_off = off;
	uf->l4_off = (size_t)(udp - f);
	uf->payload_off = uf->l4_off + UDP_HLEN;
	uf->payload_len = ulen - UDP_HLEN;
	uf->dst_port = get16(udp + 2);
	if (alen == 4) {
		struct sockaddr_in *s = (struct sockaddr_in *)&uf->src;
		struct sockaddr_in *d = (struct sockaddr_in *)&uf->dst;

		uf->family = AF_INET;
		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, src, 4);
		memcpy(&d->sin_addr, dst, 4);
		memcpy(&s->sin_port, udp, 2);
		memcpy(&d->sin_port, udp + 2, 2);
		uf->src_len = uf->dst_len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&uf->src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&uf->dst;

		uf->family = AF_INET6;
		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, src, 16);
		memcpy(&d->sin6_addr, dst, 16);
		memcpy(&s->sin6_port, udp, 2);
		memcpy(&d->sin6_port, udp + 2, 2);
		uf->src_len = uf->dst_len = sizeof(*s);
	}
	return UDP_FRAME_OK;
}

static void swap_bytes(uint8_t *a, uint8_t *b, size_t n)
{
	uint8_t t[16];

	memcpy(t, a, n);
	memcpy(a, b, n);
	memcpy(b, t, n);
}

size_t udp_frame_reply(uint8_t *f, const struct udp_frame *uf, size_t plen)
{
	uint8_t *ip = f + uf->l3_off, *udp = f + uf->l4_off;
	size_t ulen = UDP_HLEN + plen;
	uint16_t c;

	swap_bytes(f, f + ETH_ALEN_, ETH_ALEN_);
	swap_bytes(udp, udp + 2, 2);
	put16(udp + 4, (uint16_t)ulen);
	put16(udp + 6, 0);
	if (uf->family == AF_INET) {
		swap_bytes(ip + 12, ip + 16, 4);
		put16(ip + 2, (uint16_t)(IPV4_HLEN + ulen));
		put16(ip + 6, 0);	/* unfragmented: DF clear, offset 0 */
		ip[8] = REPLY_TTL;
		put16(ip + 10, 0);
		put16(ip + 10, csum_fold(csum_add(0, ip, IPV4_HLEN)));
		c = udp_csum(ip + 12, ip + 16, 4, udp, ulen);
	} else {
		swap_bytes(ip + 8, ip + 24, 16);
		put16(ip + 4, (uint16_t)ulen);
		ip[7] = REPLY_TTL;
		c = udp_csum(ip + 8, ip + 24, 16, udp, ulen);
	}
	/* A computed 0 is sent as all ones (RFC 768; mandatory for IPv6). */
	put16(udp + 6, c ? c : 0xffff);
	return uf->payload_off + plen;
}

const char *udp_frame_err_name(int err)
{
	switch (err) {
	case UDP_FRAME_OK:
		return "ok";
	case UDP_FRAME_SHORT:
		return "short";
	case UDP_FRAME_NOT_UDP:
		return "not_udp";
	case UDP_FRAME_UNSUPPORTED:
		return "unsupported";
	case UDP_FRAME_CHECKSUM:
		return "checksum";
	case UDP_FRAME_ADDRESS:
		return "address";
	}
	return "unknown";
}
