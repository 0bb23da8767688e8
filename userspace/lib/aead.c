// SPDX-License-Identifier: GPL-2.0
/*
 * NTS AEADs from libgcrypt: see aead.h for the contract.
 *
 * libgcrypt 1.10 has both modes NTS needs (GCRY_CIPHER_MODE_SIV and
 * GCRY_CIPHER_MODE_GCM_SIV) with AES-NI/VAES code underneath; nothing here
 * is cryptography, only the order libgcrypt wants its calls in:
 * - SIV: each gcry_cipher_authenticate() is one S2V component, and
 *   gcry_cipher_setiv() adds the nonce as the last one, so AD first, nonce
 *   after.
 * - GCM-SIV: the nonce derives the per-message keys, so it comes first.
 * - One encrypt/decrypt call per message; it finishes the message. The tag
 *   is read with gettag after sealing and given before decrypting
 *   (GCRYCTL_SET_DECRYPTION_TAG), which checks it.
 * - libgcrypt 1.10.1's setkey keeps the previous message's SIV state, so a
 *   reset follows every setkey (test_aead catches the difference).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gcrypt.h>

#include "aead.h"

/* libgcrypt 1.10 is the first with GCM-SIV. */
#define AEAD_GCRYPT_MIN "1.10.0"
/* Bound on any one input, far above what NTS ever passes. */
#define AEAD_MAX_LEN (1U << 24)

enum { SLOT_SIV256, SLOT_SIV512, SLOT_GCMSIV, N_SLOTS };

struct slot {
	gcry_cipher_hd_t hd;
	int have_key;
	uint8_t key[AEAD_MAX_KEY_LEN];	/* the key hd holds, to skip re-keying */
};

struct aead {
	struct slot s[N_SLOTS];
};

static pthread_once_t gcry_once = PTHREAD_ONCE_INIT;
static int gcry_ok;

/*
 * A library must not undo what its application set up: if libgcrypt is
 * already initialised, only check the version. Otherwise finish the
 * initialisation. Secure memory is disabled because no handle here asks
 * for it (keys are wiped by aead_free() and gcry_cipher_close()), and
 * without that libgcrypt would warn on every process that cannot mlock.
 */
static void gcry_init(void)
{
	if (!gcry_check_version(AEAD_GCRYPT_MIN))
		return;
	if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
		gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
		gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	}
	gcry_ok = 1;
}

static int slot_of(int alg)
{
	switch (alg) {
	case AEAD_AES_SIV_CMAC_256:
		return SLOT_SIV256;
	case AEAD_AES_SIV_CMAC_512:
		return SLOT_SIV512;
	case AEAD_AES_128_GCM_SIV:
		return SLOT_GCMSIV;
	default:
		return -1;
	}
}

size_t aead_key_len(int alg)
{
	static const size_t len[N_SLOTS] = { 32, 64, 16 };
	int s = slot_of(alg);

	return s < 0 ? 0 : len[s];
}

size_t aead_nonce_len(int alg)
{
	int s = slot_of(alg);

	if (s < 0)
		return 0;
	return s == SLOT_GCMSIV ? AEAD_GCM_SIV_NONCE_LEN : 16;
}

int aead_nonce_ok(int alg, size_t len)
{
	int s = slot_of(alg);

	if (s < 0)
		return 0;
	if (s == SLOT_GCMSIV)
		return len == AEAD_GCM_SIV_NONCE_LEN;
	return len <= AEAD_MAX_LEN;
}

struct aead *aead_new(void)
{
	static const struct {
		int algo, mode;
	} spec[N_SLOTS] = {
		[SLOT_SIV256] = { GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_SIV },
		[SLOT_SIV512] = { GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_SIV },
		[SLOT_GCMSIV] = { GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_GCM_SIV },
	};
	struct aead *a;

	if (pthread_once(&gcry_once, gcry_init) || !gcry_ok)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	for (int i = 0; i < N_SLOTS; i++) {
		if (gcry_cipher_open(&a->s[i].hd, spec[i].algo, spec[i].mode, 0)) {
			a->s[i].hd = NULL;
			aead_free(a);
			return NULL;
		}
	}
	return a;
}

void aead_free(struct aead *a)
{
	if (!a)
		return;
	for (int i = 0; i < N_SLOTS; i++)
		gcry_cipher_close(a->s[i].hd);
	/* volatile-free wipe that the compiler may not drop: the keys. */
	explicit_bzero(a, sizeof(*a));
	free(a);
}

/* Equal keys without an early exit on the first differing byte. */
static int same_key(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= a[i] ^ b[i];
	return acc == 0;
}

/* The slot for alg, keyed with key and reset for a new message. */
static struct slot *prepare(struct aead *a, int alg, const uint8_t *key)
{
	int s = slot_of(alg);
	size_t kl = aead_key_len(alg);
	struct slot *sl;

	if (!a || s < 0 || !key)
		return NULL;
	sl = &a->s[s];
	if (sl->have_key && same_key(sl->key, key, kl)) {
		if (gcry_cipher_reset(sl->hd))
			return NULL;
		return sl;
	}
	sl->have_key = 0;
	/* setkey alone leaves the previous message's S2V state behind. */
	if (gcry_cipher_setkey(sl->hd, key, kl) || gcry_cipher_reset(sl->hd))
		return NULL;
	memcpy(sl->key, key, kl);
	sl->have_key = 1;
	return sl;
}

