/* SPDX-License-Identifier: GPL-2.0 */
/*
 * clock: the operations the clock discipline needs from a system clock, so
 * the same discipline drives a simulated clock in the tests and the kernel
 * clock (adjtimex, userspace/sys/clock_adjtimex.h) in the daemon.
 *
 * Contract (for every implementation):
 * - All operations return 0 on success and a negative errno on failure; a
 *   failed operation changed nothing.
 * - now(): the clock's current reading (CLOCK_REALTIME for the kernel).
 * - get_frequency()/set_frequency(): the frequency correction in ppm,
 *   positive makes the clock run faster (ADJ_FREQUENCY semantics). It
 *   replaces the previous correction; it is not added to it. The discipline
 *   never asks for more than CLOCK_MAX_FREQ_PPM in magnitude.
 * - step(): add the given seconds to the clock at once (ADJ_SETOFFSET).
 * - set_leap(): arm (NTP_LEAP_INSERT/NTP_LEAP_DELETE) or disarm
 *   (NTP_LEAP_NONE) a leap second at the end of the current UTC day, and set
 *   the TAI-UTC offset if tai > 0 (ADJ_TAI).
 * - set_sync(): tell the clock whether it is synchronised and its estimated
 *   and maximum error in seconds (STA_UNSYNC, ADJ_ESTERROR, ADJ_MAXERROR).
 * - The discipline slews by frequency itself (no ADJ_OFFSET, no kernel PLL).
 */
#ifndef XNTS_CLOCK_H
#define XNTS_CLOCK_H

#include <stdbool.h>
#include <time.h>

#define CLOCK_MAX_FREQ_PPM 500.0	/* the kernel's MAXFREQ */

struct clock_ops {
	int (*now)(void *ctx, struct timespec *ts);
	int (*get_frequency)(void *ctx, double *ppm);
	int (*set_frequency)(void *ctx, double ppm);
	int (*step)(void *ctx, double seconds);
	int (*set_leap)(void *ctx, int leap, int tai);
	int (*set_sync)(void *ctx, bool synced, double est_error, double max_error);
};

#endif
