// SPDX-License-Identifier: GPL-2.0
/*
 * netaddr: configuration addresses to socket addresses, and the text form
 * every log line and status document uses.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "kselftest_harness.h"
#include "netaddr.h"

TEST(from_config_ipv4)
{
	struct config_addr a = { .family = AF_INET, .addr = { 192, 0, 2, 1 }, .port = 123 };
	const struct sockaddr_in *s4;
	struct netaddr n;

	memset(&n, 0xee, sizeof(n));
	netaddr_from_config(&a, &n);
	s4 = (const struct sockaddr_in *)&n.ss;
	EXPECT_EQ(sizeof(struct sockaddr_in), n.len);
	EXPECT_EQ(AF_INET, s4->sin_family);
	EXPECT_EQ(htons(123), s4->sin_port);
	EXPECT_EQ(htonl(0xc0000201), s4->sin_addr.s_addr);
	/* Nothing left over from before. */
	for (size_t i = sizeof(*s4); i < sizeof(n.ss); i++)
		EXPECT_EQ(0, ((const uint8_t *)&n.ss)[i]);
}

TEST(from_config_ipv6)
{
	struct config_addr a = { .family = AF_INET6, .port = 4460 };
	const struct sockaddr_in6 *s6;
	struct in6_addr want;
	struct netaddr n;

	inet_pton(AF_INET6, "2001:db8::7", &want);
	memcpy(a.addr, &want, 16);
	netaddr_from_config(&a, &n);
	s6 = (const struct sockaddr_in6 *)&n.ss;
	EXPECT_EQ(sizeof(struct sockaddr_in6), n.len);
	EXPECT_EQ(AF_INET6, s6->sin6_family);
	EXPECT_EQ(htons(4460), s6->sin6_port);
	EXPECT_EQ(0, memcmp(&want, &s6->sin6_addr, 16));
	EXPECT_EQ(0, s6->sin6_scope_id);
	EXPECT_EQ(0, s6->sin6_flowinfo);
}

TEST(format)
{
	struct config_addr a4 = { .family = AF_INET, .addr = { 203, 0, 113, 255 }, .port = 65535 };
	struct config_addr a6 = { .family = AF_INET6, .port = 0 };
	struct sockaddr_storage un = { .ss_family = AF_UNIX };
	struct netaddr n;
	char buf[64];

	netaddr_from_config(&a4, &n);
	EXPECT_STREQ("203.0.113.255:65535", netaddr_format((struct sockaddr *)&n.ss, buf,
							   sizeof(buf)));
	inet_pton(AF_INET6, "::ffff:192.0.2.1", a6.addr);
	netaddr_from_config(&a6, &n);
	EXPECT_STREQ("[::ffff:192.0.2.1]:0", netaddr_format((struct sockaddr *)&n.ss, buf,
							   sizeof(buf)));
	inet_pton(AF_INET6, "2001:db8:0:0:1:0:0:1", a6.addr);
	a6.port = 123;
	netaddr_from_config(&a6, &n);
	EXPECT_STREQ("[2001:db8::1:0:0:1]:123", netaddr_format((struct sockaddr *)&n.ss, buf,
							      sizeof(buf)));
	EXPECT_STREQ("(family 1)", netaddr_format((struct sockaddr *)&un, buf, sizeof(buf)));
}

TEST(format_truncates_and_terminates)
{
	struct config_addr a = { .family = AF_INET6, .port = 4460 };
	struct netaddr n;
	char buf[64];
	char *r;

	inet_pton(AF_INET6, "2001:db8:1234:5678:9abc:def0:1234:5678", a.addr);
	netaddr_from_config(&a, &n);
	memset(buf, 'x', sizeof(buf));
	r = netaddr_format((struct sockaddr *)&n.ss, buf, 10);
	EXPECT_TRUE(r == buf);
	EXPECT_EQ(9, strlen(buf));
	EXPECT_EQ(0, strncmp("[2001:db8", buf, 9));
	EXPECT_EQ('x', buf[10]);
	/* The longest form fits the size status output uses. */
	inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", a.addr);
	a.port = 65535;
	netaddr_from_config(&a, &n);
	netaddr_format((struct sockaddr *)&n.ss, buf, sizeof(buf));
	EXPECT_EQ('[', buf[0]);
	EXPECT_STREQ("]:65535", buf + strlen(buf) - 7);
}

TEST_HARNESS_MAIN
