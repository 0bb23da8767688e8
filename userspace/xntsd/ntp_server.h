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

struct ntp_server;
struct keyset;

struct ntp_server_stats {
	uint64_t received;
	uint64_t outcome[NTP_SERVE_N_OUTCOMES];
	uint64_t rate_limited;
	uint64_t denied;
	uint64_t ignored;
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
void ntp_server_status_json(struct ntp_server *s, struct sbuf *out);
void ntp_server_status_plain(struct ntp_server *s, struct sbuf *out);

#endif
