/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cookie: the NTS cookie a server hands out (RFC 8915 section 6), sealed
 * under a keyset master key. Layout (Documentation/cookie-format.md):
 *
 *   0       4        20        36
 *   key_id | nonce   | SIV tag  | E(C2S key || S2C key)
 *
 *   whatever the session AEAD, the master key seals with AES-SIV-CMAC-256.
 *   4 B BE | 16 B    | 16 B     | 2 * session key length
 *
 * Contract:
 * - Sealed with AES-SIV-CMAC-256 under the 32-byte master key; the four
 *   key id bytes are the associated data and the nonce the SIV nonce
 *   (aead_seal_nts), so a cookie neither opens under another key nor can
 *   have its key id rewritten.
 * - The length identifies the session AEAD: 100 bytes for AEAD 15 (64-byte
 *   plaintext), 164 for AEAD 17 (128-byte plaintext), 68 for AEAD 30
 *   (32-byte plaintext). No other length is a cookie.
 * - Nonces come from OpenSSL RAND_bytes (through nonce.h), fresh for every
 *   cookie.
 * - cookie_open() checks length, then key id, then the tag, and says which
 *   failed. On any failure *out is zeroed.
 * - Threads: struct aead is not thread safe and the keyset holds none.
 *   cookie_seal()/cookie_open() use a context private to the calling thread,
 *   made on first use and freed when the thread exits (or by
 *   cookie_thread_cleanup()). The *_siv variants take the caller's own
 *   struct aead instead and touch no other state. Neither locks the
 *   keyset: see keyset.h for what may run concurrently.
 */
#ifndef XNTS_COOKIE_H
#define XNTS_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "keyset.h"
#include "nts.h"
#include "aead.h"

#define COOKIE_ID_LEN 4
#define COOKIE_NONCE_LEN 16
#define COOKIE_HDR_LEN (COOKIE_ID_LEN + COOKIE_NONCE_LEN)	/* 20 */
/* key id, nonce and tag: what the plaintext adds up to a cookie. */
#define COOKIE_OVERHEAD (COOKIE_HDR_LEN + AEAD_TAG_LEN)		/* 36 */
#define COOKIE_LEN_CMAC_256 (COOKIE_OVERHEAD + 2 * 32)		/* 100 */
#define COOKIE_LEN_CMAC_512 (COOKIE_OVERHEAD + 2 * 64)		/* 164 */
#define COOKIE_LEN_GCM_SIV (COOKIE_OVERHEAD + 2 * 16)		/* 68 */
#define COOKIE_MAX_LEN COOKIE_LEN_CMAC_512

enum cookie_result {
	COOKIE_OK = 0,
	COOKIE_BAD_LENGTH,	/* not 68, 100 or 164 bytes */
	COOKIE_UNKNOWN_KEY,	/* key id not in the keyset (rotated out) */
	COOKIE_AUTH_FAILED,	/* tag did not verify: forged or damaged */
	COOKIE_ERROR,		/* no cipher context (out of memory) */
};

/* Cookie length for a session AEAD id, 0 if unsupported. */
size_t cookie_len(int aead);
/* Session AEAD id a cookie of this length carries, 0 if none. */
int cookie_aead(size_t len);
/* Key id (host order) from a cookie of valid length: 0, or -1. */
int cookie_key_id(const uint8_t *c, size_t len, uint32_t *id);

/* Seal keys (aead 15, 17 or 30) under k into out. Returns the cookie length,
 * or -1 on a bad AEAD, cap < cookie length or a crypto/random failure. */
int cookie_seal(const struct keyset_key *k, const struct nts_keys *keys,
		uint8_t *out, size_t cap);
enum cookie_result cookie_open(const struct keyset *ks, const uint8_t *c,
			       size_t len, struct nts_keys *out);

/* The same with an AEAD context owned by the caller. */
int cookie_seal_siv(struct aead *aead, const struct keyset_key *k,
		    const struct nts_keys *keys, uint8_t *out, size_t cap);
enum cookie_result cookie_open_siv(struct aead *aead, const struct keyset *ks,
				   const uint8_t *c, size_t len,
				   struct nts_keys *out);

/* Free the calling thread's context now (optional; thread exit does it). */
void cookie_thread_cleanup(void);

const char *cookie_result_str(enum cookie_result r);

#endif
