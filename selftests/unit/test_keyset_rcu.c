// SPDX-License-Identifier: GPL-2.0
/*
 * Lock-free keyset reads: reader threads look keys up and check every byte
 * while the main thread rotates as fast as it can, for random keys and for
 * a shared secret whose period moves. A reader that saw a freed or torn
 * snapshot finds a key that does not match its id (freed snapshots are
 * wiped and unmapped, so a use after free faults). Run it under
 * `make SANITIZE=1` and `make SANITIZE=thread` too.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "keyset.h"
#include "rcu.h"

#define READERS 3
#define ROTATIONS 3000
/* Each shared update derives some 60 keys: fewer of them. */
#define PERIODS 300
#define T0 1700000000LL

/* Random source whose key bytes repeat the id just drawn. */
struct id_rand {
	uint8_t last[4];
};

static int id_rand(void *arg, uint8_t *buf, size_t len)
{
	struct id_rand *r = arg;
	static _Atomic uint32_t ctr = 1;

	if (len == 4) {
		uint32_t v = atomic_fetch_add(&ctr, 1) * 0x9e3779b9u;

		memcpy(buf, &v, 4);
		memcpy(r->last, &v, 4);
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		buf[i] = r->last[i % 4];
	return 0;
}

struct reader {
	pthread_t tid;
	struct keyset *ks;
	const uint8_t *secret;	/* shared mode: check against HKDF */
	_Atomic int *stop;
	unsigned long reads, bad;
};

static int key_ok(const struct reader *r, const struct keyset_key *k)
{
	uint8_t want[KEYSET_KEY_LEN];
	uint32_t id;

	if (!r->secret) {
		for (int i = 0; i < KEYSET_KEY_LEN; i++)
			if (k->key[i] != (uint8_t)(k->id >> (24 - 8 * (i % 4))))
				return 0;
		return k->id != 0;
	}
	if (keyset_derive(r->secret, 32, 10, k->period, &id, want))
		return 0;
	return id == k->id && !memcmp(want, k->key, KEYSET_KEY_LEN);
}

static void *read_loop(void *arg)
{
	struct reader *r = arg;

	while (!atomic_load(r->stop)) {
		const struct keyset_key *k, *f;
		unsigned int n;

		keyset_read_lock();
		/* Every call reads the newest snapshot: a slow reader may find
		 * k's id rotated out by the time it looks it up. */
		k = keyset_current(r->ks);
		n = keyset_count(r->ks);
		f = k ? keyset_find(r->ks, k->id) : NULL;
		if (!k || !n || !key_ok(r, k) || (f && !key_ok(r, f)) ||
		    !key_ok(r, keyset_key_at(r->ks, n - 1)))
			r->bad++;
		/* Hold the snapshot a little while the writer moves on. */
		for (volatile int i = 0; i < 200; i++)
			;
		if (k && !key_ok(r, k))
			r->bad++;
		keyset_read_unlock();
		r->reads++;
	}
	return NULL;
}

static void run(struct __test_metadata *_metadata, struct keyset *ks, const uint8_t *secret)
{
	struct reader rd[READERS];
	_Atomic int stop = 0;
	int i;

	for (i = 0; i < READERS; i++) {
		memset(&rd[i], 0, sizeof(rd[i]));
		rd[i].ks = ks;
		rd[i].secret = secret;
		rd[i].stop = &stop;
		ASSERT_EQ(0, pthread_create(&rd[i].tid, NULL, read_loop, &rd[i]));
	}
	for (i = 1; i <= (secret ? PERIODS : ROTATIONS); i++) {
		if (secret) {
			ASSERT_EQ(1, keyset_update(ks, T0 + i * 10, i * 10));
		} else {
			ASSERT_EQ(0, keyset_rotate(ks, T0 + i));
		}
		if (i % 256 == 0)
			sched_yield();
	}
	atomic_store(&stop, 1);
	for (i = 0; i < READERS; i++) {
		pthread_join(rd[i].tid, NULL);
		EXPECT_EQ(0, rd[i].bad);
		EXPECT_LT(0, rd[i].reads);
	}
	/* Nothing retired stays behind once the readers are gone. */
	EXPECT_EQ(0, rcu_reclaim());
}

TEST(random_keys_rotating_under_readers)
{
	struct keyset_config c;
	struct id_rand r = { 0 };
	struct keyset *ks;

	keyset_config_default(&c);
	c.stale_key_count = 7;
	c.rand_bytes = id_rand;
	c.rand_arg = &r;
	ks = keyset_new(&c);
	ASSERT_NE(NULL, ks);
	ASSERT_EQ(0, keyset_load(ks, T0));
	run(_metadata, ks, NULL);
	EXPECT_EQ(8, keyset_count(ks));
	keyset_free(ks);
}

TEST(shared_periods_moving_under_readers)
{
	char dir[] = "/tmp/xnts-rcu-XXXXXX", path[64];
	struct keyset_config c;
	uint8_t secret[32];
	struct keyset *ks;
	int fd;

	for (int i = 0; i < 32; i++)
		secret[i] = (uint8_t)(i * 13 + 5);
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(32, write(fd, secret, 32));
	close(fd);
	keyset_config_default(&c);
	c.rotation_interval = 10;
	c.stale_key_count = 3;
	c.secret_path = path;
	ks = keyset_new(&c);
	ASSERT_NE(NULL, ks);
	ASSERT_EQ(0, keyset_start(ks, T0, 0));
	unlink(path);
	rmdir(dir);
	run(_metadata, ks, secret);
	keyset_free(ks);
}

/* A section in one thread keeps a retired snapshot alive; leaving frees it. */
TEST(retired_waits_for_reader)
{
	struct keyset_config c;
	struct keyset *ks;
	const struct keyset_key *k;
	uint32_t id;

	keyset_config_default(&c);
	c.stale_key_count = 0;
	ks = keyset_new(&c);
	ASSERT_NE(NULL, ks);
	ASSERT_EQ(0, keyset_load(ks, T0));
	rcu_barrier();
	keyset_read_lock();
	keyset_read_lock();	/* nested */
	k = keyset_current(ks);
	id = k->id;
	ASSERT_EQ(0, keyset_rotate(ks, T0 + 1));
	EXPECT_EQ(1, rcu_reclaim());
	keyset_read_unlock();
	EXPECT_EQ(1, rcu_reclaim());
	/* Still ours: the old snapshot is intact. */
	EXPECT_EQ(id, k->id);
	keyset_read_unlock();
	EXPECT_EQ(0, rcu_reclaim());
	EXPECT_EQ(NULL, keyset_find(ks, id));
	keyset_free(ks);
}

TEST_HARNESS_MAIN
