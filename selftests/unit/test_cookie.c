// SPDX-License-Identifier: GPL-2.0
/*
 * cookie: round trips for both session AEADs, the fixed XDP layout (checked
 * independently with aead.h), every kind of damage, key binding, and key
 * rotation as seen by cookies.
 */
#include <pthread.h>
#include <string.h>

#include "kselftest_harness.h"
#include "cookie.h"
#include "keyset.h"
#include "aead.h"

#define T0 1700000000LL

static struct keyset *new_keyset(int64_t interval, unsigned int stale)
{
	struct keyset_config cfg;
	struct keyset *ks;

	keyset_config_default(&cfg);
	cfg.rotation_interval = interval;
	cfg.stale_key_count = stale;
	ks = keyset_new(&cfg);
	if (ks && keyset_load(ks, T0)) {
		keyset_free(ks);
		ks = NULL;
	}
	return ks;
}

static void fill_keys(struct nts_keys *k, int aead, uint8_t seed)
{
	memset(k, 0, sizeof(*k));
	k->aead = (uint16_t)aead;
	for (size_t i = 0; i < aead_key_len(aead); i++) {
		k->c2s[i] = (uint8_t)(seed + i);
		k->s2c[i] = (uint8_t)(seed * 3 + 7 * i + 1);
	}
}