static int check_args(int alg, size_t nonce_len, const struct aead_iov *ad, unsigned int n_ad,
		      size_t len)
{
	if (len > AEAD_MAX_LEN || (n_ad && !ad))
		return -1;
	if (alg == AEAD_AES_128_GCM_SIV) {
		if (n_ad > 1 || nonce_len != AEAD_GCM_SIV_NONCE_LEN)
			return -1;
	} else if (n_ad > AEAD_MAX_AD || nonce_len > AEAD_MAX_LEN) {
		return -1;
	}
	for (unsigned int i = 0; i < n_ad; i++) {
		if (ad[i].len > AEAD_MAX_LEN || (ad[i].len && !ad[i].data))
			return -1;
	}
	return 0;
}

/* Associated data and nonce, in the order the mode wants them. */
static int feed_ad(struct slot *sl, int alg, const uint8_t *nonce, size_t nonce_len,
		   const struct aead_iov *ad, unsigned int n_ad)
{
	static const uint8_t none[1];
	int gcm = alg == AEAD_AES_128_GCM_SIV;

	if (gcm && gcry_cipher_setiv(sl->hd, nonce, nonce_len))
		return -1;
	for (unsigned int i = 0; i < n_ad; i++) {
		/* An empty SIV component still counts, so it is still passed. */
		if (gcry_cipher_authenticate(sl->hd, ad[i].len ? ad[i].data : none, ad[i].len))
			return -1;
	}
	if (!gcm && nonce_len && gcry_cipher_setiv(sl->hd, nonce, nonce_len))
		return -1;
	return 0;
}

int aead_seal(struct aead *a, int alg, const uint8_t *key,
	      const uint8_t *nonce, size_t nonce_len,
	      const struct aead_iov *ad, unsigned int n_ad,
	      const uint8_t *pt, size_t pt_len, uint8_t *out)
{
	uint8_t empty[1];
	struct slot *sl;
	uint8_t *ct, *tag;

	if (check_args(alg, nonce_len, ad, n_ad, pt_len) || !out || (pt_len && !pt) ||
	    (nonce_len && !nonce))
		return -1;
	sl = prepare(a, alg, key);
	if (!sl || feed_ad(sl, alg, nonce, nonce_len, ad, n_ad))
		return -1;
	if (alg == AEAD_AES_128_GCM_SIV) {
		ct = out;
		tag = out + pt_len;
	} else {
		tag = out;
		ct = out + AEAD_TAG_LEN;
	}
	/* libgcrypt reads a NULL input as "in place": give it a real one. */
	if (gcry_cipher_encrypt(sl->hd, pt_len ? ct : empty, pt_len, pt_len ? pt : empty,
				pt_len) ||
	    gcry_cipher_gettag(sl->hd, tag, AEAD_TAG_LEN))
		return -1;
	return 0;
}

int aead_open(struct aead *a, int alg, const uint8_t *key,
	      const uint8_t *nonce, size_t nonce_len,
	      const struct aead_iov *ad, unsigned int n_ad,
	      const uint8_t *in, size_t in_len, uint8_t *pt)
{
	const uint8_t *ct, *tag;
	uint8_t empty[1];
	struct slot *sl;
	size_t pl;

	if (!in || in_len < AEAD_TAG_LEN || check_args(alg, nonce_len, ad, n_ad, in_len))
		return -1;
	pl = in_len - AEAD_TAG_LEN;
	if ((pl && !pt) || (nonce_len && !nonce))
		return -1;
	if (alg == AEAD_AES_128_GCM_SIV) {
		ct = in;
		tag = in + pl;
	} else {
		tag = in;
		ct = in + AEAD_TAG_LEN;
	}
	sl = prepare(a, alg, key);
	/* After the nonce: GCM-SIV's setiv forgets a tag given before it. */
	if (!sl || feed_ad(sl, alg, nonce, nonce_len, ad, n_ad) ||
	    gcry_cipher_set_decryption_tag(sl->hd, tag, AEAD_TAG_LEN))
		goto fail;
	if (gcry_cipher_decrypt(sl->hd, pl ? pt : empty, pl, pl ? ct : empty, pl))
		goto fail;
	return 0;
fail:
	if (pl)
		explicit_bzero(pt, pl);
	return -1;
}

int aead_seal_nts(struct aead *a, int alg, const uint8_t *key,
		  const uint8_t *nonce, size_t nonce_len,
		  const uint8_t *ad, size_t ad_len,
		  const uint8_t *pt, size_t pt_len, uint8_t *out)
{
	struct aead_iov iov = { ad, ad_len };

	return aead_seal(a, alg, key, nonce, nonce_len, &iov, 1, pt, pt_len, out);
}

int aead_open_nts(struct aead *a, int alg, const uint8_t *key,
		  const uint8_t *nonce, size_t nonce_len,
		  const uint8_t *ad, size_t ad_len,
		  const uint8_t *in, size_t in_len, uint8_t *pt)
{
	struct aead_iov iov = { ad, ad_len };

	return aead_open(a, alg, key, nonce, nonce_len, &iov, 1, in, in_len, pt);
}
