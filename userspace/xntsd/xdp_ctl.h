/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xdp_ctl: the daemon's side of the XDP fast path (the [xdp] table).
 *
 * Contract:
 * - xdp_ctl_new() loads bpf/xnts_nts.bpf.c (NTS answered in XDP) when the
 *   kernel module xnts_siv is loaded and the variant loads, else
 *   bpf/xnts.bpf.c; the status says which and why. It pins the maps,
 *   the program and one bpf_link per interface under the pin directory
 *   ([xdp] pin-path, default /sys/fs/bpf/xnts), fills the config map from the
 *   [[server]] tables and publishes the time state. It never fails the
 *   daemon: whatever goes wrong is logged and shown in the status, and the
 *   userspace path keeps serving. It returns NULL only when [xdp] mode is
 *   "off" (and then removes what an earlier run left pinned) or memory runs
 *   out; the status functions take NULL and show "off".
 * - Restart without interruption: pinned maps whose type and sizes match are
 *   reused (their contents survive: counters, rate limiter), a pinned program
 *   with the same instructions and the same maps is kept, otherwise the new
 *   program replaces it atomically through the pinned links. Links are never
 *   detached on start unless the interface or the mode changed.
 * - A heartbeat timer on the loop republishes the time state every quarter
 *   of heartbeat-timeout-ms, so the program sees a fresh heartbeat while the
 *   daemon lives, and goes stale (LI=3 or pass, [xdp] stale-action) after it
 *   died.
 * - Link changes (RTNLGRP_LINK through libnl, polled on the loop) re-attach an
 *   interface that came back with a new ifindex, or came up after a failure.
 * - xdp_ctl_free() detaches and unpins everything, unless keep-serving-on-exit
 *   is set: then it leaves the pins and the program keeps answering until the
 *   heartbeat goes stale. It must run before the loop is torn down.
 */
#ifndef XNTS_XDP_CTL_H
#define XNTS_XDP_CTL_H

#include <stdint.h>

#include "loop.h"
#include "timestate.h"

struct xdp_ctl;
struct xnts_config;
struct sbuf;

#define XDP_CTL_DEFAULT_PIN "/sys/fs/bpf/xnts"

/*
 * ts is what the daemon's own server announces (timestate.h); it is copied
 * into the BPF time map at start and on every heartbeat, so XDP and the
 * userspace server always claim the same.
 */
struct xdp_ctl *xdp_ctl_new(struct loop *l, const struct xnts_config *cfg,
			    struct timestate *ts);
void xdp_ctl_free(struct xdp_ctl *x);
/*
 * NTS variant only (else a no-op): copy the keyset's master keys into the
 * program's key map when keyset_generation() moved. Insert, then mark the
 * current key, then delete keys that left the set, so no valid request is
 * NAKed. Call after the keyset is loaded and after every rotation, from the
 * thread that changes the keyset. -1 (logged, in the status): NTS then goes
 * to userspace.
 */
struct keyset;
int xdp_ctl_sync_keys(struct xdp_ctl *x, const struct keyset *ks);
/* Status: plain text lines, or the value of the JSON key "xdp". */
void xdp_ctl_status_json(const struct xdp_ctl *x, struct sbuf *out);

/* AF_XDP (xsk_server.h): the XSKMAP's fd, -1 when nothing is loaded. */
int xdp_ctl_xsk_map_fd(const struct xdp_ctl *x);
/* 1 when the NTS variant (xnts_siv.ko's kfuncs) runs. */
int xdp_ctl_nts_variant(const struct xdp_ctl *x);
/*
 * The interfaces the program is attached to, at most max, into out (names
 * live as long as x), and in *gen a number that changes whenever that set
 * or an interface's ifindex changes: AF_XDP sockets are bound to one.
 */
struct xsk_server_ifc;
unsigned int xdp_ctl_attached(const struct xdp_ctl *x, struct xsk_server_ifc *out,
			      unsigned int max, uint64_t *gen);

#endif
