/* SPDX-License-Identifier: GPL-2.0 */
/*
 * resolve: name lookups off the event loop. getaddrinfo() blocks, so each
 * lookup runs on a short-lived thread; the loop learns of the result through
 * an eventfd read. IP literals complete without a thread.
 */
#ifndef XNTS_RESOLVE_H
#define XNTS_RESOLVE_H

#include <netdb.h>
#include <sys/socket.h>

#include "loop.h"

#define RESOLVE_MAX 8

struct resolve_req {
	struct loop_op op;
	void (*done)(struct resolve_req *r);
	int efd;
	int error;			/* 0, or an EAI_* code */
	int count;
	struct sockaddr_storage addr[RESOLVE_MAX];
	socklen_t addr_len[RESOLVE_MAX];
	char host[256];
	char port[8];
	int socktype;
	unsigned long long ev;
};

/* Start a lookup; r->done runs on the loop thread. 0 or -errno. */
int resolve_start(struct loop *l, struct resolve_req *r, const char *host,
		  unsigned int port, int socktype);

#endif
