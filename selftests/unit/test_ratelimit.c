// SPDX-License-Identifier: GPL-2.0
/*
 * The one rate-limit algorithm (include/xnts_ratelimit.h), on its own and
 * through ntp_policy_check(), the userspace server's use of it: burst, the
 * interval, no restart while over the limit, and IPv6 clients per prefix.
 * test_xdp_ntp drives the same functions through the XDP program.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "config.h"
#include "kselftest_harness.h"
#include "ntp_policy.h"
#include "xnts_ratelimit.h"

TEST(admit_burst_then_interval)
{
	__u64 tat = 0;

	/* Burst 3, one per 10: three back to back, then one per 10. */
	EXPECT_EQ(1, xnts_rate_admit(&tat, 1000, 10, 3));
	EXPECT_EQ(1, xnts_rate_admit(&tat, 1000, 10, 3));
	EXPECT_EQ(1, xnts_rate_admit(&tat, 1000, 10, 3));
	EXPECT_EQ(0, xnts_rate_admit(&tat, 1000, 10, 3));
	EXPECT_EQ(0, xnts_rate_admit(&tat, 1009, 10, 3));
	EXPECT_EQ(1, xnts_rate_admit(&tat, 1010, 10, 3));
	EXPECT_EQ(0, xnts_rate_admit(&tat, 1011, 10, 3));
	/* Burst 0 counts as 1; a refused request does not restart the interval. */
	tat = 0;
	EXPECT_EQ(1, xnts_rate_admit(&tat, 50, 10, 0));
	EXPECT_EQ(0, xnts_rate_admit(&tat, 55, 10, 0));
	EXPECT_EQ(0, xnts_rate_admit(&tat, 59, 10, 0));
	EXPECT_EQ(1, xnts_rate_admit(&tat, 60, 10, 0));
	/* Interval 0: no limit, no state. */
	tat = 0;
	EXPECT_EQ(1, xnts_rate_admit(&tat, 5, 0, 1));
	EXPECT_EQ(1, xnts_rate_admit(&tat, 5, 0, 1));
	EXPECT_EQ(0, tat);
}

TEST(key_masks_ipv6_only)
{
	__u8 a[16], k[16], want[16] = { 0 };

	for (int i = 0; i < 16; i++)
		a[i] = 0xa0 | (__u8)i;
	xnts_rate_key(k, a, 0, 64);
	memcpy(want, a, 8);
	EXPECT_EQ(0, memcmp(want, k, 16));
	xnts_rate_key(k, a, 0, 60);
	want[7] = 0xa0;
	EXPECT_EQ(0, memcmp(want, k, 16));
	xnts_rate_key(k, a, 0, 128);
	EXPECT_EQ(0, memcmp(a, k, 16));
	/* IPv4 (v4-mapped) is never aggregated, whatever the prefix. */
	xnts_rate_key(k, a, 1, 16);
	EXPECT_EQ(0, memcmp(a, k, 16));
}

static struct sockaddr_in6 v6(const char *s)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };

	inet_pton(AF_INET6, s, &sa.sin6_addr);
	return sa;
}

static struct sockaddr_in v4(const char *s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	inet_pton(AF_INET, s, &sa.sin_addr);
	return sa;
}

#define SA(x) ((const struct sockaddr *)&(x))

static struct ntp_policy_config rate_cfg(uint64_t slots, unsigned int burst, unsigned int prefix)
{
	struct ntp_policy_config c = {
		.rate_limiting_cache_size = slots,
		.rate_limiting_cutoff_ms = 1000,
		.rate_limiting_burst = burst,
		.rate_limiting_ipv6_prefix = prefix,
	};

	return c;
}

TEST(policy_ipv6_per_prefix)
{
	struct ntp_policy_config c = rate_cfg(1024, 1, 64);
	struct sockaddr_in6 a = v6("2001:db8:1:2::10"), same = v6("2001:db8:1:2:ffff::1"),
			    next = v6("2001:db8:1:3::10");
	struct sockaddr_in b = v4("192.0.2.10"), b2 = v4("192.0.2.11");
	struct ntp_policy *p = ntp_policy_new(&c);

	ASSERT_NE(NULL, p);
	EXPECT_EQ(NTP_POLICY_ANSWER, ntp_policy_check(p, SA(a), 10000));
	EXPECT_EQ(NTP_POLICY_RATE, ntp_policy_check(p, SA(same), 10100));
	EXPECT_EQ(NTP_POLICY_ANSWER, ntp_policy_check(p, SA(next), 10100));
	EXPECT_EQ(NTP_POLICY_ANSWER, ntp_policy_check(p, SA(b), 10100));
	EXPECT_EQ(NTP_POLICY_ANSWER, ntp_policy_check(p, SA(b2), 10100));
	EXPECT_EQ(NTP_POLICY_RATE, ntp_policy_check(p, SA(b), 10200));
	/* The refused requests did not restart the /64's interval. */
	EXPECT_EQ(NTP_POLICY_ANSWER, ntp_policy_check(p, SA(same), 11000));
	ntp_policy_free(p);

	c.rate_limiting_ipv6_prefix = 128;
	p = ntp_policy_new(&c);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(NTP_POLICY_ANSWER, ntp_policy_check(p, SA(a), 10000));
	EXPECT_EQ(NTP_POLICY_ANSWER, ntp_policy_check(p, SA(same), 10100));
	EXPECT_EQ(NTP_POLICY_RATE, ntp_policy_check(p, SA(a), 10200));
	ntp_policy_free(p);
}

TEST(policy_burst)
{
	struct ntp_policy_config c = rate_cfg(16, 3, 64);
	struct sockaddr_in b = v4("198.51.100.7");
	struct ntp_policy *p = ntp_policy_new(&c);

	ASSERT_NE(NULL, p);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(NTP_POLICY_ANSWER, ntp_policy_check(p, SA(b), 5000));
	EXPECT_EQ(NTP_POLICY_RATE, ntp_policy_check(p, SA(b), 5000));
	EXPECT_EQ(NTP_POLICY_RATE, ntp_policy_check(p, SA(b), 5999));
	EXPECT_EQ(NTP_POLICY_ANSWER, ntp_policy_check(p, SA(b), 6000));
	EXPECT_EQ(NTP_POLICY_RATE, ntp_policy_check(p, SA(b), 6001));
	ntp_policy_free(p);
}

TEST_HARNESS_MAIN
