/* SPDX-License-Identifier: GPL-2.0 */
/*
 * udp_frame: an Ethernet frame carrying one UDP datagram, taken apart and
 * turned into its reply in place. The AF_XDP path receives whole frames;
 * this is the only place that reads or writes their L2-L4 headers, so the
 * answer itself still comes from ntp_serve() like on every other path.
 *
 * Contract:
 * - udp_frame_parse() accepts Ethernet II with at most one 802.1Q/802.1ad
 *   tag, then IPv4 without options and not fragmented, or IPv6 whose next
 *   header is UDP (no extension headers), and a UDP header whose length
 *   fits the IP payload. The UDP checksum is verified (mandatory for IPv6,
 *   when non-zero for IPv4). Addresses a unicast exchange cannot have at
 *   either end (multicast, broadcast, unspecified, loopback) are refused,
 *   as is port 0. Anything else: a negative enum udp_frame_err and no fields.
 *   Never reads outside [f, f + len).
 * - udp_frame_reply() rewrites the parsed frame into a reply carrying the
 *   plen payload bytes already written at f + payload_off: MAC, address
 *   and port pairs swapped, lengths, TTL/hop limit and checksums set. plen
 *   must not exceed the request's payload length, so a reply is never
 *   longer than its request. Returns the reply's frame length.
 * - No I/O, no allocation; safe from any thread.
 */
#ifndef XNTS_UDP_FRAME_H
#define XNTS_UDP_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum udp_frame_err {
	UDP_FRAME_OK = 0,
	UDP_FRAME_SHORT = -1,		/* truncated header or length mismatch */
	UDP_FRAME_NOT_UDP = -2,		/* other ethertype or IP protocol */
	UDP_FRAME_UNSUPPORTED = -3,	/* IPv4 options, fragments, IPv6 extension
					 * headers, stacked VLAN tags */
	UDP_FRAME_CHECKSUM = -4,	/* IPv4 header or UDP checksum wrong */
	UDP_FRAME_ADDRESS = -5,		/* not a unicast exchange */
};

struct udp_frame {
	size_t l3_off;			/* IP header */
	size_t l4_off;			/* UDP header */
	size_t payload_off;
	size_t payload_len;
	int family;			/* AF_INET or AF_INET6 */
	uint16_t dst_port;		/* host order */
	struct sockaddr_storage src;	/* the client */
	socklen_t src_len;
	struct sockaddr_storage dst;	/* the address it was sent to */
	socklen_t dst_len;
};

int udp_frame_parse(const uint8_t *f, size_t len, struct udp_frame *uf);
size_t udp_frame_reply(uint8_t *f, const struct udp_frame *uf, size_t plen);
const char *udp_frame_err_name(int err);

#endif
