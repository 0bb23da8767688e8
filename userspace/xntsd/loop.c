// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

/*
 * The operations any ring of the daemon may carry. A ring runs its
 * operations in the kernel, out of seccomp's sight: without this list an
 * attacker with the ring could open files (IORING_OP_OPENAT) or splice
 * where the seccomp filter forbids it. A new opcode in the daemon goes
 * here too, or its SQE completes with -EACCES.
 */
static const uint8_t ops[] = {
	IORING_OP_NOP, IORING_OP_READ, IORING_OP_WRITE, IORING_OP_READV,
	IORING_OP_WRITEV, IORING_OP_POLL_ADD, IORING_OP_POLL_REMOVE,
	IORING_OP_TIMEOUT, IORING_OP_TIMEOUT_REMOVE, IORING_OP_LINK_TIMEOUT,
	IORING_OP_ASYNC_CANCEL, IORING_OP_ACCEPT, IORING_OP_CONNECT,
	IORING_OP_SEND, IORING_OP_RECV, IORING_OP_SENDMSG, IORING_OP_RECVMSG,
	IORING_OP_SHUTDOWN, IORING_OP_CLOSE,
};
/* What may be registered once the ring runs: provided-buffer rings. */
static const uint8_t reg_ops[] = {
	IORING_REGISTER_PBUF_RING, IORING_UNREGISTER_PBUF_RING,
};

static int restrict_ring(struct io_uring *ring)
{
	struct io_uring_restriction r[sizeof(ops) + sizeof(reg_ops) + 1];
	unsigned int n = 0, i;
	int ret;

	memset(r, 0, sizeof(r));
	for (i = 0; i < sizeof(ops); i++) {
		r[n].opcode = IORING_RESTRICTION_SQE_OP;
		r[n++].sqe_op = ops[i];
	}
	for (i = 0; i < sizeof(reg_ops); i++) {
		r[n].opcode = IORING_RESTRICTION_REGISTER_OP;
		r[n++].register_op = reg_ops[i];
	}
	r[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	r[n++].sqe_flags = IOSQE_IO_LINK | IOSQE_IO_HARDLINK | IOSQE_ASYNC |
			   IOSQE_BUFFER_SELECT | IOSQE_CQE_SKIP_SUCCESS;
	/* Raw calls: Debian's liburing 2.3 declares the wrappers, exports none. */
	ret = (int)syscall(__NR_io_uring_register, ring->ring_fd,
			   IORING_REGISTER_RESTRICTIONS, r, n);
	if (!ret)
		ret = (int)syscall(__NR_io_uring_register, ring->ring_fd,
				   IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	return ret < 0 ? -errno : 0;
}

int loop_init(struct loop *l, unsigned int entries)
{
	struct io_uring_params p;
	int ret;

	memset(l, 0, sizeof(*l));
	memset(&p, 0, sizeof(p));
	/* Restrictions can only be set on a ring created disabled. */
	p.flags = IORING_SETUP_R_DISABLED;
	ret = io_uring_queue_init_params(entries, &l->ring, &p);
	if (ret)
		return ret;
	ret = restrict_ring(&l->ring);
	if (ret) {
		log_error("io_uring: cannot restrict the ring's operations: %s", strerror(-ret));
		io_uring_queue_exit(&l->ring);
		memset(l, 0, sizeof(*l));
	}
	return ret;
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
