// SPDX-License-Identifier: GPL-2.0
/*
 * The NTS AEADs through aead.h: RFC 5297 appendix A and Wycheproof
 * aes_siv_cmac_test vectors for AEAD 15, RFC 8452 appendix C.1 and
 * Wycheproof aes_gcm_siv_test vectors for AEAD 30, OpenSSL's own AES-SIV
 * on random inputs for 15 and 17, key caching and misuse.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "aead.h"
#include "kselftest_harness.h"
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
	struct aead_iov iov = { ad, (size_t)al };
	struct aead *a = aead_new();

	ASSERT_NE(NULL, a);
	ASSERT_EQ(32, kl);
	ASSERT_EQ(pl + AEAD_TAG_LEN, wl);
	ASSERT_EQ(0, aead_seal(a, AEAD_AES_SIV_CMAC_256, key, NULL, 0, &iov, 1, pt, pl, out));
	EXPECT_EQ(0, memcmp(out, want, wl));
	ASSERT_EQ(0, aead_open(a, AEAD_AES_SIV_CMAC_256, key, NULL, 0, &iov, 1, want, wl, back));
	EXPECT_EQ(0, memcmp(back, pt, pl));
	aead_free(a);
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
	struct aead_iov iov[2] = { { ad1, (size_t)a1 }, { ad2, (size_t)a2 } };
	const int alg = AEAD_AES_SIV_CMAC_256;
	struct aead *a = aead_new();

	ASSERT_NE(NULL, a);
	ASSERT_EQ(32, kl);
	ASSERT_EQ(pl + AEAD_TAG_LEN, wl);
	ASSERT_EQ(0, aead_seal(a, alg, key, nonce, nl, iov, 2, pt, pl, out));
	EXPECT_EQ(0, memcmp(out, want, wl));
	ASSERT_EQ(0, aead_open(a, alg, key, nonce, nl, iov, 2, want, wl, back));
	EXPECT_EQ(0, memcmp(back, pt, pl));

	/* Any flipped bit, in tag, ciphertext or AD, must fail and zero pt. */
	for (long i = 0; i < wl; i++) {
		want[i] ^= 0x01;
		memset(back, 0xaa, sizeof(back));
		EXPECT_EQ(-1, aead_open(a, alg, key, nonce, nl, iov, 2, want, wl, back));
		EXPECT_EQ(0, back[0]);
		want[i] ^= 0x01;
	}
	ad2[0] ^= 0x80;
	EXPECT_EQ(-1, aead_open(a, alg, key, nonce, nl, iov, 2, want, wl, back));
	ad2[0] ^= 0x80;
	nonce[15] ^= 1;
	EXPECT_EQ(-1, aead_open(a, alg, key, nonce, nl, iov, 2, want, wl, back));
	aead_free(a);
}

/* NTS client requests seal an empty plaintext: only the tag goes out. */
TEST(empty_plaintext_roundtrip)
{
	uint8_t key[64], nonce[16] = { 1, 2, 3 }, ad[48] = { 9 }, out[16];
	uint8_t pt[1];
	static const int algs[] = {
		AEAD_AES_SIV_CMAC_256, AEAD_AES_SIV_CMAC_512, AEAD_AES_128_GCM_SIV,
	};
	struct aead *a = aead_new();

	ASSERT_NE(NULL, a);
	memset(key, 0x42, sizeof(key));
	for (int i = 0; i < 3; i++) {
		size_t nl = aead_nonce_len(algs[i]);

		ASSERT_EQ(0, aead_seal_nts(a, algs[i], key, nonce, nl, ad, 48, NULL, 0, out));
		EXPECT_EQ(0, aead_open_nts(a, algs[i], key, nonce, nl, ad, 48, out, 16, pt));
		out[0] ^= 1;
		EXPECT_EQ(-1, aead_open_nts(a, algs[i], key, nonce, nl, ad, 48, out, 16, pt));
		out[0] ^= 1;
		ad[47] ^= 1;
		EXPECT_EQ(-1, aead_open_nts(a, algs[i], key, nonce, nl, ad, 48, out, 16, pt));
		ad[47] ^= 1;
	}
	aead_free(a);
}

