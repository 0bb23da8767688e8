// SPDX-License-Identifier: GPL-2.0
/*
 * ntp_policy: subnet matching (IPv4, IPv6, v4-mapped, partial-byte
 * prefixes), the deny list winning over the allow list with each action,
 * the rate limit's interval, and the copy ntp_policy_new() keeps.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"
#include "config.h"
#include "config_map.h"
#include "ntp_policy.h"

static struct sockaddr_storage ss(const char *ip)
{
	struct sockaddr_storage s;

	memset(&s, 0, sizeof(s));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&s;

		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&s;

		s4->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &s4->sin_addr);
	}
	return s;
}

static struct ntp_policy_subnet net(const char *ip, int prefix)
{
	struct ntp_policy_subnet n = { .prefix = (uint8_t)prefix };

	if (strchr(ip, ':')) {
		n.family = AF_INET6;
		inet_pton(AF_INET6, ip, n.addr);
	} else {
		n.family = AF_INET;
		inet_pton(AF_INET, ip, n.addr);
	}
	return n;
}

static int in(const char *ip, const char *subnet, int prefix)
{
	struct sockaddr_storage a = ss(ip);
	struct ntp_policy_subnet n = net(subnet, prefix);

	return ntp_policy_subnet_match(&n, (struct sockaddr *)&a);
}

TEST(subnet_ipv4)
{
	EXPECT_TRUE(in("192.0.2.77", "192.0.2.0", 24));
	EXPECT_FALSE(in("192.0.3.77", "192.0.2.0", 24));
	EXPECT_TRUE(in("192.0.2.77", "192.0.2.77", 32));
	EXPECT_FALSE(in("192.0.2.76", "192.0.2.77", 32));
	/* A prefix that ends inside a byte. */
	EXPECT_TRUE(in("192.0.2.127", "192.0.2.0", 25));
	EXPECT_FALSE(in("192.0.2.128", "192.0.2.0", 25));
	EXPECT_TRUE(in("10.200.0.1", "10.192.0.0", 10));
	EXPECT_FALSE(in("10.128.0.1", "10.192.0.0", 10));
	EXPECT_TRUE(in("203.0.113.1", "0.0.0.0", 0));
	/* A v4-mapped IPv6 client is an IPv4 client. */
	EXPECT_TRUE(in("::ffff:192.0.2.9", "192.0.2.0", 24));
	EXPECT_FALSE(in("::ffff:192.0.3.9", "192.0.2.0", 24));
	/* A plain IPv6 client never matches an IPv4 subnet, not even 0/0. */
	EXPECT_FALSE(in("2001:db8::1", "0.0.0.0", 0));
	EXPECT_FALSE(in("::c000:0209", "192.0.2.0", 24));
}

TEST(subnet_ipv6)
{
	EXPECT_TRUE(in("2001:db8:1:2::99", "2001:db8:1:2::", 64));
	EXPECT_FALSE(in("2001:db8:1:3::99", "2001:db8:1:2::", 64));
	EXPECT_TRUE(in("2001:db8::7fff", "2001:db8::", 113));
	EXPECT_FALSE(in("2001:db8::8000", "2001:db8::", 113));
	EXPECT_TRUE(in("2001:db8::1", "2001:db8::1", 128));
	EXPECT_FALSE(in("2001:db8::2", "2001:db8::1", 128));
	EXPECT_TRUE(in("fe80::1", "::", 0));
	/* ::/0 covers IPv4 clients too (as their v4-mapped form). */
	EXPECT_TRUE(in("192.0.2.1", "::", 0));
	EXPECT_TRUE(in("192.0.2.1", "::ffff:192.0.2.0", 120));
}

TEST(subnet_bad_input_never_matches)
{
	struct sockaddr_storage a = ss("192.0.2.1"), un = { .ss_family = AF_UNIX };
	struct ntp_policy_subnet n = net("192.0.2.0", 24);

	EXPECT_FALSE(ntp_policy_subnet_match(&n, (struct sockaddr *)&un));
	n.prefix = 33;
	EXPECT_FALSE(ntp_policy_subnet_match(&n, (struct sockaddr *)&a));
	n = net("2001:db8::", 129);
	EXPECT_FALSE(ntp_policy_subnet_match(&n, (struct sockaddr *)&a));
	n.family = AF_UNIX;
	n.prefix = 0;
	EXPECT_FALSE(ntp_policy_subnet_match(&n, (struct sockaddr *)&a));
}

TEST(list_match)
{
	struct ntp_policy_subnet nets[3] = { net("192.0.2.0", 24), net("2001:db8::", 32),
					     net("10.0.0.0", 8) };
	struct ntp_policy_list l = { .set = true, .subnets = nets, .n_subnets = 3 };
	struct sockaddr_storage a;

	a = ss("10.1.2.3");
	EXPECT_TRUE(ntp_policy_match(&l, (struct sockaddr *)&a));
	a = ss("2001:db8:ffff::1");
	EXPECT_TRUE(ntp_policy_match(&l, (struct sockaddr *)&a));
	a = ss("198.51.100.1");
	EXPECT_FALSE(ntp_policy_match(&l, (struct sockaddr *)&a));
	l.n_subnets = 0;
	a = ss("10.1.2.3");
	EXPECT_FALSE(ntp_policy_match(&l, (struct sockaddr *)&a));
}

