// SPDX-License-Identifier: GPL-2.0
/*
 * keyset with a shared secret: HKDF derivation against a vector computed
 * independently (RFC 5869 by hand in Python's hmac), agreement between two
 * sets built from the same file, the accepted window across a period
 * boundary, the previous secret and its grace, far-period counting, and
 * every bad secret file refused by name.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "keyset.h"

#define IV 100
#define P0 17000000LL		/* a period number: real time P0 * IV */

FIXTURE(sec) {
	char dir[64];
	char path[128];
	char prev[128];
};

static int put_file(const char *path, const void *buf, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0)
		return -1;
	if (fchmod(fd, mode) || (len && write(fd, buf, len) != (ssize_t)len)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static void fill(uint8_t *b, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i * 7);
}

FIXTURE_SETUP(sec)
{
	uint8_t s[32];

	strcpy(self->dir, "/tmp/xnts-secret-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->path, sizeof(self->path), "%s/secret", self->dir);
	snprintf(self->prev, sizeof(self->prev), "%s/old", self->dir);
	fill(s, sizeof(s), 1);
	ASSERT_EQ(0, put_file(self->path, s, sizeof(s), 0600));
	fill(s, sizeof(s), 2);
	ASSERT_EQ(0, put_file(self->prev, s, sizeof(s), 0600));
}

FIXTURE_TEARDOWN_PARENT(sec)
{
	char p[200];

	snprintf(p, sizeof(p), "%s/secret", self->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/old", self->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/link", self->dir);
	unlink(p);
	rmdir(self->dir);
}

static struct keyset *shared(const char *path, const char *prev, unsigned int stale,
			     int64_t grace)
{
	struct keyset_config c;

	keyset_config_default(&c);
	c.rotation_interval = IV;
	c.stale_key_count = stale;
	c.secret_path = path;
	c.previous_secret_path = prev;
	c.previous_grace = grace;
	return keyset_new(&c);
}

TEST(derivation_vector)
{
	/* HKDF-SHA256(IKM = 01..20, salt "xnts shared keyset v1",
	 * info "xnts master key" || be64(86400) || be64(20424), L = 36),
	 * computed with Python's hmac module; the id keeps p mod 256. */
	static const uint8_t want[32] = {
		0xef, 0x4c, 0xd9, 0x8b, 0xb1, 0xdb, 0x2f, 0x05, 0x4d, 0x62, 0xaf,
		0x9f, 0x51, 0x42, 0xcf, 0x8b, 0x90, 0x93, 0xbb, 0x93, 0xee, 0x37,
		0x67, 0x8d, 0x65, 0x59, 0x0b, 0xd0, 0x6b, 0x9d, 0x76, 0x65,
	};
	uint8_t secret[32], key[KEYSET_KEY_LEN];
	uint32_t id;

	for (int i = 0; i < 32; i++)
		secret[i] = (uint8_t)(i + 1);
	ASSERT_EQ(0, keyset_derive(secret, 32, 86400, 20424, &id, key));
	EXPECT_EQ(0x17f9fac8, id);
	EXPECT_EQ(0, memcmp(want, key, sizeof(want)));
	EXPECT_EQ(-1, keyset_derive(secret, 31, 86400, 20424, &id, key));
	EXPECT_EQ(-1, keyset_derive(secret, 32, 86400, -1, &id, key));
}

TEST_F(sec, fingerprint_matches_vector)
{
	uint8_t s[32];
	struct keyset *ks;

	for (int i = 0; i < 32; i++)
		s[i] = (uint8_t)(i + 1);
	ASSERT_EQ(0, put_file(self->path, s, sizeof(s), 0600));
	ks = shared(self->path, NULL, 7, 0);
	ASSERT_NE(NULL, ks);
	ASSERT_EQ(0, keyset_load(ks, 20424LL * 86400));
	/* HKDF(same IKM and salt, info "xnts secret fingerprint", L = 8). */
	EXPECT_STREQ("93ed31a6674a75b7", keyset_fingerprint(ks, 0));
	EXPECT_EQ(NULL, keyset_fingerprint(ks, 1));
	keyset_free(ks);
}

/* Two hosts, one secret, no communication: the same keys and ids. */
TEST_F(sec, two_sets_agree_and_window)
{
	struct keyset *a = shared(self->path, NULL, 3, 0);
	struct keyset *b = shared(self->path, NULL, 3, 0);
	const struct keyset_key *k;
	uint8_t key[KEYSET_KEY_LEN], raw[32];
	uint32_t id;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, keyset_start(a, P0 * IV + 5, 1000));
	/* Another host, its clock 40 s later within the same period. */
	ASSERT_EQ(0, keyset_start(b, P0 * IV + 45, 7));
	ASSERT_TRUE(keyset_is_shared(a));
	EXPECT_EQ(P0, keyset_period(a));
	/* current, 3 stale, next */
	ASSERT_EQ(5, keyset_count(a));
	ASSERT_EQ(5, keyset_count(b));
	EXPECT_STREQ(keyset_fingerprint(a, 0), keyset_fingerprint(b, 0));
	for (unsigned int i = 0; i < 5; i++) {
		const struct keyset_key *x = keyset_key_at(a, i), *y = keyset_key_at(b, i);

		EXPECT_EQ(x->id, y->id);
		EXPECT_EQ(0, memcmp(x->key, y->key, KEYSET_KEY_LEN));
		EXPECT_EQ(x->period & 0xff, x->id & 0xff);
	}
	k = keyset_current(a);
	EXPECT_EQ(P0, k->period);
	EXPECT_EQ(P0 * IV, k->created);
	EXPECT_EQ(0, k->flags);
	fill(raw, sizeof(raw), 1);
	ASSERT_EQ(0, keyset_derive(raw, 32, IV, P0, &id, key));
	EXPECT_EQ(id, k->id);
	EXPECT_EQ(0, memcmp(key, k->key, KEYSET_KEY_LEN));
	EXPECT_EQ(P0 - 3, keyset_key_at(a, 3)->period);
	EXPECT_EQ(P0 + 1, keyset_key_at(a, 4)->period);
	EXPECT_EQ(KEYSET_KEY_NEXT, keyset_key_at(a, 4)->flags);
	/* Next work at the period end, on the elapsed clock. */
	EXPECT_EQ(1000 + IV - 5, keyset_next_rotation(a));
	/* Not stored, not forcibly rotated. */
	EXPECT_EQ(KEYSET_E_INVAL, keyset_rotate(a, P0 * IV + 6));
	keyset_free(a);
	keyset_free(b);
}

