// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "resolve.h"

struct resolve_job {
	struct loop_op op;		/* first: the completion finds the job */
	struct resolve_job *next, *prev;
	atomic_int refs;		/* the thread and the loop's eventfd read */
	struct resolve_req *owner;	/* NULL once cancelled; loop thread only */
	int efd;
	uint64_t ev;
	int error;
	int count;
	struct sockaddr_storage addr[RESOLVE_MAX];
	socklen_t addr_len[RESOLVE_MAX];
	char host[256];
	char port[8];
	int socktype;
};

static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct resolve_job *jobs;

static void put(struct resolve_job *j)
{
	if (atomic_fetch_sub(&j->refs, 1) != 1)
		return;
	pthread_mutex_lock(&jobs_lock);
	if (j->prev)
		j->prev->next = j->next;
	else
		jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
	pthread_mutex_unlock(&jobs_lock);
	close(j->efd);
	free(j);
}

static void fill(struct resolve_job *j)
{
	struct addrinfo hints = { 0 }, *res, *ai;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = j->socktype;
	j->count = 0;
	j->error = getaddrinfo(j->host, j->port, &hints, &res);
	if (j->error)
		return;
	for (ai = res; ai && j->count < RESOLVE_MAX; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(j->addr[0]))
			continue;
		memcpy(&j->addr[j->count], ai->ai_addr, ai->ai_addrlen);
		j->addr_len[j->count++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (!j->count)
		j->error = EAI_NONAME;
}

static void *thread_main(void *arg)
{
	struct resolve_job *j = arg;
	uint64_t one = 1;

	fill(j);
	if (write(j->efd, &one, sizeof(one)) != sizeof(one))
		j->error = EAI_SYSTEM;
	put(j);
	return NULL;
}

static void efd_done(struct loop_op *op, int res, unsigned int flags)
{
	struct resolve_job *j = (struct resolve_job *)op;
	struct resolve_req *r = j->owner;

	(void)res;
	(void)flags;
	if (r) {
		r->job = NULL;
		r->error = j->error;
		r->count = j->count;
		memcpy(r->addr, j->addr, sizeof(r->addr));
		memcpy(r->addr_len, j->addr_len, sizeof(r->addr_len));
	}
	put(j);
	if (r)
		r->done(r);
}

void resolve_cancel(struct resolve_req *r)
{
	if (!r->job)
		return;
	r->job->owner = NULL;
	r->job = NULL;
}

int resolve_start(struct loop *l, struct resolve_req *r, const char *host,
		  unsigned int port, int socktype)
{
	pthread_attr_t attr;
	struct resolve_job *j;
	pthread_t t;
	int ret;

	if (r->job)
		return -EBUSY;
	if (strlen(host) >= sizeof(r->host))
		return -ENAMETOOLONG;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	snprintf(r->host, sizeof(r->host), "%s", host);
	snprintf(j->host, sizeof(j->host), "%s", host);
	snprintf(j->port, sizeof(j->port), "%u", port);
	j->socktype = socktype;
	j->op.cb = efd_done;
	j->owner = r;
	j->efd = eventfd(0, EFD_CLOEXEC);
	if (j->efd < 0) {
		ret = -errno;
		free(j);
		return ret;
	}
	atomic_init(&j->refs, 2);
	pthread_mutex_lock(&jobs_lock);
	j->next = jobs;
	if (jobs)
		jobs->prev = j;
	jobs = j;
	pthread_mutex_unlock(&jobs_lock);
	r->job = j;
	loop_read(l, &j->op, j->efd, &j->ev, sizeof(j->ev));
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&t, &attr, thread_main, j);
	pthread_attr_destroy(&attr);
	if (ret) {
		/* Complete on the loop anyway, with an error. */
		uint64_t one = 1;

		j->error = EAI_SYSTEM;
		if (write(j->efd, &one, sizeof(one)) != sizeof(one))
			j->error = EAI_SYSTEM;
		put(j);
	}
	return 0;
}
