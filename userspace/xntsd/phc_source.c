// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <linux/ethtool_netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "log.h"
#include "ntp.h"
#include "phc_read.h"
#include "phc_source.h"
#include "source.h"

#define PHC_SAMPLES 9		/* per reading: the narrowest window wins */
#define PHC_RESOLUTION 1e-9	/* what one reading can resolve at best, s */

struct phc_source {
	struct source *src;
	int fd;
	int index;		/* N of /dev/ptpN, -1 if unknown */
	char dev[64];
	enum phc_method method;
	struct phc_map map;
	struct phc_reading last;
	int tai;		/* kernel TAI offset used for the last reading */
	struct loop_op timer;
	uint64_t reads, errors;
	char error[128];
};

static struct phc_source *active;

/* The active source's mapping for other threads, under a sequence counter. */
static struct {
	_Atomic unsigned int seq;
	int index;
	struct phc_map map;
} shared;

static void share(const struct phc_source *p)
{
	unsigned int s = atomic_load_explicit(&shared.seq, memory_order_relaxed);

	atomic_store_explicit(&shared.seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	if (p) {
		shared.map = p->map;
		shared.index = p->index;
	} else {
		shared.map.valid = false;
	}
	atomic_store_explicit(&shared.seq, s + 2, memory_order_release);
}

int phc_map_snapshot(struct phc_map *out, int *phc_index)
{
	unsigned int s1, s2;
	int idx;

	for (int tries = 0; tries < 1000; tries++) {
		s1 = atomic_load_explicit(&shared.seq, memory_order_acquire);
		memcpy(out, &shared.map, sizeof(*out));
		idx = shared.index;
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&shared.seq, memory_order_relaxed);
		if (!(s1 & 1) && s1 == s2) {
			if (!out->valid)
				return -EAGAIN;
			*phc_index = idx;
			return 0;
		}
	}
	return -EAGAIN;
}

/* ---- ethtool netlink ---- */

static int tsinfo_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[ETHTOOL_A_TSINFO_MAX + 1];
	int *idx = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, ETHTOOL_A_TSINFO_MAX, NULL))
		return NL_SKIP;
	if (tb[ETHTOOL_A_TSINFO_PHC_INDEX])
		*idx = (int)nla_get_u32(tb[ETHTOOL_A_TSINFO_PHC_INDEX]);
	return NL_OK;
}

int phc_index_of_interface(const char *ifname, char *err, size_t errlen)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_msg *msg = NULL;
	struct nlattr *h;
	int fam, ret, idx = -1;

	if (!sk) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ret = genl_connect(sk);
	if (ret < 0)
		goto nlerr;
	fam = genl_ctrl_resolve(sk, ETHTOOL_GENL_NAME);
	if (fam < 0) {
		ret = fam;
		goto nlerr;
	}
	msg = nlmsg_alloc();
	ret = -NLE_NOMEM;
	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, fam, 0, 0,
				 ETHTOOL_MSG_TSINFO_GET, ETHTOOL_GENL_VERSION))
		goto nlerr;
	h = nla_nest_start(msg, ETHTOOL_A_TSINFO_HEADER);
	if (!h || nla_put_string(msg, ETHTOOL_A_HEADER_DEV_NAME, ifname) < 0)
		goto nlerr;
	nla_nest_end(msg, h);
	ret = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, tsinfo_cb, &idx);
	if (ret < 0)
		goto nlerr;
	ret = nl_send_auto(sk, msg);
	if (ret < 0)
		goto nlerr;
	/* The reply goes to tsinfo_cb; then the kernel's ACK (or error). */
	ret = nl_wait_for_ack(sk);
	if (ret < 0)
		goto nlerr;
	nlmsg_free(msg);
	nl_socket_free(sk);
	if (idx < 0)
		snprintf(err, errlen, "interface %s has no PTP hardware clock", ifname);
	return idx;
nlerr:
	snprintf(err, errlen, "ethtool netlink (timestamping info of %s): %s", ifname,
		 nl_geterror(ret));
	nlmsg_free(msg);
	nl_socket_free(sk);
	return -1;
}

/* ---- the source ---- */

static int index_of_dev(int fd)
{
	char link[96], path[64];
	struct stat st;
	ssize_t n;
	int idx;

	if (fstat(fd, &st) || !S_ISCHR(st.st_mode))
		return -1;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u", major(st.st_rdev),
		 minor(st.st_rdev));
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = 0;
	if (!strrchr(link, '/') || sscanf(strrchr(link, '/'), "/ptp%d", &idx) != 1)
		return -1;
	return idx;
}

static void arm(struct phc_source *p)
{
	const struct source *s = p->src;
	int poll = s->assoc[0].poll;

	if (s->stopping)
		return;
	loop_timeout_ms(s->loop, &p->timer, 1000ULL << (poll > 0 ? poll : 0));
}

