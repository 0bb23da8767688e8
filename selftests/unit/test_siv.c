// SPDX-License-Identifier: GPL-2.0
/* AES-SIV through the project's API: RFC 5297 appendix A vectors and misuse. */
#include <string.h>

#include <stdlib.h>

#include <openssl/evp.h>

#include "kselftest_harness.h"
#include "siv.h"
#include "testutil.h"

#define HEX(s, buf) hex_decode(s, buf, sizeof(buf))

/* RFC 5297 A.1: deterministic, one AD component, no nonce. */
TEST(rfc5297_a1_deterministic)
{
	uint8_t key[32], ad[64], pt[64], want[80], out[80], back[64];
	long kl = HEX("fffefdfc fbfaf9f8 f7f6f5f4 f3f2f1f0"
		      "f0f1f2f3 f4f5f6f7 f8f9fafb fcfdfeff", key);
	long al = HEX("10111213 14151617 18191a1b 1c1d1e1f"
		      "20212223 24252627", ad);
	long pl = HEX("11223344 55667788 99aabbcc ddee", pt);
	long wl = HEX("85632d07 c6e8f37f 950acd32 0a2ecc93"
		      "40c02b96 90c4dc04 daef7f6a fe5c", want);
	struct siv_iov iov = { ad, (size_t)al };
	struct siv *siv = siv_new(SIV_AEAD_CMAC_256);

	ASSERT_NE(NULL, siv);
	ASSERT_EQ(32, kl);
	ASSERT_EQ(pl + SIV_TAG_LEN, wl);
	ASSERT_EQ(0, siv_set_key(siv, key, kl));
	ASSERT_EQ(0, siv_seal(siv, &iov, 1, pt, pl, out));
	EXPECT_EQ(0, memcmp(out, want, wl));
	ASSERT_EQ(0, siv_open(siv, &iov, 1, want, wl, back));
	EXPECT_EQ(0, memcmp(back, pt, pl));
	siv_free(siv);
}

/* RFC 5297 A.2: two AD components then the nonce, as NTS passes it. */
TEST(rfc5297_a2_nonce)
{
	uint8_t key[32], ad1[64], ad2[64], nonce[16], pt[64], want[96];
	uint8_t out[96], back[64];
	long kl = HEX("7f7e7d7c 7b7a7978 77767574 73727170"
		      "40414243 44454647 48494a4b 4c4d4e4f", key);
	long a1 = HEX("00112233 44556677 8899aabb ccddeeff"
		      "deaddada deaddada ffeeddcc bbaa9988"
		      "77665544 33221100", ad1);
	long a2 = HEX("10203040 50607080 90a0", ad2);
	long nl = HEX("09f91102 9d74e35b d84156c5 635688c0", nonce);
	long pl = HEX("74686973 20697320 736f6d65 20706c61"
		      "696e7465 78742074 6f20656e 63727970"
		      "74207573 696e6720 5349562d 414553", pt);
	long wl = HEX("7bdb6e3b 432667eb 06f4d14b ff2fbd0f"
		      "cb900f2f ddbe4043 26601965 c889bf17"
		      "dba77ceb 094fa663 b7a3f748 ba8af829"
		      "ea64ad54 4a272e9c 485b62a3 fd5c0d", want);
	struct siv_iov iov[3] = {
		{ ad1, (size_t)a1 }, { ad2, (size_t)a2 }, { nonce, (size_t)nl },
	};
	struct siv *siv = siv_new(SIV_AEAD_CMAC_256);

	ASSERT_NE(NULL, siv);
	ASSERT_EQ(pl + SIV_TAG_LEN, wl);
	ASSERT_EQ(0, siv_set_key(siv, key, kl));
	ASSERT_EQ(0, siv_seal(siv, iov, 3, pt, pl, out));
	EXPECT_EQ(0, memcmp(out, want, wl));
	ASSERT_EQ(0, siv_open(siv, iov, 3, want, wl, back));
	EXPECT_EQ(0, memcmp(back, pt, pl));

	/* Any flipped bit, in tag, ciphertext or AD, must fail and zero pt. */
	for (long i = 0; i < wl; i++) {
		want[i] ^= 0x01;
		memset(back, 0xaa, sizeof(back));
		EXPECT_EQ(-1, siv_open(siv, iov, 3, want, wl, back));
		EXPECT_EQ(0, back[0]);
		want[i] ^= 0x01;
	}
	ad2[0] ^= 0x80;
	EXPECT_EQ(-1, siv_open(siv, iov, 3, want, wl, back));
	siv_free(siv);
}

