/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ntp_server: the userspace NTP/NTS server of one [[server]] listen address.
 *
 * One worker thread per CPU (or as asked), each with its own SO_REUSEPORT
 * UDP socket and io_uring: a multishot recvmsg over a provided-buffer ring
 * takes requests with their kernel receive timestamps (SO_TIMESTAMPING), the
 * access policy (ntp_policy.h) and the protocol core (ntp_serve.h) decide
 * the answer, and io_uring sends it from the address the request came to.
 * This serves whatever XDP passes up, or everything when XDP is off.
 * With hardware-timestamps (xnts extension) the NIC timestamps received
 * packets (SIOCSHWTSTAMP) and a raw hardware timestamp replaces the software
 * one once the phc source reading that NIC's PHC has a mapping
 * (phc_source.h); hw_timestamps counts them.
 * Counters are per worker and summed for status.
 */
#ifndef XNTS_NTP_SERVER_H
#define XNTS_NTP_SERVER_H

#include <pthread.h>
#include <stdint.h>

#include "config.h"
#include "ntp_serve.h"
#include "sbuf.h"
#include "timestate.h"
#include <sys/socket.h>

struct ntp_server;
struct keyset;

struct ntp_server_stats {
	uint64_t received;
	uint64_t outcome[NTP_SERVE_N_OUTCOMES];
	uint64_t truncated;
	uint64_t send_errors;
	uint64_t hw_timestamps;
};

/*
 * Workers read ks without a lock (keyset.h: snapshots); NULL: no NTS.
 * workers 0 means one per online CPU.
 */
struct ntp_server *ntp_server_new(const struct config_server *cfg, struct keyset *ks,
				  struct timestate *ts,
				  unsigned int workers, char *err, size_t errlen);
void ntp_server_free(struct ntp_server *s);
void ntp_server_stats(struct ntp_server *s, struct ntp_server_stats *out);
const char *ntp_server_name(const struct ntp_server *s);
unsigned int ntp_server_workers(const struct ntp_server *s);
/*
 * The decision for one request, shared by every userspace answer path (this
 * server's sockets and the AF_XDP workers): ntp_serve(), access policy
 * included, with ctx (one per thread, made by ntp_server_serve_ctx_init() with this
 * server's settings). Counts into *stats; returns the answer's length, 0 for
 * no answer.
 */
/* Requests dropped as bad input: logged at most once per 10 s per caller. */
struct ntp_drop_log {
	uint64_t last_ms;
	uint64_t unlogged;
};

size_t ntp_server_answer(struct ntp_server *srv, struct ntp_serve_ctx *ctx, const uint8_t *req,
			 size_t len, const struct sockaddr *from, uint64_t rx_ts, uint8_t *out,
			 size_t cap, struct ntp_server_stats *stats, struct ntp_drop_log *dl);
int ntp_server_serve_ctx_init(const struct ntp_server *s, struct ntp_serve_ctx *ctx);
struct netaddr;
const struct netaddr *ntp_server_addr(const struct ntp_server *s);
void ntp_server_status_json(struct ntp_server *s, struct sbuf *out);

#endif
