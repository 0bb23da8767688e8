// SPDX-License-Identifier: GPL-2.0
/* NTS cookies sealed under keyset master keys: see cookie.h. */
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cookie.h"
#include "nonce.h"

_Static_assert(KEYSET_KEY_LEN == 32, "master key must be an AES-SIV-CMAC-256 key");
_Static_assert(COOKIE_LEN_CMAC_256 == 100 && COOKIE_LEN_CMAC_512 == 164 &&
	       COOKIE_LEN_GCM_SIV == 68, "cookie lengths are fixed by the XDP layout");

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static pthread_key_t tls_key;
static int tls_ok;

static void tls_free(void *p)
{
	aead_free(p);
}

static void tls_init(void)
{
	tls_ok = pthread_key_create(&tls_key, tls_free) == 0;
}

/* This thread's AEAD context, made on first use. */
static struct aead *thread_aead(void)
{
	struct aead *a;

	if (pthread_once(&tls_once, tls_init) || !tls_ok)
		return NULL;
	a = pthread_getspecific(tls_key);
	if (a)
		return a;
	a = aead_new();
	if (a && pthread_setspecific(tls_key, a)) {
		aead_free(a);
		a = NULL;
	}
	return a;
}

void cookie_thread_cleanup(void)
{
	struct aead *a;

	if (pthread_once(&tls_once, tls_init) || !tls_ok)
		return;
	a = pthread_getspecific(tls_key);
	if (a) {
		pthread_setspecific(tls_key, NULL);
		aead_free(a);
	}
}

size_t cookie_len(int aead)
{
	size_t kl = aead_key_len(aead);

	return kl ? COOKIE_OVERHEAD + 2 * kl : 0;
}

int cookie_aead(size_t len)
{
	switch (len) {
	case COOKIE_LEN_CMAC_256:
		return AEAD_AES_SIV_CMAC_256;
	case COOKIE_LEN_CMAC_512:
		return AEAD_AES_SIV_CMAC_512;
	case COOKIE_LEN_GCM_SIV:
		return AEAD_AES_128_GCM_SIV;
	default:
		return 0;
	}
}

static uint32_t get_id(const uint8_t *c)
{
	return (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 |
	       (uint32_t)c[2] << 8 | c[3];
}

int cookie_key_id(const uint8_t *c, size_t len, uint32_t *id)
{
	if (!cookie_aead(len))
		return -1;
	*id = get_id(c);
	return 0;
}

int cookie_seal_siv(struct aead *aead, const struct keyset_key *k,
		    const struct nts_keys *keys, uint8_t *out, size_t cap)
{
	uint8_t pt[2 * AEAD_MAX_KEY_LEN];
	size_t kl = aead_key_len(keys->aead);
	size_t len = cookie_len(keys->aead);
	int ret = -1;

	if (!aead || !k || !kl || cap < len)
		return -1;
	out[0] = (uint8_t)(k->id >> 24);
	out[1] = (uint8_t)(k->id >> 16);
	out[2] = (uint8_t)(k->id >> 8);
	out[3] = (uint8_t)k->id;
	if (nonce_fill(out + COOKIE_ID_LEN, COOKIE_NONCE_LEN))
		return -1;
	memcpy(pt, keys->c2s, kl);
	memcpy(pt + kl, keys->s2c, kl);
	/* SIV output is tag || ciphertext, exactly the layout from byte 20. */
	if (aead_seal_nts(aead, AEAD_AES_SIV_CMAC_256, k->key, out + COOKIE_ID_LEN,
			  COOKIE_NONCE_LEN, out, COOKIE_ID_LEN, pt, 2 * kl,
			  out + COOKIE_HDR_LEN) == 0)
		ret = (int)len;
	OPENSSL_cleanse(pt, sizeof(pt));
	return ret;
}

enum cookie_result cookie_open_siv(struct aead *aead, const struct keyset *ks,
				   const uint8_t *c, size_t len,
				   struct nts_keys *out)
{
	uint8_t pt[2 * AEAD_MAX_KEY_LEN];
	const struct keyset_key *k;
	enum cookie_result r;
	int alg = cookie_aead(len);
	size_t kl;

	memset(out, 0, sizeof(*out));
	if (!alg)
		return COOKIE_BAD_LENGTH;
	k = keyset_find(ks, get_id(c));
	if (!k)
		return COOKIE_UNKNOWN_KEY;
	if (!aead)
		return COOKIE_ERROR;
	kl = aead_key_len(alg);
	if (aead_open_nts(aead, AEAD_AES_SIV_CMAC_256, k->key, c + COOKIE_ID_LEN,
			  COOKIE_NONCE_LEN, c, COOKIE_ID_LEN, c + COOKIE_HDR_LEN,
			  len - COOKIE_HDR_LEN, pt)) {
		r = COOKIE_AUTH_FAILED;
	} else {
		out->aead = (uint16_t)alg;
		memcpy(out->c2s, pt, kl);
		memcpy(out->s2c, pt + kl, kl);
		r = COOKIE_OK;
	}
	OPENSSL_cleanse(pt, sizeof(pt));
	return r;
}

int cookie_seal(const struct keyset_key *k, const struct nts_keys *keys,
		uint8_t *out, size_t cap)
{
	return cookie_seal_siv(thread_aead(), k, keys, out, cap);
}

enum cookie_result cookie_open(const struct keyset *ks, const uint8_t *c,
			       size_t len, struct nts_keys *out)
{
	if (!cookie_aead(len)) {
		memset(out, 0, sizeof(*out));
		return COOKIE_BAD_LENGTH;
	}
	return cookie_open_siv(thread_aead(), ks, c, len, out);
}

const char *cookie_result_str(enum cookie_result r)
{
	switch (r) {
	case COOKIE_OK:
		return "ok";
	case COOKIE_BAD_LENGTH:
		return "bad cookie length";
	case COOKIE_UNKNOWN_KEY:
		return "unknown key id";
	case COOKIE_AUTH_FAILED:
		return "cookie authentication failed";
	case COOKIE_ERROR:
		return "internal error";
	}
	return "?";
}
