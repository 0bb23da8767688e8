// SPDX-License-Identifier: GPL-2.0
/* Frames for the XDP tests and benchmarks: see pkt.h. */
#include <string.h>

#include "pkt.h"

const uint8_t pkt_mac_srv[6] = { 0x02, 0, 0, 0, 0, 0x01 };
const uint8_t pkt_mac_cli[6] = { 0x02, 0, 0, 0, 0, 0x02 };
const uint8_t pkt_v4_cli[4] = { 192, 0, 2, 10 };
const uint8_t pkt_v4_srv[4] = { 198, 51, 100, 1 };
const uint8_t pkt_v6_cli[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };
const uint8_t pkt_v6_srv[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x01 };

uint32_t pkt_sum16(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

uint16_t pkt_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

uint32_t pkt_udp_sum(const struct pkt *p)
{
	size_t ulen = get16(p->b + p->l4 + 4);
	uint32_t s;

	if (p->l4 + ulen > p->len)
		ulen = p->len - p->l4;
	if (p->v6)
		s = pkt_sum16(p->b + p->l3 + 8, 32, 0) + (uint32_t)ulen + 17;
	else
		s = pkt_sum16(p->b + p->l3 + 12, 8, 0) + (uint32_t)ulen + 17;
	return pkt_sum16(p->b + p->l4, ulen, s);
}

static size_t ip4_hdr_len(const struct pkt *p)
{
	return (size_t)(p->b[p->l3] & 15) * 4;
}

void pkt_fix_csums(struct pkt *p)
{
	uint16_t c;

	if (!p->v6) {
		put16(p->b + p->l3 + 10, 0);
		put16(p->b + p->l3 + 10,
		      (uint16_t)~pkt_fold(pkt_sum16(p->b + p->l3, ip4_hdr_len(p), 0)));
	}
	put16(p->b + p->l4 + 6, 0);
	c = (uint16_t)~pkt_fold(pkt_udp_sum(p));
	put16(p->b + p->l4 + 6, c ? c : 0xffff);
}

int pkt_csums_ok(const struct pkt *p)
{
	if (!p->v6 && pkt_fold(pkt_sum16(p->b + p->l3, ip4_hdr_len(p), 0)) != 0xffff)
		return 0;
	if (get16(p->b + p->l4 + 6) == 0)
		return 0;
	return pkt_fold(pkt_udp_sum(p)) == 0xffff;
}

void pkt_udp(struct pkt *p, int v6, int vlan, uint16_t dport, const uint8_t *payload,
	     size_t plen)
{
	size_t o = 12;

	memset(p, 0, sizeof(*p));
	p->v6 = v6;
	memcpy(p->b, pkt_mac_srv, 6);
	memcpy(p->b + 6, pkt_mac_cli, 6);
	if (vlan) {
		put16(p->b + o, 0x8100);
		put16(p->b + o + 2, 0x2064);	/* PCP 1, VID 100 */
		o += 4;
	}
	put16(p->b + o, v6 ? 0x86dd : 0x0800);
	p->l3 = o + 2;
	if (v6) {
		put32(p->b + p->l3, 0x60012345);
		put16(p->b + p->l3 + 4, (uint16_t)(8 + plen));
		p->b[p->l3 + 6] = 17;
		p->b[p->l3 + 7] = 9;
		memcpy(p->b + p->l3 + 8, pkt_v6_cli, 16);
		memcpy(p->b + p->l3 + 24, pkt_v6_srv, 16);
		p->l4 = p->l3 + 40;
	} else {
		p->b[p->l3] = 0x45;
		p->b[p->l3 + 1] = 0xb8;
		put16(p->b + p->l3 + 2, (uint16_t)(28 + plen));
		put16(p->b + p->l3 + 4, 0x1234);
		put16(p->b + p->l3 + 6, 0x4000);	/* DF */
		p->b[p->l3 + 8] = 17;			/* TTL */
		p->b[p->l3 + 9] = 17;			/* UDP */
		memcpy(p->b + p->l3 + 12, pkt_v4_cli, 4);
		memcpy(p->b + p->l3 + 16, pkt_v4_srv, 4);
		p->l4 = p->l3 + 20;
	}
	put16(p->b + p->l4, PKT_CLIENT_PORT);
	put16(p->b + p->l4 + 2, dport);
	put16(p->b + p->l4 + 4, (uint16_t)(8 + plen));
	if (plen)
		memcpy(p->b + p->l4 + 8, payload, plen);
	p->len = p->l4 + 8 + plen;
	pkt_fix_csums(p);
}
