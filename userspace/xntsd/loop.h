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

#include <stddef.h>
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
	/* Set by loop_init_batched(): what the kernel granted. */
	int deferred;		/* SINGLE_ISSUER|DEFER_TASKRUN */
	unsigned int batch;	/* wait for up to this many completions ... */
	unsigned int min_wait_us;	/* ... for at most this long; 0: wait for 1 */
	/* Called after every batch of completions, before waiting (may be NULL). */
	void (*flush)(struct loop *l);
};

int loop_init(struct loop *l, unsigned int entries);
/*
 * A ring for one thread that waits for completions in batches: task work is
 * deferred to that thread's waits (SINGLE_ISSUER|DEFER_TASKRUN, 6.1+), and
 * where the kernel has a minimum wait (6.12+), a wait returns once `batch`
 * completions are there or min_wait_us after at least one was, and at the
 * first completion when the thread was idle longer than that. Older kernels
 * fall back, step by step, to an ordinary ring that wakes per completion.
 * The ring starts disabled: register buffers, then call loop_enable() from the
 * thread that will run it (the one issuer).
 */
int loop_init_batched(struct loop *l, unsigned int entries, unsigned int batch,
		      unsigned int min_wait_us);
int loop_enable(struct loop *l);
/* "deferred, min-wait 50us x32" and the like, for status and logs. */
const char *loop_mode(const struct loop *l, char *buf, size_t len);
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
