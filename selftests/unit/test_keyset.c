// SPDX-License-Identifier: GPL-2.0
/*
 * keyset: rotation schedule on simulated time, id uniqueness, export, and the
 * key storage file (create, reload, refuse damaged or exposed files without
 * touching them). Files live in a fresh directory under /tmp per test.
 */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "kselftest_harness.h"
#include "keyset.h"

#define T0 1700000000LL

/*
 * Deterministic random source: 4-byte requests (key ids, temp names) take
 * the next scripted id while there is one, then a counter; key bytes come
 * from a counter, so every key differs.
 */
struct fake_rand {
	const uint32_t *script;
	unsigned int n_script, pos;
	uint32_t ctr;
	int fail;
};

static int fake_rand(void *arg, uint8_t *buf, size_t len)
{
	struct fake_rand *r = arg;
	uint32_t v;

	if (r->fail)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		if (len == 4 && r->pos < r->n_script)
			v = r->script[r->pos++];
		else
			v = 0x9e3779b9u * ++r->ctr;
		for (size_t j = 0; j < 4 && i + j < len; j++)
			buf[i + j] = (uint8_t)(v >> (24 - 8 * j));
	}
	return 0;
}

static struct keyset *mem_keyset(int64_t interval, unsigned int stale,
				 struct fake_rand *r)
{
	struct keyset_config cfg;

	keyset_config_default(&cfg);
	cfg.rotation_interval = interval;
	cfg.stale_key_count = stale;
	if (r) {
		cfg.rand_bytes = fake_rand;
		cfg.rand_arg = r;
	}
	return keyset_new(&cfg);
}

static struct keyset *file_keyset(const char *path, int64_t interval,
				  unsigned int stale)
{
	struct keyset_config cfg;

	keyset_config_default(&cfg);
	cfg.rotation_interval = interval;
	cfg.stale_key_count = stale;
	cfg.storage_path = path;
	return keyset_new(&cfg);
}

/* Every id in the set is non-zero and unique, and keyset_find finds it. */
static int ids_sane(const struct keyset *ks)
{
	unsigned int n = keyset_count(ks);

	for (unsigned int i = 0; i < n; i++) {
		const struct keyset_key *k = keyset_key_at(ks, i);

		if (!k || k->id == 0 || keyset_find(ks, k->id) != k)
			return 0;
		for (unsigned int j = 0; j < i; j++)
			if (keyset_key_at(ks, j)->id == k->id)
				return 0;
	}
	return keyset_key_at(ks, n) == NULL && keyset_find(ks, 0) == NULL;
}

TEST(config_defaults_and_limits)
{
	struct keyset_config cfg;
	struct keyset *ks;

	keyset_config_default(&cfg);
	EXPECT_EQ(86400, cfg.rotation_interval);
	EXPECT_EQ(7, cfg.stale_key_count);
	EXPECT_EQ(NULL, cfg.storage_path);

	cfg.rotation_interval = 0;
	EXPECT_EQ(NULL, keyset_new(&cfg));
	cfg.rotation_interval = 1;
	cfg.stale_key_count = KEYSET_MAX_STALE + 1;
	EXPECT_EQ(NULL, keyset_new(&cfg));
	cfg.stale_key_count = KEYSET_MAX_STALE;
	cfg.storage_path = "";
	EXPECT_EQ(NULL, keyset_new(&cfg));
	cfg.storage_path = NULL;
	ks = keyset_new(&cfg);
	ASSERT_NE(NULL, ks);
	/* Nothing works before load. */
	EXPECT_EQ(NULL, keyset_current(ks));
	EXPECT_EQ(-1, keyset_next_rotation(ks));
	EXPECT_EQ(KEYSET_E_INVAL, keyset_rotate_if_due(ks, T0));
	EXPECT_EQ(KEYSET_E_INVAL, keyset_load(ks, -1));
	ASSERT_EQ(0, keyset_load(ks, T0));
	EXPECT_EQ(KEYSET_E_INVAL, keyset_load(ks, T0));
	EXPECT_EQ(KEYSET_E_INVAL, keyset_rotate_if_due(ks, KEYSET_TIME_MAX + 1));
	keyset_free(ks);
}

