// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "loop.h"

int loop_init(struct loop *l, unsigned int entries)
{
	memset(l, 0, sizeof(*l));
	return io_uring_queue_init(entries, &l->ring, 0);
}

void loop_exit(struct loop *l)
{
	io_uring_queue_exit(&l->ring);
}

void loop_stop(struct loop *l)
{
	l->stop = 1;
}

struct io_uring_sqe *loop_sqe(struct loop *l, struct loop_op *op)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

	/* A full submission queue is flushed, never dropped. */
	while (!sqe) {
		io_uring_submit(&l->ring);
		sqe = io_uring_get_sqe(&l->ring);
	}
	io_uring_sqe_set_data(sqe, op);
	return sqe;
}

void loop_submit(struct loop *l)
{
	io_uring_submit(&l->ring);
}

void loop_poll(struct loop *l, struct loop_op *op, int fd, unsigned int mask)
{
	io_uring_prep_poll_add(loop_sqe(l, op), fd, mask);
}

void loop_read(struct loop *l, struct loop_op *op, int fd, void *buf,
	       unsigned int len)
{
	io_uring_prep_read(loop_sqe(l, op), fd, buf, len, (uint64_t)-1);
}

void loop_timeout_ms(struct loop *l, struct loop_op *op, uint64_t ms)
{
	op->ts.tv_sec = (long long)(ms / 1000);
	op->ts.tv_nsec = (long long)(ms % 1000) * 1000000;
	io_uring_prep_timeout(loop_sqe(l, op), &op->ts, 0, 0);
}

void loop_cancel(struct loop *l, struct loop_op *op)
{
	io_uring_prep_cancel(loop_sqe(l, NULL), op, IORING_ASYNC_CANCEL_ALL);
}

void loop_timeout_cancel(struct loop *l, struct loop_op *op)
{
	io_uring_prep_timeout_remove(loop_sqe(l, NULL), (uint64_t)(uintptr_t)op, 0);
}

uint64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int loop_run(struct loop *l)
{
	struct io_uring_cqe *cqe;
	int ret;

	while (!l->stop) {
		ret = io_uring_submit_and_wait(&l->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			log_error("io_uring wait: %s", strerror(-ret));
			return ret;
		}
		while (!l->stop && io_uring_peek_cqe(&l->ring, &cqe) == 0) {
			struct loop_op *op = io_uring_cqe_get_data(cqe);
			int res = cqe->res;
			unsigned int flags = cqe->flags;

			/*
			 * Consume before the callback: it may queue new work or
			 * free the op's owner.
			 */
			io_uring_cqe_seen(&l->ring, cqe);
			if (op)
				op->cb(op, res, flags);
		}
	}
	return 0;
}
