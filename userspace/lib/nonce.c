// SPDX-License-Identifier: GPL-2.0
/* Per-thread blocks of RAND_bytes for nonces: see nonce.h. */
#include <pthread.h>
#include <string.h>

#include <openssl/rand.h>

#include "nonce.h"

struct pool {
	uint8_t buf[NONCE_POOL];
	size_t used;		/* bytes handed out from the front */
	unsigned int gen;	/* fork generation the block was drawn in */
};

static __thread struct pool pool = { .used = NONCE_POOL };
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static volatile unsigned int fork_gen;

/* Runs in the child only: the parent's block must not be reused there. */
static void after_fork_child(void)
{
	fork_gen++;
}

static void fork_init(void)
{
	pthread_atfork(NULL, NULL, after_fork_child);
}

int nonce_fill(uint8_t *buf, size_t len)
{
	struct pool *p = &pool;

	if (len > NONCE_POOL || pthread_once(&fork_once, fork_init))
		goto fail;
	if (p->gen != fork_gen || NONCE_POOL - p->used < len) {
		if (RAND_bytes(p->buf, NONCE_POOL) != 1) {
			OPENSSL_cleanse(p->buf, sizeof(p->buf));
			p->used = NONCE_POOL;
			goto fail;
		}
		p->used = 0;
		p->gen = fork_gen;
	}
	memcpy(buf, p->buf + p->used, len);
	OPENSSL_cleanse(p->buf + p->used, len);
	p->used += len;
	return 0;
fail:
	memset(buf, 0, len <= NONCE_POOL ? len : 0);
	return -1;
}
