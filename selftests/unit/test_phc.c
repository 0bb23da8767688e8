// SPDX-License-Identifier: GPL-2.0
/*
 * phc.h on the host: the PHC-to-system mapping (least-squares offset and
 * rate) on synthetic readings, and phc_read's fallback on a device that
 * is no PHC. The reads of a real PHC are tested in the VM (test_phc).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "phc.h"
#include "phc_read.h"
#include "../../bpf/xnts_shared.h"

static void add(struct phc_map *m, int64_t sys, int64_t phc)
{
	struct phc_reading r = { .phc_ns = phc, .sys_ns = sys };

	phc_map_add(m, &r);
}

static int near(double want, double got, double tol)
{
	return fabs(want - got) <= tol;
}

#define EXPECT_NEAR(want, got, tol) \
	EXPECT_TRUE(near((want), (got), (tol))) TH_LOG("%.9g, wanted %.9g", (double)(got), \
						       (double)(want))

/* A PHC 37 s ahead (TAI) running +100 ppm fast: the fit finds both exactly. */
TEST(map_offset_and_rate)
{
	const int64_t t0 = 1800000000LL * 1000000000LL, off = 37000000000LL;
	struct phc_map m;
	int64_t sys;

	phc_map_reset(&m);
	add(&m, t0, t0 + off);
	EXPECT_FALSE(m.valid);
	EXPECT_EQ(-EAGAIN, phc_map_to_sys(&m, t0, &sys));
	for (int i = 1; i <= 20; i++) {
		int64_t t = t0 + i * 1000000000LL;

		add(&m, t, t + off + i * 100000LL);
	}
	ASSERT_TRUE(m.valid);
	EXPECT_EQ(PHC_MAP_POINTS, m.n);
	EXPECT_NEAR(100.0, m.rate_ppm, 1e-6);
	EXPECT_EQ(t0 + 20000000000LL, m.ref_sys_ns);
	EXPECT_NEAR(0, (double)(off + 2000000 - m.ref_off_ns), 1);
	/* 10 s after the last reading: the PHC has gained another 1 ms. */
	ASSERT_EQ(0, phc_map_to_sys(&m, t0 + 30000000000LL + off + 3000000LL, &sys));
	EXPECT_NEAR(0, (double)(t0 + 30000000000LL - sys), 2);
}

/* Noise of +-500 ns on alternate readings averages out of the rate. */
TEST(map_noise)
{
	const int64_t t0 = 1000000000LL * 1000000000LL;
	struct phc_map m;

	phc_map_reset(&m);
	for (int i = 0; i < PHC_MAP_POINTS; i++) {
		int64_t t = t0 + i * 1000000000LL;

		add(&m, t, t - i * 50000LL + (i & 1 ? 500 : -500));
	}
	ASSERT_TRUE(m.valid);
	EXPECT_NEAR(-50.0, m.rate_ppm, 0.05);
}

TEST(read_not_a_phc)
{
	enum phc_method meth = PHC_METHOD_PRECISE;
	struct phc_reading r;
	int fd = open("/dev/null", O_RDONLY);

	ASSERT_LE(0, fd);
	EXPECT_GT(0, phc_read(fd, &meth, 5, &r));
	EXPECT_EQ(PHC_METHOD_NONE, meth);
	EXPECT_STREQ("none", phc_method_name(meth));
	close(fd);
}

/*
 * The integer form the daemon publishes for the XDP program (xdp_ctl.c)
 * converts as phc_map_to_sys() does, to 1 ns within 3 s of the reference.
 */
TEST(xdp_time_state_form)
{
	const int64_t t0 = 1800000000LL * 1000000000LL, off = 37250000000LL;
	struct xnts_time_state ts = { .phc_index = -1 };
	struct phc_map m;
	int64_t want;

	EXPECT_EQ(0, xnts_phc_to_sys(&ts, t0));
	phc_map_reset(&m);
	for (int i = 0; i < 8; i++) {
		int64_t t = t0 + i * 1000000000LL;

		add(&m, t, t + off - i * 123456LL);	/* -123.456 ppm */
	}
	ASSERT_TRUE(m.valid);
	ts.phc_index = 3;
	ts.phc_ref_sys_ns = m.ref_sys_ns;
	ts.phc_ref_off_ns = m.ref_off_ns;
	ts.phc_slope_q32 = llround((1.0 / (1.0 + m.rate_ppm * 1e-6) - 1.0) * 4294967296.0);
	for (int64_t dt = -3000000000LL; dt <= 3000000000LL; dt += 123456789LL) {
		int64_t phc = m.ref_sys_ns + dt + off;

		ASSERT_EQ(0, phc_map_to_sys(&m, phc, &want));
		EXPECT_NEAR(0, (double)(want - xnts_phc_to_sys(&ts, phc)), 1);
	}
}

TEST_HARNESS_MAIN
