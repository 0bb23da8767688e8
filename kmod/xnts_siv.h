/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xnts_siv: the contract between the kernel module kmod/xnts_siv.ko and the
 * BPF programs that call its kfuncs (AES-SIV, RFC 5297). Included by the
 * module, by BPF programs (clang -target bpf) and by userspace tests.
 *
 * Contract (Documentation/kmod.md has the reasons):
 * - A key is a struct xnts_siv_key: the AEAD id (15 = AES-SIV-CMAC-256 with
 *   a 32-byte key, 17 = AES-SIV-CMAC-512 with a 64-byte key) and the key,
 *   MAC half first. It must live in writable memory (a map value).
 * - All data is one buffer, laid out as on the wire:
 *       S2V components (AD..., nonce) | tag (16) | text
 *   Seal reads the plaintext from "text", writes the synthetic IV into
 *   "tag" and encrypts "text" in place. Open verifies "tag" over "text" and
 *   decrypts in place; on failure "text" is zeroed and -EBADMSG returned.
 * - xnts_siv_seal()/xnts_siv_open(): the components are ad_len bytes of
 *   associated data then nonce_len bytes of nonce (RFC 8915's order); a
 *   zero length leaves that component out. The _vec forms take up to
 *   XNTS_SIV_MAX_COMP component lengths, for RFC 5297's general S2V.
 * - buf__sz is the whole buffer: components + 16 + text, 16 <= buf__sz <=
 *   XNTS_SIV_MAX_BUF. Returns 0, -EINVAL (bad id, lengths), -EBADMSG.
 * - xnts_siv_random() fills 1..XNTS_SIV_MAX_RANDOM bytes from the kernel's
 *   CSPRNG (get_random_bytes), for nonces.
 * - Callable from XDP, TC (sched_cls) and BPF_PROG_TYPE_SYSCALL programs, in
 *   any context; never sleeps or allocates.
 */
#ifndef XNTS_KMOD_SIV_H
#define XNTS_KMOD_SIV_H

#include <linux/types.h>

#define XNTS_SIV_AEAD_CMAC_256 15
#define XNTS_SIV_AEAD_CMAC_512 17
#define XNTS_SIV_TAG_LEN 16
#define XNTS_SIV_MAX_KEY 64
#define XNTS_SIV_MAX_BUF 2048
#define XNTS_SIV_MAX_COMP 7
#define XNTS_SIV_MAX_RANDOM 256

struct xnts_siv_key {
	__u32 aead;
	__u32 reserved;		/* 0 */
	__u8 key[XNTS_SIV_MAX_KEY];	/* 32 or 64 bytes used */
};

struct xnts_siv_layout {
	__u32 n;			/* number of components, 0..XNTS_SIV_MAX_COMP */
	__u32 len[XNTS_SIV_MAX_COMP];
};

#if defined(__bpf__) && defined(XNTS_NTS_NO_CRYPTO)
/*
 * Benchmark builds only (tools/xnts_nts_nocrypto.bpf.c): every call does
 * nothing and reports success, so the NTS path's parsing, copying, field
 * building and checksums can be timed on a kernel without the module. Such
 * an object answers with garbage and is never loaded by the daemon.
 */
static __always_inline int xnts_siv_seal(struct xnts_siv_key *key, __u8 *buf, __u32 buf__sz,
					 __u32 ad_len, __u32 nonce_len)
{
	return 0;
}

static __always_inline int xnts_siv_open(struct xnts_siv_key *key, __u8 *buf, __u32 buf__sz,
					 __u32 ad_len, __u32 nonce_len)
{
	return 0;
}

static __always_inline int xnts_siv_random(__u8 *buf, __u32 buf__sz)
{
	return 0;
}
#elif defined(__bpf__)
extern int xnts_siv_seal(struct xnts_siv_key *key, __u8 *buf, __u32 buf__sz,
			 __u32 ad_len, __u32 nonce_len) __ksym;
extern int xnts_siv_open(struct xnts_siv_key *key, __u8 *buf, __u32 buf__sz,
			 __u32 ad_len, __u32 nonce_len) __ksym;
extern int xnts_siv_seal_vec(struct xnts_siv_key *key, __u8 *buf, __u32 buf__sz,
			     struct xnts_siv_layout *layout) __ksym;
extern int xnts_siv_open_vec(struct xnts_siv_key *key, __u8 *buf, __u32 buf__sz,
			     struct xnts_siv_layout *layout) __ksym;
extern int xnts_siv_random(__u8 *buf, __u32 buf__sz) __ksym;
#endif

#endif