/* Wycheproof aes_siv_cmac_test tcId 3 and 4: empty plaintext, one AD. */
TEST(wycheproof_siv_empty_plaintext)
{
	static const char *const vec[][3] = {
		{ "e40992eb4f649e5d49134652aecc24bafa6b45ce8dd9e9d371ede7d5de84fa72",
		  "8268c5194a71aed0fc1dafe3", "92bc07ee200fbd488b7f70a10da26a21" },
		{ "99037935e620da1d67faf1e26d5a0e2c5ac2eae5eec7cbb7b7a613056f6719e3",
		  "24ab40e7966c5bfe8a5d2b0a6a9765", "f44934d6f5ba77122f198599cd0e5e52" },
	};
	struct aead *a = aead_new();

	ASSERT_NE(NULL, a);
	for (unsigned int i = 0; i < 2; i++) {
		uint8_t key[32], ad[32], want[16], out[16];
		long al = HEX(vec[i][1], ad);
		struct aead_iov iov = { ad, (size_t)al };

		ASSERT_EQ(32, HEX(vec[i][0], key));
		ASSERT_EQ(16, HEX(vec[i][2], want));
		ASSERT_EQ(0, aead_seal(a, 15, key, NULL, 0, &iov, 1, NULL, 0, out));
		EXPECT_EQ(0, memcmp(out, want, 16));
		EXPECT_EQ(0, aead_open(a, 15, key, NULL, 0, &iov, 1, want, 16, NULL));
		want[15] ^= 1;
		EXPECT_EQ(-1, aead_open(a, 15, key, NULL, 0, &iov, 1, want, 16, NULL));
	}
	aead_free(a);
}

/*
 * Wycheproof aes_siv_cmac_test with one empty AD component: tcId 2 (empty
 * message) and the "EdgeCaseSiv" tcIds 31 and 33, whose synthetic IVs are
 * all zeros and all ones, so the CTR counter's cleared bits and its
 * wrap-around are exercised.
 */
TEST(wycheproof_siv_empty_component_and_edges)
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
	struct aead *a = aead_new();

	ASSERT_NE(NULL, a);
	for (unsigned int i = 0; i < 3; i++) {
		uint8_t key[32], pt[32], want[48], out[48], back[32];
		struct aead_iov iov = { (const uint8_t *)"", 0 };
		long pl = HEX(vec[i][1], pt), wl = HEX(vec[i][2], want);

		ASSERT_EQ(32, HEX(vec[i][0], key));
		ASSERT_EQ(pl + AEAD_TAG_LEN, wl);
		ASSERT_EQ(0, aead_seal(a, 15, key, NULL, 0, &iov, 1, pt, pl, out));
		EXPECT_EQ(0, memcmp(out, want, wl));
		EXPECT_EQ(0, aead_open(a, 15, key, NULL, 0, &iov, 1, want, wl, back));
		EXPECT_EQ(0, memcmp(back, pt, pl));
	}
	aead_free(a);
}

/*
 * AEAD 30 known answers: key, nonce, AD, plaintext, and the AEAD output
 * (ciphertext || tag). The first twelve are RFC 8452 appendix C.1
 * (AEAD_AES_128_GCM_SIV); the rest are Wycheproof aes_gcm_siv_test tcIds
 * 25-32, random keys and nonces, empty to 32-byte messages.
 */