TEST(memory_load_one_fresh_key)
{
	struct keyset *ks = mem_keyset(KEYSET_DEFAULT_INTERVAL, 7, NULL);
	const struct keyset_key *k;
	static const uint8_t zero[KEYSET_KEY_LEN];

	ASSERT_NE(NULL, ks);
	ASSERT_EQ(0, keyset_load(ks, T0));
	EXPECT_EQ(1, keyset_count(ks));
	k = keyset_current(ks);
	ASSERT_NE(NULL, k);
	EXPECT_EQ(T0, k->created);
	EXPECT_NE(0, k->id);
	EXPECT_NE(0, memcmp(k->key, zero, sizeof(zero)));
	EXPECT_EQ(T0 + 86400, keyset_next_rotation(ks));
	EXPECT_EQ(0, keyset_rotate_if_due(ks, T0 + 86399));
	EXPECT_EQ(1, keyset_count(ks));
	keyset_free(ks);
}

/*
 * Walk simulated time in steps that do not divide the interval and compare
 * with a model: each boundary crossed pushes one key, the set keeps the
 * current key plus the last `stale`, and creation times keep the phase.
 */
TEST(rotation_schedule_matches_model)
{
	const int64_t iv = 100;
	const unsigned int stale = 3;
	struct fake_rand r = { 0 };
	struct keyset *ks = mem_keyset(iv, stale, &r);
	uint32_t model[KEYSET_MAX_KEYS];
	unsigned int mn = 0, rotations = 0;
	int64_t t;

	ASSERT_NE(NULL, ks);
	ASSERT_EQ(0, keyset_load(ks, T0));
	model[mn++] = keyset_current(ks)->id;
	for (t = T0; t < T0 + 30 * iv; t += 7) {
		int64_t boundary = T0 + iv * ((t - T0) / iv);
		uint64_t gen = keyset_generation(ks);
		int due = keyset_current(ks)->created < boundary;
		int ret = keyset_rotate_if_due(ks, t);

		ASSERT_EQ(due, ret);
		EXPECT_EQ(gen + (uint64_t)due, keyset_generation(ks));
		if (ret == 1) {
			rotations++;
			memmove(&model[1], &model[0], mn * sizeof(model[0]));
			model[0] = keyset_current(ks)->id;
			if (mn < stale + 1)
				mn++;
		}
		ASSERT_EQ(mn, keyset_count(ks));
		EXPECT_EQ(boundary, keyset_current(ks)->created);
		EXPECT_EQ(boundary + iv, keyset_next_rotation(ks));
		for (unsigned int i = 0; i < mn; i++)
			EXPECT_EQ(model[i], keyset_key_at(ks, i)->id);
		ASSERT_TRUE(ids_sane(ks));
	}
	EXPECT_EQ(29, rotations);
	keyset_free(ks);
}

/*
 * A gap of m intervals counts as m rotations: old key at place p survives
 * only if p + m <= stale. Beyond stale + 1 intervals only the fresh key
 * is left. The fresh key keeps the schedule's phase.
 */
TEST(rotation_long_gaps)
{
	const int64_t iv = 3600;
	const unsigned int stale = 7;

	for (unsigned int m = 1; m <= stale + 3; m++) {
		struct fake_rand r = { 0 };
		struct keyset *ks = mem_keyset(iv, stale, &r);
		uint32_t before[KEYSET_MAX_KEYS];
		unsigned int n, keep;
		int64_t cur;

		ASSERT_NE(NULL, ks);
		ASSERT_EQ(0, keyset_load(ks, T0));
		/* Fill the window: current + 7 stale. */
		for (unsigned int i = 1; i <= stale; i++)
			ASSERT_EQ(1, keyset_rotate_if_due(ks, T0 + i * iv));
		n = keyset_count(ks);
		ASSERT_EQ(stale + 1, n);
		for (unsigned int i = 0; i < n; i++)
			before[i] = keyset_key_at(ks, i)->id;
		cur = keyset_current(ks)->created;

		ASSERT_EQ(1, keyset_rotate_if_due(ks, cur + m * iv + 1234));
		keep = m <= stale ? stale - m + 1 : 0;
		ASSERT_EQ(keep + 1, keyset_count(ks)) TH_LOG("gap of %u intervals", m);
		EXPECT_EQ(cur + m * iv, keyset_current(ks)->created);
		for (unsigned int i = 0; i < keep; i++)
			EXPECT_EQ(before[i], keyset_key_at(ks, i + 1)->id);
		for (unsigned int i = keep; i < n; i++)
			EXPECT_EQ(NULL, keyset_find(ks, before[i]));
		EXPECT_TRUE(ids_sane(ks));
		/* Not due again until the next boundary. */
		EXPECT_EQ(0, keyset_rotate_if_due(ks, cur + (m + 1) * iv - 1));
		keyset_free(ks);
	}
}

