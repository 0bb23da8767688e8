// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_ctl: loads, pins, configures and feeds the XDP responder. See
 * xdp_ctl.h for the contract and Documentation/xdp.md for the pin layout.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "config.h"
/*
 * xnts_shared.h names the BPF config map's value "struct xnts_config", which
 * is also the daemon's configuration (config.h). Inside this file the BPF one
 * is struct xnts_bpf_config; the layout is unchanged.
 */
#define xnts_config xnts_bpf_config
#include "xnts_shared.h"
#include <openssl/crypto.h>

#include "xnts.skel.h"
#include "xnts_nts.skel.h"
#include "keyset.h"
#include "../../kmod/xnts_siv.h"
#undef xnts_config

#include "log.h"
#include "ntp.h"
#include "phc_source.h"
#include "sbuf.h"
#include "xdp_ctl.h"
#include "xsk_server.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#define PIN_MAX 256
#define NSEC_PER_SEC 1000000000ULL
#define MAX_MAP_IDS 16
/* Bounds on how much one wake-up of the netlink socket may process. */
#define NL_MAX_BATCH 256
#define LPM_CLEAR_MAX (XNTS_LPM_ENTRIES_DEFAULT * 2)

static const char *const map_names[] = {
	"xnts_time", "xnts_config", "xnts_allow4", "xnts_deny4",
	"xnts_allow6", "xnts_deny6", "xnts_rate", "xnts_counters", "xnts_xsk",
};
#define N_MAPS (sizeof(map_names) / sizeof(map_names[0]))

static const char *const counter_names[XNTS_CNT_MAX] = {
	[XNTS_CNT_ANSWERED] = "answered",
	[XNTS_CNT_STALE_UNSYNC] = "stale_unsync",
	[XNTS_CNT_RATE_LIMITED] = "rate_limited",
	[XNTS_CNT_DENIED] = "denied",
	[XNTS_CNT_IGNORED] = "ignored",
	[XNTS_CNT_PASSED_NTS] = "passed_nts",
	[XNTS_CNT_PASSED_OTHER] = "passed_other",
	[XNTS_CNT_PASSED_UNSUPPORTED] = "passed_unsupported",
	[XNTS_CNT_PASSED_INVALID] = "passed_invalid",
	[XNTS_CNT_STALE_PASS] = "stale_pass",
	[XNTS_CNT_PASSED_BUSY] = "passed_busy",
	[XNTS_CNT_NTS_ANSWERED] = "nts_answered",
	[XNTS_CNT_NTS_NAK_KEY] = "nts_nak_key",
	[XNTS_CNT_NTS_NAK_COOKIE] = "nts_nak_cookie",
	[XNTS_CNT_NTS_NAK_AUTH] = "nts_nak_auth",
	[XNTS_CNT_NTS_ERROR] = "nts_error",
	[XNTS_CNT_REDIRECTED_XSK] = "redirected_xsk",
};

enum if_state { IF_ATTACHED, IF_FAILED };

struct xdp_iface {
	char name[CONFIG_IFNAME_MAX];
	int ifindex;		/* where the link is attached; 0: nowhere */
	int link_fd;		/* -1: none */
	uint32_t link_id;
	enum if_state state;
	int reused;		/* the link was found pinned and kept */
	int dirty;		/* a link event named it: reconcile */
	uint64_t attaches;	/* links this daemon created */
	char reason[160];	/* why it is not attached */
};

struct xdp_ctl {
	struct loop *loop;
	const struct config_xdp *xcfg;
	char pin[PIN_MAX];
	struct xnts *skel;		/* the plain variant, or */
	struct xnts_nts *skel_nts;	/* the NTS variant (xnts_siv.ko loaded) */
	struct bpf_object *obj;		/* whichever is loaded */
	struct bpf_program *prog;
	int nts;			/* the NTS variant runs */
	char variant_note[200];		/* why this variant */
	uint64_t keys_gen;		/* keyset generation last synced + 1; 0: never */
	char keys_error[160];
	int prog_fd;		/* the program in the links: pinned or the skeleton's */
	uint32_t prog_id;
	int prog_reused, maps_reused, maps_replaced;
	char error[200];	/* non-empty: nothing loaded, why */
	char cfg_note[200];	/* config map remark (ports left to userspace, ...) */
	struct xnts_time_state *ts_map;
	size_t ts_len;
	struct timestate *ts;
	int32_t tai_offset;
	uint64_t last_publish_ns;
	uint64_t heartbeats;
	uint64_t hb_interval_ms;
	struct loop_op hb_op;
	struct xdp_iface *ifs;
	size_t n_ifs;
	uint16_t ports[XNTS_MAX_PORTS];	/* host order */
	size_t n_ports;
	int ncpus;
	struct nl_sock *nl;
	int nl_fd;
	struct loop_op nl_op;
	uint64_t link_events;
	uint64_t reattaches;
	uint64_t if_gen;	/* moves when an interface's attachment changes */
};

