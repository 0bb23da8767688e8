// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "clock.h"
#include "clock_adjtimex.h"
#include "config_map.h"
#include "discipline.h"
#include "leapsec.h"
#include "load.h"
#include "log.h"
#include "ntp.h"
#include "sync.h"

/* The -x clock: CLOCK_REALTIME plus a correction nobody else sees. */
struct vclock {
	double phase;		/* s, at t_ref */
	double freq;		/* ppm */
	double t_ref;		/* CLOCK_MONOTONIC s */
};

struct sync {
	const struct xnts_config *cfg;
	struct loop *loop;
	struct timestate *ts;
	int no_clock;
	struct discipline *d;
	struct clock_adjtimex real;
	struct vclock v;
	struct loop_op timer;
	int timer_armed;
	unsigned int n_idx;
	struct assoc *by_idx[DISCIPLINE_MAX_SOURCES];
	int have_leapsec;
	uint64_t last_update_ntp;
	struct loop_op ref_timer;	/* republishes while a local reference */
	int ref_timer_armed;
};

/* A local reference refreshes its reference timestamp this often. */
#define LOCAL_REF_REFRESH_MS 1000

static double mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double vcorr(const struct vclock *v, double t)
{
	return v->phase + v->freq * 1e-6 * (t - v->t_ref);
}

static int v_now(void *ctx, struct timespec *ts)
{
	struct vclock *v = ctx;
	double c = vcorr(v, mono_s());
	struct timespec r;
	long long ns;

	clock_gettime(CLOCK_REALTIME, &r);
	ns = (long long)r.tv_nsec + llround(c * 1e9);
	ts->tv_sec = r.tv_sec + (time_t)(ns / 1000000000LL);
	ns %= 1000000000LL;
	if (ns < 0) {
		ns += 1000000000LL;
		ts->tv_sec--;
	}
	ts->tv_nsec = ns;
	return 0;
}

static int v_get_frequency(void *ctx, double *ppm)
{
	*ppm = ((struct vclock *)ctx)->freq;
	return 0;
}

static int v_set_frequency(void *ctx, double ppm)
{
	struct vclock *v = ctx;
	double t = mono_s();

	v->phase = vcorr(v, t);
	v->t_ref = t;
	v->freq = ppm;
	return 0;
}

static int v_step(void *ctx, double s)
{
	((struct vclock *)ctx)->phase += s;
	return 0;
}

static int v_set_leap(void *ctx, int leap, int tai)
{
	(void)ctx;
	(void)leap;
	(void)tai;
	return 0;
}

static const struct clock_ops vclock_ops = {
	.now = v_now,
	.get_frequency = v_get_frequency,
	.set_frequency = v_set_frequency,
	.step = v_step,
	.set_leap = v_set_leap,
};

/* RFC 5905: an IPv4 peer's address, or the first four bytes of the MD5 of an IPv6 one. */
static void refid_of(const struct assoc *a, uint8_t out[4])
{
	const struct sockaddr *sa = (const struct sockaddr *)&a->addr;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n;

	/* A reference clock (phc) has no address: its samples name their refid. */
	if (sa->sa_family == AF_UNSPEC) {
		memcpy(out, a->last.refid, 4);
		return;
	}
	if (sa->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return;
	}
	if (EVP_Digest(&((const struct sockaddr_in6 *)sa)->sin6_addr, 16, md, &n, EVP_md5(),
		       NULL))
		memcpy(out, md, 4);
	else
		memset(out, 0, 4);
}

static uint32_t short_fmt(double s)
{
	if (!(s > 0))
		return 0;
	if (s >= 65535.0)
		return 0xffffffffU;
	return (uint32_t)(s * 65536.0);
}

/*
 * Unsynchronised with local-stratum below 16, the server answers as a local
 * reference: that stratum, leap 0, the configured refid, and "now" as the
 * reference timestamp (the clock is its own reference), as chrony's local
 * mode does.
 */
static int local_reference(const struct sync *y, const struct discipline_status *ds)
{
	return !ds->synced && y->cfg->synchronization.local_stratum < 16;
}

static uint64_t ntp_now(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return ntp_ts_from_timespec(&now);
}

static void publish(struct sync *y);

static void ref_timer_done(struct loop_op *op, int res, unsigned int flags)
{
	struct sync *y = (struct sync *)((char *)op - offsetof(struct sync, ref_timer));

	(void)flags;
	y->ref_timer_armed = 0;
	if (res == -ETIME)
		publish(y);
}

