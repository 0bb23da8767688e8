// SPDX-License-Identifier: GPL-2.0
/*
 * PHC reads (lib/phc.h) against real PTP hardware clocks in the guest:
 * - kmod/xnts_swphc.ko, a software PHC derived from the guest's CLOCK_TAI,
 *   set to +100 ppm and stepped by +1.5 s through clock_adjtime on the PHC
 *   (never on the system clock): phc_read falls back from PRECISE to
 *   EXTENDED (the module offers no getcrosststamp unless precise=1), and the
 *   mapping finds the set offset and rate; the PLAIN method agrees; with
 *   precise=1 the PRECISE method is used, with a zero window.
 * - qemu's e1000e (run_in_vm.sh adds one): PRECISE gives EOPNOTSUPP, the
 *   read falls back to EXTENDED.
 * Measured figures are printed as "# " lines (emulated: TCG).
 */
#include <dirent.h>
#include <errno.h>
#include <linux/ptp_clock.h>
#include <math.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <time.h>

#include "kselftest_harness.h"
#include "phc.h"
#include "phc_read.h"
#include "vm_guest.h"

#define MOD "xnts_swphc"
#define FD_TO_CLOCKID(fd) ((~(clockid_t)(fd) << 3) | 3)

static int mod_load(const char *params)
{
	char path[4096];
	int fd, rc;

	if (vm_path_beside_exe("kmod/" MOD ".ko", path, sizeof(path)))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = syscall(SYS_finit_module, fd, params, 0);
	close(fd);
	return rc;
}

static int mod_unload(void)
{
	for (int i = 0; i < 100; i++) {
		if (!syscall(SYS_delete_module, MOD, O_NONBLOCK))
			return 0;
		if (errno != EBUSY && errno != EAGAIN)
			return -1;
		usleep(100000);
	}
	return -1;
}

