/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keyset: the NTS server's master keys (cookie keys), their rotation and
 * their storage file.
 *
 * Contract:
 * - A master key is {id, 32-byte AES-SIV-CMAC-256 key, creation time}. The
 *   set holds the current key (which seals every new cookie) and up to
 *   stale_key_count older keys, which only open cookies. Newest first.
 * - Time is always passed in by the caller, as seconds of CLOCK_REALTIME
 *   (0..KEYSET_TIME_MAX). Nothing here reads a clock, so the schedule can be
 *   driven by simulated time.
 * - Schedule: rotation is due when now >= current->created + interval. If m
 *   intervals have passed, that counts as m rotations: the old current key
 *   and stale keys move m places down and whatever falls beyond
 *   stale_key_count is dropped; one fresh key is generated, created at
 *   current->created + m * interval (the schedule keeps its phase). So a key
 *   seals for one interval and opens for stale_key_count more. If the clock
 *   is behind the current key's creation, nothing rotates (a server booting
 *   with a clock in the past must not throw its keys away);
 *   keyset_rotate() forces a rotation.
 * - Key ids are random 32-bit values, never 0, never equal to any id in the
 *   set. Random rather than a counter so cookies do not reveal how often the
 *   server restarted or rotated.
 * - Storage (when storage_path is set), see Documentation/key-storage.md:
 *   keyset_load() reads the file, or creates it if it does not exist. Parent
 *   directories are never created. Every write is atomic (temp file in the
 *   same directory, fsync, rename, fsync of the directory) with mode 0600.
 *   A file that exists but is unreadable, truncated, corrupt, of another
 *   version, or has any permission bit for group or others is an error
 *   naming the file, and that file is left untouched.
 * - Errors: functions return 0 (or a count) on success and a negative
 *   KEYSET_E_* code on failure; keyset_strerror() then gives a message.
 * - Not thread safe. Lookups (keyset_find, keyset_current) only read, so
 *   they may run concurrently with each other but not with rotation, load
 *   or set-up. Workers that must not wait can use keyset_export() copies.
 *   The keyset holds no cipher context: see cookie.h for those.
 */
#ifndef XNTS_KEYSET_H
#define XNTS_KEYSET_H

#include <stddef.h>
#include <stdint.h>

#define KEYSET_KEY_LEN 32
#define KEYSET_MAX_STALE 15
/* Current key plus the most stale keys allowed: size a BPF map with this. */
#define KEYSET_MAX_KEYS (KEYSET_MAX_STALE + 1)
#define KEYSET_DEFAULT_INTERVAL 86400
#define KEYSET_DEFAULT_STALE 7
/* Year 9999: far enough, and keeps created + n * interval from overflowing. */
#define KEYSET_TIME_MAX 253402300799LL

enum keyset_err {
	KEYSET_E_INVAL = -1,	/* bad argument or configuration */
	KEYSET_E_NOMEM = -2,
	KEYSET_E_RANDOM = -3,	/* random source failed */
	KEYSET_E_NODIR = -4,	/* parent directory of the file is missing */
	KEYSET_E_IO = -5,	/* open/read/write/fsync/rename failed */
	KEYSET_E_MODE = -6,	/* file accessible to group or others */
	KEYSET_E_FORMAT = -7,	/* truncated, corrupt, wrong magic/version */
	KEYSET_E_EXISTS = -8,	/* file appeared while we were creating it */
};

struct keyset_key {
	uint32_t id;
	int64_t created;	/* seconds, CLOCK_REALTIME */
	uint8_t key[KEYSET_KEY_LEN];
};

/* Returns 0 and fills buf with len random bytes, or -1. */
typedef int (*keyset_rand_fn)(void *arg, uint8_t *buf, size_t len);

struct keyset_config {
	int64_t rotation_interval;	/* key-rotation-interval, 1..KEYSET_TIME_MAX */
	unsigned int stale_key_count;	/* stale-key-count, 0..KEYSET_MAX_STALE */
	const char *storage_path;	/* key-storage-path; NULL: memory only */
	/* NULL: OpenSSL RAND_bytes. Tests plug in their own. */
	keyset_rand_fn rand_bytes;
	void *rand_arg;
};

/* Flat copy of one valid key, for a BPF map keyed by the cookie's key id.
 * id is in host order: the cookie carries it big endian (htonl(id)). */
struct keyset_export {
	uint32_t id;
	uint8_t key[KEYSET_KEY_LEN];
};

struct keyset;

/* Defaults of ntpd-rs: interval 86400 s, 7 stale keys, no storage. */
void keyset_config_default(struct keyset_config *cfg);

/* An empty set (no keys yet); the path is copied. NULL on bad config. */
struct keyset *keyset_new(const struct keyset_config *cfg);
/* Wipes the keys. */
void keyset_free(struct keyset *ks);

/*
 * Bring the set up at time now. With a storage path: load the file, or
 * create it with one fresh key if it does not exist; then rotate if due and
 * save if anything changed. Without a path: one fresh key. Call once.
 */
int keyset_load(struct keyset *ks, int64_t now);

/* 1 if it rotated (and saved), 0 if not due, < 0 on error. If only the
 * save failed (KEYSET_E_IO), the set in memory has rotated all the same;
 * keyset_save() can retry. */
int keyset_rotate_if_due(struct keyset *ks, int64_t now);
/* Rotate now regardless of the schedule; the new key is created at now. */
int keyset_rotate(struct keyset *ks, int64_t now);
/* Write the set to the storage path (no-op without one). */
int keyset_save(struct keyset *ks);

/* When the next rotation falls due (seconds), or -1 if the set is empty. */
int64_t keyset_next_rotation(const struct keyset *ks);

/* Key that seals new cookies, NULL before keyset_load(). */
const struct keyset_key *keyset_current(const struct keyset *ks);
/* Valid key by id, NULL if none: a scan of at most KEYSET_MAX_KEYS. */
const struct keyset_key *keyset_find(const struct keyset *ks, uint32_t id);
/* Number of valid keys (current + stale). */
unsigned int keyset_count(const struct keyset *ks);
/* i-th valid key, 0 = current, then older; NULL past the end. */
const struct keyset_key *keyset_key_at(const struct keyset *ks, unsigned int i);
/* Bumped on every change of the set: re-export when it moves. */
uint64_t keyset_generation(const struct keyset *ks);
/* Copies up to cap valid keys, current first; returns how many. */
unsigned int keyset_export(const struct keyset *ks, struct keyset_export *out,
			   unsigned int cap);

/* Message for the last error (names the file where one is involved). */
const char *keyset_strerror(const struct keyset *ks);

/*
 * Storage codec, exposed for tests and the fuzzer. keyset_encode() writes
 * the file image of the set into buf (returns its length, or < 0 if cap is
 * too small); KEYSET_FILE_MAX bounds it. keyset_decode() parses an image
 * into keys[] (newest first) and returns the key count or KEYSET_E_FORMAT
 * with a reason in why (may be NULL).
 */
#define KEYSET_FILE_MAX (16 + 48 * KEYSET_MAX_KEYS + 32)
long keyset_encode(const struct keyset *ks, uint8_t *buf, size_t cap);
int keyset_decode(const uint8_t *buf, size_t len,
		  struct keyset_key keys[KEYSET_MAX_KEYS], const char **why);

#endif
