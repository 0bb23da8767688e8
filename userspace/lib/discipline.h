/* SPDX-License-Identifier: GPL-2.0 */
/*
 * discipline: the clock discipline of xntsd. Measurements from the sources
 * go through a per-source clock filter (filter.h), the sources are selected
 * and combined (selection.h), and a two-state Kalman filter (offset and
 * frequency) steers the clock through struct clock_ops (clock.h). Leap
 * seconds come from the majority of the selected sources or from a
 * leap-seconds.list table (leapsec.h). Documentation/clock-discipline.md
 * explains the algorithm, the modes and the thresholds.
 *
 * Contract:
 * - Deterministic library code: no I/O, no timers, no threads, no global
 *   state. Every clock change goes through the clock_ops given; the clock is
 *   only read through now() (for the UTC date, leap seconds) and
 *   get_frequency() (once, at creation).
 * - now arguments are seconds on a monotonic timescale (CLOCK_MONOTONIC or
 *   CLOCK_BOOTTIME in the daemon) that never jumps when the clock is
 *   stepped; they must not go backwards.
 * - Offsets follow RFC 5905: offset = server time - local time, so a
 *   positive offset means the local clock is behind and is corrected by
 *   stepping or slewing it forward. Delay is the round trip.
 * - discipline_add_sample() only stores; discipline_update() selects and
 *   steers. Call update after adding samples and again at
 *   discipline_next_update() (when a slew ends); calling it more often is
 *   harmless, calling it late only lengthens a slew (the model accounts for
 *   the frequency actually in effect).
 * - A source counts as dead (no candidate) when its newest sample is older
 *   than DISCIPLINE_REACH polls of the poll interval it was last fed with.
 * - Steps: at startup the first combined offset beyond step-threshold is
 *   stepped at once if within startup-step-panic-threshold; later an offset
 *   beyond step-threshold must persist for DISCIPLINE_STEP_CONFIRM updates
 *   spanning two poll intervals, and is then stepped within
 *   single-step-panic-threshold and accumulated-step-panic-threshold. A step
 *   beyond a panic threshold is never made: the discipline enters
 *   DISCIPLINE_PANIC, resets the frequency to the estimated correction
 *   without slew, and does nothing more to the clock until
 *   discipline_free(); status.error says why.
 * - The frequency asked of the clock never exceeds maximum-frequency-steer
 *   nor CLOCK_MAX_FREQ_PPM in magnitude.
 * - Source indices are 0..n_sources-1, fixed at creation.
 * - A clock operation that fails leaves the discipline as if it had not
 *   been tried (a failed startup step stays in DISCIPLINE_STARTUP and is
 *   retried with the next measurement); update returns its -errno.
 */
#ifndef XNTS_DISCIPLINE_H
#define XNTS_DISCIPLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "selection.h"

#include "clock.h"
#include "leapsec.h"

#define DISCIPLINE_REACH 8
#define DISCIPLINE_STEP_CONFIRM 3
#define DISCIPLINE_MAX_SOURCES 64	/* SEL_MAX */

enum discipline_mode {
	DISCIPLINE_STARTUP,	/* no agreeing sources yet: clock untouched */
	DISCIPLINE_SLEW,	/* synchronised, steering by frequency */
	DISCIPLINE_STEP,	/* the last update stepped the clock */
	DISCIPLINE_FREE,	/* lost the sources: holding the frequency */
	DISCIPLINE_PANIC,	/* refused a step: no more clock changes */
};

/* Events returned by discipline_update(), for the daemon to log. */
#define DISCIPLINE_EV_STEP	0x01	/* the clock was stepped */
#define DISCIPLINE_EV_JUMP_WARN	0x02	/* stepped and warn-on-jump is set */
#define DISCIPLINE_EV_PANIC	0x04	/* entered DISCIPLINE_PANIC */
#define DISCIPLINE_EV_SYNC	0x08	/* became synchronised */
#define DISCIPLINE_EV_UNSYNC	0x10	/* lost synchronisation */
#define DISCIPLINE_EV_LEAP	0x20	/* kernel leap/TAI state was changed */

/* Step limits in seconds; INFINITY means no limit in that direction. */
struct discipline_threshold {
	double forward, backward;
};

/*
 * What the discipline needs of the [synchronization] table, in seconds and
 * fractions (Documentation/configuration.md has the meanings and defaults;
 * config_map.h fills it from the configuration).
 */
