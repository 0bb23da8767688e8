// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "resolve.h"

static void fill(struct resolve_req *r)
{
	struct addrinfo hints = { 0 }, *res, *ai;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = r->socktype;
	r->count = 0;
	r->error = getaddrinfo(r->host, r->port, &hints, &res);
	if (r->error)
		return;
	for (ai = res; ai && r->count < RESOLVE_MAX; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(r->addr[0]))
			continue;
		memcpy(&r->addr[r->count], ai->ai_addr, ai->ai_addrlen);
		r->addr_len[r->count++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (!r->count)
		r->error = EAI_NONAME;
}

static void *thread_main(void *arg)
{
	struct resolve_req *r = arg;
	uint64_t one = 1;

	fill(r);
	if (write(r->efd, &one, sizeof(one)) != sizeof(one))
		r->error = EAI_SYSTEM;
	return NULL;
}

static void efd_done(struct loop_op *op, int res, unsigned int flags)
{
	struct resolve_req *r = (struct resolve_req *)op;

	(void)res;
	(void)flags;
	close(r->efd);
	r->efd = -1;
	r->done(r);
}

int resolve_start(struct loop *l, struct resolve_req *r, const char *host,
		  unsigned int port, int socktype)
{
	pthread_attr_t attr;
	pthread_t t;
	int ret;

	if (strlen(host) >= sizeof(r->host))
		return -ENAMETOOLONG;
	snprintf(r->host, sizeof(r->host), "%s", host);
	snprintf(r->port, sizeof(r->port), "%u", port);
	r->socktype = socktype;
	r->op.cb = efd_done;
	r->efd = eventfd(0, EFD_CLOEXEC);
	if (r->efd < 0)
		return -errno;
	loop_read(l, &r->op, r->efd, &r->ev, sizeof(r->ev));
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&t, &attr, thread_main, r);
	pthread_attr_destroy(&attr);
	if (ret) {
		/* Complete on the loop anyway, with an error. */
		uint64_t one = 1;

		r->error = EAI_SYSTEM;
		if (write(r->efd, &one, sizeof(one)) != sizeof(one))
			return -EIO;
	}
	return 0;
}