static int keys_equal(const struct nts_keys *a, const struct nts_keys *b)
{
	size_t kl = aead_key_len(a->aead);

	return a->aead == b->aead && kl && !memcmp(a->c2s, b->c2s, kl) &&
	       !memcmp(a->s2c, b->s2c, kl);
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

TEST(lengths_and_aead_mapping)
{
	EXPECT_EQ(100, cookie_len(AEAD_AES_SIV_CMAC_256));
	EXPECT_EQ(164, cookie_len(AEAD_AES_SIV_CMAC_512));
	EXPECT_EQ(68, cookie_len(AEAD_AES_128_GCM_SIV));
	EXPECT_EQ(0, cookie_len(16));
	EXPECT_EQ(0, cookie_len(0));
	EXPECT_EQ(AEAD_AES_SIV_CMAC_256, cookie_aead(100));
	EXPECT_EQ(AEAD_AES_SIV_CMAC_512, cookie_aead(164));
	EXPECT_EQ(AEAD_AES_128_GCM_SIV, cookie_aead(68));
	for (size_t l = 0; l < 300; l++)
		if (l != 100 && l != 164 && l != 68)
			EXPECT_EQ(0, cookie_aead(l));
}

/*
 * All three AEADs: exact length, key id big endian in bytes 0..3, and the layout
 * opened by hand with aead.h (AD = id bytes, nonce = bytes 4..19, tag and
 * ciphertext from byte 20), so the XDP side can rely on the document.
 */
TEST(round_trip_and_layout)
{
	static const int aeads[] = { AEAD_AES_SIV_CMAC_256, AEAD_AES_SIV_CMAC_512,
				     AEAD_AES_128_GCM_SIV };
	static const int lens[] = { 100, 164, 68 };
	struct keyset *ks = new_keyset(86400, 7);
	const struct keyset_key *k;
	struct aead *siv = aead_new();

	ASSERT_NE(NULL, ks);
	ASSERT_NE(NULL, siv);
	k = keyset_current(ks);
	ASSERT_NE(NULL, k);
	for (unsigned int a = 0; a < 3; a++) {
		uint8_t c[COOKIE_MAX_LEN + 8], c2[COOKIE_MAX_LEN], pt[128];
		size_t kl = aead_key_len(aeads[a]);
		struct nts_keys in, out;
		uint32_t id = 0;
		int len;

		fill_keys(&in, aeads[a], (uint8_t)(0x40 + a));
		len = cookie_seal(k, &in, c, sizeof(c));
		ASSERT_EQ((int)cookie_len(aeads[a]), len);
		ASSERT_EQ(lens[a], len);
		EXPECT_EQ((uint8_t)(k->id >> 24), c[0]);
		EXPECT_EQ((uint8_t)(k->id >> 16), c[1]);
		EXPECT_EQ((uint8_t)(k->id >> 8), c[2]);
		EXPECT_EQ((uint8_t)k->id, c[3]);
		ASSERT_EQ(0, cookie_key_id(c, (size_t)len, &id));
		EXPECT_EQ(k->id, id);
		EXPECT_EQ(-1, cookie_key_id(c, (size_t)len - 1, &id));

		ASSERT_EQ(COOKIE_OK, cookie_open(ks, c, (size_t)len, &out));
		EXPECT_TRUE(keys_equal(&in, &out));
		EXPECT_EQ(aeads[a], out.aead);

		/* Independent check of the documented layout. */
		ASSERT_EQ(0, aead_open_nts(siv, 15, k->key, c + 4, 16, c, 4, c + 20,
					   (size_t)len - 20, pt));
		EXPECT_EQ(0, memcmp(pt, in.c2s, kl));
		EXPECT_EQ(0, memcmp(pt + kl, in.s2c, kl));
		/* The plaintext is not visible in the cookie. */
		EXPECT_EQ(NULL, memmem(c, (size_t)len, in.c2s, 8));

		/* Fresh nonce each time: same keys, different cookie. */
		ASSERT_EQ(len, cookie_seal(k, &in, c2, sizeof(c2)));
		EXPECT_NE(0, memcmp(c + 4, c2 + 4, 16));
		EXPECT_NE(0, memcmp(c + 20, c2 + 20, (size_t)len - 20));
		EXPECT_EQ(0, memcmp(c, c2, 4));

		/* Explicit-context variants give the same results. */
		ASSERT_EQ(len, cookie_seal_siv(siv, k, &in, c2, sizeof(c2)));
		ASSERT_EQ(COOKIE_OK, cookie_open_siv(siv, ks, c2, (size_t)len, &out));
		EXPECT_TRUE(keys_equal(&in, &out));
	}
	aead_free(siv);
	keyset_free(ks);
}

TEST(seal_refuses_bad_input)
{
	struct keyset *ks = new_keyset(86400, 7);
	uint8_t c[COOKIE_MAX_LEN];
	struct nts_keys in;

	ASSERT_NE(NULL, ks);
	fill_keys(&in, AEAD_AES_SIV_CMAC_256, 1);
	EXPECT_EQ(-1, cookie_seal(keyset_current(ks), &in, c, 99));
	EXPECT_EQ(100, cookie_seal(keyset_current(ks), &in, c, 100));
	fill_keys(&in, AEAD_AES_SIV_CMAC_512, 1);
	EXPECT_EQ(-1, cookie_seal(keyset_current(ks), &in, c, 163));
	in.aead = 16;
	EXPECT_EQ(-1, cookie_seal(keyset_current(ks), &in, c, sizeof(c)));
	fill_keys(&in, AEAD_AES_128_GCM_SIV, 1);
	EXPECT_EQ(-1, cookie_seal(keyset_current(ks), &in, c, 67));
	EXPECT_EQ(68, cookie_seal(keyset_current(ks), &in, c, 68));
	in.aead = 0;
	EXPECT_EQ(-1, cookie_seal(keyset_current(ks), &in, c, sizeof(c)));
	fill_keys(&in, AEAD_AES_SIV_CMAC_256, 1);
	EXPECT_EQ(-1, cookie_seal_siv(NULL, keyset_current(ks), &in, c, sizeof(c)));
	keyset_free(ks);
}

/* Every single-byte change is refused and leaves the output zeroed. */
TEST(every_byte_flip_rejected)
{
	static const int aeads[] = { AEAD_AES_SIV_CMAC_256, AEAD_AES_SIV_CMAC_512,
				     AEAD_AES_128_GCM_SIV };
	static const uint8_t flips[] = { 0x01, 0x80, 0xff };
	struct keyset *ks = new_keyset(86400, 7);

	ASSERT_NE(NULL, ks);
	for (unsigned int a = 0; a < 3; a++) {
		uint8_t c[COOKIE_MAX_LEN];
		struct nts_keys in, out;
		int len;

		fill_keys(&in, aeads[a], 9);
		len = cookie_seal(keyset_current(ks), &in, c, sizeof(c));
		ASSERT_GT(len, 0);
		for (int i = 0; i < len; i++) {
			for (unsigned int f = 0; f < sizeof(flips); f++) {
				/* Only one key in the set: a changed id is unknown. */
				enum cookie_result want = i < 4 ? COOKIE_UNKNOWN_KEY :
								  COOKIE_AUTH_FAILED;

				c[i] ^= flips[f];
				memset(&out, 0xa5, sizeof(out));
				ASSERT_EQ(want, cookie_open(ks, c, (size_t)len, &out))
					TH_LOG("aead %d byte %d ^ %#x", aeads[a], i, flips[f]);
				EXPECT_TRUE(all_zero(&out, sizeof(out)));
				c[i] ^= flips[f];
			}
		}
		ASSERT_EQ(COOKIE_OK, cookie_open(ks, c, (size_t)len, &out));
		EXPECT_TRUE(keys_equal(&in, &out));
	}
	keyset_free(ks);
}

TEST(truncated_and_extended_rejected)
{
	struct keyset *ks = new_keyset(86400, 7);
	uint8_t c[COOKIE_MAX_LEN + 64], big[COOKIE_MAX_LEN + 64];
	struct nts_keys in, out;
	int len;

	ASSERT_NE(NULL, ks);
	fill_keys(&in, AEAD_AES_SIV_CMAC_512, 3);
	len = cookie_seal(keyset_current(ks), &in, c, sizeof(c));
	ASSERT_EQ(164, len);
	memset(c + len, 0, sizeof(c) - (size_t)len);
	for (size_t l = 0; l <= sizeof(c); l++) {
		enum cookie_result want = l == 164 ? COOKIE_OK :
			l == 100 || l == 68 ? COOKIE_AUTH_FAILED : COOKIE_BAD_LENGTH;

		memset(&out, 0xa5, sizeof(out));
		ASSERT_EQ(want, cookie_open(ks, c, l, &out)) TH_LOG("length %zu", l);
		if (want != COOKIE_OK)
			EXPECT_TRUE(all_zero(&out, sizeof(out)));
	}
	/* A 100-byte cookie padded to 164 is no 512 cookie. */
	fill_keys(&in, AEAD_AES_SIV_CMAC_256, 3);
	ASSERT_EQ(100, cookie_seal(keyset_current(ks), &in, big, sizeof(big)));
	memset(big + 100, 0, 64);
	EXPECT_EQ(COOKIE_AUTH_FAILED, cookie_open(ks, big, 164, &out));
	for (size_t l = 101; l <= 110; l++)
		EXPECT_EQ(COOKIE_BAD_LENGTH, cookie_open(ks, big, l, &out));
	EXPECT_EQ(COOKIE_OK, cookie_open(ks, big, 100, &out));
	keyset_free(ks);
}

TEST(unknown_key_id)
{
	struct keyset *ks1 = new_keyset(86400, 7), *ks2 = new_keyset(86400, 7);
	uint8_t c[COOKIE_MAX_LEN];
	struct nts_keys in, out;

	ASSERT_NE(NULL, ks1);
	ASSERT_NE(NULL, ks2);
	ASSERT_NE(keyset_current(ks1)->id, keyset_current(ks2)->id);
	fill_keys(&in, AEAD_AES_SIV_CMAC_256, 5);
	ASSERT_EQ(100, cookie_seal(keyset_current(ks1), &in, c, sizeof(c)));
	EXPECT_EQ(COOKIE_UNKNOWN_KEY, cookie_open(ks2, c, 100, &out));
	EXPECT_TRUE(all_zero(&out, sizeof(out)));
	EXPECT_EQ(COOKIE_OK, cookie_open(ks1, c, 100, &out));
	keyset_free(ks2);
	keyset_free(ks1);
}

/*
 * The id is bound as AD: a cookie relabelled with another valid key's id
 * fails authentication, and so does a cookie sealed under a different key
 * that happens to carry a known id.
 */
TEST(cookie_bound_to_its_key)
{
	struct keyset *ks = new_keyset(100, 7);
	struct keyset_key forged;
	const struct keyset_key *old, *cur;
	uint8_t c[COOKIE_MAX_LEN];
	struct nts_keys in, out;

	ASSERT_NE(NULL, ks);
	ASSERT_EQ(1, keyset_rotate_if_due(ks, T0 + 100));
	cur = keyset_key_at(ks, 0);
	old = keyset_key_at(ks, 1);
	ASSERT_NE(NULL, old);
	fill_keys(&in, AEAD_AES_SIV_CMAC_256, 6);
	ASSERT_EQ(100, cookie_seal(old, &in, c, sizeof(c)));
	ASSERT_EQ(COOKIE_OK, cookie_open(ks, c, 100, &out));
	c[0] = (uint8_t)(cur->id >> 24);
	c[1] = (uint8_t)(cur->id >> 16);
	c[2] = (uint8_t)(cur->id >> 8);
	c[3] = (uint8_t)cur->id;
	EXPECT_EQ(COOKIE_AUTH_FAILED, cookie_open(ks, c, 100, &out));

	forged = *cur;
	forged.key[0] ^= 1;
	ASSERT_EQ(100, cookie_seal(&forged, &in, c, sizeof(c)));
	EXPECT_EQ(COOKIE_AUTH_FAILED, cookie_open(ks, c, 100, &out));
	keyset_free(ks);
}

/* A cookie opens while its key is current or stale, and not after. */
TEST(rotation_window)
{
	const unsigned int stale = 3;
	struct keyset *ks = new_keyset(100, stale);
	uint8_t c[COOKIE_MAX_LEN], fresh[COOKIE_MAX_LEN];
	struct nts_keys in, out;
	uint32_t id, fid;

	ASSERT_NE(NULL, ks);
	fill_keys(&in, AEAD_AES_SIV_CMAC_512, 7);
	ASSERT_EQ(164, cookie_seal(keyset_current(ks), &in, c, sizeof(c)));
	id = keyset_current(ks)->id;
	for (unsigned int r = 1; r <= stale; r++) {
		ASSERT_EQ(1, keyset_rotate_if_due(ks, T0 + r * 100));
		ASSERT_NE(id, keyset_current(ks)->id);
		EXPECT_EQ(COOKIE_OK, cookie_open(ks, c, 164, &out)) TH_LOG("rotation %u", r);
		EXPECT_TRUE(keys_equal(&in, &out));
		/* New cookies use the current key. */
		ASSERT_EQ(164, cookie_seal(keyset_current(ks), &in, fresh, sizeof(fresh)));
		ASSERT_EQ(0, cookie_key_id(fresh, 164, &fid));
		EXPECT_EQ(keyset_current(ks)->id, fid);
	}
	ASSERT_EQ(1, keyset_rotate_if_due(ks, T0 + (stale + 1) * 100));
	EXPECT_EQ(COOKIE_UNKNOWN_KEY, cookie_open(ks, c, 164, &out));
	/* The cookie from the last round is still stale-but-valid. */
	EXPECT_EQ(COOKIE_OK, cookie_open(ks, fresh, 164, &out));
	/* A gap longer than the window invalidates everything. */
	ASSERT_EQ(1, keyset_rotate_if_due(ks, T0 + (2 * stale + 3) * 100));
	EXPECT_EQ(COOKIE_UNKNOWN_KEY, cookie_open(ks, fresh, 164, &out));
	keyset_free(ks);
}

/* Threads each use their own context through cookie_seal/cookie_open. */
struct worker {
	const struct keyset *ks;
	int failures;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint8_t c[COOKIE_MAX_LEN];
	struct nts_keys in, out;

	for (int i = 0; i < 2000; i++) {
		static const int algs[] = { 15, 17, 30 };
		int aead = algs[i % 3];
		int len;

		fill_keys(&in, aead, (uint8_t)i);
		len = cookie_seal(keyset_current(w->ks), &in, c, sizeof(c));
		if (len != (int)cookie_len(aead) ||
		    cookie_open(w->ks, c, (size_t)len, &out) != COOKIE_OK ||
		    !keys_equal(&in, &out))
			w->failures++;
	}
	cookie_thread_cleanup();
	return NULL;
}

TEST(threads_use_own_contexts)
{
	struct keyset *ks = new_keyset(86400, 7);
	struct worker w[4];
	pthread_t t[4];

	ASSERT_NE(NULL, ks);
	for (int i = 0; i < 4; i++) {
		w[i].ks = ks;
		w[i].failures = 0;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, worker_run, &w[i]));
	}
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, w[i].failures);
	}
	keyset_free(ks);
}

TEST(result_strings)
{
	EXPECT_STREQ("ok", cookie_result_str(COOKIE_OK));
	EXPECT_STREQ("unknown key id", cookie_result_str(COOKIE_UNKNOWN_KEY));
	EXPECT_NE(0, strcmp(cookie_result_str(COOKIE_BAD_LENGTH),
			    cookie_result_str(COOKIE_AUTH_FAILED)));
}

TEST_HARNESS_MAIN