static const char *const gcm_siv_valid[][5] = {
	{ "01000000000000000000000000000000", "030000000000000000000000", "", "",
	  "dc20e2d83f25705bb49e439eca56de25" },
	{ "01000000000000000000000000000000", "030000000000000000000000", "",
	  "0100000000000000", "b5d839330ac7b786578782fff6013b815b287c22493a364c" },
	{ "01000000000000000000000000000000", "030000000000000000000000", "",
	  "01000000000000000000000000000000"
	  "02000000000000000000000000000000",
	  "84e07e62ba83a6585417245d7ec413a9fe427d6315c09b57ce45f2e3936a9445"
	  "1a8e45dcd4578c667cd86847bf6155ff" },
	{ "01000000000000000000000000000000", "030000000000000000000000", "01",
	  "0200000000000000", "1e6daba35669f4273b0a1a2560969cdf790d99759abd1508" },
	{ "01000000000000000000000000000000", "030000000000000000000000", "01",
	  "02000000000000000000000000000000"
	  "03000000000000000000000000000000"
	  "04000000000000000000000000000000"
	  "05000000000000000000000000000000",
	  "2f5c64059db55ee0fb847ed513003746aca4e61c711b5de2e7a77ffd02da42fe"
	  "ec601910d3467bb8b36ebbaebce5fba30d36c95f48a3e7980f0e7ac299332a80"
	  "cdc46ae475563de037001ef84ae21744" },
	{ "01000000000000000000000000000000", "030000000000000000000000",
	  "010000000000000000000000", "02000000",
	  "a8fe3e8707eb1f84fb28f8cb73de8e99e2f48a14" },
	{ "01000000000000000000000000000000", "030000000000000000000000",
	  "010000000000000000000000000000000200",
	  "0300000000000000000000000000000004000000",
	  "6bb0fecf5ded9b77f902c7d5da236a4391dd029724afc9805e976f451e6d87f6fe106514" },
	{ "e66021d5eb8e4f4066d4adb9c33560e4", "f46e44bb3da0015c94f70887", "", "",
	  "a4194b79071b01a87d65f706e3949578" },
	{ "36864200e0eaf5284d884a0e77d31646", "bae8e37fc83441b16034566b", "46bb91c3c5",
	  "7a806c", "af60eb711bd85bc1e4d3e0a462e074eea428a8" },
	{ "d5cc1fd161320b6920ce07787f86743b", "275d1ab32f6d1f0434d8848c",
	  "046787f3ea22c127aaf195d1894728", "1177441f195495860f",
	  "4f37281f7ad12949d01d02fd0cd174c84fc5dae2f60f52fd2b" },
	{ "bde3b2f204d1e9f8b06bc47f9745b3d1", "ae06556fb6aa7890bebc18fe",
	  "1860f762ebfbd08284e421702de0de18baa9c9596291b08466f37de21c7f",
	  "6b3db4da3d57aa94842b9803a96e07fb6de7",
	  "6298b296e24e8cc35dce0bed484b7f30d5803e377094f04709f64d7b985310a4db84" },
	{ "f901cfe8a69615a93fdf7a98cad48179", "6245709fb18853f68d833640",
	  "7576f7028ec6eb5ea7e298342a94d4b202b370ef9768ec6561c4fe6b7e7296fa859c21",
	  "e42a3c02c25b64869e146d7b233987bddfc240871d",
	  "391cc328d484a4f46406181bcd62efd9b3ee197d052d15506c84a9edd65e13e9d24a2a6e70" },
	/* Wycheproof tcId 25-32 */
	{ "bedcfb5a011ebc84600fcb296c15af0d", "438a547a94ea88dce46c6c85", "", "",
	  "596d0538e48526be1c991e40cc031073" },
	{ "384ea416ac3c2f51a76e7d8226346d4e", "b30c084727ad1c592ac21d12", "", "35",
	  "4f8b2b805fc0885e2b470d9dbe6cb15ed3" },
	{ "cae31cd9f55526eb038241fc44cac1e5", "b5e006ded553110e6dc56529", "",
	  "d10989f2c52e94ad", "04c7a55f97846e5448168ff846356c33032c719b518f18a8" },
	{ "dd6197cd63c963919cf0c273ef6b28bf", "ecb0c42f7000ef0e6f95f24d", "",
	  "4dcc1485365866e25ac3f2ca6aba97",
	  "fd9521041b0397a15b0070b93f48a909df91414578f7faf757d04ee26ab901" },
	{ "ffdf4228361ea1f8165852136b3480f7", "0e1666f2dc652f7708fb8f0d", "",
	  "25b12e28ac0ef6ead0226a3b2288c800",
	  "6eb905287ddfafc32f6b1c10046c089f4ff9f939a77c34b0cb1ee75fcb0dd29a" },
	{ "c15ed227dd2e237ecd087eaaaad19ea4", "965ff6643116ac1443a2dec7", "",
	  "fee62fde973fe025ad6b322dcdf3c63fc7",
	  "6f62bd09d4f36f73e289ab6dd114727fe3ea727c084db2bc948de0928edddd7fcf" },
	{ "a8ee11b26d7ceb7f17eaa1e4b83a2cf6", "fbbc04fd6e025b7193eb57f6", "",
	  "c08f085e6a9e0ef3636280c11ecfadf0c1e72919ffc17eaf",
	  "80133a4bea7311f0d3c9835144c37c4ef0ef20c8f2e36be1b92f47c1af6713e14fbdf60efebb50c6" },
	{ "7519588f30f7f08ff98e1beee6a2a783", "a2dbe708db51c68ef02994a6", "",
	  "1851956319256ebb0f9ccaf325a24abfc5c3e90b055e57cdc0c7ab2165ae03b1",
	  "778b308e4ca17607df36c0b94695bc64603173b814701a9f69147b42478a0b1f"
	  "b75c98952c0aa11958a55c9c2ecf33f5" },
};

