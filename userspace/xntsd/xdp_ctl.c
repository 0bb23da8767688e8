// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_ctl: the daemon's XDP control, its lifecycle and its status. Loading
 * is in xdp_load.c, links in xdp_link.c, feeding the program in
 * xdp_feed.c. xdp_ctl.h has the contract and Documentation/xdp.md the pin
 * layout.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include "ntp.h"
#include "sbuf.h"
#include "xdp_ctl.h"
#include "xdp_ctl_int.h"
#include "xsk_server.h"

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
			xdp_unpin_all(pin, pin);
		}
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		log_error("xdp: out of memory; XDP stays off");
		return NULL;
	}
	x->loop = l;
	x->pin_fd = -1;
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
		xdp_unpin_all(x->pin_fd >= 0 ? x->pin_base : x->pin, x->pin);
	if (x->pin_fd >= 0)
		close(x->pin_fd);
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

static void refid_text(uint32_t refid, char out[NTP_REFID_TEXT])
{
	ntp_refid_text((const uint8_t *)&refid, out);
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
	char refid[NTP_REFID_TEXT];
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

/* ---- handing over to the unprivileged daemon ---- */

/* Give the pin tree to uid:gid, entry by entry, never following a link. */
static void chown_tree(int dfd, uid_t uid, gid_t gid, int depth)
{
	struct dirent *de;
	DIR *dir;
	int fd, n = 0;

	if (fchownat(dfd, "", uid, gid, AT_EMPTY_PATH))
		log_warn("xdp: cannot hand a pin over to uid %u: %s", (unsigned int)uid,
			 strerror(errno));
	fd = depth < 2 ? openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(dir)) && n++ < 4096) {
		int sub;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sub = openat(fd, de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		chown_tree(sub, uid, gid, de->d_type == DT_DIR ? depth + 1 : 2);
		close(sub);
	}
	closedir(dir);
}

int xdp_ctl_hand_over(struct xdp_ctl *x, uid_t uid, gid_t gid)
{
	if (!x || x->error[0])
		return 0;
	x->pin_fd = open(x->pin, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (x->pin_fd < 0) {
		log_warn("xdp: %s: %s; pins cannot change after the privilege drop", x->pin,
			 strerror(errno));
		return -1;
	}
	fmt(x->pin_base, sizeof(x->pin_base), "/proc/self/fd/%d", x->pin_fd);
	chown_tree(x->pin_fd, uid, gid, 0);
	return 0;
}

/* ---- for the AF_XDP path ---- */

int xdp_ctl_xsk_map_fd(const struct xdp_ctl *x)
{
	if (!x || !x->obj || x->error[0] || !x->maps.xsk)
		return -1;
	return bpf_map__fd(x->maps.xsk);
}

int xdp_ctl_nts_variant(const struct xdp_ctl *x)
{
	return x && x->nts;
}

unsigned int xdp_ctl_attached(const struct xdp_ctl *x, struct xsk_server_ifc *out,
			      unsigned int max, uint64_t *gen)
{
	unsigned int n = 0;

	*gen = x ? x->if_gen : 0;
	for (size_t i = 0; x && i < x->n_ifs && n < max; i++) {
		if (x->ifs[i].state != IF_ATTACHED)
			continue;
		out[n].name = x->ifs[i].name;
		out[n].ifindex = x->ifs[i].ifindex;
		n++;
	}
	return n;
}
