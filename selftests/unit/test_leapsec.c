// SPDX-License-Identifier: GPL-2.0
/* The leap-seconds.list parser, on embedded files and on the system's copy. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "leapsec.h"
#include "load.h"
#include "ntp.h"

/* The 2012-2017 lines of the IERS file; the hash was computed for this data. */
static const char small[] =
	"#\n"
	"#\tA cut-down leap-seconds.list for the tests\n"
	"#\n"
	"#$\t 3676924800\n"
	"#@\t 3707596800\n"
	"#\n"
	"3550089600\t35\t# 1 Jul 2012\n"
	"3644697600\t36\t# 1 Jul 2015\n"
	"3692217600\t37\t# 1 Jan 2017\n"
	"#\n"
	"#h\t604b25d3 19368243 a2485049 28514edf 2f9817c8\n";

/* Same data with another #$ value, chosen so a hash word has a leading zero. */
static const char short_word[] =
	"#$\t3676924805\n"
	"#@\t3707596800\n"
	"3550089600\t35\n"
	"3644697600\t36\n"
	"3692217600\t37\n"
	"#h\t8366f752 1b67b87 3368de99 c6b912dc 8faea7b6\n";

#define UNIX(ntp) ((int64_t)(ntp) - NTP_UNIX_OFFSET)

static int parse(const char *s, struct leapsec_table *t, char *err, size_t errlen)
{
	return leapsec_parse(s, strlen(s), t, err, errlen);
}

