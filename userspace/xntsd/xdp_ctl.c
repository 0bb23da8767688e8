// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_ctl: the daemon's XDP control, its lifecycle and its status. Loading
 * is in xdp_load.c, links in xdp_link.c, feeding the program in
 * xdp_feed.c. xdp_ctl.h has the contract and Documentation/xdp.md the pin
 * layout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netlink/netlink.h>

#include "log.h"
#include "sbuf.h"
#include "xdp_ctl.h"
#include "xdp_ctl_int.h"

static const char *const counter_names[XNTS_CNT_MAX] = {
#define COUNTER_NAME(up, name, doc) [XNTS_CNT_##up] = #name,
	XNTS_COUNTERS(COUNTER_NAME)
#undef COUNTER_NAME
};

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	if (level == LIBBPF_DEBUG && log_threshold > LOGL_TRACE)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	if (level == LIBBPF_WARN)
		log_warn("libbpf: %s", line);
	else
		log_trace("libbpf: %s", line);
	return 0;
}

/* ---- lifecycle ---- */

struct xdp_ctl *xdp_ctl_new(struct loop *l, const struct xnts_config *cfg,
			    struct timestate *ts)
{
	const struct config_xdp *xc = &cfg->xdp;
	const char *pin = xc->pin_path ? xc->pin_path : XDP_CTL_DEFAULT_PIN;
	struct xdp_ctl *x;
	size_t i;
	int err;

	libbpf_set_print(libbpf_log);
	if (xc->mode == CONFIG_XDP_OFF) {
		struct stat st;

		if (!stat(pin, &st)) {
			log_info("xdp: off; removing what an earlier run pinned in %s", pin);
			xdp_unpin_all(pin);
		}
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		log_error("xdp: out of memory; XDP stays off");
		return NULL;
	}
	x->loop = l;
	x->xcfg = xc;
	x->nl_fd = -1;
	x->prog_fd = -1;
	snprintf(x->pin, sizeof(x->pin), "%s", pin);
	x->ncpus = libbpf_num_possible_cpus();
	x->ifs = calloc(xc->n_interfaces + 1, sizeof(*x->ifs));
	if (!x->ifs) {
		free(x);
		return NULL;
	}
	for (i = 0; i < xc->n_interfaces; i++) {
		snprintf(x->ifs[i].name, sizeof(x->ifs[i].name), "%s", xc->interfaces[i]);
		x->ifs[i].link_fd = -1;
		x->ifs[i].state = IF_FAILED;
	}
	x->n_ifs = xc->n_interfaces;

	x->ts = ts;
	x->hb_interval_ms = xc->heartbeat_timeout_ms / 4 ? xc->heartbeat_timeout_ms / 4 : 1;

	err = xdp_load(x, cfg);
	if (err == -2)	/* the NTS variant did not load: the plain one */
		err = xdp_load(x, cfg);
	if (err) {
		log_error("xdp: %s; XDP stays off, the userspace server handles NTP", x->error);
		for (i = 0; i < x->n_ifs; i++)
			fmt(x->ifs[i].reason, sizeof(x->ifs[i].reason), "%s", x->error);
		return x;
	}
	log_info("xdp: %s variant: %s", x->nts ? "NTS" : "plain", x->variant_note);
	log_info("xdp: program %u %s, maps %s, pinned in %s", x->prog_id,
		 x->prog_reused ? "reused" : "loaded",
		 x->maps_reused ? "reused" : x->maps_replaced ? "replaced" : "new", x->pin);
	xdp_configure(x, cfg);
	xdp_publish(x);
	x->hb_op.cb = xdp_heartbeat_done;
	loop_timeout_ms(l, &x->hb_op, x->hb_interval_ms);
	xdp_drop_stale_links(x);
	for (i = 0; i < x->n_ifs; i++)
		xdp_iface_reconcile(x, &x->ifs[i]);
	xdp_local_sync(x);
	err = xdp_netlink_open(x);
	if (err) {
		log_error("xdp: netlink: %s; interfaces that come back later are not re-attached",
			  nl_geterror(err));
		if (x->nl)
			nl_socket_free(x->nl);
		x->nl = NULL;
		x->nl_fd = -1;
	}
	return x;
}

void xdp_ctl_free(struct xdp_ctl *x)
{
	size_t i;
	int keep;

	if (!x)
		return;
	keep = x->xcfg->keep_serving_on_exit && !x->error[0];
	for (i = 0; i < x->n_ifs; i++) {
		struct xdp_iface *f = &x->ifs[i];

		if (keep) {
			if (f->link_fd >= 0)
				close(f->link_fd);
		} else {
			xdp_iface_drop_link(x, f, 1);
		}
	}
	if (keep)
		log_info("xdp: keep-serving-on-exit: the program stays attached; it answers "
			 "until the heartbeat is %llu ms old",
			 (unsigned long long)x->xcfg->heartbeat_timeout_ms);
	else if (!x->error[0])
		log_info("xdp: detached from every interface");
	if (x->nl)
		nl_socket_free(x->nl);
	if (x->ts_map)
		munmap(x->ts_map, x->ts_len);
	if (x->obj && x->prog_fd >= 0 && x->prog_fd != bpf_program__fd(x->prog))
		close(x->prog_fd);
	xnts__destroy(x->skel);
	xnts_nts__destroy(x->skel_nts);
	if (!keep && !x->error[0])
		xdp_unpin_all(x->pin);
	free(x->listens);
	free(x->ifs);
	free(x);
}

