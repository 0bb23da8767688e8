/* SPDX-License-Identifier: GPL-2.0 */
/*
 * leapsec: the IERS/NIST leap-seconds.list file (as Debian's tzdata ships it
 * in /usr/share/zoneinfo/leap-seconds.list): the TAI-UTC offset table.
 *
 * Contract:
 * - Format: lines "NTPSECONDS TAI-UTC [# comment]" in increasing time order,
 *   "#$ NTPSECONDS" (last update), "#@ NTPSECONDS" (expiry), "#h W1 W2 W3 W4 W5"
 *   (SHA-1 of the data, five 32-bit hex words, leading zeros may be left out).
 *   Other lines starting with '#' and blank lines are comments.
 * - The hash covers the digits of the "#$" and "#@" values and of the first
 *   two fields of every data line, concatenated in file order. If a "#h" line
 *   is present it must match or the parse fails; a file without one is
 *   accepted with has_hash false (the caller decides whether that is enough).
 * - Refused: no "#@" line, no data line, more than LEAPSEC_MAX entries, times
 *   not strictly increasing, TAI offset steps other than +-1 between entries
 *   (the first entry is the 1972 base and may be any value), garbage fields.
 *   Lines are bounded (LEAPSEC_LINE_MAX) and so is the whole buffer.
 * - Times in the API are Unix seconds (UTC, POSIX: leap seconds not counted);
 *   the table keeps the NTP seconds of the file.
 * - Pure: leapsec_parse() does no I/O and keeps no global state; the system
 *   layer's leapsec_load() (userspace/sys/load.h) reads the file.
 */
#ifndef XNTS_LEAPSEC_H
#define XNTS_LEAPSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEAPSEC_MAX 64
#define LEAPSEC_LINE_MAX 512
#define LEAPSEC_FILE_MAX (64 * 1024)
#define LEAPSEC_DEFAULT_PATH "/usr/share/zoneinfo/leap-seconds.list"

struct leapsec_entry {
	int64_t ntp;		/* NTP seconds (era 0) at which tai takes effect */
	int tai;		/* TAI - UTC from then on */
};

struct leapsec_table {
	struct leapsec_entry e[LEAPSEC_MAX];
	size_t n;
	int64_t updated;	/* "#$", NTP seconds; 0 if absent */
	int64_t expires;	/* "#@", NTP seconds */
	bool has_hash;		/* a "#h" line was present (and matched) */
};

/* 0 on success; -1 with a "line N: message" in err and t zeroed. */
int leapsec_parse(const char *buf, size_t len, struct leapsec_table *t, char *err,
		  size_t errlen);

/* True when unix_now is at or past the expiry time. */
bool leapsec_expired(const struct leapsec_table *t, int64_t unix_now);
/* TAI - UTC in effect at unix_now (0 before the first entry). */
int leapsec_tai_offset(const struct leapsec_table *t, int64_t unix_now);
/*
 * The first leap strictly after unix_now: returns +1 (inserted second) or -1
 * (deleted second) and its time in *when (Unix seconds of the first second
 * after the leap, i.e. the midnight it precedes), or 0 if the table lists none.
 */
int leapsec_next(const struct leapsec_table *t, int64_t unix_now, int64_t *when);

#endif
