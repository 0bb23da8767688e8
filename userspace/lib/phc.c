// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <string.h>

#include "phc.h"
#include "xnts_shared.h"

const char *phc_method_name(enum phc_method m)
{
	switch (m) {
	case PHC_METHOD_PRECISE:
		return "PRECISE";
	case PHC_METHOD_EXTENDED:
		return "EXTENDED";
	case PHC_METHOD_PLAIN:
		return "PLAIN";
	case PHC_METHOD_NONE:
		break;
	}
	return "none";
}

void phc_map_reset(struct phc_map *m)
{
	memset(m, 0, sizeof(*m));
}

void phc_map_add(struct phc_map *m, const struct phc_reading *r)
{
	double st = 0, so = 0, stt = 0, sto = 0, t, o, den, b, a;
	unsigned int newest, i, k;

	m->sys_ns[m->next] = r->sys_ns;
	m->off_ns[m->next] = r->phc_ns - r->sys_ns;
	newest = m->next;
	m->next = (m->next + 1) % PHC_MAP_POINTS;
	if (m->n < PHC_MAP_POINTS)
		m->n++;
	/*
	 * Fit relative to the newest point, so that the doubles hold small
	 * numbers (seconds and nanoseconds) and keep their precision.
	 */
	for (k = 0; k < m->n; k++) {
		i = (newest + PHC_MAP_POINTS - k) % PHC_MAP_POINTS;
		t = (double)(m->sys_ns[i] - m->sys_ns[newest]) / 1e9;
		o = (double)(m->off_ns[i] - m->off_ns[newest]);
		st += t;
		so += o;
		stt += t * t;
		sto += t * o;
	}
	den = m->n * stt - st * st;
	if (m->n < 2 || !(fabs(den) > 1e-12)) {
		m->valid = false;
		return;
	}
	b = (m->n * sto - st * so) / den;	/* ns per s */
	a = (so - b * st) / m->n;		/* ns, at the newest point */
	m->ref_sys_ns = m->sys_ns[newest];
	m->ref_off_ns = m->off_ns[newest] + llround(a);
	m->rate_ppm = b / 1e3;
	m->slope_q32 = llround((1.0 / (1.0 + b * 1e-9) - 1.0) * 4294967296.0);
	m->valid = true;
}

/* Farther from the fit than this, the integer mapping could overflow. */
#define PHC_MAP_MAX_GAP_NS (1LL << 40)

int phc_map_to_sys(const struct phc_map *m, int64_t phc_ns, int64_t *sys_ns)
{
	int64_t d;

	if (!m->valid)
		return -EAGAIN;
	d = phc_ns - m->ref_off_ns - m->ref_sys_ns;
	if (d > PHC_MAP_MAX_GAP_NS || d < -PHC_MAP_MAX_GAP_NS)
		return -ERANGE;
	/* The same integer mapping as the XDP program's (xnts_shared.h). */
	*sys_ns = xnts_phc_map_sys(m->ref_sys_ns, m->ref_off_ns, m->slope_q32, phc_ns);
	return 0;
}