/* NTS client requests seal an empty plaintext: only the tag goes out. */
TEST(empty_plaintext_roundtrip)
{
	uint8_t key[64], nonce[16] = { 1, 2, 3 }, ad[48] = { 9 }, out[16];
	uint8_t pt[1];
	int aeads[] = { SIV_AEAD_CMAC_256, SIV_AEAD_CMAC_512 };

	for (int i = 0; i < 64; i++)
		key[i] = (uint8_t)i;
	for (unsigned int a = 0; a < 2; a++) {
		struct siv *siv = siv_new(aeads[a]);

		ASSERT_NE(NULL, siv);
		ASSERT_EQ(0, siv_set_key(siv, key, siv_key_len(aeads[a])));
		ASSERT_EQ(0, siv_seal_nts(siv, nonce, 16, ad, 48, NULL, 0, out));
		EXPECT_EQ(0, siv_open_nts(siv, nonce, 16, ad, 48, out, 16, pt));
		ad[5] ^= 1;
		EXPECT_EQ(-1, siv_open_nts(siv, nonce, 16, ad, 48, out, 16, pt));
		ad[5] ^= 1;
		nonce[15] ^= 1;
		EXPECT_EQ(-1, siv_open_nts(siv, nonce, 16, ad, 48, out, 16, pt));
		nonce[15] ^= 1;
		siv_free(siv);
	}
}

/*
 * Empty plaintext with one AD component: Wycheproof aes_siv_cmac_test
 * tcId 3 and 4. OpenSSL 3.0 cannot seal these itself (see siv.c).
 */
TEST(empty_plaintext_vectors)
{
	static const char *const vec[][3] = {
		{ "e40992eb4f649e5d49134652aecc24bafa6b45ce8dd9e9d371ede7d5de84fa72",
		  "8268c5194a71aed0fc1dafe3", "92bc07ee200fbd488b7f70a10da26a21" },
		{ "99037935e620da1d67faf1e26d5a0e2c5ac2eae5eec7cbb7b7a613056f6719e3",
		  "24ab40e7966c5bfe8a5d2b0a6a9765", "f44934d6f5ba77122f198599cd0e5e52" },
	};
	for (unsigned int i = 0; i < 2; i++) {
		uint8_t key[32], ad[32], want[16], out[16];
		long al = HEX(vec[i][1], ad);
		struct siv_iov iov = { ad, (size_t)al };
		struct siv *siv = siv_new(SIV_AEAD_CMAC_256);

		ASSERT_EQ(32, HEX(vec[i][0], key));
		ASSERT_EQ(16, HEX(vec[i][2], want));
		ASSERT_EQ(0, siv_set_key(siv, key, 32));
		ASSERT_EQ(0, siv_seal(siv, &iov, 1, NULL, 0, out));
		EXPECT_EQ(0, memcmp(out, want, 16));
		EXPECT_EQ(0, siv_open(siv, &iov, 1, want, 16, NULL));
		want[15] ^= 1;
		EXPECT_EQ(-1, siv_open(siv, &iov, 1, want, 16, NULL));
		siv_free(siv);
	}
}

/*
 * Wycheproof aes_siv_cmac_test with one empty AD component: tcId 2 (empty
 * message) and the "EdgeCaseSiv" tcIds 31 and 33, whose synthetic IVs are
 * all zeros and all ones, so the CTR counter's cleared bits and its
 * wrap-around are exercised.
 */
TEST(empty_component_and_edge_vectors)
{
	static const char *const vec[][3] = {
		{ "2b27e429fb6c02678e589ccc4437c5adfb44b331ab6d21ea321727e6ec03d354", "",
		  "b2b2354e3724dcdaa85ecf029b49a90c" },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		  "1d7f9cc81b316c518efcd7927e8f7b88",
		  "00000000000000000000000000000000f0dcac3115ddbd3d8ec28822e54088d0" },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		  "110d3aa6f558c30977870672804064e0",
		  "ffffffffffffffffffffffffffffffff01f74b8e43a262001d8357f95489432e" },
	};
	for (unsigned int i = 0; i < 3; i++) {
		uint8_t key[32], pt[32], want[48], out[48], back[32];
		struct siv_iov iov = { (const uint8_t *)"", 0 };
		struct siv *siv = siv_new(SIV_AEAD_CMAC_256);
		long pl = HEX(vec[i][1], pt), wl = HEX(vec[i][2], want);

		ASSERT_EQ(32, HEX(vec[i][0], key));
		ASSERT_EQ(pl + SIV_TAG_LEN, wl);
		ASSERT_EQ(0, siv_set_key(siv, key, 32));
		ASSERT_EQ(0, siv_seal(siv, &iov, 1, pt, pl, out));
		EXPECT_EQ(0, memcmp(out, want, wl));
		EXPECT_EQ(0, siv_open(siv, &iov, 1, want, wl, back));
		EXPECT_EQ(0, memcmp(back, pt, pl));
		siv_free(siv);
	}
}

