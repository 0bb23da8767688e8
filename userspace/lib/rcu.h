/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rcu: epoch-based reclamation for objects that are read on hot paths and
 * replaced rarely (the keyset's snapshots). Readers take no lock and write
 * only a word of their own; a writer publishes a new object by pointer and
 * retires the old one, which is freed once no reader can still hold it.
 *
 * Contract:
 * - rcu_read_lock()/rcu_read_unlock() bracket a read-side section: an
 *   object loaded (with an acquire load of its published pointer) inside
 *   one stays valid until the section ends. Sections nest, never block and
 *   never fail. The first section of a thread registers it once (a mutex
 *   taken once per thread lifetime, never again on the read path); a
 *   thread that exits is unregistered by a TLS destructor.
 * - A reader publishes the epoch it entered in; leaving sets it to 0.
 *   rcu_retire() is called after the new pointer is published: it stamps
 *   the old object with a new epoch E, and the object is freed when every
 *   registered reader is outside a section or entered at E or later.
 * - rcu_reclaim() frees what can be freed now and never waits: writers
 *   call it when they publish (rcu_retire does). rcu_barrier() waits until
 *   everything retired so far is freed: for teardown, never from inside a
 *   read-side section (it would wait for itself).
 * - One process-wide domain; writers may be on any thread (the retire list
 *   has its own mutex, off the read path).
 */
#ifndef XNTS_RCU_H
#define XNTS_RCU_H

#include <stdint.h>

struct rcu_head {
	struct rcu_head *next;
	uint64_t epoch;
	void (*free)(struct rcu_head *h);
};

void rcu_read_lock(void);
void rcu_read_unlock(void);

/* Hand h (already unpublished) over: free(h) runs once no reader holds it. */
void rcu_retire(struct rcu_head *h, void (*free)(struct rcu_head *h));
/* Free what no reader can hold any more; returns how many are still waiting. */
unsigned int rcu_reclaim(void);
/* Wait (sleeping 1 ms between tries) until nothing retired is left. */
void rcu_barrier(void);

#endif
