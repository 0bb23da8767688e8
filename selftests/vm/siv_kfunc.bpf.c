// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only programs for test_siv_kmod: call the xnts_siv kfuncs on the
 * request in the map siv_reqs, once from BPF_PROG_TYPE_SYSCALL and once from
 * an XDP test run (the packet is ignored). The length checks are those a
 * packet path needs, so the verifier sees the same bounds.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "siv_kfunc.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct siv_req);
} siv_reqs SEC(".maps");

static __always_inline int call_siv(void)
{
	__u32 zero = 0;
	struct siv_req *r = bpf_map_lookup_elem(&siv_reqs, &zero);
	__u64 n;
	int ret;

	if (!r)
		return -1;
	n = r->len;
	barrier_var(n);
	if (n < 1 || n > XNTS_SIV_MAX_BUF)
		return -2;
	switch (r->op) {
	case SIV_OP_SEAL:
		ret = xnts_siv_seal(&r->key, r->data, n, r->ad_len, r->nonce_len);
		break;
	case SIV_OP_OPEN:
		ret = xnts_siv_open(&r->key, r->data, n, r->ad_len, r->nonce_len);
		break;
	case SIV_OP_SEAL_VEC:
		ret = xnts_siv_seal_vec(&r->key, r->data, n, &r->layout);
		break;
	case SIV_OP_OPEN_VEC:
		ret = xnts_siv_open_vec(&r->key, r->data, n, &r->layout);
		break;
	default:
		ret = -3;
	}
	r->ret = ret;
	r->calls++;
	return 0;
}

SEC("syscall")
int siv_syscall(void *ctx)
{
	return call_siv();
}

SEC("xdp")
int siv_xdp(struct xdp_md *ctx)
{
	return call_siv() ? XDP_ABORTED : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
