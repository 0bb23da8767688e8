// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's confinement from the inside (privs.c, loop.c): after
 * privs_drop() a call outside the seccomp allowlist fails with ENOSYS and is
 * logged once, a socket of another family or a bpf() load is refused, a new
 * process cannot be made while threads can, and an io_uring ring refuses
 * opcodes outside the daemon's list with EACCES. Each test runs in its own
 * child (kselftest harness), as root, and drops to "nobody".
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/capability.h>

#include "kselftest_harness.h"
#include "config.h"
#include "loop.h"
#include "privs.h"

static int drop(void)
{
	struct xnts_config cfg;
	char err[256];
	int ret;

	config_defaults(&cfg);
	cfg.daemon.user = "nobody";
	ret = privs_drop(&cfg, 1, NULL, err, sizeof(err));
	if (ret)
		fprintf(stderr, "privs_drop: %s\n", err);
	return ret;
}

static void *thread_fn(void *arg)
{
	return arg;
}

TEST(confined)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct c[2];
	struct passwd *pw = getpwnam("nobody");

	ASSERT_NE(NULL, pw);
	ASSERT_EQ(0, geteuid());
	ASSERT_EQ(0, drop());
	EXPECT_EQ(pw->pw_uid, getuid());
	EXPECT_EQ(pw->pw_uid, geteuid());
	EXPECT_EQ(1, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	EXPECT_EQ(2, prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
	ASSERT_EQ(0, syscall(__NR_capget, &h, c));
	EXPECT_EQ(0, c[0].effective | c[1].effective | c[0].permitted | c[1].permitted);
}

TEST(refused_calls_fail_with_enosys_and_are_logged)
{
	char *argv[] = { "/bin/true", NULL };
	char line[256] = "";
	int p[2], saved;
	ssize_t n;

	ASSERT_EQ(0, pipe(p));
	saved = dup(2);
	ASSERT_EQ(0, drop());
	ASSERT_EQ(2, dup2(p[1], 2));
	errno = 0;
	EXPECT_EQ(-1, mount("none", "/mnt", "tmpfs", 0, NULL));
	EXPECT_EQ(ENOSYS, errno);
	errno = 0;
	EXPECT_EQ(-1, mount("none", "/mnt", "tmpfs", 0, NULL));	/* logged once */
	EXPECT_EQ(ENOSYS, errno);
	errno = 0;
	EXPECT_EQ(-1, execve(argv[0], argv, NULL));
	EXPECT_EQ(ENOSYS, errno);
	errno = 0;
	EXPECT_EQ(-1, setuid(0));
	EXPECT_EQ(ENOSYS, errno);
	dup2(saved, 2);
	close(p[1]);
	n = read(p[0], line, sizeof(line) - 1);
	ASSERT_GT(n, 0);
	line[n] = 0;
	snprintf(line + n, 1, "%s", "");
	EXPECT_NE(NULL, strstr(line, "seccomp: blocked system call"));
	/* One line per call number: mount once, execve once, setuid's once. */
	n = 0;
	for (char *s = line; (s = strstr(s, "blocked")); s++)
		n++;
	EXPECT_EQ(3, n);
}

TEST(arguments_are_checked)
{
	union bpf_attr a;
	pthread_t t;
	int fd;

	ASSERT_EQ(0, drop());
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	EXPECT_LE(0, fd);
	close(fd);
	fd = socket(AF_NETLINK, SOCK_RAW, 0);
	EXPECT_LE(0, fd);
	close(fd);
	errno = 0;
	EXPECT_EQ(-1, socket(AF_PACKET, SOCK_RAW, 0));
	EXPECT_EQ(ENOSYS, errno);
	memset(&a, 0, sizeof(a));
	errno = 0;
	EXPECT_EQ(-1, syscall(__NR_bpf, BPF_PROG_LOAD, &a, sizeof(a)));
	EXPECT_EQ(ENOSYS, errno);
	/* Allowed command, refused by the kernel for its own reason. */
	errno = 0;
	EXPECT_EQ(-1, syscall(__NR_bpf, BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a)));
	EXPECT_NE(ENOSYS, errno);
	/* Threads yes (clone3 falls back to clone), processes no. */
	ASSERT_EQ(0, pthread_create(&t, NULL, thread_fn, NULL));
	ASSERT_EQ(0, pthread_join(t, NULL));
	errno = 0;
	EXPECT_EQ(-1, fork());
	EXPECT_EQ(ENOSYS, errno);
}

static int submit_one(struct loop *l, struct io_uring_sqe *sqe)
{
	struct io_uring_cqe *cqe;
	int res;

	(void)sqe;
	if (io_uring_submit_and_wait(&l->ring, 1) < 0)
		return 1;
	if (io_uring_peek_cqe(&l->ring, &cqe))
		return 1;
	res = cqe->res;
	io_uring_cqe_seen(&l->ring, cqe);
	return res;
}

TEST(io_uring_opcodes_restricted)
{
	static struct loop l;
	struct io_uring_sqe *sqe;

	ASSERT_EQ(0, loop_init(&l, 8));
	ASSERT_EQ(0, drop());
	sqe = loop_sqe(&l, NULL);
	io_uring_prep_nop(sqe);
	EXPECT_EQ(0, submit_one(&l, sqe));
	/* openat through the ring would bypass seccomp: refused. */
	sqe = loop_sqe(&l, NULL);
	io_uring_prep_openat(sqe, AT_FDCWD, "/etc/hostname", O_RDONLY, 0);
	EXPECT_EQ(-EACCES, submit_one(&l, sqe));
	sqe = loop_sqe(&l, NULL);
	io_uring_prep_statx(sqe, AT_FDCWD, "/", 0, 0, NULL);
	EXPECT_EQ(-EACCES, submit_one(&l, sqe));
	loop_exit(&l);
}

TEST_HARNESS_MAIN
