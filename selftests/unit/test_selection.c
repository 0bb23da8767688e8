// SPDX-License-Identifier: GPL-2.0
/* Source selection: the RFC 5905 section 11.2.1 intersection and combining. */
#include <math.h>

#include "kselftest_harness.h"
#include "selection.h"

#define CAND(o, d) { .offset = (o), .distance = (d), .jitter = 0, .stratum = 2 }

static void set_ids(struct sel_candidate *c, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		c[i].id = i;
}

/*
 * The textbook case: [8,12] [11,13] [10,12] all meet in [11,12], but the
 * first one's midpoint (10) lies outside it, so RFC 5905 allows one
 * falseticker and settles on [10,12], which all three still meet.
 */
TEST(marzullo_all_agree)
{
	struct sel_candidate c[3] = { CAND(10, 2), CAND(12, 1), CAND(11, 1) };
	struct sel_candidate d[3] = { CAND(10.5, 1.5), CAND(11.5, 1), CAND(11, 1) };
	double lo, hi;

	EXPECT_EQ(3, sel_intersect(c, 3, &lo, &hi));
	EXPECT_EQ(10, lo);
	EXPECT_EQ(12, hi);
	/* [9,12] [10.5,12.5] [10,12]: every midpoint inside, so no falseticker allowance */
	EXPECT_EQ(3, sel_intersect(d, 3, &lo, &hi));
	EXPECT_EQ(10.5, lo);
	EXPECT_EQ(12, hi);
	for (int i = 0; i < 3; i++)
		EXPECT_TRUE(c[i].truechimer);
}

/*
 * Four candidates as in RFC 5905 figure 23: three overlapping intervals and
 * one far off (D). One falseticker is allowed (f = 1 < 4/2): the interval
 * [9.5, 11.5] lies in A, B and C and only D's midpoint is outside it.
 */
TEST(rfc5905_one_falseticker)
{
	struct sel_candidate c[4] = { CAND(10, 2), CAND(11, 1.5), CAND(10.5, 1), CAND(20, 1) };
	double lo, hi;

	EXPECT_EQ(3, sel_intersect(c, 4, &lo, &hi));
	EXPECT_EQ(9.5, lo);
	EXPECT_EQ(11.5, hi);
	EXPECT_TRUE(c[0].truechimer);
	EXPECT_TRUE(c[1].truechimer);
	EXPECT_TRUE(c[2].truechimer);
	EXPECT_FALSE(c[3].truechimer);
}

/* Two against two: no majority, nobody is a truechimer. */
TEST(no_majority)
{
	struct sel_candidate c[4] = { CAND(0, 1), CAND(0.5, 1), CAND(10, 1), CAND(10.5, 1) };
	double lo = -1, hi = -1;

	EXPECT_EQ(0, sel_intersect(c, 4, &lo, &hi));
	for (int i = 0; i < 4; i++)
		EXPECT_FALSE(c[i].truechimer);
	/* two disjoint of two */
	EXPECT_EQ(0, sel_intersect(c + 1, 2, &lo, &hi));
}

/*
 * Touching: [0,2] [1,3] [2,4] share only the point 2 with the outer two
 * midpoints (1, 3) outside it; allowing one falseticker gives [1,3], which
 * every interval still meets. Midpoints exactly on the ends count as
 * inside: [0,2] [1,2] [1,3] give [1,2] with no allowance.
 */
TEST(midpoints_and_edges)
{
	struct sel_candidate a[3] = { CAND(1, 1), CAND(2, 1), CAND(3, 1) };
	struct sel_candidate b[3] = { CAND(1, 1), CAND(1.5, 0.5), CAND(2, 1) };
	double lo, hi;

	EXPECT_EQ(3, sel_intersect(a, 3, &lo, &hi));
	EXPECT_EQ(1, lo);
	EXPECT_EQ(3, hi);
	EXPECT_EQ(3, sel_intersect(b, 3, &lo, &hi));
	EXPECT_EQ(1, lo);
	EXPECT_EQ(2, hi);
}

