/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xsk_server: the AF_XDP answer path. Where the XDP program is attached but
 * cannot answer a request itself (NTS without the xnts_siv module, AEAD 30,
 * shapes it does not handle), it redirects the frame through its XSKMAP to
 * an AF_XDP socket of the receive queue; this module owns those sockets.
 *
 * Contract:
 * - One socket, UMEM and worker thread per (interface, RX queue). Zero-copy
 *   is tried first, copy mode otherwise (veth has only copy mode); the
 *   socket is inserted into the XSKMAP at its queue index, so the program
 *   redirects only to queues that have one and passes the rest.
 * - A worker takes frames in batches, parses them (udp_frame.h), finds the
 *   [[server]] whose listen address and port the frame was sent to and
 *   answers through ntp_server_answer() (policy + ntp_serve(), the socket
 *   path's own decision), writes the reply into the same frame and sends
 *   it on the same socket. Frames it cannot parse, or sent to no
 *   [[server]] of ours, are dropped and counted: the program redirects only
 *   what it validated, so they do not occur in practice.
 * - The receive time is the program's, carried in the frame's metadata
 *   (struct xnts_xsk_meta); without it, the time the worker took the batch.
 * - xsk_server_new() returns NULL and a reason when no socket could be set
 *   up; the daemon then keeps the program passing NTS to the socket path.
 * - xsk_server_free() removes the sockets from the map and stops the workers.
 */
#ifndef XNTS_XSK_SERVER_H
#define XNTS_XSK_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct ntp_server;
struct sbuf;
struct xsk_server;

struct xsk_server_ifc {
	const char *name;
	int ifindex;
};

struct xsk_server *xsk_server_new(const struct xsk_server_ifc *ifcs, unsigned int n_ifcs,
				  int xskmap_fd, struct ntp_server **servers,
				  unsigned int n_servers, uint64_t batch_wait_us, char *err,
				  size_t errlen);
void xsk_server_free(struct xsk_server *x);
/* The JSON object of the "af_xdp" status key. */
void xsk_server_status_json(const struct xsk_server *x, struct sbuf *out);

/*
 * The path as the daemon runs it ([xdp] userspace-path): built after the
 * XDP program is attached, when AF_XDP is wanted (auto: the plain variant
 * runs; af-xdp: always), and rebuilt when an interface's attachment
 * changes (a new ifindex needs new sockets). Without sockets the status
 * says why, and requests keep going to the UDP sockets. NULL without XDP.
 * Free before the XDP control, so the sockets leave the map first.
 */
struct loop;
struct config_xdp;
struct xdp_ctl;
struct xsk_path;
struct xsk_path *xsk_path_new(struct loop *l, const struct config_xdp *xc, struct xdp_ctl *xdp,
			      struct ntp_server **servers, unsigned int n_servers);
void xsk_path_free(struct xsk_path *p);
void xsk_path_status_json(const struct xsk_path *p, struct sbuf *out);

#endif
