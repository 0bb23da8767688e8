// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <string.h>

#include "phc.h"

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
	m->valid = true;
}

int phc_map_to_sys(const struct phc_map *m, int64_t phc_ns, int64_t *sys_ns)
{
	double dt;
	int64_t s;

	if (!m->valid)
		return -EAGAIN;
	/*
	 * phc = sys + off(sys), off(sys) = ref_off + rate * (sys - ref_sys).
	 * Solve for sys; one fixed-point pass is exact to well under a
	 * nanosecond for rates below 1000 ppm and gaps below an hour.
	 */
	s = phc_ns - m->ref_off_ns;
	dt = (double)(s - m->ref_sys_ns) * m->rate_ppm * 1e-6;
	s = phc_ns - m->ref_off_ns - llround(dt);
	dt = (double)(s - m->ref_sys_ns) * m->rate_ppm * 1e-6;
	*sys_ns = phc_ns - m->ref_off_ns - llround(dt);
	return 0;
}
