// SPDX-License-Identifier: GPL-2.0
/* Master keys: snapshots, rotation, shared-secret derivation and the key
 * storage file: see keyset.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "keyset.h"
#include "rcu.h"

#define FILE_MAGIC "XNTSKEYS"
#define FILE_VERSION 1
#define HDR_LEN 16
#define ENTRY_LEN 48
#define SUM_LEN 32
/* Attempts at a fresh id or temp name before the random source is blamed. */
#define MAX_TRIES 64
/* Periods either side of ours whose ids a snapshot recognises (not
 * accepts), so that cookies from hosts with a clock off by more than a
 * period are told apart from foreign ones. Below 128: ids carry p mod 256. */
#define FAR_PERIODS 32
#define FAR_MAX (2 * FAR_PERIODS + 1)

/* HKDF-SHA256 inputs (Documentation/key-storage.md). Changing any of them
 * changes every derived key: they are part of the fleet's wire contract. */
#define HKDF_SALT "xnts shared keyset v1"
#define INFO_KEY "xnts master key"
#define INFO_FP "xnts secret fingerprint"

struct far_id {
	uint32_t id;
	int32_t offset;
};

/* Immutable once published. */
struct snap {
	struct rcu_head rcu;
	size_t map_len;
	uint64_t generation;
	int64_t period;		/* shared: the period that seals; -1 random */
	unsigned int n;
	unsigned int n_far;
	struct keyset_key keys[KEYSET_MAX_KEYS];
	struct far_id far[FAR_MAX];
};

struct stats_a {
	_Atomic uint64_t stale, next, previous_secret, unknown, far, far_unknown;
	_Atomic int64_t last_far_offset, last_far_period;
};

struct keyset {
	_Atomic(struct snap *) snap;
	size_t map_len;
	long trusted_uid;
	int64_t interval;
	unsigned int stale;
	char *path;
	char *secret_path;
	char *prev_path;
	int64_t prev_grace;
	keyset_rand_fn rand_bytes;
	void *rand_arg;
	uint64_t generation;
	int started;
	int64_t due;		/* elapsed clock: next work for keyset_update */
	int shared;
	int prev_active;
	int64_t prev_until;	/* elapsed clock */
	size_t secret_len, prev_len;
	uint8_t secret[KEYSET_SECRET_MAX];
	uint8_t prev[KEYSET_SECRET_MAX];
	char fp[2][17];
	/* Lookups take const keysets; the counters live behind a pointer. */
	struct stats_a *st;
	struct stats_a st_store;
	char err[PATH_MAX + 512];
};

static int fail(struct keyset *ks, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct keyset *ks, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ks->err, sizeof(ks->err), fmt, ap);
	va_end(ap);
	return code;
}

void keyset_read_lock(void)
{
	rcu_read_lock();
}

void keyset_read_unlock(void)
{
	rcu_read_unlock();
}

/* ---- memory kept out of core dumps ---- */

static void *secure_alloc(size_t len, size_t *map_len)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t pg = page > 0 ? (size_t)page : 4096;
	void *p;

	len = (len + pg - 1) / pg * pg;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Keys must not land in a core file; without it we still run. */
	madvise(p, len, MADV_DONTDUMP);
	*map_len = len;
	return p;
}

static void secure_free(void *p, size_t map_len)
{
	OPENSSL_cleanse(p, map_len);
	munmap(p, map_len);
}

static struct snap *snap_new(void)
{
	size_t len;
	struct snap *s = secure_alloc(sizeof(*s), &len);

	if (!s)
		return NULL;
	s->map_len = len;
	s->period = -1;
	return s;
}

static void snap_free_rcu(struct rcu_head *h)
{
	struct snap *s = (struct snap *)((char *)h - offsetof(struct snap, rcu));

	secure_free(s, s->map_len);
}

/* The published snapshot (or NULL). Sequentially consistent, as rcu.c's
 * reader side requires; on x86 as cheap as a plain load. */
static const struct snap *cur(const struct keyset *ks)
{
	return atomic_load(&((struct keyset *)ks)->snap);
}

static void publish(struct keyset *ks, struct snap *s)
{
	struct snap *old;

	if (s)
		s->generation = ++ks->generation;
	old = atomic_exchange(&ks->snap, s);
	if (old)
		rcu_retire(&old->rcu, snap_free_rcu);
}

