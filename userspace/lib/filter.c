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

/*
 * The register's best sample, the weighted dispersion and the jitter.
 * Returns the number of usable stages (0: none, *best untouched).
 */
static unsigned int evaluate(const struct filter *f, const struct filter_sample **best,
			     double *disp, double *jitter)
{
	const struct filter_sample *order[FILTER_STAGES];
	double sum = 0, j;
	unsigned int n = 0;

	/* Insertion sort of the usable stages by distance; at most 8. */
	for (unsigned int i = 0; i < f->n; i++) {
		const struct filter_sample *s = &f->reg[i];
		unsigned int k = n;

		if (s->dispersion >= FILTER_MAXDISP)
			continue;
		while (k > 0 && distance(order[k - 1]) > distance(s)) {
			order[k] = order[k - 1];
			k--;
		}
		order[k] = s;
		n++;
	}
	if (!n)
		return 0;
	*disp = 0;
	for (unsigned int i = 0; i < n; i++) {
		double d = order[i]->offset - order[0]->offset;

		*disp += order[i]->dispersion / (double)(2u << i);
		sum += d * d;
	}
	/*
	 * RFC 5905 counts empty stages at MAXDISP, which keeps a new source out
	 * for several polls; the discipline instead waits for minimum-agreeing
	 * sources, and a lone sample's jitter is taken as half its delay (the
	 * bound on its offset error) rather than as zero.
	 */
	j = n > 1 ? sqrt(sum / (n - 1)) : order[0]->delay / 2;
	*jitter = fmax(j, FILTER_JITTER_FLOOR);
	*best = order[0];
	return n;
}

static void set_output(struct filter *f, const struct filter_sample *best, double disp,
		       double jitter, unsigned int n)
{
	f->has_output = true;
	f->offset = best->offset;
	f->delay = best->delay;
	f->dispersion = disp;
	f->jitter = jitter;
	f->jitter_n = n;
	f->time = best->time;
}

int filter_add(struct filter *f, double offset, double delay, double dispersion, double now,
	       double spike_window)
{
	const struct filter_sample *best;
	double disp, jitter;
	unsigned int n;

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

	n = evaluate(f, &best, &disp, &jitter);
	if (!n)
		return 0;
	if (f->has_output && best->time <= f->time)
		return 0;
	if (f->has_output && f->jitter_n >= FILTER_SPIKE_MIN &&
	    fabs(best->offset - f->offset) > FILTER_SGATE * f->jitter &&
	    best->time - f->time < 2 * spike_window) {
		f->spikes++;
		return 0;
	}
	set_output(f, best, disp, jitter, n);
	return 1;
}

void filter_drop_before(struct filter *f, double t)
{
	const struct filter_sample *best;
	double disp, jitter;
	unsigned int k = 0, n;

	/* Stages are newest first, so the survivors are a prefix. */
	while (k < f->n && f->reg[k].time >= t)
		k++;
	f->n = k;
	f->has_output = false;
	n = evaluate(f, &best, &disp, &jitter);
	if (n)
		set_output(f, best, disp, jitter, n);
}

void filter_shift(struct filter *f, double step)
{
	for (unsigned int i = 0; i < f->n; i++)
		f->reg[i].offset -= step;
	if (f->has_output)
		f->offset -= step;
}
