// SPDX-License-Identifier: GPL-2.0
/*
 * xnts_siv: AES-SIV (RFC 5297) seal and open as kfuncs for XDP, TC and
 * BPF_PROG_TYPE_SYSCALL programs, with a key passed on every call. NTS
 * (RFC 8915) session keys differ per packet, which the mainline bpf_crypto
 * contexts (key fixed at creation, no CTR mode) cannot serve.
 *
 * The contract is in xnts_siv.h; Documentation/kmod.md gives the reasons.
 * Built on the kernel crypto API: "cmac(aes)" (shash) for S2V and the
 * single-block "aes" cipher for CTR, each resolving to the AES-NI drivers
 * where they are loaded. Every CPU has its own preallocated transforms,
 * rekeyed on each call; local_bh_disable() keeps XDP/TC (softirq) and
 * SYSCALL (process) callers on one CPU from interleaving. Nothing here
 * allocates or sleeps after module init.
 */
#include <crypto/algapi.h>
#include <crypto/hash.h>
#include <crypto/internal/cipher.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "xnts_siv.h"

#define BLK 16

struct siv_cpu {
	struct crypto_shash *mac;
	struct crypto_cipher *ctr;
	struct shash_desc *desc;	/* for mac, preallocated */
};

static DEFINE_PER_CPU(struct siv_cpu, siv_cpus);

/* The RFC 5297 doubling in GF(2^128): shift left by one, reduce by 0x87. */
static void siv_dbl(u8 d[BLK])
{
	u8 carry = d[0] >> 7;
	int i;

	for (i = 0; i < BLK - 1; i++)
		d[i] = (d[i] << 1) | (d[i + 1] >> 7);
	d[BLK - 1] = (d[BLK - 1] << 1) ^ (carry ? 0x87 : 0);
}

static int siv_mac(struct shash_desc *desc, const u8 *data, u32 len, u8 out[BLK])
{
	return crypto_shash_digest(desc, data, len, out);
}

/*
 * S2V over the components (lens[0..n-1] bytes, back to back at comp) and
 * the text as the final string. The MAC key must be set.
 */
static int siv_s2v(struct shash_desc *desc, const u8 *comp, const u32 *lens, u32 n,
		   const u8 *text, u32 text_len, u8 v[BLK])
{
	static const u8 zero[BLK];
	u8 d[BLK], t[BLK];
	u32 i, j;
	int err;

	err = siv_mac(desc, zero, BLK, d);
	for (i = 0; !err && i < n; i++) {
		err = siv_mac(desc, comp, lens[i], t);
		comp += lens[i];
		siv_dbl(d);
		crypto_xor(d, t, BLK);
	}
	if (err)
		goto out;
	if (text_len >= BLK) {
		/* xorend: only the last block changes, so no copy of the text. */
		memcpy(t, text + text_len - BLK, BLK);
		crypto_xor(t, d, BLK);
		err = crypto_shash_init(desc);
		if (!err)
			err = crypto_shash_update(desc, text, text_len - BLK);
		if (!err)
			err = crypto_shash_finup(desc, t, BLK, v);
	} else {
		siv_dbl(d);
		memset(t, 0, BLK);
		memcpy(t, text, text_len);
		t[text_len] = 0x80;
		for (j = 0; j < BLK; j++)
			t[j] ^= d[j];
		err = siv_mac(desc, t, BLK, v);
	}
out:
	memzero_explicit(d, sizeof(d));
	memzero_explicit(t, sizeof(t));
	return err;
}

/* CTR with the counter Q = V with bits 63 and 31 cleared (RFC 5297 2.6). */
static void siv_ctr(struct crypto_cipher *aes, const u8 v[BLK], u8 *text, u32 len)
{
	u8 q[BLK], ks[BLK];
	u32 off, i, k;

	memcpy(q, v, BLK);
	q[8] &= 0x7f;
	q[12] &= 0x7f;
	for (off = 0; off < len; off += BLK) {
		k = min_t(u32, BLK, len - off);
		crypto_cipher_encrypt_one(aes, ks, q);
		crypto_xor(text + off, ks, k);
		/* 128-bit big-endian increment */
		for (i = BLK; i-- > 0;)
			if (++q[i])
				break;
	}
	memzero_explicit(ks, sizeof(ks));
	memzero_explicit(q, sizeof(q));
}

