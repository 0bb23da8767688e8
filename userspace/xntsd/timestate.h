/* SPDX-License-Identifier: GPL-2.0 */
/*
 * timestate: the server's claims about its clock (leap, stratum, refid,
 * root delay/dispersion, ...) written by the main thread and read by every
 * NTP worker. A sequence counter makes reads lock-free: a reader retries
 * while a write is in progress, and never sees a half-written state.
 */
#ifndef XNTS_TIMESTATE_H
#define XNTS_TIMESTATE_H

#include "ntp_serve.h"
#include "xnts_seqcount.h"

struct timestate {
	__u32 seq;		/* xnts_seqcount.h */
	struct ntp_serve_state st;
};

void timestate_publish(struct timestate *t, const struct ntp_serve_state *st);
void timestate_read(struct timestate *t, struct ntp_serve_state *out);
/* log2 of the realtime clock's resolution, as NTP's precision field. */
int8_t timestate_precision(void);

#endif
