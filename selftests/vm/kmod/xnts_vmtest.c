// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module. It proves that an out-of-tree build against Debian's
 * 6.12 headers gets module BTF and resolved kfunc ids, as the NTS module
 * will need: registering the kfunc set fails unless resolve_btfids ran, and
 * the test calls the kfunc from an XDP program through the module's BTF.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/init.h>
#include <linux/module.h>

__bpf_kfunc_start_defs();

/* Not a constant, so a wrong call or argument order shows in the result. */
__bpf_kfunc u64 xnts_vmtest_mix(u64 a, u64 b)
{
	return a * 1000 + b;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(xnts_vmtest_ids)
BTF_ID_FLAGS(func, xnts_vmtest_mix)
BTF_KFUNCS_END(xnts_vmtest_ids)

static const struct btf_kfunc_id_set xnts_vmtest_set = {
	.owner = THIS_MODULE,
	.set = &xnts_vmtest_ids,
};

static int __init xnts_vmtest_init(void)
{
	return register_btf_kfunc_id_set(BPF_PROG_TYPE_XDP, &xnts_vmtest_set);
}

static void __exit xnts_vmtest_exit(void)
{
}

module_init(xnts_vmtest_init);
module_exit(xnts_vmtest_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xnts VM selftest: out-of-tree module with BTF and a kfunc");
