/* SPDX-License-Identifier: GPL-2.0 */
/*
 * siv: AES-SIV (RFC 5297) as the AEAD of NTS, composed from OpenSSL's AES
 * CMAC and CTR (siv.c says why not OpenSSL's AES-SIV cipher).
 *
 * Contract:
 * - AEAD ids are IANA's: 15 (AES-SIV-CMAC-256, 32-byte key) and
 *   17 (AES-SIV-CMAC-512, 64-byte key). Anything else is refused.
 * - Output of a seal is the 16-byte synthetic IV (tag) followed by the
 *   ciphertext, which is as long as the plaintext, as RFC 5297 and RFC 8915
 *   lay it out on the wire.
 * - Associated data is a vector of 0..SIV_MAX_AD components, each possibly
 *   empty (RFC 5297 S2V). For NTS the nonce is the last component:
 *   siv_seal_nts()/siv_open_nts().
 * - siv_open() returns -1 and zeroes the plaintext output unless the tag
 *   verifies.
 * - A context holds one key (keyed once in siv_set_key()); it is not thread
 *   safe.
 */
#ifndef XNTS_SIV_H
#define XNTS_SIV_H

#include <stddef.h>
#include <stdint.h>

#define SIV_AEAD_CMAC_256 15
#define SIV_AEAD_CMAC_512 17
#define SIV_TAG_LEN 16
#define SIV_MAX_KEY_LEN 64
#define SIV_MAX_AD 8

struct siv;

struct siv_iov {
	const uint8_t *data;
	size_t len;
};

/* Key length in bytes for an AEAD id, or 0 if unsupported. */
size_t siv_key_len(int aead);

struct siv *siv_new(int aead);
void siv_free(struct siv *siv);
int siv_aead(const struct siv *siv);
/* 0 on success, -1 if key_len does not match the AEAD. */
int siv_set_key(struct siv *siv, const uint8_t *key, size_t key_len);

/* out receives SIV_TAG_LEN + pt_len bytes. 0 on success, -1 on error. */
int siv_seal(struct siv *siv, const struct siv_iov *ad, unsigned int n_ad,
	     const uint8_t *pt, size_t pt_len, uint8_t *out);
/* in is tag||ciphertext; pt receives in_len - SIV_TAG_LEN bytes. */
int siv_open(struct siv *siv, const struct siv_iov *ad, unsigned int n_ad,
	     const uint8_t *in, size_t in_len, uint8_t *pt);

/* RFC 8915 use: components are (ad, nonce); ad may be empty. */
int siv_seal_nts(struct siv *siv, const uint8_t *nonce, size_t nonce_len,
		 const uint8_t *ad, size_t ad_len, const uint8_t *pt,
		 size_t pt_len, uint8_t *out);
int siv_open_nts(struct siv *siv, const uint8_t *nonce, size_t nonce_len,
		 const uint8_t *ad, size_t ad_len, const uint8_t *in,
		 size_t in_len, uint8_t *pt);

#endif