static int openssl_rand(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	if (len > INT_MAX)
		return -1;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

void keyset_config_default(struct keyset_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->rotation_interval = KEYSET_DEFAULT_INTERVAL;
	cfg->stale_key_count = KEYSET_DEFAULT_STALE;
	cfg->trusted_uid = -1;
}

static int path_ok(const char *p)
{
	return !p || (p[0] != '\0' && strlen(p) < PATH_MAX);
}

static int dup_path(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -1;
}

struct keyset *keyset_new(const struct keyset_config *cfg)
{
	struct keyset *ks;
	size_t len;

	if (!cfg || cfg->rotation_interval < 1 ||
	    cfg->rotation_interval > KEYSET_TIME_MAX ||
	    cfg->stale_key_count > KEYSET_MAX_STALE)
		return NULL;
	if (!path_ok(cfg->storage_path) || !path_ok(cfg->secret_path) ||
	    !path_ok(cfg->previous_secret_path))
		return NULL;
	/* Derived keys are never stored; a previous secret needs a current. */
	if ((cfg->secret_path && cfg->storage_path) ||
	    (cfg->previous_secret_path && !cfg->secret_path) ||
	    cfg->previous_grace < 0 || cfg->previous_grace > KEYSET_TIME_MAX)
		return NULL;
	ks = secure_alloc(sizeof(*ks), &len);
	if (!ks)
		return NULL;
	ks->map_len = len;
	ks->st = &ks->st_store;
	ks->interval = cfg->rotation_interval;
	ks->stale = cfg->stale_key_count;
	ks->trusted_uid = cfg->trusted_uid;
	ks->rand_bytes = cfg->rand_bytes ? cfg->rand_bytes : openssl_rand;
	ks->rand_arg = cfg->rand_arg;
	ks->shared = cfg->secret_path != NULL;
	ks->prev_grace = cfg->previous_grace;
	if (dup_path(&ks->path, cfg->storage_path) ||
	    dup_path(&ks->secret_path, cfg->secret_path) ||
	    dup_path(&ks->prev_path, cfg->previous_secret_path)) {
		keyset_free(ks);
		return NULL;
	}
	return ks;
}

void keyset_free(struct keyset *ks)
{
	if (!ks)
		return;
	publish(ks, NULL);
	/* Every reader is gone by contract; wait out any still in a section. */
	rcu_barrier();
	free(ks->path);
	free(ks->secret_path);
	free(ks->prev_path);
	secure_free(ks, ks->map_len);
}

const char *keyset_strerror(const struct keyset *ks)
{
	return ks->err[0] ? ks->err : "no error";
}

static int time_ok(int64_t t)
{
	return t >= 0 && t <= KEYSET_TIME_MAX;
}

static int id_in(const struct snap *s, uint32_t id)
{
	for (unsigned int i = 0; s && i < s->n && i < KEYSET_MAX_KEYS; i++)
		if (s->keys[i].id == id)
			return 1;
	return 0;
}

/* ---- random keys ---- */

/* A fresh key whose id is non-zero and unlike every id in the set. */
static int make_key(struct keyset *ks, const struct snap *old, struct keyset_key *k,
		    int64_t created)
{
	uint8_t idb[4];
	int tries;

	for (tries = 0; tries < MAX_TRIES; tries++) {
		if (ks->rand_bytes(ks->rand_arg, idb, sizeof(idb)))
			return fail(ks, KEYSET_E_RANDOM, "random source failed");
		k->id = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 |
			(uint32_t)idb[2] << 8 | idb[3];
		if (k->id != 0 && !id_in(old, k->id))
			break;
	}
	if (tries == MAX_TRIES)
		return fail(ks, KEYSET_E_RANDOM,
			    "random source gave no unused key id in %d tries",
			    MAX_TRIES);
	if (ks->rand_bytes(ks->rand_arg, k->key, sizeof(k->key))) {
		OPENSSL_cleanse(k, sizeof(*k));
		return fail(ks, KEYSET_E_RANDOM, "random source failed");
	}
	k->created = created;
	k->period = -1;
	k->flags = 0;
	return 0;
}

/*
 * Publish a set with m rotations counted at once: old keys move m places
 * down, those beyond the stale window go, and one fresh key becomes
 * current. Keys that would have been current during a long gap are never
 * generated: they could not have sealed any cookie.
 */
static int shift_in(struct keyset *ks, uint64_t m, int64_t created)
{
	const struct snap *old = cur(ks);
	unsigned int keep = 0;
	struct snap *s;
	int ret;

	s = snap_new();
	if (!s)
		return fail(ks, KEYSET_E_NOMEM, "out of memory");
	ret = make_key(ks, old, &s->keys[0], created);
	if (ret) {
		secure_free(s, s->map_len);
		return ret;
	}
	if (old && m <= ks->stale) {
		keep = ks->stale - (unsigned int)m + 1;
		if (keep > old->n)
			keep = old->n;
		memcpy(&s->keys[1], &old->keys[0], keep * sizeof(s->keys[0]));
	}
	s->n = keep + 1;
	publish(ks, s);
	return 0;
}

/* Rotations due by the elapsed clock; 1 if it rotated, 0 if not due. */
static int rotate_due(struct keyset *ks, int64_t real, int64_t elapsed)
{
	int64_t gap, created;
	uint64_t m;
	int ret;

	if (elapsed < ks->due)
		return 0;
	gap = elapsed - ks->due;
	m = 1 + (uint64_t)gap / (uint64_t)ks->interval;
	/* The boundary the schedule passed, on the real clock. */
	created = real - gap % ks->interval;
	ret = shift_in(ks, m, created < 0 ? 0 : created);
	if (ret)
		return ret;
	/* Both terms <= KEYSET_TIME_MAX + interval: no overflow. */
	ks->due += (int64_t)m * ks->interval;
	return 1;
}

/* ---- shared secret ---- */

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static int hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *info, size_t info_len,
		uint8_t *out, size_t out_len)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t n = out_len;
	int ok;

	ok = c && ikm_len <= INT_MAX && EVP_PKEY_derive_init(c) > 0 &&
	     EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()) > 0 &&
	     EVP_PKEY_CTX_set1_hkdf_salt(c, (const unsigned char *)HKDF_SALT,
					 (int)strlen(HKDF_SALT)) > 0 &&
	     EVP_PKEY_CTX_set1_hkdf_key(c, ikm, (int)ikm_len) > 0 &&
	     EVP_PKEY_CTX_add1_hkdf_info(c, info, (int)info_len) > 0 &&
	     EVP_PKEY_derive(c, out, &n) > 0 && n == out_len;
	EVP_PKEY_CTX_free(c);
	return ok ? 0 : -1;
}

