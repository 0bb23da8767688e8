// SPDX-License-Identifier: GPL-2.0
/* The per-source clock filter (RFC 5905 section 10 in spirit). */
#include <math.h>

#include "kselftest_harness.h"
#include "filter.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-12)

TEST(first_sample)
{
	struct filter f;

	filter_init(&f);
	EXPECT_FALSE(f.has_output);
	EXPECT_EQ(1, filter_add(&f, 0.002, 0.010, 1e-6, 100, 16));
	EXPECT_TRUE(f.has_output);
	EXPECT_TRUE(NEAR(f.offset, 0.002));
	EXPECT_TRUE(NEAR(f.delay, 0.010));
	EXPECT_TRUE(NEAR(f.dispersion, 1e-6 / 2));
	EXPECT_TRUE(NEAR(f.jitter, 0.005));	/* half the delay while alone */
	EXPECT_EQ(100, f.time);
}

/* The lowest-delay sample wins; an older winner is not output again. */
TEST(minimum_delay)
{
	struct filter f;

	filter_init(&f);
	EXPECT_EQ(1, filter_add(&f, 0.001, 0.010, 0, 0, 16));
	EXPECT_EQ(1, filter_add(&f, 0.002, 0.005, 0, 16, 16));
	EXPECT_TRUE(NEAR(f.offset, 0.002));
	EXPECT_EQ(16, f.time);
	/* worse delay: the best is still the one already output */
	EXPECT_EQ(0, filter_add(&f, 0.003, 0.020, 0, 32, 16));
	EXPECT_TRUE(NEAR(f.offset, 0.002));
	EXPECT_EQ(3, f.n);
}

/*
 * Dispersion grows by PHI per second; the output dispersion is the
 * distance-sorted sum eps_i / 2^(i+1); jitter is the RMS offset difference
 * from the chosen sample.
 */
TEST(dispersion_and_jitter)
{
	struct filter f;
	double e0, e1, e2, j;

	filter_init(&f);
	EXPECT_EQ(1, filter_add(&f, 0.000, 0.010, 0.001, 0, 16));
	EXPECT_EQ(0, filter_add(&f, 0.004, 0.030, 0.001, 100, 16));
	EXPECT_TRUE(NEAR(f.reg[1].dispersion, 0.001 + FILTER_PHI * 100));
	EXPECT_EQ(1, filter_add(&f, 0.001, 0.008, 0.002, 200, 16));
	/* by distance: (0.001, 0.008) then (0.000, 0.010) then (0.004, 0.030) */
	e0 = 0.002;
	e1 = 0.001 + FILTER_PHI * 200;
	e2 = 0.001 + FILTER_PHI * 100;
	EXPECT_TRUE(NEAR(f.dispersion, e0 / 2 + e1 / 4 + e2 / 8));
	j = sqrt((0.001 * 0.001 + 0.003 * 0.003) / 2);
	EXPECT_TRUE(NEAR(f.jitter, j));
	EXPECT_TRUE(NEAR(f.offset, 0.001));
}

/* Eight stages: the ninth sample pushes the oldest out. */
TEST(eight_stages)
{
	struct filter f;

	filter_init(&f);
	EXPECT_EQ(1, filter_add(&f, 0.0005, 0.001, 0, 0, 16));
	for (int i = 1; i < FILTER_STAGES; i++)
		EXPECT_EQ(0, filter_add(&f, 0.0001 * (i & 1), 0.010 + 0.001 * i, 0, 16 * i, 16));
	EXPECT_EQ(FILTER_STAGES, f.n);
	EXPECT_TRUE(NEAR(f.offset, 0.0005));
	/* the best leaves; the next best (stage with delay 0.011) is newer than it */
	EXPECT_EQ(1, filter_add(&f, 0.0001, 0.050, 0, 16 * FILTER_STAGES, 16));
	EXPECT_EQ(FILTER_STAGES, f.n);
	EXPECT_TRUE(NEAR(f.delay, 0.011));
	EXPECT_EQ(16, f.time);
}

/* A popcorn spike is held back; a lasting change gets through later. */
TEST(popcorn_spike)
{
	struct filter f;
	double t = 0;

	filter_init(&f);
	for (int i = 0; i < FILTER_STAGES; i++, t += 16)
		filter_add(&f, 10e-6 * (i & 1), 0.010 - 0.0001 * i, 0, t, 16);
	EXPECT_TRUE(f.jitter < 20e-6);
	EXPECT_EQ(0, filter_add(&f, 0.005, 0.005, 0, t, 16));
	EXPECT_EQ(1, f.spikes);
	EXPECT_TRUE(fabs(f.offset) < 20e-6);
	/* the last output was at t - 16: held while younger than 2 * 16 s */
	EXPECT_EQ(0, filter_add(&f, 0.005, 0.004, 0, t + 8, 16));
	EXPECT_EQ(2, f.spikes);
	EXPECT_EQ(1, filter_add(&f, 0.005, 0.003, 0, t + 16, 16));
	EXPECT_TRUE(NEAR(f.offset, 0.005));
}

TEST(shift_and_drop)
{
	struct filter f;

	filter_init(&f);
	filter_add(&f, 0.5, 0.010, 0, 0, 16);
	filter_add(&f, 0.5, 0.020, 0, 16, 16);
	filter_add(&f, 0.0, 0.030, 0, 32, 16);
	filter_shift(&f, 0.5);
	EXPECT_TRUE(NEAR(f.offset, 0.0));
	EXPECT_TRUE(NEAR(f.reg[0].offset, -0.5));
	/* forget what came before t = 20: only the newest stays and is output */
	filter_drop_before(&f, 20);
	EXPECT_EQ(1, f.n);
	EXPECT_TRUE(f.has_output);
	EXPECT_TRUE(NEAR(f.offset, -0.5));
	EXPECT_EQ(32, f.time);
	filter_drop_before(&f, 100);
	EXPECT_EQ(0, f.n);
	EXPECT_FALSE(f.has_output);
	EXPECT_EQ(1, filter_add(&f, 0.1, 0.010, 0, 100, 16));
}

TEST(refuses)
{
	struct filter f;

	filter_init(&f);
	EXPECT_EQ(-1, filter_add(&f, NAN, 0.01, 0, 0, 16));
	EXPECT_EQ(-1, filter_add(&f, 0, -0.01, 0, 0, 16));
	EXPECT_EQ(-1, filter_add(&f, 0, 0.01, -1, 0, 16));
	EXPECT_EQ(-1, filter_add(&f, 0, INFINITY, 0, 0, 16));
	EXPECT_EQ(0, f.n);
	EXPECT_EQ(1, filter_add(&f, 0, 0.01, 0, 10, 16));
	EXPECT_EQ(-1, filter_add(&f, 0, 0.01, 0, 9, 16));	/* time went back */
	EXPECT_EQ(1, f.n);
}

TEST_HARNESS_MAIN
