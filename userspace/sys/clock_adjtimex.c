// SPDX-License-Identifier: GPL-2.0
/*
 * clock_ops on the kernel clock (see clock.h, clock_adjtimex.h). Nothing here changes the
 * clock unless the context is marked writable.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>

#include "clock_adjtimex.h"
#include "ntp.h"

/* ADJ_FREQUENCY takes ppm scaled by 2^16. */
#define FREQ_SCALE 65536.0

static int call(struct timex *tx)
{
	int r = clock_adjtime(CLOCK_REALTIME, tx);

	return r < 0 ? -errno : 0;
}

static bool writable(void *ctx)
{
	const struct clock_adjtimex *c = ctx;

	return c && c->writable;
}

static int adj_now(void *ctx, struct timespec *ts)
{
	(void)ctx;
	return clock_gettime(CLOCK_REALTIME, ts) ? -errno : 0;
}

static int adj_get_frequency(void *ctx, double *ppm)
{
	struct timex tx;
	int r;

	(void)ctx;
	memset(&tx, 0, sizeof(tx));	/* modes 0: read only */
	r = call(&tx);
	if (r)
		return r;
	*ppm = tx.freq / FREQ_SCALE;
	return 0;
}

static int adj_set_frequency(void *ctx, double ppm)
{
	struct timex cur, tx;
	int r;

	if (!writable(ctx))
		return -EPERM;
	if (!isfinite(ppm) || fabs(ppm) > CLOCK_MAX_FREQ_PPM)
		return -EINVAL;
	memset(&cur, 0, sizeof(cur));
	r = call(&cur);
	if (r)
		return r;
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_FREQUENCY | ADJ_STATUS;
	tx.freq = lround(ppm * FREQ_SCALE);
	/* Our own loop: the kernel PLL/FLL must stay off. */
	tx.status = cur.status & ~(STA_PLL | STA_FLL | STA_PPSFREQ | STA_PPSTIME);
	return call(&tx);
}

static int adj_step(void *ctx, double seconds)
{
	struct timex tx;
	double whole;
	long long ns;

	if (!writable(ctx))
		return -EPERM;
	if (!isfinite(seconds) || fabs(seconds) > 1e12)
		return -EINVAL;
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_SETOFFSET | ADJ_NANO;
	whole = floor(seconds);
	ns = llround((seconds - whole) * 1e9);
	if (ns >= 1000000000LL) {
		whole += 1;
		ns -= 1000000000LL;
	}
	/* The kernel wants tv_usec (nanoseconds with ADJ_NANO) in [0, 1e9). */
	tx.time.tv_sec = (time_t)whole;
	tx.time.tv_usec = (long)ns;
	return call(&tx);
}

static int adj_set_leap(void *ctx, int leap, int tai)
{
	struct timex cur, tx;
	int r;

	if (!writable(ctx))
		return -EPERM;
	memset(&cur, 0, sizeof(cur));
	r = call(&cur);
	if (r)
		return r;
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_STATUS;
	tx.status = cur.status & ~(STA_INS | STA_DEL);
	if (leap == NTP_LEAP_INSERT)
		tx.status |= STA_INS;
	else if (leap == NTP_LEAP_DELETE)
		tx.status |= STA_DEL;
	if (tai > 0) {
		tx.modes |= ADJ_TAI;
		tx.constant = tai;
	}
	return call(&tx);
}

static int adj_set_sync(void *ctx, bool synced, double est_error, double max_error)
{
	struct timex cur, tx;
	int r;

	if (!writable(ctx))
		return -EPERM;
	memset(&cur, 0, sizeof(cur));
	r = call(&cur);
	if (r)
		return r;
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_STATUS | ADJ_ESTERROR | ADJ_MAXERROR;
	tx.status = synced ? cur.status & ~STA_UNSYNC : cur.status | STA_UNSYNC;
	/* microseconds; the kernel caps maxerror at NTP_PHASE_LIMIT itself */
	tx.esterror = (long)fmin(fmax(est_error * 1e6, 0), 16e6);
	tx.maxerror = (long)fmin(fmax(max_error * 1e6, 0), 16e6);
	return call(&tx);
}

const struct clock_ops clock_adjtimex_ops = {
	.now = adj_now,
	.get_frequency = adj_get_frequency,
	.set_frequency = adj_set_frequency,
	.step = adj_step,
	.set_leap = adj_set_leap,
	.set_sync = adj_set_sync,
};
