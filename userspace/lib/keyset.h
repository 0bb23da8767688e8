/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keyset: the NTS server's master keys (cookie keys), their rotation, and
 * where they come from: random keys kept in a storage file, or keys derived
 * from a secret shared by a fleet (Documentation/key-storage.md).
 *
 * Contract:
 * - A master key is {id, 32-byte AES-SIV-CMAC-256 key, creation time}. The
 *   set holds the current key (which seals every new cookie) and the keys
 *   that only open cookies. keyset_key_at(0) is the current key.
 * - Readers never lock. The set lives in an immutable snapshot published by
 *   pointer (rcu.h); every change builds a new snapshot and retires the old
 *   one. A reader brackets its use of keys with keyset_read_lock() and
 *   keyset_read_unlock() (per thread, nestable, never blocks); pointers it
 *   got from keyset_current/find/key_at stay valid until the unlock. The
 *   thread that changes the set (load, update, rotate, free) may read
 *   without the bracket. Changes come from one thread at a time.
 * - Time is passed in by the caller, nothing here reads a clock: real is
 *   CLOCK_REALTIME seconds (0..KEYSET_TIME_MAX), elapsed a clock that no
 *   step moves (CLOCK_BOOTTIME seconds in the daemon). The one-clock calls
 *   (keyset_load, keyset_rotate_if_due, keyset_rotate) pass now for both.
 * - Random keys (no shared secret): rotation is due when the current key
 *   has sealed for interval seconds of elapsed time. If m intervals have
 *   passed, that counts as m rotations: the old keys move m places down,
 *   whatever falls beyond stale_key_count is dropped, one fresh key is
 *   generated with its creation time keeping the schedule's phase. So a key
 *   seals for one interval and opens for stale_key_count more, and a step
 *   of the real clock neither drops every key nor freezes rotation. Only at
 *   load, from the storage file, is the age of the current key taken from
 *   the real clock (a clock behind the key's creation counts as age 0).
 *   keyset_rotate() forces a rotation.
 * - Key ids are random 32-bit values, never 0, never equal to any id in the
 *   set. Random rather than a counter so cookies do not reveal how often the
 *   server restarted or rotated.
 * - Storage (when storage_path is set), see Documentation/key-storage.md:
 *   keyset_load() reads the file, or creates it if it does not exist. Parent
 *   directories are never created. Every write is atomic (temp file in the
 *   same directory, fsync, rename, fsync of the directory) with mode 0600,
 *   and happens after the new snapshot is published, outside any lock. The
 *   file is opened with O_NOFOLLOW; one that exists but is a symbolic link,
 *   unreadable, truncated, corrupt, of another version, owned by a user
 *   other than the process's effective user or root, or has any permission
 *   bit for group or others is an error naming the file, and that file is
 *   left untouched.
 * - Shared secret (secret_path set; no storage file): the key of rotation
 *   period p = floor(real / interval) and its id come from
 *   HKDF-SHA256(secret, interval, p). Periods follow the real clock by
 *   design, so every host with the same secret agrees without talking.
 *   Accepted: p, the stale_key_count periods before it and p + 1; p seals.
 *   A previous secret, if set, opens the same periods until elapsed passes
 *   start + previous_grace, and never seals. Ids carry p mod 256 in their
 *   low byte, so ids of one secret never collide within 256 periods; the
 *   other 24 bits are derived. A secret file must be a regular file (not a
 *   link), owned by the effective user or root, without group/other
 *   permission bits, of KEYSET_SECRET_MIN..KEYSET_SECRET_MAX bytes (all of
 *   them are the secret), not one byte repeated: anything else is an error
 *   at load naming the file. Status gets a fingerprint (a derived hash,
 *   never the secret).
 * - Lookups count, in keyset_stats(), cookies of keys other than the current
 *   one, and for a shared secret those of periods more than one period
 *   away from ours (a clock off by more than a period somewhere), whether
 *   still accepted or already unknown.
 * - Memory: the set and its snapshots live in pages excluded from core
 *   dumps (MADV_DONTDUMP), and are wiped when freed; secrets read from
 *   files are wiped from every buffer that held them.
 * - Errors: functions return 0 (or a count) on success and a negative
 *   KEYSET_E_* code on failure; keyset_strerror() then gives a message.
 *   The keyset holds no cipher context: see cookie.h for those.
 */
#ifndef XNTS_KEYSET_H
#define XNTS_KEYSET_H

#include <stddef.h>
#include <stdint.h>

#define KEYSET_KEY_LEN 32
#define KEYSET_MAX_STALE 15
/* Keys a storage file holds: the current one and the stale ones. */
#define KEYSET_FILE_KEYS (KEYSET_MAX_STALE + 1)
/* Most keys a snapshot accepts: current, stale and next period, for the
 * shared secret and the previous one. Size a BPF map with this. */
#define KEYSET_MAX_KEYS (2 * (KEYSET_MAX_STALE + 2))
#define KEYSET_SECRET_MIN 32
#define KEYSET_SECRET_MAX 1024
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
	KEYSET_E_SECRET = -9,	/* shared secret file missing, short, exposed */
};

/* keyset_key.flags */
#define KEYSET_KEY_NEXT		1	/* next period: accepted ahead of time */
#define KEYSET_KEY_PREVIOUS	2	/* from the previous shared secret */

