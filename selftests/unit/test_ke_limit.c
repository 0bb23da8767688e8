// SPDX-License-Identifier: GPL-2.0
/* NTS-KE admission: totals, per-client caps by address and /64, token buckets. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "kselftest_harness.h"
#include "ke_limit.h"

static struct sockaddr_storage v4(const char *a)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	s->sin_family = AF_INET;
	inet_pton(AF_INET, a, &s->sin_addr);
	return ss;
}

static struct sockaddr_storage v6(const char *a)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	s->sin6_family = AF_INET6;
	inet_pton(AF_INET6, a, &s->sin6_addr);
	return ss;
}

#define SA(x) ((const struct sockaddr *)&(x))

TEST(per_client_cap_and_release)
{
	struct ke_limit_config cfg = { .max_total = 100, .per_client = 3 };
	struct ke_limit *l = ke_limit_new(&cfg);
	struct sockaddr_storage a = v4("192.0.2.1"), b = v4("192.0.2.2");
	struct ke_limit_ticket t[4], u;

	ASSERT_NE(NULL, l);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(a), 0, &t[i]));
	EXPECT_EQ(KE_LIMIT_CLIENT, ke_limit_admit(l, SA(a), 0, &t[3]));
	/* Another client is not affected. */
	EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(b), 0, &u));
	EXPECT_EQ(4, ke_limit_active(l));
	EXPECT_EQ(2, ke_limit_clients(l));
	ke_limit_release(l, &t[0]);
	EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(a), 0, &t[0]));
	for (int i = 0; i < 3; i++)
		ke_limit_release(l, &t[i]);
	ke_limit_release(l, &u);
	EXPECT_EQ(0, ke_limit_active(l));
	EXPECT_EQ(0, ke_limit_clients(l));
	ke_limit_free(l);
}

TEST(total_cap)
{
	struct ke_limit_config cfg = { .max_total = 2, .per_client = 2 };
	struct ke_limit *l = ke_limit_new(&cfg);
	struct sockaddr_storage a = v4("192.0.2.1"), b = v4("192.0.2.2");
	struct ke_limit_ticket t[3];

	ASSERT_NE(NULL, l);
	EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(a), 0, &t[0]));
	EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(b), 0, &t[1]));
	EXPECT_EQ(KE_LIMIT_TOTAL, ke_limit_admit(l, SA(b), 0, &t[2]));
	ke_limit_release(l, &t[1]);
	EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(b), 0, &t[2]));
	ke_limit_free(l);
}

/* One /64 is one client; the next /64 and a v4-mapped address are others. */
TEST(ipv6_by_64)
{
	struct ke_limit_config cfg = { .max_total = 100, .per_client = 2 };
	struct ke_limit *l = ke_limit_new(&cfg);
	struct sockaddr_storage a = v6("2001:db8:1:2::1"), b = v6("2001:db8:1:2:ffff::9");
	struct sockaddr_storage c = v6("2001:db8:1:3::1"), m = v6("::ffff:192.0.2.1");
	struct sockaddr_storage m2 = v6("::ffff:192.0.2.2"), p = v4("192.0.2.1");
	struct ke_limit_ticket t;

	ASSERT_NE(NULL, l);
	EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(a), 0, &t));
	EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(b), 0, &t));
	EXPECT_EQ(KE_LIMIT_CLIENT, ke_limit_admit(l, SA(a), 0, &t));
	EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(c), 0, &t));
	/* v4-mapped addresses are whole addresses, and the same as plain IPv4. */
	EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(m), 0, &t));
	EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(m2), 0, &t));
	EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(p), 0, &t));
	EXPECT_EQ(KE_LIMIT_CLIENT, ke_limit_admit(l, SA(m), 0, &t));
	ke_limit_free(l);
}

