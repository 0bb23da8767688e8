// SPDX-License-Identifier: GPL-2.0
/* Per-source clock filter: see filter.h for the contract. */
#include <math.h>
#include <string.h>

#include "filter.h"

void filter_init(struct filter *f)
{
	memset(f, 0, sizeof(*f));
}

static double distance(const struct filter_sample *s)
{
	return s->delay / 2 + s->dispersion;
}

int filter_add(struct filter *f, double offset, double delay, double dispersion, double now,
	       double spike_window)
{
	const struct filter_sample *order[FILTER_STAGES];
	const struct filter_sample *best;
	double disp = 0, sum = 0, jitter;
	unsigned int n = 0;

	if (!isfinite(offset) || !isfinite(delay) || !isfinite(dispersion) || !isfinite(now) ||
	    delay < 0 || dispersion < 0 || !isfinite(spike_window))
		return -1;
	if (f->n && now < f->reg[0].time)
		return -1;

	/* Age what is stored, then shift the new sample in. */
	for (unsigned int i = 0; i < f->n; i++)
		f->reg[i].dispersion = fmin(f->reg[i].dispersion + FILTER_PHI * (now - f->last_add),
					    FILTER_MAXDISP);
	f->last_add = now;
	memmove(&f->reg[1], &f->reg[0], (FILTER_STAGES - 1) * sizeof(f->reg[0]));
	f->reg[0] = (struct filter_sample){ offset, delay, fmin(dispersion, FILTER_MAXDISP), now };
	if (f->n < FILTER_STAGES)
		f->n++;

	/* Insertion sort of the usable stages by distance; at most 8. */
	for (unsigned int i = 0; i < f->n; i++) {
		const struct filter_sample *s = &f->reg[i];
		unsigned int j = n;

		if (s->dispersion >= FILTER_MAXDISP)
			continue;
		while (j > 0 && distance(order[j - 1]) > distance(s)) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = s;
		n++;
	}
	if (!n)
		return 0;
	best = order[0];
	for (unsigned int i = 0; i < n; i++) {
		disp += order[i]->dispersion / (double)(2u << i);
		if (i)
			sum += (order[i]->offset - best->offset) * (order[i]->offset - best->offset);
	}
	/*
	 * RFC 5905 counts empty stages at MAXDISP, which keeps a new source out
	 * for several polls; the discipline instead waits for minimum-agreeing
	 * sources, and a lone sample's jitter is taken as half its delay (the
	 * bound on its offset error) rather than as zero.
	 */
	jitter = n > 1 ? sqrt(sum / (n - 1)) : best->delay / 2;
	jitter = fmax(jitter, FILTER_JITTER_FLOOR);

	if (f->has_output && best->time <= f->time)
		return 0;
	if (f->has_output && f->jitter_n >= FILTER_SPIKE_MIN &&
	    fabs(best->offset - f->offset) > FILTER_SGATE * f->jitter &&
	    best->time - f->time < 2 * spike_window) {
		f->spikes++;
		return 0;
	}
	f->has_output = true;
	f->offset = best->offset;
	f->delay = best->delay;
	f->dispersion = disp;
	f->jitter = jitter;
	f->jitter_n = n;
	f->time = best->time;
	return 1;
}

void filter_shift(struct filter *f, double step)
{
	for (unsigned int i = 0; i < f->n; i++)
		f->reg[i].offset -= step;
	if (f->has_output)
		f->offset -= step;
}
