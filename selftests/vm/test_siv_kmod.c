// SPDX-License-Identifier: GPL-2.0
/*
 * The NTS kernel module kmod/xnts_siv.ko (built against Debian's 6.12
 * headers) in the guest: it loads, uses AES-NI where the CPU has it, and its
 * AES-SIV kfuncs give the RFC 5297 A.1/A.2 and Wycheproof results from a
 * SYSCALL and an XDP test run, agree with userspace siv.c (OpenSSL) on
 * random inputs for AEAD 15 and 17, refuse bad arguments, and the module
 * unloads.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "aead.h"
#include "siv_kfunc.h"
#include "testutil.h"
#include "vm_guest.h"

#define MOD "xnts_siv"
#define HEX(s, buf) hex_decode(s, buf, sizeof(buf))

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

FIXTURE(siv) {
	struct bpf_object *obj;
	int map, sys_prog, xdp_prog;
	struct siv_req req;
	bool xdp;		/* run through the XDP program instead */
};

FIXTURE_SETUP(siv)
{
	char path[4096];

	ASSERT_TRUE(vm_in_guest()) TH_LOG("modules are loaded only in the VM");
	ASSERT_EQ(0, vm_load_siv_module()) TH_LOG("loading " MOD ".ko: %s", strerror(errno));
	ASSERT_EQ(0, vm_path_beside_exe("siv_kfunc.bpf.o", path, sizeof(path)));
	self->obj = bpf_object__open_file(path, NULL);
	ASSERT_NE(NULL, self->obj);
	ASSERT_EQ(0, bpf_object__load(self->obj));
	self->map = bpf_map__fd(bpf_object__find_map_by_name(self->obj, "siv_reqs"));
	self->sys_prog = bpf_program__fd(bpf_object__find_program_by_name(self->obj,
									  "siv_syscall"));
	self->xdp_prog = bpf_program__fd(bpf_object__find_program_by_name(self->obj, "siv_xdp"));
	ASSERT_LE(0, self->map);
	ASSERT_LE(0, self->sys_prog);
	ASSERT_LE(0, self->xdp_prog);
}

FIXTURE_TEARDOWN(siv)
{
	bpf_object__close(self->obj);
}

/*
 * One kfunc call on self->req; returns the kfunc's result, with the data
 * read back into self->req. A failed run is a test failure.
 */
static int run_req(struct __test_metadata *_metadata, FIXTURE_DATA(siv) *self)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);
	unsigned char pkt[64] = { 0 };
	__u32 key = 0, calls = self->req.calls;

	if (bpf_map_update_elem(self->map, &key, &self->req, BPF_ANY))
		return -1000;
	if (self->xdp) {
		run.data_in = pkt;
		run.data_size_in = sizeof(pkt);
	}
	if (bpf_prog_test_run_opts(self->xdp ? self->xdp_prog : self->sys_prog, &run))
		return -1001;
	EXPECT_EQ(self->xdp ? XDP_PASS : 0, run.retval);
	if (bpf_map_lookup_elem(self->map, &key, &self->req))
		return -1002;
	EXPECT_EQ(calls + 1, self->req.calls);
	return self->req.ret;
}

static void set_key(struct siv_req *r, int aead, const uint8_t *key, size_t len)
{
	r->key.aead = aead;
	memcpy(r->key.key, key, len);
}