/* snprintf that may cut the text short, for messages and bounded paths. */
static void fmt(char *buf, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));

static void fmt(char *buf, size_t len, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, len, f, ap);
	va_end(ap);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

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

static void path_of(const struct xdp_ctl *x, char *buf, size_t len, const char *sub,
		    const char *name)
{
	fmt(buf, len, "%s/%s%s%s", x->pin, sub, name ? "/" : "", name ? name : "");
}

/* ---- time state ---- */


/* The phc source's PHC-to-system mapping, in the program's integer form. */
static void publish_phc(struct xnts_time_state *s)
{
	struct phc_map m;
	int idx;

	s->phc_index = -1;
	if (phc_map_snapshot(&m, &idx) || idx < 0)
		return;
	s->phc_index = idx;
	s->phc_ref_sys_ns = m.ref_sys_ns;
	s->phc_ref_off_ns = m.ref_off_ns;
	s->phc_slope_q32 = (__s64)llround((1.0 / (1.0 + m.rate_ppm * 1e-6) - 1.0) * 4294967296.0);
}

static void publish(struct xdp_ctl *x)
{
	struct xnts_time_state s;
	struct ntp_serve_state t;
	struct timex tx;
	int kstate, synced;

	if (!x->ts_map)
		return;
	timestate_read(x->ts, &t);
	synced = t.stratum < 16 && t.leap != XNTS_LEAP_UNSYNC;
	/* modes = 0: adjtimex only reads (the TAI offset and pending leap). */
	memset(&tx, 0, sizeof(tx));
	kstate = adjtimex(&tx);
	if (kstate >= 0)
		x->tai_offset = tx.tai;
	memset(&s, 0, sizeof(s));
	s.leap = synced ? t.leap : XNTS_LEAP_UNSYNC;
	if (synced && t.leap == XNTS_LEAP_NONE) {
		if (kstate == TIME_INS)
			s.leap = XNTS_LEAP_INSERT;
		else if (kstate == TIME_DEL)
			s.leap = XNTS_LEAP_DELETE;
	}
	s.stratum = t.stratum;
	s.precision = t.precision;
	s.stale_action = x->xcfg->stale_action == CONFIG_XDP_STALE_PASS ? XNTS_STALE_PASS :
									  XNTS_STALE_UNSYNC;
	s.root_delay = t.root_delay;
	s.root_dispersion = t.root_dispersion;
	memcpy(&s.refid, t.refid, 4);
	s.tai_offset = x->tai_offset;
	s.reference_time = t.reference_time;
	s.heartbeat_timeout_ns = x->xcfg->heartbeat_timeout_ms * 1000000ULL;
	publish_phc(&s);
	s.heartbeat_ns = mono_ns();
	xnts_time_state_publish(x->ts_map, &s);
	x->last_publish_ns = s.heartbeat_ns;
	x->heartbeats++;
}

static void heartbeat_done(struct loop_op *op, int res, unsigned int flags)
{
	struct xdp_ctl *x = (struct xdp_ctl *)((char *)op - offsetof(struct xdp_ctl, hb_op));

	(void)flags;
	if (res != -ETIME)
		return;
	publish(x);
	loop_timeout_ms(x->loop, &x->hb_op, x->hb_interval_ms);
}

/* ---- pins ---- */

#define BPF_FS_ROOT "/sys/fs/bpf"

static int mkdir_pin(const char *p)
{
	if (mkdir(p, 0700) && errno != EEXIST)
		return -1;
	return 0;
}

static int on_bpffs(const char *p)
{
	struct statfs sfs;

	return !statfs(p, &sfs) && (unsigned long)sfs.f_type == BPF_FS_MAGIC;
}

/*
 * A fresh machine, and every `ip netns exec` (which mounts a new sysfs),
 * has no bpf filesystem at /sys/fs/bpf. Mount it, as bpftool and libxdp
 * do, when the pin directory lies below it; a pin path elsewhere is the
 * operator's to provide.
 */
static int ensure_bpffs(const char *pin)
{
	size_t n = strlen(BPF_FS_ROOT);

	if (strncmp(pin, BPF_FS_ROOT, n) || (pin[n] != '/' && pin[n]) || on_bpffs(BPF_FS_ROOT))
		return 0;
	if (mount("bpf", BPF_FS_ROOT, "bpf", 0, "mode=0700")) {
		log_warn("xdp: no bpf filesystem at %s, and mounting one failed: %s",
			 BPF_FS_ROOT, strerror(errno));
		return -1;
	}
	log_info("xdp: mounted a bpf filesystem at %s", BPF_FS_ROOT);
	return 0;
}