/* At the boundary the next key becomes current: cookies sealed by a host
 * already in the new period keep opening here, and ours there. */
TEST_F(sec, boundary_keeps_every_cookie)
{
	struct keyset *a = shared(self->path, NULL, 1, 0);
	uint32_t cur, next;
	uint64_t gen;

	ASSERT_NE(NULL, a);
	ASSERT_EQ(0, keyset_start(a, P0 * IV + IV - 1, 50));
	cur = keyset_current(a)->id;
	next = keyset_key_at(a, 2)->id;
	gen = keyset_generation(a);
	EXPECT_EQ(0, keyset_update(a, P0 * IV + IV - 1, 50));
	EXPECT_EQ(1, keyset_update(a, (P0 + 1) * IV, 51));
	EXPECT_NE(gen, keyset_generation(a));
	EXPECT_EQ(next, keyset_current(a)->id);
	EXPECT_NE(NULL, keyset_find(a, cur));
	EXPECT_EQ(P0 + 1, keyset_period(a));
	/* A step of the wall clock moves the period with it, by design. */
	EXPECT_EQ(1, keyset_update(a, (P0 + 10) * IV, 52));
	EXPECT_EQ(P0 + 10, keyset_period(a));
	EXPECT_EQ(NULL, keyset_find(a, cur));
	keyset_free(a);
}

