/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by selftests/vm/siv_kfunc.bpf.c and test_siv_kmod.c: one request to
 * the xnts_siv kfuncs, passed through an array map. The program calls the
 * kfunc named by op on key and data[0..len) and stores its return value.
 */
#ifndef XNTS_SELFTESTS_VM_SIV_KFUNC_H
#define XNTS_SELFTESTS_VM_SIV_KFUNC_H

#include "../../kmod/xnts_siv.h"

enum siv_op {
	SIV_OP_SEAL,		/* xnts_siv_seal(key, data, len, ad_len, nonce_len) */
	SIV_OP_OPEN,
	SIV_OP_SEAL_VEC,	/* xnts_siv_seal_vec(key, data, len, &layout) */
	SIV_OP_OPEN_VEC,
};

struct siv_req {
	__u32 op;
	__u32 len;
	__u32 ad_len;
	__u32 nonce_len;
	struct xnts_siv_layout layout;
	__s32 ret;
	__u32 calls;		/* incremented per call, so a run is seen */
	struct xnts_siv_key key;
	__u8 data[XNTS_SIV_MAX_BUF];
};

#endif