int keyset_derive(const uint8_t *secret, size_t len, int64_t interval, int64_t p,
		  uint32_t *id, uint8_t key[KEYSET_KEY_LEN])
{
	uint8_t info[sizeof(INFO_KEY) - 1 + 16], out[KEYSET_KEY_LEN + 4];
	uint32_t h;

	if (!secret || len < KEYSET_SECRET_MIN || len > KEYSET_SECRET_MAX ||
	    interval < 1 || p < 0)
		return -1;
	memcpy(info, INFO_KEY, sizeof(INFO_KEY) - 1);
	put64(info + sizeof(INFO_KEY) - 1, (uint64_t)interval);
	put64(info + sizeof(INFO_KEY) - 1 + 8, (uint64_t)p);
	if (hkdf(secret, len, info, sizeof(info), out, sizeof(out))) {
		OPENSSL_cleanse(out, sizeof(out));
		return -1;
	}
	memcpy(key, out, KEYSET_KEY_LEN);
	h = (uint32_t)out[32] << 24 | (uint32_t)out[33] << 16 | (uint32_t)out[34] << 8;
	/* Never 0, and still p mod 256 in the low byte. */
	if (!h)
		h = 1U << 8;
	*id = h | (uint32_t)(p & 0xff);
	OPENSSL_cleanse(out, sizeof(out));
	return 0;
}

static int fingerprint(const uint8_t *secret, size_t len, char hex[17])
{
	uint8_t out[8];

	if (hkdf(secret, len, (const uint8_t *)INFO_FP, strlen(INFO_FP), out, sizeof(out)))
		return -1;
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
	return 0;
}

/* Append the key of period p unless its id is taken (the current secret,
 * added first, wins a collision: a cookie under the other one then NAKs). */
static int add_period(struct snap *s, const uint8_t *secret, size_t len,
		      int64_t interval, int64_t p, unsigned int flags)
{
	struct keyset_key *k = &s->keys[s->n];

	if (p < 0 || s->n >= KEYSET_MAX_KEYS)
		return 0;
	if (keyset_derive(secret, len, interval, p, &k->id, k->key))
		return -1;
	if (id_in(s, k->id)) {
		OPENSSL_cleanse(k, sizeof(*k));
		return 0;
	}
	k->period = p;
	k->created = p * interval;
	k->flags = flags;
	s->n++;
	return 0;
}

static int add_window(struct keyset *ks, struct snap *s, const uint8_t *secret, size_t len,
		      int64_t p, unsigned int flags)
{
	int ret = add_period(s, secret, len, ks->interval, p, flags);

	for (unsigned int i = 1; !ret && i <= ks->stale; i++)
		ret = add_period(s, secret, len, ks->interval, p - (int64_t)i, flags);
	if (!ret)
		ret = add_period(s, secret, len, ks->interval, p + 1, flags | KEYSET_KEY_NEXT);
	return ret;
}

static int build_shared(struct keyset *ks, int64_t p)
{
	struct snap *s = snap_new();
	uint8_t key[KEYSET_KEY_LEN];
	int ret;

	if (!s)
		return fail(ks, KEYSET_E_NOMEM, "out of memory");
	s->period = p;
	ret = add_window(ks, s, ks->secret, ks->secret_len, p, 0);
	if (!ret && ks->prev_active)
		ret = add_window(ks, s, ks->prev, ks->prev_len, p, KEYSET_KEY_PREVIOUS);
	for (int off = -FAR_PERIODS; !ret && off <= FAR_PERIODS; off++) {
		struct far_id *f = &s->far[s->n_far];

		if (p + off < 0 || (off >= -(int)ks->stale && off <= 1))
			continue;
		ret = keyset_derive(ks->secret, ks->secret_len, ks->interval, p + off,
				    &f->id, key);
		f->offset = off;
		s->n_far++;
	}
	OPENSSL_cleanse(key, sizeof(key));
	if (ret) {
		secure_free(s, s->map_len);
		return fail(ks, KEYSET_E_RANDOM, "HKDF-SHA256 failed");
	}
	publish(ks, s);
	return 0;
}

