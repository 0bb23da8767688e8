// SPDX-License-Identifier: GPL-2.0
/*
 * keyset_bench: what a worker pays to reach the master keys per NTS
 * request, the lock-free snapshot (keyset_read_lock + keyset_find +
 * keyset_current + unlock) beside the read-write lock it replaced (rdlock +
 * the same lookups + unlock), with 1..N reader threads, alone and while a
 * thread rotates the set every 10 ms and saves the storage file in DIR (the
 * old daemon held the write lock across the save and its two fsyncs; the
 * snapshot saves after publishing, holding nothing). Prints ns per lookup
 * and the longest block of 64 lookups (a reader stalled behind a rotation
 * shows there, as does any preemption on a busy machine).
 *
 *   keyset_bench [-t threads] [-n rounds per thread] [-d DIR]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keyset.h"

struct run {
	struct keyset *ks;
	pthread_rwlock_t lock;
	int use_rwlock;
	long rounds;
	const char *dir;
	_Atomic int stop;
	_Atomic long go;
};

struct reader {
	pthread_t tid;
	struct run *r;
	double ns;
	long max_ns;
	unsigned long hits;
};

static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	struct run *r = rd->r;
	long t0, t, prev;

	while (!atomic_load(&r->go))
		;
	t0 = prev = now_ns();
	for (long i = 0; i < r->rounds; i++) {
		const struct keyset_key *cur, *k;

		if (r->use_rwlock)
			pthread_rwlock_rdlock(&r->lock);
		else
			keyset_read_lock();
		cur = keyset_current(r->ks);
		k = keyset_find(r->ks, cur->id);
		rd->hits += k == cur;
		if (r->use_rwlock)
			pthread_rwlock_unlock(&r->lock);
		else
			keyset_read_unlock();
		if ((i & 63) == 63) {
			/* Max over blocks of 64 rounds: reading the clock each
			 * round would cost more than what is measured. */
			t = now_ns();
			if (t - prev > rd->max_ns)
				rd->max_ns = t - prev;
			prev = t;
		}
	}
	rd->ns = (double)(now_ns() - t0) / (double)r->rounds;
	return NULL;
}

static void *rotator_main(void *arg)
{
	struct run *r = arg;
	const struct timespec ms = { 0, 10000000 };
	int64_t t = 1700000000;

	while (!atomic_load(&r->stop)) {
		if (r->use_rwlock) {
			pthread_rwlock_wrlock(&r->lock);
			keyset_rotate(r->ks, ++t);
			pthread_rwlock_unlock(&r->lock);
		} else {
			keyset_rotate(r->ks, ++t);
		}
		nanosleep(&ms, NULL);
	}
	return NULL;
}

static void one(int threads, long rounds, int use_rwlock, int rotate, const char *dir)
{
	char path[512];
	struct keyset_config c;
	struct reader *rd = calloc((size_t)threads, sizeof(*rd));
	struct run r = { .use_rwlock = use_rwlock, .rounds = rounds };
	pthread_t rot;
	double sum = 0;
	long max = 0;

	keyset_config_default(&c);
	snprintf(path, sizeof(path), "%s/keyset_bench.%d", dir, (int)getpid());
	unlink(path);
	c.storage_path = path;
	r.ks = keyset_new(&c);
	if (!rd || !r.ks || keyset_load(r.ks, 1700000000)) {
		fprintf(stderr, "keyset_bench: set-up failed\n");
		exit(1);
	}
	for (int i = 0; i < 7; i++)
		keyset_rotate(r.ks, 1700000000 + i);
	pthread_rwlock_init(&r.lock, NULL);
	for (int i = 0; i < threads; i++) {
		rd[i].r = &r;
		pthread_create(&rd[i].tid, NULL, reader_main, &rd[i]);
	}
	if (rotate)
		pthread_create(&rot, NULL, rotator_main, &r);
	atomic_store(&r.go, 1);
	for (int i = 0; i < threads; i++) {
		pthread_join(rd[i].tid, NULL);
		sum += rd[i].ns;
		if (rd[i].max_ns > max)
			max = rd[i].max_ns;
	}
	atomic_store(&r.stop, 1);
	if (rotate)
		pthread_join(rot, NULL);
	printf("%-9s readers %d  rotation+save %-5s  %7.1f ns/lookup  longest 64 lookups %8.1f us\n",
	       use_rwlock ? "rwlock" : "snapshot", threads, rotate ? "10ms" : "off",
	       sum / threads, (double)max / 1000.0);
	pthread_rwlock_destroy(&r.lock);
	keyset_free(r.ks);
	unlink(path);
	free(rd);
}

int main(int argc, char **argv)
{
	long rounds = 2000000;
	const char *dir = "/var/tmp";
	int threads = 2, opt;

	while ((opt = getopt(argc, argv, "t:n:d:")) != -1) {
		if (opt == 't')
			threads = atoi(optarg);
		else if (opt == 'n')
			rounds = atol(optarg);
		else if (opt == 'd')
			dir = optarg;
		else {
			fprintf(stderr, "usage: keyset_bench [-t threads] [-n rounds] [-d DIR]\n");
			return 2;
		}
	}
	if (threads < 1 || threads > 64 || rounds < 64) {
		fprintf(stderr, "keyset_bench: 1..64 threads, at least 64 rounds\n");
		return 2;
	}
	for (int t = 1; t <= threads; t++)
		for (int rot = 0; rot <= 1; rot++)
			for (int rw = 1; rw >= 0; rw--)
				one(t, rounds, rw, rot, dir);
	return 0;
}