/* Remove what an earlier run pinned: known maps, the program, every link. */
static void unpin_all(const char *pin)
{
	char p[PIN_MAX + 64];
	struct dirent *de;
	DIR *dir;
	size_t i;
	int n = 0;

	fmt(p, sizeof(p), "%s/links", pin);
	dir = opendir(p);
	while (dir && (de = readdir(dir)) && n++ < 4096) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fmt(p, sizeof(p), "%s/links/%s", pin, de->d_name);
		fd = bpf_obj_get(p);
		if (fd >= 0) {
			bpf_link_detach(fd);
			close(fd);
		}
		unlink(p);
	}
	if (dir)
		closedir(dir);
	for (i = 0; i < N_MAPS; i++) {
		fmt(p, sizeof(p), "%s/maps/%s", pin, map_names[i]);
		unlink(p);
	}
	fmt(p, sizeof(p), "%s/prog", pin);
	unlink(p);
	fmt(p, sizeof(p), "%s/links", pin);
	rmdir(p);
	fmt(p, sizeof(p), "%s/maps", pin);
	rmdir(p);
	rmdir(pin);
}

/* 1 if the pinned map at path has the same shape as map, 0 if not, -1 if none. */
static int pinned_map_compatible(const char *path, const struct bpf_map *map)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path), ok;

	if (fd < 0)
		return -1;
	memset(&info, 0, sizeof(info));
	ok = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	     info.type == bpf_map__type(map) && info.key_size == bpf_map__key_size(map) &&
	     info.value_size == bpf_map__value_size(map) &&
	     info.max_entries == bpf_map__max_entries(map) &&
	     info.map_flags == bpf_map__map_flags(map);
	close(fd);
	return ok;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int prog_info(int fd, struct bpf_prog_info *info, uint32_t *ids)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	info->nr_map_ids = MAX_MAP_IDS;
	info->map_ids = (__u64)(uintptr_t)ids;
	if (bpf_obj_get_info_by_fd(fd, info, &len))
		return -1;
	if (info->nr_map_ids > MAX_MAP_IDS)
		return -1;
	qsort(ids, info->nr_map_ids, sizeof(*ids), cmp_u32);
	return 0;
}

/*
 * Keep the pinned program if it is this very program: same instructions
 * (the tag ignores map fds) and the same maps. Otherwise pin ours.
 */
static void adopt_program(struct xdp_ctl *x)
{
	uint32_t ids_new[MAX_MAP_IDS], ids_old[MAX_MAP_IDS];
	struct bpf_prog_info new_info, old_info;
	char p[PIN_MAX + 16];
	int fd, own = bpf_program__fd(x->prog);

	x->prog_fd = own;
	if (prog_info(own, &new_info, ids_new))
		return;
	x->prog_id = new_info.id;
	path_of(x, p, sizeof(p), "prog", NULL);
	fd = bpf_obj_get(p);
	if (fd >= 0) {
		if (!prog_info(fd, &old_info, ids_old) &&
		    !memcmp(old_info.tag, new_info.tag, sizeof(old_info.tag)) &&
		    old_info.nr_map_ids == new_info.nr_map_ids &&
		    !memcmp(ids_old, ids_new, new_info.nr_map_ids * sizeof(*ids_new))) {
			x->prog_fd = fd;
			x->prog_id = old_info.id;
			x->prog_reused = 1;
			return;
		}
		close(fd);
		unlink(p);
	}
	if (bpf_obj_pin(own, p))
		log_warn("xdp: cannot pin the program at %s: %s", p, strerror(errno));
}

/*
 * The NTS variant needs the kfuncs of kmod/xnts_siv.ko: open it when the
 * module's BTF is there (x->nts), else the plain one. x->variant_note
 * says why. A failed NTS load comes back through load() returning -2.
 */
static int open_variant(struct xdp_ctl *x)
{
	if (!x->variant_note[0] && !access("/sys/kernel/btf/xnts_siv", F_OK)) {
		x->skel_nts = xnts_nts__open();
		if (x->skel_nts) {
			x->obj = x->skel_nts->obj;
			x->prog = x->skel_nts->progs.xnts_xdp;
			x->nts = 1;
			fmt(x->variant_note, sizeof(x->variant_note),
			    "kernel module xnts_siv loaded: NTS answered in XDP");
			return 0;
		}
		fmt(x->variant_note, sizeof(x->variant_note),
		    "cannot open the NTS variant: NTS requests go to userspace");
	} else if (!x->variant_note[0]) {
		fmt(x->variant_note, sizeof(x->variant_note),
		    "kernel module xnts_siv not loaded: NTS requests go to userspace");
	}
	x->skel = xnts__open();
	if (!x->skel)
		return -1;
	x->obj = x->skel->obj;
	x->prog = x->skel->progs.xnts_xdp;
	x->nts = 0;
	return 0;
}

