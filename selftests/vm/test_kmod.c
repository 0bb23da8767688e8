// SPDX-License-Identifier: GPL-2.0
/*
 * The test module kmod/xnts_vmtest.ko, built on the host against Debian's
 * 6.12 headers with BTF, loads in the guest, exposes its BTF, and its kfunc
 * is callable from an XDP program (so resolve_btfids ran on it), then
 * unloads. This is the path the NTS kernel module takes.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "vm_guest.h"

#define MOD "xnts_vmtest"

static int mod_load(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return rc;
}

/* Unload; a freed BPF program drops its module reference after an RCU
 * grace period, so EBUSY/EAGAIN is retried for a bounded time.
 */
static int mod_unload(void)
{
	for (int i = 0; i < 100; i++) {
		if (!syscall(SYS_delete_module, MOD, O_NONBLOCK))
			return 0;
		if (errno != EBUSY && errno != EAGAIN)
			return -1;
		usleep(100000);
	}
	return -1;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

FIXTURE(kmod) {
	int loaded;
};

FIXTURE_SETUP(kmod)
{
	char path[4096];

	ASSERT_TRUE(vm_in_guest()) TH_LOG("modules are loaded only in the VM");
	ASSERT_EQ(0, vm_path_beside_exe("kmod/" MOD ".ko", path, sizeof(path)));
	ASSERT_EQ(0, mod_load(path)) TH_LOG("finit_module %s: %s", path, strerror(errno));
	self->loaded = 1;
}

FIXTURE_TEARDOWN(kmod)
{
	if (self->loaded) {
		EXPECT_EQ(0, mod_unload()) TH_LOG("delete_module: %s", strerror(errno));
		EXPECT_FALSE(exists("/sys/module/" MOD));
	}
}

TEST_F(kmod, loaded_with_btf)
{
	EXPECT_TRUE(exists("/sys/module/" MOD));
	EXPECT_TRUE(exists("/sys/kernel/btf/" MOD));
}

TEST_F(kmod, kfunc_from_xdp)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);
	unsigned char pkt[64] = { 0 };
	struct bpf_object *obj;
	struct bpf_map *bss;
	char path[4096];
	__u64 result = 0;
	__u32 key = 0;
	int prog;

	ASSERT_EQ(0, vm_path_beside_exe("kfunc_call.bpf.o", path, sizeof(path)));
	obj = bpf_object__open_file(path, NULL);
	ASSERT_NE(NULL, obj);
	ASSERT_EQ(0, bpf_object__load(obj));
	prog = bpf_program__fd(bpf_object__find_program_by_name(obj, "call_mix"));
	ASSERT_LE(0, prog);
	run.data_in = pkt;
	run.data_size_in = sizeof(pkt);
	ASSERT_EQ(0, bpf_prog_test_run_opts(prog, &run));
	EXPECT_EQ(XDP_PASS, run.retval);
	bss = bpf_object__find_map_by_name(obj, ".bss");
	ASSERT_NE(NULL, bss);
	ASSERT_EQ(0, bpf_map_lookup_elem(bpf_map__fd(bss), &key, &result));
	EXPECT_EQ(42007, result);
	bpf_object__close(obj);
}

TEST_HARNESS_MAIN