TEST(stale_zero_keeps_only_current)
{
	struct keyset *ks = mem_keyset(10, 0, NULL);
	uint32_t old;

	ASSERT_NE(NULL, ks);
	ASSERT_EQ(0, keyset_load(ks, T0));
	old = keyset_current(ks)->id;
	ASSERT_EQ(1, keyset_rotate_if_due(ks, T0 + 10));
	EXPECT_EQ(1, keyset_count(ks));
	EXPECT_EQ(NULL, keyset_find(ks, old));
	keyset_free(ks);
}

TEST(clock_behind_does_not_rotate_forced_does)
{
	struct keyset *ks = mem_keyset(100, 7, NULL);
	uint32_t id;

	ASSERT_NE(NULL, ks);
	ASSERT_EQ(0, keyset_load(ks, T0));
	id = keyset_current(ks)->id;
	EXPECT_EQ(0, keyset_rotate_if_due(ks, T0 - 100000));
	EXPECT_EQ(0, keyset_rotate_if_due(ks, 0));
	EXPECT_EQ(id, keyset_current(ks)->id);
	ASSERT_EQ(0, keyset_rotate(ks, T0 - 5));
	EXPECT_EQ(T0 - 5, keyset_current(ks)->created);
	EXPECT_NE(id, keyset_current(ks)->id);
	EXPECT_EQ(2, keyset_count(ks));
	EXPECT_EQ(KEYSET_E_INVAL, keyset_rotate(ks, -1));
	keyset_free(ks);
}

/* Scripted ids: 0 and ids already in the set must be skipped. */
TEST(key_ids_never_zero_or_repeated)
{
	static const uint32_t script[] = {
		0x11111111, /* first key */
		0x11111111, 0x00000000, 0x22222222, /* rotation 1 */
		0x22222222, 0x11111111, 0x33333333, /* rotation 2 */
	};
	struct fake_rand r = { .script = script, .n_script = 7 };
	struct keyset *ks = mem_keyset(100, 7, &r);

	ASSERT_NE(NULL, ks);
	ASSERT_EQ(0, keyset_load(ks, T0));
	EXPECT_EQ(0x11111111, keyset_current(ks)->id);
	ASSERT_EQ(1, keyset_rotate_if_due(ks, T0 + 100));
	EXPECT_EQ(0x22222222, keyset_current(ks)->id);
	ASSERT_EQ(1, keyset_rotate_if_due(ks, T0 + 200));
	EXPECT_EQ(0x33333333, keyset_current(ks)->id);
	EXPECT_EQ(3, keyset_count(ks));
	EXPECT_TRUE(ids_sane(ks));
	keyset_free(ks);
}

TEST(random_failure_reported)
{
	static uint32_t same[80];
	struct fake_rand r = { 0 };
	struct keyset *ks = mem_keyset(100, 7, &r);

	ASSERT_NE(NULL, ks);
	r.fail = 1;
	EXPECT_EQ(KEYSET_E_RANDOM, keyset_load(ks, T0));
	EXPECT_EQ(0, keyset_count(ks));
	r.fail = 0;
	ASSERT_EQ(0, keyset_load(ks, T0));
	/* A source stuck on the current id must not produce a duplicate. */
	for (unsigned int i = 0; i < 80; i++)
		same[i] = keyset_current(ks)->id;
	r.script = same;
	r.n_script = 80;
	r.pos = 0;
	EXPECT_EQ(KEYSET_E_RANDOM, keyset_rotate_if_due(ks, T0 + 100));
	EXPECT_EQ(1, keyset_count(ks));
	keyset_free(ks);
}

TEST(export_flat_current_first)
{
	struct keyset_export ex[KEYSET_MAX_KEYS + 1];
	struct keyset *ks = mem_keyset(100, 4, NULL);
	unsigned int n;

	ASSERT_NE(NULL, ks);
	ASSERT_EQ(0, keyset_load(ks, T0));
	for (int i = 1; i <= 9; i++)
		ASSERT_EQ(1, keyset_rotate_if_due(ks, T0 + i * 100));
	n = keyset_export(ks, ex, KEYSET_MAX_KEYS + 1);
	ASSERT_EQ(5, n);
	for (unsigned int i = 0; i < n; i++) {
		const struct keyset_key *k = keyset_key_at(ks, i);

		EXPECT_EQ(k->id, ex[i].id);
		EXPECT_EQ(0, memcmp(k->key, ex[i].key, KEYSET_KEY_LEN));
	}
	EXPECT_EQ(keyset_current(ks)->id, ex[0].id);
	EXPECT_EQ(2, keyset_export(ks, ex, 2));
	EXPECT_EQ(0, keyset_export(ks, ex, 0));
	keyset_free(ks);
}

