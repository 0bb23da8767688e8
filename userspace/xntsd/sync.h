/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sync: the daemon's side of clock discipline.
 *
 * Every association's samples go to the discipline (discipline.h), which
 * filters, selects and steers the system clock through adjtimex. Under -x
 * the discipline steers a virtual clock instead - the real clock plus a
 * phase and frequency correction kept here - so the daemon still selects,
 * estimates and reports as if it were steering, and never makes a system
 * call that changes the clock. What the server claims (stratum, leap,
 * refid, root delay and dispersion) is republished after every update.
 * With no sources configured, [synchronization] local-stratum decides.
 */
#ifndef XNTS_SYNC_H
#define XNTS_SYNC_H

#include "config.h"
#include "loop.h"
#include "sbuf.h"
#include "source.h"
#include "timestate.h"

struct sync;

struct sync *sync_new(struct loop *l, const struct xnts_config *cfg, int no_clock,
		      struct timestate *ts, char *err, size_t errlen);
void sync_free(struct sync *y);
/* Route the source's samples into the discipline; call once per source. */
void sync_attach(struct sync *y, struct source *s);
void sync_status_json(struct sync *y, struct sbuf *out);

#endif
