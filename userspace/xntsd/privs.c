// SPDX-License-Identifier: GPL-2.0
/*
 * privs: the user switch, capabilities, NoNewPrivs and the seccomp allowlist.
 * See privs.h for the contract and Documentation/xntsd.8.md "Privileges".
 * Raw prctl/capset/seccomp: no library, and nothing here runs per packet.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <ucontext.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>

#include "log.h"
#include "privs.h"
#include "xdp_ctl.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

#if defined(__x86_64__)
#define PRIVS_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define PRIVS_ARCH AUDIT_ARCH_AARCH64
#else
#error "privs.c: add this architecture's AUDIT_ARCH and return register"
#endif

#define CAPBIT(c) (1ULL << (c))

/* 1 if the running kernel is older than major.minor. */
static int kernel_before(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return 1;
	return ma < major || (ma == major && mi < minor);
}

uint64_t privs_needed(const struct xnts_config *cfg, int no_clock)
{
	uint64_t need = 0;

	/* adjtimex/clock_adjtime with modes set, and PHC adjustments. */
	if (!no_clock)
		need |= CAPBIT(CAP_SYS_TIME);
	/*
	 * XDP after start-up: map updates, re-attaching through a new bpf
	 * link when an interface comes back, pins, queries, detaching. All of
	 * them act on descriptors the daemon already holds, and since Linux
	 * 6.5 bpf() checks privilege only where programs are loaded and maps
	 * created, so they need no capability (measured on 6.18 by
	 * selftests/net/test_privs.py). Before 6.5, with
	 * kernel.unprivileged_bpf_disabled set (Debian's default), every bpf()
	 * call needs CAP_BPF.
	 */
	if (cfg->xdp.mode != CONFIG_XDP_OFF && kernel_before(6, 5))
		need |= CAPBIT(CAP_BPF);
	/*
	 * The AF_XDP path binds new sockets whenever an interface comes back
	 * with a new ifindex, and socket(AF_XDP) needs CAP_NET_RAW.
	 */
	if (cfg->xdp.mode != CONFIG_XDP_OFF && cfg->xdp.userspace_path != CONFIG_XDP_US_SOCKET)
		need |= CAPBIT(CAP_NET_RAW);
	return need;
}

/* ---- seccomp ---- */

/*
 * AddressSanitizer builds (make SANITIZE=1, the tests' leak and memory
 * checks) install a filter that allows every call: LeakSanitizer stops the
 * world at exit with a non-thread clone and ptrace, which the allowlist
 * exists to refuse. The filter mode and its TSYNC (which also gives every
 * thread NoNewPrivs) stay the same; the normal build runs the allowlist,
 * and every net test checks its daemons' logs for refused calls. The unit
 * test of the allowlist builds this file with PRIVS_ALLOWLIST_ALWAYS.
 */
#if defined(PRIVS_ALLOWLIST_ALWAYS)
#define SECCOMP_ALLOW_ALL 0
#elif defined(__SANITIZE_ADDRESS__)
#define SECCOMP_ALLOW_ALL 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SECCOMP_ALLOW_ALL 1
#endif
#endif
#ifndef SECCOMP_ALLOW_ALL
#define SECCOMP_ALLOW_ALL 0
#endif

/*
 * Every system call the daemon, its threads and its libraries (glibc,
 * OpenSSL, liburing, libbpf, libnl, the resolver) make after start-up.
 * Most frequent first: the filter is a linear scan. What is absent on
 * purpose: execve, fork (clone without CLONE_THREAD), mount, ptrace, the
 * set*id and capset family, module and keyring calls, unshare/setns.
 */