/* ---- storage ---- */

FIXTURE(store) {
	char dir[64];
	char path[128];
};

FIXTURE_SETUP(store)
{
	strcpy(self->dir, "/tmp/xnts-keyset-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->path, sizeof(self->path), "%s/keys", self->dir);
}

static void rm_tree(const char *dir, int depth)
{
	char p[512];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d || depth > 4) {
		if (d)
			closedir(d);
		return;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (!lstat(p, &st) && S_ISDIR(st.st_mode)) {
			rm_tree(p, depth + 1);
			rmdir(p);
		} else {
			unlink(p);
		}
	}
	closedir(d);
}

/*
 * Teardown in the parent: the harness's child path skips FIXTURE_TEARDOWN
 * after a failed ASSERT at -O2 (its `child` variable is not volatile across
 * longjmp), which would leave the directory behind.
 */
FIXTURE_TEARDOWN_PARENT(store)
{
	rm_tree(self->dir, 0);
	rmdir(self->dir);
}

static long read_all(const char *path, uint8_t *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	long n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap);
	close(fd);
	return n;
}

static int write_all_mode(const char *path, const uint8_t *buf, size_t len, mode_t mode)
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

static int dir_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Try to load path; expect code, a message naming the file, and no change
 * to the file or the directory. */
static int load_fails_untouched(const char *dir, const char *path, int code)
{
	uint8_t before[KEYSET_FILE_MAX + 64], after[KEYSET_FILE_MAX + 64];
	struct keyset *ks = file_keyset(path, 86400, 7);
	long nb = read_all(path, before, sizeof(before));
	int entries = dir_entries(dir), ret, ok;
	struct stat st1, st2;

	if (!ks || stat(path, &st1))
		return 0;
	ret = keyset_load(ks, T0);
	ok = ret == code && strstr(keyset_strerror(ks), path) != NULL &&
	     keyset_count(ks) == 0 && keyset_current(ks) == NULL;
	if (ret != code)
		fprintf(stderr, "# want %d got %d: %s\n", code, ret, keyset_strerror(ks));
	keyset_free(ks);
	ok = ok && read_all(path, after, sizeof(after)) == nb &&
	     (nb <= 0 || !memcmp(before, after, (size_t)nb)) &&
	     dir_entries(dir) == entries && !stat(path, &st2) &&
	     st1.st_mode == st2.st_mode && st1.st_ino == st2.st_ino &&
	     st1.st_mtim.tv_sec == st2.st_mtim.tv_sec &&
	     st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec;
	return ok;
}

/* Build a multi-key file at path and return its bytes. */
static long make_file(const char *path, uint8_t *img, size_t cap)
{
	struct keyset *ks = file_keyset(path, 100, 7);
	long n = -1;

	if (!ks)
		return -1;
	if (keyset_load(ks, T0) == 0 && keyset_rotate_if_due(ks, T0 + 100) == 1 &&
	    keyset_rotate_if_due(ks, T0 + 200) == 1)
		n = read_all(path, img, cap);
	keyset_free(ks);
	return n;
}

static void resum(uint8_t *img, size_t body)
{
	unsigned int l;

	EVP_Digest(img, body, img + body, &l, EVP_sha256(), NULL);
}

static int same_keys(const struct keyset *a, const struct keyset *b)
{
	if (keyset_count(a) != keyset_count(b))
		return 0;
	for (unsigned int i = 0; i < keyset_count(a); i++) {
		const struct keyset_key *x = keyset_key_at(a, i), *y = keyset_key_at(b, i);

		if (x->id != y->id || x->created != y->created ||
		    memcmp(x->key, y->key, KEYSET_KEY_LEN))
			return 0;
	}
	return 1;
}

