// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_local: which destinations the XDP program answers for (issue 13: a
 * router or hypervisor with XDP on its uplink must not answer in the name
 * of the hosts behind it).
 *
 * Contract:
 * - xnts_local holds one (address, port) pair per address this host serves
 *   NTP on: a [[server]] listening on a specific address gives that address;
 *   a wildcard listener (0.0.0.0 or ::) gives every address, IPv4 and IPv6,
 *   of the [xdp] interfaces, as the program serves both families on a port.
 *   xdp_configure() sets XNTS_CFG_LOCAL_ONLY, so anything else is passed.
 * - xdp_local_sync() rebuilds the set from a netlink dump of the addresses
 *   and brings the map to it: new pairs in, then stale ones out. It runs at
 *   start and after every batch of address or link events (xdp_link.c). On
 *   failure the map keeps what it had and the status says why.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>

#include "log.h"
#include "xdp_ctl_int.h"

struct local_set {
	struct xnts_local_key k[XNTS_LOCAL_ENTRIES];
	size_t n;
	int full;
};

static void set_add(struct local_set *s, int family, const void *addr, uint16_t port)
{
	struct xnts_local_key k;
	size_t i;

	if (family != AF_INET && family != AF_INET6)
		return;
	memset(&k, 0, sizeof(k));
	xnts_addr16(k.addr, addr, family == AF_INET6);
	k.port = htons(port);
	for (i = 0; i < s->n; i++)
		if (!memcmp(&s->k[i], &k, sizeof(k)))
			return;
	if (s->n == XNTS_LOCAL_ENTRIES) {
		s->full = 1;
		return;
	}
	s->k[s->n++] = k;
}

static int set_has(const struct local_set *s, const struct xnts_local_key *k)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!memcmp(&s->k[i], k, sizeof(*k)))
			return 1;
	return 0;
}

static int wildcard(const struct config_addr *a)
{
	static const uint8_t zero[16];

	return !memcmp(a->addr, zero, a->family == AF_INET ? 4 : 16);
}

static int on_xdp_iface(const struct xdp_ctl *x, int ifindex)
{
	size_t i;

	for (i = 0; i < x->n_ifs; i++)
		if ((int)if_nametoindex(x->ifs[i].name) == ifindex)
			return 1;
	return 0;
}

/* Every address of the [xdp] interfaces, for each wildcard listener's port. */
static int add_iface_addrs(struct xdp_ctl *x, struct local_set *s)
{
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	struct nl_sock *sk;
	size_t i;
	int err;

	sk = nl_socket_alloc();
	if (!sk)
		return -NLE_NOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (!err)
		err = rtnl_addr_alloc_cache(sk, &cache);
	if (err) {
		nl_socket_free(sk);
		return err;
	}
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct nl_addr *local = rtnl_addr_get_local(a);

		if (!local || !on_xdp_iface(x, rtnl_addr_get_ifindex(a)))
			continue;
		for (i = 0; i < x->n_listens; i++)
			if (wildcard(&x->listens[i]))
				set_add(s, nl_addr_get_family(local),
					nl_addr_get_binary_addr(local), x->listens[i].port);
	}
	nl_cache_free(cache);
	nl_socket_free(sk);
	return 0;
}

void xdp_local_sync(struct xdp_ctl *x)
{
	struct xnts_local_key k, next, *gone;
	struct local_set *s;
	size_t i, n_gone = 0, guard;
	int fd, err, wild = 0, more;
	__u8 one = 1;

	if (!x || !x->maps.local || x->error[0])
		return;
	x->local_dirty = 0;
	fd = bpf_map__fd(x->maps.local);
	s = calloc(1, sizeof(*s));
	gone = calloc(XNTS_LOCAL_ENTRIES * 2, sizeof(*gone));
	if (!s || !gone) {
		fmt(x->local_error, sizeof(x->local_error), "out of memory");
		goto out;
	}
	for (i = 0; i < x->n_listens; i++) {
		if (wildcard(&x->listens[i]))
			wild = 1;
		else
			set_add(s, x->listens[i].family, x->listens[i].addr, x->listens[i].port);
	}
	if (wild) {
		err = add_iface_addrs(x, s);
		if (err) {
			fmt(x->local_error, sizeof(x->local_error), "address dump: %s",
			    nl_geterror(err));
			goto out;
		}
	}
	if (s->full)
		log_warn("xdp: more than %d local addresses; the rest go to userspace",
			 XNTS_LOCAL_ENTRIES);
	for (i = 0; i < s->n; i++) {
		if (bpf_map_update_elem(fd, &s->k[i], &one, BPF_ANY)) {
			fmt(x->local_error, sizeof(x->local_error), "xnts_local update: %s",
			    strerror(errno));
			goto out;
		}
	}
	/* Collect first, delete after: deleting while walking may skip keys. */
	more = !bpf_map_get_next_key(fd, NULL, &k);
	for (guard = 0; more && guard < XNTS_LOCAL_ENTRIES * 2; guard++) {
		more = !bpf_map_get_next_key(fd, &k, &next);
		if (!set_has(s, &k))
			gone[n_gone++] = k;
		k = next;
	}
	for (i = 0; i < n_gone; i++)
		bpf_map_delete_elem(fd, &gone[i]);
	x->local_syncs++;
	x->local_error[0] = '\0';
	log_debug("xdp: %zu local (address, port) pairs, %zu removed", s->n, n_gone);
out:
	if (x->local_error[0])
		log_error("xdp: local addresses: %s", x->local_error);
	free(gone);
	free(s);
}
