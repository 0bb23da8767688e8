/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ke_limit: who may open an NTS-KE connection now.
 *
 * Contract:
 * - Clients are counted by address, IPv6 by /64 (a host usually owns a whole
 *   /64; v4-mapped IPv6 counts as the IPv4 address).
 * - ke_limit_admit() refuses when max_total connections are open, when the
 *   client already holds per_client of them, or when the client's token
 *   bucket (rate per second, burst deep) is empty; otherwise it takes one
 *   token and one slot, and fills *t, which ke_limit_release() gives back
 *   exactly once when the connection ends. 0 turns any one limit off.
 * - The table of clients has a fixed size (at least twice max_total), so
 *   memory is bounded whatever the number of addresses. Its slots are
 *   found by a keyed hash with a bounded probe; a client with no open
 *   connection may be forgotten (its bucket refilled) to make room, one
 *   with open connections never is.
 * - Safe from several threads: one mutex, held only for the table update.
 * - No I/O; the caller passes the time.
 */
#ifndef XNTS_KE_LIMIT_H
#define XNTS_KE_LIMIT_H

#include <stdint.h>
#include <sys/socket.h>

struct ke_limit;

struct ke_limit_config {
	unsigned int max_total;
	unsigned int per_client;
	unsigned int rate;	/* connections per second */
	unsigned int burst;	/* bucket depth, at least 1 when rate is set */
};

enum ke_limit_verdict {
	KE_LIMIT_OK,
	KE_LIMIT_TOTAL,		/* max_total open */
	KE_LIMIT_CLIENT,	/* per_client open for this client */
	KE_LIMIT_RATE,		/* the client's bucket is empty */
	KE_LIMIT_TABLE,		/* no slot free for a new client */
};

struct ke_limit_ticket {
	uint32_t slot;		/* UINT32_MAX: nothing per client to release */
};

struct ke_limit *ke_limit_new(const struct ke_limit_config *cfg);
void ke_limit_free(struct ke_limit *l);
enum ke_limit_verdict ke_limit_admit(struct ke_limit *l, const struct sockaddr *sa,
				     uint64_t now_ms, struct ke_limit_ticket *t);
void ke_limit_release(struct ke_limit *l, const struct ke_limit_ticket *t);
unsigned int ke_limit_active(struct ke_limit *l);
/* Clients currently holding at least one connection. */
unsigned int ke_limit_clients(struct ke_limit *l);

#endif
