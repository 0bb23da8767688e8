/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the in-VM selftests (selftests/vm/), which tools/vmtest runs in
 * a qemu guest. Contract: vm_in_guest() is true only in that guest (its
 * kernel command line carries "xnts_vm=1"); tests that change the clock or
 * load modules must check it first, so they can never touch the host.
 * vm_path_beside_exe() names a file next to the running test binary (the BPF
 * objects and the test module are built there). vm_load_siv_module() loads
 * the NTS module kmod/xnts_siv.ko built for the VM, unless it is loaded.
 */
#ifndef XNTS_SELFTESTS_VM_GUEST_H
#define XNTS_SELFTESTS_VM_GUEST_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline bool vm_in_guest(void)
{
	char buf[4096];
	ssize_t n;
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* A whole word, not a substring of some other parameter. */
	for (char *p = strstr(buf, "xnts_vm=1"); p; p = strstr(p + 1, "xnts_vm=1"))
		if ((p == buf || p[-1] == ' ') && (p[9] == ' ' || p[9] == '\n' || !p[9]))
			return true;
	return false;
}

/* Writes DIR_OF_EXE/name into out; returns 0, or -1 if it does not fit. */
static inline int vm_path_beside_exe(const char *name, char *out, size_t len)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	n = snprintf(out, len, "%s/%s", exe, name);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* 0 once kmod/xnts_siv.ko is loaded (earlier cases leave it in), else -1. */
static inline int vm_load_siv_module(void)
{
	char path[4096];
	struct stat st;
	int fd, rc;

	if (stat("/sys/module/xnts_siv", &st) == 0)
		return 0;
	/* Where the CPU has AES-NI the crypto API picks it up; without it this
	 * fails and the generic AES is used.
	 */
	rc = system("modprobe aesni_intel 2>/dev/null");
	(void)rc;
	if (vm_path_beside_exe("xnts_siv/kmod/xnts_siv.ko", path, sizeof(path)))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = (int)syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return rc;
}

#endif