TEST_F(sec, different_secret_other_keys)
{
	struct keyset *a = shared(self->path, NULL, 7, 0);
	struct keyset *b = shared(self->prev, NULL, 7, 0);

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, keyset_start(a, P0 * IV, 1));
	ASSERT_EQ(0, keyset_start(b, P0 * IV, 1));
	EXPECT_STRNE(keyset_fingerprint(a, 0), keyset_fingerprint(b, 0));
	for (unsigned int i = 0; i < keyset_count(a); i++)
		EXPECT_EQ(NULL, keyset_find(b, keyset_key_at(a, i)->id));
	keyset_free(a);
	keyset_free(b);
}

TEST_F(sec, previous_secret_opens_never_seals_until_grace)
{
	struct keyset *old = shared(self->prev, NULL, 2, 0);
	struct keyset *a = shared(self->path, self->prev, 2, 300);
	struct keyset_stats st;
	uint32_t old_cur;

	ASSERT_NE(NULL, old);
	ASSERT_NE(NULL, a);
	ASSERT_EQ(0, keyset_start(old, P0 * IV, 1));
	old_cur = keyset_current(old)->id;
	ASSERT_EQ(0, keyset_start(a, P0 * IV, 1000)) TH_LOG("%s", keyset_strerror(a));
	EXPECT_TRUE(keyset_previous_active(a));
	EXPECT_NE(NULL, keyset_fingerprint(a, 1));
	EXPECT_STREQ(keyset_fingerprint(old, 0), keyset_fingerprint(a, 1));
	EXPECT_EQ(8, keyset_count(a));
	EXPECT_NE(old_cur, keyset_current(a)->id);
	ASSERT_NE(NULL, keyset_find(a, old_cur));
	EXPECT_EQ(KEYSET_KEY_PREVIOUS, keyset_find(a, old_cur)->flags);
	keyset_get_stats(a, &st);
	EXPECT_EQ(2, st.previous_secret);
	/* The timer fires at the period end first, then at the grace end. */
	EXPECT_EQ(1000 + IV, keyset_next_rotation(a));
	EXPECT_EQ(1, keyset_update(a, (P0 + 2) * IV, 1000 + 2 * IV));
	EXPECT_EQ(1300, keyset_next_rotation(a));
	EXPECT_EQ(1, keyset_update(a, (P0 + 3) * IV, 1300));
	EXPECT_FALSE(keyset_previous_active(a));
	EXPECT_EQ(4, keyset_count(a));
	EXPECT_EQ(NULL, keyset_find(a, old_cur));
	keyset_free(a);
	keyset_free(old);
}

/* A cookie from a host whose clock is off by more than a period is told
 * apart from a foreign one, accepted or not. */
TEST_F(sec, far_periods_counted)
{
	struct keyset *a = shared(self->path, NULL, 3, 0);
	struct keyset *ahead = shared(self->path, NULL, 3, 0);
	struct keyset *behind = shared(self->path, NULL, 3, 0);
	struct keyset_stats st;

	ASSERT_NE(NULL, a);
	ASSERT_EQ(0, keyset_start(a, P0 * IV, 1));
	ASSERT_EQ(0, keyset_start(ahead, (P0 + 5) * IV, 1));
	ASSERT_EQ(0, keyset_start(behind, (P0 - 2) * IV, 1));
	EXPECT_EQ(NULL, keyset_find(a, keyset_current(ahead)->id));
	keyset_get_stats(a, &st);
	EXPECT_EQ(1, st.unknown);
	EXPECT_EQ(1, st.far);
	EXPECT_EQ(1, st.far_unknown);
	EXPECT_EQ(5, st.last_far_offset);
	EXPECT_EQ(P0, st.last_far_period);
	/* Two periods behind: still accepted, but far. */
	EXPECT_NE(NULL, keyset_find(a, keyset_current(behind)->id));
	EXPECT_EQ(NULL, keyset_find(a, 0x12345678));
	keyset_get_stats(a, &st);
	EXPECT_EQ(2, st.unknown);
	EXPECT_EQ(2, st.far);
	EXPECT_EQ(1, st.far_unknown);
	EXPECT_EQ(1, st.stale);
	EXPECT_EQ(-2, st.last_far_offset);
	/* The next period's key: accepted, counted, not far. */
	EXPECT_NE(NULL, keyset_find(a, keyset_key_at(a, 4)->id));
	keyset_get_stats(a, &st);
	EXPECT_EQ(1, st.next);
	EXPECT_EQ(2, st.far);
	keyset_free(a);
	keyset_free(ahead);
	keyset_free(behind);
}