static enum ntp_policy_verdict check(struct ntp_policy *p, const char *ip, uint64_t now)
{
	struct sockaddr_storage a = ss(ip);

	return ntp_policy_check(p, (struct sockaddr *)&a, now);
}

TEST(no_lists_no_limit_answers_all)
{
	struct ntp_policy_config pc = { 0 };
	struct ntp_policy *p = ntp_policy_new(&pc);

	ASSERT_NE(NULL, p);
	for (int i = 0; i < 100; i++)
		EXPECT_EQ(NTP_POLICY_ANSWER, check(p, "192.0.2.1", 5));
	ntp_policy_free(p);
	/* Rate limiting needs both a table and an interval. */
	pc.rate_limiting_cutoff_ms = 1000;
	p = ntp_policy_new(&pc);
	EXPECT_EQ(NTP_POLICY_ANSWER, check(p, "192.0.2.1", 5));
	EXPECT_EQ(NTP_POLICY_ANSWER, check(p, "192.0.2.1", 5));
	ntp_policy_free(p);
	pc.rate_limiting_cutoff_ms = 0;
	pc.rate_limiting_cache_size = 100;
	p = ntp_policy_new(&pc);
	EXPECT_EQ(NTP_POLICY_ANSWER, check(p, "192.0.2.1", 5));
	EXPECT_EQ(NTP_POLICY_ANSWER, check(p, "192.0.2.1", 5));
	ntp_policy_free(p);
	ntp_policy_free(NULL);
}

TEST(lists_and_actions)
{
	struct ntp_policy_subnet deny = net("192.0.2.0", 28);
	struct ntp_policy_subnet allow[2] = { net("192.0.2.0", 24), net("2001:db8::", 32) };
	struct ntp_policy_config pc = {
		.denylist = { .set = true, .deny = true, .subnets = &deny, .n_subnets = 1 },
		.allowlist = { .set = true, .deny = false, .subnets = allow, .n_subnets = 2 },
	};
	struct ntp_policy *p = ntp_policy_new(&pc);

	ASSERT_NE(NULL, p);
	/* On both lists: the deny list wins. */
	EXPECT_EQ(NTP_POLICY_DENY, check(p, "192.0.2.5", 0));
	EXPECT_EQ(NTP_POLICY_ANSWER, check(p, "192.0.2.16", 0));
	EXPECT_EQ(NTP_POLICY_ANSWER, check(p, "2001:db8::5", 0));
	/* Off the allow list: its action, silence. */
	EXPECT_EQ(NTP_POLICY_IGNORE, check(p, "198.51.100.1", 0));
	EXPECT_EQ(NTP_POLICY_IGNORE, check(p, "2001:db9::5", 0));
	ntp_policy_free(p);

	pc.denylist.deny = false;
	pc.allowlist.deny = true;
	p = ntp_policy_new(&pc);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(NTP_POLICY_IGNORE, check(p, "192.0.2.5", 0));
	EXPECT_EQ(NTP_POLICY_DENY, check(p, "198.51.100.1", 0));
	ntp_policy_free(p);

	/* A list that is not set does nothing, whatever it holds. */
	pc.allowlist.set = false;
	pc.denylist.set = false;
	p = ntp_policy_new(&pc);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(NTP_POLICY_ANSWER, check(p, "192.0.2.5", 0));
	EXPECT_EQ(NTP_POLICY_ANSWER, check(p, "198.51.100.1", 0));
	ntp_policy_free(p);
}

TEST(lists_are_copied)
{
	struct ntp_policy_subnet deny = net("192.0.2.0", 24);
	struct ntp_policy_config pc = {
		.denylist = { .set = true, .deny = true, .subnets = &deny, .n_subnets = 1 },
	};
	struct ntp_policy *p = ntp_policy_new(&pc);

	ASSERT_NE(NULL, p);
	/* The caller's arrays may go away once the policy exists. */
	deny = net("198.51.100.0", 24);
	EXPECT_EQ(NTP_POLICY_DENY, check(p, "192.0.2.1", 0));
	EXPECT_EQ(NTP_POLICY_ANSWER, check(p, "198.51.100.1", 0));
	ntp_policy_free(p);
}

