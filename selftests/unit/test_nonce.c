// SPDX-License-Identifier: GPL-2.0
/* nonce.h: bytes are never handed out twice, across refills, threads and fork. */
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "nonce.h"

/* Many 16-byte draws across several refills: all distinct, none all-zero. */
TEST(draws_are_distinct_across_refills)
{
	static uint8_t got[3 * NONCE_POOL / 16 + 5][16];
	const size_t n = sizeof(got) / sizeof(got[0]);
	static const uint8_t zero[16];

	for (size_t i = 0; i < n; i++)
		ASSERT_EQ(0, nonce_fill(got[i], 16));
	for (size_t i = 0; i < n; i++) {
		EXPECT_NE(0, memcmp(got[i], zero, 16));
		for (size_t j = i + 1; j < n; j++)
			ASSERT_NE(0, memcmp(got[i], got[j], 16));
	}
}

TEST(sizes)
{
	uint8_t big[NONCE_POOL + 1], odd[7];

	EXPECT_EQ(-1, nonce_fill(big, sizeof(big)));
	EXPECT_EQ(0, nonce_fill(big, NONCE_POOL));
	EXPECT_EQ(0, nonce_fill(odd, sizeof(odd)));
	EXPECT_EQ(0, nonce_fill(odd, 0));
}

static void *other_thread(void *arg)
{
	nonce_fill(arg, 16);
	return NULL;
}

/* A fresh pool per thread and per fork child: never the parent's next bytes. */
TEST(threads_and_fork_do_not_share)
{
	uint8_t mine[16], theirs[16], child[16];
	int pipefd[2], st;
	pthread_t t;
	pid_t pid;

	ASSERT_EQ(0, nonce_fill(mine, 16));
	ASSERT_EQ(0, pthread_create(&t, NULL, other_thread, theirs));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		uint8_t b[16];

		_exit(nonce_fill(b, 16) || write(pipefd[1], b, 16) != 16);
	}
	ASSERT_EQ(16, read(pipefd[0], child, 16));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, WEXITSTATUS(st));
	/* What the parent draws next must differ from what the child drew. */
	ASSERT_EQ(0, nonce_fill(mine, 16));
	EXPECT_NE(0, memcmp(mine, child, 16));
	EXPECT_NE(0, memcmp(mine, theirs, 16));
	close(pipefd[0]);
	close(pipefd[1]);
}

TEST_HARNESS_MAIN
