// SPDX-License-Identifier: GPL-2.0
/*
 * adjtimex with modes, in the VM guest only (never on the host, whose clock
 * must not change): set the frequency, read it back, restore it; the same
 * through clock_adjtime(CLOCK_REALTIME), the call the daemon uses.
 */
#include <sys/timex.h>
#include <time.h>

#include "kselftest_harness.h"
#include "vm_guest.h"

/* 100 ppm in the kernel's scaled-ppm unit (16-bit fraction). */
#define PPM_100 (100L << 16)

static long other_freq(long orig)
{
	/* Stay inside the kernel's +-500 ppm range whatever orig is. */
	return orig > 0 ? orig - PPM_100 : orig + PPM_100;
}

FIXTURE(freq) {
	struct timex orig;
	int saved;
};

FIXTURE_SETUP(freq)
{
	ASSERT_TRUE(vm_in_guest()) TH_LOG("refusing to change a clock outside the VM");
	memset(&self->orig, 0, sizeof(self->orig));
	ASSERT_LE(0, adjtimex(&self->orig));
	self->saved = 1;
}

/* Restores the frequency even when a check failed half-way. */
FIXTURE_TEARDOWN(freq)
{
	struct timex t = { .modes = ADJ_FREQUENCY };
	struct timex now = { 0 };

	if (!self->saved)
		return;
	t.freq = self->orig.freq;
	EXPECT_LE(0, adjtimex(&t));
	EXPECT_LE(0, adjtimex(&now));
	EXPECT_EQ(self->orig.freq, now.freq);
}

TEST_F(freq, adjtimex_set_read_restore)
{
	struct timex set = { .modes = ADJ_FREQUENCY };
	struct timex got = { 0 };

	set.freq = other_freq(self->orig.freq);
	ASSERT_LE(0, adjtimex(&set));
	ASSERT_LE(0, adjtimex(&got));
	EXPECT_EQ(set.freq, got.freq);
	EXPECT_NE(self->orig.freq, got.freq);
}

TEST_F(freq, clock_adjtime_set_read_restore)
{
	struct timex set = { .modes = ADJ_FREQUENCY };
	struct timex got = { 0 };

	set.freq = other_freq(self->orig.freq) / 2 + 1234;
	ASSERT_LE(0, clock_adjtime(CLOCK_REALTIME, &set));
	ASSERT_LE(0, clock_adjtime(CLOCK_REALTIME, &got));
	EXPECT_EQ(set.freq, got.freq);
}

/* Out of range must be refused or clamped, never taken as is. */
TEST_F(freq, out_of_range_clamped)
{
	struct timex set = { .modes = ADJ_FREQUENCY, .freq = 100000L << 16 };
	struct timex got = { 0 };

	adjtimex(&set);
	ASSERT_LE(0, adjtimex(&got));
	EXPECT_LE(got.freq, 500L << 16);
}

TEST_HARNESS_MAIN