struct keyset_key {
	uint32_t id;
	int64_t created;	/* seconds, CLOCK_REALTIME; period start if shared */
	int64_t period;		/* rotation period number; -1 for random keys */
	unsigned int flags;
	uint8_t key[KEYSET_KEY_LEN];
};

/* Returns 0 and fills buf with len random bytes, or -1. */
typedef int (*keyset_rand_fn)(void *arg, uint8_t *buf, size_t len);

struct keyset_config {
	int64_t rotation_interval;	/* key-rotation-interval, 1..KEYSET_TIME_MAX */
	unsigned int stale_key_count;	/* stale-key-count, 0..KEYSET_MAX_STALE */
	const char *storage_path;	/* key-storage-path; NULL: memory only */
	/* shared-secret-path: derive keys; then storage_path must be NULL. */
	const char *secret_path;
	const char *previous_secret_path;	/* previous-shared-secret-path */
	int64_t previous_grace;		/* seconds the previous one stays accepted */
	/*
	 * Besides root and our own uid, the one other owner whose key and
	 * secret files are trusted: the user the daemon drops to, who writes
	 * the storage file after the drop. -1: none.
	 */
	long trusted_uid;
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

/* Counted by lookups (keyset_find); relaxed, monotonic. */
struct keyset_stats {
	uint64_t stale;		/* keys of past periods / older random keys */
	uint64_t next;		/* the next period's key (a clock ahead of ours) */
	uint64_t previous_secret;	/* keys of the previous secret */
	uint64_t unknown;	/* no such key: NAKed */
	uint64_t far;		/* a period more than one away from ours */
	uint64_t far_unknown;	/* ... and no longer or not yet accepted */
	int64_t last_far_offset;	/* periods, theirs minus ours */
	int64_t last_far_period;	/* our period when it was seen */
};

struct keyset;

/* Read-side section for keys taken from the set (see the contract). */
void keyset_read_lock(void);
void keyset_read_unlock(void);

/* Defaults of ntpd-rs: interval 86400 s, 7 stale keys, no storage. */
void keyset_config_default(struct keyset_config *cfg);

/* An empty set (no keys yet); the path is copied. NULL on bad config. */
struct keyset *keyset_new(const struct keyset_config *cfg);
/* Wipes the keys. */
void keyset_free(struct keyset *ks);

/*
 * Bring the set up. With a shared secret: read the secret file(s) and
 * derive the keys of the current period. With a storage path: load the
 * file, or create it with one fresh key if it does not exist; then rotate
 * if due and save if anything changed. Otherwise: one fresh key. Call once.
 */
int keyset_start(struct keyset *ks, int64_t real, int64_t elapsed);
int keyset_load(struct keyset *ks, int64_t now);

/* Rotate if due (random keys), follow the period and drop an expired
 * previous secret (shared secret). 1 if the set changed (and was saved), 0
 * if not, < 0 on error. If only the save failed (KEYSET_E_IO), the new set
 * is in use all the same; keyset_save() can retry. */
int keyset_update(struct keyset *ks, int64_t real, int64_t elapsed);
int keyset_rotate_if_due(struct keyset *ks, int64_t now);
/* Rotate now regardless of the schedule; the new key is created at now.
 * Random keys only (KEYSET_E_INVAL with a shared secret). */
int keyset_rotate(struct keyset *ks, int64_t now);
/* Write the set to the storage path (no-op without one). */
int keyset_save(struct keyset *ks);

/* When keyset_update() next has work (elapsed-clock seconds), or -1 if
 * the set is empty. */
int64_t keyset_next_rotation(const struct keyset *ks);
/* 1 if keys derive from a shared secret. */
int keyset_is_shared(const struct keyset *ks);
/* The current period (shared secret), or -1. */
int64_t keyset_period(const struct keyset *ks);
/* Fingerprint of the shared secret (which 0, previous 1) as 16 hex digits
 * plus NUL, or NULL if there is none: equal on hosts sharing a secret. */
const char *keyset_fingerprint(const struct keyset *ks, int which);
/* 1 while the previous secret is still accepted. */
int keyset_previous_active(const struct keyset *ks);
void keyset_get_stats(const struct keyset *ks, struct keyset_stats *out);

/* Key that seals new cookies, NULL before keyset_load(). */
const struct keyset_key *keyset_current(const struct keyset *ks);
/* Valid key by id, NULL if none: a scan of at most KEYSET_MAX_KEYS. */
const struct keyset_key *keyset_find(const struct keyset *ks, uint32_t id);
/* Number of valid keys (current + stale). */
unsigned int keyset_count(const struct keyset *ks);
/* i-th valid key, 0 = current, then older; NULL past the end. */
const struct keyset_key *keyset_key_at(const struct keyset *ks, unsigned int i);
/* Bumped on every new snapshot: re-export when it moves. */
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
#define KEYSET_FILE_MAX (16 + 48 * KEYSET_FILE_KEYS + 32)
long keyset_encode(const struct keyset *ks, uint8_t *buf, size_t cap);
int keyset_decode(const uint8_t *buf, size_t len,
		  struct keyset_key keys[KEYSET_FILE_KEYS], const char **why);

/* Key and id of period p under secret, as keyset_start() derives them
 * (exposed for tests and for checking a host by hand). 0, or -1. */
int keyset_derive(const uint8_t *secret, size_t len, int64_t interval, int64_t p,
		  uint32_t *id, uint8_t key[KEYSET_KEY_LEN]);

#endif
