// SPDX-License-Identifier: GPL-2.0
/*
 * Clock discipline: filter -> selection -> Kalman estimate -> steering.
 * See discipline.h for the contract and Documentation/clock-discipline.md
 * for the reasoning.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "discipline.h"
#include "filter.h"
#include "ntp.h"
#include "selection.h"

/* Below this a measurement's standard deviation is not believed. */
#define JITTER_FLOOR 1e-7
/* Innovations beyond this many standard deviations are taken as offset jumps. */
#define JUMP_SIGMAS 5.0

struct source {
	struct filter f;
	bool used;		/* has stored samples */
	double t_last;		/* when the last sample was added */
	double c_last;		/* accumulated correction at t_last */
	double poll;
	unsigned int stratum;
	int leap;
	double root_delay, root_dispersion;
	bool authenticated;
	bool truechimer;
};

struct discipline {
	struct discipline_config cfg;
	const struct clock_ops *ops;
	void *ctx;
	unsigned int n;
	struct source *src;

	/* Model: theta (s) and phi (s/s) with covariance p, valid at time t. */
	double t;
	bool kf_init;
	double theta, phi;
	double p00, p01, p11;
	double q;		/* frequency wander, (s/s)^2 per s */
	double freq;		/* s/s the clock runs corrected by now */
	double corr;		/* all corrections applied so far, s */
	double max_freq, max_slew;
	double slew_end;
	bool dirty;		/* a filter produced output since the last update */

	enum discipline_mode mode;
	int peer;
	unsigned int n_cand, n_true;
	double jitter;
	unsigned int spike_count;
	double spike_start;

	bool has_leapsec;
	struct leapsec_table lt;
	int leap_armed, tai_set, leap_pending;
	int64_t leap_time;
	int leap_serve;

	double root_delay, root_dispersion;
	unsigned long n_samples, n_updates, n_steps, n_spikes, n_jumps;
	double last_step, acc_steps;
	const char *error;
};

struct discipline *discipline_new(const struct discipline_config *cfg,
				  const struct clock_ops *ops, void *clock_ctx,
				  unsigned int n_sources)
{
	struct discipline *d;
	double f0 = 0;

	if (!cfg || !ops || !ops->now || !ops->set_frequency || !ops->step || !ops->set_leap ||
	    !n_sources || n_sources > DISCIPLINE_MAX_SOURCES || n_sources > SEL_MAX)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->src = calloc(n_sources, sizeof(*d->src));
	if (!d->src) {
		free(d);
		return NULL;
	}
	d->cfg = *cfg;
	d->ops = ops;
	d->ctx = clock_ctx;
	d->n = n_sources;
	for (unsigned int i = 0; i < n_sources; i++)
		filter_init(&d->src[i].f);
	/* Start from whatever correction the clock already has (a previous run). */
	if (ops->get_frequency && ops->get_frequency(clock_ctx, &f0) == 0 && isfinite(f0))
		d->freq = fmax(fmin(f0, CLOCK_MAX_FREQ_PPM), -CLOCK_MAX_FREQ_PPM) * 1e-6;
	d->phi = d->freq;
	d->q = cfg->initial_wander * cfg->initial_wander;
	d->max_freq = fmin(cfg->maximum_frequency_steer, CLOCK_MAX_FREQ_PPM * 1e-6);
	d->max_slew = cfg->slew_maximum_frequency_offset;
	d->slew_end = INFINITY;
	d->mode = DISCIPLINE_STARTUP;
	d->peer = -1;
	d->leap_serve = NTP_LEAP_UNSYNC;
	d->t = NAN;
	return d;
}

void discipline_free(struct discipline *d)
{
	if (!d)
		return;
	free(d->src);
	free(d);
}

void discipline_set_leapsec(struct discipline *d, const struct leapsec_table *t)
{
	d->has_leapsec = t != NULL;
	if (t)
		d->lt = *t;
}

/* Bring the model and the correction account forward to now. */
static void advance(struct discipline *d, double now)
{
	double dt;

	if (isnan(d->t)) {
		d->t = now;
		return;
	}
	dt = now - d->t;
	if (!(dt > 0))
		return;
	d->corr += d->freq * dt;
	if (d->kf_init) {
		d->theta += (d->phi - d->freq) * dt;
		d->p00 += 2 * dt * d->p01 + dt * dt * d->p11 + d->q * dt * dt * dt / 3;
		d->p01 += dt * d->p11 + d->q * dt * dt / 2;
		d->p11 += d->q * dt;
	}
	d->t = now;
}

