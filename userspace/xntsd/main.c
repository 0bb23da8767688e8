// SPDX-License-Identifier: GPL-2.0
/*
 * xntsd: the xnts daemon. Wires the configuration to the event loop: the
 * NTS-KE servers with their keyset, the XDP fast path, the sources, signals
 * and the control socket. See Documentation/xntsd.8.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "ke_server.h"
#include "keyset.h"
#include "load.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "ntp.h"
#include "ntp_server.h"
#include "privs.h"
#include "sbuf.h"
#include "sdnotify.h"
#include "source.h"
#include "sync.h"
#include "timestate.h"
#include "xdp_ctl.h"
#include "xsk_server.h"

#define XNTS_VERSION "0.1"
#define DEFAULT_CONFIG "/etc/xnts/ntp.toml"
/* The keyset is re-checked at least this often, whatever the schedule says:
 * a shared secret's period follows the wall clock, which may be stepped. */
#define ROTATION_CHECK_MAX_MS 60000ULL

struct daemon {
	struct xnts_config cfg;
	struct loop loop;
	struct keyset *ks;
	struct ke_server **ke;
	size_t n_ke;
	struct source *src;
	size_t n_src;
	struct ntp_server **ntp;
	size_t n_ntp;
	struct timestate ts;
	struct sync *sync;
	struct ctl *ctl;
	struct metrics *metrics;
	struct xdp_ctl *xdp;
	struct xsk_path *xsk;
	int sfd;
	struct signalfd_siginfo si;
	struct loop_op sig_op;
	struct loop_op rot_op;
	uint64_t far_logged;	/* keyset far-period count last logged */
	int no_clock;
	time_t started;
	const char *config_path;
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* Key rotation runs on elapsed time, which no clock step moves. */
static int64_t elapsed_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t elapsed_s(void)
{
	return elapsed_ms() / 1000;
}

static void arm_rotation(struct daemon *d)
{
	int64_t next = keyset_next_rotation(d->ks) * 1000, now = elapsed_ms();
	uint64_t ms = next > now ? (uint64_t)(next - now) : 0;

	if (ms > ROTATION_CHECK_MAX_MS)
		ms = ROTATION_CHECK_MAX_MS;
	loop_timeout_ms(&d->loop, &d->rot_op, ms);
}

/* At most once per check: cookies from periods far from ours mean a clock
 * (ours or another host's) is off by more than a period. */
static void log_far_cookies(struct daemon *d)
{
	struct keyset_stats st;

	keyset_get_stats(d->ks, &st);
	if (st.far == d->far_logged)
		return;
	log_warn("keyset: %llu cookies from periods more than one away from ours "
		 "(%llu no longer or not yet accepted; last %+lld periods): a clock is off "
		 "by more than %llu s somewhere", (unsigned long long)(st.far - d->far_logged),
		 (unsigned long long)st.far_unknown, (long long)st.last_far_offset,
		 (unsigned long long)d->cfg.keyset.key_rotation_interval);
	d->far_logged = st.far;
}

static void rotation_done(struct loop_op *op, int res, unsigned int flags)
{
	struct daemon *d = (struct daemon *)((char *)op - offsetof(struct daemon, rot_op));
	int ret;

	(void)flags;
	if (res != -ETIME)
		return;
	/* No lock: workers keep reading the old snapshot until they are done
	 * with it, and the storage file is written after the new one is out. */
	ret = keyset_update(d->ks, now_s(), elapsed_s());
	if (ret > 0) {
		if (keyset_is_shared(d->ks))
			log_info("keyset: period %lld, current key id %08x, %u keys accepted%s",
				 (long long)keyset_period(d->ks), keyset_current(d->ks)->id,
				 keyset_count(d->ks), keyset_previous_active(d->ks) ?
				 " (previous secret too)" : "");
		else
			log_info("keyset: rotated, current key id %08x",
				 keyset_current(d->ks)->id);
	} else if (ret < 0) {
		log_error("keyset: %s", keyset_strerror(d->ks));
	}
	/* Also after a failed save: the new keys are in use all the same. */
	if (ret != 0)
		xdp_ctl_sync_keys(d->xdp, d->ks);
	log_far_cookies(d);
	arm_rotation(d);
}

static void arm_signals(struct daemon *d)
{
	loop_read(&d->loop, &d->sig_op, d->sfd, &d->si, sizeof(d->si));
}

static void signal_done(struct loop_op *op, int res, unsigned int flags)
{
	struct daemon *d = (struct daemon *)((char *)op - offsetof(struct daemon, sig_op));

	(void)flags;
	if (res != (int)sizeof(d->si)) {
		if (res != -ECANCELED)
			arm_signals(d);
		return;
	}
	switch (d->si.ssi_signo) {
	case SIGHUP:
		/* First, so that what follows lands in the new file. */
		if (log_reopen())
			log_warn("SIGHUP: cannot reopen the log file %s: %s",
				 d->cfg.observability.log_path, strerror(errno));
		log_info("SIGHUP: reloading certificates");
		for (size_t i = 0; i < d->n_ke; i++)
			ke_server_reload(d->ke[i]);
		break;
	default:
		log_info("%s: shutting down", strsignal((int)d->si.ssi_signo));
		sdnotify_send("STOPPING=1\nSTATUS=shutting down");
		loop_stop(&d->loop);
		return;
	}
	arm_signals(d);
}

static const char *key_role(const struct keyset_key *k, unsigned int i)
{
	if (k->flags & KEYSET_KEY_PREVIOUS)
		return k->flags & KEYSET_KEY_NEXT ? "previous-secret-next" : "previous-secret";
	if (k->flags & KEYSET_KEY_NEXT)
		return "next";
	return i ? "stale" : "current";
}

/* The keyset as a JSON member; ages are the daemon's, so a reader needs no clock. */
static void render_keys(struct daemon *d, struct sbuf *out)
{
	unsigned int n = d->ks ? keyset_count(d->ks) : 0;
	/* The schedule runs on elapsed time; status shows the wall clock. */
	int64_t next = d->ks ? keyset_next_rotation(d->ks) : -1;
	int64_t now = now_s();
	int64_t next_real = next < 0 ? -1 : now + (next - elapsed_s());
	const char *fp0 = d->ks ? keyset_fingerprint(d->ks, 0) : NULL;
	const char *fp1 = d->ks ? keyset_fingerprint(d->ks, 1) : NULL;
	struct keyset_stats st = { 0 };

	if (d->ks)
		keyset_get_stats(d->ks, &st);
	sbuf_printf(out, "\"keyset\":{\"keys\":[");
	for (unsigned int i = 0; i < n; i++) {
		const struct keyset_key *k = keyset_key_at(d->ks, i);

		sbuf_printf(out, "%s{\"id\":\"%08x\",\"created\":%lld,\"age\":%lld,"
			    "\"current\":%s,\"role\":\"%s\",\"period\":%lld}",
			    i ? "," : "", k->id, (long long)k->created,
			    (long long)(now - k->created), i ? "false" : "true", key_role(k, i),
			    (long long)k->period);
	}
	sbuf_printf(out, "],\"next_rotation\":%lld,\"next_rotation_in\":%lld,\"mode\":\"%s\"",
		    (long long)next_real, (long long)(next < 0 ? -1 : next - elapsed_s()),
		    !d->ks ? "none" : keyset_is_shared(d->ks) ? "shared-secret" : "random");
	if (fp0)
		sbuf_printf(out, ",\"period\":%lld,\"fingerprint\":\"%s\","
			    "\"previous_fingerprint\":%s%s%s,\"previous_accepted\":%s",
			    (long long)keyset_period(d->ks), fp0, fp1 ? "\"" : "",
			    fp1 ? fp1 : "null", fp1 ? "\"" : "",
			    keyset_previous_active(d->ks) ? "true" : "false");
	sbuf_printf(out, ",\"cookies\":{\"stale\":%llu,\"next\":%llu,"
		    "\"previous_secret\":%llu,\"unknown\":%llu,\"far\":%llu,"
		    "\"far_unknown\":%llu,\"last_far_offset\":%lld,"
		    "\"last_far_period\":%lld}}",
		    (unsigned long long)st.stale, (unsigned long long)st.next,
		    (unsigned long long)st.previous_secret, (unsigned long long)st.unknown,
		    (unsigned long long)st.far, (unsigned long long)st.far_unknown,
		    (long long)st.last_far_offset, (long long)st.last_far_period);
}

static void render_ke_json(const struct ke_server *k, struct sbuf *out)
{
	struct ke_server_stats s;
	const struct ke_server_stats *st = &s;

	ke_server_stats(k, &s);
	sbuf_printf(out, "{\"listen\":");
	sbuf_json_str(out, ke_server_listen_name(k));
	sbuf_printf(out, ",\"workers\":%u,\"clients\":%u,\"refused_client\":%llu,"
		    "\"refused_rate\":%llu,\"accept_errors\":%llu,\"accept_backoffs\":%llu",
		    st->workers, st->clients, (unsigned long long)st->refused_client,
		    (unsigned long long)st->refused_rate,
		    (unsigned long long)st->accept_errors,
		    (unsigned long long)st->accept_backoffs);
	sbuf_printf(out, ",\"accepted\":%llu,\"refused_limit\":%llu,\"active\":%u,"
		    "\"handshakes_ok\":%llu,\"handshakes_failed\":%llu,"
		    "\"failed\":{\"tls\":%llu,\"alpn\":%llu,\"timeout\":%llu,"
		    "\"bad_request\":%llu,\"critical\":%llu,\"no_match\":%llu,"
		    "\"internal\":%llu},\"cookies_issued\":%llu,\"last_key_id\":\"%08x\","
		    "\"ktls_send\":%llu,\"ktls_recv\":%llu,\"ktls_active\":%s,"
		    "\"reloads_ok\":%llu,\"reloads_failed\":%llu",
		    (unsigned long long)st->accepted, (unsigned long long)st->refused_limit,
		    st->active, (unsigned long long)st->handshakes_ok,
		    (unsigned long long)st->handshakes_failed,
		    (unsigned long long)st->fail_tls, (unsigned long long)st->fail_alpn,
		    (unsigned long long)st->fail_timeout,
		    (unsigned long long)st->fail_bad_request,
		    (unsigned long long)st->fail_critical,
		    (unsigned long long)st->fail_no_match,
		    (unsigned long long)st->fail_internal,
		    (unsigned long long)st->cookies_issued, st->last_key_id,
		    (unsigned long long)st->ktls_send, (unsigned long long)st->ktls_recv,
		    st->ktls_send ? "true" : "false",
		    (unsigned long long)st->reloads_ok, (unsigned long long)st->reloads_failed);
	sbuf_printf(out, ",\"pool\":{\"fixed_key\":%llu,\"support\":%llu,"
		    "\"refused_token\":%llu,\"bad_request\":%llu,\"deny_records\":%llu},"
		    "\"longlived\":{\"active\":%u,\"opened\":%llu,\"requests\":%llu,"
		    "\"refused_limit\":%llu,\"closed\":{\"max_requests\":%llu,"
		    "\"idle\":%llu,\"duration\":%llu}}}",
		    (unsigned long long)st->pool_fixed_key,
		    (unsigned long long)st->pool_support,
		    (unsigned long long)st->pool_refused_token,
		    (unsigned long long)st->pool_bad_request,
		    (unsigned long long)st->pool_deny_records, st->longlived_active,
		    (unsigned long long)st->longlived_opened,
		    (unsigned long long)st->longlived_requests,
		    (unsigned long long)st->longlived_refused_limit,
		    (unsigned long long)st->longlived_closed_requests,
		    (unsigned long long)st->longlived_closed_idle,
		    (unsigned long long)st->longlived_closed_duration);
}

/*
 * The control socket's one answer: a JSON document ("status" or "keys"; a
 * format word after the request is accepted and ignored). xntsctl renders
 * text and Prometheus from it; the daemon renders nothing else.
 */
static void render(void *arg, const char *req, struct sbuf *out)
{
	struct daemon *d = arg;
	size_t i;

	if (!strncmp(req, "keys", 4) && (!req[4] || req[4] == ' ')) {
		sbuf_printf(out, "{");
		render_keys(d, out);
		sbuf_printf(out, "}\n");
		return;
	}
	if (strncmp(req, "status", 6) || (req[6] && req[6] != ' ')) {
		sbuf_printf(out, "{\"error\":\"unknown request\"}\n");
		return;
	}
	sbuf_printf(out, "{\"version\":\"%s\",\"pid\":%d,\"uptime\":%lld,"
		    "\"clock_control\":%s,", XNTS_VERSION, (int)getpid(),
		    (long long)(time(NULL) - d->started), d->no_clock ? "false" : "true");
	render_keys(d, out);
	if (d->sync) {
		sbuf_printf(out, ",");
		sync_status_json(d->sync, out);
	}
	sbuf_printf(out, ",\"nts_ke_servers\":[");
	for (i = 0; i < d->n_ke; i++) {
		sbuf_printf(out, "%s", i ? "," : "");
		render_ke_json(d->ke[i], out);
	}
	sbuf_printf(out, "],\"ntp_servers\":[");
	for (i = 0; i < d->n_ntp; i++) {
		sbuf_printf(out, "%s", i ? "," : "");
		ntp_server_status_json(d->ntp[i], out);
	}
	sbuf_printf(out, "],\"xdp\":");
	xdp_ctl_status_json(d->xdp, out);
	sbuf_printf(out, ",\"af_xdp\":");
	xsk_path_status_json(d->xsk, out);
	sbuf_printf(out, ",\"sources\":[");
	for (i = 0; i < d->n_src; i++) {
		sbuf_printf(out, "%s", i ? "," : "");
		source_status_json(&d->src[i], out);
	}
	sbuf_printf(out, "]}\n");
}

static int setup_keyset(struct daemon *d)
{
	const struct config_keyset *c = &d->cfg.keyset;
	struct keyset_config kc;
	struct passwd *pw;

	keyset_config_default(&kc);
	kc.rotation_interval = (int64_t)c->key_rotation_interval;
	kc.stale_key_count = c->stale_key_count;
	kc.storage_path = c->key_storage_path;
	kc.secret_path = c->shared_secret_path;
	kc.previous_secret_path = c->previous_shared_secret_path;
	/* After the privilege drop the daemon's user writes the storage file. */
	pw = getpwnam(d->cfg.daemon.user ? d->cfg.daemon.user : PRIVS_DEFAULT_USER);
	if (pw)
		kc.trusted_uid = (long)pw->pw_uid;
	/* By default long enough for every cookie it sealed to go stale. */
	kc.previous_grace = c->previous_shared_secret_grace ?
		(int64_t)c->previous_shared_secret_grace :
		((int64_t)c->stale_key_count + 2) * (int64_t)c->key_rotation_interval;
	d->ks = keyset_new(&kc);
	if (!d->ks) {
		log_error("keyset: invalid configuration (stale-key-count at most %d)",
			  KEYSET_MAX_STALE);
		return -1;
	}
	if (keyset_start(d->ks, now_s(), elapsed_s()) < 0) {
		log_error("keyset: %s", keyset_strerror(d->ks));
		return -1;
	}
	if (keyset_is_shared(d->ks))
		log_info("keyset: derived from the shared secret in %s (fingerprint %s%s%s), "
			 "period %lld of %lld s, current key id %08x, %u keys accepted",
			 kc.secret_path, keyset_fingerprint(d->ks, 0),
			 keyset_fingerprint(d->ks, 1) ? ", previous " : "",
			 keyset_fingerprint(d->ks, 1) ? keyset_fingerprint(d->ks, 1) : "",
			 (long long)keyset_period(d->ks), (long long)kc.rotation_interval,
			 keyset_current(d->ks)->id, keyset_count(d->ks));
	else
		log_info("keyset: %u keys, current key id %08x%s%s", keyset_count(d->ks),
			 keyset_current(d->ks)->id, kc.storage_path ? ", stored in " : "",
			 kc.storage_path ? kc.storage_path : "");
	d->rot_op.cb = rotation_done;
	arm_rotation(d);
	return 0;
}

static int setup(struct daemon *d)
{
	char err[512];
	sigset_t mask;
	size_t i;

	if (loop_init(&d->loop, 1024)) {
		log_error("io_uring: cannot set up a ring");
		return -1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (d->sfd < 0) {
		log_error("signalfd: %s", strerror(errno));
		return -1;
	}
	d->sig_op.cb = signal_done;
	arm_signals(d);
	/* A KE server seals cookies; with a shared secret, an NTP-only host
	 * opens cookies other hosts sealed. */
	if ((d->cfg.n_nts_ke_servers || d->cfg.keyset.shared_secret_path) && setup_keyset(d))
		return -1;
	d->ke = calloc(d->cfg.n_nts_ke_servers + 1, sizeof(*d->ke));
	d->src = calloc(d->cfg.n_sources + 1, sizeof(*d->src));
	if (!d->ke || !d->src)
		return -1;
	for (i = 0; i < d->cfg.n_nts_ke_servers; i++) {
		d->ke[i] = ke_server_new(&d->loop, &d->cfg.nts_ke_servers[i], d->ks, err,
					 sizeof(err));
		if (!d->ke[i]) {
			log_error("%s", err);
			return -1;
		}
		d->n_ke++;
	}
	d->sync = sync_new(&d->loop, &d->cfg, d->no_clock, &d->ts, err, sizeof(err));
	if (!d->sync) {
		log_error("%s", err);
		return -1;
	}
	d->ntp = calloc(d->cfg.n_servers + 1, sizeof(*d->ntp));
	if (!d->ntp)
		return -1;
	for (i = 0; i < d->cfg.n_servers; i++) {
		d->ntp[i] = ntp_server_new(&d->cfg.servers[i], d->ks, &d->ts, 0,
					   err, sizeof(err));
		if (!d->ntp[i]) {
			log_error("%s", err);
			return -1;
		}
		d->n_ntp++;
	}
	/* Never fatal: without XDP the userspace path serves. */
	d->xdp = xdp_ctl_new(&d->loop, &d->cfg, &d->ts);
	xdp_ctl_sync_keys(d->xdp, d->ks);
	d->xsk = xsk_path_new(&d->loop, &d->cfg.xdp, d->xdp, d->ntp, (unsigned int)d->n_ntp);
	for (i = 0; i < d->cfg.n_sources; i++) {
		if (source_init(&d->src[i], &d->loop, &d->cfg.sources[i], err, sizeof(err))) {
			log_error("source %s: %s", d->cfg.sources[i].host, err);
			return -1;
		}
		sync_attach(d->sync, &d->src[i]);
		d->n_src++;
	}
	if (d->cfg.observability.observation_path) {
		d->ctl = ctl_new(&d->loop, d->cfg.observability.observation_path,
				 (mode_t)d->cfg.observability.observation_permissions, render, d,
				 err, sizeof(err));
		if (!d->ctl) {
			log_error("%s", err);
			return -1;
		}
	}
	if (d->cfg.observability.metrics_exporter) {
		d->metrics = metrics_new(&d->loop, &d->cfg.observability, render, d, err,
					 sizeof(err));
		if (!d->metrics) {
			log_error("%s", err);
			return -1;
		}
	}
	for (i = 0; i < d->n_src; i++)
		source_start(&d->src[i]);
	return 0;
}

static void teardown(struct daemon *d)
{
	size_t i;

	metrics_free(d->metrics);
	ctl_free(d->ctl);
	/* The AF_XDP workers answer through the servers: stop them first. */
	xsk_path_free(d->xsk);
	for (i = 0; i < d->n_ntp; i++)
		ntp_server_free(d->ntp[i]);
	free(d->ntp);
	xdp_ctl_free(d->xdp);
	for (i = 0; i < d->n_ke; i++)
		ke_server_free(d->ke[i]);
	for (i = 0; i < d->n_src; i++)
		source_fini(&d->src[i]);
	free(d->ke);
	free(d->src);
	if (d->loop.ring.ring_fd > 0)
		loop_exit(&d->loop);
	sync_free(d->sync);
	keyset_free(d->ks);
	config_free(&d->cfg);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xntsd [-c CONFIG] [-x] [-l LEVEL] [-h] [-v]\n"
		"  -c CONFIG  configuration file (default %s)\n"
		"  -x         never change any clock\n"
		"  -l LEVEL   log level: trace, debug, info, warn, error\n", DEFAULT_CONFIG);
}

int main(int argc, char **argv)
{
	static struct daemon d;
	enum log_level level;
	const char *level_arg = NULL;
	char err[1024];
	int opt, ret;

	d.config_path = DEFAULT_CONFIG;
	d.sfd = -1;
	while ((opt = getopt(argc, argv, "c:xl:hv")) != -1) {
		switch (opt) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'x':
			d.no_clock = 1;
			break;
		case 'l':
			level_arg = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'v':
			printf("xntsd %s\n", XNTS_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (level_arg && log_parse_level(level_arg, &level)) {
		fprintf(stderr, "xntsd: unknown log level '%s'\n", level_arg);
		return 2;
	}
	if (config_load(d.config_path, &d.cfg, err, sizeof(err))) {
		fprintf(stderr, "xntsd: %s\n", err);
		return 1;
	}
	log_threshold = level_arg ? level : (enum log_level)d.cfg.observability.log_level;
	if (log_setup(d.cfg.observability.log_path, d.cfg.observability.ansi_colors)) {
		fprintf(stderr, "xntsd: log-path %s: %s\n", d.cfg.observability.log_path,
			strerror(errno));
		config_free(&d.cfg);
		return 1;
	}
	d.started = time(NULL);
	log_info("xntsd %s starting, config %s%s", XNTS_VERSION, d.config_path,
		 d.no_clock ? ", clock control off (-x)" : "");
	if (sdnotify_open(err, sizeof(err))) {
		log_error("%s", err);
		return 1;
	}
	ret = setup(&d) ? 1 : 0;
	/* Everything that needs root is done: sockets, BPF, files. */
	if (!ret && privs_drop(&d.cfg, d.no_clock, d.xdp, err, sizeof(err))) {
		log_error("privileges: %s", err);
		ret = 1;
	}
	if (!ret) {
		snprintf(err, sizeof(err), "READY=1\nSTATUS=serving: %zu NTS-KE, %zu NTP "
			 "listeners, %zu sources", d.n_ke, d.n_ntp, d.n_src);
		sdnotify_send(err);
		sdnotify_watchdog_start(&d.loop);
		ret = loop_run(&d.loop) ? 1 : 0;
	}
	teardown(&d);
	if (d.sfd >= 0)
		close(d.sfd);
	sdnotify_close();
	log_info("xntsd stopped");
	return ret;
}