/* RFC 5297 A.1, sealed and opened by both kfunc forms, from both program types. */
TEST_F(siv, rfc5297_a1)
{
	uint8_t key[32], ad[64], pt[64], want[80];
	long kl = HEX("fffefdfc fbfaf9f8 f7f6f5f4 f3f2f1f0"
		      "f0f1f2f3 f4f5f6f7 f8f9fafb fcfdfeff", key);
	long al = HEX("10111213 14151617 18191a1b 1c1d1e1f 20212223 24252627", ad);
	long pl = HEX("11223344 55667788 99aabbcc ddee", pt);
	long wl = HEX("85632d07 c6e8f37f 950acd32 0a2ecc93"
		      "40c02b96 90c4dc04 daef7f6a fe5c", want);
	struct siv_req *r = &self->req;

	ASSERT_EQ(32, kl);
	ASSERT_EQ(pl + 16, wl);
	for (int pass = 0; pass < 4; pass++) {
		bool vec = pass & 1;

		self->xdp = pass & 2;
		memset(r, 0, sizeof(*r));
		set_key(r, XNTS_SIV_AEAD_CMAC_256, key, 32);
		memcpy(r->data, ad, al);
		memcpy(r->data + al + 16, pt, pl);
		r->len = al + wl;
		r->ad_len = al;
		r->layout.n = 1;
		r->layout.len[0] = al;
		r->op = vec ? SIV_OP_SEAL_VEC : SIV_OP_SEAL;
		ASSERT_EQ(0, run_req(_metadata, self));
		EXPECT_EQ(0, memcmp(r->data + al, want, wl)) TH_LOG("pass %d", pass);
		EXPECT_EQ(0, memcmp(r->data, ad, al));
		r->op = vec ? SIV_OP_OPEN_VEC : SIV_OP_OPEN;
		ASSERT_EQ(0, run_req(_metadata, self));
		EXPECT_EQ(0, memcmp(r->data + al + 16, pt, pl));
		EXPECT_EQ(0, memcmp(r->data + al, want, 16));
	}
}

/* RFC 5297 A.2: AD1, AD2, nonce; every flipped bit fails and zeroes the text. */
TEST_F(siv, rfc5297_a2)
{
	uint8_t key[32], comp[96], pt[64], want[96];
	long kl = HEX("7f7e7d7c 7b7a7978 77767574 73727170"
		      "40414243 44454647 48494a4b 4c4d4e4f", key);
	long cl = HEX("00112233 44556677 8899aabb ccddeeff"
		      "deaddada deaddada ffeeddcc bbaa9988"
		      "77665544 33221100"
		      "10203040 50607080 90a0"
		      "09f91102 9d74e35b d84156c5 635688c0", comp);
	long pl = HEX("74686973 20697320 736f6d65 20706c61"
		      "696e7465 78742074 6f20656e 63727970"
		      "74207573 696e6720 5349562d 414553", pt);
	long wl = HEX("7bdb6e3b 432667eb 06f4d14b ff2fbd0f"
		      "cb900f2f ddbe4043 26601965 c889bf17"
		      "dba77ceb 094fa663 b7a3f748 ba8af829"
		      "ea64ad54 4a272e9c 485b62a3 fd5c0d", want);
	struct siv_req *r = &self->req;

	ASSERT_EQ(32, kl);
	ASSERT_EQ(40 + 10 + 16, cl);
	ASSERT_EQ(pl + 16, wl);
	memset(r, 0, sizeof(*r));
	set_key(r, XNTS_SIV_AEAD_CMAC_256, key, 32);
	memcpy(r->data, comp, cl);
	memcpy(r->data + cl + 16, pt, pl);
	r->len = cl + wl;
	r->layout.n = 3;
	r->layout.len[0] = 40;
	r->layout.len[1] = 10;
	r->layout.len[2] = 16;
	r->op = SIV_OP_SEAL_VEC;
	ASSERT_EQ(0, run_req(_metadata, self));
	ASSERT_EQ(0, memcmp(r->data + cl, want, wl));

	/* The plain form with AD = AD1 only and the nonce differs: S2V counts components. */
	r->op = SIV_OP_OPEN;
	r->ad_len = 50;
	r->nonce_len = 16;
	EXPECT_EQ(-EBADMSG, run_req(_metadata, self));

	for (long i = 0; i < cl + wl; i += 3) {
		memcpy(r->data, comp, cl);
		memcpy(r->data + cl, want, wl);
		r->data[i] ^= 0x20;
		r->op = SIV_OP_OPEN_VEC;
		EXPECT_EQ(-EBADMSG, run_req(_metadata, self)) TH_LOG("byte %ld", i);
		for (long j = 0; j < pl; j++)
			if (r->data[cl + 16 + j]) {
				EXPECT_EQ(0, r->data[cl + 16 + j]) TH_LOG("byte %ld", i);
				break;
			}
	}
	memcpy(r->data, comp, cl);
	memcpy(r->data + cl, want, wl);
	EXPECT_EQ(0, run_req(_metadata, self));
	EXPECT_EQ(0, memcmp(r->data + cl + 16, pt, pl));
}