static double clamp(double v, double lim)
{
	return fmax(fmin(v, lim), -lim);
}

static int set_freq(struct discipline *d, double f)
{
	int r;

	f = clamp(f, d->max_freq);
	if (f == d->freq)
		return 0;
	r = d->ops->set_frequency(d->ctx, f * 1e6);
	if (!r)
		d->freq = f;
	return r;
}

static int do_step(struct discipline *d, double s)
{
	int r = d->ops->step(d->ctx, s);

	if (r)
		return r;
	d->corr += s;
	d->theta -= s;
	d->n_steps++;
	d->last_step = s;
	return 0;
}

/* Stop all steering for good: drop any slew, then touch nothing more. */
static int panic(struct discipline *d, const char *why)
{
	d->mode = DISCIPLINE_PANIC;
	d->error = why;
	d->slew_end = INFINITY;
	d->peer = -1;
	d->leap_serve = NTP_LEAP_UNSYNC;
	set_freq(d, d->phi);
	return DISCIPLINE_EV_PANIC | DISCIPLINE_EV_UNSYNC;
}

/* Within a forward/backward limit? offset > 0 steps the clock forward. */
static bool within(const struct discipline_threshold *th, double offset)
{
	return offset >= 0 ? offset <= th->forward : -offset <= th->backward;
}

static void kalman_update(struct discipline *d, double z, double r)
{
	double y = z - d->theta, s, k0, k1;

	/*
	 * An innovation far outside what the model expects is a jump of the
	 * offset (the clock or the path changed), not evidence about the
	 * frequency: widen the offset variance so the jump lands in theta
	 * instead of bending phi.
	 */
	if (y * y > JUMP_SIGMAS * JUMP_SIGMAS * (d->p00 + r)) {
		d->p00 += y * y;
		d->n_jumps++;
	}
	s = d->p00 + r;
	k0 = d->p00 / s;
	k1 = d->p01 / s;

	d->theta += k0 * y;
	d->phi += k1 * y;
	d->p11 -= k1 * d->p01;
	d->p01 *= 1 - k0;
	d->p00 *= 1 - k0;
}

/* Remove theta over tau by adding theta/tau to the frequency estimate. */
static int steer(struct discipline *d, double now, double poll)
{
	const struct discipline_config *a = &d->cfg;
	double tau = fmax(a->slew_minimum_duration, poll), slew;
	int r;

	if (d->max_slew > 0)
		tau = fmax(tau, fabs(d->theta) / d->max_slew);
	slew = clamp(d->theta / tau, d->max_slew);
	r = set_freq(d, d->phi + slew);
	d->slew_end = now + tau;
	return r;
}

static int64_t month_end(int64_t unix_now)
{
	time_t t = (time_t)unix_now;
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return INT64_MAX;
	tm.tm_mon++;
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return (int64_t)timegm(&tm);
}

static int update_leap(struct discipline *d, bool synced)
{
	struct timespec ts;
	int64_t unix_now, when = 0;
	int pending = NTP_LEAP_NONE, armed = NTP_LEAP_NONE, tai = 0, ev = 0;

	if (d->ops->now(d->ctx, &ts))
		return 0;
	unix_now = ts.tv_sec;
	if (d->has_leapsec)
		tai = leapsec_tai_offset(&d->lt, unix_now);
	if (d->has_leapsec && !leapsec_expired(&d->lt, unix_now)) {
		/* A current table is authoritative; the sources' votes are not asked. */
		int dir = leapsec_next(&d->lt, unix_now, &when);

		if (dir && when <= month_end(unix_now))
			pending = dir > 0 ? NTP_LEAP_INSERT : NTP_LEAP_DELETE;
	} else if (synced && d->n_true) {
		unsigned int ins = 0, del = 0;

		for (unsigned int i = 0; i < d->n; i++) {
			if (!d->src[i].truechimer)
				continue;
			ins += d->src[i].leap == NTP_LEAP_INSERT;
			del += d->src[i].leap == NTP_LEAP_DELETE;
		}
		if (2 * ins > d->n_true)
			pending = NTP_LEAP_INSERT;
		else if (2 * del > d->n_true)
			pending = NTP_LEAP_DELETE;
		when = month_end(unix_now);
	}
	if (pending == NTP_LEAP_NONE)
		when = 0;
	/* The kernel applies STA_INS/STA_DEL at the end of the current UTC day. */
	if (pending != NTP_LEAP_NONE && when - unix_now <= 86400)
		armed = pending;
	d->leap_pending = pending;
	d->leap_time = when;
	d->leap_serve = synced ? pending : NTP_LEAP_UNSYNC;
	if (armed != d->leap_armed || tai != d->tai_set) {
		if (d->ops->set_leap(d->ctx, armed, tai) == 0) {
			d->leap_armed = armed;
			d->tai_set = tai;
			ev |= DISCIPLINE_EV_LEAP;
		}
	}
	return ev;
}