TEST_F(store, create_when_missing_mode_0600)
{
	struct keyset *ks = file_keyset(self->path, 86400, 7);
	mode_t old = umask(0);
	struct stat st;

	ASSERT_NE(NULL, ks);
	ASSERT_EQ(-1, access(self->path, F_OK));
	ASSERT_EQ(0, keyset_load(ks, T0)) TH_LOG("%s", keyset_strerror(ks));
	umask(old);
	ASSERT_EQ(0, stat(self->path, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(16 + 48 + 32, st.st_size);
	/* No temporary file left behind. */
	EXPECT_EQ(1, dir_entries(self->dir));
	EXPECT_EQ(1, keyset_count(ks));
	keyset_free(ks);
}

TEST_F(store, mode_0600_even_with_restrictive_umask)
{
	struct keyset *ks = file_keyset(self->path, 86400, 7);
	mode_t old = umask(0277);
	struct stat st;

	ASSERT_NE(NULL, ks);
	ASSERT_EQ(0, keyset_load(ks, T0)) TH_LOG("%s", keyset_strerror(ks));
	umask(old);
	ASSERT_EQ(0, stat(self->path, &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
	keyset_free(ks);
}

TEST_F(store, missing_parent_is_an_error_and_not_created)
{
	char path[256], parent[200];
	struct keyset *ks;

	snprintf(parent, sizeof(parent), "%s/nodir", self->dir);
	snprintf(path, sizeof(path), "%s/keys", parent);
	ks = file_keyset(path, 86400, 7);
	ASSERT_NE(NULL, ks);
	EXPECT_EQ(KEYSET_E_NODIR, keyset_load(ks, T0));
	EXPECT_NE(NULL, strstr(keyset_strerror(ks), path));
	EXPECT_EQ(0, keyset_count(ks));
	EXPECT_EQ(-1, access(parent, F_OK));
	EXPECT_EQ(0, dir_entries(self->dir));
	keyset_free(ks);
}

TEST_F(store, reload_gives_same_keys)
{
	uint8_t a[KEYSET_FILE_MAX], b[KEYSET_FILE_MAX];
	struct keyset *ks1 = file_keyset(self->path, 100, 7);
	struct keyset *ks2 = file_keyset(self->path, 100, 7);
	long na, nb;

	ASSERT_NE(NULL, ks1);
	ASSERT_NE(NULL, ks2);
	ASSERT_EQ(0, keyset_load(ks1, T0));
	ASSERT_EQ(1, keyset_rotate_if_due(ks1, T0 + 100));
	ASSERT_EQ(1, keyset_rotate_if_due(ks1, T0 + 250));
	na = read_all(self->path, a, sizeof(a));
	ASSERT_EQ(16 + 3 * 48 + 32, na);
	/* Not yet due at T0 + 299: same keys, ids and times, file untouched. */
	ASSERT_EQ(0, keyset_load(ks2, T0 + 299)) TH_LOG("%s", keyset_strerror(ks2));
	EXPECT_TRUE(same_keys(ks1, ks2));
	nb = read_all(self->path, b, sizeof(b));
	ASSERT_EQ(na, nb);
	EXPECT_EQ(0, memcmp(a, b, (size_t)na));
	keyset_free(ks2);
	keyset_free(ks1);
}

TEST_F(store, reload_rotates_if_due_and_saves)
{
	struct keyset *ks1 = file_keyset(self->path, 100, 2);
	struct keyset *ks2 = file_keyset(self->path, 100, 2);
	struct keyset *ks3 = file_keyset(self->path, 100, 2);
	uint32_t first;

	ASSERT_NE(NULL, ks1);
	ASSERT_NE(NULL, ks2);
	ASSERT_NE(NULL, ks3);
	ASSERT_EQ(0, keyset_load(ks1, T0));
	first = keyset_current(ks1)->id;
	/* Down for two and a half intervals. */
	ASSERT_EQ(0, keyset_load(ks2, T0 + 250));
	EXPECT_EQ(2, keyset_count(ks2));
	EXPECT_EQ(T0 + 200, keyset_current(ks2)->created);
	EXPECT_EQ(first, keyset_key_at(ks2, 1)->id);
	EXPECT_EQ(T0, keyset_key_at(ks2, 1)->created);
	/* The rotation was saved. */
	ASSERT_EQ(0, keyset_load(ks3, T0 + 250));
	EXPECT_TRUE(same_keys(ks2, ks3));
	EXPECT_EQ(1, dir_entries(self->dir));
	keyset_free(ks3);
	keyset_free(ks2);
	keyset_free(ks1);
}

TEST_F(store, lowered_stale_count_trims_on_load)
{
	uint8_t img[KEYSET_FILE_MAX];
	struct keyset *ks;
	struct stat st;

	ASSERT_EQ(16 + 3 * 48 + 32, make_file(self->path, img, sizeof(img)));
	ks = file_keyset(self->path, 100, 1);
	ASSERT_NE(NULL, ks);
	ASSERT_EQ(0, keyset_load(ks, T0 + 200));
	EXPECT_EQ(2, keyset_count(ks));
	ASSERT_EQ(0, stat(self->path, &st));
	EXPECT_EQ(16 + 2 * 48 + 32, st.st_size);
	keyset_free(ks);
}

TEST_F(store, truncated_at_every_length)
{
	uint8_t img[KEYSET_FILE_MAX];
	long n = make_file(self->path, img, sizeof(img));

	ASSERT_EQ(16 + 3 * 48 + 32, n);
	for (long len = 0; len < n; len++) {
		ASSERT_EQ(0, write_all_mode(self->path, img, (size_t)len, 0600));
		ASSERT_TRUE(load_fails_untouched(self->dir, self->path, KEYSET_E_FORMAT))
			TH_LOG("length %ld", len);
	}
}

TEST_F(store, extended_file_rejected)
{
	uint8_t img[KEYSET_FILE_MAX + 64];
	long n = make_file(self->path, img, sizeof(img));

	ASSERT_GT(n, 0);
	for (long extra = 1; extra <= 49; extra += 8) {
		memset(img + n, 0, (size_t)extra);
		ASSERT_EQ(0, write_all_mode(self->path, img, (size_t)(n + extra), 0600));
		ASSERT_TRUE(load_fails_untouched(self->dir, self->path, KEYSET_E_FORMAT));
	}
	/* Longer than any valid file. */
	memset(img, 'x', sizeof(img));
	ASSERT_EQ(0, write_all_mode(self->path, img, sizeof(img), 0600));
	ASSERT_TRUE(load_fails_untouched(self->dir, self->path, KEYSET_E_FORMAT));
}

TEST_F(store, corrupt_byte_at_every_position)
{
	static const uint8_t flips[] = { 0x01, 0x80, 0xff };
	uint8_t img[KEYSET_FILE_MAX];
	struct keyset *ks;
	long n = make_file(self->path, img, sizeof(img));

	ASSERT_GT(n, 0);
	for (long i = 0; i < n; i++) {
		for (unsigned int f = 0; f < sizeof(flips); f++) {
			img[i] ^= flips[f];
			ASSERT_EQ(0, write_all_mode(self->path, img, (size_t)n, 0600));
			ASSERT_TRUE(load_fails_untouched(self->dir, self->path,
							 KEYSET_E_FORMAT))
				TH_LOG("byte %ld ^ %#x", i, flips[f]);
			img[i] ^= flips[f];
		}
	}
	/* And the pristine image still loads. */
	ASSERT_EQ(0, write_all_mode(self->path, img, (size_t)n, 0600));
	ks = file_keyset(self->path, 100, 7);
	ASSERT_NE(NULL, ks);
	EXPECT_EQ(0, keyset_load(ks, T0 + 200));
	EXPECT_EQ(3, keyset_count(ks));
	keyset_free(ks);
}

/* Damage with a recomputed checksum: the structure checks must catch it. */
TEST_F(store, wrong_magic_version_and_entries)
{
	uint8_t img[KEYSET_FILE_MAX], bad[KEYSET_FILE_MAX];
	long n = make_file(self->path, img, sizeof(img));
	size_t body = (size_t)n - 32;
	struct {
		size_t off;
		uint8_t val;
		const char *what;
	} cases[] = {
		{ 0, 'Y', "magic" },
		{ 7, 's', "magic" },
		{ 11, 2, "version 2" },
		{ 8, 1, "version 2^24+1" },
		{ 11, 0, "version 0" },
		{ 16 + 4, 1, "reserved non-zero" },
		{ 16 + 8, 0x80, "negative time" },
		{ 16 + 9, 0x10, "time beyond year 9999" },
	};

	ASSERT_EQ(16 + 3 * 48 + 32, n);
	for (unsigned int c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		memcpy(bad, img, (size_t)n);
		bad[cases[c].off] = cases[c].val;
		if (!memcmp(bad, img, (size_t)n))
			continue;
		resum(bad, body);
		ASSERT_EQ(0, write_all_mode(self->path, bad, (size_t)n, 0600));
		ASSERT_TRUE(load_fails_untouched(self->dir, self->path, KEYSET_E_FORMAT))
			TH_LOG("%s", cases[c].what);
	}
	/* id 0 in entry 1 */
	memcpy(bad, img, (size_t)n);
	memset(bad + 16 + 48, 0, 4);
	resum(bad, body);
	ASSERT_EQ(0, write_all_mode(self->path, bad, (size_t)n, 0600));
	ASSERT_TRUE(load_fails_untouched(self->dir, self->path, KEYSET_E_FORMAT));
	/* entry 2 with entry 0's id */
	memcpy(bad, img, (size_t)n);
	memcpy(bad + 16 + 96, bad + 16, 4);
	resum(bad, body);
	ASSERT_EQ(0, write_all_mode(self->path, bad, (size_t)n, 0600));
	ASSERT_TRUE(load_fails_untouched(self->dir, self->path, KEYSET_E_FORMAT));
	/* count 0, count 2 (short of the data), count 17 */
	for (unsigned int cnt = 0; cnt <= 17; cnt += 17) {
		memcpy(bad, img, (size_t)n);
		bad[15] = (uint8_t)cnt;
		resum(bad, body);
		ASSERT_EQ(0, write_all_mode(self->path, bad, (size_t)n, 0600));
		ASSERT_TRUE(load_fails_untouched(self->dir, self->path, KEYSET_E_FORMAT));
	}
	memcpy(bad, img, (size_t)n);
	bad[15] = 2;
	resum(bad, 16 + 2 * 48);
	ASSERT_EQ(0, write_all_mode(self->path, bad, (size_t)n, 0600));
	ASSERT_TRUE(load_fails_untouched(self->dir, self->path, KEYSET_E_FORMAT));
}

TEST_F(store, exposed_file_refused_with_name)
{
	static const mode_t modes[] = { 0644, 0640, 0604, 0620, 0602, 0610, 0601, 0666 };
	uint8_t img[KEYSET_FILE_MAX];
	struct keyset *ks;
	long n = make_file(self->path, img, sizeof(img));

	ASSERT_GT(n, 0);
	for (unsigned int i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		ASSERT_EQ(0, write_all_mode(self->path, img, (size_t)n, modes[i]));
		ASSERT_TRUE(load_fails_untouched(self->dir, self->path, KEYSET_E_MODE))
			TH_LOG("mode %o", modes[i]);
	}
	/* Owner read-only is fine while no rotation needs to write. */
	ASSERT_EQ(0, write_all_mode(self->path, img, (size_t)n, 0400));
	ks = file_keyset(self->path, 100, 7);
	ASSERT_NE(NULL, ks);
	EXPECT_EQ(0, keyset_load(ks, T0 + 200));
	keyset_free(ks);
}

TEST_F(store, not_a_file_refused)
{
	struct keyset *ks;
	struct stat st;
	char link[200];

	ASSERT_EQ(0, mkdir(self->path, 0700));
	ks = file_keyset(self->path, 100, 7);
	ASSERT_NE(NULL, ks);
	EXPECT_EQ(KEYSET_E_IO, keyset_load(ks, T0));
	EXPECT_NE(NULL, strstr(keyset_strerror(ks), self->path));
	keyset_free(ks);
	rmdir(self->path);

	/* A dangling symlink must not be replaced by a new key file. */
	snprintf(link, sizeof(link), "%s/nowhere", self->dir);
	ASSERT_EQ(0, symlink(link, self->path));
	ks = file_keyset(self->path, 100, 7);
	ASSERT_NE(NULL, ks);
	EXPECT_EQ(KEYSET_E_IO, keyset_load(ks, T0));
	EXPECT_NE(NULL, strstr(keyset_strerror(ks), self->path));
	ASSERT_EQ(0, lstat(self->path, &st));
	EXPECT_TRUE(S_ISLNK(st.st_mode));
	EXPECT_EQ(-1, access(link, F_OK));
	keyset_free(ks);
}

TEST_F(store, link_or_foreign_owner_refused)
{
	uint8_t img[KEYSET_FILE_MAX];
	char real[200];
	long n = make_file(self->path, img, sizeof(img));

	ASSERT_GT(n, 0);
	/* O_NOFOLLOW: even a link to a good file is refused. */
	snprintf(real, sizeof(real), "%s/real", self->dir);
	ASSERT_EQ(0, rename(self->path, real));
	ASSERT_EQ(0, symlink(real, self->path));
	ASSERT_TRUE(load_fails_untouched(self->dir, self->path, KEYSET_E_IO));
	ASSERT_EQ(0, unlink(self->path));
	ASSERT_EQ(0, rename(real, self->path));
	ASSERT_EQ(0, chown(self->path, 65534, 65534));
	ASSERT_TRUE(load_fails_untouched(self->dir, self->path, KEYSET_E_MODE));
}

/* Rotation follows the elapsed clock: a step of the real clock neither
 * drops every key (forward) nor freezes rotation (backward). */
TEST(real_clock_steps_do_not_move_the_schedule)
{
	struct keyset *ks = mem_keyset(100, 3, NULL);
	uint32_t first;

	ASSERT_NE(NULL, ks);
	ASSERT_EQ(0, keyset_start(ks, T0, 10));
	first = keyset_current(ks)->id;
	EXPECT_EQ(110, keyset_next_rotation(ks));
	/* Ten years forward, one second later. */
	EXPECT_EQ(0, keyset_update(ks, T0 + 315360000, 11));
	EXPECT_EQ(first, keyset_current(ks)->id);
	/* A day back, yet the interval has elapsed: it rotates. */
	EXPECT_EQ(1, keyset_update(ks, T0 - 86400, 110));
	EXPECT_NE(first, keyset_current(ks)->id);
	EXPECT_EQ(T0 - 86400, keyset_current(ks)->created);
	EXPECT_NE(NULL, keyset_find(ks, first));
	EXPECT_EQ(210, keyset_next_rotation(ks));
	/* Due at 210, 310 and 410: three rotations at once, the phase kept,
	 * so of the three older keys only the newest is still valid. */
	EXPECT_EQ(1, keyset_update(ks, T0, 430));
	EXPECT_EQ(510, keyset_next_rotation(ks));
	EXPECT_EQ(T0 - 20, keyset_current(ks)->created);
	EXPECT_EQ(2, keyset_count(ks));
	keyset_free(ks);
}

/* Loaded with the real clock behind the newest key: it seals for one whole
 * interval of elapsed time, then rotation goes on. */
TEST_F(store, load_with_clock_behind_rotates_later)
{
	struct keyset *ks = file_keyset(self->path, 100, 7);
	uint32_t id;

	ASSERT_NE(NULL, ks);
	ASSERT_EQ(0, keyset_start(ks, T0, 5));
	id = keyset_current(ks)->id;
	keyset_free(ks);
	ks = file_keyset(self->path, 100, 7);
	ASSERT_NE(NULL, ks);
	ASSERT_EQ(0, keyset_start(ks, T0 - 5000, 7));
	EXPECT_EQ(id, keyset_current(ks)->id);
	EXPECT_EQ(107, keyset_next_rotation(ks));
	EXPECT_EQ(0, keyset_update(ks, T0 - 4950, 106));
	EXPECT_EQ(1, keyset_update(ks, T0 - 4900, 107));
	EXPECT_NE(id, keyset_current(ks)->id);
	keyset_free(ks);
}

TEST(codec_round_trip)
{
	struct keyset_key keys[KEYSET_FILE_KEYS];
	uint8_t img[KEYSET_FILE_MAX];
	struct keyset *ks = mem_keyset(100, KEYSET_MAX_STALE, NULL);
	const char *why = NULL;
	long n;

	ASSERT_NE(NULL, ks);
	EXPECT_GT(0, keyset_encode(ks, img, sizeof(img)));
	ASSERT_EQ(0, keyset_load(ks, T0));
	for (int i = 1; i < 40; i++)
		ASSERT_EQ(1, keyset_rotate_if_due(ks, T0 + i * 100));
	ASSERT_EQ(KEYSET_FILE_KEYS, keyset_count(ks));
	n = keyset_encode(ks, img, sizeof(img));
	ASSERT_EQ(KEYSET_FILE_MAX, n);
	EXPECT_GT(0, keyset_encode(ks, img, sizeof(img) - 1));
	ASSERT_EQ(KEYSET_FILE_KEYS, keyset_decode(img, (size_t)n, keys, &why));
	for (unsigned int i = 0; i < KEYSET_FILE_KEYS; i++) {
		const struct keyset_key *k = keyset_key_at(ks, i);

		EXPECT_EQ(k->id, keys[i].id);
		EXPECT_EQ(k->created, keys[i].created);
		EXPECT_EQ(0, memcmp(k->key, keys[i].key, KEYSET_KEY_LEN));
	}
	EXPECT_EQ(0, memcmp(img, "XNTSKEYS\0\0\0\1\0\0\0\x10", 16));
	EXPECT_EQ(KEYSET_E_FORMAT, keyset_decode(img, (size_t)n - 1, keys, &why));
	EXPECT_NE(NULL, why);
	keyset_free(ks);
}

TEST_HARNESS_MAIN