/* Wycheproof aes_siv_cmac_test tcId 3 and 4: empty plaintext, one AD component. */
TEST_F(siv, empty_plaintext_vectors)
{
	static const char *const vec[][3] = {
		{ "e40992eb4f649e5d49134652aecc24bafa6b45ce8dd9e9d371ede7d5de84fa72",
		  "8268c5194a71aed0fc1dafe3", "92bc07ee200fbd488b7f70a10da26a21" },
		{ "99037935e620da1d67faf1e26d5a0e2c5ac2eae5eec7cbb7b7a613056f6719e3",
		  "24ab40e7966c5bfe8a5d2b0a6a9765", "f44934d6f5ba77122f198599cd0e5e52" },
	};
	struct siv_req *r = &self->req;

	for (unsigned int i = 0; i < 2; i++) {
		uint8_t key[32], ad[32], want[16];
		long al = HEX(vec[i][1], ad);

		ASSERT_EQ(32, HEX(vec[i][0], key));
		ASSERT_EQ(16, HEX(vec[i][2], want));
		memset(r, 0, sizeof(*r));
		set_key(r, XNTS_SIV_AEAD_CMAC_256, key, 32);
		memcpy(r->data, ad, al);
		r->len = al + 16;
		r->ad_len = al;
		r->op = SIV_OP_SEAL;
		self->xdp = i;
		ASSERT_EQ(0, run_req(_metadata, self));
		EXPECT_EQ(0, memcmp(r->data + al, want, 16));
		r->op = SIV_OP_OPEN;
		EXPECT_EQ(0, run_req(_metadata, self));
		r->data[al + 15] ^= 1;
		EXPECT_EQ(-EBADMSG, run_req(_metadata, self));
	}
}

/*
 * Random keys, AD, nonces and plaintexts (0..600 bytes, block edges
 * included): the kfunc's seal equals libgcrypt's through aead.c, and each
 * opens the other's output; AEAD 15 and 17.
 */
TEST_F(siv, random_vs_openssl)
{
	static const int aeads[] = { AEAD_AES_SIV_CMAC_256, AEAD_AES_SIV_CMAC_512 };
	static uint8_t key[64], ad[600], nonce[16], pt[600], out[616], back[600];
	struct siv_req *r = &self->req;
	unsigned int seed = 5297;

	for (int it = 0; it < 240; it++) {
		int aead = aeads[it & 1];
		size_t kl = aead_key_len(aead);
		size_t al = 1 + rand_r(&seed) % 600;
		size_t pl = it < 40 ? (size_t)(it / 2) : rand_r(&seed) % 600;
		struct aead *siv = aead_new();

		ASSERT_NE(NULL, siv);
		if (al + 16 + 16 + pl > XNTS_SIV_MAX_BUF)
			al = 100;
		for (size_t i = 0; i < kl; i++)
			key[i] = rand_r(&seed);
		for (size_t i = 0; i < al; i++)
			ad[i] = rand_r(&seed);
		for (size_t i = 0; i < 16; i++)
			nonce[i] = rand_r(&seed);
		for (size_t i = 0; i < pl; i++)
			pt[i] = rand_r(&seed);
		ASSERT_EQ(0, aead_seal_nts(siv, aead, key, nonce, 16, ad, al, pt, pl, out));

		memset(r, 0, sizeof(*r));
		set_key(r, aead, key, kl);
		memcpy(r->data, ad, al);
		memcpy(r->data + al, nonce, 16);
		memcpy(r->data + al + 32, pt, pl);
		r->len = al + 32 + pl;
		r->ad_len = al;
		r->nonce_len = 16;
		r->op = SIV_OP_SEAL;
		self->xdp = it & 2;
		ASSERT_EQ(0, run_req(_metadata, self));
		ASSERT_EQ(0, memcmp(r->data + al + 16, out, 16 + pl))
			TH_LOG("it %d aead %d ad %zu pt %zu", it, aead, al, pl);
		/* libgcrypt opens the kfunc's output (the same bytes, checked above)
		 * and the kfunc opens libgcrypt's.
		 */
		ASSERT_EQ(0, aead_open_nts(siv, aead, key, nonce, 16, ad, al, r->data + al + 16,
					   16 + pl, back));
		EXPECT_EQ(0, memcmp(back, pt, pl));
		memcpy(r->data + al + 16, out, 16 + pl);
		r->op = SIV_OP_OPEN;
		ASSERT_EQ(0, run_req(_metadata, self));
		EXPECT_EQ(0, memcmp(r->data + al + 32, pt, pl));
		aead_free(siv);
	}
}