/* Expect start to fail with KEYSET_E_SECRET, naming path, no keys. */
static int refused(const char *path, const char *prev, const char *what)
{
	struct keyset *ks = shared(path, prev, 7, 10);
	int ret, ok;

	if (!ks)
		return 0;
	ret = keyset_start(ks, P0 * IV, 1);
	ok = ret == KEYSET_E_SECRET && strstr(keyset_strerror(ks), what) &&
	     keyset_count(ks) == 0 && keyset_current(ks) == NULL &&
	     keyset_fingerprint(ks, 0) == NULL;
	if (!ok)
		fprintf(stderr, "# %d: %s\n", ret, keyset_strerror(ks));
	keyset_free(ks);
	return ok;
}

TEST_F(sec, bad_secret_files_refused_by_name)
{
	uint8_t s[64];
	char link[200];

	fill(s, sizeof(s), 9);
	snprintf(link, sizeof(link), "%s/link", self->dir);
	EXPECT_TRUE(refused("/nonexistent/xnts-secret", NULL, "/nonexistent/xnts-secret"));
	ASSERT_EQ(0, put_file(self->path, s, 31, 0600));
	EXPECT_TRUE(refused(self->path, NULL, self->path));
	ASSERT_EQ(0, put_file(self->path, s, 32, 0640));
	EXPECT_TRUE(refused(self->path, NULL, self->path));
	ASSERT_EQ(0, put_file(self->path, s, 32, 0604));
	EXPECT_TRUE(refused(self->path, NULL, self->path));
	ASSERT_EQ(0, put_file(self->path, s, 32, 0600));
	ASSERT_EQ(0, chown(self->path, 65534, 65534));
	EXPECT_TRUE(refused(self->path, NULL, self->path));
	ASSERT_EQ(0, put_file(self->path, s, 32, 0600));
	ASSERT_EQ(0, symlink(self->path, link));
	EXPECT_TRUE(refused(link, NULL, link));
	memset(s, 0, sizeof(s));
	ASSERT_EQ(0, put_file(self->path, s, 32, 0600));
	EXPECT_TRUE(refused(self->path, NULL, self->path));
	fill(s, sizeof(s), 9);
	ASSERT_EQ(0, put_file(self->path, s, 32, 0600));
	/* A bad previous secret is as fatal, and so is the same one twice. */
	ASSERT_EQ(0, put_file(self->prev, s, 20, 0600));
	EXPECT_TRUE(refused(self->path, self->prev, self->prev));
	ASSERT_EQ(0, put_file(self->prev, s, 32, 0600));
	EXPECT_TRUE(refused(self->path, self->prev, self->prev));
}

TEST(config_combinations)
{
	struct keyset_config c;

	keyset_config_default(&c);
	c.secret_path = "/x";
	c.storage_path = "/y";
	EXPECT_EQ(NULL, keyset_new(&c));
	c.storage_path = NULL;
	c.secret_path = NULL;
	c.previous_secret_path = "/z";
	EXPECT_EQ(NULL, keyset_new(&c));
	c.secret_path = "";
	EXPECT_EQ(NULL, keyset_new(&c));
}

TEST_HARNESS_MAIN
