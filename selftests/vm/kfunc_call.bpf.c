// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only XDP program for test_kmod: calls the kfunc of the test module
 * (resolved by libbpf through the module's BTF) and stores the result.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern __u64 xnts_vmtest_mix(__u64 a, __u64 b) __ksym;

__u64 result;

SEC("xdp")
int call_mix(struct xdp_md *ctx)
{
	result = xnts_vmtest_mix(42, 7);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
