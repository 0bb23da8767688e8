/* SPDX-License-Identifier: GPL-2.0 */
/*
 * phc: readings of a PTP hardware clock (/dev/ptpN) against CLOCK_REALTIME,
 * and the PHC-to-system mapping built from those readings.
 *
 * Contract:
 * - Readings come from the system layer's phc_read()
 *   (userspace/sys/phc_read.h), or from tests; this module only does the
 *   arithmetic.
 * - A reading pairs the PHC's raw time (in the PHC's own scale, TAI or UTC)
 *   with the CLOCK_REALTIME at the same instant (the window's midpoint) and
 *   says how wide the window was: the uncertainty of the pairing.
 * - phc_map keeps the last PHC_MAP_POINTS readings and fits, by least
 *   squares, PHC - system as a line over system time: an offset at the
 *   newest reading and a rate (ppm, positive: the PHC runs fast against the
 *   system clock). phc_map_to_sys() converts a raw PHC time (e.g. a NIC's
 *   hardware timestamp) to system time with it; it fails (-EAGAIN) until
 *   two readings exist.
 * - No allocation, no global state; the mapping is plain data that can be
 *   copied (e.g. into the XDP time state).
 */
#ifndef XNTS_PHC_H
#define XNTS_PHC_H

#include <stdbool.h>
#include <stdint.h>

#define PHC_MAX_SAMPLES 25	/* PTP_MAX_SAMPLES */
#define PHC_MAP_POINTS 16

enum phc_method {
	PHC_METHOD_PRECISE,
	PHC_METHOD_EXTENDED,
	PHC_METHOD_PLAIN,
	PHC_METHOD_NONE,	/* the device supports none of them */
};

struct phc_reading {
	int64_t phc_ns;		/* raw PHC time, its own scale */
	int64_t sys_ns;		/* CLOCK_REALTIME at the same instant */
	int64_t window_ns;	/* width of the read window (0: a cross timestamp) */
	enum phc_method method;	/* the method that produced it */
};

struct phc_map {
	unsigned int n, next;	/* points held, ring index of the next one */
	int64_t sys_ns[PHC_MAP_POINTS];
	int64_t off_ns[PHC_MAP_POINTS];	/* PHC - system */
	bool valid;		/* the fields below hold a fit */
	int64_t ref_sys_ns;	/* the newest reading's system time */
	int64_t ref_off_ns;	/* fitted PHC - system at ref_sys_ns */
	double rate_ppm;	/* d(PHC - system)/d(system), in ppm */
};

const char *phc_method_name(enum phc_method m);

void phc_map_reset(struct phc_map *m);
void phc_map_add(struct phc_map *m, const struct phc_reading *r);
int phc_map_to_sys(const struct phc_map *m, int64_t phc_ns, int64_t *sys_ns);

#endif
