// SPDX-License-Identifier: GPL-2.0
/*
 * Native (driver mode) XDP on a veth pair between two network namespaces
 * that this test creates and deletes, in the VM guest: xdp_count.bpf.o on
 * the receiving side drops UDP to port 9998 and passes port 9999, and both
 * the sockets and the program's counters must agree.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "vm_guest.h"

#define NS_A "xnts_vmA"
#define NS_B "xnts_vmB"
#define ADDR_B "10.211.0.2"
#define N_PASS 10
#define N_DROP 5

static int sh(const char *cmd)
{
	int rc = system(cmd);

	return rc == 0 ? 0 : -1;
}

static void net_down(void)
{
	/* Deleting the namespaces deletes the veth pair with them. */
	if (system("ip netns del " NS_A " 2>/dev/null; ip netns del " NS_B " 2>/dev/null"))
		return;
}

static int enter_ns(const char *name)
{
	char path[64];
	int fd, rc;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = setns(fd, CLONE_NEWNET);
	close(fd);
	return rc;
}

static int udp_socket(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, ip, &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (port && bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

FIXTURE(veth) {
	int home;
	struct bpf_object *obj;
};

FIXTURE_SETUP(veth)
{
	ASSERT_TRUE(vm_in_guest()) TH_LOG("network namespaces and XDP attach only in the VM");
	self->home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->home);
	net_down();
	ASSERT_EQ(0, sh("set -e; ip netns add " NS_A "; ip netns add " NS_B ";"
			"ip link add xva netns " NS_A " type veth peer name xvb netns " NS_B ";"
			"ip -n " NS_A " addr add 10.211.0.1/24 dev xva;"
			"ip -n " NS_B " addr add " ADDR_B "/24 dev xvb;"
			"ip -n " NS_A " link set xva up; ip -n " NS_B " link set xvb up"));
}

FIXTURE_TEARDOWN(veth)
{
	if (self->obj)
		bpf_object__close(self->obj);
	if (self->home >= 0) {
		setns(self->home, CLONE_NEWNET);
		close(self->home);
	}
	net_down();
}

TEST_F(veth, native_drop_and_pass)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct sockaddr_in dst = { .sin_family = AF_INET };
	int ifindex, prog, map, pass_fd, drop_fd, tx;
	__u64 passed = 0, dropped = 0;
	char path[4096], buf[64];
	__u32 key;

	ASSERT_EQ(0, vm_path_beside_exe("xdp_count.bpf.o", path, sizeof(path)));
	self->obj = bpf_object__open_file(path, NULL);
	ASSERT_NE(NULL, self->obj);
	ASSERT_EQ(0, bpf_object__load(self->obj));
	prog = bpf_program__fd(bpf_object__find_program_by_name(self->obj, "xdp_count"));
	map = bpf_map__fd(bpf_object__find_map_by_name(self->obj, "counts"));
	ASSERT_LE(0, prog);
	ASSERT_LE(0, map);

	/* Receiver side: program in driver mode, and both sockets. */
	ASSERT_EQ(0, enter_ns(NS_B));
	ifindex = if_nametoindex("xvb");
	ASSERT_LT(0, ifindex);
	ASSERT_EQ(0, bpf_xdp_attach(ifindex, prog, XDP_FLAGS_DRV_MODE, NULL));
	ASSERT_EQ(0, bpf_xdp_query(ifindex, 0, &q));
	EXPECT_EQ(XDP_ATTACHED_DRV, q.attach_mode);
	pass_fd = udp_socket(ADDR_B, 9999);
	drop_fd = udp_socket(ADDR_B, 9998);
	ASSERT_LE(0, pass_fd);
	ASSERT_LE(0, drop_fd);

	/* Sender side: the socket belongs to the namespace it was made in. */
	ASSERT_EQ(0, enter_ns(NS_A));
	tx = udp_socket("0.0.0.0", 0);
	ASSERT_LE(0, tx);
	inet_pton(AF_INET, ADDR_B, &dst.sin_addr);
	for (int i = 0; i < N_PASS + N_DROP; i++) {
		dst.sin_port = htons(i < N_DROP ? 9998 : 9999);
		snprintf(buf, sizeof(buf), "datagram %d", i);
		ASSERT_EQ((ssize_t)strlen(buf), sendto(tx, buf, strlen(buf), 0,
						       (struct sockaddr *)&dst, sizeof(dst)));
	}
	for (int i = 0; i < N_PASS; i++) {
		char want[64];

		memset(buf, 0, sizeof(buf));
		ASSERT_LT(0, recv(pass_fd, buf, sizeof(buf) - 1, 0)) TH_LOG("datagram %d lost", i);
		snprintf(want, sizeof(want), "datagram %d", N_DROP + i);
		EXPECT_STREQ(want, buf);
	}
	EXPECT_GT(0, recv(drop_fd, buf, sizeof(buf), MSG_DONTWAIT));

	key = 0;
	ASSERT_EQ(0, bpf_map_lookup_elem(map, &key, &passed));
	key = 1;
	ASSERT_EQ(0, bpf_map_lookup_elem(map, &key, &dropped));
	EXPECT_EQ(N_PASS, passed);
	EXPECT_EQ(N_DROP, dropped);
	close(tx);
	close(pass_fd);
	close(drop_fd);
}

TEST_HARNESS_MAIN