TEST(gcm_siv_known_answers)
{
	struct aead *a = aead_new();

	ASSERT_NE(NULL, a);
	for (unsigned int i = 0; i < sizeof(gcm_siv_valid) / sizeof(gcm_siv_valid[0]); i++) {
		uint8_t key[16], nonce[12], ad[64], pt[96], want[112], out[112], back[96];
		long al = HEX(gcm_siv_valid[i][2], ad), pl = HEX(gcm_siv_valid[i][3], pt);
		long wl = HEX(gcm_siv_valid[i][4], want);
		struct aead_iov iov = { ad, (size_t)al };

		ASSERT_EQ(16, HEX(gcm_siv_valid[i][0], key));
		ASSERT_EQ(12, HEX(gcm_siv_valid[i][1], nonce));
		ASSERT_TRUE(al >= 0 && pl >= 0);
		ASSERT_EQ(pl + AEAD_TAG_LEN, wl) TH_LOG("vector %u", i);
		ASSERT_EQ(0, aead_seal(a, 30, key, nonce, 12, &iov, 1, pt, pl, out));
		EXPECT_EQ(0, memcmp(out, want, wl)) TH_LOG("vector %u", i);
		memset(back, 0xaa, sizeof(back));
		ASSERT_EQ(0, aead_open(a, 30, key, nonce, 12, &iov, 1, want, wl, back));
		EXPECT_EQ(0, memcmp(back, pt, pl));
		/* The tag is the last 16 bytes: damage there or in the ciphertext. */
		for (long j = 0; j < wl; j += 5) {
			want[j] ^= 0x10;
			EXPECT_EQ(-1, aead_open(a, 30, key, nonce, 12, &iov, 1, want, wl, back));
			if (pl)
				EXPECT_EQ(0, back[0]);
			want[j] ^= 0x10;
		}
		nonce[11] ^= 1;
		EXPECT_EQ(-1, aead_open(a, 30, key, nonce, 12, &iov, 1, want, wl, back));
	}
	aead_free(a);
}

/*
 * Wycheproof aes_gcm_siv_test "Flipped bit in tag" cases (tcIds 54, 55,
 * 57, 58): key 00112233..eeff, all-zero nonce; each must be refused.
 */