struct discipline_config {
	unsigned int minimum_agreeing_sources;
	struct discipline_threshold single_step_panic_threshold;
	struct discipline_threshold startup_step_panic_threshold;
	bool has_accumulated_step_panic_threshold;
	double accumulated_step_panic_threshold;
	bool warn_on_jump;
	unsigned int local_stratum;
	double step_threshold;
	double initial_wander;
	double initial_frequency_uncertainty;
	double maximum_source_uncertainty;
	double maximum_frequency_steer;
	double slew_maximum_frequency_offset;
	double slew_minimum_duration;
	bool ignore_server_dispersion;
	enum sel_auth_mode auth_select_mode;	/* how authenticated sources weigh */
};

struct discipline_sample {
	double offset;		/* s, server - local */
	double delay;		/* s, round trip (>= 0) */
	double dispersion;	/* s, precisions of both ends + PHI * (T4 - T1) */
	double root_delay;	/* s, from the packet */
	double root_dispersion;	/* s, from the packet */
	unsigned int stratum;	/* the server's, 1..15; 0: a reference clock (phc) */
	int leap;		/* the packet's leap indicator (enum ntp_leap) */
	double poll_interval;	/* s, the interval this source is polled at */
	bool authenticated;	/* NTS, or a local reference clock (auth-select-mode) */
};

struct discipline_status {
	enum discipline_mode mode;
	bool synced;		/* SLEW or STEP */
	double offset;		/* s, estimated offset still to correct */
	double offset_sd;	/* s, its standard deviation */
	double frequency;	/* ppm, estimated correction of the clock's rate */
	double frequency_sd;	/* ppm */
	double applied_frequency;	/* ppm, what the clock runs at now (with slew) */
	double jitter;		/* s, of the last combined measurement */
	int peer;		/* system peer's source index, -1 if none */
	unsigned int stratum;	/* peer stratum + 1, or local-stratum */
	double root_delay;	/* s, to serve */
	double root_dispersion;	/* s, to serve */
	int leap;		/* leap indicator to serve (enum ntp_leap) */
	int tai_offset;		/* TAI - UTC, 0 if unknown */
	int64_t leap_time;	/* Unix time of a pending leap, 0 if none */
	int leap_armed;		/* what the clock was told (enum ntp_leap) */
	unsigned int n_candidates, n_truechimers;
	unsigned long n_samples, n_updates, n_steps;
	unsigned long n_spikes;		/* updates held back as too far to slew */
	unsigned long n_jumps;		/* innovations taken as offset jumps */
	double last_step;	/* s, the last step made */
	double accumulated_steps;	/* s, |steps| after the startup one */
	const char *error;	/* why PANIC, else NULL */
};

struct discipline;

/*
 * cfg is copied. ops and clock_ctx must outlive the discipline; ops must
 * have now, set_frequency, step and set_leap (get_frequency and set_sync
 * may be NULL). NULL on bad arguments (n_sources 0 or
 * > DISCIPLINE_MAX_SOURCES) or no memory.
 */
struct discipline *discipline_new(const struct discipline_config *cfg,
				  const struct clock_ops *ops, void *clock_ctx,
				  unsigned int n_sources);
void discipline_free(struct discipline *d);

/* Copy a leap-second table in (NULL removes it). */
void discipline_set_leapsec(struct discipline *d, const struct leapsec_table *t);

/*
 * Feed one measurement of source src taken at now. Returns 1 if the
 * source's filter produced a new output, 0 if it was stored without one (or
 * ignored because the server is unsynchronised: leap 3 or stratum >= 16),
 * -EINVAL for a bad index or values.
 */
int discipline_add_sample(struct discipline *d, unsigned int src,
			  const struct discipline_sample *s, double now);
/* Forget a source's samples (it was replaced or removed). */
void discipline_source_reset(struct discipline *d, unsigned int src);

/* Select, combine, steer. Events (DISCIPLINE_EV_*) or -errno of a failed clock op. */
int discipline_update(struct discipline *d, double now);
/* When discipline_update() should next run (end of the slew), or INFINITY. */
double discipline_next_update(const struct discipline *d);

void discipline_get_status(const struct discipline *d, struct discipline_status *st);
/* Whether source src was a truechimer at the last update. */
bool discipline_source_selected(const struct discipline *d, unsigned int src);
const char *discipline_mode_name(enum discipline_mode mode);

#endif