/*
 * Checks the arguments and sums the component lengths into *comp_len.
 * Every length is bounded before any arithmetic can overflow.
 */
static int siv_check(const struct xnts_siv_key *key, const u8 *buf, u32 buf_sz,
		     const u32 *lens, u32 n, u32 *comp_len, u32 *key_len)
{
	u32 i, sum = 0;

	if (!key || !buf || n > XNTS_SIV_MAX_COMP)
		return -EINVAL;
	if (key->aead == XNTS_SIV_AEAD_CMAC_256)
		*key_len = 32;
	else if (key->aead == XNTS_SIV_AEAD_CMAC_512)
		*key_len = 64;
	else
		return -EINVAL;
	if (buf_sz < BLK || buf_sz > XNTS_SIV_MAX_BUF)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (lens[i] > XNTS_SIV_MAX_BUF)
			return -EINVAL;
		sum += lens[i];
	}
	if (sum > buf_sz - BLK)
		return -EINVAL;
	*comp_len = sum;
	return 0;
}

static int siv_do(struct xnts_siv_key *key, u8 *buf, u32 buf_sz, const u32 *lens, u32 n,
		  bool seal)
{
	u32 comp_len, key_len, text_len;
	struct siv_cpu *c;
	u8 v[BLK], *tag, *text;
	int err;

	err = siv_check(key, buf, buf_sz, lens, n, &comp_len, &key_len);
	if (err)
		return err;
	tag = buf + comp_len;
	text = tag + BLK;
	text_len = buf_sz - comp_len - BLK;

	local_bh_disable();
	c = this_cpu_ptr(&siv_cpus);
	err = crypto_shash_setkey(c->mac, key->key, key_len / 2);
	if (!err)
		err = crypto_cipher_setkey(c->ctr, key->key + key_len / 2, key_len / 2);
	if (err)
		goto out;
	if (seal) {
		err = siv_s2v(c->desc, buf, lens, n, text, text_len, v);
		if (err)
			goto out;
		memcpy(tag, v, BLK);
		siv_ctr(c->ctr, v, text, text_len);
	} else {
		memcpy(v, tag, BLK);
		siv_ctr(c->ctr, v, text, text_len);
		err = siv_s2v(c->desc, buf, lens, n, text, text_len, v);
		if (!err && crypto_memneq(v, tag, BLK))
			err = -EBADMSG;
		if (err)
			memzero_explicit(text, text_len);
	}
out:
	local_bh_enable();
	memzero_explicit(v, sizeof(v));
	return err;
}

static int siv_nts(struct xnts_siv_key *key, u8 *buf, u32 buf_sz, u32 ad_len, u32 nonce_len,
		   bool seal)
{
	u32 lens[2], n = 0;

	if (ad_len > XNTS_SIV_MAX_BUF || nonce_len > XNTS_SIV_MAX_BUF)
		return -EINVAL;
	if (ad_len)
		lens[n++] = ad_len;
	if (nonce_len)
		lens[n++] = nonce_len;
	return siv_do(key, buf, buf_sz, lens, n, seal);
}

static int siv_vec(struct xnts_siv_key *key, u8 *buf, u32 buf_sz, struct xnts_siv_layout *l,
		   bool seal)
{
	u32 lens[XNTS_SIV_MAX_COMP], n;

	if (!l)
		return -EINVAL;
	/* One read of the caller's memory: BPF may change it meanwhile. */
	n = READ_ONCE(l->n);
	if (n > XNTS_SIV_MAX_COMP)
		return -EINVAL;
	memcpy(lens, l->len, sizeof(lens));
	return siv_do(key, buf, buf_sz, lens, n, seal);
}

__bpf_kfunc_start_defs();

/* AES-SIV seal of buf = AD | nonce | tag | plaintext, in place. */
__bpf_kfunc int xnts_siv_seal(struct xnts_siv_key *key, u8 *buf, u32 buf__sz, u32 ad_len,
			      u32 nonce_len)
{
	return siv_nts(key, buf, buf__sz, ad_len, nonce_len, true);
}

/* AES-SIV open of buf = AD | nonce | tag | ciphertext, in place. */
__bpf_kfunc int xnts_siv_open(struct xnts_siv_key *key, u8 *buf, u32 buf__sz, u32 ad_len,
			      u32 nonce_len)
{
	return siv_nts(key, buf, buf__sz, ad_len, nonce_len, false);
}

