// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include <time.h>

#include "timestate.h"

void timestate_publish(struct timestate *t, const struct ntp_serve_state *st)
{
	unsigned int s = atomic_load_explicit(&t->seq, memory_order_relaxed);

	atomic_store_explicit(&t->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(&t->st, st, sizeof(*st));
	atomic_store_explicit(&t->seq, s + 2, memory_order_release);
}

void timestate_read(struct timestate *t, struct ntp_serve_state *out)
{
	unsigned int s1, s2;

	do {
		s1 = atomic_load_explicit(&t->seq, memory_order_acquire);
		memcpy(out, &t->st, sizeof(*out));
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&t->seq, memory_order_relaxed);
	} while ((s1 & 1) || s1 != s2);
}

/*
 * The precision a client should assume is what reading the clock costs, not
 * its nominal 1 ns resolution: measure the smallest step between reads.
 */
int8_t timestate_precision(void)
{
	struct timespec a, b;
	int64_t best = 1000000000, d;
	double r;
	int8_t p = 0;

	for (int i = 0; i < 100; i++) {
		clock_gettime(CLOCK_REALTIME, &a);
		do
			clock_gettime(CLOCK_REALTIME, &b);
		while (b.tv_sec == a.tv_sec && b.tv_nsec == a.tv_nsec);
		d = (int64_t)(b.tv_sec - a.tv_sec) * 1000000000 + (b.tv_nsec - a.tv_nsec);
		if (d > 0 && d < best)
			best = d;
	}
	for (r = (double)best / 1e9; r < 1.0 && p > -30; r *= 2)
		p--;
	return p;
}
