// SPDX-License-Identifier: GPL-2.0
/* Master keys, rotation and the key storage file: see keyset.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "keyset.h"

#define FILE_MAGIC "XNTSKEYS"
#define FILE_VERSION 1
#define HDR_LEN 16
#define ENTRY_LEN 48
#define SUM_LEN 32
/* Attempts at a fresh id or temp name before the random source is blamed. */
#define MAX_TRIES 64

struct keyset {
	int64_t interval;
	unsigned int stale;
	char *path;
	keyset_rand_fn rand_bytes;
	void *rand_arg;
	unsigned int n;
	uint64_t generation;
	struct keyset_key keys[KEYSET_MAX_KEYS];
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
}

struct keyset *keyset_new(const struct keyset_config *cfg)
{
	struct keyset *ks;

	if (!cfg || cfg->rotation_interval < 1 ||
	    cfg->rotation_interval > KEYSET_TIME_MAX ||
	    cfg->stale_key_count > KEYSET_MAX_STALE)
		return NULL;
	if (cfg->storage_path && (cfg->storage_path[0] == '\0' ||
				  strlen(cfg->storage_path) >= PATH_MAX))
		return NULL;
	ks = calloc(1, sizeof(*ks));
	if (!ks)
		return NULL;
	ks->interval = cfg->rotation_interval;
	ks->stale = cfg->stale_key_count;
	ks->rand_bytes = cfg->rand_bytes ? cfg->rand_bytes : openssl_rand;
	ks->rand_arg = cfg->rand_arg;
	if (cfg->storage_path) {
		ks->path = strdup(cfg->storage_path);
		if (!ks->path) {
			free(ks);
			return NULL;
		}
	}
	return ks;
}

void keyset_free(struct keyset *ks)
{
	if (!ks)
		return;
	free(ks->path);
	OPENSSL_cleanse(ks, sizeof(*ks));
	free(ks);
}

const char *keyset_strerror(const struct keyset *ks)
{
	return ks->err[0] ? ks->err : "no error";
}

static int time_ok(int64_t t)
{
	return t >= 0 && t <= KEYSET_TIME_MAX;
}

static int id_in_set(const struct keyset *ks, uint32_t id)
{
	for (unsigned int i = 0; i < ks->n && i < KEYSET_MAX_KEYS; i++)
		if (ks->keys[i].id == id)
			return 1;
	return 0;
}