TEST(token_bucket)
{
	struct ke_limit_config cfg = { .max_total = 100, .rate = 10, .burst = 5 };
	struct ke_limit *l = ke_limit_new(&cfg);
	struct sockaddr_storage a = v4("198.51.100.7"), b = v4("198.51.100.8");
	struct ke_limit_ticket t;

	ASSERT_NE(NULL, l);
	for (int i = 0; i < 5; i++) {
		EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(a), 1000, &t));
		ke_limit_release(l, &t);
	}
	EXPECT_EQ(KE_LIMIT_RATE, ke_limit_admit(l, SA(a), 1000, &t));
	EXPECT_EQ(KE_LIMIT_RATE, ke_limit_admit(l, SA(a), 1099, &t));
	EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(b), 1099, &t));
	/* 10 per second: one more after 100 ms, and no more than the burst later. */
	EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(a), 1100, &t));
	EXPECT_EQ(KE_LIMIT_RATE, ke_limit_admit(l, SA(a), 1100, &t));
	for (int i = 0; i < 5; i++)
		EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(a), 100000, &t));
	EXPECT_EQ(KE_LIMIT_RATE, ke_limit_admit(l, SA(a), 100000, &t));
	/* A refused attempt costs nothing: the bucket still refills on time. */
	EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(a), 100100, &t));
	ke_limit_free(l);
}

/* Zero turns every limit off; a clock going backwards takes no tokens. */
TEST(off_and_backwards)
{
	struct ke_limit_config off = { 0 }, cfg = { .max_total = 10, .rate = 1, .burst = 1 };
	struct ke_limit *l = ke_limit_new(&off);
	struct sockaddr_storage a = v4("203.0.113.1");
	struct ke_limit_ticket t;

	ASSERT_NE(NULL, l);
	for (int i = 0; i < 5000; i++)
		EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(a), 0, &t));
	EXPECT_EQ(5000, ke_limit_active(l));
	ke_limit_free(l);
	l = ke_limit_new(&cfg);
	ASSERT_NE(NULL, l);
	EXPECT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(a), 5000, &t));
	EXPECT_EQ(KE_LIMIT_RATE, ke_limit_admit(l, SA(a), 10, &t));
	EXPECT_EQ(KE_LIMIT_RATE, ke_limit_admit(l, SA(a), 5999, &t));
	ke_limit_free(l);
}

/*
 * Many addresses cannot grow memory or evict a client that holds
 * connections: the table refuses a newcomer before that.
 */
TEST(table_is_bounded)
{
	struct ke_limit_config cfg = { .max_total = 32, .per_client = 1 };
	struct ke_limit *l = ke_limit_new(&cfg);
	struct ke_limit_ticket t, held[32];
	unsigned int ok = 0, table = 0, total = 0;
	char buf[64];

	ASSERT_NE(NULL, l);
	for (int i = 0; i < 32; i++) {
		struct sockaddr_storage a;

		snprintf(buf, sizeof(buf), "10.0.%d.%d", i / 200, i % 200 + 1);
		a = v4(buf);
		ASSERT_EQ(KE_LIMIT_OK, ke_limit_admit(l, SA(a), 0, &held[i]));
	}
	for (int i = 0; i < 100000; i++) {
		struct sockaddr_storage a;

		snprintf(buf, sizeof(buf), "10.%d.%d.%d", 1 + i / 65536, (i / 256) % 256,
			 i % 256);
		a = v4(buf);
		switch (ke_limit_admit(l, SA(a), 0, &t)) {
		case KE_LIMIT_OK:
			ok++;
			ke_limit_release(l, &t);
			break;
		case KE_LIMIT_TABLE:
			table++;
			break;
		case KE_LIMIT_TOTAL:
			total++;
			break;
		default:
			break;
		}
	}
	/* Full: every newcomer is refused by the total before the table. */
	EXPECT_EQ(100000, total);
	EXPECT_EQ(0, ok + table);
	ke_limit_release(l, &held[0]);
	EXPECT_EQ(31, ke_limit_clients(l));
	/* With one slot free, 100000 newcomers come and go through idle slots. */
	for (int i = 0; i < 100000; i++) {
		struct sockaddr_storage a;

		snprintf(buf, sizeof(buf), "10.%d.%d.%d", 1 + i / 65536, (i / 256) % 256,
			 i % 256);
		a = v4(buf);
		if (ke_limit_admit(l, SA(a), 0, &t) == KE_LIMIT_OK) {
			ok++;
			ke_limit_release(l, &t);
		}
	}
	EXPECT_EQ(100000, ok);
	/* Those holding connections were never forgotten. */
	for (int i = 1; i < 32; i++) {
		struct sockaddr_storage a;

		snprintf(buf, sizeof(buf), "10.0.%d.%d", i / 200, i % 200 + 1);
		a = v4(buf);
		EXPECT_EQ(KE_LIMIT_CLIENT, ke_limit_admit(l, SA(a), 0, &t));
	}
	ke_limit_free(l);
}

TEST_HARNESS_MAIN