/* ---- status ---- */

static void read_counters(const struct xdp_ctl *x, uint64_t out[XNTS_CNT_MAX])
{
	uint64_t *v;
	__u32 k;
	int fd, c;

	memset(out, 0, sizeof(uint64_t) * XNTS_CNT_MAX);
	if (!x->obj || x->error[0] || x->ncpus <= 0)
		return;
	v = calloc((size_t)x->ncpus, sizeof(*v));
	if (!v)
		return;
	fd = bpf_map__fd(x->maps.counters);
	for (k = 0; k < XNTS_CNT_MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (c = 0; c < x->ncpus; c++)
			out[k] += v[c];
	}
	free(v);
}

static const char *iface_mode(const struct xdp_ctl *x, const struct xdp_iface *f)
{
	if (f->state != IF_ATTACHED)
		return "failed";
	return x->xcfg->mode == CONFIG_XDP_NATIVE ? "native" : "generic";
}

static void refid_text(uint32_t refid, char out[5])
{
	const uint8_t *b = (const uint8_t *)&refid;
	int i;

	for (i = 0; i < 4; i++)
		out[i] = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '.';
	out[4] = '\0';
}

static const struct xnts_time_state *state(const struct xdp_ctl *x, struct xnts_time_state *s)
{
	if (!x->ts_map)
		return NULL;
	memcpy(s, x->ts_map, sizeof(*s));	/* single writer: this process */
	return s;
}

void xdp_ctl_status_json(const struct xdp_ctl *x, struct sbuf *out)
{
	uint64_t cnt[XNTS_CNT_MAX];
	struct xnts_time_state s;
	char refid[5];
	size_t i;

	if (!x) {
		sbuf_printf(out, "{\"mode\":\"off\"}");
		return;
	}
	sbuf_printf(out, "{\"mode\":\"%s\",\"pin_path\":",
		    x->xcfg->mode == CONFIG_XDP_NATIVE ? "native" : "generic");
	sbuf_json_str(out, x->pin);
	sbuf_printf(out, ",\"loaded\":%s,\"error\":", x->error[0] ? "false" : "true");
	sbuf_json_str(out, x->error);
	sbuf_printf(out, ",\"variant\":\"%s\",\"variant_note\":", x->nts ? "nts" : "plain");
	sbuf_json_str(out, x->variant_note);
	sbuf_printf(out, ",\"nts_keys_error\":");
	sbuf_json_str(out, x->keys_error);
	sbuf_printf(out, ",\"prog_id\":%u,\"prog_reused\":%s,\"maps_reused\":%s,\"ports\":[",
		    x->prog_id, x->prog_reused ? "true" : "false",
		    x->maps_reused ? "true" : "false");
	for (i = 0; i < x->n_ports; i++)
		sbuf_printf(out, "%s%u", i ? "," : "", x->ports[i]);
	sbuf_printf(out, "],\"config_note\":");
	sbuf_json_str(out, x->cfg_note);
	sbuf_printf(out, ",\"stale_action\":\"%s\",\"heartbeat_timeout_ms\":%llu,"
		    "\"heartbeat_interval_ms\":%llu,\"heartbeats\":%llu,\"heartbeat_age_ms\":%lld,"
		    "\"keep_serving_on_exit\":%s,\"link_events\":%llu,\"reattaches\":%llu",
		    x->xcfg->stale_action == CONFIG_XDP_STALE_PASS ? "pass" : "unsync",
		    (unsigned long long)x->xcfg->heartbeat_timeout_ms,
		    (unsigned long long)x->hb_interval_ms, (unsigned long long)x->heartbeats,
		    x->last_publish_ns ? (long long)((mono_ns() - x->last_publish_ns) / 1000000)
				       : -1LL,
		    x->xcfg->keep_serving_on_exit ? "true" : "false",
		    (unsigned long long)x->link_events, (unsigned long long)x->reattaches);
	if (state(x, &s)) {
		refid_text(s.refid, refid);
		sbuf_printf(out, ",\"time\":{\"leap\":%u,\"stratum\":%u,\"precision\":%d,"
			    "\"root_delay\":%u,\"root_dispersion\":%u,\"refid\":",
			    s.leap, s.stratum, s.precision, s.root_delay, s.root_dispersion);
		sbuf_json_str(out, refid);
		sbuf_printf(out, ",\"tai_offset\":%d,\"reference_time\":%llu,\"phc_index\":%d,"
			    "\"phc_ref_sys_ns\":%lld,\"phc_ref_off_ns\":%lld,\"phc_slope_q32\":%lld}",
			    s.tai_offset, (unsigned long long)s.reference_time, s.phc_index,
			    (long long)s.phc_ref_sys_ns, (long long)s.phc_ref_off_ns,
			    (long long)s.phc_slope_q32);
	}
	sbuf_printf(out, ",\"interfaces\":[");
	for (i = 0; i < x->n_ifs; i++) {
		const struct xdp_iface *f = &x->ifs[i];

		sbuf_printf(out, "%s{\"name\":", i ? "," : "");
		sbuf_json_str(out, f->name);
		sbuf_printf(out, ",\"mode\":\"%s\",\"reason\":", iface_mode(x, f));
		sbuf_json_str(out, f->reason);
		sbuf_printf(out, ",\"ifindex\":%d,\"prog_id\":%u,\"link_id\":%u,\"link_reused\":%s,"
			    "\"attaches\":%llu}", f->ifindex,
			    f->state == IF_ATTACHED ? x->prog_id : 0, f->link_id,
			    f->reused ? "true" : "false", (unsigned long long)f->attaches);
	}
	read_counters(x, cnt);
	sbuf_printf(out, "],\"counters\":{");
	for (i = 0; i < XNTS_CNT_MAX; i++)
		sbuf_printf(out, "%s\"%s\":%llu", i ? "," : "", counter_names[i],
			    (unsigned long long)cnt[i]);
	sbuf_printf(out, "}}");
}

