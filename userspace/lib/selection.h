/* SPDX-License-Identifier: GPL-2.0 */
/*
 * selection: choosing which sources to trust and combining them.
 *
 * Contract:
 * - Each candidate is a correctness interval [offset - distance,
 *   offset + distance]; distance is the source's root distance.
 * - sel_intersect() is the RFC 5905 section 11.2.1 intersection (Marzullo
 *   style): it finds the smallest number f of falsetickers, f < n/2, for
 *   which an interval [low, high] lies inside at least n - f candidate
 *   intervals and at most f candidates have their offset (midpoint) outside
 *   it. Touching intervals count as overlapping. It marks every candidate
 *   whose interval meets [low, high] as a truechimer and returns how many
 *   there are, or 0 (none marked) when no majority agrees.
 * - sel_select() runs sel_intersect(), then requires at least min_agree
 *   truechimers (else returns 0 and r->peer is -1). The combined offset is the
 *   average of the truechimers weighted by 1/distance^2 (inverse variance
 *   with distance standing for the standard deviation); r->jitter is the
 *   standard error of that average from the candidates' jitters, combined
 *   with the weighted spread of the truechimers around it (the selection
 *   jitter). The system peer is the previous peer while it is still a
 *   truechimer (no flapping), else the truechimer with the smallest
 *   distance, ties to the lower stratum.
 * - Authentication (sel_select_auth(), as chrony's authselectmode): with
 *   SEL_AUTH_IGNORE every candidate counts alike. SEL_AUTH_REQUIRE drops
 *   unauthenticated candidates. SEL_AUTH_PREFER drops them whenever at least
 *   one authenticated candidate exists. SEL_AUTH_MIX runs the intersection
 *   over the authenticated candidates alone (when there are any) and then
 *   admits every unauthenticated candidate whose interval meets theirs. So
 *   under all modes but ignore, unauthenticated sources can never outvote
 *   authenticated ones; with no authenticated candidate, prefer and mix
 *   select among the unauthenticated ones as ignore does. min_agree counts
 *   the truechimers finally marked.
 * - At most SEL_MAX candidates; no allocation, no global state.
 */
#ifndef XNTS_SELECTION_H
#define XNTS_SELECTION_H

#include <stdbool.h>

#define SEL_MAX 64

struct sel_candidate {
	double offset;		/* s */
	double distance;	/* s, > 0 */
	double jitter;		/* s */
	unsigned int stratum;
	unsigned int id;	/* the caller's source index */
	bool authenticated;	/* NTS, or a local reference clock */
	bool truechimer;	/* set by sel_intersect() */
};

enum sel_auth_mode {
	SEL_AUTH_PREFER,	/* the default */
	SEL_AUTH_REQUIRE,
	SEL_AUTH_MIX,
	SEL_AUTH_IGNORE,
};

struct sel_result {
	unsigned int n_true;
	double low, high;	/* the intersection interval */
	double offset;		/* combined offset, s */
	double jitter;		/* its uncertainty, s */
	int peer;		/* index into the candidate array, -1 if none */
};

int sel_intersect(struct sel_candidate *c, unsigned int n, double *low, double *high);
/* prev_peer_id: the id of the current system peer, or -1. */
int sel_select(struct sel_candidate *c, unsigned int n, unsigned int min_agree, int prev_peer_id,
	       struct sel_result *r);
/* sel_select() under an authentication mode; sel_select() is SEL_AUTH_IGNORE. */
int sel_select_auth(struct sel_candidate *c, unsigned int n, unsigned int min_agree,
		    int prev_peer_id, enum sel_auth_mode mode, struct sel_result *r);

#endif
