/* SPDX-License-Identifier: GPL-2.0 */
/*
 * filter: the per-source clock filter (RFC 5905 section 10 in spirit): an
 * eight-stage shift register of (offset, delay, dispersion, time) samples
 * from which the one with the smallest distance (delay/2 + dispersion) is
 * taken, because the sample with the least round-trip delay is the one least
 * disturbed by queueing and path asymmetry.
 *
 * Contract:
 * - Times are seconds on one monotonic timescale chosen by the caller; they
 *   must not go backwards between calls (a sample older than the newest is
 *   refused).
 * - Dispersion of every stored sample grows by FILTER_PHI per second of age.
 * - filter_add() returns 1 when it produced a new output (offset, delay,
 *   dispersion, jitter, time), 0 when the register's best sample is not newer
 *   than the last output or was held back as a popcorn spike, -1 for
 *   invalid input (non-finite values, negative delay or dispersion).
 * - Output offset/delay are those of the chosen sample; dispersion is the
 *   RFC weighted sum sum(eps_i / 2^(i+1)) over the distance-sorted stored
 *   samples (empty stages add nothing, unlike RFC 5905); jitter is the RMS
 *   difference between the chosen offset and the other stored offsets, or
 *   half the delay while only one sample is stored, never below
 *   FILTER_JITTER_FLOOR.
 * - Popcorn spike: once the previous output's jitter rests on at least
 *   FILTER_SPIKE_MIN samples, a new best sample whose offset differs from
 *   the previous output by more than FILTER_SGATE jitters is held back,
 *   unless the last output is older than twice spike_window (so a real
 *   change gets through).
 * - filter_shift() moves all stored offsets and the output by -step seconds,
 *   for when the clock was stepped by +step.
 * - filter_drop_before() forgets the samples taken before t (they belong to
 *   a clock that was stepped since) and recomputes the output from the rest
 *   without the newer-than-last and spike rules; with none left there is no
 *   output.
 * - No allocation, no global state.
 */
#ifndef XNTS_FILTER_H
#define XNTS_FILTER_H

#include <stdbool.h>

#define FILTER_STAGES 8
#define FILTER_PHI 15e-6		/* s/s, RFC 5905 frequency tolerance */
#define FILTER_SGATE 3.0		/* popcorn spike gate, in jitters */
#define FILTER_JITTER_FLOOR 1e-7	/* s */
#define FILTER_MAXDISP 16.0		/* s, a sample this dispersed is void */
#define FILTER_SPIKE_MIN 4		/* samples behind a jitter the gate trusts */

struct filter_sample {
	double offset, delay, dispersion, time;
};

struct filter {
	struct filter_sample reg[FILTER_STAGES];	/* [0] newest */
	unsigned int n;			/* valid stages */
	double last_add;		/* time dispersion was last grown to */
	bool has_output;
	double offset, delay, dispersion, jitter, time;	/* the output */
	unsigned int jitter_n;		/* samples the output jitter came from */
	unsigned long spikes;		/* popcorn spikes held back */
};

void filter_init(struct filter *f);
int filter_add(struct filter *f, double offset, double delay, double dispersion, double now,
	       double spike_window);
void filter_shift(struct filter *f, double step);
void filter_drop_before(struct filter *f, double t);

#endif