static const int allowed[] = {
	__NR_io_uring_enter, __NR_futex, __NR_read, __NR_write, __NR_sendmsg,
	__NR_recvmsg, __NR_sendto, __NR_recvfrom, __NR_sendmmsg, __NR_recvmmsg,
	__NR_clock_gettime, __NR_gettimeofday, __NR_clock_nanosleep, __NR_nanosleep,
	__NR_ppoll, __NR_pselect6, __NR_epoll_wait, __NR_epoll_pwait, __NR_epoll_ctl,
	__NR_epoll_create1, __NR_adjtimex, __NR_clock_adjtime,
	__NR_clock_getres, __NR_getrandom, __NR_readv, __NR_writev, __NR_pread64,
	__NR_pwrite64, __NR_lseek, __NR_close, __NR_close_range, __NR_dup, __NR_dup3,
	__NR_fcntl, __NR_ioctl, __NR_openat, __NR_newfstatat, __NR_fstat, __NR_statx,
	__NR_fstatfs, __NR_statfs, __NR_getdents64, __NR_readlinkat, __NR_unlinkat,
	__NR_renameat, __NR_renameat2, __NR_linkat, __NR_mkdirat, __NR_faccessat,
	__NR_faccessat2, __NR_fchmod, __NR_fsync, __NR_fdatasync, __NR_ftruncate,
	__NR_flock, __NR_umask, __NR_getcwd, __NR_fadvise64,
	__NR_mmap, __NR_munmap, __NR_mprotect, __NR_mremap, __NR_madvise, __NR_brk,
	__NR_mlock, __NR_munlock, __NR_membarrier,
	__NR_exit, __NR_exit_group, __NR_set_robust_list, __NR_get_robust_list,
	__NR_rseq, __NR_set_tid_address, __NR_gettid, __NR_getpid, __NR_getppid,
	__NR_tgkill, __NR_tkill, __NR_rt_sigaction, __NR_rt_sigprocmask,
	__NR_rt_sigreturn, __NR_rt_sigtimedwait, __NR_sigaltstack, __NR_restart_syscall,
	__NR_sched_yield, __NR_sched_getaffinity, __NR_sched_setaffinity, __NR_prctl,
	__NR_getrlimit, __NR_prlimit64, __NR_getuid, __NR_geteuid, __NR_getgid,
	__NR_getegid, __NR_getresuid, __NR_getresgid, __NR_getgroups, __NR_capget,
	__NR_uname, __NR_sysinfo, __NR_getrusage,
	__NR_socketpair, __NR_bind, __NR_connect, __NR_accept, __NR_accept4,
	__NR_listen, __NR_getsockname, __NR_getpeername, __NR_setsockopt,
	__NR_getsockopt, __NR_shutdown,
	__NR_eventfd2, __NR_timerfd_create, __NR_timerfd_settime, __NR_timerfd_gettime,
	__NR_signalfd4, __NR_pipe2, __NR_io_uring_setup, __NR_io_uring_register,
	__NR_inotify_init1, __NR_inotify_add_watch, __NR_inotify_rm_watch,
#ifdef __x86_64__
	__NR_poll, __NR_select, __NR_epoll_wait, __NR_open, __NR_stat, __NR_lstat,
	__NR_access, __NR_pipe, __NR_unlink, __NR_rename, __NR_mkdir, __NR_rmdir,
	__NR_readlink, __NR_dup2, __NR_getdents, __NR_time, __NR_arch_prctl,
	__NR_epoll_create,
#endif
};

/* Address families a socket may still be created in. */
static const int families[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_XDP };

/*
 * bpf() commands after start-up: map access, pins, link (re)attach and
 * queries. No BPF_PROG_LOAD, no BPF_MAP_CREATE.
 */
static const int bpf_cmds[] = {
	BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM,
	BPF_MAP_GET_NEXT_KEY, BPF_MAP_LOOKUP_BATCH, BPF_MAP_UPDATE_BATCH,
	BPF_OBJ_PIN, BPF_OBJ_GET, BPF_OBJ_GET_INFO_BY_FD, BPF_LINK_CREATE,
	BPF_LINK_UPDATE, BPF_LINK_DETACH, BPF_PROG_QUERY,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define FILTER_MAX (8 + 2 * N(allowed) + 2 * N(families) + 2 * N(bpf_cmds) + 16)
#define ARG0 offsetof(struct seccomp_data, args[0])

static volatile uint64_t logged[16];	/* one bit per call number < 1024 */

static size_t fmt_uint(char *p, unsigned long v)
{
	char tmp[24];
	size_t n = 0, k = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < sizeof(tmp));
	while (n)
		p[k++] = tmp[--n];
	return k;
}

/* Async-signal-safe: no stdio, no allocation. */
static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	static const char pre[] = "seccomp: blocked system call ";
	static const char post[] = "; it failed with ENOSYS\n";
	ucontext_t *uc = uctx;
	unsigned int nr = (unsigned int)si->si_syscall;
	char line[96];
	size_t n = 0;
	ssize_t r;

	(void)sig;
