/* SPDX-License-Identifier: GPL-2.0 */
/*
 * resolve: name lookups off the event loop. getaddrinfo() blocks, so each
 * lookup runs on a short-lived thread; the loop learns of the result through
 * an eventfd read.
 *
 * The thread and the loop share a heap job, never the caller's request: the
 * last of the two to finish frees it. So resolve_cancel() ends the request
 * at once (done() will not run for it) however long the lookup still blocks,
 * and the request's owner may then free it. Jobs still in flight at exit
 * stay on a list, so they are neither leaked nor freed under the ring.
 */
#ifndef XNTS_RESOLVE_H
#define XNTS_RESOLVE_H

#include <netdb.h>
#include <sys/socket.h>

#include "loop.h"

#define RESOLVE_MAX 8

struct resolve_job;

struct resolve_req {
	void (*done)(struct resolve_req *r);
	struct resolve_job *job;	/* non-NULL while a lookup is pending */
	int error;			/* 0, or an EAI_* code */
	int count;
	struct sockaddr_storage addr[RESOLVE_MAX];
	socklen_t addr_len[RESOLVE_MAX];
	char host[256];
};

/* Start a lookup; r->done runs on the loop thread. 0 or -errno. */
int resolve_start(struct loop *l, struct resolve_req *r, const char *host,
		  unsigned int port, int socktype);
/* Forget a pending lookup (no-op when none): done() will not run for it. */
void resolve_cancel(struct resolve_req *r);

#endif
