// SPDX-License-Identifier: GPL-2.0
/* Source selection and combining: see selection.h for the contract. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "selection.h"

struct endpoint {
	double val;
	int type;	/* -1 lower end, 0 midpoint, +1 upper end */
};

static int cmp_endpoint(const void *a, const void *b)
{
	const struct endpoint *x = a, *y = b;

	if (x->val != y->val)
		return x->val < y->val ? -1 : 1;
	/* At equal values lower ends first: touching intervals overlap. */
	return x->type - y->type;
}

int sel_intersect(struct sel_candidate *c, unsigned int n, double *low, double *high)
{
	struct endpoint e[3 * SEL_MAX];
	unsigned int m = 0, allow;
	double lo = 0, hi = 0;
	int ntrue = 0;

	if (n > SEL_MAX)
		return 0;
	for (unsigned int i = 0; i < n; i++) {
		c[i].truechimer = false;
		if (!isfinite(c[i].offset) || !isfinite(c[i].distance) || c[i].distance < 0)
			return 0;
		e[m++] = (struct endpoint){ c[i].offset - c[i].distance, -1 };
		e[m++] = (struct endpoint){ c[i].offset, 0 };
		e[m++] = (struct endpoint){ c[i].offset + c[i].distance, 1 };
	}
	qsort(e, m, sizeof(e[0]), cmp_endpoint);

	for (allow = 0; 2 * allow < n; allow++) {
		unsigned int found = 0;
		int chime = 0;
		bool have_lo = false, have_hi = false;

		for (unsigned int i = 0; i < m; i++) {
			chime -= e[i].type;
			if (chime >= (int)(n - allow)) {
				lo = e[i].val;
				have_lo = true;
				break;
			}
			if (e[i].type == 0)
				found++;
		}
		chime = 0;
		for (unsigned int i = m; i-- > 0;) {
			chime += e[i].type;
			if (chime >= (int)(n - allow)) {
				hi = e[i].val;
				have_hi = true;
				break;
			}
			if (e[i].type == 0)
				found++;
		}
		if (have_lo && have_hi && found <= allow && lo <= hi)
			break;
	}
	if (2 * allow >= n)
		return 0;
	for (unsigned int i = 0; i < n; i++) {
		if (c[i].offset + c[i].distance >= lo && c[i].offset - c[i].distance <= hi) {
			c[i].truechimer = true;
			ntrue++;
		}
	}
	*low = lo;
	*high = hi;
	return ntrue;
}

/*
 * Marks truechimers by mode; returns how many, with the interval in r.
 * Candidates not taking part are left unmarked.
 */
static unsigned int mark(struct sel_candidate *c, unsigned int n, enum sel_auth_mode mode,
			 struct sel_result *r)
{
	struct sel_candidate sub[SEL_MAX];
	unsigned int idx[SEL_MAX], m = 0, n_auth = 0, ntrue;

	if (n > SEL_MAX)
		return 0;
	for (unsigned int i = 0; i < n; i++) {
		c[i].truechimer = false;
		n_auth += c[i].authenticated;
	}
	if (mode == SEL_AUTH_IGNORE || (!n_auth && mode != SEL_AUTH_REQUIRE))
		return sel_intersect(c, n, &r->low, &r->high);
	/* require, prefer, mix: the authenticated candidates alone vote. */
	for (unsigned int i = 0; i < n; i++) {
		if (!c[i].authenticated)
			continue;
		sub[m] = c[i];
		idx[m++] = i;
	}
	ntrue = m ? sel_intersect(sub, m, &r->low, &r->high) : 0;
	if (!ntrue)
		return 0;
	for (unsigned int k = 0; k < m; k++)
		c[idx[k]].truechimer = sub[k].truechimer;
	if (mode != SEL_AUTH_MIX)
		return ntrue;
	/* mix: the others join where they agree with the authenticated ones. */
	for (unsigned int i = 0; i < n; i++) {
		if (c[i].authenticated)
			continue;
		if (c[i].offset + c[i].distance >= r->low &&
		    c[i].offset - c[i].distance <= r->high) {
			c[i].truechimer = true;
			ntrue++;
		}
	}
	return ntrue;
}

int sel_select_auth(struct sel_candidate *c, unsigned int n, unsigned int min_agree,
		    int prev_peer_id, enum sel_auth_mode mode, struct sel_result *r)
{
	double sw = 0, swo = 0, var = 0, spread = 0;
	int peer = -1;

	memset(r, 0, sizeof(*r));
	r->peer = -1;
	if (!n)
		return 0;
	r->n_true = mark(c, n, mode, r);
	if (!r->n_true || r->n_true < min_agree) {
		for (unsigned int i = 0; i < n; i++)
			c[i].truechimer = false;
		r->n_true = 0;
		return 0;
	}
	for (unsigned int i = 0; i < n; i++) {
		/* A floor keeps a zero-distance source from taking all weight. */
		double d = fmax(c[i].distance, 1e-9);
		double w = 1 / (d * d);

		if (!c[i].truechimer)
			continue;
		sw += w;
		swo += w * c[i].offset;
		var += w * w * c[i].jitter * c[i].jitter;
		if (prev_peer_id >= 0 && c[i].id == (unsigned int)prev_peer_id)
			peer = i;
	}
	r->offset = swo / sw;
	for (unsigned int i = 0; i < n; i++) {
		double d = fmax(c[i].distance, 1e-9);

		if (c[i].truechimer)
			spread += (c[i].offset - r->offset) * (c[i].offset - r->offset) / (d * d);
	}
	r->jitter = sqrt(var / (sw * sw) + spread / sw);
	if (peer < 0) {
		for (unsigned int i = 0; i < n; i++) {
			if (!c[i].truechimer)
				continue;
			if (peer < 0 || c[i].distance < c[peer].distance ||
			    (c[i].distance == c[peer].distance && c[i].stratum < c[peer].stratum))
				peer = i;
		}
	}
	r->peer = peer;
	return r->n_true;
}

int sel_select(struct sel_candidate *c, unsigned int n, unsigned int min_agree, int prev_peer_id,
	       struct sel_result *r)
{
	return sel_select_auth(c, n, min_agree, prev_peer_id, SEL_AUTH_IGNORE, r);
}