/* Five sources, two falsetickers on opposite sides. */
TEST(two_falsetickers)
{
	struct sel_candidate c[5] = {
		CAND(-0.050, 0.005), CAND(0.001, 0.004), CAND(-0.001, 0.006),
		CAND(0.000, 0.003), CAND(0.080, 0.010),
	};
	double lo, hi;

	EXPECT_EQ(3, sel_intersect(c, 5, &lo, &hi));
	EXPECT_FALSE(c[0].truechimer);
	EXPECT_FALSE(c[4].truechimer);
	EXPECT_TRUE(c[1].truechimer && c[2].truechimer && c[3].truechimer);
	EXPECT_LE(lo, 0.0);
	EXPECT_GE(hi, 0.001);
}

TEST(single_and_bad_input)
{
	struct sel_candidate c[2] = { CAND(5, 1), CAND(NAN, 1) };
	double lo, hi;

	EXPECT_EQ(1, sel_intersect(c, 1, &lo, &hi));
	EXPECT_EQ(4, lo);
	EXPECT_EQ(6, hi);
	EXPECT_EQ(0, sel_intersect(c, 2, &lo, &hi));
	c[1] = (struct sel_candidate)CAND(5, -1);
	EXPECT_EQ(0, sel_intersect(c, 2, &lo, &hi));
	EXPECT_EQ(0, sel_intersect(c, SEL_MAX + 1, &lo, &hi));
}

/* Weighted by 1/distance^2; the falseticker gets no weight at all. */
TEST(select_combines)
{
	struct sel_candidate c[4] = { CAND(0, 0.010), CAND(0.003, 0.020), CAND(0.001, 0.010),
				      CAND(0.5, 0.010) };
	struct sel_result r;
	double w0 = 1e4, w1 = 2500, w2 = 1e4;

	set_ids(c, 4);
	c[0].jitter = 0.001;
	c[1].jitter = 0.002;
	c[2].jitter = 0.001;
	EXPECT_EQ(3, sel_select(c, 4, 3, -1, &r));
	EXPECT_LT(fabs(r.offset - (0.003 * w1 + 0.001 * w2) / (w0 + w1 + w2)), 1e-12);
	/* peer: smallest distance, first of the equal ones */
	EXPECT_EQ(0, r.peer);
	EXPECT_GT(r.jitter, 0);
	EXPECT_LT(r.jitter, 0.002);
	/* sticky: the previous peer stays while it is a truechimer */
	EXPECT_EQ(3, sel_select(c, 4, 3, 1, &r));
	EXPECT_EQ(1, r.peer);
	/* but not the falseticker */
	EXPECT_EQ(3, sel_select(c, 4, 3, 3, &r));
	EXPECT_EQ(0, r.peer);
	/* ties in distance go to the lower stratum */
	c[2].stratum = 1;
	EXPECT_EQ(3, sel_select(c, 4, 3, -1, &r));
	EXPECT_EQ(2, r.peer);
}

TEST(select_minimum_agreeing)
{
	struct sel_candidate c[3] = { CAND(0, 0.010), CAND(0.001, 0.010), CAND(0.5, 0.010) };
	struct sel_result r;

	set_ids(c, 3);
	EXPECT_EQ(2, sel_select(c, 3, 2, -1, &r));
	EXPECT_EQ(0, sel_select(c, 3, 3, -1, &r));
	EXPECT_EQ(-1, r.peer);
	for (int i = 0; i < 3; i++)
		EXPECT_FALSE(c[i].truechimer);
	EXPECT_EQ(0, sel_select(c, 0, 1, -1, &r));
}

/*
 * Two NTS sources agree at 0; three unauthenticated ones agree at +10 s:
 * a falseticker majority. Only "ignore" lets them win.
 */