/* Period work: follow the real clock, drop an expired previous secret. */
static int update_shared(struct keyset *ks, int64_t real, int64_t elapsed)
{
	const struct snap *s = cur(ks);
	int64_t p = real / ks->interval, end;
	int changed = 0, ret;

	if (ks->prev_active && elapsed >= ks->prev_until) {
		ks->prev_active = 0;
		OPENSSL_cleanse(ks->prev, sizeof(ks->prev));
		changed = 1;
	}
	if (!s || s->period != p || changed) {
		ret = build_shared(ks, p);
		if (ret)
			return ret;
		changed = 1;
	}
	end = (p + 1) * ks->interval - real;
	ks->due = elapsed + end;
	if (ks->prev_active && ks->prev_until < ks->due)
		ks->due = ks->prev_until;
	return changed;
}

static int check_file(struct keyset *ks, int fd, const char *what, const char *path)
{
	struct stat st;

	if (fstat(fd, &st))
		return fail(ks, KEYSET_E_IO, "%s %s: stat: %s", what, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(ks, KEYSET_E_IO, "%s %s is not a regular file; refused", what, path);
	if (st.st_uid != geteuid() && st.st_uid != 0 &&
	    (ks->trusted_uid < 0 || st.st_uid != (uid_t)ks->trusted_uid))
		return fail(ks, KEYSET_E_MODE,
			    "%s %s is owned by uid %u, not by uid %u, the daemon's user or root; "
			    "refused", what, path, (unsigned int)st.st_uid, (unsigned int)geteuid());
	if (st.st_mode & 077)
		return fail(ks, KEYSET_E_MODE,
			    "%s %s has mode %04o, open to group/others; refused", what, path,
			    (unsigned int)(st.st_mode & 07777));
	return 0;
}

static int read_bounded(int fd, uint8_t *buf, size_t cap, size_t *len);

static int read_secret(struct keyset *ks, const char *path, uint8_t *out, size_t *out_len)
{
	static const char what[] = "shared secret file";
	uint8_t buf[KEYSET_SECRET_MAX + 1];
	size_t len = 0, i;
	int fd, ret, e;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0) {
		e = errno;
		return fail(ks, KEYSET_E_SECRET,
			    "%s %s: %s; refusing to start (never falls back to random keys)",
			    what, path, e == ELOOP ? "is a symbolic link" : strerror(e));
	}
	ret = check_file(ks, fd, what, path);
	if (!ret && read_bounded(fd, buf, sizeof(buf), &len))
		ret = fail(ks, KEYSET_E_IO, "%s %s: read: %s", what, path, strerror(errno));
	close(fd);
	if (ret) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return ret == KEYSET_E_MODE || ret == KEYSET_E_IO ? KEYSET_E_SECRET : ret;
	}
	for (i = 1; i < len && buf[i] == buf[0]; i++)
		;
	if (len < KEYSET_SECRET_MIN)
		ret = fail(ks, KEYSET_E_SECRET,
			   "%s %s is too short: %zu bytes, at least %d random bytes needed",
			   what, path, len, KEYSET_SECRET_MIN);
	else if (len > KEYSET_SECRET_MAX)
		ret = fail(ks, KEYSET_E_SECRET, "%s %s is longer than %d bytes", what, path,
			   KEYSET_SECRET_MAX);
	else if (i == len)
		ret = fail(ks, KEYSET_E_SECRET, "%s %s is one byte repeated, not a secret",
			   what, path);
	else {
		memcpy(out, buf, len);
		*out_len = len;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return ret;
}

static int start_shared(struct keyset *ks, int64_t real, int64_t elapsed)
{
	int ret;

	ret = read_secret(ks, ks->secret_path, ks->secret, &ks->secret_len);
	if (!ret && ks->prev_path)
		ret = read_secret(ks, ks->prev_path, ks->prev, &ks->prev_len);
	if (!ret && ks->prev_path && ks->prev_len == ks->secret_len &&
	    !CRYPTO_memcmp(ks->prev, ks->secret, ks->secret_len))
		ret = fail(ks, KEYSET_E_SECRET,
			   "shared secret files %s and %s hold the same secret",
			   ks->secret_path, ks->prev_path);
	if (!ret && (fingerprint(ks->secret, ks->secret_len, ks->fp[0]) ||
		     (ks->prev_path && fingerprint(ks->prev, ks->prev_len, ks->fp[1]))))
		ret = fail(ks, KEYSET_E_RANDOM, "HKDF-SHA256 failed");
	if (ret) {
		OPENSSL_cleanse(ks->secret, sizeof(ks->secret));
		OPENSSL_cleanse(ks->prev, sizeof(ks->prev));
		return ret;
	}
	ks->prev_active = ks->prev_path && ks->prev_grace > 0;
	ks->prev_until = elapsed + ks->prev_grace;
	if (!ks->prev_active)
		OPENSSL_cleanse(ks->prev, sizeof(ks->prev));
	ret = update_shared(ks, real, elapsed);
	return ret < 0 ? ret : 0;
}

