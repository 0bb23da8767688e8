/* SPDX-License-Identifier: GPL-2.0 */
/*
 * loop: one io_uring event loop per thread.
 *
 * Every asynchronous operation is a struct loop_op embedded in its owner;
 * the CQE's user_data points at it and its callback runs with the result.
 * The owner must keep the op alive until its callback ran (a cancelled op
 * still completes, with -ECANCELED). Operations with user_data 0 (cancels,
 * timeout removals) complete silently.
 * Nothing here blocks except loop_run() waiting for completions.
 * Every ring is created restricted to the opcodes listed in loop.c.
 */
#ifndef XNTS_LOOP_H
#define XNTS_LOOP_H

#include <stdint.h>
#include <liburing.h>

struct loop_op;
typedef void (*loop_cb)(struct loop_op *op, int res, unsigned int cqe_flags);

struct loop_op {
	loop_cb cb;
	struct __kernel_timespec ts;	/* storage for timeouts */
};

struct loop {
	struct io_uring ring;
	int stop;
};

int loop_init(struct loop *l, unsigned int entries);
void loop_exit(struct loop *l);
/* Run until loop_stop(); returns 0, or a negative errno from io_uring. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

/* An SQE whose completion goes to op (NULL: ignored). Never NULL. */
struct io_uring_sqe *loop_sqe(struct loop *l, struct loop_op *op);

/* Submit queued SQEs now rather than at the next wait (timestamps). */
void loop_submit(struct loop *l);
void loop_poll(struct loop *l, struct loop_op *op, int fd, unsigned int mask);
void loop_read(struct loop *l, struct loop_op *op, int fd, void *buf,
	       unsigned int len);
void loop_timeout_ms(struct loop *l, struct loop_op *op, uint64_t ms);
/* Cancel every pending op whose user_data is op; completions still arrive. */
void loop_cancel(struct loop *l, struct loop_op *op);
void loop_timeout_cancel(struct loop *l, struct loop_op *op);

uint64_t loop_now_ms(void);

#endif