static void publish(struct sync *y)
{
	const struct config_synchronization *sy = &y->cfg->synchronization;
	struct ntp_serve_state st = { 0 };
	struct discipline_status ds;
	uint32_t refid;

	st.precision = timestate_precision();
	discipline_get_status(y->d, &ds);
	if (ds.synced && ds.peer >= 0 && (unsigned int)ds.peer < y->n_idx &&
	    y->by_idx[ds.peer]) {
		st.leap = (uint8_t)ds.leap;
		st.stratum = (uint8_t)ds.stratum;
		refid_of(y->by_idx[ds.peer], st.refid);
		st.root_delay = short_fmt(ds.root_delay);
		st.root_dispersion = short_fmt(ds.root_dispersion);
		st.reference_time = y->last_update_ntp;
	} else {
		st.stratum = (uint8_t)sy->local_stratum;
		st.leap = local_reference(y, &ds) ? NTP_LEAP_NONE : NTP_LEAP_UNSYNC;
		refid = htonl(sy->reference_id_value);
		memcpy(st.refid, &refid, 4);
		st.reference_time = local_reference(y, &ds) ? ntp_now() : y->last_update_ntp;
	}
	timestate_publish(y->ts, &st);
	if (local_reference(y, &ds) && !y->ref_timer_armed && y->loop) {
		y->ref_timer_armed = 1;
		loop_timeout_ms(y->loop, &y->ref_timer, LOCAL_REF_REFRESH_MS);
	}
}

static void update(struct sync *y);

static void timer_done(struct loop_op *op, int res, unsigned int flags)
{
	struct sync *y = (struct sync *)((char *)op - offsetof(struct sync, timer));

	(void)flags;
	y->timer_armed = 0;
	if (res == -ETIME)
		update(y);
}

static void update(struct sync *y)
{
	struct discipline_status ds;
	double t = mono_s(), next;
	int ev;

	ev = discipline_update(y->d, t);
	y->last_update_ntp = ntp_now();
	if (ev > 0) {
		discipline_get_status(y->d, &ds);
		if (ev & DISCIPLINE_EV_STEP)
			log_info("clock %sstepped by %+.6f s", y->no_clock ? "(virtual, -x) " : "",
				 ds.last_step);
		if (ev & DISCIPLINE_EV_JUMP_WARN)
			log_warn("clock jumped by %+.6f s", ds.last_step);
		if (ev & DISCIPLINE_EV_PANIC)
			log_error("clock discipline stopped: %s", ds.error ? ds.error : "panic");
		if (ev & DISCIPLINE_EV_SYNC)
			log_info("synchronised to source %d, stratum %u", ds.peer, ds.stratum);
		if (ev & DISCIPLINE_EV_UNSYNC)
			log_warn("lost synchronisation");
		if (ev & DISCIPLINE_EV_LEAP)
			log_info("leap second state: %d, TAI-UTC %d", ds.leap_armed, ds.tai_offset);
	}
	publish(y);
	next = discipline_next_update(y->d);
	if (!y->timer_armed && isfinite(next) && next > t) {
		y->timer_armed = 1;
		loop_timeout_ms(y->loop, &y->timer, (uint64_t)((next - t) * 1000) + 1);
	}
}

static void on_sample(struct source *s, struct assoc *a, void *arg)
{
	struct sync *y = arg;
	struct discipline_sample ds = { 0 };
	unsigned int idx = s->sync_base + (unsigned int)(a - s->assoc);
	double t = mono_s();

	if (idx >= y->n_idx)
		return;
	y->by_idx[idx] = a;
	/* Under -x samples are taken against the real clock; the discipline runs the virtual one. */
	ds.offset = a->last.offset - (y->no_clock ? vcorr(&y->v, t) : 0);
	ds.delay = a->last.delay;
	ds.dispersion = a->last.dispersion;
	ds.root_delay = a->last.root_delay;
	ds.root_dispersion = a->last.root_dispersion;
	ds.stratum = a->last.stratum;
	ds.leap = a->last.leap;
	ds.poll_interval = ldexp(1.0, a->poll);
	/* A local reference clock cannot be spoofed from the network. */
	ds.authenticated = s->cfg->mode == CONFIG_SOURCE_NTS || s->phc;
	if (discipline_add_sample(y->d, idx, &ds, t) >= 0)
		update(y);
}

void sync_attach(struct sync *y, struct source *s)
{
	unsigned int want = s->cfg->mode == CONFIG_SOURCE_POOL ? s->cfg->count : 1;

	if (want > SOURCE_MAX_ASSOC)
		want = SOURCE_MAX_ASSOC;
	s->sync_base = y->n_idx;
	y->n_idx += want;
	if (y->n_idx > DISCIPLINE_MAX_SOURCES) {
		log_warn("source %s: beyond %d associations, not used for synchronisation",
			 s->name, DISCIPLINE_MAX_SOURCES);
		y->n_idx = DISCIPLINE_MAX_SOURCES;
		s->sync_base = DISCIPLINE_MAX_SOURCES;
		return;
	}
	s->on_sample = on_sample;
	s->arg = y;
}