__bpf_kfunc int xnts_siv_seal_vec(struct xnts_siv_key *key, u8 *buf, u32 buf__sz,
				  struct xnts_siv_layout *layout)
{
	return siv_vec(key, buf, buf__sz, layout, true);
}

__bpf_kfunc int xnts_siv_open_vec(struct xnts_siv_key *key, u8 *buf, u32 buf__sz,
				  struct xnts_siv_layout *layout)
{
	return siv_vec(key, buf, buf__sz, layout, false);
}

/*
 * Nonces for cookies and authenticators from the kernel's CSPRNG: BPF's own
 * bpf_get_prandom_u32() is not cryptographically strong. get_random_bytes()
 * does not sleep and is safe in softirq context.
 */
__bpf_kfunc int xnts_siv_random(u8 *buf, u32 buf__sz)
{
	if (!buf || !buf__sz || buf__sz > XNTS_SIV_MAX_RANDOM)
		return -EINVAL;
	get_random_bytes(buf, buf__sz);
	return 0;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(xnts_siv_ids)
BTF_ID_FLAGS(func, xnts_siv_seal)
BTF_ID_FLAGS(func, xnts_siv_open)
BTF_ID_FLAGS(func, xnts_siv_seal_vec)
BTF_ID_FLAGS(func, xnts_siv_open_vec)
BTF_ID_FLAGS(func, xnts_siv_random)
BTF_KFUNCS_END(xnts_siv_ids)

static const struct btf_kfunc_id_set xnts_siv_set = {
	.owner = THIS_MODULE,
	.set = &xnts_siv_ids,
};

static void siv_free_cpus(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct siv_cpu *c = per_cpu_ptr(&siv_cpus, cpu);

		kfree_sensitive(c->desc);
		c->desc = NULL;
		if (!IS_ERR_OR_NULL(c->mac))
			crypto_free_shash(c->mac);
		c->mac = NULL;
		if (!IS_ERR_OR_NULL(c->ctr))
			crypto_free_cipher(c->ctr);
		c->ctr = NULL;
	}
}

static int siv_alloc_cpu(struct siv_cpu *c, int cpu)
{
	struct crypto_shash *mac;
	struct crypto_cipher *ctr;

	mac = crypto_alloc_shash("cmac(aes)", 0, 0);
	if (IS_ERR(mac))
		return PTR_ERR(mac);
	c->mac = mac;
	ctr = crypto_alloc_cipher("aes", 0, 0);
	if (IS_ERR(ctr))
		return PTR_ERR(ctr);
	c->ctr = ctr;
	c->desc = kzalloc_node(sizeof(*c->desc) + crypto_shash_descsize(mac), GFP_KERNEL,
			       cpu_to_node(cpu));
	if (!c->desc)
		return -ENOMEM;
	c->desc->tfm = mac;
	return 0;
}

static int __init xnts_siv_init(void)
{
	struct siv_cpu *c0 = NULL;
	int cpu, err;

	for_each_possible_cpu(cpu) {
		struct siv_cpu *c = per_cpu_ptr(&siv_cpus, cpu);

		err = siv_alloc_cpu(c, cpu);
		if (err)
			goto fail;
		if (!c0)
			c0 = c;
	}
	err = register_btf_kfunc_id_set(BPF_PROG_TYPE_XDP, &xnts_siv_set);
	if (!err)
		err = register_btf_kfunc_id_set(BPF_PROG_TYPE_SCHED_CLS, &xnts_siv_set);
	if (!err)
		err = register_btf_kfunc_id_set(BPF_PROG_TYPE_SYSCALL, &xnts_siv_set);
	if (err)
		goto fail;
	if (c0)
		pr_info("xnts_siv: S2V by %s, CTR by %s\n", crypto_shash_driver_name(c0->mac),
			crypto_tfm_alg_driver_name(crypto_cipher_tfm(c0->ctr)));
	return 0;
fail:
	pr_err("xnts_siv: init failed: %d\n", err);
	siv_free_cpus();
	return err;
}

static void __exit xnts_siv_exit(void)
{
	siv_free_cpus();
}

module_init(xnts_siv_init);
module_exit(xnts_siv_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xnts: AES-SIV (RFC 5297) kfuncs for NTS in XDP");
MODULE_IMPORT_NS(CRYPTO_INTERNAL);