TEST(gcm_siv_wycheproof_invalid)
{
	static const char *const vec[][3] = {
		{ "3955107da2e9938c6b19bb19ae9fc09f", "", "0987e35e40981a2730c1740c7201731f" },
		{ "b1385d46a8accd7022c142442a0b13e9", "0000000000000000",
		  "00000000000000000000000000000000" },
		{ "bff8c631e61c18a050a523ad4a750a20", "ffffffffffffffff",
		  "ffffffffffffffffffffffffffffffff" },
		{ "7b6171302b689c926852163e310f08d4", "00000000000000000000000000000000",
		  "13a1883272188b4c8d2727178198fe95" },
	};
	uint8_t key[16], nonce[12] = { 0 };
	struct aead *a = aead_new();

	ASSERT_NE(NULL, a);
	ASSERT_EQ(16, HEX("00112233445566778899aabbccddeeff", key));
	for (unsigned int i = 0; i < 4; i++) {
		uint8_t ad[16], in[48], back[32];
		long al = HEX(vec[i][0], ad), cl = HEX(vec[i][1], in);
		struct aead_iov iov = { ad, (size_t)al };

		ASSERT_EQ(16, hex_decode(vec[i][2], in + cl, 16));
		EXPECT_EQ(-1, aead_open(a, 30, key, nonce, 12, &iov, 1, in, cl + 16, back));
	}
	aead_free(a);
}

/*
 * Against OpenSSL's own AES-SIV on random inputs, AEADs 15 and 17: it
 * cannot seal empty plaintexts or empty AD components, so those are left to
 * the vectors above.
 */
static void openssl_siv(int alg, const uint8_t *key, const uint8_t *ad, size_t al,
			const uint8_t *nonce, size_t nl, const uint8_t *pt, size_t pl,
			uint8_t *out)
{
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, alg == AEAD_AES_SIV_CMAC_256 ? "AES-128-SIV" :
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
	int algs[] = { AEAD_AES_SIV_CMAC_256, AEAD_AES_SIV_CMAC_512 };
	unsigned int seed = 12345;
	struct aead *ctx = aead_new();

	ASSERT_NE(NULL, ctx);
	for (int round = 0; round < 400; round++) {
		int alg = algs[round & 1];
		size_t al = 1 + (size_t)(rand_r(&seed) % 300), nl = 1 + (size_t)(rand_r(&seed) % 32);
		size_t pl = 1 + (size_t)(rand_r(&seed) % 600);

		for (size_t i = 0; i < sizeof(key); i++)
			key[i] = (uint8_t)rand_r(&seed);
		for (size_t i = 0; i < al; i++)
			ad[i] = (uint8_t)rand_r(&seed);
		for (size_t i = 0; i < nl; i++)
			nonce[i] = (uint8_t)rand_r(&seed);
		for (size_t i = 0; i < pl; i++)
			pt[i] = (uint8_t)rand_r(&seed);
		ASSERT_EQ(0, aead_seal_nts(ctx, alg, key, nonce, nl, ad, al, pt, pl, a));
		openssl_siv(alg, key, ad, al, nonce, nl, pt, pl, b);
		ASSERT_EQ(0, memcmp(a, b, pl + 16)) {
			TH_LOG("round %d: aead %d ad %zu nonce %zu pt %zu", round, alg, al, nl, pl);
		}
		ASSERT_EQ(0, aead_open_nts(ctx, alg, key, nonce, nl, ad, al, b, pl + 16, back));
		ASSERT_EQ(0, memcmp(back, pt, pl));
	}
	aead_free(ctx);
}

/*
 * A context skips re-keying only for the key it holds: switching between
 * two keys, and between algorithms, must give what a fresh context gives.
 */