struct sync *sync_new(struct loop *l, const struct xnts_config *cfg, int no_clock,
		      struct timestate *ts, char *err, size_t errlen)
{
	struct sync *y = calloc(1, sizeof(*y));
	struct discipline_config dc;
	struct leapsec_table *lt;
	char lerr[256];

	if (!y) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	y->cfg = cfg;
	y->loop = l;
	y->ts = ts;
	y->no_clock = no_clock;
	y->timer.cb = timer_done;
	y->ref_timer.cb = ref_timer_done;
	y->real.writable = !no_clock;
	y->v.t_ref = mono_s();
	config_map_discipline(&cfg->synchronization, &dc);
	if (no_clock)
		y->d = discipline_new(&dc, &vclock_ops, &y->v, DISCIPLINE_MAX_SOURCES);
	else
		y->d = discipline_new(&dc, &clock_adjtimex_ops, &y->real, DISCIPLINE_MAX_SOURCES);
	if (!y->d) {
		snprintf(err, errlen, "clock discipline: cannot set up");
		free(y);
		return NULL;
	}
	lt = malloc(sizeof(*lt));
	if (lt && !leapsec_load(LEAPSEC_DEFAULT_PATH, lt, lerr, sizeof(lerr))) {
		discipline_set_leapsec(y->d, lt);
		y->have_leapsec = 1;
	} else {
		log_info("leap seconds: %s: %s", LEAPSEC_DEFAULT_PATH,
			 lt ? lerr : "out of memory");
	}
	free(lt);
	publish(y);
	return y;
}

void sync_free(struct sync *y)
{
	if (!y)
		return;
	discipline_free(y->d);
	free(y);
}

void sync_status_json(struct sync *y, struct sbuf *out)
{
	struct discipline_status ds;
	struct ntp_serve_state st;
	const struct assoc *p;
	struct timespec ref;
	char refid[NTP_REFID_TEXT];	/* also holds a dotted quad */

	discipline_get_status(y->d, &ds);
	timestate_read(y->ts, &st);
	p = ds.peer >= 0 && (unsigned int)ds.peer < y->n_idx ? y->by_idx[ds.peer] : NULL;
	sbuf_printf(out, "\"sync\":{\"mode\":\"%s\",\"steering\":\"%s\",\"synced\":%s,"
		    "\"local_reference\":%s,"
		    "\"offset\":%.9f,\"offset_sd\":%.9f,\"frequency_ppm\":%.4f,"
		    "\"jitter\":%.9f,\"stratum\":%u,\"leap\":%d,\"tai_offset\":%d,"
		    "\"selected\":", discipline_mode_name(ds.mode),
		    y->no_clock ? "virtual (-x)" : "adjtimex", ds.synced ? "true" : "false",
		    local_reference(y, &ds) ? "true" : "false",
		    ds.offset, ds.offset_sd, ds.frequency, ds.jitter, ds.stratum, ds.leap,
		    ds.tai_offset);
	sbuf_json_str(out, p ? p->name : "");
	sbuf_printf(out, ",\"candidates\":%u,\"truechimers\":%u,\"steps\":%lu,"
		    "\"accumulated_steps\":%.9f,\"error\":", ds.n_candidates, ds.n_truechimers,
		    ds.n_steps, ds.accumulated_steps);
	sbuf_json_str(out, ds.error ? ds.error : "");
	/*
	 * What the server announces now, as published to its answer paths. The
	 * refid is text at stratum 0-1 (odd bytes escaped), else the upstream's
	 * IPv4 address or the first bytes of an IPv6 one's hash.
	 */
	if (st.stratum <= 1)
		ntp_refid_text(st.refid, refid);
	else
		snprintf(refid, sizeof(refid), "%u.%u.%u.%u", st.refid[0], st.refid[1],
			 st.refid[2], st.refid[3]);
	ref.tv_sec = 0;
	ref.tv_nsec = 0;
	if (st.reference_time)
		ntp_ts_to_timespec(st.reference_time, &(struct timespec){ time(NULL), 0 }, &ref);
	sbuf_printf(out, ",\"serving\":{\"stratum\":%u,\"leap\":%u,\"refid\":", st.stratum,
		    st.leap);
	sbuf_json_str(out, refid);
	sbuf_printf(out, ",\"root_delay\":%.6f,\"root_dispersion\":%.6f,"
		    "\"reference_time\":%lld.%09ld}}", st.root_delay / 65536.0,
		    st.root_dispersion / 65536.0, (long long)ref.tv_sec, ref.tv_nsec);
}