int discipline_add_sample(struct discipline *d, unsigned int src,
			  const struct discipline_sample *s, double now)
{
	struct source *p;
	int r;

	if (src >= d->n || !isfinite(now) || !isfinite(s->offset) || !isfinite(s->delay) ||
	    !isfinite(s->dispersion) || !isfinite(s->root_delay) ||
	    !isfinite(s->root_dispersion) || !isfinite(s->poll_interval) || s->delay < 0 ||
	    s->dispersion < 0 || s->root_delay < 0 || s->root_dispersion < 0 ||
	    !(s->poll_interval > 0) || (!isnan(d->t) && now < d->t))
		return -EINVAL;
	p = &d->src[src];
	d->n_samples++;
	/* Stratum 0 is a reference clock (a PHC source), never a kiss: those stop earlier. */
	if (s->leap == NTP_LEAP_UNSYNC || s->leap < 0 || s->leap > 3 || s->stratum >= 16)
		return 0;
	advance(d, now);
	/* Project what is stored to now: our corrections and the drift estimate. */
	if (p->used)
		filter_shift(&p->f, (d->corr - p->c_last) - d->phi * (now - p->t_last));
	r = filter_add(&p->f, s->offset, s->delay, s->dispersion, now, s->poll_interval);
	if (r < 0)
		return -EINVAL;
	p->used = true;
	p->t_last = now;
	p->c_last = d->corr;
	p->poll = s->poll_interval;
	p->stratum = s->stratum;
	p->authenticated = s->authenticated;
	p->leap = s->leap;
	p->root_delay = s->root_delay;
	p->root_dispersion = s->root_dispersion;
	if (r > 0)
		d->dirty = true;
	return r;
}

void discipline_source_reset(struct discipline *d, unsigned int src)
{
	if (src >= d->n)
		return;
	memset(&d->src[src], 0, sizeof(d->src[src]));
	filter_init(&d->src[src].f);
}

static int go_unsync(struct discipline *d)
{
	int ev = 0;

	d->peer = -1;
	d->slew_end = INFINITY;
	if (d->mode == DISCIPLINE_SLEW || d->mode == DISCIPLINE_STEP) {
		d->mode = DISCIPLINE_FREE;
		ev |= DISCIPLINE_EV_UNSYNC;
		if (d->ops->set_sync)
			d->ops->set_sync(d->ctx, false, 0, 16);
	}
	if (d->mode == DISCIPLINE_FREE) {
		int r = set_freq(d, d->phi);

		if (r)
			return r;
	}
	return ev;
}

/*
 * Candidates from every live source, projected to now, then intersection
 * and combining. Marks the truechimers. res->peer is a source index here.
 * Returns the number of truechimers (0: not enough agree).
 */