/*
 * Against OpenSSL's own AES-SIV on random inputs, both AEADs: it cannot
 * seal empty plaintexts or empty AD components (see siv.c), so those are
 * left to the vectors above.
 */
static void openssl_siv(int aead, const uint8_t *key, const uint8_t *ad, size_t al,
			const uint8_t *nonce, size_t nl, const uint8_t *pt, size_t pl,
			uint8_t *out)
{
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, aead == SIV_AEAD_CMAC_256 ? "AES-128-SIV" :
					 "AES-256-SIV", NULL);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int l;

	EVP_EncryptInit_ex2(x, c, key, NULL, NULL);
	EVP_EncryptUpdate(x, NULL, &l, ad, (int)al);
	EVP_EncryptUpdate(x, NULL, &l, nonce, (int)nl);
	EVP_EncryptUpdate(x, out + 16, &l, pt, (int)pl);
	EVP_EncryptFinal_ex(x, out + 16 + l, &l);
	EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, out);
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_free(c);
}

TEST(matches_openssl_siv)
{
	uint8_t key[64], ad[300], nonce[32], pt[600], a[616], b[616], back[600];
	int aeads[] = { SIV_AEAD_CMAC_256, SIV_AEAD_CMAC_512 };
	unsigned int seed = 12345;

	for (int round = 0; round < 400; round++) {
		int aead = aeads[round & 1];
		size_t al = 1 + (size_t)(rand_r(&seed) % 300), nl = 1 + (size_t)(rand_r(&seed) % 32);
		size_t pl = 1 + (size_t)(rand_r(&seed) % 600);
		struct siv *siv = siv_new(aead);

		for (size_t i = 0; i < sizeof(key); i++)
			key[i] = (uint8_t)rand_r(&seed);
		for (size_t i = 0; i < al; i++)
			ad[i] = (uint8_t)rand_r(&seed);
		for (size_t i = 0; i < nl; i++)
			nonce[i] = (uint8_t)rand_r(&seed);
		for (size_t i = 0; i < pl; i++)
			pt[i] = (uint8_t)rand_r(&seed);
		ASSERT_EQ(0, siv_set_key(siv, key, siv_key_len(aead)));
		ASSERT_EQ(0, siv_seal_nts(siv, nonce, nl, ad, al, pt, pl, a));
		openssl_siv(aead, key, ad, al, nonce, nl, pt, pl, b);
		ASSERT_EQ(0, memcmp(a, b, pl + 16)) {
			TH_LOG("round %d: aead %d ad %zu nonce %zu pt %zu", round, aead, al, nl, pl);
		}
		ASSERT_EQ(0, siv_open_nts(siv, nonce, nl, ad, al, b, pl + 16, back));
		ASSERT_EQ(0, memcmp(back, pt, pl));
		siv_free(siv);
	}
}

/* AEAD 17 must differ from 15 and round-trip. */
TEST(cmac512_roundtrip)
{
	uint8_t key[64] = { 7 }, pt[100], out[116], back[100];
	struct siv *siv = siv_new(SIV_AEAD_CMAC_512);

	memset(pt, 0x5c, sizeof(pt));
	ASSERT_NE(NULL, siv);
	EXPECT_EQ(-1, siv_set_key(siv, key, 32));
	ASSERT_EQ(0, siv_set_key(siv, key, 64));
	ASSERT_EQ(0, siv_seal_nts(siv, key, 16, pt, 3, pt, 100, out));
	ASSERT_EQ(0, siv_open_nts(siv, key, 16, pt, 3, out, 116, back));
	EXPECT_EQ(0, memcmp(pt, back, 100));
	siv_free(siv);
}

TEST(misuse_is_refused)
{
	uint8_t buf[32] = { 0 };
	struct siv *siv;

	EXPECT_EQ(NULL, siv_new(30));
	EXPECT_EQ(NULL, siv_new(0));
	EXPECT_EQ(0, siv_key_len(30));
	siv = siv_new(SIV_AEAD_CMAC_256);
	ASSERT_NE(NULL, siv);
	/* No key yet. */
	EXPECT_EQ(-1, siv_seal(siv, NULL, 0, buf, 1, buf));
	ASSERT_EQ(0, siv_set_key(siv, buf, 32));
	/* Shorter than a tag. */
	EXPECT_EQ(-1, siv_open(siv, NULL, 0, buf, 15, buf));
	siv_free(siv);
}

TEST_HARNESS_MAIN
