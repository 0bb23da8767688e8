// SPDX-License-Identifier: GPL-2.0
/*
 * AES-SIV (RFC 5297): see siv.h for the contract.
 *
 * AES, CMAC and CTR all come from OpenSSL; this file only composes them as
 * RFC 5297 section 2 defines (S2V over CMAC with the first half of the key,
 * then CTR with the second half and the synthetic IV, bits 31 and 63
 * cleared). OpenSSL 3.0's own AES-SIV cipher is not used because it cannot
 * seal an empty plaintext (its update ignores zero-length input, so the
 * final S2V step never runs - and every NTS request seals exactly that), and
 * because it fetches its CMAC and CTR implementations again on every key
 * change: 5-10 us per operation, where keying once per siv_set_key() and
 * re-initialising per operation costs about 1.5 us. The tests hold this file
 * to the RFC 5297 and Wycheproof vectors and to OpenSSL's AES-SIV on random
 * inputs.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "siv.h"

/* RFC 5297 bounds S2V at 127 components; NTS needs 2 plus the plaintext. */
#define SIV_MAX_LEN (1U << 30)

struct siv {
	int aead;
	size_t key_len;
	EVP_MAC_CTX *cmac;	/* keyed with K1 */
	EVP_CIPHER_CTX *ctr;	/* keyed with K2 */
	EVP_CIPHER *ctr_cipher;
	uint8_t d0[16];		/* CMAC(K1, <zero>): the same for every S2V */
	uint8_t key[SIV_MAX_KEY_LEN];	/* to skip re-keying with the same key */
	int have_key;
};

size_t siv_key_len(int aead)
{
	switch (aead) {
	case SIV_AEAD_CMAC_256:
		return 32;
	case SIV_AEAD_CMAC_512:
		return 64;
	default:
		return 0;
	}
}

struct siv *siv_new(int aead)
{
	char cipher[] = "AES-128-CBC";
	OSSL_PARAM params[2];
	struct siv *siv;
	EVP_MAC *mac;

	if (!siv_key_len(aead))
		return NULL;
	siv = calloc(1, sizeof(*siv));
	if (!siv)
		return NULL;
	siv->aead = aead;
	siv->key_len = siv_key_len(aead);
	siv->ctr_cipher = EVP_CIPHER_fetch(NULL, aead == SIV_AEAD_CMAC_256 ? "AES-128-CTR" :
					   "AES-256-CTR", NULL);
	siv->ctr = EVP_CIPHER_CTX_new();
	mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	if (mac)
		siv->cmac = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (aead == SIV_AEAD_CMAC_512)
		memcpy(cipher, "AES-256-CBC", sizeof(cipher));
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0);
	params[1] = OSSL_PARAM_construct_end();
	/* Algorithms are looked up here, once; keys change without a lookup. */
	if (!siv->ctr_cipher || !siv->ctr || !siv->cmac ||
	    !EVP_MAC_CTX_set_params(siv->cmac, params) ||
	    !EVP_EncryptInit_ex2(siv->ctr, siv->ctr_cipher, NULL, NULL, NULL)) {
		siv_free(siv);
		return NULL;
	}
	return siv;
}

void siv_free(struct siv *siv)
{
	if (!siv)
		return;
	EVP_CIPHER_CTX_free(siv->ctr);
	EVP_CIPHER_free(siv->ctr_cipher);
	EVP_MAC_CTX_free(siv->cmac);
	OPENSSL_cleanse(siv, sizeof(*siv));
	free(siv);
}

int siv_aead(const struct siv *siv)
{
	return siv->aead;
}

/* The MAC context keeps its key across re-initialisation. */
static int cmac_start(struct siv *siv)
{
	return EVP_MAC_init(siv->cmac, NULL, 0, NULL) ? 0 : -1;
}

static int cmac_end(struct siv *siv, uint8_t out[16])
{
	size_t outl;

	return EVP_MAC_final(siv->cmac, out, &outl, 16) && outl == 16 ? 0 : -1;
}

static int cmac(struct siv *siv, const uint8_t *in, size_t len, uint8_t out[16])
{
	if (cmac_start(siv) || !EVP_MAC_update(siv->cmac, in, len))
		return -1;
	return cmac_end(siv, out);
}

int siv_set_key(struct siv *siv, const uint8_t *key, size_t key_len)
{
	static const uint8_t zero[16];
	size_t half = key_len / 2;

	if (key_len != siv->key_len)
		return -1;
	/* Cookies are sealed under one master key again and again. */
	if (siv->have_key && !CRYPTO_memcmp(siv->key, key, key_len))
		return 0;
	siv->have_key = 0;
	/* K1 (S2V) is the first half of the key, K2 (CTR) the second. */
	if (!EVP_MAC_init(siv->cmac, key, half, NULL) ||
	    !EVP_EncryptInit_ex2(siv->ctr, NULL, key + half, NULL, NULL) ||
	    cmac(siv, zero, 16, siv->d0))
		return -1;
	memcpy(siv->key, key, key_len);
	siv->have_key = 1;
	return 0;
}