/* ---- schedule ---- */

int keyset_update(struct keyset *ks, int64_t real, int64_t elapsed)
{
	int ret;

	if (!time_ok(real) || !time_ok(elapsed))
		return fail(ks, KEYSET_E_INVAL, "time %lld/%lld out of range",
			    (long long)real, (long long)elapsed);
	if (!ks->started || !cur(ks))
		return fail(ks, KEYSET_E_INVAL, "keyset not loaded");
	if (ks->shared)
		return update_shared(ks, real, elapsed);
	ret = rotate_due(ks, real, elapsed);
	if (ret <= 0)
		return ret;
	/* Published already: the file is written with nothing held. */
	ret = keyset_save(ks);
	return ret ? ret : 1;
}

int keyset_rotate_if_due(struct keyset *ks, int64_t now)
{
	return keyset_update(ks, now, now);
}

int keyset_rotate(struct keyset *ks, int64_t now)
{
	int ret;

	if (!time_ok(now))
		return fail(ks, KEYSET_E_INVAL, "time %lld out of range",
			    (long long)now);
	if (!ks->started || !cur(ks))
		return fail(ks, KEYSET_E_INVAL, "keyset not loaded");
	if (ks->shared)
		return fail(ks, KEYSET_E_INVAL,
			    "keys derived from a shared secret rotate with the period only");
	ret = shift_in(ks, 1, now);
	if (ret)
		return ret;
	ks->due = now + ks->interval;
	return keyset_save(ks);
}

int64_t keyset_next_rotation(const struct keyset *ks)
{
	return ks->started && cur(ks) ? ks->due : -1;
}

int keyset_is_shared(const struct keyset *ks)
{
	return ks->shared;
}

int64_t keyset_period(const struct keyset *ks)
{
	const struct snap *s = cur(ks);

	return s ? s->period : -1;
}

const char *keyset_fingerprint(const struct keyset *ks, int which)
{
	if (!ks->shared || which < 0 || which > 1 || !ks->fp[which][0])
		return NULL;
	return ks->fp[which];
}

int keyset_previous_active(const struct keyset *ks)
{
	return ks->prev_active;
}

void keyset_get_stats(const struct keyset *ks, struct keyset_stats *out)
{
	const struct stats_a *a = ks->st;

	out->stale = atomic_load_explicit(&a->stale, memory_order_relaxed);
	out->next = atomic_load_explicit(&a->next, memory_order_relaxed);
	out->previous_secret = atomic_load_explicit(&a->previous_secret, memory_order_relaxed);
	out->unknown = atomic_load_explicit(&a->unknown, memory_order_relaxed);
	out->far = atomic_load_explicit(&a->far, memory_order_relaxed);
	out->far_unknown = atomic_load_explicit(&a->far_unknown, memory_order_relaxed);
	out->last_far_offset = atomic_load_explicit(&a->last_far_offset, memory_order_relaxed);
	out->last_far_period = atomic_load_explicit(&a->last_far_period, memory_order_relaxed);
}

/* ---- lookups (any thread, inside a read-side section) ---- */

const struct keyset_key *keyset_current(const struct keyset *ks)
{
	const struct snap *s = cur(ks);

	return s && s->n ? &s->keys[0] : NULL;
}

static void note_far(struct stats_a *a, int64_t off, int64_t period, int unknown)
{
	atomic_fetch_add_explicit(&a->far, 1, memory_order_relaxed);
	if (unknown)
		atomic_fetch_add_explicit(&a->far_unknown, 1, memory_order_relaxed);
	atomic_store_explicit(&a->last_far_offset, off, memory_order_relaxed);
	atomic_store_explicit(&a->last_far_period, period, memory_order_relaxed);
}

/* Only keys other than the current one are counted: the hot case costs
 * no shared write. */
static void note_hit(const struct keyset *ks, const struct snap *s,
		     const struct keyset_key *k)
{
	struct stats_a *a = ks->st;
	int64_t off;

	if (k->flags & KEYSET_KEY_PREVIOUS)
		atomic_fetch_add_explicit(&a->previous_secret, 1, memory_order_relaxed);
	else if (k->flags & KEYSET_KEY_NEXT)
		atomic_fetch_add_explicit(&a->next, 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&a->stale, 1, memory_order_relaxed);
	if (s->period < 0)
		return;
	off = k->period - s->period;
	if (off > 1 || off < -1)
		note_far(a, off, s->period, 0);
}