#if defined(__x86_64__)
	uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
#else
	uc->uc_mcontext.regs[0] = (unsigned long long)-ENOSYS;
#endif
	if (nr < 1024 && (__atomic_fetch_or(&logged[nr / 64], 1ULL << (nr % 64),
					     __ATOMIC_RELAXED) & (1ULL << (nr % 64))))
		return;
	memcpy(line, pre, sizeof(pre) - 1);
	n = sizeof(pre) - 1;
	n += fmt_uint(line + n, nr);
	memcpy(line + n, post, sizeof(post) - 1);
	n += sizeof(post) - 1;
	r = write(STDERR_FILENO, line, n);
	(void)r;
}

static size_t allow_if_eq(struct sock_filter *f, size_t i, uint32_t v)
{
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, v, 0, 1);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	return i;
}

static int install_seccomp(char *err, size_t errlen)
{
	struct sock_filter f[FILTER_MAX];
	struct sock_fprog prog;
	struct sigaction sa;
	size_t i = 0, k;

	if (SECCOMP_ALLOW_ALL) {
		f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		goto install;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL)) {
		snprintf(err, errlen, "sigaction(SIGSYS): %s", strerror(errno));
		return -1;
	}
	/* Another ABI (x32, i386) could name other calls by our numbers. */
	f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PRIVS_ARCH, 1, 0);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
#endif
	for (k = 0; k < N(allowed); k++)
		i = allow_if_eq(f, i, (uint32_t)allowed[k]);
	/*
	 * glibc's pthread_create tries clone3 first and falls back to clone on
	 * ENOSYS; clone's flags can be checked, clone3's cannot.
	 */
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
	/* clone: threads only. */
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 4);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0);
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	/* socket: the address families above only. */
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0,
					      (uint8_t)(2 + 2 * N(families)));
	f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0);
	for (k = 0; k < N(families); k++)
		i = allow_if_eq(f, i, (uint32_t)families[k]);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	/* bpf: the commands above only (no loading, no new maps). */
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_bpf, 0,
					      (uint8_t)(2 + 2 * N(bpf_cmds)));
	f[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0);
	for (k = 0; k < N(bpf_cmds); k++)
		i = allow_if_eq(f, i, (uint32_t)bpf_cmds[k]);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	f[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
install:
	prog.len = (unsigned short)i;
	prog.filter = f;
	/* TSYNC: the NTP workers started before us get the same filter. */
	if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog)) {
		snprintf(err, errlen, "seccomp: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- capabilities ---- */

static int last_cap(void)
{
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	char buf[16] = "";
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	return n > 0 ? atoi(buf) : CAP_LAST_CAP;
}

static int set_caps(uint64_t keep)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct c[2];

	memset(c, 0, sizeof(c));
	c[0].effective = c[0].permitted = (uint32_t)keep;
	c[1].effective = c[1].permitted = (uint32_t)(keep >> 32);
	return (int)syscall(__NR_capset, &h, c);
}

static int get_caps(uint64_t *have)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct c[2];

	if (syscall(__NR_capget, &h, c))
		return -1;
	*have = (uint64_t)c[0].permitted | (uint64_t)c[1].permitted << 32;
	return 0;
}

/* ---- kTLS ---- */

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

/*
 * The kernel loads the "tls" module for TCP_ULP only for a caller with
 * CAP_NET_ADMIN, which is gone after the drop: without this, kTLS silently
 * never happens. Asking for the ULP on an unconnected socket loads the
 * module and then fails (ENOTCONN), which is all we want.
 */
static void preload_tls_ulp(const struct xnts_config *cfg)
{
	int nts = cfg->n_nts_ke_servers > 0, fd;

	for (size_t i = 0; i < cfg->n_sources && !nts; i++)
		nts = cfg->sources[i].mode == CONFIG_SOURCE_NTS;
	if (!nts)
		return;
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", 3) && errno == ENOENT)
		log_debug("privileges: no kernel TLS (module tls): NTS-KE stays in userspace");
	close(fd);
}

/* ---- what must stay usable ---- */