static void dbl(uint8_t b[16])
{
	uint8_t carry = b[0] >> 7;

	for (int i = 0; i < 15; i++)
		b[i] = (uint8_t)(b[i] << 1 | b[i + 1] >> 7);
	b[15] = (uint8_t)(b[15] << 1 ^ (carry ? 0x87 : 0));
}

static void xor16(uint8_t *d, const uint8_t *s)
{
	for (int i = 0; i < 16; i++)
		d[i] ^= s[i];
}

/* RFC 5297 section 2.4: S2V(K1, ad..., pt) into v. */
static int s2v(struct siv *siv, const struct siv_iov *ad, unsigned int n_ad,
	       const uint8_t *pt, size_t pt_len, uint8_t v[16])
{
	uint8_t d[16], t[16];

	if (n_ad > SIV_MAX_AD)
		return -1;
	memcpy(d, siv->d0, 16);
	for (unsigned int i = 0; i < n_ad; i++) {
		if (ad[i].len > SIV_MAX_LEN || cmac(siv, ad[i].data, ad[i].len, t))
			return -1;
		dbl(d);
		xor16(d, t);
	}
	if (cmac_start(siv))
		return -1;
	if (pt_len >= 16) {
		/* T = Sn xorend D: only the last block changes. */
		memcpy(t, pt + pt_len - 16, 16);
		xor16(t, d);
		if ((pt_len > 16 && !EVP_MAC_update(siv->cmac, pt, pt_len - 16)) ||
		    !EVP_MAC_update(siv->cmac, t, 16))
			return -1;
	} else {
		/* T = dbl(D) xor pad(Sn), pad = Sn || 10* */
		dbl(d);
		memset(t, 0, 16);
		if (pt_len)
			memcpy(t, pt, pt_len);
		t[pt_len] = 0x80;
		xor16(d, t);
		if (!EVP_MAC_update(siv->cmac, d, 16))
			return -1;
	}
	return cmac_end(siv, v);
}

/* CTR under K2 from Q = V with bits 63 and 31 cleared (RFC 5297 2.6). */
static int ctr(struct siv *siv, const uint8_t v[16], const uint8_t *in, size_t len,
	       uint8_t *out)
{
	uint8_t q[16];
	int outl;

	if (!len)
		return 0;
	memcpy(q, v, 16);
	q[8] &= 0x7f;
	q[12] &= 0x7f;
	if (!EVP_EncryptInit_ex2(siv->ctr, NULL, NULL, q, NULL) ||
	    !EVP_EncryptUpdate(siv->ctr, out, &outl, in, (int)len) || (size_t)outl != len)
		return -1;
	return 0;
}

int siv_seal(struct siv *siv, const struct siv_iov *ad, unsigned int n_ad,
	     const uint8_t *pt, size_t pt_len, uint8_t *out)
{
	uint8_t v[16];

	if (!siv->have_key || pt_len > SIV_MAX_LEN)
		return -1;
	if (s2v(siv, ad, n_ad, pt, pt_len, v) || ctr(siv, v, pt, pt_len, out + SIV_TAG_LEN))
		return -1;
	memcpy(out, v, SIV_TAG_LEN);
	return 0;
}

int siv_open(struct siv *siv, const struct siv_iov *ad, unsigned int n_ad,
	     const uint8_t *in, size_t in_len, uint8_t *pt)
{
	uint8_t v[16], tag[16];
	size_t pt_len;

	if (!siv->have_key || in_len < SIV_TAG_LEN || in_len > SIV_MAX_LEN)
		return -1;
	pt_len = in_len - SIV_TAG_LEN;
	memcpy(tag, in, SIV_TAG_LEN);
	if (ctr(siv, tag, in + SIV_TAG_LEN, pt_len, pt) ||
	    s2v(siv, ad, n_ad, pt, pt_len, v) || CRYPTO_memcmp(v, tag, SIV_TAG_LEN)) {
		if (pt_len)
			OPENSSL_cleanse(pt, pt_len);
		return -1;
	}
	return 0;
}

int siv_seal_nts(struct siv *siv, const uint8_t *nonce, size_t nonce_len,
		 const uint8_t *ad, size_t ad_len, const uint8_t *pt,
		 size_t pt_len, uint8_t *out)
{
	const struct siv_iov iov[2] = { { ad, ad_len }, { nonce, nonce_len } };

	return siv_seal(siv, iov, 2, pt, pt_len, out);
}

int siv_open_nts(struct siv *siv, const uint8_t *nonce, size_t nonce_len,
		 const uint8_t *ad, size_t ad_len, const uint8_t *in,
		 size_t in_len, uint8_t *pt)
{
	const struct siv_iov iov[2] = { { ad, ad_len }, { nonce, nonce_len } };

	return siv_open(siv, iov, 2, in, in_len, pt);
}