static void note_miss(const struct keyset *ks, const struct snap *s, uint32_t id)
{
	struct stats_a *a = ks->st;

	atomic_fetch_add_explicit(&a->unknown, 1, memory_order_relaxed);
	for (unsigned int i = 0; i < s->n_far && i < FAR_MAX; i++) {
		if (s->far[i].id == id) {
			note_far(a, s->far[i].offset, s->period, 1);
			return;
		}
	}
}

const struct keyset_key *keyset_find(const struct keyset *ks, uint32_t id)
{
	const struct snap *s = cur(ks);

	if (!s)
		return NULL;
	for (unsigned int i = 0; i < s->n && i < KEYSET_MAX_KEYS; i++) {
		if (s->keys[i].id == id) {
			if (i)
				note_hit(ks, s, &s->keys[i]);
			return &s->keys[i];
		}
	}
	note_miss(ks, s, id);
	return NULL;
}

unsigned int keyset_count(const struct keyset *ks)
{
	const struct snap *s = cur(ks);

	return s ? s->n : 0;
}

const struct keyset_key *keyset_key_at(const struct keyset *ks, unsigned int i)
{
	const struct snap *s = cur(ks);

	return s && i < s->n ? &s->keys[i] : NULL;
}

uint64_t keyset_generation(const struct keyset *ks)
{
	const struct snap *s = cur(ks);

	return s ? s->generation : 0;
}

unsigned int keyset_export(const struct keyset *ks, struct keyset_export *out,
			   unsigned int cap)
{
	const struct snap *s = cur(ks);
	unsigned int i;

	for (i = 0; s && i < s->n && i < cap; i++) {
		out[i].id = s->keys[i].id;
		memcpy(out[i].key, s->keys[i].key, KEYSET_KEY_LEN);
	}
	return i;
}

/* ---- storage codec ---- */

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int sha256(const uint8_t *buf, size_t len, uint8_t out[SUM_LEN])
{
	unsigned int outl = 0;

	if (!EVP_Digest(buf, len, out, &outl, EVP_sha256(), NULL) ||
	    outl != SUM_LEN)
		return -1;
	return 0;
}

long keyset_encode(const struct keyset *ks, uint8_t *buf, size_t cap)
{
	const struct snap *s = cur(ks);
	size_t body;

	/* Derived keys are never stored. */
	if (!s || ks->shared || s->n == 0 || s->n > KEYSET_FILE_KEYS)
		return KEYSET_E_INVAL;
	body = HDR_LEN + (size_t)s->n * ENTRY_LEN;
	if (cap < body + SUM_LEN)
		return KEYSET_E_INVAL;
	memcpy(buf, FILE_MAGIC, 8);
	put32(buf + 8, FILE_VERSION);
	put32(buf + 12, s->n);
	for (unsigned int i = 0; i < s->n; i++) {
		uint8_t *e = buf + HDR_LEN + (size_t)i * ENTRY_LEN;
		uint64_t t = (uint64_t)s->keys[i].created;

		put32(e, s->keys[i].id);
		put32(e + 4, 0);
		put32(e + 8, (uint32_t)(t >> 32));
		put32(e + 12, (uint32_t)t);
		memcpy(e + 16, s->keys[i].key, KEYSET_KEY_LEN);
	}
	if (sha256(buf, body, buf + body))
		return KEYSET_E_INVAL;
	return (long)(body + SUM_LEN);
}

static int bad(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return KEYSET_E_FORMAT;
}

int keyset_decode(const uint8_t *buf, size_t len,
		  struct keyset_key keys[KEYSET_FILE_KEYS], const char **why)
{
	uint8_t sum[SUM_LEN];
	uint32_t count;
	size_t body;

	/* Identify the file before judging its length, so that a future
	 * version is reported as such rather than as truncated. */
	if (len < 8 || memcmp(buf, FILE_MAGIC, 8) != 0)
		return bad(why, len < 8 ? "truncated (no header)" :
			   "not an xnts key file (bad magic)");
	if (len < HDR_LEN)
		return bad(why, "truncated (short header)");
	if (get32(buf + 8) != FILE_VERSION)
		return bad(why, "unsupported format version");
	count = get32(buf + 12);
	if (count == 0 || count > KEYSET_FILE_KEYS)
		return bad(why, "bad key count");
	body = HDR_LEN + (size_t)count * ENTRY_LEN;
	if (len < body + SUM_LEN)
		return bad(why, "truncated");
	if (len > body + SUM_LEN)
		return bad(why, "trailing data after checksum");
	if (sha256(buf, body, sum) || CRYPTO_memcmp(sum, buf + body, SUM_LEN))
		return bad(why, "checksum mismatch (corrupt)");
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = buf + HDR_LEN + (size_t)i * ENTRY_LEN;
		uint64_t t = (uint64_t)get32(e + 8) << 32 | get32(e + 12);