static int load(struct xdp_ctl *x, const struct xnts_config *cfg)
{
	uint64_t cache = 0;
	char p[PIN_MAX + 64];
	struct bpf_map *m;
	size_t i;
	int err, existing = 0, mismatch = 0;

	ensure_bpffs(x->pin);
	if (mkdir_pin(x->pin)) {
		fmt(x->error, sizeof(x->error), "pin directory %s: %s", x->pin,
		    strerror(errno));
		return -1;
	}
	if (!on_bpffs(x->pin)) {
		fmt(x->error, sizeof(x->error), "pin directory %s is not on a bpf filesystem",
		    x->pin);
		return -1;
	}
	path_of(x, p, sizeof(p), "maps", NULL);
	if (mkdir_pin(p)) {
		fmt(x->error, sizeof(x->error), "%s: %s", p, strerror(errno));
		return -1;
	}
	path_of(x, p, sizeof(p), "links", NULL);
	if (mkdir_pin(p)) {
		fmt(x->error, sizeof(x->error), "%s: %s", p, strerror(errno));
		return -1;
	}

	if (open_variant(x)) {
		fmt(x->error, sizeof(x->error), "cannot open the BPF object: %s",
		    strerror(errno));
		return -1;
	}
	/* The rate limiter remembers as many clients as the largest cache asks. */
	for (i = 0; i < cfg->n_servers; i++)
		if (cfg->servers[i].rate_limiting_cache_size > cache)
			cache = cfg->servers[i].rate_limiting_cache_size;
	m = bpf_object__find_map_by_name(x->obj, "xnts_rate");
	if (m && cache)
		bpf_map__set_max_entries(m, (__u32)cache);
	for (i = 0; i < N_MAPS; i++) {
		m = bpf_object__find_map_by_name(x->obj, map_names[i]);
		if (!m) {
			fmt(x->error, sizeof(x->error), "BPF object lacks map %s",
			    map_names[i]);
			return -1;
		}
		path_of(x, p, sizeof(p), "maps", map_names[i]);
		err = pinned_map_compatible(p, m);
		if (err >= 0)
			existing++;
		if (err == 0)
			mismatch++;
		bpf_map__set_pin_path(m, p);
	}
	/*
	 * One incompatible map (another version of the program) replaces the whole
	 * set: mixing old and new maps would mix two layouts. The running program
	 * keeps its old maps until the links switch to the new one.
	 */
	if (mismatch) {
		log_warn("xdp: pinned maps in %s do not match this program; replacing them",
			 x->pin);
		for (i = 0; i < N_MAPS; i++) {
			path_of(x, p, sizeof(p), "maps", map_names[i]);
			unlink(p);
		}
		x->maps_replaced = 1;
		existing = 0;
	}
	x->maps_reused = existing == (int)N_MAPS;
	err = x->nts ? xnts_nts__load(x->skel_nts) : xnts__load(x->skel);
	if (err && x->nts) {
		/* The module went away, or its kfuncs do not match: plain NTP in XDP. */
		fmt(x->variant_note, sizeof(x->variant_note),
		    "NTS variant failed to load (%s): NTS requests go to userspace",
		    strerror(-err));
		log_warn("xdp: %s", x->variant_note);
		xnts_nts__destroy(x->skel_nts);
		x->skel_nts = NULL;
		x->obj = NULL;
		x->nts = 0;
		return -2;
	}
	if (err) {
		fmt(x->error, sizeof(x->error), "cannot load the XDP program: %s",
		    strerror(-err));
		return -1;
	}
	adopt_program(x);
	m = bpf_object__find_map_by_name(x->obj, "xnts_time");
	x->ts_len = (size_t)sysconf(_SC_PAGESIZE);
	x->ts_map = mmap(NULL, x->ts_len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(m), 0);
	if (x->ts_map == MAP_FAILED) {
		x->ts_map = NULL;
		fmt(x->error, sizeof(x->error), "cannot map xnts_time: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- config map ---- */

static int filter_equal(const struct config_filter *a, const struct config_filter *b)
{
	return a->set == b->set && (!a->set || (a->action == b->action &&
						 a->n_subnets == b->n_subnets &&
						 !memcmp(a->subnets, b->subnets,
							 a->n_subnets * sizeof(*a->subnets))));
}

/* XDP has one policy for all its ports: servers must agree on it to share. */
static int policy_equal(const struct config_server *a, const struct config_server *b)
{
	return a->accept_ntp_versions == b->accept_ntp_versions &&
	       a->rate_limiting_cutoff_ms == b->rate_limiting_cutoff_ms &&
	       !a->rate_limiting_cache_size == !b->rate_limiting_cache_size &&
	       filter_equal(&a->allowlist, &b->allowlist) &&
	       filter_equal(&a->denylist, &b->denylist);
}

/* Empty a trie; a reused map still holds the previous run's entries. */
static int lpm_clear(int fd)
{
	uint8_t key[sizeof(struct xnts_lpm6_key)];
	int i;

	for (i = 0; i < LPM_CLEAR_MAX; i++) {
		if (bpf_map_get_next_key(fd, NULL, key))
			return errno == ENOENT ? 0 : -1;
		if (bpf_map_delete_elem(fd, key))
			return -1;
	}
	return -1;
}

static int lpm_fill(struct xdp_ctl *x, const char *n4, const char *n6,
		    const struct config_filter *f)
{
	int fd4 = bpf_map__fd(bpf_object__find_map_by_name(x->obj, n4));
	int fd6 = bpf_map__fd(bpf_object__find_map_by_name(x->obj, n6));
	__u8 one = 1;
	size_t i;

	if (lpm_clear(fd4) || lpm_clear(fd6))
		return -1;
	for (i = 0; f->set && i < f->n_subnets; i++) {
		const struct config_subnet *s = &f->subnets[i];

		if (s->family == AF_INET) {
			struct xnts_lpm4_key k = { .prefixlen = s->prefix };

			memcpy(k.addr, s->addr, 4);
			if (bpf_map_update_elem(fd4, &k, &one, BPF_ANY))
				return -1;
		} else {
			struct xnts_lpm6_key k = { .prefixlen = s->prefix };

			memcpy(k.addr, s->addr, 16);
			if (bpf_map_update_elem(fd6, &k, &one, BPF_ANY))
				return -1;
		}
	}
	return 0;
}

static __u8 action(enum config_filter_action a)
{
	return a == CONFIG_ACTION_DENY ? XNTS_ACT_DENY : XNTS_ACT_IGNORE;
}

static void configure(struct xdp_ctl *x, const struct xnts_config *cfg)
{
	const struct config_server *ref = NULL;
	struct xnts_bpf_config bc;
	size_t i, k, left = 0;
	int fd = bpf_map__fd(bpf_object__find_map_by_name(x->obj, "xnts_config"));
	__u32 zero = 0;

	memset(&bc, 0, sizeof(bc));
	for (i = 0; i < cfg->n_servers; i++) {
		const struct config_server *s = &cfg->servers[i];
		uint16_t port = s->listen.port;

		/* Plain NTP must never be answered for a server that requires NTS. */
		if (s->require_nts || (ref && !policy_equal(ref, s)) ||
		    x->n_ports == XNTS_MAX_PORTS) {
			left++;
			continue;
		}
		for (k = 0; k < x->n_ports && x->ports[k] != port; k++)
			;
		if (k < x->n_ports)
			continue;
		ref = s;
		x->ports[x->n_ports++] = port;
	}
	if (left)
		fmt(x->cfg_note, sizeof(x->cfg_note), "%zu [[server]] table(s) left to "
		    "userspace (require-nts, a different policy, or more than %d ports)",
		    left, XNTS_MAX_PORTS);
	if (ref) {
		if (lpm_fill(x, "xnts_allow4", "xnts_allow6", &ref->allowlist) ||
		    lpm_fill(x, "xnts_deny4", "xnts_deny6", &ref->denylist)) {
			/* A partial list would answer clients the policy refuses. */
			fmt(x->cfg_note, sizeof(x->cfg_note), "allow/deny lists do not fit "
			    "the XDP maps (%s); XDP serves no port", strerror(errno));
			x->n_ports = 0;
		}
		bc.versions = (__u8)(ref->accept_ntp_versions & 0xff);
		bc.flags = ref->allowlist.set ? XNTS_CFG_ALLOWLIST : 0;
		bc.allow_action = action(ref->allowlist.action);
		bc.deny_action = action(ref->denylist.action);
		if (ref->rate_limiting_cache_size && ref->rate_limiting_cutoff_ms) {
			bc.rate_burst = 1;
			bc.rate_interval_ns = ref->rate_limiting_cutoff_ms * 1000000ULL;
		}
	}
	for (i = 0; i < x->n_ports; i++)
		bc.ports[i] = htons(x->ports[i]);
	if (bpf_map_update_elem(fd, &zero, &bc, BPF_ANY)) {
		fmt(x->cfg_note, sizeof(x->cfg_note), "cannot write xnts_config: %s",
		    strerror(errno));
		x->n_ports = 0;
	}
	if (x->cfg_note[0])
		log_warn("xdp: %s", x->cfg_note);
}

/* ---- links ---- */

static void iface_fail(struct xdp_iface *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void iface_fail(struct xdp_iface *f, const char *fmt, ...)
{
	char why[sizeof(f->reason)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* A persistent failure is logged once, not on every link event. */
	if (f->state != IF_FAILED || strcmp(why, f->reason))
		log_error("xdp: %s: %s; the userspace server handles it", f->name, why);
	f->state = IF_FAILED;
	memcpy(f->reason, why, sizeof(why));
}

static void iface_drop_link(struct xdp_ctl *x, struct xdp_iface *f, int detach)
{
	char p[PIN_MAX + 32];

	if (f->link_fd >= 0) {
		if (detach)
			bpf_link_detach(f->link_fd);
		close(f->link_fd);
	}
	f->link_fd = -1;
	f->link_id = 0;
	f->ifindex = 0;
	path_of(x, p, sizeof(p), "links", f->name);
	unlink(p);
}

static __u32 mode_flag(const struct xdp_ctl *x)
{
	return x->xcfg->mode == CONFIG_XDP_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
}

/* The link runs prog_id on ifindex in the configured mode. */
static int link_in_mode(const struct xdp_ctl *x, int ifindex, uint32_t prog_id)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0;
	return x->xcfg->mode == CONFIG_XDP_NATIVE ? q.drv_prog_id == prog_id :
						    q.skb_prog_id == prog_id;
}

static void iface_reconcile_once(struct xdp_ctl *x, struct xdp_iface *f);

/* Bring one interface to "attached in the configured mode", or say why not. */
static void iface_reconcile(struct xdp_ctl *x, struct xdp_iface *f)
{
	int before = f->state == IF_ATTACHED ? f->ifindex : 0;

	iface_reconcile_once(x, f);
	if ((f->state == IF_ATTACHED ? f->ifindex : 0) != before)
		x->if_gen++;
}

static void iface_reconcile_once(struct xdp_ctl *x, struct xdp_iface *f)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = mode_flag(x));
	struct bpf_link_info li;
	__u32 len = sizeof(li);
	char p[PIN_MAX + 32];
	int ifindex = (int)if_nametoindex(f->name), fd;

	f->dirty = 0;
	path_of(x, p, sizeof(p), "links", f->name);
	if (f->link_fd < 0) {
		f->link_fd = bpf_obj_get(p);
		f->reused = f->link_fd >= 0;
	}
	if (f->link_fd >= 0) {
		memset(&li, 0, sizeof(li));
		if (ifindex && !bpf_obj_get_info_by_fd(f->link_fd, &li, &len) &&
		    li.type == BPF_LINK_TYPE_XDP && (int)li.xdp.ifindex == ifindex &&
		    link_in_mode(x, ifindex, li.prog_id)) {
			/* Still in place: at most swap the program, atomically. */
			if (li.prog_id != x->prog_id && bpf_link_update(f->link_fd, x->prog_fd, NULL)) {
				log_warn("xdp: %s: cannot update the pinned link: %s", f->name,
					 strerror(errno));
			} else {
				if (f->state != IF_ATTACHED || f->ifindex != ifindex)
					log_info("xdp: %s: %s link %u kept (ifindex %d, program %u)",
						 f->name, f->reused ? "pinned" : "own", li.id, ifindex,
						 x->prog_id);
				f->ifindex = ifindex;
				f->link_id = li.id;
				f->state = IF_ATTACHED;
				f->reason[0] = '\0';
				return;
			}
		}
		/* Gone with its interface, moved, in the other mode, or unusable. */
		iface_drop_link(x, f, 1);
		f->reused = 0;
	}
	if (!ifindex) {
		iface_fail(f, "no such interface (waiting for it to appear)");
		return;
	}
	fd = bpf_link_create(x->prog_fd, ifindex, BPF_XDP, &lo);
	if (fd < 0) {
		int e = errno;
		__u32 other = 0;

		if (e == EBUSY || e == EEXIST) {
			bpf_xdp_query_id(ifindex, 0, &other);
			iface_fail(f, "another XDP program (id %u) is attached", other);
		} else if (e == EOPNOTSUPP && x->xcfg->mode == CONFIG_XDP_NATIVE) {
			iface_fail(f, "the driver has no native XDP (try mode = \"generic\")");
		} else {
			iface_fail(f, "attach in %s mode failed: %s",
				   x->xcfg->mode == CONFIG_XDP_NATIVE ? "native" : "generic",
				   strerror(e));
		}
		return;
	}
	if (bpf_obj_pin(fd, p))
		log_warn("xdp: %s: cannot pin the link at %s (%s): a restart will detach it",
			 f->name, p, strerror(errno));
	memset(&li, 0, sizeof(li));
	len = sizeof(li);
	bpf_obj_get_info_by_fd(fd, &li, &len);
	f->link_fd = fd;
	f->link_id = li.id;
	f->ifindex = ifindex;
	f->state = IF_ATTACHED;
	f->reason[0] = '\0';
	f->attaches++;
	if (f->attaches > 1)
		x->reattaches++;
	log_info("xdp: %s: attached in %s mode (ifindex %d, program %u, link %u)", f->name,
		 x->xcfg->mode == CONFIG_XDP_NATIVE ? "native" : "generic", ifindex, x->prog_id,
		 li.id);
}

/* Links pinned by an earlier run for interfaces no longer configured. */
static void drop_stale_links(struct xdp_ctl *x)
{
	char p[PIN_MAX + 32];
	struct dirent *de;
	DIR *dir;
	size_t i;
	int n = 0;

	path_of(x, p, sizeof(p), "links", NULL);
	dir = opendir(p);
	while (dir && (de = readdir(dir)) && n++ < 4096) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		for (i = 0; i < x->n_ifs && strcmp(x->ifs[i].name, de->d_name); i++)
			;
		if (i < x->n_ifs)
			continue;
		path_of(x, p, sizeof(p), "links", de->d_name);
		fd = bpf_obj_get(p);
		if (fd >= 0) {
			bpf_link_detach(fd);
			close(fd);
		}
		unlink(p);
		log_info("xdp: %s is no longer configured: detached", de->d_name);
	}
	if (dir)
		closedir(dir);
}

/* ---- netlink: link changes ---- */

static void arm_netlink(struct xdp_ctl *x)
{
	loop_poll(x->loop, &x->nl_op, x->nl_fd, POLLIN);
}

static void nl_link_obj(struct nl_object *obj, void *arg)
{
	struct xdp_ctl *x = arg;
	struct rtnl_link *link = (struct rtnl_link *)obj;
	const char *name = rtnl_link_get_name(link);
	int ifindex = rtnl_link_get_ifindex(link);
	size_t i;

	x->link_events++;
	for (i = 0; i < x->n_ifs; i++) {
		struct xdp_iface *f = &x->ifs[i];

		if ((name && !strcmp(name, f->name)) || (f->ifindex && f->ifindex == ifindex)) {
			log_debug("xdp: link event %s for %s (ifindex %d, flags %#x)",
				  nl_object_get_msgtype(obj) == RTM_DELLINK ? "del" : "new",
				  f->name, ifindex, rtnl_link_get_flags(link));
			f->dirty = 1;
		}
	}
}

static int nl_valid(struct nl_msg *msg, void *arg)
{
	nl_msg_parse(msg, nl_link_obj, arg);
	return NL_OK;
}

static void netlink_ready(struct loop_op *op, int res, unsigned int flags)
{
	struct xdp_ctl *x = (struct xdp_ctl *)((char *)op - offsetof(struct xdp_ctl, nl_op));
	int i, r = 0, resync = 0;
	struct nl_cb *cb;
	size_t k;

	(void)flags;
	if (res < 0) {
		/* Re-arming a poll that fails would spin; link events stop here. */
		if (res != -ECANCELED)
			log_error("xdp: netlink poll: %s; link changes are no longer followed",
				  strerror(-res));
		return;
	}
	cb = nl_socket_get_cb(x->nl);	/* a new reference */
	for (i = 0; cb && i < NL_MAX_BATCH; i++) {
		r = nl_recvmsgs_report(x->nl, cb);
		if (r <= 0)
			break;
	}
	nl_cb_put(cb);
	/* Lost events (socket overrun) or an error: look at every interface. */
	if (r < 0 && r != -NLE_AGAIN) {
		log_debug("xdp: netlink: %s; rechecking all interfaces", nl_geterror(r));
		resync = 1;
	}
	for (k = 0; k < x->n_ifs; k++)
		if (resync || x->ifs[k].dirty)
			iface_reconcile(x, &x->ifs[k]);
	arm_netlink(x);
}

static int netlink_open(struct xdp_ctl *x)
{
	int err;

	x->nl = nl_socket_alloc();
	if (!x->nl)
		return -NLE_NOMEM;
	nl_socket_disable_seq_check(x->nl);
	nl_socket_modify_cb(x->nl, NL_CB_VALID, NL_CB_CUSTOM, nl_valid, x);
	err = nl_connect(x->nl, NETLINK_ROUTE);
	if (!err)
		err = nl_socket_add_membership(x->nl, RTNLGRP_LINK);
	if (!err)
		err = nl_socket_set_nonblocking(x->nl);
	if (err)
		return err;
	x->nl_fd = nl_socket_get_fd(x->nl);
	x->nl_op.cb = netlink_ready;
	arm_netlink(x);
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
			unpin_all(pin);
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

	err = load(x, cfg);
	if (err == -2)	/* the NTS variant did not load: the plain one */
		err = load(x, cfg);
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
	configure(x, cfg);
	publish(x);
	x->hb_op.cb = heartbeat_done;
	loop_timeout_ms(l, &x->hb_op, x->hb_interval_ms);
	drop_stale_links(x);
	for (i = 0; i < x->n_ifs; i++)
		iface_reconcile(x, &x->ifs[i]);
	err = netlink_open(x);
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
			iface_drop_link(x, f, 1);
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
		unpin_all(x->pin);
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
	fd = bpf_map__fd(bpf_object__find_map_by_name(x->obj, "xnts_counters"));
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

/*
 * Master keys for the NTS variant, in an order that never NAKs a valid
 * request: every key of the set in, then the current one named, then keys
 * that left the set out. On failure the current key is marked invalid, so
 * the program passes NTS to userspace instead of answering wrongly.
 */
int xdp_ctl_sync_keys(struct xdp_ctl *x, const struct keyset *ks)
{
	struct keyset_export ex[KEYSET_MAX_KEYS];
	struct xnts_nts_current cur = { 0 };
	uint32_t k, next, zero = 0;
	unsigned int n, i, guard;
	int keys_fd, cur_fd, more;

	if (!x || !x->nts || x->error[0] || !ks)
		return 0;
	if (x->keys_gen == keyset_generation(ks) + 1)
		return 0;
	keys_fd = bpf_map__fd(bpf_object__find_map_by_name(x->obj, "xnts_nts_keys"));
	cur_fd = bpf_map__fd(bpf_object__find_map_by_name(x->obj, "xnts_nts_current"));
	n = keyset_export(ks, ex, KEYSET_MAX_KEYS);
	if (keys_fd < 0 || cur_fd < 0 || !n) {
		fmt(x->keys_error, sizeof(x->keys_error), "no key map or no keys");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		struct xnts_siv_key v = { .aead = XNTS_SIV_AEAD_CMAC_256 };

		memcpy(v.key, ex[i].key, sizeof(ex[i].key));
		k = htonl(ex[i].id);
		if (bpf_map_update_elem(keys_fd, &k, &v, BPF_ANY)) {
			fmt(x->keys_error, sizeof(x->keys_error), "key map update: %s",
			    strerror(errno));
			goto fail;
		}
	}
	cur.key_id = htonl(ex[0].id);
	cur.valid = 1;
	if (bpf_map_update_elem(cur_fd, &zero, &cur, BPF_ANY)) {
		fmt(x->keys_error, sizeof(x->keys_error), "current key: %s", strerror(errno));
		goto fail;
	}
	more = !bpf_map_get_next_key(keys_fd, NULL, &k);
	for (guard = 0; more && guard < XNTS_NTS_KEYS_MAX * 2; guard++) {
		int keep = 0;

		more = !bpf_map_get_next_key(keys_fd, &k, &next);
		for (i = 0; i < n; i++)
			keep |= htonl(ex[i].id) == k;
		if (!keep)
			bpf_map_delete_elem(keys_fd, &k);
		k = next;
	}
	OPENSSL_cleanse(ex, sizeof(ex));
	x->keys_gen = keyset_generation(ks) + 1;
	x->keys_error[0] = '\0';
	return 0;
fail:
	OPENSSL_cleanse(ex, sizeof(ex));
	if (cur_fd >= 0)
		bpf_map_update_elem(cur_fd, &zero, &(struct xnts_nts_current){ 0 }, BPF_ANY);
	log_error("xdp: NTS keys: %s; NTS requests go to userspace", x->keys_error);
	x->keys_gen = 0;
	return -1;
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

int xdp_ctl_xsk_map_fd(const struct xdp_ctl *x)
{
	struct bpf_map *m;

	if (!x || !x->obj || x->error[0])
		return -1;
	m = bpf_object__find_map_by_name(x->obj, "xnts_xsk");
	return m ? bpf_map__fd(m) : -1;
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