TEST(rate_interval)
{
	struct ntp_policy_config pc = {
		.rate_limiting_cache_size = 1024,
		.rate_limiting_cutoff_ms = 1000,
	};
	struct ntp_policy *p = ntp_policy_new(&pc);
	uint64_t t = 5000000;

	ASSERT_NE(NULL, p);
	EXPECT_EQ(NTP_POLICY_ANSWER, check(p, "192.0.2.1", t));
	EXPECT_EQ(NTP_POLICY_RATE, check(p, "192.0.2.1", t));
	EXPECT_EQ(NTP_POLICY_RATE, check(p, "192.0.2.1", t + 500));
	/* A limited request does not restart the interval. */
	EXPECT_EQ(NTP_POLICY_RATE, check(p, "192.0.2.1", t + 999));
	EXPECT_EQ(NTP_POLICY_ANSWER, check(p, "192.0.2.1", t + 1000));
	EXPECT_EQ(NTP_POLICY_RATE, check(p, "192.0.2.1", t + 1001));
	/* Other clients have their own interval. */
	EXPECT_EQ(NTP_POLICY_ANSWER, check(p, "192.0.2.2", t + 1001));
	EXPECT_EQ(NTP_POLICY_ANSWER, check(p, "2001:db8::1", t + 1001));
	EXPECT_EQ(NTP_POLICY_RATE, check(p, "2001:db8::1", t + 1002));
	/* The v4-mapped form is the same client as the IPv4 one. */
	EXPECT_EQ(NTP_POLICY_RATE, check(p, "::ffff:192.0.2.1", t + 1002));
	ntp_policy_free(p);
}

/*
 * Neighbours get slots of their own: the slot hash spreads addresses that
 * differ only in their last byte (it once put a whole /24 in one slot).
 */
TEST(rate_neighbours_independent)
{
	struct ntp_policy_config pc = {
		.rate_limiting_cache_size = 65536,
		.rate_limiting_cutoff_ms = 1000,
	};
	struct ntp_policy *p = ntp_policy_new(&pc);
	int limited4 = 0, limited6 = 0;
	char ip[64];

	ASSERT_NE(NULL, p);
	for (int i = 1; i < 255; i++) {
		snprintf(ip, sizeof(ip), "192.0.2.%d", i);
		EXPECT_EQ(NTP_POLICY_ANSWER, check(p, ip, 10));
		snprintf(ip, sizeof(ip), "2001:db8::%x", i);
		EXPECT_EQ(NTP_POLICY_ANSWER, check(p, ip, 10));
	}
	for (int i = 1; i < 255; i++) {
		snprintf(ip, sizeof(ip), "192.0.2.%d", i);
		limited4 += check(p, ip, 11) == NTP_POLICY_RATE;
		snprintf(ip, sizeof(ip), "2001:db8::%x", i);
		limited6 += check(p, ip, 11) == NTP_POLICY_RATE;
	}
	/* A random hash into 65536 slots leaves about one pair sharing a slot. */
	EXPECT_GE(limited4, 244);
	EXPECT_GE(limited6, 244);
	ntp_policy_free(p);
}

TEST(lists_before_rate)
{
	struct ntp_policy_subnet deny = net("192.0.2.0", 24);
	struct ntp_policy_config pc = {
		.denylist = { .set = true, .deny = true, .subnets = &deny, .n_subnets = 1 },
		.rate_limiting_cache_size = 16,
		.rate_limiting_cutoff_ms = 1000,
	};
	struct ntp_policy *p = ntp_policy_new(&pc);

	ASSERT_NE(NULL, p);
	/* A denied client always gets DENY, never RATE. */
	for (int i = 0; i < 5; i++)
		EXPECT_EQ(NTP_POLICY_DENY, check(p, "192.0.2.1", 100 + i));
	ntp_policy_free(p);
}

/* A [[server]] table as the daemon hands it over (config_map). */
TEST(from_configuration)
{
	static const char toml[] =
		"[[server]]\n"
		"listen = \"[::]:123\"\n"
		"rate-limiting-cache-size = 100\n"
		"rate-limiting-cutoff-ms = 2000\n"
		"allowlist = { filter = [\"192.0.2.0/24\", \"2001:db8::/32\"],"
		" action = \"deny\" }\n"
		"denylist = { filter = [\"192.0.2.128/25\"] }\n";
	struct xnts_config cfg;
	struct ntp_policy *p;
	char err[256];

	ASSERT_EQ(0, config_parse("t.toml", toml, sizeof(toml) - 1, &cfg, err, sizeof(err))) {
		TH_LOG("%s", err);
	}
	ASSERT_EQ(1, cfg.n_servers);
	p = config_map_ntp_policy(&cfg.servers[0]);
	config_free(&cfg);	/* the policy keeps its own copy */
	ASSERT_NE(NULL, p);
	EXPECT_EQ(NTP_POLICY_IGNORE, check(p, "192.0.2.200", 0));
	EXPECT_EQ(NTP_POLICY_DENY, check(p, "198.51.100.1", 0));
	EXPECT_EQ(NTP_POLICY_ANSWER, check(p, "2001:db8::1", 0));
	EXPECT_EQ(NTP_POLICY_RATE, check(p, "2001:db8::1", 1999));
	EXPECT_EQ(NTP_POLICY_ANSWER, check(p, "2001:db8::1", 2000));
	EXPECT_EQ(NTP_POLICY_ANSWER, check(p, "192.0.2.1", 0));
	ntp_policy_free(p);
}

TEST_HARNESS_MAIN