static unsigned int select_sources(struct discipline *d, double now, struct sel_result *res)
{
	const struct discipline_config *a = &d->cfg;
	struct sel_candidate c[SEL_MAX];
	unsigned int nc = 0, min_agree;

	for (unsigned int i = 0; i < d->n; i++) {
		struct source *p = &d->src[i];
		double age, lambda;

		p->truechimer = false;
		if (!p->used || !p->f.has_output || now - p->t_last > DISCIPLINE_REACH * p->poll)
			continue;
		age = now - p->f.time;
		lambda = (p->root_delay + p->f.delay) / 2 + p->f.dispersion + FILTER_PHI * age +
			 p->f.jitter + (a->ignore_server_dispersion ? 0 : p->root_dispersion);
		if (lambda > a->maximum_source_uncertainty)
			continue;
		c[nc].offset = p->f.offset - (d->corr - p->c_last) + d->phi * (now - p->t_last);
		c[nc].distance = lambda;
		c[nc].jitter = p->f.jitter;
		c[nc].stratum = p->stratum;
		c[nc].authenticated = p->authenticated;
		c[nc].id = i;
		nc++;
	}
	d->n_cand = nc;
	min_agree = d->cfg.minimum_agreeing_sources ? d->cfg.minimum_agreeing_sources : 1;
	d->n_true = sel_select_auth(c, nc, min_agree, d->peer,
				    d->cfg.auth_select_mode, res);
	if (!d->n_true)
		return 0;
	for (unsigned int i = 0; i < nc; i++)
		d->src[c[i].id].truechimer = c[i].truechimer;
	res->peer = c[res->peer].id;
	return d->n_true;
}

int discipline_update(struct discipline *d, double now)
{
	const struct discipline_config *a = &d->cfg;
	struct sel_result res;
	double z, r, poll;
	const struct source *pp;
	int ev = 0, ret;

	if (!isfinite(now) || (!isnan(d->t) && now < d->t))
		return -EINVAL;
	advance(d, now);
	d->n_updates++;
	if (d->mode == DISCIPLINE_PANIC)
		return 0;
	if (d->slew_end <= now) {
		d->slew_end = INFINITY;
		ret = set_freq(d, d->phi);
		if (ret)
			return ret;
	}

	if (!select_sources(d, now, &res)) {
		ret = go_unsync(d);
		if (ret < 0)
			return ret;
		return ret | update_leap(d, false);
	}
	d->peer = res.peer;
	pp = &d->src[d->peer];
	poll = pp->poll;
	d->root_delay = pp->root_delay + pp->f.delay;
	d->root_dispersion = (a->ignore_server_dispersion ? 0 : pp->root_dispersion) +
			     pp->f.dispersion + FILTER_PHI * (now - pp->f.time) + res.jitter;
	if (!d->dirty)
		goto out;
	d->dirty = false;
	z = res.offset;
	r = fmax(res.jitter, JITTER_FLOOR);
	r *= r;
	d->jitter = res.jitter;

	if (d->mode == DISCIPLINE_STARTUP) {
		enum discipline_mode next = DISCIPLINE_SLEW;

		if (fabs(z) > a->step_threshold) {
			if (!within(&d->cfg.startup_step_panic_threshold, z))
				return panic(d, "startup step beyond startup-step-panic-threshold");
			ret = do_step(d, z);
			if (ret)
				return ret;
			z = 0;
			next = DISCIPLINE_STEP;
			ev |= DISCIPLINE_EV_STEP;
			if (d->cfg.warn_on_jump)
				ev |= DISCIPLINE_EV_JUMP_WARN;
		}
		/* Only now, after a step that worked, does the model start. */
		d->mode = next;
		d->kf_init = true;
		d->theta = z;
		d->p00 = r;
		d->p01 = 0;
		d->p11 = a->initial_frequency_uncertainty * a->initial_frequency_uncertainty;
		ev |= DISCIPLINE_EV_SYNC;
	} else if (fabs(z) > a->step_threshold) {
		/* Too far to slew: wait until it persists, then step (or panic). */
		if (!d->spike_count)
			d->spike_start = now;
		d->spike_count++;
		d->n_spikes++;
		if (d->spike_count < DISCIPLINE_STEP_CONFIRM || now - d->spike_start < 2 * poll)
			goto out;
		/*
		 * Samples from before the offset appeared describe the old
		 * clock: drop them and measure again from the rest.
		 */
		for (unsigned int i = 0; i < d->n; i++)
			filter_drop_before(&d->src[i].f, d->spike_start);
		if (!select_sources(d, now, &res)) {
			ret = go_unsync(d);
			if (ret < 0)
				return ret;
			return ret | update_leap(d, false);
		}
		d->peer = res.peer;
		z = res.offset;
		d->spike_count = 0;
		if (fabs(z) <= a->step_threshold)
			goto out;
		if (!within(&d->cfg.single_step_panic_threshold, z))
			return panic(d, "step beyond single-step-panic-threshold");
		if (d->cfg.has_accumulated_step_panic_threshold &&
		    d->acc_steps + fabs(z) > d->cfg.accumulated_step_panic_threshold)
			return panic(d, "steps beyond accumulated-step-panic-threshold");
		ret = do_step(d, z);
		if (ret)
			return ret;
		d->acc_steps += fabs(z);
		d->theta = 0;
		d->p00 = r;
		d->p01 = 0;
		if (d->mode == DISCIPLINE_FREE)
			ev |= DISCIPLINE_EV_SYNC;
		d->mode = DISCIPLINE_STEP;
		ev |= DISCIPLINE_EV_STEP;
		if (d->cfg.warn_on_jump)
			ev |= DISCIPLINE_EV_JUMP_WARN;
	} else {
		d->spike_count = 0;
		kalman_update(d, z, r);
		if (d->mode == DISCIPLINE_FREE)
			ev |= DISCIPLINE_EV_SYNC;
		d->mode = DISCIPLINE_SLEW;
	}
	ret = steer(d, now, poll);
	if (ret)
		return ret;
	if (d->ops->set_sync)
		d->ops->set_sync(d->ctx, true, sqrt(d->p00),
				 d->root_delay / 2 + d->root_dispersion);
out:
	if (d->mode == DISCIPLINE_FREE || d->mode == DISCIPLINE_STARTUP)
		return ev | update_leap(d, false);
	return ev | update_leap(d, true);
}