static unsigned int attack(struct sel_candidate *c)
{
	struct sel_candidate a[5] = { CAND(0, 0.01), CAND(0.002, 0.01), CAND(10, 0.01),
				      CAND(10.001, 0.01), CAND(10.002, 0.01) };

	for (int i = 0; i < 5; i++) {
		a[i].id = i;
		a[i].authenticated = i < 2;
		c[i] = a[i];
	}
	return 5;
}

TEST(auth_ignore_lets_the_majority_win)
{
	struct sel_candidate c[5];
	struct sel_result r;
	unsigned int n = attack(c);

	EXPECT_EQ(3, sel_select_auth(c, n, 1, -1, SEL_AUTH_IGNORE, &r));
	EXPECT_GT(r.offset, 9.9);
	EXPECT_FALSE(c[0].truechimer);
	/* sel_select() is the ignore mode. */
	n = attack(c);
	EXPECT_EQ(3, sel_select(c, n, 1, -1, &r));
	EXPECT_GT(r.offset, 9.9);
}

TEST(auth_prefer_and_require_outvote_nothing)
{
	enum sel_auth_mode modes[2] = { SEL_AUTH_PREFER, SEL_AUTH_REQUIRE };
	struct sel_candidate c[5];
	struct sel_result r;

	for (int m = 0; m < 2; m++) {
		unsigned int n = attack(c);

		EXPECT_EQ(2, sel_select_auth(c, n, 1, -1, modes[m], &r));
		EXPECT_LT(fabs(r.offset - 0.001), 0.0015);
		EXPECT_TRUE(c[0].truechimer);
		EXPECT_TRUE(c[1].truechimer);
		for (int i = 2; i < 5; i++)
			EXPECT_FALSE(c[i].truechimer);
		EXPECT_TRUE(r.peer == 0 || r.peer == 1);
		/* min_agree counts what is left: three are not there. */
		n = attack(c);
		EXPECT_EQ(0, sel_select_auth(c, n, 3, -1, modes[m], &r));
		EXPECT_EQ(-1, r.peer);
	}
}

/* mix: the unauthenticated ones join only where they agree. */
TEST(auth_mix)
{
	struct sel_candidate c[6];
	struct sel_result r;
	unsigned int n = attack(c);

	EXPECT_EQ(2, sel_select_auth(c, n, 1, -1, SEL_AUTH_MIX, &r));
	EXPECT_LT(fabs(r.offset - 0.001), 0.0015);
	for (int i = 2; i < 5; i++)
		EXPECT_FALSE(c[i].truechimer);
	/* An unauthenticated source that agrees is combined. */
	n = attack(c);
	c[5] = (struct sel_candidate)CAND(0.001, 0.01);
	c[5].id = 5;
	EXPECT_EQ(3, sel_select_auth(c, n + 1, 3, -1, SEL_AUTH_MIX, &r));
	EXPECT_TRUE(c[5].truechimer);
	EXPECT_FALSE(c[2].truechimer);
}

/* With no authenticated candidate, prefer and mix use the others; require does not. */
TEST(auth_none_authenticated)
{
	struct sel_candidate c[3] = { CAND(1, 0.01), CAND(1.001, 0.01), CAND(1.002, 0.01) };
	struct sel_result r;

	set_ids(c, 3);
	EXPECT_EQ(3, sel_select_auth(c, 3, 1, -1, SEL_AUTH_PREFER, &r));
	EXPECT_EQ(3, sel_select_auth(c, 3, 1, -1, SEL_AUTH_MIX, &r));
	EXPECT_EQ(0, sel_select_auth(c, 3, 1, -1, SEL_AUTH_REQUIRE, &r));
	EXPECT_EQ(-1, r.peer);
	for (int i = 0; i < 3; i++)
		EXPECT_FALSE(c[i].truechimer);
}

TEST_HARNESS_MAIN