static int check_access(const char *path, int mode, const char *what, const char *user,
			char *err, size_t errlen)
{
	if (!path || !access(path, mode))
		return 0;
	snprintf(err, errlen, "%s %s is not %s by user %s: %s", what, path,
		 mode & W_OK ? "writable" : "readable", user, strerror(errno));
	return -1;
}

static int check_files(const struct xnts_config *cfg, const char *user, char *err,
		       size_t errlen)
{
	char dir[PATH_MAX];

	for (size_t i = 0; i < cfg->n_nts_ke_servers; i++) {
		const struct config_nts_ke_server *k = &cfg->nts_ke_servers[i];

		if (check_access(k->certificate_chain_path, R_OK, "certificate chain", user,
				 err, errlen) ||
		    check_access(k->private_key_path, R_OK, "private key", user, err, errlen))
			return -1;
	}
	if (cfg->keyset.key_storage_path) {
		snprintf(dir, sizeof(dir), "%s", cfg->keyset.key_storage_path);
		if (check_access(dirname(dir), W_OK | X_OK, "key storage directory", user,
				 err, errlen))
			return -1;
	}
	return 0;
}

int privs_drop(const struct xnts_config *cfg, int no_clock, struct xdp_ctl *xdp, char *err,
	       size_t errlen)
{
	const char *user = cfg->daemon.user ? cfg->daemon.user : PRIVS_DEFAULT_USER;
	uint64_t need = privs_needed(cfg, no_clock), have = 0;
	int top = last_cap(), switch_user = geteuid() == 0 && strcmp(user, "root");
	struct passwd *pw = NULL;
	char name[64];

	if (switch_user) {
		errno = 0;
		pw = getpwnam(user);
		if (!pw) {
			snprintf(err, errlen, "user '%s' does not exist (create it with "
				 "'useradd --system %s' or systemd-sysusers, or set [daemon] "
				 "user)%s%s", user, user, errno ? ": " : "",
				 errno ? strerror(errno) : "");
			return -1;
		}
		if (!pw->pw_uid) {
			switch_user = 0;
			pw = NULL;
		}
	}
	if (!switch_user)
		snprintf(name, sizeof(name), "uid %u", (unsigned int)geteuid());
	else
		snprintf(name, sizeof(name), "%s", user);
	get_caps(&have);
	if ((need & have) != need && !switch_user && geteuid() != 0)
		log_warn("privileges: started without %s%s%s; %s",
			 need & ~have & CAPBIT(CAP_SYS_TIME) ? "CAP_SYS_TIME " : "",
			 need & ~have & CAPBIT(CAP_BPF) ? "CAP_BPF " : "",
			 need & ~have & CAPBIT(CAP_NET_RAW) ? "CAP_NET_RAW" : "",
			 "what needs them will fail");
	need &= have;
	/* The bounding set needs CAP_SETPCAP, which goes below. */
	for (int c = 0; c <= top && c < 64; c++)
		if (!(need & CAPBIT(c)) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1 &&
		    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EPERM) {
			snprintf(err, errlen, "dropping capability %d from the bounding set: %s",
				 c, strerror(errno));
			return -1;
		}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	preload_tls_ulp(cfg);
	if (switch_user) {
		xdp_ctl_hand_over(xdp, pw->pw_uid, pw->pw_gid);
		/* Keep the permitted set across the uid change, then trim it. */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) ||
		    initgroups(pw->pw_name, pw->pw_gid) ||
		    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) ||
		    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0)) {
			snprintf(err, errlen, "switching to user %s: %s", user, strerror(errno));
			return -1;
		}
	}
	if (set_caps(need)) {
		snprintf(err, errlen, "setting capabilities: %s", strerror(errno));
		return -1;
	}
	if (switch_user && check_files(cfg, user, err, errlen))
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (install_seccomp(err, errlen))
		return -1;
	log_info("privileges: running as %s, capabilities%s%s%s%s, no_new_privs, %s",
		 name, need ? "" : " none",
		 need & CAPBIT(CAP_SYS_TIME) ? " CAP_SYS_TIME" : "",
		 need & CAPBIT(CAP_BPF) ? " CAP_BPF" : "",
		 need & CAPBIT(CAP_NET_RAW) ? " CAP_NET_RAW (AF_XDP)" : "",
		 SECCOMP_ALLOW_ALL ? "seccomp allowing all (sanitizer build)" : "seccomp");
	return 0;
}