TEST(key_switching_matches_fresh_context)
{
	uint8_t k1[64], k2[64], nonce[16] = { 5 }, pt[40], ad[20] = { 1 };
	uint8_t ref[3][2][56], out[56];
	static const int algs[] = {
		AEAD_AES_SIV_CMAC_256, AEAD_AES_SIV_CMAC_512, AEAD_AES_128_GCM_SIV,
	};
	struct aead *a = aead_new();

	ASSERT_NE(NULL, a);
	memset(k1, 0x11, sizeof(k1));
	memset(k2, 0x11, sizeof(k2));
	k2[15] = 0x12;	/* differs within every algorithm's key */
	memset(pt, 0x77, sizeof(pt));
	for (int i = 0; i < 3; i++) {
		for (int k = 0; k < 2; k++) {
			struct aead *fresh = aead_new();

			ASSERT_NE(NULL, fresh);
			ASSERT_EQ(0, aead_seal_nts(fresh, algs[i], k ? k2 : k1, nonce,
						   aead_nonce_len(algs[i]), ad, 20, pt, 40,
						   ref[i][k]));
			aead_free(fresh);
		}
		EXPECT_NE(0, memcmp(ref[i][0], ref[i][1], 56));
	}
	for (int round = 0; round < 12; round++) {
		int i = round % 3, k = (round / 3) & 1;

		ASSERT_EQ(0, aead_seal_nts(a, algs[i], k ? k2 : k1, nonce, aead_nonce_len(algs[i]),
					   ad, 20, pt, 40, out));
		EXPECT_EQ(0, memcmp(out, ref[i][k], 56)) TH_LOG("round %d", round);
	}
	aead_free(a);
}

TEST(misuse_is_refused)
{
	uint8_t buf[64] = { 0 }, out[80];
	struct aead_iov two[2] = { { buf, 4 }, { buf, 4 } };
	struct aead *a = aead_new();

	ASSERT_NE(NULL, a);
	EXPECT_EQ(0, aead_key_len(0));
	EXPECT_EQ(0, aead_key_len(16));
	EXPECT_EQ(32, aead_key_len(15));
	EXPECT_EQ(64, aead_key_len(17));
	EXPECT_EQ(16, aead_key_len(30));
	EXPECT_EQ(12, aead_nonce_len(30));
	EXPECT_EQ(16, aead_nonce_len(15));
	EXPECT_EQ(1, aead_nonce_ok(30, 12));
	EXPECT_EQ(0, aead_nonce_ok(30, 16));
	EXPECT_EQ(1, aead_nonce_ok(15, 16));
	/* Unknown algorithm, no key. */
	EXPECT_EQ(-1, aead_seal_nts(a, 16, buf, buf, 16, buf, 4, buf, 8, out));
	EXPECT_EQ(-1, aead_seal_nts(a, 15, NULL, buf, 16, buf, 4, buf, 8, out));
	/* GCM-SIV: only a 12-byte nonce and at most one AD string. */
	EXPECT_EQ(-1, aead_seal_nts(a, 30, buf, buf, 16, buf, 4, buf, 8, out));
	EXPECT_EQ(-1, aead_seal_nts(a, 30, buf, buf, 0, buf, 4, buf, 8, out));
	EXPECT_EQ(-1, aead_seal(a, 30, buf, buf, 12, two, 2, buf, 8, out));
	EXPECT_EQ(0, aead_seal(a, 15, buf, buf, 12, two, 2, buf, 8, out));
	/* Too many SIV components; shorter than a tag. */
	EXPECT_EQ(-1, aead_seal(a, 15, buf, buf, 12, two, AEAD_MAX_AD + 1, buf, 8, out));
	EXPECT_EQ(-1, aead_open_nts(a, 15, buf, buf, 16, buf, 4, buf, 15, out));
	EXPECT_EQ(-1, aead_open_nts(a, 30, buf, buf, 12, buf, 4, buf, 15, out));
	aead_free(a);
}

TEST_HARNESS_MAIN
