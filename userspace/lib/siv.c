// SPDX-License-Identifier: GPL-2.0
/* AES-SIV on OpenSSL EVP: see siv.h for the contract. */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "siv.h"

struct siv {
	int aead;
	size_t key_len;
	EVP_CIPHER *cipher;
	EVP_CIPHER_CTX *ctx;
	EVP_MAC_CTX *cmac;
	uint8_t key[SIV_MAX_KEY_LEN];
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
	const char *name;
	struct siv *siv;
	EVP_MAC *mac;

	switch (aead) {
	case SIV_AEAD_CMAC_256:
		name = "AES-128-SIV";
		break;
	case SIV_AEAD_CMAC_512:
		name = "AES-256-SIV";
		break;
	default:
		return NULL;
	}
	siv = calloc(1, sizeof(*siv));
	if (!siv)
		return NULL;
	siv->aead = aead;
	siv->key_len = siv_key_len(aead);
	siv->cipher = EVP_CIPHER_fetch(NULL, name, NULL);
	siv->ctx = EVP_CIPHER_CTX_new();
	mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	if (mac)
		siv->cmac = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (!siv->cipher || !siv->ctx || !siv->cmac) {
		siv_free(siv);
		return NULL;
	}
	return siv;
}

void siv_free(struct siv *siv)
{
	if (!siv)
		return;
	EVP_CIPHER_CTX_free(siv->ctx);
	EVP_CIPHER_free(siv->cipher);
	EVP_MAC_CTX_free(siv->cmac);
	OPENSSL_cleanse(siv->key, sizeof(siv->key));
	free(siv);
}

int siv_aead(const struct siv *siv)
{
	return siv->aead;
}

int siv_set_key(struct siv *siv, const uint8_t *key, size_t key_len)
{
	char cipher[] = "AES-128-CBC";
	OSSL_PARAM params[2];

	siv->have_key = 0;
	if (key_len != siv->key_len)
		return -1;
	if (siv->aead == SIV_AEAD_CMAC_512)
		memcpy(cipher, "AES-256-CBC", sizeof(cipher));
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0);
	params[1] = OSSL_PARAM_construct_end();
	/* S2V's key is the first half (RFC 5297 section 2.6). */
	if (!EVP_MAC_init(siv->cmac, key, key_len / 2, params))
		return -1;
	memcpy(siv->key, key, key_len);
	siv->have_key = 1;
	return 0;
}

static int add_ad(EVP_CIPHER_CTX *ctx, const struct siv_iov *ad,
		  unsigned int n_ad)
{
	unsigned int i;
	int outl;

	if (n_ad > SIV_MAX_AD)
		return -1;
	for (i = 0; i < n_ad; i++) {
		/* OpenSSL silently drops empty components; refuse them. */
		if (ad[i].len == 0 || ad[i].len > INT32_MAX)
			return -1;
		if (!EVP_CipherUpdate(ctx, NULL, &outl, ad[i].data,
				      (int)ad[i].len))
			return -1;
	}
	return 0;
}

/*
 * OpenSSL 3.0's SIV ignores an update with an empty plaintext, so its final
 * S2V step never runs and sealing "" fails. NTS requests seal exactly that,
 * so for an empty plaintext the tag is computed as RFC 5297 S2V defines it
 * (section 2.4), over OpenSSL's CMAC with the first half of the key. With
 * no plaintext there is no CTR step: the tag is the whole output.
 */
static void dbl(uint8_t b[16])
{
	uint8_t carry = b[0] >> 7;

	for (int i = 0; i < 15; i++)
		b[i] = (uint8_t)(b[i] << 1 | b[i + 1] >> 7);
	b[15] = (uint8_t)(b[15] << 1 ^ (carry ? 0x87 : 0));
}

/* The MAC context is keyed once in siv_set_key(); re-init keeps that key. */
static int cmac(struct siv *siv, const uint8_t *in, size_t len, uint8_t out[16])
{
	size_t outl;

	if (!EVP_MAC_init(siv->cmac, NULL, 0, NULL) ||
	    !EVP_MAC_update(siv->cmac, in, len) ||
	    !EVP_MAC_final(siv->cmac, out, &outl, 16) || outl != 16)
		return -1;
	return 0;
}

static int s2v_empty(struct siv *siv, const struct siv_iov *ad,
		     unsigned int n_ad, uint8_t v[16])
{
	static const uint8_t zero[16];
	uint8_t d[16], t[16];

	if (n_ad > SIV_MAX_AD || cmac(siv, zero, 16, d))
		return -1;
	for (unsigned int i = 0; i < n_ad; i++) {
		if (ad[i].len == 0 || cmac(siv, ad[i].data, ad[i].len, t))
			return -1;
		dbl(d);
		for (int j = 0; j < 16; j++)
			d[j] ^= t[j];
	}
	dbl(d);
	d[0] ^= 0x80;
	return cmac(siv, d, 16, v);
}

int siv_seal(struct siv *siv, const struct siv_iov *ad, unsigned int n_ad,
	     const uint8_t *pt, size_t pt_len, uint8_t *out)
{
	int outl, tmpl;

	if (!siv->have_key || pt_len > INT32_MAX - SIV_TAG_LEN)
		return -1;
	if (pt_len == 0)
		return s2v_empty(siv, ad, n_ad, out);
	if (!EVP_EncryptInit_ex2(siv->ctx, siv->cipher, siv->key, NULL, NULL))
		return -1;
	if (add_ad(siv->ctx, ad, n_ad))
		return -1;
	if (!EVP_EncryptUpdate(siv->ctx, out + SIV_TAG_LEN, &outl, pt,
			       (int)pt_len))
		return -1;
	if (!EVP_EncryptFinal_ex(siv->ctx, out + SIV_TAG_LEN + outl, &tmpl))
		return -1;
	if (!EVP_CIPHER_CTX_ctrl(siv->ctx, EVP_CTRL_AEAD_GET_TAG, SIV_TAG_LEN,
				 out))
		return -1;
	return 0;
}

int siv_open(struct siv *siv, const struct siv_iov *ad, unsigned int n_ad,
	     const uint8_t *in, size_t in_len, uint8_t *pt)
{
	uint8_t tag[SIV_TAG_LEN], dummy[1];
	size_t pt_len;
	int outl, tmpl;

	if (!siv->have_key || in_len < SIV_TAG_LEN || in_len > INT32_MAX)
		return -1;
	pt_len = in_len - SIV_TAG_LEN;
	if (pt_len == 0) {
		if (s2v_empty(siv, ad, n_ad, tag))
			return -1;
		return CRYPTO_memcmp(tag, in, SIV_TAG_LEN) ? -1 : 0;
	}
	memcpy(tag, in, SIV_TAG_LEN);
	if (!EVP_DecryptInit_ex2(siv->ctx, siv->cipher, siv->key, NULL, NULL))
		return -1;
	if (!EVP_CIPHER_CTX_ctrl(siv->ctx, EVP_CTRL_AEAD_SET_TAG, SIV_TAG_LEN,
				 tag))
		return -1;
	if (add_ad(siv->ctx, ad, n_ad))
		goto fail;
	if (!EVP_DecryptUpdate(siv->ctx, pt, &outl, in + SIV_TAG_LEN,
			       (int)pt_len))
		goto fail;
	if (!EVP_DecryptFinal_ex(siv->ctx, dummy, &tmpl))
		goto fail;
	return 0;
fail:
	OPENSSL_cleanse(pt, pt_len);
	return -1;
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