void xdp_ctl_status_plain(const struct xdp_ctl *x, struct sbuf *out)
{
	uint64_t cnt[XNTS_CNT_MAX];
	struct xnts_time_state s;
	char refid[5];
	size_t i;

	if (!x) {
		sbuf_printf(out, "xdp: off\n");
		return;
	}
	sbuf_printf(out, "xdp: %s mode, pinned in %s\n",
		    x->xcfg->mode == CONFIG_XDP_NATIVE ? "native" : "generic", x->pin);
	if (x->error[0]) {
		sbuf_printf(out, "  not loaded: %s\n", x->error);
	} else {
		sbuf_printf(out, "  program %u (%s), maps %s\n", x->prog_id,
			    x->prog_reused ? "reused from the pin" : "loaded now",
			    x->maps_reused ? "reused from the pins" : "new");
		sbuf_printf(out, "  variant: %s (%s)\n", x->nts ? "NTS" : "plain", x->variant_note);
		if (x->keys_error[0])
			sbuf_printf(out, "  NTS keys: %s\n", x->keys_error);
		sbuf_printf(out, "  ports:");
		for (i = 0; i < x->n_ports; i++)
			sbuf_printf(out, " %u", x->ports[i]);
		sbuf_printf(out, "%s\n", x->n_ports ? "" : " none (program passes everything)");
	}
	if (x->cfg_note[0])
		sbuf_printf(out, "  note: %s\n", x->cfg_note);
	sbuf_printf(out, "  heartbeat every %llu ms, timeout %llu ms, then %s; %s on exit\n",
		    (unsigned long long)x->hb_interval_ms,
		    (unsigned long long)x->xcfg->heartbeat_timeout_ms,
		    x->xcfg->stale_action == CONFIG_XDP_STALE_PASS ? "pass to userspace" :
								     "answer with LI=3",
		    x->xcfg->keep_serving_on_exit ? "keep serving" : "detach");
	if (state(x, &s)) {
		refid_text(s.refid, refid);
		sbuf_printf(out, "  time state: leap %u, stratum %u, precision %d, refid %s, "
			    "TAI offset %d s, heartbeat %lld ms ago\n", s.leap, s.stratum,
			    s.precision, refid, s.tai_offset,
			    (long long)((mono_ns() - s.heartbeat_ns) / 1000000));
	}
	for (i = 0; i < x->n_ifs; i++) {
		const struct xdp_iface *f = &x->ifs[i];

		if (f->state == IF_ATTACHED)
			sbuf_printf(out, "  %s: %s, ifindex %d, program %u, link %u%s\n", f->name,
				    iface_mode(x, f), f->ifindex, x->prog_id, f->link_id,
				    f->reused ? " (pinned link kept)" : "");
		else
			sbuf_printf(out, "  %s: failed: %s\n", f->name, f->reason);
	}
	read_counters(x, cnt);
	sbuf_printf(out, "  counters:");
	for (i = 0; i < XNTS_CNT_MAX; i++)
		sbuf_printf(out, "%s %s %llu", i ? "," : "", counter_names[i],
			    (unsigned long long)cnt[i]);
	sbuf_printf(out, "\n");
}
