/* SPDX-License-Identifier: GPL-2.0 */
/*
 * phc_source: a [[source]] of mode "phc" (xnts extension): a PTP hardware clock as
 * the reference, read against CLOCK_REALTIME (lib/phc.h) once per poll
 * interval and turned into samples for the clock discipline, like an NTP
 * association's: offset = reference - system clock, delay = the read
 * window, dispersion = half of it plus the reading's resolution, stratum 0
 * (a reference clock: we serve stratum 1), refid "PHC".
 *
 * The device is the configured path, or the PHC of the configured
 * interface, found through ethtool netlink (ETHTOOL_MSG_TSINFO_GET). The
 * PHC counts TAI or UTC (phc-scale); for TAI the kernel's TAI offset
 * (adjtimex, read only) is subtracted. Every reading also feeds the
 * PHC-to-system mapping (offset and rate) that converts the NIC's raw
 * hardware timestamps to system time; phc_map_snapshot() gives the mapping
 * of the first PHC source to the NTP server and the XDP time state.
 *
 * Nothing here changes a clock: the PHC is only read.
 */
#ifndef XNTS_PHC_SRC_H
#define XNTS_PHC_SRC_H

#include <stddef.h>

#include "phc.h"
#include "sbuf.h"

struct source;
struct phc_source;

/* Sets up s (mode phc): resolves and opens the device. 0, or -1 with err. */
int phc_source_init(struct source *s, char *err, size_t errlen);
void phc_source_start(struct source *s);
void phc_source_fini(struct source *s);
void phc_source_status_json(const struct source *s, struct sbuf *out);

/* The PHC index (/dev/ptpN) of an interface, through ethtool netlink;
 * -1 with err if it has none or the lookup fails. */
int phc_index_of_interface(const char *ifname, char *err, size_t errlen);

/*
 * A copy of the mapping of the first PHC source started, safe to call from
 * any thread (the NTP workers convert hardware timestamps with it): 0 with
 * *out and *phc_index (its /dev/ptpN number) filled, or -EAGAIN while there
 * is no PHC source or no fit yet.
 */
int phc_map_snapshot(struct phc_map *out, int *phc_index);

#endif
