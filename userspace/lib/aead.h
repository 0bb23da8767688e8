/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aead: the AEAD algorithms of NTS, all from libgcrypt, behind one API.
 *
 * Contract:
 * - Algorithms are IANA's AEAD ids: 15 AES-SIV-CMAC-256 (RFC 5297, 32-byte
 *   key), 17 AES-SIV-CMAC-512 (RFC 5297, 64-byte key) and 30
 *   AES-128-GCM-SIV (RFC 8452, 16-byte key). Anything else is refused.
 * - Output of a seal is the algorithm's own layout, always
 *   AEAD_TAG_LEN + pt_len bytes: tag || ciphertext for SIV (RFC 5297),
 *   ciphertext || tag for GCM-SIV (RFC 8452). RFC 8915 carries either as
 *   one opaque ciphertext.
 * - The key is given with every operation, as aead_key_len(alg) bytes.
 *   A context keeps one libgcrypt handle per algorithm and skips re-keying
 *   when the key is the one that handle used last, so a context used for one
 *   long-lived key (a cookie master key) pays for the key schedule once.
 * - Associated data: for SIV a vector of 0..AEAD_MAX_AD components, each
 *   possibly empty, then the nonce as the last component if nonce_len > 0
 *   (RFC 5297 S2V). For GCM-SIV at most one component and a nonce of
 *   exactly AEAD_GCM_SIV_NONCE_LEN bytes (aead_nonce_ok()).
 * - aead_open() returns -1 and zeroes the plaintext output unless the tag
 *   verifies.
 * - No I/O. A context is not thread safe: use one per thread. Contexts on
 *   different threads are independent; libgcrypt is initialised once, on
 *   the first aead_new() of the process, unless the application did it.
 */
#ifndef XNTS_AEAD_H
#define XNTS_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define AEAD_AES_SIV_CMAC_256 15
#define AEAD_AES_SIV_CMAC_512 17
#define AEAD_AES_128_GCM_SIV 30
#define AEAD_TAG_LEN 16
#define AEAD_MAX_KEY_LEN 64
#define AEAD_MAX_AD 8
#define AEAD_GCM_SIV_NONCE_LEN 12

struct aead;

struct aead_iov {
	const uint8_t *data;
	size_t len;
};

/* Key length in bytes for an AEAD id, or 0 if unsupported. */
size_t aead_key_len(int alg);
/* Nonce length we generate for alg: 16 for SIV, 12 for GCM-SIV; 0 if
 * unsupported. */
size_t aead_nonce_len(int alg);
/* 1 if a nonce of len bytes is usable with alg. */
int aead_nonce_ok(int alg, size_t len);

/* NULL if out of memory or libgcrypt is unusable. */
struct aead *aead_new(void);
void aead_free(struct aead *a);

/* out receives AEAD_TAG_LEN + pt_len bytes. 0 on success, -1 on error. */
int aead_seal(struct aead *a, int alg, const uint8_t *key,
	      const uint8_t *nonce, size_t nonce_len,
	      const struct aead_iov *ad, unsigned int n_ad,
	      const uint8_t *pt, size_t pt_len, uint8_t *out);
/* pt receives in_len - AEAD_TAG_LEN bytes. */
int aead_open(struct aead *a, int alg, const uint8_t *key,
	      const uint8_t *nonce, size_t nonce_len,
	      const struct aead_iov *ad, unsigned int n_ad,
	      const uint8_t *in, size_t in_len, uint8_t *pt);

/* RFC 8915 use: one associated-data string (may be empty) and a nonce. */
int aead_seal_nts(struct aead *a, int alg, const uint8_t *key,
		  const uint8_t *nonce, size_t nonce_len,
		  const uint8_t *ad, size_t ad_len,
		  const uint8_t *pt, size_t pt_len, uint8_t *out);
int aead_open_nts(struct aead *a, int alg, const uint8_t *key,
		  const uint8_t *nonce, size_t nonce_len,
		  const uint8_t *ad, size_t ad_len,
		  const uint8_t *in, size_t in_len, uint8_t *pt);

#endif