/* /dev/ptpN of the PHC whose clock_name is name; -1 if none. */
static int find_phc(const char *name, char *dev, size_t len)
{
	DIR *d = opendir("/sys/class/ptp");
	struct dirent *e;
	int found = -1;

	if (!d)
		return -1;
	while ((e = readdir(d)) && found < 0) {
		char p[300], buf[64] = "";
		FILE *f;

		if (strncmp(e->d_name, "ptp", 3))
			continue;
		snprintf(p, sizeof(p), "/sys/class/ptp/%s/clock_name", e->d_name);
		f = fopen(p, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			buf[strcspn(buf, "\n")] = 0;
			if (!strcmp(buf, name)) {
				snprintf(dev, len, "/dev/%.32s", e->d_name);
				found = 0;
			}
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

static int64_t tai_offset_ns(void)
{
	struct timex tx = { 0 };	/* modes = 0: read only */

	adjtimex(&tx);
	return (int64_t)tx.tai * 1000000000LL;
}

static int64_t realtime_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Frequency (ppm) and a step (ns) of the PHC itself, through its clock id. */
static int phc_adjust(int fd, double ppm, int64_t step_ns)
{
	struct timex tx = { 0 };

	tx.modes = ADJ_FREQUENCY;
	tx.freq = (long)llround(ppm * 65536.0);
	if (clock_adjtime(FD_TO_CLOCKID(fd), &tx) < 0)
		return -1;
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_SETOFFSET | ADJ_NANO;
	/* ns under ADJ_NANO, and never negative: -0.25 s is -1 s + 0.75 s. */
	tx.time.tv_sec = step_ns / 1000000000LL;
	tx.time.tv_usec = step_ns % 1000000000LL;
	if (tx.time.tv_usec < 0) {
		tx.time.tv_sec--;
		tx.time.tv_usec += 1000000000LL;
	}
	return clock_adjtime(FD_TO_CLOCKID(fd), &tx) < 0 ? -1 : 0;
}

FIXTURE(swphc) {
	int loaded;
	int fd;
	char dev[64];
};

FIXTURE_SETUP(swphc)
{
	self->fd = -1;
	ASSERT_TRUE(vm_in_guest()) TH_LOG("modules and PHCs only in the VM");
	ASSERT_EQ(0, mod_load("")) TH_LOG("finit_module: %s", strerror(errno));
	self->loaded = 1;
	ASSERT_EQ(0, find_phc("xnts_swphc", self->dev, sizeof(self->dev)));
	self->fd = open(self->dev, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("%s: %s", self->dev, strerror(errno));
}

FIXTURE_TEARDOWN(swphc)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->loaded)
		EXPECT_EQ(0, mod_unload()) TH_LOG("delete_module: %s", strerror(errno));
}

/* +100 ppm and +1.5 s: the EXTENDED reads (after PRECISE fails) see both. */
TEST_F(swphc, extended_offset_and_rate)
{
	const int64_t step = 1500000000LL;
	enum phc_method m = PHC_METHOD_PRECISE;
	struct phc_reading r;
	struct phc_map map;
	int64_t t_set, want, sys, tai = tai_offset_ns(), max_w = 0;

	ASSERT_EQ(0, phc_adjust(self->fd, 100.0, step)) TH_LOG("%s", strerror(errno));
	t_set = realtime_ns();
	phc_map_reset(&map);
	for (int i = 0; i < 13; i++) {
		ASSERT_EQ(0, phc_read(self->fd, &m, 9, &r));
		ASSERT_EQ(PHC_METHOD_EXTENDED, m);
		ASSERT_EQ(PHC_METHOD_EXTENDED, r.method);
		ASSERT_LE(0, r.window_ns);
		if (r.window_ns > max_w)
			max_w = r.window_ns;
		phc_map_add(&map, &r);
		usleep(400000);
	}
	ASSERT_TRUE(map.valid);
	/* PHC - system at the last reading: TAI offset, the step, the drift since. */
	want = tai + step + (int64_t)((double)(map.ref_sys_ns - t_set) * 100e-6);
	printf("# swphc set +100 ppm, +1.5 s: measured %+.3f ppm, offset error %+lld ns, "
	       "widest window %lld ns (EXTENDED, emulated)\n", map.rate_ppm,
	       (long long)(map.ref_off_ns - want), (long long)max_w);
	EXPECT_GT(3.0, fabs(map.rate_ppm - 100.0)) TH_LOG("rate %.3f ppm", map.rate_ppm);
	EXPECT_GT(1000000, llabs(map.ref_off_ns - want)) {
		TH_LOG("offset %lld ns, wanted %lld", (long long)map.ref_off_ns, (long long)want);
	}
	/* The mapping turns a PHC time back into the system time it was read at. */
	ASSERT_EQ(0, phc_read(self->fd, &m, 9, &r));
	ASSERT_EQ(0, phc_map_to_sys(&map, r.phc_ns, &sys));
	EXPECT_GT(1000000, llabs(sys - r.sys_ns)) {
		TH_LOG("mapped %lld, read at %lld", (long long)sys, (long long)r.sys_ns);
	}
}

/* Starting at PLAIN uses PTP_SYS_OFFSET, and it agrees with EXTENDED. */
TEST_F(swphc, plain_agrees)
{
	enum phc_method mp = PHC_METHOD_PLAIN, me = PHC_METHOD_EXTENDED;
	struct phc_reading rp, re;
	int64_t dp, de;

	ASSERT_EQ(0, phc_adjust(self->fd, 0, -250000000LL));
	ASSERT_EQ(0, phc_read(self->fd, &mp, 9, &rp));
	ASSERT_EQ(0, phc_read(self->fd, &me, 9, &re));
	EXPECT_EQ(PHC_METHOD_PLAIN, mp);
	EXPECT_EQ(PHC_METHOD_PLAIN, rp.method);
	EXPECT_EQ(PHC_METHOD_EXTENDED, me);
	dp = rp.phc_ns - rp.sys_ns;
	de = re.phc_ns - re.sys_ns;
	printf("# swphc PLAIN %lld ns, EXTENDED %lld ns (PHC - system, emulated)\n",
	       (long long)dp, (long long)de);
	EXPECT_GT(1000000, llabs(dp - de));
	EXPECT_GT(1000000, llabs(dp - (tai_offset_ns() - 250000000LL)));
}

/* With precise=1 the module has getcrosststamp: PRECISE, zero window. */
TEST(swphc_precise)
{
	enum phc_method m = PHC_METHOD_PRECISE;
	struct phc_reading r;
	char dev[64];
	int fd;

	ASSERT_TRUE(vm_in_guest());
	ASSERT_EQ(0, mod_load("precise=1")) TH_LOG("finit_module: %s", strerror(errno));
	ASSERT_EQ(0, find_phc("xnts_swphc", dev, sizeof(dev)));
	fd = open(dev, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, phc_adjust(fd, 0, 2000000000LL));
	EXPECT_EQ(0, phc_read(fd, &m, 9, &r));
	EXPECT_EQ(PHC_METHOD_PRECISE, m);
	EXPECT_EQ(0, r.window_ns);
	EXPECT_GT(1000000, llabs(r.phc_ns - r.sys_ns - tai_offset_ns() - 2000000000LL)) {
		TH_LOG("PHC - system %lld ns", (long long)(r.phc_ns - r.sys_ns));
	}
	close(fd);
	EXPECT_EQ(0, mod_unload());
}

/* qemu's e1000e: PRECISE is EOPNOTSUPP, EXTENDED works (its clock is frozen). */
TEST(e1000e_fallback)
{
	enum phc_method m = PHC_METHOD_PRECISE;
	struct ptp_sys_offset_precise pp;
	struct phc_reading r;
	struct dirent *e;
	char dev[300] = "";
	DIR *d;
	int fd;

	ASSERT_TRUE(vm_in_guest());
	ASSERT_EQ(0, system("modprobe e1000e"));
	for (int i = 0; i < 50 && !dev[0]; i++) {
		d = opendir("/sys/class/net/eth0/device/ptp");
		if (d) {
			while ((e = readdir(d)))
				if (!strncmp(e->d_name, "ptp", 3))
					snprintf(dev, sizeof(dev), "/dev/%.32s", e->d_name);
			closedir(d);
		}
		if (!dev[0])
			usleep(100000);
	}
	ASSERT_NE(0, dev[0]) TH_LOG("eth0 (e1000e) has no PHC: is the VM's NIC missing?");
	fd = open(dev, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	memset(&pp, 0, sizeof(pp));
	EXPECT_EQ(-1, ioctl(fd, PTP_SYS_OFFSET_PRECISE, &pp));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(0, phc_read(fd, &m, 5, &r));
	EXPECT_EQ(PHC_METHOD_EXTENDED, m);
	EXPECT_LE(0, r.window_ns);
	close(fd);
}

TEST_HARNESS_MAIN