/* Arguments out of contract are refused with -EINVAL, never half-done. */
TEST_F(siv, bad_arguments)
{
	struct siv_req *r = &self->req;

	memset(r, 0, sizeof(*r));
	r->key.aead = XNTS_SIV_AEAD_CMAC_256;
	r->op = SIV_OP_SEAL;
	r->len = 48;
	r->ad_len = 16;
	r->nonce_len = 16;
	EXPECT_EQ(0, run_req(_metadata, self));		/* exactly room for the tag */
	r->ad_len = 17;
	EXPECT_EQ(-EINVAL, run_req(_metadata, self));	/* no room for the tag */
	r->ad_len = 0xfffffff0;
	EXPECT_EQ(-EINVAL, run_req(_metadata, self));	/* would wrap */
	r->ad_len = 16;
	r->len = 15;
	EXPECT_EQ(-EINVAL, run_req(_metadata, self));	/* shorter than a tag */
	r->len = 48;
	r->key.aead = 16;
	EXPECT_EQ(-EINVAL, run_req(_metadata, self));	/* unknown AEAD */
	r->key.aead = XNTS_SIV_AEAD_CMAC_512;
	EXPECT_EQ(0, run_req(_metadata, self));
	r->op = SIV_OP_SEAL_VEC;
	r->layout.n = XNTS_SIV_MAX_COMP + 1;
	EXPECT_EQ(-EINVAL, run_req(_metadata, self));
	r->layout.n = 2;
	r->layout.len[0] = 0x80000000;
	r->layout.len[1] = 0x80000000;
	EXPECT_EQ(-EINVAL, run_req(_metadata, self));	/* sum would wrap */
}

/* With AES-NI in the CPU, the crypto API hands the module the AES-NI drivers. */
TEST_F(siv, uses_aesni_when_present)
{
	char line[512];
	bool cpu_aes = false, cmac_ni = false, aes_ni = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5) && strstr(line, " aes "))
			cpu_aes = true;
	fclose(f);
	f = fopen("/proc/crypto", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "driver") && strstr(line, "cmac(aes-aesni)"))
			cmac_ni = true;
		if (strstr(line, "driver") && strstr(line, ": aes-aesni"))
			aes_ni = true;
	}
	fclose(f);
	TH_LOG("cpu aes %d, cmac(aes-aesni) %d, aes-aesni %d", cpu_aes, cmac_ni, aes_ni);
	if (cpu_aes) {
		EXPECT_TRUE(cmac_ni);
		EXPECT_TRUE(aes_ni);
	}
}

/*
 * Loads with its BTF (so the kfuncs are registered) and unloads once no
 * program holds it (a freed program lets go after RCU); the fixture loads
 * it again for the other cases.
 */
TEST(load_unload)
{
	ASSERT_TRUE(vm_in_guest());
	ASSERT_EQ(0, vm_load_siv_module());
	EXPECT_TRUE(exists("/sys/kernel/btf/" MOD));
	for (int i = 0; i < 100; i++) {
		if (!syscall(SYS_delete_module, MOD, O_NONBLOCK))
			break;
		ASSERT_TRUE(errno == EBUSY || errno == EAGAIN) TH_LOG("%s", strerror(errno));
		usleep(100000);
	}
	EXPECT_FALSE(exists("/sys/module/" MOD));
}

TEST_HARNESS_MAIN
