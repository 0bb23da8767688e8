// SPDX-License-Identifier: GPL-2.0
/* Epoch-based reclamation for read-mostly objects: see rcu.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "rcu.h"

struct rcu_slot {
	/* 0: outside a section; else the global epoch seen on entry. */
	_Atomic uint64_t epoch;
	unsigned int depth;		/* this thread only */
	int registered;			/* this thread only */
	struct rcu_slot *next;		/* under reg_lock */
	struct rcu_slot **pprev;	/* under reg_lock */
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rcu_slot *slots;
static pthread_mutex_t retire_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rcu_head *retired;
/* Starts at 1 so that 0 can mean "not reading". */
static _Atomic uint64_t global_epoch = 1;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;
static _Thread_local struct rcu_slot self;

static void unregister(void *arg)
{
	struct rcu_slot *s = arg;

	pthread_mutex_lock(&reg_lock);
	*s->pprev = s->next;
	if (s->next)
		s->next->pprev = s->pprev;
	pthread_mutex_unlock(&reg_lock);
	atomic_store(&s->epoch, 0);
	s->registered = 0;
}

static void make_key(void)
{
	pthread_key_create(&exit_key, unregister);
}

static void register_self(void)
{
	pthread_once(&key_once, make_key);
	pthread_mutex_lock(&reg_lock);
	self.next = slots;
	self.pprev = &slots;
	if (slots)
		slots->pprev = &self.next;
	slots = &self;
	pthread_mutex_unlock(&reg_lock);
	/* The destructor runs only for a non-NULL value. */
	pthread_setspecific(exit_key, &self);
	self.registered = 1;
}

void rcu_read_lock(void)
{
	if (self.depth++)
		return;
	if (!self.registered)
		register_self();
	/*
	 * Sequentially consistent store, then (in the caller) a sequentially
	 * consistent load of the published pointer; the writer exchanges the
	 * pointer, then loads every slot the same way. So either the writer
	 * sees this epoch, or this reader sees the pointer published before
	 * the writer looked. (No standalone fence: TSan cannot model those.)
	 */
	atomic_store(&self.epoch, atomic_load(&global_epoch));
}

void rcu_read_unlock(void)
{
	if (self.depth == 0 || --self.depth)
		return;
	atomic_store_explicit(&self.epoch, 0, memory_order_release);
}

/* Lowest epoch a reader is in, or UINT64_MAX if none reads. */
static uint64_t min_epoch(void)
{
	uint64_t min = UINT64_MAX;

	pthread_mutex_lock(&reg_lock);
	for (struct rcu_slot *s = slots; s; s = s->next) {
		uint64_t e = atomic_load(&s->epoch);

		if (e && e < min)
			min = e;
	}
	pthread_mutex_unlock(&reg_lock);
	return min;
}

unsigned int rcu_reclaim(void)
{
	struct rcu_head *done = NULL, **pp, *h;
	unsigned int left = 0;
	uint64_t min;

	pthread_mutex_lock(&retire_lock);
	if (!retired) {
		pthread_mutex_unlock(&retire_lock);
		return 0;
	}
	min = min_epoch();
	for (pp = &retired; (h = *pp);) {
		if (h->epoch <= min) {
			*pp = h->next;
			h->next = done;
			done = h;
		} else {
			pp = &h->next;
			left++;
		}
	}
	pthread_mutex_unlock(&retire_lock);
	while ((h = done)) {
		done = h->next;
		h->free(h);
	}
	return left;
}

void rcu_retire(struct rcu_head *h, void (*free)(struct rcu_head *h))
{
	h->free = free;
	/* Readers entering from now on may only see the new pointer. */
	h->epoch = atomic_fetch_add(&global_epoch, 1) + 1;
	pthread_mutex_lock(&retire_lock);
	h->next = retired;
	retired = h;
	pthread_mutex_unlock(&retire_lock);
	rcu_reclaim();
}

void rcu_barrier(void)
{
	const struct timespec ms = { 0, 1000000 };

	while (rcu_reclaim())
		nanosleep(&ms, NULL);
}