TEST(small_file)
{
	struct leapsec_table t;
	char err[128];
	int64_t when = 0;

	ASSERT_EQ(0, parse(small, &t, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(3, t.n);
	EXPECT_TRUE(t.has_hash);
	EXPECT_EQ(3676924800LL, t.updated);
	EXPECT_EQ(3707596800LL, t.expires);
	EXPECT_EQ(37, t.e[2].tai);
	/* 2016-12-31 23:59:59 UTC is still 36, midnight is 37 */
	EXPECT_EQ(36, leapsec_tai_offset(&t, 1483228799));
	EXPECT_EQ(37, leapsec_tai_offset(&t, 1483228800));
	EXPECT_EQ(0, leapsec_tai_offset(&t, UNIX(3550089600LL) - 1));
	EXPECT_EQ(1, leapsec_next(&t, 1480000000, &when));
	EXPECT_EQ(1483228800, when);
	EXPECT_EQ(1, leapsec_next(&t, 1483228799, &when));
	EXPECT_EQ(0, leapsec_next(&t, 1483228800, &when));
	EXPECT_FALSE(leapsec_expired(&t, UNIX(3707596800LL) - 1));
	EXPECT_TRUE(leapsec_expired(&t, UNIX(3707596800LL)));
}

TEST(hash_word_with_leading_zero_left_out)
{
	struct leapsec_table t;
	char err[128];

	ASSERT_EQ(0, parse(short_word, &t, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_TRUE(t.has_hash);
}

TEST(no_hash_is_accepted_but_said)
{
	struct leapsec_table t;
	char buf[sizeof(small)], err[128];

	memcpy(buf, small, sizeof(small));
	*strstr(buf, "#h") = '\0';
	ASSERT_EQ(0, parse(buf, &t, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_FALSE(t.has_hash);
	EXPECT_EQ(3, t.n);
}

/* Each corruption must be refused, with the line named. */
TEST(refuses)
{
	static const struct {
		const char *from, *to, *msg;
	} bad[] = {
		{ "3644697600\t36", "3644697601\t36", "line 11: hash does not match" },
		{ "604b25d3", "604b25d4", "line 11: hash does not match" },
		{ "3707596800", "370759680x", "line 5: bad #@ time" },
		{ "#@\t 3707596800\n", "", "no expiry" },
		{ "3644697600\t36", "3444697600\t36", "line 8: times not increasing" },
		{ "3692217600\t37", "3692217600\t38", "line 9: TAI offset changes" },
		{ "3692217600\t37", "3692217600\t-1", "line 9: bad TAI offset" },
		{ "3692217600\t37", "3692217600 37 99", "line 9: bad TAI offset" },
		{ "#h\t604b25d3 ", "#h\tzz4b25d3 ", "line 11: bad hash word 1" },
		{ "#h\t604b25d3 ", "#h\t1604b25d3 ", "line 11: bad hash word 1" },
		{ "#$\t 3676924800\n", "#$ 1\n#$ 2\n", "line 5: repeated #$" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[1024], err[128];
		struct leapsec_table t;
		const char *at = strstr(small, bad[i].from);
		size_t pre;

		ASSERT_NE(NULL, at);
		pre = at - small;
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)pre, small, bad[i].to,
			 at + strlen(bad[i].from));
		EXPECT_EQ(-1, parse(buf, &t, err, sizeof(err))) TH_LOG("case %zu", i);
		EXPECT_NE(NULL, strstr(err, bad[i].msg)) TH_LOG("case %zu: %s", i, err);
		EXPECT_EQ(0, t.n);
	}
}

TEST(refuses_bounds)
{
	static char big[LEAPSEC_FILE_MAX + 2];
	struct leapsec_table t;
	char line[LEAPSEC_LINE_MAX + 8], err[128];

	memset(big, '#', sizeof(big) - 1);
	EXPECT_EQ(-1, leapsec_parse(big, sizeof(big) - 1, &t, err, sizeof(err)));
	memset(line, ' ', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	EXPECT_EQ(-1, parse(line, &t, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "longer"));
	EXPECT_EQ(-1, leapsec_parse("#@ 1\n1\0 2\n", 10, &t, err, sizeof(err)));
	EXPECT_EQ(-1, parse("#@ 3707596800\n", &t, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "no leap second entries"));
	EXPECT_EQ(-1, leapsec_load("/nonexistent/leap-seconds.list", &t, err, sizeof(err)));
}

/* Too many entries for the table. */
TEST(refuses_too_many)
{
	static char buf[LEAPSEC_FILE_MAX];
	struct leapsec_table t;
	char err[128];
	size_t len = 0;

	len += snprintf(buf + len, sizeof(buf) - len, "#@ 3707596800\n");
	for (int i = 0; i <= LEAPSEC_MAX; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%d %d\n", 1000 + i, 10 + i);
	EXPECT_EQ(-1, leapsec_parse(buf, len, &t, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "more than"));
}

/* Debian's tzdata copy, when this machine has one (CI does). */
TEST(system_file)
{
	struct leapsec_table t;
	char err[256];
	int64_t when;

	if (access(LEAPSEC_DEFAULT_PATH, R_OK))
		SKIP(return, "%s not present", LEAPSEC_DEFAULT_PATH);
	ASSERT_EQ(0, leapsec_load(LEAPSEC_DEFAULT_PATH, &t, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_TRUE(t.has_hash);
	EXPECT_GE(t.n, 28);
	EXPECT_EQ(10, t.e[0].tai);
	EXPECT_EQ(2272060800LL, t.e[0].ntp);
	/* 37 s since 2017, unless a newer file lists a later leap */
	EXPECT_EQ(37, leapsec_tai_offset(&t, 1500000000));
	EXPECT_GE(leapsec_tai_offset(&t, time(NULL)), 37);
	EXPECT_EQ(0, leapsec_next(&t, UNIX(t.e[t.n - 1].ntp), &when));
	printf("# %s: %zu entries, TAI-UTC now %d, expires %lld (%s)\n", LEAPSEC_DEFAULT_PATH,
	       t.n, leapsec_tai_offset(&t, time(NULL)), (long long)UNIX(t.expires),
	       leapsec_expired(&t, time(NULL)) ? "expired" : "current");
}

TEST_HARNESS_MAIN