double discipline_next_update(const struct discipline *d)
{
	return d->mode == DISCIPLINE_PANIC ? INFINITY : d->slew_end;
}

void discipline_get_status(const struct discipline *d, struct discipline_status *st)
{
	bool synced = d->mode == DISCIPLINE_SLEW || d->mode == DISCIPLINE_STEP;

	memset(st, 0, sizeof(*st));
	st->mode = d->mode;
	st->synced = synced;
	st->offset = d->kf_init ? d->theta : 0;
	st->offset_sd = d->kf_init ? sqrt(fmax(d->p00, 0)) : 0;
	st->frequency = d->phi * 1e6;
	st->frequency_sd = (d->kf_init ? sqrt(fmax(d->p11, 0)) :
			    d->cfg.initial_frequency_uncertainty) * 1e6;
	st->applied_frequency = d->freq * 1e6;
	st->jitter = d->jitter;
	st->peer = synced ? d->peer : -1;
	st->stratum = synced ? d->src[d->peer].stratum + 1 : d->cfg.local_stratum;
	if (st->stratum > 16)
		st->stratum = 16;
	st->root_delay = synced ? d->root_delay : 0;
	st->root_dispersion = synced ? d->root_dispersion : 0;
	st->leap = d->mode == DISCIPLINE_PANIC ? NTP_LEAP_UNSYNC : d->leap_serve;
	st->tai_offset = d->tai_set;
	st->leap_time = d->leap_time;
	st->leap_armed = d->leap_armed;
	st->n_candidates = d->n_cand;
	st->n_truechimers = d->n_true;
	st->n_samples = d->n_samples;
	st->n_updates = d->n_updates;
	st->n_steps = d->n_steps;
	st->n_spikes = d->n_spikes;
	st->n_jumps = d->n_jumps;
	st->last_step = d->last_step;
	st->accumulated_steps = d->acc_steps;
	st->error = d->error;
}

bool discipline_source_selected(const struct discipline *d, unsigned int src)
{
	return src < d->n && d->mode != DISCIPLINE_PANIC && d->src[src].truechimer;
}

const char *discipline_mode_name(enum discipline_mode mode)
{
	switch (mode) {
	case DISCIPLINE_STARTUP:
		return "startup";
	case DISCIPLINE_SLEW:
		return "slew";
	case DISCIPLINE_STEP:
		return "step";
	case DISCIPLINE_FREE:
		return "free-running";
	case DISCIPLINE_PANIC:
		return "panic";
	}
	return "?";
}