static void take(struct phc_source *p)
{
	struct source *s = p->src;
	struct assoc *a = &s->assoc[0];
	struct phc_reading r;
	struct timespec mono;
	struct timex tx;
	int64_t ref_ns;
	int ret;

	a->reach <<= 1;
	a->sent++;
	ret = phc_read(p->fd, &p->method, PHC_SAMPLES, &r);
	if (ret) {
		p->errors++;
		a->invalid++;
		snprintf(a->last_error, sizeof(a->last_error), "reading %s: %s", p->dev,
			 p->method == PHC_METHOD_NONE ? "no PTP_SYS_OFFSET method works" :
			 strerror(-ret));
		return;
	}
	p->reads++;
	p->last = r;
	phc_map_add(&p->map, &r);
	if (active == p)
		share(p);
	/* modes = 0: only reads the kernel's TAI offset. */
	memset(&tx, 0, sizeof(tx));
	if (adjtimex(&tx) >= 0)
		p->tai = tx.tai;
	ref_ns = r.phc_ns;
	if (s->cfg->phc_scale == CONFIG_PHC_TAI)
		ref_ns -= (int64_t)p->tai * 1000000000LL;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	a->last.offset = (double)(ref_ns - r.sys_ns) / 1e9;
	a->last.delay = (double)r.window_ns / 1e9;
	a->last.dispersion = (double)r.window_ns / 2e9 + PHC_RESOLUTION;
	a->last.stratum = 0;
	a->last.leap = NTP_LEAP_NONE;
	memcpy(a->last.refid, "PHC", 4);
	a->last.root_delay = 0;
	a->last.root_dispersion = 0;
	a->last.when_ns = r.sys_ns;
	a->last.mono_ns = (int64_t)mono.tv_sec * 1000000000 + mono.tv_nsec;
	a->have_sample = 1;
	a->received++;
	a->reach |= 1;
	a->last_error[0] = 0;
	log_debug("source %s: offset %+.9f window %.9f (%s)", s->name, a->last.offset,
		  a->last.delay, phc_method_name(r.method));
	if (s->on_sample)
		s->on_sample(s, a, s->arg);
}

static void timer_done(struct loop_op *op, int res, unsigned int flags)
{
	struct phc_source *p = (struct phc_source *)((char *)op -
						     offsetof(struct phc_source, timer));

	(void)flags;
	if (res != -ETIME || p->src->stopping)
		return;
	take(p);
	arm(p);
}

int phc_source_init(struct source *s, char *err, size_t errlen)
{
	const struct config_source *c = s->cfg;
	struct phc_source *p = calloc(1, sizeof(*p));
	struct assoc *a = &s->assoc[0];
	int idx = -1;

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->src = s;
	p->fd = -1;
	p->timer.cb = timer_done;
	if (c->phc_path) {
		snprintf(p->dev, sizeof(p->dev), "%s", c->phc_path);
	} else {
		idx = phc_index_of_interface(c->phc_interface, err, errlen);
		if (idx < 0)
			goto fail;
		snprintf(p->dev, sizeof(p->dev), "/dev/ptp%d", idx);
	}
	p->fd = open(p->dev, O_RDONLY | O_CLOEXEC);
	if (p->fd < 0) {
		snprintf(err, errlen, "%s: %s", p->dev, strerror(errno));
		goto fail;
	}
	p->index = idx >= 0 ? idx : index_of_dev(p->fd);
	p->method = PHC_METHOD_PRECISE;
	phc_map_reset(&p->map);
	s->phc = p;
	s->n_assoc = 1;
	a->src = s;
	a->poll = c->initial_poll;
	if (a->poll < c->poll_limits.min)
		a->poll = c->poll_limits.min;
	if (a->poll > c->poll_limits.max)
		a->poll = c->poll_limits.max;
	snprintf(a->name, sizeof(a->name), "%s", p->dev);
	if (c->phc_path)
		snprintf(s->name, sizeof(s->name), "phc %s", p->dev);
	else
		snprintf(s->name, sizeof(s->name), "phc %s (%s)", p->dev, c->phc_interface);
	return 0;
fail:
	free(p);
	return -1;
}

void phc_source_start(struct source *s)
{
	struct phc_source *p = s->phc;

	if (!active)
		active = p;
	take(p);
	arm(p);
}

void phc_source_fini(struct source *s)
{
	struct phc_source *p = s->phc;

	if (!p)
		return;
	if (active == p) {
		active = NULL;
		share(NULL);
	}
	s->stopping = 1;
	/* The loop is not run again after the sources are finished (main.c). */
	loop_timeout_cancel(s->loop, &p->timer);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
	s->phc = NULL;
}

void phc_source_status_json(const struct source *s, struct sbuf *out)
{
	const struct phc_source *p = s->phc;

	sbuf_printf(out, ",\"phc\":{\"device\":");
	sbuf_json_str(out, p->dev);
	sbuf_printf(out, ",\"index\":%d,\"interface\":", p->index);
	sbuf_json_str(out, s->cfg->phc_path ? "" : s->cfg->phc_interface);
	sbuf_printf(out, ",\"scale\":\"%s\",\"method\":\"%s\",\"reads\":%llu,\"errors\":%llu,"
		    "\"tai_offset\":%d", s->cfg->phc_scale == CONFIG_PHC_TAI ? "tai" : "utc",
		    phc_method_name(p->method), (unsigned long long)p->reads,
		    (unsigned long long)p->errors, p->tai);
	if (p->reads)
		sbuf_printf(out, ",\"offset\":%.9f,\"delay\":%.9f", s->assoc[0].last.offset,
			    s->assoc[0].last.delay);
	if (p->map.valid)
		sbuf_printf(out, ",\"map_offset_ns\":%lld,\"map_rate_ppm\":%.4f",
			    (long long)p->map.ref_off_ns, p->map.rate_ppm);
	sbuf_printf(out, "}");
}