/* A fresh key whose id is non-zero and unlike every id in the set. */
static int make_key(struct keyset *ks, struct keyset_key *k, int64_t created)
{
	uint8_t idb[4];
	int tries;

	for (tries = 0; tries < MAX_TRIES; tries++) {
		if (ks->rand_bytes(ks->rand_arg, idb, sizeof(idb)))
			return fail(ks, KEYSET_E_RANDOM, "random source failed");
		k->id = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 |
			(uint32_t)idb[2] << 8 | idb[3];
		if (k->id != 0 && !id_in_set(ks, k->id))
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
	return 0;
}

/*
 * Count m rotations at once: old keys move m places down, those beyond the
 * stale window go, and one fresh key becomes current. Keys that would have
 * been current during a long gap are never generated: they could not have
 * sealed any cookie.
 */
static int shift_in(struct keyset *ks, uint64_t m, int64_t created)
{
	struct keyset_key fresh;
	unsigned int keep = 0;
	int ret;

	ret = make_key(ks, &fresh, created);
	if (ret)
		return ret;
	if (m <= ks->stale) {
		keep = ks->stale - (unsigned int)m + 1;
		if (keep > ks->n)
			keep = ks->n;
	}
	memmove(&ks->keys[1], &ks->keys[0], keep * sizeof(ks->keys[0]));
	ks->keys[0] = fresh;
	if (keep + 1 < KEYSET_MAX_KEYS)
		OPENSSL_cleanse(&ks->keys[keep + 1],
				(KEYSET_MAX_KEYS - keep - 1) * sizeof(ks->keys[0]));
	ks->n = keep + 1;
	ks->generation++;
	OPENSSL_cleanse(&fresh, sizeof(fresh));
	return 0;
}

/* Rotate in memory only; 1 if it did, 0 if not due. */
static int rotate_due(struct keyset *ks, int64_t now)
{
	const struct keyset_key *cur = &ks->keys[0];
	uint64_t m;
	int ret;

	if (now - cur->created < ks->interval)
		return 0;
	m = (uint64_t)(now - cur->created) / (uint64_t)ks->interval;
	/* Both operands <= KEYSET_TIME_MAX, and the product <= now. */
	ret = shift_in(ks, m, cur->created + (int64_t)m * ks->interval);
	return ret ? ret : 1;
}

int keyset_rotate_if_due(struct keyset *ks, int64_t now)
{
	int ret;

	if (!time_ok(now))
		return fail(ks, KEYSET_E_INVAL, "time %lld out of range",
			    (long long)now);
	if (ks->n == 0)
		return fail(ks, KEYSET_E_INVAL, "keyset not loaded");
	ret = rotate_due(ks, now);
	if (ret <= 0)
		return ret;
	ret = keyset_save(ks);
	return ret ? ret : 1;
}

int keyset_rotate(struct keyset *ks, int64_t now)
{
	int ret;

	if (!time_ok(now))
		return fail(ks, KEYSET_E_INVAL, "time %lld out of range",
			    (long long)now);
	if (ks->n == 0)
		return fail(ks, KEYSET_E_INVAL, "keyset not loaded");
	ret = shift_in(ks, 1, now);
	if (ret)
		return ret;
	return keyset_save(ks);
}

int64_t keyset_next_rotation(const struct keyset *ks)
{
	if (ks->n == 0)
		return -1;
	return ks->keys[0].created + ks->interval;
}

const struct keyset_key *keyset_current(const struct keyset *ks)
{
	return ks->n ? &ks->keys[0] : NULL;
}

const struct keyset_key *keyset_find(const struct keyset *ks, uint32_t id)
{
	for (unsigned int i = 0; i < ks->n && i < KEYSET_MAX_KEYS; i++)
		if (ks->keys[i].id == id)
			return &ks->keys[i];
	return NULL;
}

unsigned int keyset_count(const struct keyset *ks)
{
	return ks->n;
}

const struct keyset_key *keyset_key_at(const struct keyset *ks, unsigned int i)
{
	return i < ks->n ? &ks->keys[i] : NULL;
}

uint64_t keyset_generation(const struct keyset *ks)
{
	return ks->generation;
}

unsigned int keyset_export(const struct keyset *ks, struct keyset_export *out,
			   unsigned int cap)
{
	unsigned int i;

	for (i = 0; i < ks->n && i < cap; i++) {
		out[i].id = ks->keys[i].id;
		memcpy(out[i].key, ks->keys[i].key, KEYSET_KEY_LEN);
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
	size_t body = HDR_LEN + (size_t)ks->n * ENTRY_LEN;

	if (ks->n == 0 || ks->n > KEYSET_MAX_KEYS || cap < body + SUM_LEN)
		return KEYSET_E_INVAL;
	memcpy(buf, FILE_MAGIC, 8);
	put32(buf + 8, FILE_VERSION);
	put32(buf + 12, ks->n);
	for (unsigned int i = 0; i < ks->n; i++) {
		uint8_t *e = buf + HDR_LEN + (size_t)i * ENTRY_LEN;
		uint64_t t = (uint64_t)ks->keys[i].created;

		put32(e, ks->keys[i].id);
		put32(e + 4, 0);
		put32(e + 8, (uint32_t)(t >> 32));
		put32(e + 12, (uint32_t)t);
		memcpy(e + 16, ks->keys[i].key, KEYSET_KEY_LEN);
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
		  struct keyset_key keys[KEYSET_MAX_KEYS], const char **why)
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
	if (count == 0 || count > KEYSET_MAX_KEYS)
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
	OPENSSL_cleanse(keys, sizeof(keys[0]) * KEYSET_MAX_KEYS);
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

int keyset_save(struct keyset *ks)
{
	if (!ks->path)
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

static int load_file(struct keyset *ks, int fd, int64_t now)
{
	struct keyset_key keys[KEYSET_MAX_KEYS];
	uint8_t img[KEYSET_FILE_MAX + 1];
	const char *why = "unknown";
	struct stat st;
	size_t len;
	int n, ret, trimmed = 0;

	if (fstat(fd, &st))
		return fail(ks, KEYSET_E_IO, "key storage file %s: stat: %s",
			    ks->path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(ks, KEYSET_E_IO,
			    "key storage file %s is not a regular file; refusing to use it",
			    ks->path);
	if (st.st_mode & 077)
		return fail(ks, KEYSET_E_MODE,
			    "key storage file %s has mode %04o, open to group/others; refused",
			    ks->path, (unsigned int)(st.st_mode & 07777));
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
	memcpy(ks->keys, keys, (size_t)n * sizeof(keys[0]));
	OPENSSL_cleanse(keys, sizeof(keys));
	ks->n = (unsigned int)n;
	ks->generation++;
	ret = rotate_due(ks, now);
	if (ret < 0)
		return ret;
	if (ret > 0 || trimmed)
		return keyset_save(ks);
	return 0;
}

int keyset_load(struct keyset *ks, int64_t now)
{
	struct stat st;
	int fd, ret, e;

	ks->err[0] = '\0';
	if (ks->n)
		return fail(ks, KEYSET_E_INVAL, "keyset already loaded");
	if (!time_ok(now))
		return fail(ks, KEYSET_E_INVAL, "time %lld out of range",
			    (long long)now);
	if (!ks->path)
		return shift_in(ks, 1, now);
	fd = open(ks->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		/* If only the save after a rotation fails, the keys stay
		 * loaded and usable; the caller decides whether to go on. */
		ret = load_file(ks, fd, now);
		close(fd);
		return ret;
	}
	e = errno;
	/* A dangling symlink also gives ENOENT: do not replace it. */
	if (e != ENOENT || lstat(ks->path, &st) == 0)
		return fail(ks, KEYSET_E_IO,
			    "cannot open key storage file %s: %s; refusing to start",
			    ks->path, e == ENOENT ? "dangling symbolic link" : strerror(e));
	ret = shift_in(ks, 1, now);
	if (ret)
		return ret;
	ret = write_file(ks, 1);
	if (ret) {
		OPENSSL_cleanse(ks->keys, sizeof(ks->keys));
		ks->n = 0;
	}
	return ret;
}
