// SPDX-License-Identifier: GPL-2.0
/*
 * The adjtimex clock_ops on this machine: reading only. A context that is
 * not writable must refuse every change without a system call; the real
 * changes are exercised in the VM.
 */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "kselftest_harness.h"
#include "clock.h"
#include "clock_adjtimex.h"
#include "ntp.h"

TEST(adjtimex_reads)
{
	struct clock_adjtimex ctx = { 0 };
	struct timespec a, b;
	double ppm = NAN;

	ASSERT_EQ(0, clock_adjtimex_ops.now(&ctx, &a));
	ASSERT_EQ(0, clock_gettime(CLOCK_REALTIME, &b));
	EXPECT_LT(llabs((long long)b.tv_sec - (long long)a.tv_sec), 2);
	/* modes == 0: a query, allowed anywhere */
	ASSERT_EQ(0, clock_adjtimex_ops.get_frequency(&ctx, &ppm));
	EXPECT_TRUE(isfinite(ppm));
	EXPECT_LE(fabs(ppm), 512);
}

TEST(adjtimex_read_only_refuses)
{
	struct clock_adjtimex ctx = { 0 };

	EXPECT_FALSE(ctx.writable);
	EXPECT_EQ(-EPERM, clock_adjtimex_ops.set_frequency(&ctx, 1.0));
	EXPECT_EQ(-EPERM, clock_adjtimex_ops.step(&ctx, 0.001));
	EXPECT_EQ(-EPERM, clock_adjtimex_ops.set_leap(&ctx, NTP_LEAP_INSERT, 37));
	EXPECT_EQ(-EPERM, clock_adjtimex_ops.set_sync(&ctx, true, 1e-6, 1e-3));
	/* a NULL context is read-only too */
	EXPECT_EQ(-EPERM, clock_adjtimex_ops.set_frequency(NULL, 0));
	EXPECT_EQ(-EPERM, clock_adjtimex_ops.step(NULL, 0));
}

TEST_HARNESS_MAIN
