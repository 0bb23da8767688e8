// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_link: the program's links. One bpf_link per configured interface,
 * pinned, kept across restarts when it still runs in the configured mode,
 * re-created when its interface comes back (RTNLGRP_LINK through libnl,
 * polled on the loop). Address events (RTNLGRP_IPV4/6_IFADDR) on the same
 * socket resync the local address map (xdp_local.c). xdp_ctl.h has the contract.
 */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "log.h"
#include "xdp_ctl_int.h"

#define NL_MAX_BATCH 256

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

void xdp_iface_drop_link(struct xdp_ctl *x, struct xdp_iface *f, int detach)
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

/* Bring one interface to "attached in the configured mode", or say why not. */
static void iface_reconcile_once(struct xdp_ctl *x, struct xdp_iface *f);

void xdp_iface_reconcile(struct xdp_ctl *x, struct xdp_iface *f)
{
	int before = f->state == IF_ATTACHED ? f->ifindex : 0;

	iface_reconcile_once(x, f);
	/* AF_XDP sockets are bound to an ifindex: xsk_server rebinds on this. */
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
		xdp_iface_drop_link(x, f, 1);
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
void xdp_drop_stale_links(struct xdp_ctl *x)
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
	const char *name;
	int ifindex;
	size_t i;

	/* Any address change, and any link change, may change what is local. */
	x->local_dirty = 1;
	if (strcmp(nl_object_get_type(obj), "route/link"))
		return;
	name = rtnl_link_get_name(link);
	ifindex = rtnl_link_get_ifindex(link);
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
			xdp_iface_reconcile(x, &x->ifs[k]);
	if (resync || x->local_dirty)
		xdp_local_sync(x);
	arm_netlink(x);
}

int xdp_netlink_open(struct xdp_ctl *x)
{
	int err;

	x->nl = nl_socket_alloc();
	if (!x->nl)
		return -NLE_NOMEM;
	nl_socket_disable_seq_check(x->nl);
	nl_socket_modify_cb(x->nl, NL_CB_VALID, NL_CB_CUSTOM, nl_valid, x);
	err = nl_connect(x->nl, NETLINK_ROUTE);
	if (!err)
		err = nl_socket_add_memberships(x->nl, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
						RTNLGRP_IPV6_IFADDR, 0);
	if (!err)
		err = nl_socket_set_nonblocking(x->nl);
	if (err)
		return err;
	x->nl_fd = nl_socket_get_fd(x->nl);
	x->nl_op.cb = netlink_ready;
	arm_netlink(x);
	return 0;
}
