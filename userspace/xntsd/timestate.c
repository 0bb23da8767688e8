// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include <time.h>

#include "timestate.h"

void timestate_publish(struct timestate *t, const struct ntp_serve_state *st)
{
	__u32 s = xnts_seq_write_begin(&t->seq);

	memcpy(&t->st, st, sizeof(*st));
	xnts_seq_write_end(&t->seq, s);
}

void timestate_read(struct timestate *t, struct ntp_serve_state *out)
{
	__u32 s;

	do {
		s = xnts_seq_read_begin(&t->seq);
		memcpy(out, &t->st, sizeof(*out));
	} while (xnts_seq_read_retry(&t->seq, s));
}

/*
 * The precision a client should assume is what reading the clock costs, not
 * its nominal 1 ns resolution: measure the smallest step between reads.
 */
int8_t timestate_precision(void)
{
	struct timespec a, b;
	int64_t best = 1000000000, d;
	double r;
	int8_t p = 0;

	for (int i = 0; i < 100; i++) {
		clock_gettime(CLOCK_REALTIME, &a);
		do
			clock_gettime(CLOCK_REALTIME, &b);
		while (b.tv_sec == a.tv_sec && b.tv_nsec == a.tv_nsec);
		d = (int64_t)(b.tv_sec - a.tv_sec) * 1000000000 + (b.tv_nsec - a.tv_nsec);
		if (d > 0 && d < best)
			best = d;
	}
	for (r = (double)best / 1e9; r < 1.0 && p > -30; r *= 2)
		p--;
	return p;
}