		keys[i].id = get32(e);
		keys[i].created = (int64_t)t;
		keys[i].period = -1;
		keys[i].flags = 0;
		memcpy(keys[i].key, e + 16, KEYSET_KEY_LEN);
		if (keys[i].id == 0 || get32(e + 4) != 0 ||
		    t > (uint64_t)KEYSET_TIME_MAX)
			goto bad_entry;
		for (uint32_t j = 0; j < i; j++)
			if (keys[j].id == keys[i].id)
				goto bad_entry;
	}
	return (int)count;
bad_entry:
	OPENSSL_cleanse(keys, sizeof(keys[0]) * KEYSET_FILE_KEYS);
	return bad(why, "invalid key entry");
}

/* ---- storage file ---- */

/* Split ks->path into directory and last component. */
static int split_path(const struct keyset *ks, char *dir, char *base)
{
	const char *slash = strrchr(ks->path, '/');
	size_t dlen;

	if (!slash) {
		strcpy(dir, ".");
		strcpy(base, ks->path);
	} else {
		dlen = (size_t)(slash - ks->path);
		if (dlen == 0)
			dlen = 1;	/* "/file": the root directory */
		memcpy(dir, ks->path, dlen);
		dir[dlen] = '\0';
		strcpy(base, slash + 1);
	}
	return base[0] == '\0' || strlen(base) > NAME_MAX ? -1 : 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t r = write(fd, buf + off, len - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

/* Put the new file in place. If no_replace, an existing file wins. */
static int install(int dfd, const char *tmp, const char *base, int no_replace)
{
	if (!no_replace)
		return renameat(dfd, tmp, dfd, base);
	if (renameat2(dfd, tmp, dfd, base, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* Filesystem without RENAME_NOREPLACE: link() never replaces. */
	if (linkat(dfd, tmp, dfd, base, 0))
		return -1;
	unlinkat(dfd, tmp, 0);
	return 0;
}

static int write_file(struct keyset *ks, int no_replace)
{
	char dir[PATH_MAX], base[NAME_MAX + 1], tmp[NAME_MAX + 1];
	uint8_t img[KEYSET_FILE_MAX], rnd[4];
	int dfd, fd = -1, ret, tries, e;
	long len;

	if (split_path(ks, dir, base))
		return fail(ks, KEYSET_E_INVAL, "key storage path %s: bad file name",
			    ks->path);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		e = errno;
		return fail(ks, e == ENOENT || e == ENOTDIR ? KEYSET_E_NODIR : KEYSET_E_IO,
			    "key storage file %s: directory %s: %s%s", ks->path,
			    dir, strerror(e),
			    e == ENOENT ? " (parent directories are not created)" : "");
	}
	len = keyset_encode(ks, img, sizeof(img));
	if (len < 0) {
		close(dfd);
		return fail(ks, KEYSET_E_INVAL, "keyset empty, nothing to save");
	}
	for (tries = 0; tries < MAX_TRIES && fd < 0; tries++) {
		if (ks->rand_bytes(ks->rand_arg, rnd, sizeof(rnd))) {
			ret = fail(ks, KEYSET_E_RANDOM, "random source failed");
			goto out;
		}
		if (snprintf(tmp, sizeof(tmp), ".%.200s.tmp-%08x", base,
			     get32(rnd)) >= (int)sizeof(tmp))
			break;
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			    0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		e = errno;
		ret = fail(ks, KEYSET_E_IO,
			   "key storage file %s: cannot create temporary file in %s: %s",
			   ks->path, dir, strerror(e));
		goto out;
	}
	/* The umask must not decide who may read master keys. */
	if (fchmod(fd, 0600) || write_all(fd, img, (size_t)len) || fsync(fd)) {
		e = errno;
		close(fd);
		goto io_fail;
	}
	if (close(fd)) {
		e = errno;
		goto io_fail;
	}
	if (install(dfd, tmp, base, no_replace)) {
		e = errno;
		unlinkat(dfd, tmp, 0);
		if (e == EEXIST) {
			ret = fail(ks, KEYSET_E_EXISTS,
				   "key storage file %s appeared meanwhile; not replaced",
				   ks->path);
			goto out;
		}
		ret = fail(ks, KEYSET_E_IO, "key storage file %s: rename: %s",
			   ks->path, strerror(e));
		goto out;
	}
	/* Make the rename itself durable. */
	if (fsync(dfd)) {
		e = errno;
		ret = fail(ks, KEYSET_E_IO, "key storage file %s: fsync of %s: %s",
			   ks->path, dir, strerror(e));
		goto out;
	}
	ret = 0;
	goto out;
io_fail:
	unlinkat(dfd, tmp, 0);
	ret = fail(ks, KEYSET_E_IO, "key storage file %s: writing %s/%s: %s",
		   ks->path, dir, tmp, strerror(e));
out:
	OPENSSL_cleanse(img, sizeof(img));
	close(dfd);
	return ret;
}

/* The only place keys are written out; it reads the published snapshot
 * and holds nothing while it writes and syncs. */
int keyset_save(struct keyset *ks)
{
	if (!ks->path || ks->shared)
		return 0;
	return write_file(ks, 0);
}

/* Read at most cap bytes; *len gets the count. cap + 1 is tried so that an
 * oversized file shows up as such. */
static int read_bounded(int fd, uint8_t *buf, size_t cap, size_t *len)
{
	size_t off = 0;

	while (off < cap) {
		ssize_t r = read(fd, buf + off, cap - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		off += (size_t)r;
	}
	*len = off;
	return 0;
}

static int load_file(struct keyset *ks, int fd, int64_t real, int64_t elapsed)
{
	struct keyset_key keys[KEYSET_FILE_KEYS];
	uint8_t img[KEYSET_FILE_MAX + 1];
	const char *why = "unknown";
	struct snap *s;
	size_t len;
	int n, ret, trimmed = 0;
	int64_t age;
	uint64_t m;

	ret = check_file(ks, fd, "key storage file", ks->path);
	if (ret)
		return ret;
	if (read_bounded(fd, img, sizeof(img), &len))
		return fail(ks, KEYSET_E_IO, "key storage file %s: read: %s",
			    ks->path, strerror(errno));
	n = len > KEYSET_FILE_MAX ? bad(&why, "too long") :
	    keyset_decode(img, len, keys, &why);
	OPENSSL_cleanse(img, sizeof(img));
	if (n < 0)
		return fail(ks, KEYSET_E_FORMAT,
			    "key storage file %s unusable: %s; left unchanged",
			    ks->path, why);
	/* stale-key-count may have been lowered since the file was written. */
	if ((unsigned int)n > ks->stale + 1) {
		n = (int)ks->stale + 1;
		trimmed = 1;
	}
	s = snap_new();
	if (!s) {
		OPENSSL_cleanse(keys, sizeof(keys));
		return fail(ks, KEYSET_E_NOMEM, "out of memory");
	}
	memcpy(s->keys, keys, (size_t)n * sizeof(keys[0]));
	OPENSSL_cleanse(keys, sizeof(keys));
	s->n = (unsigned int)n;
	publish(ks, s);
	/* Only the real clock spans a restart. Behind the key's creation: the
	 * key is new, and seals for a whole interval of elapsed time. */
	age = real - s->keys[0].created;
	if (age < 0)
		age = 0;
	m = (uint64_t)age / (uint64_t)ks->interval;
	if (m) {
		ret = shift_in(ks, m, s->keys[0].created + (int64_t)m * ks->interval);
		if (ret)
			return ret;
		age -= (int64_t)m * ks->interval;
	}
	ks->due = elapsed + ks->interval - age;
	ks->started = 1;
	if (m || trimmed)
		return keyset_save(ks);
	return 0;
}

int keyset_start(struct keyset *ks, int64_t real, int64_t elapsed)
{
	struct stat st;
	int fd, ret, e;

	ks->err[0] = '\0';
	if (ks->started || cur(ks))
		return fail(ks, KEYSET_E_INVAL, "keyset already loaded");
	if (!time_ok(real) || !time_ok(elapsed))
		return fail(ks, KEYSET_E_INVAL, "time %lld/%lld out of range",
			    (long long)real, (long long)elapsed);
	if (ks->shared) {
		ret = start_shared(ks, real, elapsed);
		ks->started = !ret;
		return ret;
	}
	if (!ks->path) {
		ret = shift_in(ks, 1, real);
		ks->due = elapsed + ks->interval;
		ks->started = !ret;
		return ret;
	}
	fd = open(ks->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd >= 0) {
		/* If only the save after a rotation fails, the keys stay
		 * loaded and usable; the caller decides whether to go on. */
		ret = load_file(ks, fd, real, elapsed);
		close(fd);
		if (ret && !ks->started)
			publish(ks, NULL);
		return ret;
	}
	e = errno;
	if (e == ELOOP)
		return fail(ks, KEYSET_E_IO,
			    "key storage file %s is a symbolic link; refusing to start",
			    ks->path);
	/* A dangling symlink also gives ENOENT: do not replace it. */
	if (e != ENOENT || lstat(ks->path, &st) == 0)
		return fail(ks, KEYSET_E_IO,
			    "cannot open key storage file %s: %s; refusing to start",
			    ks->path, e == ENOENT ? "dangling symbolic link" : strerror(e));
	ret = shift_in(ks, 1, real);
	if (ret)
		return ret;
	ret = write_file(ks, 1);
	if (ret) {
		publish(ks, NULL);
		return ret;
	}
	ks->due = elapsed + ks->interval;
	ks->started = 1;
	return 0;
}

int keyset_load(struct keyset *ks, int64_t now)
{
	return keyset_start(ks, now, now);
}
