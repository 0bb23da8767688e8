// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/ptp_clock.h>
#include <math.h>
#include <string.h>
#include <sys/ioctl.h>

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

static int64_t pct_ns(const struct ptp_clock_time *t)
{
	return t->sec * 1000000000LL + t->nsec;
}

static int read_precise(int fd, struct phc_reading *out)
{
	struct ptp_sys_offset_precise p;

	memset(&p, 0, sizeof(p));
	if (ioctl(fd, PTP_SYS_OFFSET_PRECISE, &p))
		return -errno;
	out->phc_ns = pct_ns(&p.device);
	out->sys_ns = pct_ns(&p.sys_realtime);
	out->window_ns = 0;
	return 0;
}

/* Keep the sample whose system reads bracket the PHC read most tightly. */
static void best_of(struct phc_reading *out, int64_t pre, int64_t phc, int64_t post)
{
	int64_t w = post - pre;

	if (w < 0)	/* the system clock stepped between the reads */
		return;
	if (out->window_ns >= 0 && w >= out->window_ns)
		return;
	out->window_ns = w;
	out->sys_ns = pre + w / 2;
	out->phc_ns = phc;
}

static int read_extended(int fd, unsigned int n, struct phc_reading *out)
{
	struct ptp_sys_offset_extended e;

	memset(&e, 0, sizeof(e));	/* rsv[0] = 0: CLOCK_REALTIME */
	e.n_samples = n;
	if (ioctl(fd, PTP_SYS_OFFSET_EXTENDED, &e))
		return -errno;
	out->window_ns = -1;
	for (unsigned int i = 0; i < n && i < PTP_MAX_SAMPLES; i++)
		best_of(out, pct_ns(&e.ts[i][0]), pct_ns(&e.ts[i][1]), pct_ns(&e.ts[i][2]));
	return out->window_ns < 0 ? -EAGAIN : 0;
}

static int read_plain(int fd, unsigned int n, struct phc_reading *out)
{
	struct ptp_sys_offset o;

	memset(&o, 0, sizeof(o));
	o.n_samples = n;
	if (ioctl(fd, PTP_SYS_OFFSET, &o))
		return -errno;
	out->window_ns = -1;
	/* ts[]: system, PHC, system, PHC, ..., system */
	for (unsigned int i = 0; i < n && i < PTP_MAX_SAMPLES; i++)
		best_of(out, pct_ns(&o.ts[2 * i]), pct_ns(&o.ts[2 * i + 1]),
			pct_ns(&o.ts[2 * i + 2]));
	return out->window_ns < 0 ? -EAGAIN : 0;
}

static bool unsupported(int err)
{
	return err == -EOPNOTSUPP || err == -ENOTTY || err == -EINVAL;
}

int phc_read(int fd, enum phc_method *method, unsigned int n, struct phc_reading *out)
{
	int ret = -EOPNOTSUPP;

	if (n < 1)
		n = 1;
	if (n > PHC_MAX_SAMPLES)
		n = PHC_MAX_SAMPLES;
	while (*method < PHC_METHOD_NONE) {
		switch (*method) {
		case PHC_METHOD_PRECISE:
			ret = read_precise(fd, out);
			break;
		case PHC_METHOD_EXTENDED:
			ret = read_extended(fd, n, out);
			break;
		default:
			ret = read_plain(fd, n, out);
			break;
		}
		if (!unsupported(ret))
			break;
		*method = (enum phc_method)(*method + 1);
	}
	if (!ret)
		out->method = *method;
	return ret;
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
