// SPDX-License-Identifier: GPL-2.0
/* Readings of a PHC through its character device: see phc_read.h. */
#include <errno.h>
#include <linux/ptp_clock.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>

#include "phc_read.h"

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
