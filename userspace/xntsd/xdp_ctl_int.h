/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xdp_ctl_int: what the parts of the daemon's XDP control share; not for
 * use outside userspace/xntsd/xdp_*.c. xdp_ctl.h has the contract.
 *   xdp_ctl.c   lifecycle (xdp_ctl_new/free) and the status
 *   xdp_load.c  loading: the variant, pins, adopting a pinned program
 *   xdp_link.c  links: attach, reconcile, netlink link events
 *   xdp_feed.c  feeding: the time state, the config map, key sync
 */
#ifndef XNTS_XDP_CTL_INT_H
#define XNTS_XDP_CTL_INT_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "config.h"
#include "loop.h"
#include "timestate.h"
#include "xnts.skel.h"
#include "xnts_nts.skel.h"
#include "xnts_shared.h"

#define PIN_MAX 256
#define NSEC_PER_SEC 1000000000ULL

/*
 * The loaded variant's maps, taken from its skeleton (both variants have the
 * same names; the NTS ones are NULL in the plain variant). The first
 * XDP_MAPS_PINNED are pinned under <pin>/maps and reused across restarts.
 */
struct xdp_maps {
	struct bpf_map *time, *config, *allow4, *deny4, *allow6, *deny6, *rate, *counters;
	struct bpf_map *local, *xsk;
	struct bpf_map *nts_keys, *nts_current;
};

#define XDP_MAPS_PINNED 10

#define XDP_MAPS_FROM_SKEL(m, s)				\
	do {							\
		(m)->time = (s)->maps.xnts_time;		\
		(m)->config = (s)->maps.xnts_config;		\
		(m)->allow4 = (s)->maps.xnts_allow4;		\
		(m)->deny4 = (s)->maps.xnts_deny4;		\
		(m)->allow6 = (s)->maps.xnts_allow6;		\
		(m)->deny6 = (s)->maps.xnts_deny6;		\
		(m)->rate = (s)->maps.xnts_rate;		\
		(m)->counters = (s)->maps.xnts_counters;	\
		(m)->local = (s)->maps.xnts_local;		\
		(m)->xsk = (s)->maps.xnts_xsk;			\
	} while (0)

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
	/*
	 * After xdp_ctl_hand_over(): the pin directory through an O_PATH
	 * descriptor (/proc/self/fd/N), which needs no search right on the
	 * directories above it (bpffs's root is 0700 root).
	 */
	int pin_fd;
	char pin_base[PIN_MAX];
	struct xnts *skel;		/* the plain variant, or */
	struct xnts_nts *skel_nts;	/* the NTS variant (xnts_siv.ko loaded) */
	struct bpf_object *obj;		/* whichever is loaded */
	struct bpf_program *prog;
	struct xdp_maps maps;		/* its maps, from the skeleton */
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
	/* The listen addresses XDP serves (xdp_configure); xdp_local.c maps them. */
	struct config_addr *listens;
	size_t n_listens;
	int local_dirty;		/* an address or link event: resync xnts_local */
	uint64_t local_syncs;
	char local_error[160];
};

/* snprintf that may cut the text short, for messages and bounded paths. */
static inline void fmt(char *buf, size_t len, const char *f, ...)
	__attribute__((format(printf, 3, 4)));

static inline void fmt(char *buf, size_t len, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, len, f, ap);
	va_end(ap);
}

static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static inline void path_of(const struct xdp_ctl *x, char *buf, size_t len, const char *sub,
			   const char *name)
{
	fmt(buf, len, "%s/%s%s%s", x->pin_fd >= 0 ? x->pin_base : x->pin, sub,
	    name ? "/" : "", name ? name : "");
}

/* xdp_load.c */
int xdp_load(struct xdp_ctl *x, const struct xnts_config *cfg);
/* pin names the pins (possibly through /proc/self/fd), real is the real path. */
void xdp_unpin_all(const char *pin, const char *real);

/* xdp_link.c */
void xdp_drop_stale_links(struct xdp_ctl *x);
void xdp_iface_reconcile(struct xdp_ctl *x, struct xdp_iface *f);
void xdp_iface_drop_link(struct xdp_ctl *x, struct xdp_iface *f, int detach);
int xdp_netlink_open(struct xdp_ctl *x);

/* xdp_local.c */
void xdp_local_sync(struct xdp_ctl *x);

/* xdp_feed.c */
void xdp_configure(struct xdp_ctl *x, const struct xnts_config *cfg);
void xdp_publish(struct xdp_ctl *x);
void xdp_heartbeat_done(struct loop_op *op, int res, unsigned int flags);

#endif
